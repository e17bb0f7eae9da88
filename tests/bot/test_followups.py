"""Promised times: what agents type, and what replies promise."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Engine
from sqlmodel import select

from bot.errors import Refused
from bot.followups import FollowUps, detect_promise, parse_when
from bot.roster import Member
from store.db import session_scope
from store.models import FollowUp, Role
from tests.bot.test_claims import a_ticket
from tests.fakes.domain import FakeClock, RecordingPresenter, domain

BERLIN = ZoneInfo("Europe/Berlin")
MONDAY_9 = datetime(2026, 11, 23, 9, 0, tzinfo=BERLIN).astimezone(UTC)


def local(due: datetime) -> str:
    return due.astimezone(BERLIN).strftime("%a %d.%m. %H:%M")


@pytest.mark.parametrize(
    ("text", "due", "note"),
    [
        ("45m check line", "Mon 23.11. 09:45", "check line"),
        ("2h", "Mon 23.11. 11:00", ""),
        ("1d Rückruf", "Tue 24.11. 09:00", "Rückruf"),
        ("90min", "Mon 23.11. 10:30", ""),
        ("14:30 Techniker", "Mon 23.11. 14:30", "Techniker"),
        ("tomorrow 10:00 call back", "Tue 24.11. 10:00", "call back"),
        ("morgen 10 Uhr Leitung prüfen", "Tue 24.11. 10:00", "Leitung prüfen"),
        ("morgen um 10:30 Uhr", "Tue 24.11. 10:30", ""),
        ("Freitag 12:00", "Fri 27.11. 12:00", ""),
        ("in 2 Stunden nachfragen", "Mon 23.11. 11:00", "nachfragen"),
        ("in 45 minutes", "Mon 23.11. 09:45", ""),
        ("übermorgen 9 Uhr", "Wed 25.11. 09:00", ""),
    ],
)
def test_times_agents_type(text: str, due: str, note: str) -> None:
    parsed, rest = parse_when(text, now=MONDAY_9, zone=BERLIN)
    assert (local(parsed), rest) == (due, note)
    assert parsed.tzinfo is not None


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("", "When?"),
        ("08:30", "has passed today"),
        ("soon-ish", "not a time I understand"),
        ("2", "not a time I understand"),
        ("Freitag", "has no time of day"),
        ("100d", "more than 60 days"),
        ("25:00", "not a time I understand"),
    ],
)
def test_nonsense_and_the_past_are_refused(text: str, why: str) -> None:
    with pytest.raises(Refused, match=why):
        parse_when(text, now=MONDAY_9, zone=BERLIN)


@pytest.mark.parametrize(
    ("reply", "minutes"),
    [
        ("Wir melden uns innerhalb der nächsten Stunde bei dir.", 60),
        ("Wir melden uns in einer Stunde.", 60),
        ("We'll get back to you within the hour!", 60),
        ("in an hour we know more", 60),
        ("Wir prüfen das und melden uns in 30 Minuten.", 30),
        ("Wir melden uns innerhalb von 2 Stunden.", 120),
        ("We will update you within 15 minutes.", 15),
    ],
)
def test_promises_in_replies_are_found(reply: str, minutes: int) -> None:
    promise = detect_promise(reply, now=MONDAY_9, zone=BERLIN)
    assert promise is not None
    assert promise.due == MONDAY_9 + timedelta(minutes=minutes)
    assert promise.phrase.lower() in reply.lower()


def test_bis_morgen_means_tomorrow_noon() -> None:
    promise = detect_promise("Wir klären das bis morgen.", now=MONDAY_9, zone=BERLIN)
    assert promise is not None and local(promise.due) == "Tue 24.11. 12:00"


@pytest.mark.parametrize(
    "reply",
    [
        "Danke für deine Geduld!",
        "Seit einer Stunde kein Netz? Das prüfen wir.",
        "Die Störung dauert 2 Stunden.",
        "Morgen ist Feiertag.",
    ],
)
def test_replies_without_a_promise_promise_nothing(reply: str) -> None:
    assert detect_promise(reply, now=MONDAY_9, zone=BERLIN) is None


def promises(engine: Engine) -> FollowUps:
    return domain(engine, clock=FakeClock(MONDAY_9), presenter=RecordingPresenter()).followups


ANNA = Member("U0ANNA", Role.AGENT, "AS", "Anna")


@pytest.mark.parametrize(
    ("due", "why"),
    [
        (MONDAY_9 + timedelta(days=61), "more than 60 days ahead"),
        (datetime(9999, 12, 31, 23, 59, tzinfo=UTC), "more than 60 days ahead"),
        (MONDAY_9 - timedelta(minutes=1), "is in the past"),
        (MONDAY_9, "is in the past"),
        (datetime(2026, 11, 23, 12, 0), "no time zone"),  # naive, as a forged button may hold
    ],
)
def test_a_promise_made_any_way_keeps_the_limits_of_followup(
    engine: Engine, due: datetime, why: str
) -> None:
    followups = promises(engine)
    ticket_id = a_ticket(engine, FakeClock(MONDAY_9))

    with pytest.raises(Refused, match=why):
        followups.promise(ticket_id=ticket_id, member=ANNA, due=due, note="")

    with session_scope(engine) as session:
        assert session.exec(select(FollowUp)).all() == []


@pytest.mark.parametrize(
    ("who", "cancels"),
    [
        (ANNA, True),
        (Member("U0LEAD", Role.LEAD, "LL", "Lena"), True),
        (Member("U0BEN", Role.AGENT, "BM", "Ben"), False),
        (Member("U0TOM", Role.TRAINEE, "TT", "Tom"), False),
    ],
)
def test_a_promise_is_cancelled_by_its_owner_or_a_lead(
    engine: Engine, who: Member, cancels: bool
) -> None:
    followups = promises(engine)
    ticket_id = a_ticket(engine, FakeClock(MONDAY_9))
    followups.promise(ticket_id=ticket_id, member=ANNA, due=MONDAY_9 + timedelta(hours=2), note="")

    if cancels:
        assert followups.cancel(ticket_id=ticket_id, member=who) == 1
    else:
        with pytest.raises(Refused, match="<@U0ANNA>'s promise: only its owner or a lead"):
            followups.cancel(ticket_id=ticket_id, member=who)

    with session_scope(engine) as session:
        [stored] = session.exec(select(FollowUp)).all()
        assert stored.state == ("cancelled" if cancels else "open")
