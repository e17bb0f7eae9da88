"""Lists: one way to show a page of whole entries, and the lists built with it.

Every list (follow-ups, canned answers, a customer's history, the Home tab's tickets and
promises) shows a page of whole entries, packed into as many sections as they need,
says which part of how many it shows, and has Previous/Next buttons for the rest. The
buttons carry what the list is and where the page starts, so the listener can show the
neighbouring page in place.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from bot.canned import CannedAnswer
from bot.followups import FollowUpView
from bot.history import History
from bot.present import Page
from bot.roster import Member
from handlers import ids
from handlers.blocks.cards import STATE_LABELS, revealable
from handlers.blocks.text import SECTION_LIMIT, count, escape_within, section, slack_date

DIRECTION_LABELS = {"in": "👤", "out": "📤", "note": "📝"}


@dataclass(frozen=True)
class Entry:
    """One entry of a list: whole mrkdwn; a masked DM can be revealed."""

    text: str
    reveal_id: int | None = None


def page_blocks(
    *,
    title: str,
    entries: Sequence[Entry],
    page: Page[Any],
    names: Mapping[str, Any],
    empty: str,
) -> list[dict[str, Any]]:
    """A page of a list: a title with what is shown of how many, the entries, paging buttons.

    Entries are never cut: they are packed whole into sections of at most Slack's 3,000
    characters; one that is revealable gets a section of its own for its button. `names`
    says which list this is; the paging buttons carry it with the start of their page.
    """
    if page.total == 0 or not entries:
        return [section(f"*{title}*\n{empty}")]
    end = page.start + len(entries)
    whole = len(entries) == page.total
    shown = f"{page.total}" if whole else f"{page.start + 1}–{end} of {page.total}"
    blocks: list[dict[str, Any]] = [section(f"*{title}* ({shown})")]
    lines: list[str] = []

    def close_section() -> None:
        if lines:
            blocks.append(section("\n".join(lines)))
            lines.clear()

    for entry in entries:
        if len(entry.text) > SECTION_LIMIT:
            raise ValueError(f"a list entry of {len(entry.text)} characters fits no section")
        if entry.reveal_id is not None:
            close_section()
            blocks.append(revealable(entry.text, entry.reveal_id))
        elif len("\n".join([*lines, entry.text])) > SECTION_LIMIT:
            close_section()
            lines.append(entry.text)
        else:
            lines.append(entry.text)
    close_section()
    if page.start or page.after:
        blocks.extend(_paging(page, end, names))
    return blocks


def _paging(page: Page[Any], end: int, names: Mapping[str, Any]) -> list[dict[str, Any]]:
    """What comes before and after, and the buttons that go there."""
    said, buttons = [], []
    if page.start:
        said.append(f"{page.start} before these")
        back = max(0, page.start - page.size)
        buttons.append(_button("◀ Previous", ids.LIST_PREVIOUS, names, back))
    if page.after:
        said.append(f"{page.after} more after these")
        buttons.append(_button("Next ▶", ids.LIST_NEXT, names, end))
    return [
        {"type": "context", "elements": [{"type": "mrkdwn", "text": " · ".join(said)}]},
        {"type": "actions", "block_id": f"paging_{names['list']}", "elements": buttons},
    ]


def _button(label: str, action_id: str, names: Mapping[str, Any], start: int) -> dict[str, Any]:
    return {
        "type": "button",
        "text": {"type": "plain_text", "text": label},
        "action_id": action_id,
        "value": json.dumps({**names, "start": start}),
    }


# -- the lists -----------------------------------------------------------------------------


def _by(user: str | None) -> str:
    return f" <@{user}>" if user else ""


def history(found: History) -> dict[str, Any]:
    """`/history`: the customer's tickets, then their latest messages, newest first.

    Both lists page on their own; each one's buttons keep the other's place.
    """
    head = f"*History of @{escape_within(found.username, 20)}*"
    if found.name:
        head += f" ({escape_within(found.name, 100)})"
    head += (
        f" · {count(found.followers, 'follower')} · {count(found.tickets.total, 'ticket')}"
        f" · {count(found.messages.total, 'message')}"
    )
    place = {"customer": found.customer_id}
    tickets = [
        Entry(
            f"• *#{t.id}* {STATE_LABELS.get(t.state, t.state)} · {slack_date(t.created_at)} · "
            f"{'<@' + t.owner_slack_id + '>' if t.owner_slack_id else 'no owner'} · "
            f"{escape_within(t.first_text, 120)}",
            t.reveal_id,
        )
        for t in found.tickets.items
    ]
    messages = [
        Entry(
            f"{DIRECTION_LABELS.get(m.direction, '•')} #{m.ticket_id} {slack_date(m.at)}"
            f"{_by(m.author_slack_id)}: {escape_within(m.text, 160)}",
            m.reveal_id,
        )
        for m in found.messages.items
    ]
    blocks = [section(head)]
    blocks += page_blocks(
        title="Tickets",
        entries=tickets,
        page=found.tickets,
        names={"list": "history_tickets", **place, "messages": found.messages.start},
        empty="No tickets.",
    )
    if found.messages.total:
        blocks.append({"type": "divider"})
        blocks += page_blocks(
            title="Latest messages",
            entries=messages,
            page=found.messages,
            names={"list": "history_messages", **place, "tickets": found.tickets.start},
            empty="No messages.",
        )
    return {"text": f"History of @{found.username}", "blocks": blocks}


def member_line(member: Member) -> str:
    """`• @anna — agent, initials AS · skills festnetz, tv · 🌴 away`."""
    line = f"• <@{member.user_id}> — {member.role}, initials {member.initials}"
    if member.skills:
        line += f" · skills {escape_within(', '.join(member.skills), 300)}"
    if member.away:
        line += " · 🌴 away"
    return line


def team(members: Sequence[Member]) -> dict[str, Any]:
    """`/team list`."""
    if not members:
        return {
            "text": "Nobody is on the team yet. A lead adds people with `/team add @name agent`."
        }
    lines = "\n".join(member_line(m) for m in members)
    return {"text": "The team", "blocks": [section(f"*The team* ({len(members)})\n{lines}")]}


def canned(answers: Page[CannedAnswer]) -> dict[str, Any]:
    """`/canned list`."""
    if not answers.total:
        return {"text": "No canned answers yet. Leads add them with `/canned add <name> <text>`."}
    entries = [Entry(f"• `:{a.name}` — {escape_within(a.text, 200)}") for a in answers.items]
    return {
        "text": f"{answers.total} canned answers",
        "blocks": page_blocks(
            title="Canned answers — use with `/reply 12 :name`",
            entries=entries,
            page=answers,
            names={"list": "canned"},
            empty="No canned answers on this page.",
        ),
    }


def followup_entry(
    *, ticket_id: int, due: Any, overdue: bool, note: str, owner: str | None = None
) -> Entry:
    """One promise as lists show it: when, which ticket, whose, and the start of its note."""
    mark = "⏰ *overdue*" if overdue else "📅"
    whose = f" · <@{owner}>" if owner else ""
    shown_note = f" — {escape_within(note, 100)}" if note else ""
    return Entry(f"• {mark} *#{ticket_id}* {slack_date(due)}{whose}{shown_note}")


def followup_list(followups: Page[FollowUpView]) -> dict[str, Any]:
    """`/followup list`: open promises, soonest first."""
    if not followups.total:
        return {"text": "No open follow-ups."}
    entries = [
        followup_entry(
            ticket_id=f.ticket_id,
            due=f.due_at,
            overdue=f.overdue,
            note=f.note,
            owner=f.owner_slack_id,
        )
        for f in followups.items
    ]
    return {
        "text": f"{followups.total} open follow-ups",
        "blocks": page_blocks(
            title="Open follow-ups",
            entries=entries,
            page=followups,
            names={"list": "followups"},
            empty="No open follow-ups on this page.",
        ),
    }
