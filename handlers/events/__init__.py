"""Events API listeners."""

from __future__ import annotations

from slack_bolt import App

from bot.services import Services
from handlers.events import message


def register(app: App, services: Services) -> None:
    """Attach the event listeners."""
    app.event("message")(message.make_handle_message(services))
