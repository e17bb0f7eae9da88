"""A customer tweets the brand; the team sees it in Slack, thread and all."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

from standins.http import wait_for
from standins.slack_api import SlackStandIn
from standins.x_api import XStandIn
from tests.harness import BotHarness, make_settings, question


def test_a_mention_becomes_a_ticket_card_and_the_customers_reply_lands_in_its_thread(
    bot: BotHarness, x: XStandIn, slack: SlackStandIn
) -> None:
    anna = x.add_user("anna_k", "Anna Kowalski", followers=321)
    first = x.mention(anna, "Mein Internet ist seit heute früh weg 😡")

    bot.poll_and_deliver()

    card = slack.card(1)
    assert card.metadata == {
        "event_type": "servicekanal_ticket",
        "event_payload": {"ticket_id": 1, "tweet_id": first["id"]},
    }
    rendered = str(card.blocks)
    assert "#1" in rendered and "@anna_k" in rendered and "321 followers" in rendered
    assert "Mein Internet ist seit heute früh weg" in rendered

    x.tweet(anna, "Router blinkt rot, falls das hilft", reply_to=first)
    bot.poll_and_deliver()

    assert len(slack.cards()) == 1
    replies = slack.thread("CSUPPORT1", card.ts)
    assert len(replies) == 1
    assert "Router blinkt rot" in str(replies[0].blocks)


def test_a_hostile_tweet_arrives_as_harmless_text(
    bot: BotHarness, x: XStandIn, slack: SlackStandIn
) -> None:
    mallory = x.add_user("mallory", "<!here> Mallory")
    x.mention(
        mallory, "<!channel> <@U0BOSS> please click <http://evil.example|telekom.de/hilfe> & win"
    )

    bot.poll_and_deliver()

    card = slack.card(1)
    shown = str(card.blocks) + card.text
    for raw in ("<!channel>", "<!here>", "<@U0BOSS>", "<http://evil.example|"):
        assert raw not in shown
    assert "&lt;!channel&gt;" in shown and "&lt;http://evil.example|telekom.de/hilfe&gt;" in shown


def test_a_burst_across_several_pages_becomes_one_card_per_tweet_in_order(
    bot: BotHarness, x: XStandIn, slack: SlackStandIn
) -> None:
    customers = [x.add_user(f"kunde{i}") for i in range(250)]
    tweets = [x.mention(c, question(i)) for i, c in enumerate(customers)]

    result = bot.poll_and_deliver()

    assert result.new_tickets == list(range(1, 251))
    cards = slack.cards()
    assert [c.payload["tweet_id"] for c in cards] == [t["id"] for t in tweets]
    assert len(x.calls_to("GET /2/users/:id/mentions")) == 3


def test_polling_again_reads_from_the_cursor_and_posts_nothing_twice(
    bot: BotHarness, x: XStandIn, slack: SlackStandIn
) -> None:
    anna = x.add_user("anna")
    first = x.mention(anna, "eins")
    bot.poll_and_deliver()
    bot.poll_and_deliver()
    assert x.calls_to("GET /2/users/:id/mentions")[-1].params["since_id"] == first["id"]
    assert len(slack.cards()) == 1


def test_a_restarted_bot_posts_nothing_twice_and_finishes_what_was_queued(
    bot: BotHarness, x: XStandIn, slack: SlackStandIn, database_url: str
) -> None:
    for i in range(5):
        x.mention(x.add_user(f"k{i}"), question(i))
    bot.poll()
    bot.bot.poster.step()
    bot.bot.poster.step()
    bot.close()  # stopped with three cards still queued

    again = BotHarness(make_settings(database_url, slack, x), slack, x)
    try:
        again.poll_and_deliver()
        assert [c.payload["ticket_id"] for c in slack.cards()] == [1, 2, 3, 4, 5]
        x.mention(x.add_user("late"), "noch eine")
        assert again.poll_and_deliver().new_tickets == [6]
        assert len(slack.cards()) == 6
    finally:
        again.close()


def test_a_rate_limited_poll_keeps_its_cursor_and_catches_up_after_the_reset(
    bot: BotHarness, x: XStandIn, slack: SlackStandIn
) -> None:
    anna = x.add_user("anna")
    x.mention(anna, "eins")
    reset = int(time.time()) + 2  # whole seconds, as X gives them: at least one more second
    x.fail_next(
        "GET /2/users/:id/mentions",
        status=429,
        body={
            "title": "Too Many Requests",
            "detail": "Too Many Requests",
            "type": "about:blank",
            "status": 429,
        },
        headers={
            "x-rate-limit-limit": "450",
            "x-rate-limit-remaining": "0",
            "x-rate-limit-reset": str(reset),
        },
    )
    assert bot.poll_and_deliver().fetched == 0
    assert bot.poll().fetched == 0  # still waiting: no call before the reset
    assert len(x.calls_to("GET /2/users/:id/mentions")) == 1
    wait_for(lambda: time.time() > reset + 0.1, timeout=5)
    assert bot.poll_and_deliver().new_tickets == [1]
    assert len(slack.cards()) == 1


def test_x_server_errors_back_off_without_losing_tweets(
    bot: BotHarness, x: XStandIn, slack: SlackStandIn
) -> None:
    x.mention(x.add_user("anna"), "eins")
    x.fail_next(
        "GET /2/users/:id/mentions",
        status=503,
        body={
            "title": "Service Unavailable",
            "detail": "Service Unavailable",
            "type": "about:blank",
            "status": 503,
        },
    )
    assert bot.poll().fetched == 0
    wait_for(lambda: bot.poll_and_deliver().new_tickets == [1], timeout=5)
    assert len(slack.cards()) == 1


def test_slack_rate_limits_delay_cards_but_lose_none(
    bot: BotHarness, x: XStandIn, slack: SlackStandIn
) -> None:
    slack.rate_limit("chat.postMessage", limit=4, window=1.0, retry_after=1)
    tweets = [x.mention(x.add_user(f"k{i}"), question(i)) for i in range(8)]
    bot.poll()
    bot.bot.start_background(poll=False)
    wait_for(lambda: len(slack.cards()) == 8, timeout=15)
    assert [c.payload["tweet_id"] for c in slack.cards()] == [t["id"] for t in tweets]
    assert any(call for call in slack.calls_to("chat.postMessage"))


def test_keyword_hits_become_tickets_marked_as_such(
    database_url: str, slack: SlackStandIn, x: XStandIn
) -> None:
    harness = BotHarness(
        make_settings(database_url, slack, x, x_keyword_queries="telekom störung"), slack, x
    )
    try:
        x.tweet(x.add_user("carl"), "Schon wieder Telekom Störung in Köln")
        x.tweet(x.add_user("dora"), "Mir geht es gut")
        harness.poll_and_deliver()
        [card] = slack.cards()
        assert "customer did not mention us" in str(card.blocks)
        assert "telekom störung" in str(card.blocks)
    finally:
        harness.close()


def test_the_first_start_imports_only_the_backfill_window(
    database_url: str, slack: SlackStandIn, x: XStandIn
) -> None:
    anna = x.add_user("anna")
    x.mention(anna, "vor zwei Tagen", created_at=datetime.now(UTC) - timedelta(hours=48))
    recent = x.mention(
        x.add_user("bernd"), "vor zwei Stunden", created_at=datetime.now(UTC) - timedelta(hours=2)
    )
    harness = BotHarness(make_settings(database_url, slack, x, backfill_hours=24), slack, x)
    try:
        harness.poll_and_deliver()
        assert [c.payload["tweet_id"] for c in slack.cards()] == [recent["id"]]
    finally:
        harness.close()
