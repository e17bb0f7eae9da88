"""handlers/actions/lists.py: paging on the Home tab, whose view keeps where each list stands."""

from __future__ import annotations

import json
import logging
import time

import pytest

from standins.http import wait_for
from standins.signing import FORM
from standins.slack_api import ANNA
from tests.e2e.test_working_a_ticket import build_team
from tests.harness import BotHarness, interaction

NEXT_TICKETS = json.dumps({"list": "home_tickets", "start": 20})


@pytest.mark.parametrize("metadata", ["", "nicht JSON", "5", '"tickets"', "[20]", "null"], ids=repr)
def test_a_home_view_whose_places_are_not_the_bots_pages_from_the_start(
    metadata: str, bot: BotHarness, caplog: pytest.LogCaptureFixture
) -> None:
    """As with modals (issue 11): Home metadata that was JSON but no object ended in a 500."""
    build_team(bot)
    home = {"id": "VHOME", "type": "home", "private_metadata": metadata, "blocks": []}
    click = {
        "type": "button",
        "action_id": "list_next",
        "block_id": "paging",
        "value": NEXT_TICKETS,
        "action_ts": f"{time.time():.6f}",
    }
    body = interaction(
        bot.slack,
        ANNA,
        "block_actions",
        container={"type": "view", "view_id": "VHOME"},
        view=home,
        actions=[click],
        response_url=None,
    )

    with caplog.at_level(logging.ERROR):
        status, _ = bot.request(body, FORM)
        published = wait_for(lambda: bot.slack.home_views.get(ANNA))

    assert status == 200
    assert json.loads(published["private_metadata"]) == {"tickets": 20, "followups": 0}
    assert not [record for record in caplog.records if record.levelno >= logging.ERROR]
