"""The Answer all modals: writing the group answer, then its previews and counts."""

from __future__ import annotations

import json
from typing import Any

from bot.group_answers import GroupPlan
from handlers import ids
from handlers.blocks.followups import promise_choice
from handlers.blocks.modals import INPUT_LIMIT, modal, plain, text_input
from handlers.blocks.text import escape_within, quote, section
from handlers.values import GroupDraft


def answer_modal(group_id: int, size: int, example: str, *, body: str = "") -> dict[str, Any]:
    """Write one answer for the whole group; Preview shows it personalised."""
    choice = promise_choice()
    choice["block_id"], choice["element"]["action_id"] = (
        ids.GROUP_FOLLOWUP_BLOCK,
        ids.GROUP_FOLLOWUP,
    )
    choice["label"] = plain("Promise a follow-up in (one reminder for the group)")
    return {
        "type": "modal",
        "callback_id": ids.GROUP_ANSWER_MODAL,
        "private_metadata": json.dumps({"group": group_id}),
        "title": plain("Answer all", 24),
        "submit": plain("Preview", 24),
        "close": plain("Cancel", 24),
        "blocks": [
            section(
                f"*Sammelfrage {group_id}* · {size:,} customers ask, e.g.:\n{quote(example, 600)}"
            ),
            text_input(
                block_id=ids.GROUP_ANSWER_BLOCK,
                action_id=ids.GROUP_ANSWER_TEXT,
                label="The answer",
                hint="{name} is the customer's name, {handle} their @handle, {agent} your "
                "first name. Your signature is added to each.",
                multiline=True,
                max_length=INPUT_LIMIT,
                initial=body,
            ),
            choice,
        ],
    }


def confirm_modal(plan: GroupPlan, promise: str | None) -> dict[str, Any]:
    """The previews, who gets the answer, the warnings; Send queues it for every member."""
    blocks: list[dict[str, Any]] = [
        section(f"*Who gets it:* {escape_within(plan.summary(), 1000)}")
    ]
    for number, preview in enumerate(plan.previews, start=1):
        blocks.append(section(f"*Preview {number}:*\n{quote(preview, 1000)}"))
    for warning in plan.warnings:
        blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": f"⚠️ {warning}"}]})
    draft = GroupDraft(group=plan.group_id, body=plan.body, promise=promise)
    total = len(plan.answers)
    return {
        "type": "modal",
        "callback_id": ids.GROUP_CONFIRM_MODAL,
        "private_metadata": draft.encoded(),
        "title": plain("Answer all", 24),
        "submit": plain(f"Send to {total:,}", 24),
        "close": plain("Back", 24),
        "blocks": blocks,
    }


def return_modal(group_id: int) -> dict[str, Any]:
    """A lead returns a trainee's group answer: what should change?"""
    return modal(
        callback_id=ids.GROUP_RETURN_MODAL,
        title="Return the answer",
        submit="Return",
        metadata={"group": group_id},
        blocks=[
            text_input(
                block_id=ids.REJECT_NOTE_BLOCK,
                action_id=ids.REJECT_NOTE,
                label="What should change?",
                multiline=True,
            )
        ],
    )
