"""Telling the leads, once, what needs a person: a DM each, queued like every post.

A notice has a key (`budget:2026-12:80`, `channel:C0FEST:2026-12-01`); the first replica
to record it queues the DMs, in the same transaction, so a notice reaches every lead once
across replicas and restarts, however often the cause is seen again.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Engine

from bot.clock import Clock, system_clock
from bot.outbox import post_to_channel
from bot.present import SlackMessage
from store import outbox as queue
from store import usage
from store.db import after_commit, session_scope
from store.models import OutboxKind

log = logging.getLogger(__name__)


def tell_leads(
    *,
    engine: Engine,
    leads: Callable[[], list[str]],
    key: str,
    text: str,
    now: datetime,
    wake: Callable[[], None],
    dedup_prefix: str = "notice",
) -> bool:
    """A DM to every lead, once per `key`; False when the notice was given already."""
    with session_scope(engine) as session:
        if not usage.give_notice(session=session, key=key, now=now):
            return False
        for lead in leads():
            post_to_channel(
                session=session,
                channel=lead,
                message=SlackMessage(text=text),
                now=now,
                dedup_key=f"{dedup_prefix}:{key}:{lead}"[:128],
                kind=OutboxKind.DM,
            )
        after_commit(session, wake)
    return True


@dataclass(frozen=True, kw_only=True)
class RefusedChannels:
    """A channel Slack will not let the bot post in: its posts wait, the leads are told.

    The posting queue keeps the channel's rows and tries again every few minutes (nothing
    is lost); without a word to a person, though, a topic's cards would wait unseen until
    someone reads the logs. Each lead gets one DM per channel and day.
    """

    engine: Engine
    leads: Callable[[], list[str]]
    wake: Callable[[], None]
    clock: Clock = system_clock

    def refused(self, channel: str, error: str) -> None:
        """Slack refused a post in `channel` with `error` (not_in_channel, is_archived, …)."""
        now = self.clock()
        with session_scope(self.engine, readonly=True) as session:
            waiting = queue.count_unfinished_in(session=session, channel=channel)
        text = (
            f"⚠️ Slack does not let me post in <#{channel}> (`{error}`): {waiting} "
            f"message{'s' if waiting != 1 else ''} wait for it, nothing is lost. Invite me "
            "to the channel (`/invite` there) and they go out within minutes; or, if a topic "
            "sends its tickets there, `/topic remove` it and `/topic move` its tickets."
        )
        key = f"channel:{channel}:{now.date().isoformat()}"
        if tell_leads(
            engine=self.engine, leads=self.leads, key=key, text=text, now=now, wake=self.wake
        ):
            log.warning("posting queue: told the leads that channel %s refuses posts", channel)
