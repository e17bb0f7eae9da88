"""The reply modal: opening it, filling in a canned answer, and sending from it."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import Any

from slack_bolt import Ack, BoltContext
from slack_sdk import WebClient

from bot.delivery import ReplyStatus
from bot.errors import Refused
from bot.roster import Member
from bot.services import Services
from handlers import ids
from handlers.blocks.followups import promise_offer
from handlers.blocks.replies import reply_modal
from handlers.context import member_of, metadata_number, request_key, view_values

log = logging.getLogger(__name__)


def open_reply_modal(
    client: WebClient, *, services: Services, trigger_id: str, ticket_id: int, member: Member
) -> None:
    """Open the modal for a ticket (raises Refused when there is no such ticket)."""
    reply = services.replies.context(ticket_id=ticket_id, member=member)
    client.views_open(trigger_id=trigger_id, view=reply_modal(reply))


def _text_of(view: dict[str, Any]) -> tuple[str, str]:
    """The reply text and the block id it lives in."""
    for block_id, values in view_values(view).items():
        if block_id.startswith(ids.REPLY_TEXT_BLOCK):
            return str((values.get(ids.REPLY_TEXT) or {}).get("value") or ""), block_id
    return "", f"{ids.REPLY_TEXT_BLOCK}_0"


def _promised(view: dict[str, Any]) -> str | None:
    choice = (view_values(view).get(ids.REPLY_FOLLOWUP_BLOCK) or {}).get(ids.REPLY_FOLLOWUP) or {}
    selected = choice.get("selected_option") or {}
    return str(selected["value"]) if selected.get("value") else None


def _confirmed(view: dict[str, Any]) -> bool:
    box = (view_values(view).get(ids.REPLY_CONFIRM_BLOCK) or {}).get(ids.REPLY_CONFIRM_BOX) or {}
    return bool(box.get("selected_options"))


def make_handle_canned_pick(services: Services) -> Callable[..., None]:
    """Build the listener for the modal's canned-answer picker."""

    def handle_canned_pick(
        ack: Ack,
        body: dict[str, Any],
        action: dict[str, Any],
        client: WebClient,
        context: BoltContext,
    ) -> None:
        """Put the picked canned answer, filled in, into the reply field."""
        ack()
        view = body["view"]
        meta = json.loads(view.get("private_metadata") or "{}")
        ticket_id = int(meta["ticket"])
        name = str((action.get("selected_option") or {}).get("value") or "")
        member = member_of(context)
        try:
            text = services.canned.filled(ticket_id=ticket_id, name=name, member=member).text
            reply = services.replies.context(ticket_id=ticket_id, member=member)
        except Refused as exc:
            log.info("canned pick refused: %s", exc.user_message)
            return
        client.views_update(
            view_id=view["id"],
            hash=view.get("hash"),
            view=reply_modal(reply, body=text, version=int(meta.get("version", 0)) + 1),
        )

    return handle_canned_pick


def make_handle_reply_submission(services: Services) -> Callable[..., None]:
    """Build the listener for the modal's Send."""

    def handle_reply_submission(
        ack: Ack,
        body: dict[str, Any],
        view: dict[str, Any],
        client: WebClient,
        context: BoltContext,
    ) -> None:
        """Send the reply; its problems stay in the modal, what comes after is said in private."""
        member = member_of(context)
        ticket_id = metadata_number(view, "ticket")
        text, block_id = _text_of(view)
        try:
            result = services.replies.answer(
                ticket_id=ticket_id,
                body=text,
                member=member,
                confirmed=_confirmed(view),
                follow_up=_promised(view),
                request_key=request_key(body),
                accepted=ack,  # the modal closes once the reply has passed its checks
            )
        except Refused as exc:
            ack(response_action="errors", errors={block_id: exc.user_message[:150]})
            return
        if result.status == ReplyStatus.CONFIRM:
            warning = " ".join(result.warnings)
            ack(
                response_action="errors",
                errors={ids.REPLY_CONFIRM_BLOCK: f"{warning[:120]}… Tick the box to send anyway."},
            )
            return
        channel = services.settings.support_channel_id
        if result.message:
            client.chat_postEphemeral(
                channel=channel, user=member.user_id, text=f"#{ticket_id}: {result.message}"
            )
        elif result.promise is not None:
            client.chat_postEphemeral(
                channel=channel, user=member.user_id, **promise_offer(ticket_id, result.promise)
            )

    return handle_reply_submission
