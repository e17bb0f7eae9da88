"""What the benchmarks share: the stand-ins, a burst of customer tweets, checks, tables."""

from __future__ import annotations

import argparse
import logging
import math
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass

from sqlalchemy import Engine, func
from sqlmodel import select

from bench.cards import CardCheck
from bot.config import Settings
from standins.slack_api import SlackStandIn
from standins.x_api import XStandIn
from store.db import session_scope
from store.models import Ticket
from tests.harness import make_settings

SUPPORT_CHANNEL = "CSUPPORT1"


@contextmanager
def stand_ins() -> Iterator[tuple[SlackStandIn, XStandIn]]:
    """The Slack and X stand-ins, listening on loopback for the duration of the block."""
    slack, x = SlackStandIn(), XStandIn()
    slack.start()
    x.start()
    try:
        yield slack, x
    finally:
        slack.stop()
        x.stop()


@contextmanager
def quiet_logs(*names: str) -> Iterator[None]:
    """Hide warnings the benchmarks provoke on purpose.

    APScheduler's "skipped: maximum number of running instances reached": a poll of a big
    burst takes longer than POLL_INTERVAL_SECONDS, so the scheduler skips the next runs,
    as it should, and says so every time.
    """
    loggers = [logging.getLogger(name) for name in names or ("apscheduler",)]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        for logger, level in zip(loggers, levels, strict=True):
            logger.setLevel(level)


def seed_mentions(x: XStandIn, count: int) -> list[str]:
    """`count` customers each mention the brand once; their tweet ids, oldest first.

    One customer per tweet, and each asks something of their own (`own_words`), so that
    every tweet opens its own ticket and gets a card, not a place in a group of alike
    questions (SPEC §10; `bench/grouping.py` measures grouping).
    """
    customers = [x.add_user(f"kunde{i}", f"Kunde {i}") for i in range(count)]
    return [
        str(x.mention(customer, f"Frage Nummer {i}: {own_words(i)} #störung")["id"])
        for i, customer in enumerate(customers)
    ]


def own_words(number: int) -> str:
    """Eight made-up words that no other number's text has."""
    letters = "bcdfghjklmnpqrstvwxz"
    made = []
    for salt in ("a", "e", "o", "u", "ia", "ie", "io", "iu"):
        word, rest = salt, number
        for _ in range(4):
            word += letters[rest % len(letters)]
            rest //= len(letters)
        made.append(word)
    return " ".join(made)


@dataclass(frozen=True)
class Address:
    """Where a stand-in listens, for a process that does not own it."""

    base_url: str


def remote_settings(database_url: str, slack_url: str, x_url: str) -> Settings:
    """The test settings for stand-ins that run in another process."""
    return make_settings(database_url, Address(slack_url), Address(x_url))


def reset_calls(*stand_ins: SlackStandIn | XStandIn) -> None:
    """Forget the calls recorded so far (to count only those of what follows)."""
    for stand_in in stand_ins:
        with stand_in.lock:
            stand_in.calls.clear()


def check_cards(slack: SlackStandIn, tweet_ids: Sequence[str]) -> CardCheck:
    """Compare the cards' metadata tweet ids with the tweets, in order."""
    # The tweet ids in the cards' metadata, in channel order.
    posted = [str(card.payload.get("tweet_id")) for card in slack.cards(SUPPORT_CHANNEL)]
    return CardCheck(
        expected=len(tweet_ids),
        posted=len(posted),
        lost=len(set(tweet_ids) - set(posted)),
        duplicated=len(posted) - len(set(posted)),
        in_order=posted == list(tweet_ids),
    )


def ticket_count(engine: Engine) -> int:
    """How many tickets the bot has stored (a read that does not wait for the writers)."""
    with session_scope(engine, readonly=True) as session:
        return int(session.exec(select(func.count()).select_from(Ticket)).one())


def percentile(values: Sequence[float], share: float) -> float:
    """The nearest-rank percentile (`share` in 0..1) of a non-empty sequence."""
    ordered = sorted(values)
    rank = max(1, math.ceil(share * len(ordered)))
    return ordered[rank - 1]


def arguments(module: str, doc: str | None) -> argparse.ArgumentParser:
    """The command line of `python -m bench.<module>`, its module docstring as the help."""
    return argparse.ArgumentParser(
        prog=f"python -m bench.{module}",
        description=doc,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )


def print_table(title: str, rows: Sequence[tuple[str, str]]) -> None:
    """A title and aligned `label  value` lines."""
    print(title)
    width = max(len(label) for label, _ in rows)
    for label, value in rows:
        print(f"  {label:<{width}}  {value}")
