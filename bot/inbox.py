"""What customers write becomes tickets and thread messages: tweets and DMs, stored once.

Tweets are stored oldest first, a page at a time: each page in one transaction with the
Slack posts it queues, looked up and written by set (`bot/page.py`, `store/inbox.py`).
They are recognised by their X id when a poll reads them again, so nothing is lost and
nothing doubled. A tweet joins the ticket of its reply chain, its conversation or its
author; each page's new tickets are handed on in one step (`Inbox._hand_on`): a new
ticket is routed to its topic's channel (SPEC §13) as it is made, and grouping of alike
questions (SPEC §10) decides which get a card of their own.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.orm import make_transient_to_detached
from sqlmodel import Session

from bot.clock import Clock, system_clock
from bot.feed import Change, Opened, TicketFeed
from bot.groups import Groups
from bot.page import Page as _Page
from bot.pii import PiiDetector
from bot.topics import Router, router
from bot.x_models import DirectMessage, Tweet, XUser
from store import inbox as inbox_queries
from store import tickets as queries
from store.db import session_scope
from store.models import (
    Channel,
    Customer,
    Direction,
    EventKind,
    Message,
    Ticket,
    TicketSource,
    TicketState,
)

PAGE = 100  # tweets per transaction: one page of X results
FAIL_TAG = "fail"


# A step that each page's new tickets are handed to, in their transaction (see `_hand_on`).
NewTicketsStep = Callable[[Session, Sequence[Opened], datetime], None]


def _always_open(_at: datetime) -> bool:
    return True


@dataclass
class IngestResult:
    """What one poll did."""

    fetched: int = 0
    new_tickets: list[int] = field(default_factory=list)
    joined: int = 0
    reopened: int = 0
    duplicates: int = 0
    skipped: int = 0

    def add(self, other: IngestResult) -> None:
        """Fold another poll's result into this one."""
        self.fetched += other.fetched
        self.new_tickets.extend(other.new_tickets)
        self.joined += other.joined
        self.reopened += other.reopened
        self.duplicates += other.duplicates
        self.skipped += other.skipped


def _customer(
    session: Session, user: XUser, now: datetime, *, known: Customer | None = None
) -> Customer:
    """The customer behind an X user, refreshed with what X says about them now."""
    return queries.upsert_customer(
        session=session,
        x_user_id=user.id,
        username=user.username,
        name=user.name,
        followers=user.followers,
        verified=user.verified,
        now=now,
        known=known,
    )


def is_fail_tweet(tweet: Tweet) -> bool:
    """A '#fail'-style tweet: a hashtag that contains 'fail' (#fail, #telekomfail …)."""
    return any(FAIL_TAG in tag.lower() for tag in tweet.hashtags)


@dataclass(frozen=True, kw_only=True)
class Inbox:
    """Stores what customers write, as tickets and messages, and queues what Slack shows."""

    engine: Engine
    brand: XUser
    feed: TicketFeed
    support_channel: str
    is_open: Callable[[datetime], bool] = _always_open
    pii: PiiDetector = field(default_factory=PiiDetector)
    clock: Clock = system_clock
    on_opened: Sequence[NewTicketsStep] = ()
    groups: Groups | None = None  # grouping of alike questions; None: every ticket alone

    def _grouped(self, session: Session, new: Opened, now: datetime) -> bool:
        """Whether a ticket just opened is shown by its group (it gets no card of its own)."""
        return self.groups is not None and self.groups.place(
            session, new.ticket, new.opening.text, now
        )

    def _ready(self) -> None:
        if self.groups is not None:
            self.groups.ready()

    def _settle(self, session: Session) -> None:
        if self.groups is not None:
            self.groups.settle(session, self.clock())

    def store_dms(self, messages: Sequence[DirectMessage]) -> IngestResult:
        """Store DMs from customers (oldest first) in their open ticket, or open a `dm` ticket."""
        result = IngestResult(fetched=len(messages))
        self._ready()
        with session_scope(self.engine) as session:
            stored = queries.stored_external_ids(
                session=session, channel=Channel.DM, external_ids=[m.id for m in messages]
            )
            routes = router(session)
            for dm in messages:
                if dm.sender.id == self.brand.id:
                    result.skipped += 1  # our own DMs are stored when they are sent
                elif dm.id in stored:
                    result.duplicates += 1
                else:
                    stored.add(dm.id)
                    self._store_dm(session, dm, result, routes)
            self._settle(session)
        return result

    def _store_dm(
        self, session: Session, dm: DirectMessage, result: IngestResult, routes: Router
    ) -> None:
        now = self.clock()
        customer = _customer(session, dm.sender, now)
        assert customer.id is not None
        ticket = queries.open_ticket_of_customer(session=session, customer_id=customer.id)
        new = ticket is None
        if ticket is None:
            topic = routes.route(dm.text)
            ticket = Ticket(
                customer_id=customer.id,
                source=TicketSource.DM,
                channel_id=topic.channel_id if topic else self.support_channel,
                topic=topic.name if topic else None,
                out_of_hours=not self.is_open(now),
                previous_ticket_id=(
                    latest.id
                    if (
                        latest := queries.latest_ticket_of_customer(
                            session=session, customer_id=customer.id
                        )
                    )
                    else None
                ),
                created_at=now,
                updated_at=now,
            )
            session.add(ticket)
            session.flush()
        assert ticket.id is not None
        message = Message(
            ticket_id=ticket.id,
            direction=Direction.IN,
            channel=Channel.DM,
            external_id=dm.id,
            author_x_id=dm.sender.id,
            text=dm.text,
            created_at=dm.created_at,
            stored_at=now,
        )
        session.add(message)
        session.flush()
        if new:
            # Handed on at once: a later DM of the same poll may go into its thread.
            self._hand_on(session, [Opened(ticket, customer, message)], now, routes)
            result.new_tickets.append(ticket.id)
            return
        self.feed.customer_wrote(session, message, customer=customer, now=now)
        result.joined += 1

    def store(
        self,
        tweets: Sequence[Tweet],
        *,
        source: TicketSource = TicketSource.MENTION,
        query: str | None = None,
    ) -> IngestResult:
        """Store tweets (oldest first) as tickets and messages, queueing their Slack posts.

        One transaction per page of `PAGE` tweets: a crash loses at most the page being
        stored, which the next poll reads again (the cursor has not moved).
        """
        result = IngestResult(fetched=len(tweets))
        for start in range(0, len(tweets), PAGE):
            self._ready()
            with session_scope(self.engine) as session:
                self._store_page(session, tweets[start : start + PAGE], source, query, result)
                self._settle(session)
        return result

    def _store_page(
        self,
        session: Session,
        tweets: Sequence[Tweet],
        source: TicketSource,
        query: str | None,
        result: IngestResult,
    ) -> None:
        now = self.clock()
        fresh = self._fresh(session, tweets, result)
        if not fresh:
            return
        page = _Page.look_up(session, fresh, now)
        routes = router(session)  # read once per page, not per ticket or card
        placed = [self._place(page, tweet, source, query, now, routes) for tweet in fresh]
        # Written in three statements, whatever the page's size: its new tickets, all its
        # messages, its cards; only what joins existing tickets goes one by one.
        opening = [stored for stored in placed if stored.opens]
        numbers = inbox_queries.insert_tickets(
            session=session, rows=[_ticket_row(stored.ticket) for stored in opening]
        )
        for stored, number in zip(opening, numbers, strict=True):
            stored.ticket.id = number
            # Stored now, and the session's from here on: a step that changes a new ticket
            # (a topic's channel, say) has the change written with the page.
            make_transient_to_detached(stored.ticket)
            session.add(stored.ticket)
        messages = [_message(stored, now) for stored in placed]
        ids = inbox_queries.insert_messages(session=session, rows=[_row(m) for m in messages])
        for message, message_id in zip(messages, ids, strict=True):
            message.id = message_id
        opened = [
            Opened(stored.ticket, stored.customer, message, stored.earlier_tickets)
            for stored, message in zip(placed, messages, strict=True)
            if stored.opens
        ]
        self._hand_on(session, opened, now, routes)
        result.new_tickets.extend(new.ticket.id for new in opened if new.ticket.id is not None)
        for stored, message in zip(placed, messages, strict=True):
            if not stored.opens:
                self._joined(session, stored, message, result, now)

    def _hand_on(
        self, session: Session, opened: Sequence[Opened], now: datetime, routes: Router
    ) -> None:
        """The page's new tickets, handed on in one step, in tweet order, before the commit.

        Whatever acts on a ticket as it opens plugs in here, as one of `on_opened`, and
        runs before the cards are queued: grouping of alike questions (which may decide
        that a ticket joins a group instead of getting a card), topic routing. The tickets
        are stored and in the session: what a step changes on them is written with the
        page, and their cards show it. Then the feed queues the cards.
        """
        for step in self.on_opened:
            step(session, opened, now)
        # A ticket its group's card counts and its group's thread lists gets no card.
        shown = [new for new in opened if not self._grouped(session, new, now)]
        self.feed.opened_many(session, shown, now=now, topics=routes.names)

    def _fresh(
        self, session: Session, tweets: Sequence[Tweet], result: IngestResult
    ) -> list[Tweet]:
        """The page's tweets to store: not the brand's own, not stored before, not twice."""
        stored = queries.stored_external_ids(
            session=session, channel=Channel.TWEET, external_ids=[t.id for t in tweets]
        )
        fresh: list[Tweet] = []
        for tweet in tweets:
            if tweet.author.id == self.brand.id:
                result.skipped += 1  # our own replies come back in searches and conversations
            elif tweet.id in stored:
                result.duplicates += 1
            else:
                stored.add(tweet.id)
                fresh.append(tweet)
        return fresh

    def _place(
        self,
        page: _Page,
        tweet: Tweet,
        source: TicketSource,
        query: str | None,
        now: datetime,
        routes: Router,
    ) -> _Stored:
        """Decide which ticket the tweet joins, or open one; the page remembers it."""
        customer = page.customers[tweet.author.id]
        assert customer.id is not None
        mentioned = bool(
            source == TicketSource.MENTION
            or tweet.mentions(self.brand)
            or tweet.in_reply_to_user_id == self.brand.id
        )
        has_pii = self.pii.contains(tweet.text)
        match = page.find_ticket(tweet, customer.id)
        if match.ticket is not None:
            ticket = match.ticket
            if match.reopen:
                _reopen(ticket, now)
                page.reopened(ticket)
            elif has_pii and page.is_new(ticket):
                ticket.has_pii = True  # its card, queued with the page, shows it
            stored = _Stored(tweet, ticket, customer, mentioned, reopen=match.reopen, pii=has_pii)
            page.stored(tweet, ticket)
            return stored
        if match.previous is not None:
            assert match.previous.id is not None, "a ticket of this page is open"
        # A tweet joining a ticket (above) keeps that ticket's topic; only new ones are routed.
        topic = routes.route(tweet.text)
        values = {
            "customer_id": customer.id,
            "source": TicketSource.MENTION if mentioned else source,
            "keyword_query": None if mentioned else query,
            "conversation_id": tweet.conversation_id or tweet.id,
            "channel_id": topic.channel_id if topic else self.support_channel,
            "topic": topic.name if topic else None,
            "is_fail": is_fail_tweet(tweet),
            "has_pii": has_pii,
            "out_of_hours": not page.is_open(self.is_open),
            "previous_ticket_id": match.previous.id if match.previous else None,
            "created_at": now,
            "updated_at": now,
        }
        ticket = inbox_queries.instance(Ticket, values)
        earlier = page.opened(ticket, customer.id)
        page.stored(tweet, ticket)
        return _Stored(tweet, ticket, customer, mentioned, opens=True, earlier_tickets=earlier)

    def _joined(
        self,
        session: Session,
        stored: _Stored,
        message: Message,
        result: IngestResult,
        now: datetime,
    ) -> None:
        """Record a tweet that joined a ticket (after the page's cards, which it may need)."""
        ticket = stored.ticket
        if stored.reopen:
            self.feed.record(session, ticket, Change(EventKind.REOPENED), now)
            result.reopened += 1
        else:
            result.joined += 1
            if stored.pii and not ticket.has_pii:
                ticket.has_pii = True  # the card offers to move to DM
                session.add(ticket)
                self.feed.record(session, ticket, Change(), now)
        self.feed.customer_wrote(
            session, message, customer=stored.customer, now=now, reopened=stored.reopen
        )


def _reopen(ticket: Ticket, now: datetime) -> None:
    ticket.state = TicketState.CLAIMED if ticket.owner_slack_id else TicketState.NEW
    ticket.resolved_at = None
    ticket.resolved_by = None
    ticket.updated_at = now


@dataclass
class _Stored:
    """One tweet of a page and where it goes."""

    tweet: Tweet
    ticket: Ticket
    customer: Customer
    mentioned: bool
    opens: bool = False
    reopen: bool = False
    pii: bool = False
    earlier_tickets: int | None = None


_TICKET_COLUMNS = tuple(c.name for c in Ticket.__table__.columns if c.name != "id")  # type: ignore[attr-defined]
_MESSAGE_COLUMNS = tuple(c.name for c in Message.__table__.columns if c.name != "id")  # type: ignore[attr-defined]


def _ticket_row(ticket: Ticket) -> dict[str, Any]:
    return {name: getattr(ticket, name) for name in _TICKET_COLUMNS}


def _row(message: Message) -> dict[str, Any]:
    return {name: getattr(message, name) for name in _MESSAGE_COLUMNS}


def _message(stored: _Stored, now: datetime) -> Message:
    tweet = stored.tweet
    assert stored.ticket.id is not None
    values = {
        "ticket_id": stored.ticket.id,
        "direction": Direction.IN,
        "channel": Channel.TWEET,
        "external_id": tweet.id,
        "conversation_id": tweet.conversation_id or tweet.id,
        "in_reply_to_id": tweet.replied_to_id,
        "author_x_id": tweet.author.id,
        "text": tweet.text,
        "lang": tweet.lang,
        "mentions_brand": stored.mentioned,
        "is_fail": is_fail_tweet(tweet),
        "created_at": tweet.created_at,
        "stored_at": now,
    }
    return inbox_queries.instance(Message, values)
