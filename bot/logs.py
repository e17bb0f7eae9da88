"""Logging set-up: text or JSON lines; secrets redacted and personal data masked in every line."""

from __future__ import annotations

import json
import logging
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


class RedactingFormatter(logging.Formatter):
    """Formats a record, then removes every known secret from the finished line.

    Redacting the finished line (not the message template) also covers arguments,
    exception texts and tracebacks.
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
                "message": record.getMessage(),
            }
            if record.exc_info:
                entry["exception"] = self.formatException(record.exc_info)
            line = json.dumps(entry, ensure_ascii=False)
        else:
            line = super().format(record)
        return self.redact(line)

    def redact(self, line: str) -> str:
        """Replace every secret in `line`, and mask personal data."""
        for secret in self._secrets:
            if secret in line:
                line = line.replace(secret, REDACTED)
        return self._mask(line) if self._mask is not None else line


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
