"""Achievable targets, SLR verdicts and the negotiation options table.

The analytic checks run a 24x7 M/M/c desk (flat Poisson demand, exponential handling, one
priority) with *quarterly* periods. Each (replication, quarter) gives one period value — the
goal-quantile of that quarter's waits, an order statistic of thousands of waits and so close to
normal around the stationary quantile — and the achievable target at confidence 0.5 is their
median. The median of ``N`` roughly normal values with spread ``s`` has standard error
``sqrt(pi / 2) s / sqrt(N)``; the tolerance is ``Z`` of those, with ``s`` the spread measured
across the periods themselves (waits are correlated within a quarter, so the spread must come
from the run, not from a formula for independent draws).
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml

from simkit.analysis import targets as targets_module
from simkit.analysis.queueing import erlang_c
from simkit.analysis.targets import (
    WEEKS_PER_MONTH,
    achievable_targets,
    assess_targets,
    busiest_line,
    limiting_teams,
    period_values,
    smallest_met,
)
from simkit.cli import main
from simkit.measure import period_meets, sla_outcomes, target_figures, ticket_pauses
from simkit.runner import Results, simulate
from simkit.scenario import Scenario, load_scenario, parse_scenario

Z = 4.5
RATE_PER_SERVICE = 1.2
AGENTS = 3
GOAL = 0.9
COST = 40.0


def mmc(horizon: str, replications: int, *, agents: int = AGENTS) -> Scenario:
    """Two services sharing one 24x7 M/M/c desk (λ = 2.4/h, μ = 1/h): their waits have one
    distribution; ``roomy`` proposes 10 h and ``tight`` 30 min at 90%."""
    data: dict[str, Any] = {
        "name": "M/M/c desk",
        "start": "2027-01-01",
        "timezone": "UTC",
        "horizon": horizon,
        "warmup": "1w",
        "drain": "1w",
        "replications": replications,
        "seed": 5,
        "period": "quarter",
        "services": {
            name: {
                "entry": "desk",
                "demand": {"per_week": RATE_PER_SERVICE * 168},
                "priorities": {"P1": {"share": 1.0, "respond": {"within": w, "goal": GOAL}}},
            }
            for name, w in (("roomy", "10h"), ("tight", "30m"))
        },
        "teams": {
            "desk": {
                "roster": {"mon-sun 00:00-24:00": agents},
                "cost_per_agent_hour": COST,
                "handle": {"default": {"exponential": {"mean": "1h"}}},
            }
        },
    }
    return parse_scenario(yaml.safe_dump(data), file="mmc.yaml")


def erlang_quantile(agents: int, goal: float) -> float:
    """The goal-quantile of the M/M/c wait: ``1 − C e^{−(cμ − λ) t} = goal``."""
    load = 2 * RATE_PER_SERVICE
    waits = erlang_c(agents, load)
    return max(0.0, math.log(waits / (1.0 - goal)) / (agents - load))


def period_spread(results: Results) -> list[np.ndarray]:
    """The period values of every target of a run."""
    spec = results.measure_spec()
    tickets = results.service_tickets()
    pauses = ticket_pauses(tickets, results.pauses, spec)
    out = []
    for target in spec.sla:
        outcomes = sla_outcomes(tickets, pauses, target, spec)
        out.append(period_values(outcomes, target_figures(outcomes, spec), target).ravel())
    return out


def check_erlang_quantile(horizon: str, replications: int, quarters: int) -> None:
    scenario = mmc(horizon, replications)
    results = simulate(scenario)
    document = achievable_targets(scenario, confidence=0.5, results=results, options=False)
    theory = erlang_quantile(AGENTS, GOAL)
    for row, values in zip(document["sla"], period_spread(results), strict=True):
        assert values.size == replications * quarters
        tolerance = Z * math.sqrt(math.pi / 2) * values.std(ddof=1) / math.sqrt(values.size)
        assert abs(row["achievable_within_h"] - theory) <= tolerance, (row, theory, tolerance)
    roomy, tight = document["sla"]
    assert roomy["verdict"] == "achievable"
    assert tight["verdict"] == "not achievable"


def test_achievable_target_matches_erlang_c_quantile_quick() -> None:
    """Two replications of a year (8 quarters): the median quarterly 90%-quantile of the waits
    is Erlang C's 90%-quantile within the tolerance from the spread across quarters; a 10 h
    proposal is achievable and a 30 min one is not."""
    check_erlang_quantile("365d", 2, 4)


@pytest.mark.slow
def test_achievable_target_matches_erlang_c_quantile() -> None:
    """The same with eight replications of two years (64 quarters), so a tighter tolerance."""
    check_erlang_quantile("731d", 8, 8)


def test_confidence_raises_the_achievable_target() -> None:
    """Promising in more periods can only need a longer target, and the achievable target is met
    in at least the required share of periods."""
    scenario = mmc("365d", 2)
    results = simulate(scenario)
    rows = {
        c: achievable_targets(scenario, confidence=c, results=results, options=False)["sla"]
        for c in (0.5, 0.8, 0.95)
    }
    for k in range(2):
        times = [rows[c][k]["achievable_within_h"] for c in (0.5, 0.8, 0.95)]
        assert times == sorted(times)
    values = period_spread(results)[0]
    for c in (0.5, 0.8, 0.95):
        assert np.mean(values <= rows[c][0]["achievable_within_h"]) >= c


def test_smallest_met_is_the_inverted_cdf_quantile() -> None:
    """smallest_met is numpy's inverted_cdf quantile and the contract's rule: at least the share
    lies at or below it, and fewer below any smaller value."""
    rng = np.random.default_rng(3)
    for n in (1, 2, 7, 40, 333):
        values = np.sort(rng.exponential(size=n))
        for share in (0.05, 0.5, 0.83, 0.9, 0.95, 1.0):
            s = smallest_met(values, share)
            assert s == np.quantile(values, share, method="inverted_cdf")
            assert np.mean(values <= s) >= share - 1e-12
            assert np.mean(values < s) < share
    assert smallest_met(np.array([1.0, 2.0]), 0.0) == 0.0
    assert smallest_met(np.array([1.0, np.inf]), 1.0) == np.inf


SMALL: dict[str, Any] = {
    "name": "Small desk",
    "start": "2027-01-04",
    "timezone": "Europe/London",
    "horizon": "13w",
    "warmup": "1w",
    "drain": "2w",
    "replications": 2,
    "seed": 7,
    "period": "week",
    "calendars": {"office": {"hours": {"mon-fri": "08:00-18:00"}}},
    "services": {
        "svc": {
            "entry": "desk",
            "demand": {"per_week": 80, "profile": "office"},
            "priorities": {
                "P1": {
                    "share": "10%",
                    "respond": {"within": "30m", "calendar": "office", "goal": "90%"},
                    "resolve": {
                        "within": "4h",
                        "calendar": "office",
                        "goal": "90%",
                        "small_sample": {"below": 20, "max_breaches": 1},
                    },
                },
                "P2": {
                    "share": "90%",
                    "resolve": {
                        "within": "16h",
                        "calendar": "office",
                        "goal": "80%",
                        # every period thin: met by its goal, or by at most one breach
                        "small_sample": {"below": 1000, "max_breaches": 1},
                    },
                },
            },
        }
    },
    "teams": {
        "desk": {
            "roster": {"mon-fri 08:00-18:00": 2},
            "cost_per_agent_hour": 30,
            "handle": {"default": {"exponential": {"mean": "20m"}}},
            "next": {"resolved": "60%", "l2": "30%", "vendor": "5%", "pause": "5%"},
            "pause": {"duration": {"exponential": {"mean": "4h"}}},
        },
        "l2": {
            "roster": {"mon-fri 09:00-17:00": 1, "mon-fri 12:00-14:00": 1},
            "handle": {"default": {"exponential": {"mean": "1.5h"}}},
        },
        "vendor": {
            "kind": "supplier",
            "calendar": "office",
            "handle": {"default": {"exponential": {"mean": "8h"}}},
        },
    },
}


@pytest.fixture(scope="module")
def small_run() -> Results:
    return simulate(parse_scenario(yaml.safe_dump(SMALL), file="small.yaml"))


def test_period_values_follow_the_contract_rule(small_run: Results) -> None:
    """Each period value is the smallest target the period meets by its rule (small-sample rule
    included): the period meets a target at its value and not just below it."""
    spec = small_run.measure_spec()
    tickets = small_run.service_tickets()
    pauses = ticket_pauses(tickets, small_run.pauses, spec)
    labels_checked = 0
    for target in spec.sla:
        outcomes = sla_outcomes(tickets, pauses, target, spec)
        figures = target_figures(outcomes, spec)
        values = period_values(outcomes, figures, target)
        full = [p for p in figures.periods if p.full]
        replication = outcomes["replication"].to_numpy()
        period = np.asarray(outcomes["period"].to_pylist(), dtype=object)
        status = np.asarray(outcomes["status"].to_pylist(), dtype=object)
        time_h = outcomes["time_h"].to_numpy(zero_copy_only=False)
        for r in range(spec.replications):
            for j, p in enumerate(full):
                mine = (replication == r) & (period == p.label) & (status != "open")
                times = time_h[mine]
                value = values[r, j]
                if times.size == 0 and target.small_sample is None:
                    assert np.isnan(value)
                    continue
                at = period_meets(
                    np.array([times.size]),
                    np.array([np.sum(times <= value)]),
                    target.goal,
                    target.small_sample,
                )[0][0]
                below = period_meets(
                    np.array([times.size]),
                    np.array([np.sum(times < value)]),
                    target.goal,
                    target.small_sample,
                )[0][0]
                assert at
                assert value == 0.0 or not below
                labels_checked += 1
    assert labels_checked > 20


def test_a_target_without_tickets_has_no_period_values_even_under_a_rule(
    small_run: Results,
) -> None:
    """With no ticket in any period, a small-sample rule would make every period met at a
    target of 0 h: there is no evidence, so there is no period value (and no achievable
    target), as there is no P(period met)."""
    spec = small_run.measure_spec()
    tickets = small_run.service_tickets().slice(0, 0)
    pauses = ticket_pauses(tickets, small_run.pauses, spec)
    target = next(t for t in spec.sla if t.small_sample is not None)
    outcomes = sla_outcomes(tickets, pauses, target, spec)
    figures = target_figures(outcomes, spec)
    assert np.isnan(period_values(outcomes, figures, target)).all()


def test_p_period_met_agrees_with_the_summary(small_run: Results) -> None:
    """The targets document reports the same compliance and P(period meets goal) as simulate."""
    document = achievable_targets(small_run.scenario, results=small_run, options=False)
    summary = small_run.summary()["sla"]
    assert len(document["sla"]) == len(summary)
    for row, figures in zip(document["sla"], summary, strict=True):
        assert row["p_period_met"] == pytest.approx(figures["p_period_met"])
        assert row["achievable_goal"] == pytest.approx(figures["compliance"]["mean"])
        assert row["proposed_within_h"] == figures["within_h"]


def test_limiting_team(small_run: Results) -> None:
    """A response waits only at the entry team; resolution is limited by the thin second line,
    never by the supplier."""
    assessments = assess_targets(small_run, 0.8)
    teams = dict(
        zip(
            ((a.target.priority, a.target.metric) for a in assessments),
            limiting_teams(small_run, assessments),
            strict=True,
        )
    )
    assert teams[("P1", "respond")] == "desk"
    assert teams[("P2", "resolve")] == "l2"
    assert "vendor" not in teams.values()


def test_busiest_line() -> None:
    """The line with the most agent-hours per week; lines past midnight count whole."""
    scenario = load_scenario(Path(__file__).parent.parent / "scenarios/corporate_service_desk.yaml")
    line = busiest_line(scenario, "service_desk")
    assert line is not None
    assert (line.line, line.agents, line.hours_per_week) == ("mon-sun 00:00-24:00", 1, 168.0)
    night = scenario.with_patch({"teams": {"infra": {"roster": {"mon-fri 22:00-08:00": 4}}}})
    line = busiest_line(night, "infra")
    assert line is not None and (line.line, line.hours_per_week) == ("mon-fri 22:00-08:00", 50.0)
    assert busiest_line(scenario, "vendor_x") is None


def test_options_table_common_random_numbers_and_cost(monkeypatch: pytest.MonkeyPatch) -> None:
    """+1 and +2 agents never lengthen the achievable target (same seeds), each staffing runs
    once for every target it serves, and the added cost is line hours × agents × rate × 52/12."""
    scenario = mmc("365d", 2)
    calls: list[Scenario] = []
    original = targets_module.simulate

    def counting(s: Scenario, **kwargs: Any) -> Results:
        calls.append(s)
        return original(s, **kwargs)

    monkeypatch.setattr(targets_module, "simulate", counting)
    document = achievable_targets(scenario, confidence=0.8)
    assert len(calls) == 3
    assert [(s.teams["desk"].roster or {})["mon-sun 00:00-24:00"] for s in calls] == [3, 4, 5]
    options = document["options"]
    assert [(o["service"], o["agents"]) for o in options] == [
        (s, k) for s in ("roomy", "tight") for k in (0, 1, 2)
    ]
    for service in ("roomy", "tight"):
        rows = [o for o in options if o["service"] == service]
        times = [o["achievable_within_h"] for o in rows]
        assert times[1] <= times[0] and times[2] <= times[1]
        assert [o["team"] for o in rows] == ["desk"] * 3
        assert [o["line"] for o in rows] == ["mon-sun 00:00-24:00"] * 3
        assert [o["added_cost_per_month"] for o in rows] == pytest.approx(
            [0.0, 168 * COST * WEEKS_PER_MONTH, 2 * 168 * COST * WEEKS_PER_MONTH]
        )
        assert (
            rows[0]["achievable_within_h"]
            == document["sla"][rows[0]["target_index"]]["achievable_within_h"]
        )
        assert rows[1]["added_cost_per_month"] == pytest.approx(29_120.0)  # 168 h × 40 × 52/12
    assert json.dumps(document, allow_nan=False)


def test_results_are_reused(small_run: Results, monkeypatch: pytest.MonkeyPatch) -> None:
    """Passing a finished run measures it without simulating again."""

    def refuse(*args: Any, **kwargs: Any) -> Results:
        raise AssertionError("simulated again")

    monkeypatch.setattr(targets_module, "simulate", refuse)
    document = achievable_targets(small_run.scenario, results=small_run, options=False)
    assert document["replications"] == 2
    assert set(document) >= {"scenario", "replications", "seed", "confidence", "sla"}
    assert set(document) >= {"availability", "options"}


def test_availability_rows() -> None:
    """The achievable availability is reached in at least the confidence share of full periods,
    and the verdict follows P(period meets target)."""
    scenario = load_scenario(Path(__file__).parent.parent / "scenarios/new_service_slr.yaml")
    results = simulate(scenario, replications=2)
    document = achievable_targets(scenario, results=results, options=False, confidence=0.6)
    (row,) = document["availability"]
    assert row["service"] == "hr_portal" and row["target"] == pytest.approx(0.995)
    summary = results.summary()["availability"][0]
    assert row["p_period_met"] == pytest.approx(summary["p_period_met"])
    assert row["availability"] == pytest.approx(summary["availability"])
    from simkit.measure.availability import availability_outcomes
    from simkit.scenario.targets import availability_targets

    outcomes = availability_outcomes(
        results.outages, availability_targets(scenario)[0], results.measure_spec()
    )
    full = outcomes.filter(outcomes["full"])
    levels = np.asarray(full["availability"].to_numpy(zero_copy_only=False), dtype=float)
    assert np.mean(levels >= row["achievable"]) >= 0.6
    assert np.mean(levels > row["achievable"]) < 0.6


def _write(tmp_path: Path, data: dict[str, Any]) -> Path:
    path = tmp_path / "scenario.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    return path


def test_cli_targets_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """`simkit targets --json` prints one document with the contract's row keys."""
    path = _write(tmp_path, {**SMALL, "horizon": "6w"})
    code = main(["targets", str(path), "--json", "--confidence", "70%", "--no-options"])
    assert code == 0
    document = json.loads(capsys.readouterr().out)
    assert document["confidence"] == pytest.approx(0.7)
    for row in document["sla"]:
        assert set(row) >= {
            "service",
            "priority",
            "metric",
            "goal",
            "confidence",
            "proposed_within_h",
            "achievable_within_h",
            "achievable_goal",
            "p_period_met",
            "verdict",
        }
        assert row["verdict"] in ("achievable", "at risk", "not achievable")
        assert set(row["p_period_met"]) == {"mean", "lo", "hi"}


def test_cli_targets_options_and_quick(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The options rows carry the contract's keys; --quick prints the labelled estimate."""
    path = _write(tmp_path, {**SMALL, "horizon": "4w", "replications": 1})
    assert main(["targets", str(path), "--json"]) == 0
    document = json.loads(capsys.readouterr().out)
    for row in document["options"]:
        assert set(row) >= {
            "service",
            "priority",
            "metric",
            "team",
            "agents",
            "line",
            "achievable_within_h",
            "p_period_met",
            "verdict",
            "added_cost_per_month",
        }
    assert main(["targets", str(path), "--json", "--quick"]) == 0
    quick = json.loads(capsys.readouterr().out)
    assert quick["estimate"] is True and quick["method"] == "Erlang C, stationary intervals"
    assert main(["targets", str(path), "--quick"]) == 0
    assert "ESTIMATE" in capsys.readouterr().out


def test_cli_targets_bad_confidence(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A confidence that is not a share of periods exits 2 with the fix."""
    path = _write(tmp_path, SMALL)
    for bad in ("80", "100%", "often"):
        assert main(["targets", str(path), "--json", "--confidence", bad]) == 2
        errors = json.loads(capsys.readouterr().out)["errors"]
        assert errors[0]["path"] == "--confidence" and errors[0]["fix"]


@pytest.mark.parametrize(("replications", "periods"), [(20, 3), (8, 13)])
def test_the_achievable_target_s_interval_covers_the_true_quantile(
    replications: int, periods: int
) -> None:
    """Period values that share a replication effect (lognormal, sd 0.3) on exponential waits:
    over 400 drawn runs the 95% interval of the 80% quantile covers the true quantile (from a
    draw of 400,000) at least 95% − 4 binomial standard errors of the time."""
    from simkit.analysis.target_assessment import achievable_interval

    rng = np.random.default_rng(31)
    share, runs = 0.8, 400
    truth = float(
        np.quantile(rng.exponential(1.0, 400_000) * np.exp(rng.normal(0, 0.3, 400_000)), share)
    )
    covered = 0
    for _ in range(runs):
        effect = np.exp(rng.normal(0, 0.3, size=(replications, 1)))
        values = rng.exponential(1.0, size=(replications, periods)) * effect
        lo, hi = achievable_interval(values, share)
        assert lo is not None and lo <= smallest_met(np.sort(values.ravel()), share)
        covered += lo <= truth <= (math.inf if hi is None else hi)
    assert covered / runs >= 0.95 - 4 * math.sqrt(0.95 * 0.05 / runs)


def test_targets_rows_carry_the_achievable_interval() -> None:
    """Every row with an achievable target carries an interval around it (lo ≤ target ≤ hi)."""
    scenario = mmc("365d", 6)
    document = achievable_targets(scenario, confidence=0.8, options=False)
    for row in document["sla"]:
        interval = row["achievable_interval"]
        assert interval["lo"] is not None
        assert interval["lo"] <= row["achievable_within_h"]
        assert interval["hi"] is None or row["achievable_within_h"] <= interval["hi"]


def test_a_target_decided_by_each_period_s_slowest_ticket_says_so() -> None:
    """With 10 tickets a period a 95% goal spares no breach: every period's value is its slowest
    ticket, and the row says the figure moves in jumps. With 100 a period it does not."""
    from simkit.analysis.target_assessment import _slowest_note
    from simkit.calendar import Calendar
    from simkit.measure import SlaTarget

    target = SlaTarget(
        "service",
        "payroll",
        None,
        "P1",
        "resolve",
        4.0,
        "24x7",
        Calendar.from_spec("always", "UTC"),
        0.95,
    )
    assert "slowest ticket" in str(_slowest_note(np.full((20, 3), 10), target))
    assert _slowest_note(np.full((20, 3), 100), target) is None


def test_no_achievable_interval_from_fewer_than_three_replications() -> None:
    """One or two replications cannot show how their periods correlate: no interval (with one,
    the clustered interval fell back to independent periods and covered 50% of the time)."""
    from simkit.analysis.target_assessment import _slowest_note, achievable_interval
    from simkit.calendar import Calendar
    from simkit.measure import SlaTarget

    values = np.random.default_rng(3).exponential(1.0, size=(2, 30))
    assert achievable_interval(values, 0.8) == (None, None)
    assert achievable_interval(np.vstack([values, values]), 0.8)[0] is not None
    always = Calendar.from_spec("always", "UTC")
    every = SlaTarget("service", "payroll", None, "P1", "resolve", 4.0, "24x7", always, 1.0)
    assert _slowest_note(np.full((20, 3), 500), every) is None  # 100%: no warning of volume


def test_a_target_without_tickets_says_so_in_its_words() -> None:
    """Every volume at 0: full weeks were measured, but none held a ticket. The SLR rows and
    the staffing options' rows say that, not that no full week was measured."""
    data = yaml.safe_load(yaml.safe_dump(SMALL))
    data["services"]["svc"]["demand"]["per_week"] = 0
    document = achievable_targets(
        parse_scenario(yaml.safe_dump(data), file="zero.yaml"), confidence=0.8
    )
    words = [r["words"] for r in document["sla"]] + [o["words"] for o in document["options"]]
    assert document["options"] and words
    assert all(w.endswith("no ticket was measured in any full week") for w in words), words
