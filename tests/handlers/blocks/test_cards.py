"""The ticket card, built by pure functions: no Slack, no database."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from bot.present import CardView, CustomerMessageView, CustomerView
from handlers import ids
from handlers.blocks.cards import customer_message, ticket_card
from handlers.blocks.text import escape_within

ANNA = CustomerView(
    name="Anna Kowalski", username="anna_k", followers=1234, verified=False, vip=False
)
CARD = CardView(
    ticket_id=12,
    tweet_id="1900000000000000001",
    state="new",
    source="mention",
    customer=ANNA,
    text="Mein Internet ist weg",
    url="https://x.com/anna_k/status/1900000000000000001",
    created_at=datetime(2026, 11, 23, 9, 0, tzinfo=UTC),
)


def texts(message: Mapping[str, Any]) -> str:
    return json.dumps(message["blocks"], ensure_ascii=False)


def test_the_card_shows_number_customer_tweet_time_link_source_and_history() -> None:
    rendered = texts(ticket_card(replace(CARD, earlier_tickets=2, previous_ticket_id=7)))
    for expected in (
        "*#12*",
        "*Anna Kowalski*",
        "<https://x.com/anna_k|@anna_k>",
        "1,234 followers",
        ">Mein Internet ist weg",
        "<!date^1795424400^",
        "open on X",
        "via mention",
        "2 earlier tickets (last: #7)",
        "*Status:* 🆕 New",
    ):
        assert expected in rendered, expected


def test_the_card_carries_the_contracts_metadata() -> None:
    assert ticket_card(CARD)["metadata"] == {
        "event_type": "servicekanal_ticket",
        "event_payload": {"ticket_id": 12, "tweet_id": "1900000000000000001"},
    }


def test_the_card_has_the_five_buttons_with_the_ticket_number() -> None:
    actions = ticket_card(CARD)["blocks"][-1]
    assert actions["type"] == "actions"
    assert [e["action_id"] for e in actions["elements"]] == list(ids.CARD_ACTIONS)
    assert [e["text"]["text"] for e in actions["elements"]] == [
        "Claim",
        "Reply",
        "Follow-up",
        "Resolve",
        "Escalate",
    ]
    assert {e["value"] for e in actions["elements"]} == {"12"}


def test_flags_badges_and_owner_are_shown() -> None:
    card = replace(
        CARD,
        customer=replace(ANNA, verified=True, vip=True),
        has_pii=True,
        is_fail=True,
        out_of_hours=True,
        owner_slack_id="U0ANNA",
        state="claimed",
    )
    rendered = texts(ticket_card(card))
    for expected in (
        "✔️ verified",
        "⭐ VIP",
        "personal data in tweet",
        "#fail",
        "out of hours",
        "*Owner:* <@U0ANNA>",
        "Claimed",
    ):
        assert expected in rendered, expected


def test_a_keyword_ticket_says_the_customer_did_not_mention_us() -> None:
    rendered = texts(
        ticket_card(replace(CARD, source="keyword", keyword_query="telekom <störung>"))
    )
    assert "customer did not mention us" in rendered
    assert "query `telekom &lt;störung&gt;`" in rendered


def test_customer_text_can_never_ping_or_disguise_a_link() -> None:
    hostile = "<!channel> <!here> <@U0BOSS> <http://evil.example|telekom.de> & <#C0GENERAL>"
    card = replace(CARD, text=hostile, customer=replace(ANNA, name="<!everyone> Bob"))
    message = ticket_card(card)
    rendered = texts(message) + message["text"]
    for raw in (
        "<!channel>",
        "<!here>",
        "<@U0BOSS>",
        "<http://evil.example|",
        "<!everyone>",
        "<#C0GENERAL>",
    ):
        assert raw not in rendered
    assert "&lt;!channel&gt;" in rendered and "&amp;" in rendered


def test_a_very_long_tweet_is_cut_to_fit_a_section() -> None:
    card = replace(CARD, text="&" * 4000)
    for block in ticket_card(card)["blocks"]:
        text = block.get("text", {}).get("text", "")
        assert len(text) <= 3000
        assert not text.rstrip("…").endswith(("&", "&a", "&am"))


@given(st.text(max_size=600), st.integers(min_value=10, max_value=400))
def test_escaping_within_a_limit_never_splits_an_entity_or_exceeds_it(
    text: str, limit: int
) -> None:
    escaped = escape_within(text, limit)
    assert len(escaped) <= limit
    assert "<" not in escaped and ">" not in escaped
    body = escaped.removesuffix("…")
    assert body.replace("&amp;", "").replace("&lt;", "").replace("&gt;", "").count("&") == 0


def test_a_later_message_in_the_thread_names_the_customer_and_links_the_tweet() -> None:
    view = CustomerMessageView(
        ticket_id=12,
        customer=ANNA,
        text="<!here> immer noch",
        url="https://x.com/anna_k/status/2",
        created_at=CARD.created_at,
    )
    message = customer_message(view)
    rendered = texts(message)
    assert (
        "@anna_k" in rendered and "&lt;!here&gt; immer noch" in rendered and "open on X" in rendered
    )
    assert "metadata" not in message  # the queue adds servicekanal_post metadata when sending
    assert "reopened" in texts(customer_message(replace(view, reopened=True)))
