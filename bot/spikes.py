"""Spike detection: when mentions or #fail tweets suddenly pile up, on-call is paged once.

The rule, in numbers (all constants below):

- **Mentions.** The customer tweets of the last 10 minutes are compared with the average
  per 10 minutes over the 24 hours before. It is a spike when there are at least
  `MIN_MENTIONS` (20) of them and at least `MENTION_FACTOR` (5) times the average.
- **#fail.** Tweets with a `#…fail…` hashtag in the last 10 minutes: a burst when there
  are at least `MIN_FAILS` (5) and at least `FAIL_FACTOR` (3) times their average.

Each kind pages at most once per hour (the cause key is the hour), with the most-followed
authors' tweets as examples, so a long storm is one page, not one every ten minutes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import NamedTuple

from sqlalchemy import Engine, and_, case, func
from sqlmodel import Session, col, select

from bot.clock import Clock, system_clock
from bot.escalation import Alarm, Escalations
from store.db import session_scope
from store.models import Channel, Customer, Direction, EscalationKind, Message

WINDOW = timedelta(minutes=10)
BASELINE = timedelta(hours=24)
MIN_MENTIONS = 20
MENTION_FACTOR = 5.0
MIN_FAILS = 5
FAIL_FACTOR = 3.0
EXAMPLES = 3


class SpikeKind(StrEnum):
    """What piled up."""

    MENTIONS = "mentions"
    FAIL = "fail"  # tweets with a #…fail… hashtag


@dataclass(frozen=True)
class Spike:
    """A spike found: how many against how many usually, and some examples."""

    kind: SpikeKind
    count: int
    baseline: float
    examples: list[str]


def is_spike(count: int, baseline: float, *, minimum: int, factor: float) -> bool:
    """The rule: at least `minimum`, and at least `factor` times the usual."""
    return count >= minimum and count >= factor * baseline


class Counts(NamedTuple):
    """Tweets in the last window, and in the baseline before it."""

    window: int
    baseline: int


@dataclass(frozen=True, kw_only=True)
class SpikeWatch:
    """Counts incoming tweets per window and pages on-call for spikes."""

    engine: Engine
    escalations: Escalations
    clock: Clock = system_clock

    def _counts(self, session: Session, start: datetime, now: datetime) -> dict[bool, Counts]:
        """Customer tweets in the window and in the baseline before it, all and #fail ones.

        One pass over the last 25 hours, each tweet counted where it falls.
        """
        recent = col(Message.created_at) > start
        fail = col(Message.is_fail)
        window, baseline, window_fails, baseline_fails = session.exec(
            select(
                func.count(case((recent, 1))),
                func.count(case((~recent, 1))),
                func.count(case((and_(recent, fail), 1))),
                func.count(case((and_(~recent, fail), 1))),
            )
            .where(Message.direction == Direction.IN)
            .where(Message.channel == Channel.TWEET)
            .where(col(Message.created_at) > start - BASELINE)
            .where(col(Message.created_at) <= now)
        ).one()
        return {
            False: Counts(int(window), int(baseline)),
            True: Counts(int(window_fails), int(baseline_fails)),
        }

    def _examples(self, session: Session, start: datetime, *, fail_only: bool) -> list[str]:
        query = (
            select(Message.text, Customer.username)
            .join(Customer, col(Customer.x_user_id) == col(Message.author_x_id))
            .where(Message.direction == Direction.IN)
            .where(Message.channel == Channel.TWEET)
            .where(col(Message.created_at) > start)
            .order_by(col(Customer.followers).desc())
            .limit(EXAMPLES)
        )
        if fail_only:
            query = query.where(col(Message.is_fail))
        return [f"@{username}: {text}" for text, username in session.exec(query)]

    def find(self) -> list[Spike]:
        """The spikes right now (without paging)."""
        now = self.clock()
        start = now - WINDOW
        windows = BASELINE / WINDOW
        spikes = []
        with session_scope(self.engine, readonly=True) as session:
            counts = self._counts(session, start, now)
            for kind, fail_only, minimum, factor in (
                (SpikeKind.MENTIONS, False, MIN_MENTIONS, MENTION_FACTOR),
                (SpikeKind.FAIL, True, MIN_FAILS, FAIL_FACTOR),
            ):
                count, usual = counts[fail_only].window, counts[fail_only].baseline / windows
                if is_spike(count, usual, minimum=minimum, factor=factor):
                    examples = self._examples(session, start, fail_only=fail_only)
                    spikes.append(Spike(kind, count, usual, examples))
        return spikes

    def check(self) -> list[Spike]:
        """Page on-call for each spike, once per kind and hour; the spikes that paged."""
        now = self.clock()
        paged = []
        for spike in self.find():
            what = "mentions" if spike.kind == SpikeKind.MENTIONS else "#fail tweets"
            reason = (
                f"{spike.count} {what} in the last 10 minutes; usually "
                f"{spike.baseline:.1f} per 10 minutes."
            )
            cause = f"spike:{spike.kind}:{now:%Y-%m-%dT%H}"
            alarm = Alarm(cause, EscalationKind.SPIKE, reason, examples=spike.examples)
            if self.escalations.escalate(alarm):
                paged.append(spike)
        return paged
