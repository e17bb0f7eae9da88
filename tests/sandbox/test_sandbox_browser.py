"""A newcomer in the browser: tweet as a customer, claim, reply, see the signed answer on X.

Only the accessible names of SPEC §12 (and the page's labels) are used, as a person or an
independent tool would find them; the bot behind the page is the real one.
"""

from __future__ import annotations

import json
import re
import urllib.request
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.sandbox.browser import running_sandbox

pytestmark = pytest.mark.slow
CARD_TIMEOUT = 30_000  # the bot reads X every second; the machine may be busy


def tweet_as(page: Page, handle: str, text: str) -> None:
    page.get_by_label("Customer handle").fill(handle)
    page.get_by_label("Customer tweet").fill(text)
    page.get_by_role("button", name="Send tweet").click()


def test_a_newcomer_works_a_ticket_from_tweet_to_signed_reply(page: Page, sandbox: str) -> None:
    page.goto(sandbox)
    page.get_by_label("Acting as").select_option(label="Anna Schmidt — agent")
    tweet_as(page, "karl_k", "Mein DSL ist seit gestern weg")

    card = page.get_by_role("article", name=re.compile(r"#1 from @karl_k"))
    expect(card).to_be_visible(timeout=CARD_TIMEOUT)
    expect(card).to_contain_text("Mein DSL ist seit gestern weg")
    expect(card).to_contain_text("Owner: nobody yet")

    card.get_by_role("button", name="Claim", exact=True).click()
    expect(card).to_contain_text("Owner: @Anna Schmidt", timeout=CARD_TIMEOUT)
    expect(page.get_by_role("article", name="Servicekanal: You have #1 now.")).to_be_visible()

    card.get_by_role("button", name="Reply", exact=True).click()
    dialog = page.get_by_role("dialog", name="Reply to #1")
    expect(dialog).to_be_visible()
    expect(dialog).to_contain_text("Mein DSL ist seit gestern weg")
    dialog.get_by_label("Your reply").fill("Das tut uns leid, wir prüfen die Leitung.")
    dialog.get_by_role("button", name="Send", exact=True).click()
    expect(dialog).to_be_hidden()

    x = page.get_by_role("complementary", name="X (customer view)")
    answer = x.get_by_role(
        "article", name="@TelekomHilft: @karl_k Das tut uns leid, wir prüfen die Leitung. ^AS"
    )
    expect(answer).to_be_visible(timeout=CARD_TIMEOUT)
    expect(card).to_contain_text("Waiting for customer", timeout=CARD_TIMEOUT)


def test_refusals_and_modal_errors_show_where_slack_shows_them(page: Page, sandbox: str) -> None:
    page.goto(sandbox)
    tweet_as(page, "julia_b", "Rechnung doppelt abgebucht?")
    card = page.get_by_role("article", name=re.compile(r"#1 from @julia_b"))
    expect(card).to_be_visible(timeout=CARD_TIMEOUT)

    # Someone not on the team is told so, only they see it, and nothing changes.
    page.get_by_label("Acting as").select_option(label="Eve Outsider — not on the team")
    card.get_by_role("button", name="Claim", exact=True).click()
    refusal = page.get_by_role("article", name=re.compile(r"not on the Servicekanal team"))
    expect(refusal).to_be_visible(timeout=CARD_TIMEOUT)
    expect(refusal).to_contain_text("Only visible to you")
    expect(card).to_contain_text("Owner: nobody yet")

    # A reply over X's 280 stays in the dialog with the bot's reason under the field.
    page.get_by_label("Acting as").select_option(label="Ben Meier — agent")
    card.get_by_role("button", name="Reply", exact=True).click()
    dialog = page.get_by_role("dialog", name="Reply to #1")
    dialog.get_by_label("Your reply").fill("Sehr lang. " * 30)
    dialog.get_by_role("button", name="Send", exact=True).click()
    expect(dialog.get_by_role("alert")).to_contain_text("characters too long", timeout=CARD_TIMEOUT)
    expect(dialog).to_be_visible()
    dialog.get_by_role("button", name="Cancel").click()
    expect(dialog).to_be_hidden()
    x = page.get_by_role("complementary", name="X (customer view)")
    expect(x.get_by_role("article", name=re.compile(r"^@TelekomHilft:"))).to_have_count(0)


def test_a_slash_command_with_a_typed_mention_and_a_note_in_the_thread(
    page: Page, sandbox: str
) -> None:
    page.goto(sandbox)
    composer = page.get_by_label("Message #support")
    composer.fill("/team add @tom agent")
    composer.press("Enter")
    expect(page.get_by_role("article", name=re.compile(r"is on the team as agent"))).to_be_visible(
        timeout=CARD_TIMEOUT
    )
    expect(page.get_by_label("Acting as")).to_contain_text("Tom Trainee — agent")

    tweet_as(page, "techmaxx", "Router blinkt rot")
    card = page.get_by_role("article", name=re.compile(r"#1 from @techmaxx"))
    expect(card).to_be_visible(timeout=CARD_TIMEOUT)
    card.hover()
    card.get_by_role("button", name="Reply in thread").click()
    thread = page.get_by_role("region", name="Thread")
    field = thread.get_by_label("Reply in thread")
    field.fill("Techniker ist informiert, @ben bitte übernehmen")
    field.press("Enter")
    note = thread.get_by_role("article", name=re.compile(r"Lena Lehmann: Techniker ist informiert"))
    expect(note).to_be_visible(timeout=CARD_TIMEOUT)
    expect(note).to_contain_text("@Ben Meier")


def test_play_a_storm_brings_many_customers_at_once(page: Page, sandbox: str) -> None:
    page.goto(sandbox)
    page.get_by_role("button", name="Play a storm").click()
    x = page.get_by_role("complementary", name="X (customer view)")
    expect(x.get_by_role("article")).to_have_count(80, timeout=CARD_TIMEOUT)  # the feed shows 80
    cards = page.get_by_role("log", name="Messages").get_by_role(
        "article", name=re.compile(r"^Servicekanal: #\d+ from @")
    )
    expect(cards.nth(4)).to_be_visible(timeout=CARD_TIMEOUT)


def _state(url: str) -> dict[str, object]:
    with urllib.request.urlopen(f"{url}api/state?user=U0LEAD", timeout=10) as response:
        result: dict[str, object] = json.loads(response.read())
        return result


def _tweet(url: str, handle: str, text: str) -> None:
    body = json.dumps({"user": "U0LEAD", "handle": handle, "text": text}).encode()
    request = urllib.request.Request(
        f"{url}api/tweet", data=body, headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=10):
        pass


def test_keep_continues_the_last_sandbox_and_a_plain_start_is_fresh(
    page: Page, tmp_path: Path
) -> None:
    directory = tmp_path / "sandbox"
    with running_sandbox(directory) as (url, _):
        _tweet(url, "karl_k", "Kein Netz seit heute früh")
        page.goto(url)
        expect(page.get_by_role("article", name=re.compile(r"#1 from @karl_k"))).to_be_visible(
            timeout=CARD_TIMEOUT
        )
    with running_sandbox(directory, "--keep") as (url, _):
        page.goto(url)
        card = page.get_by_role("article", name=re.compile(r"#1 from @karl_k"))
        expect(card).to_be_visible(timeout=CARD_TIMEOUT)
        card.get_by_role("button", name="Claim", exact=True).click()  # the kept card still works
        expect(card).to_contain_text("Owner: @Lena Lehmann", timeout=CARD_TIMEOUT)
        _tweet(url, "julia_b", "Und bei mir?")
        expect(page.get_by_role("article", name=re.compile(r"#2 from @julia_b"))).to_be_visible(
            timeout=CARD_TIMEOUT
        )
    with running_sandbox(directory) as (url, _):
        state = _state(url)
        slack = state["slack"]
        assert isinstance(slack, dict)
        support = next(c for c in slack["channels"] if c["id"] == "CSUPPORT1")
        assert support["messages"] == []  # yesterday's tickets stay yesterday's
        x = state["x"]
        assert isinstance(x, dict) and x["tweets"] == []
