"""Settings: exactly the contract's names; a bad value stops start-up with one clear line."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from bot.config import (
    DEFAULT_GROUP_SIMILARITY,
    GroupingSettings,
    Settings,
    describe_settings_error,
)
from bot.x_calls import DEFAULT_PRICES, XKind

ROOT = Path(__file__).resolve().parents[1]
REQUIRED = {
    "SLACK_BOT_TOKEN": "xoxb-1-secret-bot-token",
    "SLACK_SIGNING_SECRET": "very-secret-signing-secret",
    "SUPPORT_CHANNEL_ID": "C0SUPPORT",
    "X_BEARER_TOKEN": "AAAA-secret-bearer",
    "X_API_KEY": "secret-api-key",
    "X_API_SECRET": "secret-api-secret",
    "X_ACCESS_TOKEN": "secret-access-token",
    "X_ACCESS_TOKEN_SECRET": "secret-access-token-secret",
}


def load(**environ: str) -> Settings:
    values: dict[str, Any] = {k.lower(): v for k, v in {**REQUIRED, **environ}.items()}
    return Settings(_env_file=None, **values)


def error_line(**environ: str) -> str:
    with pytest.raises(ValidationError) as caught:
        load(**environ)
    return describe_settings_error(caught.value)


def test_defaults_are_the_contracts() -> None:
    settings = load()
    assert settings.slack_api_url == "https://slack.com/api/"
    assert settings.x_api_url == "https://api.twitter.com"
    assert settings.poll_interval_seconds == 15
    assert settings.dm_poll_interval_seconds == 60
    assert settings.sweep_interval_seconds == 15
    assert settings.backfill_hours == 24
    assert settings.timezone == "Europe/Berlin"
    assert settings.service_hours == "mon-fri 08:00-20:00"
    assert settings.holidays == "DE"
    assert (settings.first_response_sla_minutes, settings.unclaimed_alert_minutes) == (30, 10)
    assert (settings.followup_warn_minutes, settings.followup_escalate_minutes) == (10, 15)
    assert settings.signature_format == " ^{initials}"
    assert "{opens}" in settings.out_of_hours_reply
    assert settings.phone_region == "DE"
    assert settings.vip_followers == 10000
    assert settings.database_url == "sqlite:///servicekanal.db"
    assert settings.port == 3000
    assert settings.escalation_channel == "C0SUPPORT"
    assert not settings.socket_mode
    assert (settings.group_window_hours, settings.group_min_size) == (24, 3)
    assert settings.group_similarity == DEFAULT_GROUP_SIMILARITY
    assert (settings.assignment, settings.max_open_per_agent) == ("pull", 8)
    assert settings.auto_assign_trainees is False


def test_lists_are_split_as_the_contract_says() -> None:
    settings = load(
        ADMIN_USER_IDS="U01LEAD, U02LEAD",
        X_KEYWORD_QUERIES="telekom störung;#telekomfail -is:retweet",
    )
    assert settings.admin_user_ids == ["U01LEAD", "U02LEAD"]
    assert settings.x_keyword_queries == ["telekom störung", "#telekomfail -is:retweet"]


def test_an_empty_out_of_hours_reply_disables_it() -> None:
    assert load(OUT_OF_HOURS_REPLY="").out_of_hours_reply == ""


@pytest.mark.parametrize(
    ("environ", "expected"),
    [
        ({"PORT": "eighty"}, "PORT is invalid"),
        ({"POLL_INTERVAL_SECONDS": "0"}, "POLL_INTERVAL_SECONDS is invalid"),
        (
            {"SUPPORT_CHANNEL_ID": "#support"},
            "SUPPORT_CHANNEL_ID is invalid: must be a Slack channel id",
        ),
        (
            {"ADMIN_USER_IDS": "U01LEAD,anna"},
            "ADMIN_USER_IDS is invalid: 'anna' is not a Slack user id",
        ),
        ({"TIMEZONE": "Mars/Olympus"}, "TIMEZONE is invalid"),
        ({"SERVICE_HOURS": "weekdays 8-20"}, "SERVICE_HOURS is invalid"),
        ({"SERVICE_HOURS": "mon-fri 20:00-08:00"}, "ends before it starts"),
        ({"HOLIDAYS": "XX"}, "HOLIDAYS is invalid"),
        ({"PHONE_REGION": "ZZ"}, "PHONE_REGION is invalid"),
        ({"CONTRACT_NUMBER_PATTERNS": "Kd(Nr"}, "CONTRACT_NUMBER_PATTERNS is invalid"),
        ({"SIGNATURE_FORMAT": " ^{name}"}, "SIGNATURE_FORMAT is invalid"),
        ({"SLACK_API_URL": "slack.com/api"}, "SLACK_API_URL is invalid"),
        ({"LOG_FORMAT": "xml"}, "LOG_FORMAT is invalid"),
        ({"X_ALLOW_UNSUMMONED_REPLIES": "perhaps"}, "X_ALLOW_UNSUMMONED_REPLIES is invalid"),
        ({"DATABASE_URL": "mysql://db"}, "DATABASE_URL is invalid"),
        ({"GROUP_SIMILARITY": "1.5"}, "GROUP_SIMILARITY is invalid"),
        ({"GROUP_SIMILARITY": "0"}, "GROUP_SIMILARITY is invalid"),
        ({"GROUP_SIMILARITY": "high"}, "GROUP_SIMILARITY is invalid"),
        ({"GROUP_MIN_SIZE": "1"}, "GROUP_MIN_SIZE is invalid"),
        ({"GROUP_WINDOW_HOURS": "0"}, "GROUP_WINDOW_HOURS is invalid"),
        ({"ASSIGNMENT": "push"}, "ASSIGNMENT is invalid"),
        ({"MAX_OPEN_PER_AGENT": "0"}, "MAX_OPEN_PER_AGENT is invalid"),
        ({"MAX_OPEN_PER_AGENT": "many"}, "MAX_OPEN_PER_AGENT is invalid"),
        ({"AUTO_ASSIGN_TRAINEES": "sometimes"}, "AUTO_ASSIGN_TRAINEES is invalid"),
    ],
)
def test_a_malformed_setting_is_named_in_one_line(environ: dict[str, str], expected: str) -> None:
    line = error_line(**environ)
    assert expected in line
    assert "\n" not in line


def test_a_wrong_token_kind_is_named_without_showing_the_token() -> None:
    line = error_line(SLACK_BOT_TOKEN="xoxp-user-token-secret-value")
    assert "SLACK_BOT_TOKEN is invalid: must be a bot token starting with xoxb-" in line
    assert "secret-value" not in line


def test_http_mode_needs_the_signing_secret_but_socket_mode_does_not() -> None:
    values: dict[str, Any] = {
        k.lower(): v for k, v in REQUIRED.items() if k != "SLACK_SIGNING_SECRET"
    }
    with pytest.raises(ValidationError) as caught:
        Settings(_env_file=None, **values)
    assert "SLACK_SIGNING_SECRET is required in HTTP mode" in describe_settings_error(caught.value)
    settings = Settings(_env_file=None, **values, slack_app_token="xapp-1-secret")
    assert settings.socket_mode


def run_app(*args: str, environ: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if k.upper() not in REQUIRED}
    return subprocess.run(
        [sys.executable, str(ROOT / "app.py"), *args],
        env={**clean, **environ, "PYTHONPATH": str(ROOT)},
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_start_up_with_missing_settings_stops_with_one_line_and_no_traceback(
    tmp_path: Path,
) -> None:
    result = run_app(environ={"SLACK_BOT_TOKEN": "xoxb-1-top-secret"}, cwd=tmp_path)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert "SUPPORT_CHANNEL_ID is missing" in lines[0]
    assert "X_BEARER_TOKEN is missing" in lines[0]
    assert "Traceback" not in result.stderr
    assert "top-secret" not in result.stderr + result.stdout


def test_settings_are_read_from_a_dot_env_file(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text(
        "\n".join(f"{k}={v}" for k, v in REQUIRED.items()) + "\nPORT=abc\n"
    )
    result = run_app("check", environ={}, cwd=tmp_path)
    assert result.returncode == 2
    assert "PORT is invalid" in result.stderr
    (tmp_path / ".env").write_text("\n".join(f"{k}={v}" for k, v in REQUIRED.items()) + "\n")
    assert run_app("check", environ={}, cwd=tmp_path).returncode == 0


def test_help_explains_the_modes(tmp_path: Path) -> None:
    result = run_app("--help", environ={}, cwd=tmp_path)
    assert result.returncode == 0
    assert "Socket Mode" in result.stdout and "SLACK_APP_TOKEN" in result.stdout
    assert (
        "HTTP mode" in result.stdout
        and "/slack/events" in result.stdout
        and "/healthz" in result.stdout
    )


def test_migrate_needs_only_the_database(tmp_path: Path) -> None:
    result = run_app(
        "migrate", environ={"DATABASE_URL": f"sqlite:///{tmp_path}/m.db"}, cwd=tmp_path
    )
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "m.db").exists()


def test_env_example_names_exactly_the_contracts_variables() -> None:
    names = {
        line.split("=", 1)[0].lstrip("# ").strip()
        for line in (ROOT / ".env.example").read_text().splitlines()
        if "=" in line and not line.startswith("##")
    }
    fields = {name.upper() for name in Settings.model_fields}
    assert names == fields


def test_the_grouping_settings_need_no_tokens() -> None:
    settings = GroupingSettings(_env_file=None, group_similarity="0.5", group_min_size="4")
    assert (settings.group_similarity, settings.group_min_size) == (0.5, 4)


def test_x_prices_default_to_xs_published_ones_and_may_be_overridden_per_kind() -> None:
    assert load().x_prices == DEFAULT_PRICES
    assert load().x_monthly_budget is None
    prices = load(x_prices="post=0.02; dm_sent=0.01", x_monthly_budget="250").x_prices
    assert prices[XKind.POST] == 0.02 and prices[XKind.DM_SENT] == 0.01
    assert prices[XKind.POST_WITH_URL] == 0.20  # not named: X's price


@pytest.mark.parametrize(
    ("environ", "expected"),
    [
        ({"x_prices": "post=cheap"}, "X_PRICES is invalid: the price of post is not a number"),
        ({"x_prices": "tweet=0.01"}, "X_PRICES is invalid: expected kind=USD pairs"),
        ({"x_prices": "post=-1"}, "X_PRICES is invalid: the price of post must be between"),
        ({"x_monthly_budget": "lots"}, "X_MONTHLY_BUDGET is invalid"),
        ({"x_monthly_budget": "0"}, "X_MONTHLY_BUDGET is invalid"),
        ({"x_posts_per_15_min": "0"}, "X_POSTS_PER_15_MIN is invalid"),
    ],
)
def test_bad_x_cost_settings_stop_start_up_naming_the_setting(
    environ: dict[str, str], expected: str
) -> None:
    assert expected in error_line(**environ)
