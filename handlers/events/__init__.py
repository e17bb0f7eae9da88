"""Events API listeners."""

from __future__ import annotations

from slack_bolt import App

from handlers.events import message
from handlers.refusals import answered


def register(app: App) -> None:
    """Attach the event listeners."""
    app.event("message")(answered(message.handle_message))
