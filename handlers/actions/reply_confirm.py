"""The "Send anyway" and "Cancel" buttons after /reply warned about something."""

from __future__ import annotations

from slack_bolt import Ack, Respond

from bot.roster import Member
from bot.services import Services
from handlers.commands.reply import answer
from handlers.context import Payload, request_key
from handlers.values import ReplyDraft, value_on


def handle_reply_confirm(
    ack: Ack, body: Payload, action: Payload, respond: Respond, services: Services, member: Member
) -> None:
    """Send the reply the agent confirmed; every check runs again first."""
    ack()
    draft = value_on(action, ReplyDraft)
    result = services.replies.send(
        ticket_id=draft.ticket,
        body=draft.body,
        member=member,
        confirmed=True,
        canned_name=draft.canned,
        request_key=request_key(body),
    )
    answer(result, respond, canned=draft.canned, body=draft.body, replace=True)


def handle_reply_cancel(ack: Ack, respond: Respond) -> None:
    """Forget the draft."""
    ack()
    respond(delete_original=True)
