"""Fixtures of the inbox tests: a clock, a recording presenter, tweets, the inbox."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine

from bot.inbox import Inbox
from tests.fakes.domain import FakeClock, RecordingPresenter, TweetFactory, domain


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def presenter() -> RecordingPresenter:
    return RecordingPresenter()


@pytest.fixture
def tweets(clock: FakeClock) -> TweetFactory:
    return TweetFactory(clock)


@pytest.fixture
def inbox(engine: Engine, clock: FakeClock, presenter: RecordingPresenter) -> Inbox:
    # The X client is never called here: these tests hand tweets to `store` directly.
    return domain(engine, clock=clock, presenter=presenter).inbox
