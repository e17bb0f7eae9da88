"""Make the README's screenshot from a running sandbox: `python -m tests.sandbox.screenshot`.

A short story (three customers, one ticket claimed and answered), then a picture of the
page at a laptop's size, written to docs/sandbox.png.
"""

from __future__ import annotations

import re
import sys
import tempfile
from pathlib import Path

from playwright.sync_api import expect, sync_playwright

from tests.sandbox.browser import CHROMIUM, CHROMIUM_ARGS, ROOT, running_sandbox


def main(target: Path) -> int:
    """Run the story in a fresh sandbox and save the screenshot."""
    with (
        tempfile.TemporaryDirectory() as folder,
        running_sandbox(Path(folder) / "sandbox") as (url, _),
        sync_playwright() as playwright,
    ):
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1440, "height": 820})
        page.goto(url)
        for handle, text in (
            ("karl_k", "Mein DSL ist seit gestern Abend weg, Router blinkt rot. Was kann ich tun?"),
            ("julia_b", "Wurde diesen Monat doppelt abgebucht?! #telekomfail"),
        ):
            page.get_by_label("Customer handle").fill(handle)
            page.get_by_label("Customer tweet").fill(text)
            page.get_by_role("button", name="Send tweet").click()
            expect(page.get_by_role("article", name=re.compile(f"from @{handle}"))).to_be_visible(
                timeout=30_000
            )
        page.get_by_label("Acting as").select_option(label="Anna Schmidt — agent")
        card = page.get_by_role("article", name=re.compile(r"#1 from @karl_k"))
        card.get_by_role("button", name="Claim", exact=True).click()
        expect(card).to_contain_text("Owner: @Anna Schmidt", timeout=30_000)
        card.get_by_role("button", name="Reply", exact=True).click()
        dialog = page.get_by_role("dialog", name="Reply to #1")
        dialog.get_by_label("Your reply").fill(
            "Das tut uns leid! Wir messen die Leitung gleich durch und melden uns "
            "innerhalb der nächsten Stunde."
        )
        dialog.get_by_role("button", name="Send", exact=True).click()
        x = page.get_by_role("complementary", name="X (customer view)")
        expect(x.get_by_role("article", name=re.compile(r"\^AS$"))).to_be_visible(timeout=30_000)
        card.hover()
        card.get_by_role("button", name="Reply in thread").click()
        page.get_by_role("region", name="Thread").get_by_label("Reply in thread").fill(
            "Leitung gemessen: Störung im Verteiler, Techniker ist informiert."
        )
        page.get_by_role("region", name="Thread").get_by_label("Reply in thread").press("Enter")
        page.wait_for_timeout(2500)
        page.mouse.move(0, 0)
        page.screenshot(path=str(target))
        browser.close()
    print(f"wrote {target}")
    return 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "docs" / "sandbox.png"))
