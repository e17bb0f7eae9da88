"""The posting queue against the Slack stand-in: order, pacing, faults, restarts."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest
from slack_sdk import WebClient
from sqlalchemy import Engine
from sqlmodel import col, select

from bot import outbox as queue
from bot.clock import system_clock
from bot.present import SlackMessage
from bot.slack import SlackPoster
from standins.http import wait_for
from standins.slack_api import BOT_TOKEN, SlackStandIn
from store.db import session_scope
from store.models import Customer, SlackOutbox, Ticket
from tests.fakes.domain import FakeClock


def poster(engine: Engine, slack: SlackStandIn, clock: Any = None, **kwargs: Any) -> SlackPoster:
    client = WebClient(
        token=BOT_TOKEN, base_url=f"{slack.base_url}/api/", timeout=1, retry_handlers=[]
    )
    extra = {"clock": clock} if clock else {}
    return SlackPoster(
        engine=engine, client=client, min_interval=kwargs.pop("min_interval", 0), **extra, **kwargs
    )


def card(ticket_id: int, text: str = "") -> SlackMessage:
    return {
        "text": text or f"card {ticket_id}",
        "blocks": [
            {"type": "section", "text": {"type": "mrkdwn", "text": text or f"card {ticket_id}"}}
        ],
        "metadata": {
            "event_type": "servicekanal_ticket",
            "event_payload": {"ticket_id": ticket_id, "tweet_id": str(900 + ticket_id)},
        },
    }


def queue_tickets(
    engine: Engine, count: int, *, replies: int = 0, channel: str = "CSUPPORT1", clock: Any = None
) -> None:
    """`count` tickets, each with a card and `replies` thread messages, as ingest queues them."""
    now = clock() if clock else system_clock()
    with session_scope(engine) as session:
        customer = Customer(x_user_id="1", username="anna", created_at=now, updated_at=now)
        session.add(customer)
        session.flush()
        for _ in range(count):
            ticket = Ticket(
                customer_id=customer.id or 0,
                source="mention",
                channel_id=channel,
                created_at=now,
                updated_at=now,
            )
            session.add(ticket)
            session.flush()
            assert ticket.id is not None
            queue.post_card(
                session=session,
                ticket_id=ticket.id,
                channel=channel,
                message=card(ticket.id),
                now=now,
            )
            for n in range(replies):
                queue.post_in_thread(
                    session=session,
                    ticket_id=ticket.id,
                    message={"text": f"reply {n} of {ticket.id}"},
                    now=now,
                )


def rows(engine: Engine) -> list[SlackOutbox]:
    with session_scope(engine) as session:
        return list(session.exec(select(SlackOutbox).order_by(col(SlackOutbox.id))))


def card_texts(slack: SlackStandIn) -> list[str]:
    return [m.text for m in slack.messages("CSUPPORT1")]


def test_cards_are_posted_in_order_and_replies_land_in_their_threads(
    engine: Engine, slack: SlackStandIn
) -> None:
    queue_tickets(engine, 3, replies=2)
    assert poster(engine, slack).drain() == 9
    assert card_texts(slack) == ["card 1", "card 2", "card 3"]
    for number, message in enumerate(slack.messages("CSUPPORT1"), start=1):
        assert [r.text for r in slack.thread("CSUPPORT1", message.ts)] == [
            f"reply 0 of {number}",
            f"reply 1 of {number}",
        ]
    with session_scope(engine) as session:
        assert [t.card_ts for t in session.exec(select(Ticket))] == [
            m.ts for m in slack.messages("CSUPPORT1")
        ]
    assert {r.state for r in rows(engine)} == {"sent"}


def test_thread_messages_carry_metadata_that_names_their_queue_row(
    engine: Engine, slack: SlackStandIn
) -> None:
    queue_tickets(engine, 1, replies=1)
    poster(engine, slack).drain()
    reply = slack.thread("CSUPPORT1", slack.messages("CSUPPORT1")[0].ts)[0]
    assert reply.metadata == {
        "event_type": "servicekanal_post",
        "event_payload": {"outbox_id": 2, "ticket_id": 1},
    }


def test_a_second_worker_after_a_restart_sends_only_what_is_left(
    engine: Engine, slack: SlackStandIn
) -> None:
    queue_tickets(engine, 5)
    first = poster(engine, slack)
    for _ in range(2):
        assert first.step()
    del first  # the process "dies" between two rows
    poster(engine, slack).drain()
    assert card_texts(slack) == [f"card {n}" for n in range(1, 6)]


def test_a_post_whose_answer_was_lost_is_found_by_its_metadata_and_not_sent_again(
    engine: Engine, slack: SlackStandIn
) -> None:
    clock = FakeClock(system_clock())
    queue_tickets(engine, 2, replies=1, clock=clock)
    slack.fail_next("chat.postMessage", after_processing=True, drop=True)
    worker = poster(engine, slack, clock=clock)
    worker.drain()
    assert card_texts(slack) == ["card 1"]  # it did land, but the worker could not know
    assert rows(engine)[0].state == "sending"
    clock.advance(minutes=1)  # the lease runs out: reconcile
    worker.drain()
    assert card_texts(slack) == ["card 1", "card 2"]
    assert len(slack.calls_to("conversations.history")) >= 1
    assert {r.state for r in rows(engine)} == {"sent"}
    assert rows(engine)[0].result_ts == slack.messages("CSUPPORT1")[0].ts


def test_a_thread_reply_whose_answer_was_lost_is_found_in_the_thread(
    engine: Engine, slack: SlackStandIn
) -> None:
    clock = FakeClock(system_clock())
    queue_tickets(engine, 1, replies=1, clock=clock)
    worker = poster(engine, slack, clock=clock)
    assert worker.step()  # the card
    slack.fail_next("chat.postMessage", after_processing=True, status=500, body="upstream timeout")
    worker.drain()
    clock.advance(minutes=1)
    worker.drain()
    thread = slack.thread("CSUPPORT1", slack.messages("CSUPPORT1")[0].ts)
    assert [m.text for m in thread] == ["reply 0 of 1"]
    assert len(slack.calls_to("conversations.replies")) == 1


def test_a_timeout_before_slack_saw_the_post_is_resent_once_after_checking(
    engine: Engine, slack: SlackStandIn
) -> None:
    clock = FakeClock(system_clock())
    queue_tickets(engine, 1, clock=clock)
    slack.fail_next("chat.postMessage", status=503, body="Service Unavailable")
    worker = poster(engine, slack, clock=clock)
    worker.drain()
    assert card_texts(slack) == []
    clock.advance(minutes=1)
    worker.drain()
    assert card_texts(slack) == ["card 1"]


def test_slack_rate_limit_is_honoured_and_the_burst_drains_in_order(
    engine: Engine, slack: SlackStandIn
) -> None:
    slack.rate_limit("chat.postMessage", limit=2, window=1.0, retry_after=1)
    queue_tickets(engine, 5)
    worker = poster(engine, slack)
    stop = threading.Event()
    thread = threading.Thread(target=worker.run, args=(stop,), daemon=True)
    started = time.monotonic()
    thread.start()
    wait_for(lambda: len(slack.messages("CSUPPORT1")) == 5, timeout=15)
    elapsed = time.monotonic() - started
    stop.set()
    thread.join(5)
    assert card_texts(slack) == [f"card {n}" for n in range(1, 6)]
    assert elapsed >= 2.0  # five posts at two per second cannot be faster
    limited = [c for c in slack.calls_to("chat.postMessage")]
    assert len(limited) - 5 <= 3  # after a 429 the worker waits instead of hammering


def test_a_missing_channel_keeps_its_rows_until_the_bot_is_invited(
    engine: Engine, slack: SlackStandIn
) -> None:
    clock = FakeClock(system_clock())
    slack.channels["CSUPPORT1"].members.discard("UBOT00001")
    queue_tickets(engine, 2, clock=clock)
    worker = poster(engine, slack, clock=clock)
    worker.drain()
    assert [r.state for r in rows(engine)] == ["pending", "pending"]
    assert rows(engine)[0].last_error == "not_in_channel"
    slack.channels["CSUPPORT1"].members.add("UBOT00001")
    clock.advance(minutes=2)
    worker.drain()
    assert card_texts(slack) == ["card 1", "card 2"]


def test_a_revoked_token_pauses_posting_without_losing_the_queue(
    engine: Engine, slack: SlackStandIn, caplog: pytest.LogCaptureFixture
) -> None:
    clock = FakeClock(system_clock())
    queue_tickets(engine, 2, clock=clock)
    slack.tokens = {"xoxb-some-other-token"}
    worker = poster(engine, slack, clock=clock)
    worker.drain()
    assert "posting paused" in caplog.text
    assert len(slack.calls_to("chat.postMessage")) == 1  # paused after the first refusal
    slack.tokens = {BOT_TOKEN}
    clock.advance(minutes=2)
    worker.drain()
    assert card_texts(slack) == ["card 1", "card 2"]


def test_blocks_slack_refuses_are_sent_as_plain_text_rather_than_lost(
    engine: Engine, slack: SlackStandIn
) -> None:
    now = system_clock()
    with session_scope(engine) as session:
        queue.post_to_channel(
            session=session,
            channel="CSUPPORT1",
            now=now,
            message={
                "text": "fallback",
                "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": "x" * 4000}}],
            },
        )
    poster(engine, slack).drain()
    [message] = slack.messages("CSUPPORT1")
    assert message.text == "fallback" and message.blocks is None


def test_an_update_of_an_unsent_card_is_folded_into_the_card(
    engine: Engine, slack: SlackStandIn
) -> None:
    queue_tickets(engine, 1)
    now = system_clock()
    with session_scope(engine) as session:
        queue.refresh_card(
            session=session, ticket_id=1, message=card(1, "claimed by Anna"), now=now
        )
    poster(engine, slack).drain()
    assert card_texts(slack) == ["claimed by Anna"]
    assert slack.calls_to("chat.update") == []


def test_many_updates_of_a_sent_card_cost_one_chat_update(
    engine: Engine, slack: SlackStandIn
) -> None:
    queue_tickets(engine, 1)
    worker = poster(engine, slack)
    worker.drain()
    now = system_clock()
    for state in ("claimed", "waiting", "resolved"):
        with session_scope(engine) as session:
            queue.refresh_card(session=session, ticket_id=1, message=card(1, state), now=now)
    worker.drain()
    assert card_texts(slack) == ["resolved"]
    assert len(slack.calls_to("chat.update")) == 1
