"""/claim <ticket>"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from slack_bolt import Ack, BoltContext, Respond

from bot.commands import Usage, only_ticket
from bot.services import Services
from handlers.context import member_of

USAGE = Usage("/claim", "<ticket>")


def make_handle_claim(services: Services) -> Callable[..., None]:
    """Build the /claim listener."""

    def handle_claim(
        ack: Ack, command: dict[str, Any], respond: Respond, context: BoltContext
    ) -> None:
        """/claim <ticket>: make the caller the owner."""
        ack()
        ticket_id = only_ticket(command["text"], USAGE)
        ticket = services.tickets.claim(ticket_id=ticket_id, member=member_of(context))
        respond(f"You have #{ticket.id} now.", response_type="ephemeral")

    return handle_claim
