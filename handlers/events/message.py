"""Messages in ticket threads are internal notes; edits and deletions follow them."""

from __future__ import annotations

import logging

from bot.services import Services
from handlers.context import Payload

log = logging.getLogger(__name__)
# Subtypes that are still someone writing in the thread.
WRITTEN = {None, "thread_broadcast", "file_share", "me_message"}


def handle_message(event: Payload, services: Services) -> None:
    """Store thread messages of people (never the bot's own) as notes of the ticket."""
    subtype = event.get("subtype")
    if subtype == "message_changed":
        changed = event.get("message") or {}
        if _in_a_thread(changed) and not _by_bot(changed, services.bot_user_id):
            services.tickets.edit_note(
                ts=str(changed.get("ts")), text=str(changed.get("text") or "")
            )
        return
    if subtype == "message_deleted":
        services.tickets.delete_note(ts=str(event.get("deleted_ts")))
        return
    if subtype not in WRITTEN or _by_bot(event, services.bot_user_id):
        return
    thread_ts = event.get("thread_ts")
    if not _in_a_thread(event):
        return
    services.tickets.note_from_thread(
        channel=str(event.get("channel")),
        thread_ts=str(thread_ts),
        ts=str(event.get("ts")),
        user=str(event.get("user")),
        text=str(event.get("text") or ""),
    )


def _in_a_thread(message: Payload) -> bool:
    """A reply in a thread (only those are notes), not a top-level message."""
    thread_ts = message.get("thread_ts")
    return bool(thread_ts) and thread_ts != message.get("ts")


def _by_bot(event: Payload, bot_user_id: str) -> bool:
    return bool(event.get("bot_id")) or event.get("user") == bot_user_id or not event.get("user")
