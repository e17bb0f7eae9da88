"""/followup <ticket> <when> [note] | /followup <ticket> cancel | /followup list"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from slack_bolt import Ack, BoltContext, Respond

from bot.commands import Usage, ticket_number, words
from bot.services import Services
from handlers.blocks.lists import followup_list
from handlers.blocks.text import slack_date
from handlers.context import member_of
from handlers.refusals import explained_by

USAGE = Usage("/followup", "<ticket> <when> [note]  ·  <ticket> cancel  ·  list")


def make_handle_followup(services: Services) -> Callable[..., None]:
    """Build the /followup listener."""

    def handle_followup(
        ack: Ack, command: dict[str, Any], respond: Respond, context: BoltContext
    ) -> None:
        """/followup: record, cancel or list promised follow-ups."""
        ack()
        first, rest = words(command["text"], 2)
        if first.lower() == "list" and not rest:
            respond(response_type="ephemeral", **followup_list(services.followups.listing()))
            return
        ticket_id = ticket_number(first, USAGE)
        if rest.strip().lower() in ("cancel", "abbrechen"):
            count = services.followups.cancel(ticket_id=ticket_id, member=member_of(context))
            respond(f"Cancelled {count} follow-up(s) of #{ticket_id}.", response_type="ephemeral")
            return
        if not rest:
            raise USAGE.refuse("When?")
        with explained_by(USAGE):
            due, note = services.followups.parse(rest)
        services.followups.promise(
            ticket_id=ticket_id, member=member_of(context), due=due, note=note
        )
        respond(
            f"Follow-up for #{ticket_id} recorded for {slack_date(due)}.", response_type="ephemeral"
        )

    return handle_followup
