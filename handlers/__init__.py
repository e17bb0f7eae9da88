"""Slack-facing listeners: parse, call one service, render."""

from __future__ import annotations

from slack_bolt import App

from bot.services import Services
from handlers import actions, commands, errors, events, home, middleware, shortcuts, views


def register(app: App, services: Services) -> None:
    """Attach every listener and middleware to the Bolt app."""
    middleware.register(app, services)
    commands.register(app)
    actions.register(app)
    events.register(app)
    views.register(app)
    shortcuts.register(app)
    home.register(app)
    errors.register(app)
