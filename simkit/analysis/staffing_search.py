"""The staffing optimiser's search: rosters simulated with common random numbers, the quick-
estimate start, and the phases that add and remove agents.

Internal to :mod:`simkit.analysis.optimize`, whose docstring states the search; nothing here is
public.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from concurrent.futures import Executor
from dataclasses import dataclass
from typing import Any

from simkit.analysis.quick import quick_estimate
from simkit.analysis.staffing_lines import (
    Roster,
    StaffedLine,
    _changes,
    _patched,
    _removable,
    _roster_cost,
    _with,
)
from simkit.analysis.targets import TargetAssessment, assess_targets, limiting_teams
from simkit.analysis.verdict import ACHIEVABLE, verdict
from simkit.runner import Progress, simulate
from simkit.scenario import Scenario

__all__: list[str] = []

_CAP = 5.0
_QUICK_STEP = 1e-3
_QUICK_STEPS = 200
Row = dict[str, Any]


def _label(target: Any) -> str:
    if target.level == "corporate":
        return f"corporate {target.priority} {target.metric}"
    prefix = f"{target.customer}: " if target.level == "customer" else ""
    return f"{prefix}{target.service} {target.priority} {target.metric}"


def _verdict_row(assessment: TargetAssessment, confidence: float) -> Row:
    target = assessment.target
    p = assessment.p_period_met
    return {
        "label": _label(target),
        "level": target.level,
        "service": target.service,
        "customer": target.customer,
        "priority": target.priority,
        "metric": target.metric,
        "within_h": float(target.within_h),
        "goal": float(target.goal),
        "achievable_within_h": assessment.achievable_within_h,
        "p_period_met": p,
        "verdict": verdict(p["lo"], p["hi"], confidence),
    }


def _shortfall(assessment: TargetAssessment, confidence: float) -> float:
    p = assessment.p_period_met
    if verdict(p["lo"], p["hi"], confidence) == ACHIEVABLE:
        return 0.0
    lo = p["lo"] if p["lo"] is not None else 0.0
    achievable = assessment.achievable_within_h
    stretch = _CAP
    if achievable is not None:
        ratio = max(achievable, 1e-9) / assessment.target.within_h
        stretch = min(_CAP, max(0.0, math.log(ratio)))
    return max(0.0, confidence - lo) + stretch


@dataclass(frozen=True)
class _Evaluation:
    roster: Roster
    seed: int
    verdicts: list[Row]
    shortfalls: tuple[float, ...]
    limiting: tuple[str | None, ...]
    """Per target: the team limiting it when it is not achievable."""


class _Search:
    """The simulations of one optimisation: a cache by roster and seed, the budget, the log and
    the targets the roster must make achievable."""

    def __init__(
        self,
        scenario: Scenario,
        lines: Sequence[StaffedLine],
        confidence: float,
        replications: int,
        executor: Executor | None,
        progress: Progress | None,
        budget: int,
        max_visits: int,
    ) -> None:
        self.scenario, self.lines, self.confidence = scenario, list(lines), confidence
        self.replications, self.executor, self.progress = replications, executor, progress
        self.budget, self.max_visits = budget, max_visits
        self.runs = 0
        self.required: frozenset[int] | None = None
        self.floor: Roster = tuple(0 for _ in self.lines)
        """The fewest agents each line may keep: the current ones on lines of teams that
        limit a target staffing cannot reach (so the search does not make it worse)."""
        self.cache: dict[tuple[Roster, int], _Evaluation] = {}
        self.log: list[Row] = []
        self.logged: list[tuple[Roster, int]] = []

    @property
    def left(self) -> int:
        return self.budget - self.runs

    @property
    def current(self) -> Roster:
        return tuple(line.agents for line in self.lines)

    def wanted(self, evaluation: _Evaluation) -> list[int]:
        everything = range(len(evaluation.verdicts))
        return [i for i in everything if self.required is None or i in self.required]

    def passes(self, evaluation: _Evaluation) -> bool:
        return all(evaluation.verdicts[i]["verdict"] == ACHIEVABLE for i in self.wanted(evaluation))

    def shortfall(self, evaluation: _Evaluation) -> float:
        return sum(evaluation.shortfalls[i] for i in self.wanted(evaluation))

    def limiting(self, evaluation: _Evaluation) -> set[str]:
        return {
            team for i in self.wanted(evaluation) if (team := evaluation.limiting[i]) is not None
        }

    def _report(self) -> Progress | None:
        if self.progress is None:
            return None
        report, offset = self.progress, self.runs * self.replications
        total = (self.budget + 1) * self.replications

        def step(done: int, _total: int) -> None:
            report(min(offset + done, total), total)

        return step

    def evaluate(
        self, roster: Roster, seed: int, phase: str, *, counted: bool = True
    ) -> _Evaluation:
        """Simulate ``roster`` with ``seed`` (once: the result is cached) and log it."""
        key = (roster, seed)
        if key in self.cache:
            return self.cache[key]
        run = simulate(
            _patched(self.scenario, self.lines, roster),
            replications=self.replications,
            seed=seed,
            executor=self.executor,
            progress=self._report(),
            max_visits=self.max_visits,
        )
        if counted:
            self.runs += 1
        assessments = assess_targets(run, self.confidence)
        rows = [_verdict_row(a, self.confidence) for a in assessments]
        failing = [i for i, r in enumerate(rows) if r["verdict"] != ACHIEVABLE]
        limits: list[str | None] = [None] * len(rows)
        if failing:
            for i, team in zip(
                failing, limiting_teams(run, [assessments[i] for i in failing]), strict=True
            ):
                limits[i] = team
        evaluation = _Evaluation(
            roster=roster,
            seed=seed,
            verdicts=rows,
            shortfalls=tuple(_shortfall(a, self.confidence) for a in assessments),
            limiting=tuple(limits),
        )
        self.cache[key] = evaluation
        self.logged.append(key)
        self.log.append(
            {
                "run": len(self.log) + 1,
                "phase": phase,
                "seed": seed,
                "changes": _changes(self.lines, roster),
                "cost_per_month": _roster_cost(self.lines, roster)
                - _roster_cost(self.lines, self.current),
                "achievable": self.passes(evaluation),
                "shortfall": self.shortfall(evaluation),
                "verdicts": [
                    {
                        "label": r["label"],
                        "verdict": r["verdict"],
                        "p_period_met": r["p_period_met"],
                    }
                    for r in rows
                ],
            }
        )
        return evaluation


def _ample(roster: Roster) -> Roster:
    return tuple(max(3 * n, n + 10) for n in roster)


def _quick_start(scenario: Scenario, lines: Sequence[StaffedLine], floor: Roster) -> Roster:
    """The cheapest roster by the quick estimate (see the module docstring)."""

    def estimate(roster: Roster) -> list[Row]:
        rows: list[Row] = quick_estimate(_patched(scenario, lines, roster))["sla"]
        return rows

    roster = tuple(line.agents for line in lines)
    reachable = [i for i, r in enumerate(estimate(_ample(roster))) if r["meets_goal"]]

    def shortfall(roster: Roster) -> tuple[float, frozenset[int]]:
        rows = estimate(roster)
        gap = sum(max(0.0, rows[i]["goal"] - rows[i]["p_within"]) for i in reachable)
        return gap, frozenset(i for i in reachable if rows[i]["meets_goal"])

    gap, met = shortfall(roster)
    for _ in range(_QUICK_STEPS):
        if gap <= 0:
            break
        best: tuple[float, Roster, float, frozenset[int]] | None = None
        for i, line in enumerate(lines):
            trial = _with(roster, i, 1)
            new_gap, new_met = shortfall(trial)
            gain = gap - new_gap
            if gain < _QUICK_STEP and len(new_met) <= len(met):
                continue
            score = gain / max(line.cost_per_agent_month, 1e-9)
            if best is None or score > best[0]:
                best = (score, trial, new_gap, new_met)
        if best is None:
            break
        _, roster, gap, met = best
    for i in sorted(range(len(lines)), key=lambda i: -lines[i].cost_per_agent_month):
        while _removable(lines, roster, i, floor):
            trial = _with(roster, i, -1)
            new_gap, new_met = shortfall(trial)
            if not met <= new_met or new_gap > gap + _QUICK_STEP:
                break
            roster, gap, met = trial, new_gap, new_met
    return roster


class _OutOfBudget(Exception):
    """The budget cannot pay for the next round of candidates."""


def _best_addition(
    search: _Search, current: _Evaluation, seed: int, candidates: Sequence[int]
) -> _Evaluation | None:
    """The roster with the added agent that lowers the shortfall most per cost (one that
    passes first), or ``None`` when no added agent lowers it."""
    if search.left < len(candidates):
        raise _OutOfBudget
    best: tuple[bool, float, _Evaluation] | None = None
    before = search.shortfall(current)
    for i in candidates:
        trial = search.evaluate(_with(current.roster, i, 1), seed, "add")
        gain = before - search.shortfall(trial)
        score = gain / max(search.lines[i].cost_per_agent_month, 1e-9)
        if best is None or (search.passes(trial), score) > (best[0], best[1]):
            best = (search.passes(trial), score, trial)
    if best is None or (not best[0] and best[1] <= 0):
        return None
    return best[2]


def _add_phase(search: _Search, current: _Evaluation, seed: int) -> tuple[_Evaluation, str | None]:
    """Add agents until the roster passes; the reason it stopped otherwise."""
    everything = list(range(len(search.lines)))
    while not search.passes(current):
        limited = search.limiting(current)
        first = [i for i in everything if search.lines[i].team in limited] or everything
        rest = [i for i in everything if i not in first]
        try:
            chosen = _best_addition(search, current, seed, first)
            if chosen is None and rest:
                chosen = _best_addition(search, current, seed, rest)
        except _OutOfBudget:
            return current, "the budget of simulation runs ran out before every SLR was met"
        if chosen is None:
            failing = [
                current.verdicts[i]["label"]
                for i in search.wanted(current)
                if current.verdicts[i]["verdict"] != ACHIEVABLE
            ]
            return current, (
                "no single added agent on any roster line lowers the total shortfall of the "
                "targets still missed ("
                + ", ".join(failing)
                + "): one agent may help one target as much as the runs' noise hurts another. "
                "Staffing the existing lines one agent at a time does not meet them in these "
                "runs; more replications, with less noise, may find a step that does"
            )
        current = chosen
    return current, None


def _remove_phase(search: _Search, current: _Evaluation, seed: int) -> tuple[_Evaluation, bool]:
    """Remove agents, dearest line first, while the roster passes; whether the budget held."""
    order = sorted(
        range(len(search.lines)), key=lambda i: (-search.lines[i].cost_per_agent_month, i)
    )
    removed = True
    while removed:
        removed = False
        for i in order:
            while _removable(search.lines, current.roster, i, search.floor):
                trial_roster = _with(current.roster, i, -1)
                if (trial_roster, seed) not in search.cache and search.left < 1:
                    return current, False
                trial = search.evaluate(trial_roster, seed, "remove")
                if not search.passes(trial):
                    break
                current, removed = trial, True
    return current, True
