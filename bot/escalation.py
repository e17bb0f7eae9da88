"""On call and escalation: when something burns, one person is paged, once per cause."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from bot.clock import Clock, system_clock
from bot.errors import Refused
from bot.feed import Change, TicketFeed
from bot.present import EscalationView
from bot.roster import Member, Roster
from bot.tickets import Tickets
from store.db import session_scope
from store.models import Customer, Escalation, EscalationKind, EventKind, OnCallShift


@dataclass(frozen=True, kw_only=True)
class OnCall:
    """Who is on call: whoever a lead set this week, else the weekly rota (ONCALL_ROTA).

    A `/oncall @user` holds until the rota's next week begins (Monday, ISO weeks); without
    a rota it holds until changed.
    """

    engine: Engine
    roster: Roster
    rota: Sequence[str] = ()
    clock: Clock = system_clock

    def rota_person(self, at: datetime) -> str | None:
        """Whose week it is by the rota."""
        if not self.rota:
            return None
        return self.rota[at.isocalendar().week % len(self.rota)]

    def current(self, session: Session | None = None) -> str | None:
        """The Slack user id of the person on call now, or None (read in `session` if given)."""
        now = self.clock()
        if session is None:
            with session_scope(self.engine, readonly=True) as own:
                return self.current(own)
        shift = session.exec(
            select(OnCallShift).order_by(col(OnCallShift.set_at).desc()).limit(1)
        ).first()
        if shift is not None:
            same_week = shift.set_at.isocalendar()[:2] == now.isocalendar()[:2]
            if same_week or not self.rota:
                return shift.slack_user_id
        return self.rota_person(now)

    def set(self, *, user_id: str, by: Member) -> None:
        """Put someone on call (a lead's decision)."""
        if self.roster.member(user_id) is None:
            raise Refused(f"<@{user_id}> is not on the team; add them with `/team add` first.")
        with session_scope(self.engine) as session:
            session.add(OnCallShift(slack_user_id=user_id, set_by=by.user_id, set_at=self.clock()))


@dataclass(frozen=True)
class Alarm:
    """Something that burns: what on-call is paged about, once per `cause`."""

    cause: str  # the same cause pages once (`manual:12:…`, `sla:12`, `spike:fail:2026-11-23T09`)
    kind: EscalationKind
    reason: str
    ticket_id: int | None = None
    actor: str | None = None  # who raised it; None: the bot did
    examples: Sequence[str] = ()


def manual_cause(ticket_id: int, reason: str) -> str:
    """The cause key of a manual escalation: the same reason twice pages once."""
    digest = hashlib.sha256(reason.strip().lower().encode()).hexdigest()[:16]
    return f"manual:{ticket_id}:{digest}"


@dataclass(frozen=True, kw_only=True)
class Escalations:
    """Paging the on-call person by DM and telling the escalation channel."""

    engine: Engine
    oncall: OnCall
    feed: TicketFeed
    channel: str
    clock: Clock = system_clock

    def escalate(self, alarm: Alarm) -> bool:
        """Page for the alarm's cause unless it was paged before; True when this call paged."""
        with session_scope(self.engine) as session:
            return self.escalate_in(session, alarm)

    def escalate_in(self, session: Session, alarm: Alarm) -> bool:
        """`escalate` inside the caller's transaction, so the page and its cause commit together."""
        cause, kind, ticket_id, actor = alarm.cause, alarm.kind, alarm.ticket_id, alarm.actor
        now = self.clock()
        oncall = self.oncall.current(session)
        # Before the cause is recorded: a missing ticket is "no such ticket", not a
        # cause that has paged already.
        ticket = Tickets.get(session, ticket_id) if ticket_id is not None else None
        try:
            with session.begin_nested():
                session.add(
                    Escalation(
                        cause=cause[:200],
                        kind=kind,
                        ticket_id=ticket_id,
                        reason=alarm.reason[:1000],
                        actor=actor,
                        oncall_slack_id=oncall,
                        created_at=now,
                    )
                )
        except IntegrityError:
            return False  # this cause has paged already
        handle = None
        if ticket is not None and ticket_id is not None:
            customer = session.get(Customer, ticket.customer_id)
            handle = customer.username if customer else None
            ticket.escalated = True
            ticket.updated_at = now
            session.add(ticket)
            self.feed.record(session, ticket, Change(EventKind.ESCALATED, actor, kind), now)
        view = EscalationView(
            kind=kind,
            ticket_id=ticket_id,
            reason=alarm.reason,
            actor=actor,
            oncall_slack_id=oncall,
            customer_handle=handle,
            examples=list(alarm.examples),
            at=now,
        )
        self.feed.page(session, view, cause=cause, channel=self.channel, oncall=oncall, now=now)
        return True

    def manual(self, *, ticket_id: int, reason: str, member: Member) -> str | None:
        """`/escalate`: page about a ticket now; who was paged (None: nobody on call)."""
        if not reason.strip():
            raise Refused("Say why, so the on-call person knows what burns.")
        paged = self.escalate(
            Alarm(
                manual_cause(ticket_id, reason),
                EscalationKind.MANUAL,
                reason.strip(),
                ticket_id=ticket_id,
                actor=member.user_id,
            )
        )
        if not paged:
            raise Refused(f"#{ticket_id} was escalated for that reason already.")
        return self.oncall.current()
