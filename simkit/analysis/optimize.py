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
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from concurrent.futures import Executor
from dataclasses import dataclass
from typing import Any

from simkit.analysis.quick import quick_estimate
from simkit.analysis.targets import (
    WEEKS_PER_MONTH,
    TargetAssessment,
    assess_targets,
    limiting_teams,
)
from simkit.analysis.verdict import ACHIEVABLE, verdict
from simkit.engine.compile import RunClock
from simkit.errors import InputError
from simkit.measure import period_table
from simkit.runner import DEFAULT_MAX_VISITS, Progress, simulate
from simkit.scenario import Scenario
from simkit.scenario.targets import measure_spec
from simkit.stats import wilson_interval
from simkit.timespec import parse_weekly_pattern, weekly_intervals

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
_CAP = 5.0
_QUICK_STEP = 1e-3
_QUICK_STEPS = 200

Row = dict[str, Any]
Roster = tuple[int, ...]


# -- what may change and what it costs ------------------------------------------------------------


@dataclass(frozen=True)
class StaffedLine:
    """A roster line the search may staff: ``"mon-fri 08:00-18:00": 6`` of a team."""

    team: str
    line: str
    agents: int
    hours_per_week: float
    cost_per_agent_hour: float

    @property
    def cost_per_agent_month(self) -> float:
        """What one more agent on this line costs a month."""
        return self.hours_per_week * self.cost_per_agent_hour * WEEKS_PER_MONTH


def staffed_lines(scenario: Scenario) -> tuple[list[StaffedLine], list[Row], str]:
    """The roster lines the optimiser may change, the teams it leaves alone, and the cost unit.

    Returns
    -------
    lines, fixed, unit
        ``fixed`` rows are ``{team, reason}``; ``unit`` is ``"money"`` when lines are costed by
        ``cost_per_agent_hour``, ``"agent-hours"`` when no team has a cost (each agent-hour
        then costs 1).
    """
    teams = [(n, t) for n, t in scenario.teams.items() if t.kind == "team"]
    costed = any(t.cost_per_agent_hour is not None for _, t in teams)
    lines: list[StaffedLine] = []
    fixed: list[Row] = []
    for name, team in teams:
        if not team.roster:
            fixed.append({"team": name, "reason": "no roster lines"})
            continue
        if costed and team.cost_per_agent_hour is None:
            fixed.append({"team": name, "reason": "no cost_per_agent_hour"})
            continue
        rate = float(team.cost_per_agent_hour or 0.0) if costed else 1.0
        for line, agents in team.roster.items():
            days, clock = parse_weekly_pattern(line)
            minutes = sum(b - a for a, b in weekly_intervals(days, clock))
            lines.append(StaffedLine(name, line, int(agents), minutes / 60, rate))
    return lines, fixed, "money" if costed else "agent-hours"


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


def _roster_cost(lines: Sequence[StaffedLine], roster: Roster) -> float:
    return sum(n * line.cost_per_agent_month for n, line in zip(roster, lines, strict=True))


def _changes(lines: Sequence[StaffedLine], roster: Roster) -> list[Row]:
    return [
        {
            "team": line.team,
            "line": line.line,
            "agents": n - line.agents,
            "agents_before": line.agents,
            "agents_after": n,
            "cost_per_month": (n - line.agents) * line.cost_per_agent_month,
        }
        for n, line in zip(roster, lines, strict=True)
        if n != line.agents
    ]


def _patched(scenario: Scenario, lines: Sequence[StaffedLine], roster: Roster) -> Scenario:
    teams: dict[str, Any] = {}
    for n, line in zip(roster, lines, strict=True):
        if n != line.agents:
            teams.setdefault(line.team, {"roster": {}})["roster"][line.line] = n
    if not teams:
        return scenario
    return scenario.with_patch({"teams": teams}, name="staffing candidate")


def _with(roster: Roster, index: int, delta: int) -> Roster:
    return tuple(n + delta if j == index else n for j, n in enumerate(roster))


def _removable(lines: Sequence[StaffedLine], roster: Roster, index: int, floor: Roster) -> bool:
    """Whether one agent may leave line ``index``: above its floor, and not the team's last
    (a roster with no agents at any time is not a roster)."""
    team = lines[index].team
    left = sum(n for n, line in zip(roster, lines, strict=True) if line.team == team) - 1
    return roster[index] > floor[index] and left >= 1


# -- one roster, simulated ------------------------------------------------------------------------


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


# -- the start: the quick estimate ----------------------------------------------------------------


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


# -- the search -----------------------------------------------------------------------------------


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
                "no single added agent on any roster line brings "
                + ", ".join(failing)
                + " closer: staffing the existing lines one agent at a time does not meet them"
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


def _check_confidence(confidence: float) -> None:
    if not 0.0 < confidence < 1.0:
        raise InputError.single(
            f"confidence must be between 0 and 1, got {confidence!r}",
            "write a share of periods such as 0.8 (80% of periods)",
            path="--confidence",
        )


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
    _check_confidence(confidence)
    if budget_runs < 1:
        raise InputError.single(
            f"the budget must allow at least one simulation run, got {budget_runs}",
            "e.g. --budget 40",
            path="--budget",
        )
    if start not in ("quick", "current"):
        raise ValueError(f"start must be 'quick' or 'current', got {start!r}")
    n = scenario.replications if replications is None else int(replications)
    s = scenario.seed if seed is None else int(seed)
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
