"""The page's Block Kit renderer, fed the bot's real builders, read as a person reads it."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import Browser, Locator, Page, expect

from bot.present import CardView, CustomerView, EscalationView
from bot.replies import ReplyContext
from handlers.blocks.cards import ticket_card
from handlers.blocks.escalations import escalation
from handlers.blocks.replies import reply_modal
from handlers.blocks.text import section, slack_date
from store.models import EscalationKind
from tests.sandbox.browser import ROOT

STATIC = ROOT / "sandbox" / "static"
PEOPLE = {
    "U0ANNA": {"name": "Anna Schmidt"},
    "U0LEAD": {"name": "Lena Lehmann"},
}
RENDER = """([blocks, people, errors]) => {
  window.acted = null;
  const out = document.getElementById("out");
  out.replaceChildren(BlockKit.render(blocks, {
    person: (id) => people[id],
    channelName: (id) => ({ CSUPPORT1: "support" })[id],
    tz: "Europe/Berlin",
    now: () => new Date(),
    act: (block, element, choice) => {
      window.acted = [block.block_id, element.action_id, choice];
    },
    register: () => {},
    confirm: async () => true,
    errors,
  }));
}"""


@pytest.fixture(scope="module")
def renderer(browser: Browser) -> Iterator[Page]:
    """A blank page with the sandbox's blockkit.js and style.css."""
    page = browser.new_page()
    page.set_content('<html><body><div id="out"></div></body></html>')
    page.add_script_tag(path=str(STATIC / "blockkit.js"))
    page.add_style_tag(path=str(STATIC / "style.css"))
    yield page
    page.close()


def show(page: Page, blocks: list[dict[str, Any]], errors: dict[str, str] | None = None) -> Locator:
    page.evaluate(RENDER, [blocks, PEOPLE, errors or {}])
    return page.locator("#out")


def card(text: str, **overrides: Any) -> list[dict[str, Any]]:
    view = CardView(
        ticket_id=7,
        tweet_id="1800000000000000007",
        state="claimed",
        source="mention",
        customer=CustomerView(
            name="Karl Krause", username="karl_k", followers=1234, verified=True, vip=False
        ),
        text=text,
        url="https://x.com/karl_k/status/1800000000000000007",
        created_at=datetime.now(UTC),
        owner_slack_id="U0ANNA",
        **overrides,
    )
    return list(ticket_card(view)["blocks"])


def test_a_card_shows_state_owner_time_and_its_buttons(renderer: Page) -> None:
    out = show(renderer, card("Mein DSL ist weg"))
    expect(out).to_contain_text("#7 · 🙋 Claimed")
    expect(out.locator("b", has_text="Karl Krause")).to_have_count(1)  # *bold* mrkdwn
    expect(out.get_by_role("link", name="@karl_k")).to_have_attribute(
        "href", "https://x.com/karl_k"
    )
    expect(out).to_contain_text("1,234 followers · ✔️ verified")
    expect(out).to_contain_text("Owner: @Anna Schmidt")
    # The <!date^…> token in the reader's zone, never its UTC fallback.
    local = datetime.now(ZoneInfo("Europe/Berlin")).strftime("%H:%M")
    expect(out.locator("time").first).to_have_text(f"Today {local}")
    expect(out).not_to_contain_text("UTC")
    for label in ("Claim", "Reply", "Follow-up", "Resolve", "Escalate"):
        expect(out.get_by_role("button", name=label, exact=True)).to_be_visible()
    expect(out.get_by_role("button", name="Claim", exact=True)).to_have_class("bk-button primary")
    expect(out.get_by_role("button", name="Escalate")).to_have_class("bk-button danger")
    out.get_by_role("button", name="Resolve").click()
    assert renderer.evaluate("window.acted") == ["ticket_actions_7", "ticket_resolve", {}]


def test_escaped_customer_text_is_shown_literally_and_pings_nobody(renderer: Page) -> None:
    hostile = "<!channel> hi <@U0LEAD> & <https://evil.example|harmless> <script>x()</script>"
    out = show(renderer, card(hostile))
    quote = out.locator("blockquote")
    expect(quote).to_have_text(hostile)
    expect(out.get_by_role("link", name="harmless")).to_have_count(0)
    expect(out.locator(".mention.broadcast")).to_have_count(0)
    expect(quote.locator(".mention")).to_have_count(0)
    assert renderer.evaluate("document.querySelectorAll('#out script').length") == 0


def test_mrkdwn_reads_as_in_slack(renderer: Page) -> None:
    text = (
        "*bold* _italic_ ~gone~ `code` <@U0LEAD> <#CSUPPORT1> <!here> "
        "<https://example.com/a_b|a link> snake_case_word 2*3*4\n"
        ">quoted line\n"
        "• first\n"
        "• second\n"
        "```pre *not bold*```"
    )
    out = show(renderer, [section(text)])
    expect(out.locator("b", has_text="bold")).to_have_count(1)
    expect(out.locator("i")).to_have_text("italic")
    expect(out.locator("s")).to_have_text("gone")
    expect(out.locator("code")).to_have_text("code")
    expect(out.locator(".mention", has_text="@Lena Lehmann")).to_have_count(1)
    expect(out.locator(".mention", has_text="#support")).to_have_count(1)
    expect(out.locator(".mention.broadcast")).to_have_text("@here")
    expect(out.get_by_role("link", name="a link")).to_have_attribute(
        "href", "https://example.com/a_b"
    )
    expect(out).to_contain_text("snake_case_word 2*3*4")  # no emphasis inside words
    expect(out.locator("blockquote")).to_have_text("quoted line")
    expect(out.locator(".mrk-li")).to_have_count(2)
    expect(out.locator("pre")).to_have_text("pre *not bold*")


def test_dates_follow_slacks_formats(renderer: Page) -> None:
    when = datetime(2026, 2, 18, 5, 39, tzinfo=UTC)  # 06:39 in Berlin
    stamp = int(when.timestamp())
    text = (
        f"<!date^{stamp}^{{date_num}}|x> <!date^{stamp}^{{date}}|x> "
        f"<!date^{stamp}^{{date_short}}|x> <!date^{stamp}^{{date_long}} {{time}}|x>"
    )
    out = show(renderer, [section(text)])
    expect(out.locator("time")).to_have_text(
        [
            "2026-02-18",
            "February 18th, 2026",
            "Feb 18, 2026",
            "Wednesday, February 18th, 2026 06:39",
        ]
    )
    out = show(renderer, [section(slack_date(datetime(2001, 1, 2, tzinfo=UTC)))])
    expect(out.locator("time")).to_have_text("Jan 2, 2001 01:00")


def test_the_reply_modal_has_labelled_inputs_and_shows_errors(renderer: Page) -> None:
    view = reply_modal(
        ReplyContext(
            ticket_id=7,
            handle="karl_k",
            tweet="Mein DSL <ist> weg",
            signature=" ^AS",
            canned=[],
            suggested=[],
        )
    )
    out = show(renderer, view["blocks"], errors={"reply_text_0": "The reply is empty."})
    expect(out).to_contain_text("Mein DSL <ist> weg")
    expect(out.get_by_label("Your reply")).to_be_editable()
    expect(out.get_by_role("alert")).to_have_text("The reply is empty.")
    expect(out.get_by_label("Promise a follow-up in")).to_contain_text("30 minutes")
    expect(out.get_by_label("Send even with warnings")).not_to_be_checked()
    expect(out).to_contain_text("No canned answers yet")


def test_an_escalation_has_its_header_quote_and_context(renderer: Page) -> None:
    page = escalation(
        EscalationView(
            kind=EscalationKind.VIP,
            ticket_id=7,
            reason="VIP customer with 48,000 followers",
            at=datetime.now(UTC),
            customer_handle="techmaxx",
            oncall_slack_id="U0LEAD",
            examples=["Router *blinkt* rot"],
        )
    )
    out = show(renderer, page["blocks"])
    expect(out.locator("b", has_text="Escalation: VIP customer")).to_have_count(1)
    expect(out).to_contain_text("On call: @Lena Lehmann")
    # Slack escapes only &, < and >: a customer's *asterisks* do make bold there, as here.
    expect(out.locator("blockquote")).to_have_text("Router blinkt rot")
    expect(out.locator("blockquote b")).to_have_text("blinkt")
