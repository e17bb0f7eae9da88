"""Acknowledgement benchmark: slash-command ack latency while a burst is being ingested.

    python -m bench.ack --tweets 2000 --requests 200

The whole bot runs with its real HTTP server (waitress, as in HTTP mode) and its
background work (the scheduler polling X every second, the posting worker, unpaced:
post_interval 0, the heaviest load). N mentions are waiting on the X stand-in when it
starts. Client threads send signed `/claim <n>` (or `/history <n>`) requests from the
lead, for tickets 1, 2, 3 ..., at a steady pace while the burst is read, stored and
posted, each on time whether or not the earlier ones were answered yet (an open loop,
like many people typing: a stall shows in every request it delays, not just in one).
Measured per request: from sending it to the HTTP 200 that acknowledges it (Slack gives
up after 3 s), not the later answer on the response_url. Also counted: tickets stored
and cards posted during the measurement, and whether every command got its answer.
"""

from __future__ import annotations

import logging
import statistics
import tempfile
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from bench.common import (
    arguments,
    percentile,
    print_table,
    quiet_logs,
    seed_mentions,
    stand_ins,
    ticket_count,
)
from standins import slack_api
from standins.http import wait_for
from standins.signing import FORM
from tests.harness import BotHarness, make_settings

SLACK_ACK_WINDOW = 3.0
CLIENTS = 64  # enough that the client never waits for a free thread to send on time


class QueueDepth(logging.Handler):
    """The deepest waitress's task queue got: requests waiting for a free worker thread."""

    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.deepest = 0

    def emit(self, record: logging.LogRecord) -> None:
        words = record.getMessage().split()
        if words[:3] == ["Task", "queue", "depth"] and words[-1].isdigit():
            self.deepest = max(self.deepest, int(words[-1]))


@contextmanager
def watch_queue_depth() -> Iterator[QueueDepth]:
    """Count waitress's "Task queue depth is N" warnings instead of printing them."""
    handler = QueueDepth()
    queue_log = logging.getLogger("waitress.queue")
    propagate = queue_log.propagate
    queue_log.addHandler(handler)
    queue_log.propagate = False
    try:
        yield handler
    finally:
        queue_log.removeHandler(handler)
        queue_log.propagate = propagate


@dataclass
class Progress:
    """How far the ingest got, sampled while the commands were sent."""

    tickets_at_start: int = 0
    tickets_at_end: int = 0
    cards_at_start: int = 0
    cards_at_end: int = 0
    all_cards_at: float | None = None  # seconds after the first request, if within the run
    first_card_at: float | None = None


@dataclass
class AckFigures:
    """What the benchmark measured."""

    tweets: int
    command: str
    latencies: list[float] = field(default_factory=list)  # seconds, in sending order
    sent_at: list[float] = field(default_factory=list)  # seconds after the first request
    statuses: list[int] = field(default_factory=list)
    progress: Progress = field(default_factory=Progress)
    answered: int = 0
    claimed: int = 0
    window: float = 0.0  # from the first request to the last ack
    queue_depth: int = 0  # the most requests waiting for one of waitress's threads
    started_at: float = 0.0  # perf_counter() when the first request was due

    def ms(self, share: float) -> float:
        """A percentile of the ack latency, in milliseconds."""
        return percentile(self.latencies, share) * 1000

    @property
    def during_ingest(self) -> int:
        """Requests sent before the last card of the burst was posted."""
        end = self.progress.all_cards_at
        return sum(1 for at in self.sent_at if end is None or at < end)


def send_command(harness: BotHarness, command: str, text: str) -> tuple[float, float, int]:
    """Send one signed slash command; (perf_counter at sending, seconds to the ack, status)."""
    body = harness.slash_body(slack_api.LEAD, f"/{command}", text)
    sent = time.perf_counter()
    status, _ = harness.request(body, FORM)
    return sent, time.perf_counter() - sent, status


def send_commands(
    harness: BotHarness,
    figures: AckFigures,
    *,
    requests: int,
    interval: float,
    started: threading.Event,
) -> None:
    """The client: a slash command every `interval` seconds, whether or not earlier ones
    have been acknowledged (people do not wait for each other), timing each ack."""
    figures.progress.tickets_at_start = ticket_count(harness.bot.engine)
    figures.progress.cards_at_start = len(harness.slack.cards())
    t0 = figures.started_at = time.perf_counter()
    started.set()
    with ThreadPoolExecutor(max_workers=CLIENTS, thread_name_prefix="slash-client") as pool:
        futures = []
        for index in range(requests):
            delay = t0 + index * interval - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
            text = str(index % figures.tweets + 1)
            futures.append(pool.submit(send_command, harness, figures.command, text))
        for future in futures:
            sent, latency, status = future.result()
            figures.sent_at.append(sent - t0)
            figures.latencies.append(latency)
            figures.statuses.append(status)
    figures.window = time.perf_counter() - t0
    figures.progress.tickets_at_end = ticket_count(harness.bot.engine)
    figures.progress.cards_at_end = len(harness.slack.cards())


def measure(tweets: int, *, requests: int, interval: float, command: str) -> AckFigures:
    """Start the bot on a waiting burst and time slash-command acks while it is ingested."""
    figures = AckFigures(tweets=tweets, command=command)
    with (
        stand_ins() as (slack, x),
        tempfile.TemporaryDirectory() as workdir,
        quiet_logs("apscheduler"),
        watch_queue_depth() as depth,
    ):
        seed_mentions(x, tweets)
        settings = make_settings(f"sqlite:///{Path(workdir) / 'ack.db'}", slack, x)
        harness = BotHarness(settings, slack, x)
        try:
            # One command before the burst, untimed: the first request of a process pays
            # for lazy set-up that has nothing to do with load.
            harness.slash(slack_api.LEAD, f"/{command}", "1")
            with slack.lock:
                earlier = len(slack.responses)
            started = threading.Event()
            client = threading.Thread(
                target=send_commands,
                args=(harness, figures),
                kwargs={"requests": requests, "interval": interval, "started": started},
                name="slash-client",
            )
            harness.bot.start_background(poll=True)
            client.start()
            started.wait()
            # Watch the burst from here: when the first card and the last card arrive.
            while client.is_alive():
                cards = len(slack.cards())
                now = time.perf_counter() - figures.started_at
                if cards and figures.progress.first_card_at is None:
                    figures.progress.first_card_at = now
                if cards >= tweets and figures.progress.all_cards_at is None:
                    figures.progress.all_cards_at = now
                client.join(timeout=0.05)

            def answers() -> list[dict[str, object]]:
                with slack.lock:
                    found = slack.responses[earlier:]
                return found if len(found) >= requests else []

            responses = wait_for(answers, timeout=60)
            figures.answered = len(responses)
            figures.claimed = sum(
                1 for r in responses if str(r.get("text", "")).startswith("You have #")
            )
        finally:
            harness.close()
        figures.queue_depth = depth.deepest
    return figures


def report(figures: AckFigures, *, interval: float) -> None:
    """Print the table."""
    n = len(figures.latencies)
    progress = figures.progress
    late = sum(1 for latency in figures.latencies if latency >= SLACK_ACK_WINDOW)
    over_second = sum(1 for latency in figures.latencies if latency >= 1.0)
    slowest = max(range(n), key=lambda i: figures.latencies[i])
    finished = (
        f"all {figures.tweets} cards posted {progress.all_cards_at:.1f} s after the first request"
        if progress.all_cards_at is not None
        else f"the burst was still being posted after the last ack ({progress.cards_at_end} cards)"
    )
    statuses = ", ".join(
        f"{figures.statuses.count(status)} x HTTP {status}"
        for status in sorted(set(figures.statuses))
    )
    print_table(
        f"slash-command acks while a burst of {figures.tweets} mentions is ingested: "
        f"{n} x /{figures.command}, one every {interval * 1000:g} ms",
        [
            ("ack latency p50", f"{figures.ms(0.50):8.1f} ms"),
            ("ack latency p90", f"{figures.ms(0.90):8.1f} ms"),
            ("ack latency p99", f"{figures.ms(0.99):8.1f} ms"),
            ("ack latency max", f"{max(figures.latencies) * 1000:8.1f} ms"),
            ("ack latency mean", f"{statistics.fmean(figures.latencies) * 1000:8.1f} ms"),
            (
                "slowest ack",
                f"sent {figures.sent_at[slowest]:.2f} s after the first request "
                f"(first card at {_seconds(progress.first_card_at)})",
            ),
            ("acks over 1 s / over Slack's 3 s", f"{over_second} / {late}"),
            ("answers", statuses),
            ("waitress queue, deepest", f"{figures.queue_depth} requests waiting for a thread"),
            ("measurement window", f"{figures.window:.1f} s (first request to last ack)"),
            (
                "tickets stored meanwhile",
                f"{progress.tickets_at_end - progress.tickets_at_start} "
                f"({progress.tickets_at_start} -> {progress.tickets_at_end})",
            ),
            (
                "cards posted meanwhile",
                f"{progress.cards_at_end - progress.cards_at_start} "
                f"({progress.cards_at_start} -> {progress.cards_at_end})",
            ),
            ("requests sent during the burst", f"{figures.during_ingest} of {n}; {finished}"),
            (
                "answers on response_url",
                f"{figures.answered} of {n} ({figures.claimed} 'You have #n now')",
            ),
        ],
    )


def _seconds(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f} s"


def main(argv: list[str] | None = None) -> AckFigures:
    """Run the benchmark and print its figures."""
    parser = arguments("ack", __doc__)
    parser.add_argument("--tweets", type=int, default=2000, help="size of the burst (2000)")
    parser.add_argument("--requests", type=int, default=200, help="slash commands (200)")
    parser.add_argument(
        "--interval", type=float, default=0.05, help="seconds between commands (0.05)"
    )
    parser.add_argument("--command", choices=["claim", "history"], default="claim")
    args = parser.parse_args(argv)
    if args.tweets < 1 or args.requests < 1 or args.interval < 0:
        parser.error("--tweets and --requests must be at least 1, --interval not negative")
    figures = measure(
        args.tweets, requests=args.requests, interval=args.interval, command=args.command
    )
    report(figures, interval=args.interval)
    return figures


if __name__ == "__main__":
    main()
