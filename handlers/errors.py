"""The one place unexpected errors end up."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import App

log = logging.getLogger(__name__)
SORRY = "Sorry, something went wrong on our side. It has been logged; please try again."


def handle_error(error: Exception, body: dict[str, Any], respond: Any) -> None:
    """Log with the traceback; tell the person, if there is someone to tell."""
    log.error("unhandled error in a Slack listener", exc_info=error)
    if respond is not None and body.get("response_url"):
        respond(SORRY, response_type="ephemeral", replace_original=False)


def register(app: App) -> None:
    """Install the error handler."""
    app.error(handle_error)
