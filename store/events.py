"""Slack event ids already handled (Slack retries events it thinks we missed)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, insert
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col

from store.models import SlackEvent


def first_time(*, session: Session, event_id: str, now: datetime) -> bool:
    """Record `event_id`; False when it was recorded before (a retry or a duplicate)."""
    try:
        with session.begin_nested():
            session.execute(insert(SlackEvent).values(event_id=event_id, received_at=now))
    except IntegrityError:
        return False
    return True


def forget_before(*, session: Session, before: datetime) -> int:
    """Drop ids older than Slack's retry window; returns how many went."""
    result = session.execute(delete(SlackEvent).where(col(SlackEvent.received_at) < before))
    return int(result.rowcount)  # type: ignore[attr-defined]
