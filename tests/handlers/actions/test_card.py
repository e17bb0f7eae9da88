"""handlers/actions/card.py: the card's buttons."""

from __future__ import annotations

from standins.slack_api import ANNA, BEN, SlackStandIn
from standins.x_api import XStandIn
from tests.e2e.test_working_a_ticket import build_team, card_text, open_ticket, said
from tests.harness import BotHarness


def buttons_of_card(slack: SlackStandIn) -> dict[str, str]:
    """Label -> action id of the card's buttons."""
    elements = (slack.card(1).blocks or [{}])[-1]["elements"]
    return {e["text"]["text"]: e["action_id"] for e in elements}


def test_a_resolved_card_offers_reopen_under_its_own_id_in_place_of_resolve(
    bot: BotHarness, x: XStandIn, slack: SlackStandIn
) -> None:
    build_team(bot)
    open_ticket(bot, x)
    assert buttons_of_card(slack)["Resolve"] == "ticket_resolve"

    bot.click(ANNA, "ticket_resolve", "1", message_ts=slack.card(1).ts)
    bot.deliver()

    assert buttons_of_card(slack) == {
        "Claim": "ticket_claim",
        "Reply": "ticket_reply",
        "Follow-up": "ticket_followup",
        "Reopen": "ticket_reopen",
        "Escalate": "ticket_escalate",
    }


def test_reopen_does_not_depend_on_the_label_slack_sends_with_the_click(
    bot: BotHarness, x: XStandIn, slack: SlackStandIn
) -> None:
    build_team(bot)
    open_ticket(bot, x)
    bot.slash(ANNA, "/resolve", "1")

    answer = said(bot.click(BEN, "ticket_reopen", "1", label="Wiedereröffnen"))

    assert answer.startswith("#1 is open again.")
    bot.deliver()
    assert "New" in card_text(slack) and buttons_of_card(slack)["Resolve"] == "ticket_resolve"


def test_resolve_on_a_card_already_resolved_says_so_and_reopens_nothing(
    bot: BotHarness, x: XStandIn, slack: SlackStandIn
) -> None:
    """A double click on Resolve: the second click finds the ticket resolved."""
    build_team(bot)
    open_ticket(bot, x)
    bot.slash(ANNA, "/resolve", "1")

    assert said(bot.click(ANNA, "ticket_resolve", "1", label="Resolve")).startswith(
        "#1 is already resolved."
    )
    bot.deliver()
    assert "Resolved" in card_text(slack)


def test_reopen_on_a_card_posted_before_it_had_its_own_id_still_reopens(
    bot: BotHarness, x: XStandIn, slack: SlackStandIn
) -> None:
    """Resolved cards already in Slack carry the Resolve id labelled Reopen (until the
    ticket next changes and its card is redrawn); clicking them keeps working."""
    build_team(bot)
    open_ticket(bot, x)
    bot.slash(ANNA, "/resolve", "1")

    answer = said(bot.click(BEN, "ticket_resolve", "1", label="Reopen"))

    assert answer.startswith("#1 is open again.")
    bot.deliver()
    assert "New" in card_text(slack) and buttons_of_card(slack)["Resolve"] == "ticket_resolve"
