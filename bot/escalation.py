"""On call and escalation: when something burns, one person is paged, once per cause."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from datetime import datetime

from sqlalchemy import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from bot import outbox
from bot.cards import CardRefresher
from bot.clock import Clock, system_clock
from bot.errors import Refused
from bot.present import EscalationView, Presenter
from bot.roster import Member, Roster
from bot.tickets import Tickets
from store import tickets as ticket_queries
from store.db import session_scope
from store.models import Customer, Escalation, EscalationKind, EventKind, OnCallShift


class OnCall:
    """Who is on call: whoever a lead set this week, else the weekly rota (ONCALL_ROTA).

    A `/oncall @user` holds until the rota's next week begins (Monday, ISO weeks); without
    a rota it holds until changed.
    """

    def __init__(
        self,
        *,
        engine: Engine,
        roster: Roster,
        rota: Sequence[str] = (),
        clock: Clock = system_clock,
    ) -> None:
        self._engine = engine
        self._roster = roster
        self._rota = list(rota)
        self._clock = clock

    def rota_person(self, at: datetime) -> str | None:
        """Whose week it is by the rota."""
        if not self._rota:
            return None
        return self._rota[at.isocalendar().week % len(self._rota)]

    def current(self, session: Session | None = None) -> str | None:
        """The Slack user id of the person on call now, or None (read in `session` if given)."""
        now = self._clock()
        if session is None:
            with session_scope(self._engine, readonly=True) as own:
                return self.current(own)
        shift = session.exec(
            select(OnCallShift).order_by(col(OnCallShift.set_at).desc()).limit(1)
        ).first()
        if shift is not None:
            same_week = shift.set_at.isocalendar()[:2] == now.isocalendar()[:2]
            if same_week or not self._rota:
                return shift.slack_user_id
        return self.rota_person(now)

    def set(self, *, user_id: str, by: Member) -> None:
        """Put someone on call (a lead's decision)."""
        if self._roster.member(user_id) is None:
            raise Refused(f"<@{user_id}> is not on the team; add them with `/team add` first.")
        with session_scope(self._engine) as session:
            session.add(OnCallShift(slack_user_id=user_id, set_by=by.user_id, set_at=self._clock()))


def manual_cause(ticket_id: int, reason: str) -> str:
    """The cause key of a manual escalation: the same reason twice pages once."""
    digest = hashlib.sha256(reason.strip().lower().encode()).hexdigest()[:16]
    return f"manual:{ticket_id}:{digest}"


class Escalations:
    """Paging the on-call person by DM and telling the escalation channel."""

    def __init__(
        self,
        *,
        engine: Engine,
        oncall: OnCall,
        presenter: Presenter,
        cards: CardRefresher,
        channel: str,
        clock: Clock = system_clock,
        notify: Callable[[], None] = lambda: None,
    ) -> None:
        self._engine = engine
        self._oncall = oncall
        self._presenter = presenter
        self._cards = cards
        self._channel = channel
        self._clock = clock
        self._notify = notify

    def escalate(
        self,
        *,
        cause: str,
        kind: EscalationKind,
        reason: str,
        ticket_id: int | None = None,
        actor: str | None = None,
        examples: Sequence[str] = (),
    ) -> bool:
        """Page for `cause` unless it was paged before; True when this call paged."""
        with session_scope(self._engine) as session:
            paged = self.escalate_in(
                session,
                cause=cause,
                kind=kind,
                reason=reason,
                ticket_id=ticket_id,
                actor=actor,
                examples=examples,
            )
        if paged:
            self._notify()
        return paged

    def escalate_in(
        self,
        session: Session,
        *,
        cause: str,
        kind: EscalationKind,
        reason: str,
        ticket_id: int | None = None,
        actor: str | None = None,
        examples: Sequence[str] = (),
    ) -> bool:
        """`escalate` inside the caller's transaction, so the page and its cause commit together."""
        now = self._clock()
        oncall = self._oncall.current(session)
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
                        reason=reason[:1000],
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
            ticket_queries.add_event(
                session=session,
                ticket_id=ticket_id,
                kind=EventKind.ESCALATED,
                actor=actor,
                detail=kind,
                now=now,
            )
            self._cards.refresh(session=session, ticket=ticket, now=now)
        view = EscalationView(
            kind=kind,
            ticket_id=ticket_id,
            reason=reason,
            actor=actor,
            oncall_slack_id=oncall,
            customer_handle=handle,
            examples=list(examples),
            at=now,
        )
        message = self._presenter.escalation(view)
        outbox.post_to_channel(
            session=session,
            channel=self._channel,
            message=message,
            now=now,
            dedup_key=f"escalation:{cause}"[:128],
            ticket_id=ticket_id,
        )
        if oncall is not None:
            outbox.post_dm(
                session=session,
                user_id=oncall,
                message=message,
                now=now,
                dedup_key=f"escalation-dm:{cause}"[:128],
            )
        return True

    def manual(self, *, ticket_id: int, reason: str, member: Member) -> str | None:
        """`/escalate`: page about a ticket now; who was paged (None: nobody on call)."""
        if not reason.strip():
            raise Refused("Say why, so the on-call person knows what burns.")
        paged = self.escalate(
            cause=manual_cause(ticket_id, reason),
            kind=EscalationKind.MANUAL,
            reason=reason.strip(),
            ticket_id=ticket_id,
            actor=member.user_id,
        )
        if not paged:
            raise Refused(f"#{ticket_id} was escalated for that reason already.")
        return self._oncall.current()
