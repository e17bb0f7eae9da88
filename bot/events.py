"""Remembering which Slack events were handled, so retries are recognised."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import Engine

from bot.clock import Clock, system_clock
from store import events
from store.db import session_scope

# Slack retries an event up to three times within about an hour.
KEEP = timedelta(hours=2)


@dataclass(frozen=True, kw_only=True)
class EventLog:
    """The ids of Slack events already handled."""

    engine: Engine
    clock: Clock = system_clock

    def first_time(self, event_id: str) -> bool:
        """True the first time an event id is seen, False for every retry of it."""
        with session_scope(self.engine) as session:
            return events.first_time(session=session, event_id=event_id, now=self.clock())

    def prune(self) -> int:
        """Forget ids older than Slack's retry window."""
        with session_scope(self.engine) as session:
            return events.forget_before(session=session, before=self.clock() - KEEP)
