"""One page of tweets, looked up by set and threaded in memory (SPEC §3, Threading).

Which ticket a tweet joins depends on its reply chain, its conversation and its author:
for a page of up to 100 tweets that is five queries in all (customers, replied-to tweets,
conversations, the customers' tickets, those tickets), not five per tweet. The page then
keeps its maps current as each tweet is placed, so a reply to a tweet earlier in the same
page, or a second tweet of the same customer, threads exactly as if it came a poll later.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TypeVar

from sqlmodel import Session

from bot.x_models import Tweet, XUser
from store import inbox as queries
from store.models import Channel, Customer, Ticket, TicketState

REOPEN_WINDOW = timedelta(days=7)
_Key = TypeVar("_Key", str, int)
_NEW = 1 << 62  # tickets of this page have no number yet and are newer than all others


@dataclass(frozen=True)
class Match:
    """Where a tweet goes: a ticket to join (or reopen), or a new one linking `previous`."""

    ticket: Ticket | None = None
    reopen: bool = False
    previous: Ticket | None = None


@dataclass
class Page:
    """What one page needs to thread its tweets, kept current as they are placed."""

    customers: dict[str, Customer]  # by X user id, every author of the page
    by_tweet: dict[str, Ticket]  # the ticket of a stored tweet: replies and quotes join it
    by_conversation: dict[str, Ticket]  # the newest ticket with a message of the conversation
    open_of: dict[int, Ticket]  # a customer's newest ticket that is not resolved
    latest_of: dict[int, Ticket]  # a customer's newest ticket
    counts: dict[int, int]  # how many tickets a customer has had
    now: datetime
    _new: dict[int, int] = field(default_factory=dict)  # id() of this page's tickets -> order
    _open_now: bool | None = None

    @classmethod
    def look_up(cls, session: Session, tweets: Sequence[Tweet], now: datetime) -> Page:
        """Refresh the page's customers and read what threading needs, by set."""
        customers = _customers(session, tweets, now)
        known = [c.id for c in customers.values() if c.id is not None]
        parents = {i for t in tweets for i in (t.replied_to_id, t.quoted_id) if i}
        of_tweets = queries.tickets_of_messages(
            session=session, channel=Channel.TWEET, external_ids=parents
        )
        of_conversations = queries.latest_tickets_in_conversations(
            session=session,
            conversation_ids={t.conversation_id for t in tweets if t.conversation_id},
        )
        of_customers = queries.tickets_of_customers(session=session, customer_ids=known)
        wanted = {*of_tweets.values(), *of_conversations.values()}
        for their in of_customers.values():
            wanted.add(their.latest)
            if their.open is not None:
                wanted.add(their.open)
        tickets = queries.tickets(session=session, ticket_ids=wanted)
        return cls(
            customers=customers,
            by_tweet={tweet: tickets[number] for tweet, number in of_tweets.items()},
            by_conversation={c: tickets[number] for c, number in of_conversations.items()},
            open_of={
                customer: tickets[their.open]
                for customer, their in of_customers.items()
                if their.open is not None
            },
            latest_of={customer: tickets[their.latest] for customer, their in of_customers.items()},
            counts={customer: their.count for customer, their in of_customers.items()},
            now=now,
        )

    def find_ticket(self, tweet: Tweet, customer_id: int) -> Match:
        """Which ticket a tweet belongs to: its reply chain's, its conversation's, its author's.

        Open tickets win. A resolved one of the same conversation is reopened when it was
        resolved less than a week before the tweet; older, it is linked from a new ticket.
        """
        related: list[Ticket] = []
        for parent_id in (tweet.replied_to_id, tweet.quoted_id):
            if parent_id and (parent := self.by_tweet.get(parent_id)) is not None:
                related.append(parent)
        if tweet.conversation_id:
            found = self.by_conversation.get(tweet.conversation_id)
            if found is not None:
                related.append(found)
        for candidate in related:
            if candidate.state != TicketState.RESOLVED:
                return Match(ticket=candidate)
        own = self.open_of.get(customer_id)
        if own is not None:
            return Match(ticket=own)
        for candidate in related:
            resolved_at = candidate.resolved_at or candidate.updated_at
            if tweet.created_at - resolved_at <= REOPEN_WINDOW:
                return Match(ticket=candidate, reopen=True)
            return Match(previous=candidate)
        return Match(previous=self.latest_of.get(customer_id))

    def is_new(self, ticket: Ticket) -> bool:
        """Whether the ticket is one this page opens."""
        return id(ticket) in self._new

    def is_open(self, is_open: Callable[[datetime], bool]) -> bool:
        """Service hours at the page's time (asked once per page)."""
        if self._open_now is None:
            self._open_now = is_open(self.now)
        return self._open_now

    def opened(self, ticket: Ticket, customer_id: int) -> int:
        """Remember a ticket this page opens; how many tickets the customer had before."""
        self._new[id(ticket)] = len(self._new)
        earlier = self.counts.get(customer_id, 0)
        self.counts[customer_id] = earlier + 1
        self.open_of[customer_id] = ticket
        self.latest_of[customer_id] = ticket
        return earlier

    def reopened(self, ticket: Ticket) -> None:
        """A resolved ticket is open again: its customer's newest open one, if newest."""
        self._newest(self.open_of, ticket.customer_id, ticket)

    def stored(self, tweet: Tweet, ticket: Ticket) -> None:
        """The tweet is in `ticket` now: replies to it and its conversation find it."""
        self.by_tweet[tweet.id] = ticket
        self._newest(self.by_conversation, tweet.conversation_id or tweet.id, ticket)

    def _rank(self, ticket: Ticket) -> int:
        new = self._new.get(id(ticket))
        if new is not None:
            return _NEW + new
        assert ticket.id is not None
        return ticket.id

    def _newest(self, where: dict[_Key, Ticket], key: _Key, ticket: Ticket) -> None:
        current = where.get(key)
        if current is None or self._rank(ticket) >= self._rank(current):
            where[key] = ticket


def _customers(session: Session, tweets: Sequence[Tweet], now: datetime) -> dict[str, Customer]:
    """The customers behind the page's authors, created or refreshed with what X says now.

    Two statements: new customers are inserted together, known ones whose name, handle,
    followers or badge changed are updated together (unchanged ones are not written).
    """
    authors: dict[str, XUser] = {tweet.author.id: tweet.author for tweet in tweets}
    known = queries.customers(session=session, x_user_ids=authors)
    new_rows: list[dict[str, object]] = []
    changed: list[dict[str, object]] = []
    for x_id, user in authors.items():
        fields = {
            "username": user.username,
            "name": user.name,
            "followers": user.followers,
            "verified": user.verified,
        }
        row = known.get(x_id)
        if row is None:
            new_rows.append({"x_user_id": x_id, **fields, "created_at": now, "updated_at": now})
        elif any(row[name] != value for name, value in fields.items()):
            row.update(fields, updated_at=now)
            changed.append({"customer_id": row["id"], **fields, "updated_at": now})
    ids = queries.insert_customers(session=session, rows=new_rows)
    for row, customer_id in zip(new_rows, ids, strict=True):
        known[str(row["x_user_id"])] = {**row, "id": customer_id}
    queries.refresh_customers(session=session, rows=changed)
    return {x_id: queries.instance(Customer, known[x_id]) for x_id in authors}
