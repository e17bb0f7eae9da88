"""Card buttons whose feature has not landed yet."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from slack_bolt import Ack, Respond

from bot.services import Services


def make_handle_pending_action(_services: Services) -> Callable[..., None]:
    """A listener for a button that is on the card but not built yet."""

    def handle_pending_action(ack: Ack, action: dict[str, Any], respond: Respond) -> None:
        """Acknowledge and say that the button is coming soon."""
        ack()
        respond(
            f"“{action.get('text', {}).get('text', 'This button')}” is coming soon.",
            response_type="ephemeral",
            replace_original=False,
        )

    return handle_pending_action
