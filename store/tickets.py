"""Query functions of customers, tickets and messages."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from typing import Any

from sqlalchemy import and_, case, false, func, or_, text, update
from sqlmodel import Session, col, select

from store.models import (
    MOVED_CARD,
    Channel,
    Customer,
    Direction,
    EventKind,
    FollowUp,
    FollowUpState,
    Message,
    OutboxKind,
    SlackOutbox,
    Ticket,
    TicketEvent,
    TicketState,
)


def customers_by_x_id(*, session: Session, x_user_ids: Collection[str]) -> dict[str, Customer]:
    """The known customers among these X user ids, by X id."""
    if not x_user_ids:
        return {}
    found = session.exec(select(Customer).where(col(Customer.x_user_id).in_(list(x_user_ids))))
    return {customer.x_user_id: customer for customer in found}


def stored_external_ids(
    *, session: Session, channel: str, external_ids: Collection[str]
) -> set[str]:
    """Which of these X ids (tweets or DM events) are stored already."""
    if not external_ids:
        return set()
    found = session.exec(
        select(Message.external_id)
        .where(Message.channel == channel)
        .where(col(Message.external_id).in_(list(external_ids)))
    )
    return {external_id for external_id in found if external_id is not None}


def upsert_customer(
    *,
    session: Session,
    x_user_id: str,
    username: str,
    name: str,
    followers: int,
    verified: bool,
    now: datetime,
    known: Customer | None = None,
) -> Customer:
    """The customer with this X id, created or refreshed with what X says now."""
    customer = (
        known or session.exec(select(Customer).where(Customer.x_user_id == x_user_id)).first()
    )
    if customer is None:
        customer = Customer(x_user_id=x_user_id, created_at=now, username=username)
    customer.username = username
    customer.name = name
    customer.followers = followers
    customer.verified = verified
    customer.updated_at = now
    session.add(customer)
    session.flush()
    return customer


def customer_by_handle(*, session: Session, username: str) -> Customer | None:
    """A customer by @handle, case-insensitively as X treats handles."""
    return session.exec(
        select(Customer).where(func.lower(Customer.username) == username.lower())
    ).first()


def message_by_external_id(*, session: Session, channel: str, external_id: str) -> Message | None:
    """The stored message with this X id (tweet or DM event), if any."""
    return session.exec(
        select(Message).where(Message.channel == channel).where(Message.external_id == external_id)
    ).first()


def ticket(*, session: Session, ticket_id: int) -> Ticket | None:
    """One ticket by number."""
    return session.get(Ticket, ticket_id)


def ticket_for_update(*, session: Session, ticket_id: int) -> Ticket | None:
    """One ticket, locked until the transaction ends, read as it is now.

    PostgreSQL locks the row (`FOR UPDATE`); on SQLite every writing transaction holds the
    database's write lock from its start, which serialises the same way.
    """
    return session.exec(
        select(Ticket)
        .where(col(Ticket.id) == ticket_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).first()


def latest_ticket_in_conversation(*, session: Session, conversation_id: str) -> Ticket | None:
    """The newest ticket that holds a message of this X conversation."""
    return session.exec(
        select(Ticket)
        .join(Message, col(Message.ticket_id) == col(Ticket.id))
        .where(Message.conversation_id == conversation_id)
        .order_by(col(Ticket.id).desc())
        .limit(1)
    ).first()


def open_ticket_of_customer(*, session: Session, customer_id: int) -> Ticket | None:
    """The customer's newest ticket that is not resolved."""
    return session.exec(
        select(Ticket)
        .where(Ticket.customer_id == customer_id)
        .where(Ticket.state != TicketState.RESOLVED)
        .order_by(col(Ticket.id).desc())
        .limit(1)
    ).first()


def latest_ticket_of_customer(*, session: Session, customer_id: int) -> Ticket | None:
    """The customer's newest ticket in any state."""
    return session.exec(
        select(Ticket)
        .where(Ticket.customer_id == customer_id)
        .order_by(col(Ticket.id).desc())
        .limit(1)
    ).first()


def count_earlier_tickets(*, session: Session, customer_id: int, before_ticket_id: int) -> int:
    """How many tickets the customer had before this one."""
    return int(
        session.exec(
            select(func.count())
            .select_from(Ticket)
            .where(Ticket.customer_id == customer_id)
            .where(col(Ticket.id) < before_ticket_id)
        ).one()
    )


def first_message(*, session: Session, ticket_id: int) -> Message | None:
    """The message that opened the ticket."""
    return session.exec(
        select(Message)
        .where(Message.ticket_id == ticket_id)
        .where(Message.direction == "in")
        .order_by(col(Message.id))
        .limit(1)
    ).first()


def claim(*, session: Session, ticket_id: int, agent: str, now: datetime) -> bool:
    """Make `agent` the owner unless someone else is; one statement, so one winner."""
    result = session.execute(
        update(Ticket)
        .where(col(Ticket.id) == ticket_id)
        .where(col(Ticket.state) != TicketState.RESOLVED)
        .where(or_(col(Ticket.owner_slack_id).is_(None), col(Ticket.owner_slack_id) == agent))
        .values(
            owner_slack_id=agent,
            state=case(
                (col(Ticket.state) == TicketState.NEW, TicketState.CLAIMED.value),
                else_=col(Ticket.state),
            ),
            claimed_at=func.coalesce(col(Ticket.claimed_at), now),
            updated_at=now,
        )
        .execution_options(synchronize_session=False)
    )
    session.expire_all()
    return bool(result.rowcount == 1)  # type: ignore[attr-defined]


def repeated_note(
    *,
    session: Session,
    ticket_id: int,
    author: str,
    text: str,
    request_key: str | None,
    since: datetime,
) -> Message | None:
    """The `/note` this one repeats: the same request again, or the same words since `since`."""
    same_words = and_(
        col(Message.ticket_id) == ticket_id,
        col(Message.direction) == Direction.NOTE,
        col(Message.external_id).is_(None),  # written by /note, not in the thread
        col(Message.author_slack_id) == author,
        col(Message.text) == text,
        col(Message.created_at) >= since,
    )
    same_request = col(Message.request_key) == request_key if request_key else false()
    return session.exec(
        select(Message).where(or_(same_request, same_words)).order_by(col(Message.id)).limit(1)
    ).first()


def add_event(
    *,
    session: Session,
    ticket_id: int,
    kind: EventKind,
    now: datetime,
    actor: str | None = None,
    detail: str | None = None,
) -> None:
    """Record what happened to a ticket (audit trail, statistics)."""
    session.add(TicketEvent(ticket_id=ticket_id, kind=kind, actor=actor, detail=detail, at=now))


def ticket_by_card(*, session: Session, channel: str, ts: str) -> Ticket | None:
    """The ticket whose card is the message `ts` in `channel`, or was before a move."""
    ticket = session.exec(
        select(Ticket).where(Ticket.channel_id == channel).where(Ticket.card_ts == ts)
    ).first()
    if ticket is not None:
        return ticket
    moved_from = session.exec(
        select(SlackOutbox.ticket_id)
        # The partial index's own condition, literally, so that SQLite uses it.
        .where(text(MOVED_CARD))
        .where(SlackOutbox.channel == channel)
        .where(SlackOutbox.result_ts == ts)
        .where(SlackOutbox.kind == OutboxKind.CARD)
    ).first()
    return session.get(Ticket, moved_from) if moved_from is not None else None


def newest_customer_tweet(*, session: Session, ticket_id: int) -> Message | None:
    """The latest tweet the customer(s) wrote in this ticket: what a reply answers."""
    return session.exec(
        select(Message)
        .where(Message.ticket_id == ticket_id)
        .where(Message.direction == Direction.IN)
        .where(Message.channel == Channel.TWEET)
        .order_by(col(Message.created_at).desc(), col(Message.id).desc())
        .limit(1)
    ).first()


def tickets_of_customer(
    *, session: Session, customer_id: int, start: int = 0, size: int = 10
) -> list[Ticket]:
    """The customer's tickets, newest first; `size` of them from `start`."""
    return list(
        session.exec(
            select(Ticket)
            .where(Ticket.customer_id == customer_id)
            .order_by(col(Ticket.id).desc())
            .offset(start)
            .limit(size)
        )
    )


def count_tickets_of_customer(*, session: Session, customer_id: int) -> int:
    """How many tickets the customer has had."""
    return int(
        session.exec(
            select(func.count()).select_from(Ticket).where(Ticket.customer_id == customer_id)
        ).one()
    )


def _messages_of_customer(customer_id: int) -> Any:
    return (
        select(Message)
        .join(Ticket, col(Ticket.id) == col(Message.ticket_id))
        .where(Ticket.customer_id == customer_id)
        .where(col(Message.deleted_at).is_(None))
    )


def messages_of_customer(
    *, session: Session, customer_id: int, start: int = 0, size: int = 10
) -> list[Message]:
    """The messages of all the customer's tickets, newest first, deleted notes left out."""
    return list(
        session.exec(
            _messages_of_customer(customer_id)
            .order_by(col(Message.created_at).desc(), col(Message.id).desc())
            .offset(start)
            .limit(size)
        )
    )


def count_messages_of_customer(*, session: Session, customer_id: int) -> int:
    """How many messages `messages_of_customer` has in all."""
    counted = _messages_of_customer(customer_id).with_only_columns(func.count()).order_by(None)
    return int(session.exec(counted).one())


def earliest_open_followup(*, session: Session, ticket_id: int) -> FollowUp | None:
    """The ticket's next promise that is still open."""
    return session.exec(
        select(FollowUp)
        .where(FollowUp.ticket_id == ticket_id)
        .where(FollowUp.state == FollowUpState.OPEN)
        .order_by(col(FollowUp.due_at))
        .limit(1)
    ).first()
