"""A page of tweets is stored at once: threading inside the page, duplicates, statements."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import replace
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, event
from sqlmodel import Session, col, select

from bot.feed import Opened
from bot.inbox import PAGE, Inbox
from store.db import session_scope
from store.models import Customer, Message, SlackOutbox, Ticket
from tests.fakes.domain import RecordingPresenter, TweetFactory
from tests.harness import question


def all_of(engine: Engine, model: Any) -> list[Any]:
    with session_scope(engine) as session:
        return list(session.exec(select(model).order_by(col(model.id))))


@contextmanager
def statements(engine: Engine) -> Iterator[list[str]]:
    """The SQL statements the block sends to the database."""
    sent: list[str] = []

    def record(*args: Any) -> None:
        sent.append(str(args[2]).split()[0].upper())

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield sent
    finally:
        event.remove(engine, "before_cursor_execute", record)


def test_a_reply_to_a_tweet_of_the_same_page_lands_in_its_ticket_thread(
    inbox: Inbox, tweets: TweetFactory, engine: Engine
) -> None:
    anna, bernd = tweets.user("anna"), tweets.user("bernd")
    first = tweets.mention(anna, "Kein Netz in Bonn")
    reply = tweets.mention(anna, "immer noch nicht", reply_to=first)
    other = tweets.mention(bernd, "hier auch", conversation_id=first.id)
    result = inbox.store([first, reply, other])
    assert (result.new_tickets, result.joined) == ([1], 2)
    rows = all_of(engine, SlackOutbox)
    assert [r.kind for r in rows] == ["card", "thread", "thread"]
    assert {r.parent_id for r in rows[1:]} == {rows[0].id}
    assert {m.ticket_id for m in all_of(engine, Message)} == {1}


def test_a_second_tweet_of_a_new_customer_in_the_same_page_joins_her_new_ticket(
    inbox: Inbox, tweets: TweetFactory, engine: Engine, presenter: RecordingPresenter
) -> None:
    anna = tweets.user("anna")
    result = inbox.store(
        [
            tweets.mention(anna, "Kein Netz"),
            tweets.mention(anna, "Meine IBAN DE89 3704 0044 0532 0130 00, bitte erstatten"),
        ]
    )
    assert (result.new_tickets, result.joined) == ([1], 1)
    [ticket] = all_of(engine, Ticket)
    assert ticket.has_pii  # what the second tweet said shows on the card queued with the page
    assert presenter.cards[-1].has_pii and presenter.cards[-1].earlier_tickets == 0
    assert len(all_of(engine, Customer)) == 1


def test_a_tweet_read_again_in_a_later_page_or_twice_in_one_is_stored_once(
    inbox: Inbox, tweets: TweetFactory, engine: Engine
) -> None:
    burst = [tweets.mention(tweets.user(f"k{i}"), question(i)) for i in range(PAGE + 20)]
    again = [*burst[:5], burst[3], *burst[5 : PAGE - 1], burst[2], *burst[PAGE - 1 :]]
    result = inbox.store(again)  # tweet 3 twice in page one, tweet 2 again in page two
    assert result.duplicates == 2 and len(result.new_tickets) == PAGE + 20
    assert len(all_of(engine, Message)) == PAGE + 20
    assert len(all_of(engine, SlackOutbox)) == PAGE + 20


def test_a_page_costs_the_same_few_statements_whatever_its_size(
    inbox: Inbox, tweets: TweetFactory, engine: Engine
) -> None:
    def store(count: int, prefix: str, first: int) -> list[str]:
        with statements(engine) as sent:
            inbox.store(
                [
                    tweets.mention(tweets.user(f"{prefix}{i}"), question(first + i))
                    for i in range(count)
                ]
            )
        return sent

    store(1, "w", 1000)  # the grouper's index and the suggestions are read once, at first
    small, full = store(3, "a", 2000), store(PAGE, "b", 3000)
    assert len(full) == len(small) <= 12, full
    assert full.count("INSERT") == 4  # customers, tickets, messages, cards
    assert full.count("BEGIN") == 1  # one transaction for the page


def test_the_page_hands_its_new_tickets_on_in_one_step_before_their_cards(
    inbox: Inbox, tweets: TweetFactory, engine: Engine
) -> None:
    handed: list[tuple[list[int | None], int]] = []

    def step(session: Session, opened: Sequence[Opened], _now: datetime) -> None:
        queued = len(list(session.exec(select(SlackOutbox))))
        handed.append(([new.ticket.id for new in opened], queued))
        assert all(new.opening.ticket_id == new.ticket.id for new in opened)
        opened[0].ticket.channel_id = "CTOPIC1"  # routed: a step may change a new ticket

    inbox = replace(inbox, on_opened=(step,))
    anna = tweets.user("anna")
    first = tweets.mention(anna, "Kein Netz")
    burst = [first, tweets.mention(anna, "Hallo?", reply_to=first)]
    burst += [tweets.mention(tweets.user(f"k{i}"), question(i)) for i in range(PAGE)]
    inbox.store(burst)
    # Page one: tickets 1 to 99 (Anna's second tweet joins hers), before any card is queued;
    # page two: the last two, after page one's 99 cards and Anna's thread post.
    assert handed == [(list(range(1, PAGE)), 0), ([PAGE, PAGE + 1], PAGE)]
    routed = [t.id for t in all_of(engine, Ticket) if t.channel_id == "CTOPIC1"]
    assert routed == [1, PAGE]
    cards = [r for r in all_of(engine, SlackOutbox) if r.kind == "card"]
    assert [r.ticket_id for r in cards if r.channel == "CTOPIC1"] == [1, PAGE]
