"""The warm index gives the vectorizer's own vectors and cosines, however it computes them."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from bot.similarity import VectorIndex, word_vectorizer

DATA = Path(__file__).parents[1] / "data" / "alike-tweets.jsonl"


def texts() -> list[str]:
    lines = DATA.read_text(encoding="utf-8").splitlines()
    return [json.loads(line)["text"] for line in lines if line.strip()]


def test_a_text_is_encoded_exactly_as_the_vectorizer_encodes_it() -> None:
    vectorizer = word_vectorizer()
    index: VectorIndex[int] = VectorIndex(vectorizer)
    for text in [*texts(), "", "😡 !!!", "@brand_hilft https://x.com/a"]:
        mine, theirs = index.encode(text), vectorizer.transform([text])
        theirs.sort_indices()
        assert np.array_equal(mine.indices, theirs.indices), text
        assert np.allclose(mine.data, theirs.data), text


def test_scores_count_rows_added_since_the_last_block_and_forget_discarded_ones() -> None:
    vectorizer = word_vectorizer()
    index: VectorIndex[int] = VectorIndex(vectorizer)
    corpus = (texts() * 2)[:300]  # more than two blocks: stacked rows and pending ones
    encoded = [index.encode(text) for text in corpus]
    for key, vector in enumerate(encoded):
        index.add(key, vector)
    for key in range(0, 300, 7):
        index.discard(key)
    query = encoded[299]
    scores = index.scores(query)
    # What the vectorizer's own matrix says, in SciPy's product.
    matrix = vectorizer.transform(corpus)
    cosines = (matrix @ matrix[299].T).toarray().ravel()
    expected = {key: float(c) for key, c in enumerate(cosines) if key % 7 and c > 0}
    assert scores.keys() == expected.keys()
    assert all(abs(scores[key] - value) < 1e-9 for key, value in expected.items())
    assert abs(index.similarity(query, encoded[298]) - cosines[298]) < 1e-9
    assert abs(scores.total([298, 297, 7]) - cosines[298] - cosines[297]) < 1e-9
    best = scores.at_least(0.5)
    assert [key for key, _ in best] == sorted(
        (key for key, value in expected.items() if value >= 0.5), key=lambda key: -expected[key]
    )
