"""Cross-cutting checks that run before any listener."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from slack_bolt import App, BoltResponse

from bot.services import Services

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


def register(app: App, services: Services) -> None:
    """Install the middleware, workspace check first."""
    app.use(make_only_our_workspace(services.team_id))
    app.use(make_skip_retried_events(services))
