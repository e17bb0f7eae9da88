"""handlers/refusals.py: a refusal is told where Slack shows it; the acknowledgement stands.

Bolt resets `ack.response` when a listener raises after `ack()`; had a refusal reached
Bolt, the HTTP answer would wait Bolt's three seconds and be a 404. Here the answer is
the acknowledgement, given before the refusal is even told.
"""

from __future__ import annotations

import json
import logging
from typing import Any

import pytest

from bot.replies import ReplyContext
from handlers.blocks.followups import followup_modal
from handlers.blocks.replies import reply_modal
from standins.signing import FORM
from standins.slack_api import ANNA, LEAD
from standins.x_api import XStandIn
from tests.e2e.test_working_a_ticket import build_team, open_ticket
from tests.handlers.conftest import Desk
from tests.harness import BotHarness, button, command, interaction

NOT_A_TICKET = "“x” is not a ticket number. Usage: `/claim <ticket>`"
NOT_OURS = "This button does not belong to a ticket; use the buttons on the card."


def typed_into(block: str, action: str, text: str) -> dict[str, Any]:
    return {block: {action: {"type": "plain_text_input", "value": text}}}


def told(desk: Desk, response_url: str) -> dict[str, Any]:
    """What the bot said to one response_url, without the stand-in's bookkeeping."""
    [answer] = desk.bot.responses_to(response_url)
    return {key: value for key, value in answer.items() if key != "url"}


@pytest.mark.parametrize(
    ("request_for", "telling"),
    [
        pytest.param(
            lambda slack, url: command(slack, ANNA, "/claim", "x", response_url=url),
            {"text": NOT_A_TICKET, "response_type": "ephemeral"},
            id="a command",
        ),
        pytest.param(
            lambda slack, url: button(slack, ANNA, "ticket_claim", "x", response_url=url),
            {"text": NOT_OURS, "response_type": "ephemeral", "replace_original": False},
            id="a click, answered beside the message",
        ),
        pytest.param(
            lambda slack, url: button(slack, ANNA, "reply_confirm", "x", response_url=url),
            {"text": NOT_OURS, "response_type": "ephemeral", "replace_original": True},
            id="a click on a one-shot offer, answered in its place",
        ),
        pytest.param(
            lambda slack, url: interaction(
                slack,
                ANNA,
                "message_action",
                callback_id="reply_from_thread",
                channel={"id": "CSUPPORT1"},
                message={"ts": "1.000001", "text": "nicht im Thread"},
                response_url=url,
            ),
            {
                "text": "This message is not part of a ticket's thread.",
                "response_type": "ephemeral",
            },
            id="a message shortcut",
        ),
    ],
)
def test_a_refused_request_is_acknowledged_before_the_refusal_is_told(
    request_for: Any, telling: dict[str, Any], desk: Desk
) -> None:
    response_url = desk.slack.response_url()
    with desk.slack.lock:  # Slack cannot take the refusal yet: the answer must not wait for it
        status, answer = desk.bot.request(request_for(desk.slack, response_url), FORM)
        assert (status, answer) == (200, b"")

    assert told(desk, response_url) == telling
    assert desk.unchanged()


@pytest.mark.parametrize(
    ("view", "values", "errors"),
    [
        pytest.param(
            followup_modal(1),
            typed_into("when", "when", "banane"),
            {"when": "“banane” is not a time I understand."},
            id="follow-up",
        ),
        pytest.param(
            reply_modal(ReplyContext(1, "karl_k", "Hallo", " ^AS", [], [])),
            typed_into("reply_text_0", "text", "   "),
            {"reply_text_0": "The reply is empty: write what the customer should read."},
            id="reply",
        ),
    ],
)
def test_a_modal_refused_before_it_closes_shows_the_refusal_under_its_first_field(
    view: dict[str, Any], values: dict[str, Any], errors: dict[str, str], desk: Desk
) -> None:
    status, answer = desk.bot.submit_view(ANNA, {**view, "id": "V0NEW", "hash": "1.a"}, values)

    assert (status, answer) == (200, {"response_action": "errors", "errors": errors})
    assert desk.unchanged()


def test_a_modal_without_fields_is_replaced_by_a_notice(desk: Desk) -> None:
    forged = {"id": "V0FORGED", "type": "modal", "callback_id": "followup_modal", "blocks": []}

    status, answer = desk.bot.submit_view(ANNA, forged, {})

    assert status == 200 and answer is not None and answer["response_action"] == "update"
    assert "This form does not belong to a ticket" in json.dumps(answer["view"])
    assert desk.unchanged()


def test_a_refusal_after_a_modal_closed_is_told_in_the_support_channel_naming_the_ticket(
    bot: BotHarness, x: XStandIn
) -> None:
    build_team(bot)
    open_ticket(bot, x)
    bot.slash(ANNA, "/resolve", "1")
    view = {**followup_modal(1), "id": "V0LATE", "hash": "1.b"}

    status, answer = bot.submit_view(ANNA, view, typed_into("when", "when", "2h"))

    assert (status, answer) == (200, None)  # the modal closes: the time could be read
    expected = "#1: #1 is resolved; reopen it before promising anything."
    [ephemeral] = bot.deliver_until(lambda: bot.slack.ephemerals)
    assert (ephemeral["channel"], ephemeral["user"], ephemeral["text"]) == (
        "CSUPPORT1",
        ANNA,
        expected,
    )


def test_a_refused_click_inside_a_modal_has_nowhere_to_be_told_and_changes_nothing(
    desk: Desk, caplog: pytest.LogCaptureFixture
) -> None:
    """The canned-answer picker of a modal the bot never opened (its metadata is not ours)."""
    forged = {"id": "V0FORGED", "type": "modal", "private_metadata": "ticket=1"}

    with caplog.at_level(logging.INFO, logger="handlers.refusals"):
        desk.bot.pick_in_view(LEAD, forged, "reply_canned_pick", "danke")
        desk.bot.deliver_until(lambda: "nowhere to say so" in caplog.text)

    assert not [record for record in caplog.records if record.levelno >= logging.ERROR]
    assert desk.unchanged()
