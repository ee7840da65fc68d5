"""Columns converted once per table, and the shared clock readings of :func:`summarize`: the
shortcuts must give exactly what the one-target path gives."""

from __future__ import annotations

import gc
import json

import numpy as np
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from simkit.calendar import Calendar
from simkit.measure import (
    MeasureSpec,
    OlaTarget,
    SlaTarget,
    ola_outcomes,
    period_of,
    period_table,
    sla_outcomes,
    summarize,
    target_figures,
    ticket_pauses,
)
from simkit.measure import columns as columns_module
from simkit.measure.clock import match_items
from simkit.measure.columns import Names, ticket_columns
from simkit.measure.periods import period_positions
from simkit.measure.sla import measure_sla

TS = pa.timestamp("us", "UTC")
HOUR_US = 3_600_000_000
MONDAY = np.datetime64("2027-01-04T00:00", "us")
OFFICE = Calendar.from_spec({"hours": {"mon-fri": "08:00-18:00"}}, "Europe/London")
ALWAYS = Calendar.from_spec("always", "UTC")


def test_names_compare_like_arrow_whether_encoded_or_not() -> None:
    """A name matches exactly its rows — not nulls, not other names — before and after the
    column is encoded, over chunks with different dictionaries and for a dictionary column."""
    column = pa.chunked_array([["P1", None, "P2"], ["P3", "P1"], []])
    expected = {"P1": [1, 0, 0, 0, 1], "P2": [0, 0, 1, 0, 0], "missing": [0, 0, 0, 0, 0]}
    compared, encoded = Names(column), Names(column)
    encoded.expect(["P1", "P2"])
    for value, mask in expected.items():
        assert compared.equals(value).tolist() == [bool(m) for m in mask]
        assert encoded.equals(value).tolist() == [bool(m) for m in mask]
    assert encoded.codes.tolist()[1] == -1
    assert [encoded.names[c] for c in encoded.codes.tolist() if c >= 0] == ["P1", "P2", "P3", "P1"]
    dictionary = pa.chunked_array([pa.array(["a", "b", None, "a"]).dictionary_encode()])
    assert Names(dictionary).equals("a").tolist() == [True, False, False, True]


def test_a_column_of_nulls_matches_no_name() -> None:
    """A column holding only nulls (typed null, as an empty history column is) matches nothing."""
    names = Names(pa.chunked_array([pa.nulls(3)]))
    assert names.equals("P1").tolist() == [False, False, False]
    assert names.codes.tolist() == [-1, -1, -1] and names.names == ()


def test_columns_are_shared_while_their_table_lives() -> None:
    """The same table gives the same columns object; an equal but distinct table another one;
    the entry goes when the table does."""
    table = pa.table({"replication": pa.array([0, 0], pa.int32()), "ticket_id": [1, 2]})
    first = ticket_columns(table)
    assert ticket_columns(table) is first
    assert ticket_columns(pa.table(table.to_pydict())) is not first
    assert first.ticket_id.tolist() == [1, 2]
    count = len(columns_module._CACHE)
    del table, first
    gc.collect()
    assert len(columns_module._CACHE) < count


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.tuples(st.integers(0, 3), st.integers(-(2**40), 2**40)), max_size=30),
    st.lists(st.tuples(st.integers(0, 4), st.integers(-(2**40), 2**40)), max_size=30),
    st.booleans(),
)
def test_match_items_finds_the_first_item_with_the_key(
    items: list[tuple[int, int]], rows: list[tuple[int, int]], huge: bool
) -> None:
    """Every row gets the index of the first item with its (replication, ticket_id), −1 if
    none — with small ids and with ids too far apart to combine into one integer."""
    shift = 2**62 if huge else 0
    item_rep = np.array([r for r, _ in items], np.int32)
    item_id = np.array([i for _, i in items], np.int64)
    row_rep = np.array([r for r, _ in rows], np.int32)
    row_id = np.array([i for _, i in rows], np.int64)
    if huge and items:
        item_id[0] = shift
    found = match_items(item_rep, item_id, row_rep, row_id)
    keys = list(zip(item_rep.tolist(), item_id.tolist(), strict=True))
    wanted = zip(row_rep.tolist(), row_id.tolist(), strict=True)
    for row, index in zip(wanted, found.tolist(), strict=True):
        assert index == (keys.index(row) if row in keys else -1)


def test_period_positions_agree_with_the_labels() -> None:
    """Indexing the period table by instant gives the period whose label the instant has;
    instants outside the table and NaT get −1."""
    spec = MeasureSpec("Europe/London", "week", MONDAY, MONDAY + np.timedelta64(21, "D"), MONDAY)
    periods = tuple(period_table(spec))
    hours = np.arange(-30, 24 * 30, 7)
    stops = (MONDAY + hours * np.timedelta64(HOUR_US, "us")).astype("datetime64[us]")
    stops[3] = np.datetime64("NaT")
    position = period_positions(stops, periods)
    labels = period_of(stops, spec.timezone, spec.period)
    known = [p.label for p in periods]
    for label, index in zip(labels.tolist(), position.tolist(), strict=True):
        assert index == (known.index(label) if label in known else -1)


def _history(seed: int, n: int) -> tuple[pa.Table, pa.Table, pa.Table]:
    rng = np.random.default_rng(seed)
    replication = np.repeat(np.arange(3), n)
    opened = MONDAY + (rng.uniform(-48, 24 * 40, 3 * n) * HOUR_US).astype("timedelta64[us]")
    taken = (rng.exponential(20, 3 * n) * HOUR_US).astype("timedelta64[us]")
    resolved = opened + taken
    resolved[rng.random(3 * n) < 0.05] = np.datetime64("NaT")
    response = opened + (taken * rng.random(3 * n)).astype("timedelta64[us]")
    response[rng.random(3 * n) < 0.2] = np.datetime64("NaT")
    tickets = pa.table(
        {
            "ticket_id": pa.array(np.tile(np.arange(n), 3), pa.int64()),
            "service": pa.array(rng.choice(["payroll", "mail"], 3 * n)),
            "customer": pa.array(rng.choice(["finance", None], 3 * n)),  # type: ignore[arg-type]
            "priority": pa.array(rng.choice(["P1", "P2", "P3"], 3 * n)),
            "opened_at": pa.array(opened, TS),
            "first_response_at": pa.array(response, TS),
            "resolved_at": pa.array(resolved, TS),
            "abandoned": pa.array(rng.random(3 * n) < 0.02),
            "replication": pa.array(replication, pa.int32()),
        }
    )
    paused = rng.choice(3 * n, n // 2, replace=False)
    start = opened[paused] + (rng.uniform(0, 30, paused.size) * HOUR_US).astype("timedelta64[us]")
    length = (rng.exponential(10, paused.size) * HOUR_US).astype("timedelta64[us]")
    pauses = pa.table(
        {
            "ticket_id": pa.array(np.tile(np.arange(n), 3)[paused], pa.int64()),
            "start": pa.array(start, TS),
            "end": pa.array(start + length, TS),
            "replication": pa.array(replication[paused], pa.int32()),
        }
    )
    assigned = opened + (rng.uniform(0, 5, 3 * n) * HOUR_US).astype("timedelta64[us]")
    began = assigned + (rng.exponential(3, 3 * n) * HOUR_US).astype("timedelta64[us]")
    visits = pa.table(
        {
            "ticket_id": pa.array(np.tile(np.arange(n), 3), pa.int64()),
            "team": pa.array(rng.choice(["desk", "apps"], 3 * n)),
            "kind": pa.array(["team"] * (3 * n)),
            "seq": pa.array(np.zeros(3 * n), pa.int32()),
            "assigned_at": pa.array(assigned, TS),
            "started_at": pa.array(began, TS),
            "finished_at": pa.array(resolved, TS),
            "outcome": pa.array(rng.choice(["resolved", "abandoned"], 3 * n, p=[0.95, 0.05])),
            "replication": pa.array(replication, pa.int32()),
        }
    )
    return tickets, pauses, visits


def _targets() -> tuple[SlaTarget, ...]:
    def sla(service: str | None, customer: str | None, priority: str, metric: str) -> SlaTarget:
        level = "corporate" if service is None else "customer" if customer else "service"
        return SlaTarget(
            level, service, customer, priority, metric,  # type: ignore[arg-type]
            8.0 if metric == "resolve" else 1.0, "office", OFFICE, 0.9,
        )  # fmt: skip

    return (
        sla("payroll", None, "P1", "respond"),
        sla("payroll", None, "P1", "resolve"),
        sla("payroll", None, "P2", "resolve"),
        sla("mail", None, "P2", "resolve"),
        sla("payroll", "finance", "P2", "resolve"),
        sla(None, None, "P2", "resolve"),
        SlaTarget("service", "mail", None, "P3", "resolve", 24.0, "24x7", ALWAYS, 0.95),
    )


def _spec(period: str) -> MeasureSpec:
    end = MONDAY + np.timedelta64(28, "D")
    return MeasureSpec(
        "Europe/London",
        period,  # type: ignore[arg-type]
        MONDAY,
        end,
        end + np.timedelta64(3, "D"),
        sla=_targets(),
        ola=(OlaTarget("desk", "ola", "respond", 2.0, "office", OFFICE, 0.9),),
        replications=3,
    )


@pytest.mark.parametrize(("seed", "period"), [(1, "week"), (2, "month")])
def test_shared_readings_give_what_each_target_gives_alone(seed: int, period: str) -> None:
    """Targets sharing a calendar and a metric share one reading of the clocks: every target's
    outcomes and figures are exactly those of measuring it alone, pauses joined per target."""
    tickets, pauses, visits = _history(seed, 400)
    spec = _spec(period)
    attached = ticket_pauses(tickets, pauses, spec)
    together = measure_sla(tickets, pauses, spec)
    document = summarize(tickets, visits, pauses, None, spec)
    for target, outcomes, row in zip(spec.sla, together, document["sla"], strict=True):
        alone = sla_outcomes(tickets, attached, target, spec)
        assert outcomes.status.tolist() == [
            ("met", "breached", "open").index(s) for s in alone["status"].to_pylist()
        ]
        np.testing.assert_array_equal(outcomes.time_h, alone["time_h"].to_numpy(False))
        assert outcomes.stop_at.tolist() == alone["stop_at"].to_numpy(False).tolist()
        figures = target_figures(alone, spec)
        assert row["tickets"] == figures.measured.sum() / spec.replications
        assert row["open"] == figures.open_per_replication.sum() / spec.replications
    alone_ola = target_figures(ola_outcomes(visits, spec.ola[0], spec), spec)
    assert document["ola"][0]["tickets"] == alone_ola.measured.sum() / spec.replications
    again = summarize(
        pa.table(tickets.to_pydict(), tickets.schema), visits, pauses, None, spec
    )  # cold columns give the same document
    assert json.dumps(again, sort_keys=True) == json.dumps(document, sort_keys=True)
