"""/resolve <ticket>"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from slack_bolt import Ack, BoltContext, Respond

from bot.commands import Usage, only_ticket
from bot.services import Services
from handlers.context import member_of

USAGE = Usage("/resolve", "<ticket>")


def make_handle_resolve(services: Services) -> Callable[..., None]:
    """Build the /resolve listener."""

    def handle_resolve(
        ack: Ack, command: dict[str, Any], respond: Respond, context: BoltContext
    ) -> None:
        """/resolve <ticket>: close the ticket."""
        ack()
        ticket_id = only_ticket(command["text"], USAGE)
        ticket = services.tickets.resolve(ticket_id=ticket_id, member=member_of(context))
        respond(f"#{ticket.id} is resolved.", response_type="ephemeral")

    return handle_resolve
