"""The whole bot, built as app.py builds it, driven the way Slack and X drive it.

Tests read like conversations: a customer tweets on the X stand-in, `bot.poll()` reads
X, `bot.deliver()` drains the posting queue into the Slack stand-in, and agents talk to
the bot through signed HTTP requests to its real WSGI server. Handler tests talk to it
in-process instead (`http=False`): the same signed requests, as `BoltRequest`s through
`app.dispatch`, as bolt-python's own tests do; everything behind Bolt is the same.
"""

from __future__ import annotations

import itertools
import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from slack_bolt import BoltRequest
from sqlmodel import SQLModel

from app import Bot, build
from bot.clock import Clock, system_clock
from bot.config import Settings
from bot.inbox import IngestResult
from handlers.http import HttpServer
from standins import slack_api, x_api
from standins.http import Listening, wait_for
from standins.signing import FORM, SIGNING_SECRET, form_body, json_body, payload_body, post, sign
from standins.slack_api import SlackStandIn
from standins.x_api import XStandIn

SUPPORT = "CSUPPORT1"


def question(number: int, prefix: str = "Frage") -> str:
    """`Frage 7 …`: a question of its own, for bursts of tickets that are not alike.

    Its tail is eight words no other number's question has, so grouping of alike
    questions (SPEC §10) keeps every ticket of such a burst alone, with its own card
    (a prefix of up to three words leaves two such questions below a cosine of 0.3).
    """
    letters = "bcdfghjklmnpqrstvwxz"
    tail = []
    for salt in ("a", "e", "o", "u", "ia", "ie", "io", "iu"):
        word, rest = salt, number
        for _ in range(4):
            word += letters[rest % len(letters)]
            rest //= len(letters)
        tail.append(word)
    return f"{prefix} {number} " + " ".join(tail)


def command(
    slack: SlackStandIn,
    user: str,
    name: str,
    text: str,
    *,
    team: str = slack_api.TEAM_ID,
    response_url: str | None = None,
) -> bytes:
    """A slash command typed in the support channel, as Slack posts it."""
    return form_body(
        {
            "token": "legacy-verification-token",
            "team_id": team,
            "team_domain": "servicekanal-test",
            "channel_id": SUPPORT,
            "channel_name": "support",
            "user_id": user,
            "user_name": user.lower(),
            "command": name,
            "text": text,
            "api_app_id": "A0SERVICE",
            "response_url": response_url or slack.response_url(),
            "trigger_id": slack.new_trigger_id(),
        }
    )


def interaction(
    slack: SlackStandIn, user_id: str, kind: str, *, team: str = slack_api.TEAM_ID, **rest: Any
) -> bytes:
    """An interactivity payload (button, modal, shortcut) as Slack posts it.

    It has a fresh response_url unless `rest` says otherwise (None: none, as in modals).
    """
    payload = {
        "type": kind,
        "team": {"id": team, "domain": "servicekanal-test"},
        "user": {"id": user_id, "username": user_id.lower(), "team_id": team},
        "api_app_id": "A0SERVICE",
        "trigger_id": slack.new_trigger_id(),
        "response_url": slack.response_url(),
        **rest,
    }
    return payload_body({key: value for key, value in payload.items() if value is not None})


def button(
    slack: SlackStandIn,
    user: str,
    action_id: str,
    value: str,
    *,
    label: str | None = None,
    message_ts: str = "0",
    **rest: Any,
) -> bytes:
    """A click on a button (labelled `label`) of a message in the support channel."""
    action: dict[str, Any] = {
        "type": "button",
        "action_id": action_id,
        "block_id": "b",
        "value": value,
        "action_ts": f"{time.time():.6f}",
    }
    if label is not None:
        action["text"] = {"type": "plain_text", "text": label}
    return interaction(
        slack,
        user,
        "block_actions",
        channel={"id": SUPPORT, "name": "support"},
        container={"type": "message", "message_ts": message_ts, "channel_id": SUPPORT},
        message={"ts": message_ts, "type": "message"},
        actions=[action],
        **rest,
    )


@dataclass(frozen=True)
class World:
    """Everything bad input must leave alone: every table, Slack's messages, X's posts."""

    database: dict[str, list[str]]
    slack_changes: int
    x_posts: int


SLACK_CHANGES = (
    "chat.postMessage",
    "chat.update",
    "chat.delete",
    "views.open",
    "views.update",
    "views.publish",
)
X_POSTS = ("POST /2/tweets", "POST /2/dm_conversations/with/:id/messages")


def world(bot: BotHarness) -> World:
    """The world once everything queued for Slack has gone out."""
    bot.deliver()
    with bot.bot.engine.connect() as connection:
        database = {
            table.name: sorted(repr(tuple(row)) for row in connection.execute(table.select()))
            for table in SQLModel.metadata.sorted_tables
        }
    return World(
        database=database,
        slack_changes=sum(len(bot.slack.calls_to(method)) for method in SLACK_CHANGES),
        x_posts=sum(len(bot.x.calls_to(route)) for route in X_POSTS),
    )


def make_settings(database_url: str, slack: Listening, x: Listening, **overrides: Any) -> Settings:
    """Settings pointing at the stand-ins, as a deployer would write them in .env."""
    values: dict[str, Any] = {
        "slack_bot_token": slack_api.BOT_TOKEN,
        "slack_signing_secret": SIGNING_SECRET,
        "slack_api_url": f"{slack.base_url}/api/",
        "support_channel_id": SUPPORT,
        "escalation_channel_id": "CESCALATE",
        "x_bearer_token": x_api.BEARER,
        "x_api_key": x_api.API_KEY,
        "x_api_secret": "x-test-secret",
        "x_access_token": x_api.ACCESS_TOKEN,
        "x_access_token_secret": "x-test-access-secret",
        "x_api_url": x.base_url,
        "database_url": database_url,
        "poll_interval_seconds": 1,
        "admin_user_ids": slack_api.LEAD,
        # Always open, so that no test depends on the hour CI runs at; the tests of
        # service hours set their own hours and clock.
        "service_hours": "mon-sun 00:00-24:00",
        "holidays": "",
    }
    values.update(overrides)
    return Settings(_env_file=None, **values)


class BotHarness:
    """A running bot (HTTP server on a free port, or none) plus ways to talk to it."""

    def __init__(
        self,
        settings: Settings,
        slack: SlackStandIn,
        x: XStandIn,
        *,
        x_timeout: float = 2.0,
        clock: Clock = system_clock,
        post_interval: float = 0,
        http: bool = True,
    ) -> None:
        self.settings = settings
        self.slack = slack
        self.x = x
        # No pace by default: tests drain the queue at once unless they test the pace.
        self.bot: Bot = build(
            settings, post_interval=post_interval, x_timeout=x_timeout, clock=clock
        )
        self.server: HttpServer | None = None
        if http:
            self.server = self.bot.http_server(host="127.0.0.1", port=0)
            self.server.start_in_thread()
            self.url = f"http://127.0.0.1:{self.server.port}"
        self._event_ids = itertools.count(1)

    def close(self) -> None:
        """Stop everything this harness started."""
        if self.server is not None:
            self.server.stop()
        self.bot.stop_background()
        self.bot.engine.dispose()

    # -- X side --------------------------------------------------------------------------

    def poll(self) -> IngestResult:
        """One poll of X, as the scheduler would run it."""
        return self.bot.services.ingest.poll()

    def deliver(self) -> int:
        """Send everything queued for Slack that is due now."""
        return self.bot.poster.drain()

    def deliver_until(self, condition: Callable[[], Any], *, timeout: float = 10.0) -> Any:
        """Keep delivering the queue (work finishing in the background) until `condition`."""

        def delivered() -> Any:
            self.deliver()
            return condition()

        return wait_for(delivered, timeout=timeout)

    def poll_and_deliver(self) -> IngestResult:
        """Poll X, then post what came in."""
        result = self.poll()
        self.deliver()
        return result

    # -- Slack side ----------------------------------------------------------------------

    def request(
        self,
        body: bytes,
        content_type: str,
        *,
        headers: dict[str, str] | None = None,
        secret: str = SIGNING_SECRET,
        timestamp: int | None = None,
    ) -> tuple[int, bytes]:
        """POST a body to /slack/events, signed (with `secret`) as Slack would."""
        all_headers = {
            "Content-Type": content_type,
            **sign(body, secret=secret, timestamp=timestamp),
        }
        all_headers.update(headers or {})
        if self.server is None:
            signed: dict[str, str | Sequence[str]] = dict(all_headers)
            answer = self.bot.app.dispatch(BoltRequest(body=body.decode(), headers=signed))
            return answer.status, str(answer.body).encode()
        return post(f"{self.url}/slack/events", body, all_headers)

    def slash(
        self,
        user_id: str,
        command: str,
        text: str = "",
        *,
        team_id: str = slack_api.TEAM_ID,
        wait: bool = True,
        count: int = 1,
    ) -> list[dict[str, Any]]:
        """Type a slash command; returns what the bot responded (ephemerally or in channel)."""
        response_url = self.slack.response_url()
        status, body = self.request(
            self.slash_body(user_id, command, text, team=team_id, response_url=response_url),
            FORM,
        )
        assert status == 200, (status, body)
        if body.strip():
            # An answer given with the acknowledgement itself; Slack shows it to the caller.
            return [json.loads(body)]
        return self.responses_to(response_url, count=count) if wait else []

    def slash_body(self, user_id: str, name: str, text: str, **where: Any) -> bytes:
        """The form Slack posts for a slash command typed in the support channel."""
        return command(self.slack, user_id, name, text, **where)

    def responses_to(self, response_url: str, *, count: int = 1) -> list[dict[str, Any]]:
        """Wait for `count` responses sent to one response_url."""
        path = response_url.split("127.0.0.1:")[1].split("/", 1)[1]

        def arrived() -> list[dict[str, Any]]:
            with self.slack.lock:
                found = [r for r in self.slack.responses if r["url"] == "/" + path]
            return found if len(found) >= count else []

        result: list[dict[str, Any]] = wait_for(arrived, interval=0.005)
        return result

    def click(
        self,
        user_id: str,
        action_id: str,
        value: str,
        *,
        message_ts: str | None = None,
        wait: bool = True,
        label: str | None = None,
    ) -> list[dict[str, Any]]:
        """Click a button on a message (a card, usually)."""
        response_url = self.slack.response_url()
        body = button(
            self.slack,
            user_id,
            action_id,
            value,
            label=label or action_id,
            message_ts=message_ts or "0",
            response_url=response_url,
        )
        status, answer = self.request(body, FORM)
        assert status == 200, (status, answer)
        return self.responses_to(response_url) if wait else []

    def open_views(self) -> list[dict[str, Any]]:
        """Modals the bot has opened (or updated), oldest first."""
        with self.slack.lock:
            return list(self.slack.views.values())

    def submit_view(
        self, user_id: str, view: dict[str, Any], values: dict[str, dict[str, Any]]
    ) -> tuple[int, dict[str, Any] | None]:
        """Press a modal's submit button with these input values; returns the bot's answer."""
        state = {"values": values}
        payload = interaction(
            self.slack, user_id, "view_submission", view={**view, "state": state}, response_url=None
        )
        status, body = self.request(payload, FORM)
        return status, (json.loads(body) if body.strip() else None)

    def pick_in_view(self, user_id: str, view: dict[str, Any], action_id: str, value: str) -> None:
        """Choose an option of a select menu inside a modal."""
        picked = {
            "type": "static_select",
            "action_id": action_id,
            "block_id": "canned",
            "selected_option": {"text": {"type": "plain_text", "text": value}, "value": value},
            "action_ts": f"{time.time():.6f}",
        }
        body = interaction(
            self.slack,
            user_id,
            "block_actions",
            container={"type": "view", "view_id": view["id"]},
            view=view,
            actions=[picked],
            response_url=None,
        )
        status, answer = self.request(body, FORM)
        assert status == 200, (status, answer)

    def shortcut(
        self, user_id: str, callback_id: str, message: dict[str, Any]
    ) -> list[dict[str, Any]]:
        """Use a message shortcut on a message; returns what the bot said back, if anything."""
        body = interaction(
            self.slack,
            user_id,
            "message_action",
            callback_id=callback_id,
            user={"id": user_id, "name": user_id.lower()},
            channel={"id": SUPPORT, "name": "support"},
            message=message,
            message_ts=message.get("ts"),
        )
        status, answer = self.request(body, FORM)
        assert status == 200, (status, answer)
        return []

    def thread_message(
        self, user_id: str, thread_ts: str, text: str, **extra: Any
    ) -> tuple[int, str]:
        """Someone writes into a thread of the support channel (an Events API callback)."""
        ts = f"{time.time():.6f}"
        event_id = extra.pop("event_id", None)
        event = {
            "type": "message",
            "channel": self.settings.support_channel_id,
            "user": user_id,
            "text": text,
            "ts": ts,
            "thread_ts": thread_ts,
            "channel_type": "channel",
            **extra,
        }
        status, _ = self.event(event, event_id=event_id)
        return status, ts

    def event(
        self,
        event: dict[str, Any],
        *,
        event_id: str | None = None,
        retry_num: int | None = None,
    ) -> tuple[int, bytes]:
        """Deliver an Events API callback, optionally as Slack's retry of an earlier one."""
        body = {
            "token": "legacy-verification-token",
            "team_id": slack_api.TEAM_ID,
            "api_app_id": "A0SERVICE",
            "event": event,
            "type": "event_callback",
            "event_id": event_id or f"Ev{next(self._event_ids):08d}",
            "event_time": int(time.time()),
        }
        headers = {}
        if retry_num is not None:
            headers = {"X-Slack-Retry-Num": str(retry_num), "X-Slack-Retry-Reason": "http_timeout"}
        return self.request(json_body(body), "application/json", headers=headers)

    def health(self) -> tuple[int, dict[str, Any]]:
        """GET /healthz."""
        import urllib.error
        import urllib.request

        try:
            with urllib.request.urlopen(f"{self.url}/healthz", timeout=5) as response:
                return response.status, json.loads(response.read())
        except urllib.error.HTTPError as error:
            return error.code, json.loads(error.read())
