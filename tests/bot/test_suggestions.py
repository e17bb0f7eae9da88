"""What a card suggests is read once per transaction, and kept only once it has committed."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import Engine
from sqlmodel import Session

from bot.canned import CannedAnswers
from bot.suggestions import Suggestions
from store.db import session_scope
from store.models import Canned
from tests.fakes.domain import FakeClock

QUESTION = "Wie kann ich meinen Router neu starten? Das Internet ist weg"
NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


def canned_router() -> Canned:
    text = "Zieh den Router 30 Sekunden lang aus der Steckdose, dann starte ihn neu."
    return Canned(name="router", text=text, created_by="ULEAD", created_at=NOW, updated_at=NOW)


@pytest.fixture
def suggestions(engine: Engine) -> Suggestions:
    return Suggestions(
        engine=engine, canned=CannedAnswers(engine=engine), similarity=0.3, clock=FakeClock(NOW)
    )


def test_an_answer_written_in_a_transaction_that_rolls_back_is_never_suggested_later(
    suggestions: Suggestions, engine: Engine
) -> None:
    with Session(engine) as session:
        session.add(canned_router())
        session.flush()
        # A card rendered in this transaction sees what the transaction wrote…
        inside = suggestions.for_text(session, QUESTION)
        assert inside is not None and inside.canned == "router"
        session.rollback()
    # …and nobody sees it once the transaction is gone.
    assert suggestions.for_text(None, QUESTION) is None


def test_a_transaction_reads_once_for_all_its_cards_and_shares_what_it_read_on_commit(
    suggestions: Suggestions, engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    reads: list[datetime] = []
    read = suggestions._read

    def counted(session: Session, now: datetime) -> Any:
        reads.append(now)
        return read(session, now)

    monkeypatch.setattr(suggestions, "_read", counted)
    with session_scope(engine) as session:
        session.add(canned_router())
        session.flush()
        for _ in range(3):  # three cards of one page
            found = suggestions.for_text(session, QUESTION)
            assert found is not None and found.canned == "router"
    assert len(reads) == 1
    found = suggestions.for_text(None, QUESTION)  # after the commit: kept, not read again
    assert found is not None and found.canned == "router" and len(reads) == 1


def test_what_an_older_transaction_read_does_not_hide_an_answer_written_since(
    suggestions: Suggestions, engine: Engine
) -> None:
    with session_scope(engine, readonly=True) as session:  # a card rendered meanwhile
        assert suggestions.for_text(session, QUESTION) is None  # read before the answer…
        with session_scope(engine) as other:
            other.add(canned_router())
        suggestions.forget()  # …which its writer announces, as `/canned add` does
    found = suggestions.for_text(None, QUESTION)
    assert found is not None and found.canned == "router"
