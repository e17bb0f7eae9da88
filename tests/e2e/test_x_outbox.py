"""The X outbox (SPEC §10): queued answers go out at X's pace, individual replies first.

X's posting window is scaled down on the stand-in (a few posts per couple of seconds) so
that a test sees several windows; the bot reads the window from X's headers only.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlmodel import select

from bot.x_outbox import XOutbox
from standins.http import wait_for
from standins.slack_api import ANNA, LEAD, SlackStandIn
from standins.x_api import XStandIn
from store.db import session_scope
from store.models import Customer, Reply, ReplyKind, ReplyState, Ticket, TicketGroup
from tests.e2e.test_working_a_ticket import build_team, said
from tests.harness import SUPPORT, BotHarness, make_settings

GROUP = 7
POSTS = "POST /2/tweets"
DMS = "POST /2/dm_conversations/with/:id/messages"


@pytest.fixture(params=["sqlite", "postgresql"])
def desk(
    request: pytest.FixtureRequest, database_url: str, slack: SlackStandIn, x: XStandIn
) -> Iterator[BotHarness]:
    """The bot with Lena (lead) and Anna, on SQLite and PostgreSQL."""
    url = database_url
    if request.param == "postgresql":
        url = request.getfixturevalue("pg_engine").url.render_as_string(hide_password=False)
    bot = BotHarness(make_settings(url, slack, x), slack, x)
    build_team(bot)
    yield bot
    bot.close()


def storm(bot: BotHarness, x: XStandIn, count: int, start: int = 1) -> list[dict[str, Any]]:
    """`count` customers ask; each gets a ticket. Returns the customers."""
    customers = []
    for number in range(start, start + count):
        customer = x.add_user(f"kunde{number}", f"Kunde {number}")
        x.mention(customer, f"Kann ich meinen Vertrag für das neue iPhone verlängern? ({number})")
        customers.append(customer)
    bot.poll_and_deliver()
    return customers


def queue_group_answer(
    bot: BotHarness, group_id: int, tickets: list[int], *, kind: ReplyKind = ReplyKind.TWEET
) -> None:
    """What a group answer writes (Answer all): one queued row per member."""
    now = datetime.now(UTC)
    with session_scope(bot.bot.engine) as session:
        # The group the rows belong to: its card shows their progress.
        if session.get(TicketGroup, group_id) is None:
            session.add(
                TicketGroup(id=group_id, channel_id=SUPPORT, created_at=now, updated_at=now)
            )
            session.flush()
        for ticket_id in tickets:
            ticket = session.get(Ticket, ticket_id)
            assert ticket is not None
            customer = session.get(Customer, ticket.customer_id)
            assert customer is not None
            session.add(
                Reply(
                    ticket_id=ticket_id,
                    kind=kind,
                    author_slack_id=LEAD,
                    body="Ja, ab Freitag.",
                    text=f"Hallo Kunde {ticket_id}, ja: ab Freitag geht das. ^LL",
                    in_reply_to_id=ticket.conversation_id if kind == ReplyKind.TWEET else None,
                    recipient_x_id=customer.x_user_id if kind == ReplyKind.DM else None,
                    state=ReplyState.QUEUED,
                    group_id=group_id,
                    created_at=now,
                )
            )
    bot.bot.services.x_outbox.wake()


@contextmanager
def worker(outbox: XOutbox) -> Iterator[None]:
    """The outbox's worker thread, as `start_background` runs it."""
    stop = threading.Event()
    thread = threading.Thread(target=outbox.run, args=(stop,), daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        outbox.wake()
        thread.join(timeout=10)


def states(bot: BotHarness, group_id: int) -> list[str]:
    with session_scope(bot.bot.engine, readonly=True) as session:
        return [r.state for r in session.exec(select(Reply).where(Reply.group_id == group_id))]


def test_a_group_answer_goes_out_at_the_pace_of_xs_window_without_a_429(
    desk: BotHarness, x: XStandIn
) -> None:
    storm(desk, x, 24)
    x.posting_window(limit=8, window=2.0)
    outbox = desk.bot.services.x_outbox
    queue_group_answer(desk, GROUP, list(range(1, 25)))
    assert outbox.progress(GROUP).describe().startswith("0 of 24 answered, about")

    started = time.monotonic()
    with worker(outbox):
        wait_for(lambda: len(x.brand_tweets()) == 24, timeout=30)
    took = time.monotonic() - started

    # 24 posts at 8 per 2-second window need at least two full windows after the first.
    assert took >= 4.0
    # Every call was a post that X took: not one 429, not one retry.
    assert len(x.calls_to(POSTS)) == 24
    assert sorted(t["text"] for t in x.brand_tweets()) == sorted(
        f"@kunde{i} Hallo Kunde {i}, ja: ab Freitag geht das. ^LL" for i in range(1, 25)
    )
    assert set(states(desk, GROUP)) == {ReplyState.SENT}
    progress = outbox.progress(GROUP)
    assert (progress.sent, progress.total, progress.eta) == (24, 24, None)
    assert progress.describe() == "24 of 24 answered"


def test_dms_of_a_group_answer_go_at_the_dm_endpoints_own_pace(
    desk: BotHarness, x: XStandIn
) -> None:
    customers = storm(desk, x, 8)
    x.posting_window(limit=100, window=2.0, dms=3)
    outbox = desk.bot.services.x_outbox
    queue_group_answer(desk, GROUP, list(range(1, 9)), kind=ReplyKind.DM)

    started = time.monotonic()
    with worker(outbox):
        wait_for(lambda: all(x.dms_to(c["id"]) for c in customers), timeout=30)
    took = time.monotonic() - started

    assert took >= 4.0  # 8 DMs at 3 per 2-second window: three windows
    assert len(x.calls_to(DMS)) == 8  # not one 429
    assert [len(x.dms_to(c["id"])) for c in customers] == [1] * 8
    assert outbox.progress(GROUP).describe() == "8 of 8 answered"


def test_an_agents_reply_goes_out_at_once_while_a_group_answer_is_being_sent(
    desk: BotHarness, x: XStandIn
) -> None:
    storm(desk, x, 30)
    x.mention(x.add_user("karl_k"), "Mein Router blinkt rot")
    desk.poll_and_deliver()  # ticket #31, no group
    x.posting_window(limit=6, window=2.0)
    outbox = desk.bot.services.x_outbox
    queue_group_answer(desk, GROUP, list(range(1, 31)))

    with worker(outbox):
        wait_for(lambda: len(x.brand_tweets()) >= 3, timeout=10)
        asked = time.monotonic()
        answer = said(desk.slash(ANNA, "/reply", "31 Bitte starte ihn einmal neu."))
        texts = [t["text"] for t in x.brand_tweets()]
        karl = "@karl_k Bitte starte ihn einmal neu. ^AS"
        # Sent in the request itself, or first in line at the next window: never behind
        # the group's rows.
        wait_for(lambda: karl in [t["text"] for t in x.brand_tweets()], timeout=3)
        waited = time.monotonic() - asked
        assert "Sent" in answer or "first in line" in answer
        assert waited < 2.5
        assert len(texts) < 31  # the group was still being sent
        wait_for(lambda: len(x.brand_tweets()) == 31, timeout=30)

    assert len(x.calls_to(POSTS)) == 31  # no 429 on the way, nothing twice


def test_a_429_holds_the_outbox_until_xs_reset_and_the_rows_go_once(
    desk: BotHarness, x: XStandIn
) -> None:
    storm(desk, x, 4)
    outbox = desk.bot.services.x_outbox
    reset = int(time.time()) + 3
    # Another app of the brand used the window up: X answers the first post with a 429.
    x.fail_next(
        POSTS,
        status=429,
        body={"title": "Too Many Requests", "detail": "Too Many Requests", "type": "about:blank"},
        headers={
            "x-rate-limit-limit": "100",
            "x-rate-limit-remaining": "0",
            "x-rate-limit-reset": str(reset),
        },
    )
    queue_group_answer(desk, GROUP, [1, 2, 3, 4])
    assert outbox.drain() == 0  # the 429: the row went back, nothing posted
    assert set(states(desk, GROUP)) == {ReplyState.QUEUED}
    progress = outbox.progress(GROUP)
    assert progress.eta is not None and progress.eta.total_seconds() >= 1

    outbox.drain()
    assert len(x.calls_to(POSTS)) == 1  # it did not knock again before the reset

    wait_for(lambda: time.time() >= reset, timeout=5)
    assert outbox.drain() == 4
    assert len(x.brand_tweets()) == 4
    assert len(x.calls_to(POSTS)) == 5


def test_stop_sending_drops_what_has_not_gone_out(desk: BotHarness, x: XStandIn) -> None:
    storm(desk, x, 6)
    x.posting_window(limit=2, window=60)
    outbox = desk.bot.services.x_outbox
    queue_group_answer(desk, GROUP, list(range(1, 7)))
    outbox.drain()
    sent = len(x.brand_tweets())
    assert 0 < sent < 6

    assert outbox.cancel(GROUP) == 6 - sent
    assert outbox.progress(GROUP).describe() == f"{sent} of {sent} answered"
    outbox.drain()
    assert len(x.brand_tweets()) == sent
