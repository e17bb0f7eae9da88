"""Answering the customer on X: checked before anything is sent, recorded once, sent once.

Every check runs before X is called and a failed check sends nothing (`bot/checks.py`).
The answer is recorded under a lock on its ticket, so of agents answering at once one
takes it; then it goes to X at most once (`bot/delivery.py`) or, a trainee's, waits for
a lead (`bot/approval.py`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, replace

from sqlalchemy import Engine
from sqlmodel import Session

from bot.approval import Approvals
from bot.canned import CannedAnswer, CannedAnswers, suggest
from bot.checks import Checked, ReplyRules, may_answer
from bot.clock import Clock, system_clock
from bot.delivery import Delivery, ReplyResult, ReplyStatus
from bot.errors import Refused
from bot.feed import Change, TicketFeed
from bot.followups import FollowUps
from bot.roster import Member
from bot.tickets import REPEAT_WINDOW, Tickets
from store import tickets as queries
from store.db import session_scope
from store.models import (
    Customer,
    EventKind,
    Reply,
    ReplyKind,
    ReplyState,
    Role,
    Ticket,
    TicketState,
)
from store.replies import repeated_reply

log = logging.getLogger(__name__)

MOVE_TO_DM_CANNED = "dm-bitte"  # a lead's own wording, if they added a canned answer by this name
MOVE_TO_DM_TEXT = (
    "Bitte lösche deinen Tweet, er enthält persönliche Daten. Wir schreiben dir per DM. "
    "Please delete your tweet, it shows personal data; we'll continue by DM."
)


@dataclass(frozen=True)
class ReplyContext:
    """What an agent sees while writing a reply."""

    ticket_id: int
    handle: str
    tweet: str
    signature: str
    canned: list[CannedAnswer]
    suggested: list[CannedAnswer]


def _accepted() -> None:
    return None


@dataclass(frozen=True, kw_only=True)
class Replies:
    """Answers to customers: public replies and DMs."""

    engine: Engine
    rules: ReplyRules
    delivery: Delivery
    approvals: Approvals
    canned: CannedAnswers
    followups: FollowUps
    feed: TicketFeed
    clock: Clock = system_clock

    # -- checks --------------------------------------------------------------------------

    def context(self, *, ticket_id: int, member: Member) -> ReplyContext:
        """What the reply modal shows: the customer's newest tweet, canned answers, signature."""
        with session_scope(self.engine, readonly=True) as session:
            ticket = Tickets.get(session, ticket_id)
            customer = session.get(Customer, ticket.customer_id)
            assert customer is not None
            newest = queries.newest_customer_tweet(session=session, ticket_id=ticket_id)
            tweet = newest.text if newest else ""
        canned = self.canned.all()
        return ReplyContext(
            ticket_id=ticket_id,
            handle=customer.username,
            tweet=tweet,
            signature=self.rules.signature(member),
            canned=canned,
            suggested=suggest(tweet, canned),
        )

    def check(self, *, ticket_id: int, body: str, member: Member) -> Checked:
        """Every check a public reply must pass; refuses with the reason, or lists warnings."""
        with session_scope(self.engine, readonly=True) as session:
            ticket = Tickets.get(session, ticket_id)
            newest = queries.newest_customer_tweet(session=session, ticket_id=ticket_id)
            return self.rules.public(ticket=ticket, newest=newest, body=body, member=member)

    def check_dm(self, *, ticket_id: int, body: str, member: Member) -> Checked:
        """The checks of a DM: personal data is allowed there, the length is X's DM limit."""
        with session_scope(self.engine, readonly=True) as session:
            ticket = Tickets.get(session, ticket_id)
            customer = session.get(Customer, ticket.customer_id)
            assert customer is not None
            return self.rules.direct(ticket=ticket, customer=customer, body=body, member=member)

    # -- sending -------------------------------------------------------------------------

    def send(
        self,
        *,
        ticket_id: int,
        body: str,
        member: Member,
        confirmed: bool = False,
        canned_name: str | None = None,
        request_key: str | None = None,
    ) -> ReplyResult:
        """Check and send a public reply; claims the ticket when nobody holds it.

        A trainee's reply is checked the same way, then waits in the thread for a lead.
        `request_key` names the Slack request: see `_submit`.
        """
        checked = self.check(ticket_id=ticket_id, body=body, member=member)
        if checked.warnings and not confirmed:
            return ReplyResult(
                ReplyStatus.CONFIRM, ticket_id, checked.text, warnings=checked.warnings
            )
        return self._submit(checked, member, request_key=request_key, canned_name=canned_name)

    def answer(
        self,
        *,
        ticket_id: int,
        body: str,
        member: Member,
        confirmed: bool,
        follow_up: str | None = None,
        request_key: str | None = None,
        accepted: Callable[[], object] = _accepted,
    ) -> ReplyResult:
        """A whole answer as the reply modal hands it in: checked, sent, its promise recorded.

        A failed check raises `Refused` and unconfirmed warnings come back as `confirm`,
        both before `accepted` is called; once it is (the modal closes then), nothing is
        raised any more: what became of the answer, or of the promise `follow_up` (`2h`,
        `tomorrow 10:00`) made with it, is the result's `message`, if there is one.
        """
        checked = self.check(ticket_id=ticket_id, body=body, member=member)
        if checked.warnings and not confirmed:
            return ReplyResult(
                ReplyStatus.CONFIRM, ticket_id, checked.text, warnings=checked.warnings
            )
        accepted()
        try:
            result = self._submit(checked, member, request_key=request_key)
        except Refused as exc:  # someone else took the ticket a moment ago
            return ReplyResult(
                ReplyStatus.REFUSED, ticket_id, checked.text, message=exc.user_message
            )
        if result.status != ReplyStatus.SENT or follow_up is None:
            return result
        try:
            due, _ = self.followups.parse(follow_up)
            self.followups.promise(ticket_id=ticket_id, member=member, due=due, note="")
        except Refused as exc:  # sent, but the promise could not be made as chosen
            return replace(result, promise=None, message=exc.user_message)
        return replace(result, promise=None)  # made as chosen: nothing left to offer

    def send_dm(
        self, *, ticket_id: int, body: str, member: Member, request_key: str | None = None
    ) -> ReplyResult:
        """Answer the customer by direct message (claims the ticket when nobody holds it).

        A trainee's DM waits for a lead like a public reply: DMs may carry personal data.
        """
        checked = self.check_dm(ticket_id=ticket_id, body=body, member=member)
        return self._submit(checked, member, request_key=request_key)

    def send_automatic(self, *, ticket_id: int, body: str) -> ReplyResult:
        """The out-of-hours answer: same checks, signed by the bot, not a first response."""
        automaton = self.rules.automaton
        try:
            checked = self.check(ticket_id=ticket_id, body=body, member=automaton)
        except Refused as exc:
            log.warning("automatic answer to #%s not sent: %s", ticket_id, exc.user_message)
            return ReplyResult(ReplyStatus.FAILED, ticket_id, body, message=exc.user_message)
        with session_scope(self.engine) as session:
            reply = self.delivery.draft(checked, author=automaton.user_id, automatic=True)
            reply_id = self.delivery.queue(session, reply)
        return self.delivery.dispatch(reply_id)

    def ask_to_move_to_dm(
        self, *, ticket_id: int, member: Member, request_key: str | None = None
    ) -> ReplyResult:
        """The one-click public answer to a tweet with personal data: delete it, DMs follow."""
        try:
            body = self.canned.filled(
                ticket_id=ticket_id, name=MOVE_TO_DM_CANNED, member=member
            ).text
        except Refused:
            body = self.canned.fill(ticket_id=ticket_id, text=MOVE_TO_DM_TEXT, member=member)
        # The click was the confirmation: warnings (a link, say) do not hold it back.
        checked = self.check(ticket_id=ticket_id, body=body, member=member)
        return self._submit(checked, member, request_key=request_key, canned_name=MOVE_TO_DM_CANNED)

    def _submit(
        self,
        checked: Checked,
        member: Member,
        *,
        request_key: str | None,
        canned_name: str | None = None,
    ) -> ReplyResult:
        """Record a checked answer once, then send it (or, for a trainee, ask a lead).

        The ticket is locked while this is decided, so of agents answering it at once one
        takes it and the others are refused, naming the owner. The same request arriving
        again (`request_key`), or the same words to the same customer message within
        `REPEAT_WINDOW`, finds the answer recorded first and sends nothing.
        """
        trainee = member.role == Role.TRAINEE
        with session_scope(self.engine) as session:
            ticket = self._take(session, checked.ticket_id, member)
            reply = self.delivery.draft(
                checked,
                author=member.user_id,
                canned_name=canned_name,
                held=trainee,
                request_key=request_key,
            )
            earlier = repeated_reply(
                session=session, reply=reply, since=self.clock() - REPEAT_WINDOW
            )
            if earlier is not None:
                return self._repeated(earlier)
            reply_id = self.delivery.queue(session, reply)
            if trainee:
                self.approvals.request(
                    session, ticket, reply_id=reply_id, checked=checked, trainee=member.user_id
                )
        if trainee:
            what = "DM" if checked.kind == ReplyKind.DM else "reply"
            return ReplyResult(
                ReplyStatus.AWAITING_APPROVAL,
                checked.ticket_id,
                checked.text,
                message=f"Your {what} waits in the thread for a lead's approval.",
            )
        result = self.delivery.dispatch(reply_id)
        if result.status != ReplyStatus.SENT:
            return result
        return replace(result, promise=self.followups.promised_in(checked.body))

    def _repeated(self, reply: Reply) -> ReplyResult:
        """What became of the answer that a repeated request asked for once already."""
        url = None
        if reply.kind == ReplyKind.TWEET:
            url = self.delivery.posted_url(reply.external_id)
        became = {
            ReplyState.SENT: f"it went out once{f' ({url})' if url else ''}.",
            ReplyState.AWAITING_APPROVAL: "it waits once for a lead's approval.",
            ReplyState.FAILED: f"it was not sent: {reply.error or 'X refused it'}",
            ReplyState.REJECTED: "a lead returned it; it was not sent.",
        }.get(ReplyState(reply.state), "it is on its way to the customer, once.")
        return ReplyResult(
            ReplyStatus.REPEATED,
            reply.ticket_id,
            reply.text,
            url=url,
            message=(
                "The same answer arrived twice (a retried request, a double click, or the "
                f"same words a moment ago), so it was not sent again: {became}"
            ),
        )

    def _take(self, session: Session, ticket_id: int, member: Member) -> Ticket:
        """Lock the ticket for this answer; claim it for `member` when nobody holds it."""
        ticket = may_answer(Tickets.get(session, ticket_id, lock=True), member)
        if ticket.owner_slack_id is not None:
            return ticket
        now = self.clock()
        ticket.owner_slack_id = member.user_id
        ticket.claimed_at = ticket.claimed_at or now
        if ticket.state == TicketState.NEW:
            ticket.state = TicketState.CLAIMED
        ticket.updated_at = now
        session.add(ticket)
        # The card shows the new owner now, also when the answer then waits (a trainee's)
        # or fails; a later refresh of the same card is folded into this one.
        claimed = Change(EventKind.CLAIMED, member.user_id, people=[member.user_id])
        self.feed.record(session, ticket, claimed, now)
        return ticket
