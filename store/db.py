"""Engine and session set-up, and applying the migrations."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.orm import SessionTransaction
from sqlalchemy.pool import StaticPool
from sqlmodel import Session

MIGRATIONS = Path(__file__).parent / "migrations"
# Any constant will do; it keeps two replicas from migrating the same database at once.
_MIGRATION_LOCK_KEY = 0x5E41CE


def make_engine(url: str, *, echo: bool = False) -> Engine:
    """Build the engine for DATABASE_URL: SQLite tuned for a multi-threaded bot, or PostgreSQL."""
    if url.startswith("sqlite"):
        return _sqlite_engine(url, echo=echo)
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    return create_engine(url, echo=echo, pool_pre_ping=True, pool_size=10, max_overflow=10)


def _sqlite_engine(url: str, *, echo: bool) -> Engine:
    in_memory = url in ("sqlite://", "sqlite:///:memory:")
    kwargs: dict[str, Any] = {"connect_args": {"check_same_thread": False, "timeout": 30}}
    if in_memory:
        kwargs["poolclass"] = StaticPool
    engine = create_engine(url, echo=echo, **kwargs)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy, not the sqlite3 module, decide when transactions begin.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        if not in_memory:
            cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    writers = FairLock()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        # A deferred BEGIN that later writes can fail at once with "database is locked"
        # instead of waiting; taking the write lock up front makes busy_timeout apply.
        # Read-only work (statistics, permission checks) opts out: in WAL mode readers
        # never wait for the writer.
        if connection.get_execution_options().get("sqlite_readonly"):
            connection.exec_driver_sql("BEGIN")
            return
        # Within the process, writers take turns in arrival order. SQLite's own busy
        # handler polls on a timer, and a thread writing chunk after chunk (a burst of
        # tweets) would win every time; a slash command would wait seconds.
        writers.acquire()
        connection.info["holds_writer_turn"] = True
        try:
            connection.exec_driver_sql("BEGIN IMMEDIATE")
        except BaseException:
            _end_turn(connection)
            raise

    def _end_turn(connection: Any) -> None:
        if connection.info.pop("holds_writer_turn", False):
            writers.release()

    event.listen(engine, "commit", _end_turn)
    event.listen(engine, "rollback", _end_turn)
    return engine


class FairLock:
    """A re-entrant lock handed out in the order it was asked for (a ticket lock)."""

    def __init__(self) -> None:
        self._condition = threading.Condition()
        self._next_ticket = 0
        self._serving = 0
        self._owner: int | None = None
        self._depth = 0

    def acquire(self) -> None:
        """Wait for this thread's turn (at once if it holds the lock already)."""
        me = threading.get_ident()
        with self._condition:
            if self._owner == me:
                self._depth += 1
                return
            ticket = self._next_ticket
            self._next_ticket += 1
            while self._serving != ticket:
                self._condition.wait()
            self._owner, self._depth = me, 1

    def release(self) -> None:
        """End this thread's turn; the next in line goes."""
        with self._condition:
            self._depth -= 1
            if self._depth == 0:
                self._owner = None
                self._serving += 1
                self._condition.notify_all()


def alembic_config(engine: Engine | None = None) -> Config:
    """Alembic's configuration, pointing at our migrations (no alembic.ini needed)."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    if engine is not None:
        config.set_main_option(
            "sqlalchemy.url", engine.url.render_as_string(hide_password=False).replace("%", "%%")
        )
    return config


def migrate(engine: Engine) -> None:
    """Bring the schema up to the newest migration; safe to run from several replicas."""
    config = alembic_config(engine)
    with engine.connect() as connection:
        if engine.dialect.name == "postgresql":
            connection.execute(text("SELECT pg_advisory_lock(:key)"), {"key": _MIGRATION_LOCK_KEY})
            connection.commit()
        try:
            config.attributes["connection"] = connection
            command.upgrade(config, "head")
            connection.commit()
        finally:
            if engine.dialect.name == "postgresql":
                connection.execute(
                    text("SELECT pg_advisory_unlock(:key)"), {"key": _MIGRATION_LOCK_KEY}
                )
                connection.commit()


@contextmanager
def session_scope(engine: Engine, *, readonly: bool = False) -> Iterator[Session]:
    """A session whose transaction commits when the block ends and rolls back on error."""
    bind = engine.execution_options(sqlite_readonly=True) if readonly else engine
    with Session(bind, expire_on_commit=False) as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise


_AFTER_COMMIT = "servicekanal.after_commit"
_Waiting = list[tuple[Callable[[], None], SessionTransaction | None]]


def after_commit(session: Session, callback: Callable[[], None]) -> None:
    """Run `callback` once the session's outermost transaction has committed; never on rollback.

    For what must not happen before the data is there: waking the posting worker, refreshing
    App Home tabs. A savepoint that rolls back takes what was registered inside it along; the
    same callback registered twice in one transaction runs once. Callbacks must not fail.
    """
    waiting: _Waiting | None = session.info.get(_AFTER_COMMIT)
    if waiting is None:
        waiting = session.info[_AFTER_COMMIT] = []
        event.listen(session, "after_commit", _run_waiting)
        event.listen(session, "after_soft_rollback", _drop_waiting)
    if all(callback != registered for registered, _ in waiting):
        waiting.append((callback, session.get_nested_transaction()))


def _run_waiting(session: Session) -> None:
    if session.in_nested_transaction():
        return  # a savepoint: the outer transaction decides
    waiting: _Waiting = session.info[_AFTER_COMMIT]
    callbacks = [callback for callback, _ in waiting]
    waiting.clear()
    for callback in callbacks:
        callback()


def _drop_waiting(session: Session, previous: SessionTransaction) -> None:
    waiting: _Waiting = session.info[_AFTER_COMMIT]
    if not previous.nested:
        waiting.clear()
        return
    waiting[:] = [entry for entry in waiting if not _inside(entry[1], previous)]


def _inside(transaction: SessionTransaction | None, outer: SessionTransaction) -> bool:
    while transaction is not None:
        if transaction is outer:
            return True
        transaction = transaction.parent
    return False
