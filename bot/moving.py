"""Moving a ticket to another topic's channel (the card's Topic menu, `/topic move`).

A move is one transaction over the Slack outbox, whose rows are sent exactly once, so a
crash halfway loses nothing and doubles nothing: either the ticket has its new card
queued in the new channel (the conversation so far summarised in its thread) and its
old card queued to say where it went, or nothing changed.

The ticket's card is the outbox row keyed `card:<ticket>`; thread posts, follow-up
pings and SLA alerts go to that row's channel. A move gives the key to the new card,
so everything after the move happens in the new channel. An old card not yet posted is
not posted at all, and what waits for its thread is queued again behind the new card
(nobody saw the old thread, so the new one needs no summary); a card being posted this
instant makes the move wait for a retry.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Engine
from sqlmodel import Session, col, select

from bot import outbox
from bot.clock import Clock, system_clock
from bot.errors import Refused
from bot.feed import Change, TicketFeed
from bot.present import MovedLine, MovedView
from bot.roster import Member
from bot.topics import find, shown_name
from store import outbox as rows
from store import tickets as queries
from store.db import after_commit, session_scope
from store.models import (
    Direction,
    EventKind,
    Message,
    OutboxKind,
    OutboxState,
    SlackOutbox,
    Ticket,
)

SUMMARY_MESSAGES = 15  # the newest messages shown in the new thread; /history has all


@dataclass(frozen=True, kw_only=True)
class Moves:
    """Moves tickets between topics' channels."""

    engine: Engine
    feed: TicketFeed
    support_channel: str
    clock: Clock = system_clock

    def move(self, *, ticket_id: int, topic: str | None, member: Member) -> TicketRule:
        """Give the ticket the topic named (None: no topic, the support channel)."""
        now = self.clock()
        with session_scope(self.engine) as session:
            ticket = queries.ticket_for_update(session=session, ticket_id=ticket_id)
            if ticket is None:
                raise Refused(f"There is no ticket #{ticket_id}.")
            target = self._target(session, topic)
            if (ticket.topic or "").lower() == (target.name or "").lower():
                raise Refused(f"#{ticket_id} is in {target.label} already.")
            old = outbox.card_row(session=session, ticket_id=ticket_id)
            was = TicketRule(ticket.topic, old.channel)
            ticket.topic = target.name
            ticket.updated_at = now
            session.add(ticket)
            if old.channel == target.channel:  # two topics may share a channel: a new tag
                change = Change(EventKind.MOVED, member.user_id, target.label)
                self.feed.record(session, ticket, change, now)
                return target
            self._to_channel(session, ticket, old, was, target, member, now)
        return target

    def _target(self, session: Session, name: str | None) -> TicketRule:
        if name is None:
            return TicketRule(None, self.support_channel)
        found = find(session, name)
        if found is None:
            raise Refused(f"There is no topic “{name[:40]}”. See `/topic list`.")
        return TicketRule(found.name, found.channel_id)

    def _to_channel(
        self,
        session: Session,
        ticket: Ticket,
        old: SlackOutbox,
        was: TicketRule,
        target: TicketRule,
        member: Member,
        now: datetime,
    ) -> None:
        assert ticket.id is not None and old.id is not None
        # Locked and read afresh: the posting worker claims rows with a conditional
        # UPDATE, so from here on it either has this row already or never will. A row the
        # worker holds locked (it is recording the post, and locks the ticket next) is
        # skipped rather than waited for, so the two never wait for each other.
        locked = session.exec(
            select(SlackOutbox)
            .where(col(SlackOutbox.id) == old.id)
            .with_for_update(skip_locked=True)
            .execution_options(populate_existing=True)
        ).first()
        if locked is None or locked.state == OutboxState.SENDING:
            raise Refused(f"#{ticket.id}'s card is being posted right now; try again in a moment.")
        unposted = locked.state == OutboxState.PENDING
        waiting = (
            list(
                session.exec(
                    select(SlackOutbox)
                    .where(col(SlackOutbox.parent_id) == old.id)
                    .where(col(SlackOutbox.state) == OutboxState.PENDING)
                    .where(col(SlackOutbox.kind) == OutboxKind.THREAD)
                    .order_by(col(SlackOutbox.id))
                    .with_for_update()
                )
            )
            if unposted
            else []
        )
        # The key moves to the new card; the old row keeps a key of its own, so that the
        # pointer below (and anything else that finds it) still can.
        old.dedup_key = f"moved:{old.id}"
        if unposted:
            old.state = OutboxState.MOVED  # never posted: the worker passes it by
        for row in waiting:
            row.state = OutboxState.MOVED
        session.add_all([old, *waiting])
        session.flush()
        self.feed.opened(session, ticket, channel=target.channel, now=now)
        view = MovedView(
            ticket_id=ticket.id,
            from_channel=was.channel,
            to_channel=target.channel,
            topic=target.label,
            actor=member.user_id,
            at=now,
            lines=() if unposted else self._summary(session, ticket.id),
        )
        if not unposted:  # nobody saw the old thread: the new one is it, row for row
            self.feed.moved_here(session, view, now)
        for row in waiting:  # queued again behind the new card, each still once
            key, row.dedup_key = row.dedup_key, None
            session.add(row)
            session.flush()
            rows.enqueue(
                session=session,
                channel=target.channel,
                kind=OutboxKind.THREAD,
                payload=_payload(row),
                now=now,
                ticket_id=ticket.id,
                message_id=row.message_id,
                parent_id=outbox.card_row(session=session, ticket_id=ticket.id).id,
                dedup_key=key,
            )
        if not unposted:
            self.feed.moved_away(session, view, dedup_key=old.dedup_key, now=now)
        queries.add_event(
            session=session,
            ticket_id=ticket.id,
            kind=EventKind.MOVED,
            actor=member.user_id,
            detail=f"{was.channel} → {target.channel} ({target.label})",
            now=now,
        )
        after_commit(session, self.feed.wake)

    def _summary(self, session: Session, ticket_id: int) -> tuple[MovedLine, ...]:
        messages = list(
            session.exec(
                select(Message)
                .where(col(Message.ticket_id) == ticket_id)
                .where(col(Message.deleted_at).is_(None))
                .order_by(col(Message.created_at).desc(), col(Message.id).desc())
                .limit(SUMMARY_MESSAGES)
            )
        )
        return tuple(
            MovedLine(
                direction=Direction(m.direction),
                channel=m.channel,
                author=m.author_slack_id,
                text=self.feed.looks.shown(m)[0],  # a DM stays masked
                at=m.created_at,
                message_id=m.id,
            )
            for m in reversed(messages)
        )


@dataclass(frozen=True)
class TicketRule:
    """Where a ticket goes: a topic's name (None: no topic) and its channel."""

    name: str | None
    channel: str

    @property
    def label(self) -> str:
        """The topic as people read it."""
        return shown_name(self.name) if self.name else "no topic"


def _payload(row: SlackOutbox) -> dict[str, object]:
    loaded: dict[str, object] = json.loads(row.payload)
    return loaded
