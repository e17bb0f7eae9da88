"""Expected refusals, answered in one place: the wrapper every listener is registered in.

A listener acknowledges, parses, calls one service method and renders; when the domain
(or a parser) says no, it raises `Refused` and `answered` tells the person:

- a command, a click, a shortcut: ephemerally, through the request's response_url (a
  click beside the message clicked on, or in its place where the listener asks for that);
- a modal not yet acknowledged: `response_action: errors` under the modal's first field
  (a modal without fields is replaced by a notice);
- a modal already closed: an ephemeral message in the support channel, naming the ticket.

Not Bolt's `@app.error`: when a listener raises after `ack()`, Bolt's thread runner sets
`ack.response` back to None, so an acknowledged request waits out Bolt's three seconds
and is answered 404, as if it had no listener. Here nothing is raised to Bolt; the
acknowledgement stands.
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from slack_bolt import Args
from slack_bolt.request.payload_utils import is_action, is_view_submission

from bot.commands import Usage
from bot.errors import Refused
from bot.services import Services
from handlers.blocks.notices import notice_modal
from handlers.context import beside
from handlers.values import metadata_number

log = logging.getLogger(__name__)
Listener = Callable[..., None]
ERROR_LIMIT = 150  # a field's error is a line, not a page
_INJECTED = frozenset(inspect.get_annotations(Args))  # what Bolt can hand a listener
FROM_CONTEXT = frozenset({"services", "member"})  # put there by handlers/middleware.py


def answered(listener: Listener, *, replace_original: bool = False) -> Callable[[Args], None]:
    """`listener` as Bolt should call it: a `Refused` it raises is answered, not raised.

    The listener asks, by name, for what Bolt hands listeners (`ack`, `command`, …) and for
    what the middleware put into the context (`services`, `member`). `replace_original`:
    a refused click replaces the message it was clicked on (the ephemeral offers whose
    buttons act once), instead of answering beside it.
    """
    wanted = list(inspect.signature(listener).parameters)
    unknown = set(wanted) - _INJECTED - FROM_CONTEXT
    if unknown:
        raise TypeError(f"{listener.__qualname__} asks for {sorted(unknown)}, which Bolt lacks")

    def answering(args: Args) -> None:
        given = {
            name: args.context[name] if name in FROM_CONTEXT else getattr(args, name)
            for name in wanted
        }
        try:
            listener(**given)
        except Refused as refusal:
            answer(args, refusal.user_message, replace_original)

    # Bolt names a listener in its logs by its function name; no __wrapped__, so that
    # Bolt hands this wrapper `args` rather than what the listener asks for.
    answering.__name__, answering.__qualname__ = listener.__name__, listener.__qualname__
    answering.__doc__ = listener.__doc__
    return answering


def answer(args: Args, message: str, replace_original: bool) -> None:
    """Tell the person who asked why not, where their request is answered."""
    body = args.body
    if is_view_submission(body):
        view = body.get("view") or {}
        if args.ack.response is None:
            args.ack(**in_the_modal(view, message))
            return
        # The modal has closed: say it beside the tickets, once, to this person only.
        services: Services = args.context["services"]
        args.client.chat_postEphemeral(
            channel=services.settings.support_channel_id,
            user=str((body.get("user") or {}).get("id")),
            text=naming_the_ticket(view, message),
        )
        return
    if args.ack.response is None:
        args.ack()
    if not body.get("response_url"):  # a menu inside a modal, the Home tab
        log.info("refused, with nowhere to say so: %s", message)
        return
    if is_action(body) and not replace_original:
        beside(args.respond, message)
    elif is_action(body):
        args.respond(message, response_type="ephemeral", replace_original=True)
    else:
        args.respond(message, response_type="ephemeral")


def in_the_modal(view: Mapping[str, Any], message: str) -> dict[str, Any]:
    """The acknowledgement that keeps a modal open with the refusal under its first field."""
    inputs = [
        block.get("block_id")
        for block in view.get("blocks") or []
        if isinstance(block, Mapping) and block.get("type") == "input"
    ]
    if inputs and isinstance(inputs[0], str):
        return {"response_action": "errors", "errors": {inputs[0]: message[:ERROR_LIMIT]}}
    return {"response_action": "update", "view": notice_modal("Not possible", message)}


def naming_the_ticket(view: Mapping[str, Any], message: str) -> str:
    """`#12: …` for a modal about ticket 12, which is no longer on the screen."""
    try:
        return f"#{metadata_number(view, 'ticket')}: {message}"
    except Refused:
        return message


@contextmanager
def explained_by(usage: Usage) -> Iterator[None]:
    """A refusal inside comes with the command's usage line (what was typed is at fault)."""
    try:
        yield
    except Refused as refusal:
        raise usage.refuse(refusal.user_message) from None
