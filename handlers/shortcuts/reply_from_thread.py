"""The "Reply to customer" message shortcut, usable inside a ticket's thread."""

from __future__ import annotations

from slack_bolt import Ack
from slack_sdk import WebClient

from bot.errors import Refused
from bot.roster import Member
from bot.services import Services
from handlers.context import Payload
from handlers.views.reply_modal import open_reply_modal


def handle_reply_from_thread(
    ack: Ack, shortcut: Payload, client: WebClient, services: Services, member: Member
) -> None:
    """Open the reply modal for the ticket whose thread the message is in."""
    ack()
    message = shortcut.get("message") or {}
    channel = (shortcut.get("channel") or {}).get("id", "")
    thread = message.get("thread_ts") or message.get("ts") or ""
    ticket_id = services.tickets.ticket_for_thread(channel=channel, ts=thread)
    if ticket_id is None:
        raise Refused("This message is not part of a ticket's thread.")
    open_reply_modal(
        client,
        services=services,
        trigger_id=shortcut["trigger_id"],
        ticket_id=ticket_id,
        member=member,
    )
