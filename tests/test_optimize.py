"""The staffing optimiser: costs, what it can promise with the replications given, the search,
its confirmation with fresh seeds, and the ``simkit optimize`` command."""

from __future__ import annotations

import copy
import json
import math
from pathlib import Path
from typing import Any

import pytest
import yaml
from scipy import stats

from simkit.analysis.optimize import (
    CONFIRM_OFFSET,
    full_periods,
    optimize_staffing,
    replications_needed,
    staffed_lines,
)
from simkit.analysis.queueing import mm_c_wait_cdf
from simkit.analysis.targets import assess_targets
from simkit.analysis.verdict import ACHIEVABLE
from simkit.cli import main
from simkit.runner import simulate
from simkit.scenario import Scenario, parse_scenario

ALWAYS = "mon-sun 00:00-24:00"
RATE_PER_H = 2.4
"""Tickets per hour of each service: 2.4 erlangs of one-hour handling at each team."""
GOAL = 0.85
WITHIN_H = 2.0


def _service(entry: str) -> dict[str, Any]:
    return {
        "entry": entry,
        "demand": {"per_week": RATE_PER_H * 168},
        "priorities": {
            "P1": {"share": "100%", "respond": {"within": f"{WITHIN_H}h", "goal": f"{GOAL:.0%}"}}
        },
    }


def _team(agents: int, cost: float) -> dict[str, Any]:
    return {
        "roster": {ALWAYS: agents},
        "cost_per_agent_hour": cost,
        "handle": {"default": {"exponential": {"mean": "1h"}}},
    }


TWO_DESKS: dict[str, Any] = {
    "name": "Two independent desks",
    "start": "2027-01-04",
    "horizon": "4w",
    "warmup": "1w",
    "drain": "1w",
    "replications": 5,
    "seed": 41,
    "period": "week",
    "services": {"alpha": _service("desk_a"), "beta": _service("desk_b")},
    "teams": {"desk_a": _team(3, 30.0), "desk_b": _team(3, 50.0)},
}
"""Each desk answers its own M/M/c queue: P(wait ≤ 2h) is 0.81 with 3 agents and 0.99 with 4
(Erlang C). Against a goal of 85% in every week the margins are wide both ways — 3 agents miss
most weeks, 4 hardly any — so the cheapest roster is 4 and 4."""


def desks(**changes: Any) -> Scenario:
    data = copy.deepcopy(TWO_DESKS)
    data.update(changes)
    return parse_scenario(yaml.safe_dump(data), file="desks.yaml")


# -- costs and limits -------------------------------------------------------------------------------


def test_a_line_agent_costs_its_weekly_hours_at_the_hourly_rate_for_a_month() -> None:
    """One agent on a 24x7 line at 30 an hour costs 168 × 30 × 52/12 a month; a team without
    a cost is left alone when others have one."""
    data = copy.deepcopy(TWO_DESKS)
    data["teams"]["desk_c"] = {
        "roster": {"mon-fri 08:00-18:00": 2},
        "handle": {"default": {"fixed": {"value": "1m"}}},
    }
    data["services"]["gamma"] = _service("desk_c")
    lines, fixed, unit = staffed_lines(parse_scenario(yaml.safe_dump(data), file="x.yaml"))
    assert unit == "money"
    assert fixed == [{"team": "desk_c", "reason": "no cost_per_agent_hour"}]
    costs = {line.team: line.cost_per_agent_month for line in lines}
    assert costs == {
        "desk_a": pytest.approx(168 * 30 * 52 / 12),
        "desk_b": pytest.approx(168 * 50 * 52 / 12),
    }


def test_without_any_cost_lines_are_costed_in_agent_hours() -> None:
    """No team has a cost: every line's agent costs its hours."""
    data = copy.deepcopy(TWO_DESKS)
    for team in data["teams"].values():
        del team["cost_per_agent_hour"]
    lines, fixed, unit = staffed_lines(parse_scenario(yaml.safe_dump(data), file="x.yaml"))
    assert unit == "agent-hours" and fixed == []
    assert all(line.cost_per_agent_month == pytest.approx(168 * 52 / 12) for line in lines)


@pytest.mark.parametrize(("periods", "confidence"), [(4, 0.8), (3, 0.8), (13, 0.9), (1, 0.5)])
def test_replications_needed_follow_the_wilson_bound_of_all_periods_met(
    periods: int, confidence: float
) -> None:
    """With n of n periods met the Wilson lower bound is n / (n + z²): it reaches c from
    n ≥ c z² / (1 − c) periods."""
    z2 = stats.norm.ppf(0.975) ** 2
    expected = math.ceil(confidence * z2 / (1 - confidence) / periods)
    assert replications_needed(periods, confidence) == expected
    assert replications_needed(0, confidence) is None


def test_too_few_replications_are_refused_before_any_simulation() -> None:
    """3 replications of 4 weeks cannot show 80% confidence even if every week is met: the
    answer says how many are needed and runs nothing."""
    document = optimize_staffing(desks(), replications=3)
    assert full_periods(desks()) == 4
    assert document["found"] is False and document["runs"] == 0
    assert "at least 4 replications" in document["message"]


def test_a_budget_too_small_is_reported_honestly() -> None:
    """With one run the search sees the current roster fail and stops, saying the budget ran
    out."""
    document = optimize_staffing(desks(), budget_runs=1, replications=4)
    assert document["found"] is False and document["confirmed"] is None
    assert document["runs"] == 1
    assert "budget" in document["message"]
    assert any(r["verdict"] != ACHIEVABLE for r in document["verdicts_before"])


# -- the search --------------------------------------------------------------------------------------


def _passes(scenario: Scenario, seed: int, replications: int) -> bool:
    run = simulate(scenario, replications=replications, seed=seed)
    return all(
        a.p_period_met["lo"] is not None and a.p_period_met["lo"] >= 0.8
        for a in assess_targets(run, 0.8)
    )


@pytest.mark.parametrize("start", ["current", "quick"])
def test_the_answer_meets_every_slr_with_fresh_seeds_and_one_agent_fewer_does_not(
    start: str,
) -> None:
    """The optimiser's roster meets every SLR in an independent confirmation run, and each
    roster with one agent fewer on any line fails with the confirmation's seeds; the answer is
    the smallest Erlang C roster clearing the goal (the margins are wide) and costs what its
    added agents cost."""
    scenario = desks()
    document = optimize_staffing(scenario, start=start)
    assert document["found"] is True and document["confirmed"] is True
    assert document["confirmation_seed"] == scenario.seed + CONFIRM_OFFSET
    after = {(row["team"], row["line"]): row["agents_after"] for row in document["lines"]}
    minimum = min(c for c in range(3, 10) if mm_c_wait_cdf(WITHIN_H, c, RATE_PER_H, 1.0) >= GOAL)
    assert after == {("desk_a", ALWAYS): minimum, ("desk_b", ALWAYS): minimum}
    expected_cost = sum((minimum - 3) * 168 * rate * 52 / 12 for rate in (30.0, 50.0))
    assert document["cost_per_month"] == pytest.approx(expected_cost)
    assert all(r["verdict"] == ACHIEVABLE for r in document["confirmation"]["verdicts"])
    answer = {team: {"roster": {ALWAYS: n}} for (team, _), n in after.items()}
    confirm = document["confirmation_seed"]
    assert _passes(scenario.with_patch({"teams": answer}), confirm, scenario.replications)
    for (team, line), n in after.items():
        fewer = scenario.with_patch({"teams": {**answer, team: {"roster": {line: n - 1}}}})
        assert not _passes(fewer, confirm, scenario.replications), f"{team} with {n - 1}"
    phases = {row["phase"] for row in document["searched"]}
    assert "current roster" in phases and "confirm" in phases
    assert document["runs"] <= document["budget_runs"]


def test_a_target_staffing_cannot_reach_is_named_and_the_rest_still_optimised() -> None:
    """A supplier that always takes 3 hours cannot resolve within 2: even ample staffing does
    not help, the target is listed as unreachable, the team in front of the supplier keeps its
    agents, the desks are still staffed for the other targets, and a team no ticket reaches
    keeps its last agent (a roster needs one)."""
    data = copy.deepcopy(TWO_DESKS)
    data["teams"]["vendor"] = {
        "kind": "supplier",
        "calendar": "24x7",
        "handle": {"default": {"fixed": {"value": "3h"}}},
    }
    data["teams"]["router"] = {
        "roster": {ALWAYS: 2},
        "cost_per_agent_hour": 10.0,
        "handle": {"default": {"fixed": {"value": "1m"}}},
        "next": {"vendor": "100%"},
    }
    data["teams"]["spare"] = _team(1, 20.0)
    data["services"]["gamma"] = {
        "entry": "router",
        "demand": {"per_week": 20},
        "priorities": {"P1": {"share": "100%", "resolve": {"within": "2h", "goal": "90%"}}},
    }
    document = optimize_staffing(
        parse_scenario(yaml.safe_dump(data), file="x.yaml"), replications=4, budget_runs=12
    )
    assert document["found"] is False
    assert document["unreachable"] == ["gamma P1 resolve"]
    assert "ample staffing" in document["message"]
    after = {row["team"]: row["agents_after"] for row in document["lines"]}
    assert after["router"] >= 2
    assert after["spare"] == 1
    assert all(
        r["verdict"] == ACHIEVABLE for r in document["verdicts_after"] if r["service"] != "gamma"
    )


# -- the command -----------------------------------------------------------------------------------


def test_the_optimize_command_prints_json_and_a_table(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """``simkit optimize --json`` prints the document; without --json a readable answer."""
    path = tmp_path / "desks.yaml"
    path.write_text(yaml.safe_dump(TWO_DESKS), encoding="utf-8")
    argv = ["optimize", str(path), "--replications", "4", "--budget", "1"]
    assert main([*argv, "--json"]) == 0
    document = json.loads(capsys.readouterr().out)
    assert document["found"] is False and "budget" in document["message"]
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert "budget" in out and "SLR verdicts" in out


def test_the_optimize_command_refuses_a_confidence_out_of_range(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A confidence of 100% cannot be shown by any run: exit 2 with the fix."""
    path = tmp_path / "desks.yaml"
    path.write_text(yaml.safe_dump(TWO_DESKS), encoding="utf-8")
    assert main(["optimize", str(path), "--confidence", "100%", "--json"]) == 2
    errors = json.loads(capsys.readouterr().out)["errors"]
    assert errors[0]["path"] == "--confidence"


@pytest.mark.slow
@pytest.mark.parametrize(
    "example", sorted((Path(__file__).parent.parent / "scenarios").glob("*.yaml")), ids=str
)
def test_every_example_runs_through_the_optimize_command(
    example: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Every example gives a JSON answer (found or honestly not) and a readable table."""
    argv = ["optimize", str(example), "--replications", "8", "--budget", "3"]
    assert main([*argv, "--json"]) == 0
    document = json.loads(capsys.readouterr().out)
    assert isinstance(document["found"], bool) and document["message"]
    assert document["runs"] <= 3
    assert main(argv) == 0
    assert document["scenario"] in capsys.readouterr().out


def test_counts_and_start_are_checked() -> None:
    """No replications, a negative seed or an unknown start is refused before anything runs."""
    from simkit.errors import InputError

    for given in ({"replications": 0}, {"replications": 2.9}, {"start": "best"}):
        with pytest.raises(InputError):
            optimize_staffing(desks(), **given)
