"""Looking back: a customer's earlier tickets and latest messages, a page of each."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session

from bot.cards import Looks
from bot.present import PAGE_SIZE, Page
from store import tickets as queries
from store.models import Customer

HISTORY_MESSAGES = 10  # the latest messages are longer entries: fewer to a page


@dataclass(frozen=True)
class TicketSummary:
    """A ticket in a list (history)."""

    id: int
    state: str
    source: str
    created_at: datetime
    first_text: str  # as Slack may show it: a DM masked
    owner_slack_id: str | None
    reveal_id: int | None = None  # the first text is a masked DM that can be revealed


@dataclass(frozen=True)
class HistoryEntry:
    """A message in a customer's history."""

    ticket_id: int
    direction: str
    channel: str
    text: str  # as Slack may show it: a DM masked
    at: datetime
    author_slack_id: str | None
    reveal_id: int | None = None  # the text is a masked DM that can be revealed


@dataclass(frozen=True)
class History:
    """A customer's tickets and messages, a page of each."""

    customer_id: int
    username: str
    name: str
    followers: int
    tickets: Page[TicketSummary]
    messages: Page[HistoryEntry]


def history_of(
    session: Session,
    customer: Customer,
    *,
    looks: Looks,
    tickets_from: int = 0,
    messages_from: int = 0,
) -> History:
    """A page of the customer's tickets (newest first) and one of their messages."""
    assert customer.id is not None
    summaries = []
    for ticket in queries.tickets_of_customer(
        session=session, customer_id=customer.id, start=tickets_from, size=PAGE_SIZE
    ):
        assert ticket.id is not None
        first = queries.first_message(session=session, ticket_id=ticket.id)
        text, reveal_id = looks.shown(first) if first else ("", None)
        summaries.append(
            TicketSummary(
                id=ticket.id,
                state=ticket.state,
                source=ticket.source,
                created_at=ticket.created_at,
                first_text=text,
                owner_slack_id=ticket.owner_slack_id,
                reveal_id=reveal_id,
            )
        )
    entries = []
    for message in queries.messages_of_customer(
        session=session, customer_id=customer.id, start=messages_from, size=HISTORY_MESSAGES
    ):
        text, reveal_id = looks.shown(message)
        entries.append(
            HistoryEntry(
                ticket_id=message.ticket_id,
                direction=message.direction,
                channel=message.channel,
                text=text,
                at=message.created_at,
                author_slack_id=message.author_slack_id,
                reveal_id=reveal_id,
            )
        )
    return History(
        customer_id=customer.id,
        username=customer.username,
        name=customer.name,
        followers=customer.followers,
        tickets=Page(
            summaries,
            tickets_from,
            queries.count_tickets_of_customer(session=session, customer_id=customer.id),
        ),
        messages=Page(
            entries,
            messages_from,
            queries.count_messages_of_customer(session=session, customer_id=customer.id),
            size=HISTORY_MESSAGES,
        ),
    )
