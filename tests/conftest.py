"""Shared fixtures: one Slack and one X stand-in per session, a fresh bot per test."""

from __future__ import annotations

import os
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, text

from standins.slack_api import SlackStandIn
from standins.x_api import XStandIn
from store.db import make_engine, migrate
from tests.harness import BotHarness, make_settings

# Copies of the services' published formats, kept in the repository (see data/README.md).
REFERENCE = Path(__file__).resolve().parent / "data"


@pytest.fixture(autouse=True)
def _only_loopback(monkeypatch: pytest.MonkeyPatch) -> None:
    """Real network is off limits in tests: only 127.0.0.1 may be reached."""
    real_connect = socket.socket.connect

    def guarded(self: socket.socket, address: object) -> object:
        if isinstance(address, tuple) and address[0] not in ("127.0.0.1", "localhost", "::1"):
            raise OSError(f"tests may not reach {address[0]}")
        return real_connect(self, address)  # type: ignore[arg-type]

    monkeypatch.setattr(socket.socket, "connect", guarded)


@pytest.fixture(scope="session")
def slack_server() -> Iterator[SlackStandIn]:
    server = SlackStandIn()
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def x_server() -> Iterator[XStandIn]:
    server = XStandIn()
    server.start()
    yield server
    server.stop()


@pytest.fixture
def slack(slack_server: SlackStandIn) -> SlackStandIn:
    """The Slack stand-in, emptied for this test."""
    slack_server.reset()
    return slack_server


@pytest.fixture
def x(x_server: XStandIn) -> XStandIn:
    """The X stand-in, emptied for this test."""
    x_server.reset()
    return x_server


@pytest.fixture
def database_url(tmp_path: Path) -> str:
    """A fresh SQLite file for this test."""
    return f"sqlite:///{tmp_path / 'servicekanal.db'}"


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    """A migrated database for domain tests."""
    built = make_engine(database_url)
    migrate(built)
    yield built
    built.dispose()


@pytest.fixture
def bot(database_url: str, slack: SlackStandIn, x: XStandIn) -> Iterator[BotHarness]:
    """The whole bot against the stand-ins, its HTTP server on a free port."""
    harness = BotHarness(make_settings(database_url, slack, x), slack, x)
    yield harness
    harness.close()


def postgres_url() -> str | None:
    """TEST_DATABASE_URL, when the run has a PostgreSQL server."""
    return os.environ.get("TEST_DATABASE_URL") or None


requires_postgres = pytest.mark.skipif(
    postgres_url() is None, reason="TEST_DATABASE_URL is not set: no PostgreSQL for this run"
)


@pytest.fixture
def pg_engine() -> Iterator[Engine]:
    """An empty PostgreSQL schema (TEST_DATABASE_URL), not yet migrated."""
    url = postgres_url()
    if url is None:
        pytest.skip("TEST_DATABASE_URL is not set: no PostgreSQL for this run")
    built = make_engine(url)
    with built.begin() as connection:
        connection.execute(text("DROP SCHEMA public CASCADE"))
        connection.execute(text("CREATE SCHEMA public"))
    yield built
    built.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def any_engine(request: pytest.FixtureRequest, database_url: str) -> Iterator[Engine]:
    """A migrated database of each kind the bot supports (PostgreSQL when available)."""
    if request.param == "sqlite":
        built = make_engine(database_url)
    else:
        built = request.getfixturevalue("pg_engine")
    migrate(built)
    yield built
    if request.param == "sqlite":
        built.dispose()


def requires_reference() -> Path:
    """The folder of the services' published formats (tests/data, kept in the repository)."""
    return REFERENCE
