"""What listeners read from what Slack hands them (request keys, numbers, modal inputs),
and how they answer a click."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any

from slack_bolt import Respond

from bot.errors import Refused
from handlers.values import NOT_OURS

# What Slack sent, or a part of it (a command, an action, a view), as Bolt parsed it.
Payload = dict[str, Any]


def request_key(body: Mapping[str, Any]) -> str | None:
    """What names one request of a person, the same each time Slack delivers it again.

    A modal's submission is its view (id and hash: pressing Send twice submits the same
    view); a command, a click or a shortcut carries Slack's trigger id, new for each.
    Hashed, so that whatever a forged body holds, the key has one size.
    """
    if body.get("type") == "view_submission":
        view = body.get("view")
        parts = ["view", *(_text(view, key) for key in ("id", "hash"))]
    else:
        parts = ["trigger", _text(body, "trigger_id")]
    if not all(parts):
        return None
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()


def _text(value: Any, key: str) -> str:
    found = value.get(key) if isinstance(value, Mapping) else None
    return found if isinstance(found, str) else ""


def number_on(action: Mapping[str, Any]) -> int:
    """The ticket, message or reply number a button carries (the bot wrote it there)."""
    value = str(action.get("value") or "")
    if not (value.isascii() and value.isdigit()) or len(value) > 18:  # 18: within a BIGINT
        raise Refused(NOT_OURS)
    return int(value)


def view_values(view: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """A submitted modal's input state: block id -> action id -> element state."""
    values: dict[str, dict[str, Any]] = (view.get("state") or {}).get("values", {})
    return values


def input_value(view: Mapping[str, Any], block: str, action: str) -> str:
    """What was typed into one text input of a submitted modal ("" when left empty)."""
    return str(((view_values(view).get(block) or {}).get(action) or {}).get("value") or "")


def beside(respond: Respond, text: str) -> None:
    """Answer a click to the person who clicked, below the message clicked on (left as it was)."""
    respond(text, response_type="ephemeral", replace_original=False)
