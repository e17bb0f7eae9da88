"""The ticket card's buttons: Claim, Reply, Resolve, and Reopen in its place when resolved."""

from __future__ import annotations

from slack_bolt import Ack, Respond
from slack_sdk import WebClient

from bot.roster import Member
from bot.services import Services
from handlers.context import Payload, beside, number_on
from handlers.views.reply_modal import open_reply_modal


def handle_claim_button(
    ack: Ack, action: Payload, respond: Respond, services: Services, member: Member
) -> None:
    """Claim the card's ticket."""
    ack()
    ticket = services.tickets.claim(ticket_id=number_on(action), member=member)
    beside(respond, f"You have #{ticket.id} now.")


def handle_reply_button(
    ack: Ack, body: Payload, action: Payload, client: WebClient, services: Services, member: Member
) -> None:
    """Open the reply modal (trigger ids live three seconds, so this comes first)."""
    ack()
    open_reply_modal(
        client,
        services=services,
        trigger_id=body["trigger_id"],
        ticket_id=number_on(action),
        member=member,
    )


def handle_resolve_button(
    ack: Ack, action: Payload, respond: Respond, services: Services, member: Member
) -> None:
    """Resolve the card's ticket (on cards posted before Reopen had its own id: reopen)."""
    ack()
    if (action.get("text") or {}).get("text") == LEGACY_REOPEN_LABEL:
        reopen(services, action, respond, member)
        return
    ticket = services.tickets.resolve(ticket_id=number_on(action), member=member)
    beside(respond, f"#{ticket.id} is resolved.")


# Cards posted before Reopen had its own action id carry, on a resolved ticket, the Resolve
# button's id labelled "Reopen". Such a card gets the new buttons the next time the ticket
# changes (its reopening, say); until then this label is the only sign of what was meant.
LEGACY_REOPEN_LABEL = "Reopen"


def handle_reopen_button(
    ack: Ack, action: Payload, respond: Respond, services: Services, member: Member
) -> None:
    """Open the card's resolved ticket again."""
    ack()
    reopen(services, action, respond, member)


def reopen(services: Services, action: Payload, respond: Respond, member: Member) -> None:
    """Reopen the ticket of the button clicked, and say so."""
    ticket = services.tickets.reopen(ticket_id=number_on(action), member=member)
    beside(respond, f"#{ticket.id} is open again.")
