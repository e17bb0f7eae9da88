"""Issue 14: topics route tickets to their channels; new tickets are given to people.

The lead sets up #festnetz, #mobilfunk and #tv; a tweet about DSL lands in #festnetz,
one about an invoice in the support channel. With ASSIGNMENT=auto Kai, who has the skill
and the fewest open tickets, gets the new #festnetz ticket; Romina is away until /back;
nobody gets more than MAX_OPEN_PER_AGENT.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlmodel import select

from standins.http import wait_for
from standins.slack_api import LEAD, SlackStandIn
from standins.x_api import XStandIn
from store.db import session_scope
from store.models import Ticket
from tests.fakes.domain import FakeClock
from tests.harness import SUPPORT, BotHarness, make_settings, world

FESTNETZ, MOBILFUNK, TV = "CFESTNETZ", "CMOBILFUNK", "CTV0000001"
KAI, ROMINA, JONAS = "U0KAI", "U0ROMINA", "U0JONAS"


def said(responses: list[dict[str, Any]]) -> str:
    return " ".join(
        r.get("text", "") + json.dumps(r.get("blocks", []), ensure_ascii=False) for r in responses
    )


def shown(message: Any) -> str:
    return json.dumps(message.blocks, ensure_ascii=False) + str(message.text)


@pytest.fixture
def channels(slack: SlackStandIn) -> SlackStandIn:
    slack.add_channel(FESTNETZ, "festnetz")
    slack.add_channel(MOBILFUNK, "mobilfunk")
    slack.add_channel(TV, "tv")
    for user, name in ((KAI, "Kai Krause"), (ROMINA, "Romina Roth"), (JONAS, "Jonas Jung")):
        slack.add_user(user, name)
    return slack


def set_up_topics(bot: BotHarness) -> None:
    """The lead's three topics, as the issue types them."""
    for text in (
        f"festnetz <#{FESTNETZ}|festnetz> DSL Router Anschluss Festnetz Störung",
        f"mobilfunk <#{MOBILFUNK}|mobilfunk> LTE 5G SIM eSIM Roaming",
        f"TV <#{TV}|tv> MagentaTV Sender Receiver",
    ):
        assert "go to" in said(bot.slash(LEAD, "/topic", f"add {text}"))


@pytest.fixture
def auto(database_url: str, channels: SlackStandIn, x: XStandIn) -> Iterator[BotHarness]:
    """The bot with ASSIGNMENT=auto and a cap of two."""
    settings = make_settings(database_url, channels, x, assignment="auto", max_open_per_agent=2)
    harness = BotHarness(settings, channels, x)
    yield harness
    harness.close()


def test_a_dsl_tweet_lands_in_festnetz_and_an_invoice_in_the_support_channel(
    bot: BotHarness, channels: SlackStandIn, x: XStandIn
) -> None:
    set_up_topics(bot)
    listed = said(bot.slash(LEAD, "/topic", "list"))
    assert listed.index("Festnetz") < listed.index("Mobilfunk") < listed.index("TV")
    assert "first" in listed and f"<#{FESTNETZ}>" in listed

    koeln = x.add_user("koeln_kunde", "Kunde Köln")
    dsl = x.mention(koeln, "Seit heute morgen kein DSL in Köln")
    rechnung = x.mention(x.add_user("zahler"), "Rechnung doppelt abgebucht")
    umlaut = x.mention(x.add_user("stoerer"), "schon wieder eine STOERUNG")
    bot.poll_and_deliver()

    card = channels.card(1, FESTNETZ)
    assert "*Festnetz*" in shown(card) and "kein DSL in Köln" in shown(card)
    assert card.payload == {"ticket_id": 1, "tweet_id": dsl["id"]}
    assert channels.card(2, SUPPORT).payload["tweet_id"] == rechnung["id"]
    assert "🏷️" not in shown(channels.card(2, SUPPORT))
    assert channels.card(3, FESTNETZ).payload["tweet_id"] == umlaut["id"]  # ö = oe
    assert channels.cards(SUPPORT) == [channels.card(2, SUPPORT)]

    # The customer's next tweet joins the ticket, in its channel, though it names no keyword.
    x.tweet(koeln, "Router blinkt rot, falls das hilft", reply_to=dsl)
    x.tweet(koeln, "Und mein Receiver auch", reply_to=dsl)  # a TV keyword: still Festnetz
    bot.poll_and_deliver()
    thread = channels.thread(FESTNETZ, card.ts)
    assert len(thread) == 2 and "Receiver" in shown(thread[1])
    assert channels.cards(TV) == []
    with session_scope(bot.bot.engine) as session:
        assert session.get(Ticket, 1).topic == "festnetz"  # type: ignore[union-attr]


def test_a_word_inside_another_word_is_no_keyword(
    bot: BotHarness, channels: SlackStandIn, x: XStandIn
) -> None:
    set_up_topics(bot)
    x.mention(x.add_user("simone"), "Wer hat meine SIMkarte? Und die Simulation?")
    x.mention(x.add_user("sim_fan"), "Neue sim bitte")
    bot.poll_and_deliver()
    assert channels.card(1, SUPPORT) and channels.card(2, MOBILFUNK)


def test_only_leads_set_up_topics_and_bad_input_changes_nothing(
    bot: BotHarness, channels: SlackStandIn
) -> None:
    bot.slash(LEAD, "/team", f"add <@{KAI}|kai> agent")
    set_up_topics(bot)
    channels.add_channel("CKABEL0001", "kabel", bot_member=False)
    before = world(bot)
    refusals = [
        bot.slash(KAI, "/topic", f"add dsl <#{FESTNETZ}|festnetz> DSL"),
        bot.slash(KAI, "/topic", "remove festnetz"),
        bot.slash(LEAD, "/topic", "add festnetz"),
        bot.slash(LEAD, "/topic", "add kabel #kabel Kabel"),  # not a channel Slack escaped
        bot.slash(LEAD, "/topic", f"add festnetz <#{FESTNETZ}|festnetz> DSL"),  # exists
        bot.slash(LEAD, "/topic", f"add <b> <#{FESTNETZ}|festnetz> DSL"),
        bot.slash(LEAD, "/topic", "remove kabel"),
        bot.slash(LEAD, "/topic", "remove festnetz tv"),
        bot.slash(LEAD, "/topic", "frobnicate"),
        bot.slash(LEAD, "/team", f"skills <@{KAI}|kai> festnetz,kabel"),
        bot.slash(LEAD, "/team", f"skills <@{KAI}|kai>"),
        bot.slash(KAI, "/team", f"skills <@{KAI}|kai> festnetz"),
        bot.slash(KAI, "/away", "now"),
        bot.slash(LEAD, "/topic", "add kabel <#CKABEL0001|kabel> Kabel"),  # the bot is not in it
        bot.slash(LEAD, "/topic", "add kabel <#CNOWHERE01|kabel> Kabel"),
    ]
    for answer in refusals:
        assert all(r.get("response_type", "ephemeral") == "ephemeral" for r in answer)
    assert "Only team leads" in said(refusals[0]) and "Usage: `/topic" in said(refusals[2])
    assert "no topic “kabel”" in said(refusals[9])
    assert "`/invite @Servicekanal`" in said(refusals[13])
    assert "knows no channel" in said(refusals[14])
    assert world(bot) == before

    assert "removed" in said(bot.slash(LEAD, "/topic", "remove tv"))
    assert "TV" not in said(bot.slash(LEAD, "/topic", "list"))


def test_auto_assignment_gives_the_skilled_agent_with_fewest_open_tickets(
    auto: BotHarness, channels: SlackStandIn, x: XStandIn
) -> None:
    bot = auto
    for user in (KAI, ROMINA, JONAS):
        bot.slash(LEAD, "/team", f"add <@{user}|x> agent")
    set_up_topics(bot)
    skills = bot.slash(LEAD, "/team", f"skills <@{KAI}|kai> Festnetz,tv")
    assert "works festnetz, TV" in said(skills)
    bot.slash(LEAD, "/team", f"skills <@{ROMINA}|romina> festnetz")
    bot.slash(LEAD, "/team", f"skills <@{JONAS}|jonas> mobilfunk")
    team = said(bot.slash(LEAD, "/team", "list"))
    assert "skills festnetz, TV" in team

    # No topic: any agent; all have none open and none has waited longer (the id decides).
    x.mention(x.add_user("erster"), "Rechnung falsch")
    bot.poll_and_deliver()
    assert owners_of(bot)[1] == JONAS

    bot.slash(ROMINA, "/away")
    assert "away" in said(bot.slash(LEAD, "/team", "list"))
    x.mention(x.add_user("koeln"), "Seit heute morgen kein DSL in Köln")
    bot.poll_and_deliver()
    card = channels.card(2, FESTNETZ)
    assert owners_of(bot)[2] == KAI
    thread = channels.thread(FESTNETZ, card.ts)
    assert any(f"<@{KAI}>" in shown(m) and "assigned" in shown(m) for m in thread)
    assert f"<@{KAI}>" in shown(channels.find_message(FESTNETZ, card.ts))

    # Kai is at the cap of two after one more; Romina is away; the next stays unclaimed.
    x.mention(x.add_user("bonn"), "Router tot")
    x.mention(x.add_user("essen"), "Anschluss tot")
    bot.poll_and_deliver()
    owners = owners_of(bot)
    assert owners[3] == KAI and owners[4] is None
    assert sum(1 for o in owners.values() if o == KAI) <= 2

    # Back from lunch, Romina gets the next one.
    bot.slash(ROMINA, "/back")
    x.mention(x.add_user("koblenz"), "Festnetz weg")
    bot.poll_and_deliver()
    assert owners_of(bot)[5] == ROMINA


def test_an_owner_going_away_is_offered_to_the_lead_not_moved_silently(
    auto: BotHarness, channels: SlackStandIn, x: XStandIn
) -> None:
    bot = auto
    for user in (KAI, ROMINA):
        bot.slash(LEAD, "/team", f"add <@{user}|x> agent")
    set_up_topics(bot)
    bot.slash(LEAD, "/team", f"skills <@{KAI}|kai> festnetz")
    bot.slash(LEAD, "/team", f"skills <@{ROMINA}|romina> festnetz")
    x.mention(x.add_user("a1"), "DSL weg")
    x.mention(x.add_user("a2"), "DSL auch weg")
    bot.poll_and_deliver()
    assert set(owners_of(bot).values()) == {KAI, ROMINA}
    romina_has = [n for n, o in owners_of(bot).items() if o == ROMINA]

    bot.slash(ROMINA, "/away")
    bot.slash(ROMINA, "/away")  # twice is once
    bot.deliver()
    offers = [m for m in channels.messages("D" + LEAD[1:]) if "is away with" in shown(m)]
    assert len(offers) == 1 and f"#{romina_has[0]}" in shown(offers[0])
    assert owners_of(bot)[romina_has[0]] == ROMINA  # nothing moved yet

    answer = bot.click(LEAD, "away_reassign", ROMINA)
    assert f"#{romina_has[0]} → <@{KAI}>" in said(answer)
    assert owners_of(bot)[romina_has[0]] == KAI
    refused = bot.click(KAI, "away_reassign", ROMINA)
    assert "Only team leads" in said(refused)


def owners_of(bot: BotHarness) -> dict[int, str | None]:
    with session_scope(bot.bot.engine) as session:
        return {t.id: t.owner_slack_id for t in session.exec(select(Ticket)) if t.id is not None}


def test_each_channel_keeps_its_own_pace(
    database_url: str, channels: SlackStandIn, x: XStandIn
) -> None:
    """Slack's one post per second holds per channel: #festnetz does not wait for support."""
    settings = make_settings(database_url, channels, x)
    paced = BotHarness(settings, channels, x, post_interval=30)
    try:
        set_up_topics(paced)
        for i in range(3):
            x.mention(x.add_user(f"dsl{i}"), f"DSL weg {i}")
            x.mention(x.add_user(f"rechnung{i}"), f"Rechnung falsch {i}")
        paced.poll()
        paced.deliver()  # at once: one card in each channel, the rest wait for their turn
        assert len(channels.cards(FESTNETZ)) == 1 and len(channels.cards(SUPPORT)) == 1
    finally:
        paced.close()


def test_stats_by_topic_and_the_home_tab_shows_skills_and_presence(
    bot: BotHarness, channels: SlackStandIn, x: XStandIn
) -> None:
    bot.slash(LEAD, "/team", f"add <@{KAI}|kai> agent")
    set_up_topics(bot)
    bot.slash(LEAD, "/team", f"skills <@{KAI}|kai> festnetz,tv")
    x.mention(x.add_user("koeln"), "Seit heute morgen kein DSL in Köln")
    x.mention(x.add_user("zahler"), "Rechnung doppelt abgebucht")
    bot.poll_and_deliver()
    bot.slash(KAI, "/reply", "1 Wir prüfen den Anschluss.")

    [answer] = bot.slash(LEAD, "/stats", "7d")
    numbers = json.dumps(answer["blocks"], ensure_ascii=False)
    assert "*Per topic*" in numbers and "Festnetz" in numbers and "_no topic_" in numbers
    assert f"<@{KAI}> · Festnetz" in numbers
    wait_for(lambda: channels.files)  # the chart, uploaded after the answer

    def home() -> str:
        channels.home_views.pop(KAI, None)
        bot.event({"type": "app_home_opened", "user": KAI, "channel": "D0KAI", "tab": "home"})
        view = wait_for(lambda: channels.home_views.get(KAI))
        return json.dumps(view["blocks"], ensure_ascii=False)

    assert "🟢 present" in home() and "skills: Festnetz, TV" in home()
    bot.slash(KAI, "/away")
    assert "🌴 away" in home()


def test_alerts_and_follow_up_pings_of_a_topic_ticket_happen_in_its_channel(
    database_url: str, channels: SlackStandIn, x: XStandIn
) -> None:
    clock = FakeClock(datetime(2026, 11, 23, 9, 0, tzinfo=UTC))
    settings = make_settings(database_url, channels, x, followup_warn_minutes=0)
    bot = BotHarness(settings, channels, x, clock=clock)
    try:
        bot.slash(LEAD, "/team", f"add <@{KAI}|kai> agent")
        set_up_topics(bot)
        x.mention(x.add_user("koeln"), "kein DSL in Köln", created_at=clock())
        bot.poll_and_deliver()
        card = channels.card(1, FESTNETZ)
        clock.advance(minutes=11)
        bot.bot.services.sweeper.run()
        bot.deliver()
        kai = bot.bot.services.roster.member(KAI)
        assert kai is not None
        bot.bot.services.followups.promise(
            ticket_id=1, member=kai, due=clock() + timedelta(minutes=5), note="Rückruf"
        )
        clock.advance(minutes=6)
        bot.bot.services.sweeper.run()
        bot.deliver()
        thread = " ".join(shown(m) for m in channels.thread(FESTNETZ, card.ts))
        assert "nobody has claimed it" in thread and "is due now" in thread
        assert channels.messages(SUPPORT) == []  # nothing of it in the support channel
    finally:
        bot.close()


def test_cards_for_a_channel_the_bot_was_removed_from_wait_and_the_leads_are_told_once(
    database_url: str, channels: SlackStandIn, x: XStandIn
) -> None:
    clock = FakeClock(datetime(2026, 11, 23, 9, 0, tzinfo=UTC))
    bot = BotHarness(make_settings(database_url, channels, x), channels, x, clock=clock)
    try:
        set_up_topics(bot)
        channels.remove_member(FESTNETZ)  # someone removed the bot from #festnetz
        x.mention(x.add_user("dsl_kundin"), "Mein DSL ist seit gestern weg", created_at=clock())
        bot.poll_and_deliver()

        def told() -> list[str]:
            dms = channels.dm_channel(LEAD).messages
            return [m.text for m in dms if "does not let me" in m.text]

        assert channels.cards(FESTNETZ) == []
        assert len(told()) == 1
        assert f"<#{FESTNETZ}>" in told()[0] and "`not_in_channel`" in told()[0]
        assert "1 message wait" in told()[0] and "nothing is lost" in told()[0]

        # Slack keeps refusing while nobody acts: the lead hears of it once a day, not
        # once a try.
        x.mention(x.add_user("zweite"), "Auch mein Router hat kein DSL", created_at=clock())
        clock.advance(minutes=10)
        bot.poll_and_deliver()
        assert channels.cards(FESTNETZ) == [] and len(told()) == 1

        channels.add_channel(FESTNETZ, "festnetz")  # invited again
        clock.advance(minutes=10)
        bot.deliver()
        assert [c.payload["ticket_id"] for c in channels.cards(FESTNETZ)] == [1, 2]
        assert channels.cards(SUPPORT) == []
    finally:
        bot.close()
