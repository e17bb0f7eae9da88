"""/away and /back: whether auto-assignment gives me tickets (SPEC §13)."""

from __future__ import annotations

from slack_bolt import Ack, Respond

from bot.commands import Usage
from bot.roster import Member
from bot.services import Services
from handlers.context import Payload

AWAY = Usage("/away", "(no arguments)")
BACK = Usage("/back", "(no arguments)")


def handle_away(
    ack: Ack, command: Payload, respond: Respond, services: Services, member: Member
) -> None:
    """/away: no new tickets for me; a lead is offered my open ones."""
    ack()
    if command["text"].strip():
        raise AWAY.refuse()
    changed = services.roster.set_away(user_id=member.user_id, away=True)
    if changed:
        services.assigner.went_away(member.user_id)
    respond(
        "You are away: no tickets are assigned to you until you type `/back`.",
        response_type="ephemeral",
    )


def handle_back(
    ack: Ack, command: Payload, respond: Respond, services: Services, member: Member
) -> None:
    """/back: tickets may be assigned to me again."""
    ack()
    if command["text"].strip():
        raise BACK.refuse()
    services.roster.set_away(user_id=member.user_id, away=False)
    respond("Welcome back: tickets can be assigned to you again.", response_type="ephemeral")
