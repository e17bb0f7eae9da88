"""The one list mechanism: pages of whole entries, true counts, buttons to the rest."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from bot.followups import FollowUpView
from bot.present import Page
from handlers import ids
from handlers.blocks.lists import Entry, followup_list, page_blocks
from handlers.blocks.text import SECTION_LIMIT

WHEN = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


def texts(blocks: list[dict[str, Any]]) -> list[str]:
    return [b["text"]["text"] for b in blocks if b["type"] == "section"]


def buttons(blocks: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {
        element["action_id"]: json.loads(element["value"])
        for block in blocks
        if block["type"] == "actions"
        for element in block["elements"]
    }


def page_of(entries: list[Entry], start: int, total: int, size: int = 20) -> list[dict[str, Any]]:
    return page_blocks(
        title="Things",
        entries=entries[start : start + size],
        page=Page(entries[start : start + size], start, total, size),
        names={"list": "things", "owner": "U1"},
        empty="Nothing.",
    )


def test_a_short_list_is_shown_whole_with_its_count_and_no_buttons() -> None:
    entries = [Entry(f"• thing {i}") for i in range(3)]
    blocks = page_of(entries, 0, 3)
    assert texts(blocks) == ["*Things* (3)", "• thing 0\n• thing 1\n• thing 2"]
    assert buttons(blocks) == {}


def test_long_entries_are_packed_whole_into_as_many_sections_as_they_need() -> None:
    entries = [Entry(f"• {i:02d} " + "x" * 700) for i in range(20)]  # 14,000 characters
    blocks = page_of(entries, 0, 20)
    shown = texts(blocks)[1:]
    assert all(len(text) <= SECTION_LIMIT for text in shown)
    assert "\n".join(shown).split("\n") == [entry.text for entry in entries]  # none cut
    assert len(shown) == 5  # four entries of 704 characters fit a section


def test_a_page_says_which_part_of_how_many_and_its_buttons_go_there() -> None:
    entries = [Entry(f"• thing {i}") for i in range(42)]

    first, middle, last = (
        page_of(entries, 0, 42),
        page_of(entries, 20, 42),
        page_of(entries, 40, 42),
    )

    assert texts(first)[0] == "*Things* (1–20 of 42)"
    assert buttons(first) == {ids.LIST_NEXT: {"list": "things", "owner": "U1", "start": 20}}
    assert "22 more after these" in json.dumps(first)
    assert texts(middle)[0] == "*Things* (21–40 of 42)"
    assert buttons(middle) == {
        ids.LIST_PREVIOUS: {"list": "things", "owner": "U1", "start": 0},
        ids.LIST_NEXT: {"list": "things", "owner": "U1", "start": 40},
    }
    assert texts(last)[0] == "*Things* (41–42 of 42)"
    assert texts(last)[1] == "• thing 40\n• thing 41"
    assert set(buttons(last)) == {ids.LIST_PREVIOUS} and "40 before these" in json.dumps(last)


def test_a_masked_dm_in_a_list_has_its_own_section_with_the_reveal_button() -> None:
    entries = [Entry("• a"), Entry("• DM 0171 ••••678", reveal_id=7), Entry("• b")]
    blocks = page_of(entries, 0, 3)
    assert texts(blocks)[1:] == ["• a", "• DM 0171 ••••678", "• b"]
    [revealable] = [b for b in blocks if "accessory" in b]
    assert revealable["accessory"]["action_id"] == ids.REVEAL
    assert revealable["accessory"]["value"] == "7"


def test_an_empty_list_says_so() -> None:
    assert texts(page_of([], 0, 0)) == ["*Things*\nNothing."]


def test_an_entry_no_section_can_hold_is_a_mistake_of_its_builder() -> None:
    with pytest.raises(ValueError, match="fits no section"):
        page_of([Entry("x" * (SECTION_LIMIT + 1))], 0, 1)


def test_42_follow_ups_end_in_whole_entries_never_in_a_cut_date() -> None:
    # Issue 10: the list was one section cut at 3,000 characters, inside a date token.
    views = [
        FollowUpView(i, i, "U0ANNA", WHEN + timedelta(hours=i), "Rückruf " * 12, False)
        for i in range(1, 43)
    ]
    pages = [followup_list(Page(views[start : start + 20], start, 42)) for start in (0, 20, 40)]

    lines = [line for p in pages for text in texts(p["blocks"])[1:] for line in text.split("\n")]
    assert [int(re.search(r"\*#(\d+)\*", line)[1]) for line in lines] == list(range(1, 43))  # type: ignore[index]
    for text in (text for p in pages for text in texts(p["blocks"])):
        assert text.count("<") == text.count(">"), text[-60:]  # every token closed
        assert len(text) <= SECTION_LIMIT
    assert all(p["text"] == "42 open follow-ups" for p in pages)
