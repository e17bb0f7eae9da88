"""/topic list | add <name> <#channel> <keyword> [keyword …] | remove <name>
| move <ticket> <name|none>"""

from __future__ import annotations

from slack_bolt import Ack, Respond
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.commands import Usage, ticket_number, words
from bot.errors import Refused
from bot.roster import Member
from bot.services import Services
from bot.text import escape_slack
from bot.topics import channel_of, shown_name
from handlers.blocks.topics import topic_list
from handlers.context import Payload

USAGE = Usage(
    "/topic",
    "list | add <name> #channel <keyword> [keyword …] | remove <name> | move <ticket> <name|none>",
)


def handle_topic(
    ack: Ack,
    command: Payload,
    respond: Respond,
    client: WebClient,
    services: Services,
    member: Member,
) -> None:
    """/topic: show the topics, move a ticket; leads add and remove topics."""
    ack()
    verb, rest = words(command["text"], 2)
    verb = verb.lower()  # as the roster middleware reads it to decide who may
    if verb in ("", "list") and not rest:
        shown = topic_list(services.topics.all(), services.settings.support_channel_id)
        respond(response_type="ephemeral", **shown)
    elif verb == "add":
        add(rest, respond, client, services, member)
    elif verb == "remove":
        name, extra = words(rest, 2)
        if not name or extra:
            raise USAGE.refuse()
        removed = services.topics.remove(name=name)
        respond(
            f"Topic *{shown_name(removed)}* removed; its tickets stay where they are.",
            response_type="in_channel",
        )
    elif verb == "move":
        token, name, extra = words(rest, 3)
        if not name or extra:
            raise USAGE.refuse("" if extra else "Which ticket, to which topic?")
        ticket_id = ticket_number(token, USAGE)
        wanted = None if name.lower() == "none" else name
        target = services.moves.move(ticket_id=ticket_id, topic=wanted, member=member)
        respond(
            f"<@{member.user_id}> moved #{ticket_id} to <#{target.channel}> ({target.label}).",
            response_type="in_channel",
        )
    else:
        raise USAGE.refuse()


def add(rest: str, respond: Respond, client: WebClient, services: Services, member: Member) -> None:
    """`/topic add festnetz #festnetz DSL Router …`."""
    name, channel_token, keywords = words(rest, 3)
    channel = channel_of(channel_token)
    if not keywords or channel is None:
        raise USAGE.refuse("Name a channel with # and at least one keyword." if name else "")
    bot_is_in(client, channel)
    added = services.topics.add(
        name=name, channel=channel, keywords=keywords.split(), author=member.user_id
    )
    respond(
        f"Topic *{shown_name(added.name)}*: new tickets with "
        f"{escape_slack(', '.join(added.keywords))} go to <#{channel}>.",
        response_type="in_channel",
    )


def bot_is_in(client: WebClient, channel: str) -> None:
    """Refuse a topic whose channel the bot cannot post in: its cards would never arrive.

    Reading one message needs only the scope the bot has anyway (`channels:history`), and
    Slack answers `not_in_channel` when the bot is not a member.
    """
    try:
        client.conversations_history(channel=channel, limit=1)
    except SlackApiError as exc:
        error = str(exc.response.get("error") or "")
        if error == "not_in_channel":
            raise Refused(
                f"Servicekanal is not in <#{channel}>: type `/invite @Servicekanal` there, "
                "then add the topic again."
            ) from None
        if error == "channel_not_found":
            raise Refused(
                f"Slack knows no channel <#{channel}> that Servicekanal can see."
            ) from None
        raise Refused(f"Slack could not check <#{channel}> ({error}); try again.") from None
