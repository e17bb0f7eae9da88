"""Slack's side of the sandbox, without a browser: what a person does becomes Slack's
signed requests into the real bot, and the answers land where Slack puts them."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlmodel import select

from sandbox.site import SandboxSite
from sandbox.slack_side import Refusal, SlackSide
from sandbox.workspace import Workspace
from standins.http import wait_for
from standins.signing import SIGNING_SECRET
from standins.slack_api import ANNA, BEN, LEAD, Origin, SlackMessage, SlackStandIn
from standins.x_api import XStandIn
from store.db import session_scope
from store.models import Direction, Message
from tests.e2e.alike import drain_x_outbox, group_cards, storm
from tests.harness import BotHarness
from tests.sandbox.browser import ROOT

MANIFEST = yaml.safe_load((ROOT / "manifest.yml").read_text())
COMMANDS = {c["command"]: bool(c["should_escape"]) for c in MANIFEST["features"]["slash_commands"]}


@pytest.fixture
def side(bot: BotHarness, slack: SlackStandIn) -> SlackSide:
    return SlackSide(slack, bot_url=bot.url, signing_secret=SIGNING_SECRET, commands=COMMANDS)


def card_of(bot: BotHarness, x: XStandIn, text: str) -> SlackMessage:
    x.mention(x.add_user("karl_k", "Karl Krause"), text)
    bot.poll_and_deliver()
    found: SlackMessage = bot.slack.card(1)
    return found


def notes_of(bot: BotHarness) -> int:
    """How many notes the bot has stored."""
    with session_scope(bot.bot.engine, readonly=True) as session:
        rows = session.exec(select(Message.id).where(Message.direction == Direction.NOTE))
        return len(list(rows))


def ephemeral_texts(slack: SlackStandIn, user: str) -> list[str]:
    return [str(e["text"]) for e in slack.ephemerals if e["user"] == user]


def test_a_typed_mention_in_team_add_reaches_the_bot_as_slack_escapes_it(
    side: SlackSide, slack: SlackStandIn, bot: BotHarness
) -> None:
    side.command(LEAD, "CSUPPORT1", "/team add @ben agent BM")
    added = wait_for(lambda: [m for m in slack.messages("CSUPPORT1") if "on the team" in m.text])
    assert added[0].text == "<@U0BEN> is on the team as agent, initials BM."
    typed = [m for m in slack.messages("CSUPPORT1") if m.user == LEAD]
    assert [m.text for m in typed] == ["/team add @ben agent BM"]  # shown above the answer
    assert bot.bot.services.roster.member(BEN) is not None


def test_commands_in_threads_and_unknown_commands_get_slackbots_answers(
    side: SlackSide, slack: SlackStandIn
) -> None:
    side.command(ANNA, "CSUPPORT1", "/claim 1", thread_ts="123.456")
    side.command(ANNA, "CSUPPORT1", "/clam 1")
    assert ephemeral_texts(slack, ANNA) == [
        "/claim is not supported in threads. Sorry!",
        "/clam is not a valid command. In Slack, messages that start with “/” are interpreted "
        "as commands.",
    ]
    assert not slack.calls_to("chat.postMessage")


def test_a_note_written_in_a_thread_shows_there_and_the_bot_keeps_it(
    side: SlackSide, slack: SlackStandIn, bot: BotHarness, x: XStandIn
) -> None:
    card = card_of(bot, x, "Internet weg")
    side.write(LEAD, "CSUPPORT1", "Techniker <informiert> & @ben", thread_ts=card.ts)
    replies = slack.thread("CSUPPORT1", card.ts)
    assert [r.text for r in replies] == ["Techniker &lt;informiert&gt; &amp; <@U0BEN>"]
    assert replies[0].user == LEAD
    # The bot stores the note when Slack's message event reaches it, after the post.
    wait_for(lambda: notes_of(bot) == 1)
    side.command(LEAD, "CSUPPORT1", "/history 1")
    wait_for(lambda: any("Techniker" in json.dumps(e) for e in slack.ephemerals))


def test_the_reply_modal_shows_the_bots_errors_then_sends_signed(
    side: SlackSide, slack: SlackStandIn, bot: BotHarness, x: XStandIn
) -> None:
    bot.slash(LEAD, "/team", f"add <@{ANNA}|anna> agent AS")
    card = card_of(bot, x, "Router blinkt rot")
    assert side.press(
        ANNA,
        block_id="ticket_actions_1",
        action_id="ticket_reply",
        choice={},
        channel="CSUPPORT1",
        ts=card.ts,
    )
    modal: dict[str, Any] = wait_for(lambda: slack.modal(ANNA))
    assert modal["title"]["text"] == "Reply to #1"
    too_long = {"reply_text_0": {"text": {"value": "lang " * 70}}}
    outcome = side.submit(ANNA, modal["id"], too_long)
    assert not outcome.closed and "too long" in outcome.errors["reply_text_0"]
    assert slack.modal(ANNA) is not None
    outcome = side.submit(ANNA, modal["id"], {"reply_text_0": {"text": {"value": "Wir prüfen."}}})
    assert outcome.closed and slack.modal(ANNA) is None
    sent = wait_for(x.brand_tweets)
    assert sent[0]["text"] == "@karl_k Wir prüfen. ^AS"


def test_an_element_the_bot_never_sent_is_refused(
    side: SlackSide, bot: BotHarness, x: XStandIn
) -> None:
    card = card_of(bot, x, "Hallo")
    with pytest.raises(Refusal):
        side.press(
            ANNA,
            block_id="ticket_actions_1",
            action_id="ticket_delete_everything",
            choice={},
            channel="CSUPPORT1",
            ts=card.ts,
        )
    with pytest.raises(Refusal):
        side.submit(ANNA, "V00000042", {})  # no such modal is open


def test_response_urls_with_an_origin_land_as_in_slack(slack: SlackStandIn) -> None:
    import urllib.request

    def answer(url: str, body: dict[str, Any]) -> None:
        request = urllib.request.Request(
            url, data=json.dumps(body).encode(), headers={"Content-Type": "application/json"}
        )
        with urllib.request.urlopen(request, timeout=5):
            pass

    slack.ephemeral("CSUPPORT1", ANNA, "Send this?")
    question = slack.ephemerals[-1]
    origin = Origin("CSUPPORT1", ANNA, message_ts=question["ts"], ephemeral=True)
    answer(slack.response_url(origin), {"text": "Sent.", "replace_original": True})
    assert question["text"] == "Sent."
    answer(slack.response_url(origin), {"delete_original": True})
    assert question not in slack.ephemerals
    answer(slack.response_url(Origin("CSUPPORT1", ANNA)), {"text": "Only you"})
    assert slack.ephemerals[-1]["text"] == "Only you" and slack.ephemerals[-1]["user"] == ANNA
    answer(
        slack.response_url(Origin("CSUPPORT1", ANNA, command="/team list")),
        {"text": "For all", "response_type": "in_channel"},
    )
    assert [m.text for m in slack.messages("CSUPPORT1")] == ["/team list", "For all"]
    answer(slack.response_url(), {"text": "recorded only"})
    assert slack.response_texts()[-1] == "recorded only"


def test_the_stand_ins_snapshots_restore_what_people_saw(slack: SlackStandIn, x: XStandIn) -> None:
    message = slack.post_as_user("CSUPPORT1", ANNA, "Hallo")
    slack.post_as_user("CSUPPORT1", BEN, "Antwort", thread_ts=message.ts)
    slack.ephemeral("CSUPPORT1", ANNA, "nur für dich")
    tweet = x.mention(x.add_user("karl_k"), "Netz weg")
    saved_slack, saved_x = (
        json.loads(json.dumps(slack.snapshot())),
        json.loads(json.dumps(x.snapshot())),
    )
    slack.reset()
    x.reset()
    slack.restore(saved_slack)
    x.restore(saved_x)
    assert [m.text for m in slack.thread("CSUPPORT1", message.ts)] == ["Antwort"]
    assert slack.ephemerals[-1]["text"] == "nur für dich"
    later = x.mention(x.add_user("julia_b"), "Und bei mir")
    assert int(later["id"]) > int(tweet["id"])
    assert x.user_by_name("karl_k") is not None


def _call(site: SandboxSite, method: str, path: str, body: bytes = b"", **env: str) -> Any:
    status: list[str] = []
    environ = {
        "REQUEST_METHOD": method,
        "PATH_INFO": path,
        "QUERY_STRING": "",
        "CONTENT_LENGTH": str(len(body)),
        "CONTENT_TYPE": "application/json",
        "wsgi.input": io.BytesIO(body),
        **env,
    }
    answer = b"".join(site(environ, lambda code, headers: status.append(code)))
    return status[0], answer


def test_the_sandbox_api_answers_bad_input_clearly_and_changes_nothing(tmp_path: Path) -> None:
    workspace = Workspace(tmp_path / "sandbox")
    try:
        site = SandboxSite(workspace, bot_url="http://127.0.0.1:9", roles=dict, manifest=MANIFEST)
        before = workspace.x.version
        status, body = _call(site, "POST", "/api/tweet", b'{"handle": "x y", "text": "hi"}')
        assert status.startswith("400") and b"letters, digits or underscores" in body
        status, body = _call(site, "POST", "/api/tweet", b'{"handle": "karl_k", "text": ""}')
        assert status.startswith("400") and b"Write something" in body
        status, _ = _call(
            site, "POST", "/api/tweet", b"handle=karl_k&text=hi", CONTENT_TYPE="text/plain"
        )
        assert status.startswith("415")  # another site's form cannot post here
        status, _ = _call(site, "POST", "/api/tweet", b"[1, 2]")
        assert status.startswith("400")
        assert workspace.x.version == before
        status, _ = _call(site, "GET", "/static/..%2Fsite.py")
        assert status.startswith("404")
        status, body = _call(site, "GET", "/static/app.js")
        assert status.startswith("200") and b"BlockKit" in body
    finally:
        workspace.close()


def test_answer_all_in_the_sandbox_previews_then_sends_to_every_member(
    side: SlackSide, slack: SlackStandIn, bot: BotHarness, x: XStandIn
) -> None:
    storm(x, 6)
    bot.poll_and_deliver()
    (card,) = group_cards(slack)
    assert side.press(
        LEAD,
        block_id="group_actions_1",
        action_id="group_answer_all",
        choice={},
        channel="CSUPPORT1",
        ts=card.ts,
    )
    modal: dict[str, Any] = wait_for(lambda: slack.modal(LEAD))
    assert modal["title"]["text"] == "Answer all"
    text = {"group_answer": {"text": {"value": "Hallo {name}, ab Freitag in der App."}}}
    outcome = side.submit(LEAD, modal["id"], text)
    assert not outcome.closed
    confirm: dict[str, Any] = wait_for(
        lambda: (m := slack.modal(LEAD)) and m["callback_id"] == "group_confirm_modal" and m
    )
    assert "6 public replies" in json.dumps(confirm["blocks"])
    assert "Hallo Kunde 0, ab Freitag in der App." in json.dumps(confirm["blocks"])
    outcome = side.submit(LEAD, confirm["id"], {})
    assert outcome.closed and slack.modal(LEAD) is None
    # The rows are queued just after the modals close; the X outbox's stand-in sends them.
    wait_for(lambda: drain_x_outbox(bot) or len(x.brand_tweets()) == 6)
    assert len(x.brand_tweets()) == 6
