"""The summary in two halves (SLA first, then OLA/UC and teams), and the shared readings that
make the measurement fast: each must give exactly what measuring one target at a time gives."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from simkit.calendar import Calendar
from simkit.errors import SpecError
from simkit.measure import (
    MeasureSpec,
    OlaTarget,
    summarize,
    summarize_sla,
    summarize_teams,
)
from simkit.measure.clock import (
    ClockReadings,
    ItemPauses,
    attach_pauses,
    match_items,
    net_hours,
)
from simkit.measure.sla import Outcomes, measure_ola, measure_olas
from simkit.measure.summary import _order_statistics
from simkit.resources import example_scenarios
from simkit.runner import Results, simulate
from simkit.scenario import load_scenario

OFFICE = Calendar.from_spec(
    {"hours": {"mon-fri": "08:00-18:00"}, "holidays": {"country": "GB", "subdivision": "ENG"}},
    "Europe/London",
)
ALWAYS = Calendar.from_spec("always", "UTC")


@pytest.fixture(scope="module")
def chain_run() -> Results:
    """Three short replications of the OLA/UC chain example (OLA and UC targets, pauses)."""
    path = next(p for p in example_scenarios() if p.name == "ola_uc_chain.yaml")
    scenario = load_scenario(path).with_patch({"horizon": "4w", "warmup": "1w"})
    return simulate(scenario, replications=3, seed=11)


def tables(run: Results) -> tuple[pa.Table, pa.Table, pa.Table, pa.Table, MeasureSpec]:
    spec = run.measure_spec()
    return run.service_tickets(), run.visits, run.pauses, run.team_stats, spec


def test_summarize_is_the_sla_half_and_the_team_half(chain_run: Results) -> None:
    """summarize gives exactly the rows of summarize_sla and summarize_teams, under the keys
    sla, ola, teams, periods in that order."""
    tickets, visits, pauses, team_stats, spec = tables(chain_run)
    assert spec.ola and spec.sla
    whole = summarize(tickets, visits, pauses, team_stats, spec)
    sla_half = summarize_sla(tickets, pauses, spec)
    team_half = summarize_teams(tickets, visits, team_stats, spec)
    assert list(whole) == ["sla", "ola", "teams", "periods"]
    assert list(sla_half) == ["sla", "periods"] and list(team_half) == ["ola", "teams"]
    merged = {
        "sla": sla_half["sla"],
        "ola": team_half["ola"],
        "teams": team_half["teams"],
        "periods": sla_half["periods"],
    }
    assert json.dumps(whole, allow_nan=False) == json.dumps(merged, allow_nan=False)
    assert whole["ola"] and whole["teams"] and whole["periods"]


def test_summarize_sla_needs_no_visits(chain_run: Results) -> None:
    """The SLA half is measured from tickets and pauses alone, and equals the SLA part of a
    summary of the same run without any visits."""
    tickets, _, pauses, _, spec = tables(chain_run)
    sla_half = summarize_sla(tickets, pauses, spec)
    without_visits = summarize(tickets, None, pauses, None, dataclasses.replace(spec, ola=()))
    assert sla_half == {"sla": without_visits["sla"], "periods": without_visits["periods"]}
    assert without_visits["ola"] == [] and without_visits["teams"] == []
    assert len(sla_half["sla"]) == len(spec.sla)


def test_summarize_teams_without_visits(chain_run: Results) -> None:
    """Without visits there are no team figures; OLA/UC targets then cannot be measured."""
    tickets, _, _, _, spec = tables(chain_run)
    assert summarize_teams(tickets, None, None, dataclasses.replace(spec, ola=())) == {
        "ola": [],
        "teams": [],
    }
    with pytest.raises(ValueError, match="visits"):
        summarize_teams(tickets, None, None, spec)


def same_outcomes(a: Outcomes, b: Outcomes) -> bool:
    return (
        np.array_equal(a.rows, b.rows)
        and np.array_equal(a.time_h, b.time_h, equal_nan=True)
        and np.array_equal(a.status, b.status)
        and np.array_equal(a.stop_at, b.stop_at, equal_nan=True)
    )


def test_ola_targets_measured_together_as_alone(chain_run: Results) -> None:
    """OLA/UC targets measured together (sharing the open time at the assignments of a team)
    have exactly the outcomes of each target measured alone, one-priority targets included."""
    tickets, visits, _, _, spec = tables(chain_run)
    team = spec.ola[0].team
    extra = (
        OlaTarget(team, "ola", "respond", 0.1, "office", OFFICE, 0.9, priority="P1"),
        OlaTarget(team, "ola", "resolve", 2.0, "office", OFFICE, 0.9, priority="P1"),
        OlaTarget(team, "ola", "resolve", 0.5, "office", OFFICE, 0.9),
    )
    targets = spec.ola + extra
    together = measure_olas(visits, targets, spec, tickets)
    for target, outcomes in zip(targets, together, strict=True):
        assert same_outcomes(outcomes, measure_ola(visits, target, spec, tickets))
    assert all(o.rows.size for o in together)


def test_clock_read_stops_equal_separate_reads() -> None:
    """Reading several stops of the same items at once gives exactly the readings of each
    stop read alone, pauses and items still running included."""
    rng = np.random.default_rng(5)
    n, hour = 2_000, 3_600_000_000
    begin = np.datetime64("2027-01-04T00:00", "us") + rng.integers(0, 2_000 * hour, n).astype(
        "timedelta64[us]"
    )
    resolved = begin + rng.integers(0, 200 * hour, n).astype("timedelta64[us]")
    resolved[rng.random(n) < 0.05] = np.datetime64("NaT")
    responded = begin + rng.integers(0, 3 * hour, n).astype("timedelta64[us]")
    owner = rng.integers(0, n, 600)
    pause_start = begin[owner] + rng.integers(0, 50 * hour, owner.size).astype("timedelta64[us]")
    pauses = pa.table(
        {
            "replication": pa.array(np.zeros(owner.size, np.int32)),
            "ticket_id": pa.array(owner.astype(np.int64)),
            "start": pa.array(pause_start, pa.timestamp("us", "UTC")),
            "end": pa.array(
                pause_start + np.timedelta64(20 * hour, "us"), pa.timestamp("us", "UTC")
            ),
        }
    )
    observed_until = np.datetime64("2027-04-01T00:00", "us")
    attached = attach_pauses(np.zeros(n, np.int32), np.arange(n), pauses, observed_until)
    stops = [resolved, responded]
    for calendar in (OFFICE, ALWAYS):
        together = ClockReadings.read_stops(calendar, begin, stops, attached, observed_until)
        for stop, reading in zip(stops, together, strict=True):
            alone = ClockReadings.read(calendar, begin, stop, attached, observed_until)
            assert np.array_equal(reading.time_h, alone.time_h)
            assert np.array_equal(reading.until, alone.until)
            assert np.array_equal(reading.closed, alone.closed)
            net = net_hours(calendar, begin, alone.until, attached)
            assert np.array_equal(reading.time_h, net)


def test_open_time_differences_are_business_hours() -> None:
    """Differences of the open time read in one call are exactly the business hours of
    elapsed, across years and time zones; a missing instant is refused."""
    rng = np.random.default_rng(3)
    lo = np.datetime64("2026-06-01T00:00", "us").astype(np.int64)
    span = 3 * 365 * 86_400_000_000
    start = (lo + rng.integers(0, span, 500)).astype("datetime64[us]")
    end = start + rng.integers(0, 400 * 3_600_000_000, 500).astype("timedelta64[us]")
    for calendar in (OFFICE, ALWAYS, Calendar.from_spec({"hours": {"sat": "09:00-13:00"}})):
        f_start, f_end = calendar.open_time(start, end)
        assert f_start.dtype == np.int64
        assert np.array_equal((f_end - f_start) / 3_600_000_000, calendar.elapsed(start, end))
    with pytest.raises(SpecError, match="missing"):
        OFFICE.open_time(np.array(["2027-01-04T09:00", "NaT"], "datetime64[us]"))
    assert OFFICE.open_time(np.empty(0, "datetime64[us]"))[0].size == 0


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.one_of(st.floats(0, 50, allow_nan=False), st.just(float("inf")), st.just(1.0)),
        min_size=1,
        max_size=300,
    ),
    st.lists(st.floats(0.0, 1.0, allow_nan=False), min_size=1, max_size=5),
)
def test_order_statistics_are_numpys_inverted_cdf_quantiles(
    values: list[float], levels: list[float]
) -> None:
    """The pooled quantiles taken by one partition are numpy's inverted-CDF quantiles exactly,
    ties and +inf included, for one level or many."""
    data, q = np.array(values), np.array(levels)
    expected = np.quantile(data, q, method="inverted_cdf")
    assert np.array_equal(_order_statistics(data, q), expected)
    assert _order_statistics(data, q[:1])[0] == expected[0]


def test_match_items_in_any_order() -> None:
    """Rows find their item by (replication, ticket_id) whether or not the items are sorted
    by that key; rows without an item get -1."""
    replication = np.array([1, 0, 1, 0], np.int32)
    ticket_id = np.array([5, 5, 2, 9], np.int64)
    rows_rep = np.array([0, 1, 1, 0, 2], np.int32)
    rows_id = np.array([9, 2, 5, 5, 5], np.int64)
    expected = [3, 2, 0, 1, -1]
    assert match_items(replication, ticket_id, rows_rep, rows_id).tolist() == expected
    order = np.lexsort((ticket_id, replication))
    found = match_items(replication[order], ticket_id[order], rows_rep, rows_id)
    assert [int(order[i]) if i >= 0 else -1 for i in found] == expected


def test_empty_pauses_subset_is_itself() -> None:
    """Items without pauses keep none whatever subset is taken."""
    none = ItemPauses.none()
    kept = none.subset(np.array([True, False]))
    assert kept.owner.size == 0 and kept.start.dtype == np.dtype("datetime64[us]")


def test_service_tickets_leave_out_the_repair_incidents_wherever_they_are() -> None:
    """The tickets measured against SLAs are the table without the components' repair
    incidents — kept without a copy where the incidents end each replication's rows (as the
    engine writes them), filtered where they do not."""
    from simkit.engine.availability import incident_label

    path = next(p for p in example_scenarios() if p.name == "corporate_service_desk.yaml")
    scenario = load_scenario(path).with_patch({"horizon": "4w", "warmup": "1w"})
    run = simulate(scenario, replications=3, seed=5)
    labels = {incident_label(name) for name in scenario.components}
    services = run.tickets.column("service").to_pylist()
    assert labels & set(services), "the example has no repair incident to leave out"

    def expected(table: pa.Table) -> pa.Table:
        keep = [s not in labels for s in table.column("service").to_pylist()]
        return table.filter(pa.array(keep))

    assert run.service_tickets().equals(expected(run.tickets))
    # the same rows in another order: incidents first in each replication
    shuffled = pa.Table.from_batches(
        [
            batch.take(pa.array(np.roll(np.arange(batch.num_rows), 7)))
            for batch in run.tickets.to_batches()
        ],
        schema=run.tickets.schema,
    )
    moved = dataclasses.replace(run, tickets=shuffled)
    assert moved.service_tickets().equals(expected(shuffled))
