"""Bad input, end to end (issue 7): every kind gets a clear answer and changes nothing.

Requests that are not Slack's or too large to read; modals the bot never opened;
oversized and odd text from agents and customers; broken answers from X; Slack's
retries. After each, the database, the Slack channel and X are exactly as they were,
unless the input was legitimate and the row says what it did. Requests from another
workspace, for things the bot does not have, commands typed wrong and buttons the bot
never made are parser and refusal cases, run in-process by tests/handlers/.
"""

from __future__ import annotations

import http.client
import json
import logging
import re
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import pytest
from sqlalchemy import Engine
from sqlmodel import col, select

from bot.replies import ReplyContext
from handlers.blocks.followups import escalate_modal, followup_modal
from handlers.blocks.replies import dm_modal, reject_modal, reply_modal
from standins.http import wait_for
from standins.signing import FORM, post, sign
from standins.slack_api import (
    ANNA,
    BEN,
    LEAD,
    SECTION_TEXT_LIMIT,
    SlackStandIn,
    block_kit_problem,
)
from standins.x_api import XStandIn
from store import cursors
from store.db import session_scope
from store.models import Channel, Customer, Direction, Message
from tests.conftest import requires_postgres
from tests.e2e.test_working_a_ticket import build_team, card_text, open_ticket, said
from tests.harness import BotHarness, World, command, make_settings, world

CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
BIG = "Leitung gestört " * 3125  # 50,000 characters
# What people paste: every one of these must come through whole or be refused clearly.
ODD = {
    "zero-width characters": "Hal\u200blo\u200c We\u200dlt",
    "a right-to-left override": "Rechnung \u202efdp.exe\u202c bitte prüfen",
    "combining marks": "Z\u0351\u0352a\u0300\u0301lgo und Cafe\u0301",
    "emoji ZWJ sequences": "Familie 👩\u200d👩\u200d👧\u200d👦 und 🏳️\u200d🌈 👍🏽",
    "NUL and control characters": "a\x00b\x01c\x07d\x1b[31me\x7ff\tg",
    "Slack's own markup": "<!channel> <!here|here> <@U0LEAD> <http://evil.example|x.de> &amp;",
}


# -- what "nothing changed" means (World, world: tests/harness.py) --------------------------


@pytest.fixture
def working(bot: BotHarness, x: XStandIn) -> World:
    """A team (Lena leads, Anna and Ben) and Karl's ticket #1 on its card: the world before."""
    build_team(bot)
    open_ticket(bot, x)
    return world(bot)


def sections(message_blocks: list[dict[str, Any]] | None) -> list[str]:
    return [
        block["text"]["text"]
        for block in message_blocks or []
        if isinstance(block.get("text"), dict) and "text" in block["text"]
    ]


def everything_posted(slack: SlackStandIn, channel: str) -> list[Any]:
    """Every message in a channel and its threads."""
    top = slack.messages(channel)
    return top + [reply for message in top for reply in slack.thread(channel, message.ts)]


def assert_within_slacks_limits(slack: SlackStandIn) -> None:
    for message in everything_posted(slack, "CSUPPORT1") + everything_posted(slack, "CESCALATE"):
        assert all(len(text) <= SECTION_TEXT_LIMIT for text in sections(message.blocks))
        assert len(message.text) <= 40_000  # Slack cuts longer message texts


# -- 1. Requests that are not Slack's: 401 ---------------------------------------------------

Forgery = Callable[[BotHarness, bytes], tuple[int, bytes]]


def unsigned(bot: BotHarness, body: bytes, **headers: str) -> tuple[int, bytes]:
    return post(f"{bot.url}/slack/events", body, {"Content-Type": FORM, **headers})


def with_headers(change: Callable[[dict[str, str]], object]) -> Forgery:
    def send(bot: BotHarness, body: bytes) -> tuple[int, bytes]:
        headers = sign(body)
        change(headers)
        return unsigned(bot, body, **headers)

    return send


def altered_after_signing(bot: BotHarness, body: bytes) -> tuple[int, bytes]:
    headers = sign(body)
    return unsigned(bot, body.replace(b"text=1", b"text=2"), **headers)


NOT_FROM_SLACK = [
    pytest.param(
        lambda bot, body: bot.request(body, FORM, secret="not-our-secret"), id="another secret"
    ),
    pytest.param(
        lambda bot, body: bot.request(body, FORM, timestamp=int(time.time()) - 6 * 60),
        id="signed more than five minutes ago",
    ),
    pytest.param(
        lambda bot, body: bot.request(body, FORM, timestamp=int(time.time()) + 6 * 60),
        id="signed more than five minutes ahead",
    ),
    pytest.param(unsigned, id="no signature headers"),
    pytest.param(
        with_headers(lambda h: h.pop("X-Slack-Signature")), id="a timestamp but no signature"
    ),
    pytest.param(
        with_headers(lambda h: h.pop("X-Slack-Request-Timestamp")),
        id="a signature but no timestamp",
    ),
    pytest.param(
        with_headers(lambda h: h.update({"X-Slack-Signature": h["X-Slack-Signature"][:-1]})),
        id="a signature cut short",
    ),
    pytest.param(
        with_headers(
            lambda h: h.update({"X-Slack-Signature": h["X-Slack-Signature"].replace("v0", "v1")})
        ),
        id="a signature of another version",
    ),
    pytest.param(altered_after_signing, id="the body changed after signing"),
    pytest.param(
        with_headers(lambda h: h.update({"X-Slack-Request-Timestamp": "soon"})),
        id="a timestamp that is no number",
    ),
    pytest.param(
        lambda bot, body: unsigned(bot, b"\xff\xfe" + body),
        id="an unsigned body that is not UTF-8",
    ),
    pytest.param(
        lambda bot, body: post(
            f"{bot.url}/slack/events", b"{not json", {"Content-Type": "application/json"}
        ),
        id="an unsigned body that is not JSON",
    ),
]


# -- Modals the bot never opened: their private_metadata is not the bot's ------------------

NOT_OUR_MODAL = "This form does not belong to a ticket; open it again from the card."
FORGED_METADATA = [
    pytest.param("", id="none"),
    pytest.param("ticket=1", id="not JSON"),
    pytest.param("[1]", id="a list"),
    pytest.param("{}", id="no number"),
    pytest.param('{"ticket": "1", "reply": "1"}', id="a number as text"),
    pytest.param('{"ticket": true, "reply": true}', id="a number as true"),
    pytest.param('{"ticket": 1.0, "reply": 1.0}', id="a number with a fraction"),
    pytest.param('{"ticket": -1, "reply": -1}', id="a negative number"),
    pytest.param('{"ticket": 1e30, "reply": 1e30}', id="a number beyond a BIGINT"),
]


def typed_into(block: str, action: str, text: str) -> dict[str, Any]:
    return {block: {action: {"type": "plain_text_input", "value": text}}}


REPLY_CONTEXT = ReplyContext(
    ticket_id=1, handle="karl_k", tweet="Hallo", signature=" ^LL", canned=[], suggested=[]
)
MODALS_OF_TICKET_1 = [
    pytest.param(
        reply_modal(REPLY_CONTEXT),
        "reply_text_0",
        typed_into("reply_text_0", "text", "Wir kümmern uns!"),
        id="reply",
    ),
    pytest.param(followup_modal(1), "when", typed_into("when", "when", "2h"), id="follow-up"),
    pytest.param(
        escalate_modal(1), "reason", typed_into("reason", "reason", "Großstörung"), id="escalate"
    ),
    pytest.param(
        dm_modal(ticket_id=1, handle="karl_k", signature=" ^LL"),
        "dm_text",
        typed_into("dm_text", "text", "Schreib uns hier."),
        id="DM",
    ),
    pytest.param(reject_modal(1), "note", typed_into("note", "note", "Freundlicher"), id="return"),
]


# -- One desk for all of them: each is answered, none changes anything -----------------------


@dataclass(frozen=True)
class Desk:
    """The bot with its team and ticket #1, and its world before the bad requests."""

    bot: BotHarness
    slack: SlackStandIn
    before: World


@pytest.fixture(scope="class")
def desk(
    tmp_path_factory: pytest.TempPathFactory, slack_server: SlackStandIn, x_server: XStandIn
) -> Iterator[Desk]:
    """One bot for a whole class of bad requests: as none may change anything, each one
    is checked against the same world, and the table runs in seconds, not minutes."""
    slack_server.reset()
    x_server.reset()
    database = tmp_path_factory.mktemp("desk") / "servicekanal.db"
    bot = BotHarness(
        make_settings(f"sqlite:///{database}", slack_server, x_server), slack_server, x_server
    )
    build_team(bot)
    open_ticket(bot, x_server)
    yield Desk(bot, slack_server, world(bot))
    bot.close()


class TestBadRequestsChangeNothing:
    """Requests that are not Slack's, too large to read, or modals the bot never opened.

    Foreign, unknown and mistyped requests, text too long to go anywhere and buttons the
    bot never made are handler tests, in-process (tests/handlers/).
    """

    @pytest.mark.parametrize("send", NOT_FROM_SLACK)
    def test_a_request_not_signed_by_slack_is_refused_with_401(
        self, send: Forgery, desk: Desk
    ) -> None:
        status, _ = send(desk.bot, command(desk.slack, ANNA, "/claim", "1"))

        assert status == 401
        assert world(desk.bot) == desk.before
        assert "nobody yet" in card_text(desk.slack)

    @pytest.mark.parametrize(
        ("body", "content_type"),
        [(b"{not json", "application/json"), (b"payload=%7Bnot+json", FORM)],
        ids=["a JSON event", "a form with a payload"],
    )
    def test_a_signed_request_that_is_not_what_slack_sends_gets_400(
        self, body: bytes, content_type: str, desk: Desk
    ) -> None:
        status, _ = desk.bot.request(body, content_type)

        assert status == 400
        assert world(desk.bot) == desk.before

    def test_a_request_announcing_more_than_a_megabyte_is_refused_unread(self, desk: Desk) -> None:
        url = urlsplit(desk.bot.url)
        connection = http.client.HTTPConnection(url.hostname or "", url.port, timeout=10)
        connection.putrequest("POST", "/slack/events")
        connection.putheader("Content-Type", FORM)
        connection.putheader("Content-Length", str(2 * 1024 * 1024))
        connection.endheaders()  # and not one byte of the body

        assert connection.getresponse().status == 413
        connection.close()
        assert world(desk.bot) == desk.before

    @pytest.mark.parametrize("metadata", FORGED_METADATA)
    @pytest.mark.parametrize(("view", "first_field", "values"), MODALS_OF_TICKET_1)
    def test_a_modal_whose_private_metadata_the_bot_never_wrote_is_refused_in_the_modal(
        self,
        view: dict[str, Any],
        first_field: str,
        values: dict[str, Any],
        metadata: str,
        desk: Desk,
        caplog: pytest.LogCaptureFixture,
    ) -> None:
        """Issue 11: these got a 500, and a traceback in the log."""
        forged = {**view, "id": "V0FORGED", "hash": "1.forged", "private_metadata": metadata}

        with caplog.at_level(logging.ERROR):
            status, answer = desk.bot.submit_view(LEAD, forged, values)

        assert status == 200
        assert answer == {"response_action": "errors", "errors": {first_field: NOT_OUR_MODAL}}
        assert not [record for record in caplog.records if record.levelno >= logging.ERROR]
        assert world(desk.bot) == desk.before


# -- 5. Oversized and odd text where it may go -----------------------------------------------


@pytest.mark.parametrize(
    ("name", "text", "answer"),
    [
        ("/escalate", f"1 {BIG}", "#1 is escalated"),
        ("/followup", f"1 2h {BIG}", "Follow-up for #1 recorded"),
    ],
    ids=["escalate", "followup"],
)
def test_50000_characters_where_they_may_go_are_cut_to_slacks_limits(
    name: str, text: str, answer: str, bot: BotHarness, slack: SlackStandIn, working: World
) -> None:
    assert answer in said(bot.slash(ANNA, name, text))
    bot.deliver()

    assert world(bot).slack_changes > working.slack_changes  # it went out, in one piece
    assert_within_slacks_limits(slack)


def test_a_note_of_50000_characters_is_kept_whole_and_shown_within_slacks_limits(
    bot: BotHarness, slack: SlackStandIn, working: World
) -> None:
    assert "Noted in #1's thread" in said(bot.slash(ANNA, "/note", f"1 {BIG}"))
    bot.deliver()

    [note] = slack.thread("CSUPPORT1", slack.card(1).ts)
    assert "Leitung gestört" in sections(note.blocks)[0]
    assert_within_slacks_limits(slack)
    with session_scope(bot.bot.engine) as session:
        [stored] = session.exec(select(Message).where(Message.direction == Direction.NOTE))
        assert stored.text == BIG.strip()


@pytest.mark.parametrize("odd", ODD.values(), ids=ODD.keys())
def test_an_odd_note_is_stored_as_typed_and_shown_in_the_thread(
    odd: str, bot: BotHarness, slack: SlackStandIn, working: World
) -> None:
    assert "Noted in #1's thread" in said(bot.slash(ANNA, "/note", f"1 {odd}"))
    bot.deliver()

    # Agents are trusted: shown as typed, only control characters (which PostgreSQL
    # cannot store and nobody can see) are dropped.
    typed = CONTROL.sub("", odd).strip()
    [note] = slack.thread("CSUPPORT1", slack.card(1).ts)
    assert typed in sections(note.blocks)[0]
    with session_scope(bot.bot.engine) as session:
        [stored] = session.exec(select(Message).where(Message.direction == Direction.NOTE))
        assert stored.text == typed


@pytest.mark.parametrize(
    "odd",
    [
        ODD["zero-width characters"],
        ODD["a right-to-left override"],
        ODD["combining marks"],
        ODD["emoji ZWJ sequences"],
    ],
    ids=list(ODD)[:4],
)
def test_a_reply_with_odd_characters_goes_out_exactly_as_typed(
    odd: str, bot: BotHarness, x: XStandIn, working: World
) -> None:
    answer = said(bot.slash(ANNA, "/reply", f"1 {odd}"))

    assert "Sent to the customer on X" in answer
    assert [t["text"] for t in x.brand_tweets()] == [f"@karl_k {odd} ^AS"]
    assert len(x.calls_to("POST /2/tweets")) == 1  # nothing X had to refuse


def test_a_reply_with_a_character_x_refuses_is_not_sent_and_says_which(
    bot: BotHarness, x: XStandIn, working: World
) -> None:
    answer = said(bot.slash(ANNA, "/reply", "1 Hallo\ufeff Karl"))

    assert "X does not accept these characters in a post: U+FEFF ZERO WIDTH NO-BREAK SPACE" in (
        answer
    )
    assert x.calls_to("POST /2/tweets") == []


def shown_tweet(card_blocks: list[dict[str, Any]]) -> str:
    """The customer's words as people read them on the card (the quote, unescaped)."""
    quoted = sections(card_blocks)[2]
    lines = [line.removeprefix(">") for line in quoted.split("\n")]
    return "\n".join(lines).replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


# How the card shows each: whole and inert, invisible characters as visible marks (issue 10).
SHOWN = {
    "zero-width characters": "Hal⟨U+200B⟩lo⟨U+200C⟩ We⟨U+200D⟩lt",
    "a right-to-left override": "Rechnung ⟨U+202E⟩fdp.exe⟨U+202C⟩ bitte prüfen",
    "combining marks": ODD["combining marks"],
    "emoji ZWJ sequences": ODD["emoji ZWJ sequences"],  # joiners inside emoji stay
    "NUL and control characters": CONTROL.sub("", ODD["NUL and control characters"]),
    "Slack's own markup": ODD["Slack's own markup"],
}


@pytest.mark.parametrize(("odd", "shown"), [(ODD[k], SHOWN[k]) for k in ODD], ids=ODD.keys())
def test_a_customer_tweet_with_odd_characters_is_shown_whole_inert_and_within_limits(
    odd: str, shown: str, bot: BotHarness, x: XStandIn, slack: SlackStandIn
) -> None:
    tweet = open_ticket(bot, x, odd)

    card = slack.card(1)
    assert card.blocks is not None
    everything = json.dumps([card.text, card.blocks], ensure_ascii=False)
    assert "<!channel>" not in everything and "<!here" not in everything
    assert "<@U0LEAD>" not in everything and "<http://evil.example" not in everything
    assert not CONTROL.search(card.text + "".join(sections(card.blocks)))
    assert shown_tweet(card.blocks) == CONTROL.sub("", tweet["text"]).replace(
        CONTROL.sub("", odd), shown
    )
    with session_scope(bot.bot.engine) as session:
        [stored] = session.exec(select(Message))
    assert stored.text == CONTROL.sub("", tweet["text"])  # the original, as the customer wrote
    assert card.blocks[-1]["type"] == "actions"  # the card kept its buttons
    assert_within_slacks_limits(slack)


def test_invisible_characters_in_a_customers_name_and_tweets_are_shown_as_marks(
    bot: BotHarness, x: XStandIn, slack: SlackStandIn
) -> None:
    # Issue 10: a right-to-left override turned "Karl" into what reads as another name and
    # a number into its mirror image; zero-width spaces made two names look alike.
    karl = x.add_user("karl_k", "Karl\u202e\u200b Kunde\u2066")
    x.mention(karl, "Meine Kundennummer ist \u202e4321 8765\u202c, bitte prüfen \u200d")
    x.mention(karl, "Noch da? \ufeff\u2067Hallo\u2069 👩\u200d💻")
    bot.poll_and_deliver()

    card, [later] = slack.card(1), slack.thread("CSUPPORT1", slack.card(1).ts)
    shown = json.dumps([card.text, card.blocks, later.text, later.blocks], ensure_ascii=False)
    assert "*Karl⟨U+202E⟩⟨U+200B⟩ Kunde⟨U+2066⟩*" in shown
    assert "ist ⟨U+202E⟩4321 8765⟨U+202C⟩, bitte prüfen ⟨U+200D⟩" in shown
    assert "Noch da? ⟨U+FEFF⟩⟨U+2067⟩Hallo⟨U+2069⟩ 👩\u200d💻" in shown  # an emoji stays one
    for invisible in "\u202e\u200b\u2066\u202c\ufeff\u2067\u2069":
        assert invisible not in shown
    with session_scope(bot.bot.engine) as session:
        texts = [m.text for m in session.exec(select(Message).order_by(col(Message.id)))]
        [customer] = session.exec(select(Customer))
    assert texts[0].endswith("Meine Kundennummer ist \u202e4321 8765\u202c, bitte prüfen \u200d")
    assert customer.name == "Karl\u202e\u200b Kunde\u2066"  # stored as X sent it


def test_answer_by_dm_opens_within_slacks_limits_for_a_customer_with_a_very_long_name(
    bot: BotHarness, x: XStandIn, slack: SlackStandIn
) -> None:
    # Issue 10: the modal's prefilled opener ("Hallo {name}, …") passed Slack's 3,000
    # characters, so Slack refused the modal and the button did nothing.
    build_team(bot)
    x.add_user("karl_k", "Karl " * 1000)  # X allows 50; a broken answer sends more
    open_ticket(bot, x, "Meine IBAN ist DE89 3704 0044 0532 0130 00")

    bot.click(ANNA, "ticket_dm", "1", message_ts=slack.card(1).ts, wait=False)
    [view] = wait_for(lambda: bot.open_views(), timeout=5)

    [field] = [b["element"] for b in view["blocks"] if b["type"] == "input"]
    assert field["initial_value"].startswith("Hallo Karl Karl")
    assert len(field["initial_value"]) <= min(3000, field["max_length"])
    assert block_kit_problem(view) is None


def test_a_dm_of_many_short_lines_still_gets_a_card_with_buttons(
    bot: BotHarness, x: XStandIn, slack: SlackStandIn
) -> None:
    x.send_dm_to_brand(x.add_user("karl_k", "Karl Kunde"), "Zeile\n" * 1500)
    bot.bot.services.ingest.poll_dms()
    bot.deliver()

    card = slack.card(1)
    assert card.blocks is not None and card.blocks[-1]["type"] == "actions"
    assert_within_slacks_limits(slack)


def test_a_username_x_would_never_allow_cannot_ping_the_channel(
    bot: BotHarness, x: XStandIn, slack: SlackStandIn
) -> None:
    x.mention(x.add_user("k><!channel><https://evil.example", "Karl"), "Hallo")
    bot.poll_and_deliver()

    card = slack.card(1)
    assert "<!channel>" not in json.dumps([card.text, card.blocks])


@requires_postgres
def test_a_tweet_with_a_nul_character_does_not_stop_ingest_on_postgresql(
    pg_engine: Engine, slack: SlackStandIn, x: XStandIn
) -> None:
    settings = make_settings(pg_engine.url.render_as_string(hide_password=False), slack, x)
    bot = BotHarness(settings, slack, x)
    try:
        karl = x.add_user("karl_k", "Karl Kunde")
        x.mention(karl, "Router zeigt a\x00b an")
        x.mention(karl, "Und jetzt geht gar nichts mehr")
        bot.poll_and_deliver()
        assert len(slack.cards()) == 1
        assert len(slack.thread("CSUPPORT1", slack.card(1).ts)) == 1
    finally:
        bot.close()


@requires_postgres
@pytest.mark.parametrize(
    "author",
    [{"name": "N" * 300}, {"followers": 2**40}],
    ids=["a name longer than the column", "more followers than an int4 holds"],
)
def test_an_author_x_describes_out_of_bounds_does_not_stop_ingest_on_postgresql(
    author: dict[str, Any], pg_engine: Engine, slack: SlackStandIn, x: XStandIn
) -> None:
    settings = make_settings(pg_engine.url.render_as_string(hide_password=False), slack, x)
    bot = BotHarness(settings, slack, x)
    try:
        karl = x.add_user("karl_k", **{"name": "Karl Kunde", **author})
        tweet = x.mention(karl, "Mein DSL ist weg")
        bot.poll_and_deliver()
        assert stored(bot, Channel.TWEET) == [tweet["id"]]
        assert len(slack.cards()) == 1
    finally:
        bot.close()


@requires_postgres
def test_a_language_with_a_nul_character_does_not_stop_ingest_on_postgresql(
    pg_engine: Engine, slack: SlackStandIn, x: XStandIn
) -> None:
    settings = make_settings(pg_engine.url.render_as_string(hide_password=False), slack, x)
    bot = BotHarness(settings, slack, x)
    try:
        karl = x.add_user("karl_k", "Karl Kunde")
        tweet = x.mention(karl, "Mein DSL ist weg")
        x.fail_next(
            "GET /2/users/:id/mentions",
            status=200,
            body=page(shown(tweet, lang="d\x00e"), users=[karl]),
        )
        bot.poll()
        assert stored(bot, Channel.TWEET) == [tweet["id"]]
    finally:
        bot.close()


# -- 6. Broken answers from X: the poll goes on, what can be read is stored, nothing lost ----


class MovableClock:
    """Real time, which a test moves on past X back-offs instead of sleeping."""

    def __init__(self) -> None:
        self.ahead = timedelta()

    def __call__(self) -> datetime:
        return datetime.now(UTC) + self.ahead

    def move_on(self, **delta: float) -> None:
        self.ahead += timedelta(**delta)


@dataclass
class Polling:
    bot: BotHarness
    clock: MovableClock


@pytest.fixture
def polling(database_url: str, slack: SlackStandIn, x: XStandIn) -> Iterator[Polling]:
    clock = MovableClock()
    harness = BotHarness(make_settings(database_url, slack, x), slack, x, clock=clock)
    yield Polling(harness, clock)
    harness.close()


def stored(bot: BotHarness, channel: Channel) -> list[str]:
    """The X ids of the customer messages stored, oldest first (duplicates would show)."""
    with session_scope(bot.bot.engine) as session:
        return sorted(
            (
                m.external_id or ""
                for m in session.exec(
                    select(Message).where(
                        Message.channel == channel, Message.direction == Direction.IN
                    )
                )
            ),
            key=int,
        )


def shown(tweet: dict[str, Any], **change: Any) -> dict[str, Any]:
    """A tweet as X puts it into a page, with some fields changed (None: left out)."""
    fields = {k: v for k, v in tweet.items() if not k.startswith("_")}
    fields.update(change)
    return {k: v for k, v in fields.items() if v is not None}


def page(*tweets: Any, newest: str | None = None, users: Any = None, **rest: Any) -> dict[str, Any]:
    """A page of mentions as X sends it: data, includes.users, meta."""
    body: dict[str, Any] = {"data": list(tweets), **rest}
    if users is not None:
        body["includes"] = {"users": users}
    body.setdefault(
        "meta", {"result_count": len(tweets), **({"newest_id": newest} if newest else {})}
    )
    return body


def broken(fault: Callable[..., dict[str, Any]], readable: str, name: str) -> Any:
    """A row: how X's answer is broken, and which tweets in it can still be read."""
    return pytest.param(fault, readable, id=name)


BROKEN_MENTIONS = [
    broken(lambda old, new, karl: {"malformed": True}, "", "an answer that is not JSON"),
    broken(lambda old, new, karl: {"status": 200, "body": ""}, "", "an empty answer"),
    broken(
        lambda old, new, karl: {"status": 200, "body": {"meta": {"result_count": 0}}},
        "",
        "JSON without data",
    ),
    broken(
        lambda old, new, karl: {
            "status": 200,
            "body": {"meta": {"result_count": 2, "newest_id": new["id"]}},
        },
        "",
        "JSON without data but with newest_id",
    ),
    broken(
        lambda old, new, karl: {
            "status": 200,
            "body": page(shown(new, id=None), shown(old), users=[karl], newest=new["id"]),
        },
        "old",
        "a tweet without id",
    ),
    broken(
        lambda old, new, karl: {
            "status": 200,
            "body": page(shown(new, text=None), shown(old), users=[karl], newest=new["id"]),
        },
        "old",
        "a tweet without text",
    ),
    broken(
        lambda old, new, karl: {
            "status": 200,
            "body": page(shown(new, author_id=None), shown(old), users=[karl], newest=new["id"]),
        },
        "old",
        "a tweet without author_id",
    ),
    broken(
        lambda old, new, karl: {
            "status": 200,
            "body": page(shown(new), shown(old), newest=new["id"]),
        },
        "old new",
        "no includes.users",
    ),
    broken(
        lambda old, new, karl: {
            "status": 200,
            "body": page(shown(new), shown(old), users=[{"id": "1", "username": "x"}]),
        },
        "old new",
        "includes.users without the author",
    ),
    broken(
        lambda old, new, karl: {
            "status": 200,
            "body": page(
                shown(new), shown(old, entities=[1], referenced_tweets="x"), newest=new["id"]
            ),
        },
        "old new",
        "entities and references of the wrong type",
    ),
    broken(
        lambda old, new, karl: {
            "status": 200,
            "body": page(
                shown(new, referenced_tweets=[{"type": ["replied_to"], "id": old["id"]}]),
                shown(old),
                users=[karl],
            ),
        },
        "old new",
        "a reference whose type is a list",
    ),
    broken(
        lambda old, new, karl: {
            "status": 200,
            "body": {"data": shown(new), "meta": {"newest_id": new["id"]}},
        },
        "",
        "data is an object",
    ),
    broken(
        lambda old, new, karl: {"status": 200, "body": {"data": 2, "meta": {}}},
        "",
        "data is a number",
    ),
    broken(
        lambda old, new, karl: {
            "status": 200,
            "body": page(shown(new), shown(old), includes=["karl_k"]),
        },
        "old new",
        "includes is a list",
    ),
    broken(
        lambda old, new, karl: {
            "status": 200,
            "body": page(shown(new), shown(old), users=["karl_k"]),
        },
        "old new",
        "a user is a string",
    ),
    broken(
        lambda old, new, karl: {"status": 200, "body": page(shown(new), shown(old), meta="x")},
        "old new",
        "meta is a string",
    ),
    broken(
        lambda old, new, karl: {
            "status": 200,
            "body": page(shown(new, id="zwei"), shown(old), users=[karl]),
        },
        "old",
        "an id that is not a number",
    ),
]


@pytest.mark.parametrize(("fault", "readable"), BROKEN_MENTIONS)
def test_a_broken_page_of_mentions_stores_what_it_can_and_loses_no_tweet(
    fault: Callable[[dict[str, Any], dict[str, Any], dict[str, Any]], dict[str, Any]],
    readable: str,
    polling: Polling,
    x: XStandIn,
    slack: SlackStandIn,
) -> None:
    bot = polling.bot
    karl = x.add_user("karl_k", "Karl Kunde")
    tweets = {"old": x.mention(karl, "Mein DSL ist weg"), "new": x.mention(karl, "Telefon auch")}
    x.fail_next("GET /2/users/:id/mentions", **fault(tweets["old"], tweets["new"], karl))

    bot.poll_and_deliver()

    assert stored(bot, Channel.TWEET) == [tweets[name]["id"] for name in readable.split()]
    polling.clock.move_on(minutes=10)  # past any back-off
    bot.poll_and_deliver()
    assert stored(bot, Channel.TWEET) == [tweets["old"]["id"], tweets["new"]["id"]]
    assert len(slack.cards()) == 1 and len(slack.thread("CSUPPORT1", slack.card(1).ts)) == 1
    assert_within_slacks_limits(slack)


def test_the_cursor_stays_where_it_was_while_x_answers_nonsense(
    polling: Polling, x: XStandIn
) -> None:
    bot = polling.bot
    karl = x.add_user("karl_k", "Karl Kunde")
    first = x.mention(karl, "Mein DSL ist weg")
    bot.poll_and_deliver()
    x.mention(karl, "Telefon auch")

    for answer in ({"malformed": True}, {"status": 503}, {"drop": True}):
        x.fail_next("GET /2/users/:id/mentions", **answer)
        polling.clock.move_on(minutes=10)
        bot.poll()
        with session_scope(bot.bot.engine) as session:
            assert cursors.since_id(session=session, name="mentions") == first["id"]
    polling.clock.move_on(minutes=10)
    bot.poll()
    assert len(stored(bot, Channel.TWEET)) == 2


def test_a_tweet_x_keeps_sending_unreadable_is_given_up_after_three_polls(
    polling: Polling, x: XStandIn, caplog: pytest.LogCaptureFixture
) -> None:
    bot = polling.bot
    karl = x.add_user("karl_k", "Karl Kunde")
    old, broken_one = x.mention(karl, "Mein DSL ist weg"), x.mention(karl, "Telefon auch")
    x.fail_next(
        "GET /2/users/:id/mentions",
        status=200,
        body=page(shown(broken_one, text=None), shown(old), users=[karl]),
        times=3,
    )

    for _ in range(2):  # read again: it may have been X's hiccup
        bot.poll()
        polling.clock.move_on(minutes=1)
        with session_scope(bot.bot.engine) as session:
            assert cursors.since_id(session=session, name="mentions") == old["id"]
    with caplog.at_level(logging.ERROR, logger="bot.ingest"):
        bot.poll()

    assert f"gave up on entry {broken_one['id']} of mentions" in caplog.text
    later = x.mention(karl, "Und jetzt?")
    polling.clock.move_on(minutes=1)
    bot.poll()
    assert stored(bot, Channel.TWEET) == [old["id"], later["id"]]


@pytest.mark.parametrize(
    ("answer", "logged"),
    [
        ({"malformed": True}, "X unavailable for mentions"),
        ({"status": 500, "body": {"title": "Internal Error"}}, "X unavailable for mentions"),
        ({"status": 403, "body": {"title": "Forbidden", "detail": "nope"}}, "X refused"),
    ],
    ids=["not JSON", "a server error", "a refusal"],
)
def test_a_poll_that_cannot_read_xs_answer_says_so_in_the_log(
    answer: dict[str, Any],
    logged: str,
    polling: Polling,
    x: XStandIn,
    caplog: pytest.LogCaptureFixture,
) -> None:
    x.fail_next("GET /2/users/:id/mentions", **answer)

    with caplog.at_level(logging.WARNING, logger="bot.ingest"):
        polling.bot.poll()

    assert logged in caplog.text


def test_a_tweet_x_sent_without_text_is_named_in_the_log(
    polling: Polling, x: XStandIn, caplog: pytest.LogCaptureFixture
) -> None:
    karl = x.add_user("karl_k", "Karl Kunde")
    tweet = x.mention(karl, "Mein DSL ist weg")
    x.fail_next(
        "GET /2/users/:id/mentions", status=200, body=page(shown(tweet, text=None), users=[karl])
    )

    with caplog.at_level(logging.WARNING, logger="bot.x"):
        polling.bot.poll()

    assert f"a tweet from X could not be read (id={tweet['id']})" in caplog.text


@pytest.mark.parametrize(
    "data", [{"id": None, "text": "?"}, {"id": "gesendet"}, {}], ids=["null", "no number", "none"]
)
def test_a_post_whose_answer_has_no_readable_id_is_found_on_x_and_sent_once(
    data: dict[str, Any], bot: BotHarness, x: XStandIn
) -> None:
    from store.models import Reply

    build_team(bot)
    open_ticket(bot, x)
    x.fail_next("POST /2/tweets", after_processing=True, status=201, body={"data": data})

    answer = said(bot.slash(ANNA, "/reply", "1 Wir melden uns gleich"))

    assert "Sent to the customer on X" in answer
    (posted,) = x.brand_tweets()
    with session_scope(bot.bot.engine) as session:
        assert [r.external_id for r in session.exec(select(Reply))] == [posted["id"]]


def test_a_tweet_whose_time_x_garbled_is_dated_by_the_bots_clock(
    polling: Polling, x: XStandIn
) -> None:
    karl = x.add_user("karl_k", "Karl Kunde")
    tweet = x.mention(karl, "Mein DSL ist weg")
    polling.clock.move_on(days=3)
    x.fail_next(
        "GET /2/users/:id/mentions",
        status=200,
        body=page(shown(tweet, created_at="gestern"), users=[karl]),
    )

    polling.bot.poll()

    with session_scope(polling.bot.bot.engine) as session:
        message = session.exec(select(Message).where(Message.external_id == tweet["id"])).one()
        written = message.created_at.replace(tzinfo=UTC)
    assert polling.clock() - timedelta(minutes=1) < written <= polling.clock()


def dm_event(dm: Any, **change: Any) -> dict[str, Any]:
    fields = {
        "id": dm.id,
        "event_type": "MessageCreate",
        "text": dm.text,
        "sender_id": dm.sender_id,
        "created_at": dm.created_at.strftime("%Y-%m-%dT%H:%M:%S.000Z"),
        "dm_conversation_id": dm.conversation_id,
    }
    fields.update(change)
    return {k: v for k, v in fields.items() if v is not None}


BROKEN_DMS = [
    broken(lambda old, new, karl: {"malformed": True}, "", "an answer that is not JSON"),
    broken(
        lambda old, new, karl: {"status": 200, "body": {"meta": {"result_count": 0}}},
        "",
        "JSON without data",
    ),
    broken(
        lambda old, new, karl: {
            "status": 200,
            "body": {"data": [dm_event(new, sender_id=None), dm_event(old)]},
        },
        "old",
        "an event without sender_id",
    ),
    broken(
        lambda old, new, karl: {
            "status": 200,
            "body": {"data": [dm_event(new, id=None), dm_event(old)]},
        },
        "old",
        "an event without id",
    ),
    broken(
        lambda old, new, karl: {
            "status": 200,
            "body": {
                "data": [
                    {"id": "1", "event_type": "ParticipantsJoin"},
                    dm_event(new),
                    dm_event(old),
                ]
            },
        },
        "old new",
        "an event of another type",
    ),
    broken(
        lambda old, new, karl: {"status": 200, "body": {"data": 2}},
        "",
        "data is a number",
    ),
    broken(
        lambda old, new, karl: {
            "status": 200,
            "body": {"data": [dm_event(new), dm_event(old)], "includes": ["karl_k"]},
        },
        "old new",
        "includes is a list",
    ),
    broken(
        lambda old, new, karl: {
            "status": 200,
            "body": {"data": [dm_event(new, id="zwei"), dm_event(old)]},
        },
        "old",
        "an id that is not a number",
    ),
    broken(
        lambda old, new, karl: {
            "status": 200,
            "body": {"data": [dm_event(new), dm_event(old)], "meta": "x"},
        },
        "old new",
        "meta is a string",
    ),
]


@pytest.mark.parametrize(("fault", "readable"), BROKEN_DMS)
def test_a_broken_page_of_dms_stores_what_it_can_and_loses_no_message(
    fault: Callable[[Any, Any, dict[str, Any]], dict[str, Any]],
    readable: str,
    polling: Polling,
    x: XStandIn,
    slack: SlackStandIn,
) -> None:
    bot, ingest = polling.bot, polling.bot.bot.services.ingest
    karl = x.add_user("karl_k", "Karl Kunde")
    dms = {
        "old": x.send_dm_to_brand(karl, "Mein Router blinkt rot"),
        "new": x.send_dm_to_brand(karl, "Er blinkt immer noch"),
    }
    x.fail_next("GET /2/dm_events", **fault(dms["old"], dms["new"], karl))

    ingest.poll_dms()
    bot.deliver()

    assert stored(bot, Channel.DM) == [dms[name].id for name in readable.split()]
    polling.clock.move_on(minutes=20)  # past any back-off and X's 15-minute DM window
    ingest.poll_dms()
    bot.deliver()
    assert stored(bot, Channel.DM) == [dms["old"].id, dms["new"].id]
    assert len(slack.cards()) == 1


# -- 7. Slack's retries of an event: stored once ----------------------------------------------


def notes_with_ts(bot: BotHarness, ts: str) -> int:
    with session_scope(bot.bot.engine) as session:
        return len(
            list(
                session.exec(
                    select(Message).where(Message.channel == Channel.SLACK, Message.slack_ts == ts)
                )
            )
        )


def all_handled(bot: BotHarness, card_ts: str) -> None:
    """Wait until a later message is stored: the deliveries before it were handled too."""
    status, ts = bot.thread_message(BEN, card_ts, "Zum Schluss")
    assert status == 200
    wait_for(lambda: notes_with_ts(bot, ts) == 1)


def deliver_at_once(bot: BotHarness, event: dict[str, Any], retries: list[int | None]) -> None:
    barrier = threading.Barrier(len(retries))
    statuses: list[int] = []

    def deliver(retry: int | None) -> None:
        barrier.wait()
        statuses.append(bot.event(event, event_id="EvAtOnce", retry_num=retry)[0])

    threads = [threading.Thread(target=deliver, args=(retry,)) for retry in retries]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert statuses == [200] * len(retries)


Deliveries = Callable[[BotHarness, dict[str, Any]], None]


def one_after_another(*retries: int | None, event_ids: tuple[str, ...] = ()) -> Deliveries:
    def deliver(bot: BotHarness, event: dict[str, Any]) -> None:
        for number, retry in enumerate(retries):
            event_id = event_ids[number] if event_ids else "EvNote1"
            assert bot.event(event, event_id=event_id, retry_num=retry)[0] == 200

    return deliver


@pytest.mark.parametrize(
    "deliveries",
    [
        pytest.param(one_after_another(None, 1), id="the original and Slack's first retry"),
        pytest.param(one_after_another(None, 1, 2, 3), id="the original and three retries"),
        pytest.param(one_after_another(1), id="a retry whose original never arrived"),
        pytest.param(one_after_another(2, 1), id="the retries out of order"),
        pytest.param(
            lambda bot, event: deliver_at_once(bot, event, [None, 1, 2]),
            id="the original and two retries at the same moment",
        ),
        pytest.param(
            one_after_another(None, None, event_ids=("EvNote1", "EvNote2")),
            id="the same message under a second event id",
        ),
    ],
)
def test_a_thread_message_slack_delivers_more_than_once_is_stored_once(
    deliveries: Deliveries, bot: BotHarness, x: XStandIn, slack: SlackStandIn, working: World
) -> None:
    card_ts = slack.card(1).ts
    event = {
        "type": "message",
        "channel": "CSUPPORT1",
        "user": ANNA,
        "text": "Leitung gemessen: ok",
        "ts": f"{time.time():.6f}",
        "thread_ts": card_ts,
        "channel_type": "channel",
    }

    deliveries(bot, event)

    all_handled(bot, card_ts)
    assert notes_with_ts(bot, event["ts"]) == 1
    assert "Leitung gemessen: ok" in said(bot.slash(BEN, "/history", "1"))
    after = world(bot)
    assert after.slack_changes == working.slack_changes and after.x_posts == working.x_posts
