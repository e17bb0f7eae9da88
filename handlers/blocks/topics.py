"""What `/topic` shows: the topics, in the order they are tried."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from bot.present import CardView, MovedLine, MovedView, SlackMessage
from bot.topics import TopicRule, shown_name
from handlers import ids
from handlers.blocks.text import SECTION_LIMIT, escape_within, section, slack_date


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


_WHO = {"in": "👤 customer", "out": "📤 us", "note": "📝 note"}


def moved_line(line: MovedLine) -> str:
    """One message of the summary: who, when, the start of what was written (escaped)."""
    who = _WHO.get(line.direction, line.direction)
    if line.author:
        who += f" <@{line.author}>"
    if line.channel == "dm":
        who += " (DM)"
    return f"• {slack_date(line.at)} {who}: {escape_within(line.text, 170)}"


def moved_here(view: MovedView) -> SlackMessage:
    """The first message of a moved ticket's new thread: from where, and what was said."""
    head = (
        f"➡️ <@{view.actor}> moved #{view.ticket_id} here ({escape_within(view.topic, 40)}) "
        f"from <#{view.from_channel}>. The conversation so far:"
    )
    lines = [moved_line(line) for line in view.lines] or ["(no messages)"]
    blocks: list[dict[str, Any]] = [section(head)]
    chunk: list[str] = []
    for line in lines:  # whole lines, packed into sections of Slack's size
        if chunk and len("\n".join([*chunk, line])) > SECTION_LIMIT:
            blocks.append(section("\n".join(chunk)))
            chunk = []
        chunk.append(line)
    blocks.append(section("\n".join(chunk)))
    return {"text": f"#{view.ticket_id} moved here from another channel", "blocks": blocks}


def moved_away(view: MovedView) -> SlackMessage:
    """The old card, replaced: where the ticket is now; its buttons are gone with it."""
    text = (
        f"➡️ *#{view.ticket_id}* moved to <#{view.to_channel}> "
        f"({escape_within(view.topic, 40)}) by <@{view.actor}> {slack_date(view.at)}. "
        "Its card and thread continue there."
    )
    return {"text": f"#{view.ticket_id} moved to another channel", "blocks": [section(text)]}


def topic_menu(card: CardView) -> dict[str, Any] | None:
    """The card's Topic menu: every topic, and none (the support channel)."""
    if not card.topics:
        return None
    choices = [(name, shown_name(name)) for name in card.topics[:99]] + [("-", "No topic")]
    options = [
        {
            "text": {"type": "plain_text", "text": label[:75]},
            "value": f"{card.ticket_id}|{name}",
        }
        for name, label in choices
    ]
    menu: dict[str, Any] = {
        "type": "static_select",
        "action_id": ids.TOPIC_MENU,
        "placeholder": {"type": "plain_text", "text": "Topic"},
        "options": options,
    }
    for option, (name, label) in zip(options, choices, strict=True):
        if card.topic is not None and name != "-" and label == card.topic:
            menu["initial_option"] = option
    return menu
