"""Socket Mode: `python app.py` with SLACK_APP_TOKEN connects out, acks envelopes, serves health."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from standins import slack_api
from standins.http import wait_for
from standins.slack_api import LEAD, SlackStandIn
from standins.socket_mode import SocketModeStandIn
from standins.x_api import XStandIn
from tests.e2e.processes import ROOT, bot_environment, free_port, health

pytestmark = pytest.mark.slow


@pytest.fixture
def socket_mode(slack: SlackStandIn) -> Iterator[SocketModeStandIn]:
    stand_in = SocketModeStandIn()
    slack.socket_url = stand_in.url
    yield stand_in
    stand_in.stop()


def test_the_bot_works_over_socket_mode_without_a_public_url(
    tmp_path: Path, slack: SlackStandIn, x: XStandIn, socket_mode: SocketModeStandIn
) -> None:
    health_port = free_port()
    environ = bot_environment(
        slack,
        x,
        database=f"sqlite:///{tmp_path / 'bot.db'}",
        SLACK_APP_TOKEN=slack_api.APP_TOKEN,
        SLACK_SIGNING_SECRET=None,  # Socket Mode needs none
        ADMIN_USER_IDS=LEAD,
        HEALTH_PORT=str(health_port),
    )
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
