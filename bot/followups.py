"""Promised follow-ups: when the customer will hear from us again, and keeping to it."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import dateparser
from sqlalchemy import Engine
from sqlmodel import Session

from bot.clock import Clock, system_clock
from bot.errors import Refused
from bot.feed import Change, TicketFeed
from bot.present import PAGE_SIZE, ActivityKind, ActivityView, Page
from bot.roster import Member
from bot.text import excerpt
from bot.tickets import REPEAT_WINDOW, Tickets
from store.db import session_scope
from store.followups import count_open_followups, open_followups
from store.models import EventKind, FollowUp, FollowUpState, TicketState

MAX_AHEAD = timedelta(days=60)
_DURATION = re.compile(
    r"^(\d{1,4})\s*(m|min|mins|minute|minutes|minuten|h|std|stunde|stunden|hour|hours|d|tag|tage|day|days)$",
    re.IGNORECASE,
)
_CLOCK = re.compile(r"^([01]?\d|2[0-3])[:.]([0-5]\d)$")
_UHR_MINUTES = re.compile(r"\b(\d{1,2})[.:](\d{2})\s*uhr\b", re.IGNORECASE)
_UHR = re.compile(r"\b(\d{1,2})\s*uhr\b", re.IGNORECASE)
_FILLER = re.compile(r"^(?:am|um|bis|at|by|on)\s+", re.IGNORECASE)
_MAX_WHEN_WORDS = 5


def _unit_minutes(unit: str) -> int:
    unit = unit.lower()
    if unit.startswith(("std", "stu", "hou")) or unit == "h":
        return 60
    if unit.startswith(("d", "t")):
        return 1440
    return 1


def _dateparser(phrase: str, now: datetime, zone: ZoneInfo) -> datetime | None:
    """German and English phrases; "10 Uhr" is rewritten as "10:00", which dateparser reads."""
    text = _UHR.sub(r"\1:00", _UHR_MINUTES.sub(r"\1:\2", phrase))
    while _FILLER.match(text):
        text = _FILLER.sub("", text, count=1)
    text = re.sub(r"\s+(?:um|at)\s+", " ", text, flags=re.IGNORECASE)
    if text.strip().isdigit():
        return None  # a bare number is a ticket or a count, not a time
    found = dateparser.parse(
        text,
        languages=["de", "en"],
        settings={
            "TIMEZONE": str(zone),
            "RETURN_AS_TIMEZONE_AWARE": True,
            "PREFER_DATES_FROM": "future",
            "RELATIVE_BASE": now.astimezone(zone).replace(tzinfo=None),
        },
    )
    if found is None:
        return None
    if found.hour == 0 and found.minute == 0 and not re.search(r"\d", text):
        shown = excerpt(phrase)
        raise Refused(f"“{shown}” has no time of day; say e.g. `{shown} 10:00`.")
    assert isinstance(found, datetime)
    return found


def check_due(due: datetime, *, now: datetime, zone: ZoneInfo) -> None:
    """The limits of every promise, whichever way it is made: a real time, ahead, not too far."""
    if due.utcoffset() is None:
        raise Refused("That time has no time zone, so it could be any hour; say it again.")
    if due <= now:
        raise Refused(f"{due.astimezone(zone):%d.%m. %H:%M} is in the past.")
    if due - now > MAX_AHEAD:
        raise Refused("That is more than 60 days ahead; promise something nearer.")


def parse_when(text: str, *, now: datetime, zone: ZoneInfo) -> tuple[datetime, str]:
    """The due time at the start of `text` and the rest of it (the note).

    Understands `45m`, `2h`, `1d`, `14:30`, and German or English phrases such as
    `tomorrow 10:00`, `morgen 10 Uhr`, `Freitag 12:00`, `in 2 Stunden`.
    """
    words = text.split()
    if not words:
        raise Refused("When? E.g. `45m`, `2h`, `14:30`, `tomorrow 10:00`, `morgen 10 Uhr`.")
    due: datetime | None = None
    used = 0
    duration = _DURATION.match(words[0])
    clock = _CLOCK.match(words[0])
    if duration:
        due, used = now + timedelta(minutes=int(duration[1]) * _unit_minutes(duration[2])), 1
    elif clock:
        local = now.astimezone(zone)
        due = local.replace(hour=int(clock[1]), minute=int(clock[2]), second=0, microsecond=0)
        used = 1
        if due <= now:
            raise Refused(f"{words[0]} has passed today; say `tomorrow {words[0]}`.")
    else:
        for length in range(min(_MAX_WHEN_WORDS, len(words)), 0, -1):
            found = _dateparser(" ".join(words[:length]), now, zone)
            if found is not None:
                due, used = found, length
                break
    if due is None:
        raise Refused(f"“{excerpt(' '.join(words[:3]))}” is not a time I understand.")
    check_due(due, now=now, zone=zone)
    return due.astimezone(now.tzinfo), " ".join(words[used:])


@dataclass(frozen=True)
class Promise:
    """A promise found in a reply's text: the phrase and the time it implies."""

    phrase: str
    due: datetime


# A small, tested phrase set: what agents actually write when they promise a time.
_PROMISES: list[tuple[re.Pattern[str], Callable[[re.Match[str]], timedelta | str]]] = [
    (
        re.compile(r"\b(?:innerhalb|in)\s+(?:der\s+nächsten|einer)\s+stunde\b", re.I),
        lambda m: timedelta(hours=1),
    ),
    (
        re.compile(r"\bwithin\s+(?:the|an|the\s+next)\s+hour\b|\bin\s+an\s+hour\b", re.I),
        lambda m: timedelta(hours=1),
    ),
    (
        re.compile(
            r"\b(?:innerhalb\s+von|in(?:nerhalb)?|within)\s+(\d{1,3})\s+(minuten|minutes|mins?)\b",
            re.I,
        ),
        lambda m: timedelta(minutes=int(m[1])),
    ),
    (
        re.compile(
            r"\b(?:innerhalb\s+von|in(?:nerhalb)?|within)\s+(\d{1,2})\s+(stunden|hours)\b", re.I
        ),
        lambda m: timedelta(hours=int(m[1])),
    ),
    (re.compile(r"\bbis\s+morgen\b|\bby\s+tomorrow\b", re.I), lambda m: "tomorrow"),
]
TOMORROW_HOUR = 12  # "bis morgen" is vague; noon gives the whole morning to keep it


def detect_promise(text: str, *, now: datetime, zone: ZoneInfo) -> Promise | None:
    """The first promise of a time in a reply, if there is one."""
    for pattern, meaning in _PROMISES:
        match = pattern.search(text)
        if match is None:
            continue
        delta = meaning(match)
        if isinstance(delta, timedelta):
            return Promise(match[0], now + delta)
        local = now.astimezone(zone) + timedelta(days=1)
        due = local.replace(hour=TOMORROW_HOUR, minute=0, second=0, microsecond=0)
        return Promise(match[0], due.astimezone(now.tzinfo))
    return None


@dataclass(frozen=True)
class FollowUpView:
    """An open follow-up as lists show it."""

    id: int
    ticket_id: int
    owner_slack_id: str
    due_at: datetime
    note: str
    overdue: bool


@dataclass(frozen=True, kw_only=True)
class FollowUps:
    """Recording, listing and cancelling promises."""

    engine: Engine
    feed: TicketFeed
    zone: ZoneInfo
    clock: Clock = system_clock

    def parse(self, text: str) -> tuple[datetime, str]:
        """`parse_when` at the current time."""
        return parse_when(text, now=self.clock(), zone=self.zone)

    def promised_in(self, text: str) -> Promise | None:
        """The promise of a time an answer's text makes, if any (`detect_promise`, now)."""
        return detect_promise(text, now=self.clock(), zone=self.zone)

    def promise(self, *, ticket_id: int, member: Member, due: datetime, note: str) -> FollowUp:
        """Record a promise; its owner is the ticket's owner (or whoever made it).

        The limits of `/followup` hold for every way a promise is made (`check_due`).
        """
        now = self.clock()
        check_due(due, now=now, zone=self.zone)
        with session_scope(self.engine) as session:
            # Locked, so that the same promise arriving twice at once is recorded once.
            ticket = Tickets.get(session, ticket_id, lock=True)
            if ticket.state == TicketState.RESOLVED:
                raise Refused(f"#{ticket_id} is resolved; reopen it before promising anything.")
            made = _same_promise(session, ticket_id=ticket_id, member=member, due=due, now=now)
            if made is not None:
                return made
            owner = ticket.owner_slack_id or member.user_id
            followup = FollowUp(
                ticket_id=ticket_id,
                owner_slack_id=owner,
                created_by=member.user_id,
                due_at=due,
                note=note.strip()[:500],
                created_at=now,
            )
            session.add(followup)
            ticket.state = TicketState.FOLLOWUP
            ticket.owner_slack_id = owner
            ticket.updated_at = now
            session.add(ticket)
            session.flush()
            line = ActivityView(
                ticket_id, ActivityKind.FOLLOWUP, member.user_id, owner, note.strip() or None, due
            )
            promised = Change(EventKind.FOLLOWUP, member.user_id, line=line, people=[owner])
            self.feed.record(session, ticket, promised, now)
        return followup

    def cancel(self, *, ticket_id: int, member: Member) -> int:
        """Cancel the ticket's open promises; how many there were.

        A promise is cancelled by its owner or a lead; when someone else owns one of the
        ticket's promises, the caller is told whose, and nothing is cancelled.
        """
        now = self.clock()
        with session_scope(self.engine) as session:
            ticket = Tickets.get(session, ticket_id)
            found = open_followups(session, ticket_id=ticket_id)
            if not found:
                raise Refused(f"#{ticket_id} has no open follow-up.")
            others = sorted({f.owner_slack_id for f in found} - {member.user_id})
            if others and not member.is_lead:
                owners = ", ".join(f"<@{owner}>" for owner in others)
                raise Refused(
                    f"#{ticket_id}'s follow-up is {owners}'s promise: only its owner or a "
                    "lead can cancel it. Nothing was cancelled."
                )
            for followup in found:
                followup.state = FollowUpState.CANCELLED
                followup.closed_at = now
                session.add(followup)
            if ticket.state == TicketState.FOLLOWUP:
                ticket.state = TicketState.CLAIMED if ticket.owner_slack_id else TicketState.NEW
                ticket.updated_at = now
                session.add(ticket)
            line = ActivityView(ticket_id, ActivityKind.FOLLOWUP_CANCELLED, member.user_id)
            cancelled = Change(line=line, people=[f.owner_slack_id for f in found])
            self.feed.record(session, ticket, cancelled, now)
        return len(found)

    def listing(self, *, start: int = 0) -> Page[FollowUpView]:
        """A page of the open follow-ups, soonest first, from `start`."""
        now = self.clock()
        with session_scope(self.engine, readonly=True) as session:
            found = open_followups(session, start=start, size=PAGE_SIZE)
            return Page(
                [
                    FollowUpView(
                        id=f.id or 0,
                        ticket_id=f.ticket_id,
                        owner_slack_id=f.owner_slack_id,
                        due_at=f.due_at,
                        note=f.note,
                        overdue=f.due_at <= now,
                    )
                    for f in found
                ],
                start,
                count_open_followups(session),
            )


# A replayed `/followup 12 2h` parses "2h" again a few seconds later; a double click on
# "Record follow-up" repeats the very time. Either is the promise made a moment ago.
SAME_DUE = timedelta(minutes=1)


def _same_promise(
    session: Session, *, ticket_id: int, member: Member, due: datetime, now: datetime
) -> FollowUp | None:
    """The open promise this person made on this ticket a moment ago for (about) `due`."""
    for made in open_followups(session, ticket_id=ticket_id):
        if (
            made.created_by == member.user_id
            and abs(made.due_at - due) <= SAME_DUE
            and now - made.created_at <= REPEAT_WINDOW
        ):
            return made
    return None
