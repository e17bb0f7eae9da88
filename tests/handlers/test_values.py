"""handlers/values.py and context.number_on: what buttons and modals carry, read back.

A button whose value the bot never wrote is refused with one clear answer and changes
nothing; no modal opens for it (moved from tests/e2e/test_bad_input.py and
test_crafted_payloads.py, issue 11).
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from bot.errors import Refused
from handlers.context import number_on
from handlers.values import NOT_OUR_MODAL, NOT_OURS, metadata_number
from standins.signing import FORM
from standins.slack_api import ANNA, LEAD
from tests.handlers.conftest import Desk
from tests.harness import button


def offer(**fields: Any) -> str:
    """A button value; ticket #2 is nobody's, so a value taken for the bot's would act."""
    return json.dumps(fields)


def clicked(user: str, action_id: str, value: str, answer: str) -> Any:
    return pytest.param(user, action_id, value, answer, id=f"{action_id} {value[:40]!r}")


NOT_THE_BOTS = [
    clicked(LEAD, "ticket_claim", "", NOT_OURS),
    clicked(LEAD, "ticket_claim", "-1", NOT_OURS),
    clicked(LEAD, "ticket_resolve", "abc", NOT_OURS),
    clicked(LEAD, "ticket_reopen", "abc", NOT_OURS),
    clicked(LEAD, "ticket_reply", "-1", NOT_OURS),
    clicked(LEAD, "ticket_claim", "99999999999999999999", NOT_OURS),
    clicked(LEAD, "ticket_claim", "0", "There is no ticket #0."),
    clicked(LEAD, "ticket_followup", "abc", NOT_OURS),
    clicked(LEAD, "ticket_followup", "999", "There is no ticket #999."),
    clicked(LEAD, "ticket_escalate", "999", "There is no ticket #999."),
    clicked(LEAD, "ticket_dm", "x", NOT_OURS),
    clicked(LEAD, "reply_approve", "x", NOT_OURS),
    clicked(LEAD, "reply_reject", "x", NOT_OURS),
    clicked(ANNA, "promise_confirm", "not json", NOT_OURS),
    clicked(ANNA, "promise_confirm", "[1, 2]", NOT_OURS),
    clicked(ANNA, "promise_confirm", offer(ticket=2), NOT_OURS),
    clicked(ANNA, "promise_confirm", offer(due="2026-11-23T10:00:00+00:00"), NOT_OURS),
    clicked(
        ANNA, "promise_confirm", offer(ticket="eins", due="2026-11-23T10:00:00+00:00"), NOT_OURS
    ),
    clicked(ANNA, "promise_confirm", offer(ticket=2, due="morgen"), NOT_OURS),
    clicked(ANNA, "promise_confirm", offer(ticket=2, due="2030-01-01T10:00:00"), NOT_OURS),  # naive
    clicked(
        ANNA,
        "promise_confirm",
        offer(ticket=2, due="9999-12-31T23:59:59+00:00"),
        "That is more than 60 days ahead; promise something nearer.",
    ),
    clicked(
        ANNA,
        "promise_confirm",
        offer(ticket=2, due="2000-01-01T10:00:00+00:00"),
        "01.01. 11:00 is in the past.",
    ),
    clicked(ANNA, "reply_confirm", "not json", NOT_OURS),
    clicked(ANNA, "reply_confirm", offer(body="Hallo"), NOT_OURS),
    clicked(ANNA, "reply_confirm", offer(ticket=2), NOT_OURS),
    clicked(ANNA, "reply_confirm", offer(ticket="2", body="Hallo"), NOT_OURS),
    clicked(ANNA, "reply_confirm", offer(ticket=2, body=["Hallo"]), NOT_OURS),
    clicked(ANNA, "reply_confirm", offer(ticket=2, body="Hallo", canned=["x"]), NOT_OURS),
    clicked(ANNA, "reply_confirm", offer(ticket=2, body="Hallo", canned="x" * 65), NOT_OURS),
]


@pytest.mark.parametrize(("user", "action_id", "value", "answer"), NOT_THE_BOTS)
def test_a_button_value_the_bot_never_wrote_is_refused_and_changes_nothing(
    user: str, action_id: str, value: str, answer: str, approvals: Desk
) -> None:
    """Only a forger with the signing secret can send these; no modal opens for them."""
    response_url = approvals.slack.response_url()
    body = button(approvals.slack, user, action_id, value, response_url=response_url)

    status, _ = approvals.bot.request(body, FORM)

    assert status == 200
    [said_back] = approvals.bot.responses_to(response_url)
    assert said_back["text"] == answer
    assert approvals.slack.calls_to("views.open") == []
    assert approvals.unchanged()


@pytest.mark.parametrize("value", ["12", "0", "999999999999999999"])
def test_a_number_the_bot_wrote_on_a_button_is_read_back(value: str) -> None:
    assert number_on({"value": value}) == int(value)


@pytest.mark.parametrize("value", ["", "-1", "1.0", "١", "1e3", " 1", "9" * 19, None, 12])
def test_anything_else_on_a_button_is_not_the_bots(value: object) -> None:
    with pytest.raises(Refused, match="does not belong to a ticket"):
        number_on({"value": value} if value != 12 else {"text": "12"})


def test_a_modal_carries_back_the_numbers_the_bot_put_into_it() -> None:
    view = {"private_metadata": json.dumps({"ticket": 12, "version": 3})}
    assert (metadata_number(view, "ticket"), metadata_number(view, "version")) == (12, 3)


@pytest.mark.parametrize(
    "metadata",
    ["", "12", "null", '"12"', '{"ticket": null}', '{"ticket": [12]}', '{"ticket": 1e3}'],
)
def test_metadata_the_bot_never_wrote_is_refused(metadata: str) -> None:
    with pytest.raises(Refused) as refused:
        metadata_number({"private_metadata": metadata}, "ticket")
    assert refused.value.user_message == NOT_OUR_MODAL
