"""Making untrusted text safe for Slack, and small text helpers."""

from __future__ import annotations

import re

# Slack's mrkdwn only gives meaning to these three; escaping them turns `<!channel>`,
# `<@U123>` and `<http://evil|harmless>` into visible, inert text.
_SLACK_ESCAPES = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;"})
MAX_WEIGHTED_LENGTH = 280  # X's limit for a post, counted by twitter-text's weights
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def clean_text(text: str) -> str:
    """`text` without control characters (tab and newlines stay); PostgreSQL refuses NUL."""
    return _CONTROL.sub("", text)


def excerpt(text: str, limit: int = 40) -> str:
    """At most `limit` characters of what someone typed, for quoting it back; a cut ends in `…`."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def escape_slack(text: str) -> str:
    """Escape customer text for Slack mrkdwn and drop control characters."""
    return clean_text(text).translate(_SLACK_ESCAPES)


def initials_of(name: str) -> str:
    """`Anna Schmidt` -> `AS`, `Jean-Luc Picard` -> `JP`, `anna` -> `AN`."""
    parts = [p for p in re.split(r"[\s._-]+", name.strip()) if p and p[0].isalpha()]
    if len(parts) >= 2:
        return (parts[0][0] + parts[-1][0]).upper()
    if parts:
        return parts[0][:2].upper()
    return "XX"
