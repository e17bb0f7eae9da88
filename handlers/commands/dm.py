"""/dm <ticket> <text>"""

from __future__ import annotations

from slack_bolt import Ack, Respond

from bot.commands import Usage, ticket_and_text
from bot.roster import Member
from bot.services import Services
from handlers.context import Payload, request_key

USAGE = Usage("/dm", "<ticket> <text>")


def handle_dm(
    ack: Ack, command: Payload, respond: Respond, services: Services, member: Member
) -> None:
    """/dm <ticket> <text>: answer the customer by direct message."""
    ack()
    ticket_id, body = ticket_and_text(command["text"], USAGE, empty="The DM is empty.")
    result = services.replies.send_dm(
        ticket_id=ticket_id,
        body=body,
        member=member,
        request_key=request_key(command),
    )
    text = "Sent to the customer as a DM." if result.status == "sent" else result.message
    respond(text, response_type="ephemeral")
