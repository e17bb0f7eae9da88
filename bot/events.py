"""Remembering which Slack events were handled, so retries are recognised."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import Engine

from bot.clock import Clock, system_clock
from store import events
from store.db import session_scope

# Slack retries an event up to three times within about an hour.
KEEP = timedelta(hours=2)


class EventLog:
    """The ids of Slack events already handled."""

    def __init__(self, *, engine: Engine, clock: Clock = system_clock) -> None:
        self._engine = engine
        self._clock = clock

    def first_time(self, event_id: str) -> bool:
        """True the first time an event id is seen, False for every retry of it."""
        with session_scope(self._engine) as session:
            return events.first_time(session=session, event_id=event_id, now=self._clock())

    def prune(self) -> int:
        """Forget ids older than Slack's retry window."""
        with session_scope(self._engine) as session:
            return events.forget_before(session=session, before=self._clock() - KEEP)
