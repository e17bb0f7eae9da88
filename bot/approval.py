"""Trainees' answers wait for a lead: the request in the thread, and the lead's decision.

A trainee's answer is checked like anyone's and recorded, but held; a lead's Approve
sends it (with the trainee's initials), Return sends nothing and says why. Each reply is
decided exactly once, by a conditional update, however many leads click at once.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine, update
from sqlmodel import Session, col

from bot.checks import Checked
from bot.clock import Clock, system_clock
from bot.delivery import Delivery, ReplyResult, ReplyStatus
from bot.errors import Refused
from bot.feed import Change, TicketFeed
from bot.present import ActivityKind, ActivityView, ApprovalView
from bot.roster import Member
from store.db import session_scope
from store.models import EventKind, Reply, ReplyKind, ReplyState, Ticket


@dataclass(frozen=True, kw_only=True)
class Approvals:
    """Leads decide trainees' answers."""

    engine: Engine
    delivery: Delivery
    feed: TicketFeed
    clock: Clock = system_clock

    def request(
        self, session: Session, ticket: Ticket, *, reply_id: int, checked: Checked, trainee: str
    ) -> None:
        """Ask in the thread for a lead's approval of a trainee's answer just recorded."""
        view = ApprovalView(
            reply_id,
            checked.ticket_id,
            trainee,
            self._shown(checked.kind, checked.text),
            ReplyState.AWAITING_APPROVAL,
            kind=checked.kind,
        )
        drafted = Change(EventKind.REPLY_DRAFTED, trainee, str(reply_id), view, card=False)
        self.feed.record(session, ticket, drafted, self.clock())

    def approve(self, *, reply_id: int, lead: Member) -> ReplyResult:
        """A lead approves a trainee's reply: it goes out, with the trainee's initials."""
        reply = self._decide(reply_id, lead, ReplyState.SENDING)
        self._show_decision(reply, lead, ReplyState.SENT, None, EventKind.REPLY_APPROVED)
        result = self.delivery.dispatch(reply_id)
        if result.status == ReplyStatus.FAILED:
            self._show_decision(reply, lead, ReplyState.FAILED, result.message, None)
        return result

    def reject(self, *, reply_id: int, lead: Member, note: str) -> None:
        """A lead returns a trainee's reply with a comment; nothing is sent."""
        if not note.strip():
            raise Refused("Say what should change, so the trainee can learn from it.")
        reply = self._decide(reply_id, lead, ReplyState.REJECTED, comment=note.strip())
        self._show_decision(
            reply, lead, ReplyState.REJECTED, note.strip(), EventKind.REPLY_REJECTED
        )

    def _shown(self, kind: str, text: str) -> str:
        """An answer as Slack may show it: a DM's personal data masked, as in threads."""
        return self.feed.looks.mask(text) if kind == ReplyKind.DM else text

    def _decide(
        self, reply_id: int, lead: Member, state: ReplyState, *, comment: str | None = None
    ) -> Reply:
        """Take a trainee's reply out of the waiting state, exactly once (`comment`: why not)."""
        changes: dict[str, Any] = {
            "state": state,
            "approved_by": lead.user_id,
            "attempts": Reply.attempts + 1,
        }
        if comment is not None:
            changes["error"] = comment[:300]
        with session_scope(self.engine) as session:
            taken = session.execute(
                update(Reply)
                .where(col(Reply.id) == reply_id)
                .where(col(Reply.state) == ReplyState.AWAITING_APPROVAL)
                .values(changes)
            )
            reply = session.get(Reply, reply_id)
            if reply is None:
                raise Refused("There is no such reply.")
            if taken.rowcount != 1:  # type: ignore[attr-defined]
                decided = f" by <@{reply.approved_by}>" if reply.approved_by else ""
                raise Refused(f"That reply was decided already{decided}.")
            return reply

    def _show_decision(
        self,
        reply: Reply,
        lead: Member,
        state: ReplyState,
        note: str | None,
        event: EventKind | None,
    ) -> None:
        assert reply.id is not None
        now = self.clock()
        view = ApprovalView(
            reply.id,
            reply.ticket_id,
            reply.author_slack_id,
            self._shown(reply.kind, reply.text),
            state,
            lead.user_id,
            note,
            kind=ReplyKind(reply.kind),
        )
        returned = None
        if state == ReplyState.REJECTED:
            kind = ActivityKind.REPLY_REJECTED
            returned = ActivityView(
                reply.ticket_id, kind, lead.user_id, reply.author_slack_id, note
            )
        with session_scope(self.engine) as session:
            self.feed.decided(session, view, now)
            if event is not None or returned is not None:
                ticket = session.get(Ticket, reply.ticket_id)
                assert ticket is not None
                decision = Change(event, lead.user_id, str(reply.id), returned, card=False)
                self.feed.record(session, ticket, decision, now)
