"""The "Send anyway" and "Cancel" buttons after /reply warned about something."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from slack_bolt import Ack, BoltContext, Respond

from bot.errors import Refused
from bot.services import Services
from handlers.commands.reply import answer
from handlers.context import member_of


def make_handle_reply_confirm(services: Services) -> Callable[..., None]:
    """Build the "Send anyway" listener."""

    def handle_reply_confirm(
        ack: Ack, action: dict[str, Any], respond: Respond, context: BoltContext
    ) -> None:
        """Send the reply the agent confirmed; every check runs again first."""
        ack()
        draft = json.loads(str(action.get("value") or "{}"))
        body, canned = str(draft.get("body") or ""), draft.get("canned")
        try:
            result = services.replies.send(
                ticket_id=int(draft["ticket"]),
                body=body,
                member=member_of(context),
                confirmed=True,
                canned_name=canned,
            )
        except Refused as exc:
            respond(exc.user_message, response_type="ephemeral", replace_original=True)
            return
        answer(result, respond, canned=canned, body=body, replace=True)

    return handle_reply_confirm


def handle_reply_cancel(ack: Ack, respond: Respond) -> None:
    """Forget the draft."""
    ack()
    respond(delete_original=True)
