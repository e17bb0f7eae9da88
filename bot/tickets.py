"""Working a ticket: claim, release, hand over, note, resolve, reopen, look back."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Engine
from sqlmodel import Session

from bot import outbox
from bot.cards import CardRefresher, shown_text
from bot.clock import Clock, system_clock
from bot.errors import Refused
from bot.present import PAGE_SIZE, ActivityKind, ActivityView, NoteView, Page, Presenter
from bot.roster import Member, Roster
from bot.text import clean_text
from store import tickets as queries
from store.db import session_scope
from store.followups import fulfil_promises
from store.models import (
    Channel,
    Customer,
    Direction,
    EventKind,
    Message,
    Ticket,
    TicketState,
)

# The same words from the same person about the same ticket within this time are one
# submission sent twice (a double click, a retried request), not two.
REPEAT_WINDOW = timedelta(minutes=2)


@dataclass(frozen=True)
class TicketSummary:
    """A ticket in a list (history)."""

    id: int
    state: str
    source: str
    created_at: datetime
    first_text: str  # as Slack may show it: a DM masked
    owner_slack_id: str | None
    reveal_id: int | None = None  # the first text is a masked DM that can be revealed


@dataclass(frozen=True)
class HistoryEntry:
    """A message in a customer's history."""

    ticket_id: int
    direction: str
    channel: str
    text: str  # as Slack may show it: a DM masked
    at: datetime
    author_slack_id: str | None
    reveal_id: int | None = None  # the text is a masked DM that can be revealed


@dataclass(frozen=True)
class History:
    """A customer's tickets and messages, a page of each."""

    customer_id: int
    username: str
    name: str
    followers: int
    tickets: Page[TicketSummary]
    messages: Page[HistoryEntry]


HISTORY_MESSAGES = 10  # the latest messages are longer entries: fewer to a page


class Tickets:
    """The ticket operations agents use all day."""

    def __init__(
        self,
        *,
        engine: Engine,
        roster: Roster,
        presenter: Presenter,
        cards: CardRefresher,
        clock: Clock = system_clock,
        notify: Callable[[], None] = lambda: None,
        changed: Callable[[set[str]], None] = lambda _people: None,
    ) -> None:
        self._engine = engine
        self._changed = changed
        self._roster = roster
        self._presenter = presenter
        self._cards = cards
        self._clock = clock
        self._notify = notify

    # -- helpers -------------------------------------------------------------------------

    @staticmethod
    def get(session: Session, ticket_id: int) -> Ticket:
        """The ticket, or a refusal saying there is no such ticket."""
        ticket = queries.ticket(session=session, ticket_id=ticket_id)
        if ticket is None:
            raise Refused(f"There is no ticket #{ticket_id}.")
        return ticket

    @staticmethod
    def locked(session: Session, ticket_id: int) -> Ticket:
        """The ticket, locked until the transaction ends, so changes to it go one at a time."""
        ticket = queries.ticket_for_update(session=session, ticket_id=ticket_id)
        if ticket is None:
            raise Refused(f"There is no ticket #{ticket_id}.")
        return ticket

    def existing(self, ticket_id: int) -> int:
        """`ticket_id`, if there is such a ticket (before a modal asks about it)."""
        with session_scope(self._engine, readonly=True) as session:
            self.get(session, ticket_id)
        return ticket_id

    @staticmethod
    def may_act_for_owner(ticket: Ticket, member: Member) -> bool:
        """Owners act on their tickets, anyone on unowned ones, leads on all."""
        return ticket.owner_slack_id in (None, member.user_id) or member.is_lead

    @staticmethod
    def held_by_other(ticket: Ticket) -> Refused:
        """The refusal for a ticket someone else holds."""
        return Refused(
            f"#{ticket.id} is held by <@{ticket.owner_slack_id}>. Ask them to hand it over "
            f"(`/handover {ticket.id} @you`), or ask a lead."
        )

    def _changed_by(
        self,
        session: Session,
        ticket: Ticket,
        view: ActivityView,
        now: datetime,
        *,
        detail: str | None = None,
    ) -> None:
        """Record what someone did to the ticket: audit event, line in the thread, card."""
        assert ticket.id is not None
        ticket.updated_at = now
        session.add(ticket)
        queries.add_event(
            session=session,
            ticket_id=ticket.id,
            kind=EventKind(view.kind),
            actor=view.actor,
            detail=detail,
            now=now,
        )
        outbox.post_in_thread(
            session=session, ticket_id=ticket.id, message=self._presenter.activity(view), now=now
        )
        self._cards.refresh(session=session, ticket=ticket, now=now)

    def _done(self, *people: str | None) -> None:
        self._notify()
        self._changed({person for person in people if person})

    # -- operations ----------------------------------------------------------------------

    def claim(self, *, ticket_id: int, member: Member) -> Ticket:
        """Make `member` the owner; refused, naming the owner, when someone else holds it."""
        now = self._clock()
        with session_scope(self._engine) as session:
            ticket = self.get(session, ticket_id)
            if ticket.state == TicketState.RESOLVED:
                raise Refused(f"#{ticket_id} is resolved. Reopen it from its card first.")
            if ticket.owner_slack_id == member.user_id:
                raise Refused(f"You already have #{ticket_id}.")
            if not queries.claim(
                session=session, ticket_id=ticket_id, agent=member.user_id, now=now
            ):
                ticket = self.get(session, ticket_id)
                if ticket.state == TicketState.RESOLVED:
                    raise Refused(f"#{ticket_id} was resolved a moment ago.")
                raise Refused(f"#{ticket_id} is already claimed by <@{ticket.owner_slack_id}>.")
            ticket = self.get(session, ticket_id)
            queries.add_event(
                session=session,
                ticket_id=ticket_id,
                kind=EventKind.CLAIMED,
                actor=member.user_id,
                now=now,
            )
            self._cards.refresh(session=session, ticket=ticket, now=now)
        self._done(member.user_id)
        return ticket

    def release(self, *, ticket_id: int, member: Member) -> Ticket:
        """Give the ticket back to the queue."""
        now = self._clock()
        with session_scope(self._engine) as session:
            ticket = self.get(session, ticket_id)
            if ticket.owner_slack_id is None:
                raise Refused(f"#{ticket_id} has no owner to release.")
            if not self.may_act_for_owner(ticket, member):
                raise self.held_by_other(ticket)
            previous = ticket.owner_slack_id
            ticket.owner_slack_id = None
            if ticket.state == TicketState.CLAIMED:
                ticket.state = TicketState.NEW
            self._changed_by(
                session,
                ticket,
                ActivityView(ticket_id, ActivityKind.RELEASED, member.user_id, previous),
                now,
            )
        self._done(member.user_id, previous)
        return ticket

    def handover(self, *, ticket_id: int, member: Member, to: str, note: str) -> Ticket:
        """Give the ticket to a colleague; the note goes into the thread."""
        if self._roster.member(to) is None:
            raise Refused(f"<@{to}> is not on the team; a lead can add them with `/team add`.")
        now = self._clock()
        with session_scope(self._engine) as session:
            ticket = self.get(session, ticket_id)
            if ticket.state == TicketState.RESOLVED:
                raise Refused(f"#{ticket_id} is resolved; there is nothing to hand over.")
            if not self.may_act_for_owner(ticket, member):
                raise self.held_by_other(ticket)
            if ticket.owner_slack_id == to:
                raise Refused(f"<@{to}> already has #{ticket_id}.")
            ticket.owner_slack_id = to
            if ticket.state == TicketState.NEW:
                ticket.state = TicketState.CLAIMED
            ticket.claimed_at = ticket.claimed_at or now
            self._changed_by(
                session,
                ticket,
                ActivityView(
                    ticket_id, ActivityKind.HANDOVER, member.user_id, to, note.strip() or None
                ),
                now,
                detail=to,
            )
        self._done(member.user_id, to)
        return ticket

    def note(
        self, *, ticket_id: int, member: Member, text: str, request_key: str | None = None
    ) -> None:
        """An internal note, stored with the ticket and shown in its thread; never sent to X.

        Stored once per request (`request_key`), and once for the same words from the same
        person within `REPEAT_WINDOW`.
        """
        text = clean_text(text).strip()
        if not text:
            raise Refused("The note is empty.")
        now = self._clock()
        with session_scope(self._engine) as session:
            ticket = self.locked(session, ticket_id)
            assert ticket.id is not None
            if queries.repeated_note(
                session=session,
                ticket_id=ticket.id,
                author=member.user_id,
                text=text,
                request_key=request_key,
                since=now - REPEAT_WINDOW,
            ):
                return
            message = Message(
                ticket_id=ticket_id,
                direction=Direction.NOTE,
                channel=Channel.SLACK,
                author_slack_id=member.user_id,
                text=text,
                request_key=request_key,
                created_at=now,
                stored_at=now,
            )
            session.add(message)
            session.flush()
            outbox.post_in_thread(
                session=session,
                ticket_id=ticket.id,
                message=self._presenter.note(NoteView(ticket.id, member.user_id, text)),
                now=now,
                message_id=message.id,
            )
        self._done()

    def note_from_thread(
        self, *, channel: str, thread_ts: str, ts: str, user: str, text: str
    ) -> bool:
        """Store what someone wrote in a card's thread as a note; False if it is no ticket's."""
        now = self._clock()
        with session_scope(self._engine) as session:
            ticket = queries.ticket_by_card(session=session, channel=channel, ts=thread_ts)
            if ticket is None or ticket.id is None:
                return False
            if queries.message_by_external_id(
                session=session, channel=Channel.SLACK, external_id=ts
            ):
                return True  # already stored (a retried event)
            session.add(
                Message(
                    ticket_id=ticket.id,
                    direction=Direction.NOTE,
                    channel=Channel.SLACK,
                    external_id=ts,
                    author_slack_id=user,
                    text=clean_text(text),
                    slack_ts=ts,
                    created_at=now,
                    stored_at=now,
                )
            )
        return True

    def edit_note(self, *, ts: str, text: str) -> bool:
        """Someone edited their thread message: the note follows."""
        with session_scope(self._engine) as session:
            note = queries.message_by_external_id(
                session=session, channel=Channel.SLACK, external_id=ts
            )
            if note is None:
                return False
            note.text = clean_text(text)
            note.edited_at = self._clock()
            session.add(note)
        return True

    def delete_note(self, *, ts: str) -> bool:
        """Someone deleted their thread message: the note is marked deleted, not erased."""
        with session_scope(self._engine) as session:
            note = queries.message_by_external_id(
                session=session, channel=Channel.SLACK, external_id=ts
            )
            if note is None:
                return False
            note.deleted_at = self._clock()
            session.add(note)
        return True

    def resolve(self, *, ticket_id: int, member: Member) -> Ticket:
        """Close the ticket."""
        now = self._clock()
        with session_scope(self._engine) as session:
            ticket = self.get(session, ticket_id)
            if ticket.state == TicketState.RESOLVED:
                raise Refused(f"#{ticket_id} is already resolved.")
            if not self.may_act_for_owner(ticket, member):
                raise self.held_by_other(ticket)
            ticket.state = TicketState.RESOLVED
            ticket.resolved_at = now
            ticket.resolved_by = member.user_id
            fulfil_promises(session, ticket_id=ticket_id, now=now)
            self._changed_by(
                session, ticket, ActivityView(ticket_id, ActivityKind.RESOLVED, member.user_id), now
            )
        self._done(member.user_id, ticket.owner_slack_id)
        return ticket

    def reopen(self, *, ticket_id: int, member: Member) -> Ticket:
        """Open a resolved ticket again (its owner keeps it)."""
        now = self._clock()
        with session_scope(self._engine) as session:
            ticket = self.get(session, ticket_id)
            if ticket.state != TicketState.RESOLVED:
                raise Refused(f"#{ticket_id} is not resolved.")
            ticket.state = TicketState.CLAIMED if ticket.owner_slack_id else TicketState.NEW
            ticket.resolved_at = None
            ticket.resolved_by = None
            self._changed_by(
                session, ticket, ActivityView(ticket_id, ActivityKind.REOPENED, member.user_id), now
            )
        self._done(ticket.owner_slack_id)
        return ticket

    def reveal(self, *, message_id: int, member: Member) -> str:
        """The unmasked text of a DM, for one agent; who revealed what and when is recorded."""
        now = self._clock()
        with session_scope(self._engine) as session:
            message = session.get(Message, message_id)
            if message is None:
                raise Refused("That message no longer exists.")
            queries.add_event(
                session=session,
                ticket_id=message.ticket_id,
                kind=EventKind.REVEALED,
                actor=member.user_id,
                detail=f"message {message_id}",
                now=now,
            )
            return message.text

    def ticket_for_thread(self, *, channel: str, ts: str) -> int | None:
        """The ticket whose card (or thread) a message belongs to."""
        with session_scope(self._engine, readonly=True) as session:
            ticket = queries.ticket_by_card(session=session, channel=channel, ts=ts)
            return ticket.id if ticket else None

    def history(
        self,
        *,
        handle: str | None = None,
        ticket_id: int | None = None,
        customer_id: int | None = None,
        tickets_from: int = 0,
        messages_from: int = 0,
    ) -> History:
        """A customer's tickets and messages, by @handle, one of their tickets, or their id."""
        mask = self._cards.mask
        with session_scope(self._engine, readonly=True) as session:
            customer: Customer | None
            if ticket_id is not None:
                ticket = self.get(session, ticket_id)
                customer = session.get(Customer, ticket.customer_id)
            elif customer_id is not None:
                customer = session.get(Customer, customer_id)
                if customer is None:
                    raise Refused("That customer is no longer known.")
            else:
                assert handle is not None
                customer = queries.customer_by_handle(session=session, username=handle)
                if customer is None:
                    raise Refused(f"No customer @{handle} has written to us.")
            assert customer is not None and customer.id is not None
            summaries = []
            for ticket in queries.tickets_of_customer(
                session=session, customer_id=customer.id, start=tickets_from, size=PAGE_SIZE
            ):
                assert ticket.id is not None
                first = queries.first_message(session=session, ticket_id=ticket.id)
                text, reveal_id = shown_text(first, mask) if first else ("", None)
                summaries.append(
                    TicketSummary(
                        id=ticket.id,
                        state=ticket.state,
                        source=ticket.source,
                        created_at=ticket.created_at,
                        first_text=text,
                        owner_slack_id=ticket.owner_slack_id,
                        reveal_id=reveal_id,
                    )
                )
            entries = []
            for message in queries.messages_of_customer(
                session=session, customer_id=customer.id, start=messages_from, size=HISTORY_MESSAGES
            ):
                text, reveal_id = shown_text(message, mask)
                entries.append(
                    HistoryEntry(
                        ticket_id=message.ticket_id,
                        direction=message.direction,
                        channel=message.channel,
                        text=text,
                        at=message.created_at,
                        author_slack_id=message.author_slack_id,
                        reveal_id=reveal_id,
                    )
                )
            return History(
                customer_id=customer.id,
                username=customer.username,
                name=customer.name,
                followers=customer.followers,
                tickets=Page(
                    summaries,
                    tickets_from,
                    queries.count_tickets_of_customer(session=session, customer_id=customer.id),
                ),
                messages=Page(
                    entries,
                    messages_from,
                    queries.count_messages_of_customer(session=session, customer_id=customer.id),
                    size=HISTORY_MESSAGES,
                ),
            )
