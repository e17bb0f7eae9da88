"""Auto-assignment decides once: replicas assigning at the same instant never give one
ticket to two people, nor anyone more than MAX_OPEN_PER_AGENT (SQLite and PostgreSQL)."""

from __future__ import annotations

import threading
from collections import Counter
from datetime import datetime
from typing import Any

from sqlalchemy import Engine
from sqlmodel import select

from bot.services import Services
from store.db import session_scope
from store.groups import groups_of
from store.models import EventKind, Ticket, TicketEvent
from tests.fakes.domain import FakeClock, RecordingPresenter, TweetFactory, domain
from tests.harness import question


class Names:
    def real_name(self, user_id: str) -> str | None:
        return f"Agent {user_id}"


def team(services: Services, **people: str) -> None:
    """People on the roster as `user=role`; agents work every topic asked for below."""
    for user, role in people.items():
        services.roster.add(user_id=user, role=role, initials=None)


def tickets(services: Services, clock: FakeClock, count: int) -> list[int]:
    factory = TweetFactory(clock)
    # Questions of their own: alike ones would form a group, which is assigned as one.
    tweets = [factory.mention(factory.user(f"kunde{i}"), question(i)) for i in range(count)]
    return services.inbox.store(tweets).new_tickets


def owners(engine: Engine) -> dict[int, str | None]:
    with session_scope(engine) as session:
        return {t.id: t.owner_slack_id for t in session.exec(select(Ticket)) if t.id}


def assigned_events(engine: Engine) -> int:
    with session_scope(engine) as session:
        rows = session.exec(select(TicketEvent).where(TicketEvent.kind == EventKind.ASSIGNED))
        return len(list(rows))


def auto(engine: Engine, clock: FakeClock, **settings: Any) -> Services:
    return domain(
        engine,
        clock=clock,
        presenter=RecordingPresenter(),
        directory=Names(),
        assignment="auto",
        **settings,
    )


def test_replicas_assigning_at_once_respect_the_cap_and_give_each_ticket_once(
    any_engine: Engine,
) -> None:
    clock = FakeClock()
    # Two "replicas": two wirings of the domain on one database, as two processes would be.
    replicas = [auto(any_engine, clock, max_open_per_agent=3) for _ in range(2)]
    team(replicas[0], UA="agent", UB="agent", UC="agent")
    ids = tickets(replicas[0], clock, 12)
    jobs = [(replica, ticket) for ticket in ids for replica in replicas]  # each ticket twice
    barrier = threading.Barrier(len(jobs))
    errors: list[BaseException] = []

    def assign(replica: Services, ticket: int) -> None:
        barrier.wait()
        try:
            replica.assigner.assign([ticket])
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=assign, args=job) for job in jobs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    load = Counter(owner for owner in owners(any_engine).values())
    assert load == {"UA": 3, "UB": 3, "UC": 3, None: 3}
    assert assigned_events(any_engine) == 9


def test_the_fewest_open_then_the_longest_waiting_get_the_next_ticket(engine: Engine) -> None:
    clock = FakeClock()
    services = auto(engine, clock)
    team(services, UA="agent", UB="agent", UL="lead", UT="trainee")
    first, second, third = tickets(services, clock, 3)
    assert services.assigner.assign([first]) == "UA"  # nobody waited longer: by id
    clock.advance(minutes=1)
    assert services.assigner.assign([second]) == "UB"  # fewest open
    clock.advance(minutes=1)
    services.tickets.resolve(ticket_id=first, member=services.roster.member("UA"))  # type: ignore[arg-type]
    services.tickets.resolve(ticket_id=second, member=services.roster.member("UB"))  # type: ignore[arg-type]
    assert services.assigner.assign([third]) == "UA"  # both none open: UA waited longer
    assert services.assigner.assign([third]) is None  # already has an owner


def test_skills_decide_for_a_topic_and_trainees_only_when_allowed(engine: Engine) -> None:
    clock = FakeClock()
    services = auto(engine, clock, auto_assign_trainees=True)
    team(services, UA="agent", UT="trainee")
    services.topics.add(name="festnetz", channel="CFEST0001", keywords=["DSL"], author="UL")
    services.roster.set_skills(user_id="UT", topics=["festnetz"])
    factory = TweetFactory(clock)
    dsl, other = services.inbox.store(
        [
            factory.mention(factory.user("a"), "kein DSL"),
            factory.mention(factory.user("b"), "Rechnung"),
        ]
    ).new_tickets
    assert services.assigner.assign([dsl]) == "UT"  # the only one with the skill
    assert services.assigner.assign([other]) == "UA"  # no topic: anyone, fewest open

    without_trainees = auto(engine, clock)
    (later,) = services.inbox.store([factory.mention(factory.user("c"), "DSL tot")]).new_tickets
    assert without_trainees.assigner.assign([later]) is None  # UT is a trainee, UA lacks it


def test_a_group_goes_to_one_person_within_the_cap_or_stays_unclaimed(engine: Engine) -> None:
    clock = FakeClock()
    services = auto(engine, clock, max_open_per_agent=3)
    team(services, UA="agent", UB="agent")
    ids = tickets(services, clock, 7)
    assert services.assigner.assign(ids[:3]) == "UA"
    assert services.assigner.assign(ids[3:7]) is None  # four would put anyone over three
    assert set(owners(engine).values()) == {"UA", None}


def test_away_people_and_closed_hours_get_nothing(engine: Engine) -> None:
    clock = FakeClock(datetime.fromisoformat("2026-11-23T21:00:00+01:00"))
    closed = auto(engine, clock, service_hours="mon-fri 08:00-20:00")
    team(closed, UA="agent")
    (ticket,) = tickets(closed, clock, 1)
    assert closed.assigner.assign([ticket]) is None  # after 20:00

    clock.now = datetime.fromisoformat("2026-11-24T09:00:00+01:00")
    closed.roster.set_away(user_id="UA", away=True)
    assert closed.assigner.assign([ticket]) is None
    closed.roster.set_away(user_id="UA", away=False)
    assert closed.assigner.assign([ticket]) == "UA"


def test_a_leads_re_assignment_follows_the_rule_and_outside_hours_moves_nothing(
    engine: Engine,
) -> None:
    clock = FakeClock(datetime.fromisoformat("2026-11-24T09:00:00+01:00"))
    services = auto(engine, clock, service_hours="mon-fri 08:00-20:00", max_open_per_agent=1)
    team(services, UA="agent", UB="agent", UC="agent")
    first, second, third = tickets(services, clock, 3)
    assert [services.assigner.assign([t]) for t in (first, second)] == ["UA", "UB"]
    services.roster.set_away(user_id="UA", away=True)

    clock.now = datetime.fromisoformat("2026-11-24T21:00:00+01:00")
    assert services.assigner.reassign_from(away="UA", lead="UL") == [(first, None)]
    clock.now = datetime.fromisoformat("2026-11-25T09:00:00+01:00")
    assert services.assigner.reassign_from(away="UA", lead="UL") == [(first, "UC")]
    assert owners(engine)[first] == "UC"
    assert services.assigner.assign([third]) is None  # UB and UC at the cap of one


def test_waiting_tickets_go_out_at_opening_and_to_whoever_has_room_again(
    engine: Engine,
) -> None:
    clock = FakeClock(datetime.fromisoformat("2026-11-23T22:00:00+01:00"))  # Monday night
    services = auto(engine, clock, service_hours="mon-fri 08:00-20:00", max_open_per_agent=2)
    team(services, UA="agent", UB="agent")
    night = tickets(services, clock, 5)
    services.ingest.opened(night)  # as ingest hands them over: closed, nothing assigned
    assert services.assigner.waiting() == 0
    assert set(owners(engine).values()) == {None}

    clock.now = datetime.fromisoformat("2026-11-24T08:00:00+01:00")
    assert services.assigner.waiting() == 4  # two each, the oldest first
    assert owners(engine)[night[4]] is None
    services.tickets.resolve(ticket_id=night[0], member=services.roster.member("UA"))  # type: ignore[arg-type]
    assert services.assigner.waiting() == 1
    assert owners(engine)[night[4]] == "UA"

    services.tickets.release(ticket_id=night[1], member=services.roster.member("UB"))  # type: ignore[arg-type]
    assert services.assigner.waiting() == 0  # given back on purpose: people pull it


def test_a_group_of_alike_questions_is_assigned_as_one(engine: Engine) -> None:
    """Its members all go to one person, and count once towards the cap there."""
    clock = FakeClock()
    services = auto(engine, clock, max_open_per_agent=2)
    team(services, UA="agent", UB="agent")
    factory = TweetFactory(clock)
    alike = [
        "Kann ich meinen Vertrag für das neue iPhone jetzt schon verlängern?",
        "Vertrag verlängern für das neue iPhone, geht das schon?",
        "Wann kann ich meinen Vertrag verlängern und das neue iPhone bekommen?",
        "neues iPhone: kann ich den Vertrag vorzeitig verlängern?",
        "Vertrag verlängern neues iPhone möglich?",
    ]
    ids = services.inbox.store(
        [factory.mention(factory.user(f"kunde{i}"), text) for i, text in enumerate(alike)]
    ).new_tickets
    services.assigner.new_tickets(ids)
    given = owners(engine)
    with session_scope(engine) as session:
        grouped = list(groups_of(session=session, ticket_ids=ids))
    assert len(grouped) >= 3, "the alike questions formed a group"
    assert len({given[i] for i in grouped}) == 1, "one person holds the whole group"
    holder = given[grouped[0]]
    assert holder in {"UA", "UB"}

    # The group is one of the holder's two; one more ticket fits, a third does not.
    (other,) = services.inbox.store(
        [factory.mention(factory.user("solo"), "Rechnung doppelt abgebucht")]
    ).new_tickets
    assert services.assigner.assign([other], exclude={"UA", "UB"} - {holder}) == holder
    (third,) = services.inbox.store(
        [factory.mention(factory.user("solo2"), "Router blinkt rot seit Stromausfall")]
    ).new_tickets
    assert services.assigner.assign([third], exclude={"UA", "UB"} - {holder}) is None
