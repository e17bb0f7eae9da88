"""The posting queue, as the domain writes it: every Slack post and update is a row.

Services add rows inside their own transaction, so a ticket and its card are stored
together or not at all; the worker in `bot/slack.py` sends them. A thread message waits
for its card's `ts`; an update of a card that has not been sent yet is folded into it.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime

from sqlmodel import Session

from bot.present import SlackMessage
from store import outbox
from store.models import OutboxKind, OutboxState, SlackOutbox


def post_card(
    *, session: Session, ticket_id: int, channel: str, message: SlackMessage, now: datetime
) -> SlackOutbox:
    """Queue a ticket's card; its `ts` becomes the ticket's thread."""
    return outbox.enqueue(
        session=session,
        channel=channel,
        kind=OutboxKind.CARD,
        payload=dict(message),
        now=now,
        ticket_id=ticket_id,
        dedup_key=f"card:{ticket_id}",
    )


def post_cards(
    *, session: Session, cards: Sequence[tuple[int, str, SlackMessage]], now: datetime
) -> None:
    """Queue the cards of many tickets (`ticket_id, channel, message`) at once, in order."""
    outbox.enqueue_many(
        session=session,
        rows=[
            outbox.QueuedPost(
                channel=channel,
                kind=OutboxKind.CARD,
                payload=dict(message),
                ticket_id=ticket_id,
                dedup_key=f"card:{ticket_id}",
            )
            for ticket_id, channel, message in cards
        ],
        now=now,
    )


def card_row(*, session: Session, ticket_id: int) -> SlackOutbox:
    """The queue row of a ticket's card (a ticket in a group may have none: `find_card`)."""
    row = find_card(session=session, ticket_id=ticket_id)
    if row is None:
        raise LookupError(f"ticket {ticket_id} has no card")
    return row


def find_card(*, session: Session, ticket_id: int) -> SlackOutbox | None:
    """The queue row of a ticket's card; None for a group member shown in the group's thread."""
    return outbox.find_by_key(session=session, dedup_key=f"card:{ticket_id}")


def post_in_thread(
    *,
    session: Session,
    ticket_id: int,
    message: SlackMessage,
    now: datetime,
    message_id: int | None = None,
    dedup_key: str | None = None,
) -> SlackOutbox:
    """Queue a message in the ticket's thread; it waits for the card's `ts`."""
    card = card_row(session=session, ticket_id=ticket_id)
    return outbox.enqueue(
        session=session,
        channel=card.channel,
        kind=OutboxKind.THREAD,
        payload=dict(message),
        now=now,
        ticket_id=ticket_id,
        message_id=message_id,
        parent_id=card.id,
        dedup_key=dedup_key,
    )


def refresh_card(*, session: Session, ticket_id: int, message: SlackMessage, now: datetime) -> None:
    """Show the ticket's current state on its card."""
    _show(session, card_row(session=session, ticket_id=ticket_id), message, now)


def update_posted(
    *, session: Session, dedup_key: str, message: SlackMessage, now: datetime
) -> None:
    """Change a message posted earlier (found by its queue key) with `chat.update`."""
    posted = outbox.find_by_key(session=session, dedup_key=dedup_key)
    if posted is None:
        raise LookupError(f"nothing was posted as {dedup_key}")
    _show(session, posted, message, now)


def show(*, session: Session, posted: SlackOutbox, message: SlackMessage, now: datetime) -> None:
    """Make a queued (or posted) message show `message`: see `_show`."""
    _show(session, posted, message, now)


def _show(session: Session, posted: SlackOutbox, message: SlackMessage, now: datetime) -> None:
    """Make a queued message show `message`.

    An unsent message is simply rewritten; otherwise one pending update per message is
    kept, always with the newest content, so a busy ticket costs one `chat.update`.
    """
    payload = json.dumps(dict(message), ensure_ascii=False)
    if posted.state == OutboxState.PENDING:
        posted.payload = payload
        session.add(posted)
        return
    assert posted.id is not None
    waiting = outbox.pending_update(session=session, parent_id=posted.id)
    if waiting is not None:
        waiting.payload = payload
        session.add(waiting)
        return
    outbox.enqueue(
        session=session,
        channel=posted.channel,
        kind=OutboxKind.UPDATE,
        payload=dict(message),
        now=now,
        ticket_id=posted.ticket_id,
        parent_id=posted.id,
    )


def post_to_channel(
    *,
    session: Session,
    channel: str,
    message: SlackMessage,
    now: datetime,
    dedup_key: str | None = None,
    ticket_id: int | None = None,
    kind: OutboxKind = OutboxKind.POST,
) -> SlackOutbox:
    """Queue a stand-alone message: into a channel, or (`kind` DM, `channel` a user id) to a
    person, in the conversation `conversations.open` finds when it is sent."""
    return outbox.enqueue(
        session=session,
        channel=channel,
        kind=kind,
        payload=dict(message),
        now=now,
        ticket_id=ticket_id,
        dedup_key=dedup_key,
    )
