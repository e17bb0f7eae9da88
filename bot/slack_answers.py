"""What Slack's error answers mean for a queued post; the worker in `bot/slack.py` acts on it.

Pure: Slack's error codes and headers in, a verdict out, so every code is tested without
a server.
"""

from __future__ import annotations

import re
from datetime import timedelta
from enum import StrEnum
from typing import Any

# Errors after which the token itself is unusable: stop everything, keep the queue.
AUTH_ERRORS = frozenset(
    {
        "invalid_auth",
        "not_authed",
        "account_inactive",
        "token_revoked",
        "token_expired",
        "team_access_not_granted",
        "missing_scope",
        "not_allowed_token_type",
    }
)
# Errors about the channel: that channel waits (the bot may be invited later).
CHANNEL_ERRORS = frozenset(
    {
        "channel_not_found",
        "not_in_channel",
        "is_archived",
        "restricted_action",
        "cannot_dm_bot",
        "user_not_found",
    }
)
# Errors that say nothing about whether the message was posted.
UNCLEAR_ERRORS = frozenset(
    {"internal_error", "fatal_error", "service_unavailable", "request_timeout"}
)
BLOCK_ERRORS = frozenset({"invalid_blocks", "invalid_blocks_format"})
PAUSE_ON_CONFIG_ERROR = timedelta(seconds=60)
_SLACK_ERROR_CODE = re.compile(r"^[a-z0-9_]+$")


class SlackAnswer(StrEnum):
    """What an error answer from Slack says about a post, and so what becomes of the row."""

    UNREADABLE = "unreadable"  # no error code of Slack's: it may have been posted
    RATE_LIMITED = "rate_limited"  # wait for Retry-After, then the same row again
    AUTH_REFUSED = "auth_refused"  # the token is unusable: all posting pauses
    CHANNEL_REFUSED = "channel_refused"  # that channel waits (invite the bot)
    BLOCKS_REFUSED = "blocks_refused"  # sent again as plain text
    UNCLEAR = "unclear"  # Slack failed: it may have been posted
    REFUSED = "refused"  # refused for good; repeating it would not help


def meaning(status: int, error: str, *, has_blocks: bool) -> SlackAnswer:
    """What Slack's answer (HTTP `status`, its `error` code) means for a post."""
    if not _SLACK_ERROR_CODE.match(error):
        return SlackAnswer.UNREADABLE
    if status == 429 or error == "ratelimited":
        return SlackAnswer.RATE_LIMITED
    if error in AUTH_ERRORS:
        return SlackAnswer.AUTH_REFUSED
    if error in CHANNEL_ERRORS:
        return SlackAnswer.CHANNEL_REFUSED
    if error in BLOCK_ERRORS and has_blocks:
        return SlackAnswer.BLOCKS_REFUSED
    if error in UNCLEAR_ERRORS or status >= 500:
        return SlackAnswer.UNCLEAR
    return SlackAnswer.REFUSED


def retry_after(headers: Any) -> int:
    """Seconds to wait, from a 429's `Retry-After` (at least 1)."""
    for key, value in dict(headers or {}).items():
        if key.lower() == "retry-after":
            raw = value[0] if isinstance(value, list) else value
            try:
                return max(1, int(raw))
            except (TypeError, ValueError):
                break
    return 1
