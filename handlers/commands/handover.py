"""/handover <ticket> <@user> [note]"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from slack_bolt import Ack, BoltContext, Respond

from bot.commands import Usage, slack_user, ticket_number, words
from bot.services import Services
from handlers.context import member_of

USAGE = Usage("/handover", "<ticket> @colleague [note]")


def make_handle_handover(services: Services) -> Callable[..., None]:
    """Build the /handover listener."""

    def handle_handover(
        ack: Ack, command: dict[str, Any], respond: Respond, context: BoltContext
    ) -> None:
        """/handover <ticket> <@user> [note]: give the ticket to a colleague."""
        ack()
        ticket_token, user_token, note = words(command["text"], 3)
        ticket = services.tickets.handover(
            ticket_id=ticket_number(ticket_token, USAGE),
            member=member_of(context),
            to=slack_user(user_token, USAGE),
            note=note,
        )
        respond(f"Handed #{ticket.id} to <@{ticket.owner_slack_id}>.", response_type="ephemeral")

    return handle_handover
