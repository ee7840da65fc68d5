"""Queue length and agents busy over time from the visits table (simkit.measure.queues)."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pyarrow as pa
import pytest

from simkit.engine._tables import VISITS_SCHEMA
from simkit.measure.queues import SLOTS, team_load, weekly_profile

MONDAY = dt.datetime(2027, 1, 4, tzinfo=dt.UTC)


def _at(hours: float | None) -> dt.datetime | None:
    return None if hours is None else MONDAY + dt.timedelta(hours=hours)


def visits(rows: list[tuple[str, str, float, float | None, float | None, str, int]]) -> pa.Table:
    """Visits from (team, kind, assigned h, started h, finished h, outcome, replication)."""
    return pa.Table.from_pylist(
        [
            {
                "ticket_id": i,
                "team": team,
                "kind": kind,
                "seq": 0,
                "assigned_at": _at(assigned),
                "started_at": _at(started),
                "finished_at": _at(finished),
                "outcome": outcome,
                "replication": replication,
            }
            for i, (team, kind, assigned, started, finished, outcome, replication) in enumerate(
                rows
            )
        ],
        schema=VISITS_SCHEMA,
    )


def test_one_visit_is_integrated_exactly() -> None:
    """A visit waiting 00:30–01:30 and in service 01:30–03:00 counts half an hour waiting in
    hours 0 and 1, and 0.5, 1 agent busy in hours 1 and 2."""
    table = visits([("desk", "team", 0.5, 1.5, 3.0, "resolved", 0)])
    (load,) = team_load(table, start=MONDAY, end=MONDAY + dt.timedelta(hours=4), replications=1)
    assert load.team == "desk"
    np.testing.assert_allclose(load.waiting, [0.5, 0.5, 0.0, 0.0])
    np.testing.assert_allclose(load.busy, [0.0, 0.5, 1.0, 0.0])
    assert load.hours[0] == np.datetime64("2027-01-04T00:00", "us")


def test_abandoned_open_and_outside_visits() -> None:
    """A visit never started waits until it is abandoned; one still open at the end is busy to
    the end; time outside the span is not counted; means are per replication."""
    table = visits(
        [
            ("desk", "team", 0.0, None, 2.0, "abandoned", 0),
            ("desk", "team", 1.0, 1.0, None, "open", 1),
            ("desk", "team", -5.0, -4.0, 0.5, "resolved", 1),
        ]
    )
    (load,) = team_load(table, start=MONDAY, end=MONDAY + dt.timedelta(hours=3), replications=2)
    np.testing.assert_allclose(load.waiting, [0.5, 0.5, 0.0])
    np.testing.assert_allclose(load.busy, [0.25, 0.5, 0.5])


def test_suppliers_are_left_out_and_named_teams_kept() -> None:
    """Suppliers have no queue; a named team without visits gets zeros, in the order asked."""
    table = visits(
        [
            ("vendor", "supplier", 0.0, 0.0, 2.0, "resolved", 0),
            ("desk", "team", 0.0, 0.0, 1.0, "resolved", 0),
        ]
    )
    end = MONDAY + dt.timedelta(hours=2)
    assert [x.team for x in team_load(table, start=MONDAY, end=end, replications=1)] == ["desk"]
    loads = team_load(table, start=MONDAY, end=end, replications=1, teams=["apps", "desk"])
    assert [x.team for x in loads] == ["apps", "desk"]
    np.testing.assert_allclose(loads[0].busy, [0.0, 0.0])
    with pytest.raises(ValueError):
        team_load(table, start=MONDAY, end=MONDAY, replications=1)


def test_weekly_profile_follows_local_time() -> None:
    """Slots are local hours of the week: in London summer time, 08:00 UTC is 09:00 local;
    utilisation is busy over the agents on duty, None where none are."""
    start = dt.datetime(2027, 6, 7, tzinfo=dt.UTC)  # a Monday
    table = pa.Table.from_pylist(
        [
            {
                "ticket_id": 1,
                "team": "desk",
                "kind": "team",
                "seq": 0,
                "assigned_at": start + dt.timedelta(hours=8),
                "started_at": start + dt.timedelta(hours=8),
                "finished_at": start + dt.timedelta(hours=9),
                "outcome": "resolved",
                "replication": 0,
            }
        ],
        schema=VISITS_SCHEMA,
    )
    loads = team_load(table, start=start, end=start + dt.timedelta(weeks=1), replications=1)
    agents = np.zeros(SLOTS)
    agents[9] = 2.0
    rows = weekly_profile(loads, timezone="Europe/London", agents={"desk": agents})
    assert len(rows) == SLOTS
    busy = {r["label"]: r["busy"] for r in rows if r["busy"]}
    assert busy == {"mon 09:00": 1.0}
    assert rows[9]["utilization"] == pytest.approx(0.5)
    assert rows[10]["utilization"] is None
    assert rows[0]["label"] == "mon 00:00" and rows[-1]["label"] == "sun 23:00"


def test_busy_time_matches_the_engine_and_offered_load(root) -> None:  # type: ignore[no-untyped-def]
    """On a simulated 24x7 M/M/3 desk (no preemption), the busy hours equal the engine's own
    count, and the mean agents busy is the offered load λ·E[S] = 2 within 4 standard errors of
    the replication means."""
    from simkit.runner import simulate
    from simkit.scenario import parse_scenario

    text = """
name: M/M/3
start: 2027-01-04
horizon: 6w
warmup: 1w
replications: 4
seed: 3
services:
  s: {entry: desk, demand: {per_week: 336}, priorities: {P1: {share: 100%}}}
teams:
  desk: {roster: {"mon-sun 00:00-24:00": 3}, handle: {default: {exponential: {mean: 1h}}}}
"""
    scenario = parse_scenario(text.encode(), file="mm3.yaml")
    results = simulate(scenario, replications=4, seed=3)
    spec = results.measure_spec()
    (load,) = team_load(results.visits, start=spec.start, end=spec.horizon_end, replications=4)
    stats = results.team_stats.to_pylist()
    engine_busy = sum(r["busy_h"] for r in stats if r["team"] == "desk") / 4
    assert load.busy.sum() == pytest.approx(engine_busy, rel=1e-6)
    per_replication = []
    for k in range(4):
        mine = results.visits.filter(pa.compute.equal(results.visits["replication"], k))
        (one,) = team_load(mine, start=spec.start, end=spec.horizon_end, replications=1)
        per_replication.append(one.busy.mean())
    means = np.array(per_replication)
    error = means.std(ddof=1) / np.sqrt(means.size)
    assert abs(means.mean() - 2.0) <= 4 * max(error, 0.01)
