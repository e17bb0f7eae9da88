"""The ticket card's buttons: Claim, Reply, Resolve, and Reopen in its place when resolved."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from slack_bolt import Ack, BoltContext, Respond
from slack_sdk import WebClient

from bot.services import Services
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
    """Build the Resolve button's listener."""

    def handle_resolve_button(
        ack: Ack, action: dict[str, Any], respond: Respond, context: BoltContext
    ) -> None:
        """Resolve the card's ticket (on cards posted before Reopen had its own id: reopen)."""
        ack()
        if (action.get("text") or {}).get("text") == LEGACY_REOPEN_LABEL:
            reopen(services, action, respond, context)
            return
        ticket = services.tickets.resolve(ticket_id=number_on(action), member=member_of(context))
        respond(f"#{ticket.id} is resolved.", response_type="ephemeral", replace_original=False)

    return handle_resolve_button


# Cards posted before Reopen had its own action id carry, on a resolved ticket, the Resolve
# button's id labelled "Reopen". Such a card gets the new buttons the next time the ticket
# changes (its reopening, say); until then this label is the only sign of what was meant.
LEGACY_REOPEN_LABEL = "Reopen"


def make_handle_reopen_button(services: Services) -> Callable[..., None]:
    """Build the Reopen button's listener (on resolved cards, in Resolve's place)."""

    def handle_reopen_button(
        ack: Ack, action: dict[str, Any], respond: Respond, context: BoltContext
    ) -> None:
        """Open the card's resolved ticket again."""
        ack()
        reopen(services, action, respond, context)

    return handle_reopen_button


def reopen(
    services: Services, action: dict[str, Any], respond: Respond, context: BoltContext
) -> None:
    """Reopen the ticket of the button clicked, and say so."""
    ticket = services.tickets.reopen(ticket_id=number_on(action), member=member_of(context))
    respond(f"#{ticket.id} is open again.", response_type="ephemeral", replace_original=False)
