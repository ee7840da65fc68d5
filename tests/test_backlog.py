"""A scenario's ``backlog``: tickets already open when the run begins. They join their team's
queue at the run's first instant, ahead of every new ticket of their priority, take agents'
time, and are never measured themselves (opened before the measured span, their first visit
assigned then too).

The clearing time of a backlog with no arrivals is checked against theory: ``N`` tickets on
``c`` agents with exponential handling (rate μ) finish after ``N − c`` departures at rate ``cμ``
and then the last ``c`` in service, so E[T] = (N − c)/(cμ) + H_c/μ and
Var[T] = (N − c)/(cμ)² + Σ_{k=1..c} 1/(kμ)². The tolerance is four standard errors of the mean
over the replications.
"""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest
import yaml

from simkit.engine.compile import compile_support, expected_visits
from simkit.errors import InputError
from simkit.runner import simulate
from simkit.scenario import Scenario, merge_patch, parse_scenario
from simkit.streams import Streams

START = dt.datetime(2027, 1, 4, tzinfo=dt.UTC)

BASE: dict[str, Any] = {
    "name": "Backlog",
    "start": "2027-01-04",
    "horizon": "1w",
    "warmup": "0h",
    "drain": "0h",
    "services": {
        "s": {
            "entry": "t",
            "demand": {"per_week": 0},
            "priorities": {
                "P1": {"share": "50%", "resolve": {"within": "8h", "goal": "90%"}},
                "P3": {"share": "50%", "resolve": {"within": "8h", "goal": "90%"}},
            },
        }
    },
    "teams": {
        "t": {
            "roster": {"mon-sun 00:00-24:00": 2},
            "handle": {"default": {"exponential": {"mean": "1h"}}},
            "ola": {"resolve": {"within": "4h", "goal": "90%"}},
        },
        "other": {
            "roster": {"mon-sun 00:00-24:00": 1},
            "handle": {"default": {"exponential": {"mean": "1h"}}},
        },
    },
    "backlog": [{"team": "t", "service": "s", "priority": "P3", "tickets": 10, "age": "3d"}],
}


def scenario(patch: dict[str, Any] | None = None) -> Scenario:
    data = merge_patch(BASE, patch or {})
    return parse_scenario(yaml.safe_dump(data, sort_keys=False), file="backlog.yaml")


def problems(patch: dict[str, Any]) -> list[Any]:
    with pytest.raises(InputError) as caught:
        scenario(patch)
    return list(caught.value.problems)


def hours_after_start(values: Any) -> np.ndarray:
    """Hours from ``start`` of a timestamp column (NaN where null)."""
    micros = pc.cast(pc.cast(values, pa.timestamp("us", "UTC")), pa.int64())
    column = np.asarray(pc.cast(micros, pa.float64()).to_numpy(zero_copy_only=False), float)
    return (column - START.timestamp() * 1e6) / 3.6e9


def test_backlog_clears_as_theory_says() -> None:
    """The last of N = 10 tickets on c = 2 agents (exponential, 1 h) finishes after
    (N − c)/(cμ) + H_c/μ = 5.5 h on average, within four standard errors."""
    replications, n, c, mu = 300, 10, 2, 1.0
    results = simulate(scenario(), replications=replications, seed=11)
    assert results.tickets.num_rows == n * replications
    finished = hours_after_start(results.tickets["resolved_at"])
    reps = results.tickets["replication"].to_numpy()
    clearing = np.array([finished[reps == r].max() for r in range(replications)])
    harmonic = sum(1 / k for k in range(1, c + 1))
    mean = (n - c) / (c * mu) + harmonic / mu
    variance = (n - c) / (c * mu) ** 2 + sum(1 / (k * mu) ** 2 for k in range(1, c + 1))
    se = math.sqrt(variance / replications)
    assert abs(clearing.mean() - mean) < 4 * se, (clearing.mean(), mean, se)


def test_backlog_tickets_are_never_measured() -> None:
    """Opened ``age`` before the run and assigned then: no SLA or OLA counts them, though
    they take the team's agents (utilisation)."""
    results = simulate(scenario(), replications=2, seed=1)
    opened = hours_after_start(results.tickets["opened_at"])
    assert np.allclose(opened, -72.0)
    assigned = hours_after_start(results.visits["assigned_at"])
    first = results.visits["seq"].to_numpy() == 0
    assert np.allclose(assigned[first], -72.0)
    summary = results.summary()
    assert all(row["tickets"] == 0 for row in summary["sla"])
    assert all(row["tickets"] == 0 for row in summary["ola"])
    team = next(row for row in summary["teams"] if row["team"] == "t")
    assert team["utilization"] > 0


def test_backlog_tickets_later_visits_count_like_any_visit() -> None:
    """Passed on from ``t`` to ``other`` during the run, the backlog's visits to ``other`` are
    assigned inside the span and its OLA measures them (as a warm-up ticket's would be); the
    tickets' SLA and their first visit still are not."""
    patch = {
        "teams": {
            "t": {"next": {"other": "100%"}},
            "other": {"ola": {"resolve": {"within": "100h", "goal": "90%"}}},
        }
    }
    results = simulate(scenario(patch), replications=2, seed=4)
    summary = results.summary()
    olas = {row["team"]: row["tickets"] for row in summary["ola"]}
    assert olas == {"t": 0, "other": 10}
    assert all(row["tickets"] == 0 for row in summary["sla"])


def test_backlog_without_age_is_opened_just_before_the_run() -> None:
    """With no age and no warm-up the tickets open a moment before ``start``: still unmeasured."""
    results = simulate(
        scenario({"backlog": [{"team": "t", "service": "s", "priority": "P3", "tickets": 4}]}),
        replications=1,
        seed=1,
    )
    opened = hours_after_start(results.tickets["opened_at"])
    assert (opened < 0).all() and (opened > -0.01).all()
    assert all(row["tickets"] == 0 for row in results.summary()["sla"])


def test_backlog_joins_at_the_beginning_of_the_warm_up() -> None:
    """With a warm-up the backlog is the queue at the run's first instant, start − warmup."""
    results = simulate(scenario({"warmup": "1d"}), replications=1, seed=1)
    assigned = hours_after_start(results.visits["assigned_at"])
    started = hours_after_start(results.visits["started_at"])
    assert np.allclose(assigned, -24.0 - 72.0)
    assert started.min() == pytest.approx(-24.0)


def test_backlog_is_worked_by_priority_then_age() -> None:
    """On one agent: every P1 of the backlog before any P3 — the first to start too, as the
    agent takes the queue's head — and among P3s the older group first."""
    patch = {
        "teams": {"t": {"roster": {"mon-sun 00:00-24:00": 1}}},
        "backlog": [
            {"team": "t", "service": "s", "priority": "P3", "tickets": 3, "age": "2d"},
            {"team": "t", "service": "s", "priority": "P1", "tickets": 3, "age": "1h"},
            {"team": "t", "service": "s", "priority": "P3", "tickets": 3, "age": "5d"},
        ],
    }
    results = simulate(scenario(patch), replications=1, seed=3)
    tickets = results.tickets.sort_by("ticket_id")
    visits = results.visits.sort_by("ticket_id")
    age = -hours_after_start(tickets["opened_at"])
    started = hours_after_start(visits["started_at"])
    order = np.argsort(started)
    assert [tickets["priority"][int(i)].as_py() for i in order[:3]] == ["P1"] * 3
    assert np.allclose(age[order[3:6]], 120.0) and np.allclose(age[order[6:]], 48.0)


def test_new_tickets_wait_behind_the_backlog() -> None:
    """New tickets of the backlog's priority start only once every backlog ticket has started
    (first come, first served: the backlog came first)."""
    patch = {"services": {"s": {"demand": {"per_week": 300}}}}
    results = simulate(scenario(patch), replications=5, seed=5)
    opened = hours_after_start(results.tickets["opened_at"])
    tickets = results.tickets
    visits = results.visits.filter(pc.equal(results.visits["seq"], 0))
    key = {
        (r, t): i
        for i, (r, t) in enumerate(
            zip(tickets["replication"].to_pylist(), tickets["ticket_id"].to_pylist(), strict=True)
        )
    }
    started = hours_after_start(visits["started_at"])
    rows = [
        key[(r, t)]
        for r, t in zip(
            visits["replication"].to_pylist(), visits["ticket_id"].to_pylist(), strict=True
        )
    ]
    backlog = opened[rows] < 0
    priority = np.asarray(tickets["priority"].to_pylist(), dtype=object)[rows]
    reps = visits["replication"].to_numpy()
    for r in range(5):
        mine = reps == r
        last_backlog = np.nanmax(started[mine & backlog])
        new_p3 = started[mine & ~backlog & (priority == "P3")]
        assert np.nanmin(new_p3) >= last_backlog


def test_same_seed_same_backlog_run() -> None:
    a = simulate(scenario(), replications=3, seed=9)
    b = simulate(scenario(), replications=3, seed=9)
    assert a.tickets.equals(b.tickets) and a.visits.equals(b.visits)


def test_the_size_guard_counts_the_backlog() -> None:
    """Expected visits include the backlog's (10 tickets, one visit each here)."""
    model = compile_support(scenario(), Streams(np.random.SeedSequence(0)))
    assert expected_visits(model) == pytest.approx(10.0)
    reopening = {
        "services": {
            "s": {"reopen": {"probability": "10%", "after": {"exponential": {"mean": "1d"}}}}
        }
    }
    model = compile_support(scenario(reopening), Streams(np.random.SeedSequence(0)))
    assert expected_visits(model) == pytest.approx(11.0)


def test_a_backlog_to_a_supplier_starts_at_once() -> None:
    patch = {
        "teams": {
            "vendor": {
                "kind": "supplier",
                "calendar": "24x7",
                "handle": {"default": {"exponential": {"mean": "1h"}}},
            }
        },
        "backlog": [{"team": "vendor", "service": "s", "priority": "P3", "tickets": 5}],
    }
    results = simulate(scenario(patch), replications=1, seed=2)
    assert np.allclose(hours_after_start(results.visits["started_at"]), 0.0)


@pytest.mark.parametrize(
    ("group", "path", "words"),
    [
        ({"team": "nobody"}, "backlog.0.team", "team 'nobody' is not defined"),
        ({"service": "nothing"}, "backlog.0.service", "service 'nothing' is not defined"),
        ({"priority": "P2"}, "backlog.0.priority", "not a priority of service 's'"),
        ({"tickets": 0}, "backlog.0.tickets", ""),
        ({"age": "-2h"}, "backlog.0.age", ""),
    ],
)
def test_a_broken_backlog_line_names_its_field(
    group: dict[str, Any], path: str, words: str
) -> None:
    line = {"team": "t", "service": "s", "priority": "P3", "tickets": 3, **group}
    found = problems({"backlog": [line]})
    assert any(p.path == path and words in p.message for p in found), found


def test_a_windowed_change_may_not_touch_the_backlog() -> None:
    change = {
        "patch": {"backlog": []},
        "window": {"from": "2027-01-05", "until": "2027-01-06"},
    }
    found = problems({"changes": {"clear": change}})
    assert any("backlog" in p.path for p in found), found


def test_a_change_may_set_the_backlog() -> None:
    """A permanent change replaces the list (a merge patch replaces lists whole)."""
    base = scenario()
    more = [{"team": "t", "service": "s", "priority": "P3", "tickets": 30, "age": "1d"}]
    changed = base.with_patch({"backlog": more})
    assert [g.tickets for g in changed.backlog] == [30]


def test_a_change_s_backlog_is_cross_checked_too() -> None:
    """A backlog set by a change names a defined team: applied, the change is refused with
    the key, before any run (it was read as a frozen list and skipped, and the run failed)."""
    line = {"team": "nobody", "service": "s", "priority": "P3", "tickets": 3}
    found = problems({"changes": {"more": {"patch": {"backlog": [line]}}}})
    assert any("nobody" in p.message and "backlog" in p.path for p in found), found


def test_a_change_s_priority_order_is_cross_checked_too() -> None:
    found = problems({"changes": {"order": {"patch": {"priority_order": ["P3", "P9"]}}}})
    assert any("P9" in p.message for p in found), found


def test_calibrate_refuses_from_with_backlog(capsys: pytest.CaptureFixture[str]) -> None:
    """``--from`` would leave out the oldest open tickets: refused, naming both flags."""
    from simkit.calibrate.export import SAMPLE_FILE, sample_dir
    from simkit.cli import main

    code = main(
        [
            "calibrate",
            str(sample_dir() / SAMPLE_FILE),
            "--profile",
            "servicenow",
            "--from",
            "2025-02-01",
            "--backlog",
        ]
    )
    err = capsys.readouterr().err
    assert code != 0
    assert "--from" in err and "--backlog" in err
    assert "the oldest open ones" in err and "drop --from" in err


# The workbench's backlog slider (simkit.app_model)


def test_the_backlog_slider_scales_every_line() -> None:
    """A multiplier of every backlog line's tickets, halves rounded up; a line left with none
    goes, and 0% leaves no backlog; the slider is offered only where there is one."""
    from simkit import app_model as model

    lines = [
        {"team": "t", "service": "s", "priority": "P3", "tickets": 10, "age": "3d"},
        {"team": "t", "service": "s", "priority": "P1", "tickets": 1},
    ]
    base = scenario({"backlog": lines})
    assert model.scenario_controls(base).backlog == 11
    assert model.scenario_controls(scenario({"backlog": None})).backlog == 0
    half = model.edit_scenario(base, model.WhatIf(backlog=0.5)).run
    assert [(g.priority, g.tickets, g.age) for g in half.backlog] == [
        ("P3", 5, 72.0),
        ("P1", 1, 0.0),
    ]
    quarter = model.edit_scenario(base, model.WhatIf(backlog=0.25)).run
    assert [(g.priority, g.tickets) for g in quarter.backlog] == [("P3", 3)]
    assert model.edit_scenario(base, model.WhatIf(backlog=0.0)).run.backlog == ()
    assert model.edit_scenario(base, model.WhatIf()).patch == {}
    with pytest.raises(InputError) as caught:
        model.edit_scenario(base, model.WhatIf(backlog=-1.0))
    assert caught.value.problems[0].path == "backlog"


def test_the_backlog_slider_is_an_axis_the_page_moves() -> None:
    """Positions carry the slider in percent; a step is 25% and runs made ahead move it."""
    from simkit import app_model as model

    base = scenario()
    controls = model.scenario_controls(base)
    positions = model.Positions(
        controls=controls,
        values={
            "volume": 0,
            "backlog": 100,
            "growth:s": 0,
            "handle:t": 1.0,
            "handle:other": 1.0,
            "agents:t:mon-sun 00:00-24:00": 2,
            "agents:other:mon-sun 00:00-24:00": 1,
        },
        ranges={"volume": (-50, 100), "backlog": (0, 300)},
        targets={},
        shown=("volume", "backlog"),
    )
    assert positions.what_if().backlog == 1.0
    assert positions.what_if({"backlog": 150}).backlog == 1.5
    assert {"backlog": 125} in positions.neighbours("backlog", 1)
