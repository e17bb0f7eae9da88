"""Query functions of what X costs: requests per day and kind, and the notices given."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from store.models import Reply, ReplyState, Ticket, XNotice, XUsage


def add_usage(*, session: Session, day: str, kind: str, requests: int, units: int) -> None:
    """Add to a day's count of one kind; replicas add to the same row."""
    dialect = session.get_bind().dialect.name
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    statement = insert(XUsage).values(day=day, kind=kind, requests=requests, units=units)
    statement = statement.on_conflict_do_update(
        index_elements=["day", "kind"],
        set_={
            "requests": XUsage.__table__.c.requests + requests,  # type: ignore[attr-defined]
            "units": XUsage.__table__.c.units + units,  # type: ignore[attr-defined]
        },
    )
    session.execute(statement)


def usage_between(*, session: Session, first_day: str, last_day: str) -> dict[str, tuple[int, int]]:
    """Requests and units per kind over the days `first_day`..`last_day` (inclusive)."""
    rows = session.exec(
        select(XUsage.kind, func.sum(XUsage.requests), func.sum(XUsage.units))
        .where(col(XUsage.day) >= first_day)
        .where(col(XUsage.day) <= last_day)
        .group_by(col(XUsage.kind))
    ).all()
    return {kind: (int(requests or 0), int(units or 0)) for kind, requests, units in rows}


def answered_customers(*, session: Session, start: datetime, end: datetime) -> int:
    """How many customers got an answer on X in [start, end]."""
    return int(
        session.exec(
            select(func.count(func.distinct(Ticket.customer_id)))
            .select_from(Reply)
            .join(Ticket, col(Ticket.id) == col(Reply.ticket_id))
            .where(col(Reply.state) == ReplyState.SENT)
            .where(col(Reply.sent_at) >= start)
            .where(col(Reply.sent_at) <= end)
        ).one()
    )


def give_notice(*, session: Session, key: str, now: datetime) -> bool:
    """Record that the notice `key` is given; False when it was given already."""
    try:
        with session.begin_nested():
            session.add(XNotice(key=key, created_at=now))
    except IntegrityError:
        return False
    return True
