"""Requests into the bot, signed as Slack signs them."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
import urllib.error
import urllib.request
from typing import Any
from urllib.parse import urlencode

SIGNING_SECRET = "test-signing-secret-0123456789abcdef"


def sign(
    body: bytes, *, secret: str = SIGNING_SECRET, timestamp: int | None = None
) -> dict[str, str]:
    """The X-Slack-Signature headers for `body` (v0, HMAC-SHA256)."""
    stamp = str(int(time.time()) if timestamp is None else timestamp)
    base = b"v0:" + stamp.encode() + b":" + body
    digest = hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()
    return {"X-Slack-Request-Timestamp": stamp, "X-Slack-Signature": f"v0={digest}"}


def post(url: str, body: bytes, headers: dict[str, str]) -> tuple[int, bytes]:
    """POST and return status and body, also for 4xx/5xx answers."""
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


FORM = "application/x-www-form-urlencoded"  # how Slack posts commands and interactions


def form_body(fields: dict[str, Any]) -> bytes:
    """A form-encoded body as Slack sends slash commands."""
    return urlencode(fields).encode()


def payload_body(payload: dict[str, Any]) -> bytes:
    """Interactivity bodies: form-encoded with a JSON `payload` field."""
    return urlencode({"payload": json.dumps(payload)}).encode()


def json_body(payload: dict[str, Any]) -> bytes:
    """Events API bodies: plain JSON."""
    return json.dumps(payload).encode()
