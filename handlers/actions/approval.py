"""Leads approve or return trainees' replies (the roster middleware admits leads only)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from slack_bolt import Ack, BoltContext, Respond
from slack_sdk import WebClient

from bot.services import Services
from handlers import ids
from handlers.blocks.replies import reject_modal
from handlers.context import input_value, member_of, number_on
from handlers.values import metadata_number


def make_handle_approve(services: Services) -> Callable[..., None]:
    """Build the Approve button's listener."""

    def handle_approve(
        ack: Ack, action: dict[str, Any], respond: Respond, context: BoltContext
    ) -> None:
        """Send the trainee's reply, signed with the trainee's initials."""
        ack()
        result = services.replies.approve(reply_id=number_on(action), lead=member_of(context))
        if result.status != "sent":
            respond(result.message, response_type="ephemeral", replace_original=False)

    return handle_approve


def handle_reject(
    ack: Ack, body: dict[str, Any], action: dict[str, Any], client: WebClient
) -> None:
    """The Return button: ask the lead what should change."""
    ack()
    client.views_open(trigger_id=body["trigger_id"], view=reject_modal(number_on(action)))


def make_handle_reject_submission(services: Services) -> Callable[..., None]:
    """Build the listener of the return modal."""

    def handle_reject_submission(ack: Ack, view: dict[str, Any], context: BoltContext) -> None:
        """Return the reply with the lead's comment; nothing is sent to X."""
        reply_id = metadata_number(view, "reply")
        note = input_value(view, ids.REJECT_NOTE_BLOCK, ids.REJECT_NOTE)
        services.replies.reject(reply_id=reply_id, lead=member_of(context), note=note)
        ack()

    return handle_reject_submission
