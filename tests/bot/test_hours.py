"""Service calendar: SLA clocks count only open time, in the team's zone, closed on holidays."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from functools import cache
from zoneinfo import ZoneInfo

import holidays
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.hours import ServiceCalendar

BERLIN = ZoneInfo("Europe/Berlin")
WEEKDAYS = "mon-fri 08:00-20:00"
WITH_LUNCH = "mon-fri 08:00-12:00; mon-fri 13:00-20:00"


@cache
def calendar(
    hours: str = WEEKDAYS, holidays: str = "DE", timezone: str = "Europe/Berlin"
) -> ServiceCalendar:
    return ServiceCalendar.from_settings(hours, timezone, holidays)


def berlin(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=BERLIN)


def day_long(cal: ServiceCalendar, day: date) -> float:
    """The open minutes of one local day in Berlin."""
    midnight = datetime(day.year, day.month, day.day, tzinfo=BERLIN)
    return cal.business_minutes_between(midnight, midnight + timedelta(days=1))


# -- examples: Europe/Berlin, mon-fri 08:00-20:00, HOLIDAYS=DE (2026-11-20 is a Friday) ------


def test_a_friday_evening_mention_is_due_monday_morning() -> None:
    assert calendar().add_business_minutes(berlin(2026, 11, 20, 19, 50), 30) == berlin(
        2026, 11, 23, 8, 20
    )


def test_a_saturday_mention_waits_until_monday_eight() -> None:
    saturday = berlin(2026, 11, 21, 12)
    assert not calendar().is_open(saturday)
    assert calendar().next_opening(saturday) == berlin(2026, 11, 23, 8)


@pytest.mark.parametrize(
    ("moment", "is_open"),
    [
        (berlin(2026, 11, 23, 7, 59), False),
        (berlin(2026, 11, 23, 8, 0), True),
        (berlin(2026, 11, 23, 19, 59), True),
        (berlin(2026, 11, 23, 20, 0), False),
        (berlin(2026, 11, 22, 12, 0), False),
        (berlin(2026, 12, 24, 12, 0), True),  # Christmas Eve is a working day in Germany
        (berlin(2026, 12, 25, 12, 0), False),  # Christmas Day, a Friday
        (berlin(2026, 4, 3, 12, 0), False),  # Good Friday
        (berlin(2026, 5, 14, 12, 0), False),  # Ascension Day, a Thursday
    ],
)
def test_the_team_is_in_on_working_days_only(moment: datetime, is_open: bool) -> None:
    assert calendar().is_open(moment) is is_open


def test_the_holidays_used_are_the_real_ones() -> None:
    germany = holidays.country_holidays("DE", years=2026)
    assert date(2026, 12, 25) in germany and date(2026, 12, 24) not in germany
    assert date(2026, 10, 3) in germany and date(2026, 10, 3).weekday() == 5
    assert date(2026, 6, 4) in holidays.country_holidays("DE", subdiv="NW", years=2026)
    assert date(2026, 6, 4) not in holidays.country_holidays("DE", subdiv="BE", years=2026)


def test_christmas_day_on_a_friday_waits_until_monday() -> None:
    assert calendar().next_opening(berlin(2026, 12, 24, 20, 30)) == berlin(2026, 12, 28, 8)


def test_corpus_christi_is_closed_in_north_rhine_westphalia_but_not_in_berlin() -> None:
    corpus_christi = berlin(2026, 6, 4, 12)
    assert not calendar(holidays="DE-NW").is_open(corpus_christi)
    assert calendar(holidays="DE-BE").is_open(corpus_christi)
    assert calendar(holidays="de-nw").next_opening(corpus_christi) == berlin(2026, 6, 5, 8)


def test_without_holidays_christmas_is_a_working_day() -> None:
    assert calendar(holidays="").is_open(berlin(2026, 12, 25, 12))


def test_a_weekend_between_friday_seven_and_monday_nine_counts_two_hours() -> None:
    minutes = calendar().business_minutes_between(berlin(2026, 11, 20, 19), berlin(2026, 11, 23, 9))
    assert minutes == 120


@pytest.mark.parametrize(
    ("start", "end", "minutes"),
    [
        (berlin(2026, 11, 23, 9), berlin(2026, 11, 23, 9), 0),
        (berlin(2026, 11, 23, 10), berlin(2026, 11, 23, 9), 0),
        (berlin(2026, 11, 23, 9), berlin(2026, 11, 23, 9, 30), 30),
        (berlin(2026, 11, 21, 9), berlin(2026, 11, 22, 9), 0),
        (berlin(2026, 11, 23, 0), berlin(2026, 11, 30, 0), 5 * 720),
        (berlin(2026, 12, 21, 0), berlin(2026, 12, 28, 0), 4 * 720),  # with Christmas Day
    ],
)
def test_business_minutes_count_open_time_only(
    start: datetime, end: datetime, minutes: float
) -> None:
    assert calendar().business_minutes_between(start, end) == minutes


def test_the_closed_period_on_a_sunday_began_on_friday_at_eight_pm() -> None:
    assert calendar().closed_period_start(berlin(2026, 11, 22, 15)) == berlin(2026, 11, 20, 20)


def test_the_closed_period_starts_exactly_at_closing_time() -> None:
    closing = berlin(2026, 11, 20, 20)
    assert calendar().closed_period_start(closing) == closing
    assert calendar().closed_period_start(berlin(2026, 11, 23, 7, 59)) == closing


def test_there_is_no_closed_period_while_open() -> None:
    assert calendar().closed_period_start(berlin(2026, 11, 23, 8)) is None


def test_a_holiday_extends_the_closed_period_back_to_the_last_working_day() -> None:
    christmas_weekend = berlin(2026, 12, 26, 10)
    assert calendar().closed_period_start(christmas_weekend) == berlin(2026, 12, 24, 20)


def test_the_lunch_gap_is_skipped() -> None:
    cal = calendar(WITH_LUNCH)
    assert not cal.is_open(berlin(2026, 11, 23, 12, 30))
    assert cal.next_opening(berlin(2026, 11, 23, 12, 30)) == berlin(2026, 11, 23, 13)
    assert cal.next_closing(berlin(2026, 11, 23, 9)) == berlin(2026, 11, 23, 12)
    assert cal.add_business_minutes(berlin(2026, 11, 23, 11, 50), 20) == berlin(
        2026, 11, 23, 13, 10
    )
    assert cal.closed_period_start(berlin(2026, 11, 23, 12, 30)) == berlin(2026, 11, 23, 12)
    assert day_long(cal, date(2026, 11, 23)) == 11 * 60


def test_an_open_interval_closes_in_the_evening_and_a_closed_one_after_the_next_opening() -> None:
    assert calendar().next_closing(berlin(2026, 11, 23, 10)) == berlin(2026, 11, 23, 20)
    assert calendar().next_closing(berlin(2026, 11, 21, 10)) == berlin(2026, 11, 23, 20)


def test_intervals_that_touch_at_midnight_close_only_at_the_end() -> None:
    cal = calendar("mon-fri 00:00-24:00", holidays="")
    assert cal.next_closing(berlin(2026, 11, 23, 10)) == berlin(2026, 11, 28, 0)


def test_a_due_time_on_closing_time_moves_to_the_next_opening() -> None:
    # No open time passes in between, and a reminder at 20:00 on Friday would find nobody.
    assert calendar().add_business_minutes(berlin(2026, 11, 20, 19, 30), 30) == berlin(
        2026, 11, 23, 8
    )


def test_no_minutes_after_a_closed_moment_is_the_next_opening() -> None:
    assert calendar().add_business_minutes(berlin(2026, 11, 21, 12), 0) == berlin(2026, 11, 23, 8)
    assert calendar().add_business_minutes(berlin(2026, 11, 23, 9), 0) == berlin(2026, 11, 23, 9)


def test_fractions_of_minutes_count() -> None:
    due = calendar().add_business_minutes(berlin(2026, 11, 23, 9), 1.5)
    assert due == berlin(2026, 11, 23, 9, 1) + timedelta(seconds=30)


def test_the_next_opening_is_written_for_customers_in_local_time() -> None:
    assert calendar().describe_opening(berlin(2026, 11, 21, 12)) == "Mo 23.11. 08:00"
    assert calendar().describe_opening(berlin(2026, 12, 24, 21)) == "Mo 28.12. 08:00"
    assert calendar().describe_opening(berlin(2026, 11, 25, 9, 5)) == "Mi 25.11. 09:05"


def test_answers_are_in_utc_whatever_zone_is_asked_in() -> None:
    tokyo = datetime(2026, 11, 21, 20, tzinfo=ZoneInfo("Asia/Tokyo"))  # Saturday noon in Berlin
    opening = calendar().next_opening(tokyo)
    assert opening.tzinfo is UTC and opening == datetime(2026, 11, 23, 7, tzinfo=UTC)
    assert calendar().add_business_minutes(tokyo, 10).tzinfo is UTC
    assert calendar().next_closing(tokyo).tzinfo is UTC
    assert calendar().closed_period_start(tokyo).tzinfo is UTC  # type: ignore[union-attr]


def test_naive_datetimes_are_refused() -> None:
    naive = datetime(2026, 11, 23, 9)
    aware = berlin(2026, 11, 23, 9)
    cal = calendar()
    calls = [
        lambda: cal.is_open(naive),
        lambda: cal.next_opening(naive),
        lambda: cal.next_closing(naive),
        lambda: cal.closed_period_start(naive),
        lambda: cal.add_business_minutes(naive, 5),
        lambda: cal.business_minutes_between(naive, aware),
        lambda: cal.business_minutes_between(aware, naive),
        lambda: cal.describe_opening(naive),
    ]
    for call in calls:
        with pytest.raises(ValueError, match="no time zone"):
            call()


@pytest.mark.parametrize("minutes", [-1, float("nan"), float("inf")])
def test_a_negative_or_endless_number_of_minutes_is_refused(minutes: float) -> None:
    with pytest.raises(ValueError, match="not a number of minutes"):
        calendar().add_business_minutes(berlin(2026, 11, 23, 9), minutes)


def test_an_unknown_country_is_refused_when_the_calendar_is_built() -> None:
    with pytest.raises(ValueError, match="XX"):
        calendar(holidays="XX")
    with pytest.raises(ValueError, match="XX"):
        calendar(holidays="DE-XX")


def test_a_calendar_closed_for_over_a_year_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    def every_day(country: str, *, subdiv: str | None, years: int = 2026) -> list[date]:
        return [date(years, 1, 1) + timedelta(days=n) for n in range(366)]

    monkeypatch.setattr("bot.hours.country_holidays", every_day)
    cal = ServiceCalendar.from_settings(WEEKDAYS, "Europe/Berlin", "DE")
    with pytest.raises(ValueError, match="closed for more than 400 days"):
        cal.next_opening(berlin(2026, 11, 23, 9))
    with pytest.raises(ValueError, match="closed for more than 400 days"):
        cal.closed_period_start(berlin(2026, 11, 23, 9))


def test_a_calendar_that_never_closes_has_no_next_closing() -> None:
    always = calendar("mon-sun 00:00-24:00", holidays="")
    assert always.add_business_minutes(berlin(2026, 11, 23, 9), 60) == berlin(2026, 11, 23, 10)
    with pytest.raises(ValueError, match="does not close within 400 days"):
        always.next_closing(berlin(2026, 11, 23, 9))


# -- daylight saving time: 2026-03-29 and 2026-10-25 in Europe ------------------------------


@pytest.mark.parametrize(
    "day",
    [date(2026, 3, 27), date(2026, 3, 30), date(2026, 10, 23), date(2026, 10, 26)],
)
def test_weekdays_around_a_clock_change_keep_twelve_hours(day: date) -> None:
    assert day_long(calendar(), day) == 720


@pytest.mark.parametrize(
    ("sunday", "hours"),
    [(date(2026, 3, 29), 23), (date(2026, 10, 25), 25), (date(2026, 11, 1), 24)],
)
def test_a_whole_sunday_lasts_as_long_as_the_clock_says(sunday: date, hours: int) -> None:
    assert day_long(calendar("sun 00:00-24:00", holidays=""), sunday) == hours * 60


def test_an_opening_time_that_does_not_exist_is_read_an_hour_later() -> None:
    spring = calendar("sun 02:30-05:00", holidays="")
    assert spring.next_opening(berlin(2026, 3, 29)) == berlin(2026, 3, 29, 3, 30)
    assert day_long(spring, date(2026, 3, 29)) == 90


def test_an_opening_time_that_exists_twice_means_the_first() -> None:
    autumn = calendar("sun 02:30-05:00", holidays="")
    first_half_past_two = datetime(2026, 10, 25, 0, 30, tzinfo=UTC)
    assert autumn.next_opening(berlin(2026, 10, 25)) == first_half_past_two
    assert day_long(autumn, date(2026, 10, 25)) == 210


def test_a_weekend_with_a_clock_change_counts_the_same_business_time() -> None:
    cal = calendar()
    for friday in (berlin(2026, 3, 27, 19), berlin(2026, 10, 23, 19)):
        monday = friday + timedelta(days=3) - timedelta(hours=10)
        assert cal.business_minutes_between(friday, monday) == 120
        assert cal.add_business_minutes(friday, 90) == monday - timedelta(minutes=30)


# -- properties ----------------------------------------------------------------------------

CALENDARS = [
    calendar(),
    calendar(WITH_LUNCH, holidays="DE-NW"),
    calendar("sun 00:00-24:00", holidays=""),
    calendar("sun 02:30-05:00; mon-fri 08:00-20:00; sat 10:00-14:00"),
    calendar("mon-fri 09:00-17:00", holidays="US-NY", timezone="America/New_York"),
    # Lord Howe Island moves its clocks by half an hour, at 02:00.
    calendar("mon-sun 01:00-03:00; wed 00:00-24:00", holidays="", timezone="Australia/Lord_Howe"),
]
# Each clock change of 2026-2027 in Berlin, New York and Lord Howe, give or take a few days.
CLOCK_CHANGES = [
    datetime(2026, 3, 29),
    datetime(2026, 10, 25),
    datetime(2027, 3, 28),
    datetime(2027, 10, 31),
    datetime(2026, 3, 8),
    datetime(2026, 11, 1),
    datetime(2027, 3, 14),
    datetime(2027, 11, 7),
    datetime(2026, 4, 5),
    datetime(2026, 10, 4),
    datetime(2027, 4, 4),
    datetime(2027, 10, 3),
]

calendars = st.sampled_from(CALENDARS)
instants = st.one_of(
    st.datetimes(datetime(2026, 1, 1), datetime(2027, 12, 31), timezones=st.just(UTC)),
    *(
        st.datetimes(change - timedelta(days=4), change + timedelta(days=4), timezones=st.just(UTC))
        for change in CLOCK_CHANGES
    ),
)
# Whole seconds, so that sums of minutes stay exact to the microsecond.
minutes = st.integers(0, 5000 * 60).map(lambda seconds: seconds / 60)


@settings(deadline=None)
@given(calendars, instants, st.floats(0, 5000))
def test_adding_business_minutes_is_undone_by_counting_them(
    cal: ServiceCalendar, start: datetime, amount: float
) -> None:
    due = cal.add_business_minutes(start, amount)
    assert due >= start and due.tzinfo is UTC
    assert cal.business_minutes_between(start, due) == pytest.approx(amount, abs=1e-6)


@settings(deadline=None)
@given(calendars, instants, minutes, minutes)
def test_adding_business_minutes_in_two_steps_is_adding_them_at_once(
    cal: ServiceCalendar, start: datetime, first: float, second: float
) -> None:
    in_steps = cal.add_business_minutes(cal.add_business_minutes(start, first), second)
    assert in_steps == cal.add_business_minutes(start, first + second)


@settings(deadline=None)
@given(calendars, instants, instants)
def test_business_minutes_are_never_negative_nor_more_than_the_clock(
    cal: ServiceCalendar, start: datetime, end: datetime
) -> None:
    wall_minutes = max(0.0, (end - start) / timedelta(minutes=1))
    assert 0 <= cal.business_minutes_between(start, end) <= wall_minutes


@settings(deadline=None)
@given(calendars, instants)
def test_the_next_opening_is_open_and_not_in_the_past(
    cal: ServiceCalendar, moment: datetime
) -> None:
    opening = cal.next_opening(moment)
    assert opening >= moment and cal.is_open(opening)
    assert cal.business_minutes_between(moment, opening) == 0
    assert cal.is_open(moment) is (opening == moment)


@settings(deadline=None)
@given(calendars, instants, instants, instants)
def test_business_minutes_add_up_over_consecutive_spans(
    cal: ServiceCalendar, a: datetime, b: datetime, c: datetime
) -> None:
    a, b, c = sorted((a, b, c))
    whole = cal.business_minutes_between(a, c)
    parts = cal.business_minutes_between(a, b) + cal.business_minutes_between(b, c)
    assert whole == pytest.approx(parts, abs=1e-6)


@settings(deadline=None)
@given(calendars, instants)
def test_a_closed_period_runs_from_the_last_closing_to_the_next_opening(
    cal: ServiceCalendar, moment: datetime
) -> None:
    began = cal.closed_period_start(moment)
    if began is None:
        assert cal.is_open(moment)
        return
    assert began <= moment and not cal.is_open(began)
    assert cal.is_open(began - timedelta(microseconds=1))
    assert cal.business_minutes_between(began, cal.next_opening(moment)) == 0
    assert cal.closed_period_start(cal.next_opening(moment) - timedelta(microseconds=1)) == began


@settings(deadline=None)
@given(calendars, instants)
def test_an_open_interval_is_open_until_it_closes(cal: ServiceCalendar, moment: datetime) -> None:
    closing = cal.next_closing(moment)
    opening = cal.next_opening(moment)
    assert closing > opening and not cal.is_open(closing)
    assert cal.business_minutes_between(opening, closing) == (closing - opening) / timedelta(
        minutes=1
    )
