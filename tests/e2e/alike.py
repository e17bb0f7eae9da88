"""A storm of alike questions for the grouping stories, from the labelled data."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from sqlalchemy import update
from sqlmodel import Session, col, select

from standins.slack_api import SlackMessage, SlackStandIn
from standins.x_api import XStandIn
from store.models import Reply, ReplyState
from tests.harness import SUPPORT, BotHarness

DATA = Path(__file__).resolve().parent.parent / "data" / "alike-tweets.jsonl"
# "When can I renew my contract for the new iPhone?" in the words of 29 customers: the
# labelled texts that grouping puts together (`python app.py groups` on the data).
IPHONE = [
    "p006",
    "p009",
    "p034",
    "p035",
    "p052",
    "p057",
    "p059",
    "p064",
    "p075",
    "p094",
    "p102",
    "p118",
    "p126",
    "p130",
    "p133",
    "p150",
    "p155",
    "p171",
    "p178",
    "p182",
    "p184",
    "p196",
    "p200",
    "p203",
    "p204",
    "p207",
    "p215",
    "p226",
    "p244",
]
# Questions about something else each, which grouping leaves alone.
OTHERS = ["p002", "p003", "p008", "p017", "p018", "p020", "p021", "p027", "p032", "p039"]


def texts() -> dict[str, str]:
    """The labelled texts by id."""
    with DATA.open(encoding="utf-8") as lines:
        return {row["id"]: row["text"] for row in map(json.loads, lines)}


def storm(x: XStandIn, size: int, *, start: int = 0) -> list[dict[str, Any]]:
    """`size` distinct customers ask about the iPhone, in the data's words, in turn."""
    known = texts()
    tweets = []
    for i in range(start, start + size):
        customer = x.add_user(f"kunde{i}", f"Kunde {i}")
        tweets.append(x.mention(customer, known[IPHONE[i % len(IPHONE)]]))
    return tweets


def others(x: XStandIn) -> list[dict[str, Any]]:
    """Ten customers with questions of their own."""
    known = texts()
    return [x.mention(x.add_user(f"other{i}"), known[key]) for i, key in enumerate(OTHERS)]


def group_cards(slack: SlackStandIn) -> list[SlackMessage]:
    """Group cards in the support channel."""
    return [
        m
        for m in slack.messages(SUPPORT)
        if (m.metadata or {}).get("event_type") == "servicekanal_group"
    ]


def drain_x_outbox(bot: BotHarness) -> int:
    """Send every queued reply row, individual ones first, as the X outbox worker does.

    In production engineer A's X outbox worker sends `queued` rows at X's pace; this
    stands in for it on this branch: the same `Delivery.attempt` per row.
    """
    services = bot.bot.services
    sent = 0
    while True:
        with Session(bot.bot.engine) as session:
            row = session.exec(
                select(Reply)
                .where(Reply.state == ReplyState.QUEUED)
                .order_by(col(Reply.group_id).is_not(None), col(Reply.id))
            ).first()
            if row is None or row.id is None:
                return sent
            reply_id = row.id
            # Taken as the worker takes a row: conditionally, so Stop sending and the
            # worker never both have it.
            taken = session.execute(
                update(Reply)
                .where(col(Reply.id) == reply_id)
                .where(col(Reply.state) == ReplyState.QUEUED)
                .values(state=ReplyState.SENDING, attempts=Reply.attempts + 1)
            )
            session.commit()
            if taken.rowcount != 1:  # type: ignore[attr-defined]
                continue
        services.delivery.attempt(reply_id)
        sent += 1


def posted(x: XStandIn) -> list[tuple[str, str | None]]:
    """What the brand posted: each text as X compares it (no @handles), and the tweet it
    replies to."""
    found = []
    for tweet in x.brand_tweets():
        parent = next(
            (r["id"] for r in tweet.get("referenced_tweets", []) if r["type"] == "replied_to"),
            None,
        )
        found.append((tweet["_posted_text"], parent))
    return found
