"""Business calendars: business-time arithmetic, DST, holidays, time zones and bad specs."""

from __future__ import annotations

import datetime as dt
import pickle
from zoneinfo import ZoneInfo

import holidays
import numpy as np
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from simkit.calendar import Calendar
from simkit.errors import SpecError

UTC = dt.UTC
LONDON = ZoneInfo("Europe/London")
NEW_YORK = ZoneInfo("America/New_York")
US = 1_000_000
HOUR_US = 3600 * US

OFFICE_GB = Calendar.from_spec(
    {
        "hours": {"mon-fri": "08:00-17:00"},
        "holidays": {"country": "GB", "subdivision": "ENG", "dates": ["2027-12-24"]},
    },
    timezone="Europe/London",
)
SPLIT_NY = Calendar.from_spec(
    {
        "hours": {"mon-fri": ["08:00-12:00", "13:00-17:00"], "sat": "22:00-06:00"},
        "holidays": ["2027-07-05", dt.date(2027, 11, 25)],
        "timezone": "America/New_York",
    },
    timezone="Europe/London",
)
DAYS_SYDNEY = Calendar.from_spec(
    {"hours": {"mon-sun": "00:00-24:00"}, "holidays": ["2027-01-26"]}, timezone="Australia/Sydney"
)
ALWAYS = Calendar.from_spec("always", timezone="Europe/London")

# The same calendars as a plain table for the day-by-day reference below:
# (time zone, {weekday: [(open minute, close minute)]}, closed local dates).
_GB_CLOSED = set(holidays.country_holidays("GB", subdiv="ENG", years=range(2026, 2029)))
REFERENCE = {
    "office_gb": (
        LONDON,
        {d: [(480, 1020)] for d in range(5)},
        _GB_CLOSED | {dt.date(2027, 12, 24)},
    ),
    "split_ny": (
        NEW_YORK,
        {**{d: [(480, 720), (780, 1020)] for d in range(5)}, 5: [(1320, 1800)]},
        {dt.date(2027, 7, 5), dt.date(2027, 11, 25)},
    ),
    "days_sydney": (
        ZoneInfo("Australia/Sydney"),
        {d: [(0, 1440)] for d in range(7)},
        {dt.date(2027, 1, 26)},
    ),
}
CALENDARS = {
    "office_gb": OFFICE_GB,
    "split_ny": SPLIT_NY,
    "days_sydney": DAYS_SYDNEY,
    "always": ALWAYS,
}

# Instants from December 2026 to February 2028: both clock changes of 2027 on both hemispheres.
_LO = int(np.datetime64("2026-12-01T00:00", "us").astype(np.int64))
_HI = int(np.datetime64("2028-02-01T00:00", "us").astype(np.int64))
instants = st.integers(_LO, _HI).map(lambda us: np.datetime64(us, "us"))
calendar_names = st.sampled_from(sorted(CALENDARS))
business_hours = st.floats(-600.0, 600.0, allow_nan=False)


def utc(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=UTC)  # type: ignore[misc]


def local(zone: ZoneInfo, *args: int) -> np.datetime64:
    """A local wall-clock time as a UTC datetime64."""
    aware = dt.datetime(*args, tzinfo=zone)  # type: ignore[misc]
    return np.datetime64(aware.astimezone(UTC).replace(tzinfo=None), "us")


def reference_elapsed(name: str, start: np.datetime64, end: np.datetime64) -> float:
    """Business hours by walking the local days one at a time, as a person would count them."""
    if name == "always":
        return float((end - start) / np.timedelta64(1, "h"))
    if end < start:
        return -reference_elapsed(name, end, start)
    zone, hours, closed = REFERENCE[name]
    a = start.astype(dt.datetime).replace(tzinfo=UTC)
    b = end.astype(dt.datetime).replace(tzinfo=UTC)
    total = 0.0
    day = a.astimezone(zone).date() - dt.timedelta(days=1)
    while day <= b.astimezone(zone).date():
        midnight = dt.datetime.combine(day, dt.time())
        for open_min, close_min in hours.get(day.weekday(), []):
            for lo, hi in ((open_min, min(close_min, 1440)), (1440, close_min)):
                piece_day = day + dt.timedelta(days=lo // 1440)
                if hi <= lo or piece_day in closed:
                    continue
                opens = (midnight + dt.timedelta(minutes=lo)).replace(tzinfo=zone)
                closes = (midnight + dt.timedelta(minutes=hi)).replace(tzinfo=zone)
                first, last = max(opens.astimezone(UTC), a), min(closes.astimezone(UTC), b)
                if last > first:
                    total += (last - first).total_seconds() / 3600
        day += dt.timedelta(days=1)
    return total


# ---------------------------------------------------------------------- properties


@settings(deadline=None, max_examples=200)
@given(calendar_names, instants, instants)
def test_elapsed_matches_a_day_by_day_count(name: str, a: np.datetime64, b: np.datetime64) -> None:
    """Business hours agree with walking the local days and their open ranges one by one."""
    assert CALENDARS[name].elapsed(a, b) == pytest.approx(reference_elapsed(name, a, b), abs=1e-9)


@settings(deadline=None, max_examples=200)
@given(calendar_names, instants, instants, instants)
def test_elapsed_is_additive(
    name: str, a: np.datetime64, b: np.datetime64, c: np.datetime64
) -> None:
    """elapsed(a, c) == elapsed(a, b) + elapsed(b, c), whatever the order of a, b and c."""
    calendar = CALENDARS[name]
    whole = calendar.elapsed(a, c)
    parts = calendar.elapsed(a, b) + calendar.elapsed(b, c)
    assert whole == pytest.approx(parts, abs=1e-9)


@settings(deadline=None, max_examples=200)
@given(calendar_names, instants, instants)
def test_elapsed_lies_between_zero_and_wall_time(
    name: str, a: np.datetime64, b: np.datetime64
) -> None:
    """0 <= business hours <= wall-clock hours, and swapping the instants flips the sign."""
    calendar = CALENDARS[name]
    start, end = min(a, b), max(a, b)
    hours = calendar.elapsed(start, end)
    assert 0.0 <= hours <= (end - start) / np.timedelta64(1, "h") + 1e-12
    assert calendar.elapsed(end, start) == -hours


@settings(deadline=None, max_examples=200)
@given(calendar_names, instants, business_hours)
def test_add_is_the_inverse_of_elapsed(name: str, a: np.datetime64, hours: float) -> None:
    """elapsed(a, add(a, h)) == h at the earliest such instant (the latest, going back)."""
    calendar = CALENDARS[name]
    reached = calendar.add(a, hours)
    assert calendar.elapsed(a, reached) == pytest.approx(hours, abs=1e-9)
    one_us = np.timedelta64(1, "us")
    if hours > 1e-6:
        assert calendar.elapsed(a, reached - one_us) < hours
    elif hours < -1e-6:
        assert calendar.elapsed(a, reached + one_us) > hours


@settings(deadline=None, max_examples=200)
@given(
    st.integers(-(2**50), 2**50).map(lambda us: np.datetime64(us, "us")),
    st.integers(-(2**50), 2**50).map(lambda us: np.datetime64(us, "us")),
    st.floats(-1e5, 1e5, allow_nan=False),
)
def test_always_is_wall_time_exactly(a: np.datetime64, b: np.datetime64, hours: float) -> None:
    """On an always-open calendar business time is wall time, at any date."""
    assert ALWAYS.elapsed(a, b) == (b - a) / np.timedelta64(1, "h")
    step = np.timedelta64(round(hours * HOUR_US), "us")
    assert ALWAYS.add(a, hours) == a + step
    assert ALWAYS.is_open(a)


@settings(deadline=None, max_examples=100)
@given(calendar_names, st.lists(st.tuples(instants, instants), min_size=1, max_size=40))
def test_arrays_give_the_same_answers_as_single_instants(
    name: str, pairs: list[tuple[np.datetime64, np.datetime64]]
) -> None:
    """The vectorised call returns, row by row, what the call on single instants returns."""
    calendar = CALENDARS[name]
    starts = np.array([p[0] for p in pairs], dtype="datetime64[us]")
    ends = np.array([p[1] for p in pairs], dtype="datetime64[us]")
    hours = calendar.elapsed(starts, ends)
    assert hours.dtype == np.float64
    assert list(hours) == [calendar.elapsed(s, e) for s, e in pairs]
    steps = np.linspace(-50.0, 50.0, len(pairs))
    assert list(calendar.add(starts, steps)) == [
        calendar.add(s, h) for s, h in zip(starts, steps, strict=True)
    ]
    assert list(calendar.is_open(starts)) == [calendar.is_open(s) for s in starts]


@settings(deadline=None, max_examples=200)
@given(calendar_names, instants, instants)
def test_open_intervals_add_up_to_elapsed(name: str, a: np.datetime64, b: np.datetime64) -> None:
    """The open intervals in [a, b) are sorted, disjoint, open, and sum to the business hours."""
    calendar = CALENDARS[name]
    start, end = min(a, b), max(a, b)
    intervals = calendar.open_intervals(start, end)
    assert intervals.shape[1] == 2
    assert intervals.dtype == np.dtype("datetime64[us]")
    if len(intervals):
        assert intervals[0, 0] >= start and intervals[-1, 1] <= end
        assert np.all(intervals[:, 1] > intervals[:, 0])
        assert np.all(intervals[1:, 0] > intervals[:-1, 1])
        assert calendar.is_open(intervals[:, 0]).all()
    total = (intervals[:, 1] - intervals[:, 0]).sum() / np.timedelta64(1, "h")
    assert total == pytest.approx(calendar.elapsed(start, end), abs=1e-9)


@settings(deadline=None, max_examples=200)
@given(calendar_names, instants)
def test_is_open_means_business_time_passes(name: str, t: np.datetime64) -> None:
    """The calendar is open at t exactly when business time passes in the next microsecond."""
    calendar = CALENDARS[name]
    assert calendar.is_open(t) == (calendar.elapsed(t, t + np.timedelta64(1, "us")) > 0)


# ---------------------------------------------------------------------- documented examples


def test_servicenow_example() -> None:
    """08:00-17:00 weekdays: opened Friday 21:00, viewed Monday 09:30 is 1.5 business hours, and a
    24-hour target started Monday 08:00 breaches Wednesday 14:00."""
    calendar = Calendar.from_spec({"hours": {"mon-fri": "08:00-17:00"}})
    assert calendar.elapsed(utc(2027, 1, 8, 21), utc(2027, 1, 11, 9, 30)) == 1.5
    assert calendar.add(utc(2027, 1, 11, 8), 24) == np.datetime64("2027-01-13T14:00")


def test_add_returns_the_earliest_instant_and_zero_returns_the_start() -> None:
    """A full day's hours end at closing time that day, not at the next opening; adding 0 to a
    closed instant returns it unchanged; negative hours go back to the latest such instant."""
    calendar = Calendar.from_spec({"hours": {"mon-fri": "08:00-17:00"}})
    monday_8 = np.datetime64("2027-01-11T08:00")
    assert calendar.add(monday_8, 9) == np.datetime64("2027-01-11T17:00")
    saturday = np.datetime64("2027-01-09T12:00")
    assert calendar.add(saturday, 0) == saturday
    assert calendar.add(saturday, 1) == np.datetime64("2027-01-11T09:00")
    assert calendar.add(monday_8, -1) == np.datetime64("2027-01-08T16:00")
    assert calendar.add(np.datetime64("2027-01-11T17:00"), -9) == monday_8


# ---------------------------------------------------------------------- DST


@pytest.mark.parametrize(
    ("zone", "change_sunday", "sunday_hours"),
    [
        (LONDON, (2027, 3, 28), 23.0),
        (LONDON, (2027, 10, 31), 25.0),
        (NEW_YORK, (2027, 3, 14), 23.0),
        (NEW_YORK, (2027, 11, 7), 25.0),
    ],
)
def test_clock_change_weeks(
    zone: ZoneInfo, change_sunday: tuple[int, int, int], sunday_hours: float
) -> None:
    """Office days keep 9 hours either side of a clock change; a 00:00-24:00 day on the day of
    the change has 23 or 25 hours; office hours move with the clock in UTC."""
    office = Calendar.from_spec({"hours": {"mon-fri": "08:00-17:00"}}, timezone=zone.key)
    whole_days = Calendar.from_spec({"hours": {"sun": "00:00-24:00"}}, timezone=zone.key)
    sunday = dt.date(*change_sunday)
    for offset in range(-6, 7):
        day = sunday + dt.timedelta(days=offset)
        next_day = day + dt.timedelta(days=1)
        start = local(zone, day.year, day.month, day.day)
        end = local(zone, next_day.year, next_day.month, next_day.day)
        assert office.elapsed(start, end) == (9.0 if day.weekday() < 5 else 0.0)
        assert whole_days.elapsed(start, end) == (sunday_hours if offset == 0 else 0.0)
        assert ALWAYS.elapsed(start, end) == (sunday_hours if offset == 0 else 24.0)
    before, after = sunday - dt.timedelta(days=6), sunday + dt.timedelta(days=1)
    for monday in (before, after):
        opening = local(zone, monday.year, monday.month, monday.day, 8)
        assert office.is_open(opening)
        assert not office.is_open(opening - np.timedelta64(1, "us"))
    utc_opening = {
        local(zone, d.year, d.month, d.day, 8).astype(dt.datetime).hour for d in (before, after)
    }
    assert len(utc_opening) == 2


def test_overnight_shift_across_a_clock_change() -> None:
    """A Saturday 22:00-06:00 shift lasts 7 real hours on the spring night, 9 on the autumn one."""
    assert SPLIT_NY.elapsed(local(NEW_YORK, 2027, 3, 13), local(NEW_YORK, 2027, 3, 15)) == 7.0
    assert SPLIT_NY.elapsed(local(NEW_YORK, 2027, 11, 6), local(NEW_YORK, 2027, 11, 8)) == 9.0
    assert SPLIT_NY.elapsed(local(NEW_YORK, 2027, 5, 1), local(NEW_YORK, 2027, 5, 3)) == 8.0


def test_skipped_and_repeated_wall_times() -> None:
    """An opening at a skipped time is the instant of the change; a time the clocks repeat is
    its first occurrence (London: sun 01:30-04:00 is 2 h in spring and 3.5 h in autumn)."""
    night = Calendar.from_spec({"hours": {"sun": "01:30-04:00"}}, timezone="Europe/London")
    spring = night.open_intervals(np.datetime64("2027-03-28"), np.datetime64("2027-03-29"))
    assert spring.tolist() == [[dt.datetime(2027, 3, 28, 1), dt.datetime(2027, 3, 28, 3)]]
    autumn = night.open_intervals(np.datetime64("2027-10-30"), np.datetime64("2027-11-01"))
    assert autumn.tolist() == [[dt.datetime(2027, 10, 31, 0, 30), dt.datetime(2027, 10, 31, 4)]]


# ---------------------------------------------------------------------- holidays and time zones


def test_gb_christmas_is_closed() -> None:
    """GB/ENG holidays close Christmas 2027 (Saturday) and its observed days (Mon 27, Tue 28)."""
    office = Calendar.from_spec(
        {"hours": {"mon-fri": "08:00-17:00"}, "holidays": {"country": "GB", "subdivision": "ENG"}},
        timezone="Europe/London",
    )
    week = (local(LONDON, 2027, 12, 27), local(LONDON, 2028, 1, 1))
    assert office.elapsed(*week) == 3 * 9.0
    assert not office.is_open(local(LONDON, 2027, 12, 27, 10))
    assert office.elapsed(local(LONDON, 2027, 12, 24), local(LONDON, 2027, 12, 25)) == 9.0
    assert OFFICE_GB.elapsed(local(LONDON, 2027, 12, 24), local(LONDON, 2027, 12, 25)) == 0.0


def test_plain_list_of_holidays() -> None:
    """A plain list of dates (strings or dates) closes those local days and no others."""
    spec = {"hours": {"mon-fri": "09:00-17:00"}, "holidays": ["2027-06-02", dt.date(2027, 6, 4)]}
    calendar = Calendar.from_spec(spec, timezone="Europe/Paris")
    paris = ZoneInfo("Europe/Paris")
    assert calendar.elapsed(local(paris, 2027, 5, 31), local(paris, 2027, 6, 5)) == 3 * 8.0
    assert calendar.holiday_dates == {dt.date(2027, 6, 2), dt.date(2027, 6, 4)}


def test_holiday_cuts_an_overnight_shift_at_midnight() -> None:
    """A holiday closes its whole local day, including the part of a shift begun the day before."""
    shift = {"hours": {"fri": "22:00-06:00"}}
    open_saturday = Calendar.from_spec(shift)
    closed_saturday = Calendar.from_spec({**shift, "holidays": ["2027-01-09"]})
    window = (np.datetime64("2027-01-08"), np.datetime64("2027-01-10"))
    assert open_saturday.elapsed(*window) == 8.0
    assert closed_saturday.elapsed(*window) == 2.0


def test_own_time_zone_overrides_the_scenario_time_zone() -> None:
    """A follow-the-sun desk naming its own time zone keeps it whatever the scenario's is."""
    tokyo_desk = Calendar.from_spec(
        {"hours": {"mon-fri": "09:00-18:00"}, "timezone": "Asia/Tokyo"}, timezone="Europe/London"
    )
    assert tokyo_desk.timezone == "Asia/Tokyo"
    tokyo = ZoneInfo("Asia/Tokyo")
    assert tokyo_desk.is_open(local(tokyo, 2027, 1, 11, 9))
    assert not tokyo_desk.is_open(local(LONDON, 2027, 1, 11, 9))
    scenario_zone = Calendar.from_spec({"hours": {"mon-fri": "09:00-18:00"}}, "Europe/London")
    assert scenario_zone.timezone == "Europe/London"


# ---------------------------------------------------------------------- inputs and outputs


def test_instant_types_agree() -> None:
    """datetime64 of any unit, aware datetimes in any zone and pyarrow timestamps are the same
    instants; NaT and nulls give NaN and NaT."""
    start, end = np.datetime64("2027-01-08T21:00"), np.datetime64("2027-01-11T09:30")
    expected = OFFICE_GB.elapsed(start, end)
    assert expected == 1.5
    for unit in ("s", "ms", "us", "ns"):
        assert OFFICE_GB.elapsed(start.astype(f"datetime64[{unit}]"), end) == expected
    aware = dt.datetime(2027, 1, 11, 4, 30, tzinfo=NEW_YORK)
    assert OFFICE_GB.elapsed(utc(2027, 1, 8, 21), aware) == expected
    arrow = pa.array([utc(2027, 1, 8, 21), None], type=pa.timestamp("ns", "UTC"))
    ends = pa.chunked_array([pa.array([utc(2027, 1, 11, 9, 30)] * 2, pa.timestamp("s", "UTC"))])
    hours = OFFICE_GB.elapsed(arrow, ends)
    assert hours[0] == expected and np.isnan(hours[1])
    assert np.isnan(OFFICE_GB.elapsed(np.datetime64("NaT"), end))
    assert np.isnat(OFFICE_GB.add(np.array(["NaT", start], "datetime64[us]"), [1.0, np.nan])).all()
    assert OFFICE_GB.elapsed([start, start], end).tolist() == [expected, expected]


@pytest.mark.parametrize(
    ("instant", "words"),
    [
        (dt.datetime(2027, 1, 4, 9), "has no time zone"),
        (dt.date(2027, 1, 4), "is a date, not an instant"),
        (pa.array([0], type=pa.timestamp("us")), "have no time zone"),
        (np.array([1.5, 2.5]), "must be instants"),
        (np.datetime64("9999-12-31"), "placeholder dates"),
    ],
)
def test_bad_instants_are_refused(instant: object, words: str) -> None:
    """Naive datetimes, dates, naive pyarrow timestamps, numbers and placeholder dates raise
    SpecError saying what to give instead."""
    with pytest.raises(SpecError, match=words) as error:
        OFFICE_GB.elapsed(instant, np.datetime64("2027-01-04T12:00"))
    assert error.value.fix


@pytest.mark.parametrize("calendar", [OFFICE_GB, ALWAYS], ids=["office", "always"])
def test_instants_outside_the_covered_years_are_refused_by_every_calendar(
    calendar: Calendar,
) -> None:
    """A placeholder date, or a sum that passes 2200, is refused by the always-open calendar as
    by one with business hours, rather than counted as centuries of business time."""
    placeholder = np.datetime64("9999-12-31T00:00", "us")
    start = np.datetime64("2027-01-04T09:00", "us")
    with pytest.raises(SpecError, match="placeholder dates"):
        calendar.elapsed(start, placeholder)
    with pytest.raises(SpecError, match="placeholder dates"):
        calendar.open_time(np.array([start, placeholder]))
    with pytest.raises(SpecError, match="outside the years 1900–2200"):
        calendar.add(np.datetime64("2200-12-20T09:00", "us"), 999_000)
    missing = calendar.elapsed(np.array(["NaT", start], "datetime64[us]"), start)
    assert np.isnan(missing[0]) and missing[1] == 0.0  # a missing instant is still just missing


def test_open_intervals_hours_for_the_engine() -> None:
    """Open intervals as hours since the origin, clipped to [0, until]."""
    calendar = Calendar.from_spec({"hours": {"mon-fri": "08:00-17:00"}})
    origin = np.datetime64("2027-01-08T12:00")
    hours = calendar.open_intervals_hours(origin, 72.0)
    assert hours.tolist() == [[0.0, 5.0], [68.0, 72.0]]
    assert ALWAYS.open_intervals_hours(origin, 10.0).tolist() == [[0.0, 10.0]]


def test_description_and_values() -> None:
    """Nominal hours per week, 24x7 detection, equality without the name, pickling."""
    assert OFFICE_GB.open_hours_per_week == 45.0
    assert SPLIT_NY.open_hours_per_week == 48.0
    assert ALWAYS.is_always and ALWAYS.open_hours_per_week == 168.0
    assert Calendar.from_spec({"hours": {"daily": "00:00-24:00"}}).is_always
    assert not DAYS_SYDNEY.is_always
    named = Calendar.from_spec({"hours": {"mon-fri": "08:00-17:00"}}, name="office")
    assert str(named) == "office"
    assert named == Calendar.from_spec({"hours": {"weekdays": ["08:00-12:00", "12:00-17:00"]}})
    assert len({named, Calendar.from_spec({"hours": {"mon-fri": "08:00-17:00"}})}) == 1
    copy = pickle.loads(pickle.dumps(OFFICE_GB))
    assert copy == OFFICE_GB
    span = (np.datetime64("2027-03-01"), np.datetime64("2027-05-01"))
    assert copy.elapsed(*span) == OFFICE_GB.elapsed(*span)


def test_intervals_extend_to_later_and_earlier_years() -> None:
    """A calendar asked about more years gives the same answers as one built for them at once."""
    spec = {"hours": {"mon-fri": "08:00-17:00"}, "holidays": {"country": "GB"}}
    grown = Calendar.from_spec(spec, "Europe/London")
    fresh = Calendar.from_spec(spec, "Europe/London")
    spans = [
        ("2027-02-01", "2027-03-01"),
        ("2031-02-01", "2031-03-01"),
        ("2024-02-01", "2024-03-01"),
    ]
    for a, b in spans:
        grown.elapsed(np.datetime64(a), np.datetime64(b))
    wide = (np.datetime64("2023-06-01"), np.datetime64("2032-06-01"))
    assert grown.elapsed(*wide) == fresh.elapsed(*wide)
    start = np.datetime64("2027-12-20T10:00")
    assert fresh.elapsed(start, fresh.add(start, 5000.0)) == pytest.approx(5000.0, abs=1e-9)
    back = Calendar.from_spec(spec, "Europe/London")
    start = np.datetime64("2027-01-05T10:00")
    assert back.elapsed(start, back.add(start, -200.0)) == pytest.approx(-200.0, abs=1e-9)


# ---------------------------------------------------------------------- bad specs


@pytest.mark.parametrize(
    ("spec", "timezone", "words"),
    [
        ("sometimes", "UTC", "unknown calendar 'sometimes'"),
        (42, "UTC", "expected 'always' or a mapping"),
        ({"hours": {}}, "UTC", "hours are empty"),
        ({"holidays": ["2027-01-01"]}, "UTC", "has no 'hours'"),
        ({"hours": {"mon-fri": "08:00-17:00"}, "hols": []}, "UTC", "unknown calendar key 'hols'"),
        ({"hours": {"mon-fry": "08:00-17:00"}}, "UTC", "'fry' in 'mon-fry' is not a day"),
        ({"hours": {"mon-fri": "8am-5pm"}}, "UTC", "'8am' in '8am-5pm' is not a time"),
        ({"hours": {"mon-fri": "08:00-25:00"}}, "UTC", "'25:00' in '08:00-25:00' is not a time"),
        ({"hours": {"mon-fri": "08:00-08:00"}}, "UTC", "is empty"),
        ({"hours": {"mon-fri": []}}, "UTC", "no time ranges are given for 'mon-fri'"),
        ({"hours": {"mon-fri": 750}}, "UTC", "read as the number 750"),
        ({"hours": {"mon": "08:00-17:00"}, "timezone": "Europe/Londres"}, "UTC", "Europe/Londres"),
        ({"hours": {"mon": "08:00-17:00"}}, "Mars/Olympus", "unknown time zone 'Mars/Olympus'"),
        ({"hours": {"mon": "08:00-17:00"}}, "x" * 300, "unknown time zone 'xxx"),
        ("always", "", "expected a time zone name"),
        ({"hours": {"mon": "09:00-17:00"}, "holidays": {"country": "XX"}}, "UTC", "country 'XX'"),
        (
            {"hours": {"mon": "09:00-17:00"}, "holidays": {"country": "GB", "subdivision": "KENT"}},
            "UTC",
            "GB has no holiday subdivision 'KENT'",
        ),
        ({"hours": {"mon": "09:00-17:00"}, "holidays": {"subdivision": "ENG"}}, "UTC", "country"),
        ({"hours": {"mon": "09:00-17:00"}, "holidays": {"country": False}}, "UTC", "quote"),
        ({"hours": {"mon": "09:00-17:00"}, "holidays": {"dates": "2027-12-24"}}, "UTC", "a list"),
        ({"hours": {"mon": "09:00-17:00"}, "holidays": ["24/12/2027"]}, "UTC", "is not a date"),
        ({"hours": {"mon": "09:00-17:00"}, "holidays": ["2027-02-30"]}, "UTC", "is not a date"),
        ({"hours": {"mon": "09:00-17:00"}, "holidays": {"region": "ENG"}}, "UTC", "'region'"),
        ({"hours": {"mon": "09:00-17:00"}, "holidays": "GB"}, "UTC", "mapping or a list"),
    ],
)
def test_bad_specs_say_what_is_wrong_and_how_to_fix_it(
    spec: object, timezone: str, words: str
) -> None:
    """Every malformed calendar raises SpecError naming the bad value, with a fix."""
    with pytest.raises(SpecError) as error:
        Calendar.from_spec(spec, timezone=timezone)
    assert words in error.value.message
    assert error.value.fix


def test_subdivision_codes_are_matched_case_insensitively() -> None:
    """Country and subdivision codes may be written in lower case."""
    calendar = Calendar.from_spec(
        {"hours": {"mon-fri": "09:00-17:00"}, "holidays": {"country": "us", "subdivision": "ny"}},
        timezone="America/New_York",
    )
    assert (calendar.holiday_country, calendar.holiday_subdivision) == ("US", "NY")
    thanksgiving = (local(NEW_YORK, 2027, 11, 25), local(NEW_YORK, 2027, 11, 26))
    assert calendar.elapsed(*thanksgiving) == 0.0


@pytest.mark.parametrize("weekly", [(), ((600, 480),), ((480, 600), (540, 700)), ((0, 20_000),)])
def test_direct_construction_checks_the_weekly_intervals(
    weekly: tuple[tuple[int, int], ...],
) -> None:
    """Weekly intervals given directly must be non-empty, sorted, disjoint minutes of the week."""
    with pytest.raises(SpecError):
        Calendar(weekly=weekly)
