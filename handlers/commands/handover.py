"""/handover <ticket> <@user> [note]"""

from __future__ import annotations

from slack_bolt import Ack, Respond

from bot.commands import Usage, slack_user, ticket_number, words
from bot.roster import Member
from bot.services import Services
from handlers.context import Payload

USAGE = Usage("/handover", "<ticket> @colleague [note]")


def handle_handover(
    ack: Ack, command: Payload, respond: Respond, services: Services, member: Member
) -> None:
    """/handover <ticket> <@user> [note]: give the ticket to a colleague."""
    ack()
    ticket_token, user_token, note = words(command["text"], 3)
    ticket = services.tickets.handover(
        ticket_id=ticket_number(ticket_token, USAGE),
        member=member,
        to=slack_user(user_token, USAGE),
        note=note,
    )
    respond(f"Handed #{ticket.id} to <@{ticket.owner_slack_id}>.", response_type="ephemeral")
