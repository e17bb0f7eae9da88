"""The parts every modal of the bot is made of."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

# Slack's limits (Block Kit reference): a modal's title, submit and close 24 characters,
# an input's label and hint 2,000, a text input's value 3,000 (and its max_length).
TITLE_LIMIT = 24
LABEL_LIMIT = 2000
INPUT_LIMIT = 3000


def plain(text: str, limit: int | None = None) -> dict[str, Any]:
    """A plain_text object, cut to `limit` characters (plain text has no markup to break)."""
    return {"type": "plain_text", "text": text if limit is None else text[:limit]}


def modal(
    *,
    callback_id: str,
    title: str,
    submit: str,
    blocks: Sequence[Mapping[str, Any]],
    metadata: Mapping[str, Any],
) -> dict[str, Any]:
    """A modal with Submit and Cancel; `metadata` comes back with the submission."""
    return {
        "type": "modal",
        "callback_id": callback_id,
        "private_metadata": json.dumps(metadata),
        "title": plain(title, TITLE_LIMIT),
        "submit": plain(submit, TITLE_LIMIT),
        "close": plain("Cancel", TITLE_LIMIT),
        "blocks": list(blocks),
    }


def text_input(
    *,
    block_id: str,
    action_id: str,
    label: str,
    hint: str | None = None,
    optional: bool = False,
    multiline: bool = False,
    max_length: int | None = None,
    initial: str = "",
) -> dict[str, Any]:
    """An input block holding one plain_text_input; a prefilled value is cut to what it holds."""
    element: dict[str, Any] = {"type": "plain_text_input", "action_id": action_id}
    if multiline:
        element["multiline"] = True
    if max_length is not None:
        element["max_length"] = max_length
    if initial:
        # Slack refuses the whole modal for a value it cannot hold, so a long one (a
        # customer's name in an opener, say) is cut: the person sees and can fix it.
        element["initial_value"] = initial[: min(max_length or INPUT_LIMIT, INPUT_LIMIT)]
    block: dict[str, Any] = {
        "type": "input",
        "block_id": block_id,
        "label": plain(label, LABEL_LIMIT),
        "element": element,
    }
    if hint is not None:
        block["hint"] = plain(hint, LABEL_LIMIT)
    if optional:
        block["optional"] = True
    return block
