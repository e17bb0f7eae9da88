"""What the middleware hands to listeners."""

from __future__ import annotations

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
