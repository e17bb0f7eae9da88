"""The sandbox's web page and its JSON API, as one WSGI application (served by waitress).

`GET /` is the page (plain HTML, CSS and JavaScript from `static/`, no build step). The
page polls `GET /api/state` and sends what a person does to `POST /api/...`; those become
Slack's signed requests into the bot (`SlackSide`) or a customer's tweets and DMs on the
X stand-in.
"""

from __future__ import annotations

import json
import logging
import re
import threading
from collections.abc import Callable, Iterable, Mapping
from importlib import resources
from typing import Any
from urllib.parse import parse_qs

from twitter_text import parse_tweet

from sandbox.slack_side import Refusal, SlackSide
from sandbox.state import slack_view, version, x_view
from sandbox.storm import play_storm
from sandbox.workspace import Workspace
from standins.x_api import BRAND_USERNAME

log = logging.getLogger(__name__)

MAX_BODY = 64 * 1024
_HANDLE = re.compile(r"^[A-Za-z0-9_]{1,15}$")
_STATIC_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".png": "image/png",
    ".svg": "image/svg+xml",
}
_STATUS = {
    200: "200 OK",
    204: "204 No Content",
    400: "400 Bad Request",
    404: "404 Not Found",
    405: "405 Method Not Allowed",
    413: "413 Payload Too Large",
    415: "415 Unsupported Media Type",
    502: "502 Bad Gateway",
}
StartResponse = Callable[..., Any]
Roles = Callable[[], Mapping[str, str]]


class SandboxSite:
    """The page, the state it shows, and the actions it sends."""

    def __init__(
        self,
        workspace: Workspace,
        *,
        bot_url: str,
        roles: Roles,
        manifest: Mapping[str, Any],
    ) -> None:
        features = manifest.get("features") or {}
        commands = {c["command"]: c for c in features.get("slash_commands") or []}
        self.workspace = workspace
        self.side = SlackSide(
            workspace.slack,
            bot_url=bot_url,
            signing_secret=workspace.signing_secret,
            commands={name: bool(c.get("should_escape")) for name, c in commands.items()},
        )
        self._roles = roles
        self._commands = [
            {
                "command": name,
                "usage": str(c.get("usage_hint") or ""),
                "description": str(c.get("description") or ""),
            }
            for name, c in commands.items()
        ]
        self._shortcuts = [
            {"callback_id": s["callback_id"], "name": s["name"]}
            for s in features.get("shortcuts") or []
            if s.get("type") == "message"
        ]
        self._storms = 0
        self._storm_lock = threading.Lock()
        self._posts: dict[str, Callable[[dict[str, Any]], Any]] = {
            "/api/tweet": self._tweet,
            "/api/dm": self._dm,
            "/api/command": self._command,
            "/api/message": self._message,
            "/api/edit": self._edit,
            "/api/delete": self._delete,
            "/api/action": self._action,
            "/api/submit": self._submit,
            "/api/close": self._close,
            "/api/shortcut": self._shortcut,
            "/api/home": self._home,
            "/api/storm": self._storm,
        }

    # -- WSGI ------------------------------------------------------------------------------

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        method = str(environ.get("REQUEST_METHOD") or "GET")
        path = str(environ.get("PATH_INFO") or "/")
        if method == "GET":
            return self._get(path, environ, start_response)
        if method != "POST" or path not in self._posts:
            return _json(start_response, 405 if path in self._posts else 404, {"error": "no"})
        # Only the page's own script sends JSON; a form on another site cannot (no CORS).
        if not str(environ.get("CONTENT_TYPE") or "").startswith("application/json"):
            return _json(start_response, 415, {"error": "send JSON"})
        try:
            length = int(environ.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        if length > MAX_BODY:
            return _json(start_response, 413, {"error": "too large"})
        try:
            body = json.loads(environ["wsgi.input"].read(length) or b"{}")
            if not isinstance(body, dict):
                raise Refusal("send a JSON object")
            answer = self._posts[path](body)
        except (Refusal, ValueError, KeyError, TypeError) as exc:
            return _json(start_response, 400, {"error": _reason(exc)})
        return _json(start_response, 200, answer if answer is not None else {"ok": True})

    def _get(
        self, path: str, environ: dict[str, Any], start_response: StartResponse
    ) -> Iterable[bytes]:
        if path == "/":
            path = "/static/index.html"
        if path.startswith("/static/"):
            return self._static(path.removeprefix("/static/"), start_response)
        if path == "/api/state":
            query = parse_qs(str(environ.get("QUERY_STRING") or ""))
            user, since = query.get("user", [""])[0], query.get("since", [None])[0]
            return _json(start_response, 200, self.state(user, since))
        if path.startswith("/api/files/"):
            found = self.workspace.slack.file(path.removeprefix("/api/files/"))
            if found is None or not found.get("content"):
                return _json(start_response, 404, {"error": "no such file"})
            png = str(found.get("name")).endswith(".png")
            kind = "image/png" if png else "application/octet-stream"
            start_response("200 OK", [("Content-Type", kind), ("Cache-Control", "max-age=3600")])
            return [found["content"]]
        return _json(start_response, 404, {"error": "not found"})

    def _static(self, name: str, start_response: StartResponse) -> Iterable[bytes]:
        folder = resources.files("sandbox").joinpath("static")
        suffix = "." + name.rsplit(".", 1)[-1] if "." in name else ""
        # Only plain names of files that are there: no paths, so nothing else can be read.
        if not re.fullmatch(r"[A-Za-z0-9_-]+\.[a-z]+", name) or suffix not in _STATIC_TYPES:
            return _json(start_response, 404, {"error": "not found"})
        target = folder.joinpath(name)
        if not target.is_file():
            return _json(start_response, 404, {"error": "not found"})
        start_response(
            "200 OK", [("Content-Type", _STATIC_TYPES[suffix]), ("Cache-Control", "no-cache")]
        )
        return [target.read_bytes()]

    # -- state -----------------------------------------------------------------------------

    def state(self, user: str, since: str | None) -> dict[str, Any]:
        """Everything `user` sees; only the version when nothing changed since `since`."""
        now = version(self.workspace.slack, self.workspace.x)
        if since is not None and since == str(now):
            return {"version": now}
        if user not in self.workspace.slack.users:
            user = next(iter(self.workspace.slack.users))
        return {
            "version": now,
            "me": user,
            "brand": BRAND_USERNAME,
            "commands": self._commands,
            "shortcuts": self._shortcuts,
            "slack": slack_view(self.workspace.slack, user=user, roles=self._roles()),
            "x": x_view(self.workspace.x),
        }

    # -- a customer on X -----------------------------------------------------------------------

    def _customer(self, handle: Any) -> dict[str, Any]:
        handle = str(handle or "").strip().lstrip("@")
        if not _HANDLE.match(handle):
            raise Refusal("An X handle has 1 to 15 letters, digits or underscores.")
        if handle.lower() == BRAND_USERNAME.lower():
            raise Refusal(f"@{BRAND_USERNAME} is the brand; tweet as a customer.")
        x = self.workspace.x
        return x.user_by_name(handle) or x.add_user(handle, handle.replace("_", " ").title())

    @staticmethod
    def _customer_text(typed: Any) -> str:
        text = str(typed or "").strip()
        if not text:
            raise Refusal("Write something first.")
        if not parse_tweet(text).valid:
            raise Refusal("X allows 280 characters (links count 23, emoji 2).")
        return text

    def _tweet(self, body: dict[str, Any]) -> dict[str, Any]:
        customer = self._customer(body.get("handle"))
        text = self._customer_text(body.get("text"))
        x = self.workspace.x
        reply_to = str(body.get("reply_to") or "")
        if reply_to:
            if reply_to not in x.state.tweets:
                raise Refusal("That tweet is gone.")
            tweet = x.tweet(customer, text, reply_to=reply_to)
        else:
            tweet = x.mention(customer, text)
        return {"id": tweet["id"]}

    def _dm(self, body: dict[str, Any]) -> dict[str, Any]:
        customer = self._customer(body.get("handle"))
        text = str(body.get("text") or "").strip()
        if not text or len(text) > 10000:
            raise Refusal("A DM has 1 to 10,000 characters.")
        return {"id": self.workspace.x.send_dm_to_brand(customer, text).id}

    def _storm(self, body: dict[str, Any]) -> dict[str, Any]:
        with self._storm_lock:
            self._storms += 1
            played = play_storm(self.workspace.x, round_number=self._storms)
        return {"tweets": played}

    # -- a person in Slack ---------------------------------------------------------------------

    def _command(self, body: dict[str, Any]) -> None:
        self.side.command(
            str(body["user"]),
            str(body["channel"]),
            str(body["text"]),
            thread_ts=body.get("thread_ts") or None,
        )

    def _message(self, body: dict[str, Any]) -> None:
        text = str(body.get("text") or "")
        if not text.strip():
            raise Refusal("Write something first.")
        if len(text) > 40000:
            raise Refusal("Slack allows 40,000 characters in a message.")
        self.side.write(
            str(body["user"]), str(body["channel"]), text, thread_ts=body.get("thread_ts") or None
        )

    def _edit(self, body: dict[str, Any]) -> None:
        self.side.edit(str(body["user"]), str(body["channel"]), str(body["ts"]), str(body["text"]))

    def _delete(self, body: dict[str, Any]) -> None:
        self.side.delete(str(body["user"]), str(body["channel"]), str(body["ts"]))

    def _action(self, body: dict[str, Any]) -> dict[str, Any]:
        choice = body.get("choice") or {}
        values = body.get("values") or {}
        if not isinstance(choice, dict) or not isinstance(values, dict):
            raise Refusal("choice and values are objects")
        answered = self.side.press(
            str(body["user"]),
            block_id=str(body["block_id"]),
            action_id=str(body["action_id"]),
            choice=choice,
            channel=body.get("channel"),
            ts=body.get("ts"),
            ephemeral=bool(body.get("ephemeral")),
            view_id=body.get("view_id"),
            values=values,
        )
        return {"answered": answered}

    def _submit(self, body: dict[str, Any]) -> dict[str, Any]:
        values = body.get("values") or {}
        if not isinstance(values, dict):
            raise Refusal("values are an object")
        outcome = self.side.submit(str(body["user"]), str(body["view_id"]), values)
        return {"closed": outcome.closed, "errors": outcome.errors}

    def _close(self, body: dict[str, Any]) -> None:
        self.side.close(str(body["user"]), str(body["view_id"]))

    def _shortcut(self, body: dict[str, Any]) -> None:
        self.side.shortcut(
            str(body["user"]), str(body["channel"]), str(body["ts"]), str(body["callback_id"])
        )

    def _home(self, body: dict[str, Any]) -> None:
        self.side.open_home(str(body["user"]))


def _reason(exc: Exception) -> str:
    if isinstance(exc, Refusal):
        return str(exc)
    if isinstance(exc, KeyError):
        return f"missing {exc.args[0]}"
    return "unreadable request"


def _json(start_response: StartResponse, status: int, body: object) -> list[bytes]:
    payload = json.dumps(body).encode()
    start_response(
        _STATUS.get(status, f"{status} Error"),
        [("Content-Type", "application/json"), ("Cache-Control", "no-store")],
    )
    return [payload]
