"""Ingest benchmark: the bot's own work per tweet against a baseline of the bare API calls.

    python -m bench.ingest --tweets 2000 [--grouping [--storm]] [--backlog 5000]

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

With `--grouping`, the bot also runs a third way in every round: with the grouping of
alike questions (SPEC §10) placing every new ticket's tweet (`Grouper.place`, the words
grouper the bot uses) against a warm index of `--backlog` open tickets, inside the timed
poll, as one of the inbox's per-page steps. Both figures are printed, grouping on and off.
The tweets are then questions real customers ask (the labelled alike tweets, varied), so
that they group as traffic does; `--storm` keeps the one question everyone asks, the worst
case for grouping (every tweet is alike all the others).
"""

from __future__ import annotations

import gc
import random
import statistics
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import tweepy
from slack_sdk import WebClient
from sqlmodel import Session

from app import build, keep_start_up_out_of_collections
from bench import grouping as grouping_bench
from bench.cards import CardCheck
from bench.common import arguments, check_cards, reset_calls, seed_mentions, stand_ins
from bot.config import GroupingSettings
from bot.feed import Opened
from bot.grouping import Grouper, OpenTicket, word_grouper
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
    grouping: float = 0.0  # seconds of the poll spent in Grouper.place
    grouped: int = 0  # tweets placed


def warm_backlog(size: int, settings: GroupingSettings) -> list[OpenTicket[str]]:
    """`size` open tickets of the last 23 hours, grouped as the bot would have grouped them.

    Made from the labelled alike tweets, varied (`bench.grouping.backlog`), once, untimed;
    each grouped run restores them into a fresh grouper, as the bot does after a restart.
    """
    tweets = grouping_bench.read_tweets(grouping_bench.DATA)
    shift = datetime.now(UTC) - grouping_bench.NOW
    tickets = [replace(t, at=t.at + shift) for t in grouping_bench.backlog(tweets, size)]
    placing: Grouper[str, Any] = word_grouper(settings)
    for ticket in tickets:
        placing.place(ticket.key, ticket.text, ticket.at)
    return [replace(t, group=placing.group_of(t.key)) for t in tickets if t.key in placing]


@dataclass
class _Placing:
    """The per-page step that places each new ticket's tweet, timing itself."""

    grouper: Grouper[str, Any]
    seconds: float = 0.0
    placed: int = 0
    outcomes: Counter[str] = field(default_factory=Counter)

    def __call__(self, _session: Session, opened: Sequence[Opened], _now: datetime) -> None:
        started = time.perf_counter()
        for new in opened:
            placement = self.grouper.place(
                f"t{new.ticket.id}", new.opening.text, new.opening.created_at
            )
            self.outcomes[str(placement.outcome)] += 1
        self.placed += len(opened)
        self.seconds += time.perf_counter() - started


def bot_run(
    x: XStandIn,
    slack: SlackStandIn,
    tweet_ids: Sequence[str],
    database_url: str,
    backlog: Sequence[OpenTicket[str]] | None = None,
) -> BotRun:
    """Seconds for the poll (read, store, queue) and for draining the queue into Slack.

    With a `backlog`, grouping places every new ticket within the poll, against it.
    """
    slack.reset()
    settings = make_settings(database_url, slack, x)
    bot = build(settings, post_interval=0)
    # As `Bot.serve` does once started. This bot's objects join the earlier runs' in
    # being skipped by full collections from now on, the baseline's runs' included.
    keep_start_up_out_of_collections()
    ingest = bot.services.ingest
    # The bot's own grouping starts from an empty index; it is replaced by the measured
    # step below (against a backlog) or left out, so each side groups once or not at all.
    ingest.inbox = replace(ingest.inbox, groups=None)
    placing: _Placing | None = None
    if backlog is not None:
        grouper: Grouper[str, Any] = word_grouper(settings)
        grouper.restore(backlog, now=datetime.now(UTC))
        placing = _Placing(grouper)
        ingest.inbox = replace(ingest.inbox, on_opened=(*ingest.inbox.on_opened, placing))
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
    return BotRun(
        polled - started,
        drained - polled,
        calls,
        check_cards(slack, tweet_ids),
        bodies,
        grouping=placing.seconds if placing else 0.0,
        grouped=placing.placed if placing else 0,
    )


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
    backlog: int = 0  # open tickets the grouper held (0: grouping not measured)
    grouped_poll: list[float] = field(default_factory=list)
    grouped_drain: list[float] = field(default_factory=list)
    grouping: list[float] = field(default_factory=list)  # seconds in Grouper.place per run

    @property
    def cards(self) -> CardCheck:
        """The check of the cards: the first timed run that failed it, else the last."""
        return next((check for check in self.checks if not check.ok), self.checks[-1])

    @property
    def total(self) -> list[float]:
        """The bot's runs, poll plus drain."""
        return [p + d for p, d in zip(self.poll, self.drain, strict=True)]

    @property
    def grouped_total(self) -> list[float]:
        """The bot's runs with grouping, poll plus drain."""
        return [p + d for p, d in zip(self.grouped_poll, self.grouped_drain, strict=True)]

    @property
    def ratio(self) -> float:
        """Median bot time over median baseline time."""
        return statistics.median(self.total) / statistics.median(self.baseline)

    @property
    def grouped_ratio(self) -> float:
        """Median bot time with grouping over median baseline time."""
        return statistics.median(self.grouped_total) / statistics.median(self.baseline)

    @property
    def own_work_ms(self) -> float:
        """The bot's own work per tweet: the difference of the medians, in ms."""
        extra = statistics.median(self.total) - statistics.median(self.baseline)
        return extra / self.tweets * 1000


def seed_varied(x: XStandIn, count: int, seed: int = 11) -> list[str]:
    """`count` customers each mention the brand once, asking what real customers ask.

    The texts are the labelled alike tweets, varied as the grouping benchmark varies its
    backlog, so they group as traffic does: most join a group of the backlog.
    """
    tweets = grouping_bench.read_tweets(grouping_bench.DATA)
    rng = random.Random(seed)
    customers = [x.add_user(f"kunde{i}", f"Kunde {i}") for i in range(count)]
    return [
        str(x.mention(customer, grouping_bench.vary(rng.choice(tweets).text, rng))["id"])
        for customer in customers
    ]


def measure(tweets: int, runs: int, *, backlog: int = 0, storm: bool = False) -> IngestFigures:
    """Seed X, warm up, then run baseline and bot `runs` times each, alternating.

    With a `backlog`, each round also runs the bot with grouping against that many open
    tickets; the tweets are then varied questions of real customers, or with `storm` the
    same question from everyone (as without grouping).
    """
    figures = IngestFigures(tweets, [], [], [], Counter(), [], True, backlog=backlog)
    with stand_ins() as (slack, x), tempfile.TemporaryDirectory() as workdir:
        varied = backlog and not storm
        tweet_ids = seed_varied(x, tweets) if varied else seed_mentions(x, tweets)
        warm = bot_run(x, slack, tweet_ids, f"sqlite:///{Path(workdir) / 'warmup.db'}")
        bodies = warm.bodies
        figures.calls = warm.calls
        open_tickets = None
        if backlog:
            settings = make_settings(f"sqlite:///{Path(workdir) / 'settings.db'}", slack, x)
            open_tickets = warm_backlog(backlog, settings)
        sides = ["baseline", "bot"] + (["grouping"] if open_tickets is not None else [])
        for index in range(runs):
            order = sides if index % 2 == 0 else sides[::-1]
            for side in order:
                if side == "baseline":
                    slack.reset()
                    seconds, calls = baseline(x, slack, bodies)
                    figures.baseline.append(seconds)
                    figures.same_calls &= calls == warm.calls
                    continue
                database = f"sqlite:///{Path(workdir) / f'{side}{index}.db'}"
                grouped = side == "grouping"
                run = bot_run(x, slack, tweet_ids, database, open_tickets if grouped else None)
                (figures.grouped_poll if grouped else figures.poll).append(run.poll)
                (figures.grouped_drain if grouped else figures.drain).append(run.drain)
                if grouped:
                    assert run.grouped == tweets, run.grouped
                    figures.grouping.append(run.grouping)
                figures.checks.append(run.cards)
                figures.same_calls &= run.calls == warm.calls
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
    if figures.backlog:
        line("bot+grouping: poll (with place)", figures.grouped_poll)
        line("bot+grouping: drain", figures.grouped_drain)
        line("bot+grouping: total", figures.grouped_total)
        line(f"  of it Grouper.place ({figures.backlog} open)", figures.grouping)
    print(f"{'ratio bot/baseline':<32}{figures.ratio:9.2f}   grouping off")
    if figures.backlog:
        print(f"{'ratio bot/baseline':<32}{figures.grouped_ratio:9.2f}   grouping on")
    print(f"{'bot own work per tweet':<32}{figures.own_work_ms:9.2f} ms (grouping off)")
    print(f"{'cards in Slack':<32}  {figures.cards.describe()}")


def main(argv: list[str] | None = None) -> IngestFigures:
    """Run the benchmark and print its figures."""
    parser = arguments("ingest", __doc__)
    parser.add_argument("--tweets", type=int, default=2000, help="mentions to ingest (2000)")
    parser.add_argument("--runs", type=int, default=3, help="timed runs per side (3)")
    parser.add_argument(
        "--grouping", action="store_true", help="also time the bot with grouping on"
    )
    parser.add_argument(
        "--backlog", type=int, default=5000, help="open tickets grouping holds (5000)"
    )
    parser.add_argument(
        "--storm", action="store_true", help="with --grouping: everyone asks the same question"
    )
    args = parser.parse_args(argv)
    if args.tweets < 1 or args.runs < 1 or args.backlog < 0:
        parser.error("--tweets and --runs must be at least 1, --backlog at least 0")
    backlog = args.backlog if args.grouping else 0
    figures = measure(args.tweets, args.runs, backlog=backlog, storm=args.storm)
    report(figures)
    return figures


if __name__ == "__main__":
    figures = main()
    sys.exit(
        0 if figures.cards.ok and figures.same_calls else 1
    )  # a broken correctness check is not a figure
