"""`python app.py` as a real process, HTTP mode, against the stand-ins: the README's promise."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.fakes import slack_api, x_api
from tests.fakes.http import wait_for
from tests.fakes.signing import SIGNING_SECRET
from tests.fakes.slack_api import SlackStandIn
from tests.fakes.x_api import XStandIn

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.slow


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def running_bot(
    tmp_path: Path, slack: SlackStandIn, x: XStandIn, port: int
) -> Iterator[subprocess.Popen[str]]:
    environ = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "X_"))},
        "SLACK_BOT_TOKEN": slack_api.BOT_TOKEN,
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "SLACK_API_URL": f"{slack.base_url}/api/",
        "SUPPORT_CHANNEL_ID": "CSUPPORT1",
        "X_BEARER_TOKEN": x_api.BEARER,
        "X_API_KEY": x_api.API_KEY,
        "X_API_SECRET": "x-test-secret",
        "X_ACCESS_TOKEN": x_api.ACCESS_TOKEN,
        "X_ACCESS_TOKEN_SECRET": "x-test-access-secret",
        "X_API_URL": x.base_url,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'bot.db'}",
        "POLL_INTERVAL_SECONDS": "1",
        # Always open: no out-of-hours answers whatever hour the test runs at.
        "SERVICE_HOURS": "mon-sun 00:00-24:00",
        "HOLIDAYS": "",
        "PORT": str(port),
        "PYTHONPATH": str(ROOT),
    }
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
        for secret in (slack_api.BOT_TOKEN, SIGNING_SECRET, x_api.BEARER, "x-test-secret"):
            assert secret not in output


def healthy(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1) as response:
            return response.status == 200 and bool(json.loads(response.read())["status"] == "ok")
    except OSError:
        return False


def test_the_running_bot_turns_mentions_into_cards_and_threads_and_survives_a_restart(
    tmp_path: Path, slack: SlackStandIn, x: XStandIn
) -> None:
    port = free_port()
    customers = [x.add_user(f"kunde{i}") for i in range(4)]
    first_tweets = [x.mention(c, f"Frage {i}") for i, c in enumerate(customers)]

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
