"""Safety: personal data never goes out publicly, DMs both ways, trainees wait for a lead."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator

import pytest
from sqlmodel import select

from bot import logs
from bot.logs import RedactingFormatter
from bot.services import personal_data_detector
from standins.http import wait_for
from standins.slack_api import ANNA, BEN, LEAD, TOM, SlackStandIn
from standins.x_api import XStandIn
from store.db import session_scope
from store.models import Reply, TicketEvent
from tests.e2e.test_working_a_ticket import build_team, card_text, reply_in_modal, said
from tests.harness import BotHarness, make_settings

PHONE_TWEET = "@TelekomHilft mein Anschluss ist tot, ruft mich an: 0171 2345678"


def thread(slack: SlackStandIn, ticket: int = 1) -> str:
    return json.dumps(
        [m.blocks or m.text for m in slack.thread("CSUPPORT1", slack.card(ticket).ts)],
        ensure_ascii=False,
    )


def customer_with_phone(bot: BotHarness, x: XStandIn) -> dict[str, object]:
    karl = x.add_user("karl_k", "Karl Kunde")
    x.tweet(karl, PHONE_TWEET)
    bot.poll_and_deliver()
    return karl


def test_a_tweet_with_a_phone_number_is_flagged_and_offers_the_move_to_dm(
    bot: BotHarness, x: XStandIn, slack: SlackStandIn
) -> None:
    build_team(bot)
    customer_with_phone(bot, x)
    card = card_text(slack)
    assert "personal data in tweet" in card
    assert "Ask to delete, continue by DM" in card and "Answer by DM" in card

    answer = said(bot.click(ANNA, "ticket_ask_delete", "1", message_ts=slack.card(1).ts))
    assert "Asked the customer to delete the tweet" in answer
    [sent] = x.brand_tweets()
    assert "Bitte lösche deinen Tweet" in sent["text"] and sent["text"].endswith("^AS")


@pytest.mark.parametrize(
    ("reply", "named"),
    [
        ("Schreib uns an service.kunde@example.com", "e-mail address “service.kunde@example.com”"),
        ("Wir rufen dich unter 0171 2345678 zurück", "phone number “0171 2345678”"),
        ("Überweise auf DE89 3704 0044 0532 0130 00", "IBAN “DE89 3704 0044 0532 0130 00”"),
        ("Deine Kundennummer 1234567890 ist notiert", "customer/contract number"),
    ],
)
def test_a_public_reply_with_personal_data_is_refused_naming_it(
    bot: BotHarness, x: XStandIn, slack: SlackStandIn, reply: str, named: str
) -> None:
    build_team(bot)
    customer_with_phone(bot, x)
    answer = said(bot.slash(ANNA, "/reply", f"1 {reply}"))
    assert "contains personal data and would be public" in answer and named in answer
    assert "/dm 1" in answer
    assert x.brand_tweets() == []


def test_no_public_path_lets_personal_data_out(
    bot: BotHarness, x: XStandIn, slack: SlackStandIn
) -> None:
    build_team(bot)
    bot.slash(LEAD, "/team", f"add <@{TOM}|tom> trainee TT")
    bot.slash(LEAD, "/canned", "add hotline Ruf uns an: 0171 2345678")
    customer_with_phone(bot, x)
    assert "personal data" in said(bot.slash(ANNA, "/reply", "1 :hotline"))
    _, modal_answer = reply_in_modal(bot, slack, ANNA, "Mail: a.b@example.com", confirm=True)
    assert modal_answer is not None and "personal data" in modal_answer["errors"]["reply_text_0"]
    confirm_value = json.dumps({"ticket": 1, "body": "Mail an a.b@example.com", "canned": None})
    assert "personal data" in said(bot.click(ANNA, "reply_confirm", confirm_value))
    assert "personal data" in said(bot.slash(TOM, "/reply", "1 Ruf 0171 2345678 an"))
    assert (
        bot.bot.services.replies.send_automatic(ticket_id=1, body="0171 2345678").status == "failed"
    )
    assert x.brand_tweets() == []


def test_a_dm_may_carry_personal_data_and_the_customers_dm_answer_arrives_masked(
    bot: BotHarness, x: XStandIn, slack: SlackStandIn
) -> None:
    build_team(bot)
    karl = customer_with_phone(bot, x)
    assert "Sent to the customer as a DM" in said(
        bot.slash(ANNA, "/dm", "1 Hallo Karl, wir rufen 0171 2345678 an.")
    )
    [dm] = x.dms_to(str(karl["id"]))
    assert dm.text == "Hallo Karl, wir rufen 0171 2345678 an. ^AS"

    x.send_dm_to_brand(karl, "Danke! Meine Kundennummer ist 1234567890,\nMail karl@example.com")
    result = bot.bot.services.ingest.poll_dms()
    assert (result.joined, result.new_tickets, result.skipped) == (
        1,
        [],
        1,
    )  # our own DM is skipped
    bot.deliver()
    shown = thread(slack)
    assert (
        "answered as a DM" in shown
        and "0171 ••••678" in shown
        and "2345678" not in shown.replace("0171 2345678", "")
    )
    assert "DM from" in shown and "karl@example.com" not in shown and "1234567890" not in shown
    assert shown.count("reveal_message") == 2

    dm_message = next(
        m for m in slack.thread("CSUPPORT1", slack.card(1).ts) if "DM from" in json.dumps(m.blocks)
    )
    reveal = next(b["accessory"] for b in dm_message.blocks or [] if "accessory" in b)
    [revealed] = bot.click(BEN, "reveal_message", reveal["value"])
    assert revealed["response_type"] == "ephemeral"
    assert revealed["text"].endswith(
        "\n>Danke! Meine Kundennummer ist 1234567890,\n>Mail karl@example.com"
    )  # every line quoted
    with session_scope(bot.bot.engine) as session:
        [event] = session.exec(select(TicketEvent).where(TicketEvent.kind == "revealed")).all()
        assert event.actor == BEN and event.detail == f"message {reveal['value']}"


def test_a_dm_from_someone_new_opens_a_masked_dm_ticket(
    bot: BotHarness, x: XStandIn, slack: SlackStandIn
) -> None:
    build_team(bot)
    lisa = x.add_user("lisa_l", "Lisa Lustig")
    x.send_dm_to_brand(lisa, "Hallo, meine IBAN DE89 3704 0044 0532 0130 00 wurde doppelt belastet")
    assert bot.bot.services.ingest.poll_dms().new_tickets == [1]
    bot.deliver()
    card = card_text(slack)
    assert (
        "via direct message" in card
        and "DE89 3704 0044 0532 0130 00" not in card
        and "DE89" in card
    )
    assert "reveal_message" in card


def test_history_masks_dms_both_ways_and_only_a_recorded_reveal_shows_them(
    bot: BotHarness, x: XStandIn, slack: SlackStandIn
) -> None:
    # Issue 10: /history showed a customer's DM (an IBAN, a phone number) and an agent's
    # /dm in full to anyone on the team, with no Reveal and nothing recorded.
    build_team(bot)
    lisa = x.add_user("lisa_l", "Lisa Lustig")
    x.send_dm_to_brand(lisa, "Meine IBAN DE89 3704 0044 0532 0130 00, Tel. 0171 2345678")
    bot.bot.services.ingest.poll_dms()
    bot.deliver()
    assert "Sent to the customer as a DM" in said(
        bot.slash(ANNA, "/dm", "1 Wir rufen dich unter 0172 9876543 an.")
    )

    [answer] = bot.slash(BEN, "/history", "@lisa_l")
    shown = json.dumps(answer, ensure_ascii=False)
    assert "0532 0130" not in shown and "2345678" not in shown and "9876543" not in shown
    assert "DE89 ••••" in shown and "0172 ••••543" in shown
    reveals = [
        b["accessory"]["value"]
        for b in answer["blocks"]
        if b.get("accessory", {}).get("action_id") == "reveal_message"
    ]
    assert len(reveals) == 3  # the ticket's opening DM, and both DMs among the messages
    with session_scope(bot.bot.engine) as session:
        assert session.exec(select(TicketEvent).where(TicketEvent.kind == "revealed")).all() == []

    [revealed] = bot.click(BEN, "reveal_message", reveals[-1])
    assert "0172 9876543" in revealed["text"] or "0171 2345678" in revealed["text"]
    with session_scope(bot.bot.engine) as session:
        [event] = session.exec(select(TicketEvent).where(TicketEvent.kind == "revealed")).all()
        assert event.actor == BEN and event.detail == f"message {reveals[-1]}"


def test_a_customer_who_does_not_accept_dms_is_explained(
    bot: BotHarness, x: XStandIn, slack: SlackStandIn
) -> None:
    build_team(bot)
    karl = customer_with_phone(bot, x)
    x.state.no_dms_from_brand.add(str(karl["id"]))
    answer = said(bot.slash(ANNA, "/dm", "1 Hallo Karl"))
    assert "does not accept DMs from us" in answer and "Nothing was sent" in answer
    assert x.dms_to(str(karl["id"])) == []


def test_dm_polling_keeps_to_fifteen_reads_per_fifteen_minutes(
    bot: BotHarness, x: XStandIn
) -> None:
    for _ in range(20):
        bot.bot.services.ingest.poll_dms()
    assert len(x.calls_to("GET /2/dm_events")) == 15


def test_dm_polling_reads_only_new_events_and_survives_a_rate_limit(
    bot: BotHarness, x: XStandIn
) -> None:
    karl = x.add_user("karl_k")
    x.send_dm_to_brand(karl, "eins")
    assert bot.bot.services.ingest.poll_dms().new_tickets == [1]
    x.fail_next(
        "GET /2/dm_events",
        status=429,
        body={
            "title": "Too Many Requests",
            "status": 429,
            "detail": "Too Many Requests",
            "type": "about:blank",
        },
        headers={"x-rate-limit-reset": "2000000000"},
    )
    assert bot.bot.services.ingest.poll_dms().fetched == 0
    assert bot.bot.services.ingest.poll_dms().fetched == 0  # waits for the reset, no call
    assert len(x.calls_to("GET /2/dm_events")) == 2


def test_a_keyword_card_offers_a_dm_and_unsummoned_replies_can_be_allowed(
    database_url: str, slack: SlackStandIn, x: XStandIn
) -> None:
    settings = make_settings(
        database_url, slack, x, x_keyword_queries="telekom störung", x_allow_unsummoned_replies=True
    )
    bot = BotHarness(settings, slack, x)
    try:
        build_team(bot)
        x.restrict_unsummoned_replies = False  # an X tier that allows it
        x.tweet(x.add_user("carla"), "telekom störung in Köln")
        bot.poll_and_deliver()
        assert "Answer by DM" in card_text(slack) and "did not mention us" in card_text(slack)
        assert "Sent to the customer on X" in said(bot.slash(ANNA, "/reply", "1 Wir schauen nach!"))
    finally:
        bot.close()


def test_a_trainees_reply_waits_for_a_lead(
    bot: BotHarness, x: XStandIn, slack: SlackStandIn
) -> None:
    build_team(bot)
    bot.slash(LEAD, "/team", f"add <@{TOM}|tom> trainee TT")
    customer_with_phone(bot, x)
    assert "waits in the thread for a lead's approval" in said(
        bot.slash(TOM, "/reply", "1 Wir kümmern uns sofort!")
    )
    assert x.brand_tweets() == []
    bot.deliver()
    assert "wrote a reply; a lead approves it" in thread(slack)
    approval = next(
        m for m in slack.thread("CSUPPORT1", slack.card(1).ts) if "Approve" in json.dumps(m.blocks)
    )
    reply_id = approval.blocks[-1]["elements"][0]["value"]  # type: ignore[index]

    assert "Only team leads" in said(bot.click(ANNA, "reply_approve", reply_id))
    assert x.brand_tweets() == []
    bot.click(LEAD, "reply_approve", reply_id, wait=False)
    # The button answers at once; sending and recording happen after, in the background.
    bot.deliver_until(lambda: f"(approved by <@{LEAD}>)" in thread(slack))
    assert [t["text"] for t in x.brand_tweets()] == ["@karl_k Wir kümmern uns sofort! ^TT"]
    assert f"<@{LEAD}> approved <@{TOM}>'s reply" in thread(slack)  # the request, updated
    assert f"(approved by <@{LEAD}>)" in thread(slack)
    assert "decided already" in said(bot.click(LEAD, "reply_approve", reply_id))
    assert len(x.brand_tweets()) == 1


def test_a_trainee_who_answers_an_unclaimed_ticket_owns_it_on_the_card_at_once(
    bot: BotHarness, x: XStandIn, slack: SlackStandIn
) -> None:
    build_team(bot)
    bot.slash(LEAD, "/team", f"add <@{TOM}|tom> trainee TT")
    customer_with_phone(bot, x)

    bot.slash(TOM, "/reply", "1 Wir kümmern uns sofort!")  # waits for a lead's approval
    bot.deliver()

    assert f"<@{TOM}>" in card_text(slack) and "nobody yet" not in card_text(slack)
    assert "already claimed by" in said(bot.slash(ANNA, "/claim", "1"))


def test_a_lead_returns_a_trainees_reply_with_a_comment(
    bot: BotHarness, x: XStandIn, slack: SlackStandIn
) -> None:
    build_team(bot)
    bot.slash(LEAD, "/team", f"add <@{TOM}|tom> trainee TT")
    customer_with_phone(bot, x)
    bot.slash(TOM, "/reply", "1 jo, machen wir")
    bot.deliver()
    approval = next(
        m for m in slack.thread("CSUPPORT1", slack.card(1).ts) if "Approve" in json.dumps(m.blocks)
    )
    reply_id = approval.blocks[-1]["elements"][1]["value"]  # type: ignore[index]
    bot.click(LEAD, "reply_reject", reply_id, wait=False)
    modal = wait_for(lambda: bot.open_views() and bot.open_views()[-1])
    _, answer = bot.submit_view(LEAD, modal, {"note": {"note": {"value": ""}}})
    assert answer is not None and "Say what should change" in answer["errors"]["note"]
    _, answer = bot.submit_view(
        LEAD, modal, {"note": {"note": {"value": "Bitte freundlicher und mit Zeitangabe."}}}
    )
    assert answer is None
    bot.deliver_until(lambda: "returned your reply" in thread(slack))
    assert "Bitte freundlicher und mit Zeitangabe." in thread(slack)
    assert x.brand_tweets() == []
    with session_scope(bot.bot.engine) as session:
        kinds = [e.kind for e in session.exec(select(TicketEvent))]
        [returned] = session.exec(select(Reply))
    assert "reply_drafted" in kinds and "reply_rejected" in kinds
    assert (returned.state, returned.error) == (
        "rejected",
        "Bitte freundlicher und mit Zeitangabe.",
    )


def test_log_lines_never_carry_personal_data_or_secrets(bot: BotHarness) -> None:
    formatter = RedactingFormatter(
        ["xoxb-test-bot-token"], json_lines=False, mask=personal_data_detector(bot.settings).mask
    )
    record = logging.LogRecord(
        "t",
        logging.INFO,
        __file__,
        1,
        "customer %s wrote %s with %s",
        ("karl", PHONE_TWEET, "xoxb-test-bot-token"),
        None,
    )
    line = formatter.format(record)
    assert "2345678" not in line and "0171 ••••678" in line and "xoxb-test-bot-token" not in line


@pytest.fixture
def restored_logging() -> Iterator[None]:
    """Logging as it was before the test set it up as `python app.py` does."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    quiet = {name: logging.getLogger(name).level for name in logs._QUIET}
    yield
    for handler in list(root.handlers):
        root.removeHandler(handler)
    for handler in handlers:
        root.addHandler(handler)
    root.setLevel(level)
    for name, quiet_level in quiet.items():
        logging.getLogger(name).setLevel(quiet_level)


@pytest.mark.parametrize("fmt", ["text", "json"])
def test_debug_logs_mask_personal_data_that_slack_sdk_writes_as_json_escapes(
    fmt: str,
    bot: BotHarness,
    x: XStandIn,
    slack: SlackStandIn,
    capsys: pytest.CaptureFixture[str],
    restored_logging: None,
) -> None:
    # Issue 10: with LOG_LEVEL=DEBUG slack_sdk logs what it sends and what Slack answers,
    # JSON-encoded: “0171 2345678” becomes \u201c0171 2345678\u201d, and the letters of
    # the escape hid the number (and an IBAN beside one) from the mask.
    logs.configure(
        level="DEBUG",
        fmt=fmt,
        secrets=bot.settings.secrets(),
        mask=personal_data_detector(bot.settings).mask,
    )
    karl = x.add_user("karl_k", "Karl Kunde")
    x.mention(karl, "Ruft an: “0171 2345678”, IBAN “DE89 3704 0044 0532 0130 00”")
    bot.poll_and_deliver()
    assert len(slack.cards()) == 1

    written = capsys.readouterr().err
    assert "2345678" not in written and "0044 0532" not in written
    assert "xoxb-test-bot-token" not in written
    if fmt == "json":  # every line is one JSON object; its message is what was logged
        written = "\n".join(json.loads(line)["message"] for line in written.splitlines())
    assert "chat.postMessage" in written and "\\u201c0171 ••••678\\u201d" in written


def test_the_teams_own_hotline_may_be_given_publicly(
    database_url: str, slack: SlackStandIn, x: XStandIn
) -> None:
    settings = make_settings(
        database_url, slack, x, public_contact_data="0800 330 1000;hilfe@telekom.de"
    )
    bot = BotHarness(settings, slack, x)
    try:
        build_team(bot)
        customer_with_phone(bot, x)
        refused = said(
            bot.slash(ANNA, "/reply", "1 Ruf 0800 330 1000 an oder schreib an anna@example.com")
        )
        assert (
            "e-mail address “anna@example.com”" in refused
            and "0800" not in refused.split("public:")[1]
        )
        assert "Sent" in said(
            bot.slash(ANNA, "/reply", "1 Ruf uns an: +49 800 330 1000 oder hilfe@telekom.de")
        )
        assert len(x.brand_tweets()) == 1
    finally:
        bot.close()


def test_the_default_contract_patterns_know_the_usual_german_forms() -> None:
    from bot.config import DEFAULT_CONTRACT_NUMBER_PATTERNS
    from bot.pii import PiiDetector

    detector = PiiDetector(contract_patterns=DEFAULT_CONTRACT_NUMBER_PATTERNS.split(";"))
    for text in (
        "Kd-Nr. 12345678",
        "Kundennummer 123456789",
        "Vertragsnr.: 1234567890",
        "Buchungskonto 123-456-7890",
    ):
        assert [f.kind for f in detector.find(text)] == ["contract"], text
    [found] = detector.find("Kundennummer 123456789 und 0171 2345678")[:1]
    assert found.text == "Kundennummer 123456789"
