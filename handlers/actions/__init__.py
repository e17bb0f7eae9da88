"""Buttons and other block actions."""

from __future__ import annotations

from slack_bolt import App

from bot.services import Services
from handlers import ids
from handlers.actions import pending


def register(app: App, services: Services) -> None:
    """Attach the card buttons' listeners."""
    for action_id in ids.CARD_ACTIONS:
        app.action(action_id)(pending.make_handle_pending_action(services))
