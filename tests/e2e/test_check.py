"""`python app.py check`: placeholders told from real values, `--online` asks Slack and X;
start-up failures say so once."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

from standins.slack_api import SlackStandIn
from standins.x_api import XStandIn
from tests.e2e.processes import ROOT, SECRETS, bot_environment

PLACEHOLDER_SETTINGS = (
    "SLACK_BOT_TOKEN",
    "SLACK_SIGNING_SECRET",
    "SUPPORT_CHANNEL_ID",
    "X_BEARER_TOKEN",
    "X_API_KEY",
    "X_API_SECRET",
    "X_ACCESS_TOKEN",
    "X_ACCESS_TOKEN_SECRET",
)


def run_app(*args: str, environ: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(ROOT / "app.py"), *args],
        cwd=cwd,
        env=environ,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def clean_environment(tmp_path: Path) -> dict[str, str]:
    import os

    return {
        **{k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "X_"))},
        "PYTHONPATH": str(ROOT),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'bot.db'}",
    }


def test_check_names_every_setting_still_holding_the_example_placeholder(tmp_path: Path) -> None:
    shutil.copy(ROOT / ".env.example", tmp_path / ".env")
    result = run_app("check", environ=clean_environment(tmp_path), cwd=tmp_path)
    assert result.returncode == 2, result.stdout
    assert "settings are valid" not in result.stdout
    line = result.stderr.strip()
    assert len(line.splitlines()) == 1, line
    for name in PLACEHOLDER_SETTINGS:
        assert name in line
    assert "placeholder" in line
    for value in ("xoxb-your-bot-token", "your-signing-secret", "your-bearer-token"):
        assert value not in line  # named, never echoed


def test_check_tells_one_placeholder_among_real_values(
    tmp_path: Path, slack: SlackStandIn, x: XStandIn
) -> None:
    environ = bot_environment(
        slack, x, database=f"sqlite:///{tmp_path / 'bot.db'}", SLACK_BOT_TOKEN="xoxb-your-token"
    )
    result = run_app("check", environ=environ, cwd=tmp_path)
    assert result.returncode == 2
    assert "SLACK_BOT_TOKEN" in result.stderr and "placeholder" in result.stderr
    for name in PLACEHOLDER_SETTINGS[1:]:
        assert name not in result.stderr
    real = run_app(
        "check",
        environ=bot_environment(slack, x, database=f"sqlite:///{tmp_path / 'bot.db'}"),
        cwd=tmp_path,
    )
    assert real.returncode == 0 and "settings are valid" in real.stdout


def test_running_with_placeholders_stops_at_once_without_trying_slack(tmp_path: Path) -> None:
    shutil.copy(ROOT / ".env.example", tmp_path / ".env")
    result = run_app(environ=clean_environment(tmp_path), cwd=tmp_path)
    assert result.returncode == 2
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert "SLACK_BOT_TOKEN" in result.stderr


def test_check_online_reports_the_workspace_and_the_brand_account(
    tmp_path: Path, slack: SlackStandIn, x: XStandIn
) -> None:
    environ = bot_environment(slack, x, database=f"sqlite:///{tmp_path / 'bot.db'}")
    result = run_app("check", "--online", environ=environ, cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "settings are valid" in result.stdout
    assert "Slack: ok" in result.stdout and "T0SERVICE" in result.stdout
    assert "X: ok" in result.stdout and "@TelekomHilft" in result.stdout
    assert slack.calls_to("auth.test") and x.calls_to("GET /2/users/me")
    for secret in SECRETS:
        assert secret not in result.stdout + result.stderr


def test_check_online_names_what_was_rejected(
    tmp_path: Path, slack: SlackStandIn, x: XStandIn
) -> None:
    environ = bot_environment(
        slack,
        x,
        database=f"sqlite:///{tmp_path / 'bot.db'}",
        SLACK_BOT_TOKEN="xoxb-revoked-token",
        X_API_URL="http://127.0.0.1:9",  # nobody listens: X cannot be reached
    )
    result = run_app("check", "--online", environ=environ, cwd=tmp_path)
    assert result.returncode == 1
    assert "Slack: SLACK_BOT_TOKEN was rejected (invalid_auth)" in result.stdout
    assert "X: cannot reach X_API_URL" in result.stdout
    assert "Traceback" not in result.stderr


def test_a_start_up_failure_is_said_once_without_library_noise(
    tmp_path: Path, slack: SlackStandIn, x: XStandIn
) -> None:
    environ = bot_environment(
        slack, x, database=f"sqlite:///{tmp_path / 'bot.db'}", SLACK_BOT_TOKEN="xoxb-revoked-token"
    )
    result = run_app(environ=environ, cwd=tmp_path)
    assert result.returncode == 1
    said = [line for line in result.stderr.splitlines() if "SLACK_BOT_TOKEN" in line]
    assert said == ["Start-up failed: SLACK_BOT_TOKEN was rejected by Slack (invalid_auth)"]
    assert "Traceback" not in result.stderr and "etry" not in result.stderr
