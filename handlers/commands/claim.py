"""/claim <ticket>"""

from __future__ import annotations

from slack_bolt import Ack, Respond

from bot.commands import Usage, only_ticket
from bot.roster import Member
from bot.services import Services
from handlers.context import Payload

USAGE = Usage("/claim", "<ticket>")


def handle_claim(
    ack: Ack, command: Payload, respond: Respond, services: Services, member: Member
) -> None:
    """/claim <ticket>: make the caller the owner."""
    ack()
    ticket_id = only_ticket(command["text"], USAGE)
    ticket = services.tickets.claim(ticket_id=ticket_id, member=member)
    respond(f"You have #{ticket.id} now.", response_type="ephemeral")
