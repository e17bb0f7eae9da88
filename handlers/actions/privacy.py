"""Personal data: revealing a masked DM, and moving a conversation from public to DM."""

from __future__ import annotations

from slack_bolt import Ack, Respond
from slack_sdk import WebClient

from bot.errors import Refused
from bot.roster import Member
from bot.services import Services
from handlers import ids
from handlers.blocks.replies import DM_OPENER, dm_modal
from handlers.blocks.text import quote
from handlers.context import Payload, beside, input_value, number_on, request_key
from handlers.values import metadata_number

# A DM holds at most 10,000 characters; quoted, each line gains a `>`. Slack's limit for
# a message's text is 40,000.
REVEAL_LIMIT = 39_000


def handle_reveal(
    ack: Ack, action: Payload, respond: Respond, services: Services, member: Member
) -> None:
    """Show the unmasked DM to the one who asked; the reveal is recorded."""
    ack()
    text = services.tickets.reveal(message_id=number_on(action), member=member)
    beside(respond, f"🔓 Only you see this (the reveal is recorded):\n{quote(text, REVEAL_LIMIT)}")


def handle_ask_delete(
    ack: Ack, body: Payload, action: Payload, respond: Respond, services: Services, member: Member
) -> None:
    """Ask the customer publicly to delete the tweet with their data; DMs follow."""
    ack()
    result = services.replies.ask_to_move_to_dm(
        ticket_id=number_on(action), member=member, request_key=request_key(body)
    )
    said = "Asked the customer to delete the tweet; continue with “Answer by DM”."
    beside(respond, said if result.status == "sent" else result.message)


def handle_dm_button(
    ack: Ack, body: Payload, action: Payload, client: WebClient, services: Services, member: Member
) -> None:
    """Open the DM modal, with an opener to start from."""
    ack()
    ticket_id = number_on(action)
    reply = services.replies.context(ticket_id=ticket_id, member=member)
    opener = services.canned.fill(ticket_id=ticket_id, text=DM_OPENER, member=member)
    client.views_open(
        trigger_id=body["trigger_id"],
        view=dm_modal(
            ticket_id=ticket_id, handle=reply.handle, signature=reply.signature, body=opener
        ),
    )


def handle_dm_submission(
    ack: Ack, body: Payload, view: Payload, services: Services, member: Member
) -> None:
    """Check the DM (errors stay in the modal), then send it."""
    ticket_id = metadata_number(view, "ticket")
    text = input_value(view, ids.DM_TEXT_BLOCK, ids.DM_TEXT)
    services.replies.check_dm(ticket_id=ticket_id, body=text, member=member)
    ack()
    result = services.replies.send_dm(
        ticket_id=ticket_id, body=text, member=member, request_key=request_key(body)
    )
    if result.status != "sent":  # when it is, the thread shows it
        raise Refused(result.message)
