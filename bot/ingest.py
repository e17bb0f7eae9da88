"""Ingest: customer tweets from X become tickets and thread messages in Slack.

Each poll reads everything newer than the stream's cursor (all pages), stores the
tweets oldest first, each with its Slack post queued in the same transaction, and only
then moves the cursor. A crash anywhere means the next poll reads some tweets again;
they are recognised by their X id and skipped, so nothing is lost and nothing doubled.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import Engine
from sqlmodel import Session

from bot.cards import CardRefresher
from bot.clock import Clock, system_clock
from bot.pii import PiiDetector
from bot.x import XClient
from bot.x_models import DirectMessage, Tweet, TweetBatch, XError, XRateLimited, XRefused, XUser
from store import cursors
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

log = logging.getLogger(__name__)

MENTIONS_STREAM = "mentions"
DM_STREAM = "dm"
DM_WINDOW = timedelta(minutes=15)
DM_REQUESTS_PER_WINDOW = 15  # X: GET /2/dm_events, 15 requests per 15 minutes per user
REOPEN_WINDOW = timedelta(days=7)
CHUNK = 100
MAX_BACKOFF = timedelta(minutes=5)
FAIL_TAG = "fail"
UNREADABLE_TRIES = 3


def search_stream(query: str) -> str:
    """The cursor name of one keyword query."""
    return f"search:{query}"


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


@dataclass(frozen=True)
class _Match:
    ticket: Ticket | None = None
    reopen: bool = False
    previous: Ticket | None = None


class Ingest:
    """Polls X and turns what it finds into tickets."""

    def __init__(
        self,
        *,
        engine: Engine,
        x: XClient,
        brand: XUser,
        cards: CardRefresher,
        support_channel: str,
        keyword_queries: Sequence[str] = (),
        backfill: timedelta = timedelta(hours=24),
        is_open: Callable[[datetime], bool] = lambda _at: True,
        pii: PiiDetector | None = None,
        clock: Clock = system_clock,
        notify: Callable[[], None] = lambda: None,
    ) -> None:
        self._engine = engine
        self._is_open = is_open
        self._pii = pii or PiiDetector()
        self._dm_requests: list[datetime] = []
        self._x = x
        self._brand = brand
        self._cards = cards
        self._channel = support_channel
        self._queries = list(keyword_queries)
        self._backfill = backfill
        self._clock = clock
        self._notify = notify
        self._blocked_until: dict[str, datetime] = {}
        self._failures: dict[str, int] = {}
        self._unreadable: dict[str, int] = {}  # X id -> polls that could not read it
        self.last_success: datetime | None = None

    # -- polling -------------------------------------------------------------------------

    def poll_dms(self) -> IngestResult:
        """Read new direct messages to the brand account, within X's 15 reads per 15 minutes."""
        now = self._clock()
        blocked = self._blocked_until.get(DM_STREAM)
        if blocked is not None and blocked > now:
            return IngestResult()
        self._dm_requests = [t for t in self._dm_requests if now - t < DM_WINDOW]
        budget = DM_REQUESTS_PER_WINDOW - len(self._dm_requests)
        if budget <= 0:
            return IngestResult()
        with session_scope(self._engine) as session:
            since = cursors.since_id(session=session, name=DM_STREAM)
        try:
            batch = self._x.dm_events(after_id=since, max_requests=budget)
        except XError as exc:
            self._dm_requests.append(now)
            self._back_off(DM_STREAM, exc, now)
            return IngestResult()
        self._dm_requests.extend([now] * max(1, batch.requests))
        self._failures.pop(DM_STREAM, None)
        messages = batch.messages
        if since is None:  # the very first poll imports only the backfill window
            messages = [m for m in messages if m.created_at >= now - self._backfill]
        result = self.store_dms(messages)
        newest = self._readable_up_to(
            DM_STREAM, [m.id for m in batch.messages], batch.newest_id, batch.unreadable_ids
        )
        if batch.complete and newest is not None:
            with session_scope(self._engine) as session:
                cursors.advance(session=session, name=DM_STREAM, newest_id=newest, now=now)
        return result

    def store_dms(self, messages: Sequence[DirectMessage]) -> IngestResult:
        """Store DMs from customers (oldest first) in their open ticket, or open a `dm` ticket."""
        result = IngestResult(fetched=len(messages))
        with session_scope(self._engine) as session:
            stored = queries.stored_external_ids(
                session=session, channel=Channel.DM, external_ids=[m.id for m in messages]
            )
            for dm in messages:
                if dm.sender.id == self._brand.id:
                    result.skipped += 1  # our own DMs are stored when they are sent
                elif dm.id in stored:
                    result.duplicates += 1
                else:
                    stored.add(dm.id)
                    self._store_dm(session, dm, result)
        self._notify()
        return result

    def _store_dm(self, session: Session, dm: DirectMessage, result: IngestResult) -> None:
        now = self._clock()
        customer = _customer(session, dm.sender, now)
        assert customer.id is not None
        ticket = queries.open_ticket_of_customer(session=session, customer_id=customer.id)
        new = ticket is None
        if ticket is None:
            ticket = Ticket(
                customer_id=customer.id,
                source=TicketSource.DM,
                channel_id=self._channel,
                out_of_hours=not self._is_open(now),
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
            self._cards.post_new(
                session=session, ticket=ticket, customer=customer, opening=message, now=now
            )
            result.new_tickets.append(ticket.id)
            return
        self._cards.post_customer_message(
            session=session, message=message, customer=customer, now=now
        )
        result.joined += 1

    def poll(self) -> IngestResult:
        """One round: mentions, then every keyword query."""
        result = self.poll_mentions()
        result.add(self.poll_keywords())
        return result

    def poll_mentions(self) -> IngestResult:
        """Read new mentions of the brand account and store them."""
        return self._poll(
            MENTIONS_STREAM,
            lambda since, start: self._x.mentions(self._brand.id, since_id=since, start_time=start),
            TicketSource.MENTION,
        )

    def poll_keywords(self) -> IngestResult:
        """Run every keyword query and store what it finds."""
        result = IngestResult()
        for query in self._queries:
            result.add(
                self._poll(
                    search_stream(query),
                    lambda since, start, q=query: self._x.search(  # type: ignore[misc]
                        q, since_id=since, start_time=start
                    ),
                    TicketSource.KEYWORD,
                    query=query,
                )
            )
        return result

    def _poll(
        self,
        stream: str,
        fetch: Callable[[str | None, datetime | None], TweetBatch],
        source: TicketSource,
        *,
        query: str | None = None,
    ) -> IngestResult:
        now = self._clock()
        blocked = self._blocked_until.get(stream)
        if blocked is not None and blocked > now:
            return IngestResult()
        with session_scope(self._engine) as session:
            since = cursors.since_id(session=session, name=stream)
        start = now - self._backfill if since is None else None
        try:
            batch = fetch(since, start)
        except XError as exc:
            self._back_off(stream, exc, now)
            return IngestResult()
        self._failures.pop(stream, None)
        result = self.store(batch.tweets, source=source, query=query)
        newest = self._readable_up_to(
            stream, [t.id for t in batch.tweets], batch.newest_id, batch.unreadable_ids
        )
        if newest is not None:
            with session_scope(self._engine) as session:
                cursors.advance(session=session, name=stream, newest_id=newest, now=now)
        self.last_success = self._clock()
        return result

    def _readable_up_to(
        self, stream: str, read: Sequence[str], newest: str | None, unreadable: Sequence[str]
    ) -> str | None:
        """How far the cursor may move when X sent entries that could not be read.

        An unreadable entry may be X's hiccup, so the cursor stays below it and the next
        poll reads it again (the readable ones after it are recognised as duplicates);
        after `UNREADABLE_TRIES` polls it is given up, loudly, so one broken entry cannot
        hold the stream back for ever.
        """
        held: list[int] = []
        passable = [int(i) for i in read]
        for entry_id in unreadable:
            tries = self._unreadable.get(entry_id, 0) + 1
            if tries < UNREADABLE_TRIES:
                self._unreadable[entry_id] = tries
                held.append(int(entry_id))
                continue
            del self._unreadable[entry_id]
            passable.append(int(entry_id))
            log.error(
                "gave up on entry %s of %s: X sent it unreadable %d times", entry_id, stream, tries
            )
        if held:
            passable = [i for i in passable if i < min(held)]
        elif newest is not None:
            passable.append(int(newest))
        return str(max(passable)) if passable else None

    def _back_off(self, stream: str, exc: XError, now: datetime) -> None:
        failures = self._failures.get(stream, 0) + 1
        self._failures[stream] = failures
        if isinstance(exc, XRateLimited):
            until = exc.reset_at if exc.reset_at and exc.reset_at > now else now + MAX_BACKOFF
            log.warning("X rate limit on %s; next poll after %s", stream, until.isoformat())
        elif isinstance(exc, XRefused):
            until = now + MAX_BACKOFF
            log.error("X refused the %s poll (%s); retrying in 5 minutes", stream, exc)
        else:
            until = now + min(timedelta(seconds=2**failures), MAX_BACKOFF)
            log.warning("X unavailable for %s (%s); retrying after %s", stream, exc, until)
        self._blocked_until[stream] = until

    # -- storing -------------------------------------------------------------------------

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
            with session_scope(self._engine) as session:
                batch = _Batch(
                    stored=queries.stored_external_ids(
                        session=session, channel=Channel.TWEET, external_ids=[t.id for t in chunk]
                    ),
                    customers=queries.customers_by_x_id(
                        session=session, x_user_ids={t.author.id for t in chunk}
                    ),
                )
                for tweet in chunk:
                    self._store_one(session, tweet, source, query, result, batch)
            self._notify()
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
        if tweet.author.id == self._brand.id:
            result.skipped += 1  # our own replies come back in searches and conversations
            return
        if tweet.id in batch.stored:
            result.duplicates += 1
            return
        batch.stored.add(tweet.id)
        now = self._clock()
        mentioned = (
            source == TicketSource.MENTION
            or tweet.mentions(self._brand)
            or tweet.in_reply_to_user_id == self._brand.id
        )
        known = batch.customers.get(tweet.author.id)
        customer = _customer(session, tweet.author, now, known=known)
        assert customer.id is not None
        if known is None:
            batch.customers[tweet.author.id] = customer
            batch.first_timers.add(customer.id)
        match = self._find_ticket(session, tweet, customer, batch)
        has_pii = self._pii.contains(tweet.text)
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
                    self._cards.refresh(session=session, ticket=match.ticket, now=now)
            self._cards.post_customer_message(
                session=session, message=message, customer=customer, now=now, reopened=match.reopen
            )
            return
        ticket = Ticket(
            customer_id=customer.id,
            source=TicketSource.MENTION if mentioned else source,
            keyword_query=None if mentioned else query,
            conversation_id=tweet.conversation_id or tweet.id,
            channel_id=self._channel,
            is_fail=is_fail_tweet(tweet),
            has_pii=has_pii,
            out_of_hours=not self._is_open(now),
            previous_ticket_id=match.previous.id if match.previous else None,
            created_at=now,
            updated_at=now,
        )
        session.add(ticket)
        session.flush()
        assert ticket.id is not None
        batch.open_tickets[customer.id] = ticket
        opening = self._add_message(session, ticket, tweet, mentioned, need_id=False)
        self._cards.post_new(
            session=session,
            ticket=ticket,
            customer=customer,
            opening=opening,
            now=now,
            # A customer first seen in this batch has no tickets but the ones made here.
            earlier_tickets=0 if customer.id in batch.first_timers else None,
        )
        result.new_tickets.append(ticket.id)

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
            stored_at=self._clock(),
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
        assert ticket.id is not None
        queries.add_event(session=session, ticket_id=ticket.id, kind=EventKind.REOPENED, now=now)
        self._cards.refresh(session=session, ticket=ticket, now=now)
