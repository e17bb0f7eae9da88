"""Grouping of alike questions (SPEC §10): which open tickets one answer would serve.

Every new customer text is compared with the first messages of the open tickets of the
last `GROUP_WINDOW_HOURS`. Two texts are alike when their similarity is at least
`GROUP_SIMILARITY`. When `GROUP_MIN_SIZE` open tickets in no group are alike each other,
they form a group; a later text joins the group it is alike as a whole. Everything else
stays alone.

The pieces, for the services built on top of this module:

- `bot.similarity`: how a text is read (`words`, `normalise`) and the similarity kept
  warm (`VectorIndex`, any `AlikeIndex`).
- `Grouper`: the decision, in two steps so that the caller can store it first:
  `assess(text, at)` says what would happen (`ALONE`, `JOIN` a group, `FORM` a group with
  these open tickets) and changes nothing but the window; `record(key, assessment,
  group=...)` keeps it, with the id under which the caller stored a new group. `place`
  does both, with group ids counted from 1 (`python app.py groups` and the benchmark use
  it). `close` forgets a ticket that is no longer open, `take_out` one that an agent took
  out of its group, and `restore` rebuilds the state after a restart from what the
  database says is open.

The grouper is a cache of the open tickets of one window (a few KB each), not a store:
the database stays the truth.
"""

from __future__ import annotations

import heapq
import itertools
import math
import threading
from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from enum import StrEnum
from functools import cached_property, partial
from itertools import starmap
from typing import Generic, NamedTuple

from bot.config import GroupingSettings
from bot.similarity import AlikeIndex, K, Scores, SparseVector, V, VectorIndex, word_vectorizer


class Match(NamedTuple, Generic[K]):
    """An open ticket alike the text, and how alike (GROUP_SIMILARITY to 1)."""

    key: K
    similarity: float


class Outcome(StrEnum):
    """What grouping decides for a new text."""

    ALONE = "alone"  # alike no group, and too few open tickets alike it and each other
    JOIN = "join"  # alike a group as a whole: it joins that group
    FORM = "form"  # it and enough open tickets in no group are alike: they form a group


@dataclass(frozen=True)
class Assessment(Generic[K, V]):
    """What `Grouper.assess` found for one text; `Grouper.record` keeps it."""

    outcome: Outcome
    at: datetime
    group: int | None  # JOIN: the group it joins
    members: tuple[K, ...]  # FORM: the open tickets (in no group yet) that form it with the text
    encoded: V = field(repr=False)
    totals: Mapping[int, float] = field(repr=False)  # its similarities to the groups' members
    scores: Scores[K] = field(repr=False)
    threshold: float = field(repr=False)

    @cached_property
    def alike(self) -> tuple[Match[K], ...]:
        """Every open ticket at least GROUP_SIMILARITY alike, best first.

        Listed only when asked: a text that joins a group needs the groups of its
        matches only, and a storm's text is alike hundreds of open tickets.
        """
        return tuple(starmap(Match, self.scores.at_least(self.threshold)))


@dataclass(frozen=True)
class Placement(Generic[K]):
    """Where `Grouper.place` put a text."""

    key: K
    outcome: Outcome
    group: int | None  # the group it is in now; None: alone
    members: tuple[K, ...]  # FORM: the earlier tickets that are in the new group too


@dataclass(frozen=True)
class OpenTicket(Generic[K]):
    """An open ticket's first message, as `Grouper.restore` reads it back."""

    key: K
    text: str
    at: datetime
    group: int | None = None


@dataclass
class _Group(Generic[K]):
    members: set[K] = field(default_factory=set)
    # The sum of the similarities of every pair of members (each with itself too): the
    # squared length of the members' centroid, kept up to date as members come and go.
    cohesion: float = 0.0


class Grouper(Generic[K, V]):
    """Decides for each new text whether it is alone, joins a group or forms one.

    A text joins the group that it is most alike as a whole: its similarity to the
    group's centroid (for word vectors, the cosine with the members' sum), so words that
    many members share weigh most, and one odd member cannot pull in texts about
    something else. A group forms only from texts that are each alike all the others.

    Not safe to share between threads by itself: hold `lock` around an `assess` and its
    `record` (`place` does).
    """

    SEED_CANDIDATES = 50

    def __init__(
        self,
        index: AlikeIndex[K, V],
        *,
        window: timedelta,
        min_size: int,
        similarity: float,
        group_ids: Iterator[int] | None = None,
    ) -> None:
        if min_size < 2:
            raise ValueError("a group has at least two members")
        self.index = index
        self.window = window
        self.min_size = min_size
        self.threshold = similarity
        self.lock = threading.RLock()
        self._group_ids = group_ids if group_ids is not None else itertools.count(1)
        self._encoded: dict[K, V] = {}  # the open tickets' first messages, encoded
        self._group_of: dict[K, int] = {}
        self._groups: dict[int, _Group[K]] = {}
        self._arrivals: list[tuple[datetime, int, K]] = []  # a heap, oldest first
        self._arrived: dict[K, int] = {}  # each open ticket's entry in the heap
        self._seq = itertools.count()

    def __len__(self) -> int:
        return len(self._encoded)

    def __contains__(self, key: object) -> bool:
        return key in self._encoded

    def group_of(self, key: K) -> int | None:
        """The group an open ticket is in; None when it is alone or not open."""
        return self._group_of.get(key)

    def members(self, group: int) -> frozenset[K]:
        """The open members of a group within the window."""
        found = self._groups.get(group)
        return frozenset(found.members) if found else frozenset()

    def groups(self) -> dict[int, frozenset[K]]:
        """Every group with open members in the window, and those members."""
        return {group: frozenset(found.members) for group, found in self._groups.items()}

    def assess(self, text: str, at: datetime) -> Assessment[K, V]:
        """What would happen to a text arriving at `at`; changes nothing but the window."""
        with self.lock:
            self._expire(at)
            encoded = self.index.encode(text)
            scores = self.index.scores(encoded)
            totals = scores.by_group(scores.groups_at_least(self.threshold))
            found = partial(
                Assessment,
                at=at,
                encoded=encoded,
                totals=totals,
                scores=scores,
                threshold=self.threshold,
            )
            group = self._group_to_join(encoded, totals)
            if group is not None:
                return found(Outcome.JOIN, group=group, members=())
            alone = found(Outcome.ALONE, group=None, members=())
            seed = self._seed(alone.alike)
            if len(seed) + 1 >= self.min_size:
                return replace(alone, outcome=Outcome.FORM, members=seed)
            return alone

    def record(self, key: K, assessment: Assessment[K, V], *, group: int | None = None) -> None:
        """Keep an assessed text as an open ticket: alone, or in its group.

        JOIN keeps it in the assessment's group. FORM needs `group`, the new group's id
        (as the caller stored it); the assessment's members move into it with the text.
        """
        if assessment.outcome is Outcome.FORM and group is None:
            raise ValueError("a new group needs its id")
        with self.lock:
            if key in self._encoded:
                raise ValueError(f"{key!r} is open already")
            self.index.add(key, assessment.encoded)
            self._encoded[key] = assessment.encoded
            self._arrive(key, assessment.at)
            if assessment.outcome is Outcome.JOIN and assessment.group is not None:
                group = assessment.group
                self._join(key, group, assessment.totals.get(group, 0.0))
            elif assessment.outcome is Outcome.FORM and group is not None:
                members = [m for m in assessment.members if m in self._encoded]
                self._form(group, members)
                self._join(key, group, assessment.scores.total(members))

    def place(self, key: K, text: str, at: datetime) -> Placement[K]:
        """Assess and record a text in one step, with the next group id for a new group."""
        with self.lock:
            assessment = self.assess(text, at)
            group = next(self._group_ids) if assessment.outcome is Outcome.FORM else None
            self.record(key, assessment, group=group)
            return Placement(key, assessment.outcome, self.group_of(key), assessment.members)

    def close(self, key: K) -> None:
        """Forget a ticket that is no longer open (resolved, or gone)."""
        with self.lock:
            self._forget(key)

    def take_out(self, key: K) -> None:
        """An agent took the ticket out of its group: it is grouped no more."""
        with self.lock:
            self._forget(key)

    def restore(self, tickets: Iterable[OpenTicket[K]], *, now: datetime) -> None:
        """Rebuild the state from the open tickets within the window and their groups."""
        with self.lock:
            by_group: dict[int, list[K]] = {}
            for ticket in tickets:
                if ticket.at < now - self.window or ticket.key in self._encoded:
                    continue
                encoded = self.index.encode(ticket.text)
                self.index.add(ticket.key, encoded)
                self._encoded[ticket.key] = encoded
                self._arrive(ticket.key, ticket.at)
                if ticket.group is not None:
                    by_group.setdefault(ticket.group, []).append(ticket.key)
            for group, members in by_group.items():
                self._form(group, members)
            if by_group:
                self._group_ids = itertools.count(max(by_group) + 1)

    def _group_to_join(self, encoded: V, totals: Mapping[int, float]) -> int | None:
        """The group the text is most alike as a whole, among the groups of its matches.

        Its cosine with a group's centroid, from similarities alone: its similarities to
        the members, summed (`totals`), over the centroid's length (`cohesion`).
        """
        best, best_similarity = None, self.threshold
        itself = self.index.similarity(encoded, encoded)
        for group, together in totals.items():
            cohesion = self._groups[group].cohesion
            if cohesion <= 0.0:
                continue
            similarity = together / math.sqrt(cohesion * itself)
            if similarity >= best_similarity:
                best, best_similarity = group, similarity
        return best

    def _seed(self, alike: Sequence[Match[K]]) -> tuple[K, ...]:
        """Open tickets in no group, alike the text and each other, most alike first.

        Each must be alike all those chosen before it: a text alike two others that have
        nothing in common (one about the router, one about the bill) forms no group.
        """
        chosen: list[K] = []
        free = (match for match in alike if match.key not in self._group_of)
        # Alike tickets in no group are few (three alike form a group); the bound keeps
        # a pathological backlog from costing seconds.
        for match in itertools.islice(free, self.SEED_CANDIDATES):
            encoded = self._encoded[match.key]
            if all(
                self.index.similarity(encoded, self._encoded[other]) >= self.threshold
                for other in chosen
            ):
                chosen.append(match.key)
        return tuple(chosen)

    def _form(self, group: int, members: Collection[K]) -> None:
        for member in members:
            scores = self.index.scores(self._encoded[member])
            self._join(member, group, scores.by_group([group])[group])

    def _join(self, key: K, group: int, with_members: float) -> None:
        """Add an open ticket to a group; `with_members`: its similarities to them, summed."""
        self._leave(key)
        found = self._groups.setdefault(group, _Group())
        encoded = self._encoded[key]
        found.cohesion += 2 * with_members + self.index.similarity(encoded, encoded)
        found.members.add(key)
        self._group_of[key] = group
        self.index.label(key, group)

    def _leave(self, key: K) -> None:
        group = self._group_of.pop(key, None)
        if group is None:
            return
        self.index.label(key, None)
        found = self._groups[group]
        found.members.discard(key)
        if not found.members:
            del self._groups[group]
            return
        encoded = self._encoded[key]
        with_members = self.index.scores(encoded).by_group([group])[group]
        found.cohesion -= 2 * with_members + self.index.similarity(encoded, encoded)

    def _forget(self, key: K) -> None:
        if key not in self._encoded:
            return
        self._leave(key)
        self.index.discard(key)
        del self._encoded[key]
        del self._arrived[key]

    def _arrive(self, key: K, at: datetime) -> None:
        seq = next(self._seq)
        self._arrived[key] = seq
        heapq.heappush(self._arrivals, (at, seq, key))

    def _expire(self, now: datetime) -> None:
        """Forget the tickets that arrived before the window that ends at `now`."""
        oldest = now - self.window
        while self._arrivals and self._arrivals[0][0] < oldest:
            _, seq, key = heapq.heappop(self._arrivals)
            if self._arrived.get(key) == seq:  # not an entry of a ticket closed meanwhile
                self._forget(key)


def assign(grouper: Grouper[K, V], texts: Iterable[tuple[K, str, datetime]]) -> dict[K, int | None]:
    """Place texts in order; each one's group at the end (None: alone), as an export reads.

    A text placed alone can be in a group later (one that it formed with later texts);
    a group that a text was in stays its group when the text leaves the window.
    """
    groups: dict[K, int | None] = {}
    for key, text, at in texts:
        placement = grouper.place(key, text, at)
        groups[key] = placement.group
        for member in placement.members:
            groups[member] = placement.group
    return groups


def word_grouper(settings: GroupingSettings) -> Grouper[K, SparseVector]:
    """The grouper the bot runs: the cosine of the texts' meaningful words, with the settings."""
    index: VectorIndex[K] = VectorIndex(word_vectorizer())
    return Grouper(
        index,
        window=timedelta(hours=settings.group_window_hours),
        min_size=settings.group_min_size,
        similarity=settings.group_similarity,
    )
