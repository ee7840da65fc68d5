"""Change impact: each change (or a whole Service Improvement Plan) against the baseline.

The baseline and every change run with the same seed, so replication *k* of each draws the same
random numbers wherever the change leaves a stream alone (common random numbers, DESIGN.md
"Randomness"). A difference is therefore taken replication by replication before it is averaged
(:func:`simkit.stats.paired_difference`): its interval is far narrower than the difference of two
independent intervals, and a change that changes nothing gives a difference of exactly zero.

Per SLA, OLA and UC target two differences are reported, change − baseline:

- ``compliance_delta``: per replication, met / measured over the whole measured span;
- ``p_period_met_delta``: per replication, the share of its *full* periods that met the goal.

Availability targets are compared the same way: per replication, availability over the
measured span and the share of full periods meeting the target.

The parts: :mod:`~simkit.analysis.impact_figures` (per-replication figures of a run) and
:mod:`~simkit.analysis.impact_paired` (paired differences and their words); this module runs
the baseline and the changes.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from concurrent.futures import Executor
from dataclasses import dataclass
from typing import Any

from simkit.analysis.impact_figures import RunFigures, TargetRuns, run_figures, target_label
from simkit.analysis.impact_figures import TargetKey as TargetKey
from simkit.analysis.impact_paired import (
    _comparison_rows,
    _period_rows,
    effect_words,
    fmt_delta,
    fmt_pp,
    fmt_row_delta,
    paired,
    pp_digits,
    target_fields,
)
from simkit.errors import InputError, Problem
from simkit.runner import DEFAULT_MAX_VISITS, Progress, Results, run_counts, simulate
from simkit.scenario import Scenario
from simkit.scenario.overlay import check_set_path, parse_set, patch_for

__all__ = [
    "DEFAULT_CONFIDENCE",
    "RunFigures",
    "TargetRuns",
    "change_impact",
    "effect_words",
    "fmt_delta",
    "fmt_pp",
    "fmt_row_delta",
    "paired",
    "pp_digits",
    "run_figures",
    "simulate_all",
    "target_fields",
    "target_label",
]

DEFAULT_CONFIDENCE = 0.8
"""Confidence of the SLR verdict (share of periods that must meet the goal)."""
Row = dict[str, Any]


def simulate_all(
    scenarios: Sequence[Scenario],
    *,
    replications: int,
    seed: int,
    executor: Executor | None = None,
    progress: Progress | None = None,
    max_visits: int = DEFAULT_MAX_VISITS,
) -> list[Results]:
    """Simulate several scenarios with the same replications and seed (common random numbers);
    ``progress(done, total)`` counts replications over all of them."""
    total = replications * len(scenarios)
    results: list[Results] = []
    for k, scenario in enumerate(scenarios):
        step: Progress | None = None
        if progress is not None:
            offset = k * replications

            def step(done: int, _: int, offset: int = offset) -> None:
                progress(offset + done, total)

        results.append(
            simulate(
                scenario,
                replications=replications,
                seed=seed,
                executor=executor,
                progress=step,
                max_visits=max_visits,
            )
        )
    return results


@dataclass(frozen=True)
class _Change:
    name: str
    scenario: Scenario
    info: Row


def _changes(
    scenario: Scenario,
    names: Sequence[str],
    sets: Iterable[str | tuple[str, Any]],
    together: bool,
) -> list[_Change]:
    problems: list[Problem] = []
    for name in names:
        try:
            scenario.apply(name)
        except InputError as error:
            problems.extend(error.problems)
    pairs = [parse_set(item) for item in sets]
    if problems:
        raise InputError(problems)
    if not names and not pairs:
        raise InputError.single(
            "no change to compare with the baseline",
            "name one with --change NAME (a change of the scenario) or --set PATH=VALUE",
            file=scenario.source,
            path="--change",
        )

    def described(name: str) -> Row:
        change = scenario.changes[name]
        window = change.window
        return {
            "name": name,
            "description": change.description,
            "window": (
                {"from": window.from_.isoformat(), "until": window.until.isoformat()}
                if window
                else None
            ),
        }

    def with_sets(base: Scenario, chosen: Sequence[tuple[str, Any]]) -> Scenario:
        for path, value in chosen:
            check_set_path(base, path)
            base = base.with_patch(patch_for(path, value), name=path)
        return base

    if together:
        parts = [described(n) for n in names] + [
            {"name": path, "set": {"path": path, "value": value}} for path, value in pairs
        ]
        plan = with_sets(scenario.apply(*names), pairs)
        title = " + ".join(p["name"] for p in parts)
        return [_Change(title, plan, {"plan": parts})]
    out = [_Change(n, scenario.apply(n), described(n)) for n in names]
    for path, value in pairs:
        out.append(
            _Change(
                path,
                with_sets(scenario, [(path, value)]),
                {"name": path, "set": {"path": path, "value": value}},
            )
        )
    return out


def change_impact(
    scenario: Scenario,
    changes: Sequence[str],
    *,
    together: bool = False,
    sets: Sequence[str | tuple[str, Any]] = (),
    replications: int | None = None,
    seed: int | None = None,
    executor: Executor | None = None,
    progress: Progress | None = None,
    confidence: float = DEFAULT_CONFIDENCE,
    max_visits: int = DEFAULT_MAX_VISITS,
) -> dict[str, Any]:
    """Each change against the baseline, paired replication by replication.

    Parameters
    ----------
    scenario
        The baseline.
    changes
        Names of changes defined in the scenario (permanent or windowed).
    together
        Apply every change (and every ``sets`` item) at once as one Service Improvement Plan,
        compared with the baseline as a whole and period by period.
    sets
        Ad-hoc changes ``'path=value'`` (or ``(path, value)``), each named after its path.
    replications, seed
        For the baseline and every change alike (default: the baseline scenario's).
    executor, progress
        As for :func:`simkit.simulate`; ``progress`` counts replications over all runs.
    confidence
        Share of periods the SLR verdict asks for (a change may flip it).
    max_visits
        The size guard of :func:`simkit.simulate`.

    Returns
    -------
    dict
        ``{"baseline": <simulate document>, "changes": [{"name", "rows", "periods",
        "change_document", …}]}``. Each row has ``service, priority, metric,
        compliance_delta {mean, lo, hi}, p_period_met_delta {mean, lo, hi}, verdict`` (differences
        change − baseline as fractions) and, besides, ``kind`` (sla, ola, availability),
        ``level, customer, team, label, effect, slr, paired, baseline_compliance,
        change_compliance, words``. ``periods`` rows give, per SLA target and period, the
        baseline and change compliance and their paired difference.

    Raises
    ------
    InputError
        For unknown change names (all of them listed), a malformed ``sets`` item, or no change.
    """
    if not 0.0 < confidence < 1.0:
        raise InputError.single(
            f"confidence must be between 0 and 1, got {confidence!r}",
            "e.g. --confidence 80%",
            path="--confidence",
        )
    if isinstance(changes, str):  # one name, not its letters
        changes = (changes,)
    if isinstance(sets, str):
        sets = (sets,)
    chosen = _changes(scenario, changes, sets, together)
    n, s = run_counts(scenario, replications, seed)
    runs = simulate_all(
        [scenario, *(c.scenario for c in chosen)],
        replications=n,
        seed=s,
        executor=executor,
        progress=progress,
        max_visits=max_visits,
    )
    base = run_figures(runs[0])
    entries: list[Row] = []
    for change, results in zip(chosen, runs[1:], strict=True):
        figures = run_figures(results)
        entries.append(
            {
                "name": change.name,
                **{k: v for k, v in change.info.items() if k != "name"},
                "rows": _comparison_rows(figures, base, confidence),
                "periods": _period_rows(figures, base),
                "change_document": figures.document,
            }
        )
    return {
        "scenario": scenario.name,
        "replications": n,
        "seed": s,
        "confidence": confidence,
        "together": together,
        "baseline": base.document,
        "changes": entries,
    }
