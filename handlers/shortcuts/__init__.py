"""Message shortcuts."""

from __future__ import annotations

from slack_bolt import App

from handlers import ids
from handlers.refusals import answered
from handlers.shortcuts import reply_from_thread


def register(app: App) -> None:
    """Attach the shortcut listeners."""
    app.shortcut(ids.REPLY_SHORTCUT)(answered(reply_from_thread.handle_reply_from_thread))
