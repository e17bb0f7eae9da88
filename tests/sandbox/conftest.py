"""Fixtures of the sandbox's tests: a browser for the session, a fresh sandbox per test."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, sync_playwright

from tests.sandbox.browser import CHROMIUM, CHROMIUM_ARGS, require_chromium, running_sandbox


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    """Debian's Chromium, headless, started by Playwright with `executable_path`."""
    require_chromium()
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    """A fresh tab (its own storage), the size of a laptop screen."""
    context = browser.new_context(viewport={"width": 1440, "height": 900})
    opened = context.new_page()
    yield opened
    context.close()


@pytest.fixture
def sandbox(tmp_path: Path) -> Iterator[str]:
    """A fresh `python app.py sandbox`; its address."""
    with running_sandbox(tmp_path / "sandbox") as (url, _):
        yield url
