"""/team list | add <@user> <agent|trainee|lead> [initials] | remove <@user>
| skills <@user> <topic>[,<topic>…]"""

from __future__ import annotations

from slack_bolt import Ack, Respond

from bot.commands import Usage, slack_user, words
from bot.services import Services
from handlers.blocks.lists import team
from handlers.context import Payload

USAGE = Usage(
    "/team",
    "list | add @colleague <agent|trainee|lead> [initials] | remove @colleague"
    " | skills @colleague <topic>[,<topic>…]",
)


def handle_team(ack: Ack, command: Payload, respond: Respond, services: Services) -> None:
    """/team: show the roster; leads add and remove people."""
    ack()
    verb, rest = words(command["text"], 2)
    verb = verb.lower()  # as the roster middleware reads it to decide who may
    if verb in ("", "list") and not rest:
        respond(response_type="ephemeral", **team(services.roster.members()))
        return
    if verb == "add":
        user_token, role, initials, extra = words(rest, 4)
        if not role or extra:
            raise USAGE.refuse()
        member = services.roster.add(
            user_id=slack_user(user_token, USAGE), role=role, initials=initials or None
        )
        added = f"<@{member.user_id}> is on the team as {member.role}"
        respond(f"{added}, initials {member.initials}.", response_type="in_channel")
        return
    if verb == "skills":
        user_token, listed, extra = words(rest, 3)
        if not listed or extra:
            raise USAGE.refuse("Name the topics, comma-separated, like `festnetz,tv`.")
        user_id = slack_user(user_token, USAGE)
        # Every name must be a topic: a typo would silently give someone no tickets.
        names = [services.topics.named(n).name for n in listed.split(",") if n.strip()]
        if not names:
            raise USAGE.refuse()
        services.roster.set_skills(user_id=user_id, topics=names)
        respond(f"<@{user_id}> works {', '.join(names)}.", response_type="in_channel")
        return
    if verb != "remove":
        raise USAGE.refuse()
    user_token, extra = words(rest, 2)
    if extra:
        raise USAGE.refuse()
    user_id = slack_user(user_token, USAGE)
    services.roster.remove(user_id=user_id)
    respond(f"<@{user_id}> is no longer on the team.", response_type="in_channel")
