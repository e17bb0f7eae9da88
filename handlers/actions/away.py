"""A lead's answer to the offer sent when an owner went away with open tickets."""

from __future__ import annotations

import re

from slack_bolt import Ack, Respond

from bot.errors import Refused
from bot.roster import Member
from bot.services import Services
from handlers.context import Payload

_USER = re.compile(r"^[UW][A-Z0-9]{1,20}$")


def _away(action: Payload) -> str:
    value = str(action.get("value") or "")
    if not _USER.match(value):
        raise Refused("That button is not one of Servicekanal's.")
    return value


def handle_away_reassign(
    ack: Ack, action: Payload, respond: Respond, services: Services, member: Member
) -> None:
    """Re-assign the away person's open tickets by the rule; say where each went."""
    ack()
    away = _away(action)
    moved = services.assigner.reassign_from(away=away, lead=member.user_id)
    given = [f"#{n} → <@{owner}>" for n, owner in moved if owner]
    kept = [f"#{n}" for n, owner in moved if owner is None]
    lines = [f"Re-assigned: {', '.join(given)}." if given else "Nothing was re-assigned."]
    if kept:
        lines.append(f"Nobody present can take {', '.join(kept)}; they stay with <@{away}>.")
    respond("\n".join(lines), response_type="ephemeral", replace_original=True)


def handle_away_keep(
    ack: Ack, action: Payload, respond: Respond, services: Services, member: Member
) -> None:
    """Leave the tickets where they are."""
    ack()
    away = _away(action)
    respond(
        f"<@{away}>'s tickets stay with them.", response_type="ephemeral", replace_original=True
    )
