"""Reporting periods: ISO weeks, months and quarters in the scenario time zone."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from simkit.measure import MeasureSpec, period_of, period_table


def utc(text: str) -> np.datetime64:
    return np.datetime64(text, "us")


def labels(instants: list[str], timezone: str, kind: str) -> list[str | None]:
    values = np.array([text or "NaT" for text in instants], dtype="datetime64[us]")
    return list(period_of(values, timezone, kind))


def reference_label(instant: np.datetime64, timezone: str, kind: str) -> str:
    """One instant at a time, straight from zoneinfo and the ISO calendar."""
    micros = int(instant.astype("datetime64[us]").astype(np.int64))
    local = (dt.datetime(1970, 1, 1, tzinfo=dt.UTC) + dt.timedelta(microseconds=micros)).astimezone(
        ZoneInfo(timezone)
    )
    if kind == "week":
        year, week, _ = local.isocalendar()
        return f"{year}-W{week:02d}"
    if kind == "month":
        return f"{local.year}-{local.month:02d}"
    return f"{local.year}-Q{(local.month - 1) // 3 + 1}"


def test_iso_weeks_at_year_boundaries() -> None:
    """The first days of January can belong to the previous year's week 53: 2021-01-03 is in
    2020-W53, and 2026 (which starts on a Thursday) has a week 53 that ends on 2027-01-03."""
    assert labels(
        [
            "2021-01-03T12:00",
            "2021-01-04T00:00",
            "2026-12-28T00:00",
            "2026-12-31T23:59",
            "2027-01-03T23:59:59.999999",
            "2027-01-04T00:00",
            "2027-01-11T09:30",
        ],
        "UTC",
        "week",
    ) == [
        "2020-W53",
        "2021-W01",
        "2026-W53",
        "2026-W53",
        "2026-W53",
        "2027-W01",
        "2027-W02",
    ]


def test_months_and_quarters_labels() -> None:
    """Months are ``YYYY-MM`` and quarters ``YYYY-Qn``, a December instant staying in its year."""
    instants = ["2026-12-31T23:59", "2027-01-01T00:00", "2027-03-31T12:00", "2027-04-01T00:00"]
    assert labels(instants, "UTC", "month") == ["2026-12", "2027-01", "2027-03", "2027-04"]
    assert labels(instants, "UTC", "quarter") == ["2026-Q4", "2027-Q1", "2027-Q1", "2027-Q2"]


def test_boundaries_are_local_midnights_across_dst_in_london() -> None:
    """In Europe/London, April 2027 (BST) starts at 2027-03-31 23:00 UTC and the week after the
    clocks change (2027-03-28) starts on Sunday 23:00 UTC; January starts at 00:00 UTC (GMT)."""
    zone = "Europe/London"
    assert labels(["2027-03-31T22:59:59", "2027-03-31T23:00"], zone, "month") == [
        "2027-03",
        "2027-04",
    ]
    assert labels(["2027-03-31T22:59:59", "2027-03-31T23:00"], zone, "quarter") == [
        "2027-Q1",
        "2027-Q2",
    ]
    assert labels(["2027-03-28T22:59", "2027-03-28T23:00"], zone, "week") == [
        "2027-W12",
        "2027-W13",
    ]
    assert labels(["2026-12-31T23:59", "2027-01-01T00:00"], zone, "month") == [
        "2026-12",
        "2027-01",
    ]
    assert labels(["2027-10-31T23:59", "2027-11-01T00:00"], zone, "month") == [
        "2027-10",
        "2027-11",
    ]


def test_missing_instants_have_no_period() -> None:
    """NaT gives None, and an all-missing input gives all None."""
    assert labels(["2027-01-05T00:00", ""], "UTC", "month") == ["2027-01", None]
    assert labels(["", ""], "UTC", "week") == [None, None]


def test_unknown_period_kind_is_refused() -> None:
    """Only week, month and quarter exist."""
    with pytest.raises(ValueError, match="week, month, quarter"):
        period_of(np.array([utc("2027-01-01")]), "UTC", "fortnight")


@settings(max_examples=25, deadline=None)
@given(
    st.lists(st.integers(0, 5 * 365 * 24 * 3600), min_size=1, max_size=60),
    st.sampled_from(["UTC", "Europe/London", "America/New_York", "Australia/Sydney"]),
    st.sampled_from(["week", "month", "quarter"]),
)
def test_vectorised_labels_match_one_at_a_time(
    seconds: list[int], timezone: str, kind: str
) -> None:
    """One searchsorted over many instants agrees with zoneinfo instant by instant."""
    instants = utc("2025-01-01T00:00") + np.array(seconds, dtype="timedelta64[s]")
    assert list(period_of(instants, timezone, kind)) == [
        reference_label(t, timezone, kind) for t in instants
    ]


def spec_for(
    start: str, horizon_end: str, observed_until: str, period: str, tz: str = "UTC"
) -> MeasureSpec:
    return MeasureSpec(
        timezone=tz,
        period=period,  # type: ignore[arg-type]
        start=utc(start),
        horizon_end=utc(horizon_end),
        observed_until=utc(observed_until),
    )


def test_period_table_marks_partial_periods_at_both_ends() -> None:
    """Measuring Wednesday 2027-01-06 to Monday 2027-01-25: W01 is cut by the start, W02 and W03
    are full, W04 (holding clock stops after the horizon, up to observed_until) is partial."""
    table = period_table(spec_for("2027-01-06", "2027-01-25", "2027-01-27T12:00", "week"))
    assert [(p.label, p.full) for p in table] == [
        ("2027-W01", False),
        ("2027-W02", True),
        ("2027-W03", True),
        ("2027-W04", False),
    ]
    assert table[1].start == utc("2027-01-11") and table[1].end == utc("2027-01-18")


def test_period_table_in_local_time() -> None:
    """13 weeks from Monday 2027-01-04 in London: January is partial (it began on the 1st),
    February and March are full, April is partial; April starts at 23:00 UTC on 31 March."""
    start = "2027-01-04T00:00"
    horizon_end = "2027-04-04T23:00"  # local midnight starting 2027-04-05 (BST)
    table = period_table(spec_for(start, horizon_end, horizon_end, "month", "Europe/London"))
    assert [(p.label, p.full) for p in table] == [
        ("2027-01", False),
        ("2027-02", True),
        ("2027-03", True),
        ("2027-04", False),
    ]
    assert table[3].start == utc("2027-03-31T23:00")


def test_period_table_reaches_a_stop_exactly_at_observed_until() -> None:
    """A clock stopping at the very instant the observation ends still has a period."""
    table = period_table(spec_for("2027-01-01", "2027-03-01", "2027-04-01", "month"))
    assert table[-1].label == "2027-04"
    assert [p.full for p in table] == [True, True, False, False]
