"""Masking log lines through the escapes that JSON and reprs write."""

from __future__ import annotations

import pytest

from bot.logs import mask_escaped
from bot.pii import PiiDetector

MASK = PiiDetector().mask


@pytest.mark.parametrize(
    ("line", "shown"),
    [
        ('"text": "\\u201c0171 2345678\\u201d"', '"text": "\\u201c0171 ••••678\\u201d"'),
        ("a\\n0171 2345678\\tb", "a\\n0171 ••••678\\tb"),
        (
            "IBAN\\u00a0DE89 3704 0044 0532 0130 00\\u201d",
            "IBAN\\u00a0DE89 •••• •••• •••• •••0 00\\u201d",
        ),
        ("k\\u00e4the@example.com", "k••••@example.com"),
        ("nothing personal \\u201cok\\u201d \\\\n", "nothing personal \\u201cok\\u201d \\\\n"),
        ("\\ud83d\\ude00 \\U0010ffff \\UFFFFFFFF", "\\ud83d\\ude00 \\U0010ffff \\UFFFFFFFF"),
    ],
)
def test_personal_data_behind_escapes_is_masked_and_the_escapes_stay(line: str, shown: str) -> None:
    assert mask_escaped(line, MASK) == shown


def test_a_line_without_escapes_is_masked_as_it_is() -> None:
    assert mask_escaped("ruf 0171 2345678 an", MASK) == MASK("ruf 0171 2345678 an")
