"""/release <ticket>"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from slack_bolt import Ack, BoltContext, Respond

from bot.commands import Usage, only_ticket
from bot.services import Services
from handlers.context import member_of

USAGE = Usage("/release", "<ticket>")


def make_handle_release(services: Services) -> Callable[..., None]:
    """Build the /release listener."""

    def handle_release(
        ack: Ack, command: dict[str, Any], respond: Respond, context: BoltContext
    ) -> None:
        """/release <ticket>: give the ticket back to the queue."""
        ack()
        ticket_id = only_ticket(command["text"], USAGE)
        ticket = services.tickets.release(ticket_id=ticket_id, member=member_of(context))
        respond(f"#{ticket.id} is back in the queue.", response_type="ephemeral")

    return handle_release
