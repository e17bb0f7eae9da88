"""Every answer goes out once, by one agent (issue 10): claim races, repeats, trainees' DMs.

Two agents answering an unowned ticket at the same instant: exactly one wins, on every
path that claims by answering. The same request arriving again (Slack's retries, double
clicks, a replayed signed request), and the same words sent by the same person a moment
later, answer the customer once and store one note. A trainee's DM waits for a lead.
"""

from __future__ import annotations

import functools
import json
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import pytest
from sqlmodel import select

from bot.followups import Promise
from handlers import ids
from handlers.blocks.followups import promise_offer
from standins.http import wait_for
from standins.signing import FORM
from standins.slack_api import ANNA, BEN, LEAD, TOM, SlackStandIn
from standins.x_api import XStandIn
from store.db import session_scope
from store.models import Direction, FollowUp, Message, Reply, ReplyState
from tests.e2e.test_working_a_ticket import build_team, said
from tests.harness import BotHarness, button, make_settings, question

X_POSTS = ("POST /2/tweets", "POST /2/dm_conversations/with/:id/messages")
FINAL = (ReplyState.SENT, ReplyState.FAILED, ReplyState.AWAITING_APPROVAL)


@pytest.fixture(params=["sqlite", "postgresql"])
def desk(
    request: pytest.FixtureRequest, database_url: str, slack: SlackStandIn, x: XStandIn
) -> Iterator[BotHarness]:
    """The bot with Lena (lead), Anna, Ben and the trainee Tom, on SQLite and PostgreSQL."""
    url = database_url
    if request.param == "postgresql":
        url = request.getfixturevalue("pg_engine").url.render_as_string(hide_password=False)
    bot = BotHarness(make_settings(url, slack, x), slack, x)
    build_team(bot)
    bot.slash(LEAD, "/team", f"add <@{TOM}|tom> trainee TT")
    # Canned answers name the customer, so that no two customers get the same text (X
    # refuses duplicates, which would hide a second post).
    bot.slash(LEAD, "/canned", "add danke Hallo {name}, danke für deine Geduld!")
    bot.slash(
        LEAD, "/canned", "add dm-bitte Hallo {name}, bitte lösche den Tweet; wir schreiben per DM."
    )
    yield bot
    bot.close()


def new_ticket(bot: BotHarness, x: XStandIn, number: int) -> dict[str, Any]:
    """Customer `number` tweets; their ticket #`number` is on its card. Returns the customer."""
    customer = x.add_user(f"kunde{number}", f"Kunde {number}")
    x.mention(customer, question(number, "Mein Anschluss ist tot, Nummer"))
    bot.poll_and_deliver()
    return customer


def x_posts(x: XStandIn) -> int:
    return sum(len(x.calls_to(route)) for route in X_POSTS)


def answers_to(x: XStandIn, customer: dict[str, Any]) -> list[str]:
    """What the brand sent this customer, publicly or by DM."""
    handle = f"@{customer['username']}"
    public = [t["text"] for t in x.brand_tweets() if t["text"].startswith(handle)]
    return public + [dm.text for dm in x.dms_to(str(customer["id"]))]


def replies_of(bot: BotHarness, ticket: int) -> list[Reply]:
    with session_scope(bot.bot.engine) as session:
        return list(session.exec(select(Reply).where(Reply.ticket_id == ticket)))


@dataclass
class Attempt:
    """One agent's request, prepared: `send` fires it, `told` is what the bot said back."""

    send: Callable[[], Any]
    said_back: Callable[[], list[str]]
    answers: list[Any] = field(default_factory=list)

    def fire(self) -> Any:
        answer = self.send()
        self.answers.append(answer)
        return answer

    def told(self) -> str:
        return " ".join(
            self.said_back() + [json.dumps(a) for a in self.answers if isinstance(a, dict)]
        )


def responses(slack: SlackStandIn, url: str) -> Callable[[], list[str]]:
    path = "/" + url.split("127.0.0.1:")[1].split("/", 1)[1]

    def texts() -> list[str]:
        with slack.lock:
            return [r.get("text", "") for r in slack.responses if r["url"] == path]

    return texts


def ephemerals(slack: SlackStandIn, user: str, ticket: int) -> Callable[[], list[str]]:
    def texts() -> list[str]:
        with slack.lock:
            found = [e.get("text", "") for e in slack.ephemerals if e.get("user") == user]
        return [text for text in found if text.startswith(f"#{ticket}:")]

    return texts


# -- ways to answer: each prepares its request, to be fired later ------------------------------

Prepare = Callable[[BotHarness, str, int], Attempt]


def by_command(command: str, text: str) -> Prepare:
    def prepare(bot: BotHarness, user: str, ticket: int) -> Attempt:
        url = bot.slack.response_url()
        body = bot.slash_body(user, command, f"{ticket} {text.format(n=ticket)}", response_url=url)
        return Attempt(lambda: bot.request(body, FORM), responses(bot.slack, url))

    return prepare


def by_modal(opener: str, values: Callable[[str], dict[str, Any]], text: str) -> Prepare:
    def prepare(bot: BotHarness, user: str, ticket: int) -> Attempt:
        before = len(bot.open_views())
        if opener == "shortcut":
            card_ts = bot.slack.card(ticket).ts
            bot.shortcut(user, "reply_from_thread", {"type": "message", "ts": card_ts})
        else:
            bot.click(user, opener, str(ticket), message_ts=bot.slack.card(ticket).ts, wait=False)
        view = wait_for(lambda: len(bot.open_views()) > before and bot.open_views()[-1])
        filled = values(text.format(n=ticket))
        return Attempt(
            lambda: bot.submit_view(user, view, filled)[1], ephemerals(bot.slack, user, ticket)
        )

    return prepare


def by_button(action_id: str) -> Prepare:
    def prepare(bot: BotHarness, user: str, ticket: int) -> Attempt:
        url = bot.slack.response_url()
        body = button(bot.slack, user, action_id, str(ticket), response_url=url)
        return Attempt(lambda: bot.request(body, FORM), responses(bot.slack, url))

    return prepare


def reply_field(text: str) -> dict[str, Any]:
    return {"reply_text_0": {"text": {"type": "plain_text_input", "value": text}}}


def dm_field(text: str) -> dict[str, Any]:
    return {"dm_text": {"text": {"type": "plain_text_input", "value": text}}}


PATHS: dict[str, Prepare] = {
    "/reply": by_command("/reply", "Wir prüfen Fall {n} sofort."),
    "/reply :canned": by_command("/reply", ":danke"),
    "/dm": by_command("/dm", "Zu Fall {n} schreiben wir dir hier weiter."),
    "reply modal": by_modal("ticket_reply", reply_field, "Wir messen Leitung {n} durch."),
    "thread shortcut": by_modal("shortcut", reply_field, "Ein Techniker kommt zu Fall {n}."),
    "DM modal": by_modal("ticket_dm", dm_field, "Zu Fall {n}: schick uns deine Adresse."),
    "Ask to delete": by_button("ticket_ask_delete"),
}


def at_once(*sends: Callable[[], Any]) -> list[Any]:
    """Send every request at the same instant; what each got back."""
    results: list[Any] = [None] * len(sends)
    barrier = threading.Barrier(len(sends))

    def go(index: int) -> None:
        barrier.wait()
        results[index] = sends[index]()

    threads = [threading.Thread(target=go, args=(i,)) for i in range(len(sends))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


@pytest.mark.parametrize(
    ("anna_by", "ben_by"),
    [
        ("/reply", "/reply"),
        ("/reply :canned", "/dm"),
        ("reply modal", "thread shortcut"),
        ("DM modal", "Ask to delete"),
        ("/dm", "reply modal"),
    ],
)
def test_of_two_agents_answering_an_unowned_ticket_at_once_exactly_one_reaches_the_customer(
    desk: BotHarness, x: XStandIn, anna_by: str, ben_by: str
) -> None:
    for ticket in (1, 2, 3):  # the race is won differently each time; none may let both through
        customer = new_ticket(desk, x, ticket)
        attempts = {ANNA: PATHS[anna_by](desk, ANNA, ticket), BEN: PATHS[ben_by](desk, BEN, ticket)}

        at_once(*[attempt.fire for attempt in attempts.values()])

        wait_for(functools.partial(settled, desk, ticket, attempts))
        [answer] = answers_to(x, customer)
        [winner] = {r.author_slack_id for r in replies_of(desk, ticket)}
        loser = BEN if winner == ANNA else ANNA
        assert f"#{ticket} is held by <@{winner}>" in attempts[loser].told()
        assert answer.endswith("^AS" if winner == ANNA else "^BM")


def settled(bot: BotHarness, ticket: int, attempts: dict[str, Attempt]) -> bool:
    """Both attempts have come to an end: an answer recorded, or a refusal told."""
    done = [r for r in replies_of(bot, ticket) if r.state in FINAL]
    refused = [a for a in attempts.values() if "is held by" in a.told()]
    return len(done) + len(refused) >= len(attempts)


# -- the same request twice, and the same words a moment later -------------------------------


def notes_of(bot: BotHarness, ticket: int) -> list[Message]:
    with session_scope(bot.bot.engine) as session:
        return list(
            session.exec(
                select(Message)
                .where(Message.ticket_id == ticket)
                .where(Message.direction == Direction.NOTE)
            )
        )


def thread_texts(slack: SlackStandIn, ticket: int = 1) -> list[str]:
    return [
        json.dumps(m.blocks or m.text, ensure_ascii=False)
        for m in slack.thread("CSUPPORT1", slack.card(ticket).ts)
    ]


@pytest.mark.parametrize("command", ["/reply", "/dm", "/note"])
def test_a_command_slack_delivers_three_times_answers_once(
    desk: BotHarness, x: XStandIn, slack: SlackStandIn, command: str
) -> None:
    customer = new_ticket(desk, x, 1)
    response_url = slack.response_url()
    body = desk.slash_body(ANNA, command, "1 Wir kümmern uns darum.", response_url=response_url)

    statuses = at_once(*[lambda: desk.request(body, FORM)] * 2)
    statuses.append(desk.request(body, FORM))  # and once more, after the others

    assert [status for status, _ in statuses] == [200, 200, 200]
    desk.responses_to(response_url, count=3)  # every arrival is answered
    desk.deliver()
    if command == "/note":
        assert [n.text for n in notes_of(desk, 1)] == ["Wir kümmern uns darum."]
        assert sum("Wir kümmern uns darum." in t for t in thread_texts(slack)) == 1
        assert x_posts(x) == 0
        return
    assert answers_to(x, customer) != [] and x_posts(x) == 1
    assert len(replies_of(desk, 1)) == 1
    assert sum("Wir kümmern uns darum." in t for t in thread_texts(slack)) == 1


@pytest.mark.parametrize("command", ["/reply", "/dm", "/note"])
def test_three_identical_commands_of_one_agent_at_once_answer_once(
    desk: BotHarness, x: XStandIn, slack: SlackStandIn, command: str
) -> None:
    """Three requests (three trigger ids), the same words: a double submission, not three."""
    new_ticket(desk, x, 1)
    urls = [slack.response_url() for _ in range(3)]
    bodies = [
        desk.slash_body(ANNA, command, "1 Wir kümmern uns darum.", response_url=url) for url in urls
    ]

    at_once(*[lambda body=body: desk.request(body, FORM) for body in bodies])

    answers = [said(desk.responses_to(url)) for url in urls]
    desk.deliver()
    if command == "/note":
        assert len(notes_of(desk, 1)) == 1
        assert all("Noted in #1" in a for a in answers)
        return
    assert x_posts(x) == 1 and len(replies_of(desk, 1)) == 1
    assert sum("Wir kümmern uns darum." in t for t in thread_texts(slack)) == 1
    assert sum("once" in a for a in answers) + sum("Sent" in a for a in answers) == 3


def test_the_same_words_again_go_out_once_but_to_a_new_tweet_they_are_a_new_answer(
    desk: BotHarness, x: XStandIn, slack: SlackStandIn
) -> None:
    customer = new_ticket(desk, x, 1)
    assert "Sent" in said(desk.slash(ANNA, "/reply", "1 Danke, wir sind dran."))
    assert "once" in said(desk.slash(ANNA, "/reply", "1 Danke, wir sind dran."))
    assert len(x.calls_to("POST /2/tweets")) == 1
    x.mention(customer, "Immer noch tot")  # joins #1
    desk.poll_and_deliver()

    # An answer to the new tweet: the bot sends it, and X refuses the same text, as X does.
    assert "X refuses duplicates" in said(desk.slash(ANNA, "/reply", "1 Danke, wir sind dran."))
    assert len(x.calls_to("POST /2/tweets")) == 2
    assert len(answers_to(x, customer)) == 1


@pytest.mark.parametrize(
    ("opener", "values"), [("ticket_reply", reply_field), ("ticket_dm", dm_field)]
)
def test_a_modal_submitted_twice_answers_once(
    desk: BotHarness,
    x: XStandIn,
    slack: SlackStandIn,
    opener: str,
    values: Callable[[str], dict[str, Any]],
) -> None:
    customer = new_ticket(desk, x, 1)
    submit = by_modal(opener, values, "Wir melden uns in 30 Minuten.")(desk, ANNA, 1).fire

    at_once(submit, submit)
    submit()  # and the same submission once more, after the others

    desk.deliver_until(lambda: [r for r in replies_of(desk, 1) if r.state == ReplyState.SENT])
    desk.deliver()
    assert len(answers_to(x, customer)) == 1 and x_posts(x) == 1
    assert len(replies_of(desk, 1)) == 1


@pytest.mark.parametrize("clicks", ["two clicks", "one click delivered twice"])
def test_send_anyway_clicked_twice_sends_once(
    desk: BotHarness, x: XStandIn, slack: SlackStandIn, clicks: str
) -> None:
    customer = new_ticket(desk, x, 1)
    [question] = desk.slash(ANNA, "/reply", "1 Schau hier: https://telekom.de/hilfe")
    value = question["blocks"][-1]["elements"][0]["value"]
    first = button(slack, ANNA, "reply_confirm", value)
    second = (
        first
        if clicks == "one click delivered twice"
        else button(slack, ANNA, "reply_confirm", value)
    )

    at_once(lambda: desk.request(first, FORM), lambda: desk.request(second, FORM))

    wait_for(lambda: [r for r in replies_of(desk, 1) if r.state == ReplyState.SENT])
    assert len(answers_to(x, customer)) == 1 and x_posts(x) == 1
    assert len(replies_of(desk, 1)) == 1


def test_ask_to_delete_clicked_twice_asks_once(
    desk: BotHarness, x: XStandIn, slack: SlackStandIn
) -> None:
    customer = new_ticket(desk, x, 1)
    click = PATHS["Ask to delete"]

    at_once(click(desk, ANNA, 1).fire, click(desk, ANNA, 1).fire)

    wait_for(lambda: [r for r in replies_of(desk, 1) if r.state == ReplyState.SENT])
    assert answers_to(x, customer) == [
        "@kunde1 Hallo Kunde 1, bitte lösche den Tweet; wir schreiben per DM. ^AS"
    ]
    assert x_posts(x) == 1 and len(replies_of(desk, 1)) == 1


def test_a_failed_answer_may_be_sent_again_with_the_same_words(
    desk: BotHarness, x: XStandIn, slack: SlackStandIn
) -> None:
    """Only answers that went out (or are on their way) count: a refusal is no double."""
    customer = new_ticket(desk, x, 1)
    x.fail_next(
        "POST /2/tweets",
        status=403,
        body={
            "title": "Forbidden",
            "detail": "You are not permitted to perform this action.",
            "type": "about:blank",
            "status": 403,
        },
    )
    assert "Nothing was sent" in said(desk.slash(ANNA, "/reply", "1 Wir prüfen das."))
    assert "Sent" in said(desk.slash(ANNA, "/reply", "1 Wir prüfen das."))
    assert answers_to(x, customer) == ["@kunde1 Wir prüfen das. ^AS"]


# -- trainees' DMs wait for a lead -------------------------------------------------------------


@pytest.mark.parametrize("path", ["/dm", "DM modal"])
def test_a_trainees_dm_waits_for_a_lead_and_shows_masked(
    desk: BotHarness, x: XStandIn, slack: SlackStandIn, path: str
) -> None:
    customer = new_ticket(desk, x, 1)
    text = "Wir rufen dich unter 0171 2345678 an." if path == "/dm" else "Ruf 0171 2345678 an."
    if path == "/dm":
        assert "waits in the thread for a lead's approval" in said(
            desk.slash(TOM, "/dm", f"1 {text}")
        )
    else:
        attempt = by_modal("ticket_dm", dm_field, text)(desk, TOM, 1)
        assert attempt.fire() is None  # the modal closes
        wait_for(lambda: "waits in the thread for a lead's approval" in attempt.told())

    desk.deliver()
    assert x.dms_to(str(customer["id"])) == [] and x_posts(x) == 0
    shown = " ".join(thread_texts(slack))
    assert "wrote a DM; a lead approves it" in shown
    assert "0171 ••••678" in shown and "2345678" not in shown.replace("0171 ••••678", "")
    approval = next(
        m for m in slack.thread("CSUPPORT1", slack.card(1).ts) if "Approve" in json.dumps(m.blocks)
    )
    reply_id = approval.blocks[-1]["elements"][0]["value"]  # type: ignore[index]

    assert "Only team leads" in said(desk.click(ANNA, "reply_approve", reply_id))
    desk.click(LEAD, "reply_approve", reply_id, wait=False)

    desk.deliver_until(lambda: any(f"(approved by <@{LEAD}>)" in t for t in thread_texts(slack)))
    assert [dm.text for dm in x.dms_to(str(customer["id"]))] == [f"{text} ^TT"]
    shown = " ".join(thread_texts(slack))
    assert "answered as a DM" in shown and "2345678" not in shown.replace("0171 ••••678", "")


def followups_of(bot: BotHarness, ticket: int) -> list[FollowUp]:
    with session_scope(bot.bot.engine) as session:
        return list(session.exec(select(FollowUp).where(FollowUp.ticket_id == ticket)))


def test_a_followup_slack_delivers_three_times_is_promised_once(
    desk: BotHarness, x: XStandIn, slack: SlackStandIn
) -> None:
    """One promise, one reminder set: a replayed /followup, and a double click on its offer."""
    new_ticket(desk, x, 1)
    desk.slash(ANNA, "/claim", "1")
    response_url = slack.response_url()
    body = desk.slash_body(ANNA, "/followup", "1 2h Techniker", response_url=response_url)

    statuses = at_once(*[lambda: desk.request(body, FORM)] * 2)
    statuses.append(desk.request(body, FORM))

    assert [status for status, _ in statuses] == [200, 200, 200]
    desk.responses_to(response_url, count=3)
    desk.deliver()
    assert len(followups_of(desk, 1)) == 1
    assert sum("Techniker" in text for text in thread_texts(slack)) == 1

    promised = followups_of(desk, 1)[0].due_at
    due = promised + timedelta(hours=1)
    offer = promise_offer(1, Promise(phrase="in drei Stunden", due=due))
    value = offer["blocks"][1]["elements"][0]["value"]
    urls = [slack.response_url() for _ in range(2)]
    clicks = [button(slack, ANNA, ids.PROMISE_CONFIRM, value, response_url=url) for url in urls]
    at_once(*[functools.partial(desk.request, click, FORM) for click in clicks])
    for url in urls:
        desk.responses_to(url)  # both clicks are answered

    assert sorted(f.due_at for f in followups_of(desk, 1)) == [promised, due]
