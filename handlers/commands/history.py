"""/history <@handle | ticket>"""

from __future__ import annotations

from slack_bolt import Ack, Respond

from bot.commands import Usage, ticket_number, words, x_handle
from bot.services import Services
from bot.text import excerpt
from handlers.blocks.lists import history
from handlers.context import Payload

USAGE = Usage("/history", "<@handle | ticket>")


def handle_history(ack: Ack, command: Payload, respond: Respond, services: Services) -> None:
    """/history <@handle | ticket>: the customer's earlier tickets and messages."""
    ack()
    token, rest = words(command["text"], 2)
    if not token or rest:
        raise USAGE.refuse()
    if token.lstrip("#").isdigit():
        found = services.tickets.history(ticket_id=ticket_number(token, USAGE))
    else:
        handle = x_handle(token)
        if handle is None:
            raise USAGE.refuse(f"“{excerpt(token)}” is neither an @handle nor a ticket.")
        found = services.tickets.history(handle=handle)
    respond(response_type="ephemeral", **history(found))
