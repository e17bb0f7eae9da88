"""Slack's side of the conversation: what Slack sends the bot when a person acts.

A person on the sandbox's page types a slash command, writes in a thread, presses a
button, submits a modal. Slack would turn each of these into a request to the app's
`POST /slack/events`, signed with the signing secret, with the payload Slack documents;
so does this module, over HTTP, into the real bot. What the bot answers lands where
Slack would put it: ephemeral messages, modal errors, an updated or closed modal.
"""

from __future__ import annotations

import itertools
import json
import re
import time
import urllib.error
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from standins import slack_api
from standins.signing import FORM, form_body, json_body, payload_body, sign
from standins.slack_api import SLACKBOT, Origin, SlackMessage, SlackStandIn

APP_ID = "A0SANDBOX"
ACK_TIMEOUT = 3.0  # Slack waits this long for the app's acknowledgement
_MENTION = re.compile(r"(?<![\w<@])@([A-Za-z0-9._-]+)")
_CHANNEL = re.compile(r"(?<![\w<#])#([a-z0-9_-]+)")
_SPECIAL = {"here", "channel", "everyone"}


class Refusal(Exception):
    """What the page did makes no sense here (a view that is not open, an unknown button)."""


@dataclass
class Outcome:
    """What became of a submitted modal: closed, or still open with errors under inputs."""

    closed: bool = True
    errors: dict[str, str] = field(default_factory=dict)


def with_block_ids(blocks: list[dict[str, Any]] | None) -> list[dict[str, Any]]:
    """Blocks with a block_id each, as Slack gives blocks that came without one."""
    return [
        block if block.get("block_id") else {**block, "block_id": f"blk{index}"}
        for index, block in enumerate(blocks or [])
    ]


def slack_escape(text: str) -> str:
    """What Slack's client does to typed text: `&`, `<`, `>` become entities."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


class SlackSide:
    """Turns people's actions into Slack's requests into the bot, and places the answers."""

    def __init__(
        self,
        slack: SlackStandIn,
        *,
        bot_url: str,
        signing_secret: str,
        commands: Mapping[str, bool],
    ) -> None:
        self.slack = slack
        self.bot_url = bot_url
        self._secret = signing_secret
        self._commands = dict(commands)  # command -> should_escape, from the manifest
        self._event_ids = itertools.count(1)

    # -- people ---------------------------------------------------------------------------

    def _person(self, user: str) -> dict[str, Any]:
        person = self.slack.users.get(user)
        if person is None:
            raise Refusal("nobody by that id in this workspace")
        return person

    def _user_id_for(self, name: str) -> str | None:
        wanted = name.lower()
        for user_id, person in self.slack.users.items():
            profile = person.get("profile") or {}
            names = {
                person["name"].lower(),
                str(profile.get("display_name") or "").lower(),
                person["real_name"].split()[0].lower(),
                person["real_name"].lower().replace(" ", "."),
            }
            if wanted in names:
                return user_id
        return None

    def _channel_id_for(self, name: str) -> str | None:
        return next(
            (c.id for c in self.slack.channels.values() if c.name == name and not c.is_im), None
        )

    def escaped_command_text(self, text: str) -> str:
        """A command's text as Slack sends it with `should_escape`: mentions as `<@U…|name>`."""

        def user(match: re.Match[str]) -> str:
            found = self._user_id_for(match[1])
            return f"<@{found}|{match[1]}>" if found else match[0]

        def channel(match: re.Match[str]) -> str:
            found = self._channel_id_for(match[1])
            return f"<#{found}|{match[1]}>" if found else match[0]

        return _CHANNEL.sub(channel, _MENTION.sub(user, text))

    def message_text(self, typed: str) -> str:
        """Typed text as it arrives in a message: escaped, `@name` and `#channel` linked."""

        def user(match: re.Match[str]) -> str:
            if match[1].lower() in _SPECIAL:
                return f"<!{match[1].lower()}>"
            found = self._user_id_for(match[1])
            return f"<@{found}>" if found else match[0]

        def channel(match: re.Match[str]) -> str:
            found = self._channel_id_for(match[1])
            return f"<#{found}>" if found else match[0]

        return _CHANNEL.sub(channel, _MENTION.sub(user, slack_escape(typed)))

    # -- requests into the bot -------------------------------------------------------------

    def _send(self, body: bytes, content_type: str) -> tuple[int, bytes]:
        """POST a signed request to the bot; status 0 when it did not answer in time."""
        headers = {"Content-Type": content_type, **sign(body, secret=self._secret)}
        request = urllib.request.Request(  # noqa: S310 - the bot, on loopback
            f"{self.bot_url}/slack/events", data=body, headers=headers, method="POST"
        )
        try:
            with urllib.request.urlopen(request, timeout=ACK_TIMEOUT) as response:  # noqa: S310
                return response.status, response.read()
        except urllib.error.HTTPError as error:
            return error.code, error.read()
        except (TimeoutError, urllib.error.URLError):
            return 0, b""

    def _identity(self, user: str) -> dict[str, Any]:
        person = self._person(user)
        return {
            "team": {"id": slack_api.TEAM_ID, "domain": "servicekanal-sandbox"},
            "user": {
                "id": user,
                "username": person["name"],
                "name": person["name"],
                "team_id": slack_api.TEAM_ID,
            },
            "api_app_id": APP_ID,
            "token": "sandbox-verification-token",
        }

    def _event(self, event: dict[str, Any]) -> None:
        body = {
            "token": "sandbox-verification-token",
            "team_id": slack_api.TEAM_ID,
            "api_app_id": APP_ID,
            "event": {**event, "event_ts": f"{time.time():.6f}"},
            "type": "event_callback",
            "event_id": f"EvSandbox{int(time.time())}{next(self._event_ids):06d}",
            "event_time": int(time.time()),
        }
        self._send(json_body(body), "application/json")

    def _channel_name(self, channel_id: str) -> str:
        channel = self.slack.channels.get(channel_id)
        if channel is None:
            raise Refusal("no such channel")
        return channel.name

    # -- what a person does ----------------------------------------------------------------

    def command(self, user: str, channel: str, line: str, *, thread_ts: str | None = None) -> None:
        """A slash command typed into the message field."""
        self._person(user)
        name, _, text = line.strip().partition(" ")
        name = name.lower()
        if thread_ts:
            self.slack.ephemeral(
                channel,
                user,
                f"{name} is not supported in threads. Sorry!",
                thread_ts=thread_ts,
                author=SLACKBOT,
            )
            return
        if name not in self._commands:
            self.slack.ephemeral(
                channel,
                user,
                f"{name} is not a valid command. In Slack, messages that start with “/” are "
                "interpreted as commands.",
                author=SLACKBOT,
            )
            return
        text = text.strip()
        if self._commands[name]:
            text = self.escaped_command_text(text)
        origin = Origin(channel=channel, user=user, command=line.strip())
        fields = {
            "token": "sandbox-verification-token",
            "team_id": slack_api.TEAM_ID,
            "team_domain": "servicekanal-sandbox",
            "channel_id": channel,
            "channel_name": self._channel_name(channel),
            "user_id": user,
            "user_name": self._person(user)["name"],
            "command": name,
            "text": text,
            "api_app_id": APP_ID,
            "response_url": self.slack.response_url(origin),
            "trigger_id": self.slack.new_trigger_id(user),
        }
        status, body = self._send(form_body(fields), FORM)
        if status != 200:
            error = "operation_timeout" if status == 0 else "dispatch_failed"
            self.slack.ephemeral(
                channel, user, f"{name} failed with the error “{error}”", author=SLACKBOT
            )
            return
        if body.strip():
            answer = _json(body)
            if isinstance(answer, dict):
                self.slack.answer(origin, answer)
            else:  # a plain-text acknowledgement, as Slack allows
                self.slack.ephemeral(channel, user, body.decode(errors="replace"))

    def write(self, user: str, channel: str, typed: str, *, thread_ts: str | None = None) -> None:
        """A message written in a channel or a thread (the bot hears it as an event)."""
        self._person(user)
        target = self.slack.channels.get(channel)
        if target is None:
            raise Refusal("no such channel")
        if target.is_im:
            raise Refusal("Sending messages to this app has been turned off.")
        if thread_ts and not any(m.ts == thread_ts for m in target.messages):
            raise Refusal("no such thread")
        text = self.message_text(typed)
        message = self.slack.post_as_user(channel, user, text, thread_ts=thread_ts)
        event = {
            "type": "message",
            "channel": channel,
            "channel_type": "channel",
            "user": user,
            "text": text,
            "ts": message.ts,
        }
        if thread_ts:
            event["thread_ts"] = thread_ts
        self._event(event)

    def edit(self, user: str, channel: str, ts: str, typed: str) -> None:
        """A person edits their message; the bot hears `message_changed`."""
        try:
            before = _api(self.slack.find_message(channel, ts))
            message = self.slack.edit_as_user(channel, ts, user, self.message_text(typed))
        except KeyError:
            raise Refusal("you can only edit your own messages") from None
        self._event(
            {
                "type": "message",
                "subtype": "message_changed",
                "hidden": True,
                "channel": channel,
                "channel_type": "channel",
                "ts": f"{time.time():.6f}",
                "message": {**_api(message), "edited": {"user": user, "ts": f"{time.time():.6f}"}},
                "previous_message": before,
            }
        )

    def delete(self, user: str, channel: str, ts: str) -> None:
        """A person deletes their message; the bot hears `message_deleted`."""
        try:
            message = self.slack.delete_as_user(channel, ts, user)
        except KeyError:
            raise Refusal("you can only delete your own messages") from None
        self._event(
            {
                "type": "message",
                "subtype": "message_deleted",
                "hidden": True,
                "channel": channel,
                "channel_type": "channel",
                "ts": f"{time.time():.6f}",
                "deleted_ts": ts,
                "previous_message": _api(message),
            }
        )

    def open_home(self, user: str) -> None:
        """The person opens the app's Home tab."""
        self._person(user)
        dm = self.slack.dm_channel(user)
        self._event(
            {
                "type": "app_home_opened",
                "user": user,
                "channel": dm.id,
                "tab": "home",
            }
        )

    def press(
        self,
        user: str,
        *,
        block_id: str,
        action_id: str,
        choice: Mapping[str, Any],
        channel: str | None = None,
        ts: str | None = None,
        ephemeral: bool = False,
        view_id: str | None = None,
        values: Mapping[str, Mapping[str, Any]] | None = None,
    ) -> bool:
        """Use an interactive element of a message or a modal; False when the bot failed."""
        payload: dict[str, Any] = {
            "type": "block_actions",
            **self._identity(user),
            "trigger_id": self.slack.new_trigger_id(user),
        }
        if view_id is not None:
            view = self._open_view(user, view_id)
            blocks = view.get("blocks") or []
            payload["container"] = {"type": "view", "view_id": view_id}
            payload["view"] = {**view, "state": {"values": state_values(view, values or {})}}
        elif channel is not None and ts is not None:
            blocks, message = self._message_blocks(user, channel, ts, ephemeral)
            thread_ts = message.get("thread_ts")
            payload["container"] = {
                "type": "message",
                "message_ts": ts,
                "channel_id": channel,
                "is_ephemeral": ephemeral,
                **({"thread_ts": thread_ts} if thread_ts else {}),
            }
            payload["channel"] = {"id": channel, "name": self._channel_name(channel)}
            if not ephemeral:
                payload["message"] = message
            payload["state"] = {"values": {}}
            payload["response_url"] = self.slack.response_url(
                Origin(
                    channel=channel,
                    user=user,
                    message_ts=ts,
                    ephemeral=ephemeral,
                    thread_ts=thread_ts,
                )
            )
        else:
            raise Refusal("an action needs a message or a modal")
        element = find_element(blocks, block_id, action_id)
        if element is None:
            raise Refusal("no such element")
        payload["actions"] = [
            {
                **action_state(element, choice),
                "block_id": block_id,
                "action_id": action_id,
                "action_ts": f"{time.time():.6f}",
                **({"text": element["text"]} if "text" in element else {}),
                **({"value": element["value"]} if "value" in element else {}),
                **({"style": element["style"]} if "style" in element else {}),
            }
        ]
        status, _ = self._send(payload_body(payload), FORM)
        return status == 200

    def _open_view(self, user: str, view_id: str) -> dict[str, Any]:
        view = self.slack.modal(user)
        if view is None or view["id"] != view_id:
            home = self.slack.home_views.get(user)
            if home is not None and view_id == home_view_id(user):
                return {**home, "id": view_id}
            raise Refusal("that modal is not open")
        return view

    def _message_blocks(
        self, user: str, channel: str, ts: str, ephemeral: bool
    ) -> tuple[list[dict[str, Any]], dict[str, Any]]:
        with self.slack.lock:
            if ephemeral:
                found = next(
                    (
                        e
                        for e in self.slack.ephemerals
                        if e["ts"] == ts and e["user"] == user and e["channel"] == channel
                    ),
                    None,
                )
                if found is None:
                    raise Refusal("no such message")
                return with_block_ids(found.get("blocks")), {
                    "type": "message",
                    "ts": ts,
                    "text": found.get("text") or "",
                    **({"thread_ts": found["thread_ts"]} if found.get("thread_ts") else {}),
                }
            message = self.slack.find_message(channel, ts)
            if message is None:
                raise Refusal("no such message")
            return with_block_ids(message.blocks), message.as_api(with_metadata=True)

    def submit(self, user: str, view_id: str, values: Mapping[str, Mapping[str, Any]]) -> Outcome:
        """Press a modal's submit button; the bot's answer decides what the modal does."""
        view = self._open_view(user, view_id)
        payload = {
            "type": "view_submission",
            **self._identity(user),
            "trigger_id": self.slack.new_trigger_id(user),
            "view": {**view, "state": {"values": state_values(view, values)}},
            "response_urls": [],
        }
        status, body = self._send(payload_body(payload), FORM)
        if status != 200:
            return Outcome(closed=False, errors={"": "We had some trouble connecting. Try again?"})
        answer = _json(body) if body.strip() else None
        if not isinstance(answer, dict) or not answer.get("response_action"):
            self.slack.close_modal(user, view_id)
            return Outcome()
        action = answer["response_action"]
        if action == "errors":
            errors = answer.get("errors")
            return Outcome(
                closed=False,
                errors={str(k): str(v) for k, v in errors.items()}
                if isinstance(errors, dict)
                else {},
            )
        if action == "update" and isinstance(answer.get("view"), dict):
            self.slack.replace_modal(view_id, answer["view"])
            return Outcome(closed=False)
        if action == "push" and isinstance(answer.get("view"), dict):
            self.slack.push_modal(user, answer["view"])
            return Outcome(closed=False)
        if action == "clear":
            self.slack.clear_modals(user)
            return Outcome()
        self.slack.close_modal(user, view_id)
        return Outcome()

    def close(self, user: str, view_id: str) -> None:
        """Close a modal with its close button (Slack tells the app only if it asked to)."""
        view = self._open_view(user, view_id)
        if view.get("notify_on_close"):
            payload = {"type": "view_closed", **self._identity(user), "view": view}
            self._send(payload_body(payload), FORM)
        self.slack.close_modal(user, view_id)

    def shortcut(self, user: str, channel: str, ts: str, callback_id: str) -> None:
        """A message shortcut, chosen from a message's "More actions" menu."""
        with self.slack.lock:
            message = self.slack.find_message(channel, ts)
            if message is None:
                raise Refusal("no such message")
            data = message.as_api(with_metadata=False)
        payload = {
            "type": "message_action",
            **self._identity(user),
            "callback_id": callback_id,
            "trigger_id": self.slack.new_trigger_id(user),
            "channel": {"id": channel, "name": self._channel_name(channel)},
            "message": data,
            "message_ts": ts,
            "response_url": self.slack.response_url(
                Origin(channel=channel, user=user, message_ts=ts, thread_ts=message.thread_ts)
            ),
            "action_ts": f"{time.time():.6f}",
        }
        self._send(payload_body(payload), FORM)


def home_view_id(user: str) -> str:
    """The id the stand-in gives a person's Home tab."""
    return f"VHOME{user}"


def _json(body: bytes) -> Any:
    try:
        return json.loads(body)
    except ValueError:
        return None


def _api(message: SlackMessage | None) -> dict[str, Any]:
    return message.as_api(with_metadata=False) if message is not None else {}


# -- Block Kit elements and their state ------------------------------------------------------

STATEFUL = {
    "plain_text_input",
    "static_select",
    "checkboxes",
    "radio_buttons",
    "datepicker",
    "timepicker",
    "overflow",
    "number_input",
    "email_text_input",
    "url_text_input",
}


def _elements(block: Mapping[str, Any]) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    for key in ("element", "accessory"):
        if isinstance(block.get(key), dict):
            found.append(block[key])
    found.extend(e for e in block.get("elements") or [] if isinstance(e, dict))
    return found


def find_element(
    blocks: list[dict[str, Any]], block_id: str, action_id: str
) -> dict[str, Any] | None:
    """The element a person used, as the bot wrote it (never what the page claims it was)."""
    for block in with_block_ids(blocks):
        if block["block_id"] != block_id:
            continue
        for element in _elements(block):
            if element.get("action_id") == action_id:
                return element
    return None


def _options(element: Mapping[str, Any]) -> list[dict[str, Any]]:
    options = list(element.get("options") or [])
    for group in element.get("option_groups") or []:
        options.extend(group.get("options") or [])
    return options


def action_state(element: Mapping[str, Any], choice: Mapping[str, Any]) -> dict[str, Any]:
    """An element's part of a payload: its type and what was chosen, in Slack's shape."""
    kind = str(element.get("type"))
    state: dict[str, Any] = {"type": kind}
    by_value = {str(o.get("value")): o for o in _options(element)}
    if kind in ("static_select", "radio_buttons", "overflow"):
        picked = by_value.get(str(choice.get("value")))
        state["selected_option"] = picked
    elif kind == "checkboxes":
        values = choice.get("values") or []
        state["selected_options"] = [by_value[v] for v in values if v in by_value]
    elif kind == "datepicker":
        date = str(choice.get("value") or "")
        state["selected_date"] = date if re.fullmatch(r"\d{4}-\d{2}-\d{2}", date) else None
    elif kind == "timepicker":
        clock = str(choice.get("value") or "")
        state["selected_time"] = clock if re.fullmatch(r"\d{2}:\d{2}", clock) else None
    elif kind in STATEFUL:
        value = choice.get("value")
        state["value"] = str(value) if value not in (None, "") else None
    return state


def state_values(
    view: Mapping[str, Any], values: Mapping[str, Mapping[str, Any]]
) -> dict[str, dict[str, Any]]:
    """A modal's `state.values` as Slack sends it: every stateful element, filled or not."""
    state: dict[str, dict[str, Any]] = {}
    for block in with_block_ids(view.get("blocks") or []):
        for element in _elements(block):
            if element.get("type") not in STATEFUL or element.get("type") == "overflow":
                continue
            action_id = str(element.get("action_id") or "")
            picked = (values.get(block["block_id"]) or {}).get(action_id) or {}
            state.setdefault(block["block_id"], {})[action_id] = action_state(element, picked)
    return state
