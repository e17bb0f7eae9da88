"""The reminder and SLA sweep: every promise and every waiting customer, checked on a clock.

Each stage of each row fires exactly once, also with several replicas and across
restarts: due rows are selected `FOR UPDATE SKIP LOCKED` (PostgreSQL; SQLite serialises
writers anyway), and each stage is claimed by a conditional UPDATE of its own timestamp
column (`... WHERE warned_at IS NULL`) in the same transaction that queues its Slack posts.
A crash before the commit leaves nothing behind; the next sweep does it again.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import Engine, update
from sqlmodel import Session, SQLModel, col, or_, select

from bot.clock import Clock, system_clock
from bot.config import Settings
from bot.escalation import Alarm, Escalations
from bot.feed import Change, TicketFeed
from bot.hours import ServiceCalendar
from bot.present import ActivityKind, ActivityView
from bot.replies import Replies
from store.db import session_scope
from store.models import (
    AutoAnswer,
    Customer,
    Escalation,
    EscalationKind,
    FollowUp,
    FollowUpState,
    GroupMember,
    Ticket,
    TicketSource,
    TicketState,
)

log = logging.getLogger(__name__)

BATCH = 100
SLA_WARN_FRACTION = 0.8  # the owner is warned when 80 % of the first-response time is gone
RECENT = timedelta(hours=24)  # VIP pages and out-of-hours answers look only this far back


@dataclass
class SweepReport:
    """How many times each stage fired in one sweep."""

    fired: dict[str, int] = field(default_factory=dict)

    def count(self, stage: str) -> None:
        """One more of `stage`."""
        self.fired[stage] = self.fired.get(stage, 0) + 1


def in_groups(session: Session, ticket_ids: list[int]) -> dict[int, int]:
    """Which of these tickets are in a group of alike questions (answered together), and which."""
    if not ticket_ids:
        return {}
    rows = session.exec(
        select(GroupMember.ticket_id, GroupMember.group_id)
        .where(col(GroupMember.ticket_id).in_(ticket_ids))
        .where(col(GroupMember.taken_out_at).is_(None))
    )
    return dict(rows.all())


def claim_stage(
    session: Session, model: type[SQLModel], column: str, row_id: int, now: datetime
) -> bool:
    """Set a stage's timestamp if nobody did yet; True for the one caller that did."""
    table = model.__table__  # type: ignore[attr-defined]
    result = session.execute(
        update(table)
        .where(table.c.id == row_id)
        .where(table.c[column].is_(None))
        .values({column: now})
    )
    return bool(result.rowcount == 1)  # type: ignore[attr-defined]


def _reminder(followup: FollowUp, kind: ActivityKind) -> ActivityView:
    """The owner's reminder of a promise, before it is due or when it is."""
    return ActivityView(
        followup.ticket_id,
        kind,
        None,
        followup.owner_slack_id,
        followup.note or None,
        followup.due_at,
    )


@dataclass(frozen=True)
class SweepRules:
    """When the sweep speaks up, from the settings."""

    warn_before: timedelta  # a promise's reminder, before it is due
    escalate_after: timedelta  # a promise overdue this long pages on-call
    unclaimed_minutes: int  # business minutes before an unclaimed ticket is announced again
    sla_minutes: int  # the first-response SLA, in business minutes
    vip_followers: int
    out_of_hours_reply: str  # "" for none

    @classmethod
    def from_settings(cls, settings: Settings) -> SweepRules:
        """The rules as FOLLOWUP_*, UNCLAIMED_*, FIRST_RESPONSE_SLA_* and the rest set them."""
        return cls(
            warn_before=timedelta(minutes=settings.followup_warn_minutes),
            escalate_after=timedelta(minutes=settings.followup_escalate_minutes),
            unclaimed_minutes=settings.unclaimed_alert_minutes,
            sla_minutes=settings.first_response_sla_minutes,
            vip_followers=settings.vip_followers,
            out_of_hours_reply=settings.out_of_hours_reply,
        )


@dataclass(frozen=True, kw_only=True)
class Sweeper:
    """Follow-up reminders, unclaimed and SLA alerts, VIP pages, out-of-hours answers."""

    engine: Engine
    calendar: ServiceCalendar
    feed: TicketFeed
    escalations: Escalations
    replies: Replies
    rules: SweepRules
    clock: Clock = system_clock

    def run(self) -> SweepReport:
        """One sweep over everything that may be due."""
        report = SweepReport()
        self._followups(report)
        self._unclaimed(report)
        self._sla(report)
        self._vip(report)
        self._out_of_hours(report)
        if report.fired:
            log.info("sweep: %s", report.fired)
        return report

    def _tell(
        self, session: Session, ticket: Ticket, line: ActivityView, now: datetime, *, card: bool
    ) -> None:
        self.feed.record(session, ticket, Change(line=line, card=card), now)

    # -- promises ------------------------------------------------------------------------

    def _followups(self, report: SweepReport) -> None:
        now = self.clock()
        with session_scope(self.engine) as session:
            due_soon = session.exec(
                select(FollowUp)
                .where(FollowUp.state == FollowUpState.OPEN)
                .where(col(FollowUp.due_at) <= now + self.rules.warn_before)
                .where(
                    or_(
                        col(FollowUp.warned_at).is_(None),
                        col(FollowUp.due_fired_at).is_(None),
                        col(FollowUp.escalated_at).is_(None),
                    )
                )
                .order_by(col(FollowUp.due_at))
                .limit(BATCH)
                .with_for_update(skip_locked=True)
            ).all()
            for followup in due_soon:
                self._followup_stages(session, followup, now, report)

    def _followup_stages(
        self, session: Session, followup: FollowUp, now: datetime, report: SweepReport
    ) -> None:
        assert followup.id is not None
        overdue = followup.due_at <= now
        # A promise made for sooner than the warning time gets no warning, only the stage mark.
        if (
            followup.warned_at is None
            and claim_stage(session, FollowUp, "warned_at", followup.id, now)
            and not overdue
        ):
            ticket = session.get(Ticket, followup.ticket_id)
            assert ticket is not None
            warning = _reminder(followup, ActivityKind.FOLLOWUP_WARNING)
            self._tell(session, ticket, warning, now, card=False)
            report.count("followup_warning")
        if (
            overdue
            and followup.due_fired_at is None
            and claim_stage(session, FollowUp, "due_fired_at", followup.id, now)
        ):
            session.refresh(followup)  # the card reads the stage just claimed
            ticket = session.get(Ticket, followup.ticket_id)
            assert ticket is not None
            due = _reminder(followup, ActivityKind.FOLLOWUP_DUE)
            self._tell(session, ticket, due, now, card=True)
            report.count("followup_due")
        if (
            followup.due_at + self.rules.escalate_after <= now
            and followup.escalated_at is None
            and claim_stage(session, FollowUp, "escalated_at", followup.id, now)
        ):
            late = int((now - followup.due_at).total_seconds() // 60)
            customer = self._customer_of(session, followup.ticket_id)
            reason = (
                f"The follow-up promised to @{customer} is {late} minutes overdue "
                f"(owner <@{followup.owner_slack_id}>)."
                + (f" Note: {followup.note}" if followup.note else "")
            )
            cause = f"followup:{followup.id}"
            alarm = Alarm(cause, EscalationKind.FOLLOWUP, reason, followup.ticket_id)
            self.escalations.escalate_in(session, alarm)
            report.count("followup_escalated")

    @staticmethod
    def _customer_of(session: Session, ticket_id: int) -> str:
        ticket = session.get(Ticket, ticket_id)
        customer = session.get(Customer, ticket.customer_id) if ticket else None
        return customer.username if customer else "?"

    # -- waiting customers ---------------------------------------------------------------

    def _unclaimed(self, report: SweepReport) -> None:
        now = self.clock()
        # Business minutes never exceed wall-clock minutes, so the SQL filter is safe.
        oldest = now - timedelta(minutes=self.rules.unclaimed_minutes)
        with session_scope(self.engine) as session:
            waiting = session.exec(
                select(Ticket)
                .where(Ticket.state == TicketState.NEW)
                .where(col(Ticket.owner_slack_id).is_(None))
                .where(col(Ticket.unclaimed_alerted_at).is_(None))
                .where(col(Ticket.created_at) <= oldest)
                .order_by(col(Ticket.id))
                .limit(BATCH)
                .with_for_update(skip_locked=True)
            ).all()
            for ticket in waiting:
                assert ticket.id is not None
                waited = self.calendar.business_minutes_between(ticket.created_at, now)
                if waited < self.rules.unclaimed_minutes:
                    continue
                if claim_stage(session, Ticket, "unclaimed_alerted_at", ticket.id, now):
                    line = ActivityView(
                        ticket.id,
                        ActivityKind.UNCLAIMED,
                        None,
                        minutes=int(waited),
                        broadcast=True,
                    )
                    self._tell(session, ticket, line, now, card=False)
                    report.count("unclaimed")

    def _sla(self, report: SweepReport) -> None:
        now = self.clock()
        warn_at = self.rules.sla_minutes * SLA_WARN_FRACTION
        oldest = now - timedelta(minutes=warn_at)
        with session_scope(self.engine) as session:
            open_tickets = session.exec(
                select(Ticket)
                .where(col(Ticket.first_response_at).is_(None))
                .where(Ticket.state != TicketState.RESOLVED)
                .where(col(Ticket.sla_missed_at).is_(None))
                .where(col(Ticket.created_at) <= oldest)
                .order_by(col(Ticket.id))
                .limit(BATCH)
                .with_for_update(skip_locked=True)
            ).all()
            grouped = in_groups(session, [t.id for t in open_tickets if t.id is not None])
            for ticket in open_tickets:
                assert ticket.id is not None
                waited = self.calendar.business_minutes_between(ticket.created_at, now)
                if waited >= self.rules.sla_minutes:
                    if claim_stage(session, Ticket, "sla_missed_at", ticket.id, now):
                        self._page_missed(session, ticket, waited, grouped.get(ticket.id))
                        report.count("sla_missed")
                elif (
                    waited >= warn_at
                    and ticket.sla_warned_at is None
                    and claim_stage(session, Ticket, "sla_warned_at", ticket.id, now)
                ):
                    left = int(self.rules.sla_minutes - waited)
                    line = ActivityView(
                        ticket.id,
                        ActivityKind.SLA_WARNING,
                        None,
                        ticket.owner_slack_id,
                        minutes=left,
                        broadcast=ticket.owner_slack_id is None,
                    )
                    self._tell(session, ticket, line, now, card=False)
                    report.count("sla_warning")

    def _vip(self, report: SweepReport) -> None:
        now = self.clock()
        vip_followers = self.rules.vip_followers
        with session_scope(self.engine) as session:
            paged = select(Escalation.ticket_id).where(Escalation.kind == EscalationKind.VIP)
            vips = session.exec(
                select(Ticket, Customer)
                .join(Customer, col(Customer.id) == col(Ticket.customer_id))
                .where(col(Ticket.created_at) >= now - RECENT)
                .where(Ticket.state != TicketState.RESOLVED)
                .where(or_(col(Customer.verified), col(Customer.followers) >= vip_followers))
                .where(col(Ticket.id).not_in(paged.where(col(Escalation.ticket_id).is_not(None))))
                .limit(BATCH)
            ).all()
            for ticket, customer in vips:
                assert ticket.id is not None
                badge = "verified" if customer.verified else f"{customer.followers:,} followers"
                reason = f"A VIP customer wrote: @{customer.username} ({badge})."
                alarm = Alarm(f"vip:{ticket.id}", EscalationKind.VIP, reason, ticket.id)
                if self.escalations.escalate_in(session, alarm):
                    report.count("vip")

    # -- closed hours --------------------------------------------------------------------

    def _page_missed(
        self, session: Session, ticket: Ticket, waited: float, group: int | None
    ) -> None:
        """Page on-call about a missed first response: once per ticket, or once per group.

        The members of a group of alike questions are answered together, so a storm of
        500 pages once, naming the group, not 500 times.
        """
        assert ticket.id is not None
        minutes = f"{int(waited)} business minutes (first-response SLA: {self.rules.sla_minutes})"
        if group is None:
            reason = f"#{ticket.id} has had no answer for {minutes}."
            cause = f"sla:{ticket.id}"
        else:
            reason = (
                f"Sammelfrage {group} (#{ticket.id} and others) has had no answer for {minutes}."
            )
            cause = f"sla:group:{group}"
        self.escalations.escalate_in(session, Alarm(cause, EscalationKind.SLA, reason, ticket.id))

    def _out_of_hours(self, report: SweepReport) -> None:
        """One automatic answer per customer and closed period, through the checked reply path."""
        if not self.rules.out_of_hours_reply:
            return
        now = self.clock()
        if self.calendar.is_open(now):
            return  # the team is back; people answer now
        claimed: list[int] = []
        with session_scope(self.engine) as session:
            answered = select(AutoAnswer.ticket_id)
            candidates = session.exec(
                select(Ticket)
                .where(col(Ticket.out_of_hours))
                .where(Ticket.source == TicketSource.MENTION)
                .where(Ticket.state == TicketState.NEW)
                .where(col(Ticket.owner_slack_id).is_(None))
                .where(col(Ticket.created_at) >= now - RECENT)
                .where(col(Ticket.id).not_in(answered))
                .order_by(col(Ticket.id))
                .limit(BATCH)
            ).all()
            for ticket in candidates:
                assert ticket.id is not None
                period = self.calendar.closed_period_start(ticket.created_at) or ticket.created_at
                already = session.exec(
                    select(AutoAnswer.id)
                    .where(AutoAnswer.customer_id == ticket.customer_id)
                    .where(AutoAnswer.period_start == period)
                ).first()
                session.add(
                    AutoAnswer(
                        customer_id=ticket.customer_id,
                        ticket_id=ticket.id,
                        # A second ticket of the same period is recorded as handled, not answered.
                        period_start=period if already is None else now,
                        created_at=now,
                    )
                )
                if already is None:
                    claimed.append(ticket.id)
        text = self.rules.out_of_hours_reply.format(opens=self.calendar.describe_opening(now))
        for ticket_id in claimed:
            result = self.replies.send_automatic(ticket_id=ticket_id, body=text)
            report.count(f"out_of_hours_{result.status}")
