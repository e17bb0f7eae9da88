"""Issue 14: moving a ticket to another topic's channel, its card following.

The card's Topic menu and `/topic move` post a card in the new channel, the conversation
so far in its thread, and turn the old card into a pointer; nothing is lost or doubled.
"""

from __future__ import annotations

import pytest
from sqlalchemy import text as sql
from sqlmodel import SQLModel, select

from standins.http import wait_for
from standins.signing import FORM
from standins.slack_api import LEAD, SlackStandIn
from standins.x_api import XStandIn
from store.db import session_scope
from store.models import Direction, Message
from tests.e2e.test_topics import FESTNETZ, KAI, said, set_up_topics, shown
from tests.e2e.test_topics import channels as channels  # the fixture, used by name
from tests.harness import SUPPORT, BotHarness, interaction, world


def pick_topic(bot: BotHarness, user: str, ticket: int, name: str, card_ts: str) -> str:
    """Choose `name` in the card's Topic menu, as Slack posts the choice."""
    response_url = bot.slack.response_url()
    option = {"text": {"type": "plain_text", "text": name}, "value": f"{ticket}|{name}"}
    body = interaction(
        bot.slack,
        user,
        "block_actions",
        channel={"id": SUPPORT, "name": "support"},
        container={"type": "message", "message_ts": card_ts, "channel_id": SUPPORT},
        message={"ts": card_ts, "type": "message"},
        actions=[
            {
                "type": "static_select",
                "action_id": "ticket_topic",
                "block_id": f"ticket_actions_{ticket}",
                "selected_option": option,
                "action_ts": "1.0",
            }
        ],
        response_url=response_url,
    )
    status, _ = bot.request(body, FORM)
    assert status == 200
    return said(bot.responses_to(response_url))


def test_the_topic_menu_moves_a_ticket_and_its_card_follows(
    bot: BotHarness, channels: SlackStandIn, x: XStandIn
) -> None:
    bot.slash(LEAD, "/team", f"add <@{KAI}|kai> agent")
    set_up_topics(bot)
    zahler = x.add_user("zahler", "Zahler")
    first = x.mention(zahler, "Rechnung doppelt abgebucht <b>")
    bot.poll_and_deliver()
    old = channels.card(1, SUPPORT)
    menu = [e for b in old.blocks or [] if b["type"] == "actions" for e in b["elements"]][-1]
    assert menu["type"] == "static_select" and "initial_option" not in menu
    assert [o["value"] for o in menu["options"]] == ["1|festnetz", "1|mobilfunk", "1|TV", "1|-"]
    x.tweet(zahler, "Und das Festnetz geht auch nicht", reply_to=first)
    bot.poll_and_deliver()
    bot.slash(KAI, "/note", "1 Kunde ruft morgen an")
    bot.deliver()

    assert "moves to" in pick_topic(bot, KAI, 1, "festnetz", old.ts)
    assert "already" in pick_topic(bot, KAI, 1, "festnetz", old.ts)  # a double click
    bot.deliver()

    new = channels.card(1, FESTNETZ)
    assert "*Festnetz*" in shown(new) and "Rechnung doppelt abgebucht" in shown(new)
    summary = channels.thread(FESTNETZ, new.ts)
    assert len(summary) == 1 and f"<#{SUPPORT}>" in shown(summary[0])
    for said_before in ("Und das Festnetz geht auch nicht", "Kunde ruft morgen an", "&lt;b&gt;"):
        assert said_before in shown(summary[0])
    pointer = channels.find_message(SUPPORT, old.ts)
    assert pointer is not None and f"moved to <#{FESTNETZ}>" in shown(pointer)
    assert "ticket_claim" not in shown(pointer)  # the old card's buttons are gone

    # What happens next happens in #festnetz: the customer's tweet, the claim.
    x.tweet(zahler, "Hallo?", reply_to=first)
    bot.poll_and_deliver()
    bot.click(KAI, "ticket_claim", "1", message_ts=new.ts)
    bot.deliver()
    assert "Hallo?" in shown(channels.thread(FESTNETZ, new.ts)[1])
    assert len(channels.thread(SUPPORT, old.ts)) == 2  # only the tweet and note before the move
    assert f"<@{KAI}>" in shown(channels.card(1, FESTNETZ))
    assert len(channels.cards(FESTNETZ)) == 1

    # And back with /topic move: to no topic, the support channel, a third card.
    assert "moved #1" in said(bot.slash(KAI, "/topic", "move 1 none"))
    bot.deliver()
    assert len([c for c in channels.cards(SUPPORT) if c.ts != old.ts]) == 1


def test_a_ticket_moved_before_its_card_was_posted_has_one_card_only(
    bot: BotHarness, channels: SlackStandIn, x: XStandIn
) -> None:
    bot.slash(LEAD, "/team", f"add <@{KAI}|kai> agent")
    set_up_topics(bot)
    zahler = x.add_user("zahler", "Zahler")
    first = x.mention(zahler, "Rechnung doppelt abgebucht")
    x.tweet(zahler, "Immer noch doppelt", reply_to=first)
    bot.poll()  # stored and queued, not yet in Slack
    bot.slash(KAI, "/topic", "move #1 festnetz")
    bot.deliver()

    assert channels.cards(SUPPORT) == []
    new = channels.card(1, FESTNETZ)
    thread = channels.thread(FESTNETZ, new.ts)
    assert len(thread) == 1 and "Immer noch doppelt" in shown(thread[0])


def test_moving_refuses_what_makes_no_sense_and_changes_nothing(
    bot: BotHarness, channels: SlackStandIn, x: XStandIn
) -> None:
    bot.slash(LEAD, "/team", f"add <@{KAI}|kai> agent")
    set_up_topics(bot)
    x.mention(x.add_user("k"), "DSL weg")
    bot.poll_and_deliver()
    before = world(bot)
    for text in ("move 1", "move 1 kabel", "move 9 tv", "move x tv", "move 1 festnetz", "move"):
        answer = bot.slash(KAI, "/topic", text)
        assert all(r.get("response_type", "ephemeral") == "ephemeral" for r in answer), text
    assert "There is no topic" in said(bot.slash(KAI, "/topic", "move 1 kabel"))
    assert world(bot) == before


def test_a_move_that_fails_halfway_changes_nothing_and_can_be_done_again(
    bot: BotHarness, channels: SlackStandIn, x: XStandIn, monkeypatch: pytest.MonkeyPatch
) -> None:
    bot.slash(LEAD, "/team", f"add <@{KAI}|kai> agent")
    set_up_topics(bot)
    x.mention(x.add_user("zahler"), "Rechnung doppelt abgebucht")
    bot.poll_and_deliver()
    before = world(bot)
    feed = bot.bot.services.moves.feed

    def crash(*_args: object, **_kwargs: object) -> None:
        raise RuntimeError("the process dies here")

    # The new card is queued and the old one's key given away, the summary is not: the
    # whole move must roll back.
    monkeypatch.setattr(type(feed), "moved_here", crash)
    kai = bot.bot.services.roster.member(KAI)
    assert kai is not None
    with pytest.raises(RuntimeError):
        bot.bot.services.moves.move(ticket_id=1, topic="festnetz", member=kai)
    assert world(bot) == before
    monkeypatch.undo()

    bot.slash(KAI, "/topic", "move 1 festnetz")
    bot.deliver()
    new = channels.card(1, FESTNETZ)
    assert len(channels.cards(FESTNETZ)) == 1 and len(channels.thread(FESTNETZ, new.ts)) == 1


def test_a_card_being_posted_this_instant_is_not_moved(
    bot: BotHarness, channels: SlackStandIn, x: XStandIn
) -> None:
    bot.slash(LEAD, "/team", f"add <@{KAI}|kai> agent")
    set_up_topics(bot)
    x.mention(x.add_user("zahler"), "Rechnung doppelt abgebucht")
    bot.poll()
    with bot.bot.engine.begin() as connection:  # the worker has claimed the card's row
        connection.execute(sql("UPDATE slackoutbox SET state = 'sending' WHERE id = 1"))
    before = world_without_delivery(bot)
    assert "try again in a moment" in said(bot.slash(KAI, "/topic", "move 1 festnetz"))
    assert world_without_delivery(bot) == before


def world_without_delivery(bot: BotHarness) -> dict[str, list[str]]:
    with bot.bot.engine.connect() as connection:
        return {
            table.name: sorted(repr(tuple(row)) for row in connection.execute(table.select()))
            for table in SQLModel.metadata.sorted_tables
        }


def test_a_note_typed_in_the_old_thread_after_a_move_is_kept_on_the_ticket(
    bot: BotHarness, channels: SlackStandIn, x: XStandIn
) -> None:
    bot.slash(LEAD, "/team", f"add <@{KAI}|kai> agent")
    set_up_topics(bot)
    x.mention(x.add_user("zahler", "Zahler"), "Rechnung doppelt abgebucht")
    bot.poll_and_deliver()
    old = channels.card(1, SUPPORT)
    assert "moves to" in pick_topic(bot, KAI, 1, "festnetz", old.ts)
    bot.deliver()

    # Kai still has the old thread open and writes there after the move.
    status, _ = bot.thread_message(KAI, old.ts, "Kundin hat zurückgerufen, alles gut")
    assert status == 200

    def notes() -> list[str]:
        with session_scope(bot.bot.engine) as session:
            found = session.exec(select(Message).where(Message.direction == Direction.NOTE))
            return [f"#{note.ticket_id} {note.text}" for note in found]

    assert wait_for(notes) == ["#1 Kundin hat zurückgerufen, alles gut"]
    assert "Kundin hat zurückgerufen" in said(bot.slash(KAI, "/history", "1"))
