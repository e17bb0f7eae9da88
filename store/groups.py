"""Query functions of groups of alike questions (tables `ticketgroup`, `groupmember`)."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime

from sqlalchemy import func
from sqlmodel import Session, col, select

from store.models import (
    Channel,
    Customer,
    Direction,
    GroupMember,
    GroupState,
    Message,
    Reply,
    SlackOutbox,
    Ticket,
    TicketGroup,
    TicketState,
)

Member = tuple[GroupMember, Ticket, Customer]


def membership(*, session: Session, ticket_id: int) -> GroupMember | None:
    """The ticket's place in a group (also when it was taken out), if it ever had one."""
    return session.get(GroupMember, ticket_id)


def memberships(*, session: Session, ticket_ids: Collection[int]) -> dict[int, GroupMember]:
    """The place in a group of each of these tickets that ever had one, in one query."""
    if not ticket_ids:
        return {}
    rows = session.exec(select(GroupMember).where(col(GroupMember.ticket_id).in_(list(ticket_ids))))
    return {member.ticket_id: member for member in rows}


def groups_of(*, session: Session, ticket_ids: Collection[int]) -> dict[int, int]:
    """The group each of these tickets is in now (taken-out members are in none)."""
    if not ticket_ids:
        return {}
    rows = session.exec(
        select(GroupMember.ticket_id, GroupMember.group_id)
        .where(col(GroupMember.ticket_id).in_(list(ticket_ids)))
        .where(col(GroupMember.taken_out_at).is_(None))
    )
    return {ticket_id: group_id for ticket_id, group_id in rows}


def group_holder(*, session: Session, group_id: int) -> str | None:
    """Who owns the group's open members: the owner of its earliest member that has one."""
    return session.exec(
        select(Ticket.owner_slack_id)
        .join(GroupMember, col(GroupMember.ticket_id) == Ticket.id)
        .where(GroupMember.group_id == group_id)
        .where(col(GroupMember.taken_out_at).is_(None))
        .where(col(Ticket.owner_slack_id).is_not(None))
        .where(Ticket.state != TicketState.RESOLVED)
        .order_by(col(Ticket.id))
        .limit(1)
    ).first()


def groupable(*, session: Session, ticket_ids: Collection[int]) -> set[int]:
    """Which of these tickets are open and were never in a group (never taken out)."""
    if not ticket_ids:
        return set()
    grouped = select(GroupMember.ticket_id).where(col(GroupMember.ticket_id).in_(list(ticket_ids)))
    found = session.exec(
        select(Ticket.id)
        .where(col(Ticket.id).in_(list(ticket_ids)))
        .where(Ticket.state != TicketState.RESOLVED)
        .where(col(Ticket.id).not_in(grouped))
    )
    return {ticket_id for ticket_id in found if ticket_id is not None}


def open_tickets_since(
    *, session: Session, since: datetime
) -> list[tuple[int, str, datetime, int | None]]:
    """Open tickets created since `since`: id, first customer message, time, group.

    Tickets taken out of a group are left out: they are grouped no more.
    """
    first = (
        select(Message.ticket_id, func.min(Message.id).label("first_id"))
        .where(Message.direction == Direction.IN)
        .group_by(col(Message.ticket_id))
        .subquery()
    )
    rows = session.exec(
        select(Ticket.id, Message.text, Ticket.created_at, GroupMember)
        .join(first, first.c.ticket_id == Ticket.id)
        .join(Message, col(Message.id) == first.c.first_id)
        .outerjoin(GroupMember, col(GroupMember.ticket_id) == Ticket.id)
        .where(Ticket.state != TicketState.RESOLVED)
        .where(Ticket.created_at >= since)
        .order_by(col(Ticket.created_at), col(Ticket.id))
    )
    found: list[tuple[int, str, datetime, int | None]] = []
    for ticket_id, text, at, member in rows:
        if member is not None and member.taken_out_at is not None:
            continue
        group = None
        if member is not None:
            group_row = session.get(TicketGroup, member.group_id)
            group = member.group_id if group_row and group_row.state == GroupState.OPEN else None
        assert ticket_id is not None
        found.append((ticket_id, text, at, group))
    return found


def members(
    *,
    session: Session,
    group_id: int,
    start: int = 0,
    limit: int | None = None,
    batch: int | None = None,
    with_out: bool = False,
) -> list[Member]:
    """A group's members in the order they joined (`batch`: listed in that thread message)."""
    query = (
        select(GroupMember, Ticket, Customer)
        .join(Ticket, col(Ticket.id) == GroupMember.ticket_id)
        .join(Customer, col(Customer.id) == Ticket.customer_id)
        .where(GroupMember.group_id == group_id)
        .order_by(col(GroupMember.joined_at), col(GroupMember.ticket_id))
    )
    if not with_out:
        query = query.where(col(GroupMember.taken_out_at).is_(None))
    if batch is not None:
        query = query.where(GroupMember.batch == batch)
    query = query.offset(start)
    if limit is not None:
        query = query.limit(limit)
    return list(session.exec(query).all())


def count_members(*, session: Session, group_id: int) -> int:
    """How many customers a group has now (taken-out ones not counted)."""
    return int(
        session.exec(
            select(func.count())
            .select_from(GroupMember)
            .where(GroupMember.group_id == group_id)
            .where(col(GroupMember.taken_out_at).is_(None))
        ).one()
    )


def latest_batch(*, session: Session, group_id: int) -> tuple[int, int]:
    """The group's newest thread batch and how many members it lists ((0, 0): none yet)."""
    newest = session.exec(
        select(func.max(GroupMember.batch)).where(GroupMember.group_id == group_id)
    ).one()
    if newest is None:
        return 0, 0
    listed = session.exec(
        select(func.count())
        .select_from(GroupMember)
        .where(GroupMember.group_id == group_id)
        .where(GroupMember.batch == newest)
    ).one()
    return int(newest), int(listed)


def first_messages(*, session: Session, ticket_ids: Collection[int]) -> dict[int, Message]:
    """Each ticket's first customer message."""
    if not ticket_ids:
        return {}
    first = (
        select(func.min(Message.id))
        .where(col(Message.ticket_id).in_(list(ticket_ids)))
        .where(Message.direction == Direction.IN)
        .group_by(col(Message.ticket_id))
    )
    found = session.exec(select(Message).where(col(Message.id).in_(first)))
    return {message.ticket_id: message for message in found}


def newest_tweets(*, session: Session, ticket_ids: Collection[int]) -> dict[int, Message]:
    """Each ticket's newest customer tweet (what a reply answers), in one query."""
    if not ticket_ids:
        return {}
    newest: dict[int, Message] = {}
    found = session.exec(
        select(Message)
        .where(col(Message.ticket_id).in_(list(ticket_ids)))
        .where(Message.direction == Direction.IN)
        .where(Message.channel == Channel.TWEET)
        .order_by(col(Message.created_at), col(Message.id))
    )
    for message in found:  # later ones replace earlier ones
        newest[message.ticket_id] = message
    return newest


def reply_states(*, session: Session, group_id: int) -> dict[str, int]:
    """How many of a group answer's rows are in each state."""
    rows = session.exec(
        select(Reply.state, func.count()).where(Reply.group_id == group_id).group_by(Reply.state)
    )
    return {state: int(number) for state, number in rows}


def answered_tickets(*, session: Session, ticket_ids: Collection[int]) -> set[int]:
    """Which of these tickets have an answer of a person (individual or group) on its way."""
    if not ticket_ids:
        return set()
    found = session.exec(
        select(Reply.ticket_id)
        .where(col(Reply.ticket_id).in_(list(ticket_ids)))
        .where(col(Reply.automatic).is_(False))
        .where(col(Reply.state).not_in(["failed", "rejected", "cancelled"]))
    )
    first_responses = session.exec(
        select(Ticket.id)
        .where(col(Ticket.id).in_(list(ticket_ids)))
        .where(col(Ticket.first_response_at).is_not(None))
    )
    return set(found) | {ticket_id for ticket_id in first_responses if ticket_id is not None}


def card_rows(*, session: Session, ticket_ids: Collection[int]) -> set[int]:
    """Which of these tickets have a card of their own."""
    if not ticket_ids:
        return set()
    found = session.exec(
        select(SlackOutbox.ticket_id)
        .where(col(SlackOutbox.ticket_id).in_(list(ticket_ids)))
        .where(SlackOutbox.kind == "card")
    )
    return {ticket_id for ticket_id in found if ticket_id is not None}
