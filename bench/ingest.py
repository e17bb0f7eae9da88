"""Ingest benchmark: the bot's own work per tweet against a baseline of the bare API calls.

    python -m bench.ingest --tweets 2000

Both sides run in one process, on the same loopback stand-ins without rate limits, and
make the same HTTP calls: they read the same N mentions from X (all pages, the same
query parameters, through tweepy) and post N messages to Slack (through slack_sdk). The
baseline posts the very request bodies the bot posted in its warm-up run (card blocks and
metadata), so both sides send the same bytes; it does nothing else. The bot also maps,
threads, stores and queues every tweet (poll), then renders and sends the queue (drain,
with the per-channel pacing switched off), on SQLite.

One untimed warm-up run of the bot comes first; then each side runs `--runs` times,
alternating which goes first, and the medians are compared. The number of HTTP calls of
every kind is counted in every timed run and must be the same on both sides.
"""

from __future__ import annotations

import gc
import statistics
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import tweepy
from slack_sdk import WebClient

from app import build
from bench.cards import CardCheck
from bench.common import arguments, check_cards, reset_calls, seed_mentions, stand_ins
from bot.x import EXPANSIONS, PAGE_SIZE, TWEET_FIELDS, USER_FIELDS, RewritingAdapter
from standins import slack_api, x_api
from standins.slack_api import SlackStandIn
from standins.x_api import XStandIn
from tests.harness import make_settings


def calls_made(*stand_ins: SlackStandIn | XStandIn) -> Counter[str]:
    """The calls recorded since the last reset, by route name."""
    counts: Counter[str] = Counter()
    for stand_in in stand_ins:
        with stand_in.lock:
            counts.update(stand_in.route_name(call) for call in stand_in.calls)
    return counts


def baseline(
    x: XStandIn, slack: SlackStandIn, bodies: Sequence[dict[str, Any]]
) -> tuple[float, Counter[str]]:
    """Only the HTTP calls: every page of mentions in, then the same chat.postMessage bodies."""
    client = tweepy.Client(bearer_token=x_api.BEARER, return_type=dict)
    adapter = RewritingAdapter(x.base_url, timeout=10)
    client.session.mount("https://", adapter)
    client.session.mount("http://", adapter)
    web = WebClient(token=slack_api.BOT_TOKEN, base_url=f"{slack.base_url}/api/", retry_handlers=[])
    # The bot's first poll reads back BACKFILL_HOURS (24 by default): the same window.
    start_time = datetime.now(UTC) - timedelta(hours=24)
    reset_calls(slack, x)
    gc.collect()
    started = time.perf_counter()
    tweets: list[dict[str, Any]] = []
    token: str | None = None
    while True:
        params: dict[str, Any] = {
            "max_results": PAGE_SIZE,
            "expansions": EXPANSIONS,
            "tweet_fields": TWEET_FIELDS,
            "user_fields": USER_FIELDS,
            "start_time": start_time,
        }
        if token:
            params["pagination_token"] = token
        body = client.get_users_mentions(x_api.BRAND_ID, **params)
        tweets.extend(body.get("data", []))
        token = body.get("meta", {}).get("next_token")
        if not token:
            break
    for message in bodies:
        web.chat_postMessage(**message)
    elapsed = time.perf_counter() - started
    client.session.close()
    assert len(tweets) == len(bodies), (len(tweets), len(bodies))
    return elapsed, calls_made(slack, x)


@dataclass(frozen=True)
class BotRun:
    """One timed run of the bot."""

    poll: float
    drain: float
    calls: Counter[str]
    cards: CardCheck
    bodies: list[dict[str, Any]]


def bot_run(
    x: XStandIn, slack: SlackStandIn, tweet_ids: Sequence[str], database_url: str
) -> BotRun:
    """Seconds for the poll (read, store, queue) and for draining the queue into Slack."""
    slack.reset()
    settings = make_settings(database_url, slack, x)
    bot = build(settings, post_interval=0)
    reset_calls(slack, x)
    gc.collect()
    try:
        started = time.perf_counter()
        result = bot.services.ingest.poll()
        polled = time.perf_counter()
        bot.poster.drain()
        drained = time.perf_counter()
    finally:
        bot.engine.dispose()
    assert len(result.new_tickets) == len(tweet_ids), result
    calls = calls_made(slack, x)
    bodies = [dict(call.json_body) for call in slack.calls_to("chat.postMessage")]
    return BotRun(polled - started, drained - polled, calls, check_cards(slack, tweet_ids), bodies)


@dataclass
class IngestFigures:
    """What the benchmark measured (seconds per run, each side)."""

    tweets: int
    baseline: list[float]
    poll: list[float]
    drain: list[float]
    calls: Counter[str]
    checks: list[CardCheck]
    same_calls: bool

    @property
    def cards(self) -> CardCheck:
        """The check of the cards: the first timed run that failed it, else the last."""
        return next((check for check in self.checks if not check.ok), self.checks[-1])

    @property
    def total(self) -> list[float]:
        """The bot's runs, poll plus drain."""
        return [p + d for p, d in zip(self.poll, self.drain, strict=True)]

    @property
    def ratio(self) -> float:
        """Median bot time over median baseline time."""
        return statistics.median(self.total) / statistics.median(self.baseline)

    @property
    def own_work_ms(self) -> float:
        """The bot's own work per tweet: the difference of the medians, in ms."""
        extra = statistics.median(self.total) - statistics.median(self.baseline)
        return extra / self.tweets * 1000


def measure(tweets: int, runs: int) -> IngestFigures:
    """Seed X, warm up, then run baseline and bot `runs` times each, alternating."""
    figures = IngestFigures(tweets, [], [], [], Counter(), [], True)
    with stand_ins() as (slack, x), tempfile.TemporaryDirectory() as workdir:
        tweet_ids = seed_mentions(x, tweets)
        warm = bot_run(x, slack, tweet_ids, f"sqlite:///{Path(workdir) / 'warmup.db'}")
        bodies = warm.bodies
        figures.calls = warm.calls
        for index in range(runs):
            order = ("baseline", "bot") if index % 2 == 0 else ("bot", "baseline")
            for side in order:
                if side == "baseline":
                    slack.reset()
                    seconds, calls = baseline(x, slack, bodies)
                    figures.baseline.append(seconds)
                else:
                    run = bot_run(x, slack, tweet_ids, f"sqlite:///{Path(workdir) / f'{index}.db'}")
                    figures.poll.append(run.poll)
                    figures.drain.append(run.drain)
                    figures.checks.append(run.cards)
                    calls = run.calls
                figures.same_calls &= calls == warm.calls
    return figures


def report(figures: IngestFigures) -> None:
    """Print the table."""
    n = figures.tweets
    runs = len(figures.baseline)
    print(
        f"ingest: {n} tweets; stand-ins on loopback, no rate limits; SQLite; "
        f"median of {runs} runs per side after one warm-up run"
    )
    calls = ", ".join(f"{count} x {name}" for name, count in sorted(figures.calls.items()))
    same = "the same on both sides" if figures.same_calls else "DIFFERENT between the sides"
    print(f"HTTP calls per run ({same}): {calls}")
    print(f"{'':<32}{'seconds':>9}{'tweets/s':>10}{'ms/tweet':>10}   runs (s)")

    def line(label: str, seconds: list[float]) -> None:
        median = statistics.median(seconds)
        spread = " ".join(f"{s:.2f}" for s in seconds)
        print(f"{label:<32}{median:9.2f}{n / median:10.1f}{median / n * 1000:10.2f}   {spread}")

    line("baseline (the HTTP calls only)", figures.baseline)
    line("bot: poll X, store, queue", figures.poll)
    line("bot: drain queue into Slack", figures.drain)
    line("bot: total", figures.total)
    print(f"{'ratio bot/baseline':<32}{figures.ratio:9.2f}")
    print(f"{'bot own work per tweet':<32}{figures.own_work_ms:9.2f} ms")
    print(f"{'cards in Slack':<32}  {figures.cards.describe()}")


def main(argv: list[str] | None = None) -> IngestFigures:
    """Run the benchmark and print its figures."""
    parser = arguments("ingest", __doc__)
    parser.add_argument("--tweets", type=int, default=2000, help="mentions to ingest (2000)")
    parser.add_argument("--runs", type=int, default=3, help="timed runs per side (3)")
    args = parser.parse_args(argv)
    if args.tweets < 1 or args.runs < 1:
        parser.error("--tweets and --runs must be at least 1")
    figures = measure(args.tweets, args.runs)
    report(figures)
    return figures


if __name__ == "__main__":
    figures = main()
    sys.exit(
        0 if figures.cards.ok and figures.same_calls else 1
    )  # a broken correctness check is not a figure
