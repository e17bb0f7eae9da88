"""/dm <ticket> <text>"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from slack_bolt import Ack, BoltContext, Respond

from bot.commands import Usage, ticket_and_text
from bot.services import Services
from handlers.context import member_of, request_key

USAGE = Usage("/dm", "<ticket> <text>")


def make_handle_dm(services: Services) -> Callable[..., None]:
    """Build the /dm listener."""

    def handle_dm(
        ack: Ack, command: dict[str, Any], respond: Respond, context: BoltContext
    ) -> None:
        """/dm <ticket> <text>: answer the customer by direct message."""
        ack()
        ticket_id, body = ticket_and_text(command["text"], USAGE, empty="The DM is empty.")
        result = services.replies.send_dm(
            ticket_id=ticket_id,
            body=body,
            member=member_of(context),
            request_key=request_key(command),
        )
        text = "Sent to the customer as a DM." if result.status == "sent" else result.message
        respond(text, response_type="ephemeral")

    return handle_dm
