"""One way to record what happens to a ticket: audit event, thread line, fresh card, wake-ups.

Every service records its changes to tickets here, inside its own transaction, so that a
change and what Slack will show of it commit together or not at all. Waking the posting
worker and refreshing App Home tabs happen after the commit, never on a rollback.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import partial

from sqlmodel import Session

from bot import outbox
from bot.cards import Looks
from bot.present import (
    ActivityView,
    ApprovalView,
    EscalationView,
    MovedView,
    NoteView,
    Presenter,
    ReplySentView,
    SlackMessage,
)
from store import groups as group_queries
from store import tickets as queries
from store.db import after_commit
from store.models import Customer, EventKind, Message, OutboxKind, Ticket

ThreadLine = ActivityView | NoteView | ReplySentView | ApprovalView


def _nothing() -> None:
    return None


def _nobody(_people: set[str]) -> None:
    return None


@dataclass(frozen=True)
class Change:
    """Something that happened to a ticket: its audit event, its line in the thread, its card.

    `people` are those whose App Home lists the change (owners before and after, say).
    """

    event: EventKind | None = None
    actor: str | None = None
    detail: str | None = None
    line: ThreadLine | None = None
    card: bool = True
    people: Collection[str | None] = ()


@dataclass(frozen=True)
class Opened:
    """A ticket just opened, with what its card shows (`earlier_tickets` None: count them)."""

    ticket: Ticket
    customer: Customer
    opening: Message
    earlier_tickets: int | None = None


@dataclass(frozen=True, kw_only=True)
class TicketFeed:
    """Records ticket changes and renders what Slack shows of tickets into the posting queue.

    It holds what every rendering needs (the presenter, how customers and DMs look), so a
    card looks the same whoever posts or refreshes it. `wake` tells the posting worker that
    rows were queued; `homes` whose App Home tabs are due a refresh.
    """

    presenter: Presenter
    looks: Looks
    wake: Callable[[], None] = _nothing
    homes: Callable[[set[str]], None] = _nobody

    def record(self, session: Session, ticket: Ticket, change: Change, now: datetime) -> None:
        """Record `change` of `ticket` in the caller's transaction."""
        assert ticket.id is not None
        if change.event is not None:
            queries.add_event(
                session=session,
                ticket_id=ticket.id,
                kind=change.event,
                actor=change.actor,
                detail=change.detail,
                now=now,
            )
        if change.line is not None:
            self._post_line(session, ticket.id, change.line, now)
        if change.card:
            self._refresh(session, ticket, now)
        if change.line is not None or change.card:
            after_commit(session, self.wake)
        people = {person for person in change.people if person}
        if people:
            after_commit(session, partial(self.homes, people))

    def opened(
        self,
        session: Session,
        ticket: Ticket,
        *,
        customer: Customer | None = None,
        opening: Message | None = None,
        now: datetime,
        earlier_tickets: int | None = None,
        channel: str | None = None,
        topics: tuple[str, ...] | None = None,
    ) -> None:
        """Queue the card of a ticket just opened, in the ticket's channel (or `channel`,
        where a move takes it)."""
        assert ticket.id is not None
        view = self.looks.card(
            session,
            ticket,
            customer=customer,
            opening=opening,
            earlier_tickets=earlier_tickets,
            topics=topics,
            # Moved, it is not new: it may hold promises, so they are looked up.
            just_opened=channel is None,
        )
        where = channel or ticket.channel_id
        cards = [(ticket.id, where, self.presenter.ticket_card(view))]
        outbox.post_cards(session=session, cards=cards, now=now)
        after_commit(session, self.wake)

    def opened_many(
        self,
        session: Session,
        opened: Sequence[Opened],
        *,
        now: datetime,
        topics: tuple[str, ...] | None = None,
    ) -> None:
        """Queue the cards of tickets just opened (a page of tweets), in their order."""
        cards: list[tuple[int, str, SlackMessage]] = []
        ids = [new.ticket.id for new in opened if new.ticket.id is not None]
        memberships = group_queries.memberships(session=session, ticket_ids=ids)
        for new in opened:
            assert new.ticket.id is not None
            view = self.looks.card(
                session,
                new.ticket,
                customer=new.customer,
                opening=new.opening,
                earlier_tickets=new.earlier_tickets,
                topics=topics,
                just_opened=True,
                memberships=memberships,
            )
            cards.append((new.ticket.id, new.ticket.channel_id, self.presenter.ticket_card(view)))
        outbox.post_cards(session=session, cards=cards, now=now)
        if cards:
            after_commit(session, self.wake)

    def moved_here(self, session: Session, moved: MovedView, now: datetime) -> None:
        """Into the new card's thread: where the ticket came from, the conversation so far."""
        message = self.presenter.moved_here(moved)
        outbox.post_in_thread(session=session, ticket_id=moved.ticket_id, message=message, now=now)

    def moved_away(
        self, session: Session, moved: MovedView, *, dedup_key: str, now: datetime
    ) -> None:
        """The old card, once posted, now says where the ticket went."""
        message = self.presenter.moved_away(moved)
        outbox.update_posted(session=session, dedup_key=dedup_key, message=message, now=now)

    def customer_wrote(
        self,
        session: Session,
        message: Message,
        *,
        customer: Customer,
        now: datetime,
        reopened: bool = False,
    ) -> None:
        """Queue a later customer message into its ticket's thread.

        A group member listed only in its group's thread gets its own card now: the
        conversation has become its own.
        """
        assert message.id is not None
        self._own_card(session, message.ticket_id, now)
        view = self.looks.customer_message(message, customer, reopened=reopened)
        outbox.post_in_thread(
            session=session,
            ticket_id=message.ticket_id,
            message=self.presenter.customer_message(view),
            now=now,
            message_id=message.id,
        )
        after_commit(session, self.wake)

    def decided(self, session: Session, approval: ApprovalView, now: datetime) -> None:
        """Show on a trainee's approval request what became of their answer."""
        outbox.update_posted(
            session=session,
            dedup_key=_approval_key(approval.reply_id),
            message=self.presenter.approval(approval),
            now=now,
        )
        after_commit(session, self.wake)

    def page(
        self,
        session: Session,
        escalation: EscalationView,
        *,
        cause: str,
        channel: str,
        oncall: str | None,
        now: datetime,
    ) -> None:
        """Queue a page: into the escalation channel, and to the on-call person by DM."""
        message = self.presenter.escalation(escalation)
        posts = [(channel, OutboxKind.POST, "escalation", escalation.ticket_id)]
        if oncall is not None:
            posts.append((oncall, OutboxKind.DM, "escalation-dm", None))
        for where, kind, key, ticket_id in posts:
            outbox.post_to_channel(
                session=session,
                channel=where,
                message=message,
                now=now,
                dedup_key=f"{key}:{cause}"[:128],
                ticket_id=ticket_id,
                kind=kind,
            )
        after_commit(session, self.wake)

    def ensure_card(self, session: Session, ticket: Ticket, now: datetime) -> None:
        """Give a group member listed in its group's thread a card of its own (taken out)."""
        assert ticket.id is not None
        self._own_card(session, ticket.id, now)
        after_commit(session, self.wake)

    def _own_card(self, session: Session, ticket_id: int, now: datetime) -> None:
        """Make sure the ticket has a card (a group member listed in its group's thread)."""
        if outbox.find_card(session=session, ticket_id=ticket_id) is not None:
            return
        ticket = session.get(Ticket, ticket_id)
        assert ticket is not None
        card = self.presenter.ticket_card(self.looks.card(session, ticket))
        outbox.post_card(
            session=session, ticket_id=ticket_id, channel=ticket.channel_id, message=card, now=now
        )

    def _post_line(self, session: Session, ticket_id: int, line: ThreadLine, now: datetime) -> None:
        if outbox.find_card(session=session, ticket_id=ticket_id) is None:
            if isinstance(line, ActivityView | ReplySentView):
                return  # a group member without a card: its group's card shows the answers
            self._own_card(session, ticket_id, now)  # a note, say: it needs a thread
        message: SlackMessage
        key: str | None = None
        message_id: int | None = None
        match line:
            case ActivityView():
                message = self.presenter.activity(line)
                if line.broadcast:
                    message["reply_broadcast"] = True
            case NoteView():
                message, message_id = self.presenter.note(line), line.message_id
            case ReplySentView():
                message = self.presenter.reply_sent(line)
                key = None if line.reply_id is None else f"reply:{line.reply_id}"
            case ApprovalView():
                message, key = self.presenter.approval(line), _approval_key(line.reply_id)
        outbox.post_in_thread(
            session=session,
            ticket_id=ticket_id,
            message=message,
            now=now,
            message_id=message_id,
            dedup_key=key,
        )

    def _refresh(self, session: Session, ticket: Ticket, now: datetime) -> None:
        assert ticket.id is not None
        row = outbox.find_card(session=session, ticket_id=ticket.id)
        if row is None:
            return  # a group member shown in its group's thread: no card to refresh
        card = self.presenter.ticket_card(self.looks.card(session, ticket))
        outbox.show(session=session, posted=row, message=card, now=now)


def _approval_key(reply_id: int) -> str:
    return f"approval:{reply_id}"
