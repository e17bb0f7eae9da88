"""Small messages and modals that only say something."""

from __future__ import annotations

from typing import Any

from handlers.blocks.modals import TITLE_LIMIT, plain
from handlers.blocks.text import section


def notice_modal(title: str, text: str) -> dict[str, Any]:
    """A modal that shows one message and a Close button."""
    return {
        "type": "modal",
        "title": plain(title, TITLE_LIMIT),
        "close": plain("Close"),
        "blocks": [section(text)],
    }
