"""Fakes for domain tests: a settable clock, a presenter that records, tweets to order, and
the domain built as app.py builds it, with these fakes for Slack's side."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Engine

from bot.present import (
    ActivityView,
    ApprovalView,
    AwayOfferView,
    CardView,
    CustomerMessageView,
    EscalationView,
    GroupBatchView,
    GroupCardView,
    GroupReminderView,
    MovedView,
    NoteView,
    ReplySentView,
    SlackMessage,
)
from bot.roster import Directory
from bot.services import Services, SlackSide
from bot.x import XClient, XSide
from bot.x_models import Tweet, XUser
from standins import slack_api, x_api
from tests.harness import make_settings

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

    def away_offer(self, offer: AwayOfferView) -> SlackMessage:
        self.shown.append(offer)
        return {"text": f"away offer {offer.away}: {list(offer.ticket_ids)}"}

    def moved_here(self, moved: MovedView) -> SlackMessage:
        self.shown.append(moved)
        return {"text": f"moved here #{moved.ticket_id}"}

    def moved_away(self, moved: MovedView) -> SlackMessage:
        self.shown.append(moved)
        return {"text": f"moved away #{moved.ticket_id}"}

    def group_card(self, group: GroupCardView) -> SlackMessage:
        self.shown.append(group)
        return {
            "text": f"group {group.group_id} of {group.size}",
            "metadata": {
                "event_type": "servicekanal_group",
                "event_payload": {"group_id": group.group_id, "size": group.size},
            },
        }

    def group_batch(self, batch: GroupBatchView) -> SlackMessage:
        self.shown.append(batch)
        return {"text": f"group {batch.group_id}: {[m.ticket_id for m in batch.members]}"}

    def group_reminder(self, reminder: GroupReminderView) -> SlackMessage:
        self.shown.append(reminder)
        return {"text": f"group {reminder.group_id} follow-up due"}

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


@dataclass
class RecordingHomes:
    """App Home tabs that only note whose tabs were due a refresh, and which were shown."""

    changed_for: list[set[str]] = field(default_factory=list)
    published: list[str] = field(default_factory=list)

    def changed(self, people: set[str]) -> None:
        self.changed_for.append(set(people))

    def publish(self, user_id: str, *, tickets_from: int = 0, followups_from: int = 0) -> None:
        self.published.append(user_id)


class Nobody:
    """A Slack directory that knows everyone by their id (for tests that add no one)."""

    def real_name(self, user_id: str) -> str | None:
        return f"Agent {user_id}"


@dataclass(frozen=True)
class Nowhere:
    """Where a stand-in would listen: nothing does, so nothing may be called there."""

    base_url: str = "http://127.0.0.1:9"


def domain(
    engine: Engine,
    *,
    clock: FakeClock,
    presenter: RecordingPresenter,
    x_url: str = Nowhere.base_url,
    brand: XUser = BRAND,
    directory: Directory | None = None,
    homes: RecordingHomes | None = None,
    **settings: Any,
) -> Services:
    """The domain as app.py wires it, on `engine`, with `settings` over the tests' own."""
    x = XClient(
        bearer_token=x_api.BEARER,
        api_key=x_api.API_KEY,
        api_secret="x-test-secret",
        access_token=x_api.ACCESS_TOKEN,
        access_token_secret="x-test-access-secret",
        base_url=x_url,
    )
    slack = SlackSide(
        team_id=slack_api.TEAM_ID,
        bot_user_id="UBOT",
        directory=directory or Nobody(),
        homes=homes or RecordingHomes(),
    )
    return Services(
        make_settings(str(engine.url), Nowhere(), Nowhere(x_url), **settings),
        engine=engine,
        x=XSide(x, brand),
        slack=slack,
        presenter=presenter,
        clock=clock,
    )
