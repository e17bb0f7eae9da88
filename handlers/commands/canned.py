"""/canned list | add <name> <text> | remove <name>"""

from __future__ import annotations

from slack_bolt import Ack, Respond

from bot.commands import Usage, words
from bot.roster import Member
from bot.services import Services
from handlers.blocks.lists import canned
from handlers.context import Payload

USAGE = Usage("/canned", "list | add <name> <text> | remove <name>")


def handle_canned(
    ack: Ack, command: Payload, respond: Respond, services: Services, member: Member
) -> None:
    """/canned: list, add (leads) or remove (leads) canned answers."""
    ack()
    verb, name, text = words(command["text"], 3)
    verb = verb.lower()  # as the roster middleware reads it to decide who may
    if verb in ("", "list") and not name:
        respond(response_type="ephemeral", **canned(services.canned.page()))
    elif verb == "add" and name and text:
        added = services.canned.add(name=name, text=text, author=member.user_id)
        respond(
            f"Saved `:{added.name}`. Use it with `/reply <ticket> :{added.name}`.",
            response_type="ephemeral",
        )
    elif verb == "remove" and name and not text:
        services.canned.remove(name=name)
        respond(f"Removed `:{name.lstrip(':')}`.", response_type="ephemeral")
    else:
        raise USAGE.refuse()
