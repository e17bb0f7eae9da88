"""handlers/middleware.py: what is answered before any listener, and how.

Requests from another workspace, for things the bot does not have, from people off the
team, and signed bodies Slack never sends (moved from tests/e2e/test_bad_input.py and
test_crafted_payloads.py, issue 11). Each is answered and changes nothing.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

import pytest

from standins.signing import FORM, json_body, payload_body
from standins.slack_api import ANNA, EVE, LEAD, TEAM_ID, SlackStandIn
from tests.handlers.conftest import Desk, waiting_reply
from tests.harness import button, command, interaction

INTRUDER = "T0INTRUDER"


def modal(slack: SlackStandIn, user: str, callback_id: str, **rest: Any) -> bytes:
    """A submitted modal the bot never opened."""
    view = {
        "id": "V0FORGED",
        "type": "modal",
        "callback_id": callback_id,
        "private_metadata": json.dumps({"ticket": 1}),
        "state": {"values": {"when": {"when": {"type": "plain_text_input", "value": "2h"}}}},
    }
    return interaction(slack, user, "view_submission", view=view, **rest)


def thread_event(ts: str, thread_ts: str, text: str, *, team: str = TEAM_ID) -> bytes:
    """Someone writes in a ticket's thread: an Events API callback."""
    return json_body(
        {
            "token": "legacy-verification-token",
            "team_id": team,
            "api_app_id": "A0SERVICE",
            "type": "event_callback",
            "event_id": f"Ev{ts.replace('.', '')}",
            "event_time": int(time.time()),
            "event": {
                "type": "message",
                "channel": "CSUPPORT1",
                "user": ANNA,
                "text": text,
                "ts": ts,
                "thread_ts": thread_ts,
            },
        }
    )


# -- Requests from another workspace: refused ------------------------------------------------

FROM_ANOTHER_WORKSPACE = [
    pytest.param(
        lambda slack: command(slack, LEAD, "/team", f"add <@{EVE}|eve> lead", team=INTRUDER),
        id="a lead's slash command",
    ),
    pytest.param(
        lambda slack: button(slack, LEAD, "ticket_claim", "1", team=INTRUDER),
        id="a click on the card's Claim button",
    ),
    pytest.param(
        lambda slack: modal(slack, LEAD, "followup_modal", team=INTRUDER),
        id="a submitted follow-up modal",
    ),
    pytest.param(
        lambda slack: interaction(
            slack,
            LEAD,
            "message_action",
            team=INTRUDER,
            callback_id="reply_from_thread",
            channel={"id": "CSUPPORT1"},
            message={"ts": slack.card(1).ts, "text": "x"},
        ),
        id="the Reply to customer shortcut",
    ),
    pytest.param(
        lambda slack: thread_event("1.000100", slack.card(1).ts, "fremde Notiz", team=INTRUDER),
        id="a message in a ticket's thread",
    ),
]


# -- Commands, buttons, modals and shortcuts the bot does not have ---------------------------

UNKNOWN = [
    pytest.param(lambda slack: command(slack, ANNA, "/frobnicate", "1"), id="slash command"),
    pytest.param(lambda slack: button(slack, ANNA, "frobnicate", "1"), id="block action id"),
    pytest.param(lambda slack: modal(slack, ANNA, "frobnicate"), id="view callback id"),
    pytest.param(
        lambda slack: interaction(slack, ANNA, "shortcut", callback_id="frobnicate"),
        id="global shortcut",
    ),
]


@pytest.mark.parametrize("request_from", FROM_ANOTHER_WORKSPACE)
def test_a_request_from_another_workspace_is_refused(
    request_from: Callable[[SlackStandIn], bytes], desk: Desk
) -> None:
    body = request_from(desk.slack)
    content_type = "application/json" if body.startswith(b"{") else FORM

    status, answer = desk.bot.request(body, content_type)

    assert (status, answer) == (401, b"This app serves one workspace only.")
    assert desk.unchanged()


@pytest.mark.parametrize("request_for", UNKNOWN)
def test_what_the_bot_does_not_have_is_answered_404_as_bolt_does(
    request_for: Callable[[SlackStandIn], bytes], desk: Desk
) -> None:
    """Slack never sends these (the manifest does not declare them)."""
    status, answer = desk.bot.request(request_for(desk.slack), FORM)

    assert (status, json.loads(answer)) == (404, {"error": "unhandled request"})
    assert desk.unchanged()


def test_someone_off_the_team_is_told_so_before_an_unknown_command_is_looked_up(
    desk: Desk,
) -> None:
    status, answer = desk.bot.request(command(desk.slack, EVE, "/frobnicate", "1"), FORM)

    assert status == 200 and "not on the Servicekanal team" in json.loads(answer)["text"]
    assert desk.unchanged()


# -- Signed bodies Slack never sends, and the roster for every kind Bolt dispatches --------


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
    approvals: Desk, craft: Any
) -> None:
    status, _ = approvals.bot.request(payload_body(craft(waiting_reply(approvals))), FORM)

    assert status == 400
    assert approvals.unchanged()


def test_an_event_carrying_a_command_is_refused_with_400(approvals: Desk) -> None:
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

    status, _ = approvals.bot.request(json_body(body), "application/json")

    assert status == 400
    assert approvals.unchanged()


def test_an_old_style_attachment_action_is_checked_against_the_roster_too(approvals: Desk) -> None:
    """Bolt hands `interactive_message` payloads to the same `app.action` listeners."""
    response_url = approvals.bot.slack.response_url()
    body = {
        "type": "interactive_message",
        "callback_id": "reply_approve",
        "team": {"id": TEAM_ID},
        "user": {"id": EVE, "name": "eve"},
        "actions": [{"name": "approve", "type": "button", "value": waiting_reply(approvals)}],
        "response_url": response_url,
        "trigger_id": "1.3.crafted",
        "value": waiting_reply(approvals),
    }

    status, _ = approvals.bot.request(payload_body(body), FORM)

    assert status == 200
    [said_back] = approvals.bot.responses_to(response_url)
    assert "not on the Servicekanal team" in said_back["text"]
    assert approvals.unchanged()
