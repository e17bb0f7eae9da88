"""X's posting pace as the bot reads it from X's headers (`bot/pace.py`)."""

from __future__ import annotations

import threading
import time
from datetime import timedelta

from sqlalchemy import Engine
from sqlmodel import Session

from bot.pace import XPace
from bot.x_calls import POST_ROUTE, Outcome, Window, XCall
from store.models import ReplyKind
from tests.fakes.domain import FakeClock

TWEET = ReplyKind.TWEET


def answer(
    clock: FakeClock, *, limit: int, remaining: int, reset_in: float, status: int = 201
) -> XCall:
    """X's answer to `POST /2/tweets`, with its rate-limit headers."""
    window = Window(limit, remaining, clock() + timedelta(seconds=reset_in))
    outcome = Outcome.RATE_LIMITED if status == 429 else Outcome.OK
    return XCall(POST_ROUTE, outcome, status, window, None, 0)


def test_without_headers_the_fallback_window_is_x_posts_per_15_min(engine: Engine) -> None:
    clock = FakeClock()
    pace = XPace(engine, posts_per_window=100, clock=clock)
    window = pace.window(TWEET)
    assert (window.limit, window.remaining) == (100, 100)
    assert pace.room(TWEET, group=True).now and pace.room(TWEET, group=False).now


def test_group_rows_leave_places_for_individual_replies_until_the_last_tenth(
    engine: Engine,
) -> None:
    clock = FakeClock()
    pace = XPace(engine, clock=clock)
    pace.observe(answer(clock, limit=100, remaining=90, reset_in=900))
    pace.observe(answer(clock, limit=100, remaining=5, reset_in=800))
    assert not pace.room(TWEET, group=True).now  # 5 % of 100 stay for individual replies
    assert pace.room(TWEET, group=False).now
    retry = pace.room(TWEET, group=True).retry_at
    assert retry == clock() + timedelta(seconds=800 - 90)  # when the last tenth begins

    clock.advance(seconds=720)  # 80 s left of a 900 s window: the reserve is the group's
    assert pace.room(TWEET, group=True).now
    pace.observe(answer(clock, limit=100, remaining=0, reset_in=80))
    assert not pace.room(TWEET, group=False).now

    clock.advance(seconds=81)  # reset: a fresh window of X's size
    window = pace.window(TWEET)
    assert (window.limit, window.remaining) == (100, 100)
    assert pace.room(TWEET, group=True).now


def test_a_429_closes_the_window_until_xs_reset(engine: Engine) -> None:
    clock = FakeClock()
    pace = XPace(engine, clock=clock)
    pace.observe(answer(clock, limit=100, remaining=0, reset_in=30, status=429))
    assert pace.blocked_until(TWEET) == clock() + timedelta(seconds=30)
    assert not pace.room(TWEET, group=False).now
    clock.advance(seconds=31)
    assert pace.blocked_until(TWEET) is None
    assert pace.room(TWEET, group=False).now


def test_the_pace_per_hour_follows_the_window_x_shows(engine: Engine) -> None:
    clock = FakeClock()
    pace = XPace(engine, clock=clock)
    assert pace.per_hour(TWEET) == 95 * 4  # 100 per 15 minutes, 5 kept for individuals
    pace.observe(answer(clock, limit=10, remaining=9, reset_in=2))
    assert pace.per_hour(TWEET) == 9 * 1800  # 10 per 2 s, as the stand-in scales it


def test_an_answer_that_arrives_late_does_not_give_back_places_already_taken(
    engine: Engine,
) -> None:
    # The X outbox and an agent's reply post at the same moment: X answers the agent's
    # post (4 left) while the outbox's, taken a moment later, is still on its way.
    clock = FakeClock()
    pace = XPace(engine, clock=clock)
    pace.observe(answer(clock, limit=10, remaining=5, reset_in=60))
    pace.took(TWEET, group=False)  # the agent's post
    pace.took(TWEET, group=True)  # the outbox's post
    pace.observe(answer(clock, limit=10, remaining=4, reset_in=60))  # the agent's answer
    assert pace.window(TWEET).remaining == 3  # the outbox's post still counts
    pace.observe(answer(clock, limit=10, remaining=3, reset_in=60))
    assert pace.window(TWEET).remaining == 3
    pace.observe(answer(clock, limit=10, remaining=4, reset_in=60))  # later still, stale
    assert pace.window(TWEET).remaining == 3
    pace.observe(answer(clock, limit=10, remaining=9, reset_in=120))  # the next window
    assert pace.window(TWEET).remaining == 9


def test_two_senders_cannot_both_take_the_last_place(engine: Engine) -> None:
    # An agent's own reply and the X outbox look for a place at the same moment, X's
    # headers having said one is left. Looking and taking are one step: one of them gets
    # it, the other waits, and X sees no post beyond its window (no 429).
    clock = FakeClock()

    class Slow(XPace):
        def window(self, kind: ReplyKind, *, session: Session | None = None) -> Window:
            found = super().window(kind, session=session)
            time.sleep(0.05)  # both look before either takes, were they two steps
            return found

    pace = Slow(engine, clock=clock)
    pace.observe(answer(clock, limit=100, remaining=1, reset_in=600))
    got: list[bool] = []
    senders = [
        threading.Thread(target=lambda: got.append(pace.take(TWEET, group=False).now))
        for _ in range(2)
    ]
    for sender in senders:
        sender.start()
    for sender in senders:
        sender.join()
    assert sorted(got) == [False, True]
    assert pace.window(TWEET).remaining == 0

    pace.give_back(TWEET)  # the winner found its row taken by another replica
    assert pace.take(TWEET, group=False).now
