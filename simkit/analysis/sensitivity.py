"""Sensitivity: which inputs move each target most — a tornado table.

Each input is moved down and up by ``step`` (10% by default) while everything else stays as it
is, and every run uses the baseline's seed, so each target's difference from the baseline is
paired replication by replication (:func:`simkit.analysis.impact.paired`). One run per input and
direction measures every target at once: ``1 + 2 × inputs`` runs in all.

The inputs:

- ``volume`` — every service's ``demand.per_week`` × (1 ± step);
- ``handling time (TEAM)`` — every handling-time distribution of the team scaled by (1 ± step)
  (:meth:`simkit.distributions.Distribution.scaled`, written back with ``to_spec``);
- ``staffing (TEAM)`` — each roster line's agents changed by ``step`` of its agents, rounded to
  whole agents with halves rounded up, in the direction of the change (so −10% and +10% of 5
  agents are 4 and 6, of 12 agents 11 and 13, and of 3 agents no change); a team whose roster
  does not change at all is skipped. ``low_factor``/``high_factor`` give the change in rostered
  agent-hours per week that results;
- ``pause rate`` — every team's routing share to ``pause`` × (1 ± step), the other shares of the
  team rescaled so that the routing still adds up to what it did;
- ``supplier time`` — every supplier's handling-time distributions scaled by (1 ± step).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from concurrent.futures import Executor
from dataclasses import dataclass
from typing import Any

from simkit.analysis.impact import (
    RunFigures,
    paired,
    run_figures,
    simulate_all,
    target_fields,
    target_label,
)
from simkit.errors import InputError
from simkit.runner import DEFAULT_MAX_VISITS, Progress, run_counts
from simkit.scenario import Scenario
from simkit.scenario.models import Team
from simkit.scenario.targets import ola_targets, sla_targets
from simkit.stats import Interval
from simkit.timespec import parse_weekly_pattern, weekly_intervals

__all__ = ["DEFAULT_STEP", "SensitivityInput", "sensitivity", "sensitivity_inputs"]

DEFAULT_STEP = 0.10
Row = dict[str, Any]
Patch = dict[str, Any]


@dataclass(frozen=True)
class SensitivityInput:
    """One input of the tornado: the merge patches that move it down and up.

    ``low_factor``/``high_factor`` are the resulting multipliers of the input (for staffing,
    of the rostered agent-hours per week, after rounding to whole agents).
    """

    name: str
    kind: str
    team: str | None
    low: Patch
    high: Patch
    low_factor: float
    high_factor: float

    def as_dict(self) -> Row:
        return {
            "input": self.name,
            "kind": self.kind,
            "team": self.team,
            "low_factor": self.low_factor,
            "high_factor": self.high_factor,
        }


def _scaled_handle(team: Team, factor: float) -> Patch:
    return {key: dist.scaled(factor).to_spec() for key, dist in team.handle.items()}


def _roster_minutes(roster: Mapping[str, int]) -> int:
    """Rostered agent-minutes per week."""
    total = 0
    for line, agents in roster.items():
        days, clock = parse_weekly_pattern(line)
        total += agents * sum(b - a for a, b in weekly_intervals(days, clock))
    return total


def _agents_change(agents: int, step: float) -> int:
    """``step`` of ``agents`` in whole agents, halves rounded up."""
    return math.floor(agents * step + 0.5 + 1e-9)


def sensitivity_inputs(
    scenario: Scenario, step: float = DEFAULT_STEP
) -> tuple[list[SensitivityInput], list[Row]]:
    """The inputs of the tornado for ``scenario`` and the inputs skipped, with the reason.

    Raises
    ------
    InputError
        When ``step`` is not between 0 and 1 (exclusive).
    """
    if not 0.0 < step < 1.0:
        raise InputError.single(
            f"the step must be between 0% and 100%, got {step!r}",
            "e.g. --step 10%",
            path="--step",
        )
    low_f, high_f = 1.0 - step, 1.0 + step
    inputs: list[SensitivityInput] = []
    skipped: list[Row] = []

    volume = {name: s.demand.per_week for name, s in scenario.services.items()}
    if any(v > 0 for v in volume.values()):

        def demand(factor: float) -> Patch:
            return {
                "services": {
                    name: {"demand": {"per_week": v * factor}} for name, v in volume.items()
                }
            }

        inputs.append(
            SensitivityInput("volume", "volume", None, demand(low_f), demand(high_f), low_f, high_f)
        )
    else:
        skipped.append({"input": "volume", "reason": "no service has any demand"})

    teams = {n: t for n, t in scenario.teams.items() if t.kind == "team"}
    for name, team in teams.items():
        inputs.append(
            SensitivityInput(
                f"handling time ({name})",
                "handling",
                name,
                {"teams": {name: {"handle": _scaled_handle(team, low_f)}}},
                {"teams": {name: {"handle": _scaled_handle(team, high_f)}}},
                low_f,
                high_f,
            )
        )
    for name, team in teams.items():
        roster = dict(team.roster or {})
        change = {line: _agents_change(agents, step) for line, agents in roster.items()}
        before = _roster_minutes(roster)
        if not any(change.values()) or before == 0:
            skipped.append(
                {
                    "input": f"staffing ({name})",
                    "reason": f"{step:.0%} of each roster line rounds to no whole agent",
                }
            )
            continue
        low = {line: agents - change[line] for line, agents in roster.items()}
        high = {line: agents + change[line] for line, agents in roster.items()}
        inputs.append(
            SensitivityInput(
                f"staffing ({name})",
                "staffing",
                name,
                {"teams": {name: {"roster": low}}},
                {"teams": {name: {"roster": high}}},
                _roster_minutes(low) / before,
                _roster_minutes(high) / before,
            )
        )

    pausing = {
        n: dict(t.next or {}) for n, t in scenario.teams.items() if (t.next or {}).get("pause")
    }
    pausing = {n: r for n, r in pausing.items() if sum(r.values()) - r["pause"] > 0}
    if pausing:

        def routing(factor: float) -> Patch:
            patch: Patch = {}
            for name, shares in pausing.items():
                total, pause = sum(shares.values()), shares["pause"]
                moved = min(pause * factor, total)
                rest = (total - moved) / (total - pause)
                patch[name] = {
                    "next": {k: (moved if k == "pause" else v * rest) for k, v in shares.items()}
                }
            return {"teams": patch}

        inputs.append(
            SensitivityInput(
                "pause rate", "pause", None, routing(low_f), routing(high_f), low_f, high_f
            )
        )
    else:
        skipped.append({"input": "pause rate", "reason": "no team routes tickets to pause"})

    suppliers = {n: t for n, t in scenario.teams.items() if t.kind == "supplier"}
    if suppliers:

        def supplier(factor: float) -> Patch:
            return {
                "teams": {n: {"handle": _scaled_handle(t, factor)} for n, t in suppliers.items()}
            }

        inputs.append(
            SensitivityInput(
                "supplier time",
                "supplier",
                None,
                supplier(low_f),
                supplier(high_f),
                low_f,
                high_f,
            )
        )
    else:
        skipped.append({"input": "supplier time", "reason": "the scenario has no supplier"})
    return inputs, skipped


def _swing(low: Interval, high: Interval) -> float | None:
    if low.mean is None or high.mean is None:
        return None
    return abs(high.mean - low.mean)


def _deltas(
    base: RunFigures, low: RunFigures, high: RunFigures
) -> dict[Any, tuple[Row, str, Interval, Interval]]:
    out: dict[Any, tuple[Row, str, Interval, Interval]] = {}
    empty = Interval(None, None, None)
    for key, b in base.targets.items():
        lo_run, hi_run = low.targets.get(key), high.targets.get(key)
        out[key] = (
            b.row,
            b.kind,
            paired(lo_run.compliance, b.compliance) if lo_run else empty,
            paired(hi_run.compliance, b.compliance) if hi_run else empty,
        )
    return out


def sensitivity(
    scenario: Scenario,
    *,
    step: float = DEFAULT_STEP,
    targets: Sequence[str] | None = None,
    replications: int | None = None,
    seed: int | None = None,
    executor: Executor | None = None,
    progress: Progress | None = None,
    max_visits: int = DEFAULT_MAX_VISITS,
) -> dict[str, Any]:
    """A tornado table: each input moved by −``step`` and +``step``, per target.

    Parameters
    ----------
    scenario
        The baseline.
    step
        The relative move of every input (0.10 = ±10%).
    targets
        Labels of the targets to report (``'payroll P1 resolve'``, ``'apps OLA resolve'``, as
        :func:`simkit.analysis.impact.target_label` writes them); all when ``None``. Every run
        measures every target whatever this says.
    replications, seed, executor, progress, max_visits
        As for :func:`simkit.simulate`; the same seed for every run (common random numbers).

    Returns
    -------
    dict
        ``{"scenario", "replications", "seed", "step", "inputs", "skipped", "baseline",
        "rows"}``; a row per target and input: the target's fields (``kind, level, service,
        customer, team, priority, metric, label``), ``input``, ``input_kind``, ``input_team``,
        ``low`` and ``high`` (paired compliance difference from the baseline, ``{mean, lo, hi}``
        as fractions), ``swing`` = ``|high − low|`` of the means, ``low_factor``, ``high_factor``
        and ``baseline_compliance``. Rows are grouped by target (baseline order) and sorted by
        swing, largest first; for an availability target the differences are in availability.

    Raises
    ------
    InputError
        For a step outside (0, 1) or a target label the scenario does not have.
    """
    inputs, skipped = sensitivity_inputs(scenario, step)
    n, s = run_counts(scenario, replications, seed)
    # Inside a windowed change's window the inputs move from the values in force there: a
    # change that sets per_week itself would otherwise set it back (the engine applies the
    # window's own patch over the moved scenario).
    inside = [
        {other.name: other for other in sensitivity_inputs(o.scenario, step)[0]}
        for o in scenario.overlays
    ]
    variants = [scenario]
    for item in inputs:
        for side in ("low", "high"):
            moved = [
                getattr(window[item.name], side) if item.name in window else {} for window in inside
            ]
            sign = "−" if side == "low" else "+"
            variants.append(
                scenario.with_patch_everywhere(
                    getattr(item, side), moved, name=f"{item.name} {sign}{step:.0%}"
                )
            )
    if isinstance(targets, str):  # one label, not its letters
        targets = (targets,)
    if targets is not None:
        _check_targets(scenario, targets)
    runs = [
        run_figures(r)
        for r in simulate_all(
            variants,
            replications=n,
            seed=s,
            executor=executor,
            progress=progress,
            max_visits=max_visits,
        )
    ]
    base = runs[0]
    per_target: dict[Any, list[Row]] = {}
    for i, item in enumerate(inputs):
        for key, (row, kind, low, high) in _deltas(base, runs[1 + 2 * i], runs[2 + 2 * i]).items():
            if targets is not None and target_label(row) not in targets:
                continue
            figure = "availability" if kind == "availability" else "compliance"
            per_target.setdefault(key, []).append(
                {
                    **target_fields(row, kind),
                    "input": item.name,
                    "input_kind": item.kind,
                    "input_team": item.team,
                    "low": low.as_dict(),
                    "high": high.as_dict(),
                    "swing": _swing(low, high),
                    "low_factor": item.low_factor,
                    "high_factor": item.high_factor,
                    "baseline_compliance": row.get(figure),
                }
            )
    rows: list[Row] = []
    for group in per_target.values():
        rows.extend(sorted(group, key=lambda r: (r["swing"] is None, -(r["swing"] or 0.0))))
    return {
        "scenario": scenario.name,
        "replications": n,
        "seed": s,
        "step": step,
        "inputs": [item.as_dict() for item in inputs],
        "skipped": skipped,
        "baseline": base.document,
        "rows": rows,
    }


def _check_targets(scenario: Scenario, targets: Sequence[str]) -> None:
    known = [
        target_label(
            {
                "level": t.level,
                "service": t.service,
                "customer": t.customer,
                "priority": t.priority,
                "metric": t.metric,
            }
        )
        for t in sla_targets(scenario)
    ] + [
        target_label({"team": t.team, "kind": t.kind, "priority": t.priority, "metric": t.metric})
        for t in ola_targets(scenario)
    ]
    known += [f"{name} availability" for name, s in scenario.services.items() if s.availability]
    unknown = [t for t in targets if t not in known]
    if unknown:
        raise InputError.single(
            f"no target named {', '.join(repr(t) for t in unknown)}",
            f"targets of this scenario: {', '.join(known)}",
            file=scenario.source,
            path="--target",
        )
