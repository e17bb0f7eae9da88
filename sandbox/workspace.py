"""The sandbox's world: a Slack workspace and an X account of stand-ins, with people in them.

Nothing here needs an account: the stand-ins of `standins/` answer as Slack and X do, and
the bot is configured against them with settings that come from nowhere else (no `.env`,
no environment), so a developer's real tokens can never leak into a training session.
"""

from __future__ import annotations

import json
import logging
import os
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic_settings import BaseSettings, PydanticBaseSettingsSource

from bot.config import Settings
from standins import slack_api, x_api
from standins.slack_api import ANNA, BEN, EVE, LEAD, TOM, SlackStandIn
from standins.x_api import XStandIn

log = logging.getLogger(__name__)

SUPPORT, ESCALATIONS = "CSUPPORT1", "CESCALATE"
DATABASE_FILE = "sandbox.db"
SNAPSHOT_FILE = "standins.json"
LOG_FILE = "sandbox.log"


@dataclass(frozen=True)
class Person:
    """Someone in the sandbox's Slack workspace, and their place on the roster."""

    user_id: str
    role: str | None  # None: not on the team (to see how the bot refuses outsiders)
    initials: str | None = None


# The stand-in workspace knows their names (Lena Lehmann, Anna Schmidt, ...). The lead is
# "you": ADMIN_USER_IDS makes her a lead, the others are put on the roster at the start.
PEOPLE = (
    Person(LEAD, "lead"),
    Person(ANNA, "agent", "AS"),
    Person(BEN, "agent", "BM"),
    Person(TOM, "trainee", "TT"),
    Person(EVE, None),
)
# Customers on X to start with: an ordinary one, a busy one, a verified VIP.
CUSTOMERS = (
    ("karl_k", "Karl Krause", 120, False),
    ("julia_b", "Julia Berger", 2300, False),
    ("techmaxx", "Max Techner", 48000, True),
)
KEYWORD_QUERY = "#telekomfail OR #mobilfunkstörung"  # hits become tickets too, marked so


class SandboxSettings(Settings):
    """The bot's settings for the sandbox: only what the sandbox passes, nothing from outside."""

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings,)


class Workspace:
    """The stand-ins of Slack and X, running, with the sandbox's people and customers."""

    def __init__(self, directory: Path, *, keep: bool = False) -> None:
        self.directory = directory
        self.slack = SlackStandIn()
        self.x = XStandIn()
        # A new secret each run: only the sandbox itself can sign requests into its bot.
        self.signing_secret = secrets.token_hex(16)
        directory.mkdir(parents=True, exist_ok=True)
        snapshot = directory / SNAPSHOT_FILE
        self.fresh = not (keep and snapshot.exists() and self.database.exists())
        if self.fresh:
            for name in (DATABASE_FILE, f"{DATABASE_FILE}-wal", f"{DATABASE_FILE}-shm"):
                (directory / name).unlink(missing_ok=True)
            snapshot.unlink(missing_ok=True)
        self.slack.start()
        self.x.start()
        if self.fresh:
            for handle, name, followers, verified in CUSTOMERS:
                self.x.add_user(handle, name, followers=followers, verified=verified)
        else:
            saved = json.loads(snapshot.read_text())
            self.slack.restore(saved["slack"])
            self.x.restore(saved["x"])
        self._saved_at = -1

    @property
    def database(self) -> Path:
        """The sandbox's own SQLite file."""
        return self.directory / DATABASE_FILE

    @property
    def log_file(self) -> Path:
        """Where the bot's log lines go (the terminal stays quiet)."""
        return self.directory / LOG_FILE

    def settings(self) -> Settings:
        """The bot's settings: the stand-ins, the sandbox's database, always open."""
        return SandboxSettings(
            slack_bot_token=slack_api.BOT_TOKEN,
            slack_signing_secret=self.signing_secret,
            slack_api_url=f"{self.slack.base_url}/api/",
            support_channel_id=SUPPORT,
            escalation_channel_id=ESCALATIONS,
            admin_user_ids=[LEAD],
            oncall_rota=[LEAD],
            x_bearer_token=x_api.BEARER,
            x_api_key=x_api.API_KEY,
            x_api_secret="sandbox-secret",  # noqa: S106 - the X stand-in's, no real secret
            x_access_token=x_api.ACCESS_TOKEN,
            x_access_token_secret="sandbox-access-secret",  # noqa: S106 - as above
            x_api_url=self.x.base_url,
            x_keyword_queries=[KEYWORD_QUERY],
            database_url=f"sqlite:///{self.database}",
            poll_interval_seconds=1,
            dm_poll_interval_seconds=2,
            sweep_interval_seconds=5,
            # Open around the clock, so that trying it at night is not a lesson in
            # out-of-hours answers; the feature is described in the README.
            service_hours="mon-sun 00:00-24:00",
            holidays="",
            log_level="INFO",
        )

    def save(self) -> None:
        """Write the stand-ins' state, for `--keep` (only when something changed)."""
        version = self.slack.version + self.x.version
        if version == self._saved_at:
            return
        snapshot = {"slack": self.slack.snapshot(), "x": self.x.snapshot()}
        target = self.directory / SNAPSHOT_FILE
        partial = target.with_suffix(".tmp")
        partial.write_text(json.dumps(snapshot, default=_jsonable))
        os.replace(partial, target)  # a crash mid-write leaves the previous snapshot whole
        self._saved_at = version

    def close(self) -> None:
        """Save and stop the stand-ins."""
        self.save()
        self.slack.stop()
        self.x.stop()


def _jsonable(value: Any) -> Any:
    if isinstance(value, set):
        return sorted(value)
    raise TypeError(f"cannot save {type(value).__name__}")
