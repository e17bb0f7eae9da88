"""Claims are atomic: of many agents clicking at the same instant, exactly one wins."""

from __future__ import annotations

import threading

from sqlalchemy import Engine

from bot.errors import Refused
from bot.roster import Member
from store.db import session_scope
from store.models import Role, Ticket
from tests.bot.test_slack_queue import queue_tickets
from tests.fakes.domain import FakeClock, RecordingPresenter, domain


class Names:
    def real_name(self, user_id: str) -> str | None:
        return f"Agent {user_id}"


def a_ticket(engine: Engine, clock: FakeClock) -> int:
    """Ticket #1, its card queued as ingest queues it."""
    queue_tickets(engine, 1, channel="C1", clock=clock)
    return 1


def test_of_eight_simultaneous_claims_exactly_one_wins(any_engine: Engine) -> None:
    clock = FakeClock()
    services = domain(any_engine, clock=clock, presenter=RecordingPresenter(), directory=Names())
    tickets = services.tickets
    ticket_id = a_ticket(any_engine, clock)
    agents = [Member(f"U{i}", Role.AGENT, f"A{i}", f"Agent {i}") for i in range(8)]
    barrier = threading.Barrier(len(agents))
    won: list[str] = []
    refused: list[str] = []

    def claim(member: Member) -> None:
        barrier.wait()
        try:
            tickets.claim(ticket_id=ticket_id, member=member)
            won.append(member.user_id)
        except Refused as exc:
            refused.append(exc.user_message)

    threads = [threading.Thread(target=claim, args=(a,)) for a in agents]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    assert len(won) == 1
    assert len(refused) == 7 and all(f"already claimed by <@{won[0]}>" in r for r in refused)
    with session_scope(any_engine) as session:
        stored = session.get(Ticket, ticket_id)
        assert stored is not None and stored.owner_slack_id == won[0] and stored.state == "claimed"
