"""The Follow-up and Escalate buttons' modals, and the one-click promise after a reply."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from slack_bolt import Ack, Respond
from slack_sdk import WebClient

from bot.roster import Member
from bot.services import Services
from handlers import ids
from handlers.blocks.text import slack_date
from handlers.commands.escalate import paged_text
from handlers.context import Payload, input_value, number_on
from handlers.values import PromiseOffer, metadata_number, value_on


def opening(modal_for: Callable[[int], dict[str, Any]]) -> Callable[..., None]:
    """The listener of a card button that opens a modal about its ticket."""

    def handle_modal_button(
        ack: Ack, body: Payload, action: Payload, client: WebClient, services: Services
    ) -> None:
        """Open the modal, once it is sure there is such a ticket to ask about."""
        ack()
        ticket_id = services.tickets.existing(number_on(action))
        client.views_open(trigger_id=body["trigger_id"], view=modal_for(ticket_id))

    return handle_modal_button


def handle_followup_submission(ack: Ack, view: Payload, services: Services, member: Member) -> None:
    """Record the promise; a time that cannot be read stays in the modal as an error."""
    ticket_id = metadata_number(view, "ticket")
    due, rest = services.followups.parse(
        input_value(view, ids.FOLLOWUP_WHEN_BLOCK, ids.FOLLOWUP_WHEN)
    )
    typed_note = input_value(view, ids.FOLLOWUP_NOTE_BLOCK, ids.FOLLOWUP_NOTE)
    note = " ".join(part for part in (rest, typed_note) if part)
    ack()
    services.followups.promise(ticket_id=ticket_id, member=member, due=due, note=note)


def handle_escalate_submission(
    ack: Ack, view: Payload, client: WebClient, services: Services, member: Member
) -> None:
    """Page on-call; the outcome is told ephemerally in the support channel."""
    ticket_id = metadata_number(view, "ticket")
    reason = input_value(view, ids.ESCALATE_REASON_BLOCK, ids.ESCALATE_REASON)
    oncall = services.escalations.manual(ticket_id=ticket_id, reason=reason, member=member)
    ack()
    client.chat_postEphemeral(
        channel=services.settings.support_channel_id,
        user=member.user_id,
        text=paged_text(ticket_id, oncall),
    )


def handle_promise_confirm(
    ack: Ack, action: Payload, respond: Respond, services: Services, member: Member
) -> None:
    """Record the follow-up the reply promised."""
    ack()
    offer = value_on(action, PromiseOffer)
    services.followups.promise(ticket_id=offer.ticket, member=member, due=offer.due, note="")
    respond(
        f"Follow-up for #{offer.ticket} recorded for {slack_date(offer.due)}.",
        response_type="ephemeral",
        replace_original=True,
    )
