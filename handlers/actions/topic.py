"""The card's Topic menu: move the ticket to the topic picked (its channel)."""

from __future__ import annotations

import re

from slack_bolt import Ack, Respond

from bot.errors import Refused
from bot.roster import Member
from bot.services import Services
from handlers.context import Payload, beside
from handlers.values import NOT_OURS

_PICKED = re.compile(r"^([0-9]{1,18})\|(.{1,32})$")


def handle_topic_menu(
    ack: Ack, action: Payload, respond: Respond, services: Services, member: Member
) -> None:
    """Move the card's ticket; the new card is posted in the topic's channel."""
    ack()
    value = str((action.get("selected_option") or {}).get("value") or "")
    match = _PICKED.match(value)
    if match is None:
        raise Refused(NOT_OURS)
    ticket_id, name = int(match[1]), match[2]
    target = services.moves.move(
        ticket_id=ticket_id, topic=None if name == "-" else name, member=member
    )
    beside(respond, f"#{ticket_id} moves to <#{target.channel}> ({target.label}).")
