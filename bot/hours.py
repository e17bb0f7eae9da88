"""Service hours: the weekly opening times of the team, as written in SERVICE_HOURS."""

from __future__ import annotations

import re
from dataclasses import dataclass

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
    merged: list[tuple[tuple[int, int], ...]] = []
    for intervals in per_day:
        intervals.sort()
        joined: list[tuple[int, int]] = []
        for start, end in intervals:
            if joined and start <= joined[-1][1]:
                joined[-1] = (joined[-1][0], max(end, joined[-1][1]))
            else:
                joined.append((start, end))
        merged.append(tuple(joined))
    return WeeklyHours(tuple(merged))
