"""Making untrusted text safe for Slack."""

from __future__ import annotations

import re

# Slack's mrkdwn only gives meaning to these three; escaping them turns `<!channel>`,
# `<@U123>` and `<http://evil|harmless>` into visible, inert text.
_SLACK_ESCAPES = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;"})
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def escape_slack(text: str) -> str:
    """Escape customer text for Slack mrkdwn and drop control characters."""
    return _CONTROL.sub("", text).translate(_SLACK_ESCAPES)


def truncate(text: str, limit: int) -> str:
    """Cut `text` to at most `limit` characters, marking the cut."""
    return text if len(text) <= limit else text[: limit - 1] + "…"
