"""Running `python app.py` as a real process against the stand-ins."""

from __future__ import annotations

import json
import os
import socket
import urllib.request
from pathlib import Path

from standins import slack_api, x_api
from standins.signing import SIGNING_SECRET
from standins.slack_api import SlackStandIn
from standins.x_api import XStandIn

ROOT = Path(__file__).resolve().parents[2]
SECRETS = (slack_api.BOT_TOKEN, slack_api.APP_TOKEN, SIGNING_SECRET, x_api.BEARER, "x-test-secret")


def free_port() -> int:
    """A port nobody listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def bot_environment(
    slack: SlackStandIn, x: XStandIn, *, database: str, **settings: str | None
) -> dict[str, str]:
    """The environment of a bot that talks to the stand-ins.

    `settings` add or override variables; None removes one.
    """
    environ = {
        # Settings of the machine running the tests must not leak into the bot.
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
        "DATABASE_URL": database,
        "POLL_INTERVAL_SECONDS": "1",
        # Always open: no out-of-hours answers whatever hour the test runs at.
        "SERVICE_HOURS": "mon-sun 00:00-24:00",
        "HOLIDAYS": "",
        "PYTHONPATH": str(ROOT),
    }
    for name, value in settings.items():
        if value is None:
            environ.pop(name, None)
        else:
            environ[name] = value
    return environ


def health(port: int) -> dict[str, object] | None:
    """GET /healthz, or None while nothing answers."""
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1) as response:
            loaded: dict[str, object] = json.loads(response.read())
            return loaded
    except OSError:
        return None


def healthy(port: int) -> bool:
    """Whether the bot on `port` says it is ok."""
    status = health(port)
    return status is not None and status.get("status") == "ok"
