"""Fakes for domain tests: a settable clock, a presenter that records, tweets to order."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from bot.present import (
    ActivityView,
    ApprovalView,
    CardView,
    CustomerMessageView,
    EscalationView,
    NoteView,
    ReplySentView,
    SlackMessage,
)
from bot.x_models import Tweet, XUser

BRAND = XUser(
    id="1000000001", username="TelekomHilft", name="Telekom hilft", followers=250000, verified=True
)


class FakeClock:
    """A clock that only moves when the test says so."""

    def __init__(self, start: datetime | None = None) -> None:
        self.now = start or datetime(2026, 11, 23, 9, 0, tzinfo=UTC)  # a Monday morning

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> datetime:
        self.now += timedelta(**delta)
        return self.now


@dataclass
class RecordingPresenter:
    """Renders views as small dicts and keeps them, so tests can see what was shown."""

    cards: list[CardView] = field(default_factory=list)
    messages: list[CustomerMessageView] = field(default_factory=list)
    shown: list[Any] = field(default_factory=list)

    def ticket_card(self, card: CardView) -> SlackMessage:
        self.cards.append(card)
        return {
            "text": f"card #{card.ticket_id} {card.state}",
            "metadata": {
                "event_type": "servicekanal_ticket",
                "event_payload": {"ticket_id": card.ticket_id, "tweet_id": card.tweet_id},
            },
        }

    def customer_message(self, message: CustomerMessageView) -> SlackMessage:
        self.messages.append(message)
        return {"text": f"message in #{message.ticket_id}"}

    def reply_sent(self, reply: ReplySentView) -> SlackMessage:
        self.shown.append(reply)
        return {"text": f"sent in #{reply.ticket_id}: {reply.text}"}

    def note(self, note: NoteView) -> SlackMessage:
        self.shown.append(note)
        return {"text": f"note in #{note.ticket_id}: {note.text}"}

    def activity(self, activity: ActivityView) -> SlackMessage:
        self.shown.append(activity)
        return {"text": f"{activity.kind} #{activity.ticket_id}"}

    def escalation(self, escalation: EscalationView) -> SlackMessage:
        self.shown.append(escalation)
        return {
            "text": f"escalation {escalation.kind} #{escalation.ticket_id}: {escalation.reason}"
        }

    def approval(self, approval: ApprovalView) -> SlackMessage:
        self.shown.append(approval)
        return {"text": f"approval {approval.state} #{approval.ticket_id}"}

    def kinds(self) -> list[str]:
        """What was shown, by kind, in order."""
        return [getattr(view, "kind", type(view).__name__) for view in self.shown]


class TweetFactory:
    """Tweets as the X adapter hands them over, with growing ids."""

    def __init__(self, clock: FakeClock) -> None:
        self._ids = itertools.count(1_900_000_000_000_000_000)
        self._clock = clock
        self.users: dict[str, XUser] = {}

    def user(self, username: str, *, followers: int = 50, verified: bool = False) -> XUser:
        user = XUser(
            id=str(3_000 + len(self.users)),
            username=username,
            name=username.title(),
            followers=followers,
            verified=verified,
        )
        self.users[username] = user
        return user

    def mention(
        self,
        author: XUser,
        text: str,
        *,
        reply_to: Tweet | None = None,
        conversation_id: str | None = None,
        **extra: Any,
    ) -> Tweet:
        tweet_id = str(next(self._ids))
        return Tweet(
            id=tweet_id,
            text=f"@TelekomHilft {text}",
            author=author,
            created_at=self._clock(),
            conversation_id=conversation_id or (reply_to.conversation_id if reply_to else tweet_id),
            in_reply_to_user_id=reply_to.author.id if reply_to else None,
            replied_to_id=reply_to.id if reply_to else None,
            mentioned_user_ids=(BRAND.id,),
            mentioned_usernames=(BRAND.username,),
            **extra,
        )

    def unaddressed(self, author: XUser, text: str, **extra: Any) -> Tweet:
        tweet_id = str(next(self._ids))
        return Tweet(
            id=tweet_id,
            text=text,
            author=author,
            created_at=self._clock(),
            conversation_id=tweet_id,
            **extra,
        )
