"""The posting queue claims and records a burst in batches, keeping order, pace and once-only."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from sqlalchemy import Engine, event

from bot.clock import system_clock
from standins.http import wait_for
from standins.slack_api import SlackStandIn
from store import claims
from tests.bot.test_slack_queue import card_texts, poster, queue_tickets, rows
from tests.fakes.domain import FakeClock


@contextmanager
def transactions(engine: Engine) -> Iterator[list[str]]:
    """The transactions the block begins (the `BEGIN` each one sends)."""
    begun: list[str] = []

    def record(*args: Any) -> None:
        if str(args[2]).startswith("BEGIN"):
            begun.append(str(args[2]))

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield begun
    finally:
        event.remove(engine, "before_cursor_execute", record)


def test_a_burst_is_claimed_and_recorded_a_batch_at_a_time_in_order(
    engine: Engine, slack: SlackStandIn
) -> None:
    queue_tickets(engine, 120)
    with transactions(engine) as begun:
        assert poster(engine, slack).drain() == 120
    assert card_texts(slack) == [f"card {n}" for n in range(1, 121)]
    assert {r.state for r in rows(engine)} == {"sent"}
    assert [r.result_ts for r in rows(engine)] == [m.ts for m in slack.messages("CSUPPORT1")]
    assert len(begun) <= 10  # a claim and a record per batch of 50, not two per row


def test_a_thread_message_waits_for_its_card_in_the_next_batch(
    engine: Engine, slack: SlackStandIn
) -> None:
    queue_tickets(engine, 3, replies=1)
    assert poster(engine, slack).drain() == 6
    for number, message in enumerate(slack.messages("CSUPPORT1"), start=1):
        assert [r.text for r in slack.thread("CSUPPORT1", message.ts)] == [f"reply 0 of {number}"]


def test_a_refusal_mid_batch_gives_the_rows_after_it_back_unsent(
    engine: Engine, slack: SlackStandIn
) -> None:
    clock = FakeClock(system_clock())
    slack.rate_limit("chat.postMessage", limit=2, window=60, retry_after=30)
    queue_tickets(engine, 5, clock=clock)
    poster(engine, slack, clock=clock).drain()
    assert card_texts(slack) == ["card 1", "card 2"]
    states = [(r.state, r.attempts) for r in rows(engine)]
    assert states == [("sent", 1), ("sent", 1), ("pending", 1), ("pending", 0), ("pending", 0)]


def test_killed_after_posting_before_recording_nothing_is_posted_twice(
    engine: Engine, slack: SlackStandIn, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = FakeClock(system_clock())
    queue_tickets(engine, 8, clock=clock)

    def die(**_kwargs: Any) -> None:
        raise SystemExit("killed")  # the process dies between the posts and their record

    with monkeypatch.context() as patched:
        patched.setattr(claims, "finish", die)
        with pytest.raises(SystemExit):
            poster(engine, slack, clock=clock).drain()
    assert len(card_texts(slack)) == 8
    assert {r.state for r in rows(engine)} == {"sending"}

    clock.advance(minutes=2)  # the leases run out; a new worker reconciles
    poster(engine, slack, clock=clock).drain()
    assert card_texts(slack) == [f"card {n}" for n in range(1, 9)]
    assert {r.state for r in rows(engine)} == {"sent"}
    assert [r.result_ts for r in rows(engine)] == [m.ts for m in slack.messages("CSUPPORT1")]


def test_the_rows_of_one_batch_keep_the_pace(engine: Engine, slack: SlackStandIn) -> None:
    pace = 0.05  # five rows per batch
    queue_tickets(engine, 10)
    worker = poster(engine, slack, min_interval=pace)
    wait_for(lambda: worker.drain() >= 0 and len(card_texts(slack)) == 10, timeout=10)
    posted = slack.post_times["CSUPPORT1"]
    gaps = [later - earlier for earlier, later in itertools.pairwise(posted)]
    assert len(posted) == 10 and min(gaps) >= pace - 0.005, sorted(gaps)[:3]
