"""Crafted payloads (issue 10): signed bodies Slack never sends get a clear answer, change nothing.

Whoever holds the signing secret can send any body. The roster check must judge a request
as the kind Bolt dispatches it as, and a button's JSON value the bot never wrote must be
refused like any other button that is not ours.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from standins.signing import FORM, json_body, payload_body
from standins.slack_api import ANNA, EVE, LEAD, TEAM_ID, TOM, SlackStandIn
from standins.x_api import XStandIn
from tests.e2e.test_working_a_ticket import build_team, open_ticket
from tests.harness import BotHarness, World, button, make_settings, world

NOT_OURS = "This button does not belong to a ticket; use the buttons on the card."


class Desk:
    """Ticket #1 with a trainee's reply waiting for approval, #2 unowned, the world before."""

    def __init__(self, bot: BotHarness) -> None:
        self.bot = bot
        build_team(bot)
        bot.slash(LEAD, "/team", f"add <@{TOM}|tom> trainee TT")
        open_ticket(bot, bot.x)
        bot.slash(TOM, "/reply", "1 Wir kümmern uns!")
        bot.x.mention(bot.x.add_user("carla", "Carla Kundin"), "Kein Netz in Bonn")
        bot.poll_and_deliver()
        approval = next(
            m
            for m in bot.slack.thread("CSUPPORT1", bot.slack.card(1).ts)
            if "Approve" in json.dumps(m.blocks)
        )
        self.reply_id: str = approval.blocks[-1]["elements"][0]["value"]  # type: ignore[index]
        self.before: World = world(bot)


@pytest.fixture(scope="module")
def desk(
    tmp_path_factory: pytest.TempPathFactory, slack_server: SlackStandIn, x_server: XStandIn
) -> Iterator[Desk]:
    """One bot for every crafted request: none may change anything, so all share a world."""
    slack_server.reset()
    x_server.reset()
    database = tmp_path_factory.mktemp("crafted") / "servicekanal.db"
    bot = BotHarness(
        make_settings(f"sqlite:///{database}", slack_server, x_server), slack_server, x_server
    )
    yield Desk(bot)
    bot.close()


def approval_by(user: str, reply_id: str, **extra: Any) -> dict[str, Any]:
    """The Approve button clicked by `user`, with `extra` keys Slack never puts there."""
    return {
        "type": "block_actions",
        "team": {"id": TEAM_ID, "domain": "servicekanal-test"},
        "user": {"id": user, "username": user.lower(), "team_id": TEAM_ID},
        "api_app_id": "A0SERVICE",
        "trigger_id": "1.2.crafted",
        "container": {"type": "message", "message_ts": "0", "channel_id": "CSUPPORT1"},
        "channel": {"id": "CSUPPORT1"},
        "actions": [{"type": "button", "action_id": "reply_approve", "value": reply_id}],
        **extra,
    }


@pytest.mark.parametrize(
    "craft",
    [
        pytest.param(
            lambda reply: approval_by(EVE, reply, command="/x", user_id=LEAD),
            id="an outsider's approval carrying a lead's user_id and a command key",
        ),
        pytest.param(
            lambda reply: approval_by(EVE, reply, command="/claim", text="1", user_id=ANNA),
            id="a click that Bolt would also take for a registered command",
        ),
        pytest.param(
            lambda reply: {**approval_by(ANNA, reply), "actions": []},
            id="block actions without an action",
        ),
        pytest.param(
            lambda reply: {**approval_by(ANNA, reply), "actions": ["reply_approve"]},
            id="block actions whose action is not an object",
        ),
    ],
)
def test_a_payload_that_is_not_one_kind_of_request_is_refused_with_400(
    desk: Desk, craft: Any
) -> None:
    status, _ = desk.bot.request(payload_body(craft(desk.reply_id)), FORM)

    assert status == 400
    assert world(desk.bot) == desk.before


def test_an_event_carrying_a_command_is_refused_with_400(desk: Desk) -> None:
    body = {
        "team_id": TEAM_ID,
        "api_app_id": "A0SERVICE",
        "type": "event_callback",
        "event_id": "EvCRAFTED1",
        "event": {"type": "app_home_opened", "user": ANNA, "tab": "home"},
        "command": "/claim",
        "text": "1",
        "user_id": ANNA,
    }

    status, _ = desk.bot.request(json_body(body), "application/json")

    assert status == 400
    assert world(desk.bot) == desk.before


def test_an_old_style_attachment_action_is_checked_against_the_roster_too(desk: Desk) -> None:
    """Bolt hands `interactive_message` payloads to the same `app.action` listeners."""
    response_url = desk.bot.slack.response_url()
    body = {
        "type": "interactive_message",
        "callback_id": "reply_approve",
        "team": {"id": TEAM_ID},
        "user": {"id": EVE, "name": "eve"},
        "actions": [{"name": "approve", "type": "button", "value": desk.reply_id}],
        "response_url": response_url,
        "trigger_id": "1.3.crafted",
        "value": desk.reply_id,
    }

    status, _ = desk.bot.request(payload_body(body), FORM)

    assert status == 200
    [said_back] = desk.bot.responses_to(response_url)
    assert "not on the Servicekanal team" in said_back["text"]
    assert world(desk.bot) == desk.before


def offer(**fields: Any) -> str:
    """A button value; ticket #2 is nobody's, so a value taken for the bot's would act."""
    return json.dumps(fields)


@pytest.mark.parametrize(
    ("action_id", "value", "answer"),
    [
        ("promise_confirm", "not json", NOT_OURS),
        ("promise_confirm", "[1, 2]", NOT_OURS),
        ("promise_confirm", offer(ticket=2), NOT_OURS),
        ("promise_confirm", offer(due="2026-11-23T10:00:00+00:00"), NOT_OURS),
        ("promise_confirm", offer(ticket="eins", due="2026-11-23T10:00:00+00:00"), NOT_OURS),
        ("promise_confirm", offer(ticket=2, due="morgen"), NOT_OURS),
        ("promise_confirm", offer(ticket=2, due="2030-01-01T10:00:00"), NOT_OURS),  # naive
        (
            "promise_confirm",
            offer(ticket=2, due="9999-12-31T23:59:59+00:00"),
            "That is more than 60 days ahead; promise something nearer.",
        ),
        ("promise_confirm", offer(ticket=2, due="2000-01-01T10:00:00+00:00"), "in the past"),
        ("reply_confirm", "not json", NOT_OURS),
        ("reply_confirm", offer(body="Hallo"), NOT_OURS),
        ("reply_confirm", offer(ticket=2), NOT_OURS),
        ("reply_confirm", offer(ticket="2", body="Hallo"), NOT_OURS),
        ("reply_confirm", offer(ticket=2, body=["Hallo"]), NOT_OURS),
        ("reply_confirm", offer(ticket=2, body="Hallo", canned=["x"]), NOT_OURS),
        ("reply_confirm", offer(ticket=2, body="Hallo", canned="x" * 65), NOT_OURS),
    ],
)
def test_a_button_value_the_bot_never_wrote_is_refused_and_changes_nothing(
    desk: Desk, action_id: str, value: str, answer: str
) -> None:
    response_url = desk.bot.slack.response_url()
    body = button(desk.bot.slack, ANNA, action_id, value, response_url=response_url)

    status, _ = desk.bot.request(body, FORM)

    assert status == 200
    [said_back] = desk.bot.responses_to(response_url)
    assert answer in said_back["text"]
    assert world(desk.bot) == desk.before
