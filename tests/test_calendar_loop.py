"""Calendars in the loop: rosters, business-hours SLA clocks and pauses, end to end through the
engine and the measurement."""

from __future__ import annotations

import datetime as dt
import zoneinfo

import numpy as np
import pyarrow as pa
import pytest
import yaml

from simkit.measure import sla_outcomes
from simkit.runner import Results, simulate
from simkit.scenario import parse_scenario
from simkit.scenario.targets import sla_targets

LONDON = zoneinfo.ZoneInfo("Europe/London")

SCENARIO = {
    "name": "Office desk",
    "start": "2027-03-01",  # spans the spring DST change (2027-03-28)
    "timezone": "Europe/London",
    "horizon": "6w",
    "warmup": "1w",
    "drain": "2w",
    "replications": 2,
    "seed": 3,
    "calendars": {"office": {"hours": {"mon-fri": "08:00-18:00"}}},
    "services": {
        "svc": {
            "entry": "desk",
            "demand": {"per_week": 120, "profile": "flat"},
            "priorities": {
                "P3": {
                    "share": "100%",
                    "respond": {"within": "8h", "calendar": "office", "goal": "90%"},
                    "resolve": {"within": "30h", "calendar": "office", "goal": "90%"},
                },
            },
        }
    },
    "teams": {
        "desk": {
            "roster": {"mon-fri 08:00-18:00": 3},
            "handle": {"default": {"exponential": {"mean": "15m"}}},
            "next": {"resolved": "70%", "pause": "30%"},
            "pause": {"duration": {"exponential": {"mean": "1d"}}},
        }
    },
}


@pytest.fixture(scope="module")
def results() -> Results:
    return simulate(parse_scenario(yaml.safe_dump(SCENARIO), file="office.yaml"))


def _local(column: pa.ChunkedArray) -> list[dt.datetime]:
    return [v.astimezone(LONDON) for v in column.to_pylist() if v is not None]


def test_no_ticket_starts_outside_rostered_hours(results: Results) -> None:
    """A team rostered mon-fri 08:00-18:00 starts no ticket outside those local hours (DST too)."""
    starts = _local(results.visits.column("started_at"))
    assert len(starts) > 500
    for moment in starts:
        assert moment.weekday() < 5, moment
        assert dt.time(8) <= moment.time() < dt.time(18), moment


def _outcomes(results: Results, metric: str) -> tuple[pa.Table, pa.Table]:
    spec = results.measure_spec()
    target = next(t for t in sla_targets(results.scenario) if t.metric == metric)
    outcome = sla_outcomes(results.tickets, results.pauses, target, spec)
    joined = outcome.join(results.tickets, keys=["replication", "ticket_id"])
    return outcome, joined


def test_friday_evening_ticket_measured_from_monday_0800(results: Results) -> None:
    """A ticket opened after Friday 18:00 and answered on Monday is measured from Monday 08:00."""
    _, joined = _outcomes(results, "respond")
    opened = _local(joined.column("opened_at"))
    responded = [
        v.astimezone(LONDON) if v else None for v in joined.column("first_response_at").to_pylist()
    ]
    time_h = joined.column("time_h").to_pylist()
    checked = 0
    for o, r, t in zip(opened, responded, time_h, strict=True):
        if r is None or not (o.weekday() == 4 and o.time() >= dt.time(18)):
            continue
        if r.weekday() != 0 or (r.date() - o.date()).days != 3:
            continue
        monday_8 = dt.datetime.combine(r.date(), dt.time(8), tzinfo=LONDON)
        assert t == pytest.approx((r - monday_8).total_seconds() / 3600, abs=1e-6)
        checked += 1
    assert checked >= 5


def test_pauses_never_count(results: Results) -> None:
    """Resolution time = business time from opening to resolution minus the business time of
    every pause (awaiting user) inside it."""
    _, joined = _outcomes(results, "resolve")
    office = results.scenario.calendar("office")
    pauses = results.pauses
    assert pauses.num_rows > 100
    paused_business: dict[tuple[int, int], float] = {}
    starts = pauses.column("start").to_numpy().astype("datetime64[us]")
    ends = pauses.column("end").to_numpy().astype("datetime64[us]")
    inside = office.elapsed(starts, ends)
    for rep, tid, hours in zip(
        pauses.column("replication").to_pylist(),
        pauses.column("ticket_id").to_pylist(),
        inside.tolist(),
        strict=True,
    ):
        if not np.isnan(hours):
            paused_business[(rep, tid)] = paused_business.get((rep, tid), 0.0) + hours
    resolved = joined.filter(pa.compute.equal(joined.column("status"), "met"))
    opened = resolved.column("opened_at").to_numpy().astype("datetime64[us]")
    closed = resolved.column("resolved_at").to_numpy().astype("datetime64[us]")
    gross = office.elapsed(opened, closed)
    with_pause = 0
    for rep, tid, g, t in zip(
        resolved.column("replication").to_pylist(),
        resolved.column("ticket_id").to_pylist(),
        gross.tolist(),
        resolved.column("time_h").to_pylist(),
        strict=True,
    ):
        p = paused_business.get((rep, tid), 0.0)
        with_pause += p > 0
        assert t == pytest.approx(g - p, abs=1e-6)
    assert with_pause > 50


@pytest.mark.parametrize(
    ("zone", "start"),
    [
        ("Europe/London", "2027-03-01"),
        ("Europe/London", "2027-10-04"),
        ("America/New_York", "2027-03-01"),
    ],
)
def test_a_weekly_matrix_profile_is_read_in_local_time_across_a_clock_change(
    zone: str, start: str
) -> None:
    """A 7×24 profile weighting only Sunday 07:00 and Monday 09:00 local gives arrivals in those
    hours only, on the Sunday the clocks change too (between the change and local noon it was
    read an hour off: about 500 arrivals at 08:00 on that Sunday)."""
    matrix = [[0.0] * 24 for _ in range(7)]
    matrix[6][7] = matrix[0][9] = 1.0
    data = {
        **SCENARIO,
        "timezone": zone,
        "start": start,
        "horizon": "8w",
        "warmup": "0h",
        "drain": "0h",
        "services": {
            "svc": {
                "entry": "desk",
                "demand": {"per_week": 200, "profile": matrix},
                "priorities": {"P3": {"share": "100%"}},
            }
        },
        "teams": {
            "desk": {
                "roster": {"mon-sun 00:00-24:00": 20},
                "handle": {"default": {"fixed": {"value": "1m"}}},
            }
        },
    }
    run = simulate(parse_scenario(yaml.safe_dump(data), file="matrix.yaml"))
    local = zoneinfo.ZoneInfo(zone)
    cells = {
        (t.astimezone(local).weekday(), t.astimezone(local).hour)
        for t in run.tickets.column("opened_at").to_pylist()
    }
    assert cells == {(6, 7), (0, 9)}
