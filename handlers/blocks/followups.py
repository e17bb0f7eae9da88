"""Promises and escalations: modals and the offer after a reply (their list is in lists.py)."""

from __future__ import annotations

from typing import Any

from bot.followups import Promise
from handlers import ids
from handlers.blocks.modals import modal, text_input
from handlers.blocks.text import escape_within, section, slack_date
from handlers.values import PromiseOffer

# What the reply modal offers to promise, as `/followup` would read it.
PROMISE_CHOICES = [
    ("30 minutes", "30m"),
    ("1 hour", "1h"),
    ("2 hours", "2h"),
    ("4 hours", "4h"),
    ("tomorrow 10:00", "tomorrow 10:00"),
]


def promise_choice() -> dict[str, Any]:
    """The reply modal's optional "promise a follow-up in" select."""
    return {
        "type": "input",
        "block_id": ids.REPLY_FOLLOWUP_BLOCK,
        "optional": True,
        "label": {"type": "plain_text", "text": "Promise a follow-up in"},
        "element": {
            "type": "static_select",
            "action_id": ids.REPLY_FOLLOWUP,
            "placeholder": {"type": "plain_text", "text": "no promise"},
            "options": [
                {"text": {"type": "plain_text", "text": label}, "value": value}
                for label, value in PROMISE_CHOICES
            ],
        },
    }


def followup_modal(ticket_id: int) -> dict[str, Any]:
    """The card's Follow-up button: when, and a note."""
    return modal(
        callback_id=ids.FOLLOWUP_MODAL,
        title=f"Follow-up for #{ticket_id}",
        submit="Promise",
        metadata={"ticket": ticket_id},
        blocks=[
            text_input(
                block_id=ids.FOLLOWUP_WHEN_BLOCK,
                action_id=ids.FOLLOWUP_WHEN,
                label="When did you promise to get back?",
                hint="45m, 2h, 14:30, tomorrow 10:00, morgen 10 Uhr …",
            ),
            text_input(
                block_id=ids.FOLLOWUP_NOTE_BLOCK,
                action_id=ids.FOLLOWUP_NOTE,
                label="Note",
                optional=True,
                max_length=500,
            ),
        ],
    )


def escalate_modal(ticket_id: int) -> dict[str, Any]:
    """The card's Escalate button: why."""
    return modal(
        callback_id=ids.ESCALATE_MODAL,
        title=f"Escalate #{ticket_id}",
        submit="Page on-call",
        metadata={"ticket": ticket_id},
        blocks=[
            text_input(
                block_id=ids.ESCALATE_REASON_BLOCK,
                action_id=ids.ESCALATE_REASON,
                label="What burns?",
                multiline=True,
                max_length=1000,
            )
        ],
    )


def promise_offer(ticket_id: int, promise: Promise) -> dict[str, Any]:
    """After a reply that promised a time: one click records the follow-up."""
    value = PromiseOffer(ticket=ticket_id, due=promise.due).encoded()
    text = (
        f"Your reply promised “{escape_within(promise.phrase, 80)}”. "
        f"Record a follow-up for #{ticket_id} at {slack_date(promise.due)}?"
    )
    return {
        "text": text,
        "blocks": [
            section(text),
            {
                "type": "actions",
                "elements": [
                    {
                        "type": "button",
                        "text": {"type": "plain_text", "text": "Record follow-up"},
                        "style": "primary",
                        "action_id": ids.PROMISE_CONFIRM,
                        "value": value,
                    }
                ],
            },
        ],
    }
