"""The benchmarks run (on a small scale): they are tools, and tools that rot mislead."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench import stats as stats_bench
from store.db import make_engine


def test_the_stats_benchmark_generates_and_measures_a_small_year(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'bench.db'}")
    stats_bench.measure("SQLite", engine, tickets=400, runs=1)
    out = capsys.readouterr().out
    assert "'ticket': 400" in out
    assert "/stats 30d" in out and "App Home (lead )" in out
    assert "tickets in" in out
