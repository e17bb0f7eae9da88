"""One way to record a ticket change: event, thread line, card; the wake-ups only after commit."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, col, select

from bot.cards import Looks
from bot.errors import Refused
from bot.feed import Change, TicketFeed
from bot.present import ActivityKind, ActivityView
from bot.roster import Member
from store.db import session_scope
from store.models import EventKind, OutboxKind, Role, SlackOutbox, Ticket, TicketEvent
from tests.bot.test_claims import a_ticket
from tests.fakes.domain import FakeClock, RecordingHomes, RecordingPresenter, domain

ANNA = Member("U0ANNA", Role.AGENT, "AS", "Anna")


class Wakes:
    """Counts how often the posting worker was woken, and what was committed by then."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.rows_seen: list[int] = []

    def __call__(self) -> None:
        with session_scope(self.engine, readonly=True) as session:
            self.rows_seen.append(len(session.exec(select(SlackOutbox.id)).all()))


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@dataclass
class Setting:
    """A ticket on its card, and a feed whose wake-ups are watched."""

    ticket_id: int
    feed: TicketFeed
    wakes: Wakes
    homes: RecordingHomes

    def ticket(self, session: Session) -> Ticket:
        ticket = session.get(Ticket, self.ticket_id)
        assert ticket is not None
        return ticket


@pytest.fixture
def setting(engine: Engine, clock: FakeClock) -> Setting:
    wakes, homes = Wakes(engine), RecordingHomes()
    feed = TicketFeed(
        presenter=RecordingPresenter(), looks=Looks(1), wake=wakes, homes=homes.changed
    )
    return Setting(a_ticket(engine, clock), feed, wakes, homes)


def test_a_change_leaves_event_line_and_card_in_that_order_then_wakes_once(
    setting: Setting, engine: Engine, clock: FakeClock
) -> None:
    line = ActivityView(setting.ticket_id, ActivityKind.RESOLVED, ANNA.user_id)
    with session_scope(engine) as session:
        ticket = setting.ticket(session)
        change = Change(EventKind.RESOLVED, ANNA.user_id, line=line, people=[ANNA.user_id, None])
        setting.feed.record(session, ticket, change, clock())
        setting.feed.record(session, ticket, Change(line=line, card=False), clock())
        assert setting.wakes.rows_seen == [] and setting.homes.changed_for == []
    # Woken once, after the commit: by then the card and both lines were there.
    assert setting.wakes.rows_seen == [3]
    assert setting.homes.changed_for == [{"U0ANNA"}]
    with session_scope(engine) as session:
        rows = session.exec(select(SlackOutbox).order_by(col(SlackOutbox.id))).all()
        assert [row.kind for row in rows] == [
            OutboxKind.CARD,  # the card, still unsent: rewritten in place
            OutboxKind.THREAD,
            OutboxKind.THREAD,
        ]
        assert [e.kind for e in session.exec(select(TicketEvent))] == ["resolved"]


def test_a_change_that_rolls_back_wakes_nobody_and_refreshes_no_home(
    setting: Setting, engine: Engine, clock: FakeClock
) -> None:
    claimed = Change(EventKind.CLAIMED, ANNA.user_id, people=[ANNA.user_id])

    def failing_change() -> None:
        with session_scope(engine) as session:
            setting.feed.record(session, setting.ticket(session), claimed, clock())
            raise RuntimeError("the rest of the change fails")

    with pytest.raises(RuntimeError):
        failing_change()
    assert setting.wakes.rows_seen == [] and setting.homes.changed_for == []
    with session_scope(engine) as session:
        assert session.exec(select(TicketEvent)).all() == []


def test_an_audit_event_alone_queues_nothing_and_wakes_nobody(
    setting: Setting, engine: Engine, clock: FakeClock
) -> None:
    revealed = Change(EventKind.REVEALED, ANNA.user_id, card=False)
    with session_scope(engine) as session:
        setting.feed.record(session, setting.ticket(session), revealed, clock())
    assert setting.wakes.rows_seen == [] and setting.homes.changed_for == []


def test_the_services_refresh_home_tabs_only_for_changes_that_happened(
    setting: Setting, engine: Engine, clock: FakeClock
) -> None:
    homes = RecordingHomes()
    tickets = domain(engine, clock=clock, presenter=RecordingPresenter(), homes=homes).tickets
    tickets.claim(ticket_id=setting.ticket_id, member=ANNA)
    with pytest.raises(Refused):
        tickets.claim(ticket_id=setting.ticket_id, member=ANNA)  # "You already have #1."
    ben = Member("U0BEN", Role.AGENT, "BM", "Ben")
    with pytest.raises(Refused):
        tickets.release(ticket_id=setting.ticket_id, member=ben)
    tickets.release(ticket_id=setting.ticket_id, member=ANNA)
    assert homes.changed_for == [{"U0ANNA"}, {"U0ANNA"}]
