"""Query functions of the Slack posting queue (table `slackoutbox`)."""

from __future__ import annotations

import json
from collections.abc import Collection, Sequence
from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any

from sqlalchemy import Table, bindparam, func, insert, text, update
from sqlmodel import Session, col, select

from store.models import Message, OutboxKind, OutboxState, SlackOutbox, SlackPace, Ticket
from store.types import UTCDateTime

_UNFINISHED = (OutboxState.PENDING.value, OutboxState.SENDING.value)
_OUTBOX: Table = SlackOutbox.__table__  # type: ignore[attr-defined]
_TICKET: Table = Ticket.__table__  # type: ignore[attr-defined]
_MESSAGE: Table = Message.__table__  # type: ignore[attr-defined]
_PACE: Table = SlackPace.__table__  # type: ignore[attr-defined]

# A loose index scan: one index probe per distinct channel instead of reading every
# queued row. The WHERE clause matches the partial index `ix_slackoutbox_open` exactly.
_OPEN_CHANNELS = text(
    """
    WITH RECURSIVE ch(c) AS (
        SELECT MIN(channel) FROM slackoutbox WHERE state IN ('pending', 'sending')
        UNION ALL
        SELECT (SELECT MIN(channel) FROM slackoutbox
                WHERE state IN ('pending', 'sending') AND channel > ch.c)
        FROM ch WHERE ch.c IS NOT NULL
    )
    SELECT c FROM ch WHERE c IS NOT NULL
    """
)


@dataclass(frozen=True)
class QueuedPost:
    """A post to queue with `enqueue_many`: a stand-alone message or a card, no parent."""

    channel: str
    kind: OutboxKind
    payload: dict[str, Any]
    ticket_id: int | None = None
    message_id: int | None = None
    dedup_key: str | None = None


def enqueue(
    *,
    session: Session,
    channel: str,
    kind: OutboxKind,
    payload: dict[str, Any],
    now: datetime,
    ticket_id: int | None = None,
    message_id: int | None = None,
    parent_id: int | None = None,
    dedup_key: str | None = None,
) -> SlackOutbox:
    """Queue one Slack post or update; it is sent after every earlier row of its channel.

    The row is inserted with the session's next flush (at the latest on commit), so that
    a burst of tickets inserts its queue rows in batches.
    """
    row = SlackOutbox(
        channel=channel,
        kind=kind,
        payload=json.dumps(payload, ensure_ascii=False),
        ticket_id=ticket_id,
        message_id=message_id,
        parent_id=parent_id,
        dedup_key=dedup_key,
        not_before=now,
        created_at=now,
    )
    session.add(row)
    return row


def enqueue_many(*, session: Session, rows: Sequence[QueuedPost], now: datetime) -> None:
    """Queue many posts with one statement (a page's cards), in the order given.

    Plain Core: the rows are not needed as objects, and building a `SlackOutbox` for each
    cost more than inserting it.
    """
    if not rows:
        return
    session.connection().execute(
        insert(_OUTBOX),
        [
            {
                "channel": row.channel,
                "kind": row.kind.value,
                "payload": json.dumps(row.payload, ensure_ascii=False),
                "ticket_id": row.ticket_id,
                "message_id": row.message_id,
                "parent_id": None,
                "dedup_key": row.dedup_key,
                "state": OutboxState.PENDING.value,
                "attempts": 0,
                "not_before": now,
                "created_at": now,
            }
            for row in rows
        ],
    )


def find_by_key(*, session: Session, dedup_key: str) -> SlackOutbox | None:
    """The queued row with this de-duplication key, if any."""
    return session.exec(select(SlackOutbox).where(SlackOutbox.dedup_key == dedup_key)).first()


def pending_update(*, session: Session, parent_id: int) -> SlackOutbox | None:
    """An update of the card `parent_id` that has not started sending yet."""
    return session.exec(
        select(SlackOutbox)
        .where(SlackOutbox.parent_id == parent_id)
        .where(SlackOutbox.kind == OutboxKind.UPDATE)
        .where(SlackOutbox.state == OutboxState.PENDING)
    ).first()


def open_channels(*, session: Session) -> list[str]:
    """Channels that have unfinished rows."""
    return [row[0] for row in session.execute(_OPEN_CHANNELS)]


# The worker runs these for every row it sends, so they are built once, with bind
# parameters, as plain Core statements: building ORM statements anew each time cost
# more than the Slack call itself.
_HEAD_OF = (
    select(*_OUTBOX.c)
    # Literal states, not bound parameters: only then does SQLite see that the query
    # matches the partial index's WHERE clause and use it.
    .where(text("state IN ('pending', 'sending')"))
    .where(_OUTBOX.c.channel == bindparam("channel"))
    .order_by(_OUTBOX.c.id)
    .limit(1)
)
_GET = select(*_OUTBOX.c).where(_OUTBOX.c.id == bindparam("row_id"))
_CLAIM_PENDING = (
    update(_OUTBOX)
    .where(_OUTBOX.c.id == bindparam("row_id"))
    .where(_OUTBOX.c.state == OutboxState.PENDING.value)
    .values(
        state=OutboxState.SENDING.value,
        lease_until=bindparam("lease"),
        attempts=_OUTBOX.c.attempts + 1,
    )
)
_CLAIM_STALE = (
    update(_OUTBOX)
    .where(_OUTBOX.c.id == bindparam("row_id"))
    .where(_OUTBOX.c.state == OutboxState.SENDING.value)
    .where(_OUTBOX.c.lease_until <= bindparam("now", type_=_OUTBOX.c.lease_until.type))
    .values(lease_until=bindparam("lease"), attempts=_OUTBOX.c.attempts + 1)
)
_MARK_SENT = (
    update(_OUTBOX)
    .where(_OUTBOX.c.id == bindparam("row_id"))
    .values(
        state=OutboxState.SENT.value,
        result_ts=bindparam("ts"),
        sent_at=bindparam("now"),
        lease_until=None,
    )
)
_CARD_POSTED = (
    update(_TICKET)
    .where(_TICKET.c.id == bindparam("ticket_id"))
    .values(card_ts=bindparam("ts"), channel_id=bindparam("channel"))
)
_MESSAGE_POSTED = (
    update(_MESSAGE)
    .where(_MESSAGE.c.id == bindparam("message_id"))
    .values(slack_ts=bindparam("ts"))
)


@dataclass(frozen=True)
class QueuedRow:
    """A queue row as the worker reads it: plain data, no ORM bookkeeping."""

    id: int
    channel: str
    kind: str
    ticket_id: int | None
    message_id: int | None
    parent_id: int | None
    payload: str
    state: str
    attempts: int
    not_before: datetime
    lease_until: datetime | None
    result_ts: str | None
    created_at: datetime


_ROW_FIELDS = tuple(f.name for f in fields(QueuedRow))


def _queued(row: Any) -> QueuedRow | None:
    if row is None:
        return None
    mapping = row._mapping
    return QueuedRow(**{name: mapping[name] for name in _ROW_FIELDS})


def head_of(*, session: Session, channel: str) -> QueuedRow | None:
    """The oldest unfinished row of `channel`: the only one that may be sent next."""
    return _queued(session.connection().execute(_HEAD_OF, {"channel": channel}).first())


def heads_of(*, session: Session, channel: str, limit: int) -> list[QueuedRow]:
    """The `limit` oldest unfinished rows of `channel`, in the order they are sent."""
    found = session.connection().execute(_HEAD_OF.limit(limit), {"channel": channel})
    return [row for row in map(_queued, found) if row is not None]


def get_many(*, session: Session, row_ids: Collection[int]) -> dict[int, QueuedRow]:
    """Queued rows by id (the cards that a batch's thread messages wait for)."""
    if not row_ids:
        return {}
    found = session.connection().execute(select(*_OUTBOX.c).where(_OUTBOX.c.id.in_(row_ids)))
    return {row.id: row for row in map(_queued, found) if row is not None}


def get(*, session: Session, row_id: int) -> QueuedRow | None:
    """One queued row by id."""
    return _queued(session.connection().execute(_GET, {"row_id": row_id}).first())


def replace_payload(*, session: Session, row_id: int, payload: dict[str, Any]) -> None:
    """Change what a row will send (e.g. without the blocks Slack refused)."""
    session.execute(
        update(SlackOutbox)
        .where(col(SlackOutbox.id) == row_id)
        .values(payload=json.dumps(payload, ensure_ascii=False))
    )


def claim(
    *, session: Session, row_id: int, now: datetime, lease_until: datetime, stale: bool = False
) -> bool:
    """Take a row for sending; False when another worker (or replica) took it first.

    A pending row is claimed as such; a stale row (`sending` whose lease ran out, the
    outcome of its last attempt unknown) only while its lease is still the expired one.
    """
    connection = session.connection()
    if stale:
        result = connection.execute(
            _CLAIM_STALE, {"row_id": row_id, "now": now, "lease": lease_until}
        )
    else:
        result = connection.execute(_CLAIM_PENDING, {"row_id": row_id, "lease": lease_until})
    return result.rowcount == 1


def extend_lease(*, session: Session, row_id: int, lease_until: datetime, error: str) -> None:
    """Keep an unknown-outcome row `sending` until `lease_until`, when it is reconciled."""
    session.execute(
        update(SlackOutbox)
        .where(col(SlackOutbox.id) == row_id)
        .values(lease_until=lease_until, last_error=error[:200])
    )


def release(
    *, session: Session, row_id: int, not_before: datetime, error: str | None = None
) -> None:
    """Put a row back in line (it was certainly not posted), to be tried at `not_before`."""
    session.execute(
        update(SlackOutbox)
        .where(col(SlackOutbox.id) == row_id)
        .values(
            state=OutboxState.PENDING,
            not_before=not_before,
            lease_until=None,
            last_error=error[:200] if error else None,
        )
    )


def mark_failed(*, session: Session, row_id: int, error: str) -> None:
    """Give up on a row Slack will never accept."""
    session.execute(
        update(SlackOutbox)
        .where(col(SlackOutbox.id) == row_id)
        .values(state=OutboxState.FAILED, lease_until=None, last_error=error[:200])
    )


def mark_sent(*, session: Session, row: QueuedRow, ts: str, now: datetime) -> None:
    """Record a delivered row and where it landed (the card's or the message's ts)."""
    mark_sent_many(session=session, sent=[(row, ts, now)])


def mark_sent_many(*, session: Session, sent: Sequence[tuple[QueuedRow, str, datetime]]) -> None:
    """Record delivered rows (row, ts, when) with one statement per table, not per row."""
    if not sent:
        return
    connection = session.connection()
    connection.execute(
        _MARK_SENT, [{"row_id": row.id, "ts": ts, "now": when} for row, ts, when in sent]
    )
    cards = [
        {"ticket_id": row.ticket_id, "ts": ts, "channel": row.channel}
        for row, ts, _ in sent
        if row.kind == OutboxKind.CARD and row.ticket_id is not None
    ]
    if cards:
        connection.execute(_CARD_POSTED, cards)
    messages = [
        {"message_id": row.message_id, "ts": ts}
        for row, ts, _ in sent
        if row.message_id is not None and row.kind != OutboxKind.UPDATE
    ]
    if messages:
        connection.execute(_MESSAGE_POSTED, messages)


# A channel's posting turn, taken with one conditional statement, so that of all replicas
# only one posts into a channel until its `next_at` (the pace holds across replicas).
_TAKE_TURN = (
    update(_PACE)
    .where(_PACE.c.channel == bindparam("pace_channel"))
    .where(_PACE.c.next_at <= bindparam("now", type_=_PACE.c.next_at.type))
    .values(next_at=bindparam("until", type_=_PACE.c.next_at.type))
)
_FIRST_TURN = text(
    "INSERT INTO slackpace (channel, next_at) VALUES (:pace_channel, :until) "
    "ON CONFLICT (channel) DO NOTHING"
).bindparams(bindparam("until", type_=UTCDateTime()))
_NEXT_TURN = select(_PACE.c.next_at).where(_PACE.c.channel == bindparam("pace_channel"))
_HOLD_TURN = (
    update(_PACE)
    .where(_PACE.c.channel == bindparam("pace_channel"))
    .where(_PACE.c.next_at < bindparam("until", type_=_PACE.c.next_at.type))
    .values(next_at=bindparam("until", type_=_PACE.c.next_at.type))
)


def take_turn(*, session: Session, channel: str, now: datetime, until: datetime) -> datetime | None:
    """Take the channel's turn to post, holding it until `until`; None when it is ours.

    Otherwise another replica (or a rate limit) holds it: the time it is free again.
    """
    connection = session.connection()
    values = {"pace_channel": channel, "now": now, "until": until}
    if connection.execute(_TAKE_TURN, values).rowcount == 1:
        return None
    if connection.execute(_FIRST_TURN, values).rowcount == 1:
        return None  # the channel's first post
    free_at: datetime | None = connection.execute(_NEXT_TURN, values).scalar_one_or_none()
    return free_at or now


def hold_turn(*, session: Session, channel: str, until: datetime) -> None:
    """Nobody posts into `channel` before `until` (after a post, or a rate limit)."""
    session.connection().execute(_HOLD_TURN, {"pace_channel": channel, "until": until})


def count_unfinished_in(*, session: Session, channel: str) -> int:
    """How many rows wait to be sent into `channel`."""
    result = (
        session.connection()
        .execute(
            select(func.count())
            .select_from(_OUTBOX)
            # The partial index's own condition, literally, so that SQLite uses it.
            .where(text("state IN ('pending', 'sending')"))
            .where(_OUTBOX.c.channel == channel)
        )
        .scalar_one()
    )
    return int(result)


def count_unfinished(*, session: Session) -> int:
    """How many rows wait to be sent (for /healthz)."""
    result = session.execute(
        text("SELECT COUNT(*) FROM slackoutbox WHERE state IN ('pending', 'sending')")
    ).scalar_one()
    return int(result)
