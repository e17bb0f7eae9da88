"""The fault table: whatever Slack or X does wrong, every tweet ends up as exactly one card.

Each row injects one fault into the stand-ins, lets time pass on the bot's clock as long
as the bot says it waits, and checks that the tweet's card is in Slack exactly once.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest

from standins.slack_api import SlackStandIn
from standins.x_api import XStandIn
from tests.fakes.domain import FakeClock
from tests.harness import BotHarness, make_settings, question

PROBLEM = {
    "title": "Service Unavailable",
    "detail": "Service Unavailable",
    "type": "about:blank",
    "status": 503,
}

SLACK_FAULTS: dict[str, dict[str, Any]] = {
    "429 with Retry-After": {
        "status": 429,
        "body": {"ok": False, "error": "ratelimited"},
        "headers": {"Retry-After": "3"},
    },
    "channel_not_found": {"status": 200, "body": {"ok": False, "error": "channel_not_found"}},
    "not_in_channel": {"status": 200, "body": {"ok": False, "error": "not_in_channel"}},
    "invalid_auth": {"status": 200, "body": {"ok": False, "error": "invalid_auth"}},
    "500 after posting": {"status": 500, "body": "Internal Server Error", "after_processing": True},
    "500 before posting": {"status": 500, "body": "Internal Server Error"},
    "connection dropped after posting": {"drop": True, "after_processing": True},
    "connection dropped before posting": {"drop": True},
    "malformed JSON": {"malformed": True},
    "ok:false internal_error": {"status": 200, "body": {"ok": False, "error": "internal_error"}},
}

X_FAULTS: dict[str, dict[str, Any]] = {
    "429 with x-rate-limit-reset": {
        "status": 429,
        "body": {
            "title": "Too Many Requests",
            "detail": "Too Many Requests",
            "type": "about:blank",
            "status": 429,
        },
        "headers": {
            "x-rate-limit-limit": "450",
            "x-rate-limit-remaining": "0",
            "x-rate-limit-reset": "RESET",
        },
    },
    "503": {"status": 503, "body": PROBLEM},
    "500 plain text": {"status": 500, "body": "Internal Server Error"},
    "timeout": {"delay": 3.0},
    "connection dropped": {"drop": True},
    "malformed JSON": {"malformed": True},
}


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(datetime.now(UTC))


@pytest.fixture
def faulty_bot(
    database_url: str, slack: SlackStandIn, x: XStandIn, clock: FakeClock
) -> Iterator[BotHarness]:
    harness = BotHarness(
        make_settings(database_url, slack, x), slack, x, x_timeout=1.0, clock=clock
    )
    yield harness
    harness.close()


def time_passes(bot: BotHarness, clock: FakeClock, *, rounds: int = 6, seconds: float = 70) -> None:
    """Let the bot's clock run on, polling and delivering, as its backoffs ask for."""
    for _ in range(rounds):
        clock.advance(seconds=seconds)
        bot.poll()
        bot.deliver()


@pytest.mark.parametrize("fault", list(SLACK_FAULTS), ids=list(SLACK_FAULTS))
def test_a_slack_fault_delays_the_card_but_never_loses_or_doubles_it(
    faulty_bot: BotHarness, x: XStandIn, slack: SlackStandIn, clock: FakeClock, fault: str
) -> None:
    tweet = x.mention(x.add_user("karl_k"), "Kein Netz")
    slack.fail_next("chat.postMessage", **SLACK_FAULTS[fault])
    faulty_bot.poll_and_deliver()
    time_passes(faulty_bot, clock)
    assert [card.payload["tweet_id"] for card in slack.cards()] == [tweet["id"]]


@pytest.mark.parametrize("fault", list(X_FAULTS), ids=list(X_FAULTS))
def test_an_x_fault_delays_the_poll_but_the_cursor_keeps_every_tweet(
    faulty_bot: BotHarness, x: XStandIn, slack: SlackStandIn, clock: FakeClock, fault: str
) -> None:
    tweets = [x.mention(x.add_user(f"kunde{i}"), question(i)) for i in range(3)]
    spec = dict(X_FAULTS[fault])
    if "headers" in spec:
        reset = str(int(clock().timestamp()) + 120)
        spec["headers"] = {k: (reset if v == "RESET" else v) for k, v in spec["headers"].items()}
    x.fail_next("GET /2/users/:id/mentions", **spec)
    assert faulty_bot.poll_and_deliver().fetched == 0
    assert slack.cards() == []
    time_passes(faulty_bot, clock)
    assert [card.payload["tweet_id"] for card in slack.cards()] == [t["id"] for t in tweets]
