"""Quick estimates: Erlang C per hour of the week against theory and against the simulation."""

from __future__ import annotations

import json
import math
from typing import Any

import numpy as np
import pytest
import yaml

from simkit.analysis.queueing import (
    cobham_mean_waits,
    erlang_a,
    erlang_c,
    mm_c_mean_wait,
    mm_c_wait_cdf,
)
from simkit.analysis.quick import METHOD, SLOTS, erlang_c_fractional, quick_estimate
from simkit.measure import sla_outcomes, target_figures
from simkit.runner import simulate
from simkit.scenario import Scenario, parse_scenario

Z = 4.5
RATE = 2.4
AGENTS = 3


def desk(
    *,
    roster: dict[str, int] | None = None,
    per_week: float = RATE * 168,
    priorities: dict[str, Any] | None = None,
    team: dict[str, Any] | None = None,
    **extra: Any,
) -> Scenario:
    """A 24x7 desk with flat Poisson demand and exponential 1 h handling (M/M/c)."""
    data: dict[str, Any] = {
        "name": "desk",
        "start": "2027-01-04",
        "timezone": "UTC",
        "horizon": "26w",
        "warmup": "1w",
        "drain": "1w",
        "replications": 1,
        "seed": 3,
        "period": "month",
        "services": {
            "svc": {
                "entry": "desk",
                "demand": {"per_week": per_week},
                "priorities": priorities
                or {"P1": {"share": 1.0, "respond": {"within": "30m", "goal": "80%"}}},
            }
        },
        "teams": {
            "desk": {
                "roster": roster or {"mon-sun 00:00-24:00": AGENTS},
                "handle": {"default": {"exponential": {"mean": "1h"}}},
                **(team or {}),
            }
        },
        **extra,
    }
    return parse_scenario(yaml.safe_dump(data), file="desk.yaml")


def test_fractional_erlang_c_is_erlang_c_at_whole_agents() -> None:
    """The continuous extension equals the textbook Erlang C at whole agents and lies between
    its neighbours in between."""
    for c, a in ((1, 0.5), (3, 2.4), (5, 4.0), (12, 10.5), (40, 35.0)):
        assert erlang_c_fractional(np.array([c]), np.array([a]))[0] == pytest.approx(
            erlang_c(c, a), rel=1e-10
        )
    between = erlang_c_fractional(np.array([3.5]), np.array([2.4]))[0]
    assert erlang_c(4, 2.4) < between < erlang_c(3, 2.4)


def test_stationary_desk_is_erlang_c() -> None:
    """On a 24x7 M/M/c every hour is Erlang C: P(wait), mean wait and P(wait ≤ t) are the closed
    forms, and every output says it is an estimate."""
    document = quick_estimate(desk())
    assert document["estimate"] is True and document["method"] == METHOD
    (team,) = document["teams"]
    assert len(team["hours"]) == SLOTS
    assert team["overloaded_hours"] == []
    for hour in team["hours"]:
        assert hour["p_wait"] == pytest.approx(erlang_c(AGENTS, RATE))
        assert hour["mean_wait_h"] == pytest.approx(mm_c_mean_wait(AGENTS, RATE, 1.0))
        assert hour["utilization"] == pytest.approx(RATE / AGENTS)
    (row,) = document["sla"]
    assert row["estimate"] is True
    assert row["p_within"] == pytest.approx(mm_c_wait_cdf(0.5, AGENTS, RATE, 1.0))
    assert row["mean_h"] == pytest.approx(mm_c_mean_wait(AGENTS, RATE, 1.0))
    assert row["meets_goal"] is (row["p_within"] >= 0.8)


def test_quick_estimate_agrees_with_simulation_on_mmc() -> None:
    """On a stationary M/M/c the quick P(wait ≤ 30 min) and mean wait lie within the
    simulation's error (Z standard errors of the mean over (replication, month) values)."""
    scenario = desk()
    quick = quick_estimate(scenario)["sla"][0]
    results = simulate(scenario, replications=2)
    spec = results.measure_spec()
    (target,) = spec.sla
    outcomes = sla_outcomes(results.service_tickets(), results.pauses, target, spec)
    figures = target_figures(outcomes, spec)
    full = np.array([p.full for p in figures.periods])
    compliance = (figures.met[:, full] / figures.measured[:, full]).ravel()
    labels = [p.label for p in figures.periods if p.full]
    period = np.asarray(outcomes["period"].to_pylist(), dtype=object)
    replication = outcomes["replication"].to_numpy()
    time_h = outcomes["time_h"].to_numpy(zero_copy_only=False)
    waits = np.array(
        [
            np.mean(time_h[(replication == r) & (period == label)])
            for r in range(spec.replications)
            for label in labels
        ]
    )
    for estimate, values in ((quick["p_within"], compliance), (quick["mean_h"], waits)):
        error = values.std(ddof=1) / math.sqrt(values.size)
        assert abs(values.mean() - estimate) <= Z * error, (estimate, values.mean(), error)


def test_priorities_follow_cobham() -> None:
    """Two priorities with equal handling: the mean waits per class are Cobham's."""
    priorities = {
        "P1": {"share": 0.3, "respond": {"within": "30m", "goal": "90%"}},
        "P2": {"share": 0.7, "respond": {"within": "30m", "goal": "90%"}},
    }
    document = quick_estimate(desk(priorities=priorities))
    waits = cobham_mean_waits(AGENTS, [0.3 * RATE, 0.7 * RATE], 1.0)
    assert [row["mean_h"] for row in document["sla"]] == pytest.approx(waits)
    assert document["sla"][0]["p_within"] > document["sla"][1]["p_within"]


def test_patience_uses_erlang_a() -> None:
    """A team with patience is Erlang A: P(wait) is Erlang A's, and a load above the agents is
    reported as overloaded without failing."""
    scenario = desk(team={"patience": {"exponential": {"mean": "30m"}}}, per_week=4.0 * 168)
    document = quick_estimate(scenario)
    (team,) = document["teams"]
    assert team["model"] == "Erlang A"
    expected = erlang_a(AGENTS, 4.0, 1.0, 2.0).p_wait
    assert team["hours"][0]["p_wait"] == pytest.approx(expected)
    assert len(team["overloaded_hours"]) == SLOTS
    assert json.dumps(document, allow_nan=False)


def test_routing_chain_visits() -> None:
    """Visits per ticket come from the routing chain: pauses return to the same team and a
    second line sees its share of every visit."""
    data: dict[str, Any] = yaml.safe_load(desk().to_yaml())
    data["teams"]["desk"]["next"] = {"resolved": "70%", "l2": "20%", "pause": "10%"}
    data["teams"]["desk"]["pause"] = {"duration": {"exponential": {"mean": "2h"}}}
    data["teams"]["l2"] = {
        "roster": {"mon-sun 00:00-24:00": 2},
        "handle": {"default": {"exponential": {"mean": "2h"}}},
        "next": {"resolved": "90%", "desk": "10%"},
    }
    scenario = parse_scenario(yaml.safe_dump(data))
    teams = {t["team"]: t for t in quick_estimate(scenario)["teams"]}
    # desk: v_d = 1 + 0.1 v_d + 0.1 v_l2, l2: v_l2 = 0.2 v_d
    v_desk = 1 / (1 - 0.1 - 0.02)
    assert teams["desk"]["visits_per_week"] == pytest.approx(RATE * 168 * v_desk)
    assert teams["l2"]["visits_per_week"] == pytest.approx(RATE * 168 * 0.2 * v_desk)


def test_time_varying_roster_flags_overloaded_hours() -> None:
    """Office-hours agents with round-the-clock tickets: the night hours are overloaded (no
    agent on duty), their backlog is carried into the morning, and the estimate still gives a
    finite response time because the week's agents can handle the week's work."""
    scenario = desk(roster={"mon-fri 08:00-18:00": 6}, per_week=1.2 * 168)
    document = quick_estimate(scenario)
    (team,) = document["teams"]
    night = {"mon 03:00", "sat 12:00", "sun 23:00"}
    assert night <= set(team["overloaded_hours"])
    assert "tue 11:00" not in team["overloaded_hours"]
    hours = {(h["day"], h["hour"]): h for h in team["hours"]}
    assert hours[("mon", 7)]["backlog_h"] > 0
    assert team["backlog_clears"]
    (row,) = document["sla"]
    assert row["mean_h"] is not None and row["mean_h"] > 1.0
    assert 0.0 < row["overloaded_share"] < 1.0
    assert 0.0 < row["p_within"] < 1.0
    assert json.dumps(document, allow_nan=False)


def test_week_overloaded_never_clears() -> None:
    """When the week's work exceeds the week's agents the backlog never clears: the estimate
    says so (no mean, nothing within target) instead of failing."""
    scenario = desk(roster={"mon-fri 08:00-18:00": 2}, per_week=2.4 * 168)
    document = quick_estimate(scenario)
    (team,) = document["teams"]
    assert not team["backlog_clears"]
    (row,) = document["sla"]
    assert row["mean_h"] is None and row["p_within"] == 0.0 and not row["meets_goal"]
    assert json.dumps(document, allow_nan=False)


def test_windowed_changes_are_noted() -> None:
    """Windowed changes are not in the estimate, and the notes say so."""
    scenario = desk(
        changes={
            "cover": {
                "window": {"from": "2027-02-01", "until": "2027-02-08"},
                "patch": {"teams": {"desk": {"roster": {"mon-sun 00:00-24:00": 5}}}},
            }
        }
    ).apply("cover")
    notes = quick_estimate(scenario)["notes"]
    assert any("cover" in note for note in notes)
