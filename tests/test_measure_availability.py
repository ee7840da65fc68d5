"""Availability measurement on outage tables: agreed service time, merged service outages,
maintenance, credits, bands and the ITIL figures."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import numpy as np
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from simkit.calendar import Calendar
from simkit.measure import MeasureSpec
from simkit.measure.availability import (
    BANDS,
    AvailabilityTarget,
    availability_outcomes,
    availability_period_rows,
    availability_rows,
)
from simkit.stats import mean_interval, wilson_interval

TS = pa.timestamp("us", "UTC")
ALWAYS = Calendar.from_spec("always", "UTC")
OFFICE = Calendar.from_spec({"hours": {"mon-fri": "08:00-18:00"}}, "UTC", name="office")
MONDAY = np.datetime64("2027-01-04T00:00", "us")  # start of ISO week 2027-W01
HOUR = np.timedelta64(3_600_000_000, "us")
ROW_KEYS = {
    "service", "target", "calendar", "availability", "p_period_met", "outages_per_period",
    "bands", "mtbf_h", "mtrs_h", "mtbsi_h", "expected_credit",
}  # fmt: skip


def at(hours: float) -> np.datetime64:
    """The instant ``hours`` after Monday 4 January 2027 00:00 UTC."""
    return MONDAY + np.timedelta64(round(hours * 3_600_000_000), "us")


def outages_table(
    rows: Sequence[tuple[float, float | None]],
    *,
    replication: list[int] | None = None,
    planned: list[bool] | None = None,
    component: list[str] | None = None,
    service: str = "payroll",
) -> pa.Table:
    """Outage rows ``(start_h, end_h or None)`` in hours after Monday 4 January 2027."""
    n = len(rows)
    start = np.array([at(s) for s, _ in rows], dtype="datetime64[us]")
    end = np.array(
        [at(e) if e is not None else np.datetime64("NaT") for _, e in rows], dtype="datetime64[us]"
    )
    is_planned = planned or [False] * n
    return pa.table(
        {
            "service": pa.array([service] * n, pa.string()),
            "component": pa.array(component or ["db"] * n, pa.string()),
            "start": pa.array(start, TS),
            "end": pa.array(end, TS, mask=np.isnat(end)),
            "planned": pa.array(is_planned, pa.bool_()),
            "cause": pa.array(["maintenance" if p else "failure" for p in is_planned]),
            "replication": pa.array(replication or [0] * n, pa.int32()),
        }
    )


def spec_for(
    start_h: float = 0.0,
    end_h: float = 14 * 24.0,
    *,
    period: str = "week",
    replications: int = 1,
    observed_h: float | None = None,
) -> MeasureSpec:
    return MeasureSpec(
        timezone="UTC",
        period=period,  # type: ignore[arg-type]
        start=at(start_h),
        horizon_end=at(end_h),
        observed_until=at(end_h if observed_h is None else observed_h),
        replications=replications,
    )


def target_for(calendar: Calendar = OFFICE, **kwargs: Any) -> AvailabilityTarget:
    options: dict[str, Any] = {"service": "payroll", "target": 0.99, "calendar_name": "office"}
    options.update(kwargs)
    return AvailabilityTarget(calendar=calendar, **options)


def outcomes(
    table: pa.Table | None, target: AvailabilityTarget, spec: MeasureSpec
) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = availability_outcomes(table, target, spec).to_pylist()
    return rows


def test_only_the_open_part_of_an_outage_is_downtime() -> None:
    """On an office calendar (mon-fri 08:00-18:00, 50 h a week) an outage from Monday 10:00 to
    12:00 and one from Monday 17:00 to Tuesday 09:00 both cost 2 hours: the night is not agreed
    service time."""
    spec = spec_for()
    for rows in ([(10.0, 12.0)], [(17.0, 33.0)]):
        week = outcomes(outages_table(rows), target_for(), spec)[0]
        assert week["period"] == "2027-W01"
        assert week["agreed_h"] == 50.0
        assert week["down_h"] == pytest.approx(2.0, abs=1e-12)
        assert week["availability"] == pytest.approx(48 / 50, abs=1e-12)
        assert week["outages"] == 1
        assert week["outage_h"] == [pytest.approx(2.0, abs=1e-12)]


def test_an_outage_entirely_outside_agreed_time_is_no_outage() -> None:
    """An outage on Saturday costs nothing and is not counted on an office calendar."""
    week = outcomes(outages_table([(5 * 24 + 10.0, 5 * 24 + 15.0)]), target_for(), spec_for())[0]
    assert (week["down_h"], week["outages"], week["availability"]) == (0.0, 0, 1.0)


def test_an_outage_belongs_to_the_period_where_it_first_touches_agreed_time() -> None:
    """An outage from Friday 20:00 to Monday 09:00 of the next week first touches agreed service
    time on Monday 08:00, so it is week 2's outage, and costs 1 hour there."""
    rows = outcomes(outages_table([(4 * 24 + 20.0, 7 * 24 + 9.0)]), target_for(), spec_for())
    assert [(r["period"], r["outages"], r["down_h"]) for r in rows] == [
        ("2027-W01", 0, 0.0),
        ("2027-W02", 1, pytest.approx(1.0, abs=1e-12)),
    ]


def test_agreed_time_and_periods_follow_the_clocks_in_local_time() -> None:
    """A 24x7 service in London: March 2027 (clocks go forward on the 28th) has 743 agreed
    hours and starts at 00:00 UTC, April starts at 23:00 UTC on 31 March; an outage from 22:00 to
    23:30 UTC on 31 March is March's outage, 1 hour of it in March and 30 minutes in April."""
    london = Calendar.from_spec("always", "Europe/London")
    spec = MeasureSpec(
        timezone="Europe/London",
        period="month",
        start=np.datetime64("2027-03-01T00:00", "us"),
        horizon_end=np.datetime64("2027-04-30T23:00", "us"),
        observed_until=np.datetime64("2027-04-30T23:00", "us"),
    )
    start = np.datetime64("2027-03-31T22:00", "us")
    table = pa.table(
        {
            "service": ["payroll"],
            "component": ["db"],
            "start": pa.array(np.array([start]), TS),
            "end": pa.array(np.array([start + 3 * HOUR // 2]), TS),
            "planned": [False],
            "cause": ["failure"],
            "replication": pa.array([0], pa.int32()),
        }
    )
    rows = outcomes(table, target_for(london), spec)
    assert [(r["period"], r["agreed_h"], r["down_h"], r["outages"]) for r in rows] == [
        ("2027-03", 743.0, 1.0, 1),
        ("2027-04", 720.0, 0.5, 0),
    ]
    assert rows[0]["outage_h"] == [1.5] and all(r["full"] for r in rows)


def test_overlapping_outages_of_two_components_are_one_service_outage() -> None:
    """web down 10:00-12:00 and db down 11:00-13:00 on Monday: one outage of 3 hours, not two
    outages of 4 hours in total; a third component down from 13:00 (touching) extends it."""
    table = outages_table([(10.0, 12.0), (11.0, 13.0), (13.0, 14.0)], component=["web", "db", "lb"])
    week = outcomes(table, target_for(), spec_for())[0]
    assert week["outages"] == 1
    assert week["down_h"] == pytest.approx(4.0, abs=1e-12)
    assert week["outage_h"] == [pytest.approx(4.0, abs=1e-12)]


def test_outages_of_other_services_and_replications_are_kept_apart() -> None:
    """Rows are merged per service and replication: the same interval in another replication is
    that replication's outage, another service's rows are not measured."""
    table = pa.concat_tables(
        [
            outages_table([(10.0, 12.0), (10.0, 12.0)], replication=[0, 1]),
            outages_table([(9.0, 17.0)], service="email"),
        ]
    )
    rows = outcomes(table, target_for(), spec_for(replications=2))
    week_1 = [r for r in rows if r["period"] == "2027-W01"]
    assert [(r["replication"], r["outages"], r["down_h"]) for r in week_1] == [
        (0, 1, pytest.approx(2.0, abs=1e-12)),
        (1, 1, pytest.approx(2.0, abs=1e-12)),
    ]


def sunday_windows() -> np.ndarray:
    """Sunday 02:00-04:00 in each of the two weeks."""
    starts = [at(6 * 24 + 2.0), at(13 * 24 + 2.0)]
    return np.array([[s, s + 2 * HOUR] for s in starts], dtype="datetime64[us]")


def test_maintenance_excluded_or_counted_as_downtime() -> None:
    """24x7 with the window Sunday 02:00-04:00 (also recorded as planned outage rows): excluded,
    agreed time is 166 h a week and availability 100%; counted, agreed time is 168 h with 2 h
    down. The difference is the window's share of agreed service time, 2/168. Planned downtime is
    no service outage."""
    windows = sunday_windows()
    planned_rows = [(6 * 24 + 2.0, 6 * 24 + 4.0), (13 * 24 + 2.0, 13 * 24 + 4.0)]
    table = outages_table(planned_rows, planned=[True, True], component=["maintenance"] * 2)
    spec = spec_for()
    excluded = target_for(ALWAYS, maintenance=windows, exclude_maintenance=True)
    counted = target_for(ALWAYS, maintenance=windows, exclude_maintenance=False)
    for table_or_none in (table, None):
        out = outcomes(table_or_none, excluded, spec)[0]
        inc = outcomes(table_or_none, counted, spec)[0]
        assert (out["agreed_h"], out["down_h"], out["availability"]) == (166.0, 0.0, 1.0)
        assert (inc["agreed_h"], inc["down_h"]) == (168.0, 2.0)
        assert out["availability"] - inc["availability"] == pytest.approx(2 / 168, abs=1e-12)
        assert out["outages"] == inc["outages"] == 0
        assert inc["unplanned_down_h"] == 0.0
    rows = availability_rows(table, [excluded, counted], spec)
    assert rows[0]["availability"]["mean"] - rows[1]["availability"]["mean"] == pytest.approx(
        2 / 168, abs=1e-12
    )


def test_unplanned_outage_overlapping_a_maintenance_window() -> None:
    """A failure from Sunday 03:00 to 05:00 during the 02:00-04:00 window: with maintenance
    excluded only 04:00-05:00 is downtime (and the outage lasts 1 h); counted, the window and the
    failure merge into 3 h of downtime, of which the failure's 2 h are unplanned."""
    windows = sunday_windows()
    table = outages_table([(6 * 24 + 3.0, 6 * 24 + 5.0)])
    spec = spec_for()
    out = outcomes(table, target_for(ALWAYS, maintenance=windows), spec)[0]
    inc = outcomes(table, target_for(ALWAYS, maintenance=windows, exclude_maintenance=False), spec)
    assert (out["down_h"], out["outages"], out["outage_h"]) == (1.0, 1, [1.0])
    assert (inc[0]["down_h"], inc[0]["unplanned_down_h"], inc[0]["outage_h"]) == (3.0, 2.0, [2.0])


def test_planned_work_outside_the_agreed_windows_is_downtime() -> None:
    """A planned outage on Wednesday, outside the agreed Sunday window, costs availability but
    is not counted as a service outage."""
    table = outages_table([(2 * 24 + 10.0, 2 * 24 + 11.0)], planned=[True])
    week = outcomes(table, target_for(ALWAYS, maintenance=sunday_windows()), spec_for())[0]
    assert (week["down_h"], week["unplanned_down_h"], week["outages"]) == (1.0, 0.0, 0)


def test_partial_periods_are_excluded_from_p_period_met() -> None:
    """Measuring from Wednesday 6 January for 12 days: W01 is partial and fails the target badly,
    W02 is full and meets it, W03 is partial: p_period_met counts W02 alone. Availability over
    the whole span still counts the failure."""
    spec = spec_for(2 * 24.0, 14 * 24.0)
    table = outages_table([(2 * 24 + 9.0, 2 * 24 + 17.0)])
    rows = outcomes(table, target_for(), spec)
    assert [(r["period"], r["full"], r["met"]) for r in rows] == [
        ("2027-W01", False, False),
        ("2027-W02", True, True),
    ]
    assert rows[0]["agreed_h"] == 30.0
    row = availability_rows(table, [target_for()], spec)[0]
    assert row["p_period_met"] == wilson_interval(1, 1).as_dict()
    assert row["availability"]["mean"] == pytest.approx(1 - 8 / 80, abs=1e-12)
    assert row["outages_per_period"] == 0.0


def credit_target(**kwargs: Any) -> AvailabilityTarget:
    return target_for(
        ALWAYS,
        target=0.999,
        calendar_name="24x7",
        credits=((0.999, 0.10), (0.99, 0.25)),
        monthly_fee=20000.0,
        **kwargs,
    )


def test_credit_tiers_and_expected_credit() -> None:
    """Three full months (744, 672, 744 h): 0.5 h down in January (99.93%, no credit), 1 h in
    February (99.85% < 99.9%: 10%) and 10 h in March (98.66% < 99%: the larger 25%). Expected
    credit per month = (0 + 10% + 25%) / 3 × 20,000."""
    jan, feb, mar = -3 * 24.0, 28 * 24.0, 56 * 24.0  # 1 Jan, 1 Feb, 1 Mar relative to 4 Jan
    table = outages_table([(jan + 100, jan + 100.5), (feb + 100, feb + 101), (mar + 10, mar + 20)])
    spec = spec_for(jan, 87 * 24.0, period="month")
    rows = outcomes(table, credit_target(), spec)
    assert [r["period"] for r in rows] == ["2027-01", "2027-02", "2027-03"]
    assert [r["agreed_h"] for r in rows] == [744.0, 672.0, 744.0]
    assert [r["credit"] for r in rows] == [0.0, 0.10, 0.25]
    assert [r["met"] for r in rows] == [True, False, False]
    row = availability_rows(table, [credit_target()], spec)[0]
    assert row["expected_credit"] == pytest.approx((0.10 + 0.25) / 3 * 20000, rel=1e-12)
    assert row["p_period_met"] == wilson_interval(1, 3).as_dict()
    assert availability_rows(table, [target_for(ALWAYS)], spec)[0]["expected_credit"] is None


def test_availability_exactly_at_a_threshold_meets_it_and_earns_no_credit() -> None:
    """0.999 of a 1000-hour span is met, not below 99.9%: no credit."""
    span = 1000.0
    table = outages_table([(10.0, 11.0)])
    spec = spec_for(0.0, span, period="quarter")
    quarter = outcomes(table, credit_target(), spec)
    assert len(quarter) == 1 and quarter[0]["availability"] == pytest.approx(0.999, abs=1e-15)
    assert quarter[0]["met"] is True and quarter[0]["credit"] == 0.0


def test_credit_fee_scales_with_the_period_length() -> None:
    """Weekly periods earn a week's share of the monthly fee (12 × 7 / 365.2425 months); two
    replications, one breaching in both weeks and one never: the mean over four pairs."""
    table = outages_table([(10.0, 20.0), (7 * 24 + 10.0, 7 * 24 + 20.0)], replication=[0, 0])
    spec = spec_for(replications=2)
    row = availability_rows(table, [credit_target()], spec)[0]
    week_fee = 20000 * 12 * 7 / 365.2425
    assert row["expected_credit"] == pytest.approx(2 * 0.25 / 4 * week_fee, rel=1e-12)


def test_bands_count_unplanned_outages_per_full_period() -> None:
    """Durations 5 m, 6 m, 30 m, 31 m, 4 h and 5 h in week 1 of two full weeks: bands include their
    upper bound, and are mean counts per full period that add up to outages_per_period."""
    durations = [5 / 60, 6 / 60, 0.5, 31 / 60, 4.0, 5.0]
    starts = 10.0 + 24.0 * np.arange(len(durations))
    table = outages_table([(s, s + d) for s, d in zip(starts, durations, strict=True)])
    row = availability_rows(table, [target_for(ALWAYS)], spec_for())[0]
    assert row["bands"] == {"<=5m": 0.5, "5-30m": 1.0, "30m-4h": 1.0, ">4h": 0.5}
    assert row["outages_per_period"] == 3.0 == sum(row["bands"].values())
    assert list(row["bands"]) == list(BANDS)


def test_mtbf_mtrs_mtbsi_follow_the_itil_definitions() -> None:
    """Two replications of two 24x7 weeks (672 agreed hours in all) with outages of 1 h and 3 h
    in one and 2 h in the other: MTRS = 6/3 = 2 h, MTBF = (672 − 6)/3 = 222 h, MTBSI = 672/3 =
    224 h = MTBF + MTRS."""
    table = outages_table([(10.0, 11.0), (50.0, 53.0), (100.0, 102.0)], replication=[0, 0, 1])
    row = availability_rows(table, [target_for(ALWAYS)], spec_for(replications=2))[0]
    assert row["mtrs_h"] == pytest.approx(2.0, rel=1e-12)
    assert row["mtbf_h"] == pytest.approx(222.0, rel=1e-12)
    assert row["mtbsi_h"] == pytest.approx(224.0, rel=1e-12)
    assert row["mtbsi_h"] == pytest.approx(row["mtbf_h"] + row["mtrs_h"], rel=1e-12)
    assert row["outages_per_period"] == 3 / 4
    shares = [1 - 4 / 336, 1 - 2 / 336]
    assert row["availability"] == mean_interval(shares, bounds=(0.0, 1.0)).as_dict()


def test_no_outages_means_full_availability_and_no_itil_figures() -> None:
    """Without outages availability is 1, every full period meets the target and MTBF, MTRS and
    MTBSI are undefined (null)."""
    row = availability_rows(None, [target_for()], spec_for(replications=3))[0]
    assert row["availability"] == {"mean": 1.0, "lo": 1.0, "hi": 1.0}
    assert row["p_period_met"] == wilson_interval(6, 6).as_dict()
    assert (row["mtbf_h"], row["mtrs_h"], row["mtbsi_h"]) == (None, None, None)
    assert row["bands"] == dict.fromkeys(BANDS, 0.0)


def test_a_still_open_outage_counts_until_observed_until() -> None:
    """An outage without end that began Sunday 20:00 of week 2 is down until the data ends at
    Monday 00:00 (the end of the horizon): 4 hours on 24x7; one ending after observed_until is cut
    there, and one starting after it is not known yet."""
    table = outages_table([(13 * 24 + 20.0, None)])
    week = outcomes(table, target_for(ALWAYS), spec_for())[1]
    assert (week["period"], week["down_h"], week["outages"]) == ("2027-W02", 4.0, 1)
    history = spec_for(0.0, 14 * 24.0, observed_h=13 * 24.0)
    late = outages_table([(12 * 24 + 20.0, 13 * 24 + 5.0), (13 * 24 + 1.0, None)])
    rows = outcomes(late, target_for(ALWAYS), history)
    assert [(r["period"], r["agreed_h"], r["down_h"], r["full"]) for r in rows] == [
        ("2027-W01", 168.0, 0.0, True),
        ("2027-W02", 144.0, 4.0, False),
    ]


def test_history_with_one_replication_has_no_interval_on_availability() -> None:
    """An outage history is replication 0 of 1: its availability has no t interval."""
    table = outages_table([(10.0, 12.0)])
    row = availability_rows(table, [target_for()], spec_for())[0]
    assert row["availability"]["mean"] == pytest.approx(98 / 100, abs=1e-12)
    assert row["availability"]["lo"] is None and row["availability"]["hi"] is None
    assert set(row) == ROW_KEYS


def test_rows_are_json_with_the_contract_fields() -> None:
    """Rows carry exactly the contract's fields (plus the calendar name) as plain JSON values,
    including when nothing can be measured (no full period, no agreed time)."""
    table = outages_table([(10.0, 12.0), (30.0, None)], replication=[0, 1])
    specs = [spec_for(replications=2), spec_for(2 * 24.0, 3 * 24.0, replications=2)]
    closed = Calendar.from_spec({"hours": {"sat": "10:00-11:00"}}, "UTC")
    for spec in specs:
        for target in (credit_target(), target_for(closed)):
            rows = availability_rows(table, [target], spec)
            periods = availability_period_rows(table, [target], spec)
            json.dumps(rows + periods, allow_nan=False)
            assert set(rows[0]) == ROW_KEYS
    short = availability_rows(table, [credit_target()], specs[1])[0]
    assert short["outages_per_period"] is None and short["expected_credit"] is None
    assert short["p_period_met"] == {"mean": None, "lo": None, "hi": None}


def test_period_rows_for_charts() -> None:
    """Per period: availability over replications with its interval, the share of replications
    meeting the target, mean outages per replication, and whether the period is full."""
    table = outages_table([(10.0, 12.0), (10.0, 11.0)], replication=[0, 1])
    rows = availability_period_rows(table, [target_for()], spec_for(replications=2))
    assert [r["period"] for r in rows] == ["2027-W01", "2027-W02"]
    first = rows[0]
    assert first["availability"] == mean_interval([0.96, 0.98], bounds=(0.0, 1.0)).as_dict()
    assert first["p_met"] == 0.0 and first["outages"] == 1.0 and first["full"] is True
    assert rows[1]["availability"]["mean"] == 1.0 and rows[1]["p_met"] == 1.0


def test_bad_input_is_refused() -> None:
    """Replication ids outside the spec, outages ending before they start and bad targets fail
    with a message."""
    with pytest.raises(ValueError, match="replication ids"):
        availability_rows(outages_table([(1.0, 2.0)], replication=[3]), [target_for()], spec_for())
    with pytest.raises(ValueError, match="end before"):
        availability_rows(outages_table([(2.0, 1.0)]), [target_for()], spec_for())
    with pytest.raises(ValueError, match="target"):
        target_for(target=99.9)
    with pytest.raises(ValueError, match="credit tier"):
        target_for(credits=((99.9, 0.1),))
    with pytest.raises(ValueError, match="maintenance"):
        target_for(maintenance=np.zeros((2, 3), dtype="datetime64[us]"))


def reference(
    rows: list[tuple[int, int, int, bool]],
    replications: int,
    open_minutes: np.ndarray,
    maintenance: np.ndarray,
    exclude_maintenance: bool,
) -> tuple[np.ndarray, np.ndarray, list[list[float]]]:
    """Minute by minute: downtime minutes and unplanned outages (runs of unplanned down minutes,
    counted in the week of their first agreed minute) per replication and week."""
    minutes = open_minutes.size
    agreed = open_minutes & ~maintenance if exclude_maintenance else open_minutes
    down = np.zeros((replications, minutes), dtype=bool)
    unplanned = np.zeros((replications, minutes), dtype=bool)
    if not exclude_maintenance:
        down |= maintenance
    for rep, start, end, planned in rows:
        down[rep, start:end] = True
        if not planned:
            unplanned[rep, start:end] = True
    weeks = minutes // (7 * 24 * 60)
    down_min = (down & agreed).reshape(replications, weeks, -1).sum(axis=2)
    counts = np.zeros((replications, weeks), dtype=np.int64)
    durations: list[list[float]] = [[] for _ in range(replications * weeks)]
    for rep in range(replications):
        edges = np.diff(np.concatenate(([0], unplanned[rep].astype(np.int8), [0])))
        for run_start, run_end in zip(
            np.flatnonzero(edges == 1), np.flatnonzero(edges == -1), strict=True
        ):
            inside = np.flatnonzero(agreed[run_start:run_end])
            if inside.size:
                week = (run_start + int(inside[0])) // (7 * 24 * 60)
                counts[rep, week] += 1
                durations[rep * weeks + week].append(inside.size / 60)
    return down_min / 60, counts, [sorted(d) for d in durations]


@settings(max_examples=30, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.integers(0, 1),
            st.integers(-600, 2 * 7 * 24 * 60 + 600),
            st.integers(1, 3000),
            st.booleans(),
        ),
        max_size=10,
    ),
    st.booleans(),
)
def test_vectorised_measurement_matches_minute_by_minute(
    draws: list[tuple[int, int, int, bool]], exclude_maintenance: bool
) -> None:
    """Random overlapping outages (some planned, some outside the span) on the office calendar
    with a Wednesday 12:00-14:00 maintenance window, excluded or counted, give the same downtime,
    outage counts and durations as a minute-by-minute count."""
    minutes = 2 * 7 * 24 * 60
    rows = [(rep, start, start + length, planned) for rep, start, length, planned in draws]
    table = outages_table(
        [(s / 60, e / 60) for _, s, e, _ in rows],
        replication=[r for r, *_ in rows],
        planned=[p for *_, p in rows],
    ) if rows else None  # fmt: skip
    windows = np.array(
        [[at(d * 24 + 12.0), at(d * 24 + 14.0)] for d in (2, 9)], dtype="datetime64[us]"
    )
    grid = MONDAY + np.arange(minutes) * np.timedelta64(60_000_000, "us")
    open_minutes = np.asarray(OFFICE.is_open(grid), dtype=bool)
    in_window = np.asarray(
        ((grid[:, None] >= windows[:, 0]) & (grid[:, None] < windows[:, 1])).any(axis=1), bool
    )
    clipped = [(r, max(s, 0), max(min(e, minutes), 0), p) for r, s, e, p in rows]
    down_h, counts, durations = reference(clipped, 2, open_minutes, in_window, exclude_maintenance)
    target = target_for(maintenance=windows, exclude_maintenance=exclude_maintenance)
    result = outcomes(table, target, spec_for(replications=2))
    assert [r["agreed_h"] for r in result] == [48.0 if exclude_maintenance else 50.0] * 4
    assert np.allclose([r["down_h"] for r in result], down_h.ravel(), atol=1e-9)
    assert [r["outages"] for r in result] == counts.ravel().tolist()
    for row, expected in zip(result, durations, strict=True):
        assert np.allclose(row["outage_h"], expected, atol=1e-9)
