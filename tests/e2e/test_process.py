"""`python app.py` as a real process, HTTP mode, against the stand-ins: the README's promise."""

from __future__ import annotations

import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from standins.http import wait_for
from standins.slack_api import SlackStandIn
from standins.x_api import XStandIn
from tests.e2e.processes import ROOT, SECRETS, bot_environment, free_port, healthy
from tests.harness import question

pytestmark = pytest.mark.slow


@contextmanager
def running_bot(
    tmp_path: Path, slack: SlackStandIn, x: XStandIn, port: int
) -> Iterator[subprocess.Popen[str]]:
    environ = bot_environment(slack, x, database=f"sqlite:///{tmp_path / 'bot.db'}", PORT=str(port))
    process = subprocess.Popen(
        [sys.executable, str(ROOT / "app.py")],
        cwd=tmp_path,
        env=environ,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        wait_for(lambda: healthy(port), timeout=30)
        yield process
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
        output, _ = process.communicate(timeout=30)
        assert process.returncode == 0, output
        for secret in SECRETS:
            assert secret not in output


def test_the_running_bot_turns_mentions_into_cards_and_threads_and_survives_a_restart(
    tmp_path: Path, slack: SlackStandIn, x: XStandIn
) -> None:
    port = free_port()
    customers = [x.add_user(f"kunde{i}") for i in range(4)]
    first_tweets = [x.mention(c, question(i)) for i, c in enumerate(customers)]

    with running_bot(tmp_path, slack, x, port):
        wait_for(lambda: len(slack.cards()) == 4, timeout=30)
        x.tweet(customers[0], "noch da?", reply_to=first_tweets[0])
        wait_for(lambda: len(slack.thread("CSUPPORT1", slack.cards()[0].ts)) == 1, timeout=30)

    assert [c.payload["tweet_id"] for c in slack.cards()] == [t["id"] for t in first_tweets]
    posts_before = len(slack.calls_to("chat.postMessage"))

    with running_bot(tmp_path, slack, x, port):
        x.mention(x.add_user("neu"), "Hallo")
        wait_for(lambda: len(slack.cards()) == 5, timeout=30)

    assert len(slack.calls_to("chat.postMessage")) == posts_before + 1
    assert len(slack.thread("CSUPPORT1", slack.cards()[0].ts)) == 1
