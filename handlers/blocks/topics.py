"""What `/topic` shows: the topics, in the order they are tried."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from bot.topics import TopicRule, shown_name
from handlers.blocks.text import escape_within, section


def topic_list(topics: Sequence[TopicRule], support_channel: str) -> dict[str, Any]:
    """`/topic list`: each topic's channel and keywords; first match wins, in this order."""
    if not topics:
        return {
            "text": (
                f"No topics yet: every ticket goes to <#{support_channel}>. Leads add one with "
                "`/topic add <name> #channel <keyword> [keyword …]`."
            )
        }
    lines = [
        f"{number}. *{escape_within(shown_name(t.name), 40)}* → <#{t.channel_id}> · "
        + escape_within(", ".join(t.keywords), 600)
        for number, t in enumerate(topics, start=1)
    ]
    rule = (
        "A new ticket gets the *first* topic in this order one of whose keywords it contains "
        f"(whole words, case and ä/ae, ß/ss ignored); the others go to <#{support_channel}>."
    )
    text = f"*Topics* ({len(topics)})\n" + "\n".join(lines)
    return {"text": f"{len(topics)} topics", "blocks": [section(text), section(rule)]}
