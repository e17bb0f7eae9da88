"""Requests from Slack: only signed ones from our workspace are served; retries are recognised."""

from __future__ import annotations

import time

from sqlmodel import select

from standins.signing import form_body
from standins.slack_api import SlackStandIn
from standins.x_api import XStandIn
from store.db import session_scope
from store.models import SlackEvent
from tests.harness import BotHarness

COMMAND = form_body(
    {
        "team_id": "T0SERVICE",
        "user_id": "U0ANNA",
        "command": "/claim",
        "text": "1",
        "response_url": "http://127.0.0.1:9/respond/1",
        "trigger_id": "t",
    }
)


def test_a_request_signed_with_the_wrong_secret_is_refused(
    bot: BotHarness, slack: SlackStandIn
) -> None:
    status, _ = bot.request(COMMAND, "application/x-www-form-urlencoded", secret="not-the-secret")
    assert status == 401


def test_an_unsigned_request_is_refused(bot: BotHarness) -> None:
    from standins.signing import post

    status, _ = post(
        f"{bot.url}/slack/events", COMMAND, {"Content-Type": "application/x-www-form-urlencoded"}
    )
    assert status == 401


def test_a_replayed_request_older_than_five_minutes_is_refused(bot: BotHarness) -> None:
    status, _ = bot.request(
        COMMAND, "application/x-www-form-urlencoded", timestamp=int(time.time()) - 6 * 60
    )
    assert status == 401


def test_a_request_from_another_workspace_is_refused(bot: BotHarness, slack: SlackStandIn) -> None:
    response_url = slack.response_url()
    body = form_body(
        {
            "team_id": "T0INTRUDER",
            "user_id": "U0EVE",
            "command": "/claim",
            "text": "1",
            "response_url": response_url,
            "trigger_id": "t",
        }
    )
    status, _ = bot.request(body, "application/x-www-form-urlencoded")
    assert status == 401
    time.sleep(0.3)
    assert slack.responses == []


def test_slacks_retry_of_an_event_is_acknowledged_but_not_handled_again(bot: BotHarness) -> None:
    event = {
        "type": "message",
        "channel": "CSUPPORT1",
        "user": "U0ANNA",
        "text": "hallo",
        "ts": "1700000000.000100",
        "thread_ts": "1700000000.000001",
    }
    assert bot.event(event, event_id="Ev0001")[0] == 200
    assert bot.event(event, event_id="Ev0001", retry_num=1)[0] == 200
    assert bot.event(event, event_id="Ev0001", retry_num=2)[0] == 200
    with session_scope(bot.bot.engine) as session:
        assert [e.event_id for e in session.exec(select(SlackEvent))] == ["Ev0001"]


def test_health_reports_ok_with_the_queue_length(bot: BotHarness, x: XStandIn) -> None:
    x.mention(x.add_user("anna"), "hilfe")
    bot.poll()
    status, body = bot.health()
    assert status == 200
    assert body["status"] == "ok" and body["database"] == "ok" and body["mode"] == "http"
    assert body["slack_queue"] == 1
    assert body["x_queue"] == 0
    assert body["last_x_poll"] is not None


def test_health_says_503_when_the_database_is_gone(bot: BotHarness) -> None:
    from sqlalchemy import text

    with bot.bot.engine.begin() as connection:
        connection.execute(text("DROP TABLE slackoutbox"))
    status, body = bot.health()
    assert status == 503 and body["database"] == "unreachable"
