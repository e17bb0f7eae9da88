"""The ticket card's buttons: Claim, Reply, Resolve (or Reopen)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from slack_bolt import Ack, BoltContext, Respond
from slack_sdk import WebClient

from bot.services import Services
from handlers.blocks.cards import REOPEN
from handlers.context import member_of, number_on
from handlers.views.reply_modal import open_reply_modal


def make_handle_claim_button(services: Services) -> Callable[..., None]:
    """Build the Claim button's listener."""

    def handle_claim_button(
        ack: Ack, action: dict[str, Any], respond: Respond, context: BoltContext
    ) -> None:
        """Claim the card's ticket."""
        ack()
        ticket = services.tickets.claim(ticket_id=number_on(action), member=member_of(context))
        respond(f"You have #{ticket.id} now.", response_type="ephemeral", replace_original=False)

    return handle_claim_button


def make_handle_reply_button(services: Services) -> Callable[..., None]:
    """Build the Reply button's listener."""

    def handle_reply_button(
        ack: Ack,
        body: dict[str, Any],
        action: dict[str, Any],
        client: WebClient,
        context: BoltContext,
    ) -> None:
        """Open the reply modal (trigger ids live three seconds, so this comes first)."""
        ack()
        open_reply_modal(
            client,
            services=services,
            trigger_id=body["trigger_id"],
            ticket_id=number_on(action),
            member=member_of(context),
        )

    return handle_reply_button


def make_handle_resolve_button(services: Services) -> Callable[..., None]:
    """Build the Resolve/Reopen button's listener."""

    def handle_resolve_button(
        ack: Ack, action: dict[str, Any], respond: Respond, context: BoltContext
    ) -> None:
        """Resolve the ticket; on a resolved card the same button reopens it."""
        ack()
        member = member_of(context)
        if (action.get("text") or {}).get("text") == REOPEN:
            ticket = services.tickets.reopen(ticket_id=number_on(action), member=member)
            said = f"#{ticket.id} is open again."
        else:
            ticket = services.tickets.resolve(ticket_id=number_on(action), member=member)
            said = f"#{ticket.id} is resolved."
        respond(said, response_type="ephemeral", replace_original=False)

    return handle_resolve_button
