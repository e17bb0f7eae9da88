"""Handler tests: the whole bot, built by app.build against the stand-ins, without HTTP.

Signed requests go in-process through Bolt's `app.dispatch` (bolt-python's own way of
testing listeners); what the listeners send goes over loopback to the stand-ins, as ever.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from standins.slack_api import SlackStandIn
from standins.x_api import XStandIn
from tests.harness import BotHarness, make_settings


@pytest.fixture
def bot(database_url: str, slack: SlackStandIn, x: XStandIn) -> Iterator[BotHarness]:
    """The whole bot against the stand-ins, taking requests in-process."""
    harness = BotHarness(make_settings(database_url, slack, x), slack, x, http=False)
    yield harness
    harness.close()
