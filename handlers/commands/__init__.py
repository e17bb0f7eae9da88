"""Slash commands. Every command of manifest.yml is registered here, and only those."""

from __future__ import annotations

from collections.abc import Callable

from slack_bolt import App

from bot.services import Services
from handlers.commands import pending

HandlerFactory = Callable[[Services], Callable[..., None]]

COMMANDS: dict[str, HandlerFactory] = {
    name: pending.make_handle_pending
    for name in (
        "/claim",
        "/release",
        "/handover",
        "/reply",
        "/dm",
        "/note",
        "/followup",
        "/resolve",
        "/escalate",
        "/history",
        "/canned",
        "/oncall",
        "/team",
        "/stats",
    )
}


def register(app: App, services: Services) -> None:
    """Attach one listener per slash command."""
    for name, factory in COMMANDS.items():
        app.command(name)(factory(services))
