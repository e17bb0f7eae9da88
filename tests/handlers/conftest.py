"""Handler tests: the whole bot, built by app.build against the stand-ins, without HTTP.

Signed requests go in-process through Bolt's `app.dispatch` (bolt-python's own way of
testing listeners); what the listeners send goes over loopback to the stand-ins, as ever.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from standins.slack_api import LEAD, TOM, SlackStandIn
from standins.x_api import XStandIn
from tests.e2e.test_working_a_ticket import build_team, open_ticket
from tests.harness import BotHarness, World, make_settings, world


@pytest.fixture
def bot(database_url: str, slack: SlackStandIn, x: XStandIn) -> Iterator[BotHarness]:
    """The whole bot against the stand-ins, taking requests in-process."""
    harness = BotHarness(make_settings(database_url, slack, x), slack, x, http=False)
    yield harness
    harness.close()


@dataclass(frozen=True)
class Desk:
    """A bot set up once for many requests that must change nothing, and its world before."""

    bot: BotHarness
    slack: SlackStandIn
    before: World

    def unchanged(self) -> bool:
        """Whether the database, Slack and X are as they were when the desk was set up."""
        return world(self.bot) == self.before


@contextmanager
def desk_of(folder: Path, prepare: Callable[[BotHarness], object]) -> Iterator[Desk]:
    """A desk with stand-ins of its own, so that other tests' resets leave it alone."""
    slack, x = SlackStandIn(), XStandIn()
    slack.start()
    x.start()
    bot = BotHarness(
        make_settings(f"sqlite:///{folder / 'servicekanal.db'}", slack, x), slack, x, http=False
    )
    try:
        prepare(bot)
        yield Desk(bot, slack, world(bot))
    finally:
        bot.close()
        slack.stop()
        x.stop()


def team_and_ticket_1(bot: BotHarness) -> None:
    """Lena leads, Anna and Ben are agents; Karl's ticket #1 is on its card, unowned."""
    build_team(bot)
    open_ticket(bot, bot.x)


@pytest.fixture(scope="package")
def desk(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Desk]:
    """One bot for every request of tests/handlers that may change nothing: each is
    checked against the same world, so hundreds of them run in seconds."""
    with desk_of(tmp_path_factory.mktemp("desk"), team_and_ticket_1) as built:
        yield built


def trainee_reply_waiting(bot: BotHarness) -> None:
    """The team with Tom, a trainee, whose reply to #1 waits for a lead; #2 is nobody's."""
    team_and_ticket_1(bot)
    bot.slash(LEAD, "/team", f"add <@{TOM}|tom> trainee TT")
    bot.slash(TOM, "/reply", "1 Wir kümmern uns!")
    bot.x.mention(bot.x.add_user("carla", "Carla Kundin"), "Kein Netz in Bonn")
    bot.poll_and_deliver()


@pytest.fixture(scope="package")
def approvals(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Desk]:
    """A desk where a trainee's reply to #1 waits for approval and #2 is nobody's."""
    with desk_of(tmp_path_factory.mktemp("approvals"), trainee_reply_waiting) as built:
        yield built


def waiting_reply(desk: Desk) -> str:
    """The number the Approve button of the waiting reply carries."""
    approval = next(
        m
        for m in desk.slack.thread("CSUPPORT1", desk.slack.card(1).ts)
        if "Approve" in json.dumps(m.blocks)
    )
    value: str = approval.blocks[-1]["elements"][0]["value"]  # type: ignore[index]
    return value
