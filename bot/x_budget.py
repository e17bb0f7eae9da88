"""What X costs (SPEC §11): every request counted by kind, priced, and held to a budget.

The transport reports each call (`bot/x_calls.py`); counts gather in memory and are
added to the day's rows in the database every few seconds (`flush`), so replicas add up
and no call to X ever waits for the database. At 80 % and 100 % of `X_MONTHLY_BUDGET`
the leads are told once (a DM each); from 100 % keyword searches pause while mentions,
DMs and replies go on. X's 402 (credits used up) tells the leads and pages on-call at
once (once an hour while it lasts); polling backs off (`bot/ingest.py`) and the X outbox
keeps the answers queued (`bot/delivery.py`), so nothing is lost.
"""

from __future__ import annotations

import logging
import threading
from collections import defaultdict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import Engine

from bot.clock import Clock, system_clock
from bot.escalation import Alarm, Escalations
from bot.feed import TicketFeed
from bot.notices import tell_leads
from bot.x_calls import XCall, XKind
from store import usage
from store.db import session_scope
from store.models import EscalationKind

log = logging.getLogger(__name__)

LEVELS = (80, 100)  # percent of the monthly budget at which the leads are told


@dataclass(frozen=True)
class Spend:
    """What X cost in a period: per kind (units, USD), and per answered customer."""

    by_kind: dict[XKind, tuple[int, float]]
    total: float
    answered_customers: int
    budget: float | None = None  # X_MONTHLY_BUDGET
    month_total: float = 0.0  # spent this month so far

    @property
    def per_customer(self) -> float | None:
        """USD per customer who got an answer in the period."""
        return self.total / self.answered_customers if self.answered_customers else None

    @property
    def budget_percent(self) -> float | None:
        """This month's spend, in percent of the budget."""
        return 100 * self.month_total / self.budget if self.budget else None


@dataclass(kw_only=True)
class XBudget:
    """Counts, prices and watches what the bot spends on X."""

    engine: Engine
    prices: Mapping[XKind, float]
    zone: ZoneInfo
    feed: TicketFeed
    escalations: Escalations
    leads: Callable[[], list[str]]
    monthly_budget: float | None = None
    clock: Clock = system_clock
    _pending: dict[tuple[str, XKind], list[int]] = field(
        default_factory=lambda: defaultdict(lambda: [0, 0]), init=False
    )
    _credits_out: bool = field(default=False, init=False)
    _paused: bool | None = field(default=None, init=False)  # None: not read yet
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False)

    # -- counting ------------------------------------------------------------------------

    def observe(self, call: XCall) -> None:
        """An `XClient` listener: count a billed call; note a 402."""
        with self._lock:
            if call.kind is not None:
                counts = self._pending[(self._day(self.clock()), call.kind)]
                counts[0] += 1
                counts[1] += call.units
            if call.status == 402:
                self._credits_out = True

    def flush(self) -> None:
        """Add the counts to the database, then tell whom the budget concerns."""
        with self._lock:
            pending, self._pending = dict(self._pending), defaultdict(lambda: [0, 0])
            credits_out, self._credits_out = self._credits_out, False
        try:
            with session_scope(self.engine) as session:
                for (day, kind), (requests, units) in pending.items():
                    usage.add_usage(
                        session=session, day=day, kind=kind, requests=requests, units=units
                    )
        except Exception:
            with self._lock:  # counted again at the next flush, not lost
                for key, (requests, units) in pending.items():
                    self._pending[key][0] += requests
                    self._pending[key][1] += units
                self._credits_out = self._credits_out or credits_out
            raise
        if credits_out:
            self._credits_used_up()
        self._watch_budget()

    def keyword_searches_paused(self) -> bool:
        """True from 100 % of the monthly budget on (as of the last flush)."""
        if self._paused is None:
            budget = self.monthly_budget
            self._paused = budget is not None and self.month_total() >= budget
        return self._paused

    # -- figures -------------------------------------------------------------------------

    def spend(self, start: datetime, end: datetime) -> Spend:
        """What X cost between `start` and `end` (whole local days), and this month."""
        first, last = self._day(start), self._day(end)
        with session_scope(self.engine, readonly=True) as session:
            counted = usage.usage_between(session=session, first_day=first, last_day=last)
            customers = usage.answered_customers(session=session, start=start, end=end)
        by_kind = {
            XKind(kind): (units, units * self.prices.get(XKind(kind), 0.0))
            for kind, (_, units) in counted.items()
            if kind in set(XKind)
        }
        total = sum(usd for _, usd in by_kind.values())
        return Spend(by_kind, total, customers, self.monthly_budget, self.month_total())

    def month_total(self) -> float:
        """USD spent this local month so far."""
        today = self._day(self.clock())
        with session_scope(self.engine, readonly=True) as session:
            counted = usage.usage_between(
                session=session, first_day=today[:8] + "01", last_day=today
            )
        return sum(
            units * self.prices.get(XKind(kind), 0.0)
            for kind, (_, units) in counted.items()
            if kind in set(XKind)
        )

    # -- telling people --------------------------------------------------------------------

    def _watch_budget(self) -> None:
        if self.monthly_budget is None:
            return
        spent = self.month_total()
        percent = round(100 * spent / self.monthly_budget, 6)  # 0.04 / 0.05 is 80 %, not 79.99…
        was_paused, self._paused = bool(self._paused), percent >= 100
        if self._paused and not was_paused:
            log.warning("X budget used up: keyword searches pause until next month")
        month = self._day(self.clock())[:7]
        for level in LEVELS:
            if percent < level:
                continue
            text = (
                f"💸 X budget: {percent:.0f} % of this month's {self.monthly_budget:,.2f} USD "
                f"is spent ({spent:,.2f} USD)."
            )
            if level == 100:
                text += (
                    " Keyword searches pause until next month; mentions, DMs and replies go on."
                    " Raise X_MONTHLY_BUDGET to search again."
                )
            self._tell_leads(f"budget:{month}:{level}", text)

    def _credits_used_up(self) -> None:
        now = self.clock()
        hour = now.astimezone(self.zone).strftime("%Y-%m-%dT%H")
        text = (
            "⛔ X answered 402: the account's X credits are used up. Polling backs off and "
            "answers wait in the X outbox; nothing is lost. Top up the credits at X."
        )
        self._tell_leads(f"credits:{hour}", text)
        self.escalations.escalate(Alarm(f"x-credits:{hour}", EscalationKind.X_CREDITS, text))

    def _tell_leads(self, key: str, text: str) -> None:
        """A DM to every lead, once per `key` across replicas and restarts."""
        tell_leads(
            engine=self.engine,
            leads=self.leads,
            key=key,
            text=text,
            now=self.clock(),
            wake=self.feed.wake,
            dedup_prefix="x-notice",
        )

    def _day(self, when: datetime) -> str:
        return when.astimezone(self.zone).strftime("%Y-%m-%d")
