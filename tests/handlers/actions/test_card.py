"""handlers/actions/card.py: the card's buttons."""

from __future__ import annotations

import pytest

from standins.slack_api import ANNA, BEN, SlackStandIn
from standins.x_api import XStandIn
from tests.e2e.test_working_a_ticket import build_team, card_text, open_ticket, said
from tests.harness import BotHarness


def buttons_of_card(slack: SlackStandIn) -> dict[str, str]:
    """Label -> action id of the card's buttons."""
    elements = (slack.card(1).blocks or [{}])[-1]["elements"]
    return {e["text"]["text"]: e["action_id"] for e in elements}


@pytest.fixture
def resolved(bot: BotHarness, x: XStandIn) -> BotHarness:
    """Ticket #1, resolved by Anna; its card shows it."""
    build_team(bot)
    open_ticket(bot, x)
    assert buttons_of_card(bot.slack)["Resolve"] == "ticket_resolve"
    bot.click(ANNA, "ticket_resolve", "1", message_ts=bot.slack.card(1).ts)
    bot.deliver()
    return bot


def test_a_resolved_card_offers_reopen_under_its_own_id_in_place_of_resolve(
    resolved: BotHarness, slack: SlackStandIn
) -> None:

    assert buttons_of_card(slack) == {
        "Claim": "ticket_claim",
        "Reply": "ticket_reply",
        "Follow-up": "ticket_followup",
        "Reopen": "ticket_reopen",
        "Escalate": "ticket_escalate",
    }


@pytest.mark.parametrize(
    ("action_id", "label"),
    [
        pytest.param("ticket_reopen", "Wiedereröffnen", id="Reopen, whatever its label"),
        # Resolved cards already in Slack carry the Resolve id labelled Reopen, until the
        # ticket next changes and its card is redrawn; clicking them keeps working.
        pytest.param("ticket_resolve", "Reopen", id="Reopen on a card posted before its id"),
    ],
)
def test_reopen_opens_the_ticket_again_and_the_card_offers_resolve(
    action_id: str, label: str, resolved: BotHarness, slack: SlackStandIn
) -> None:
    answer = said(resolved.click(BEN, action_id, "1", label=label))

    assert answer.startswith("#1 is open again.")
    resolved.deliver()
    assert "New" in card_text(slack) and buttons_of_card(slack)["Resolve"] == "ticket_resolve"


def test_resolve_on_a_card_already_resolved_says_so_and_reopens_nothing(
    resolved: BotHarness, slack: SlackStandIn
) -> None:
    """A double click on Resolve: the second click finds the ticket resolved."""
    answer = said(resolved.click(ANNA, "ticket_resolve", "1", label="Resolve"))

    assert answer.startswith("#1 is already resolved.")
    resolved.deliver()
    assert "Resolved" in card_text(slack)
