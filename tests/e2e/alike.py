"""A storm of alike questions for the grouping stories, from the labelled data."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from standins.slack_api import SlackMessage, SlackStandIn
from standins.x_api import XStandIn
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
    """Send the queued reply rows through the bot's own X outbox worker, at X's pace.

    The worker's `drain`: one step after another (individual rows first, each taken with
    a conditional `UPDATE`) while X's window lets a row go within half a second.
    """
    return bot.bot.services.x_outbox.drain()


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
