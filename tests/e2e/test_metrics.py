"""`GET /metrics` (issue 13, part 5): an operator's Prometheus scrapes a running bot.

The figures are read over HTTP from the same port as /healthz, in Prometheus' text
format, and move with the traffic the stand-ins make.
"""

from __future__ import annotations

import urllib.request
from collections.abc import Iterator

import pytest
from prometheus_client.parser import text_string_to_metric_families

from standins.http import wait_for
from standins.slack_api import ANNA, SlackStandIn
from standins.x_api import XStandIn
from tests.e2e.test_working_a_ticket import build_team, said
from tests.harness import BotHarness, make_settings

MENTIONS = "GET /2/users/:id/mentions"
POSTS = "POST /2/tweets"
Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


@pytest.fixture
def running(database_url: str, slack: SlackStandIn, x: XStandIn) -> Iterator[BotHarness]:
    """The bot with its background work running: poster, sweeps every second, X outbox."""
    bot = BotHarness(
        make_settings(database_url, slack, x, sweep_interval_seconds=1), slack, x, x_timeout=1.0
    )
    bot.bot.start_background(poll=False)
    yield bot
    bot.close()


def scrape(bot: BotHarness) -> Samples:
    """GET /metrics as Prometheus does, parsed by prometheus-client's own parser."""
    with urllib.request.urlopen(f"{bot.url}/metrics", timeout=5) as response:
        assert response.status == 200
        assert response.headers["Content-Type"].startswith("text/plain; version=0.0.4")
        text = response.read().decode()
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


def test_metrics_move_with_tickets_replies_and_xs_failures(
    running: BotHarness, x: XStandIn, slack: SlackStandIn
) -> None:
    build_team(running)
    before = scrape(running)
    assert value(before, "servicekanal_tickets_in_total", how="new") == 0
    assert value(before, "servicekanal_poll_lag_seconds") == -1  # never polled yet
    assert value(before, "servicekanal_queue_depth", queue="x") == 0

    x.mention(x.add_user("karl_k"), "Kein Netz seit heute früh")
    running.poll()
    after_poll = scrape(running)
    assert value(after_poll, "servicekanal_tickets_in_total", how="new") == 1
    assert value(after_poll, "servicekanal_x_calls_total", route=MENTIONS, outcome="ok") == 1
    assert 0 <= value(after_poll, "servicekanal_poll_lag_seconds") < 5

    assert "Sent" in said(running.slash(ANNA, "/reply", "1 Wir schauen sofort nach."))
    wait_for(lambda: slack.cards() and slack.thread("CSUPPORT1", slack.cards()[0].ts))
    replied = scrape(running)
    assert value(replied, "servicekanal_replies_out_total", kind="tweet", answer="individual") == 1
    assert value(replied, "servicekanal_x_calls_total", route=POSTS, outcome="ok") == 1
    assert value(replied, "servicekanal_slack_calls_total", method="chat.postMessage", outcome="ok")

    # X fails: once with a 503, once too slow to answer; both are counted by outcome.
    x.fail_next(MENTIONS, status=503, body={"title": "Service Unavailable"})
    running.poll()
    running.bot.services.ingest._blocked_until.clear()  # no back-off wait in a test
    x.fail_next(MENTIONS, delay=2.0)
    running.poll()
    failing = scrape(running)
    assert value(failing, "servicekanal_x_calls_total", route=MENTIONS, outcome="5xx") == 1
    assert value(failing, "servicekanal_x_calls_total", route=MENTIONS, outcome="timeout") == 1

    # The sweep runs every second in the background; its duration is observed.
    wait_for(lambda: value(scrape(running), "servicekanal_sweep_duration_seconds_count") >= 1)


def test_queue_depths_and_the_oldest_waiting_post_show_a_stuck_queue(
    running: BotHarness, x: XStandIn, slack: SlackStandIn
) -> None:
    build_team(running)
    running.bot.stop_background()  # nothing drains the queues now
    x.mention(x.add_user("karl_k"), "Kein Netz")
    x.mention(x.add_user("erika"), "Rechnung falsch")
    running.poll()
    stuck = scrape(running)
    assert value(stuck, "servicekanal_queue_depth", queue="slack") == 2  # two cards wait
    assert value(stuck, "servicekanal_oldest_pending_seconds", queue="slack") >= 0

    # X's window allows one post: the second reply waits in the X outbox.
    x.posting_window(limit=1, window=60)
    assert "Sent" in said(running.slash(ANNA, "/reply", "1 Wir schauen nach."))
    assert "first in line" in said(running.slash(ANNA, "/reply", "2 Wir prüfen die Rechnung."))
    waiting = scrape(running)
    assert value(waiting, "servicekanal_queue_depth", queue="x") == 1
    assert value(waiting, "servicekanal_oldest_pending_seconds", queue="x") >= 0
    assert value(waiting, "servicekanal_replies_out_total", kind="tweet", answer="individual") == 1
