"""Suggestions (SPEC §10): a canned answer or an earlier group answer that would serve a text.

A canned answer is suggested when it shares at least `CANNED_WORDS` meaningful words
(its name counts) with the customer's text: answers and questions use different words,
so the similarity of questions would miss them. An earlier group answer is suggested when
the text is alike that group's questions as grouping reads them (the cosine with the
centroid of its members' first messages, at least GROUP_SIMILARITY), the very test a
text passes to join a group. Both are read from the database at most every `FRESH`, so a
burst of cards costs no queries for them.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import partial

import numpy as np
from scipy import sparse
from sqlalchemy import Engine
from sqlmodel import Session, col, select

from bot.canned import CannedAnswer, CannedAnswers, shared_words
from bot.clock import Clock, system_clock
from bot.present import Suggestion
from bot.similarity import word_vectorizer
from store import groups as queries
from store.db import after_commit, session_scope
from store.models import TicketGroup

CANNED_WORDS = 2
_READ = "servicekanal.suggestions.read"  # session.info: (transaction, what it read)
FRESH = timedelta(seconds=30)
GROUPS_KEPT = 50  # the most recent answered groups are the ones alike new questions
QUESTIONS_PER_GROUP = 20


@dataclass
class _Known:
    canned: list[CannedAnswer] = field(default_factory=list)
    groups: list[tuple[int, str, sparse.csr_matrix]] = field(default_factory=list)
    read_at: datetime | None = None


@dataclass(kw_only=True)
class Suggestions:
    """Finds the answer to suggest for a customer's text."""

    engine: Engine
    canned: CannedAnswers
    similarity: float
    clock: Clock = system_clock
    _vectorizer: object = field(default_factory=word_vectorizer, init=False)
    _known: _Known = field(default_factory=_Known, init=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False)
    _generation: int = field(default=0, init=False)  # how often `forget` was called

    def forget(self) -> None:
        """Read canned answers and group answers afresh next time (one was just written)."""
        with self._lock:
            self._known.read_at = None
            self._generation += 1

    def for_text(
        self, session: Session | None, text: str, *, besides: int | None = None
    ) -> Suggestion | None:
        """The answer to suggest for `text` (`besides`: not this group's own answer).

        `session`: the caller's, when it has one open (a card being rendered in its
        transaction), so that no second connection is taken while it holds one.
        """
        known = self._fresh(session)
        best = None
        if known.groups:
            vector = self._encode(text)
            for group_id, answer, centroid in known.groups:
                if group_id == besides:
                    continue
                score = float(vector.multiply(centroid).sum())
                if score >= self.similarity and (best is None or score > best[0]):
                    best = (score, Suggestion(answer, group_id=group_id))
        if best is not None:
            return best[1]
        # Most words shared first; among equals, the first by name (`all` lists by name).
        chosen, most = None, CANNED_WORDS - 1
        for canned in known.canned:
            shared = shared_words(text, canned)
            if shared > most:
                chosen, most = canned, shared
        return Suggestion(chosen.text, canned=chosen.name) if chosen else None

    def _encode(self, text: str) -> sparse.csr_matrix:
        vector: sparse.csr_matrix = self._vectorizer.transform([text])  # type: ignore[attr-defined]
        return vector

    def _fresh(self, session: Session | None) -> _Known:
        now = self.clock()
        with self._lock:
            if self._known.read_at is not None and now - self._known.read_at < FRESH:
                return self._known
        if session is None:
            with session_scope(self.engine, readonly=True) as own:
                return self._fresh(own)
        # Read in the caller's transaction, it may hold what that transaction wrote: it is
        # kept for the transaction's other cards, and for everyone once it has committed.
        # A transaction that rolls back takes it along.
        mine: tuple[object, _Known] | None = session.info.get(_READ)
        current = session.get_transaction()
        if mine is not None and current is not None and mine[0] is current:
            return mine[1]
        with self._lock:
            generation = self._generation
        known = self._read(session, now)
        # Taken after the read, which began the transaction if nothing had yet.
        session.info[_READ] = (session.get_transaction(), known)
        after_commit(session, partial(self._keep, known, generation))
        return known

    def _keep(self, known: _Known, generation: int) -> None:
        with self._lock:
            # Not when something was written since it was read (`forget`): that is newer.
            if generation == self._generation:
                self._known = known

    def _read(self, session: Session, now: datetime) -> _Known:
        canned = self.canned.all(session)
        groups = []
        answered = session.exec(
            select(TicketGroup)
            .where(col(TicketGroup.answer_body).is_not(None))
            .where(col(TicketGroup.answer_awaiting).is_(False))
            .order_by(col(TicketGroup.id).desc())
            .limit(GROUPS_KEPT)
        ).all()
        for group in answered:
            assert group.id is not None and group.answer_body is not None
            members = queries.members(
                session=session, group_id=group.id, limit=QUESTIONS_PER_GROUP, with_out=False
            )
            firsts = queries.first_messages(
                session=session, ticket_ids=[t.id for _, t, _ in members if t.id is not None]
            )
            if not firsts:
                continue
            total = sparse.vstack([self._encode(m.text) for m in firsts.values()]).sum(axis=0)
            norm = float(np.linalg.norm(total))
            if norm > 0:
                centroid = sparse.csr_matrix(np.asarray(total) / norm)
                groups.append((group.id, group.answer_body, centroid))
        return _Known(canned, groups, now)
