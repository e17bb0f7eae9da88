"""Commands whose feature has not landed yet answer honestly instead of staying silent."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from slack_bolt import Ack, Respond

from bot.services import Services


def make_handle_pending(_services: Services) -> Callable[..., None]:
    """A listener for a command that is registered but not built yet."""

    def handle_pending(ack: Ack, command: dict[str, Any], respond: Respond) -> None:
        """Acknowledge and say that the command is not available yet."""
        ack()
        respond(
            f"`{command['command']}` is not available yet in this version of Servicekanal.",
            response_type="ephemeral",
        )

    return handle_pending
