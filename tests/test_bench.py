"""The benchmarks run (on a small scale): they are tools, and tools that rot mislead."""

from __future__ import annotations

from pathlib import Path
from types import ModuleType

import pytest

from bench import ack as ack_bench
from bench import burst as burst_bench
from bench import grouping as grouping_bench
from bench import ingest as ingest_bench
from bench import memory as memory_bench
from bench import outbox as outbox_bench
from bench import stats as stats_bench
from bench import storm as storm_bench
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


@pytest.mark.parametrize(
    "module",
    [ack_bench, burst_bench, grouping_bench, ingest_bench, memory_bench, outbox_bench, storm_bench],
)
def test_each_benchmark_explains_its_command(
    module: ModuleType, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exited:
        module.main(["--help"])
    assert exited.value.code == 0
    name = module.__name__
    assert f"python -m {name}" in capsys.readouterr().out
    assert f"python -m {name}" in (module.__doc__ or "")


def test_the_ingest_benchmark_compares_the_bot_with_the_same_calls(
    capsys: pytest.CaptureFixture[str],
) -> None:
    figures = ingest_bench.main(["--tweets", "30", "--runs", "1"])
    out = capsys.readouterr().out
    assert figures.same_calls
    assert figures.calls == {"GET /2/users/:id/mentions": 1, "chat.postMessage": 30}
    assert figures.cards.ok, figures.cards
    for label in ("baseline (the HTTP calls only)", "bot: total", "ratio bot/baseline"):
        assert label in out
    assert "ok: 30 cards for 30 tweets, in order, 0 lost, 0 duplicated" in out


def test_the_ingest_benchmark_with_grouping_places_every_tweet_inside_the_poll(
    capsys: pytest.CaptureFixture[str],
) -> None:
    figures = ingest_bench.main(["--tweets", "30", "--runs", "1", "--grouping", "--backlog", "200"])
    out = capsys.readouterr().out
    assert figures.same_calls and figures.cards.ok, figures.cards
    assert figures.backlog == 200 and len(figures.grouping) == 1
    assert 0 < figures.grouping[0] < figures.grouped_poll[0]  # timed within the poll
    for label in ("bot+grouping: total", "Grouper.place (200 open)", "grouping on"):
        assert label in out


def test_the_burst_benchmark_drains_in_order_under_a_rate_limit(
    capsys: pytest.CaptureFixture[str],
) -> None:
    # One post per 1.5 s while the bot paces at 1 s: the stand-in answers 429 in between.
    figures = burst_bench.main(
        ["--tweets", "3", "--limit", "1", "--window", "1.5", "--settle", "0.2"]
    )
    out = capsys.readouterr().out
    assert figures.cards.ok, figures.cards
    assert figures.attempts == figures.cards.posted + figures.rate_limited
    assert figures.rate_limited == figures.seen_by_bot
    for label in ("tweets (N)", "theoretical minimum", "ratio elapsed/minimum", "429s seen"):
        assert label in out


def test_the_ack_benchmark_times_acks_while_ingesting(
    capsys: pytest.CaptureFixture[str],
) -> None:
    figures = ack_bench.main(["--tweets", "40", "--requests", "8", "--interval", "0.01"])
    out = capsys.readouterr().out
    assert figures.statuses == [200] * 8
    assert figures.answered == 8
    assert figures.progress.tickets_at_end >= figures.progress.tickets_at_start
    for label in ("ack latency p50", "ack latency p99", "ack latency max", "tickets stored"):
        assert label in out


@pytest.mark.slow  # starts three Python processes
def test_the_memory_benchmark_measures_a_child_that_ingests(
    capsys: pytest.CaptureFixture[str],
) -> None:
    figures = memory_bench.main(["--tweets", "20"])
    out = capsys.readouterr().out
    assert figures is not None
    assert figures.cards_ok, figures.cards
    assert figures.ingest["new_tickets"] == 20 and figures.ingest["rows_sent"] == 20
    assert figures.peak(figures.idle) > 0 and figures.peak(figures.ingest) > 0
    for label in ("idle built bot", "ingesting bot", "per 1,000 tweets", "cards in Slack"):
        assert label in out


def test_the_grouping_benchmark_measures_quality_and_speed(
    capsys: pytest.CaptureFixture[str],
) -> None:
    rows = grouping_bench.main(["--only", "words", "--thresholds", "0.3", "--backlog", "100"])
    out = capsys.readouterr().out
    chosen, at_setting = rows
    assert chosen["threshold"] == 0.3 and chosen["tuned"].precision > 0.5
    assert 0 < chosen["held_out"].recall <= 1 and chosen["orders"].precision > 0.5
    assert chosen["speed"].open_after >= 100 and chosen["speed"].mean_ms > 0
    assert at_setting["held_out"] is None
    assert chosen["install_mb"] > 1
    for label in ("| words (chosen) | 0.300 |", "held out P / R", "ms/tweet at 100 open"):
        assert label in out


def test_the_outbox_benchmark_drains_a_group_answer_at_the_window_without_a_429(
    capsys: pytest.CaptureFixture[str],
) -> None:
    figures = outbox_bench.main(
        ["--rows", "12", "--limit", "5", "--window", "1.5", "--individual", "2"]
    )
    out = capsys.readouterr().out
    assert figures.rate_limited == 0 and figures.duplicates == 0
    assert figures.span >= figures.floor - 1.5  # the window's pace holds: never faster
    # Each window keeps one place for individual replies: the two may share a window (the
    # second then waits for the next, first in line), but never wait behind the group's
    # three windows.
    assert figures.individual_sent_at_once >= 1
    assert figures.individual_latency_max < 1.5 + 1.0
    for label in ("floor the window sets", "ratio elapsed/floor", "individual reply, slowest"):
        assert label in out


def test_the_storm_benchmark_answers_a_small_storm_with_a_few_actions_and_posts(
    capsys: pytest.CaptureFixture[str],
) -> None:
    figures = storm_bench.main(
        ["--alike", "24", "--others", "6", "--limit", "10", "--window", "1.5", "--chunk", "10"]
    )
    out = capsys.readouterr().out
    assert figures.group_size >= 20 and figures.others_answered_by_group == 0
    assert figures.actions < 30 and figures.posts_arriving < 30  # fewer than one per tweet
    assert figures.storm.precision == 1.0 and figures.storm.recall > 0.7
    assert figures.duplicates == 0 and figures.members_answered_twice == 0
    assert figures.rate_limited == 0
    assert figures.last_member >= figures.floor - 1.5  # the window's pace holds
    for label in ("Slack posts while it arrives", "agent actions", "floor the window sets"):
        assert label in out
