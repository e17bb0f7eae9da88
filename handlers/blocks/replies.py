"""The reply modal and the ephemeral answers around replying."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from bot.canned import CannedAnswer
from bot.replies import ReplyContext
from handlers import ids
from handlers.blocks.followups import promise_choice
from handlers.blocks.modals import modal, text_input
from handlers.blocks.text import escape_within, quote, section
from handlers.values import ReplyDraft

OPTION_TEXT_LIMIT = 75


def _option(answer: CannedAnswer) -> dict[str, Any]:
    label = escape_within(f":{answer.name} — {answer.text}", OPTION_TEXT_LIMIT)
    return {"text": {"type": "plain_text", "text": label}, "value": answer.name}


def reply_modal(reply: ReplyContext, *, body: str = "", version: int = 0) -> dict[str, Any]:
    """The modal behind the card's Reply button (and the thread shortcut).

    `version` changes the text input's block id, which is how Slack lets a
    `views.update` put new text (a picked canned answer) into the field.
    """
    ticket_id, canned, suggested = reply.ticket_id, reply.canned, reply.suggested
    blocks: list[dict[str, Any]] = [
        {
            "type": "section",
            "text": {
                "type": "mrkdwn",
                "text": f"*@{escape_within(reply.handle, 20)}* wrote:\n{quote(reply.tweet, 2800)}",
            },
        },
        text_input(
            block_id=f"{ids.REPLY_TEXT_BLOCK}_{version}",
            action_id=ids.REPLY_TEXT,
            label="Your reply",
            hint=f"Your signature “{reply.signature.strip()}” is added; the whole reply counts "
            "towards X's 280.",
            multiline=True,
            max_length=3000,
            initial=body,
        ),
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
    return modal(
        callback_id=ids.REPLY_MODAL,
        title=f"Reply to #{ticket_id}",
        submit="Send",
        metadata={"ticket": ticket_id, "version": version},
        blocks=blocks,
    )


CONFIRM_VALUE_LIMIT = 2000  # Slack's limit for a button's value


def confirm_value(*, ticket_id: int, body: str, canned: str | None) -> str | None:
    """What the "Send anyway" button carries; None when the reply is too long for a button."""
    value = ReplyDraft(ticket=ticket_id, body=body, canned=canned).encoded()
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
            section(quote(text)),
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
    return modal(
        callback_id=ids.DM_MODAL,
        title=f"DM to @{handle}",
        submit="Send DM",
        metadata={"ticket": ticket_id},
        blocks=[
            text_input(
                block_id=ids.DM_TEXT_BLOCK,
                action_id=ids.DM_TEXT,
                label="Direct message",
                hint="Private: personal data is allowed. "
                f"Your signature “{signature.strip()}” is added.",
                multiline=True,
                max_length=3000,
                initial=body,
            )
        ],
    )


def reject_modal(reply_id: int) -> dict[str, Any]:
    """A lead returns a trainee's reply: what should change?"""
    return modal(
        callback_id=ids.REJECT_MODAL,
        title="Return the reply",
        submit="Return",
        metadata={"reply": reply_id},
        blocks=[
            text_input(
                block_id=ids.REJECT_NOTE_BLOCK,
                action_id=ids.REJECT_NOTE,
                label="What should change?",
                multiline=True,
            )
        ],
    )
