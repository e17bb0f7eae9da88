"""Threading: which ticket a tweet belongs to. Domain tests with a fake clock."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
from sqlalchemy import Engine
from sqlmodel import col, select

from bot.inbox import Inbox, IngestResult
from store.db import session_scope
from store.models import Message, SlackOutbox, Ticket, TicketSource, TicketState
from tests.fakes.domain import BRAND, FakeClock, RecordingPresenter, TweetFactory
from tests.harness import question


def tickets(engine: Engine) -> list[Ticket]:
    with session_scope(engine) as session:
        return list(session.exec(select(Ticket).order_by(col(Ticket.id))))


def queued(engine: Engine) -> list[SlackOutbox]:
    with session_scope(engine) as session:
        return list(session.exec(select(SlackOutbox).order_by(col(SlackOutbox.id))))


def resolve(engine: Engine, ticket_id: int, clock: FakeClock) -> None:
    with session_scope(engine) as session:
        ticket = session.get(Ticket, ticket_id)
        assert ticket is not None
        ticket.state = TicketState.RESOLVED
        ticket.resolved_at = clock()
        session.add(ticket)


def test_a_first_tweet_opens_ticket_one_with_a_card_queued(
    inbox: Inbox, tweets: TweetFactory, engine: Engine, presenter: RecordingPresenter
) -> None:
    anna = tweets.user("anna")
    result = inbox.store([tweets.mention(anna, "Kein Netz")])
    assert result.new_tickets == [1]
    [ticket] = tickets(engine)
    assert (ticket.id, ticket.state, ticket.source) == (1, "new", "mention")
    [row] = queued(engine)
    assert (row.kind, row.channel, row.dedup_key) == ("card", "CSUPPORT1", "card:1")
    assert presenter.cards[0].customer.username == "anna"


def test_numbers_count_up_per_new_conversation(inbox: Inbox, tweets: TweetFactory) -> None:
    result = inbox.store([tweets.mention(tweets.user(f"c{i}"), question(i)) for i in range(3)])
    assert result.new_tickets == [1, 2, 3]


def test_a_reply_joins_its_parents_ticket(
    inbox: Inbox, tweets: TweetFactory, engine: Engine
) -> None:
    anna = tweets.user("anna")
    first = tweets.mention(anna, "Kein Netz")
    inbox.store([first])
    result = inbox.store([tweets.mention(anna, "immer noch", reply_to=first)])
    assert (result.new_tickets, result.joined) == ([], 1)
    rows = queued(engine)
    assert [r.kind for r in rows] == ["card", "thread"]
    assert rows[1].parent_id == rows[0].id


def test_someone_else_in_the_same_conversation_joins_the_ticket(
    inbox: Inbox, tweets: TweetFactory, engine: Engine
) -> None:
    first = tweets.mention(tweets.user("anna"), "Störung in Bonn?")
    inbox.store([first])
    inbox.store([tweets.mention(tweets.user("bernd"), "hier auch", conversation_id=first.id)])
    assert len(tickets(engine)) == 1


def test_a_new_tweet_of_a_customer_with_an_open_ticket_joins_it(
    inbox: Inbox, tweets: TweetFactory, engine: Engine
) -> None:
    anna = tweets.user("anna")
    inbox.store([tweets.mention(anna, "Kein Netz")])
    inbox.store([tweets.mention(anna, "Hallo??")])
    assert len(tickets(engine)) == 1


@pytest.fixture
def anna_again(
    inbox: Inbox, tweets: TweetFactory, engine: Engine, clock: FakeClock
) -> Callable[..., IngestResult]:
    """Anna's ticket #1 is resolved; `days` later she answers her first tweet."""
    anna = tweets.user("anna")
    first = tweets.mention(anna, "Kein Netz")
    inbox.store([first])
    resolve(engine, 1, clock)

    def answer(*, days: int, text: str) -> IngestResult:
        clock.advance(days=days)
        return inbox.store([tweets.mention(anna, text, reply_to=first)])

    return answer


def test_a_tweet_within_a_week_of_resolution_reopens_the_ticket_in_its_thread(
    anna_again: Callable[..., IngestResult], engine: Engine, presenter: RecordingPresenter
) -> None:
    result = anna_again(days=2, text="wieder weg")
    assert result.reopened == 1
    [ticket] = tickets(engine)
    assert ticket.state == "new" and ticket.resolved_at is None
    assert presenter.messages[-1].reopened
    assert presenter.cards[-1].state == "new"  # the card shows it open again


def test_a_tweet_more_than_a_week_later_opens_a_new_ticket_linking_the_old(
    anna_again: Callable[..., IngestResult], engine: Engine, presenter: RecordingPresenter
) -> None:
    result = anna_again(days=8, text="schon wieder")
    assert result.new_tickets == [2]
    assert tickets(engine)[1].previous_ticket_id == 1
    assert presenter.cards[-1].earlier_tickets == 1


def test_the_same_tweet_twice_is_stored_once(
    inbox: Inbox, tweets: TweetFactory, engine: Engine
) -> None:
    tweet = tweets.mention(tweets.user("anna"), "Kein Netz")
    inbox.store([tweet])
    result = inbox.store([tweet])
    assert result.duplicates == 1
    with session_scope(engine) as session:
        assert len(list(session.exec(select(Message)))) == 1
    assert len(queued(engine)) == 1


def test_the_brands_own_tweets_never_become_tickets(
    inbox: Inbox, tweets: TweetFactory, engine: Engine
) -> None:
    result = inbox.store([tweets.unaddressed(BRAND, "@anna Wir kümmern uns!")])
    assert result.skipped == 1 and tickets(engine) == []


def test_a_keyword_hit_is_marked_as_such_unless_it_mentions_the_brand(
    inbox: Inbox, tweets: TweetFactory, engine: Engine
) -> None:
    inbox.store(
        [tweets.unaddressed(tweets.user("carl"), "telekom störung")],
        source=TicketSource.KEYWORD,
        query="telekom störung",
    )
    inbox.store(
        [tweets.mention(tweets.user("dora"), "telekom störung")],
        source=TicketSource.KEYWORD,
        query="telekom störung",
    )
    first, second = tickets(engine)
    assert (first.source, first.keyword_query) == ("keyword", "telekom störung")
    assert (second.source, second.keyword_query) == ("mention", None)


def test_fail_hashtags_and_vip_customers_show_on_the_card(
    inbox: Inbox, tweets: TweetFactory, presenter: RecordingPresenter
) -> None:
    star = tweets.user("star", followers=50000)
    inbox.store([tweets.mention(star, "#TelekomFail seit 3 Tagen", hashtags=("TelekomFail",))])
    card = presenter.cards[0]
    assert card.is_fail and card.customer.vip


def test_clock_time_is_what_gets_stored(
    inbox: Inbox, tweets: TweetFactory, engine: Engine, clock: FakeClock
) -> None:
    inbox.store([tweets.mention(tweets.user("anna"), "hi")])
    assert tickets(engine)[0].created_at == clock()
    assert clock() - tickets(engine)[0].created_at == timedelta(0)
