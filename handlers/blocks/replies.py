"""The reply modal and the ephemeral answers around replying."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from bot.canned import CannedAnswer
from handlers import ids
from handlers.blocks.followups import promise_choice
from handlers.blocks.text import escape_within, quote

OPTION_TEXT_LIMIT = 75


def _option(answer: CannedAnswer) -> dict[str, Any]:
    label = escape_within(f":{answer.name} — {answer.text}", OPTION_TEXT_LIMIT)
    return {"text": {"type": "plain_text", "text": label}, "value": answer.name}


def reply_modal(
    *,
    ticket_id: int,
    handle: str,
    tweet: str,
    signature: str,
    canned: Sequence[CannedAnswer],
    suggested: Sequence[CannedAnswer] = (),
    body: str = "",
    version: int = 0,
) -> dict[str, Any]:
    """The modal behind the card's Reply button (and the thread shortcut).

    `version` changes the text input's block id, which is how Slack lets a
    `views.update` put new text (a picked canned answer) into the field.
    """
    blocks: list[dict[str, Any]] = [
        {
            "type": "section",
            "text": {
                "type": "mrkdwn",
                "text": f"*@{escape_within(handle, 20)}* wrote:\n{quote(tweet, 2800)}",
            },
        },
        {
            "type": "input",
            "block_id": f"{ids.REPLY_TEXT_BLOCK}_{version}",
            "label": {"type": "plain_text", "text": "Your reply"},
            "hint": {
                "type": "plain_text",
                "text": f"Your signature “{signature.strip()}” is added; the whole reply counts "
                "towards X's 280.",
            },
            "element": {
                "type": "plain_text_input",
                "action_id": ids.REPLY_TEXT,
                "multiline": True,
                "max_length": 3000,
                **({"initial_value": body} if body else {}),
            },
        },
    ]
    if canned:
        groups = []
        if suggested:
            groups.append(
                {
                    "label": {"type": "plain_text", "text": "Suggested"},
                    "options": [_option(a) for a in suggested],
                }
            )
        others = [a for a in canned if a not in suggested][: 100 - len(suggested)]
        if others:
            groups.append(
                {
                    "label": {"type": "plain_text", "text": "All"},
                    "options": [_option(a) for a in others],
                }
            )
        blocks.append(
            {
                "type": "section",
                "block_id": "canned",
                "text": {"type": "mrkdwn", "text": "Start from a canned answer:"},
                "accessory": {
                    "type": "static_select",
                    "action_id": ids.CANNED_PICK,
                    "placeholder": {"type": "plain_text", "text": "Pick one"},
                    "option_groups": groups,
                },
            }
        )
    else:
        blocks.append(
            {
                "type": "context",
                "elements": [{"type": "mrkdwn", "text": "No canned answers yet (`/canned add`)."}],
            }
        )
    blocks.append(promise_choice())
    blocks.append(
        {
            "type": "input",
            "block_id": ids.REPLY_CONFIRM_BLOCK,
            "optional": True,
            "label": {"type": "plain_text", "text": "Warnings"},
            "element": {
                "type": "checkboxes",
                "action_id": ids.REPLY_CONFIRM_BOX,
                "options": [
                    {
                        "text": {"type": "plain_text", "text": "Send even with warnings"},
                        "description": {
                            "type": "plain_text",
                            "text": "a link in the reply, or a customer who did not mention us",
                        },
                        "value": "yes",
                    }
                ],
            },
        }
    )
    return {
        "type": "modal",
        "callback_id": ids.REPLY_MODAL,
        "private_metadata": json.dumps({"ticket": ticket_id, "version": version}),
        "title": {"type": "plain_text", "text": f"Reply to #{ticket_id}"[:24]},
        "submit": {"type": "plain_text", "text": "Send"},
        "close": {"type": "plain_text", "text": "Cancel"},
        "blocks": blocks,
    }


CONFIRM_VALUE_LIMIT = 2000  # Slack's limit for a button's value


def confirm_value(*, ticket_id: int, body: str, canned: str | None) -> str | None:
    """What the "Send anyway" button carries; None when the reply is too long for a button."""
    value = json.dumps({"ticket": ticket_id, "body": body, "canned": canned}, ensure_ascii=False)
    return value if len(value) <= CONFIRM_VALUE_LIMIT else None


def confirm_reply(
    *, ticket_id: int, text: str, warnings: Sequence[str], value: str
) -> dict[str, Any]:
    """The ephemeral question after `/reply` when the reply has warnings."""
    return {
        "text": f"Send this reply to #{ticket_id}? " + " ".join(warnings),
        "blocks": [
            {
                "type": "section",
                "text": {"type": "mrkdwn", "text": "⚠️ " + "\n⚠️ ".join(warnings)},
            },
            {"type": "section", "text": {"type": "mrkdwn", "text": quote(text)}},
            {
                "type": "actions",
                "elements": [
                    {
                        "type": "button",
                        "text": {"type": "plain_text", "text": "Send anyway"},
                        "style": "primary",
                        "action_id": ids.REPLY_CONFIRM,
                        "value": value,
                    },
                    {
                        "type": "button",
                        "text": {"type": "plain_text", "text": "Cancel"},
                        "action_id": ids.REPLY_CANCEL,
                        "value": str(ticket_id),
                    },
                ],
            },
        ],
    }


DM_OPENER = "Hallo {name}, hier können wir sicher weiterschreiben. Worum geht es genau?"


def dm_modal(*, ticket_id: int, handle: str, signature: str, body: str = "") -> dict[str, Any]:
    """Answer by DM: a text field; personal data may be written here."""
    return {
        "type": "modal",
        "callback_id": ids.DM_MODAL,
        "private_metadata": json.dumps({"ticket": ticket_id}),
        "title": {"type": "plain_text", "text": f"DM to @{handle}"[:24]},
        "submit": {"type": "plain_text", "text": "Send DM"},
        "close": {"type": "plain_text", "text": "Cancel"},
        "blocks": [
            {
                "type": "input",
                "block_id": ids.DM_TEXT_BLOCK,
                "label": {"type": "plain_text", "text": "Direct message"},
                "hint": {
                    "type": "plain_text",
                    "text": "Private: personal data is allowed. "
                    f"Your signature “{signature.strip()}” is added.",
                },
                "element": {
                    "type": "plain_text_input",
                    "action_id": ids.DM_TEXT,
                    "multiline": True,
                    "max_length": 3000,
                    **({"initial_value": body} if body else {}),
                },
            }
        ],
    }


def reject_modal(reply_id: int) -> dict[str, Any]:
    """A lead returns a trainee's reply: what should change?"""
    return {
        "type": "modal",
        "callback_id": ids.REJECT_MODAL,
        "private_metadata": json.dumps({"reply": reply_id}),
        "title": {"type": "plain_text", "text": "Return the reply"},
        "submit": {"type": "plain_text", "text": "Return"},
        "close": {"type": "plain_text", "text": "Cancel"},
        "blocks": [
            {
                "type": "input",
                "block_id": ids.REJECT_NOTE_BLOCK,
                "label": {"type": "plain_text", "text": "What should change?"},
                "element": {
                    "type": "plain_text_input",
                    "action_id": ids.REJECT_NOTE,
                    "multiline": True,
                },
            }
        ],
    }
