"""/stats on a small, hand-built week: every figure exactly as a lead would count it by hand."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine

from bot.roster import Member
from bot.stats import Stats
from standins.x_api import XStandIn
from store.models import Role
from tests.bot.test_sweeps import ANNA, BERLIN, World
from tests.fakes.domain import FakeClock

BEN = Member("U0BEN", Role.AGENT, "BM", "Ben Meier")


def berlin(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 12, day, hour, minute, tzinfo=BERLIN).astimezone(UTC)


@pytest.fixture
def week(engine: Engine, x: XStandIn) -> World:
    """Christmas week 2026 in Berlin, Mon–Fri 08:00–20:00, holidays of DE (25th and 26th)."""
    world = World(engine, x, FakeClock(berlin(21, 13)), unclaimed_alert_minutes=10_000)
    clock = world.clock
    world.canned.add(name="stoerung", text="Wir prüfen die Störung.", author="U0LEAD")

    one = world.customer_tweets("karl", "Kein Netz")  # Mon 13:00
    clock.now = berlin(21, 13, 10)
    world.replies.send(ticket_id=one, body="Wir schauen!", member=ANNA)  # 10 minutes
    world.followups.promise(ticket_id=one, member=ANNA, due=berlin(21, 15), note="")
    clock.now = berlin(21, 14, 30)
    world.replies.send(
        ticket_id=one, body="Leitung ist wieder da.", member=ANNA
    )  # keeps the promise
    world.tickets.resolve(ticket_id=one, member=ANNA)

    clock.now = berlin(21, 19, 50)
    two = world.customer_tweets("lisa", "Router blinkt")  # Mon 19:50
    clock.now = berlin(22, 8, 20)
    world.replies.send(
        ticket_id=two, body="Bitte einmal neu starten.", member=BEN
    )  # 10 + 20 = 30 minutes
    world.followups.promise(ticket_id=two, member=BEN, due=berlin(22, 12), note="")  # never kept

    clock.now = berlin(22, 9)
    three = world.customer_tweets("otto", "Störung in Köln")  # Tue 09:00
    clock.now = berlin(22, 10)
    body = world.canned.filled(ticket_id=three, name="stoerung", member=ANNA).text
    world.replies.send(
        ticket_id=three, body=body, member=ANNA, canned_name="stoerung"
    )  # 60 minutes
    world.followups.promise(ticket_id=three, member=ANNA, due=berlin(22, 16), note="")
    world.followups.cancel(ticket_id=three, member=ANNA)

    clock.now = berlin(23, 10)
    world.customer_tweets("paula", "Hallo?")  # Wed 10:00, never answered

    clock.now = berlin(24, 19, 55)
    five = world.customer_tweets("rita", "Kein Fernsehen")  # Thu 19:55, then holidays and a weekend
    clock.now = berlin(28, 8, 15)
    world.replies.send(ticket_id=five, body="Wir sind dran!", member=BEN)  # 5 + 15 = 20 minutes

    clock.now = berlin(28, 12)
    world.sweep()  # records #4's missed SLA
    return world


def test_the_weeks_figures(week: World) -> None:
    report = Stats(engine=week.engine, zone=BERLIN, sla_minutes=30, clock=week.clock).report("7d")

    assert report.tickets_in == 5
    assert (report.replies_out, report.dms_out) == (5, 0)
    assert (report.first_response_p50, report.first_response_p90, report.answered) == (20, 60, 4)
    assert (report.sla_kept, report.sla_missed) == (3, 2)
    assert report.sla_percent == 60
    assert (report.promises_kept, report.promises_broken) == (1, 1)
    assert report.promises_percent == 50
    assert report.backlog.unclaimed == 1 and report.backlog.claimed == 3
    assert (report.backlog.followup_pending, report.backlog.overdue) == (0, 1)
    agents = {a.slack_user_id: a for a in report.agents}
    assert (agents["U0ANNA"].claimed, agents["U0ANNA"].replied, agents["U0ANNA"].resolved) == (
        2,
        3,
        1,
    )
    assert (agents["U0BEN"].claimed, agents["U0BEN"].replied, agents["U0BEN"].resolved) == (2, 2, 0)
    assert (agents["U0ANNA"].median_first_response, agents["U0BEN"].median_first_response) == (
        10,
        20,
    )
    assert report.busiest_hours == [(19, 2), (9, 1), (10, 1)]
    assert report.top_canned == [("stoerung", 1)]
    assert [(p.label, p.tickets) for p in report.series] == [
        ("21.12.", 2),
        ("22.12.", 1),
        ("23.12.", 1),
        ("24.12.", 1),
    ]


def test_today_counts_from_local_midnight(week: World) -> None:
    stats = Stats(engine=week.engine, zone=BERLIN, sla_minutes=30, clock=week.clock)
    start, end = stats.window("today")
    assert start == berlin(28, 0) and end == berlin(28, 12)
    report = stats.report("today")
    assert report.tickets_in == 0 and report.replies_out == 1


def test_an_unknown_period_is_refused(week: World) -> None:
    from bot.errors import Refused

    with pytest.raises(Refused, match="use today, 7d or 30d"):
        Stats(engine=week.engine, zone=BERLIN, sla_minutes=30, clock=week.clock).report("1y")


def test_the_home_tab_data(week: World) -> None:
    stats = Stats(engine=week.engine, zone=BERLIN, sla_minutes=30, clock=week.clock)
    ben = stats.home(slack_user_id="U0BEN", lead=False)
    assert sorted(t.id for t in ben.tickets.items) == [2, 5] and ben.tickets.total == 2
    assert [(f.ticket_id, f.overdue) for f in ben.followups.items] == [(2, True)]
    assert ben.team is None
    assert stats.home(slack_user_id="U0LEAD", lead=True).team is not None


def test_the_chart_is_a_png_of_preview_size(week: World) -> None:
    from handlers.blocks.stats import chart_alt_text, chart_png

    report = Stats(engine=week.engine, zone=BERLIN, sla_minutes=30, clock=week.clock).report("7d")
    png = chart_png(report)
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    width, height = int.from_bytes(png[16:20], "big"), int.from_bytes(png[20:24], "big")
    assert (width, height) == (800, 450)
    assert "Most tickets: 2 at 21.12." in chart_alt_text(report)


def test_a_year_boundary_keeps_the_days_in_order(engine: Engine, x: XStandIn) -> None:
    world = World(
        engine, x, FakeClock(datetime(2026, 12, 31, 10, tzinfo=UTC)), out_of_hours_reply=""
    )
    world.customer_tweets("a", "1")
    world.clock.now = datetime(2027, 1, 4, 10, tzinfo=UTC)
    world.customer_tweets("b", "2")
    report = Stats(engine=world.engine, zone=BERLIN, sla_minutes=30, clock=world.clock).report("7d")
    assert [p.label for p in report.series] == ["31.12.", "04.01."]
    assert timedelta(0) < report.end - report.start
