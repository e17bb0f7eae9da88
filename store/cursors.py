"""Ingest cursors: the newest X id stored per stream (mentions, each search, DMs)."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session

from store.models import IngestCursor


def since_id(*, session: Session, name: str) -> str | None:
    """Where the stream `name` continues, or None before its first tweet."""
    cursor = session.get(IngestCursor, name)
    return cursor.since_id if cursor else None


def advance(*, session: Session, name: str, newest_id: str, now: datetime) -> None:
    """Move the stream's cursor forward (never back: X ids grow with time)."""
    cursor = session.get(IngestCursor, name)
    if cursor is None:
        session.add(IngestCursor(name=name, since_id=newest_id, updated_at=now))
    elif cursor.since_id is None or int(newest_id) > int(cursor.since_id):
        cursor.since_id = newest_id
        cursor.updated_at = now
        session.add(cursor)
