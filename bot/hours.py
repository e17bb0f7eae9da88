"""Service hours: the weekly opening times of the team (SERVICE_HOURS) and the calendar
that counts open time in the team's time zone, closed on public holidays (SPEC §4)."""

from __future__ import annotations

import math
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import TypeVar
from zoneinfo import ZoneInfo

from holidays import country_holidays

DAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_RANGE = re.compile(
    r"^(?P<days>[a-z]{3}(?:-[a-z]{3})?(?:,[a-z]{3}(?:-[a-z]{3})?)*)\s+"
    r"(?P<start>\d{1,2}:\d{2})-(?P<end>\d{1,2}:\d{2})$"
)


@dataclass(frozen=True)
class WeeklyHours:
    """Opening intervals per weekday (0 = Monday), in minutes after local midnight."""

    intervals: tuple[tuple[tuple[int, int], ...], ...]

    def on(self, weekday: int) -> tuple[tuple[int, int], ...]:
        """The opening intervals of one weekday, sorted."""
        return self.intervals[weekday]


def _minutes(clock: str) -> int:
    hours, minutes = (int(part) for part in clock.split(":"))
    if minutes > 59 or hours > 24 or (hours == 24 and minutes != 0):
        raise ValueError(f"{clock!r} is not a time of day")
    return hours * 60 + minutes


def _days(spec: str) -> list[int]:
    days: list[int] = []
    for part in spec.split(","):
        first, _, last = part.partition("-")
        if first not in DAY_NAMES or (last and last not in DAY_NAMES):
            raise ValueError(f"{part!r} is not a day or day range (use mon..sun)")
        start, end = DAY_NAMES.index(first), DAY_NAMES.index(last or first)
        if end < start:
            raise ValueError(f"{part!r} runs backwards")
        days.extend(range(start, end + 1))
    return days


def parse_service_hours(text: str) -> WeeklyHours:
    """Parse e.g. ``mon-fri 08:00-20:00; sat 10:00-14:00`` (ranges separated by ``;``)."""
    per_day: list[list[tuple[int, int]]] = [[] for _ in DAY_NAMES]
    for chunk in (c.strip().lower() for c in text.split(";")):
        if not chunk:
            continue
        match = _RANGE.match(chunk)
        if match is None:
            raise ValueError(f"{chunk!r} is not of the form 'mon-fri 08:00-20:00'")
        start, end = _minutes(match["start"]), _minutes(match["end"])
        if end <= start:
            raise ValueError(f"{chunk!r} ends before it starts")
        for day in _days(match["days"]):
            per_day[day].append((start, end))
    if not any(per_day):
        raise ValueError("no opening hours given")
    return WeeklyHours(tuple(_merge(sorted(intervals)) for intervals in per_day))


_Span = tuple[datetime, datetime]
_T = TypeVar("_T", int, datetime)

_ONE_DAY = timedelta(days=1)
_MINUTES_PER_DAY = 24 * 60
# A calendar closed for longer than this is taken to be misconfigured rather than waited out.
_MAX_CLOSED_DAYS = 400
# Tickets span days to weeks; the bound only keeps a long-running process from growing.
_DAY_CACHE_SIZE = 4096
# German abbreviations, because the date beside them is written the German way (23.11.).
_WEEKDAY_ABBREVIATIONS = ("Mo", "Di", "Mi", "Do", "Fr", "Sa", "So")


class ServiceCalendar:
    """Opening hours in a time zone, closed on public holidays."""

    def __init__(self, hours: WeeklyHours, *, timezone: str, holidays: str) -> None:
        self._hours = hours
        self._zone = ZoneInfo(timezone)
        country, _, subdivision = holidays.strip().upper().partition("-")
        self._country = country
        self._subdivision = subdivision or None
        self._holidays: dict[int, frozenset[date]] = {}
        self._days: dict[date, tuple[_Span, ...]] = {}
        if country:
            try:  # an unknown country or subdivision fails at start, not in the middle of a sweep
                country_holidays(country, subdiv=self._subdivision)
            except NotImplementedError as exc:
                raise ValueError(str(exc)) from None

    @classmethod
    def from_settings(cls, service_hours: str, timezone: str, holidays: str) -> ServiceCalendar:
        """The calendar of SERVICE_HOURS, TIMEZONE and HOLIDAYS."""
        return cls(parse_service_hours(service_hours), timezone=timezone, holidays=holidays)

    def is_open(self, at: datetime) -> bool:
        """Whether the team is in at `at`."""
        return self.next_opening(at) == _utc(at)

    def next_opening(self, at: datetime) -> datetime:
        """`at` itself if open, else the start of the next open interval."""
        return next(self._open_spans(_utc(at)))[0]

    def next_closing(self, at: datetime) -> datetime:
        """The end of the open interval containing `at`, or of the next one if closed."""
        at = _utc(at)
        spans = self._open_spans(at)
        _, closing = next(spans)
        for start, end in spans:
            if start != closing:  # intervals that touch across midnight are one interval
                break
            if end - at > timedelta(days=_MAX_CLOSED_DAYS):
                raise ValueError(
                    f"the service calendar does not close within {_MAX_CLOSED_DAYS} days of {at}"
                )
            closing = end
        return closing

    def closed_period_start(self, at: datetime) -> datetime | None:
        """Where the closed period containing `at` began; None while open."""
        at = _utc(at)
        if self.is_open(at):
            return None
        backwards = self._walk(self._local_date(at) + _ONE_DAY, -_ONE_DAY)
        return next(end for _, day in backwards for start, end in reversed(day) if start < at)

    def add_business_minutes(self, start: datetime, minutes: float) -> datetime:
        """The instant at which `minutes` of open time have passed since `start`."""
        if not 0 <= minutes < math.inf:
            raise ValueError(f"{minutes!r} is not a number of minutes")
        remaining = timedelta(minutes=minutes)
        spans = self._open_spans(_utc(start))
        opening, closing = next(spans)
        # `<=`, so that a due time never falls on a closing time but on the next opening: no
        # open time passes in between, and reminders should fire when the team is in.
        while closing - opening <= remaining:
            remaining -= closing - opening
            opening, closing = next(spans)
        return opening + remaining

    def business_minutes_between(self, start: datetime, end: datetime) -> float:
        """The open minutes in [start, end); 0 if end is not after start."""
        start, end = _utc(start), _utc(end)
        if end <= start:
            return 0.0
        spans = self._open_spans(start, until=end)
        open_time = sum((closing - opening for opening, closing in spans), timedelta())
        return open_time / timedelta(minutes=1)

    def describe_opening(self, at: datetime) -> str:
        """The next opening for customers in local time, e.g. ``Mo 23.11. 08:00``."""
        opening = self.next_opening(at).astimezone(self._zone)
        return f"{_WEEKDAY_ABBREVIATIONS[opening.weekday()]} {opening:%d.%m. %H:%M}"

    def _open_spans(self, start: datetime, until: datetime | None = None) -> Iterator[_Span]:
        """The open intervals after `start` (and before `until`), in order, cut to fit."""
        # A day early, because around a zone change at midnight an instant's local date can
        # be one past the day whose intervals contain it (see _instant).
        first = self._local_date(start) - _ONE_DAY
        last = None if until is None else self._local_date(until) + _ONE_DAY
        for day, spans in self._walk(first, _ONE_DAY):
            if last is not None and day > last:
                return
            for opening, closing in spans:
                if closing > start and (until is None or opening < until):
                    yield max(opening, start), closing if until is None else min(closing, until)

    def _walk(self, day: date, step: timedelta) -> Iterator[tuple[date, tuple[_Span, ...]]]:
        """Each local day with its open intervals, from `day` on in the direction of `step`."""
        closed_since = day
        while abs((day - closed_since).days) <= _MAX_CLOSED_DAYS:
            spans = self._day(day)
            yield day, spans
            day += step
            if spans:
                closed_since = day
        raise ValueError(
            f"the service calendar is closed for more than {_MAX_CLOSED_DAYS} days "
            f"from {closed_since} (check SERVICE_HOURS and HOLIDAYS)"
        )

    def _day(self, day: date) -> tuple[_Span, ...]:
        """The open intervals of one local day in UTC, sorted; none on a public holiday."""
        spans = self._days.get(day)
        if spans is None:
            if len(self._days) >= _DAY_CACHE_SIZE:
                self._days.clear()
            spans = self._days[day] = () if self._is_holiday(day) else self._intervals(day)
        return spans

    def _intervals(self, day: date) -> tuple[_Span, ...]:
        """The weekly hours of `day` as UTC intervals, kept inside the day."""
        # Clipping to the day keeps days from overlapping when a zone change near midnight
        # would push an interval's end past the next day's start.
        midnight, next_midnight = self._instant(day, 0), self._instant(day, _MINUTES_PER_DAY)
        spans = (
            (max(midnight, self._instant(day, start)), min(next_midnight, self._instant(day, end)))
            for start, end in self._hours.on(day.weekday())
        )
        return _merge(sorted(span for span in spans if span[0] < span[1]))

    def _instant(self, day: date, minute: int) -> datetime:
        """The UTC instant of a wall-clock time, `minute` minutes after local midnight."""
        # Adding to an aware datetime moves along the wall clock and keeps fold=0. So a time
        # that exists twice (autumn) means its first occurrence, and a time that does not
        # exist (spring) is read with the offset before the change, i.e. an hour later on
        # the clock: "sun 02:30-05:00" opens at 03:30 on that day. Intervals next to the gap
        # may thereby collapse ("02:30-03:00") or overlap; _intervals drops or merges those.
        wall = datetime.combine(day, time(), tzinfo=self._zone) + timedelta(minutes=minute)
        return wall.astimezone(UTC)

    def _is_holiday(self, day: date) -> bool:
        """Whether `day` is a public holiday where the team works."""
        return bool(self._country) and day in self._holidays_in(day.year)

    def _holidays_in(self, year: int) -> frozenset[date]:
        """The public holidays of one year."""
        if year not in self._holidays:
            found = country_holidays(self._country, subdiv=self._subdivision, years=year)
            self._holidays[year] = frozenset(found)
        return self._holidays[year]

    def _local_date(self, at: datetime) -> date:
        """The date on the wall calendar in the team's time zone at `at`."""
        return at.astimezone(self._zone).date()


def _utc(at: datetime) -> datetime:
    """`at` in UTC; a naive datetime is refused, since its zone would be a guess."""
    if at.tzinfo is None or at.utcoffset() is None:
        raise ValueError(f"{at.isoformat()} has no time zone")
    return at.astimezone(UTC)


def _merge(spans: list[tuple[_T, _T]]) -> tuple[tuple[_T, _T], ...]:
    """Sorted intervals (minutes of a day, or times) with the overlapping and touching joined."""
    merged: list[tuple[_T, _T]] = []
    for start, end in spans:
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return tuple(merged)
