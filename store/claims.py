"""How the posting worker takes rows to send: a channel's head of line, by batch, at once.

One transaction reads the channel's oldest unfinished rows and the cards its thread
messages wait for, takes the channel's posting turn (`slackpace`, shared by replicas) and
claims the rows that may go now, all or none, so that a burst costs one claim per batch
instead of three statements and a commit per row. Rows stay in id order per channel: only
the head of line and the rows right behind it are ever claimed, by one worker at a time.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import Table, update
from sqlmodel import Session

from store import outbox
from store.models import OutboxState, SlackOutbox
from store.outbox import QueuedRow

_OUTBOX: Table = SlackOutbox.__table__  # type: ignore[attr-defined]
_UNFINISHED = (OutboxState.PENDING, OutboxState.SENDING)


@dataclass(frozen=True)
class Claim:
    """What a worker took: rows to send in order (none: see `wait_until`)."""

    rows: list[QueuedRow] = field(default_factory=list)
    parents: dict[int, QueuedRow] = field(default_factory=dict)  # the cards, by id
    stale: bool = False  # one row whose last attempt's outcome is unknown: reconcile it
    wait_until: datetime | None = None  # nothing is due before then
    busy_until: datetime | None = None  # another replica (or a rate limit) holds the turn


def claim_heads(
    *,
    session: Session,
    channel: str,
    now: datetime,
    limit: int,
    interval: timedelta,
    lease: timedelta,
) -> Claim:
    """Claim up to `limit` of the channel's head rows that may be sent now.

    The head may be a stale row (`sending`, its lease run out): it is claimed alone.
    Otherwise the pending rows from the head on are claimed as long as each is due and
    its card, if it has one, is posted; a thread message whose card is in the same batch
    waits for the next, which knows the card's `ts`. Each row's lease covers the posts
    before it at `interval`. On a lost race the caller's transaction is rolled back.
    """
    heads = outbox.heads_of(session=session, channel=channel, limit=limit)
    if not heads:
        return Claim()
    head = heads[0]
    stale = head.state == OutboxState.SENDING
    due = head.lease_until if stale else head.not_before
    if due is not None and due > now:
        return Claim(wait_until=due)
    parents = outbox.get_many(session=session, row_ids={r.parent_id for r in heads if r.parent_id})
    rows: list[QueuedRow] = []
    for row in [head] if stale else heads:
        if rows and (row.state != OutboxState.PENDING or row.not_before > now):
            break
        parent = parents.get(row.parent_id) if row.parent_id else None
        if parent is not None and parent.state in _UNFINISHED:
            break  # the card is still on its way; its thread waits
        rows.append(row)
    if not rows:
        return Claim()
    # The pace lives in the database, so that all replicas together keep to it.
    busy_until = outbox.take_turn(session=session, channel=channel, now=now, until=now + interval)
    if busy_until is not None:
        return Claim(busy_until=busy_until)
    lease_until = now + lease + interval * len(rows)
    if stale:
        taken = outbox.claim(
            session=session, row_id=head.id, now=now, lease_until=lease_until, stale=True
        )
    else:
        taken = claim_many(session=session, row_ids=[r.id for r in rows], lease_until=lease_until)
    if not taken:
        session.rollback()  # another replica has the rows: the turn is not used
        return Claim()
    return Claim(rows=rows, parents=parents, stale=stale)


def claim_many(*, session: Session, row_ids: Sequence[int], lease_until: datetime) -> bool:
    """Take pending rows for sending, all or none; False when another worker took one first.

    On False the caller rolls back: a batch is claimed whole, so that a channel's rows
    are sent in order by one worker at a time.
    """
    result = session.connection().execute(
        update(_OUTBOX)
        .where(_OUTBOX.c.id.in_(list(row_ids)))
        .where(_OUTBOX.c.state == OutboxState.PENDING.value)
        .values(
            state=OutboxState.SENDING.value,
            lease_until=lease_until,
            attempts=_OUTBOX.c.attempts + 1,
        )
    )
    return bool(result.rowcount == len(row_ids))


def unclaim(*, session: Session, row_ids: Sequence[int]) -> None:
    """Give back claimed rows that were certainly not sent (a batch stopped before them)."""
    if row_ids:
        session.connection().execute(
            update(_OUTBOX)
            .where(_OUTBOX.c.id.in_(list(row_ids)))
            .where(_OUTBOX.c.state == OutboxState.SENDING.value)
            .values(
                state=OutboxState.PENDING.value,
                lease_until=None,
                attempts=_OUTBOX.c.attempts - 1,
            )
        )


def finish(
    *,
    session: Session,
    sent: Sequence[tuple[QueuedRow, str, datetime]],
    given_back: Sequence[int],
    until: datetime | None,
) -> None:
    """Record a batch: the rows sent (row, ts, when), those given back, the turn held.

    Nobody posts into the channel before `until` (after the last post, the pace).
    """
    outbox.mark_sent_many(session=session, sent=sent)
    unclaim(session=session, row_ids=given_back)
    if sent and until is not None:
        outbox.hold_turn(session=session, channel=sent[-1][0].channel, until=until)
