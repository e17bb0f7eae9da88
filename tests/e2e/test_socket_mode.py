"""Socket Mode: `python app.py` with SLACK_APP_TOKEN connects out, acks envelopes, serves health."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.test_process import free_port
from tests.fakes import slack_api, x_api
from tests.fakes.http import wait_for
from tests.fakes.slack_api import LEAD, SlackStandIn
from tests.fakes.socket_mode import SocketModeStandIn
from tests.fakes.x_api import XStandIn

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.slow


@pytest.fixture
def socket_mode(slack: SlackStandIn) -> Iterator[SocketModeStandIn]:
    stand_in = SocketModeStandIn()
    slack.socket_url = stand_in.url
    yield stand_in
    stand_in.stop()


def health(port: int) -> dict[str, object] | None:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1) as response:
            loaded: dict[str, object] = json.loads(response.read())
            return loaded
    except OSError:
        return None


def test_the_bot_works_over_socket_mode_without_a_public_url(
    tmp_path: Path, slack: SlackStandIn, x: XStandIn, socket_mode: SocketModeStandIn
) -> None:
    health_port = free_port()
    environ = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "X_"))},
        "SLACK_BOT_TOKEN": slack_api.BOT_TOKEN,
        "SLACK_APP_TOKEN": slack_api.APP_TOKEN,  # no signing secret: Socket Mode needs none
        "SLACK_API_URL": f"{slack.base_url}/api/",
        "SUPPORT_CHANNEL_ID": "CSUPPORT1",
        "ADMIN_USER_IDS": LEAD,
        "X_BEARER_TOKEN": x_api.BEARER,
        "X_API_KEY": x_api.API_KEY,
        "X_API_SECRET": "s",
        "X_ACCESS_TOKEN": x_api.ACCESS_TOKEN,
        "X_ACCESS_TOKEN_SECRET": "t",
        "X_API_URL": x.base_url,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'bot.db'}",
        "HEALTH_PORT": str(health_port),
        "POLL_INTERVAL_SECONDS": "1",
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
        status = wait_for(lambda: health(health_port), timeout=30)
        assert status["mode"] == "socket" and status["status"] == "ok"
        wait_for(socket_mode.connected, timeout=30)

        x.mention(x.add_user("karl_k"), "Kein Netz")
        wait_for(lambda: len(slack.cards()) == 1, timeout=30)  # polling runs in Socket Mode too

        response_url = slack.response_url()
        envelope = socket_mode.send(
            "slash_commands",
            {
                "team_id": slack_api.TEAM_ID,
                "user_id": LEAD,
                "command": "/team",
                "text": "list",
                "channel_id": "CSUPPORT1",
                "response_url": response_url,
                "trigger_id": slack.new_trigger_id(),
            },
        )
        socket_mode.wait_for_ack(envelope)
        path = "/" + response_url.split("/", 3)[3]
        answer = wait_for(lambda: [r for r in slack.responses if r["url"] == path], timeout=10)
        assert "The team" in json.dumps(answer)
    finally:
        process.send_signal(signal.SIGTERM)
        output, _ = process.communicate(timeout=30)
    assert process.returncode == 0, output
    assert slack_api.APP_TOKEN not in output and slack_api.BOT_TOKEN not in output
