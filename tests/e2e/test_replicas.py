"""Several replicas on one database: one polls X, all serve Slack, nothing twice, nothing lost."""

from __future__ import annotations

import itertools
from collections import Counter
from collections.abc import Iterator

import pytest

from standins.http import wait_for
from standins.slack_api import ANNA, BEN, SlackStandIn
from standins.x_api import XStandIn
from tests.e2e.test_working_a_ticket import build_team, said
from tests.harness import BotHarness, make_settings, question

pytestmark = pytest.mark.slow


@pytest.fixture(params=["sqlite", "postgresql"])
def shared_database(request: pytest.FixtureRequest, database_url: str) -> Iterator[str]:
    """One database for all replicas: a SQLite file, or PostgreSQL when available."""
    if request.param == "sqlite":
        yield database_url
        return
    engine = request.getfixturevalue("pg_engine")
    yield engine.url.render_as_string(hide_password=False)


def cards_per_tweet(slack: SlackStandIn) -> Counter[str]:
    """How many cards each tweet got."""
    return Counter(str(card.payload["tweet_id"]) for card in slack.cards())


def test_three_replicas_post_every_tweet_once_and_survive_the_leaders_death(
    shared_database: str, slack: SlackStandIn, x: XStandIn
) -> None:
    settings = make_settings(
        shared_database, slack, x, poll_interval_seconds=1, sweep_interval_seconds=1
    )
    replicas = [BotHarness(settings, slack, x) for _ in range(3)]
    try:
        build_team(replicas[0])
        for replica in replicas:
            replica.bot.start_background(poll=True)
        first = [x.mention(x.add_user(f"kunde{i}"), question(i)) for i in range(40)]
        wait_for(lambda: len(slack.cards()) == 40, timeout=30)

        leaders = [r for r in replicas if r.bot.services.ingest.last_success is not None]
        assert len(leaders) == 1, "exactly one replica polled X"
        leaders[0].close()  # the leader dies
        survivors = [r for r in replicas if r is not leaders[0]]

        second = [x.mention(x.add_user(f"spaeter{i}"), question(i, "Noch eine")) for i in range(40)]
        wait_for(lambda: len(slack.cards()) == 80, timeout=60)  # another replica took over

        expected = {t["id"] for t in first + second}
        counts = cards_per_tweet(slack)
        assert set(counts) == expected and set(counts.values()) == {1}

        # Every replica serves Slack: commands work through any of them, each claim once.
        assert "You have #1 now" in said(survivors[0].slash(ANNA, "/claim", "1"))
        assert "already claimed" in said(survivors[1].slash(BEN, "/claim", "1"))
    finally:
        for replica in replicas:
            replica.close()


def test_three_replicas_together_keep_slacks_pace_in_one_channel(
    shared_database: str, slack: SlackStandIn, x: XStandIn
) -> None:
    # Issue 10: each replica paced itself in memory, so three posted three times Slack's
    # pace into one channel and then rode on 429s. Slack here refuses any post into a
    # channel that comes sooner than the pace after the one before.
    pace = 0.3
    slack.rate_limit("chat.postMessage", limit=1, window=pace - 0.02)
    settings = make_settings(shared_database, slack, x, poll_interval_seconds=1)
    replicas = [BotHarness(settings, slack, x, post_interval=pace) for _ in range(3)]
    try:
        for replica in replicas:
            replica.bot.start_background(poll=True)
        tweets = [x.mention(x.add_user(f"kunde{i}"), question(i)) for i in range(20)]
        wait_for(lambda: len(slack.cards()) == 20, timeout=60)

        posted = slack.post_times["CSUPPORT1"]
        gaps = [later - earlier for earlier, later in itertools.pairwise(posted)]
        assert len(posted) == 20 and min(gaps) >= pace - 0.02, sorted(gaps)[:3]
        assert slack.rate_limited == 0  # no 429 was needed to slow them down
        posters = [r for r in replicas if r.bot.poster.last_success is not None]
        assert len(posters) >= 2, "the replicas shared the posting"
        assert set(cards_per_tweet(slack)) == {t["id"] for t in tweets}
    finally:
        for replica in replicas:
            replica.close()


def test_replicas_with_auto_assignment_give_each_ticket_once_and_keep_the_cap(
    shared_database: str, slack: SlackStandIn, x: XStandIn
) -> None:
    # Issue 14: whichever replica stores a ticket assigns it, in one transaction that locks
    # the candidates' roster rows; a lead's re-assignment on another replica takes turns.
    settings = make_settings(
        shared_database, slack, x, poll_interval_seconds=1, assignment="auto", max_open_per_agent=5
    )
    replicas = [BotHarness(settings, slack, x) for _ in range(3)]
    try:
        build_team(replicas[0])  # Anna and Ben, agents
        for replica in replicas:
            replica.bot.start_background(poll=True)
        for i in range(14):
            x.mention(x.add_user(f"kunde{i}"), question(i))
        wait_for(lambda: len(slack.cards()) == 14, timeout=30)
        for replica in replicas:
            replica.deliver()

        def assigned_lines() -> Counter[int]:
            lines: Counter[int] = Counter()
            for card in slack.cards():
                for message in slack.thread("CSUPPORT1", card.ts):
                    if "Servicekanal assigned it to you" in message.text:
                        lines[int(card.payload["ticket_id"])] += 1
            return lines

        wait_for(lambda: len(assigned_lines()) == 10, timeout=30)
        lines = assigned_lines()
        assert set(lines.values()) == {1}  # one owner, mentioned once, per assigned ticket
        owners = Counter(
            "ANNA" if f"<@{ANNA}>" in m.text else "BEN"
            for card in slack.cards()
            for m in slack.thread("CSUPPORT1", card.ts)
            if "assigned it to you" in m.text
        )
        assert owners == {"ANNA": 5, "BEN": 5}  # the cap of five each; four stay unclaimed
    finally:
        for replica in replicas:
            replica.close()
