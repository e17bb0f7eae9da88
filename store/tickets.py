"""Query functions of customers, tickets and messages."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime

from sqlalchemy import func
from sqlmodel import Session, col, select

from store.models import Customer, Message, Ticket, TicketState


def customers_by_x_id(*, session: Session, x_user_ids: Collection[str]) -> dict[str, Customer]:
    """The known customers among these X user ids, by X id."""
    if not x_user_ids:
        return {}
    found = session.exec(select(Customer).where(col(Customer.x_user_id).in_(list(x_user_ids))))
    return {customer.x_user_id: customer for customer in found}


def stored_x_ids(*, session: Session, channel: str, x_ids: Collection[str]) -> set[str]:
    """Which of these X ids (tweets or DM events) are stored already."""
    if not x_ids:
        return set()
    found = session.exec(
        select(Message.x_id)
        .where(Message.channel == channel)
        .where(col(Message.x_id).in_(list(x_ids)))
    )
    return {x_id for x_id in found if x_id is not None}


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


def message_by_x_id(*, session: Session, channel: str, x_id: str) -> Message | None:
    """The stored message with this X id (tweet or DM event), if any."""
    return session.exec(
        select(Message).where(Message.channel == channel).where(Message.x_id == x_id)
    ).first()


def ticket(*, session: Session, ticket_id: int) -> Ticket | None:
    """One ticket by number."""
    return session.get(Ticket, ticket_id)


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
