"""Statistics by topic (SPEC §13): the same SQL on SQLite and PostgreSQL, as store/stats.py.

Tickets without a topic count under the empty name, shown as "no topic".
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, case, func, literal, or_, select
from sqlmodel import Session, col

from store.models import Ticket
from store.stats import _in, _nearest_rank  # one percentile method for every figure

NO_TOPIC = ""


@dataclass(frozen=True)
class TopicRow:
    """One topic's tickets of the period."""

    topic: str
    tickets_in: int
    answered: int
    p50: float | None
    p90: float | None
    sla_kept: int
    sla_missed: int


@dataclass(frozen=True)
class AgentTopicRow:
    """Who gave the first answer to how many tickets of a topic, and how fast (median)."""

    slack_user_id: str
    topic: str
    answered: int
    p50: float | None


def _topic() -> Any:
    return func.coalesce(col(Ticket.topic), literal(NO_TOPIC))


def by_topic(session: Session, start: datetime, end: datetime, sla_minutes: int) -> list[TopicRow]:
    """Per topic: tickets in, first answers, first-response median and p90, SLA kept/missed."""
    minutes = col(Ticket.first_response_minutes)
    kept = case(
        (
            and_(minutes.is_not(None), minutes <= sla_minutes, col(Ticket.sla_missed_at).is_(None)),
            1,
        ),
        else_=0,
    )
    missed = case((or_(col(Ticket.sla_missed_at).is_not(None), minutes > sla_minutes), 1), else_=0)
    topic = _topic()
    counted = session.execute(
        select(topic.label("topic"), func.count(), func.sum(kept), func.sum(missed))
        .where(_in(col(Ticket.created_at), start, end))
        .group_by(topic)
    ).all()
    values: Any = select(topic.label("key"), minutes.label("value")).where(
        _in(col(Ticket.created_at), start, end), minutes.is_not(None)
    )
    ranks = {
        str(row.key): row
        for row in session.execute(_nearest_rank(values, {"p50": 50, "p90": 90}, by_key=True))
    }
    rows = []
    for name, n, kept_n, missed_n in counted:
        rank = ranks.get(str(name))
        rows.append(
            TopicRow(
                topic=str(name),
                tickets_in=int(n),
                answered=int(rank.n) if rank is not None else 0,
                p50=rank.p50 if rank is not None else None,
                p90=rank.p90 if rank is not None else None,
                sla_kept=int(kept_n or 0),
                sla_missed=int(missed_n or 0),
            )
        )
    return sorted(rows, key=lambda r: (r.topic == NO_TOPIC, -r.tickets_in, r.topic))


def by_agent_and_topic(session: Session, start: datetime, end: datetime) -> list[AgentTopicRow]:
    """Per person and topic: tickets they answered first, and their median first response."""
    topic = _topic()
    # One partition key for the window functions: person and topic in one string.
    key = col(Ticket.first_response_by) + literal("\t") + topic
    values: Any = select(key.label("key"), col(Ticket.first_response_minutes).label("value")).where(
        _in(col(Ticket.created_at), start, end),
        col(Ticket.first_response_minutes).is_not(None),
        col(Ticket.first_response_by).is_not(None),
    )
    rows = []
    for row in session.execute(_nearest_rank(values, {"p50": 50}, by_key=True)):
        person, _, name = str(row.key).partition("\t")
        rows.append(AgentTopicRow(person, name, int(row.n or 0), row.p50))
    return sorted(rows, key=lambda r: (r.slack_user_id, r.topic == NO_TOPIC, r.topic))
