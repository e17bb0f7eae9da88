"""What X costs (SPEC §11): counted, priced, shown to leads, held to a budget; X's 402.

X bills per request kind; the bot counts every call it makes, prices it with X_PRICES,
and a lead sees the spend in `/stats` and on the App Home. A budget tells the leads once
at 80 % and 100 %, and pauses keyword searches at 100 %.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine
from sqlmodel import select

from standins.http import wait_for
from standins.slack_api import ANNA, BEN, LEAD, SlackStandIn
from standins.x_api import XStandIn
from store import usage
from store.db import session_scope
from store.models import Reply, ReplyState
from tests.e2e.test_working_a_ticket import build_team, said
from tests.harness import BotHarness, make_settings, question

SEARCH = "GET /2/tweets/search/recent"
MENTIONS = "GET /2/users/:id/mentions"
CHART_UPLOADED = "files.completeUploadExternal"


class Clock:
    """Real time, moved forward when a test says so (X's back-off lasts minutes)."""

    def __init__(self) -> None:
        self.ahead = timedelta(0)

    def __call__(self) -> datetime:
        return datetime.now(UTC) + self.ahead


def stats_text(bot: BotHarness) -> str:
    uploads = len(bot.slack.calls_to(CHART_UPLOADED))
    answers = bot.slash(LEAD, "/stats", "today")
    # The chart follows in the lead's DM; it is waited for, so that it cannot land in the
    # next test's stand-in.
    wait_for(lambda: len(bot.slack.calls_to(CHART_UPLOADED)) > uploads)
    return " ".join(str(answer.get("blocks")) for answer in answers)


def dms_to(slack: SlackStandIn, user: str) -> list[str]:
    """What the bot told a person about X's costs by DM (not the charts of /stats)."""
    return [m.text for m in slack.dm_channel(user).messages if "X " in m.text[:20]]


@pytest.fixture
def budgeted(database_url: str, slack: SlackStandIn, x: XStandIn) -> Iterator[BotHarness]:
    """A bot with a budget of 5 cents a month, posts at 2 cents, reads free."""
    settings = make_settings(
        database_url,
        slack,
        x,
        x_keyword_queries="iphone",
        x_prices="post=0.02,owned_read=0,post_read=0,user_read=0",
        x_monthly_budget=0.05,
    )
    bot = BotHarness(settings, slack, x)
    build_team(bot)
    yield bot
    bot.close()


def test_every_x_request_is_counted_priced_and_shown_to_leads(
    bot: BotHarness, x: XStandIn, slack: SlackStandIn
) -> None:
    build_team(bot)
    x.mention(x.add_user("karl_k"), "Kein Netz in Bonn")
    x.mention(x.add_user("erika"), "Rechnung doppelt")
    bot.poll_and_deliver()
    assert "Sent" in said(bot.slash(ANNA, "/reply", "1 Wir schauen nach."))
    [question] = bot.slash(ANNA, "/reply", "2 Details: https://telekom.de/hilfe")
    assert "X charges much more for posts with links" in question["text"]
    value = question["blocks"][-1]["elements"][0]["value"]
    assert "Sent" in said(bot.click(ANNA, "reply_confirm", value))
    bot.bot.services.x_budget.flush()

    text = stats_text(bot)
    # X's published prices: /2/users/me at start-up (a user read, $0.010), two mentions
    # read ($0.001 each), a post ($0.015) and a post with a URL ($0.20).
    assert "X spend:* $0.227" in text
    assert "$0.114 per answered customer (2)" in text
    assert "posts with a URL 1 ($0.200)" in text and "owned reads 2 ($0.002)" in text
    assert "posts 1 ($0.015)" in text and "user reads 1 ($0.010)" in text


def test_replicas_add_their_counts_to_the_same_day(any_engine: Engine) -> None:
    for requests, units in ((1, 40), (2, 3)):
        with session_scope(any_engine) as session:
            usage.add_usage(
                session=session, day="2026-12-01", kind="owned_read", requests=requests, units=units
            )
    with session_scope(any_engine, readonly=True) as session:
        counted = usage.usage_between(
            session=session, first_day="2026-12-01", last_day="2026-12-31"
        )
    assert counted == {"owned_read": (3, 43)}


def test_leads_are_told_once_at_80_and_100_percent_and_keyword_searches_pause(
    budgeted: BotHarness, x: XStandIn, slack: SlackStandIn
) -> None:
    budget = budgeted.bot.services.x_budget
    for number in range(1, 4):
        x.mention(x.add_user(f"kunde{number}"), question(number))
    budgeted.poll_and_deliver()
    assert len(x.calls_to(SEARCH)) == 1

    said(budgeted.slash(ANNA, "/reply", "1 Wir schauen nach."))
    budget.flush()
    budgeted.deliver()
    assert dms_to(slack, LEAD) == []  # 2 of 5 cents: 40 %

    said(budgeted.slash(ANNA, "/reply", "2 Wir prüfen das."))
    budget.flush()
    budget.flush()
    budgeted.deliver()
    [eighty] = dms_to(slack, LEAD)
    assert "80 %" in eighty and "0.05 USD" in eighty

    said(budgeted.slash(ANNA, "/reply", "3 Wir melden uns."))  # replies go on
    budget.flush()
    budget.flush()
    budgeted.deliver()
    assert len(x.brand_tweets()) == 3
    told = dms_to(slack, LEAD)
    assert len(told) == 2 and "120 %" in told[1] and "Keyword searches pause" in told[1]

    x.mention(x.add_user("spaet"), "Noch eine Frage")
    budgeted.poll_and_deliver()
    assert len(x.calls_to(SEARCH)) == 1  # paused
    assert len(slack.cards()) == 4  # mentions go on
    assert "keyword searches paused" in stats_text(budgeted)
    assert len(dms_to(slack, LEAD)) == 2  # told once each


def test_xs_402_tells_leads_and_on_call_at_once_and_loses_nothing(
    database_url: str, slack: SlackStandIn, x: XStandIn
) -> None:
    clock = Clock()
    bot = BotHarness(make_settings(database_url, slack, x), slack, x, clock=clock)
    try:
        build_team(bot)
        bot.slash(LEAD, "/oncall", f"<@{BEN}|ben>")
        x.mention(x.add_user("karl_k"), "Kein Netz")
        bot.poll_and_deliver()
        x.credits_used_up = True
        answer = said(bot.slash(ANNA, "/reply", "1 Wir schauen nach."))
        assert "credits are used up" in answer and "waits in the X outbox" in answer
        x.mention(x.add_user("erika"), "Rechnung falsch")
        bot.poll()  # 402: polling backs off
        bot.bot.services.x_budget.flush()
        bot.deliver()
        [told] = dms_to(slack, LEAD)
        assert "402" in told and "nothing is lost" in told
        assert any(
            "X credits used up" in m.text + str(m.blocks) for m in slack.messages("CESCALATE")
        )
        calls = len(x.calls)
        bot.poll()
        assert bot.bot.services.x_outbox.drain() == 0
        assert len(x.calls) == calls  # backed off: no call while the credits are out

        x.credits_used_up = False  # topped up
        clock.ahead = timedelta(minutes=6)
        assert bot.bot.services.x_outbox.drain() == 1
        bot.poll_and_deliver()
        assert [t["text"] for t in x.brand_tweets()] == ["@karl_k Wir schauen nach. ^AS"]
        assert len(slack.cards()) == 2  # erika's tweet came in after all
        with session_scope(bot.bot.engine, readonly=True) as session:
            assert [r.state for r in session.exec(select(Reply))] == [ReplyState.SENT]
    finally:
        bot.close()
