"""Small mrkdwn helpers shared by the builders."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from bot.text import escape_slack, escaped_pieces

SECTION_LIMIT = 3000  # Slack's maximum for a section's text
SOURCE_LABELS = {
    "mention": "mention",
    "keyword": "keyword search",
    "dm": "direct message",
}


def escape_within(text: str, limit: int, *, newline: str = "\n") -> str:
    """Escape untrusted text for mrkdwn, cut so the *escaped* form fits `limit`.

    Cutting after escaping could split `&amp;` (or a ⟨U+202E⟩ mark) in half; cutting
    before could still overflow, since escaping lengthens the text. So the text is
    escaped piece by piece and cut between pieces.
    `newline` is what a line break becomes (a quote's `\n>` costs two characters).
    """
    escaped = escape_slack(text).replace("\n", newline)
    if len(escaped) <= limit:
        return escaped  # most texts: no need to know where they may be cut
    pieces = [piece.replace("\n", newline) for piece in escaped_pieces(text)]
    out: list[str] = []
    used = 0
    for piece in pieces:
        if used + len(piece) > limit - 1:
            break
        out.append(piece)
        used += len(piece)
    return "".join(out) + "…"


def quote(text: str, limit: int = SECTION_LIMIT - 100) -> str:
    """Customer text as a mrkdwn block quote, escaped, `>` marks included in `limit`."""
    return ">" + escape_within(text, limit - 1, newline="\n>")


def section(text: str) -> dict[str, Any]:
    """A mrkdwn section, cut to Slack's limit as a last resort (lists page instead of this)."""
    return {"type": "section", "text": {"type": "mrkdwn", "text": text[:SECTION_LIMIT]}}


def slack_date(when: datetime) -> str:
    """A time that every reader sees in their own time zone."""
    fallback = when.strftime("%Y-%m-%d %H:%M UTC")
    return f"<!date^{int(when.timestamp())}^{{date_short_pretty}} {{time}}|{fallback}>"


# In a URL these would end the link or start a new one; X handles and ids go into our
# URLs, and a broken answer must not smuggle markup through them.
_URL_ESCAPES = str.maketrans({"<": "%3C", ">": "%3E", "|": "%7C", " ": "%20"})


def link(url: str, label: str) -> str:
    """A mrkdwn link; the label is escaped, the URL's link-breaking characters encoded."""
    return f"<{url.translate(_URL_ESCAPES)}|{escape_slack(label)}>"


def count(number: int, singular: str, plural: str | None = None) -> str:
    """`1 follower`, `1,234 followers`."""
    return f"{number:,} {singular if number == 1 else plural or singular + 's'}"
