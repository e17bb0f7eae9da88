"""/escalate <ticket> <reason>"""

from __future__ import annotations

from slack_bolt import Ack, Respond

from bot.commands import Usage, ticket_and_text
from bot.roster import Member
from bot.services import Services
from handlers.context import Payload

USAGE = Usage("/escalate", "<ticket> <reason>")


def paged_text(ticket_id: int, oncall: str | None) -> str:
    """What the person who escalated is told."""
    if oncall is None:
        return f"#{ticket_id} is escalated in the escalation channel; nobody is on call right now."
    return f"#{ticket_id} is escalated: <@{oncall}> has been paged."


def handle_escalate(
    ack: Ack, command: Payload, respond: Respond, services: Services, member: Member
) -> None:
    """/escalate <ticket> <reason>: page the on-call person."""
    ack()
    ticket_id, reason = ticket_and_text(command["text"], USAGE, empty="Say why.")
    oncall = services.escalations.manual(ticket_id=ticket_id, reason=reason, member=member)
    respond(paged_text(ticket_id, oncall), response_type="ephemeral")
