"""The sweep, on a fake clock: every reminder, alert and page fires exactly once, on time."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Engine
from sqlmodel import select

from bot.escalation import OnCall
from bot.roster import Member
from bot.spikes import is_spike
from bot.x_models import XUser
from standins import x_api
from standins.x_api import XStandIn
from store.db import session_scope
from store.models import Escalation, Role, SlackOutbox, Ticket
from tests.fakes.domain import FakeClock, RecordingPresenter, TweetFactory, domain

BERLIN = ZoneInfo("Europe/Berlin")
BERLIN_MONDAY_9 = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)  # 09:00 in Berlin
ANNA = Member("U0ANNA", Role.AGENT, "AS", "Anna Schmidt")
LEAD = Member("U0LEAD", Role.LEAD, "LL", "Lena Lehmann")


class Names:
    def real_name(self, user_id: str) -> str | None:
        return {"U0ANNA": "Anna Schmidt", "U0LEAD": "Lena Lehmann", "U0BEN": "Ben Meier"}.get(
            user_id
        )


class World:
    """Every service of the bot on one SQLite file and a fake clock; X is the stand-in."""

    def __init__(self, engine: Engine, x: XStandIn, clock: FakeClock, **settings: Any) -> None:
        self.engine, self.clock = engine, clock
        self.presenter = RecordingPresenter()
        self.services = domain(
            engine,
            clock=clock,
            presenter=self.presenter,
            x_url=x.base_url,
            brand=XUser(id=x_api.BRAND_ID, username=x_api.BRAND_USERNAME),
            directory=Names(),
            **{
                "service_hours": "mon-fri 08:00-20:00",
                "holidays": "DE",
                "out_of_hours_reply": "Wir sind ab {opens} wieder da.",
                **settings,
            },
        )
        self.roster = self.services.roster
        self.roster.ensure_admins()
        self.roster.add(user_id="U0ANNA", role="agent", initials="AS")
        self.roster.add(user_id="U0BEN", role="agent", initials=None)
        self.tickets = self.services.tickets
        self.canned = self.services.canned
        self.replies = self.services.replies
        self.followups = self.services.followups
        self.oncall = self.services.oncall
        self.escalations = self.services.escalations
        self.sweeper = self.services.sweeper
        self.spikes = self.services.spikes
        self.inbox = self.services.inbox
        self.x = x
        self.tweets = TweetFactory(clock)

    def customer_tweets(
        self, username: str = "karl_k", text: str = "Kein Netz", followers: int = 50
    ) -> int:
        """A customer tweets (on the X stand-in too, so that replies can answer it)."""
        user = self.x.user_by_name(username) or self.x.add_user(username, followers=followers)
        posted = self.x.mention(user, text)
        author = XUser(id=user["id"], username=username, name=username, followers=followers)
        from bot.x_models import Tweet

        tweet = Tweet(
            id=posted["id"],
            text=posted["text"],
            author=author,
            created_at=self.clock(),
            conversation_id=posted["id"],
            mentioned_user_ids=(x_api.BRAND_ID,),
            hashtags=tuple(h["tag"] for h in posted["entities"].get("hashtags", [])),
        )
        result = self.inbox.store([tweet])
        return result.new_tickets[0] if result.new_tickets else -1

    def sweep(self, **later: float) -> dict[str, int]:
        if later:
            self.clock.advance(**later)
        return self.sweeper.run().fired

    def escalation_causes(self) -> list[str]:
        with session_scope(self.engine) as session:
            return [e.cause for e in session.exec(select(Escalation))]

    def dms(self) -> list[SlackOutbox]:
        with session_scope(self.engine) as session:
            return list(session.exec(select(SlackOutbox).where(SlackOutbox.kind == "dm")))


@pytest.fixture
def world(engine: Engine, x: XStandIn) -> World:
    return World(engine, x, FakeClock(BERLIN_MONDAY_9))


def test_a_promise_reminds_then_is_due_then_escalates_each_exactly_once(
    engine: Engine, x: XStandIn
) -> None:
    world = World(engine, x, FakeClock(BERLIN_MONDAY_9), first_response_sla_minutes=10_000)
    ticket = world.customer_tweets()
    world.tickets.claim(ticket_id=ticket, member=ANNA)
    world.oncall.set(user_id="U0BEN", by=LEAD)
    world.followups.promise(
        ticket_id=ticket, member=ANNA, due=world.clock() + timedelta(minutes=45), note="Leitung"
    )

    assert world.sweep() == {}
    assert world.sweep(minutes=34) == {}
    assert world.sweep(minutes=1) == {"followup_warning": 1}  # ten minutes before
    assert world.sweep(seconds=30) == {}
    assert world.sweep(minutes=10) == {"followup_due": 1}
    assert world.sweep(minutes=14) == {}
    assert world.sweep(minutes=1) == {"followup_escalated": 1}
    assert world.sweep(hours=5) == {}
    assert world.escalation_causes() == ["followup:1"]
    assert [dm.channel for dm in world.dms()] == ["U0BEN"]
    warning = next(v for v in world.presenter.shown if getattr(v, "kind", "") == "followup_warning")
    assert warning.target == "U0ANNA" and warning.note == "Leitung"


def test_a_reply_keeps_the_promise_and_stops_the_reminders(world: World) -> None:
    ticket = world.customer_tweets()
    world.followups.promise(
        ticket_id=ticket, member=ANNA, due=world.clock() + timedelta(hours=1), note=""
    )
    world.clock.advance(minutes=30)
    assert (
        world.replies.send(ticket_id=ticket, body="Die Leitung ist repariert!", member=ANNA).status
        == "sent"
    )
    assert world.sweep(hours=3) == {}
    from store.models import FollowUp

    with session_scope(world.engine) as session:
        assert [f.state for f in session.exec(select(FollowUp))] == ["kept"]


def test_an_unclaimed_ticket_is_reannounced_after_ten_business_minutes(world: World) -> None:
    world.customer_tweets()
    assert world.sweep(minutes=9) == {}
    assert world.sweep(minutes=1) == {"unclaimed": 1}
    assert world.sweep(minutes=30).get("unclaimed") is None
    [line] = [view for view in world.presenter.shown if getattr(view, "kind", "") == "unclaimed"]
    assert line.minutes == 10 and line.note is None  # a number, in its own field


def test_business_minutes_stand_still_over_the_weekend(engine: Engine, x: XStandIn) -> None:
    friday_evening = datetime(2026, 11, 27, 18, 55, tzinfo=UTC)  # 19:55 in Berlin
    world = World(engine, x, FakeClock(friday_evening), out_of_hours_reply="")
    world.customer_tweets()
    assert world.sweep(minutes=30).get("unclaimed") is None  # 5 business minutes on Friday
    assert world.sweep(days=2).get("unclaimed") is None  # Sunday evening: still 5
    world.clock.now = datetime(2026, 11, 30, 7, 4, tzinfo=UTC)  # Monday 08:04
    assert world.sweep().get("unclaimed") is None
    assert world.sweep(minutes=1) == {"unclaimed": 1}


def test_the_first_response_sla_warns_then_escalates_once(world: World) -> None:
    ticket = world.customer_tweets()
    world.tickets.claim(ticket_id=ticket, member=ANNA)
    assert world.sweep(minutes=23).get("sla_warning") is None
    assert world.sweep(minutes=1).get("sla_warning") == 1  # 80 % of 30 minutes
    assert world.sweep(minutes=5).get("sla_missed") is None
    assert world.sweep(minutes=1).get("sla_missed") == 1
    assert world.sweep(minutes=60) == {}
    assert world.escalation_causes() == [f"sla:{ticket}"]
    with session_scope(world.engine) as session:
        stored = session.get(Ticket, ticket)
        assert stored is not None and stored.sla_missed_at is not None and stored.escalated


def test_a_storm_of_alike_questions_missing_the_sla_pages_once_for_its_group(
    world: World,
) -> None:
    asked = [
        world.customer_tweets(
            f"kunde{i}", "Wann kann ich meinen Vertrag fürs neue iPhone verlängern?"
        )
        for i in range(30)
    ]
    alone = world.customer_tweets("karl_k", "Rechnung doppelt abgebucht, bitte prüfen")
    assert world.sweep(minutes=31).get("sla_missed") == 31
    # One page for the ticket alone, one for the 30 who asked the same: not 31.
    assert sorted(world.escalation_causes()) == sorted([f"sla:{alone}", "sla:group:1"])
    assert len(asked) == 30


def test_an_answered_ticket_never_misses_its_sla(world: World) -> None:
    ticket = world.customer_tweets()
    world.clock.advance(minutes=5)
    world.replies.send(ticket_id=ticket, body="Wir schauen sofort!", member=ANNA)
    assert "sla_missed" not in world.sweep(hours=2)


def test_a_vip_customer_pages_on_call_once(world: World) -> None:
    world.oncall.set(user_id="U0ANNA", by=LEAD)
    world.customer_tweets("promi", followers=250_000)
    assert world.sweep().get("vip") == 1
    assert world.sweep(minutes=1).get("vip") is None
    assert world.escalation_causes() == ["vip:1"]


def test_out_of_hours_customers_get_one_answer_naming_the_next_opening(
    engine: Engine, x: XStandIn
) -> None:
    saturday = datetime(2026, 11, 28, 10, 0, tzinfo=UTC)
    world = World(
        engine,
        x,
        FakeClock(saturday),
        unclaimed_alert_minutes=10_000,
        first_response_sla_minutes=10_000,
    )
    first = world.customer_tweets("karl_k", "Kein Netz seit heute Morgen")
    assert world.sweep() == {"out_of_hours_sent": 1}
    [answer] = x.brand_tweets()
    assert answer["text"] == "@karl_k Wir sind ab Mo 30.11. 08:00 wieder da. ^Bot"
    world.tickets.resolve(ticket_id=first, member=LEAD)
    world.customer_tweets("karl_k", "Und noch etwas anderes")  # a new ticket, same closed period
    assert world.sweep(minutes=5) == {}
    assert len(x.brand_tweets()) == 1
    with session_scope(world.engine) as session:
        stored = session.get(Ticket, first)
        assert stored is not None and stored.out_of_hours and stored.first_response_at is None


def test_out_of_hours_answers_can_be_switched_off(engine: Engine, x: XStandIn) -> None:
    world = World(
        engine, x, FakeClock(datetime(2026, 11, 28, 10, 0, tzinfo=UTC)), out_of_hours_reply=""
    )
    world.customer_tweets()
    assert "out_of_hours_sent" not in world.sweep()
    assert x.brand_tweets() == []


def test_manual_escalation_pages_once_per_reason(world: World) -> None:
    ticket = world.customer_tweets()
    world.oncall.set(user_id="U0BEN", by=LEAD)
    assert (
        world.escalations.manual(ticket_id=ticket, reason="Störung in Bonn", member=ANNA) == "U0BEN"
    )
    from bot.errors import Refused

    with pytest.raises(Refused, match="already"):
        world.escalations.manual(ticket_id=ticket, reason="störung in bonn ", member=ANNA)
    assert (
        world.escalations.manual(ticket_id=ticket, reason="Jetzt auch Köln", member=ANNA) == "U0BEN"
    )
    assert len(world.dms()) == 2


def test_the_rota_decides_unless_a_lead_set_someone_this_week(engine: Engine, x: XStandIn) -> None:
    world = World(engine, x, FakeClock(BERLIN_MONDAY_9))
    rota = OnCall(engine=engine, roster=world.roster, rota=["U0ANNA", "U0BEN"], clock=world.clock)
    week = BERLIN_MONDAY_9.isocalendar().week
    expected = ["U0ANNA", "U0BEN"][week % 2]
    assert rota.current() == expected
    rota.set(user_id="U0LEAD", by=LEAD)
    assert rota.current() == "U0LEAD"
    world.clock.advance(days=7)
    assert rota.current() == ["U0ANNA", "U0BEN"][(week + 1) % 2]


@pytest.mark.parametrize(
    ("count", "usual", "minimum", "factor", "spike"),
    [
        (20, 4.0, 20, 5.0, True),
        (19, 0.0, 20, 5.0, False),
        (40, 8.1, 20, 5.0, False),
        (5, 1.0, 5, 3.0, True),
        (5, 2.0, 5, 3.0, False),
    ],
)
def test_the_spike_rule(count: int, usual: float, minimum: int, factor: float, spike: bool) -> None:
    assert is_spike(count, usual, minimum=minimum, factor=factor) is spike


def test_a_burst_of_mentions_pages_once_with_examples(world: World) -> None:
    world.oncall.set(user_id="U0BEN", by=LEAD)
    watch = world.spikes
    for i in range(3):  # a quiet day: three mentions, hours apart
        world.customer_tweets(f"quiet{i}")
        world.clock.advance(hours=3)
    assert watch.check() == []
    for i in range(25):
        world.customer_tweets(f"storm{i}", f"Alles down #TelekomFail {i}", followers=i * 100)
    paged = watch.check()
    assert [s.kind for s in paged] == ["mentions", "fail"]
    assert paged[0].count == 25 and paged[0].examples[0].startswith("@storm24")
    # The usual rate: the three quiet mentions over the 24 hours before, per 10 minutes.
    assert paged[0].baseline == pytest.approx(3 / 144) and paged[1].baseline == 0
    world.clock.advance(minutes=5)
    assert watch.check() == []  # one page per kind and hour
    assert sorted(c.split(":")[1] for c in world.escalation_causes() if c.startswith("spike:")) == [
        "fail",
        "mentions",
    ]
