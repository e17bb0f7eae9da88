"""Long lists, end to end (issue 10): whole entries, true counts, every entry reachable."""

from __future__ import annotations

import json
import re
import time
from datetime import timedelta
from typing import Any

from standins.http import wait_for
from standins.signing import FORM, payload_body
from standins.slack_api import ANNA, LEAD, TEAM_ID, SlackStandIn
from standins.x_api import XStandIn
from tests.e2e.test_working_a_ticket import build_team
from tests.harness import BotHarness, question

TICKET = re.compile(r"\*#(\d+)\*")


def sections(blocks: list[dict[str, Any]]) -> list[str]:
    return [b["text"]["text"] for b in blocks if b["type"] == "section"]


def next_button(blocks: list[dict[str, Any]], name: str) -> str | None:
    """The value of the Next button of the list `name`, if it has one."""
    for block in blocks:
        for element in block.get("elements", []) if block["type"] == "actions" else []:
            value = json.loads(element["value"])
            if element["action_id"] == "list_next" and value["list"] == name:
                return str(element["value"])
    return None


def assert_whole(blocks: list[dict[str, Any]]) -> None:
    for text in sections(blocks):
        assert len(text) <= 3000 and text.count("<") == text.count(">"), text[-80:]


def every_page(bot: BotHarness, first: dict[str, Any], name: str) -> list[dict[str, Any]]:
    """The first page of an ephemeral list and all after it, by its Next button."""
    pages = [first]
    while (value := next_button(pages[-1]["blocks"], name)) is not None:
        [answer] = bot.click(ANNA, "list_next", value)
        assert answer.get("replace_original") is True  # the list is shown in place
        pages.append(answer)
    return pages


def tickets_in(pages: list[dict[str, Any]], heading: str) -> list[int]:
    """Ticket numbers of the entries under a list's heading, page by page."""
    found = []
    for page in pages:
        assert_whole(page["blocks"])
        texts = sections(page["blocks"])
        start = next(i for i, t in enumerate(texts) if t.startswith(f"*{heading}*"))
        for text in texts[start + 1 :]:
            if text.startswith("*"):
                break
            found += [int(n) for n in TICKET.findall(text)]
    return found


def customers_tweet(bot: BotHarness, x: XStandIn, count: int) -> None:
    for i in range(count):
        x.mention(x.add_user(f"kunde{i}"), question(i))
    bot.poll_and_deliver()


def test_followup_list_of_42_shows_whole_entries_and_pages_to_every_one(
    bot: BotHarness, x: XStandIn
) -> None:
    build_team(bot)
    customers_tweet(bot, x, 42)
    anna = bot.bot.services.roster.member(ANNA)
    assert anna is not None
    now = bot.bot.services.clock()
    for ticket in range(1, 43):
        bot.bot.services.followups.promise(
            ticket_id=ticket, member=anna, due=now + timedelta(hours=ticket), note="Rückruf " * 12
        )

    [first] = bot.slash(ANNA, "/followup", "list")
    pages = every_page(bot, first, "followups")

    assert "*Open follow-ups* (1–20 of 42)" in sections(first["blocks"])[0]
    assert "22 more after these" in json.dumps(first["blocks"], ensure_ascii=False)
    assert tickets_in(pages, "Open follow-ups") == list(range(1, 43))


def test_canned_list_of_60_pages_to_every_answer(bot: BotHarness) -> None:
    build_team(bot)
    for i in range(60):
        bot.bot.services.canned.add(name=f"antwort{i:02d}", text="Danke! " * 30, author=LEAD)

    [first] = bot.slash(ANNA, "/canned", "list")
    pages = every_page(bot, first, "canned")

    names = [
        n for p in pages for t in sections(p["blocks"]) for n in re.findall(r":(antwort\d+)", t)
    ]
    assert names == [f"antwort{i:02d}" for i in range(60)]
    assert "(1–20 of 60)" in sections(first["blocks"])[0]
    for page in pages:
        assert_whole(page["blocks"])


def test_history_of_a_customer_with_30_tickets_counts_them_all_and_pages_to_each(
    bot: BotHarness, x: XStandIn
) -> None:
    build_team(bot)
    karl = x.add_user("karl_k", "Karl Kunde")
    lead = bot.bot.services.roster.member(LEAD)
    assert lead is not None
    for i in range(30):
        x.mention(karl, question(i))
        bot.poll_and_deliver()
        bot.bot.services.tickets.resolve(ticket_id=i + 1, member=lead)

    [first] = bot.slash(ANNA, "/history", "@karl_k")
    pages = every_page(bot, first, "history_tickets")

    assert "· 30 tickets ·" in sections(first["blocks"])[0]
    assert "(1–20 of 30)" in json.dumps(first["blocks"], ensure_ascii=False)
    assert tickets_in(pages, "Tickets") == list(range(30, 0, -1))


def test_the_home_tab_pages_through_60_tickets_and_40_follow_ups_each_keeping_its_place(
    bot: BotHarness, x: XStandIn, slack: SlackStandIn
) -> None:
    build_team(bot)
    customers_tweet(bot, x, 60)
    services = bot.bot.services
    anna = services.roster.member(ANNA)
    assert anna is not None
    now = services.clock()
    for ticket in range(1, 61):
        services.tickets.claim(ticket_id=ticket, member=anna)
    for ticket in range(1, 41):
        services.followups.promise(
            ticket_id=ticket, member=anna, due=now + timedelta(hours=ticket), note=""
        )
    slack.home_views.pop(ANNA, None)
    bot.event({"type": "app_home_opened", "user": ANNA, "tab": "home", "channel": "D0ANNA"})
    home = wait_for(lambda: slack.home_views.get(ANNA))
    assert "(1–20 of 60)" in json.dumps(home, ensure_ascii=False)
    assert "(1–20 of 40)" in json.dumps(home, ensure_ascii=False)

    tickets, followups = [], []
    for _ in range(10):
        assert_whole(home["blocks"])
        texts = sections(home["blocks"])
        tickets_at = texts.index(next(t for t in texts if t.startswith("*Open tickets*")))
        followups_at = texts.index(next(t for t in texts if t.startswith("*Open follow-ups*")))
        tickets += [int(n) for t in texts[tickets_at + 1 : followups_at] for n in TICKET.findall(t)]
        followups += [int(n) for t in texts[followups_at + 1 :] for n in TICKET.findall(t)]
        name = "home_tickets" if next_button(home["blocks"], "home_tickets") else "home_followups"
        value = next_button(home["blocks"], name)
        if value is None:
            break
        slack.home_views.pop(ANNA)
        click_on_home(bot, home, value)
        home = wait_for(lambda: slack.home_views.get(ANNA))

    # Tickets paged to the end first, each page keeping the follow-ups' place (1–20).
    assert sorted(set(tickets)) == list(range(1, 61))
    assert sorted(set(followups)) == list(range(1, 41))


def click_on_home(bot: BotHarness, view: dict[str, Any], value: str) -> None:
    """Click a button on the Home tab (block actions from a view carry the view)."""
    payload = {
        "type": "block_actions",
        "team": {"id": TEAM_ID, "domain": "servicekanal-test"},
        "user": {"id": ANNA, "username": "anna", "team_id": TEAM_ID},
        "api_app_id": "A0SERVICE",
        "trigger_id": bot.slack.new_trigger_id(),
        "container": {"type": "view", "view_id": "VHOME" + ANNA},
        "view": {**view, "id": "VHOME" + ANNA},
        "actions": [
            {
                "type": "button",
                "action_id": "list_next",
                "block_id": "paging",
                "value": value,
                "action_ts": f"{time.time():.6f}",
            }
        ],
    }
    status, _ = bot.request(payload_body(payload), FORM)
    assert status == 200


def test_a_paging_button_the_bot_never_made_is_answered_and_shows_nothing(
    bot: BotHarness,
) -> None:
    build_team(bot)
    for value in (
        "nonsense",
        '{"list": "canned"}',
        '{"list": "x", "start": 0}',
        '{"list": "canned", "start": -1}',
    ):
        [answer] = bot.click(ANNA, "list_next", value)
        assert answer["text"] == "This button does not belong to a list."
        assert answer.get("replace_original") is False
