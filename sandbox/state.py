"""What the page shows, read from the stand-ins: one person's view of Slack, and X."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sandbox.slack_side import home_view_id, with_block_ids
from standins import slack_api, x_api
from standins.slack_api import SLACKBOT, SlackMessage, SlackStandIn
from standins.x_api import XStandIn


def version(slack: SlackStandIn, x: XStandIn) -> int:
    """Changes whenever anything a person could see changes."""
    return slack.version + x.version


def _message(message: SlackMessage) -> dict[str, Any]:
    return {
        "ts": message.ts,
        "user": message.user,
        "bot": bool(message.bot_id),
        "text": message.text,
        "blocks": with_block_ids(message.blocks) if message.blocks else None,
        "thread_ts": message.thread_ts,
        "edited": message.edited,
        "files": [
            {
                "id": f["id"],
                "title": f.get("title") or f.get("name") or "file",
                "alt": f.get("alt_txt") or "",
                "url": f"/api/files/{f['id']}",
            }
            for f in message.files
        ],
        "replies": [_message(reply) for reply in message.replies],
    }


def _people(slack: SlackStandIn, roles: Mapping[str, str]) -> list[dict[str, Any]]:
    people = [
        {
            "id": user_id,
            "name": (person.get("profile") or {}).get("display_name") or person["real_name"],
            "handle": person["name"],
            "tz": person.get("tz") or "UTC",
            "role": roles.get(user_id),
            "bot": False,
        }
        for user_id, person in slack.users.items()
    ]
    people.append(
        {"id": slack_api.BOT_USER_ID, "name": "Servicekanal", "handle": "servicekanal", "bot": True}
    )
    people.append({"id": SLACKBOT, "name": "Slackbot", "handle": "slackbot", "bot": True})
    return people


def slack_view(slack: SlackStandIn, *, user: str, roles: Mapping[str, str]) -> dict[str, Any]:
    """The workspace as `user` sees it: channels, their DM with the app, ephemerals, modal."""
    with slack.lock:
        channels = []
        for channel in slack.channels.values():
            if channel.is_im and user not in channel.members:
                continue  # other people's DMs are theirs
            if not channel.is_im and user not in channel.members:
                continue
            channels.append(
                {
                    "id": channel.id,
                    "name": "Servicekanal" if channel.is_im else channel.name,
                    "is_im": channel.is_im,
                    "messages": [_message(m) for m in channel.messages],
                }
            )
        ephemerals = [
            {
                "channel": e["channel"],
                "ts": e["ts"],
                "text": e.get("text") or "",
                "blocks": with_block_ids(e["blocks"]) if e.get("blocks") else None,
                "thread_ts": e.get("thread_ts"),
                "user": e.get("author") or slack_api.BOT_USER_ID,
            }
            for e in slack.ephemerals
            if e["user"] == user
        ]
        modal = slack.modal(user)
        home = slack.home_views.get(user)
        return {
            "people": _people(slack, roles),
            "channels": channels,
            "ephemerals": ephemerals,
            "modal": {**modal, "blocks": with_block_ids(modal.get("blocks"))} if modal else None,
            "home": {**home, "id": home_view_id(user), "blocks": with_block_ids(home["blocks"])}
            if home
            else None,
        }


def x_view(x: XStandIn) -> dict[str, Any]:
    """X as the customers see it: accounts, every tweet, every DM with the brand."""
    with x.lock:
        users = {
            user_id: {
                "id": user_id,
                "username": user["username"],
                "name": user["name"],
                "verified": user["verified"],
                "followers": user["public_metrics"]["followers_count"],
            }
            for user_id, user in x.state.users.items()
        }
        tweets = [
            {
                "id": tweet["id"],
                "author_id": tweet["author_id"],
                "text": tweet["text"],
                "created_at": tweet["created_at"],
                "conversation_id": tweet["conversation_id"],
                "in_reply_to": next(
                    (
                        r["id"]
                        for r in tweet.get("referenced_tweets", [])
                        if r["type"] == "replied_to"
                    ),
                    None,
                ),
            }
            for tweet in sorted(x.state.tweets.values(), key=lambda t: int(t["id"]))
        ]
        dms = [
            {
                "id": event.id,
                "sender_id": event.sender_id,
                "recipient_id": event.recipient_id,
                "text": event.text,
                "created_at": event.created_at.isoformat(),
            }
            for event in sorted(x.state.dm_events, key=lambda e: int(e.id))
        ]
    return {"brand_id": x_api.BRAND_ID, "users": users, "tweets": tweets, "dms": dms}
