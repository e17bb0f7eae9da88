"""The statistics queries: aggregations in the database, the same SQL on SQLite and PostgreSQL.

Percentiles use the nearest-rank method with window functions (`ROW_NUMBER` and `COUNT`
over a partition), which both databases have, instead of loading rows into Python.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, case, func, or_, select
from sqlmodel import Session, col

from store.models import (
    EventKind,
    FollowUp,
    FollowUpState,
    Reply,
    ReplyState,
    Ticket,
    TicketEvent,
    TicketState,
)


@dataclass(frozen=True)
class Backlog:
    """Open work right now."""

    unclaimed: int
    claimed: int
    followup_pending: int
    overdue: int


def _in(column: Any, start: datetime, end: datetime) -> ColumnElement[bool]:
    # Periods end "now", and what happened this very instant belongs to them.
    return and_(column >= start, column <= end)


def answers_out(session: Session, start: datetime, end: datetime) -> dict[str, int]:
    """Answers sent by people in [start, end], by kind (`tweet`, `dm`)."""
    rows = session.execute(
        select(col(Reply.kind), func.count())
        .where(col(Reply.state) == ReplyState.SENT)
        .where(col(Reply.automatic).is_(False))
        .where(_in(col(Reply.sent_at), start, end))
        .group_by(col(Reply.kind))
    ).all()
    return {str(kind): int(n) for kind, n in rows}


def backlog(session: Session, now: datetime) -> Backlog:
    """Unclaimed and claimed open tickets; pending and overdue promises."""
    open_ticket = col(Ticket.state) != TicketState.RESOLVED
    unclaimed, claimed = session.execute(
        select(
            func.coalesce(func.sum(case((col(Ticket.owner_slack_id).is_(None), 1), else_=0)), 0),
            func.coalesce(func.sum(case((col(Ticket.owner_slack_id).is_not(None), 1), else_=0)), 0),
        ).where(open_ticket)
    ).one()
    pending, overdue = session.execute(
        select(
            func.coalesce(func.sum(case((col(FollowUp.due_at) > now, 1), else_=0)), 0),
            func.coalesce(func.sum(case((col(FollowUp.due_at) <= now, 1), else_=0)), 0),
        ).where(col(FollowUp.state) == FollowUpState.OPEN)
    ).one()
    return Backlog(int(unclaimed), int(claimed), int(pending), int(overdue))


def _nearest_rank(values: Any, percents: dict[str, int], *, by_key: bool = False) -> Any:
    """Nearest-rank percentiles (rank = ceil(n * p / 100)) of the column `value` of `values`.

    With `by_key`, `values` also has a column `key` and the percentiles are per key. The
    ceiling is integer arithmetic, because SQLite's CEIL is an optional extension.
    """
    inner = values.subquery()
    partition = [inner.c.key] if by_key else []
    ranked = select(
        inner.c.value,
        *partition,
        func.row_number().over(partition_by=partition, order_by=inner.c.value).label("rank"),
        func.count().over(partition_by=partition).label("n"),
    ).subquery()
    columns = [
        func.max(case((ranked.c.rank == (ranked.c.n * percent + 99) // 100, ranked.c.value))).label(
            name
        )
        for name, percent in percents.items()
    ]
    keys = [ranked.c.key] if by_key else []
    query = select(*keys, *columns, func.max(ranked.c.n).label("n"))
    return query.group_by(*keys) if by_key else query


def first_response_percentiles(
    session: Session, start: datetime, end: datetime
) -> tuple[float | None, float | None, int]:
    """Median and 90th percentile of first-response business minutes, and how many answered."""
    values: Any = select(col(Ticket.first_response_minutes).label("value")).where(
        _in(col(Ticket.created_at), start, end), col(Ticket.first_response_minutes).is_not(None)
    )
    row = session.execute(_nearest_rank(values, {"p50": 50, "p90": 90})).one()
    return row.p50, row.p90, int(row.n or 0)


def sla_counts(
    session: Session, start: datetime, end: datetime, sla_minutes: int
) -> tuple[int, int]:
    """Tickets of [start, end] that got their first answer within the SLA, and that did not."""
    kept_case = case(
        (
            and_(
                col(Ticket.first_response_minutes).is_not(None),
                col(Ticket.first_response_minutes) <= sla_minutes,
                col(Ticket.sla_missed_at).is_(None),
            ),
            1,
        ),
        else_=0,
    )
    missed_case = case(
        (
            or_(
                col(Ticket.sla_missed_at).is_not(None),
                col(Ticket.first_response_minutes) > sla_minutes,
            ),
            1,
        ),
        else_=0,
    )
    kept, missed = session.execute(
        select(
            func.coalesce(func.sum(kept_case), 0), func.coalesce(func.sum(missed_case), 0)
        ).where(_in(col(Ticket.created_at), start, end))
    ).one()
    return int(kept), int(missed)


def promise_counts(
    session: Session, start: datetime, end: datetime, now: datetime
) -> tuple[int, int]:
    """Promises due in [start, end] and already due: kept, and broken (late or still open)."""
    due = and_(_in(col(FollowUp.due_at), start, end), col(FollowUp.due_at) <= now)
    kept, broken = session.execute(
        select(
            func.coalesce(
                func.sum(case((col(FollowUp.state) == FollowUpState.KEPT, 1), else_=0)), 0
            ),
            func.coalesce(
                func.sum(
                    case(
                        (col(FollowUp.state).in_([FollowUpState.LATE, FollowUpState.OPEN]), 1),
                        else_=0,
                    )
                ),
                0,
            ),
        ).where(due)
    ).one()
    return int(kept), int(broken)


def events_by_actor(
    session: Session, kind: EventKind, start: datetime, end: datetime
) -> dict[str, int]:
    """How many events of `kind` each person caused in [start, end]."""
    rows = session.execute(
        select(col(TicketEvent.actor), func.count())
        .where(col(TicketEvent.kind) == kind, _in(col(TicketEvent.at), start, end))
        .where(col(TicketEvent.actor).is_not(None))
        .group_by(col(TicketEvent.actor))
    ).all()
    return {str(actor): int(n) for actor, n in rows}


def replies_by_author(session: Session, start: datetime, end: datetime) -> dict[str, int]:
    """Answers each person sent in [start, end]."""
    rows = session.execute(
        select(col(Reply.author_slack_id), func.count())
        .where(col(Reply.state) == ReplyState.SENT, col(Reply.automatic).is_(False))
        .where(_in(col(Reply.sent_at), start, end))
        .group_by(col(Reply.author_slack_id))
    ).all()
    return {str(author): int(n) for author, n in rows}


def median_first_response_by_agent(
    session: Session, start: datetime, end: datetime
) -> dict[str, float]:
    """Median first-response business minutes per person who gave the first answer."""
    values: Any = select(
        col(Ticket.first_response_by).label("key"),
        col(Ticket.first_response_minutes).label("value"),
    ).where(
        _in(col(Ticket.created_at), start, end), col(Ticket.first_response_minutes).is_not(None)
    )
    rows = session.execute(_nearest_rank(values, {"p50": 50}, by_key=True)).all()
    return {str(row.key): float(row.p50) for row in rows if row.key is not None}


def hour_buckets(
    session: Session, start: datetime, end: datetime
) -> list[tuple[datetime, int, float | None]]:
    """Tickets per UTC hour in [start, end], with the hour's median first-response minutes.

    Bucketing by UTC hour keeps the SQL the same on both databases; the caller folds the
    hours into local hours and days, which is exact across DST changes.
    """
    bucket = _utc_hour(session)
    inner: Any = select(
        bucket.label("key"), col(Ticket.first_response_minutes).label("value")
    ).where(_in(col(Ticket.created_at), start, end))
    counted = session.execute(
        select(bucket.label("hour"), func.count())
        .where(_in(col(Ticket.created_at), start, end))
        .group_by(bucket)
    ).all()
    medians = {
        str(row.key): row.p50
        for row in session.execute(
            _nearest_rank(
                inner.where(col(Ticket.first_response_minutes).is_not(None)),
                {"p50": 50},
                by_key=True,
            )
        ).all()
    }
    result = []
    for hour, n in counted:
        moment = datetime.strptime(str(hour), "%Y-%m-%d %H").replace(tzinfo=start.tzinfo)
        result.append((moment, int(n), medians.get(str(hour))))
    return result


def _utc_hour(session: Session) -> ColumnElement[str]:
    """The UTC hour of a ticket's creation as text `YYYY-MM-DD HH`, on either database."""
    if session.get_bind().dialect.name == "postgresql":
        return func.to_char(func.timezone("UTC", col(Ticket.created_at)), "YYYY-MM-DD HH24")
    return func.strftime("%Y-%m-%d %H", col(Ticket.created_at))


def top_canned(
    session: Session, start: datetime, end: datetime, limit: int = 5
) -> list[tuple[str, int]]:
    """The canned answers sent most in [start, end]."""
    rows = session.execute(
        select(col(Reply.canned_name), func.count().label("n"))
        .where(col(Reply.state) == ReplyState.SENT, col(Reply.canned_name).is_not(None))
        .where(_in(col(Reply.sent_at), start, end))
        .group_by(col(Reply.canned_name))
        .order_by(func.count().desc(), col(Reply.canned_name))
        .limit(limit)
    ).all()
    return [(str(name), int(n)) for name, n in rows]


def _open_tickets(owner: str) -> Any:
    return select(Ticket).where(
        col(Ticket.owner_slack_id) == owner, col(Ticket.state) != TicketState.RESOLVED
    )


def open_tickets_of(
    session: Session, owner: str, *, start: int = 0, size: int = 20
) -> list[Ticket]:
    """A person's open tickets, oldest first; `size` of them from `start`."""
    return list(
        session.scalars(_open_tickets(owner).order_by(col(Ticket.id)).offset(start).limit(size))
    )


def count_open_tickets_of(session: Session, owner: str) -> int:
    """How many open tickets a person holds."""
    counted = _open_tickets(owner).with_only_columns(func.count()).order_by(None)
    return int(session.execute(counted).scalar_one())
