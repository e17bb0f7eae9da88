"""What Slack's error answers mean for a queued post: decided without a server."""

from __future__ import annotations

import pytest

from bot.slack_answers import SlackAnswer, meaning, retry_after


@pytest.mark.parametrize(
    ("status", "error", "has_blocks", "expected"),
    [
        (429, "ratelimited", True, SlackAnswer.RATE_LIMITED),
        (200, "ratelimited", False, SlackAnswer.RATE_LIMITED),
        (200, "invalid_auth", True, SlackAnswer.AUTH_REFUSED),
        (200, "token_revoked", False, SlackAnswer.AUTH_REFUSED),
        (200, "missing_scope", False, SlackAnswer.AUTH_REFUSED),
        (200, "not_in_channel", True, SlackAnswer.CHANNEL_REFUSED),
        (200, "channel_not_found", False, SlackAnswer.CHANNEL_REFUSED),
        (200, "invalid_blocks", True, SlackAnswer.BLOCKS_REFUSED),
        (200, "invalid_blocks", False, SlackAnswer.REFUSED),  # nothing to leave out
        (200, "internal_error", False, SlackAnswer.UNCLEAR),
        (503, "service_unavailable", False, SlackAnswer.UNCLEAR),
        (502, "some_new_error", False, SlackAnswer.UNCLEAR),
        (200, "msg_too_long", True, SlackAnswer.REFUSED),
        (502, "The server responded with: <html>Bad Gateway</html>", False, SlackAnswer.UNREADABLE),
        (429, "", False, SlackAnswer.UNREADABLE),  # no code of Slack's at all
    ],
)
def test_each_answer_has_one_meaning(
    status: int, error: str, has_blocks: bool, expected: SlackAnswer
) -> None:
    assert meaning(status, error, has_blocks=has_blocks) is expected


@pytest.mark.parametrize(
    ("headers", "seconds"),
    [
        ({"Retry-After": "7"}, 7),
        ({"retry-after": ["3"]}, 3),
        ({"Retry-After": "0"}, 1),
        ({"Retry-After": "soon"}, 1),
        ({}, 1),
        (None, 1),
    ],
)
def test_a_rate_limit_waits_as_long_as_slack_says_and_at_least_a_second(
    headers: dict[str, object] | None, seconds: int
) -> None:
    assert retry_after(headers) == seconds
