"""Query functions of promised follow-ups."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func
from sqlmodel import Session, col, select

from store.models import FollowUp, FollowUpState


def open_followups(
    session: Session,
    *,
    ticket_id: int | None = None,
    owner: str | None = None,
    start: int = 0,
    size: int | None = None,
) -> list[FollowUp]:
    """Open follow-ups (of one ticket, or one owner), soonest first; `size` of them from `start`."""
    query = select(FollowUp).where(FollowUp.state == FollowUpState.OPEN)
    if ticket_id is not None:
        query = query.where(FollowUp.ticket_id == ticket_id)
    if owner is not None:
        query = query.where(FollowUp.owner_slack_id == owner)
    query = query.order_by(col(FollowUp.due_at), col(FollowUp.id)).offset(start)
    return list(session.exec(query if size is None else query.limit(size)))


def count_open_followups(session: Session, *, owner: str | None = None) -> int:
    """How many follow-ups are open (of one owner)."""
    query = select(func.count()).select_from(FollowUp).where(FollowUp.state == FollowUpState.OPEN)
    if owner is not None:
        query = query.where(FollowUp.owner_slack_id == owner)
    return int(session.exec(query).one())


def fulfil_promises(session: Session, *, ticket_id: int, now: datetime) -> None:
    """The customer heard from us: every open promise of the ticket is kept (or late)."""
    for followup in open_followups(session, ticket_id=ticket_id):
        followup.state = FollowUpState.KEPT if now <= followup.due_at else FollowUpState.LATE
        followup.closed_at = now
        session.add(followup)
