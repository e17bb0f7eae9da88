"""/resolve <ticket>"""

from __future__ import annotations

from slack_bolt import Ack, Respond

from bot.commands import Usage, only_ticket
from bot.roster import Member
from bot.services import Services
from handlers.context import Payload

USAGE = Usage("/resolve", "<ticket>")


def handle_resolve(
    ack: Ack, command: Payload, respond: Respond, services: Services, member: Member
) -> None:
    """/resolve <ticket>: close the ticket."""
    ack()
    ticket_id = only_ticket(command["text"], USAGE)
    ticket = services.tickets.resolve(ticket_id=ticket_id, member=member)
    respond(f"#{ticket.id} is resolved.", response_type="ephemeral")
