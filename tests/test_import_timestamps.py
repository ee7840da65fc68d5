"""Reading timestamps: strptime formats without rolling over impossible dates, fractions,
offsets, 12-hour clocks and month names, time zones and daylight-saving changes."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from simkit.calibrate.clean import duplicate_rows, format_pattern, parse_instants


def read(
    values: list[str | None], formats: list[str], zone: str = "UTC", **kw: object
) -> list[str]:
    parsed = parse_instants(pa.array(values, pa.string()), formats, zone, **kw)  # type: ignore[arg-type]
    return [str(v) if not np.isnat(v) else "NaT" for v in parsed.as_datetime64()]


def test_day_first_without_padding() -> None:
    """ServiceNow's 29/2/2016 13:23 reads day-first, with or without zero padding."""
    assert read(["29/2/2016 13:23", "01/03/2016 01:05"], ["%d/%m/%Y %H:%M"]) == [
        "2016-02-29T13:23:00.000000",
        "2016-03-01T01:05:00.000000",
    ]


def test_impossible_dates_are_unreadable() -> None:
    """31 February, month 13 and hour 25 are not rolled over into valid dates."""
    parsed = parse_instants(
        pa.array(["31/02/2016 10:00", "01/13/2016 10:00", "01/01/2016 25:00"]),
        ["%d/%m/%Y %H:%M"],
        "UTC",
    )
    assert parsed.unreadable.tolist() == [True, True, True]
    assert read(["29/02/2015 10:00"], ["%d/%m/%Y %H:%M"]) == ["NaT"]  # 2015 is no leap year


def test_fractions_and_offsets() -> None:
    """Fractional seconds and ISO offsets are read; a written offset wins over the zone."""
    values = ["2012/10/09 14:50:17.123", "2013-11-19T12:19:43.000+10:00", "2024-06-01 12:00Z"]
    got = read(values, ["%Y/%m/%d %H:%M:%S.%f", "iso"], "Europe/Rome")
    assert got == [
        "2012-10-09T12:50:17.123000",
        "2013-11-19T02:19:43.000000",
        "2024-06-01T12:00:00.000000",
    ]


def test_offsets_ignored() -> None:
    """With offsets ignored, the clock time is local time in the zone."""
    got = read(["2013-11-19T12:19:43.000+10:00"], ["iso"], "Europe/Amsterdam", offsets="ignore")
    assert got == ["2013-11-19T11:19:43.000000"]


def test_twelve_hour_clock_and_month_names() -> None:
    """Jira's 12/Mar/21 3:15 PM; 12 AM is midnight and 12 PM noon."""
    got = read(
        ["12/Mar/21 3:15 PM", "1/Jan/21 12:05 AM", "1/Jan/21 12:05 PM"], ["%d/%b/%y %I:%M %p"]
    )
    assert got == [
        "2021-03-12T15:15:00.000000",
        "2021-01-01T00:05:00.000000",
        "2021-01-01T12:05:00.000000",
    ]


def test_first_fitting_format_wins_and_is_counted() -> None:
    """Each value is read by the first format that fits; the counts per format are kept."""
    parsed = parse_instants(
        pa.array(["2016-03-01 09:00", "2/3/2016 09:00", None, "soon"]),
        ["%d/%m/%Y %H:%M", "iso"],
        "UTC",
    )
    assert parsed.format_counts() == {"%d/%m/%Y %H:%M": 1, "iso": 1}
    assert parsed.unreadable.tolist() == [False, False, False, True]


def test_daylight_saving_changes() -> None:
    """In Berlin 02:30 on the last Sunday of October happens twice (read as the first, CEST)
    and 02:30 on the last Sunday of March never happens (read as the jump to 03:00 CEST)."""
    parsed = parse_instants(
        pa.array(["2023-10-29 02:30", "2023-03-26 02:30", "2023-06-01 12:00"]),
        ["iso"],
        "Europe/Berlin",
    )
    assert [str(v) for v in parsed.as_datetime64()] == [
        "2023-10-29T00:30:00.000000",
        "2023-03-26T01:00:00.000000",
        "2023-06-01T10:00:00.000000",
    ]
    assert parsed.ambiguous.tolist() == [True, False, False]
    assert parsed.nonexistent.tolist() == [False, True, False]


def test_unsupported_codes_refused() -> None:
    """A format code outside the supported set is refused with the supported list."""
    with pytest.raises(ValueError, match="%j"):
        format_pattern("%Y-%j")


@settings(max_examples=60, deadline=None)
@given(st.datetimes(min_value=dt.datetime(1990, 1, 1), max_value=dt.datetime(2090, 12, 31)))
def test_round_trip_with_python(moment: dt.datetime) -> None:
    """Any instant written with strftime reads back the same, in every supported layout."""
    for fmt in ("%d/%m/%Y %H:%M:%S", "%Y/%m/%d %H:%M:%S.%f", "%d/%b/%Y %I:%M:%S %p"):
        text = moment.strftime(fmt)
        exact = moment if "%f" in fmt else moment.replace(microsecond=0)
        expected = np.datetime64(exact, "us")
        got = parse_instants(pa.array([text]), [fmt], "UTC").as_datetime64()[0]
        assert got == expected, (fmt, text)


def test_duplicate_rows_are_exact() -> None:
    """Only rows equal in every column are duplicates; nulls equal nulls; first copy kept."""
    table = pa.table({"a": ["x", "y", "x", "x", None, None], "b": ["1", "2", "1", "2", None, None]})
    assert duplicate_rows(table, ["a", "b"]).tolist() == [False, False, True, False, False, True]


def test_one_format_reads_a_column_where_one_reads_every_value() -> None:
    """Formats tried value by value read 9/6/2005 day-first beside 9/13/2005 month-first; when
    one format reads every value of the column, it reads them all; when none does, each value
    keeps the first format that fits it."""
    formats = ["%d/%m/%Y %H:%M", "%m/%d/%Y %H:%M"]
    column = pa.array(["9/6/2005 09:13", "9/13/2005 09:00", None, "nonsense"])
    parsed = parse_instants(column, formats, "UTC")
    days = parsed.micros[:2].astype("datetime64[us]").astype("datetime64[D]").astype(str)
    assert days.tolist() == ["2005-09-06", "2005-09-13"]
    assert parsed.format_counts() == {"%m/%d/%Y %H:%M": 2}
    assert parsed.unreadable.tolist() == [False, False, False, True]
    mixed = parse_instants(pa.array(["13/9/2005 09:00", "9/13/2005 09:00"]), formats, "UTC")
    assert mixed.format_counts() == {"%d/%m/%Y %H:%M": 1, "%m/%d/%Y %H:%M": 1}
