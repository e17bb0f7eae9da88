"""Answer all (SPEC §10): one answer, personalised and checked for every member of a group.

The answer is planned first (`plan`): every member's text is made (`{name}`, `{handle}`,
`{agent}` filled in, a variation where two texts would still be the same, since X refuses
duplicates) and checked exactly as an individual reply (§3), and who gets what is counted.
Sending (`send`) writes one `Reply` row per member, `queued` with the group's id, in one
transaction under a lock on the group; the X outbox sends them at X's pace after any
individual reply. Each row's request key names the group and the ticket, so a member is
queued once whatever arrives twice. A trainee's rows wait for a lead (`approve`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import Engine, update
from sqlmodel import Session, col, select

from bot.checks import Checked, ReplyRules
from bot.clock import Clock, system_clock
from bot.delivery import Delivery
from bot.errors import Refused
from bot.groups import Groups
from bot.present import SlackMessage
from bot.roster import Member, Roster
from bot.text import escape_slack
from store import groups as queries
from store import tickets as ticket_queries
from store.db import after_commit, session_scope
from store.models import (
    Canned,
    Customer,
    EventKind,
    GroupState,
    Message,
    Reply,
    ReplyState,
    Role,
    Ticket,
    TicketGroup,
    TicketSource,
    TicketState,
)

PREVIEWS = 3
# Added where two members' texts would still be the same (same name, no placeholder):
# X refuses a text the account posted before. The ticket number is the last resort,
# unique by construction.
VARIATIONS = ("", " 🙂", " 👍", " Viele Grüße!", " Danke dir!", " Thanks!", " Cheers!")
# X's price of a post with a link, against one without (SPEC §11's defaults).
URL_PRICE, POST_PRICE = 0.20, 0.015


def _nothing() -> None:
    return None


@dataclass(frozen=True)
class Personal:
    """One member's answer, checked."""

    ticket_id: int
    checked: Checked


@dataclass(frozen=True)
class GroupPlan:
    """Who gets the group answer, as what, and what the checks say."""

    group_id: int
    body: str
    answers: list[Personal]
    public: int = 0
    dms: int = 0
    unsummoned: int = 0  # keyword hits where X allows no public answer: left for a person
    skipped: int = 0  # answered individually meanwhile, resolved, or held by a colleague
    warnings: list[str] = field(default_factory=list)

    @property
    def previews(self) -> list[str]:
        """Three of the texts as the customers will read them."""
        return [answer.checked.text for answer in self.answers[:PREVIEWS]]

    def summary(self) -> str:
        """`487 public replies, 9 DMs, 4 keyword hits without a public answer`."""
        parts = [f"{self.public:,} public {'reply' if self.public == 1 else 'replies'}"]
        parts.append(f"{self.dms:,} DM{'' if self.dms == 1 else 's'}")
        if self.unsummoned:
            parts.append(f"{self.unsummoned:,} keyword hits without a public answer")
        if self.skipped:
            parts.append(f"{self.skipped:,} skipped (answered already or held by a colleague)")
        return ", ".join(parts)


def personalise(body: str, *, name: str, handle: str, agent: str) -> str:
    """Fill in `{name}` (the customer's name), `{handle}` (@handle), `{agent}` (first name)."""
    return body.replace("{name}", name).replace("{handle}", f"@{handle}").replace("{agent}", agent)


def request_key(group_id: int, ticket_id: int) -> str:
    """The request key of one member's row: one answer of a group per ticket, ever."""
    return f"group:{group_id}:ticket:{ticket_id}"


@dataclass(frozen=True, kw_only=True)
class GroupAnswers:
    """Answer all, Keep answering new members, Stop sending."""

    engine: Engine
    rules: ReplyRules
    delivery: Delivery
    groups: Groups
    roster: Roster
    answered: Callable[[], None] = _nothing  # a group has its answer: suggestions read afresh
    clock: Clock = system_clock

    # -- planning ---------------------------------------------------------------------------

    def plan(self, *, group_id: int, body: str, member: Member) -> GroupPlan:
        """Every member's text, checked; refused (naming the member) when any check fails."""
        with session_scope(self.engine, readonly=True) as session:
            group = self._group(session, group_id)
            listed = queries.members(session=session, group_id=group_id)
            return self._plan(session, group, [t for _, t, _ in listed], body, member)

    def _plan(
        self,
        session: Session,
        group: TicketGroup,
        tickets: Iterable[Ticket],
        body: str,
        member: Member,
    ) -> GroupPlan:
        assert group.id is not None
        body = body.strip()
        if not body:
            raise Refused("The answer is empty: write what the customers should read.")
        tickets = list(tickets)
        ids = [t.id for t in tickets if t.id is not None]
        answered = queries.answered_tickets(session=session, ticket_ids=ids)
        newest = queries.newest_tweets(session=session, ticket_ids=ids)
        used = set(
            session.exec(
                select(Reply.text)
                .where(Reply.group_id == group.id)
                .where(Reply.state != ReplyState.REJECTED)  # a returned answer never went out
            ).all()
        )  # keep answering: later texts differ from the earlier ones too
        agent = member.name.split()[0] if member.name else ""
        answers: list[Personal] = []
        counts = {"public": 0, "dms": 0, "unsummoned": 0, "skipped": 0}
        warnings: list[str] = []
        for ticket in tickets:
            assert ticket.id is not None
            held = ticket.owner_slack_id not in (None, member.user_id)
            if ticket.id in answered or ticket.state == TicketState.RESOLVED or held:
                counts["skipped"] += 1
                continue
            if ticket.source == TicketSource.KEYWORD and not self.rules.allow_unsummoned:
                counts["unsummoned"] += 1
                continue
            customer = session.get(Customer, ticket.customer_id)
            assert customer is not None
            text = personalise(
                body, name=customer.name or customer.username, handle=customer.username, agent=agent
            )
            checked = self._unique(ticket, customer, newest.get(ticket.id), text, member, used)
            used.add(checked.text)
            answers.append(Personal(ticket.id, checked))
            counts["dms" if ticket.source == TicketSource.DM else "public"] += 1
            warnings += [w for w in checked.warnings if w not in warnings]
        if any("link" in w for w in warnings):
            extra = counts["public"] * (URL_PRICE - POST_PRICE)
            warnings.append(f"With the link, the group answer costs about ${extra:,.2f} more on X.")
        return GroupPlan(group.id, body, answers, warnings=warnings, **counts)

    def _unique(
        self,
        ticket: Ticket,
        customer: Customer,
        newest: Message | None,
        text: str,
        member: Member,
        used: set[str],
    ) -> Checked:
        """The member's answer, checked, in a variation no other member's text has."""
        assert ticket.id is not None
        variations = [*VARIATIONS, f" (#{ticket.id})"]
        for variation in variations:
            try:
                checked = self._check(ticket, customer, newest, text + variation, member)
            except Refused as refusal:
                if variation:  # the variation made it too long: try the next one
                    continue
                name = f"@{customer.username}"
                raise Refused(f"For #{ticket.id} ({name}): {refusal.user_message}") from None
            if checked.text not in used:
                return checked
        raise Refused(
            f"For #{ticket.id} the answer would repeat another member's word for word, and X "
            "refuses duplicates: put `{name}` or `{handle}` into it."
        )

    def _check(
        self,
        ticket: Ticket,
        customer: Customer,
        newest: Message | None,
        body: str,
        member: Member,
    ) -> Checked:
        if ticket.source == TicketSource.DM:
            return self.rules.direct(ticket=ticket, customer=customer, body=body, member=member)
        return self.rules.public(ticket=ticket, newest=newest, body=body, member=member)

    def suggested_text(
        self, *, ticket_id: int, canned: str | None, group: int | None, member: Member
    ) -> str:
        """A suggested answer (a canned one, or a group's) filled in for one ticket."""
        with session_scope(self.engine, readonly=True) as session:
            ticket = session.get(Ticket, ticket_id)
            if ticket is None:
                raise Refused(f"There is no ticket #{ticket_id}.")
            customer = session.get(Customer, ticket.customer_id)
            assert customer is not None
            if group is not None:
                body = self._group(session, group).answer_body
                if body is None:
                    raise Refused(f"Sammelfrage {group} has no answer to send.")
            elif canned is not None:
                found = session.get(Canned, canned)
                if found is None:
                    raise Refused(f"There is no canned answer `:{canned}` any more.")
                body = found.text
            else:
                raise Refused("This suggestion names no answer.")
        agent = member.name.split()[0] if member.name else ""
        return personalise(
            body, name=customer.name or customer.username, handle=customer.username, agent=agent
        )

    # -- sending ----------------------------------------------------------------------------

    def send(
        self,
        *,
        group_id: int,
        body: str,
        member: Member,
        follow_up: datetime | None = None,
        request_key: str | None = None,
    ) -> GroupPlan:
        """Queue the group answer for every member it serves (a trainee's: for a lead)."""
        now = self.clock()
        trainee = member.role == Role.TRAINEE
        with session_scope(self.engine) as session:
            group = self._group(session, group_id, lock=True)
            if group.answer_body is not None:
                if request_key is not None and group.answer_key == request_key:
                    raise Refused(
                        "The same answer arrived twice (a double click, or Slack's retry): "
                        "it is queued once."
                    )
                raise Refused(
                    f"Sammelfrage {group_id} has its answer already, by <@{group.answer_by}>."
                )
            if group.state != GroupState.OPEN:
                raise Refused(f"Sammelfrage {group_id} is resolved.")
            listed = [t for _, t, _ in queries.members(session=session, group_id=group_id)]
            plan = self._plan(session, group, listed, body, member)
            group.answer_body, group.answer_by, group.answer_key = (
                plan.body,
                member.user_id,
                (request_key),
            )
            group.answer_awaiting, group.answered_at, group.updated_at = trainee, now, now
            group.followup_due = follow_up
            session.add(group)
            self._queue(session, group, plan, member, now, held=trainee)
            self.groups.refresh(session, group_id, now)
        self.answered()
        return plan

    def answer_new_member(
        self, session: Session, group: TicketGroup, ticket: Ticket, now: datetime
    ) -> None:
        """Keep answering new members: the same answer to one who just joined, same initials."""
        if not (group.keep_answering and group.answer_body and group.answer_by):
            return
        if group.stopped_at is not None:
            return
        author = self.roster.member(group.answer_by)
        if author is None:  # no longer on the team: nobody may sign with their initials
            return
        try:
            plan = self._plan(session, group, [ticket], group.answer_body, author)
        except Refused:
            return  # this customer's text fails a check: they get their card in the thread
        self._queue(session, group, plan, author, now, held=group.answer_awaiting)

    def _queue(
        self,
        session: Session,
        group: TicketGroup,
        plan: GroupPlan,
        member: Member,
        now: datetime,
        *,
        held: bool,
    ) -> None:
        assert group.id is not None
        if not held:  # the X outbox looks at once rather than at its next idle look
            after_commit(session, self.delivery.woken.set)
        for answer in plan.answers:
            key = request_key(group.id, answer.ticket_id)
            if session.exec(select(Reply.id).where(Reply.request_key == key)).first():
                continue  # queued once already
            reply = self.delivery.draft(answer.checked, author=member.user_id, held=held)
            reply.state = ReplyState.AWAITING_APPROVAL if held else ReplyState.QUEUED
            reply.attempts, reply.group_id, reply.request_key = 0, group.id, key
            session.add(reply)
            ticket = session.get(Ticket, answer.ticket_id)
            assert ticket is not None
            if ticket.owner_slack_id is None:  # claimed by the answer, as an individual reply
                ticket.owner_slack_id, ticket.claimed_at = member.user_id, ticket.claimed_at or now
                if ticket.state == TicketState.NEW:
                    ticket.state = TicketState.CLAIMED
                ticket.updated_at = now
                session.add(ticket)
                ticket_queries.add_event(
                    session=session,
                    ticket_id=answer.ticket_id,
                    kind=EventKind.CLAIMED,
                    actor=member.user_id,
                    detail=f"group {group.id}",
                    now=now,
                )

    def approve(self, *, group_id: int, lead: Member) -> int:
        """A lead approves a trainee's group answer: its rows go to the X outbox."""
        if not lead.is_lead:
            raise Refused("Only a lead approves a trainee's group answer.")
        now = self.clock()
        with session_scope(self.engine) as session:
            group = self._group(session, group_id, lock=True)
            if not group.answer_awaiting:
                raise Refused(f"Sammelfrage {group_id} has no answer waiting for approval.")
            group.answer_awaiting, group.answer_approved_by = False, lead.user_id
            session.add(group)
            moved = session.execute(
                update(Reply)
                .where(col(Reply.group_id) == group_id)
                .where(col(Reply.state) == ReplyState.AWAITING_APPROVAL)
                .values(state=ReplyState.QUEUED, approved_by=lead.user_id)
            )
            after_commit(session, self.delivery.woken.set)  # the X outbox sends them now
            self.groups.refresh(session, group_id, now)
            return int(moved.rowcount)  # type: ignore[attr-defined]

    def may_return(self, *, group_id: int, lead: Member) -> None:
        """Refused unless `lead` may return the group's answer now (before the modal opens)."""
        if not lead.is_lead:
            raise Refused("Only a lead returns a trainee's group answer.")
        with session_scope(self.engine, readonly=True) as session:
            if not self._group(session, group_id).answer_awaiting:
                raise Refused(f"Sammelfrage {group_id} has no answer waiting for approval.")

    def return_answer(self, *, group_id: int, lead: Member, note: str) -> int:
        """A lead returns a trainee's group answer with a comment: nothing goes to X.

        Its rows end `rejected`, their request keys given up so that the next answer can
        queue them; the group is open for Answer all again, and its thread says who
        returned the answer and why. Returns how many rows were held.
        """
        self.may_return(group_id=group_id, lead=lead)
        why = note.strip()
        if not why:
            raise Refused("Say what should change, so the trainee can learn from it.")
        now = self.clock()
        with session_scope(self.engine) as session:
            group = self._group(session, group_id, lock=True)
            if not group.answer_awaiting:  # another lead decided meanwhile
                raise Refused(f"Sammelfrage {group_id} has no answer waiting for approval.")
            trainee = group.answer_by
            returned = session.execute(
                update(Reply)
                .where(col(Reply.group_id) == group_id)
                .where(col(Reply.state) == ReplyState.AWAITING_APPROVAL)
                .values(
                    state=ReplyState.REJECTED,
                    approved_by=lead.user_id,
                    error=why[:300],
                    request_key=None,
                )
            )
            group.answer_body = group.answer_by = group.answer_key = None
            group.answer_awaiting, group.keep_answering = False, False
            group.followup_due, group.answered_at, group.updated_at = None, None, now
            session.add(group)
            self.groups.tell_thread(
                session,
                group_id,
                SlackMessage(
                    text=f"↩️ <@{lead.user_id}> returned <@{trainee}>'s group answer; "
                    f"nothing was sent. What should change: {escape_slack(why)}"
                ),
                dedup_key=f"group:{group_id}:returned:{now.timestamp():.0f}",
                now=now,
            )
            self.groups.refresh(session, group_id, now)
            return int(returned.rowcount)  # type: ignore[attr-defined]

    def keep_answering(self, *, group_id: int, member: Member) -> bool:
        """Switch Keep answering new members on or off; whether it is on now."""
        now = self.clock()
        with session_scope(self.engine) as session:
            group = self._group(session, group_id, lock=True)
            if group.answer_body is None:
                raise Refused("Answer the group first; then later members can get that answer.")
            group.keep_answering = not group.keep_answering
            if group.keep_answering:
                group.stopped_at = None
            session.add(group)
            self.groups.refresh(session, group_id, now)
            return group.keep_answering

    def stop(self, *, group_id: int, member: Member) -> int:
        """Stop sending: every row that has not gone to X yet is cancelled; how many."""
        now = self.clock()
        with session_scope(self.engine) as session:
            group = self._group(session, group_id, lock=True)
            group.keep_answering, group.stopped_at, group.answer_awaiting = False, now, False
            session.add(group)
            # Conditional: a row the X outbox has taken is on its way and stays so.
            cancelled = session.execute(
                update(Reply)
                .where(col(Reply.group_id) == group_id)
                .where(col(Reply.state).in_([ReplyState.QUEUED, ReplyState.AWAITING_APPROVAL]))
                .values(state=ReplyState.CANCELLED, error=f"stopped by {member.user_id}")
            )
            self.groups.refresh(session, group_id, now)
            return int(cancelled.rowcount)  # type: ignore[attr-defined]

    def remind(self, now: datetime | None = None) -> int:
        """The one reminder of each follow-up promised to a group due by `now`; how many.

        Taken with a conditional update, so of all replicas' sweeps one reminds, once.
        """
        now = now or self.clock()
        reminded = 0
        with session_scope(self.engine, readonly=True) as session:
            due = list(
                session.exec(
                    select(TicketGroup.id)
                    .where(col(TicketGroup.followup_due) <= now)
                    .where(col(TicketGroup.followup_fired_at).is_(None))
                    .where(TicketGroup.state == GroupState.OPEN)
                )
            )
        for group_id in due:
            with session_scope(self.engine) as session:
                taken = session.execute(
                    update(TicketGroup)
                    .where(col(TicketGroup.id) == group_id)
                    .where(col(TicketGroup.followup_fired_at).is_(None))
                    .values(followup_fired_at=now)
                )
                if taken.rowcount != 1:  # type: ignore[attr-defined]
                    continue
                group = self._group(session, group_id or 0)
                assert group.followup_due is not None
                self.groups.remind(session, group)
                reminded += 1
        return reminded

    @staticmethod
    def _group(session: Session, group_id: int, *, lock: bool = False) -> TicketGroup:
        group = session.get(TicketGroup, group_id, with_for_update=lock)
        if group is None:
            raise Refused(f"There is no Sammelfrage {group_id}.")
        return group
