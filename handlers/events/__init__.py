"""Events API listeners."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import App

from bot.services import Services

log = logging.getLogger(__name__)


def handle_message(event: dict[str, Any]) -> None:
    """Messages in the channel: thread notes arrive with the next issue; nothing to do yet."""
    log.debug("message event of subtype %s", event.get("subtype"))


def register(app: App, services: Services) -> None:
    """Attach the event listeners."""
    app.event("message")(handle_message)
