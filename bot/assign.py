"""Auto-assignment (SPEC §13, `ASSIGNMENT=auto`): who gets a new ticket, decided once.

In service hours a new ticket goes to the present agent with the topic's skill (anyone
for a ticket without a topic) who has the fewest open tickets, ties to whoever waited
longest since auto-assignment last gave them one, never above `MAX_OPEN_PER_AGENT`.
Trainees take part only with `AUTO_ASSIGN_TRAINEES=true`; leads never (they lead).

The choice is made in one transaction that first locks the tickets and then every
candidate's roster row, in id order. Two replicas assigning at once therefore take
turns: the second one counts open tickets after the first has committed, so nobody
is given one ticket twice or more tickets than the cap (on SQLite the write lock that
every writing transaction takes at its start serialises the same way).

`assign` takes a list of tickets that go to one person together: one ticket, or the
members of a group of alike questions (SPEC §10), which is assigned as one: its members
go to whoever holds the group already, and a group counts as one ticket towards the cap
(its answer is written once, for all of them).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Engine, func, update
from sqlmodel import Session, col, select

from bot import outbox
from bot.clock import Clock, system_clock
from bot.feed import Change, TicketFeed
from bot.present import ActivityKind, ActivityView, AwayOfferView, SlackMessage
from store import groups as group_queries
from store import outbox as outbox_rows
from store import tickets as queries
from store.db import after_commit, session_scope
from store.models import Agent, EventKind, GroupMember, OutboxKind, Role, Ticket, TicketState

log = logging.getLogger(__name__)

PULL, AUTO = "pull", "auto"
_NEVER = datetime.min.replace(tzinfo=UTC)


def _always_open(_at: datetime) -> bool:
    return True


def _nobody() -> list[str]:
    return []


@dataclass(frozen=True, kw_only=True)
class Assigner:
    """Gives new tickets to people when `ASSIGNMENT=auto`; offers an away owner's to leads."""

    engine: Engine
    feed: TicketFeed
    mode: str = PULL
    cap: int = 8
    trainees: bool = False
    is_open: Callable[[datetime], bool] = _always_open
    leads: Callable[[], list[str]] = _nobody
    render_offer: Callable[[AwayOfferView], SlackMessage] | None = None
    clock: Clock = system_clock

    def new_tickets(self, ticket_ids: Sequence[int]) -> None:
        """Tickets just stored by the inbox: each on its own, a group's members together."""
        if self.mode != AUTO or not ticket_ids:
            return
        for unit in self._units(ticket_ids):
            self.assign(unit)

    def _units(self, ticket_ids: Sequence[int]) -> list[list[int]]:
        """The tickets as what is assigned at once: alone, or with their group's others."""
        with session_scope(self.engine, readonly=True) as session:
            groups = group_queries.groups_of(session=session, ticket_ids=ticket_ids)
        units: list[list[int]] = []
        by_group: dict[int, list[int]] = {}
        for ticket_id in ticket_ids:
            group = groups.get(ticket_id)
            if group is None:
                units.append([ticket_id])
            elif group in by_group:
                by_group[group].append(ticket_id)
            else:
                units.append(by_group.setdefault(group, [ticket_id]))
        return units

    def waiting(self, *, limit: int = 50, give_up_after: int = 10) -> int:
        """Assign tickets still waiting for an owner, oldest first; how many were given.

        Runs with the sweeps: what arrived out of hours is shared out at opening, and
        what nobody had room for goes to the first one who has (back from `/away`, below
        the cap again). After `give_up_after` refusals in a row it stops until next time.
        """
        if self.mode != AUTO or not self.is_open(self.clock()):
            return 0
        with session_scope(self.engine, readonly=True) as session:
            ids = [
                int(i)
                for i in session.exec(
                    select(Ticket.id)
                    .where(col(Ticket.owner_slack_id).is_(None))
                    .where(col(Ticket.state) == TicketState.NEW)
                    # Never owned: a ticket someone gave back with /release stays for
                    # people to pull, rather than landing straight back on someone.
                    .where(col(Ticket.claimed_at).is_(None))
                    .order_by(col(Ticket.created_at), col(Ticket.id))
                    .limit(limit)
                )
                if i is not None
            ]
        given = refused = 0
        for unit in self._units(ids):
            if self.assign(unit) is None:
                refused += 1
                if refused >= give_up_after:
                    break
            else:
                given, refused = given + 1, 0
        return given

    def assign(self, ticket_ids: Sequence[int], *, exclude: Collection[str] = ()) -> str | None:
        """Give these tickets, together, to the one the rule picks; their owner, or None.

        Only tickets still without an owner are given; nothing happens outside service
        hours or when nobody may take them all without going over the cap.
        """
        now = self.clock()
        if not self.is_open(now):
            return None
        with session_scope(self.engine) as session:
            tickets = [
                t
                for t in (self._locked(session, i) for i in sorted(set(ticket_ids)))
                if t is not None and t.owner_slack_id is None and t.state == TicketState.NEW
            ]
            if not tickets:
                return None
            owner = self._holder(session, tickets, exclude=exclude)
            owner = owner or self._pick(session, tickets, exclude=exclude)
            if owner is None:
                return None
            for ticket in tickets:
                self._give(session, ticket, owner, actor=None, now=now)
            return owner.slack_user_id

    def reassign_from(self, *, away: str, lead: str) -> list[tuple[int, str | None]]:
        """A lead accepted the offer: each open ticket of `away` to whoever the rule picks.

        Tickets nobody can take stay with `away`; the lead sees which.
        """
        now = self.clock()
        with session_scope(self.engine, readonly=True) as session:
            open_ids = _open_tickets_of(session, away)
        if not self.is_open(now):  # outside service hours everybody counts as away
            return [(ticket_id, None) for ticket_id in open_ids]
        moved: list[tuple[int, str | None]] = []
        for ticket_id in open_ids:
            with session_scope(self.engine) as session:
                ticket = self._locked(session, ticket_id)
                if ticket is None or ticket.owner_slack_id != away:
                    continue  # handed over or resolved since the offer
                if ticket.state == TicketState.RESOLVED:
                    continue
                owner = self._pick(session, [ticket], exclude={away})
                if owner is not None:
                    self._give(session, ticket, owner, actor=lead, now=now, previous=away)
                moved.append((ticket_id, owner.slack_user_id if owner else None))
        return moved

    def went_away(self, user_id: str) -> None:
        """Someone typed `/away`: if they hold open tickets, every lead is offered to
        re-assign them (by DM, with buttons); nothing moves without a lead's click."""
        if self.render_offer is None:
            return
        now = self.clock()
        with session_scope(self.engine) as session:
            open_ids = _open_tickets_of(session, user_id)
            if not open_ids:
                return
            view = AwayOfferView(away=user_id, ticket_ids=tuple(open_ids), at=now)
            message = self.render_offer(view)
            for lead in self.leads():
                if lead == user_id:
                    continue
                # One offer per absence and lead, however often Slack retries /away.
                key = f"away:{user_id}:{lead}:{now:%Y%m%d%H%M}"[:128]
                if outbox_rows.find_by_key(session=session, dedup_key=key) is not None:
                    continue
                outbox.post_to_channel(
                    session=session,
                    channel=lead,
                    message=message,
                    now=now,
                    dedup_key=key,
                    kind=OutboxKind.DM,
                )
            after_commit(session, self.feed.wake)

    # -- the rule --------------------------------------------------------------------------

    @staticmethod
    def _locked(session: Session, ticket_id: int) -> Ticket | None:
        return queries.ticket_for_update(session=session, ticket_id=ticket_id)

    def _holder(
        self, session: Session, tickets: Sequence[Ticket], *, exclude: Collection[str] = ()
    ) -> Agent | None:
        """Whoever holds the group these tickets joined (present, not excluded), locked.

        New members of a group one person is answering are theirs: the group is one piece
        of work for the cap, already counted.
        """
        ids = [t.id for t in tickets if t.id is not None]
        groups = set(group_queries.groups_of(session=session, ticket_ids=ids).values())
        if len(groups) != 1:
            return None
        holder = group_queries.group_holder(session=session, group_id=groups.pop())
        if holder is None or holder in exclude:
            return None
        return session.exec(
            select(Agent)
            .where(Agent.slack_user_id == holder)
            .where(col(Agent.away).is_(False))
            .with_for_update()
            .execution_options(populate_existing=True)
        ).first()

    def _pick(
        self, session: Session, tickets: Sequence[Ticket], *, exclude: Collection[str] = ()
    ) -> Agent | None:
        roles = [Role.AGENT.value] + ([Role.TRAINEE.value] if self.trainees else [])
        # Locked in id order: every assigner takes the same locks in the same order.
        candidates = list(
            session.exec(
                select(Agent)
                .where(col(Agent.role).in_(roles))
                .where(col(Agent.away).is_(False))
                .order_by(col(Agent.slack_user_id))
                .with_for_update()
                .execution_options(populate_existing=True)
            )
        )
        needed = {t.topic.lower() for t in tickets if t.topic}
        skilled = [
            a
            for a in candidates
            if a.slack_user_id not in exclude
            and needed <= {s.lower() for s in a.skills.split(",") if s}
        ]
        if not skilled:
            return None
        load = _open_counts(session, [a.slack_user_id for a in skilled])
        ids = [t.id for t in tickets if t.id is not None]
        groups = group_queries.groups_of(session=session, ticket_ids=ids)
        # A group's members are one piece of work; tickets alone count one each.
        units = len(set(groups.values())) + sum(1 for i in ids if i not in groups)
        room = [a for a in skilled if load.get(a.slack_user_id, 0) + units <= self.cap]
        if not room:
            return None
        return min(
            room,
            key=lambda a: (
                load.get(a.slack_user_id, 0),
                a.last_assigned_at or _NEVER,
                a.slack_user_id,
            ),
        )

    def _give(
        self,
        session: Session,
        ticket: Ticket,
        owner: Agent,
        *,
        actor: str | None,
        now: datetime,
        previous: str | None = None,
    ) -> None:
        assert ticket.id is not None
        result = session.execute(
            update(Ticket)
            .where(col(Ticket.id) == ticket.id)
            .where(col(Ticket.owner_slack_id).is_(None) | (col(Ticket.owner_slack_id) == previous))
            .values(
                owner_slack_id=owner.slack_user_id,
                state=TicketState.CLAIMED.value
                if ticket.state == TicketState.NEW
                else ticket.state,
                claimed_at=func.coalesce(col(Ticket.claimed_at), now),
                updated_at=now,
            )
            .execution_options(synchronize_session=False)
        )
        if result.rowcount != 1:  # type: ignore[attr-defined]
            return  # the row is locked, so this cannot happen; never give it twice anyway
        session.expire(ticket)
        owner.last_assigned_at = now
        session.add(owner)
        line = ActivityView(ticket.id, ActivityKind.ASSIGNED, actor, owner.slack_user_id)
        people = [owner.slack_user_id, previous]
        change = Change(EventKind.ASSIGNED, actor, owner.slack_user_id, line, people=people)
        self.feed.record(session, ticket, change, now)


def _open_counts(session: Session, people: Sequence[str]) -> dict[str, int]:
    """Open tickets per person, a group's members counted once (group ids as negatives,
    so they never meet a ticket id)."""
    unit = func.coalesce(-col(GroupMember.group_id), col(Ticket.id))
    rows = session.execute(
        select(Ticket.owner_slack_id, func.count(func.distinct(unit)))
        .outerjoin(
            GroupMember,
            (col(GroupMember.ticket_id) == Ticket.id) & col(GroupMember.taken_out_at).is_(None),
        )
        .where(col(Ticket.owner_slack_id).in_(people))
        .where(col(Ticket.state) != TicketState.RESOLVED)
        .group_by(col(Ticket.owner_slack_id))
    )
    return {str(owner): int(n) for owner, n in rows}


def _open_tickets_of(session: Session, user_id: str) -> list[int]:
    return [
        int(i)
        for i in session.exec(
            select(Ticket.id)
            .where(col(Ticket.owner_slack_id) == user_id)
            .where(col(Ticket.state) != TicketState.RESOLVED)
            .order_by(col(Ticket.id))
        )
        if i is not None
    ]
