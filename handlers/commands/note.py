"""/note <ticket> <text>"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from slack_bolt import Ack, BoltContext, Respond

from bot.commands import Usage, ticket_number, words
from bot.services import Services
from handlers.context import member_of, request_key

USAGE = Usage("/note", "<ticket> <text>")


def make_handle_note(services: Services) -> Callable[..., None]:
    """Build the /note listener."""

    def handle_note(
        ack: Ack, command: dict[str, Any], respond: Respond, context: BoltContext
    ) -> None:
        """/note <ticket> <text>: an internal note in the ticket's thread."""
        ack()
        ticket_token, text = words(command["text"], 2)
        if not text:
            raise USAGE.refuse("The note is empty.")
        ticket_id = ticket_number(ticket_token, USAGE)
        services.tickets.note(
            ticket_id=ticket_id,
            member=member_of(context),
            text=text,
            request_key=request_key(command),
        )
        respond(
            f"Noted in #{ticket_id}'s thread (internal, never sent to X).",
            response_type="ephemeral",
        )

    return handle_note
