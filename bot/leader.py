"""One X poller at a time across replicas: whoever holds the leadership polls.

Every replica serves Slack, posts from the queue and sweeps (those claim rows one by one),
but reading X twice would only waste X's rate limits. On PostgreSQL the leader holds a
session advisory lock on a connection of its own: if the leader dies, its connection
closes, PostgreSQL releases the lock, and another replica takes over at its next poll. On
SQLite (replicas on one machine sharing a file) the leader holds a lease row it renews;
when it stops renewing, the lease runs out and another replica takes it.
"""

from __future__ import annotations

import contextlib
import logging
import uuid
from datetime import timedelta
from typing import Protocol

from sqlalchemy import Connection, Engine, text, update
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlmodel import col

from bot.clock import Clock, system_clock
from store.db import session_scope
from store.models import Leader

log = logging.getLogger(__name__)

# Any constant will do; it names the "X poller" lock among the database's advisory locks.
POLLER_LOCK_KEY = 0x5E41CF


class Leadership(Protocol):
    """Whether this replica is the one that polls X."""

    def acquire(self) -> bool:
        """True when this replica leads (taking the lead if nobody holds it)."""
        ...

    def release(self) -> None:
        """Give the lead up (on shutdown)."""
        ...


class AdvisoryLockLeadership:
    """PostgreSQL: a session advisory lock held on a dedicated connection."""

    def __init__(self, engine: Engine, key: int = POLLER_LOCK_KEY) -> None:
        self._engine = engine
        self._key = key
        self._connection: Connection | None = None

    def acquire(self) -> bool:
        if self._connection is not None:
            try:
                self._connection.execute(text("SELECT 1"))
                return True
            except SQLAlchemyError:
                log.warning("lost the connection that held the X-poller lock; trying again")
                self._drop()
        connection = self._engine.connect()
        got = bool(
            connection.execute(
                text("SELECT pg_try_advisory_lock(:key)"), {"key": self._key}
            ).scalar()
        )
        connection.commit()
        if not got:
            connection.close()
            return False
        log.info("this replica polls X now")
        self._connection = connection
        return True

    def release(self) -> None:
        if self._connection is None:
            return
        try:
            self._connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": self._key})
            self._connection.commit()
        except SQLAlchemyError:
            pass  # the lock went with the connection
        self._drop()

    def _drop(self) -> None:
        # Invalidating closes the session for good (a pooled connection would keep the lock).
        if self._connection is not None:
            with contextlib.suppress(SQLAlchemyError):
                self._connection.invalidate()
            self._connection.close()
        self._connection = None


class LeaseLeadership:
    """Any database: a lease row, renewed by its holder, taken over when it runs out."""

    def __init__(
        self,
        engine: Engine,
        *,
        lease: timedelta,
        name: str = "x-poller",
        clock: Clock = system_clock,
    ) -> None:
        self._engine = engine
        self._lease = lease
        self._name = name
        self._clock = clock
        self._me = uuid.uuid4().hex

    def acquire(self) -> bool:
        now = self._clock()
        with session_scope(self._engine) as session:
            renewed = session.execute(
                update(Leader)
                .where(col(Leader.name) == self._name)
                .where((col(Leader.holder) == self._me) | (col(Leader.lease_until) < now))
                .values(holder=self._me, lease_until=now + self._lease)
            )
            if renewed.rowcount == 1:  # type: ignore[attr-defined]
                return True
            if session.get(Leader, self._name) is not None:
                return False
            try:
                with session.begin_nested():
                    session.add(
                        Leader(name=self._name, holder=self._me, lease_until=now + self._lease)
                    )
            except IntegrityError:
                return False  # another replica created it a moment ago
            return True

    def release(self) -> None:
        with session_scope(self._engine) as session:
            session.execute(
                update(Leader)
                .where(col(Leader.name) == self._name)
                .where(col(Leader.holder) == self._me)
                .values(lease_until=self._clock() - timedelta(seconds=1))
            )


def leadership_for(engine: Engine, *, lease: timedelta, clock: Clock = system_clock) -> Leadership:
    """Advisory locks on PostgreSQL, a lease elsewhere."""
    if engine.dialect.name == "postgresql":
        return AdvisoryLockLeadership(engine)
    return LeaseLeadership(engine, lease=lease, clock=clock)
