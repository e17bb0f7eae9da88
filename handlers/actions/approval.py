"""Leads approve or return trainees' replies (the roster middleware admits leads only)."""

from __future__ import annotations

from slack_bolt import Ack, Respond
from slack_sdk import WebClient

from bot.roster import Member
from bot.services import Services
from handlers import ids
from handlers.blocks.replies import reject_modal
from handlers.context import Payload, beside, input_value, number_on
from handlers.values import metadata_number


def handle_approve(
    ack: Ack, action: Payload, respond: Respond, services: Services, member: Member
) -> None:
    """Send the trainee's reply, signed with the trainee's initials."""
    ack()
    result = services.approvals.approve(reply_id=number_on(action), lead=member)
    if result.status != "sent":
        beside(respond, result.message)


def handle_reject(ack: Ack, body: Payload, action: Payload, client: WebClient) -> None:
    """The Return button: ask the lead what should change."""
    ack()
    client.views_open(trigger_id=body["trigger_id"], view=reject_modal(number_on(action)))


def handle_reject_submission(ack: Ack, view: Payload, services: Services, member: Member) -> None:
    """Return the reply with the lead's comment; nothing is sent to X."""
    reply_id = metadata_number(view, "reply")
    note = input_value(view, ids.REJECT_NOTE_BLOCK, ids.REJECT_NOTE)
    services.approvals.reject(reply_id=reply_id, lead=member, note=note)
    ack()
