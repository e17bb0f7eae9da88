"""Answering the customer on X: checked before anything is sent, sent at most once.

Every check runs before X is called and a failed check sends nothing. The reply is
written to the `reply` table before the call; if X's answer is lost (timeout, 5xx,
dropped connection) the row becomes `unknown` and is looked for among the brand's own
tweets before it is ever sent again. X refuses duplicate texts, which makes a resend of
a reply that did get through harmless: the refusal is read as "it is there".
"""

from __future__ import annotations

import logging
import re
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from sqlalchemy import Engine, update
from sqlmodel import Session, col, select
from twitter_text import extract_urls, parse_tweet
from twitter_text.has_invalid_characters import has_invalid_characters

from bot import outbox
from bot.canned import CannedAnswer, CannedAnswers, expand, suggest
from bot.cards import CardRefresher, shown_text, tweet_url
from bot.clock import Clock, system_clock
from bot.errors import Refused
from bot.followups import Promise, detect_promise
from bot.pii import PiiDetector
from bot.present import (
    ActivityKind,
    ActivityView,
    ApprovalView,
    Presenter,
    ReplySentView,
    SentKind,
)
from bot.roster import Member
from bot.text import MAX_WEIGHTED_LENGTH, clean_text, excerpt
from bot.tickets import REPEAT_WINDOW, Tickets
from bot.x import XClient
from bot.x_models import XError, XRateLimited, XRefused, XUnavailable, XUser
from store import tickets as queries
from store.db import session_scope
from store.followups import fulfil_promises
from store.models import (
    Channel,
    Customer,
    Direction,
    EventKind,
    Message,
    Reply,
    ReplyKind,
    ReplyState,
    Role,
    Ticket,
    TicketSource,
    TicketState,
)
from store.replies import repeated_reply

log = logging.getLogger(__name__)

MAX_DM_LENGTH = 10_000  # X's limit for a direct message
MOVE_TO_DM_CANNED = "dm-bitte"  # a lead's own wording, if they added a canned answer by this name
MOVE_TO_DM_TEXT = (
    "Bitte lösche deinen Tweet, er enthält persönliche Daten. Wir schreiben dir per DM. "
    "Please delete your tweet, it shows personal data; we'll continue by DM."
)
DUPLICATE = "duplicate content"
NOT_SUMMONED = "not been mentioned"
# How long a reply may stay unconfirmed before it is checked in X and sent again.
SETTLE_AFTER = timedelta(seconds=30)
MAX_ATTEMPTS = 5
_URL = re.compile(r"https?://\S+")
_LEADING_MENTIONS = re.compile(r"^(?:@\w{1,15}\s+)+")


def _contact_key(text: str) -> str:
    """A phone number by its digits (+49 171 … and 0171 … alike), anything else lower-cased."""
    digits = re.sub(r"\D", "", text)
    if "@" not in text and len(digits) >= 6:
        return digits.removeprefix("49").removeprefix("0")
    return text.strip().lower()


def wall_minutes(start: datetime, end: datetime) -> float:
    """Minutes between two instants, open or not (when there is no service calendar)."""
    return max(0.0, (end - start).total_seconds() / 60)


def same_text(ours: str, theirs: str) -> bool:
    """Whether a tweet X shows is ours.

    X puts the @handles of the conversation in front of a reply and rewrites links to
    t.co, so both are left out of the comparison.
    """

    def norm(text: str) -> str:
        return " ".join(_URL.sub("", _LEADING_MENTIONS.sub("", text.strip())).split())

    return norm(ours) == norm(theirs)


@dataclass(frozen=True)
class Checked:
    """An answer that passed every check, with what still needs the agent's confirmation."""

    ticket_id: int
    body: str
    text: str
    in_reply_to: str | None
    warnings: list[str] = field(default_factory=list)
    kind: ReplyKind = ReplyKind.TWEET
    recipient: str | None = None


@dataclass(frozen=True)
class ReplyContext:
    """What an agent sees while writing a reply."""

    ticket_id: int
    handle: str
    tweet: str
    signature: str
    canned: list[CannedAnswer]
    suggested: list[CannedAnswer]


class ReplyStatus(StrEnum):
    """What became of an answer."""

    SENT = "sent"
    CONFIRM = "confirm"  # it has warnings the agent has not confirmed: nothing was sent
    UNKNOWN = "unknown"  # X gave no clear answer; it is checked and sent at most once
    FAILED = "failed"
    AWAITING_APPROVAL = "awaiting_approval"  # a trainee's, waiting for a lead
    # The same answer was asked for a moment ago: `message` says what became of it, and
    # nothing new was sent.
    REPEATED = "repeated"


@dataclass(frozen=True)
class ReplyResult:
    """What happened to a reply, with the words for the agent (`message`)."""

    status: ReplyStatus
    ticket_id: int
    text: str
    url: str | None = None
    warnings: list[str] = field(default_factory=list)
    message: str = ""
    promise: Promise | None = None


class Replies:
    """Answers to customers: public replies and DMs."""

    def __init__(
        self,
        *,
        engine: Engine,
        x: XClient,
        brand: XUser,
        canned: CannedAnswers,
        presenter: Presenter,
        cards: CardRefresher,
        signature_format: str,
        allow_unsummoned: bool,
        automaton: Member,
        zone: ZoneInfo,
        pii: PiiDetector | None = None,
        public_contacts: Sequence[str] = (),
        business_minutes: Callable[[datetime, datetime], float] = wall_minutes,
        clock: Clock = system_clock,
        notify: Callable[[], None] = lambda: None,
        changed: Callable[[set[str]], None] = lambda _people: None,
    ) -> None:
        self._changed = changed
        self._engine = engine
        self._x = x
        self._brand = brand
        self._canned = canned
        self._presenter = presenter
        self._cards = cards
        self._signature_format = signature_format
        self._allow_unsummoned = allow_unsummoned
        self._automaton = automaton
        self._zone = zone
        self._pii = pii or PiiDetector()
        self._public_contacts = {_contact_key(contact) for contact in public_contacts}
        self._business_minutes = business_minutes
        self._clock = clock
        self._notify = notify

    # -- checks --------------------------------------------------------------------------

    def context(self, *, ticket_id: int, member: Member) -> ReplyContext:
        """What the reply modal shows: the customer's newest tweet, canned answers, signature."""
        with session_scope(self._engine, readonly=True) as session:
            ticket = Tickets.get(session, ticket_id)
            customer = session.get(Customer, ticket.customer_id)
            assert customer is not None
            newest = queries.newest_customer_tweet(session=session, ticket_id=ticket_id)
            tweet = newest.text if newest else ""
        canned = self._canned.all()
        return ReplyContext(
            ticket_id=ticket_id,
            handle=customer.username,
            tweet=tweet,
            signature=self.signature(member),
            canned=canned,
            suggested=suggest(tweet, canned),
        )

    def signature(self, member: Member) -> str:
        """The mark appended to every answer, e.g. ` ^AS`."""
        return self._signature_format.format(initials=member.initials)

    def from_canned(self, *, ticket_id: int, name: str, member: Member) -> CannedAnswer:
        """A canned answer (by its stored name) filled in for this customer and this agent."""
        answer = self._canned.get(name)
        return CannedAnswer(answer.name, self._fill(ticket_id, answer.text, member))

    def fill(self, *, ticket_id: int, text: str, member: Member) -> str:
        """`{name}` and `{agent}` filled in for this ticket's customer and this agent."""
        return self._fill(ticket_id, text, member)

    def _fill(self, ticket_id: int, text: str, member: Member) -> str:
        with session_scope(self._engine, readonly=True) as session:
            ticket = Tickets.get(session, ticket_id)
            customer = session.get(Customer, ticket.customer_id)
            assert customer is not None
            customer_name = customer.name or f"@{customer.username}"
        return expand(
            text, customer=customer_name, agent=member.name.split()[0] if member.name else ""
        )

    @staticmethod
    def _may_answer(ticket: Ticket, member: Member) -> Ticket:
        """Refused unless `member` may answer the ticket: it is theirs or nobody's."""
        if ticket.state == TicketState.RESOLVED and ticket.resolved_by != member.user_id:
            raise Refused(
                f"#{ticket.id} was resolved by <@{ticket.resolved_by}>; reopen it to answer."
            )
        if ticket.owner_slack_id not in (None, member.user_id):
            raise Tickets.held_by_other(ticket)
        return ticket

    def check(self, *, ticket_id: int, body: str, member: Member) -> Checked:
        """Every check a public reply must pass; refuses with the reason, or lists warnings."""
        body = clean_text(body).strip()
        if not body:
            raise Refused("The reply is empty: write what the customer should read.")
        with session_scope(self._engine, readonly=True) as session:
            ticket = self._may_answer(Tickets.get(session, ticket_id), member)
            newest = queries.newest_customer_tweet(session=session, ticket_id=ticket_id)
            if newest is None or newest.external_id is None:
                raise Refused(f"#{ticket_id} has no customer tweet to reply to; use `/dm`.")
            keyword_hit = ticket.source == TicketSource.KEYWORD
        signature = self.signature(member)
        text = body + signature
        parsed = parse_tweet(text)
        if parsed.weightedLength > MAX_WEIGHTED_LENGTH:
            over = parsed.weightedLength - MAX_WEIGHTED_LENGTH
            raise Refused(
                f"The reply is {over} character{'s' if over != 1 else ''} too long: "
                f"{parsed.weightedLength} of {MAX_WEIGHTED_LENGTH} as X counts them "
                f"(links count 23, emoji and CJK 2), including your signature “{signature}”."
            )
        if not parsed.valid:  # long enough, so X refuses a character
            named = ", ".join(
                f"U+{ord(c):04X} {unicodedata.name(c, '')}".strip()
                for c in sorted(set(text))
                if has_invalid_characters(c)
            )
            raise Refused(
                f"X does not accept these characters in a post: {named}. Nothing was sent."
            )
        findings = [f for f in self._pii.find(body) if not self._is_public_contact(f.text)]
        if findings:
            named = ", ".join(f"{f.label} “{excerpt(f.text, 60)}”" for f in findings)
            raise Refused(
                f"The reply contains personal data and would be public: {named}. "
                f"Nothing was sent. Send it as a DM instead (`/dm {ticket_id} …`)."
            )
        warnings = []
        if extract_urls(body):
            warnings.append(
                "It contains a link: X charges much more for posts with links, and links "
                "count 23 characters."
            )
        if keyword_hit and not self._allow_unsummoned:
            warnings.append(
                "The customer did not mention us (keyword search): X refuses public API "
                "replies to people who did not mention or quote the account. "
                "`/dm` or answering by hand may be better."
            )
        return Checked(
            ticket_id=ticket_id,
            body=body,
            text=text,
            in_reply_to=newest.external_id,
            warnings=warnings,
        )

    def _is_public_contact(self, found: str) -> bool:
        """The team's own hotline or address (PUBLIC_CONTACT_DATA) may be given publicly."""
        return _contact_key(found) in self._public_contacts

    def check_dm(self, *, ticket_id: int, body: str, member: Member) -> Checked:
        """The checks of a DM: personal data is allowed there, the length is X's DM limit."""
        body = clean_text(body).strip()
        if not body:
            raise Refused("The DM is empty: write what the customer should read.")
        with session_scope(self._engine, readonly=True) as session:
            ticket = self._may_answer(Tickets.get(session, ticket_id), member)
            customer = session.get(Customer, ticket.customer_id)
            assert customer is not None
        text = body + self.signature(member)
        if len(text) > MAX_DM_LENGTH:
            raise Refused(
                f"The DM is {len(text) - MAX_DM_LENGTH} characters over X's {MAX_DM_LENGTH}."
            )
        return Checked(
            ticket_id=ticket_id,
            body=body,
            text=text,
            in_reply_to=None,
            kind=ReplyKind.DM,
            recipient=customer.x_user_id,
        )

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

    def send_dm(
        self, *, ticket_id: int, body: str, member: Member, request_key: str | None = None
    ) -> ReplyResult:
        """Answer the customer by direct message (claims the ticket when nobody holds it).

        A trainee's DM waits for a lead like a public reply: DMs may carry personal data.
        """
        checked = self.check_dm(ticket_id=ticket_id, body=body, member=member)
        return self._submit(checked, member, request_key=request_key)

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
        with session_scope(self._engine) as session:
            self._take(session, checked.ticket_id, member)
            earlier = repeated_reply(
                session=session,
                ticket_id=checked.ticket_id,
                author=member.user_id,
                kind=checked.kind,
                text=checked.text,
                in_reply_to=checked.in_reply_to,
                recipient=checked.recipient,
                request_key=request_key,
                since=self._clock() - REPEAT_WINDOW,
            )
            if earlier is not None:
                return self._repeated(earlier)
            reply_id = self._queue(
                session,
                checked,
                author=member.user_id,
                canned_name=canned_name,
                held=trainee,
                request_key=request_key,
            )
            if trainee:
                self._post_approval(session, reply_id, checked, member.user_id)
        if trainee:
            self._notify()
            what = "DM" if checked.kind == ReplyKind.DM else "reply"
            return ReplyResult(
                ReplyStatus.AWAITING_APPROVAL,
                checked.ticket_id,
                checked.text,
                message=f"Your {what} waits in the thread for a lead's approval.",
            )
        return self._with_promise(self._attempt(reply_id), checked.body)

    def _repeated(self, reply: Reply) -> ReplyResult:
        """What became of the answer that a repeated request asked for once already."""
        url = None
        if reply.kind == ReplyKind.TWEET:
            url = tweet_url(self._brand.username, reply.external_id)
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

    def send_automatic(self, *, ticket_id: int, body: str) -> ReplyResult:
        """The out-of-hours answer: same checks, signed by the bot, not a first response."""
        try:
            checked = self.check(ticket_id=ticket_id, body=body, member=self._automaton)
        except Refused as exc:
            log.warning("automatic answer to #%s not sent: %s", ticket_id, exc.user_message)
            return ReplyResult(ReplyStatus.FAILED, ticket_id, body, message=exc.user_message)
        with session_scope(self._engine) as session:
            reply_id = self._queue(session, checked, author=self._automaton.user_id, automatic=True)
        return self._attempt(reply_id)

    def ask_to_move_to_dm(
        self, *, ticket_id: int, member: Member, request_key: str | None = None
    ) -> ReplyResult:
        """The one-click public answer to a tweet with personal data: delete it, DMs follow."""
        try:
            body = self.from_canned(ticket_id=ticket_id, name=MOVE_TO_DM_CANNED, member=member).text
        except Refused:
            body = self._fill(ticket_id, MOVE_TO_DM_TEXT, member)
        return self.send(
            ticket_id=ticket_id,
            body=body,
            member=member,
            confirmed=True,
            canned_name=MOVE_TO_DM_CANNED,
            request_key=request_key,
        )

    def _with_promise(self, result: ReplyResult, body: str) -> ReplyResult:
        if result.status != ReplyStatus.SENT:
            return result
        return replace(result, promise=detect_promise(body, now=self._clock(), zone=self._zone))

    def _take(self, session: Session, ticket_id: int, member: Member) -> Ticket:
        """Lock the ticket for this answer; claim it for `member` when nobody holds it."""
        ticket = self._may_answer(Tickets.locked(session, ticket_id), member)
        if ticket.owner_slack_id is not None:
            return ticket
        now = self._clock()
        ticket.owner_slack_id = member.user_id
        ticket.claimed_at = ticket.claimed_at or now
        if ticket.state == TicketState.NEW:
            ticket.state = TicketState.CLAIMED
        ticket.updated_at = now
        session.add(ticket)
        queries.add_event(
            session=session,
            ticket_id=ticket_id,
            kind=EventKind.CLAIMED,
            actor=member.user_id,
            now=now,
        )
        # The card shows the new owner now, also when the answer then waits (a trainee's)
        # or fails; a later refresh of the same card is folded into this one.
        self._cards.refresh(session=session, ticket=ticket, now=now)
        self._changed({member.user_id})
        return ticket

    def _queue(
        self,
        session: Session,
        checked: Checked,
        *,
        author: str,
        canned_name: str | None = None,
        automatic: bool = False,
        held: bool = False,
        request_key: str | None = None,
    ) -> int:
        """Write the reply row before X is called, so no outcome can go unrecorded."""
        reply = Reply(
            ticket_id=checked.ticket_id,
            kind=checked.kind,
            author_slack_id=author,
            body=checked.body,
            text=checked.text,
            in_reply_to_id=checked.in_reply_to,
            recipient_x_id=checked.recipient,
            canned_name=canned_name,
            state=ReplyState.AWAITING_APPROVAL if held else ReplyState.SENDING,
            attempts=0 if held else 1,
            automatic=automatic,
            request_key=request_key,
            created_at=self._clock(),
        )
        session.add(reply)
        session.flush()
        assert reply.id is not None
        return reply.id

    # -- trainees ------------------------------------------------------------------------

    def _post_approval(
        self, session: Session, reply_id: int, checked: Checked, trainee: str
    ) -> None:
        now = self._clock()
        queries.add_event(
            session=session,
            ticket_id=checked.ticket_id,
            kind=EventKind.REPLY_DRAFTED,
            actor=trainee,
            detail=str(reply_id),
            now=now,
        )
        outbox.post_in_thread(
            session=session,
            ticket_id=checked.ticket_id,
            message=self._presenter.approval(
                ApprovalView(
                    reply_id,
                    checked.ticket_id,
                    trainee,
                    self._shown(checked.kind, checked.text),
                    ReplyState.AWAITING_APPROVAL,
                    kind=checked.kind,
                )
            ),
            now=now,
            dedup_key=f"approval:{reply_id}",
        )

    def _shown(self, kind: str, text: str) -> str:
        """An answer as Slack may show it: a DM's personal data masked, as in threads."""
        return self._pii.mask(text) if kind == ReplyKind.DM else text

    def _decide(
        self, reply_id: int, lead: Member, state: ReplyState, *, comment: str | None = None
    ) -> Reply:
        """Take a trainee's reply out of the waiting state, exactly once (`comment`: why not)."""
        changes = {"state": state, "approved_by": lead.user_id, "attempts": Reply.attempts + 1}
        if comment is not None:
            changes["error"] = comment[:300]
        with session_scope(self._engine) as session:
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

    def approve(self, *, reply_id: int, lead: Member) -> ReplyResult:
        """A lead approves a trainee's reply: it goes out, with the trainee's initials."""
        reply = self._decide(reply_id, lead, ReplyState.SENDING)
        self._show_decision(reply, lead, ReplyState.SENT, None, EventKind.REPLY_APPROVED)
        result = self._attempt(reply_id)
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

    def _show_decision(
        self,
        reply: Reply,
        lead: Member,
        state: ReplyState,
        note: str | None,
        event: EventKind | None,
    ) -> None:
        assert reply.id is not None
        now = self._clock()
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
        with session_scope(self._engine) as session:
            if event is not None:
                queries.add_event(
                    session=session,
                    ticket_id=reply.ticket_id,
                    kind=event,
                    actor=lead.user_id,
                    detail=str(reply.id),
                    now=now,
                )
            outbox.update_posted(
                session=session,
                dedup_key=f"approval:{reply.id}",
                message=self._presenter.approval(view),
                now=now,
            )
            if state == ReplyState.REJECTED:
                outbox.post_in_thread(
                    session=session,
                    ticket_id=reply.ticket_id,
                    message=self._presenter.activity(
                        ActivityView(
                            reply.ticket_id,
                            ActivityKind.REPLY_REJECTED,
                            lead.user_id,
                            reply.author_slack_id,
                            note,
                        )
                    ),
                    now=now,
                )
        self._notify()

    # -- one attempt ---------------------------------------------------------------------

    def _attempt(self, reply_id: int) -> ReplyResult:
        """Call X once for a reply row that is `sending`, and record what came of it."""
        with session_scope(self._engine, readonly=True) as session:
            reply = session.get(Reply, reply_id)
            assert reply is not None
        try:
            if reply.kind == ReplyKind.DM:
                assert reply.recipient_x_id is not None
                external_id = self._x.send_dm(reply.recipient_x_id, reply.text)
            else:
                assert reply.in_reply_to_id is not None
                external_id = self._x.post_reply(reply.text, in_reply_to=reply.in_reply_to_id)
        except XRefused as exc:
            if DUPLICATE in exc.detail and reply.attempts > 1:
                # A resend of a reply whose first answer was lost: X says it is there.
                return self._reconcile(reply, assume_posted=True)
            return self._fail(reply, _explain(exc, dm=reply.kind == ReplyKind.DM))
        except XRateLimited as exc:
            return self._fail(reply, _explain(exc))
        except XUnavailable as exc:
            if not exc.maybe_processed:
                return self._fail(reply, "X could not be reached, so nothing was sent. Try again.")
            log.warning("reply %s: X gave no clear answer (%s); checking", reply_id, exc)
            self._set_state(reply_id, ReplyState.UNKNOWN, str(exc))
            return self._reconcile(reply, assume_posted=False)
        return self._record_sent(reply, external_id)

    def _find_on_x(self, reply: Reply) -> str | None:
        """The id of the reply on X, if it got there after all."""
        if reply.kind == ReplyKind.DM:
            assert reply.recipient_x_id is not None
            for message in self._x.dms_with(reply.recipient_x_id):
                if message.sender.id == self._brand.id and same_text(reply.text, message.text):
                    return message.id
            return None
        own = self._x.own_replies(self._brand.id, since=reply.created_at - timedelta(minutes=2))
        for tweet in own:
            if tweet.replied_to_id == reply.in_reply_to_id and same_text(reply.text, tweet.text):
                return tweet.id
        return None

    def _reconcile(self, reply: Reply, *, assume_posted: bool) -> ReplyResult:
        """Look for the reply on X; record it if it is there."""
        assert reply.id is not None
        try:
            found = self._find_on_x(reply)
        except XError as exc:
            log.warning("reply %s: cannot check X (%s); will check again", reply.id, exc)
            found = None
        if found is not None or assume_posted:
            return self._record_sent(reply, found)
        self._set_state(reply.id, ReplyState.UNKNOWN, "not found on X yet")
        return ReplyResult(
            ReplyStatus.UNKNOWN,
            reply.ticket_id,
            reply.text,
            message=(
                "X did not confirm whether the answer went out. The bot checks again shortly "
                "and sends it at most once; the thread will show it."
            ),
        )

    def _set_state(self, reply_id: int, state: ReplyState, error: str | None) -> None:
        with session_scope(self._engine) as session:
            session.execute(
                update(Reply)
                .where(col(Reply.id) == reply_id)
                .values(state=state, error=(error or "")[:300] or None, checked_at=self._clock())
            )

    def _fail(self, reply: Reply, why: str) -> ReplyResult:
        assert reply.id is not None
        self._set_state(reply.id, ReplyState.FAILED, why)
        return ReplyResult(
            ReplyStatus.FAILED, reply.ticket_id, reply.text, message=f"Nothing was sent. {why}"
        )

    def _record_sent(self, reply: Reply, external_id: str | None) -> ReplyResult:
        """The answer is on X: store it, move the ticket on, show it in the thread."""
        now = self._clock()
        dm = reply.kind == ReplyKind.DM
        url = None if dm else tweet_url(self._brand.username, external_id)
        with session_scope(self._engine) as session:
            stored = session.get(Reply, reply.id)
            assert stored is not None
            if stored.state == ReplyState.SENT:
                return ReplyResult(
                    ReplyStatus.SENT, reply.ticket_id, reply.text, url=url
                )  # recorded
            stored.state = ReplyState.SENT
            stored.external_id = external_id
            stored.sent_at = now
            stored.error = None
            session.add(stored)
            ticket = Tickets.get(session, reply.ticket_id)
            message = Message(
                ticket_id=reply.ticket_id,
                direction=Direction.OUT,
                channel=Channel.DM if dm else Channel.TWEET,
                external_id=external_id,
                conversation_id=None if dm else ticket.conversation_id,
                in_reply_to_id=reply.in_reply_to_id,
                author_slack_id=reply.author_slack_id,
                text=reply.text,
                created_at=now,
                stored_at=now,
            )
            session.add(message)
            session.flush()
            if not stored.automatic:
                # The customer heard from a person: the ticket waits for them, promises
                # made before are kept, and the first-response clock stops.
                ticket.state = TicketState.WAITING
                ticket.resolved_at = None
                if ticket.first_response_at is None:
                    ticket.first_response_at = now
                    ticket.first_response_by = reply.author_slack_id
                    ticket.first_response_minutes = self._business_minutes(ticket.created_at, now)
                ticket.updated_at = now
                session.add(ticket)
                fulfil_promises(session, ticket_id=reply.ticket_id, now=now)
            queries.add_event(
                session=session,
                ticket_id=reply.ticket_id,
                kind=EventKind.AUTO_ANSWERED
                if stored.automatic
                else (EventKind.DM_SENT if dm else EventKind.REPLIED),
                actor=reply.author_slack_id,
                detail=reply.canned_name,
                now=now,
            )
            shown, reveal_id = shown_text(message, self._pii.mask)
            outbox.post_in_thread(
                session=session,
                ticket_id=reply.ticket_id,
                message=self._presenter.reply_sent(
                    ReplySentView(
                        ticket_id=reply.ticket_id,
                        agent_slack_id=reply.author_slack_id,
                        text=shown,
                        url=url,
                        kind=SentKind.AUTO if stored.automatic else SentKind(reply.kind),
                        approved_by=reply.approved_by,
                        reveal_id=reveal_id,
                    )
                ),
                now=now,
                dedup_key=f"reply:{reply.id}",
            )
            self._cards.refresh(session=session, ticket=ticket, now=now)
        self._notify()
        self._changed({reply.author_slack_id})
        return ReplyResult(ReplyStatus.SENT, reply.ticket_id, reply.text, url=url)

    # -- background ----------------------------------------------------------------------

    def settle(self) -> int:
        """Resolve answers whose outcome is unknown: found on X, or sent again once.

        Also picks up answers a crash left `sending`. Each row is taken with a conditional
        update, so several replicas never work on the same reply.
        """
        now = self._clock()
        settled = 0
        due = (col(Reply.checked_at).is_(None)) | (col(Reply.checked_at) <= now - SETTLE_AFTER)
        waiting = col(Reply.state).in_([ReplyState.UNKNOWN, ReplyState.SENDING])
        with session_scope(self._engine, readonly=True) as session:
            candidates = list(
                session.exec(
                    select(Reply.id)
                    .where(waiting)
                    .where(col(Reply.created_at) <= now - SETTLE_AFTER)
                    .where(due)
                )
            )
        for reply_id in candidates:
            with session_scope(self._engine) as session:
                taken = session.execute(
                    update(Reply)
                    .where(col(Reply.id) == reply_id)
                    .where(waiting)
                    .where(due)
                    .values(state=ReplyState.SENDING, checked_at=now, attempts=Reply.attempts + 1)
                )
                if taken.rowcount != 1:  # type: ignore[attr-defined]
                    continue
                reply = session.get(Reply, reply_id)
                assert reply is not None
            settled += 1
            result = self._reconcile_then_resend(reply)
            if result.status == ReplyStatus.FAILED:
                self._tell_thread(reply, ActivityKind.REPLY_FAILED, result.message)
        return settled

    def _reconcile_then_resend(self, reply: Reply) -> ReplyResult:
        found = self._reconcile(reply, assume_posted=False)
        if found.status == ReplyStatus.SENT:
            return found
        if reply.attempts > MAX_ATTEMPTS:
            return self._fail(
                reply, "X never confirmed it; check the customer's tweet on X by hand."
            )
        self._set_state(reply.id or 0, ReplyState.SENDING, None)
        return self._attempt(reply.id or 0)

    def _tell_thread(self, reply: Reply, kind: ActivityKind, note: str) -> None:
        with session_scope(self._engine) as session:
            outbox.post_in_thread(
                session=session,
                ticket_id=reply.ticket_id,
                message=self._presenter.activity(
                    ActivityView(reply.ticket_id, kind, reply.author_slack_id, note=note)
                ),
                now=self._clock(),
            )
        self._notify()


def _explain(exc: XError, *, dm: bool = False) -> str:
    """X's refusal in words an agent can act on."""
    if dm and isinstance(exc, XRefused) and exc.status == 403:
        return (
            "X refused the DM: the customer does not accept DMs from us (they need to follow "
            "us or open their DMs). Ask them publicly to open their DMs."
        )
    if isinstance(exc, XRateLimited):
        when = f" after {exc.reset_at:%H:%M} UTC" if exc.reset_at else " in a few minutes"
        return f"X's rate limit for posting is used up; try again{when}."
    if isinstance(exc, XRefused):
        if DUPLICATE in exc.detail:
            return "X refuses duplicates: this exact text was posted before. Change a few words."
        if NOT_SUMMONED in exc.detail:
            return (
                "X refused a public reply because the customer did not mention or quote us. "
                "Answer with `/dm`, or by hand on X."
            )
        return f"X refused it ({exc.status}): {exc.detail}"
    return exc.user_message
