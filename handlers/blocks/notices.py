"""Small messages and modals that only say something."""

from __future__ import annotations

from typing import Any

from handlers.blocks.text import section


def notice_modal(title: str, text: str) -> dict[str, Any]:
    """A modal that shows one message and a Close button."""
    return {
        "type": "modal",
        "title": {"type": "plain_text", "text": title[:24]},
        "close": {"type": "plain_text", "text": "Close"},
        "blocks": [section(text)],
    }
