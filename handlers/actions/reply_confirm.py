"""The "Send anyway" and "Cancel" buttons after /reply warned about something."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from slack_bolt import Ack, BoltContext, Respond

from bot.services import Services
from handlers.commands.reply import answer
from handlers.context import member_of, request_key
from handlers.values import ReplyDraft, value_on


def make_handle_reply_confirm(services: Services) -> Callable[..., None]:
    """Build the "Send anyway" listener."""

    def handle_reply_confirm(
        ack: Ack,
        body: dict[str, Any],
        action: dict[str, Any],
        respond: Respond,
        context: BoltContext,
    ) -> None:
        """Send the reply the agent confirmed; every check runs again first."""
        ack()
        draft = value_on(action, ReplyDraft)
        result = services.replies.send(
            ticket_id=draft.ticket,
            body=draft.body,
            member=member_of(context),
            confirmed=True,
            canned_name=draft.canned,
            request_key=request_key(body),
        )
        answer(result, respond, canned=draft.canned, body=draft.body, replace=True)

    return handle_reply_confirm


def handle_reply_cancel(ack: Ack, respond: Respond) -> None:
    """Forget the draft."""
    ack()
    respond(delete_original=True)
