"""/followup <ticket> <when> [note] | /followup <ticket> cancel | /followup list"""

from __future__ import annotations

from slack_bolt import Ack, Respond

from bot.commands import Usage, ticket_number, words
from bot.roster import Member
from bot.services import Services
from handlers.blocks.lists import followup_list
from handlers.blocks.text import slack_date
from handlers.context import Payload
from handlers.refusals import explained_by

USAGE = Usage("/followup", "<ticket> <when> [note]  ·  <ticket> cancel  ·  list")


def handle_followup(
    ack: Ack, command: Payload, respond: Respond, services: Services, member: Member
) -> None:
    """/followup: record, cancel or list promised follow-ups."""
    ack()
    first, rest = words(command["text"], 2)
    if first.lower() == "list" and not rest:
        respond(response_type="ephemeral", **followup_list(services.followups.listing()))
        return
    ticket_id = ticket_number(first, USAGE)
    if rest.strip().lower() in ("cancel", "abbrechen"):
        count = services.followups.cancel(ticket_id=ticket_id, member=member)
        respond(f"Cancelled {count} follow-up(s) of #{ticket_id}.", response_type="ephemeral")
        return
    if not rest:
        raise USAGE.refuse("When?")
    with explained_by(USAGE):
        due, note = services.followups.parse(rest)
    services.followups.promise(ticket_id=ticket_id, member=member, due=due, note=note)
    respond(
        f"Follow-up for #{ticket_id} recorded for {slack_date(due)}.", response_type="ephemeral"
    )
