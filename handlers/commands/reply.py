"""/reply <ticket> <text> | /reply <ticket> :canned"""

from __future__ import annotations

from slack_bolt import Ack, Respond

from bot.commands import Usage, ticket_and_text
from bot.delivery import ReplyResult
from bot.roster import Member
from bot.services import Services
from handlers.blocks.followups import promise_offer
from handlers.blocks.replies import confirm_reply, confirm_value
from handlers.context import Payload, request_key

USAGE = Usage("/reply", "<ticket> <text>  or  /reply <ticket> :canned-name")


def answer(
    result: ReplyResult, respond: Respond, *, canned: str | None, body: str, replace: bool
) -> None:
    """Tell the agent how their reply went (also used by the "Send anyway" button)."""
    if result.status == "sent":
        where = f" {result.url}" if result.url else ""
        respond(
            f"Sent to the customer on X:{where}",
            response_type="ephemeral",
            replace_original=replace,
        )
        if result.promise is not None:
            respond(
                response_type="ephemeral",
                replace_original=False,
                **promise_offer(result.ticket_id, result.promise),
            )
    elif result.status == "confirm":
        value = confirm_value(ticket_id=result.ticket_id, body=body, canned=canned)
        if value is None:
            respond(
                " ".join(result.warnings)
                + " The reply is too long to confirm here; use the card's Reply button.",
                response_type="ephemeral",
            )
            return
        respond(
            response_type="ephemeral",
            replace_original=replace,
            **confirm_reply(
                ticket_id=result.ticket_id, text=result.text, warnings=result.warnings, value=value
            ),
        )
    else:
        respond(result.message, response_type="ephemeral", replace_original=replace)


def handle_reply(
    ack: Ack, command: Payload, respond: Respond, services: Services, member: Member
) -> None:
    """/reply <ticket> <text>: answer the customer publicly, signed with initials."""
    ack()
    canned: str | None = None
    ticket_id, body = ticket_and_text(command["text"], USAGE, empty="The reply is empty.")
    if body.startswith(":") and len(body.split()) == 1:
        picked = services.canned.filled(ticket_id=ticket_id, name=body[1:], member=member)
        canned, body = picked.name, picked.text
    result = services.replies.send(
        ticket_id=ticket_id,
        body=body,
        member=member,
        canned_name=canned,
        request_key=request_key(command),
    )
    answer(result, respond, canned=canned, body=body, replace=False)
