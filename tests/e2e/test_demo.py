"""The by-hand demo drives the real process through the stand-ins, as the README shows."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.slow

SCRIPT = """\
as U0LEAD /team add <@U0ANNA|anna> agent AS
tweet karl_k Mein DSL ist seit gestern weg
sleep 3
as U0ANNA /claim 1
as U0EVE /claim 1
as U0ANNA /reply 1 Das tut uns leid, wir prüfen die Leitung.
x
"""


def test_the_demo_runs_the_story_by_hand(tmp_path: Path) -> None:
    (tmp_path / "script.txt").write_text(SCRIPT)
    environ = {**os.environ, "PYTHONPATH": str(ROOT)}
    result = subprocess.run(
        [sys.executable, "-m", "tests.fakes.demo", "--script", "script.txt"],
        cwd=tmp_path,
        env=environ,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "bot: You have #1 now." in out
    assert "not on the Servicekanal team" in out
    assert "Sent to the customer on X" in out
    assert "@karl_k Das tut uns leid, wir prüfen die Leitung. ^AS" in out
