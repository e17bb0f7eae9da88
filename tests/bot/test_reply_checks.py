"""Reply checks: X's weighted length via twitter-text, held against X's own conformance cases."""

from __future__ import annotations

from typing import Any

import pytest
import yaml
from twitter_text import parse_tweet

from bot.delivery import same_text
from tests.conftest import requires_reference


def conformance(section: str) -> list[dict[str, Any]]:
    cases = yaml.safe_load((requires_reference() / "twitter-text-validate.yml").read_text())
    return list(cases["tests"][section])


@pytest.mark.parametrize(
    "section",
    ["WeightedTweetsWithDiscountedEmojiCounterTest", "UnicodeDirectionalMarkerCounterTest"],
)
def test_weighted_length_matches_xs_conformance_cases(section: str) -> None:
    for case in conformance(section):
        parsed = parse_tweet(case["text"])
        expected = case["expected"]
        assert (parsed.weightedLength, parsed.valid) == (
            expected["weightedLength"],
            expected["valid"],
        ), case["description"]


def test_only_emoji_sequences_count_differently_from_the_older_rules() -> None:
    # X's older (v2) rules counted every code point of an emoji sequence; today's count a
    # sequence once, as the section above checks. Everything else is the same.
    differing = {
        case["description"]
        for case in conformance("WeightedTweetsCounterTest")
        if parse_tweet(case["text"]).weightedLength != case["expected"]["weightedLength"]
    }
    assert differing == {
        "Count a mix of single byte single word, and double word unicode characters",
        "Count unicode emoji chars outside the basic multilingual plane with skin tone modifiers",
    }


def test_x_rewrites_are_ignored_when_looking_for_our_reply() -> None:
    assert same_text("Wir prüfen das ^AS", "@karl_k Wir prüfen das ^AS")
    assert same_text(
        "Siehe https://telekom.de/hilfe ^AS", "@karl_k @TelekomHilft Siehe https://t.co/abc123 ^AS"
    )
    assert not same_text("Wir prüfen das ^AS", "@karl_k Wir prüfen das ^BM")
