"""manifest.yml is valid for Slack and matches what the bot listens to."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import yaml

from handlers import ids
from handlers.commands import COMMANDS
from tests.conftest import requires_reference

MANIFEST = Path(__file__).resolve().parents[1] / "manifest.yml"


def manifest() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(MANIFEST.read_text())
    return loaded


def test_the_manifest_validates_against_slacks_schema() -> None:
    schema = json.loads((requires_reference() / "slack-manifest.schema.1.0.0.json").read_text())
    errors = sorted(jsonschema.Draft7Validator(schema).iter_errors(manifest()), key=str)
    assert [f"{'/'.join(map(str, e.path))}: {e.message}" for e in errors] == []


def test_every_manifest_command_has_a_handler_and_every_handler_a_manifest_entry() -> None:
    in_manifest = {c["command"] for c in manifest()["features"]["slash_commands"]}
    assert in_manifest == set(COMMANDS)


def test_the_manifest_has_every_command_of_the_spec() -> None:
    spec = {
        "/claim",
        "/release",
        "/handover",
        "/reply",
        "/dm",
        "/note",
        "/followup",
        "/resolve",
        "/escalate",
        "/history",
        "/canned",
        "/oncall",
        "/team",
        "/stats",
        "/topic",  # SPEC §13
        "/away",
        "/back",
    }
    assert {c["command"] for c in manifest()["features"]["slash_commands"]} == spec


def test_commands_that_name_users_ask_slack_to_escape_them() -> None:
    escaped = {
        c["command"] for c in manifest()["features"]["slash_commands"] if c.get("should_escape")
    }
    assert {"/handover", "/oncall", "/team", "/topic"} <= escaped


def test_the_message_shortcut_is_the_one_the_bot_knows() -> None:
    shortcuts = {s["callback_id"] for s in manifest()["features"]["shortcuts"]}
    assert shortcuts == {ids.REPLY_SHORTCUT}


def test_socket_mode_and_the_events_the_bot_handles_are_enabled() -> None:
    settings = manifest()["settings"]
    assert settings["socket_mode_enabled"] is True
    assert settings["interactivity"]["is_enabled"] is True
    assert set(settings["event_subscriptions"]["bot_events"]) == {
        "message.channels",
        "message.groups",
        "app_home_opened",
    }
