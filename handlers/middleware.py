"""Cross-cutting checks that run before any listener."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from slack_bolt import Ack, App, BoltContext, BoltResponse, Respond

from bot.roster import NOT_ON_TEAM, allows, refusal_for, required_role
from bot.services import Services
from handlers.blocks.notices import notice_modal

log = logging.getLogger(__name__)


def _team_of(body: dict[str, Any]) -> str | None:
    team = body.get("team_id") or body.get("team")
    if isinstance(team, dict):
        team = team.get("id")
    return team if isinstance(team, str) else None


def make_only_our_workspace(team_id: str) -> Callable[..., BoltResponse | None]:
    """Refuse requests from any workspace but the bot token's own."""

    def only_our_workspace(body: dict[str, Any], next: Callable[[], None]) -> BoltResponse | None:
        team = _team_of(body)
        if team is not None and team != team_id:
            log.warning("refused a request from another workspace")
            return BoltResponse(status=401, body="This app serves one workspace only.")
        next()
        return None

    return only_our_workspace


def make_skip_retried_events(services: Services) -> Callable[..., BoltResponse | None]:
    """Answer Slack's retries of an event we already handled, without handling it again."""

    def skip_retried_events(body: dict[str, Any], next: Callable[[], None]) -> BoltResponse | None:
        event_id = body.get("event_id")
        retried = (
            body.get("type") == "event_callback"
            and isinstance(event_id, str)
            and not services.events.first_time(event_id)
        )
        if retried:
            log.info("event %s already handled; acknowledging Slack's retry", event_id)
            return BoltResponse(status=200, body="")
        next()
        return None

    return skip_retried_events


def _field(value: Any, key: str) -> Any:
    return (value.get(key) or "") if isinstance(value, dict) else ""


def classify(body: dict[str, Any]) -> tuple[str, str, str, str] | None:
    """(kind, name, text, user) of a request that acts on the bot; None for events."""
    if "command" in body:
        return (
            "command",
            str(body["command"]),
            str(body.get("text") or ""),
            str(body.get("user_id")),
        )
    # Interactions carry `user` as an object; anything else is no one we know.
    user = str(_field(body.get("user"), "id"))
    kind = body.get("type")
    if kind == "block_actions":
        actions = body.get("actions")
        first = actions[0] if isinstance(actions, list) and actions else None
        return "action", str(_field(first, "action_id")), "", user
    if kind in ("view_submission", "view_closed"):
        return "view", str(_field(body.get("view"), "callback_id")), "", user
    if kind in ("message_action", "shortcut"):
        return "shortcut", str(body.get("callback_id") or ""), "", user
    return None


def make_require_member(services: Services) -> Callable[..., BoltResponse | None]:
    """Only people on the roster act on tickets, and only leads do what leads do.

    This is the one place that decides; listeners find the caller in `context["member"]`.
    """

    def require_member(
        body: dict[str, Any],
        context: BoltContext,
        next: Callable[[], None],
        ack: Ack,
        respond: Respond,
    ) -> BoltResponse | None:
        request = classify(body)
        if request is None:
            next()
            return None
        kind, name, text, user = request
        member = services.roster.member(user)
        needed = required_role(kind, name, text)
        if member is not None and allows(member, needed):
            context["member"] = member
            next()
            return None
        message = NOT_ON_TEAM if member is None else refusal_for(needed)
        log.info("refused %s %s for a caller who may not", kind, name)
        if kind == "command":
            return ack(text=message, response_type="ephemeral")
        if kind == "view":
            return ack(response_action="update", view=notice_modal("Not allowed", message))
        response = ack()
        respond(message, response_type="ephemeral", replace_original=False)
        return response

    return require_member


def register(app: App, services: Services) -> None:
    """Install the middleware: workspace check first, then retries, then the roster."""
    app.use(make_only_our_workspace(services.team_id))
    app.use(make_skip_retried_events(services))
    app.use(make_require_member(services))
