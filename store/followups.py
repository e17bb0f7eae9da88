"""Query functions of promised follow-ups."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session, col, select

from store.models import FollowUp, FollowUpState


def open_followups(session: Session, *, ticket_id: int | None = None) -> list[FollowUp]:
    """Open follow-ups (of one ticket), soonest first."""
    query = select(FollowUp).where(FollowUp.state == FollowUpState.OPEN)
    if ticket_id is not None:
        query = query.where(FollowUp.ticket_id == ticket_id)
    return list(session.exec(query.order_by(col(FollowUp.due_at))))


def fulfil_promises(session: Session, *, ticket_id: int, now: datetime) -> None:
    """The customer heard from us: every open promise of the ticket is kept (or late)."""
    for followup in open_followups(session, ticket_id=ticket_id):
        followup.state = FollowUpState.KEPT if now <= followup.due_at else FollowUpState.LATE
        followup.closed_at = now
        session.add(followup)
