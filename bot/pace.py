"""X's posting pace: how many posts and DMs may go out now, as X's headers say.

Every answer to `POST /2/tweets` and to the DM endpoint carries `x-rate-limit-limit`,
`-remaining` and `-reset`; the newest of them is what this process knows of the window.
Before any header was seen (a fresh start), or when X sends none, the window is counted
from the database instead (answers sent in the last 15 minutes, and DMs in the last
day), so replicas and restarts agree: `X_POSTS_PER_15_MIN` posts and 15 DMs per 15
minutes, 1,440 DMs a day (SPEC §10).

Group answers keep a few places of each window free (`reserve`) for individual replies,
so an agent's reply never waits behind a group; in the window's last tenth the reserve
is given to the group too, since an unused place is lost at the reset.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Engine, func, type_coerce
from sqlmodel import Session, col, select

from bot.clock import Clock, system_clock
from bot.x_calls import DM_ROUTE, POST_ROUTE, Outcome, Window, XCall
from store.db import session_scope
from store.models import Reply, ReplyKind, ReplyState
from store.types import UTCDateTime

FALLBACK_WINDOW = timedelta(minutes=15)
DM_PER_WINDOW = 15
DM_PER_DAY = 1440
RESERVE_FRACTION = 0.05  # of a window kept for individual replies while a group is sent
LAST_TENTH = 0.1
CREDITS_BACKOFF = timedelta(minutes=5)


@dataclass(frozen=True)
class Room:
    """Whether a row may go now, and if not, when to look again."""

    now: bool
    retry_at: datetime


class XPace:
    """The posting windows of X for tweets and DMs, from headers or from the database."""

    def __init__(
        self,
        engine: Engine,
        *,
        posts_per_window: int = 100,
        window: timedelta = FALLBACK_WINDOW,
        dms_per_window: int = DM_PER_WINDOW,
        dms_per_day: int = DM_PER_DAY,
        clock: Clock = system_clock,
    ) -> None:
        self._engine = engine
        self._clock = clock
        self._fallback = {ReplyKind.TWEET: posts_per_window, ReplyKind.DM: dms_per_window}
        self._window = window
        self._dms_per_day = dms_per_day
        self._seen: dict[ReplyKind, tuple[Window, datetime]] = {}
        self._blocked: dict[ReplyKind, datetime] = {}
        # How long X's windows are, as its resets show (the longest wait seen for a reset).
        self._span: dict[ReplyKind, timedelta] = {}
        self._lock = threading.Lock()
        # Held from looking for a free place to taking it (`take`): two senders of this
        # process (an agent's request, the X outbox) cannot both take the last one.
        self._taking = threading.Lock()

    # -- what X said ---------------------------------------------------------------------

    def observe(self, call: XCall) -> None:
        """Read a call's headers (an `XClient` listener); a 429 blocks the kind until reset."""
        kind = {POST_ROUTE: ReplyKind.TWEET, DM_ROUTE: ReplyKind.DM}.get(call.route)
        if kind is None:
            return
        now = self._clock()
        with self._lock:
            if call.window is not None:
                self._seen[kind] = (self._merged(kind, call.window), now)
                left = call.window.reset_at - now
                if left > self._span.get(kind, timedelta(0)) and left <= timedelta(days=1):
                    self._span[kind] = left
            if call.status == 402:  # credits used up: try again in a while, not at once
                self._blocked[kind] = now + CREDITS_BACKOFF
            elif call.outcome == Outcome.RATE_LIMITED:
                reset = call.window.reset_at if call.window else None
                self._blocked[kind] = reset if reset and reset > now else now + self._window

    def _merged(self, kind: ReplyKind, window: Window) -> Window:
        """X's window, less the places taken since (under the lock).

        Within one window the places left only go down: an answer saying more were left
        was written before a post still on its way (taken with `took`) reached X.
        Believing it would send one post too many, and X answers that with a 429.
        """
        seen = self._seen.get(kind)
        if seen is None or seen[0].reset_at != window.reset_at:
            return window
        return Window(window.limit, min(window.remaining, seen[0].remaining), window.reset_at)

    def hold(self, kind: ReplyKind, pause: timedelta) -> None:
        """Send nothing of `kind` for `pause` (X could not be reached)."""
        with self._lock:
            self._blocked[kind] = max(self._blocked.get(kind, self._clock()), self._clock() + pause)

    def blocked_until(self, kind: ReplyKind) -> datetime | None:
        """When a 429 said the window opens again, if it is still closed."""
        with self._lock:
            until = self._blocked.get(kind)
        return until if until is not None and until > self._clock() else None

    # -- what may go ---------------------------------------------------------------------

    def window(self, kind: ReplyKind, *, session: Session | None = None) -> Window:
        """The window as best known now: X's last headers, else counted from the database.

        `session`: the caller's, when it has one open (a card rendered in its transaction).
        """
        now = self._clock()
        with self._lock:
            seen = self._seen.get(kind)
        if seen is not None:
            if seen[0].reset_at > now:
                return seen[0]
            # X's window was reset since its last answer: a fresh one of the same size.
            return Window(seen[0].limit, seen[0].limit, now + self.span(kind))
        limit = self._fallback[kind]
        sent, oldest = self._sent_since(kind, now - self._window, session)
        remaining = limit - sent
        reset = (oldest + self._window) if oldest is not None else now + self._window
        if kind == ReplyKind.DM:
            today, first = self._sent_since(kind, now - timedelta(days=1), session)
            if self._dms_per_day - today < remaining:
                remaining = self._dms_per_day - today
                reset = (first + timedelta(days=1)) if first else reset
        return Window(limit, max(0, remaining), reset)

    def room(self, kind: ReplyKind, *, group: bool) -> Room:
        """Whether one more row of `kind` may go now (`group`: a group answer's row)."""
        now = self._clock()
        blocked = self.blocked_until(kind)
        if blocked is not None:
            return Room(False, blocked)
        window = self.window(kind)
        left = max(timedelta(0), window.reset_at - now)
        if not group:
            return Room(window.remaining > 0, window.reset_at)
        full = self.span(kind)
        reserve = max(1, int(window.limit * RESERVE_FRACTION))
        if left <= full * LAST_TENTH:
            reserve = 0  # unused places are lost at the reset: the group may have them
        if window.remaining - reserve <= 0:
            # Look again when the reserve is given to the group, or at the reset.
            release = window.reset_at - full * LAST_TENTH
            return Room(False, release if reserve and release > now else window.reset_at)
        return Room(True, now)

    def take(self, kind: ReplyKind, *, group: bool) -> Room:
        """Take a place for one row of `kind` if there is one: `room` and `took` at once."""
        with self._taking:
            room = self.room(kind, group=group)
            if room.now:
                self.took(kind, group=group)
            return room

    def give_back(self, kind: ReplyKind) -> None:
        """A place taken with `take` went unused (another worker had the row)."""
        with self._lock:
            seen = self._seen.get(kind)
            if seen is not None:
                window, at = seen
                more = min(window.limit, window.remaining + 1)
                self._seen[kind] = (Window(window.limit, more, window.reset_at), at)

    def took(self, kind: ReplyKind, *, group: bool) -> None:
        """A row of `kind` is being sent now: count it until X's headers say more."""
        with self._lock:
            seen = self._seen.get(kind)
            if seen is not None:
                window, at = seen
                used = Window(window.limit, max(0, window.remaining - 1), window.reset_at)
                self._seen[kind] = (used, at)

    def span(self, kind: ReplyKind) -> timedelta:
        """How long a window of `kind` lasts: as X's resets showed, else 15 minutes."""
        with self._lock:
            return self._span.get(kind, self._window)

    def per_hour(self, kind: ReplyKind, *, session: Session | None = None) -> float:
        """Rows of `kind` that go out per hour at this pace (for "about N minutes left")."""
        window = self.window(kind, session=session)
        limit = window.limit if window.limit > 0 else self._fallback[kind]
        reserve = max(1, int(limit * RESERVE_FRACTION))
        per_window = max(1, limit - reserve)
        return per_window * 3600 / self.span(kind).total_seconds()

    def _sent_since(
        self, kind: ReplyKind, since: datetime, session: Session | None
    ) -> tuple[int, datetime | None]:
        """How many rows of `kind` went to X since `since`, and the first of them."""
        if session is None:
            with session_scope(self._engine, readonly=True) as own:
                return self._sent_since(kind, since, own)
        went = col(Reply.state).in_([ReplyState.SENT, ReplyState.SENDING, ReplyState.UNKNOWN])
        started = type_coerce(
            func.coalesce(col(Reply.sent_at), col(Reply.checked_at), col(Reply.created_at)),
            UTCDateTime(),
        )
        count, first = session.exec(
            select(func.count(), func.min(started, type_=UTCDateTime()))
            .where(col(Reply.kind) == kind)
            .where(went)
            .where(started >= since)
        ).one()
        return int(count), first
