"""Promises, reminders, service hours and on-call, end to end through Slack and X stand-ins."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from bot.roster import Member
from standins.http import wait_for
from standins.slack_api import ANNA, BEN, LEAD, TOM, SlackStandIn
from standins.x_api import XStandIn
from store.models import Role
from tests.e2e.test_working_a_ticket import build_team, card_text, open_ticket, said
from tests.fakes.domain import FakeClock
from tests.harness import BotHarness, make_settings


def thread_texts(slack: SlackStandIn, ticket: int = 1) -> str:
    return json.dumps(
        [m.blocks or m.text for m in slack.thread("CSUPPORT1", slack.card(ticket).ts)],
        ensure_ascii=False,
    )


def test_followups_by_command_list_and_cancel(
    bot: BotHarness, x: XStandIn, slack: SlackStandIn
) -> None:
    build_team(bot)
    open_ticket(bot, x)
    bot.slash(ANNA, "/claim", "1")
    assert "Follow-up for #1 recorded for" in said(bot.slash(ANNA, "/followup", "1 45m check line"))
    bot.deliver()
    assert "follow-up due" in card_text(slack) and "Follow-up promised" in card_text(slack)
    assert "promised the customer a follow-up" in thread_texts(slack)
    listing = said(bot.slash(BEN, "/followup", "list"))
    assert "*#1*" in listing and f"<@{ANNA}>" in listing and "check line" in listing
    assert "recorded" in said(bot.slash(ANNA, "/followup", "#1 morgen 10 Uhr Rückruf"))
    assert "Cancelled 2 follow-up(s) of #1" in said(bot.slash(ANNA, "/followup", "1 cancel"))
    assert "No open follow-ups" in said(bot.slash(ANNA, "/followup", "list"))
    bot.deliver()
    assert "follow-up due" not in card_text(slack)


def test_a_promise_is_cancelled_by_its_owner_or_a_lead_only(
    bot: BotHarness, x: XStandIn, slack: SlackStandIn
) -> None:
    build_team(bot)
    bot.slash(LEAD, "/team", f"add <@{TOM}|tom> trainee TT")
    open_ticket(bot, x)
    bot.slash(ANNA, "/claim", "1")
    bot.slash(ANNA, "/followup", "1 2h Leitung messen")

    for someone in (TOM, BEN):
        refusal = said(bot.slash(someone, "/followup", "1 cancel"))
        assert f"is <@{ANNA}>'s promise: only its owner or a lead can cancel it" in refusal
    assert "Leitung messen" in said(bot.slash(ANNA, "/followup", "list"))
    assert "Cancelled 1 follow-up(s) of #1" in said(bot.slash(ANNA, "/followup", "1 cancel"))

    bot.slash(ANNA, "/followup", "1 3h Rückruf")
    assert "Cancelled 1 follow-up(s) of #1" in said(bot.slash(LEAD, "/followup", "1 cancel"))
    assert "No open follow-ups" in said(bot.slash(TOM, "/followup", "list"))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1", "When? Usage: `/followup"),
        ("1 irgendwann", "is not a time I understand. Usage: `/followup"),
        ("1 00:00", "has passed today"),
        ("eins 45m", "is not a ticket number"),
        ("99 45m", "There is no ticket #99"),
        ("1 cancel", "#1 has no open follow-up"),
    ],
)
def test_followup_refusals(
    bot: BotHarness, x: XStandIn, slack: SlackStandIn, text: str, expected: str
) -> None:
    build_team(bot)
    open_ticket(bot, x)
    assert expected in said(bot.slash(ANNA, "/followup", text))
    assert "No open follow-ups" in said(bot.slash(ANNA, "/followup", "list"))


def test_a_reply_that_promises_an_hour_offers_the_follow_up(
    bot: BotHarness, x: XStandIn, slack: SlackStandIn
) -> None:
    build_team(bot)
    open_ticket(bot, x)
    sent, offer = bot.slash(
        ANNA, "/reply", "1 Wir melden uns innerhalb der nächsten Stunde.", count=2
    )
    assert "Sent to the customer" in sent["text"]
    assert "innerhalb der nächsten Stunde" in offer["text"]
    button = offer["blocks"][-1]["elements"][0]
    assert button["action_id"] == "promise_confirm"
    due = datetime.fromisoformat(json.loads(button["value"])["due"])
    assert timedelta(minutes=59) < due - datetime.now(UTC) <= timedelta(minutes=60)
    assert "Follow-up for #1 recorded" in said(bot.click(ANNA, "promise_confirm", button["value"]))
    assert "*#1*" in said(bot.slash(ANNA, "/followup", "list"))


def test_the_follow_up_and_escalate_buttons_open_modals(
    bot: BotHarness, x: XStandIn, slack: SlackStandIn
) -> None:
    build_team(bot)
    open_ticket(bot, x)
    bot.slash(LEAD, "/oncall", f"<@{BEN}|ben>")
    bot.click(ANNA, "ticket_followup", "1", message_ts=slack.card(1).ts, wait=False)
    modal = wait_for(lambda: bot.open_views() and bot.open_views()[-1])
    assert modal["callback_id"] == "followup_modal"
    _, answer = bot.submit_view(
        ANNA, modal, {"when": {"when": {"value": "sometime"}}, "note": {"note": {"value": None}}}
    )
    assert answer is not None and "not a time I understand" in answer["errors"]["when"]
    _, answer = bot.submit_view(
        ANNA, modal, {"when": {"when": {"value": "2h"}}, "note": {"note": {"value": "Techniker"}}}
    )
    assert answer is None
    wait_for(lambda: "Techniker" in said(bot.slash(ANNA, "/followup", "list")))

    bot.click(ANNA, "ticket_escalate", "1", message_ts=slack.card(1).ts, wait=False)
    modal = wait_for(
        lambda: bot.open_views()[-1]["callback_id"] == "escalate_modal" and bot.open_views()[-1]
    )
    bot.submit_view(ANNA, modal, {"reason": {"reason": {"value": "Großstörung in Bonn"}}})
    bot.deliver_until(lambda: slack.messages("CESCALATE"))
    assert "Großstörung in Bonn" in json.dumps(
        slack.messages("CESCALATE")[0].blocks, ensure_ascii=False
    )


def test_oncall_is_shown_to_all_and_set_by_leads(
    bot: BotHarness, x: XStandIn, slack: SlackStandIn
) -> None:
    build_team(bot)
    assert "Nobody is on call" in said(bot.slash(ANNA, "/oncall"))
    assert "Only team leads" in said(bot.slash(ANNA, "/oncall", f"<@{BEN}|ben>"))
    assert f"<@{BEN}> is on call now" in said(bot.slash(LEAD, "/oncall", f"<@{BEN}|ben>"))
    assert f"<@{BEN}> is on call" in said(bot.slash(ANNA, "/oncall"))


def test_escalate_pages_oncall_by_dm_and_in_the_escalation_channel_once(
    bot: BotHarness, x: XStandIn, slack: SlackStandIn
) -> None:
    build_team(bot)
    open_ticket(bot, x)
    bot.slash(LEAD, "/oncall", f"<@{BEN}|ben>")
    assert f"<@{BEN}> has been paged" in said(bot.slash(ANNA, "/escalate", "1 Ausfall in Bonn"))
    assert "escalated for that reason already" in said(
        bot.slash(ANNA, "/escalate", "1 Ausfall in Bonn")
    )
    assert "Say why" in said(bot.slash(ANNA, "/escalate", "1"))
    bot.deliver()
    assert len(slack.calls_to("conversations.open")) == 1
    [dm] = slack.messages("D0BEN")
    [post] = slack.messages("CESCALATE")
    for message in (dm, post):
        shown = json.dumps(message.blocks, ensure_ascii=False)
        assert (
            "Escalation: escalated by hand" in shown
            and "#1" in shown
            and "Ausfall in Bonn" in shown
        )
        assert f"Raised by <@{ANNA}>" in shown
    assert "escalated" in card_text(slack)


@pytest.fixture(params=["sqlite", "postgresql"])
def shared_database(request: pytest.FixtureRequest, database_url: str) -> Iterator[str]:
    """One database for two bot instances: a SQLite file, or PostgreSQL when available."""
    if request.param == "sqlite":
        yield database_url
        return
    engine = request.getfixturevalue("pg_engine")
    yield engine.url.render_as_string(hide_password=False)


def test_a_short_follow_up_fires_through_the_real_scheduler_once_with_two_instances(
    shared_database: str, slack: SlackStandIn, x: XStandIn
) -> None:
    settings = make_settings(
        shared_database,
        slack,
        x,
        sweep_interval_seconds=1,
        followup_warn_minutes=0,
        followup_escalate_minutes=0,
    )
    first = BotHarness(settings, slack, x)
    second = BotHarness(settings, slack, x)
    try:
        build_team(first)
        first.slash(LEAD, "/oncall", f"<@{BEN}|ben>")
        open_ticket(first, x)
        due = datetime.now(UTC) + timedelta(seconds=2)
        first.bot.services.followups.promise(
            ticket_id=1, member=Member(ANNA, Role.AGENT, "AS", "Anna Schmidt"), due=due, note="kurz"
        )
        first.bot.start_background(poll=False)
        second.bot.start_background(poll=False)

        def fired() -> bool:
            return "is due now" in thread_texts(slack) and bool(slack.messages("CESCALATE"))

        wait_for(fired, timeout=20)
        time.sleep(3)  # several more sweeps of both instances
        thread = thread_texts(slack)
        assert thread.count("is due now") == 1
        assert len(slack.messages("CESCALATE")) == 1
        assert len(slack.messages("D0BEN")) == 1
        assert "follow-up overdue" in card_text(slack)
    finally:
        first.close()
        second.close()


def test_on_saturday_the_customer_gets_one_answer_naming_monday_and_the_card_says_so(
    database_url: str, slack: SlackStandIn, x: XStandIn
) -> None:
    saturday = FakeClock(datetime(2026, 11, 28, 10, 0, tzinfo=UTC))
    settings = make_settings(
        database_url, slack, x, service_hours="mon-fri 08:00-20:00", holidays="DE"
    )
    bot = BotHarness(settings, slack, x, clock=saturday)
    try:
        customer = x.add_user("karl_k", "Karl Kunde")
        x.mention(customer, "Kein Netz!", created_at=saturday())
        bot.poll_and_deliver()
        assert "out of hours" in card_text(slack)
        bot.bot.services.sweeper.run()
        bot.bot.services.sweeper.run()
        bot.deliver()
        [answer] = x.brand_tweets()
        assert answer["text"] == (
            "@karl_k Danke für deine Nachricht! Unser Team ist gerade nicht da und meldet sich ab "
            "Mo 30.11. 08:00. Thanks for your message! Our team is back from Mo 30.11. 08:00. ^Bot"
        )
        assert "Out of hours: the automatic answer went out" in thread_texts(slack)
        assert "New" in card_text(slack)  # still waiting for a person
    finally:
        bot.close()
