"""The database: migrations build exactly the tables the code declares, on both engines."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine, text
from sqlmodel import SQLModel

from store.db import migrate, session_scope
from store.models import Customer


def schema_drift(engine: Engine) -> list[object]:
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return list(compare_metadata(context, SQLModel.metadata))


def test_migrations_build_exactly_the_declared_tables_on_sqlite(engine: Engine) -> None:
    assert schema_drift(engine) == []


def test_migrating_twice_changes_nothing(engine: Engine) -> None:
    migrate(engine)
    assert schema_drift(engine) == []


def test_sqlite_runs_in_wal_mode_with_foreign_keys_and_a_busy_timeout(engine: Engine) -> None:
    with engine.connect() as connection:
        assert connection.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert connection.execute(text("PRAGMA foreign_keys")).scalar() == 1
        assert connection.execute(text("PRAGMA busy_timeout")).scalar() == 30000


def test_times_come_back_aware_and_in_utc(engine: Engine) -> None:
    berlin_noon = datetime(2026, 3, 29, 12, 0, tzinfo=timezone(timedelta(hours=2)))
    with session_scope(engine) as session:
        session.add(
            Customer(x_user_id="1", username="a", created_at=berlin_noon, updated_at=berlin_noon)
        )
    with session_scope(engine) as session:
        stored = session.get(Customer, 1)
        assert stored is not None
        assert stored.created_at == datetime(2026, 3, 29, 10, 0, tzinfo=UTC)
        assert stored.created_at.tzinfo is not None


def test_naive_times_are_refused(engine: Engine) -> None:
    with pytest.raises(Exception, match="naive datetime"), session_scope(engine) as session:
        session.add(Customer(x_user_id="2", username="b", created_at=datetime(2026, 1, 1)))


def test_migrations_build_exactly_the_declared_tables_on_postgresql(pg_engine: Engine) -> None:
    migrate(pg_engine)
    migrate(pg_engine)
    assert schema_drift(pg_engine) == []


def test_postgresql_keeps_times_in_utc(pg_engine: Engine) -> None:
    migrate(pg_engine)
    noon = datetime(2026, 7, 1, 12, 0, tzinfo=timezone(timedelta(hours=2)))
    with session_scope(pg_engine) as session:
        session.add(Customer(x_user_id="1", username="a", created_at=noon, updated_at=noon))
    with session_scope(pg_engine) as session:
        stored = session.get(Customer, 1)
        assert stored is not None and stored.created_at == datetime(2026, 7, 1, 10, 0, tzinfo=UTC)
