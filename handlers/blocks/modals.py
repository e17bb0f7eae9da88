"""The parts every modal of the bot is made of."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

TITLE_LIMIT = 24  # Slack's maximum for a modal's title


def plain(text: str) -> dict[str, Any]:
    """A plain_text object."""
    return {"type": "plain_text", "text": text}


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
        "title": plain(title[:TITLE_LIMIT]),
        "submit": plain(submit),
        "close": plain("Cancel"),
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
    """An input block holding one plain_text_input."""
    element: dict[str, Any] = {"type": "plain_text_input", "action_id": action_id}
    if multiline:
        element["multiline"] = True
    if max_length is not None:
        element["max_length"] = max_length
    if initial:
        element["initial_value"] = initial
    block: dict[str, Any] = {
        "type": "input",
        "block_id": block_id,
        "label": plain(label),
        "element": element,
    }
    if hint is not None:
        block["hint"] = plain(hint)
    if optional:
        block["optional"] = True
    return block
