"""Headless Chromium from Debian's package, driven by Playwright (no browser download), and
the sandbox as a real `python app.py sandbox` process on a free port."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
SANDBOX = [sys.executable, str(ROOT / "app.py"), "sandbox", "--port", "0"]
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def require_chromium() -> None:
    """Fail loudly in CI without Chromium; skip, saying so, on a developer's machine."""
    if CHROMIUM.exists():
        return
    if os.environ.get("CI"):
        pytest.fail(f"{CHROMIUM} is missing; .ci/run installs Debian's chromium with apt-get")
    pytest.skip(f"{CHROMIUM} is missing: `apt-get install chromium` to run the browser tests")


@contextmanager
def running_sandbox(directory: Path, *extra: str) -> Iterator[tuple[str, subprocess.Popen[str]]]:
    """`python app.py sandbox --port 0`: its address, once it listens; stopped with Ctrl-C."""
    environ = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "X_"))},
        "PYTHONPATH": str(ROOT),
    }
    errors = directory.parent / f"{directory.name}.stderr"
    with (
        errors.open("w") as stderr,
        subprocess.Popen(
            [*SANDBOX, "--dir", str(directory), *extra],
            cwd=directory.parent,
            env=environ,
            stdout=subprocess.PIPE,
            stderr=stderr,
            text=True,
        ) as process,
    ):
        try:
            assert process.stdout is not None
            line = process.stdout.readline()
            found = re.search(r"http://127\.0\.0\.1:\d+/", line)
            assert found, f"the sandbox did not start: {line!r} {errors.read_text()}"
            yield found[0], process
        finally:
            process.send_signal(signal.SIGINT)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
