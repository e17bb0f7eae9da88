"""/oncall [<@user>]"""

from __future__ import annotations

from slack_bolt import Ack, Respond

from bot.commands import Usage, slack_user, words
from bot.roster import Member
from bot.services import Services
from handlers.context import Payload

USAGE = Usage("/oncall", "[@colleague]")


def handle_oncall(
    ack: Ack, command: Payload, respond: Respond, services: Services, member: Member
) -> None:
    """/oncall: who is on call; /oncall @user: put them on call (leads)."""
    ack()
    user_token, rest = words(command["text"], 2)
    if user_token:
        if rest:
            raise USAGE.refuse()
        user_id = slack_user(user_token, USAGE)
        services.oncall.set(user_id=user_id, by=member)
        respond(f"<@{user_id}> is on call now.", response_type="in_channel")
        return
    current = services.oncall.current()
    text = (
        f"<@{current}> is on call."
        if current
        else "Nobody is on call. A lead sets it with `/oncall @name`."
    )
    respond(text, response_type="ephemeral")
