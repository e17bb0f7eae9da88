"""What operators scrape: `GET /metrics` in Prometheus' text format (issue 13, part 5).

Each built bot has a registry of its own (not prometheus-client's global one), so tests
and the sandbox that run several bots in one process never mix their figures. Counters
count what this replica did; the queue figures are read from the database when scraped,
so every replica reports the same depths.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy import Engine, func
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import col, select

from bot.clock import Clock, system_clock
from bot.inbox import IngestResult
from bot.x_calls import XCall
from store.db import session_scope
from store.models import OutboxState, Reply, ReplyState, SlackOutbox

X_WAITING = (ReplyState.QUEUED, ReplyState.SENDING, ReplyState.UNKNOWN)
SLACK_WAITING = (OutboxState.PENDING, OutboxState.SENDING)


class Metrics:
    """The bot's metrics, in a registry of its own."""

    def __init__(self, engine: Engine, *, clock: Clock = system_clock) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.tickets_in = Counter(
            "servicekanal_tickets_in",
            "Customer messages read from X, by what became of them "
            "(new ticket, joined an open one, reopened one).",
            ["how"],
            registry=r,
        )
        self.replies_out = Counter(
            "servicekanal_replies_out",
            "Answers that reached the customer on X, by kind (tweet, dm) and by answer "
            "(individual, group, automatic).",
            ["kind", "answer"],
            registry=r,
        )
        self.x_calls = Counter(
            "servicekanal_x_calls",
            "HTTP calls to X by route and outcome (ok, 429, 5xx, 4xx, timeout).",
            ["route", "outcome"],
            registry=r,
        )
        self.slack_calls = Counter(
            "servicekanal_slack_calls",
            "Slack Web API calls by method and outcome (ok, 429, 5xx, error, timeout).",
            ["method", "outcome"],
            registry=r,
        )
        self.sweep_seconds = Histogram(
            "servicekanal_sweep_duration_seconds",
            "How long one reminder/SLA sweep took.",
            buckets=(0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
            registry=r,
        )
        self._last_poll: Callable[[], datetime | None] = lambda: None
        self._clock = clock
        self.poll_lag = Gauge(
            "servicekanal_poll_lag_seconds",
            "Seconds since the last successful poll of X by this replica (-1: none yet; "
            "a replica that does not poll stays at -1).",
            registry=r,
        )
        self.poll_lag.set_function(self._poll_lag)
        r.register(_QueueCollector(engine, clock))

    def follow_polls(self, last_success: Callable[[], datetime | None]) -> None:
        """Read the poll lag from `last_success` (the ingest's last good poll)."""
        self._last_poll = last_success

    def _poll_lag(self) -> float:
        last = self._last_poll()
        return -1.0 if last is None else max(0.0, (self._clock() - last).total_seconds())

    # -- listeners -----------------------------------------------------------------------

    def x_call(self, call: XCall) -> None:
        """An `XClient` listener."""
        self.x_calls.labels(call.route, call.outcome).inc()

    def polled(self, result: IngestResult) -> None:
        """An ingest listener: what one poll of one stream stored."""
        self.tickets_in.labels("new").inc(len(result.new_tickets))
        self.tickets_in.labels("joined").inc(result.joined)
        self.tickets_in.labels("reopened").inc(result.reopened)

    def replied(self, reply: Reply) -> None:
        """A delivery listener: one answer is on X."""
        answer = "automatic" if reply.automatic else "group" if reply.group_id else "individual"
        self.replies_out.labels(reply.kind, answer).inc()

    def slack_call(self, method: str, outcome: str) -> None:
        """A `bot.slack.CountingWebClient` listener."""
        self.slack_calls.labels(method, outcome).inc()

    def timed(self, job: Callable[[], Any]) -> Callable[[], Any]:
        """`job`, with its duration observed as the sweep's."""

        def run() -> Any:
            started = time.perf_counter()
            try:
                return job()
            finally:
                self.sweep_seconds.observe(time.perf_counter() - started)

        return run

    def exposition(self) -> bytes:
        """The text format Prometheus scrapes."""
        return generate_latest(self.registry)


class _QueueCollector(Collector):
    """Queue depths and the age of the oldest waiting post, read from the database."""

    def __init__(self, engine: Engine, clock: Clock) -> None:
        self._engine = engine
        self._clock = clock

    def describe(self) -> list[Any]:
        return []  # computed at each scrape

    def collect(self) -> Iterator[GaugeMetricFamily]:
        depth = GaugeMetricFamily(
            "servicekanal_queue_depth",
            "Rows waiting to be sent: queue=slack (posts and updates), queue=x (replies, DMs).",
            labels=["queue"],
        )
        oldest = GaugeMetricFamily(
            "servicekanal_oldest_pending_seconds",
            "Age of the oldest row still waiting in each queue (0 when it is empty).",
            labels=["queue"],
        )
        now = self._clock()
        try:
            with session_scope(self._engine, readonly=True) as session:
                slack_waiting = col(SlackOutbox.state).in_(SLACK_WAITING)
                x_waiting = col(Reply.state).in_(X_WAITING)
                rows = {
                    "slack": session.exec(
                        select(func.count(), func.min(SlackOutbox.created_at)).where(slack_waiting)
                    ).one(),
                    "x": session.exec(
                        select(func.count(), func.min(Reply.created_at)).where(x_waiting)
                    ).one(),
                }
        except SQLAlchemyError:
            return  # /healthz says the database is down; no figures rather than wrong ones
        for queue, (count, first) in rows.items():
            depth.add_metric([queue], int(count))
            age = (now - first).total_seconds() if first is not None else 0.0
            oldest.add_metric([queue], max(0.0, age))
        yield depth
        yield oldest
