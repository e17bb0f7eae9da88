"""Events API listeners."""

from __future__ import annotations

from slack_bolt import App

from bot.services import Services
from handlers.events import message
from handlers.refusals import answering


def register(app: App, services: Services) -> None:
    """Attach the event listeners."""
    app.event("message")(answering(services)(message.make_handle_message(services)))
