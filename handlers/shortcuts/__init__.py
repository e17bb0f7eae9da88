"""Message shortcuts."""

from __future__ import annotations

from slack_bolt import App

from bot.services import Services
from handlers import ids
from handlers.refusals import answering
from handlers.shortcuts import reply_from_thread


def register(app: App, services: Services) -> None:
    """Attach the shortcut listeners."""
    listener = reply_from_thread.make_handle_reply_from_thread(services)
    app.shortcut(ids.REPLY_SHORTCUT)(answering(services)(listener))
