"""Working a ticket: claim, release, hand over, note, resolve, reopen, look back."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Engine
from sqlmodel import Session

from bot.checks import held_by_other
from bot.clock import Clock, system_clock
from bot.errors import Refused
from bot.feed import Change, TicketFeed
from bot.history import History, history_of
from bot.present import ActivityKind, ActivityView, NoteView
from bot.roster import Member, Roster
from bot.text import clean_text
from store import tickets as queries
from store.db import session_scope
from store.followups import fulfil_promises
from store.models import Channel, Customer, Direction, EventKind, Message, Ticket, TicketState

# The same words from the same person about the same ticket within this time are one
# submission sent twice (a double click, a retried request), not two.
REPEAT_WINDOW = timedelta(minutes=2)


@dataclass(frozen=True, kw_only=True)
class Tickets:
    """The ticket operations agents use all day."""

    engine: Engine
    roster: Roster
    feed: TicketFeed
    clock: Clock = system_clock

    # -- helpers -------------------------------------------------------------------------

    @staticmethod
    def get(session: Session, ticket_id: int, *, lock: bool = False) -> Ticket:
        """The ticket, or a refusal saying there is no such ticket.

        `lock`: locked until the transaction ends and read as it is now, so changes to it
        go one at a time.
        """
        found = queries.ticket_for_update if lock else queries.ticket
        ticket = found(session=session, ticket_id=ticket_id)
        if ticket is None:
            raise Refused(f"There is no ticket #{ticket_id}.")
        return ticket

    def existing(self, ticket_id: int) -> int:
        """`ticket_id`, if there is such a ticket (before a modal asks about it)."""
        with session_scope(self.engine, readonly=True) as session:
            self.get(session, ticket_id)
        return ticket_id

    @staticmethod
    def may_act_for_owner(ticket: Ticket, member: Member) -> bool:
        """Owners act on their tickets, anyone on unowned ones, leads on all."""
        return ticket.owner_slack_id in (None, member.user_id) or member.is_lead

    def _acted(
        self,
        session: Session,
        ticket: Ticket,
        line: ActivityView,
        now: datetime,
        *people: str | None,
    ) -> None:
        """Someone acted on the ticket: audit event, line in the thread, card, App Homes."""
        ticket.updated_at = now
        session.add(ticket)
        detail = line.target if line.kind == ActivityKind.HANDOVER else None
        change = Change(EventKind(line.kind), line.actor, detail, line, people=people)
        self.feed.record(session, ticket, change, now)

    # -- operations ----------------------------------------------------------------------

    def claim(self, *, ticket_id: int, member: Member) -> Ticket:
        """Make `member` the owner; refused, naming the owner, when someone else holds it."""
        now = self.clock()
        with session_scope(self.engine) as session:
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
            claimed = Change(EventKind.CLAIMED, member.user_id, people=[member.user_id])
            self.feed.record(session, ticket, claimed, now)
        return ticket

    def release(self, *, ticket_id: int, member: Member) -> Ticket:
        """Give the ticket back to the queue."""
        now = self.clock()
        with session_scope(self.engine) as session:
            ticket = self.get(session, ticket_id)
            if ticket.owner_slack_id is None:
                raise Refused(f"#{ticket_id} has no owner to release.")
            if not self.may_act_for_owner(ticket, member):
                raise held_by_other(ticket)
            previous = ticket.owner_slack_id
            ticket.owner_slack_id = None
            if ticket.state == TicketState.CLAIMED:
                ticket.state = TicketState.NEW
            line = ActivityView(ticket_id, ActivityKind.RELEASED, member.user_id, previous)
            self._acted(session, ticket, line, now, member.user_id, previous)
        return ticket

    def handover(self, *, ticket_id: int, member: Member, to: str, note: str) -> Ticket:
        """Give the ticket to a colleague; the note goes into the thread."""
        if self.roster.member(to) is None:
            raise Refused(f"<@{to}> is not on the team; a lead can add them with `/team add`.")
        now = self.clock()
        with session_scope(self.engine) as session:
            ticket = self.get(session, ticket_id)
            if ticket.state == TicketState.RESOLVED:
                raise Refused(f"#{ticket_id} is resolved; there is nothing to hand over.")
            if not self.may_act_for_owner(ticket, member):
                raise held_by_other(ticket)
            if ticket.owner_slack_id == to:
                raise Refused(f"<@{to}> already has #{ticket_id}.")
            ticket.owner_slack_id = to
            if ticket.state == TicketState.NEW:
                ticket.state = TicketState.CLAIMED
            ticket.claimed_at = ticket.claimed_at or now
            line = ActivityView(
                ticket_id, ActivityKind.HANDOVER, member.user_id, to, note.strip() or None
            )
            self._acted(session, ticket, line, now, member.user_id, to)
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
        now = self.clock()
        with session_scope(self.engine) as session:
            ticket = self.get(session, ticket_id, lock=True)
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
            line = NoteView(ticket.id, member.user_id, text, message_id=message.id)
            self.feed.record(session, ticket, Change(line=line, card=False), now)

    def note_from_thread(
        self, *, channel: str, thread_ts: str, ts: str, user: str, text: str
    ) -> bool:
        """Store what someone wrote in a card's thread as a note; False if it is no ticket's."""
        now = self.clock()
        with session_scope(self.engine) as session:
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
        with session_scope(self.engine) as session:
            note = queries.message_by_external_id(
                session=session, channel=Channel.SLACK, external_id=ts
            )
            if note is None:
                return False
            note.text = clean_text(text)
            note.edited_at = self.clock()
            session.add(note)
        return True

    def delete_note(self, *, ts: str) -> bool:
        """Someone deleted their thread message: the note is marked deleted, not erased."""
        with session_scope(self.engine) as session:
            note = queries.message_by_external_id(
                session=session, channel=Channel.SLACK, external_id=ts
            )
            if note is None:
                return False
            note.deleted_at = self.clock()
            session.add(note)
        return True

    def resolve(self, *, ticket_id: int, member: Member) -> Ticket:
        """Close the ticket."""
        now = self.clock()
        with session_scope(self.engine) as session:
            ticket = self.get(session, ticket_id)
            if ticket.state == TicketState.RESOLVED:
                raise Refused(f"#{ticket_id} is already resolved.")
            if not self.may_act_for_owner(ticket, member):
                raise held_by_other(ticket)
            ticket.state = TicketState.RESOLVED
            ticket.resolved_at = now
            ticket.resolved_by = member.user_id
            fulfil_promises(session, ticket_id=ticket_id, now=now)
            line = ActivityView(ticket_id, ActivityKind.RESOLVED, member.user_id)
            self._acted(session, ticket, line, now, member.user_id, ticket.owner_slack_id)
        return ticket

    def reopen(self, *, ticket_id: int, member: Member) -> Ticket:
        """Open a resolved ticket again (its owner keeps it)."""
        now = self.clock()
        with session_scope(self.engine) as session:
            ticket = self.get(session, ticket_id)
            if ticket.state != TicketState.RESOLVED:
                raise Refused(f"#{ticket_id} is not resolved.")
            ticket.state = TicketState.CLAIMED if ticket.owner_slack_id else TicketState.NEW
            ticket.resolved_at = None
            ticket.resolved_by = None
            line = ActivityView(ticket_id, ActivityKind.REOPENED, member.user_id)
            self._acted(session, ticket, line, now, ticket.owner_slack_id)
        return ticket

    def reveal(self, *, message_id: int, member: Member) -> str:
        """The unmasked text of a DM, for one agent; who revealed what and when is recorded."""
        now = self.clock()
        with session_scope(self.engine) as session:
            message = session.get(Message, message_id)
            if message is None:
                raise Refused("That message no longer exists.")
            ticket = self.get(session, message.ticket_id)
            revealed = Change(
                EventKind.REVEALED, member.user_id, f"message {message_id}", card=False
            )
            self.feed.record(session, ticket, revealed, now)
            return message.text

    def ticket_for_thread(self, *, channel: str, ts: str) -> int | None:
        """The ticket whose card (or thread) a message belongs to."""
        with session_scope(self.engine, readonly=True) as session:
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
        with session_scope(self.engine, readonly=True) as session:
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
            assert customer is not None
            return history_of(
                session,
                customer,
                looks=self.feed.looks,
                tickets_from=tickets_from,
                messages_from=messages_from,
            )
