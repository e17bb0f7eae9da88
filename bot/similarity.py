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
from collections.abc import Hashable, Mapping
from functools import cache
from operator import itemgetter
from typing import Generic, Protocol, TypeVar

import numpy as np
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


class AlikeIndex(Protocol[K, V]):
    """A similarity kept warm: the open texts, encoded once, compared with each new one.

    Similarities are symmetric, between 0 and 1, and 1 for a text with itself (0 for a
    text with no words).
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

    def scores(self, encoded: V) -> Mapping[K, float]:
        """The similarity of the encoded text to each kept text (kept texts left out: 0)."""
        ...

    def similarity(self, first: V, second: V) -> float:
        """The similarity of two encoded texts."""
        ...


def _column(word: str, features: int) -> int:
    """The column FeatureHasher gives a word: murmurhash3 of its UTF-8, as scikit-learn does."""
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
        self._pending: list[sparse.csr_matrix] = []
        # The pending rows' entries, flat: their columns, values and which row each is of.
        self._tail_columns = np.zeros(0, dtype=np.int64)
        self._tail_values = np.zeros(0, dtype=np.float64)
        self._tail_rows = np.zeros(0, dtype=np.int64)
        self._tail_starts: list[int] = []
        self._keys: list[K | None] = []  # by row; None where discarded
        self._rows: dict[K, int] = {}
        self._query = np.zeros(self._features, dtype=np.float64)

    def __len__(self) -> int:
        return len(self._rows)

    def encode(self, text: str) -> sparse.csr_matrix:
        """The text's vector: one row, unit length (zero for a text without features).

        The same vector as `self._vectorizer.transform([text])` (a test compares them on
        the labelled tweets), built directly: each text is encoded on its own, and the
        vectorizer's checks and set-up per call cost ten times the hashing itself.
        """
        if not self._direct:
            vector: sparse.csr_matrix = self._vectorizer.transform([text])
            return vector
        columns = np.array(sorted({_column(w, self._features) for w in self._analyzer(text)}))
        data = np.full(len(columns), 1.0 / np.sqrt(len(columns)) if len(columns) else 0.0)
        indptr = np.array([0, len(columns)])
        return sparse.csr_matrix(
            (data, columns.astype(np.int32), indptr), shape=(1, self._features)
        )

    def add(self, key: K, encoded: sparse.csr_matrix) -> None:
        """Keep an open text's vector."""
        self.discard(key)
        self._rows[key] = len(self._keys)
        self._keys.append(key)
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
        stacked = self._matrix.shape[0]
        if row < stacked:
            start, end = self._matrix.indptr[row], self._matrix.indptr[row + 1]
            self._matrix.data[start:end] = 0.0
        else:
            pending = row - stacked
            start = self._tail_starts[pending]
            self._tail_values[start : start + self._pending[pending].nnz] = 0.0
            self._pending[pending] = sparse.csr_matrix((1, self._features))
        discarded = len(self._keys) - len(self._rows)
        if discarded > self._BLOCK and discarded * 2 > len(self._keys):
            self._compact()

    def scores(self, encoded: sparse.csr_matrix) -> dict[K, float]:
        """The cosine of the encoded text with every kept text that shares a feature with it."""
        if not self._rows or encoded.nnz == 0:
            return {}
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
        rows = np.flatnonzero(cosines).tolist()
        if not rows:
            return {}
        # Keys and plain Python numbers picked in one go: a storm of alike tweets has
        # thousands of non-zero cosines, and a loop over them cost more than the product.
        # A discarded row is all zeros, so it is never among them.
        keys = itemgetter(*rows)(self._keys) if len(rows) > 1 else (self._keys[rows[0]],)
        scores: dict[K | None, float] = dict(zip(keys, cosines[rows].tolist(), strict=True))
        scores.pop(None, None)
        return scores  # type: ignore[return-value]  # None is gone

    def similarity(self, first: sparse.csr_matrix, second: sparse.csr_matrix) -> float:
        """The cosine of two encoded texts."""
        if first.has_canonical_format and second.has_canonical_format:
            # One row each with sorted, unique columns: the dot product of the overlap.
            _, mine, theirs = np.intersect1d(
                first.indices, second.indices, assume_unique=True, return_indices=True
            )
            return float(np.dot(first.data[mine], second.data[theirs]))
        return float(first.multiply(second).sum())

    def _stack(self) -> None:
        if self._pending:
            self._matrix = sparse.vstack([self._matrix, *self._pending], format="csr")
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
