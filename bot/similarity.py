"""How grouping reads a customer text, and the similarity of texts kept warm (SPEC §10).

- `words(text)` and `normalise(text)`: the text as grouping reads it (case, umlauts,
  handles, URLs, emoji, hashtags, German and English stop words).
- `VectorIndex(word_vectorizer())`: the similarity, kept warm. The open texts are word
  vectors (scikit-learn's `HashingVectorizer`: no vocabulary to fit, so a text is encoded
  once, on arrival, and nothing is recomputed when texts arrive or leave); a new text is
  compared with all of them in one sparse product. Any `AlikeIndex` can stand in for it
  (the benchmark's candidates do).
"""

from __future__ import annotations

import itertools
import re
import unicodedata
from abc import abstractmethod
from collections.abc import Hashable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from functools import cache, lru_cache
from typing import Generic, Protocol, TypeVar

import numpy as np
import numpy.typing as npt
from scipy import sparse
from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS, HashingVectorizer
from sklearn.utils import murmurhash3_32
from stop_words import get_stop_words

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")

_URL = re.compile(r"https?://\S+|www\.\S+", re.IGNORECASE)
_HANDLE = re.compile(r"(?<![\w@])@\w{1,15}")  # X handles; e-mail addresses stay words
_NOT_A_WORD = re.compile(r"[\W_]+")  # punctuation, emoji, the # of hashtags
_TRANSLITERATE = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue"})


def fold(text: str) -> str:
    """Lower case as German is typed without umlauts: `Störung` -> `stoerung`, `ß` -> `ss`."""
    text = unicodedata.normalize("NFKC", text).casefold().translate(_TRANSLITERATE)
    if text.isascii():
        return text  # nothing left to drop: most texts, spared a look at every character
    # Other accents (é, ñ) are dropped: customers type them either way.
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c))


@cache
def stop_words() -> frozenset[str]:
    """German and English words that say nothing about the question, folded."""
    listed = itertools.chain(get_stop_words("german"), ENGLISH_STOP_WORDS)
    return frozenset(fold(word) for word in listed)


def without_addresses(text: str) -> str:
    """The text without its URLs and @handles, which say nothing about the question."""
    return _HANDLE.sub(" ", _URL.sub(" ", text))


def words(text: str) -> list[str]:
    """The words of a customer text that carry its meaning, folded, in order."""
    text = without_addresses(text)
    folded = _NOT_A_WORD.sub(" ", fold(text)).split()
    meaningful = [word for word in folded if word not in stop_words()]
    # A text of stop words only ("Was ist da los??") is still compared by its words.
    return meaningful or folded


def normalise(text: str) -> str:
    """The text as grouping compares it: its meaningful words, folded, space-separated."""
    return " ".join(words(text))


class Scores(Mapping[K, float]):
    """The similarities of one text to the kept texts: the texts it shares anything with.

    A mapping of key to similarity (above 0), with the two questions grouping asks of it
    answered without visiting every entry where an index can do better.
    """

    def at_least(self, threshold: float) -> list[tuple[K, float]]:
        """The kept texts at least `threshold` alike, most alike first (ties: oldest first)."""
        found = [(key, score) for key, score in self.items() if score >= threshold]
        found.sort(key=lambda item: -item[1])
        return found

    def total(self, keys: Iterable[K]) -> float:
        """The sum of the similarities to `keys` (keys not kept, or unlike, add 0)."""
        return sum(self.get(key, 0.0) for key in keys)

    @abstractmethod
    def by_group(self, groups: Iterable[int]) -> dict[int, float]:
        """The sum of the similarities to the kept texts labelled with each of `groups`."""

    @abstractmethod
    def groups_at_least(self, threshold: float) -> list[int]:
        """The groups (labels) of the kept texts at least `threshold` alike, in order."""


class ScoreTable(Scores[K]):
    """Scores held in a dict, for an index that computes them one by one."""

    def __init__(
        self, scores: Mapping[K, float] | None = None, labels: Mapping[K, int] | None = None
    ) -> None:
        self._scores = dict(scores or {})
        self._labels = labels or {}

    def groups_at_least(self, threshold: float) -> list[int]:
        labels = self._labels
        return sorted(
            {
                group
                for key, score in self._scores.items()
                if score >= threshold and (group := labels.get(key)) is not None
            }
        )

    def by_group(self, groups: Iterable[int]) -> dict[int, float]:
        totals = dict.fromkeys(groups, 0.0)
        for key, score in self._scores.items():
            group = self._labels.get(key)
            if group in totals:
                totals[group] += score
        return totals

    def __getitem__(self, key: K) -> float:
        return self._scores[key]

    def __iter__(self) -> Iterator[K]:
        return iter(self._scores)

    def __len__(self) -> int:
        return len(self._scores)

    def get(self, key: K, default: float = 0.0) -> float:  # type: ignore[override]
        return self._scores.get(key, default)


class AlikeIndex(Protocol[K, V]):
    """A similarity kept warm: the open texts, encoded once, compared with each new one.

    Similarities are symmetric, between 0 and 1, and 1 for a text with itself (0 for a
    text with no words). A kept text can carry a label, its group, and scores are summed
    by label (`Scores.by_group`).
    """

    def encode(self, text: str) -> V:
        """The text as this index compares it."""
        ...

    def add(self, key: K, encoded: V) -> None:
        """Keep an open text."""
        ...

    def discard(self, key: K) -> None:
        """Forget a text; unknown keys are ignored."""
        ...

    def scores(self, encoded: V) -> Scores[K]:
        """The similarity of the encoded text to each kept text (kept texts left out: 0)."""
        ...

    def similarity(self, first: V, second: V) -> float:
        """The similarity of two encoded texts."""
        ...

    def label(self, key: K, group: int | None) -> None:
        """Label a kept text with its group (None: in no group)."""
        ...


@dataclass(frozen=True, slots=True)
class SparseVector:
    """One text as a sparse row: its columns, sorted and unique, and their values."""

    indices: npt.NDArray[np.int32]
    data: npt.NDArray[np.float64]

    @property
    def nnz(self) -> int:
        """How many columns the text has."""
        return len(self.indices)

    def dot(self, other: SparseVector) -> float:
        """The dot product: the values of the columns both have, multiplied and summed."""
        if other is self:
            return float(np.dot(self.data, self.data))
        _, mine, theirs = np.intersect1d(
            self.indices, other.indices, assume_unique=True, return_indices=True
        )
        return float(np.dot(self.data[mine], other.data[theirs]))


_NO_GROUP = -1  # the label of a text in no group
_NOTHING = SparseVector(np.zeros(0, dtype=np.int32), np.zeros(0, dtype=np.float64))


@lru_cache(maxsize=2**16)
def _column(word: str, features: int) -> int:
    """The column FeatureHasher gives a word: murmurhash3 of its UTF-8, as scikit-learn does.

    Cached (bounded: typos are endless): customers use the same few thousand words, and
    hashing each again per text was a tenth of encoding it.
    """
    hashed = int(murmurhash3_32(word, seed=0))
    if hashed == -(2**31):
        return (2**31 - 1 - (features - 1)) % features
    return abs(hashed) % features


def word_vectorizer() -> HashingVectorizer:
    """Texts as their meaningful words (`words`), each counted once, in unit-length vectors.

    Words are hashed into 2**20 columns: no vocabulary to fit, and two words share a
    column rarely enough not to matter.
    """
    return HashingVectorizer(
        analyzer=words, n_features=2**20, binary=True, alternate_sign=False, norm="l2"
    )


class Cosines(Scores[K]):
    """A text's cosine with every kept row, as one array, read by key only when asked."""

    __slots__ = ("_cosines", "_keys", "_labels", "_rows")

    def __init__(
        self,
        cosines: npt.NDArray[np.float64],
        keys: list[K | None],
        rows: Mapping[K, int],
        labels: npt.NDArray[np.int64],
    ) -> None:
        # The index's own row tables, not copies: rows added after this was computed lie
        # beyond the array and count as 0; a compaction gives the index new tables. The
        # labels are read as they are when asked.
        self._cosines, self._keys, self._rows, self._labels = cosines, keys, rows, labels

    def _row(self, key: K) -> int | None:
        row = self._rows.get(key)
        return row if row is not None and row < len(self._cosines) else None

    def __getitem__(self, key: K) -> float:
        row = self._row(key)
        if row is None or not self._cosines[row]:
            raise KeyError(key)
        return float(self._cosines[row])

    def __iter__(self) -> Iterator[K]:
        keys = self._keys
        return (
            key for row in np.flatnonzero(self._cosines).tolist() if (key := keys[row]) is not None
        )

    def __len__(self) -> int:
        return sum(1 for _ in self)

    def get(self, key: K, default: float = 0.0) -> float:  # type: ignore[override]
        row = self._row(key)
        return float(self._cosines[row]) if row is not None else default

    def at_least(self, threshold: float) -> list[tuple[K, float]]:
        cosines = self._cosines
        rows = np.flatnonzero(cosines >= threshold) if threshold > 0 else np.flatnonzero(cosines)
        values = cosines[rows]
        order = np.argsort(-values, kind="stable")
        keys = self._keys
        return [
            (key, value)
            for row, value in zip(rows[order].tolist(), values[order].tolist(), strict=True)
            if (key := keys[row]) is not None
        ]

    def groups_at_least(self, threshold: float) -> list[int]:
        cosines = self._cosines
        labels: list[int] = self._labels[: len(cosines)][cosines >= threshold].tolist()
        return sorted(set(labels) - {_NO_GROUP})

    def by_group(self, groups: Iterable[int]) -> dict[int, float]:
        # One pass over all rows per group: cheaper than picking the non-zero ones first.
        cosines = self._cosines
        labels = self._labels[: len(cosines)]
        return {group: float(np.dot(cosines, labels == group)) for group in groups}

    def total(self, keys: Iterable[K]) -> float:
        rows, size = self._rows, len(self._cosines)
        picked = [row for key in keys if (row := rows.get(key, size)) < size]
        return float(self._cosines[picked].sum()) if picked else 0.0


class VectorIndex(Generic[K]):
    """Cosine similarity of the unit-length vectors a `HashingVectorizer` makes.

    A text is encoded alone, on arrival, and kept as one sparse row; a new text is compared
    with all kept rows in one sparse product. Rows are appended in blocks; a discarded row
    is zeroed at once and dropped when the discarded rows are half the matrix.
    """

    _BLOCK = 128

    def __init__(self, vectorizer: HashingVectorizer) -> None:
        self._vectorizer = vectorizer
        self._features: int = vectorizer.n_features
        self._analyzer = vectorizer.build_analyzer()
        # The direct encoding reproduces exactly this configuration of the vectorizer.
        self._direct = (
            callable(vectorizer.analyzer)
            and vectorizer.binary
            and not vectorizer.alternate_sign
            and vectorizer.norm == "l2"
            and vectorizer.dtype == np.float64
        )
        self._matrix = sparse.csr_matrix((0, self._features), dtype=np.float64)
        self._pending: list[SparseVector] = []
        # The pending rows' entries, flat: their columns, values and which row each is of.
        self._tail_columns = np.zeros(0, dtype=np.int32)
        self._tail_values = np.zeros(0, dtype=np.float64)
        self._tail_rows = np.zeros(0, dtype=np.int64)
        self._tail_starts: list[int] = []
        self._keys: list[K | None] = []  # by row; None where discarded
        self._rows: dict[K, int] = {}
        self._labels = np.full(self._BLOCK, _NO_GROUP, dtype=np.int64)  # by row, room to grow
        self._query = np.zeros(self._features, dtype=np.float64)

    def __len__(self) -> int:
        return len(self._rows)

    def encode(self, text: str) -> SparseVector:
        """The text's vector: unit length (no columns for a text without features).

        The same vector as `self._vectorizer.transform([text])` (a test compares them on
        the labelled tweets), built directly: each text is encoded on its own, and the
        vectorizer's checks and set-up per call, and a SciPy matrix per text, cost ten
        times the hashing itself.
        """
        if not self._direct:
            matrix: sparse.csr_matrix = self._vectorizer.transform([text])
            matrix.sort_indices()
            return SparseVector(matrix.indices.astype(np.int32), matrix.data.astype(np.float64))
        columns = sorted({_column(word, self._features) for word in self._analyzer(text)})
        if not columns:
            return _NOTHING
        indices = np.array(columns, dtype=np.int32)
        return SparseVector(indices, np.full(len(columns), 1.0 / np.sqrt(len(columns))))

    def add(self, key: K, encoded: SparseVector) -> None:
        """Keep an open text's vector."""
        self.discard(key)
        row = len(self._keys)
        self._rows[key] = row
        self._keys.append(key)
        if row >= len(self._labels):
            grown = np.full(2 * len(self._labels), _NO_GROUP, dtype=np.int64)
            grown[:row] = self._labels[:row]
            self._labels = grown
        self._tail_starts.append(len(self._tail_columns))
        self._tail_columns = np.concatenate([self._tail_columns, encoded.indices])
        self._tail_values = np.concatenate([self._tail_values, encoded.data])
        self._tail_rows = np.concatenate(
            [self._tail_rows, np.full(encoded.nnz, len(self._pending), dtype=np.int64)]
        )
        self._pending.append(encoded)
        if len(self._pending) >= self._BLOCK:
            self._stack()

    def discard(self, key: K) -> None:
        """Forget a text's vector."""
        row = self._rows.pop(key, None)
        if row is None:
            return
        self._keys[row] = None
        self._labels[row] = _NO_GROUP
        stacked = self._matrix.shape[0]
        if row < stacked:
            start, end = self._matrix.indptr[row], self._matrix.indptr[row + 1]
            self._matrix.data[start:end] = 0.0
        else:
            pending = row - stacked
            start = self._tail_starts[pending]
            self._tail_values[start : start + self._pending[pending].nnz] = 0.0
            self._pending[pending] = _NOTHING
        discarded = len(self._keys) - len(self._rows)
        if discarded > self._BLOCK and discarded * 2 > len(self._keys):
            self._compact()

    def scores(self, encoded: SparseVector) -> Cosines[K]:
        """The cosine of the encoded text with every kept text (0 where nothing is shared)."""
        if not self._rows or encoded.nnz == 0:
            return Cosines(np.zeros(0), self._keys, self._rows, self._labels)
        # A dense query makes the product one pass over the kept rows; it is reset after.
        # The rows added since the last block was stacked are summed apart, from their flat
        # entries: stacking them for every text would copy the whole matrix every time.
        self._query[encoded.indices] = encoded.data
        try:
            cosines = self._matrix @ self._query
            if self._pending:
                weights = self._query[self._tail_columns] * self._tail_values
                tail = np.bincount(self._tail_rows, weights=weights, minlength=len(self._pending))
                cosines = np.concatenate([cosines, tail])
        finally:
            self._query[encoded.indices] = 0.0
        return Cosines(cosines, self._keys, self._rows, self._labels)

    def similarity(self, first: SparseVector, second: SparseVector) -> float:
        """The cosine of two encoded texts."""
        return first.dot(second)

    def label(self, key: K, group: int | None) -> None:
        """Label a kept text with its group; scores are summed by group in one pass."""
        self._labels[self._rows[key]] = _NO_GROUP if group is None else group

    def _stack(self) -> None:
        if self._pending:
            block = sparse.csr_matrix(
                (
                    np.concatenate([vector.data for vector in self._pending]),
                    np.concatenate([vector.indices for vector in self._pending]),
                    np.concatenate([[0], np.cumsum([vector.nnz for vector in self._pending])]),
                ),
                shape=(len(self._pending), self._features),
            )
            self._matrix = sparse.vstack([self._matrix, block], format="csr")
            self._pending = []
            self._tail_columns = self._tail_columns[:0]
            self._tail_values = self._tail_values[:0]
            self._tail_rows = self._tail_rows[:0]
            self._tail_starts = []

    def _compact(self) -> None:
        self._stack()
        alive = [row for row, key in enumerate(self._keys) if key is not None]
        self._matrix = self._matrix[alive]
        self._matrix.eliminate_zeros()
        self._keys = [self._keys[row] for row in alive]
        self._rows = {key: row for row, key in enumerate(self._keys) if key is not None}
        labels = np.full(max(self._BLOCK, 2 * len(alive)), _NO_GROUP, dtype=np.int64)
        labels[: len(alive)] = self._labels[alive]
        self._labels = labels
