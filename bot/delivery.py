"""Delivering answers to X exactly once: recorded before the call, never sent blindly twice.

The reply is written to the `reply` table before X is called; if X's answer is lost
(timeout, 5xx, dropped connection) the row becomes `unknown` and is looked for among the
brand's own tweets before it is ever sent again. X refuses duplicate texts, which makes a
resend of a reply that did get through harmless: the refusal is read as "it is there".
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy import Engine, update
from sqlmodel import Session, col, select

from bot.cards import tweet_url
from bot.checks import Checked
from bot.clock import Clock, system_clock
from bot.feed import Change, TicketFeed
from bot.followups import Promise
from bot.pace import XPace
from bot.present import ActivityKind, ActivityView, ReplySentView, SentKind
from bot.x import XSide
from bot.x_models import (
    DUPLICATE,
    XCreditsUsedUp,
    XError,
    XRateLimited,
    XRefused,
    XUnavailable,
    explain_refusal,
)
from store.db import session_scope
from store.followups import fulfil_promises
from store.models import (
    Channel,
    Direction,
    EventKind,
    Message,
    Reply,
    ReplyKind,
    ReplyState,
    Ticket,
    TicketState,
)

log = logging.getLogger(__name__)

# How long a reply may stay unconfirmed before it is checked in X and sent again.
SETTLE_AFTER = timedelta(seconds=30)
MAX_ATTEMPTS = 5
UNREACHABLE_PAUSE = timedelta(seconds=15)  # the X outbox's wait when X cannot be reached
_URL = re.compile(r"https?://\S+")
_LEADING_MENTIONS = re.compile(r"^(?:@\w{1,15}\s+)+")


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
    REFUSED = "refused"  # refused after its checks (someone took the ticket): nothing sent
    # X's window is used up (or its credits): the answer waits in the X outbox, first in
    # line, and goes out once (`bot/x_outbox.py`).
    QUEUED = "queued"


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


def _no_group(_session: Session, _group_id: int, _now: datetime) -> None:
    return None


@dataclass(frozen=True, kw_only=True)
class Delivery:
    """Sends recorded answers to X, at most once each, and records what became of them."""

    engine: Engine
    x: XSide
    feed: TicketFeed
    business_minutes: Callable[[datetime, datetime], float] = wall_minutes
    clock: Clock = system_clock
    pace: XPace | None = None  # None: no pace (every answer goes straight to X)
    # Set when rows are queued for the X outbox, so its worker looks at once.
    woken: threading.Event = field(default_factory=threading.Event)
    # Told of every answer that reached X (metrics count them).
    sent_listeners: list[Callable[[Reply], None]] = field(default_factory=list)
    # Told when X says the account's credits are used up (402): leads and on-call hear it.
    credits_listeners: list[Callable[[], None]] = field(default_factory=list)
    # A row of a group answer went out or failed: the group's card shows its progress.
    group_changed: Callable[[Session, int, datetime], None] = _no_group

    def posted_url(self, tweet_id: str | None) -> str | None:
        """Where one of the brand's posts is on X."""
        return tweet_url(self.x.brand.username, tweet_id)

    def draft(
        self,
        checked: Checked,
        *,
        author: str,
        canned_name: str | None = None,
        automatic: bool = False,
        held: bool = False,
        request_key: str | None = None,
    ) -> Reply:
        """The reply row of a checked answer, not stored yet (`held`: for a lead to decide)."""
        return Reply(
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
            created_at=self.clock(),
        )

    @staticmethod
    def queue(session: Session, reply: Reply) -> int:
        """Store the reply row before X is called, so no outcome can go unrecorded.

        A person's own answer to a group member takes the place of the group's answer to
        it, if that has not gone to X yet: the customer hears from us once.
        """
        session.add(reply)
        session.flush()
        assert reply.id is not None
        if reply.group_id is None and not reply.automatic and reply.state == ReplyState.SENDING:
            session.execute(
                update(Reply)
                .where(col(Reply.ticket_id) == reply.ticket_id)
                .where(col(Reply.group_id).is_not(None))
                .where(col(Reply.state).in_([ReplyState.QUEUED, ReplyState.AWAITING_APPROVAL]))
                .values(state=ReplyState.CANCELLED, error="answered individually")
            )
        return reply.id

    def dispatch(self, reply_id: int) -> ReplyResult:
        """Send a `sending` row now if X's window has room, else queue it for the X outbox.

        An individual answer goes out in the agent's request as before; only when the
        window is used up does it wait, first in line before any group answer.
        """
        with session_scope(self.engine, readonly=True) as session:
            reply = session.get(Reply, reply_id)
            assert reply is not None
        if self.pace is not None:
            room = self.pace.take(ReplyKind(reply.kind), group=reply.group_id is not None)
            if not room.now:
                return self._requeue(reply, room.retry_at)
        return self.attempt(reply_id)

    def claim(self, reply_id: int) -> bool:
        """Take a `queued` row for sending; False when another worker took it (or it was
        cancelled). The claim time is where a lost answer is looked for on X."""
        with session_scope(self.engine) as session:
            taken = session.execute(
                update(Reply)
                .where(col(Reply.id) == reply_id)
                .where(col(Reply.state) == ReplyState.QUEUED)
                .values(
                    state=ReplyState.SENDING, checked_at=self.clock(), attempts=Reply.attempts + 1
                )
            )
            return bool(taken.rowcount == 1)  # type: ignore[attr-defined]

    def _requeue(self, reply: Reply, until: datetime | None, why: str = "") -> ReplyResult:
        """Back into the X outbox: nothing was posted, so this try does not count."""
        assert reply.id is not None
        with session_scope(self.engine) as session:
            session.execute(
                update(Reply)
                .where(col(Reply.id) == reply.id)
                .values(
                    state=ReplyState.QUEUED,
                    attempts=max(0, reply.attempts - 1),
                    error=why[:300] or None,
                )
            )
        self.woken.set()
        when = f" at {until:%H:%M} UTC" if until else " when X allows"
        what = "DM" if reply.kind == ReplyKind.DM else "reply"
        reason = why or "X's posting window is used up for the moment"
        return ReplyResult(
            ReplyStatus.QUEUED,
            reply.ticket_id,
            reply.text,
            message=(
                f"{reason}: your {what} waits in the X outbox, first in line, and goes out"
                f"{when}, once. The thread will show it."
            ),
        )

    def attempt(self, reply_id: int, *, queued: bool = False) -> ReplyResult:
        """Call X once for a reply row that is `sending`, and record what came of it.

        `queued`: the X outbox sends it, nobody waits for it: when X cannot be reached
        it goes back into the outbox for a later try instead of failing.
        """
        with session_scope(self.engine, readonly=True) as session:
            reply = session.get(Reply, reply_id)
            assert reply is not None
        try:
            if reply.kind == ReplyKind.DM:
                assert reply.recipient_x_id is not None
                external_id = self.x.client.send_dm(reply.recipient_x_id, reply.text)
            else:
                assert reply.in_reply_to_id is not None
                external_id = self.x.client.post_reply(reply.text, in_reply_to=reply.in_reply_to_id)
        except XCreditsUsedUp:
            for listener in self.credits_listeners:
                listener()
            return self._requeue(reply, None, "X's credits are used up (402)")
        except XRefused as exc:
            if DUPLICATE in exc.detail and reply.attempts > 1:
                # A resend of a reply whose first answer was lost: X says it is there.
                return self._reconcile(reply, assume_posted=True)
            return self._fail(reply, explain_refusal(exc, dm=reply.kind == ReplyKind.DM))
        except XRateLimited as exc:
            # Nothing was posted: it waits for the window's reset (the pace read it).
            return self._requeue(reply, exc.reset_at, "X's rate limit for posting is used up")
        except XUnavailable as exc:
            if not exc.maybe_processed:
                if queued:
                    if self.pace is not None:
                        self.pace.hold(ReplyKind(reply.kind), UNREACHABLE_PAUSE)
                    return self._requeue(reply, None, "X could not be reached")
                return self._fail(reply, "X could not be reached, so nothing was sent. Try again.")
            log.warning("reply %s: X gave no clear answer (%s); checking", reply_id, exc)
            self._set_state(reply_id, ReplyState.UNKNOWN, str(exc))
            return self._reconcile(reply, assume_posted=False)
        return self._record_sent(reply, external_id)

    def _find_on_x(self, reply: Reply, since: datetime | None = None) -> str | None:
        """The id of the reply on X, if it got there after all.

        It is looked for among the brand's tweets from shortly before it was sent
        (`since`, or when it was taken from the outbox, or written).
        """
        if reply.kind == ReplyKind.DM:
            assert reply.recipient_x_id is not None
            for message in self.x.client.dms_with(reply.recipient_x_id):
                if message.sender.id == self.x.brand.id and same_text(reply.text, message.text):
                    return message.id
            return None
        since = since or reply.checked_at or reply.created_at
        own = self.x.client.own_replies(self.x.brand.id, since=since - timedelta(minutes=2))
        for tweet in own:
            if tweet.replied_to_id == reply.in_reply_to_id and same_text(reply.text, tweet.text):
                return tweet.id
        return None

    def _reconcile(
        self, reply: Reply, *, assume_posted: bool, since: datetime | None = None
    ) -> ReplyResult:
        """Look for the reply on X; record it if it is there."""
        assert reply.id is not None
        try:
            found = self._find_on_x(reply, since)
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
        with session_scope(self.engine) as session:
            session.execute(
                update(Reply)
                .where(col(Reply.id) == reply_id)
                .values(state=state, error=(error or "")[:300] or None, checked_at=self.clock())
            )

    def _fail(self, reply: Reply, why: str) -> ReplyResult:
        assert reply.id is not None
        self._set_state(reply.id, ReplyState.FAILED, why)
        if reply.group_id is not None:
            with session_scope(self.engine) as session:
                self.group_changed(session, reply.group_id, self.clock())
        return ReplyResult(
            ReplyStatus.FAILED, reply.ticket_id, reply.text, message=f"Nothing was sent. {why}"
        )

    def _record_sent(self, reply: Reply, external_id: str | None) -> ReplyResult:
        """The answer is on X: store it, move the ticket on, show it in the thread."""
        now = self.clock()
        dm = reply.kind == ReplyKind.DM
        url = None if dm else tweet_url(self.x.brand.username, external_id)
        with session_scope(self.engine) as session:
            stored = session.get(Reply, reply.id)
            assert stored is not None
            if stored.state == ReplyState.SENT:  # recorded already
                return ReplyResult(ReplyStatus.SENT, reply.ticket_id, reply.text, url=url)
            for listener in self.sent_listeners:
                listener(stored)
            stored.state = ReplyState.SENT
            stored.external_id = external_id
            stored.sent_at = now
            stored.error = None
            session.add(stored)
            ticket = session.get(Ticket, reply.ticket_id)
            assert ticket is not None
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
                    ticket.first_response_minutes = self.business_minutes(ticket.created_at, now)
                ticket.updated_at = now
                session.add(ticket)
                fulfil_promises(session, ticket_id=reply.ticket_id, now=now)
            shown, reveal_id = self.feed.looks.shown(message)
            line = ReplySentView(
                ticket_id=reply.ticket_id,
                agent_slack_id=reply.author_slack_id,
                text=shown,
                url=url,
                kind=SentKind.AUTO if stored.automatic else SentKind(reply.kind),
                approved_by=reply.approved_by,
                reveal_id=reveal_id,
                reply_id=reply.id,
            )
            if stored.automatic:
                event = EventKind.AUTO_ANSWERED
            else:
                event = EventKind.DM_SENT if dm else EventKind.REPLIED
            author = reply.author_slack_id
            sent = Change(event, author, reply.canned_name, line, people=[author])
            self.feed.record(session, ticket, sent, now)
            if stored.group_id is not None:
                self.group_changed(session, stored.group_id, now)
        return ReplyResult(ReplyStatus.SENT, reply.ticket_id, reply.text, url=url)

    # -- background ----------------------------------------------------------------------

    def settle(self) -> int:
        """Resolve answers whose outcome is unknown: found on X, or sent again once.

        Also picks up answers a crash left `sending`. Each row is taken with a conditional
        update, so several replicas never work on the same reply.
        """
        now = self.clock()
        settled = 0
        due = (col(Reply.checked_at).is_(None)) | (col(Reply.checked_at) <= now - SETTLE_AFTER)
        waiting = col(Reply.state).in_([ReplyState.UNKNOWN, ReplyState.SENDING])
        with session_scope(self.engine, readonly=True) as session:
            candidates = list(
                session.exec(
                    select(Reply.id)
                    .where(waiting)
                    .where(col(Reply.created_at) <= now - SETTLE_AFTER)
                    .where(due)
                )
            )
        for reply_id in candidates:
            with session_scope(self.engine) as session:
                before = session.get(Reply, reply_id)
                # Where to look on X: from when it was last sent or taken from the outbox.
                since = (before.checked_at or before.created_at) if before else None
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
            result = self._reconcile_then_resend(reply, since)
            if result.status == ReplyStatus.FAILED:
                self.tell_thread(reply, ActivityKind.REPLY_FAILED, result.message)
        return settled

    def _reconcile_then_resend(self, reply: Reply, since: datetime | None) -> ReplyResult:
        found = self._reconcile(reply, assume_posted=False, since=since)
        if found.status == ReplyStatus.SENT:
            return found
        if reply.attempts > MAX_ATTEMPTS:
            return self._fail(
                reply, "X never confirmed it; check the customer's tweet on X by hand."
            )
        self._set_state(reply.id or 0, ReplyState.SENDING, None)
        if self.pace is not None:
            self.pace.took(ReplyKind(reply.kind), group=reply.group_id is not None)
        return self.attempt(reply.id or 0)

    def tell_thread(self, reply: Reply, kind: ActivityKind, note: str) -> None:
        """A line in the ticket's thread about one of its answers (a failure, say)."""
        with session_scope(self.engine) as session:
            ticket = session.get(Ticket, reply.ticket_id)
            assert ticket is not None
            line = ActivityView(reply.ticket_id, kind, reply.author_slack_id, note=note)
            self.feed.record(session, ticket, Change(line=line, card=False), self.clock())
