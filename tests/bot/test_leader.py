"""Leadership: one X poller at a time, and a takeover when it is gone."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine

from bot.leader import AdvisoryLockLeadership, LeaseLeadership, leadership_for
from tests.fakes.domain import FakeClock


def test_a_lease_has_one_holder_until_it_runs_out(engine: Engine) -> None:
    clock = FakeClock(datetime(2026, 11, 23, 9, tzinfo=UTC))
    first = LeaseLeadership(engine, lease=timedelta(seconds=30), clock=clock)
    second = LeaseLeadership(engine, lease=timedelta(seconds=30), clock=clock)
    assert first.acquire() and not second.acquire()
    clock.advance(seconds=20)
    assert first.acquire()  # renewed
    clock.advance(seconds=20)
    assert not second.acquire()  # the renewal counts from the renewal
    clock.advance(seconds=31)  # the first holder stopped renewing: it died
    assert second.acquire() and not first.acquire()


def test_a_released_lease_is_taken_at_once(engine: Engine) -> None:
    clock = FakeClock(datetime(2026, 11, 23, 9, tzinfo=UTC))
    first = LeaseLeadership(engine, lease=timedelta(minutes=5), clock=clock)
    second = LeaseLeadership(engine, lease=timedelta(minutes=5), clock=clock)
    assert first.acquire()
    first.release()
    assert second.acquire()


def test_sqlite_gets_a_lease(engine: Engine) -> None:
    assert isinstance(leadership_for(engine, lease=timedelta(seconds=30)), LeaseLeadership)


def test_postgresql_advisory_lock_passes_on_when_the_holder_dies(pg_engine: Engine) -> None:
    from store.db import migrate

    migrate(pg_engine)
    first = leadership_for(pg_engine, lease=timedelta(seconds=30))
    second = AdvisoryLockLeadership(pg_engine)
    assert isinstance(first, AdvisoryLockLeadership)
    assert first.acquire() and first.acquire()
    assert not second.acquire()
    first._connection.invalidate()  # type: ignore[union-attr]
    assert second.acquire()
    assert not first.acquire()
    second.release()
    assert first.acquire()
    first.release()


@pytest.mark.parametrize("holders", [3])
def test_of_many_replicas_exactly_one_leads(engine: Engine, holders: int) -> None:
    replicas = [LeaseLeadership(engine, lease=timedelta(seconds=30)) for _ in range(holders)]
    assert sum(replica.acquire() for replica in replicas) == 1
