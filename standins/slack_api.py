"""A loopback stand-in of the Slack Web API, answering as Slack does.

Real `slack_sdk`/`slack_bolt` clients talk to it over HTTP. It keeps channels, messages
(with metadata and threads), users, DMs, views and uploaded files; answers errors in
Slack's format (HTTP 200, `{"ok": false, "error": ...}`); rate-limits with HTTP 429,
`Retry-After` and `{"ok": false, "error": "ratelimited"}`; and records every call.
Responses to `response_url` (what Bolt's `respond()` sends) are collected too; for a
response_url made with an `Origin` they land as in Slack (an ephemeral message to the
person, a message in the channel, the original replaced or deleted).

What Slack's own client does for a person (writing, editing and deleting messages,
closing modals, the answers to a modal's submission) is here as plain methods, for the
sandbox that plays that client.
"""

from __future__ import annotations

import base64
import itertools
import json
import threading
import time
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from standins.http import Request, Response, StandIn

BOT_TOKEN = "xoxb-test-bot-token"
APP_TOKEN = "xapp-test-app-token"
TEAM_ID = "T0SERVICE"
BOT_USER_ID = "UBOT00001"
BOT_ID = "BBOT00001"
LEAD, ANNA, BEN, TOM, EVE = "U0LEAD", "U0ANNA", "U0BEN", "U0TOM", "U0EVE"
SLACKBOT = "USLACKBOT"  # the author of Slack's own notices ("not a valid command", ...)
SECTION_TEXT_LIMIT = 3000
MAX_BLOCKS = 50
MAX_MODALS = 3  # Slack's depth of a modal stack
# Methods that only read; every other successful call changes what a person would see.
READING = frozenset(
    {
        "auth.test",
        "chat.getPermalink",
        "conversations.history",
        "conversations.replies",
        "users.info",
        "apps.connections.open",
    }
)
WORKSPACE_URL = "https://servicekanal-test.slack.com/"


# Block Kit's limits, as Slack's reference gives them: Slack refuses what exceeds one
# (`invalid_blocks` for messages, `invalid_arguments` for views).
# (object type, field) -> longest text; for a text object, its `text`.
TEXT_LIMITS = {
    ("section", "text"): 3000,
    ("section", "fields"): 2000,
    ("header", "text"): 150,
    ("input", "label"): 2000,
    ("input", "hint"): 2000,
    ("button", "text"): 75,
    ("button", "value"): 2000,
    ("button", "url"): 3000,
    ("option", "text"): 75,
    ("option", "value"): 150,
    ("option", "description"): 75,
    ("option_group", "label"): 75,
    ("confirm", "title"): 100,
    ("confirm", "text"): 300,
    ("confirm", "confirm"): 30,
    ("confirm", "deny"): 30,
    ("plain_text_input", "initial_value"): 3000,
    ("plain_text_input", "placeholder"): 150,
    ("static_select", "placeholder"): 150,
    ("modal", "title"): 24,
    ("modal", "submit"): 24,
    ("modal", "close"): 24,
    ("modal", "private_metadata"): 3000,
    ("home", "private_metadata"): 3000,
    ("*", "action_id"): 255,
    ("*", "block_id"): 255,
    ("*", "callback_id"): 255,
}
# (object type, list field) -> most items.
COUNT_LIMITS = {
    ("section", "fields"): 10,
    ("context", "elements"): 10,
    ("actions", "elements"): 25,
    ("static_select", "options"): 100,
    ("static_select", "option_groups"): 100,
    ("option_group", "options"): 100,
    ("modal", "blocks"): 100,
    ("home", "blocks"): 100,
}


def _kind(thing: dict[str, Any], parent_field: str) -> str:
    """What a Block Kit object is: its type, or what its place says (options, confirms)."""
    if parent_field in ("options", "initial_option", "selected_option"):
        return "option"
    if parent_field == "option_groups":
        return "option_group"
    if parent_field == "confirm" and "title" in thing:
        return "confirm"
    return str(thing.get("type", ""))


def block_kit_problem(thing: Any, kind: str = "", parent_field: str = "") -> str | None:
    """The first limit of Block Kit that `thing` (blocks, a view, an element) breaks, if any."""
    if isinstance(thing, list):
        for item in thing:
            if (problem := block_kit_problem(item, kind, parent_field)) is not None:
                return problem
        return None
    if not isinstance(thing, dict):
        return None
    kind = _kind(thing, parent_field)
    for key, value in thing.items():
        limit = TEXT_LIMITS.get((kind, key)) or TEXT_LIMITS.get(("*", key))
        texts = value if isinstance(value, list) else [value]
        for text in texts:
            shown = text.get("text") if isinstance(text, dict) else text
            if limit is not None and isinstance(shown, str) and len(shown) > limit:
                return f"{kind}.{key} is {len(shown)} characters, more than {limit}"
        most = COUNT_LIMITS.get((kind, key))
        if most is not None and isinstance(value, list) and len(value) > most:
            return f"{kind}.{key} has {len(value)} items, more than {most}"
        if kind == "plain_text_input" and key == "initial_value" and isinstance(value, str):
            longest = thing.get("max_length")
            if isinstance(longest, int) and len(value) > longest:
                return f"plain_text_input.initial_value is longer than its max_length {longest}"
        problem = (
            block_kit_problem(value, kind, key)
            if isinstance(value, dict | list) and key != "text"
            else None
        )
        if problem is not None:
            return problem
    return None


@dataclass
class SlackMessage:
    """A message as Slack keeps it."""

    ts: str
    channel: str
    text: str
    user: str
    blocks: list[dict[str, Any]] | None = None
    metadata: dict[str, Any] | None = None
    thread_ts: str | None = None
    bot_id: str | None = None
    edited: bool = False
    replies: list[SlackMessage] = field(default_factory=list)
    files: list[dict[str, Any]] = field(default_factory=list)

    @property
    def payload(self) -> dict[str, Any]:
        """The metadata's event_payload (empty without metadata)."""
        return dict((self.metadata or {}).get("event_payload") or {})

    def as_api(self, *, with_metadata: bool) -> dict[str, Any]:
        """The message as conversations.history/replies return it."""
        data: dict[str, Any] = {
            "type": "message",
            "ts": self.ts,
            "text": self.text,
            "user": self.user,
        }
        if self.bot_id:
            data["bot_id"] = self.bot_id
        if self.blocks is not None:
            data["blocks"] = self.blocks
        if self.thread_ts:
            data["thread_ts"] = self.thread_ts
        if self.replies:
            data["reply_count"] = len(self.replies)
        if self.edited:
            data["edited"] = {"user": self.user, "ts": self.ts}
        if self.files:
            data["files"] = self.files
        if with_metadata and self.metadata:
            data["metadata"] = self.metadata
        return data

    def to_dict(self) -> dict[str, Any]:
        """Everything about the message, replies included (for a snapshot)."""
        data = {key: value for key, value in vars(self).items() if key != "replies"}
        data["replies"] = [reply.to_dict() for reply in self.replies]
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SlackMessage:
        """The message `to_dict` wrote."""
        replies = [cls.from_dict(reply) for reply in data.get("replies") or []]
        return cls(**{**data, "replies": replies})


@dataclass(frozen=True)
class Origin:
    """Where an interaction happened, so that answers to its response_url land as in Slack.

    `message_ts`: the message whose button was pressed (`ephemeral` when it was one);
    `thread_ts`: the thread it is in; `command`: the slash command typed, which Slack shows
    in the channel when the answer is `in_channel`.
    """

    channel: str
    user: str
    message_ts: str | None = None
    ephemeral: bool = False
    thread_ts: str | None = None
    command: str | None = None


@dataclass
class Channel:
    """A channel and who is in it."""

    id: str
    name: str
    members: set[str]
    is_im: bool = False
    messages: list[SlackMessage] = field(default_factory=list)


@dataclass
class RateRule:
    """At most `limit` calls per `window` seconds, per channel (or per method)."""

    limit: int
    window: float
    per_channel: bool = True
    retry_after: int = 1


class SlackStandIn(StandIn):
    """The Slack Web API on 127.0.0.1, for one workspace."""

    def __init__(self) -> None:
        super().__init__()
        self.reset()

    # -- set-up by tests -----------------------------------------------------------------

    def reset(self) -> None:
        """Forget everything: one fresh workspace with a support and an escalation channel."""
        with self.lock:
            self.calls.clear()
            self.faults.clear()
            self.tokens = {BOT_TOKEN}
            self.socket_url = ""  # set to a SocketModeStandIn's url to allow Socket Mode
            self.users: dict[str, dict[str, Any]] = {}
            self.channels: dict[str, Channel] = {}
            self.responses: list[dict[str, Any]] = []
            self.ephemerals: list[dict[str, Any]] = []
            self.views: dict[str, dict[str, Any]] = {}
            self.modals: dict[str, list[str]] = {}  # person -> ids of their open modals, top last
            self.home_views: dict[str, dict[str, Any]] = {}
            self.files: list[dict[str, Any]] = []
            self.trigger_ids: set[str] = set()
            self.rate_rules: dict[str, RateRule] = {}
            self._rate_log: dict[tuple[str, str], list[float]] = defaultdict(list)
            # When each chat.postMessage landed, per channel, and how many were refused
            # with 429: what a test of the bot's pace looks at.
            self.post_times: dict[str, list[float]] = defaultdict(list)
            self.rate_limited = 0
            self._uploads: dict[str, dict[str, Any]] = {}
            self._origins: dict[str, Origin] = {}
            self._trigger_users: dict[str, str] = {}
            self._ids = itertools.count(1)
            self._last_ts = 0.0
            self._ts_lock = threading.Lock()
        self.add_channel("CSUPPORT1", "support")
        self.add_channel("CESCALATE", "escalations")
        # The cast of the tests' stories: a lead, two agents, a trainee, and an outsider.
        self.add_user(LEAD, "Lena Lehmann")
        self.add_user(ANNA, "Anna Schmidt")
        self.add_user(BEN, "Ben Meier")
        self.add_user(TOM, "Tom Trainee")
        self.add_user(EVE, "Eve Outsider")

    def add_channel(self, channel_id: str, name: str, *, bot_member: bool = True) -> Channel:
        """A public channel; the bot is in it unless told otherwise."""
        with self.lock:
            channel = Channel(channel_id, name, {BOT_USER_ID} if bot_member else set())
            self.channels[channel_id] = channel
            return channel

    def remove_member(self, channel_id: str, user_id: str = BOT_USER_ID) -> None:
        """Someone leaves a channel or is removed from it (`/kick`): the bot, by default."""
        with self.lock:
            self.channels[channel_id].members.discard(user_id)

    def add_user(
        self, user_id: str, real_name: str, *, display_name: str = "", tz: str = "Europe/Berlin"
    ) -> dict[str, Any]:
        """A workspace member."""
        user = {
            "id": user_id,
            "team_id": TEAM_ID,
            "name": real_name.split()[0].lower(),
            "real_name": real_name,
            "tz": tz,
            "is_bot": False,
            "deleted": False,
            "profile": {
                "real_name": real_name,
                "display_name": display_name,
                "real_name_normalized": real_name,
            },
        }
        with self.lock:
            self.users[user_id] = user
            for channel in self.channels.values():
                if not channel.is_im:
                    channel.members.add(user_id)
        return user

    def rate_limit(
        self,
        method: str,
        *,
        limit: int,
        window: float,
        per_channel: bool = True,
        retry_after: int = 1,
    ) -> None:
        """Enforce a rate limit on `method` from now on."""
        with self.lock:
            self.rate_rules[method] = RateRule(limit, window, per_channel, retry_after)

    def new_trigger_id(self, user: str | None = None) -> str:
        """A trigger id as Slack puts into interactive payloads (valid for views.open).

        With `user`, a modal opened with it is that person's (see `modal`).
        """
        trigger = f"{next(self._ids)}.{int(time.time())}.trigger"
        with self.lock:
            self.trigger_ids.add(trigger)
            if user is not None:
                self._trigger_users[trigger] = user
        return trigger

    # -- reading by tests ----------------------------------------------------------------

    def messages(self, channel: str) -> list[SlackMessage]:
        """Top-level messages of a channel, oldest first."""
        with self.lock:
            return list(self.channels[channel].messages)

    def thread(self, channel: str, ts: str) -> list[SlackMessage]:
        """The replies in a thread, oldest first."""
        with self.lock:
            parent = self._find(channel, ts)
            return list(parent.replies) if parent else []

    def cards(self, channel: str = "CSUPPORT1") -> list[SlackMessage]:
        """Ticket cards: messages with the `servicekanal_ticket` metadata."""
        return [
            m
            for m in self.messages(channel)
            if (m.metadata or {}).get("event_type") == "servicekanal_ticket"
        ]

    def card(self, ticket_id: int, channel: str = "CSUPPORT1") -> SlackMessage:
        """The card of one ticket (exactly one must exist)."""
        found = [m for m in self.cards(channel) if m.payload["ticket_id"] == ticket_id]
        assert len(found) == 1, f"ticket #{ticket_id} has {len(found)} cards"
        return found[0]

    def find_message(self, channel: str, ts: str) -> SlackMessage | None:
        """A message or thread reply by its channel and ts."""
        with self.lock:
            return self._find(channel, ts)

    def dm_channel(self, user: str) -> Channel:
        """The bot's DM with a person (the app's Messages tab), opened if need be."""
        with self.lock:
            return self._open_dm([user])

    def file(self, file_id: str) -> dict[str, Any] | None:
        """An uploaded file, its `content` included."""
        with self.lock:
            return next((f for f in self.files if f["id"] == file_id), None)

    # -- what Slack's client does for a person (the sandbox plays it) ----------------------

    def post_as_user(
        self, channel_id: str, user: str, text: str, *, thread_ts: str | None = None
    ) -> SlackMessage:
        """A person writes a message (text already in Slack's escaped form)."""
        with self.lock:
            channel = self.channels[channel_id]
            message = SlackMessage(
                ts=self._next_ts(), channel=channel_id, text=text, user=user, thread_ts=thread_ts
            )
            if thread_ts:
                parent = next(m for m in channel.messages if m.ts == thread_ts)
                parent.replies.append(message)
            else:
                channel.messages.append(message)
            self.touch()
            return message

    def edit_as_user(self, channel_id: str, ts: str, user: str, text: str) -> SlackMessage:
        """A person edits their own message (KeyError when it is not theirs)."""
        with self.lock:
            message = self._find(channel_id, ts)
            if message is None or message.user != user:
                raise KeyError(ts)
            message.text = text
            message.edited = True
            self.touch()
            return message

    def delete_as_user(self, channel_id: str, ts: str, user: str) -> SlackMessage:
        """A person deletes their own message (KeyError when it is not theirs)."""
        with self.lock:
            message = self._find(channel_id, ts)
            if message is None or message.user != user:
                raise KeyError(ts)
            self._remove(message)
            self.touch()
            return message

    def _remove(self, message: SlackMessage) -> None:
        channel = self.channels[message.channel]
        if message in channel.messages:
            channel.messages.remove(message)
            return
        for parent in channel.messages:
            if message in parent.replies:
                parent.replies.remove(message)

    def modal(self, user: str) -> dict[str, Any] | None:
        """The modal a person sees (the top of their stack), or None."""
        with self.lock:
            stack = self.modals.get(user) or []
            return self.views[stack[-1]] if stack else None

    def close_modal(self, user: str, view_id: str) -> None:
        """The person closes a modal (or it closes after a submission): back to the one below."""
        with self.lock:
            stack = self.modals.get(user) or []
            if view_id in stack:
                del stack[stack.index(view_id) :]
            self.touch()

    def clear_modals(self, user: str) -> None:
        """Close every modal of a person (`response_action: clear`)."""
        with self.lock:
            self.modals.pop(user, None)
            self.touch()

    def replace_modal(self, view_id: str, view: dict[str, Any]) -> dict[str, Any]:
        """A submission answered with `response_action: update`."""
        with self.lock:
            self.views[view_id] = self._stored_view(view, view_id)
            self.touch()
            return self.views[view_id]

    def push_modal(self, user: str, view: dict[str, Any]) -> dict[str, Any] | None:
        """A submission answered with `response_action: push` (None when the stack is full)."""
        with self.lock:
            stack = self.modals.setdefault(user, [])
            if len(stack) >= MAX_MODALS:
                return None
            view_id = f"V{next(self._ids):08d}"
            self.views[view_id] = self._stored_view(view, view_id)
            stack.append(view_id)
            self.touch()
            return self.views[view_id]

    def _stored_view(self, view: dict[str, Any], view_id: str) -> dict[str, Any]:
        # Every version of a view gets a new hash; views.update with an old one is refused.
        return {
            **view,
            "id": view_id,
            "hash": f"{int(time.time())}.{next(self._ids)}",
            "state": {"values": {}},
        }

    # -- snapshots (the sandbox keeps its workspace across restarts) ---------------------

    def snapshot(self) -> dict[str, Any]:
        """The workspace as plain JSON: people, channels, ephemeral messages, homes, files."""
        with self.lock:
            return {
                "users": self.users,
                "channels": [
                    {
                        "id": c.id,
                        "name": c.name,
                        "members": sorted(c.members),
                        "is_im": c.is_im,
                        "messages": [m.to_dict() for m in c.messages],
                    }
                    for c in self.channels.values()
                ],
                "ephemerals": self.ephemerals,
                "home_views": self.home_views,
                "files": [
                    {**f, "content": base64.b64encode(f["content"] or b"").decode()}
                    for f in self.files
                ],
                "next_id": next(self._ids),
            }

    def restore(self, snapshot: dict[str, Any]) -> None:
        """Continue from a `snapshot` (modals are closed, as after a restart of Slack)."""
        with self.lock:
            self.users = dict(snapshot["users"])
            self.channels = {
                c["id"]: Channel(
                    c["id"],
                    c["name"],
                    set(c["members"]),
                    is_im=c["is_im"],
                    messages=[SlackMessage.from_dict(m) for m in c["messages"]],
                )
                for c in snapshot["channels"]
            }
            self.ephemerals = list(snapshot["ephemerals"])
            self.home_views = dict(snapshot["home_views"])
            self.files = [
                {**f, "content": base64.b64decode(f["content"])} for f in snapshot["files"]
            ]
            self._ids = itertools.count(int(snapshot["next_id"]))
            self.touch()

    def response_texts(self) -> list[str]:
        """Texts sent to response_urls (Bolt's respond()), oldest first."""
        with self.lock:
            return [r.get("text", "") for r in self.responses]

    # -- HTTP ----------------------------------------------------------------------------

    def route_name(self, request: Request) -> str:
        return request.path.removeprefix("/api/")

    def handle(self, request: Request) -> Response:
        if request.path.startswith("/respond/"):
            return self._response_url(request)
        if request.path.startswith("/upload/"):
            return self._upload(request)
        method = self.route_name(request)
        token = request.headers.get("authorization", "").removeprefix("Bearer ").strip()
        token = token or str(request.params.get("token", ""))
        if not token:
            return self._error("not_authed")
        if method == "apps.connections.open":
            # Socket Mode: only the app-level token opens a connection.
            if token != APP_TOKEN or not self.socket_url:
                return self._error(
                    "invalid_auth" if token != APP_TOKEN else "not_allowed_token_type"
                )
            return self._ok(url=self.socket_url)
        if token not in self.tokens:
            return self._error("invalid_auth")
        limited = self._rate_limited(method, request.params)
        if limited is not None:
            return limited
        handler = getattr(self, "api_" + method.replace(".", "_"), None)
        if handler is None:
            return self._error("unknown_method")
        with self.lock:
            result: Response = handler(request.params)
            if method not in READING and isinstance(result.body, dict) and result.body.get("ok"):
                self.touch()
            return result

    @staticmethod
    def _ok(**data: Any) -> Response:
        return Response(200, {"ok": True, **data})

    @staticmethod
    def _error(error: str, **extra: Any) -> Response:
        return Response(200, {"ok": False, "error": error, **extra})

    def _rate_limited(self, method: str, params: dict[str, Any]) -> Response | None:
        rule = self.rate_rules.get(method)
        if rule is None:
            return None
        key = (method, str(params.get("channel", "")) if rule.per_channel else "")
        now = time.monotonic()
        with self.lock:
            recent = [t for t in self._rate_log[key] if now - t < rule.window]
            if len(recent) >= rule.limit:
                self._rate_log[key] = recent
                self.rate_limited += 1
                return Response(
                    429,
                    {"ok": False, "error": "ratelimited"},
                    {"Retry-After": str(rule.retry_after)},
                )
            recent.append(now)
            self._rate_log[key] = recent
        return None

    def _next_ts(self) -> str:
        with self._ts_lock:
            now = max(time.time(), self._last_ts + 0.000001)
            self._last_ts = now
            return f"{now:.6f}"

    def _find(self, channel: str, ts: str) -> SlackMessage | None:
        found = self.channels.get(channel)
        if found is None:
            return None
        for message in found.messages:
            if message.ts == ts:
                return message
            for reply in message.replies:
                if reply.ts == ts:
                    return reply
        return None

    def _channel_for_post(self, params: dict[str, Any]) -> Channel | Response:
        channel_id = str(params.get("channel") or "")
        if channel_id in self.users:  # posting to a user id opens their DM, as Slack does
            channel_id = self._open_dm([channel_id]).id
        channel = self.channels.get(channel_id)
        if channel is None:
            return self._error("channel_not_found")
        if BOT_USER_ID not in channel.members:
            return self._error("not_in_channel")
        return channel

    @staticmethod
    def _decode(value: Any) -> Any:
        if isinstance(value, str):
            try:
                return json.loads(value)
            except ValueError:
                return value
        return value

    def _check_content(self, params: dict[str, Any]) -> Response | None:
        blocks = self._decode(params.get("blocks"))
        if not params.get("text") and not blocks:
            return self._error("no_text")
        if blocks is not None:
            if not isinstance(blocks, list) or len(blocks) > MAX_BLOCKS:
                return self._error("invalid_blocks")
            for block in blocks:
                if not isinstance(block, dict) or "type" not in block:
                    return self._error("invalid_blocks")
                text = block.get("text")
                if isinstance(text, dict) and len(str(text.get("text", ""))) > SECTION_TEXT_LIMIT:
                    return self._error("invalid_blocks")
            problem = block_kit_problem(blocks)
            if problem is not None:
                return self._error("invalid_blocks", response_metadata={"messages": [problem]})
        metadata = self._decode(params.get("metadata"))
        if metadata is not None and (
            not isinstance(metadata, dict)
            or not isinstance(metadata.get("event_type"), str)
            or not isinstance(metadata.get("event_payload"), dict)
        ):
            return self._error("invalid_metadata_format")
        return None

    # -- methods -------------------------------------------------------------------------

    def api_auth_test(self, params: dict[str, Any]) -> Response:
        return self._ok(
            url=WORKSPACE_URL,
            team="Servicekanal Test",
            user="servicekanal",
            team_id=TEAM_ID,
            user_id=BOT_USER_ID,
            bot_id=BOT_ID,
            is_enterprise_install=False,
        )

    def api_chat_postMessage(self, params: dict[str, Any]) -> Response:
        channel = self._channel_for_post(params)
        if isinstance(channel, Response):
            return channel
        problem = self._check_content(params)
        if problem is not None:
            return problem
        thread_ts = params.get("thread_ts")
        parent = None
        if thread_ts:
            parent = next((m for m in channel.messages if m.ts == thread_ts), None)
            if parent is None:
                return self._error("thread_not_found")
        message = SlackMessage(
            ts=self._next_ts(),
            channel=channel.id,
            text=str(params.get("text") or ""),
            user=BOT_USER_ID,
            bot_id=BOT_ID,
            blocks=self._decode(params.get("blocks")),
            metadata=self._decode(params.get("metadata")),
            thread_ts=thread_ts,
        )
        if parent is not None:
            parent.replies.append(message)
        else:
            channel.messages.append(message)
        self.post_times[channel.id].append(time.monotonic())
        return self._ok(
            channel=channel.id, ts=message.ts, message=message.as_api(with_metadata=True)
        )

    def api_chat_update(self, params: dict[str, Any]) -> Response:
        channel = self.channels.get(str(params.get("channel") or ""))
        if channel is None:
            return self._error("channel_not_found")
        message = self._find(channel.id, str(params.get("ts") or ""))
        if message is None:
            return self._error("message_not_found")
        if message.user != BOT_USER_ID:
            return self._error("cant_update_message")
        problem = self._check_content(params)
        if problem is not None:
            return problem
        message.text = str(params.get("text") or "")
        if "blocks" in params:
            message.blocks = self._decode(params["blocks"])
        if "metadata" in params:
            message.metadata = self._decode(params["metadata"])
        message.edited = True
        return self._ok(channel=channel.id, ts=message.ts, text=message.text)

    def api_chat_postEphemeral(self, params: dict[str, Any]) -> Response:
        channel = self._channel_for_post(params)
        if isinstance(channel, Response):
            return channel
        user = str(params.get("user") or "")
        if user not in self.users:
            return self._error("user_not_found")
        if user not in channel.members:
            return self._error("user_not_in_channel")
        problem = self._check_content(params)
        if problem is not None:
            return problem
        ts = self._next_ts()
        self.ephemerals.append(
            {
                "channel": channel.id,
                "user": user,
                "ts": ts,
                **params,
                "blocks": self._decode(params.get("blocks")),
            }
        )
        return self._ok(message_ts=ts)

    def api_chat_getPermalink(self, params: dict[str, Any]) -> Response:
        channel = str(params.get("channel") or "")
        ts = str(params.get("message_ts") or "")
        if self._find(channel, ts) is None:
            return self._error("message_not_found")
        return self._ok(
            channel=channel,
            permalink=f"{WORKSPACE_URL}archives/{channel}/p{ts.replace('.', '')}",
        )

    def _page(self, messages: list[dict[str, Any]], params: dict[str, Any]) -> Response:
        limit = max(1, min(int(params.get("limit") or 100), 999))
        start = int(params.get("cursor") or 0)
        page = messages[start : start + limit]
        more = start + limit < len(messages)
        return self._ok(
            messages=page,
            has_more=more,
            response_metadata={"next_cursor": str(start + limit) if more else ""},
        )

    @staticmethod
    def _flag(value: Any) -> bool:
        return str(value).lower() in ("1", "true")

    def api_conversations_history(self, params: dict[str, Any]) -> Response:
        channel = self.channels.get(str(params.get("channel") or ""))
        if channel is None:
            return self._error("channel_not_found")
        if BOT_USER_ID not in channel.members:
            return self._error("not_in_channel")
        oldest = float(params.get("oldest") or 0)
        latest = float(params.get("latest") or time.time() + 3600)
        with_metadata = self._flag(params.get("include_all_metadata"))
        found = [
            m.as_api(with_metadata=with_metadata)
            for m in reversed(channel.messages)
            if oldest < float(m.ts) <= latest
        ]
        return self._page(found, params)

    def api_conversations_replies(self, params: dict[str, Any]) -> Response:
        channel = self.channels.get(str(params.get("channel") or ""))
        if channel is None:
            return self._error("channel_not_found")
        parent = next((m for m in channel.messages if m.ts == params.get("ts")), None)
        if parent is None:
            return self._error("thread_not_found")
        with_metadata = self._flag(params.get("include_all_metadata"))
        oldest = float(params.get("oldest") or 0)
        found = [parent.as_api(with_metadata=with_metadata)] + [
            r.as_api(with_metadata=with_metadata) for r in parent.replies if float(r.ts) > oldest
        ]
        return self._page(found, params)

    def _open_dm(self, users: list[str]) -> Channel:
        key = "D" + users[0][1:]
        if key not in self.channels:
            self.channels[key] = Channel(key, f"dm-{users[0]}", {BOT_USER_ID, *users}, is_im=True)
        return self.channels[key]

    def api_conversations_open(self, params: dict[str, Any]) -> Response:
        users = [u for u in str(params.get("users") or "").split(",") if u]
        if not users:
            return self._error("users_list_not_supplied")
        for user in users:
            if user not in self.users:
                return self._error("user_not_found")
        if users == [BOT_USER_ID]:
            return self._error("cannot_dm_bot")
        return self._ok(channel={"id": self._open_dm(users).id})

    def api_users_info(self, params: dict[str, Any]) -> Response:
        user = self.users.get(str(params.get("user") or ""))
        if user is None:
            return self._error("user_not_found")
        return self._ok(user=user)

    def _check_view(self, params: dict[str, Any]) -> dict[str, Any] | Response:
        view = self._decode(params.get("view"))
        if not isinstance(view, dict) or view.get("type") not in ("modal", "home"):
            return self._error("invalid_arguments")
        if len(view.get("blocks") or []) > 100:
            return self._error("invalid_arguments")
        problem = block_kit_problem(view)
        if problem is not None:
            return self._error("invalid_arguments", response_metadata={"messages": [problem]})
        return view

    def api_views_open(self, params: dict[str, Any]) -> Response:
        trigger = str(params.get("trigger_id") or "")
        if trigger not in self.trigger_ids:
            return self._error("invalid_trigger_id")
        self.trigger_ids.discard(trigger)  # a trigger id works once
        view = self._check_view(params)
        if isinstance(view, Response):
            return view
        view_id = f"V{next(self._ids):08d}"
        stored = self._stored_view(view, view_id)
        self.views[view_id] = stored
        user = self._trigger_users.pop(trigger, None)
        if user is not None:
            self.modals[user] = [view_id]
        return self._ok(view=stored)

    def api_views_update(self, params: dict[str, Any]) -> Response:
        view_id = str(params.get("view_id") or "")
        if view_id not in self.views:
            return self._error("not_found")
        if params.get("hash") and params["hash"] != self.views[view_id]["hash"]:
            return self._error("hash_conflict")
        view = self._check_view(params)
        if isinstance(view, Response):
            return view
        self.views[view_id] = self._stored_view(view, view_id)
        return self._ok(view=self.views[view_id])

    def api_views_push(self, params: dict[str, Any]) -> Response:
        trigger = str(params.get("trigger_id") or "")
        user = self._trigger_users.get(trigger)
        if user is not None and len(self.modals.get(user) or []) >= MAX_MODALS:
            return self._error("push_limit_reached")
        stack = list(self.modals.get(user) or []) if user is not None else []
        response = self.api_views_open(params)
        if user is not None and isinstance(response.body, dict) and response.body.get("ok"):
            self.modals[user] = [*stack, response.body["view"]["id"]]
        return response

    def api_views_publish(self, params: dict[str, Any]) -> Response:
        user = str(params.get("user_id") or "")
        if user not in self.users:
            return self._error("user_not_found")
        view = self._check_view(params)
        if isinstance(view, Response):
            return view
        self.home_views[user] = view
        return self._ok(view={**view, "id": f"VHOME{user}"})

    def api_files_getUploadURLExternal(self, params: dict[str, Any]) -> Response:
        file_id = f"F{next(self._ids):08d}"
        length = int(params.get("length") or 0)
        if length <= 0:
            return self._error("invalid_arguments")
        self._uploads[file_id] = {
            "id": file_id,
            "name": params.get("filename"),
            "length": length,
            "alt_text": params.get("alt_txt") or params.get("alt_text"),
            "content": None,
        }
        return self._ok(upload_url=f"{self.base_url}/upload/{file_id}", file_id=file_id)

    def _upload(self, request: Request) -> Response:
        file_id = request.path.removeprefix("/upload/")
        with self.lock:
            upload = self._uploads.get(file_id)
            if upload is None:
                return Response(404, "no such upload")
            upload["content"] = request.body
        return Response(200, f"OK - {len(request.body)}")

    def api_files_completeUploadExternal(self, params: dict[str, Any]) -> Response:
        files = self._decode(params.get("files"))
        if not isinstance(files, list) or not files:
            return self._error("invalid_arguments")
        channel_id = params.get("channel_id")
        done = []
        for item in files:
            upload = self._uploads.get(str(item.get("id")))
            if upload is None or upload["content"] is None:
                return self._error("file_not_found")
            record = {
                **upload,
                "title": item.get("title"),
                "channel": channel_id,
                "thread_ts": params.get("thread_ts"),
                "initial_comment": params.get("initial_comment"),
            }
            self.files.append(record)
            done.append({"id": upload["id"], "title": item.get("title")})
        if channel_id:
            channel = self.channels.get(str(channel_id))
            if channel is None:
                return self._error("channel_not_found")
            thread_ts = params.get("thread_ts") or None
            parent = next((m for m in channel.messages if m.ts == thread_ts), None)
            if thread_ts and parent is None:
                return self._error("thread_not_found")
            shared = SlackMessage(
                ts=self._next_ts(),
                channel=channel.id,
                text=str(params.get("initial_comment") or ""),
                user=BOT_USER_ID,
                bot_id=BOT_ID,
                thread_ts=thread_ts,
                files=[
                    {
                        "id": f["id"],
                        "name": f["name"],
                        "title": f["title"],
                        "alt_txt": f["alt_text"],
                    }
                    for f in self.files[-len(done) :]
                ],
            )
            (parent.replies if parent is not None else channel.messages).append(shared)
        return self._ok(files=done)

    def _response_url(self, request: Request) -> Response:
        body = request.json_body if isinstance(request.json_body, dict) else request.params
        problem = block_kit_problem(body.get("blocks"))
        if problem is not None:  # Slack answers a response_url this way
            return Response(400, "invalid_blocks")
        with self.lock:
            self.responses.append({"url": request.path, **body})
            origin = self._origins.get(request.path)
            if origin is not None:
                self.answer(origin, body)
                self.touch()
        return Response(200, "ok")

    def answer(self, origin: Origin, body: dict[str, Any]) -> None:
        """What Slack does with an answer to a response_url (or to a command's ack)."""
        text = str(body.get("text") or "")
        blocks = self._decode(body.get("blocks"))
        original = self._original(origin)
        if self._flag(body.get("delete_original")):
            if isinstance(original, SlackMessage):
                self._remove(original)
            elif original is not None:
                self.ephemerals.remove(original)
            return
        if self._flag(body.get("replace_original")) and original is not None:
            if isinstance(original, SlackMessage):
                original.text, original.blocks, original.edited = text, blocks, True
            else:
                original.update(text=text, blocks=blocks)
            return
        if body.get("response_type") == "in_channel":
            channel = self.channels[origin.channel]
            if origin.command:  # Slack shows what was typed above an answer all can see
                self.post_as_user(origin.channel, origin.user, origin.command)
            message = SlackMessage(
                ts=self._next_ts(),
                channel=channel.id,
                text=text,
                user=BOT_USER_ID,
                bot_id=BOT_ID,
                blocks=blocks,
                thread_ts=origin.thread_ts,
            )
            parent = next((m for m in channel.messages if m.ts == origin.thread_ts), None)
            (parent.replies if parent is not None else channel.messages).append(message)
            return
        self.ephemeral(origin.channel, origin.user, text, blocks=blocks, thread_ts=origin.thread_ts)

    def ephemeral(
        self,
        channel: str,
        user: str,
        text: str,
        *,
        blocks: list[dict[str, Any]] | None = None,
        thread_ts: str | None = None,
        author: str = BOT_USER_ID,
    ) -> None:
        """An ephemeral message only `user` sees (from the bot, or Slackbot's own notices)."""
        with self.lock:
            self.ephemerals.append(
                {
                    "channel": channel,
                    "user": user,
                    "ts": self._next_ts(),
                    "text": text,
                    "blocks": blocks,
                    "thread_ts": thread_ts,
                    "author": author,
                }
            )
            self.touch()

    def _original(self, origin: Origin) -> SlackMessage | dict[str, Any] | None:
        if origin.message_ts is None:
            return None
        if origin.ephemeral:
            return next((e for e in self.ephemerals if e["ts"] == origin.message_ts), None)
        return self._find(origin.channel, origin.message_ts)

    def response_url(self, origin: Origin | None = None) -> str:
        """A fresh response_url for an interactive payload or a slash command.

        Answers to it are recorded in `responses`; with an `origin` they also show where
        Slack would show them.
        """
        path = f"/respond/{next(self._ids)}"
        if origin is not None:
            with self.lock:
                self._origins[path] = origin
        return f"{self.base_url}{path}"
