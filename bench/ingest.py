"""Ingest benchmark: the bot's own work per tweet against a baseline of the bare API calls.

Both runs, in one process and on the same loopback stand-ins without rate limits, read
the same N mentions from X (all pages) and post N messages to Slack. The baseline does
only those HTTP calls; the bot also maps, threads, stores, queues and renders cards.

    python -m bench.ingest --tweets 2000
"""

from __future__ import annotations

import argparse
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import tweepy
from slack_sdk import WebClient

from app import build
from bot.x import RewritingAdapter
from tests.fakes import slack_api, x_api
from tests.fakes.slack_api import SlackStandIn
from tests.fakes.x_api import XStandIn
from tests.harness import make_settings


def seed(x: XStandIn, count: int) -> None:
    customers = [x.add_user(f"kunde{i}", f"Kunde {i}") for i in range(count)]
    for i, customer in enumerate(customers):
        x.mention(customer, f"Frage Nummer {i}: mein Anschluss geht nicht #störung")


def baseline(x: XStandIn, slack: SlackStandIn, count: int) -> float:
    """The same HTTP calls and nothing else: mentions pages in, one chat.postMessage per tweet."""
    client = tweepy.Client(bearer_token=x_api.BEARER, return_type=dict)
    client.session.mount("https://", RewritingAdapter(x.base_url, timeout=10))
    web = WebClient(token=slack_api.BOT_TOKEN, base_url=f"{slack.base_url}/api/", retry_handlers=[])
    started = time.perf_counter()
    tweets: list[dict[str, object]] = []
    token = None
    while True:
        params: dict[str, str] = {"pagination_token": token} if token else {}
        body = client.get_users_mentions(
            x_api.BRAND_ID,
            max_results=100,
            start_time=datetime.now(UTC) - timedelta(hours=1),
            expansions=["author_id", "referenced_tweets.id"],
            tweet_fields=[
                "created_at",
                "conversation_id",
                "in_reply_to_user_id",
                "referenced_tweets",
                "entities",
                "lang",
                "author_id",
            ],
            user_fields=["username", "name", "public_metrics", "verified"],
            **params,
        )
        tweets.extend(body.get("data", []))
        token = body.get("meta", {}).get("next_token")
        if not token:
            break
    for tweet in tweets:
        web.chat_postMessage(channel="CSUPPORT1", text=str(tweet["text"]))
    elapsed = time.perf_counter() - started
    assert len(tweets) == count, len(tweets)
    return elapsed


def bot_run(x: XStandIn, slack: SlackStandIn, count: int, workdir: Path) -> tuple[float, float]:
    """Seconds for the poll (read, store, queue) and for draining the queue into Slack."""
    settings = make_settings(f"sqlite:///{workdir / 'bench.db'}", slack, x)
    bot = build(settings, post_interval=0)
    started = time.perf_counter()
    result = bot.services.ingest.poll()
    polled = time.perf_counter()
    bot.poster.drain()
    drained = time.perf_counter()
    bot.engine.dispose()
    assert len(result.new_tickets) == count, result
    assert len(slack.cards()) == count
    return polled - started, drained - polled


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--tweets", type=int, default=2000)
    args = parser.parse_args()
    slack, x = SlackStandIn(), XStandIn()
    slack.start()
    x.start()
    try:
        seed(x, args.tweets)
        base = baseline(x, slack, args.tweets)
        slack.reset()
        with tempfile.TemporaryDirectory() as workdir:
            poll, drain = bot_run(x, slack, args.tweets, Path(workdir))
    finally:
        slack.stop()
        x.stop()
    n = args.tweets
    ours = poll + drain

    def line(label: str, seconds: float) -> None:
        rate, per_tweet = n / seconds, seconds / n * 1000
        print(f"{label:<34}{seconds:7.2f} s {rate:8.1f} tweets/s {per_tweet:6.2f} ms/tweet")

    print(f"tweets: {n}, stand-ins on loopback, no rate limits, SQLite")
    line("baseline (the HTTP calls only)", base)
    line("bot: poll X, store, queue", poll)
    line("bot: drain queue into Slack", drain)
    line("bot: total", ours)
    print(f"ratio bot/baseline                {ours / base:7.2f}")
    print(f"bot's own work per tweet          {(ours - base) / n * 1000:7.2f} ms")


if __name__ == "__main__":
    main()
