"""What the domain shows in Slack, as plain data, and the interface that renders it.

The domain decides *what* to post (a card, a customer message in a thread); the Block
Kit for it is built by pure functions in `handlers/blocks`, handed to the services by
`app.py` as a `Presenter`. That keeps `bot` free of Slack's formats and `handlers` free
of database work.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any, Generic, Protocol, TypedDict, TypeVar

from store.models import Direction, EscalationKind, ReplyKind, ReplyState

TICKET_EVENT_TYPE = "servicekanal_ticket"
POST_EVENT_TYPE = "servicekanal_post"
GROUP_EVENT_TYPE = "servicekanal_group"
# How many entries a list shows at a time: whole entries of a few hundred characters
# each, so a page fits Slack's blocks with room for its header and paging buttons.
PAGE_SIZE = 20

T = TypeVar("T")


@dataclass(frozen=True)
class Page(Generic[T]):
    """One window onto a longer list: its items, where they start, how many there are."""

    items: list[T]
    start: int
    total: int
    size: int = PAGE_SIZE

    @property
    def after(self) -> int:
        """How many entries come after this page."""
        return max(0, self.total - self.start - len(self.items))


class SlackMessage(TypedDict, total=False):
    """The keyword arguments of `chat.postMessage` / `chat.update` that carry content."""

    text: str
    blocks: list[dict[str, Any]]
    metadata: dict[str, Any]
    reply_broadcast: bool


@dataclass(frozen=True)
class CustomerView:
    """The customer as the card shows them."""

    name: str
    username: str
    followers: int
    verified: bool
    vip: bool

    @property
    def profile_url(self) -> str:
        """The customer's profile on X."""
        return f"https://x.com/{self.username}"


@dataclass(frozen=True)
class Suggestion:
    """An answer that would serve: a canned one (`canned`) or an earlier group's (`group_id`)."""

    text: str
    canned: str | None = None
    group_id: int | None = None

    @property
    def source(self) -> str:
        """Where it comes from, in words."""
        if self.canned is not None:
            return f"canned answer :{self.canned}"
        return f"the answer to Sammelfrage {self.group_id}"


@dataclass(frozen=True)
class CardView:
    """Everything a ticket card shows."""

    ticket_id: int
    tweet_id: str
    state: str
    source: str
    customer: CustomerView
    text: str
    url: str | None
    created_at: datetime
    owner_slack_id: str | None = None
    keyword_query: str | None = None
    has_pii: bool = False
    is_fail: bool = False
    out_of_hours: bool = False
    escalated: bool = False
    earlier_tickets: int = 0
    previous_ticket_id: int | None = None
    followup_due: datetime | None = None
    overdue: bool = False
    reveal_id: int | None = None  # the text is masked; this message can be revealed
    topic: str | None = None  # the topic's name as cards show it
    topics: tuple[str, ...] = ()  # every topic, for the card's Topic menu
    group_id: int | None = None  # the group of alike questions it is in (SPEC §10)
    suggestion: Suggestion | None = None  # an answer that would serve, one click away


@dataclass(frozen=True)
class CustomerMessageView:
    """A later customer message, posted into the ticket's thread."""

    ticket_id: int
    customer: CustomerView
    text: str
    url: str | None
    created_at: datetime
    reopened: bool = False
    direct: bool = False  # a DM, not a tweet
    reveal_id: int | None = None  # the text is masked; this message can be revealed


class SentKind(StrEnum):
    """How an answer reached the customer."""

    TWEET = "tweet"
    DM = "dm"
    AUTO = "auto"  # the out-of-hours answer, signed by the bot


@dataclass(frozen=True)
class ReplySentView:
    """A public reply (or DM) that went out to the customer."""

    ticket_id: int
    agent_slack_id: str
    text: str
    url: str | None
    kind: SentKind = SentKind.TWEET
    approved_by: str | None = None
    reveal_id: int | None = None  # the text is masked; this message can be revealed
    reply_id: int | None = None  # the answer's row: its thread line is posted once


@dataclass(frozen=True)
class ApprovalView:
    """A trainee's reply waiting for a lead (or the decision about it)."""

    reply_id: int
    ticket_id: int
    trainee_slack_id: str
    text: str
    state: ReplyState  # awaiting approval, sent, rejected, failed
    lead_slack_id: str | None = None
    note: str | None = None
    kind: ReplyKind = ReplyKind.TWEET  # a DM's `text` is masked


@dataclass(frozen=True)
class NoteView:
    """An internal note, posted by the bot for `/note`."""

    ticket_id: int
    author_slack_id: str
    text: str
    message_id: int | None = None  # the stored note, which learns its Slack `ts`


class ActivityKind(StrEnum):
    """What a line in a ticket's thread says happened."""

    HANDOVER = "handover"
    RELEASED = "released"
    RESOLVED = "resolved"
    REOPENED = "reopened"
    REPLY_FAILED = "reply_failed"
    REPLY_REJECTED = "reply_rejected"
    FOLLOWUP = "followup"
    FOLLOWUP_CANCELLED = "followup_cancelled"
    FOLLOWUP_WARNING = "followup_warning"
    FOLLOWUP_DUE = "followup_due"
    UNCLAIMED = "unclaimed"
    SLA_WARNING = "sla_warning"
    ASSIGNED = "assigned"  # auto-assignment gave the ticket to `target`


@dataclass(frozen=True)
class ActivityView:
    """Something that happened to a ticket that the thread should show."""

    ticket_id: int
    kind: ActivityKind
    actor: str | None
    target: str | None = None
    note: str | None = None
    due: datetime | None = None
    minutes: int | None = None  # business minutes waited (unclaimed) or left (SLA warning)
    broadcast: bool = False  # shown in the channel too, not only in the thread


@dataclass(frozen=True)
class EscalationView:
    """A page: what burns, about which ticket, for whom."""

    kind: EscalationKind
    reason: str
    at: datetime
    ticket_id: int | None = None
    actor: str | None = None
    oncall_slack_id: str | None = None
    customer_handle: str | None = None
    examples: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class AwayOfferView:
    """To a lead: `away` went away holding these open tickets; re-assign them?"""

    away: str
    ticket_ids: tuple[int, ...]
    at: datetime


@dataclass(frozen=True)
class MovedLine:
    """One message of a moved ticket, for the summary in the new thread."""

    direction: Direction
    channel: str
    author: str | None  # the agent of a note or an answer
    text: str  # as Slack may show it (a DM masked)
    at: datetime
    message_id: int | None = None


@dataclass(frozen=True)
class MovedView:
    """A ticket moved from one channel to another (its topic's)."""

    ticket_id: int
    from_channel: str
    to_channel: str
    topic: str
    actor: str
    at: datetime
    lines: tuple[MovedLine, ...] = ()


@dataclass(frozen=True)
class GroupMemberView:
    """One customer of a group, as the group's card and member list show them."""

    ticket_id: int
    customer: CustomerView
    text: str
    url: str | None
    source: str
    taken_out: bool = False
    answered: bool = False


@dataclass(frozen=True)
class GroupProgress:
    """What became of a group answer's rows so far."""

    sent: int = 0
    waiting: int = 0  # queued, or on their way
    failed: int = 0
    cancelled: int = 0

    @property
    def total(self) -> int:
        """Every row of the answer."""
        return self.sent + self.waiting + self.failed + self.cancelled


@dataclass(frozen=True)
class GroupCardView:
    """Everything a group card shows."""

    group_id: int
    size: int
    examples: list[GroupMemberView]
    words: list[str]
    resolved: bool = False
    answer: str | None = None  # the group answer, once written
    answer_by: str | None = None
    awaiting_approval: bool = False
    keep_answering: bool = False
    stopped: bool = False
    progress: GroupProgress = field(default_factory=GroupProgress)
    minutes_left: int | None = None
    suggestion: Suggestion | None = None  # a canned answer or an earlier group answer
    followup_due: datetime | None = None  # promised once for the whole group
    followup_overdue: bool = False


@dataclass(frozen=True)
class GroupReminderView:
    """The one reminder of a follow-up promised to a whole group, in its card's thread."""

    group_id: int
    due: datetime
    members: int
    author_slack_id: str | None


@dataclass(frozen=True)
class GroupBatchView:
    """One message in a group card's thread, listing members that joined."""

    group_id: int
    batch: int
    members: list[GroupMemberView]


class Presenter(Protocol):
    """Renders domain views as Slack messages."""

    def ticket_card(self, card: CardView) -> SlackMessage:
        """The ticket's card; carries the `servicekanal_ticket` metadata."""
        ...

    def customer_message(self, message: CustomerMessageView) -> SlackMessage:
        """A customer's later message in the card's thread."""
        ...

    def reply_sent(self, reply: ReplySentView) -> SlackMessage:
        """The thread's record of an answer sent to the customer."""
        ...

    def note(self, note: NoteView) -> SlackMessage:
        """An internal note in the thread."""
        ...

    def activity(self, activity: ActivityView) -> SlackMessage:
        """A hand-over, resolution or reopening, in the thread."""
        ...

    def escalation(self, escalation: EscalationView) -> SlackMessage:
        """A page, for the on-call DM and the escalation channel."""
        ...

    def moved_here(self, moved: MovedView) -> SlackMessage:
        """In the new card's thread: moved from where, by whom, the conversation so far."""
        ...

    def moved_away(self, moved: MovedView) -> SlackMessage:
        """The old card's new content: where the ticket went."""
        ...

    def away_offer(self, offer: AwayOfferView) -> SlackMessage:
        """To a lead, by DM: someone went away with open tickets; buttons to re-assign."""
        ...

    def approval(self, approval: ApprovalView) -> SlackMessage:
        """A trainee's reply for a lead to approve, or what became of it."""
        ...

    def group_card(self, group: GroupCardView) -> SlackMessage:
        """A group's card; carries the `servicekanal_group` metadata."""
        ...

    def group_batch(self, batch: GroupBatchView) -> SlackMessage:
        """Members that joined a group, listed in its card's thread."""
        ...

    def group_reminder(self, reminder: GroupReminderView) -> SlackMessage:
        """The one reminder of a follow-up promised to a group."""
        ...
