"""Tables. Everything that must survive a restart lives here; times are aware UTC."""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum

from sqlalchemy import Index, UniqueConstraint, text
from sqlmodel import Field, SQLModel

from store.types import UTCDateTime


def utcnow() -> datetime:
    """The current time, aware, in UTC."""
    return datetime.now(UTC)


def _when(*, index: bool = False, nullable: bool = False) -> datetime:
    # One place for the column type so no table ever gets a naive timestamp column.
    default = None if nullable else utcnow
    return Field(  # type: ignore[no-any-return]
        default_factory=default, sa_type=UTCDateTime(), index=index, nullable=nullable
    )


class TicketState(StrEnum):
    NEW = "new"
    CLAIMED = "claimed"
    WAITING = "waiting"
    FOLLOWUP = "followup"
    RESOLVED = "resolved"


class TicketSource(StrEnum):
    MENTION = "mention"
    KEYWORD = "keyword"
    DM = "dm"


class Direction(StrEnum):
    IN = "in"
    OUT = "out"
    NOTE = "note"


class Channel(StrEnum):
    TWEET = "tweet"
    DM = "dm"
    SLACK = "slack"


class OutboxState(StrEnum):
    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"
    MOVED = "moved"  # its ticket moved channel before it was posted: queued again there


class OutboxKind(StrEnum):
    CARD = "card"  # a ticket card: its ts becomes the ticket's thread
    THREAD = "thread"  # a message in a card's thread
    UPDATE = "update"  # chat.update of a card
    POST = "post"  # a stand-alone message (escalation channel)
    DM = "dm"  # a direct message to a person; `channel` holds their user id


class Role(StrEnum):
    TRAINEE = "trainee"
    AGENT = "agent"
    LEAD = "lead"


class ReplyKind(StrEnum):
    TWEET = "tweet"
    DM = "dm"


class ReplyState(StrEnum):
    AWAITING_APPROVAL = "awaiting_approval"  # a trainee's reply, waiting for a lead
    QUEUED = "queued"  # in the X outbox, waiting for its turn at X's pace
    SENDING = "sending"  # being sent, or sent with no answer from X yet
    UNKNOWN = "unknown"  # X did not answer clearly: found in X or sent again, never twice
    SENT = "sent"
    FAILED = "failed"  # X refused it; nothing was posted
    REJECTED = "rejected"  # a lead returned a trainee's reply
    CANCELLED = "cancelled"  # a group answer's row that Stop sending took back before X saw it


class EventKind(StrEnum):
    """What a ticket's audit trail records (`ticketevent.kind`)."""

    CLAIMED = "claimed"
    RELEASED = "released"
    HANDOVER = "handover"
    RESOLVED = "resolved"
    REOPENED = "reopened"
    FOLLOWUP = "followup"
    ESCALATED = "escalated"
    REVEALED = "revealed"
    REPLIED = "replied"
    DM_SENT = "dm_sent"
    AUTO_ANSWERED = "auto_answered"
    REPLY_DRAFTED = "reply_drafted"
    REPLY_APPROVED = "reply_approved"
    REPLY_REJECTED = "reply_rejected"
    MOVED = "moved"  # to another topic (and channel)
    ASSIGNED = "assigned"  # auto-assignment (or a lead's re-assignment) gave it an owner
    TAKEN_OUT = "taken_out"  # out of its group of alike questions, with a card of its own


class EscalationKind(StrEnum):
    """Why on-call was paged (`escalation.kind`)."""

    MANUAL = "manual"
    FOLLOWUP = "followup"
    SLA = "sla"
    VIP = "vip"
    SPIKE = "spike"
    X_CREDITS = "x_credits"  # X answered 402: the account's credits are used up


class Agent(SQLModel, table=True):
    """A member of the team roster: who may work tickets, and as what."""

    slack_user_id: str = Field(primary_key=True, max_length=32)
    role: str = Field(max_length=16)
    initials: str = Field(max_length=8)
    name: str = Field(default="", max_length=200)
    # The topics this person works (`/team skills`), comma-separated topic names.
    skills: str = Field(default="", max_length=500)
    away: bool = False  # `/away` until `/back`: auto-assignment passes them by
    # When auto-assignment last gave them a ticket: ties go to whoever waited longest.
    last_assigned_at: datetime | None = _when(nullable=True)
    created_at: datetime = _when()
    updated_at: datetime = _when()


class Topic(SQLModel, table=True):
    """A topic (`/topic add`): its channel and the keywords that route a new ticket there.

    `id` is the order topics were added in, which is the order they are tried in.
    """

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(unique=True, max_length=32)
    channel_id: str = Field(max_length=32)
    keywords: str = Field(max_length=1000)  # space-separated, as the lead typed them
    created_by: str = Field(max_length=32)
    created_at: datetime = _when()


class Canned(SQLModel, table=True):
    """A canned answer: "500 times the same question means 500 times the same answer"."""

    name: str = Field(primary_key=True, max_length=64)
    text: str
    created_by: str = Field(max_length=32)
    created_at: datetime = _when()
    updated_at: datetime = _when()


class Customer(SQLModel, table=True):
    """A person on X who wrote to the brand."""

    id: int | None = Field(default=None, primary_key=True)
    x_user_id: str = Field(unique=True, max_length=32)
    username: str = Field(max_length=64)
    name: str = Field(default="", max_length=200)
    followers: int = 0
    verified: bool = False
    created_at: datetime = _when()
    updated_at: datetime = _when()


class Ticket(SQLModel, table=True):
    """One customer conversation: a customer, a Slack thread, a state, an owner."""

    __table_args__ = (
        Index("ix_ticket_customer_state", "customer_id", "state"),
        Index("ix_ticket_owner_state", "owner_slack_id", "state"),
    )

    id: int | None = Field(default=None, primary_key=True)
    customer_id: int = Field(foreign_key="customer.id")
    source: str = Field(max_length=16)
    state: str = Field(default=TicketState.NEW, max_length=16, index=True)
    owner_slack_id: str | None = Field(default=None, max_length=32)
    conversation_id: str | None = Field(default=None, max_length=32, index=True)
    keyword_query: str | None = Field(default=None, max_length=512)
    channel_id: str = Field(max_length=32)
    card_ts: str | None = Field(default=None, max_length=32)
    # The topic's name when it was routed or moved; kept if the topic is removed later.
    topic: str | None = Field(default=None, max_length=32, index=True)
    has_pii: bool = False
    is_fail: bool = False
    out_of_hours: bool = False
    escalated: bool = False
    previous_ticket_id: int | None = Field(default=None, foreign_key="ticket.id")
    created_at: datetime = _when(index=True)
    updated_at: datetime = _when()
    claimed_at: datetime | None = _when(nullable=True)
    first_response_at: datetime | None = _when(nullable=True)
    # Who answered first, and after how many business minutes (open hours only), so that
    # /stats computes medians in SQL instead of replaying the calendar per ticket.
    first_response_by: str | None = Field(default=None, max_length=32)
    first_response_minutes: float | None = None
    resolved_at: datetime | None = _when(nullable=True)
    resolved_by: str | None = Field(default=None, max_length=32)
    # When each SLA stage fired, so it fires once (and /stats can count the misses).
    unclaimed_alerted_at: datetime | None = _when(nullable=True)
    sla_warned_at: datetime | None = _when(nullable=True)
    sla_missed_at: datetime | None = _when(nullable=True)


class Message(SQLModel, table=True):
    """A tweet, a DM or an internal note of a ticket, in either direction."""

    __table_args__ = (
        UniqueConstraint("channel", "external_id", name="uq_message_channel_external_id"),
        UniqueConstraint("request_key", name="uq_message_request_key"),
    )

    id: int | None = Field(default=None, primary_key=True)
    ticket_id: int = Field(foreign_key="ticket.id", index=True)
    direction: str = Field(max_length=8)
    channel: str = Field(max_length=8)
    external_id: str | None = Field(default=None, max_length=32)
    conversation_id: str | None = Field(default=None, max_length=32, index=True)
    in_reply_to_id: str | None = Field(default=None, max_length=32)
    author_x_id: str | None = Field(default=None, max_length=32)
    author_slack_id: str | None = Field(default=None, max_length=32)
    text: str
    lang: str | None = Field(default=None, max_length=16)
    mentions_brand: bool = False
    is_fail: bool = False  # a #fail-style hashtag (for spike detection)
    slack_ts: str | None = Field(default=None, max_length=32)
    # The Slack request that wrote a `/note` (see `Reply.request_key`): stored once.
    request_key: str | None = Field(default=None, max_length=64)
    created_at: datetime = _when(index=True)
    stored_at: datetime = _when()
    edited_at: datetime | None = _when(nullable=True)
    deleted_at: datetime | None = _when(nullable=True)


class Reply(SQLModel, table=True):
    """An answer to a customer on X (public reply or DM): the outbox towards X.

    The row is written before X is called, so a crash or an unclear answer from X leaves
    a trace that is checked against X before anything is sent again. `request_key`
    names the Slack request that asked for it (a command, a modal submission, a click),
    so the same request arriving again finds this row instead of sending again.
    """

    __table_args__ = (UniqueConstraint("request_key", name="uq_reply_request_key"),)

    id: int | None = Field(default=None, primary_key=True)
    ticket_id: int = Field(foreign_key="ticket.id", index=True)
    kind: str = Field(max_length=8)
    author_slack_id: str = Field(max_length=32)
    body: str
    text: str
    in_reply_to_id: str | None = Field(default=None, max_length=32)
    recipient_x_id: str | None = Field(default=None, max_length=32)
    canned_name: str | None = Field(default=None, max_length=64)
    state: str = Field(max_length=20, index=True)
    external_id: str | None = Field(default=None, max_length=32)
    error: str | None = Field(default=None, max_length=300)
    attempts: int = 0
    approved_by: str | None = Field(default=None, max_length=32)
    automatic: bool = False  # the out-of-hours answer: not a first response
    request_key: str | None = Field(default=None, max_length=64)
    # Set on the rows of a group answer (SPEC §10): the X outbox sends every row without
    # one first, so an agent's individual reply never waits behind a group.
    group_id: int | None = Field(default=None, index=True)
    created_at: datetime = _when(index=True)
    sent_at: datetime | None = _when(nullable=True, index=True)
    checked_at: datetime | None = _when(nullable=True)


class FollowUpState(StrEnum):
    OPEN = "open"
    KEPT = "kept"  # the customer heard from us before it was due
    LATE = "late"  # they heard from us, but after it was due
    CANCELLED = "cancelled"


class FollowUp(SQLModel, table=True):
    """A promise to the customer: get back to them by `due_at`.

    Each stage (reminder before, due, escalation after) records when it fired; sweeps
    claim a stage with a conditional UPDATE on its column, so it fires exactly once.
    """

    __table_args__ = (Index("ix_followup_state_due", "state", "due_at"),)

    id: int | None = Field(default=None, primary_key=True)
    ticket_id: int = Field(foreign_key="ticket.id", index=True)
    owner_slack_id: str = Field(max_length=32)
    created_by: str = Field(max_length=32)
    due_at: datetime = _when()
    note: str = Field(default="", max_length=500)
    state: str = Field(default=FollowUpState.OPEN, max_length=16)
    created_at: datetime = _when()
    warned_at: datetime | None = _when(nullable=True)
    due_fired_at: datetime | None = _when(nullable=True)
    escalated_at: datetime | None = _when(nullable=True)
    closed_at: datetime | None = _when(nullable=True)


class Escalation(SQLModel, table=True):
    """A page to the on-call person; `cause` is unique, so each cause pages once."""

    id: int | None = Field(default=None, primary_key=True)
    cause: str = Field(unique=True, max_length=200)
    kind: str = Field(max_length=16)  # an EscalationKind
    ticket_id: int | None = Field(default=None, foreign_key="ticket.id", index=True)
    reason: str = Field(max_length=1000)
    actor: str | None = Field(default=None, max_length=32)
    oncall_slack_id: str | None = Field(default=None, max_length=32)
    created_at: datetime = _when(index=True)


class OnCallShift(SQLModel, table=True):
    """Who a lead put on call with `/oncall @user`, and when (the newest row counts)."""

    id: int | None = Field(default=None, primary_key=True)
    slack_user_id: str = Field(max_length=32)
    set_by: str = Field(max_length=32)
    set_at: datetime = _when(index=True)


class AutoAnswer(SQLModel, table=True):
    """The out-of-hours answer a customer got in one closed period (at most one each)."""

    __table_args__ = (UniqueConstraint("customer_id", "period_start", name="uq_autoanswer_period"),)

    id: int | None = Field(default=None, primary_key=True)
    customer_id: int = Field(foreign_key="customer.id")
    ticket_id: int = Field(foreign_key="ticket.id")
    period_start: datetime = _when()
    created_at: datetime = _when()


class TicketEvent(SQLModel, table=True):
    """What happened to a ticket, by whom and when: the audit trail and the stats' source."""

    __table_args__ = (Index("ix_ticketevent_kind_at", "kind", "at"),)

    id: int | None = Field(default=None, primary_key=True)
    ticket_id: int = Field(foreign_key="ticket.id", index=True)
    kind: str = Field(max_length=24)  # an EventKind
    actor: str | None = Field(default=None, max_length=32)
    detail: str | None = Field(default=None, max_length=500)
    at: datetime = _when(index=True)


class IngestCursor(SQLModel, table=True):
    """How far a poll of X has read: the newest tweet id stored for that stream."""

    name: str = Field(primary_key=True, max_length=600)
    since_id: str | None = Field(default=None, max_length=32)
    updated_at: datetime = _when()


# The rows of cards a ticket was moved away from (`bot.moving` gives them this key).
MOVED_CARD = "dedup_key LIKE 'moved:%'"


class SlackOutbox(SQLModel, table=True):
    """The persistent posting queue: one row per Slack post or update, sent in id order."""

    # The worker only ever looks at unfinished rows, head of line per channel: a partial
    # index keeps that lookup logarithmic however long the history of sent rows grows.
    __table_args__ = (
        Index(
            "ix_slackoutbox_open",
            "channel",
            "id",
            sqlite_where=text("state IN ('pending', 'sending')"),
            postgresql_where=text("state IN ('pending', 'sending')"),
        ),
        # A card a ticket was moved away from: its thread is still open in people's Slack,
        # and what they write there is found by it (few rows: only moved cards).
        Index(
            "ix_slackoutbox_moved_card",
            "channel",
            "result_ts",
            sqlite_where=text(MOVED_CARD),
            postgresql_where=text(MOVED_CARD),
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    channel: str = Field(max_length=32)
    kind: str = Field(max_length=16)
    ticket_id: int | None = Field(default=None, foreign_key="ticket.id", index=True)
    message_id: int | None = Field(default=None, foreign_key="message.id")
    parent_id: int | None = Field(default=None, foreign_key="slackoutbox.id")
    dedup_key: str | None = Field(default=None, unique=True, max_length=128)
    payload: str
    state: str = Field(default=OutboxState.PENDING, max_length=16)
    attempts: int = 0
    not_before: datetime = _when()
    lease_until: datetime | None = _when(nullable=True)
    result_ts: str | None = Field(default=None, max_length=32)
    last_error: str | None = Field(default=None, max_length=200)
    created_at: datetime = _when()
    sent_at: datetime | None = _when(nullable=True)


class SlackEvent(SQLModel, table=True):
    """Slack event ids already handled, so that Slack's retries are not handled twice."""

    event_id: str = Field(primary_key=True, max_length=64)
    received_at: datetime = _when(index=True)


class SlackPace(SQLModel, table=True):
    """When the next post into a channel may go out: Slack's pace, shared by all replicas."""

    channel: str = Field(primary_key=True, max_length=32)
    next_at: datetime = _when()


class Leader(SQLModel, table=True):
    """Who polls X now, where no advisory locks exist (SQLite): a lease that runs out."""

    name: str = Field(primary_key=True, max_length=32)
    holder: str = Field(max_length=64)
    lease_until: datetime = _when()


class XUsage(SQLModel, table=True):
    """X requests of one local day and kind (SPEC §11): every replica adds its own."""

    day: str = Field(primary_key=True, max_length=10)  # YYYY-MM-DD in TIMEZONE
    kind: str = Field(primary_key=True, max_length=16)  # an XKind
    requests: int = 0
    units: int = 0  # what X bills: posts or events read, posts and DMs sent


class XNotice(SQLModel, table=True):
    """A budget or credits notice that was given, so that it is given once (its key)."""

    key: str = Field(primary_key=True, max_length=64)
    created_at: datetime = _when()


class GroupState(StrEnum):
    OPEN = "open"
    RESOLVED = "resolved"


class TicketGroup(SQLModel, table=True):
    """A group of alike questions (SPEC §10): one card, one answer for all its members.

    The group answer lives here once (`answer_body`, signed by `answer_by`); each member
    gets its own `Reply` row with `group_id`, sent by the X outbox after individual ones.
    """

    id: int | None = Field(default=None, primary_key=True)
    channel_id: str = Field(max_length=32)
    state: str = Field(default=GroupState.OPEN, max_length=16)
    answer_body: str | None = None
    answer_by: str | None = Field(default=None, max_length=32)
    # A trainee's group answer waits for a lead: until then nothing is queued.
    answer_awaiting: bool = False
    answer_approved_by: str | None = Field(default=None, max_length=32)
    answered_at: datetime | None = _when(nullable=True)
    # The Answer all submission that wrote the answer: a retry finds it, not a second one.
    answer_key: str | None = Field(default=None, max_length=64, unique=True)
    followup_due: datetime | None = _when(nullable=True)
    followup_fired_at: datetime | None = _when(nullable=True)
    keep_answering: bool = False
    stopped_at: datetime | None = _when(nullable=True)
    resolved_by: str | None = Field(default=None, max_length=32)
    created_at: datetime = _when(index=True)
    updated_at: datetime = _when()


class GroupMember(SQLModel, table=True):
    """A ticket in a group; a ticket is in one group at most, and out for good once taken out.

    `own_card`: it had its card before the group formed (it keeps it); others are shown
    in the group card's thread, `batch` numbering the thread message they are listed in.
    """

    ticket_id: int = Field(primary_key=True, foreign_key="ticket.id")
    group_id: int = Field(foreign_key="ticketgroup.id", index=True)
    own_card: bool = False
    batch: int | None = None
    joined_at: datetime = _when()
    taken_out_at: datetime | None = _when(nullable=True)
    taken_out_by: str | None = Field(default=None, max_length=32)
