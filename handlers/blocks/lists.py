"""Ephemeral lists: a customer's history, the roster, the canned answers."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from bot.canned import CannedAnswer
from bot.roster import Member
from bot.tickets import History
from handlers.blocks.cards import STATE_LABELS
from handlers.blocks.text import count, escape_within, section, slack_date

DIRECTION_LABELS = {"in": "👤", "out": "📤", "note": "📝"}


def _by(user: str | None) -> str:
    return f" <@{user}>" if user else ""


def history(found: History) -> dict[str, Any]:
    """`/history`: the customer's tickets, then their latest messages, newest first."""
    head = f"*History of @{escape_within(found.username, 20)}*"
    if found.name:
        head += f" ({escape_within(found.name, 100)})"
    head += f" · {count(found.followers, 'follower')} · {count(len(found.tickets), 'ticket')}"
    tickets = "\n".join(
        f"• *#{t.id}* {STATE_LABELS.get(t.state, t.state)} · {slack_date(t.created_at)} · "
        f"{'<@' + t.owner_slack_id + '>' if t.owner_slack_id else 'no owner'} · "
        f"{escape_within(t.first_text, 120)}"
        for t in found.tickets
    )
    messages = "\n".join(
        f"{DIRECTION_LABELS.get(m.direction, '•')} #{m.ticket_id} {slack_date(m.at)}"
        f"{_by(m.author_slack_id)}: {escape_within(m.text, 160)}"
        for m in found.messages
    )
    blocks = [section(head), section(tickets or "No tickets.")]
    if messages:
        blocks += [{"type": "divider"}, section("*Latest messages*\n" + messages)]
    return {"text": f"History of @{found.username}", "blocks": blocks}


def team(members: Sequence[Member]) -> dict[str, Any]:
    """`/team list`."""
    if not members:
        return {
            "text": "Nobody is on the team yet. A lead adds people with `/team add @name agent`."
        }
    lines = "\n".join(f"• <@{m.user_id}> — {m.role}, initials {m.initials}" for m in members)
    return {"text": "The team", "blocks": [section(f"*The team* ({len(members)})\n{lines}")]}


def canned(answers: Sequence[CannedAnswer]) -> dict[str, Any]:
    """`/canned list`."""
    if not answers:
        return {"text": "No canned answers yet. Leads add them with `/canned add <name> <text>`."}
    lines = "\n".join(f"• `:{a.name}` — {escape_within(a.text, 200)}" for a in answers)
    return {
        "text": "Canned answers",
        "blocks": [
            section(f"*Canned answers* ({len(answers)}) — use with `/reply 12 :name`\n{lines}")
        ],
    }
