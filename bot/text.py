"""Making untrusted text safe for Slack, and small text helpers."""

from __future__ import annotations

import re

import regex

# Slack's mrkdwn only gives meaning to these three; escaping them turns `<!channel>`,
# `<@U123>` and `<http://evil|harmless>` into visible, inert text.
_SLACK_ESCAPES = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;"})
MAX_WEIGHTED_LENGTH = 280  # X's limit for a post, counted by twitter-text's weights
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


# Characters that change how text reads without being seen: format characters (bidi
# overrides and isolates, zero-width spaces and joiners, tags), line and paragraph
# separators and the other default-ignorable code points (Hangul fillers, variation
# selectors). Customers' text shows each as ⟨U+202E⟩, by Unicode's properties, not a list.
# What stays as it is: a joiner inside an emoji ZWJ sequence (👩‍👩‍👧), one variation
# selector right after what it varies (❤️, an ideographic variant), and the tags of a
# subdivision flag (🏴 + tag letters + cancel tag): there they are part of one visible sign.
_INVISIBLE = regex.compile(
    r"(?P<kept>"
    r"(?<=\p{Extended_Pictographic}[\uFE0F\p{Emoji_Modifier}]?)\u200D"
    r"(?=\p{Extended_Pictographic})"
    r"|(?<=[^\p{Default_Ignorable_Code_Point}\p{C}\p{Z}])\p{Variation_Selector}"
    r"|(?<=\U0001F3F4)[\U000E0020-\U000E007E]+\U000E007F"
    r")|[\p{Cf}\p{Zl}\p{Zp}\p{Default_Ignorable_Code_Point}]"
)

# Every match of _INVISIBLE has one of these (ASCII has none): a quick look for them
# spares most texts the search for the sequences that stay.
_ANY_INVISIBLE = regex.compile(r"[\p{Cf}\p{Zl}\p{Zp}\p{Default_Ignorable_Code_Point}]")


def invisible_shown(char: str) -> str:
    """How an invisible character appears in Slack: `⟨U+202E⟩`."""
    return f"⟨U+{ord(char):04X}⟩"


def visible_pieces(text: str) -> list[str]:
    """`text` cut into what one reads as a unit: a character, a kept sequence, a ⟨U+…⟩ mark."""
    pieces: list[str] = []
    position = 0
    for match in _INVISIBLE.finditer(text):
        pieces.extend(text[position : match.start()])
        kept = match.group("kept")
        pieces.append(kept if kept is not None else invisible_shown(match.group()))
        position = match.end()
    pieces.extend(text[position:])
    return pieces


def clean_text(text: str) -> str:
    """`text` without control characters (tab and newlines stay); PostgreSQL refuses NUL."""
    return _CONTROL.sub("", text)


def excerpt(text: str, limit: int = 40) -> str:
    """At most `limit` characters of what someone typed, for quoting it back; a cut ends in `…`."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _shown(match: regex.Match[str]) -> str:
    kept = match.group("kept")
    return kept if kept is not None else invisible_shown(match.group())


def escape_slack(text: str) -> str:
    """Customer text for Slack mrkdwn: escaped, controls dropped, invisible characters shown.

    The same as joining `escaped_pieces(text)`, in two passes over the whole text instead
    of one piece per character: every card escapes several texts.
    """
    text = clean_text(text)
    if not text.isascii() and _ANY_INVISIBLE.search(text):
        text = _INVISIBLE.sub(_shown, text)  # its look-behinds make it the slow part
    return text.translate(_SLACK_ESCAPES)


def escaped_pieces(text: str) -> list[str]:
    """`escape_slack(text)` in pieces that may be cut between, never inside (`&amp;`, ⟨U+…⟩)."""
    return [piece.translate(_SLACK_ESCAPES) for piece in visible_pieces(clean_text(text))]


def initials_of(name: str) -> str:
    """`Anna Schmidt` -> `AS`, `Jean-Luc Picard` -> `JP`, `anna` -> `AN`."""
    parts = [p for p in re.split(r"[\s._-]+", name.strip()) if p and p[0].isalpha()]
    if len(parts) >= 2:
        return (parts[0][0] + parts[-1][0]).upper()
    if parts:
        return parts[0][:2].upper()
    return "XX"
