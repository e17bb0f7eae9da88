"""Logging set-up: text or JSON lines; secrets redacted and personal data masked in every line."""

from __future__ import annotations

import json
import logging
import re
import sys
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import TextIO

REDACTED = "[redacted]"
# Libraries that log request headers (tokens) at DEBUG or every poll at INFO.
_QUIET = {
    "tweepy": logging.WARNING,
    "urllib3": logging.WARNING,
    "requests_oauthlib": logging.WARNING,
    "oauthlib": logging.WARNING,
    "apscheduler": logging.ERROR,
    "waitress.queue": logging.ERROR,
}


# Escapes as JSON, Python reprs and slack_sdk's DEBUG lines write them: `\u201c0171 …`
# would hide a phone number behind the letters of its escape.
_ESCAPE = re.compile(r"\\(?:u[0-9a-fA-F]{4}|U[0-9a-fA-F]{8}|x[0-9a-fA-F]{2}|[\\\"'/bfnrt])")
_SIMPLE_ESCAPES = {"\\": "\\", '"': '"', "'": "'", "/": "/"}


def _decoded(escape: str) -> str:
    """The one character an escape stands for; a space for controls and surrogate halves."""
    if escape[1] in "uUx":
        code = int(escape[2:], 16)
        if code > 0x10FFFF or 0xD800 <= code <= 0xDFFF:
            return " "
        char = chr(code)
        return char if char.isprintable() else " "
    return _SIMPLE_ESCAPES.get(escape[1], " ")


def mask_escaped(line: str, mask: Callable[[str], str]) -> str:
    """`mask` applied to `line` as it reads with its escapes decoded.

    Personal data is looked for in the decoded text; where `mask` hides a character, the
    line shows the mask, and everything else (escapes included) stays as it was written.
    """
    pieces: list[tuple[str, str]] = []  # (as written, as read)
    position = 0
    for match in _ESCAPE.finditer(line):
        pieces.extend((char, char) for char in line[position : match.start()])
        pieces.append((match.group(), _decoded(match.group())))
        position = match.end()
    if not pieces:
        return mask(line)
    pieces.extend((char, char) for char in line[position:])
    read = "".join(shown for _, shown in pieces)
    masked = mask(read)
    if len(masked) != len(read):  # a mask that changes lengths cannot be mapped back
        return masked
    return "".join(
        written if hidden == shown else hidden
        for (written, shown), hidden in zip(pieces, masked, strict=True)
    )


class RedactingFormatter(logging.Formatter):
    """Formats a record, then removes every known secret from the finished line.

    Redacting the finished line (not the message template) also covers arguments,
    exception texts and tracebacks. JSON lines are redacted field by field before they
    are encoded, so that encoding cannot split a finding into escapes.
    """

    def __init__(
        self,
        secrets: Iterable[str],
        *,
        json_lines: bool,
        mask: Callable[[str], str] | None = None,
    ) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s: %(message)s")
        self._secrets = sorted({s for s in secrets if len(s) >= 4}, key=len, reverse=True)
        self._json = json_lines
        self._mask = mask

    def format(self, record: logging.LogRecord) -> str:
        if self._json:
            entry = {
                "time": datetime.fromtimestamp(record.created, UTC).isoformat(),
                "level": record.levelname,
                "logger": record.name,
                "message": self.redact(record.getMessage()),
            }
            if record.exc_info:
                entry["exception"] = self.redact(self.formatException(record.exc_info))
            return json.dumps(entry, ensure_ascii=False)
        return self.redact(super().format(record))

    def redact(self, line: str) -> str:
        """Replace every secret in `line`, and mask personal data, also behind escapes."""
        for secret in self._secrets:
            if secret in line:
                line = line.replace(secret, REDACTED)
        return mask_escaped(line, self._mask) if self._mask is not None else line


def configure(
    *,
    level: str,
    fmt: str,
    secrets: Iterable[str],
    mask: Callable[[str], str] | None = None,
    stream: TextIO | None = None,
) -> None:
    """Send logs to stderr (or `stream`) in the chosen format, secrets redacted, data masked."""
    handler = logging.StreamHandler(sys.stderr if stream is None else stream)
    handler.setFormatter(RedactingFormatter(secrets, json_lines=fmt == "json", mask=mask))
    root = logging.getLogger()
    for existing in list(root.handlers):
        root.removeHandler(existing)
    root.addHandler(handler)
    root.setLevel(level)
    for name, quiet_level in _QUIET.items():
        logging.getLogger(name).setLevel(max(quiet_level, logging.getLevelName(level)))
