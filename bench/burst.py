"""Burst benchmark: how fast a burst of tickets drains into a rate-limited Slack channel.

    python -m bench.burst --tweets 60

N customers mention the brand at once. The Slack stand-in enforces a rate limit on
chat.postMessage per channel (by default 3 posts in any 3 seconds: one per second with
a short burst allowance), answering HTTP 429 with `Retry-After`. The whole bot runs as
in production (`build` without overrides, so SLACK_POST_INTERVAL_SECONDS is its default
of 1 s; `start_background`: the scheduler polls X, the posting worker sends). Measured:
from the first card to the last card (the stand-in's message timestamps), against the
theoretical minimum at one post per second, N - 1 seconds; and whether Slack shows
exactly one card per tweet, in the tweets' order (the cards' metadata tweet ids).
"""

from __future__ import annotations

import logging
import math
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from app import build
from bench.cards import CardCheck
from bench.common import (
    SUPPORT_CHANNEL,
    arguments,
    check_cards,
    print_table,
    quiet_logs,
    reset_calls,
    seed_mentions,
    stand_ins,
)
from standins.http import wait_for
from tests.harness import make_settings

METHOD = "chat.postMessage"
RATE_LIMIT_LOG = "posting queue: Slack rate limit"


class RateLimitsSeen(logging.Handler):
    """Counts the posting queue's log lines about 429s: the rate limits the bot saw."""

    def __init__(self) -> None:
        super().__init__(level=logging.INFO)
        self.count = 0

    def emit(self, record: logging.LogRecord) -> None:
        if record.getMessage().startswith(RATE_LIMIT_LOG):
            self.count += 1


@dataclass(frozen=True)
class BurstFigures:
    """What the benchmark measured."""

    tweets: int
    first_card_after: float  # from starting the bot's background work to the first card
    span: float  # from the first card to the last
    minimum: float  # N - 1 seconds: one post per second
    floor_with_bursts: float  # the fastest the stand-in's limit allows, bursts used fully
    attempts: int  # chat.postMessage calls, 429s included
    rate_limited: int  # of which did not post (answered 429)
    seen_by_bot: int  # 429s the posting queue logged
    other_posts: dict[str, int]  # messages that are not cards, by channel
    cards: CardCheck

    @property
    def ratio(self) -> float:
        """The drain time over the theoretical minimum (1.0 is perfect pacing)."""
        return self.span / self.minimum if self.minimum else math.nan


def measure(
    tweets: int, *, limit: int, window: float, retry_after: int, settle: float = 1.5
) -> BurstFigures:
    """Queue a burst of `tweets` mentions and let the running bot drain it."""
    with (
        stand_ins() as (slack, x),
        tempfile.TemporaryDirectory() as workdir,
        quiet_logs(),
    ):
        tweet_ids = seed_mentions(x, tweets)
        slack.rate_limit(METHOD, limit=limit, window=window, retry_after=retry_after)
        settings = make_settings(f"sqlite:///{Path(workdir) / 'burst.db'}", slack, x)
        assert settings.slack_post_interval_seconds == 1.0
        bot = build(settings)  # the real pacing: no post_interval override
        reset_calls(slack, x)
        seen = RateLimitsSeen()
        poster_log = logging.getLogger("bot.slack")
        old_level = poster_log.level
        poster_log.setLevel(logging.INFO)
        poster_log.addHandler(seen)
        started = time.time()
        bot.start_background(poll=True)
        try:

            def drained() -> bool:
                return len(slack.cards()) >= tweets and bot.health.report()[1]["slack_queue"] == 0

            # Generous: a second per card, a Retry-After for each, and a minute to spare.
            wait_for(drained, timeout=tweets * (1 + retry_after) + 60, interval=0.05)
            # Anything posted twice would come after the last card: give it a moment.
            time.sleep(settle)
        finally:
            bot.stop_background()
            bot.engine.dispose()
            poster_log.removeHandler(seen)
            poster_log.setLevel(old_level)
        stamps = [float(card.ts) for card in slack.cards()]
        attempts = len(slack.calls_to(METHOD))
        with slack.lock:  # every message in the workspace came from a chat.postMessage
            per_channel = {
                channel.name or channel.id: sum(1 + len(m.replies) for m in channel.messages)
                for channel in slack.channels.values()
            }
        posted = sum(per_channel.values())
        per_channel[slack.channels[SUPPORT_CHANNEL].name] -= len(stamps)
        others = {name: count for name, count in per_channel.items() if count}
        check = check_cards(slack, tweet_ids)
    return BurstFigures(
        tweets=tweets,
        first_card_after=stamps[0] - started,
        span=stamps[-1] - stamps[0],
        minimum=float(tweets - 1),
        floor_with_bursts=(math.ceil(tweets / limit) - 1) * window,
        attempts=attempts,
        rate_limited=attempts - posted,
        seen_by_bot=seen.count,
        other_posts=others,
        cards=check,
    )


def report(figures: BurstFigures, *, limit: int, window: float, retry_after: int) -> None:
    """Print the table."""
    print_table(
        f"burst drain: Slack stand-in allows {limit} chat.postMessage per {window:g} s per "
        f"channel (429, Retry-After: {retry_after}); bot paced at SLACK_POST_INTERVAL_SECONDS=1",
        [
            ("tweets (N)", f"{figures.tweets}"),
            ("first card after", f"{figures.first_card_after:.2f} s (poll X, store, queue, post)"),
            ("elapsed, first to last card", f"{figures.span:.2f} s"),
            ("theoretical minimum (N-1) x 1 s", f"{figures.minimum:.2f} s"),
            ("ratio elapsed/minimum", f"{figures.ratio:.3f}"),
            ("posts per second", f"{(figures.tweets - 1) / figures.span:.3f}")
            if figures.span
            else ("posts per second", "-"),
            ("stand-in floor, bursts used", f"{figures.floor_with_bursts:.2f} s"),
            ("chat.postMessage calls", f"{figures.attempts}"),
            ("429s seen", f"{figures.rate_limited} (the bot logged {figures.seen_by_bot})"),
            ("cards", figures.cards.describe()),
            (
                "other posts",
                ", ".join(f"{count} in #{name}" for name, count in figures.other_posts.items())
                or "none",
            ),
        ],
    )


def main(argv: list[str] | None = None) -> BurstFigures:
    """Run the benchmark and print its figures."""
    parser = arguments("burst", __doc__)
    parser.add_argument("--tweets", type=int, default=60, help="size of the burst (60)")
    parser.add_argument("--limit", type=int, default=3, help="posts allowed per window (3)")
    parser.add_argument("--window", type=float, default=3.0, help="the window, seconds (3.0)")
    parser.add_argument("--retry-after", type=int, default=1, help="Retry-After on 429 (1)")
    parser.add_argument(
        "--settle",
        type=float,
        default=1.5,
        help="seconds to keep watching after the last card, for duplicates (1.5)",
    )
    args = parser.parse_args(argv)
    if args.tweets < 2:
        parser.error("--tweets must be at least 2")
    figures = measure(
        args.tweets,
        limit=args.limit,
        window=args.window,
        retry_after=args.retry_after,
        settle=args.settle,
    )
    report(figures, limit=args.limit, window=args.window, retry_after=args.retry_after)
    return figures


if __name__ == "__main__":
    figures = main()
    sys.exit(0 if figures.cards.ok else 1)  # a broken correctness check is not a figure
