"""/release <ticket>"""

from __future__ import annotations

from slack_bolt import Ack, Respond

from bot.commands import Usage, only_ticket
from bot.roster import Member
from bot.services import Services
from handlers.context import Payload

USAGE = Usage("/release", "<ticket>")


def handle_release(
    ack: Ack, command: Payload, respond: Respond, services: Services, member: Member
) -> None:
    """/release <ticket>: give the ticket back to the queue."""
    ack()
    ticket_id = only_ticket(command["text"], USAGE)
    ticket = services.tickets.release(ticket_id=ticket_id, member=member)
    respond(f"#{ticket.id} is back in the queue.", response_type="ephemeral")
