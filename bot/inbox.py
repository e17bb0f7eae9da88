"""What customers write becomes tickets and thread messages: tweets and DMs, stored once.

Tweets are stored oldest first, each with its Slack post queued in the same transaction,
and recognised by their X id when a poll reads them again, so nothing is lost and nothing
doubled. A tweet joins the ticket of its reply chain, its conversation or its author.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import Engine
from sqlmodel import Session

from bot.clock import Clock, system_clock
from bot.feed import Change, TicketFeed
from bot.groups import Groups
from bot.pii import PiiDetector
from bot.topics import Router, router
from bot.x_models import DirectMessage, Tweet, XUser
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

REOPEN_WINDOW = timedelta(days=7)
CHUNK = 100
FAIL_TAG = "fail"


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


@dataclass
class _Batch:
    """What one chunk of tweets looked up once instead of per tweet."""

    stored: set[str]
    customers: dict[str, Customer]
    first_timers: set[int] = field(default_factory=set)
    open_tickets: dict[int, Ticket] = field(default_factory=dict)
    router: Router = field(default_factory=Router)


@dataclass(frozen=True)
class _Match:
    ticket: Ticket | None = None
    reopen: bool = False
    previous: Ticket | None = None


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
    groups: Groups | None = None  # grouping of alike questions; None: every ticket alone

    def _grouped(self, session: Session, ticket: Ticket, text: str, now: datetime) -> bool:
        """Whether a ticket just opened is shown by its group (it gets no card of its own)."""
        return self.groups is not None and self.groups.place(session, ticket, text, now)

    def _settle(self, session: Session) -> None:
        if self.groups is not None:
            self.groups.settle(session, self.clock())

    def store_dms(self, messages: Sequence[DirectMessage]) -> IngestResult:
        """Store DMs from customers (oldest first) in their open ticket, or open a `dm` ticket."""
        result = IngestResult(fetched=len(messages))
        if self.groups is not None:
            self.groups.ready()
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
            if not self._grouped(session, ticket, dm.text, now):
                self.feed.opened(
                    session,
                    ticket,
                    customer=customer,
                    opening=message,
                    now=now,
                    topics=routes.names,
                )
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
        """Store tweets (oldest first) as tickets and messages, queueing their Slack posts."""
        result = IngestResult(fetched=len(tweets))
        for start in range(0, len(tweets), CHUNK):
            chunk = tweets[start : start + CHUNK]
            if self.groups is not None:
                self.groups.ready()
            with session_scope(self.engine) as session:
                batch = _Batch(
                    stored=queries.stored_external_ids(
                        session=session, channel=Channel.TWEET, external_ids=[t.id for t in chunk]
                    ),
                    customers=queries.customers_by_x_id(
                        session=session, x_user_ids={t.author.id for t in chunk}
                    ),
                    router=router(session),
                )
                for tweet in chunk:
                    self._store_one(session, tweet, source, query, result, batch)
                self._settle(session)
        return result

    def _store_one(
        self,
        session: Session,
        tweet: Tweet,
        source: TicketSource,
        query: str | None,
        result: IngestResult,
        batch: _Batch,
    ) -> None:
        if tweet.author.id == self.brand.id:
            result.skipped += 1  # our own replies come back in searches and conversations
            return
        if tweet.id in batch.stored:
            result.duplicates += 1
            return
        batch.stored.add(tweet.id)
        now = self.clock()
        mentioned = (
            source == TicketSource.MENTION
            or tweet.mentions(self.brand)
            or tweet.in_reply_to_user_id == self.brand.id
        )
        known = batch.customers.get(tweet.author.id)
        customer = _customer(session, tweet.author, now, known=known)
        assert customer.id is not None
        if known is None:
            batch.customers[tweet.author.id] = customer
            batch.first_timers.add(customer.id)
        match = self._find_ticket(session, tweet, customer, batch)
        has_pii = self.pii.contains(tweet.text)
        if match.ticket is not None:
            message = self._add_message(session, match.ticket, tweet, mentioned, need_id=True)
            if match.reopen:
                self._reopen(session, match.ticket, now)
                result.reopened += 1
            else:
                result.joined += 1
                if has_pii and not match.ticket.has_pii:
                    match.ticket.has_pii = True  # the card offers to move to DM
                    session.add(match.ticket)
                    self.feed.record(session, match.ticket, Change(), now)
            self.feed.customer_wrote(
                session, message, customer=customer, now=now, reopened=match.reopen
            )
            return
        # A tweet joining a ticket (above) keeps that ticket's topic; only new ones are routed.
        topic = batch.router.route(tweet.text)
        ticket = Ticket(
            customer_id=customer.id,
            source=TicketSource.MENTION if mentioned else source,
            keyword_query=None if mentioned else query,
            conversation_id=tweet.conversation_id or tweet.id,
            channel_id=topic.channel_id if topic else self.support_channel,
            topic=topic.name if topic else None,
            is_fail=is_fail_tweet(tweet),
            has_pii=has_pii,
            out_of_hours=not self.is_open(now),
            previous_ticket_id=match.previous.id if match.previous else None,
            created_at=now,
            updated_at=now,
        )
        session.add(ticket)
        session.flush()
        assert ticket.id is not None
        batch.open_tickets[customer.id] = ticket
        opening = self._add_message(session, ticket, tweet, mentioned, need_id=False)
        result.new_tickets.append(ticket.id)
        if self._grouped(session, ticket, tweet.text, now):
            return  # its group's card counts it, its group's thread lists it
        self.feed.opened(
            session,
            ticket,
            customer=customer,
            opening=opening,
            now=now,
            # A customer first seen in this batch has no tickets but the ones made here.
            earlier_tickets=0 if customer.id in batch.first_timers else None,
            topics=batch.router.names,  # read once per batch, not per card
        )

    def _find_ticket(
        self, session: Session, tweet: Tweet, customer: Customer, batch: _Batch
    ) -> _Match:
        """Which ticket a tweet belongs to: its reply chain's, its conversation's, its author's.

        Open tickets win. A resolved one of the same conversation is reopened when it was
        resolved less than a week before the tweet; older, it is linked from a new ticket.
        """
        assert customer.id is not None
        if customer.id in batch.first_timers and not (tweet.replied_to_id or tweet.quoted_id):
            # Nothing to look up for someone we never heard from before: only what this
            # batch made for them, or a conversation another customer started.
            made = batch.open_tickets.get(customer.id)
            if made is not None:
                return _Match(ticket=made)
            if not tweet.conversation_id or tweet.conversation_id == tweet.id:
                return _Match()
        related: list[Ticket] = []
        for parent_id in (tweet.replied_to_id, tweet.quoted_id):
            if parent_id:
                parent = queries.message_by_external_id(
                    session=session, channel=Channel.TWEET, external_id=parent_id
                )
                if parent is not None:
                    found = queries.ticket(session=session, ticket_id=parent.ticket_id)
                    if found is not None:
                        related.append(found)
        if tweet.conversation_id:
            found = queries.latest_ticket_in_conversation(
                session=session, conversation_id=tweet.conversation_id
            )
            if found is not None:
                related.append(found)
        for candidate in related:
            if candidate.state != TicketState.RESOLVED:
                return _Match(ticket=candidate)
        own = queries.open_ticket_of_customer(session=session, customer_id=customer.id)
        if own is not None:
            return _Match(ticket=own)
        for candidate in related:
            resolved_at = candidate.resolved_at or candidate.updated_at
            if tweet.created_at - resolved_at <= REOPEN_WINDOW:
                return _Match(ticket=candidate, reopen=True)
            return _Match(previous=candidate)
        return _Match(
            previous=queries.latest_ticket_of_customer(session=session, customer_id=customer.id)
        )

    def _add_message(
        self, session: Session, ticket: Ticket, tweet: Tweet, mentioned: bool, *, need_id: bool
    ) -> Message:
        assert ticket.id is not None
        message = Message(
            ticket_id=ticket.id,
            direction=Direction.IN,
            channel=Channel.TWEET,
            external_id=tweet.id,
            conversation_id=tweet.conversation_id or tweet.id,
            in_reply_to_id=tweet.replied_to_id,
            author_x_id=tweet.author.id,
            text=tweet.text,
            lang=tweet.lang,
            mentions_brand=mentioned,
            is_fail=is_fail_tweet(tweet),
            created_at=tweet.created_at,
            stored_at=self.clock(),
        )
        session.add(message)
        if need_id:
            session.flush()  # otherwise it is inserted with the next flush, in a batch
        return message

    def _reopen(self, session: Session, ticket: Ticket, now: datetime) -> None:
        ticket.state = TicketState.CLAIMED if ticket.owner_slack_id else TicketState.NEW
        ticket.resolved_at = None
        ticket.resolved_by = None
        ticket.updated_at = now
        session.add(ticket)
        self.feed.record(session, ticket, Change(EventKind.REOPENED), now)
