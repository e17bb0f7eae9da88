"""What the middleware hands to listeners."""

from __future__ import annotations

from slack_bolt import BoltContext

from bot.roster import Member


def member_of(context: BoltContext) -> Member:
    """The caller, as the roster middleware found them (every listener runs after it)."""
    member = context.get("member")
    assert isinstance(member, Member), "the roster middleware did not run"
    return member
