"""Answer all: one answer, personalised, for every member of a group, each answered once."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from sqlalchemy import Engine
from sqlmodel import Session, col, select

from handlers import ids
from standins.http import wait_for
from standins.slack_api import BEN, LEAD, TOM, SlackStandIn
from standins.x_api import XStandIn
from store.models import FollowUp, Reply, ReplyState, Ticket, TicketGroup
from tests.conftest import postgres_url
from tests.e2e.alike import IPHONE, drain_x_outbox, group_cards, others, posted, storm, texts
from tests.e2e.test_working_a_ticket import build_team, said
from tests.harness import SUPPORT, BotHarness, make_settings

ANSWER = "Hallo {name}, die Verlängerung mit dem neuen iPhone geht ab Freitag in der App."


def open_answer_all(bot: BotHarness, user: str, group: int = 1) -> dict[str, Any]:
    """Click Answer all on the group card; the modal it opens."""
    before = len(bot.open_views())
    bot.click(user, ids.GROUP_ANSWER_ALL, str(group), wait=False)
    view: dict[str, Any] = wait_for(lambda: bot.open_views()[before:] and bot.open_views()[-1])
    return view


def preview(bot: BotHarness, user: str, text: str, group: int = 1) -> tuple[int, dict[str, Any]]:
    """Write the answer and press Preview: the bot's answer (previews, or errors)."""
    view = open_answer_all(bot, user, group)
    values = {
        ids.GROUP_ANSWER_BLOCK: {
            ids.GROUP_ANSWER_TEXT: {"type": "plain_text_input", "value": text}
        },
        ids.GROUP_FOLLOWUP_BLOCK: {ids.GROUP_FOLLOWUP: {"type": "static_select"}},
    }
    status, answer = bot.submit_view(user, view, values)
    assert answer is not None
    return status, answer


def send(bot: BotHarness, user: str, confirm: dict[str, Any]) -> None:
    """Press Send on the previews, as Slack submits the pushed view; wait for the answer."""
    status, answer = bot.submit_view(user, confirm, {})
    assert status == 200
    assert answer == {"response_action": "clear"}  # the modals close at once
    group = json.loads(confirm["private_metadata"])["group"]
    wait_for(lambda: answered_by(bot, group))


def answered_by(bot: BotHarness, group_id: int) -> str | None:
    """Who wrote the group's answer (once it is stored)."""
    with Session(bot.bot.engine) as session:
        group = session.get(TicketGroup, group_id)
        return group.answer_by if group else None


def pushed(answer: dict[str, Any], view_id: str = "VCONFIRM1") -> dict[str, Any]:
    """The view the bot pushed, with the id and hash Slack gives it."""
    assert answer["response_action"] == "push", answer
    view: dict[str, Any] = {**answer["view"], "id": view_id, "hash": "h-" + view_id}
    return view


def rows(bot: BotHarness) -> list[Reply]:
    with Session(bot.bot.engine) as session:
        return list(session.exec(select(Reply).order_by(col(Reply.id))))


def tickets(bot: BotHarness) -> dict[int, Ticket]:
    with Session(bot.bot.engine) as session:
        return {t.id or 0: t for t in session.exec(select(Ticket))}


def test_answer_all_answers_every_member_once_in_words_of_their_own(
    bot: BotHarness, x: XStandIn, slack: SlackStandIn
) -> None:
    build_team(bot)
    storm(x, 40)
    mixed = others(x)
    bot.poll_and_deliver()
    (card,) = group_cards(slack)
    assert card.payload["size"] == 40
    # Ben answers one member himself before the group answer: that one is skipped.
    assert "Sent to the customer" in said(
        bot.slash(BEN, "/reply", "7 Schau mal in die App, da steht es.")
    )

    _, answer = preview(bot, LEAD, ANSWER)
    confirm = pushed(answer)
    shown = str(confirm["blocks"])
    assert "39 public replies, 0 DMs" in shown and "1 skipped" in shown
    assert "Hallo Kunde 0, die Verlängerung" in shown and "Hallo Kunde 1," in shown

    send(bot, LEAD, confirm)
    send(bot, LEAD, confirm)  # a double click on Send: queued once
    queued = [r for r in rows(bot) if r.group_id == 1]
    assert len(queued) == 39 and {r.state for r in queued} == {ReplyState.QUEUED}
    bot.deliver()
    (card,) = group_cards(slack)
    assert "0 of 39 answered" in str(card.blocks)
    # The lead answers one member in words of her own while the group answer waits for
    # X: that answer takes the place of the group's.
    assert "Sent to the customer" in said(bot.slash(LEAD, "/reply", "12 Ab Freitag, in der App."))

    assert drain_x_outbox(bot) == 38

    replies = posted(x)
    texts = [text for text, _ in replies]
    assert len(texts) == 40 and len(set(texts)) == 40  # no text twice
    answered_tweets = [parent for _, parent in replies]
    assert len(set(answered_tweets)) == 40  # each member once
    assert not set(answered_tweets) & {t["id"] for t in mixed}  # the others are untouched
    everyone = tickets(bot)
    for ticket_id in range(1, 41):
        ticket = everyone[ticket_id]
        assert ticket.state == "waiting" and ticket.first_response_at is not None
    assert all(everyone[n].first_response_at is None for n in range(41, 51))
    bot.deliver()
    (card,) = group_cards(slack)
    assert "38 of 39 answered" in str(card.blocks) and "1 not sent" in str(card.blocks)


def test_an_answer_that_fails_a_check_for_one_member_says_which_and_sends_nothing(
    bot: BotHarness, x: XStandIn, slack: SlackStandIn
) -> None:
    storm(x, 5)
    bot.poll_and_deliver()
    _, answer = preview(bot, LEAD, "Ruf uns an unter 0171 2345678, {name}!")
    assert answer["response_action"] == "errors"
    assert "personal data" in answer["errors"][ids.GROUP_ANSWER_BLOCK]
    _, answer = preview(bot, LEAD, "{name} " + "x" * 270)
    assert "too long" in answer["errors"][ids.GROUP_ANSWER_BLOCK]
    assert rows(bot) == []


def test_a_trainees_group_answer_waits_for_a_lead(
    bot: BotHarness, x: XStandIn, slack: SlackStandIn
) -> None:
    bot.slash(LEAD, "/team", f"add <@{TOM}|tom> trainee TT")
    storm(x, 4)
    bot.poll_and_deliver()
    _, answer = preview(bot, TOM, ANSWER)
    send(bot, TOM, pushed(answer))
    assert {r.state for r in rows(bot)} == {ReplyState.AWAITING_APPROVAL}
    assert drain_x_outbox(bot) == 0
    bot.deliver()
    (card,) = group_cards(slack)
    assert "waits for a lead" in str(card.blocks)

    bot.click(TOM, ids.GROUP_APPROVE, "1")  # a trainee cannot approve it
    assert {r.state for r in rows(bot)} == {ReplyState.AWAITING_APPROVAL}
    bot.click(LEAD, ids.GROUP_APPROVE, "1", wait=False)
    wait_for(lambda: {r.state for r in rows(bot)} == {ReplyState.QUEUED})
    assert drain_x_outbox(bot) == 4
    assert all(t["text"].endswith("^TT") for t in x.brand_tweets())


def test_keep_answering_sends_the_answer_to_later_members_and_stop_sending_cancels(
    bot: BotHarness, x: XStandIn, slack: SlackStandIn
) -> None:
    storm(x, 4)
    bot.poll_and_deliver()
    _, answer = preview(bot, LEAD, ANSWER)
    send(bot, LEAD, pushed(answer))
    assert drain_x_outbox(bot) == 4

    storm(x, 2, start=4)  # before Keep answering is on: nothing for them
    bot.poll_and_deliver()
    assert len([r for r in rows(bot) if r.group_id == 1]) == 4

    bot.click(LEAD, ids.GROUP_KEEP_ANSWERING, "1", wait=False)
    bot.deliver_until(lambda: "✅ Keep answering" in str(group_cards(slack)[0].blocks))
    storm(x, 3, start=6)
    bot.poll_and_deliver()
    late = [r for r in rows(bot) if r.group_id == 1 and r.state == ReplyState.QUEUED]
    assert len(late) == 3
    assert drain_x_outbox(bot) == 3

    storm(x, 5, start=9)
    bot.poll_and_deliver()
    waiting = [r for r in rows(bot) if r.state == ReplyState.QUEUED]
    assert len(waiting) == 5
    bot.click(LEAD, ids.GROUP_STOP, "1", wait=False)
    wait_for(lambda: not [r for r in rows(bot) if r.state == ReplyState.QUEUED])
    assert len([r for r in rows(bot) if r.state == ReplyState.CANCELLED]) == 5
    assert drain_x_outbox(bot) == 0
    storm(x, 2, start=14)  # Keep answering is off after a stop
    bot.poll_and_deliver()
    assert not [r for r in rows(bot) if r.state == ReplyState.QUEUED]
    texts = [text for text, _ in posted(x)]
    assert len(texts) == 7 and len(set(texts)) == 7


def test_a_card_suggests_a_canned_answer_that_fits_and_one_click_sends_it(
    bot: BotHarness, x: XStandIn, slack: SlackStandIn
) -> None:
    build_team(bot)
    bot.slash(
        LEAD,
        "/canned",
        "add iphone-vertrag Hallo {name}, die Vertragsverlängerung mit dem neuen iPhone "
        "geht ab Freitag in der App.",
    )
    storm(x, 1, start=28)  # "ab wann kann ich meinen vertrag verlängern um das iphone …"
    others(x)
    bot.poll_and_deliver()
    card = str(slack.card(1).blocks)
    assert "Suggested* (canned answer :iphone-vertrag)" in card
    assert "Suggested" not in str(slack.card(2).blocks)  # a question of its own

    (said_back,) = bot.click(BEN, ids.SEND_SUGGESTION, '{"ticket":1,"canned":"iphone-vertrag"}')
    assert "Sent to the customer" in said_back["text"]
    (sent,) = x.brand_tweets()
    assert "Hallo Kunde 28, die Vertragsverlängerung" in sent["text"]
    bot.deliver()
    assert "Suggested" not in str(slack.card(1).blocks)  # answered: nothing left to suggest


def test_a_new_group_alike_an_answered_one_is_offered_that_answer(
    bot: BotHarness, x: XStandIn, slack: SlackStandIn
) -> None:
    storm(x, 5)
    bot.poll_and_deliver()
    _, answer = preview(bot, LEAD, ANSWER)
    send(bot, LEAD, pushed(answer))
    drain_x_outbox(bot)
    bot.click(LEAD, ids.GROUP_RESOLVE, "1")

    storm(x, 5, start=len(IPHONE))  # the next askers, in the same words: a new group
    bot.poll_and_deliver()
    second = next(c for c in group_cards(slack) if c.payload["group_id"] == 2)
    assert "Suggested* (the answer to Sammelfrage 1)" in str(second.blocks)
    assert "Send suggestion" in str(second.blocks)

    before = len(bot.open_views())
    bot.click(LEAD, ids.GROUP_SEND_SUGGESTION, "2", wait=False)
    view = wait_for(lambda: bot.open_views()[before:] and bot.open_views()[-1])
    assert ANSWER in str(view["blocks"])  # Answer all, with it written in: Preview checks it


def test_dm_members_get_dms_keyword_hits_wait_for_a_person_and_the_promise_reminds_once(
    database_url: str, slack: SlackStandIn, x: XStandIn
) -> None:
    bot = BotHarness(make_settings(database_url, slack, x, x_keyword_queries="iphone"), slack, x)
    try:
        storm(x, 6)
        known = texts()
        dm_customers = [x.add_user(f"dm{i}", f"DM Kunde {i}") for i in range(2)]
        for customer, key in zip(dm_customers, IPHONE[6:8], strict=True):
            x.send_dm_to_brand(customer, known[key].replace("@brand_hilft ", ""))
        found = x.tweet(
            x.add_user("leser", "Leser"), "iphone 17 vertrag verlaengern, wann geht das?"
        )
        bot.poll_and_deliver()
        bot.bot.services.ingest.poll_dms()
        bot.deliver()
        (card,) = group_cards(slack)
        assert card.payload["size"] == 9

        _, answer = preview(bot, LEAD, ANSWER)
        confirm = pushed(answer)
        assert "6 public replies, 2 DMs, 1 keyword hits without a public answer" in str(
            confirm["blocks"]
        )
        confirm["private_metadata"] = confirm["private_metadata"].replace(
            '"promise":null', '"promise":"1h"'
        )
        send(bot, LEAD, confirm)
        assert drain_x_outbox(bot) == 8
        assert len(x.brand_tweets()) == 6
        assert all(len(x.dms_to(c["id"])) == 1 for c in dm_customers)
        assert found["id"] not in {parent for _, parent in posted(x)}

        later = bot.bot.services.clock() + timedelta(hours=2)
        assert bot.bot.services.group_answers.remind(later) == 1
        assert bot.bot.services.group_answers.remind(later) == 0  # once, not once per member
        bot.deliver()
        (card,) = group_cards(slack)
        reminders = [m for m in slack.thread(SUPPORT, card.ts) if "Follow-up due" in m.text]
        assert len(reminders) == 1 and "9 customers" in reminders[0].text
        with Session(bot.bot.engine) as session:
            assert not session.exec(select(FollowUp)).all()  # no promise per member to ping
    finally:
        bot.close()


def test_on_postgresql_too_a_group_forms_and_each_member_is_answered_once(
    pg_engine: Engine, slack: SlackStandIn, x: XStandIn
) -> None:
    url = postgres_url()
    assert url is not None
    bot = BotHarness(make_settings(url, slack, x), slack, x)
    try:
        storm(x, 25)
        bot.poll_and_deliver()
        (card,) = group_cards(slack)
        assert card.payload["size"] == 25
        _, answer = preview(bot, LEAD, ANSWER)
        confirm = pushed(answer)
        send(bot, LEAD, confirm)
        send(bot, LEAD, confirm)
        assert drain_x_outbox(bot) == 25
        texts_sent = [text for text, _ in posted(x)]
        assert len(texts_sent) == 25 and len(set(texts_sent)) == 25
    finally:
        bot.close()


def test_an_answer_without_placeholders_still_reaches_everyone_in_texts_x_accepts(
    bot: BotHarness, x: XStandIn, slack: SlackStandIn
) -> None:
    storm(x, 12)
    bot.poll_and_deliver()
    _, answer = preview(bot, LEAD, "Die Verlängerung geht ab Freitag in der App.")
    send(bot, LEAD, pushed(answer))
    assert drain_x_outbox(bot) == 12
    texts = [text for text, _ in posted(x)]
    assert len(texts) == 12 and len(set(texts)) == 12  # X refused none as a duplicate
    assert all(text.startswith("Die Verlängerung geht ab Freitag in der App.") for text in texts)
    assert {r.state for r in rows(bot)} == {ReplyState.SENT}


def test_the_group_card_reckons_the_time_left_at_the_pace_xs_window_allows(
    bot: BotHarness, x: XStandIn, slack: SlackStandIn
) -> None:
    # X lets this account post 10 times per 15 minutes (the stand-in's window, in real
    # time): the card's "minutes left" follows X's window, not a default of 100.
    x.posting_window(limit=10, window=900)
    build_team(bot)
    storm(x, 40)
    bot.poll_and_deliver()
    _, answer = preview(bot, LEAD, ANSWER)
    send(bot, LEAD, pushed(answer))
    sent = drain_x_outbox(bot)  # as many as the window lets go, one place kept back
    assert sent == 9
    bot.deliver()
    (card,) = group_cards(slack)
    shown = str(card.blocks)
    # 31 rows left at 9 group rows per 15 minutes: 52 minutes (at 100 it would say 5).
    assert "9 of 40 answered" in shown and "about 52 minutes left" in shown


def test_a_lead_returns_a_trainees_group_answer_and_the_next_one_goes_out_once(
    bot: BotHarness, x: XStandIn, slack: SlackStandIn
) -> None:
    bot.slash(LEAD, "/team", f"add <@{TOM}|tom> trainee TT")
    storm(x, 4)
    bot.poll_and_deliver()
    _, answer = preview(bot, TOM, "Hallo {name}, das geht bestimmt irgendwie.")
    send(bot, TOM, pushed(answer))
    bot.deliver()
    (card,) = group_cards(slack)
    assert "Return to trainee" in str(card.blocks)

    before = len(bot.open_views())
    bot.click(TOM, ids.GROUP_RETURN, "1")  # a trainee cannot return it
    assert len(bot.open_views()) == before
    bot.click(LEAD, ids.GROUP_RETURN, "1", wait=False)
    modal = wait_for(lambda: bot.open_views()[before:] and bot.open_views()[-1])
    note = {ids.REJECT_NOTE_BLOCK: {ids.REJECT_NOTE: {"type": "plain_text_input", "value": " "}}}
    status, refused = bot.submit_view(LEAD, modal, note)
    assert refused is not None and "what should change" in str(refused["errors"])
    why = "Bitte sag, ab wann es geht: ab Freitag, in der App."
    note[ids.REJECT_NOTE_BLOCK][ids.REJECT_NOTE]["value"] = why
    status, _ = bot.submit_view(LEAD, modal, note)
    assert status == 200
    wait_for(lambda: {r.state for r in rows(bot)} == {ReplyState.REJECTED})
    assert drain_x_outbox(bot) == 0 and x.brand_tweets() == []
    bot.deliver()
    (card,) = group_cards(slack)
    assert "Answer all" in str(card.blocks) and "Approve group answer" not in str(card.blocks)
    thread = [m.text for m in slack.thread(SUPPORT, card.ts)]
    assert any("returned" in line and "ab Freitag, in der App" in line for line in thread)

    # Tom writes it again, the lead approves: every member is answered once.
    _, answer = preview(bot, TOM, ANSWER)
    send(bot, TOM, pushed(answer))
    bot.click(LEAD, ids.GROUP_APPROVE, "1", wait=False)
    wait_for(lambda: sum(r.state == ReplyState.QUEUED for r in rows(bot)) == 4)
    assert drain_x_outbox(bot) == 4
    replies = posted(x)
    assert len(replies) == 4 and len({parent for _, parent in replies}) == 4
    bot.deliver()
    (card,) = group_cards(slack)
    assert "4 of 4 answered" in str(card.blocks)
