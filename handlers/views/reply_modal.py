"""The reply modal: opening it, filling in a canned answer, and sending from it."""

from __future__ import annotations

import logging

from slack_bolt import Ack
from slack_sdk import WebClient

from bot.delivery import ReplyStatus
from bot.errors import Refused
from bot.roster import Member
from bot.services import Services
from handlers import ids
from handlers.blocks.followups import promise_offer
from handlers.blocks.replies import reply_modal
from handlers.context import Payload, request_key, view_values
from handlers.values import metadata_number

log = logging.getLogger(__name__)


def open_reply_modal(
    client: WebClient, *, services: Services, trigger_id: str, ticket_id: int, member: Member
) -> None:
    """Open the modal for a ticket (raises Refused when there is no such ticket)."""
    reply = services.replies.context(ticket_id=ticket_id, member=member)
    client.views_open(trigger_id=trigger_id, view=reply_modal(reply))


def _text_of(view: Payload) -> str:
    """The reply text (its block id changes with each canned answer put in)."""
    for block_id, values in view_values(view).items():
        if block_id.startswith(ids.REPLY_TEXT_BLOCK):
            return str((values.get(ids.REPLY_TEXT) or {}).get("value") or "")
    return ""


def _promised(view: Payload) -> str | None:
    choice = (view_values(view).get(ids.REPLY_FOLLOWUP_BLOCK) or {}).get(ids.REPLY_FOLLOWUP) or {}
    selected = choice.get("selected_option") or {}
    return str(selected["value"]) if selected.get("value") else None


def _confirmed(view: Payload) -> bool:
    box = (view_values(view).get(ids.REPLY_CONFIRM_BLOCK) or {}).get(ids.REPLY_CONFIRM_BOX) or {}
    return bool(box.get("selected_options"))


def handle_canned_pick(
    ack: Ack, body: Payload, action: Payload, client: WebClient, services: Services, member: Member
) -> None:
    """Put the picked canned answer, filled in, into the reply field."""
    ack()
    view = body["view"]
    ticket_id = metadata_number(view, "ticket")
    name = str((action.get("selected_option") or {}).get("value") or "")
    text = services.canned.filled(ticket_id=ticket_id, name=name, member=member).text
    reply = services.replies.context(ticket_id=ticket_id, member=member)
    client.views_update(
        view_id=view["id"],
        hash=view.get("hash"),
        view=reply_modal(reply, body=text, version=metadata_number(view, "version") + 1),
    )


def handle_reply_submission(
    ack: Ack, body: Payload, view: Payload, client: WebClient, services: Services, member: Member
) -> None:
    """Send the reply; its problems stay in the modal, what comes after is said in private."""
    ticket_id = metadata_number(view, "ticket")
    result = services.replies.answer(
        ticket_id=ticket_id,
        body=_text_of(view),
        member=member,
        confirmed=_confirmed(view),
        follow_up=_promised(view),
        request_key=request_key(body),
        accepted=ack,  # the modal closes once the reply has passed its checks
    )
    if result.status == ReplyStatus.CONFIRM:
        warning = " ".join(result.warnings)
        ack(
            response_action="errors",
            errors={ids.REPLY_CONFIRM_BLOCK: f"{warning[:120]}… Tick the box to send anyway."},
        )
        return
    if result.message:
        raise Refused(result.message)  # the modal has closed: said beside the tickets
    if result.promise is not None:
        client.chat_postEphemeral(
            channel=services.settings.support_channel_id,
            user=member.user_id,
            **promise_offer(ticket_id, result.promise),
        )
