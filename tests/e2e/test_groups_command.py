"""`python app.py groups FILE` as a lead runs it: a real process, no tokens, JSON lines out."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

from tests.conftest import REFERENCE

ROOT = Path(__file__).resolve().parents[2]
OUTAGE = [
    "@brand_hilft Störung in Köln? Kein Internet seit heute Morgen",
    "Stoerung Koeln, internet weg!!! #störung",
    "@brand_hilft STÖRUNG KÖLN??? Internet geht nicht 😡",
]


def groups(path: Path | str, *, cwd: Path, stdin: str | None = None, **environ: str):
    """Run the command with only PATH and the given settings in the environment."""
    return subprocess.run(
        [sys.executable, str(ROOT / "app.py"), "groups", str(path)],
        env={"PATH": os.environ.get("PATH", ""), "PYTHONPATH": str(ROOT), **environ},
        cwd=cwd,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def write(path: Path, rows: Sequence[object]) -> Path:
    path.write_text(
        "".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in rows),
        encoding="utf-8",
    )
    return path


def test_each_line_gets_its_group_or_null_without_any_token(tmp_path: Path) -> None:
    rows: list[dict[str, object]] = [{"id": f"o{n}", "text": t} for n, t in enumerate(OUTAGE)]
    rows.insert(1, {"id": 7, "text": "@brand_hilft Rechnung doppelt abgebucht", "label": "x"})
    result = groups(write(tmp_path / "in.jsonl", rows), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    out = [json.loads(line) for line in result.stdout.splitlines()]
    assert out == [
        {"id": "o0", "group": 1},
        {"id": 7, "group": None},
        {"id": "o1", "group": 1},
        {"id": "o2", "group": 1},
    ]


def test_the_labelled_tweets_are_answered_line_for_line(tmp_path: Path) -> None:
    source = REFERENCE / "alike-tweets.jsonl"
    result = groups(source, cwd=ROOT)
    assert result.returncode == 0, result.stderr
    ids = [json.loads(line)["id"] for line in source.read_text(encoding="utf-8").splitlines()]
    out = [json.loads(line) for line in result.stdout.splitlines()]
    assert [o["id"] for o in out] == ids
    assert all(o["group"] is None or isinstance(o["group"], int) for o in out)
    assert len({o["group"] for o in out if o["group"] is not None}) >= 5


def test_the_grouping_settings_apply_and_a_bad_one_is_named(tmp_path: Path) -> None:
    path = write(tmp_path / "in.jsonl", [{"id": n, "text": t} for n, t in enumerate(OUTAGE)])
    strict = groups(path, cwd=tmp_path, GROUP_SIMILARITY="0.99")
    assert [json.loads(line)["group"] for line in strict.stdout.splitlines()] == [None] * 3
    larger = groups(path, cwd=tmp_path, GROUP_MIN_SIZE="4")
    assert [json.loads(line)["group"] for line in larger.stdout.splitlines()] == [None] * 3
    bad = groups(path, cwd=tmp_path, GROUP_SIMILARITY="2")
    assert bad.returncode == 2 and bad.stdout == ""
    assert "GROUP_SIMILARITY is invalid" in bad.stderr and "Traceback" not in bad.stderr


def test_settings_come_from_the_env_file_too(tmp_path: Path) -> None:
    path = write(tmp_path / "in.jsonl", [{"id": n, "text": t} for n, t in enumerate(OUTAGE)])
    (tmp_path / ".env").write_text("GROUP_MIN_SIZE=4\nSLACK_BOT_TOKEN=not-a-bot-token\n")
    result = groups(path, cwd=tmp_path)
    assert result.returncode == 0, result.stderr  # the other settings are not read
    assert [json.loads(line)["group"] for line in result.stdout.splitlines()] == [None] * 3


def test_created_at_applies_the_window(tmp_path: Path) -> None:
    times = ["2026-03-01T08:00:00Z", "2026-03-02T09:00:00Z", "2026-03-02T09:30:00+01:00"]
    rows = [
        {"id": n, "text": text, "created_at": at}
        for n, (text, at) in enumerate(zip(OUTAGE, times, strict=True))
    ]
    rows.append({"id": 3, "text": "Kein Internet in Köln, Störung?", "created_at": times[1]})
    result = groups(write(tmp_path / "in.jsonl", rows), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    # Line 0 is 25 hours older than the others: out of the window, so alone.
    assert [json.loads(line)["group"] for line in result.stdout.splitlines()] == [None, 1, 1, 1]


def test_bad_lines_are_named_and_nothing_is_printed(tmp_path: Path) -> None:
    rows: list[object] = [
        {"id": "a", "text": "fine"},
        "",
        "{not json",
        {"id": "b"},
        {"id": ["x"], "text": "list id"},
        {"id": "a", "text": "again"},
        [1, 2],
    ]
    result = groups(write(tmp_path / "in.jsonl", rows), cwd=tmp_path)
    assert result.returncode == 1
    assert result.stdout == ""
    errors = result.stderr.splitlines()
    assert errors[0].endswith("line 3: not a JSON object")
    assert errors[1].endswith("line 4: text is missing")
    assert "line 5: id" in errors[2]
    assert errors[3].endswith('line 6: id "a" is on line 1 too')
    assert errors[4].endswith("line 7: not a JSON object")
    assert len(errors) == 5 and "Traceback" not in result.stderr


def test_created_at_on_some_lines_only_is_refused(tmp_path: Path) -> None:
    rows = [
        {"id": 1, "text": "a", "created_at": "2026-03-01T08:00:00Z"},
        {"id": 2, "text": "b"},
    ]
    result = groups(write(tmp_path / "in.jsonl", rows), cwd=tmp_path)
    assert result.returncode == 1 and result.stdout == ""
    assert "line 2: created_at is missing (line 1 has one" in result.stderr


def test_a_missing_file_is_named_and_stdin_works(tmp_path: Path) -> None:
    missing = groups(tmp_path / "nope.jsonl", cwd=tmp_path)
    assert missing.returncode == 1 and "nope.jsonl: cannot be read" in missing.stderr
    piped = groups("-", cwd=tmp_path, stdin=json.dumps({"id": "x", "text": "hallo"}) + "\n")
    assert piped.returncode == 0 and json.loads(piped.stdout) == {"id": "x", "group": None}


def test_a_file_goes_with_groups_only(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, str(ROOT / "app.py"), "check", "extra.jsonl"],
        env={"PATH": os.environ.get("PATH", ""), "PYTHONPATH": str(ROOT)},
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2 and "a FILE goes with the groups command" in result.stderr
