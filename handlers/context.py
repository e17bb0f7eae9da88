"""What listeners read from what the middleware and Slack hand them."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from slack_bolt import BoltContext

from bot.errors import Refused
from bot.roster import Member


def member_of(context: BoltContext) -> Member:
    """The caller, as the roster middleware found them (every listener runs after it)."""
    member = context.get("member")
    assert isinstance(member, Member), "the roster middleware did not run"
    return member


def number_on(action: Mapping[str, Any]) -> int:
    """The ticket, message or reply number a button carries (the bot wrote it there)."""
    value = str(action.get("value") or "")
    if not (value.isascii() and value.isdigit()) or len(value) > 18:  # 18: within a BIGINT
        raise Refused("This button does not belong to a ticket; use the buttons on the card.")
    return int(value)


def view_values(view: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """A submitted modal's input state: block id -> action id -> element state."""
    values: dict[str, dict[str, Any]] = (view.get("state") or {}).get("values", {})
    return values


def input_value(view: Mapping[str, Any], block: str, action: str) -> str:
    """What was typed into one text input of a submitted modal ("" when left empty)."""
    return str(((view_values(view).get(block) or {}).get(action) or {}).get("value") or "")


def metadata_number(view: Mapping[str, Any], key: str) -> int:
    """A number the bot put into the modal's private_metadata when it opened it."""
    return int(json.loads(view.get("private_metadata") or "{}")[key])
