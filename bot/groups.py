"""Groups of alike questions in Slack (SPEC §10): new tickets placed, one card per group.

Every ticket that ingest opens is placed by the `Grouper` (kept warm in the process,
rebuilt from the database at start and after a rolled-back transaction) inside the
transaction that stores it, so the ticket, its membership and what Slack will show of
them commit together. A ticket alone gets its card exactly as before. A ticket that forms
a group or joins one gets none of its own: the group's card counts it, and its thread
lists it, `BATCH_SIZE` members per message; a thread message that has not gone out yet
takes the next members, so a storm costs a few dozen posts. Members that had cards
before the group formed keep them, and their cards name the group.

The card is rendered once per transaction (`settle`) and, like every card, through the
posting queue: an update that has not gone out yet is rewritten, never queued twice, so
the card changes at most at the channel's pace, whatever the storm.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, event
from sqlmodel import Session

from bot import outbox
from bot.clock import Clock, system_clock
from bot.errors import Refused
from bot.feed import Change, TicketFeed
from bot.group_views import BATCH_SIZE, Eta, card_view, ids_of
from bot.grouping import Grouper, OpenTicket, Outcome
from bot.present import (
    PAGE_SIZE,
    GroupBatchView,
    GroupCardView,
    GroupMemberView,
    GroupReminderView,
    Page,
    SlackMessage,
    Suggestion,
)
from bot.roster import Member
from store import groups as queries
from store import outbox as queue
from store.db import after_commit, session_scope
from store.followups import fulfil_promises
from store.models import (
    EventKind,
    GroupMember,
    GroupState,
    OutboxKind,
    SlackOutbox,
    Ticket,
    TicketGroup,
    TicketState,
)

log = logging.getLogger(__name__)

_DIRTY = "servicekanal.groups.dirty"


def card_key(group_id: int) -> str:
    """The posting queue's key of a group's card."""
    return f"group:{group_id}"


def batch_key(group_id: int, batch: int) -> str:
    """The posting queue's key of one thread message listing members."""
    return f"group:{group_id}:batch:{batch}"


@dataclass
class _Dirty:
    """What one transaction changed of a group: settled once, before it commits."""

    listed: list[int] = field(default_factory=list)  # new members to list in the thread
    batches: set[int] = field(default_factory=set)  # thread messages to render again


@dataclass(kw_only=True)
class Groups:
    """Places new tickets in groups and shows groups in Slack."""

    engine: Engine
    feed: TicketFeed
    make_grouper: Callable[[], Grouper[int, Any]]
    clock: Clock = system_clock
    # Keep answering new members: what a member who just joined is sent (set by Services).
    on_join: Callable[[Session, TicketGroup, Ticket, datetime], None] | None = None
    # The X outbox's time until a group's last answer goes (set by Services).
    eta: Eta | None = None
    grouper: Grouper[int, Any] = field(init=False)
    _stale: bool = field(default=True, init=False)

    def __post_init__(self) -> None:
        self.grouper = self.make_grouper()

    # -- the grouper, kept warm ------------------------------------------------------------

    def ready(self) -> None:
        """Rebuild the grouper from the database if it may differ from it (start, rollback)."""
        if self._stale:
            self.restore()

    def restore(self) -> int:
        """Rebuild the grouper from the open tickets of the window; how many it holds."""
        now = self.clock()
        grouper = self.make_grouper()
        with session_scope(self.engine, readonly=True) as session:
            rows = queries.open_tickets_since(session=session, since=now - grouper.window)
        grouper.restore((OpenTicket(*row) for row in rows), now=now)
        self.grouper, self._stale = grouper, False
        return len(grouper)

    def _watch_rollback(self, session: Session) -> None:
        if session.info.get(_DIRTY + ".watched"):
            return
        session.info[_DIRTY + ".watched"] = True

        def rolled_back(_session: Session, _previous: Any) -> None:
            self._stale = True  # what the grouper recorded in it never happened

        event.listen(session, "after_soft_rollback", rolled_back)

    # -- placing ---------------------------------------------------------------------------

    def place(self, session: Session, ticket: Ticket, text: str, now: datetime) -> bool:
        """Place a ticket just opened; True when its group shows it (it gets no card)."""
        assert ticket.id is not None
        self._watch_rollback(session)
        grouper = self.grouper
        with grouper.lock:
            assessment = grouper.assess(text, now)
            outcome, members = assessment.outcome, assessment.members
            group: TicketGroup | None = None
            if outcome is Outcome.JOIN:
                group = session.get(TicketGroup, assessment.group)
                if group is None or group.state != GroupState.OPEN:
                    outcome = Outcome.ALONE
            elif outcome is Outcome.FORM:
                # Another replica may have resolved or taken out one of them meanwhile.
                free = queries.groupable(session=session, ticket_ids=members)
                members = tuple(m for m in members if m in free)
                if len(members) + 1 < grouper.min_size:
                    outcome = Outcome.ALONE
            if outcome is Outcome.ALONE:
                alone = replace(assessment, outcome=Outcome.ALONE, group=None, members=())
                grouper.record(ticket.id, alone)
                return False
            if outcome is Outcome.FORM:
                group = TicketGroup(channel_id=ticket.channel_id, created_at=now, updated_at=now)
                session.add(group)
                session.flush()
                assert group.id is not None
                for key in members:
                    session.add(
                        GroupMember(ticket_id=key, group_id=group.id, own_card=True, joined_at=now)
                    )
                grouper.record(ticket.id, replace(assessment, members=members), group=group.id)
            else:
                grouper.record(ticket.id, assessment)
            assert group is not None and group.id is not None
            session.add(GroupMember(ticket_id=ticket.id, group_id=group.id, joined_at=now))
            session.flush()
            if outcome is Outcome.FORM:
                for key in members:  # their cards name the group now
                    earlier = session.get(Ticket, key)
                    assert earlier is not None
                    self.feed.record(session, earlier, Change(), now)
            self._dirty(session, group.id).listed.append(ticket.id)
        if outcome is Outcome.JOIN and self.on_join is not None:
            self.on_join(session, group, ticket, now)
        return True

    def forget(self, ticket_id: int) -> None:
        """A ticket is no longer open: grouping compares nothing with it any more."""
        self.grouper.close(ticket_id)

    def _dirty(self, session: Session, group_id: int) -> _Dirty:
        dirty: dict[int, _Dirty] = session.info.setdefault(_DIRTY, {})
        return dirty.setdefault(group_id, _Dirty())

    # -- what Slack shows ------------------------------------------------------------------

    def settle(self, session: Session, now: datetime) -> None:
        """Queue what this transaction changed of groups: each card once, members batched."""
        dirty: dict[int, _Dirty] = session.info.pop(_DIRTY, {})
        for group_id, changed in sorted(dirty.items()):
            group = session.get(TicketGroup, group_id)
            assert group is not None
            card = self._show_card(session, group, now)
            batches = set(changed.batches)
            if changed.listed:
                batches |= self._list(session, group_id, changed.listed)
            for batch in sorted(batches):
                self._show_batch(session, group_id, batch, card.id, now)
        if dirty:
            after_commit(session, self.feed.wake)

    def refresh(self, session: Session, group_id: int, now: datetime) -> None:
        """Show the group's current state on its card (within the caller's transaction)."""
        self._dirty(session, group_id)
        self.settle(session, now)

    def remind(self, session: Session, group: TicketGroup) -> None:
        """Post the one reminder of the group's promised follow-up into its thread."""
        assert group.id is not None and group.followup_due is not None
        now = self.clock()
        view = GroupReminderView(
            group.id,
            group.followup_due,
            queries.count_members(session=session, group_id=group.id),
            group.answer_by,
        )
        message = self.feed.presenter.group_reminder(view)
        if self.tell_thread(
            session, group.id, message, dedup_key=f"group:{group.id}:followup", now=now
        ):
            self.refresh(session, group.id, now)

    def tell_thread(
        self,
        session: Session,
        group_id: int,
        message: SlackMessage,
        *,
        dedup_key: str,
        now: datetime,
    ) -> bool:
        """A message in the group card's thread (once per `dedup_key`); False: no card yet."""
        card = outbox_row(session, card_key(group_id))
        if card is None:
            return False
        queue.enqueue(
            session=session,
            channel=card.channel,
            kind=OutboxKind.THREAD,
            payload=dict(message),
            now=now,
            parent_id=card.id,
            dedup_key=dedup_key,
        )
        after_commit(session, self.feed.wake)
        return True

    def _list(self, session: Session, group_id: int, tickets: list[int]) -> set[int]:
        """Give new members their place in the thread; the batches that changed."""
        batch, listed = queries.latest_batch(session=session, group_id=group_id)
        row = outbox_row(session, batch_key(group_id, batch)) if batch else None
        if row is None or row.state != "pending" or listed >= BATCH_SIZE:
            batch, listed = batch + 1, 0  # the message went out (or is full): a new one
        changed = set()
        for ticket_id in tickets:
            if listed >= BATCH_SIZE:
                batch, listed = batch + 1, 0
            member = session.get(GroupMember, ticket_id)
            assert member is not None
            member.batch = batch
            session.add(member)
            listed += 1
            changed.add(batch)
        session.flush()
        return changed

    def _show_card(self, session: Session, group: TicketGroup, now: datetime) -> SlackOutbox:
        assert group.id is not None
        message = self.feed.presenter.group_card(self.card_view(session, group))
        row = outbox_row(session, card_key(group.id))
        if row is None:
            row = outbox.post_to_channel(
                session=session,
                channel=group.channel_id,
                message=message,
                now=now,
                dedup_key=card_key(group.id),
            )
            session.flush()
            return row
        outbox.show(session=session, posted=row, message=message, now=now)
        return row

    def _show_batch(
        self, session: Session, group_id: int, batch: int, card_id: int | None, now: datetime
    ) -> None:
        listed = queries.members(session=session, group_id=group_id, batch=batch, with_out=True)
        firsts = queries.first_messages(session=session, ticket_ids=ids_of(listed))
        view = GroupBatchView(
            group_id,
            batch,
            [
                replace(
                    self.feed.looks.member(ticket, customer, firsts.get(ticket.id or 0)),
                    taken_out=member.taken_out_at is not None,
                )
                for member, ticket, customer in listed
            ],
        )
        message = self.feed.presenter.group_batch(view)
        key = batch_key(group_id, batch)
        row = outbox_row(session, key)
        if row is not None:
            outbox.show(session=session, posted=row, message=message, now=now)
            return
        card = outbox_row(session, card_key(group_id))
        assert card is not None and card.id is not None
        queue.enqueue(
            session=session,
            channel=card.channel,
            kind=OutboxKind.THREAD,
            payload=dict(message),
            now=now,
            parent_id=card.id,
            dedup_key=key,
        )

    def card_view(self, session: Session, group: TicketGroup) -> GroupCardView:
        """Everything the group's card shows now."""
        return card_view(session, group, self.feed.looks, self.eta)

    # -- agents' actions -------------------------------------------------------------------

    def members(self, *, group_id: int, start: int = 0) -> Page[GroupMemberView]:
        """One page of a group's members, for the member list."""
        with session_scope(self.engine, readonly=True) as session:
            self._get(session, group_id)
            total = queries.count_members(session=session, group_id=group_id)
            start = max(0, min(start, max(0, total - 1)))
            page = queries.members(session=session, group_id=group_id, start=start, limit=PAGE_SIZE)
            firsts = queries.first_messages(session=session, ticket_ids=ids_of(page))
            answered = queries.answered_tickets(
                session=session, ticket_ids=[t.id for _, t, _ in page if t.id is not None]
            )
            items = [
                replace(
                    self.feed.looks.member(ticket, customer, firsts.get(ticket.id or 0)),
                    answered=ticket.id in answered,
                )
                for _, ticket, customer in page
            ]
        return Page(items, start, total)

    def suggestion(self, *, group_id: int) -> Suggestion | None:
        """What the group's card suggests as its answer now."""
        with session_scope(self.engine, readonly=True) as session:
            return self.card_view(session, self._get(session, group_id)).suggestion

    def take_out(self, *, group_id: int, ticket_id: int, member: Member) -> Ticket:
        """Take a member out of its group: it is grouped no more and gets its own card."""
        now = self.clock()
        with session_scope(self.engine) as session:
            self._get(session, group_id)
            place = queries.membership(session=session, ticket_id=ticket_id)
            if place is None or place.group_id != group_id or place.taken_out_at is not None:
                raise Refused(f"#{ticket_id} is not in this group.")
            place.taken_out_at, place.taken_out_by = now, member.user_id
            session.add(place)
            session.flush()
            ticket = session.get(Ticket, ticket_id)
            assert ticket is not None
            self.feed.ensure_card(session, ticket, now)
            taken = Change(EventKind.TAKEN_OUT, member.user_id, f"group {group_id}")
            self.feed.record(session, ticket, taken, now)
            if place.batch is not None:
                self._dirty(session, group_id).batches.add(place.batch)
            self.refresh(session, group_id, now)
        self.grouper.take_out(ticket_id)
        return ticket

    def resolve(self, *, group_id: int, member: Member) -> tuple[int, int]:
        """Resolve a group: its members without a conversation of their own are resolved.

        Members with a card of their own (they had one before the group formed, wrote
        again, or an agent took them out) may be in a conversation of their own there:
        they stay open. Returns (resolved, left open).
        """
        now = self.clock()
        resolved, left = [], 0
        with session_scope(self.engine) as session:
            group = self._get(session, group_id)
            if group.state == GroupState.RESOLVED:
                raise Refused(f"Sammelfrage {group_id} is resolved already.")
            listed = queries.members(session=session, group_id=group_id)
            carded = queries.card_rows(
                session=session, ticket_ids=[t.id for _, t, _ in listed if t.id is not None]
            )
            for _, ticket, _ in listed:
                assert ticket.id is not None
                if ticket.id in carded or ticket.state == TicketState.RESOLVED:
                    left += ticket.id in carded and ticket.state != TicketState.RESOLVED
                    continue
                ticket.state = TicketState.RESOLVED
                ticket.resolved_at, ticket.resolved_by, ticket.updated_at = now, member.user_id, now
                session.add(ticket)
                fulfil_promises(session, ticket_id=ticket.id, now=now)
                done = Change(EventKind.RESOLVED, member.user_id, f"group {group_id}", card=False)
                self.feed.record(session, ticket, done, now)
                resolved.append(ticket.id)
            group.state, group.resolved_by, group.updated_at = (
                GroupState.RESOLVED,
                member.user_id,
                now,
            )
            session.add(group)
            self.refresh(session, group_id, now)
            everyone = [t.id for _, t, _ in listed if t.id is not None]
        for ticket_id in everyone:  # none of them is grouped any more
            self.grouper.take_out(ticket_id)
        return len(resolved), left

    @staticmethod
    def _get(session: Session, group_id: int) -> TicketGroup:
        group = session.get(TicketGroup, group_id)
        if group is None:
            raise Refused(f"There is no Sammelfrage {group_id}.")
        return group


def outbox_row(session: Session, key: str) -> SlackOutbox | None:
    """The posting queue's row with this key, if any."""
    return queue.find_by_key(session=session, dedup_key=key)
