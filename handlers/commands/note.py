"""/note <ticket> <text>"""

from __future__ import annotations

from slack_bolt import Ack, Respond

from bot.commands import Usage, ticket_number, words
from bot.roster import Member
from bot.services import Services
from handlers.context import Payload, request_key

USAGE = Usage("/note", "<ticket> <text>")


def handle_note(
    ack: Ack, command: Payload, respond: Respond, services: Services, member: Member
) -> None:
    """/note <ticket> <text>: an internal note in the ticket's thread."""
    ack()
    ticket_token, text = words(command["text"], 2)
    if not text:
        raise USAGE.refuse("The note is empty.")
    ticket_id = ticket_number(ticket_token, USAGE)
    services.tickets.note(
        ticket_id=ticket_id,
        member=member,
        text=text,
        request_key=request_key(command),
    )
    respond(
        f"Noted in #{ticket_id}'s thread (internal, never sent to X).",
        response_type="ephemeral",
    )
