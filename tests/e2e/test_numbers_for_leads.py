"""/stats and the App Home, through signed requests, with the chart upload reaching Slack."""

from __future__ import annotations

import json

from standins.http import wait_for
from standins.slack_api import ANNA, BEN, EVE, LEAD, SlackStandIn
from standins.x_api import XStandIn
from tests.e2e.test_working_a_ticket import build_team, open_ticket, said
from tests.harness import BotHarness


def test_a_lead_gets_the_numbers_and_the_chart_in_a_dm(
    bot: BotHarness, x: XStandIn, slack: SlackStandIn
) -> None:
    build_team(bot)
    open_ticket(bot, x)
    bot.slash(ANNA, "/reply", "1 Wir kümmern uns.")
    [answer] = bot.slash(LEAD, "/stats", "7d")
    shown = json.dumps(answer["blocks"], ensure_ascii=False)
    assert answer["response_type"] == "ephemeral"
    for expected in (
        "the last 7 days",
        "*Tickets in*\\n1",
        "*Replies out*\\n1",
        "*Answered*\\n1",
        "*SLA kept*\\n100 % (1 of 1)",
        "*Unclaimed*\\n0",
        "*Claimed*\\n1",
        f"<@{ANNA}>",
    ):
        assert expected in shown, expected
    upload = wait_for(lambda: slack.files and slack.files[-1])
    assert upload["content"].startswith(b"\x89PNG")
    assert upload["channel"] == "D0LEAD" and upload["thread_ts"]
    assert "Tickets per day and median first response" in upload["alt_text"]
    assert upload["title"] == "Servicekanal — the last 7 days"
    intro = slack.messages("D0LEAD")[0]
    assert intro.ts == upload["thread_ts"] and "/stats 7d" in intro.text


def test_stats_are_for_leads_and_periods_are_checked(
    bot: BotHarness, x: XStandIn, slack: SlackStandIn
) -> None:
    build_team(bot)
    assert "Only team leads" in said(bot.slash(ANNA, "/stats"))
    assert "not on the Servicekanal team" in said(bot.slash(EVE, "/stats"))
    assert "use today, 7d or 30d" in said(bot.slash(LEAD, "/stats", "1y"))
    assert "Usage: `/stats [today | 7d | 30d]`" in said(bot.slash(LEAD, "/stats", "7d extra"))
    assert slack.files == []


def test_the_home_tab_shows_my_tickets_and_for_leads_the_team(
    bot: BotHarness, x: XStandIn, slack: SlackStandIn
) -> None:
    build_team(bot)
    open_ticket(bot, x)
    bot.slash(BEN, "/claim", "1")
    bot.slash(BEN, "/followup", "1 2h Rückruf")
    bot.event({"type": "app_home_opened", "user": BEN, "channel": "D0BEN", "tab": "home"})
    home = wait_for(lambda: slack.home_views.get(BEN))
    shown = json.dumps(home["blocks"], ensure_ascii=False)
    assert "*#1*" in shown and "Rückruf" in shown and "Servicekanal — today" not in shown

    bot.event({"type": "app_home_opened", "user": LEAD, "channel": "D0LEAD", "tab": "home"})
    lead_home = wait_for(lambda: slack.home_views.get(LEAD))
    assert "Servicekanal — today" in json.dumps(lead_home["blocks"], ensure_ascii=False)

    bot.event({"type": "app_home_opened", "user": EVE, "channel": "D0EVE", "tab": "home"})
    assert "not on the Servicekanal team" in json.dumps(wait_for(lambda: slack.home_views.get(EVE)))


def test_the_home_tab_follows_changes(bot: BotHarness, x: XStandIn, slack: SlackStandIn) -> None:
    build_team(bot)
    open_ticket(bot, x)
    bot.slash(ANNA, "/claim", "1")
    assert bot.bot.homes.flush() == 1
    assert "*#1*" in json.dumps(slack.home_views[ANNA]["blocks"])
    bot.slash(ANNA, "/handover", f"1 <@{BEN}|ben>")
    assert bot.bot.homes.flush() == 2
    assert "*#1*" not in json.dumps(slack.home_views[ANNA]["blocks"])
    assert "*#1*" in json.dumps(slack.home_views[BEN]["blocks"])
