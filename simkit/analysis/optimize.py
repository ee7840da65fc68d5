"""What staffing makes every SLR hold? The cheapest roster change, found by simulation.

The decision is the number of agents on each roster line of each team (suppliers have none). A
line's agent costs ``cost_per_agent_hour × line hours per week × 52/12`` a month; a team without
``cost_per_agent_hour`` is left as it is, unless no team has a cost, when every line is costed
in agent-hours. A roster *passes* when every SLA target (service, customer and corporate levels)
is ``achievable`` at the confidence (:mod:`simkit.analysis.verdict`: the lower bound of the
Wilson interval of P(period meets goal) at least the confidence).

The search:

0. **Can it be done?** With *R* replications of *P* full periods, even a roster that meets every
   period has a Wilson lower bound of ``R·P / (R·P + z²)``-ish; when that is below the
   confidence no roster can pass and the optimiser says how many replications it needs. When
   the current roster fails, one run with *ample* staffing (every line at ``max(3n, n + 10)``
   agents) finds the targets that staffing the existing lines cannot reach — bound by a
   supplier, by hours no line covers, or by handling times; they are reported, and the search
   goes on for the others — without cutting the lines of the teams that limit them below
   their current agents, so that it does not make them worse.
1. **Start** from the quick estimate (:mod:`simkit.analysis.quick`, milliseconds per roster): a
   greedy that adds, one at a time, the agent whose line lowers the estimated shortfall
   ``Σ max(0, goal − estimated share within target)`` (over the targets the estimate can reach
   with ample staffing) most per cost, until every such target meets its goal or no agent lowers
   it by 0.1 pp, then removes agents (dearest line first) while no target that met its goal stops
   meeting it.
2. **Refine by simulation** with common random numbers — every candidate runs with the same seed,
   so the differences between candidates are paired. While the roster does not pass, each line
   of the teams that limit a failing target (:func:`simkit.analysis.targets.limiting_teams`) gets
   one agent more — then every other line, if none of those helps — and the one that lowers the
   *shortfall* most per cost (one that passes first) is kept. The shortfall of a roster is, over
   the targets not yet achievable, ``max(0, confidence − lower bound of P(period meets goal))``
   plus ``max(0, ln(achievable target / proposed target))`` (capped at 5; an unbounded
   achievable target counts as the cap): the first term is what the verdict reads, the second
   keeps the search moving while the first is stuck at zero. When no single agent lowers the
   shortfall the search stops and says so. Once the roster passes, agents are removed one at a
   time, the dearest line first, while it still passes, until a full round removes none.
3. **Confirm** the answer with fresh seeds (the seed plus :data:`CONFIRM_OFFSET`) and report its
   verdicts: the search's own seed favours the rosters it picked, the confirmation does not.

Every simulation run but the confirmation counts against ``budget_runs``; when the budget runs
out first the answer says so.

The parts: :mod:`~simkit.analysis.staffing_lines` (the lines and their cost) and
:mod:`~simkit.analysis.staffing_search` (the simulated search); this module runs the steps.
"""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import Executor
from typing import Any

from simkit.analysis.staffing_lines import Roster as Roster
from simkit.analysis.staffing_lines import StaffedLine, _changes, _roster_cost, staffed_lines
from simkit.analysis.staffing_search import (
    _add_phase,
    _ample,
    _Evaluation,
    _quick_start,
    _remove_phase,
    _Search,
)
from simkit.analysis.verdict import ACHIEVABLE, check_confidence
from simkit.engine.compile import RunClock
from simkit.errors import InputError
from simkit.measure import period_table
from simkit.runner import DEFAULT_MAX_VISITS, Progress, run_counts
from simkit.scenario import Scenario
from simkit.scenario.targets import measure_spec
from simkit.stats import wilson_interval

__all__ = [
    "CONFIRM_OFFSET",
    "DEFAULT_BUDGET_RUNS",
    "StaffedLine",
    "full_periods",
    "optimize_staffing",
    "replications_needed",
    "staffed_lines",
]

CONFIRM_OFFSET = 1_000_003
"""Added to the seed for the confirmation run: replications no candidate was chosen on."""
DEFAULT_BUDGET_RUNS = 40
"""Simulation runs the search may spend (each with the scenario's replications)."""
Row = dict[str, Any]


def full_periods(scenario: Scenario) -> int:
    """Full reporting periods in the scenario's measured span."""
    clock = RunClock(scenario)
    spec = measure_spec(
        scenario,
        start=clock.instant(clock.start),
        horizon_end=clock.instant(clock.horizon_end),
        observed_until=clock.instant(clock.end),
        replications=1,
    )
    return sum(1 for period in period_table(spec) if period.full)


def replications_needed(periods: int, confidence: float) -> int | None:
    """The fewest replications with which a roster meeting every one of ``periods`` full
    periods is ``achievable`` (the Wilson lower bound of ``n`` met out of ``n`` reaches
    ``confidence``); ``None`` without a full period."""
    if periods < 1:
        return None
    r = 1
    while (wilson_interval(r * periods, r * periods).lo or 0.0) < confidence:
        r += 1
    return r


def optimize_staffing(
    scenario: Scenario,
    *,
    confidence: float = 0.8,
    budget_runs: int = DEFAULT_BUDGET_RUNS,
    replications: int | None = None,
    seed: int | None = None,
    executor: Executor | None = None,
    progress: Progress | None = None,
    start: str = "quick",
    max_visits: int = DEFAULT_MAX_VISITS,
) -> dict[str, Any]:
    """The cheapest roster change that makes every SLR achievable (see the module docstring).

    Parameters
    ----------
    scenario
        The scenario with its SLA targets, rosters and ``cost_per_agent_hour``.
    confidence
        The share of reporting periods each SLR must be met in (0–1).
    budget_runs
        Simulation runs the search may spend, the run of the current roster included.
    replications, seed, executor, progress, max_visits
        As for :func:`simkit.runner.simulate` (defaults: the scenario's); every candidate runs
        with ``seed``, the confirmation with ``seed + CONFIRM_OFFSET``.
    start
        ``"quick"`` (the quick estimate) or ``"current"`` (the roster as it is).

    Returns
    -------
    dict
        ``{"scenario", "confidence", "replications", "seed", "confirmation_seed",
        "budget_runs", "runs", "found", "confirmed", "message", "unreachable", "cost_unit",
        "start", "changes", "lines", "cost_per_month", "roster_cost_per_month",
        "verdicts_before", "verdicts_after", "confirmation", "searched", "fixed_teams"}``.
        ``found`` is true when the roster makes every SLR achievable on the search's seed;
        ``confirmed`` whether the confirmation agrees (``None`` without one). ``unreachable``
        lists the SLRs that ample staffing of the existing lines does not make achievable
        (the roster then serves the others). ``changes`` rows: ``team, line, agents (added,
        negative for removed), agents_before, agents_after, cost_per_month``;
        ``cost_per_month`` is their sum. Verdict rows: ``label, level, service, customer,
        priority, metric, within_h, goal, achievable_within_h, p_period_met {mean, lo, hi},
        verdict``. ``searched`` lists every simulated roster with its phase, changes, cost,
        shortfall and verdicts.
    """
    check_confidence(confidence)
    if budget_runs < 1:
        raise InputError.single(
            f"the budget must allow at least one simulation run, got {budget_runs}",
            "e.g. --budget 40",
            path="--budget",
        )
    if start not in ("quick", "current"):
        raise InputError.single(
            f"start must be 'quick' or 'current', got {start!r}",
            "start='quick' (from the quick estimate) or 'current' (from the roster as it is)",
            path="start",
        )
    n, s = run_counts(scenario, replications, seed)
    lines, fixed, unit = staffed_lines(scenario)
    search = _Search(scenario, lines, confidence, n, executor, progress, budget_runs, max_visits)
    document: dict[str, Any] = {
        "scenario": scenario.name,
        "confidence": confidence,
        "replications": n,
        "seed": s,
        "confirmation_seed": s + CONFIRM_OFFSET,
        "budget_runs": budget_runs,
        "cost_unit": unit,
        "fixed_teams": fixed,
    }

    def finish(
        before: _Evaluation | None,
        answer: _Evaluation | None,
        confirmation: _Evaluation | None,
        found: bool,
        message: str,
        origin: str,
        unreachable: Sequence[str] = (),
    ) -> dict[str, Any]:
        return _document(
            document, search, before, answer, confirmation, found, message, origin, unreachable
        )

    periods = full_periods(scenario)
    needed = replications_needed(periods, confidence)
    if needed is None or needed > n:
        reason = (
            "the measured span holds no full reporting period: lengthen the horizon"
            if needed is None
            else f"with {n} replications of {periods} full {scenario.period}s even a roster "
            f"meeting every {scenario.period} cannot show {confidence:.0%} confidence: run at "
            f"least {needed} replications"
        )
        return finish(None, None, None, False, reason, "none")
    before = search.evaluate(search.current, s, "current roster")
    if not lines:
        return finish(before, before, None, False, "no team has roster lines to change", "none")
    unreachable: list[str] = []
    if not search.passes(before) and search.left >= 2:
        ample = search.evaluate(_ample(search.current), s, "ample staffing (reach check)")
        search.required = frozenset(
            i for i, r in enumerate(ample.verdicts) if r["verdict"] == ACHIEVABLE
        )
        unreachable = [r["label"] for r in ample.verdicts if r["verdict"] != ACHIEVABLE]
        guarded = {
            before.limiting[i]
            for i, r in enumerate(ample.verdicts)
            if r["verdict"] != ACHIEVABLE and before.limiting[i] is not None
        }
        search.floor = tuple(line.agents if line.team in guarded else 0 for line in search.lines)
        if not search.required:
            return finish(
                before,
                before,
                None,
                False,
                "no SLR becomes achievable even with ample staffing of the existing roster "
                "lines: staffing is not what limits them",
                "none",
                unreachable,
            )
    origin, begin = "current roster", before
    if start == "quick":
        origin = "quick estimate"
        quick_roster = _quick_start(scenario, lines, search.floor)
        if quick_roster != search.current and search.left >= 1:
            begin = search.evaluate(quick_roster, s, "start (quick estimate)")
    answer, stopped = _add_phase(search, begin, s)
    if stopped is not None:
        return finish(before, answer, None, False, stopped, origin, unreachable)
    answer, complete = _remove_phase(search, answer, s)
    confirmation = search.evaluate(answer.roster, s + CONFIRM_OFFSET, "confirm", counted=False)
    confirmed = search.passes(confirmation)
    scope = "every SLR" if not unreachable else "every SLR that staffing can reach"
    message = (
        f"{scope} is achievable with this roster, and the confirmation with fresh seeds agrees"
        if confirmed
        else f"{scope} is achievable with this roster on the search's seed, but the "
        "confirmation with fresh seeds does not agree for "
        + ", ".join(
            confirmation.verdicts[i]["label"]
            for i in search.wanted(confirmation)
            if confirmation.verdicts[i]["verdict"] != ACHIEVABLE
        )
        + ": it is borderline (more replications narrow it down)"
    )
    if unreachable:
        message += (
            "; even ample staffing of the existing roster lines does not make "
            + ", ".join(unreachable)
            + " achievable (look at suppliers, hours no line covers, handling times or the "
            "targets themselves)"
        )
    if not complete:
        message += "; the budget ran out while removing agents, so a cheaper roster may exist"
    return finish(before, answer, confirmation, not unreachable, message, origin, unreachable)


def _document(
    document: dict[str, Any],
    search: _Search,
    before: _Evaluation | None,
    answer: _Evaluation | None,
    confirmation: _Evaluation | None,
    found: bool,
    message: str,
    origin: str,
    unreachable: Sequence[str],
) -> dict[str, Any]:
    lines = search.lines
    current = search.current
    roster = answer.roster if answer is not None else current
    changes = _changes(lines, roster)
    start_rows = [r for r in search.log if r["phase"].startswith("start")]
    for row, key in zip(search.log, search.logged, strict=True):
        evaluation = search.cache[key]
        row["achievable"] = search.passes(evaluation)
        row["shortfall"] = search.shortfall(evaluation)
    return {
        **document,
        "runs": search.runs,
        "found": found,
        "confirmed": search.passes(confirmation) if confirmation is not None else None,
        "message": message,
        "unreachable": list(unreachable),
        "start": {"from": origin, "changes": start_rows[0]["changes"] if start_rows else []},
        "changes": changes,
        "lines": [
            {
                "team": line.team,
                "line": line.line,
                "hours_per_week": line.hours_per_week,
                "cost_per_agent_hour": line.cost_per_agent_hour,
                "agents_before": line.agents,
                "agents_after": n,
            }
            for n, line in zip(roster, lines, strict=True)
        ],
        "cost_per_month": sum(c["cost_per_month"] for c in changes),
        "roster_cost_per_month": {
            "before": _roster_cost(lines, current),
            "after": _roster_cost(lines, roster),
        },
        "verdicts_before": before.verdicts if before is not None else [],
        "verdicts_after": answer.verdicts if answer is not None else [],
        "confirmation": (
            {
                "seed": confirmation.seed,
                "achievable": search.passes(confirmation),
                "verdicts": confirmation.verdicts,
            }
            if confirmation is not None
            else None
        ),
        "searched": search.log,
    }
