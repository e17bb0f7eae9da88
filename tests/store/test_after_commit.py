"""Work that must wait for the data: it runs after the commit, once, and never on a rollback."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, select

from store.db import after_commit, session_scope
from store.models import Customer


def a_customer(session: Session, x_user_id: str) -> None:
    now = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
    session.add(Customer(x_user_id=x_user_id, username=x_user_id, created_at=now, updated_at=now))
    session.flush()


def stored(engine: Engine) -> set[str]:
    with session_scope(engine, readonly=True) as session:
        return set(session.exec(select(Customer.x_user_id)))


def test_it_runs_after_the_commit_when_the_data_is_there(engine: Engine) -> None:
    seen: list[set[str]] = []
    with session_scope(engine) as session:
        a_customer(session, "1")
        after_commit(session, lambda: seen.append(stored(engine)))
        assert seen == []
    assert seen == [{"1"}]


def test_it_never_runs_when_the_transaction_rolls_back(engine: Engine) -> None:
    ran: list[str] = []

    def failing_change() -> None:
        with session_scope(engine) as session:
            a_customer(session, "1")
            after_commit(session, lambda: ran.append("woken"))
            raise RuntimeError("the change fails")

    with pytest.raises(RuntimeError):
        failing_change()
    assert ran == [] and stored(engine) == set()


def test_nothing_left_over_runs_with_a_later_commit_of_the_same_session(engine: Engine) -> None:
    ran: list[str] = []
    with Session(engine) as session:
        a_customer(session, "1")
        after_commit(session, lambda: ran.append("first"))
        session.rollback()
        a_customer(session, "2")
        after_commit(session, lambda: ran.append("second"))
        session.commit()
    assert ran == ["second"]


def test_a_savepoint_waits_for_the_outer_commit_and_takes_its_own_along_on_rollback(
    engine: Engine,
) -> None:
    ran: list[str] = []

    def failing_part(session: Session) -> None:
        with session.begin_nested():
            a_customer(session, "2")
            after_commit(session, lambda: ran.append("rolled back savepoint"))
            raise RuntimeError("this part fails")

    with session_scope(engine) as session:
        with session.begin_nested():
            a_customer(session, "1")
            after_commit(session, lambda: ran.append("kept savepoint"))
        assert ran == []  # the savepoint committed, the transaction has not
        with pytest.raises(RuntimeError):
            failing_part(session)
        after_commit(session, lambda: ran.append("outer"))
    assert ran == ["kept savepoint", "outer"]
    assert stored(engine) == {"1"}


def test_the_same_callback_twice_in_one_transaction_runs_once(engine: Engine) -> None:
    ran: list[str] = []

    def wake() -> None:
        ran.append("woken")

    with session_scope(engine) as session:
        a_customer(session, "1")
        after_commit(session, wake)
        after_commit(session, wake)
    assert ran == ["woken"]
