"""The X outbox: queued public replies and DMs, sent by one worker at X's pace.

Rows in state `queued` (a group answer's, or an individual answer that found X's window
used up) are sent oldest first, every row without a `group_id` before any group row, so
an agent's reply never waits behind a group. The pace (`bot/pace.py`) reads X's
rate-limit headers; a 429 puts the row back and waits for the reset. One worker per
deployment sends: whoever holds the `x-outbox` lease (any database), renewed while it
works and taken over when a replica dies.

Exactly once: a row is taken with a conditional update (`queued` → `sending`, the claim
time noted) before X is called. A crash after that leaves it `sending`; the settle sweep
(`Delivery.settle`) looks for it among the brand's own tweets from the claim time on and
sends it again only when it is not there.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Engine, func, update
from sqlmodel import Session, col, select

from bot.clock import Clock, system_clock
from bot.delivery import Delivery, ReplyStatus
from bot.leader import LeaseLeadership
from bot.pace import XPace
from bot.present import ActivityKind
from store.db import session_scope
from store.models import Reply, ReplyKind, ReplyState

log = logging.getLogger(__name__)

LEASE = timedelta(seconds=15)
RENEW_EVERY = timedelta(seconds=5)
IDLE_LOOK = 1.0  # seconds between looks when nothing woke the worker
PENDING = (ReplyState.QUEUED, ReplyState.SENDING, ReplyState.UNKNOWN)
STOPPED = "Stopped before it was sent."


@dataclass(frozen=True)
class GroupProgress:
    """How far a group answer is: `sent` of `total` on X, `failed` refused, `eta` to go."""

    sent: int
    total: int
    failed: int
    eta: timedelta | None  # None: nothing left to send

    def describe(self) -> str:
        """The group card's line, e.g. "212 of 500 answered, about 40 minutes left"."""
        line = f"{self.sent} of {self.total} answered"
        if self.eta is not None:
            minutes = max(1, round(self.eta.total_seconds() / 60))
            line += f", about {minutes} minute{'s' if minutes != 1 else ''} left"
        if self.failed:
            line += f" ({self.failed} refused by X)"
        return line


class XOutbox:
    """Sends queued rows to X at its pace; one worker per deployment (a database lease)."""

    def __init__(
        self, engine: Engine, *, delivery: Delivery, pace: XPace, clock: Clock = system_clock
    ) -> None:
        self._engine = engine
        self._delivery = delivery
        self._pace = pace
        self._clock = clock
        self._lease = LeaseLeadership(engine, lease=LEASE, name="x-outbox", clock=clock)
        self._leading_until: datetime | None = None

    def wake(self) -> None:
        """Rows were queued: look now rather than at the next idle look."""
        self._delivery.woken.set()

    # -- the worker ----------------------------------------------------------------------

    def run(self, stop: threading.Event) -> None:
        """Send until `stop` is set (a thread of its own)."""
        while not stop.is_set():
            try:
                wait = self.step()
            except Exception:  # the worker must outlive a database or X hiccup
                log.exception("X outbox: a round failed; trying again")
                wait = IDLE_LOOK
            if wait > 0:
                self._delivery.woken.wait(timeout=wait)
                self._delivery.woken.clear()
        self._lease.release()

    def step(self) -> float:
        """Send what X's window allows now, one row per kind; seconds until the next look."""
        if not self._leads():
            return IDLE_LOOK
        now = self._clock()
        waits: list[float] = [IDLE_LOOK]
        sent = False
        for kind in (ReplyKind.TWEET, ReplyKind.DM):
            head = self._head(kind)
            if head is None:
                continue
            reply_id, group_id = head
            group = group_id is not None
            room = self._pace.take(kind, group=group)
            if not room.now:
                waits.append(max(0.05, (room.retry_at - now).total_seconds()))
                continue
            if not self._delivery.claim(reply_id):
                self._pace.give_back(kind)
                continue
            sent = True
            self._send(reply_id)
        return 0.0 if sent else min(waits)

    def drain(self, *, max_wait: float = 0.5) -> int:
        """Send rows while X's window lets them go within `max_wait` seconds (tests,
        benchmarks); how many went."""
        count = 0
        while True:
            before = self._count(ReplyState.QUEUED)
            wait = self.step()
            after = self._count(ReplyState.QUEUED)
            count += max(0, before - after)
            if after == 0 or wait > max_wait:
                return count
            if wait > 0:
                time.sleep(wait)

    def _send(self, reply_id: int) -> None:
        result = self._delivery.attempt(reply_id, queued=True)
        if result.status == ReplyStatus.FAILED:
            with session_scope(self._engine, readonly=True) as session:
                reply = session.get(Reply, reply_id)
            if reply is not None:
                self._delivery.tell_thread(reply, ActivityKind.REPLY_FAILED, result.message)

    def _leads(self) -> bool:
        now = self._clock()
        if self._leading_until is not None and now < self._leading_until:
            return True
        if self._lease.acquire():
            self._leading_until = now + RENEW_EVERY
            return True
        self._leading_until = None
        return False

    def _head(self, kind: ReplyKind) -> tuple[int, int | None] | None:
        """The next queued row of `kind`: individual answers first, then by age."""
        with session_scope(self._engine, readonly=True) as session:
            row = session.exec(
                select(Reply.id, Reply.group_id)
                .where(col(Reply.state) == ReplyState.QUEUED)
                .where(col(Reply.kind) == kind)
                .order_by(col(Reply.group_id).is_not(None), col(Reply.id))
                .limit(1)
            ).first()
        if row is None:
            return None
        reply_id, group_id = row
        assert reply_id is not None
        return reply_id, group_id

    def _count(self, state: ReplyState) -> int:
        with session_scope(self._engine, readonly=True) as session:
            return int(session.exec(select(func.count()).where(col(Reply.state) == state)).one())

    # -- for the group card and for operators ----------------------------------------------

    def progress(self, group_id: int, *, session: Session | None = None) -> GroupProgress:
        """How far the answer of group `group_id` is, for its card.

        `sent` and `total` count the group's rows (`total` leaves out rows stopped before
        they were sent); `eta` is the time until its last row goes, from the rows queued
        ahead of it (every individual answer, and older group rows) at the pace X's
        window allows now, plus the wait for a reset after a 429. `describe()` gives
        the card's line: "212 of 500 answered, about 40 minutes left". `session`: the
        caller's, when it has one open (the card rendered in its transaction).
        """
        if session is None:
            with session_scope(self._engine, readonly=True) as own:
                return self.progress(group_id, session=own)
        rows = session.exec(
            select(Reply.state, Reply.kind, func.count(), func.max(Reply.id))
            .where(col(Reply.group_id) == group_id)
            .group_by(col(Reply.state), col(Reply.kind))
        ).all()
        sent = sum(n for state, _, n, _ in rows if state == ReplyState.SENT)
        failed = sum(n for state, _, n, _ in rows if state == ReplyState.FAILED)
        eta: timedelta | None = None
        for state, kind, _, last_id in rows:
            if state != ReplyState.QUEUED:
                continue
            ahead = session.exec(
                select(func.count())
                .where(col(Reply.state) == ReplyState.QUEUED)
                .where(col(Reply.kind) == kind)
                .where(col(Reply.group_id).is_(None) | (col(Reply.id) <= last_id))
            ).one()
            hours = int(ahead) / self._pace.per_hour(ReplyKind(kind), session=session)
            wait = timedelta(hours=hours)
            blocked = self._pace.blocked_until(ReplyKind(kind))
            if blocked is not None:
                wait += blocked - self._clock()
            eta = wait if eta is None else max(eta, wait)
        stopped = int(  # stopped before they went, or a returned answer's
            session.exec(
                select(func.count())
                .where(col(Reply.group_id) == group_id)
                .where(col(Reply.state).in_([ReplyState.CANCELLED, ReplyState.REJECTED]))
            ).one()
        )
        total = sum(n for _, _, n, _ in rows) - stopped
        if eta is None and any(state in PENDING for state, *_ in rows):
            eta = timedelta(0)
        return GroupProgress(sent=sent, total=total, failed=failed, eta=eta)

    def cancel(self, group_id: int) -> int:
        """Stop sending a group answer: its rows not yet taken are dropped; how many."""
        with session_scope(self._engine) as session:
            dropped = session.execute(
                update(Reply)
                .where(col(Reply.group_id) == group_id)
                .where(col(Reply.state) == ReplyState.QUEUED)
                .values(state=ReplyState.CANCELLED, error=STOPPED)
            )
            return int(dropped.rowcount)  # type: ignore[attr-defined]

    def depth(self) -> dict[str, int]:
        """Rows waiting, by kind (metrics)."""
        with session_scope(self._engine, readonly=True) as session:
            rows = session.exec(
                select(Reply.kind, func.count())
                .where(col(Reply.state) == ReplyState.QUEUED)
                .group_by(col(Reply.kind))
            ).all()
        return {str(kind): int(n) for kind, n in rows}

    def oldest_waiting(self) -> datetime | None:
        """When the oldest row still waiting was written (metrics)."""
        with session_scope(self._engine, readonly=True) as session:
            return session.exec(
                select(func.min(Reply.created_at)).where(col(Reply.state).in_(PENDING))
            ).one()
