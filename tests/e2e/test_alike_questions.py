"""The same question asked by many: one group card, members in its thread (SPEC §10)."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session, select

from handlers import ids
from standins.http import wait_for
from standins.signing import FORM
from standins.slack_api import LEAD, SlackStandIn
from standins.x_api import XStandIn
from store.models import Ticket
from tests.e2e.alike import group_cards, others, storm
from tests.harness import SUPPORT, BotHarness, interaction, make_settings, world


def test_a_storm_of_alike_questions_becomes_one_group_card_and_others_keep_their_own(
    bot: BotHarness, x: XStandIn, slack: SlackStandIn
) -> None:
    first = storm(x, 2)
    bot.poll_and_deliver()
    assert len(slack.cards()) == 2  # two alike tweets are no group yet

    storm(x, 148, start=2)
    mixed = others(x)
    posts_before = len(slack.calls_to("chat.postMessage"))
    result = bot.poll_and_deliver()

    assert len(result.new_tickets) == 158
    (card,) = group_cards(slack)
    size = card.payload["size"]
    assert card.payload["group_id"] == 1
    assert size >= 140  # nearly all of them: the data's own words, not copies of one text
    assert f"Sammelfrage 1: {size} customers ask" in str(card.blocks)
    assert "iphone" in str(card.blocks).lower()
    # The two who asked first keep their cards, which name the group now.
    for ticket_id in (1, 2):
        assert "Sammelfrage 1" in str(slack.card(ticket_id).blocks)
    # Every other customer's question has its own card, in the order they asked.
    own = [c.payload["tweet_id"] for c in slack.cards()]
    assert own[:2] == [t["id"] for t in first]
    assert own[-len(mixed) :] == [t["id"] for t in mixed]
    # The members that joined are listed in the group card's thread, many per message.
    thread = slack.thread(SUPPORT, card.ts)
    listed = [b for m in thread for b in (m.blocks or []) if b["type"] == "section"]
    assert len(listed) == size - 2
    assert len(thread) <= (size - 2) // 20 + 1
    posts = len(slack.calls_to("chat.postMessage")) - posts_before
    ungrouped = 150 - size
    assert posts == 1 + len(thread) + len(mixed) + ungrouped
    assert all(len(m.blocks or []) <= 50 for m in thread)


def test_later_members_join_the_group_and_a_restarted_bot_still_knows_it(
    bot: BotHarness, x: XStandIn, slack: SlackStandIn, database_url: str
) -> None:
    storm(x, 5)
    bot.poll_and_deliver()
    (card,) = group_cards(slack)
    assert card.payload["size"] == 5
    bot.close()

    again = BotHarness(make_settings(database_url, slack, x), slack, x)
    try:
        storm(x, 3, start=5)
        again.poll_and_deliver()
        (card,) = group_cards(slack)
        assert card.payload["size"] == 8
        assert "Sammelfrage 1: 8 customers ask" in str(card.blocks)
        assert len(slack.cards()) == 2  # the two who asked before the group formed
    finally:
        again.close()


def click_in_modal(
    bot: BotHarness, user: str, view: dict[str, Any], action_id: str, value: str
) -> None:
    """Click a button inside an open modal, as Slack posts it."""
    action = {"type": "button", "action_id": action_id, "block_id": "b", "value": value}
    body = interaction(
        bot.slack,
        user,
        "block_actions",
        container={"type": "view", "view_id": view["id"]},
        view=view,
        actions=[action],
        response_url=None,
    )
    status, answer = bot.request(body, FORM)
    assert status == 200, (status, answer)


def modal_showing(bot: BotHarness, words: str) -> dict[str, Any] | None:
    """The newest modal, once it shows `words`."""
    views = bot.open_views()
    return views[-1] if views and words in str(views[-1]["blocks"]) else None


def test_a_member_whose_question_was_different_is_taken_out_and_gets_its_own_card(
    bot: BotHarness, x: XStandIn, slack: SlackStandIn
) -> None:
    storm(x, 30)
    bot.poll_and_deliver()
    (card,) = group_cards(slack)
    assert card.payload["size"] == 30

    bot.click(LEAD, ids.GROUP_SHOW_MEMBERS, "1", wait=False)
    members = wait_for(lambda: bot.open_views() and bot.open_views()[-1])
    listed = str(members["blocks"])
    assert "30 members" in listed and "1–20 shown" in listed
    assert listed.count("Take out") == 20
    click_in_modal(bot, LEAD, members, ids.GROUP_MEMBERS_PAGE, "1:20")
    second = wait_for(lambda: modal_showing(bot, "21–30 shown"))

    click_in_modal(bot, LEAD, second, ids.GROUP_TAKE_OUT, "1:25")
    wait_for(lambda: modal_showing(bot, "29 members"))
    bot.deliver()

    (card,) = group_cards(slack)
    assert card.payload["size"] == 29
    own = slack.card(25)
    assert "Sammelfrage" not in str(own.blocks)
    thread = slack.thread(SUPPORT, card.ts)
    assert "taken out" in str(thread)
    # Grouped no more: the same customer's ticket stays out when alike tweets follow.
    storm(x, 3, start=30)
    bot.poll_and_deliver()
    (card,) = group_cards(slack)
    assert card.payload["size"] == 32


def test_resolving_a_group_resolves_members_without_a_conversation_of_their_own(
    bot: BotHarness, x: XStandIn, slack: SlackStandIn
) -> None:
    storm(x, 6)
    bot.poll_and_deliver()
    (said,) = bot.click(LEAD, ids.GROUP_RESOLVE, "1")
    assert "4 tickets with it" in said["text"] and "2 with a card of their own" in said["text"]
    bot.deliver()
    with Session(bot.bot.engine) as session:
        states = {t.id: t.state for t in session.exec(select(Ticket))}
    assert states == {
        1: "new",
        2: "new",
        3: "resolved",
        4: "resolved",
        5: "resolved",
        6: "resolved",
    }
    (card,) = group_cards(slack)
    assert "resolved" in str(card.blocks)


def test_group_buttons_the_bot_never_wrote_change_nothing(
    bot: BotHarness, x: XStandIn, slack: SlackStandIn
) -> None:
    storm(x, 4)
    bot.poll_and_deliver()
    before = world(bot)
    for action_id, value, told in (
        (ids.GROUP_RESOLVE, "999", "There is no Sammelfrage 999."),
        (ids.GROUP_RESOLVE, "1; DROP TABLE", "does not belong"),
        (ids.GROUP_KEEP_ANSWERING, "1", "Answer the group first"),
        (ids.GROUP_APPROVE, "1", "no answer waiting"),
        (ids.GROUP_ANSWER_ALL, "-1", "does not belong"),
        (ids.SEND_SUGGESTION, '{"ticket": 1, "canned": 5}', "does not belong"),
    ):
        (said,) = bot.click(LEAD, action_id, value)
        assert told in said["text"], (action_id, said)
    assert world(bot) == before


def test_taking_out_a_member_twice_takes_it_out_once(
    bot: BotHarness, x: XStandIn, slack: SlackStandIn
) -> None:
    storm(x, 4)
    bot.poll_and_deliver()
    bot.click(LEAD, ids.GROUP_SHOW_MEMBERS, "1", wait=False)
    members = wait_for(lambda: bot.open_views() and bot.open_views()[-1])
    click_in_modal(bot, LEAD, members, ids.GROUP_TAKE_OUT, "1:4")
    wait_for(lambda: modal_showing(bot, "3 members"))
    click_in_modal(bot, LEAD, members, ids.GROUP_TAKE_OUT, "1:4")  # the old list, again
    click_in_modal(bot, LEAD, members, ids.GROUP_TAKE_OUT, "1:x")
    bot.deliver()
    assert len(slack.cards()) == 3  # the two who formed it, and #4 once
    (card,) = group_cards(slack)
    assert card.payload["size"] == 3
