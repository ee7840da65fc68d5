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
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures import Executor
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from simkit.analysis.verdict import verdict
from simkit.errors import InputError, Problem
from simkit.measure import (
    MeasureSpec,
    OlaTarget,
    Period,
    SlaTarget,
    TargetFigures,
    availability_outcomes,
    ola_outcomes,
    period_meets,
    sla_outcomes,
    target_figures,
    ticket_pauses,
)
from simkit.runner import DEFAULT_MAX_VISITS, Progress, Results, simulate
from simkit.scenario import Scenario
from simkit.scenario.overlay import parse_set, patch_for
from simkit.scenario.targets import availability_targets
from simkit.stats import Interval, mean_interval, paired_difference

__all__ = [
    "DEFAULT_CONFIDENCE",
    "RunFigures",
    "TargetRuns",
    "change_impact",
    "effect_words",
    "fmt_pp",
    "paired",
    "pp_digits",
    "run_figures",
    "simulate_all",
    "target_fields",
    "target_label",
]

DEFAULT_CONFIDENCE = 0.8
"""Confidence of the SLR verdict (share of periods that must meet the goal)."""

TargetKey = tuple[Any, ...]
Row = dict[str, Any]
_EMPTY = Interval(None, None, None)
_FRACTION = (0.0, 1.0)


# -- per-replication figures of one run ------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class TargetRuns:
    """One target's figures in one run, per replication (indexed by the run's own replication
    numbers, so two runs with the same seed line up; NaN where a figure is undefined, as in a
    failed replication).

    ``compliance`` is met / measured over the whole span (availability for an availability
    target) and ``share_met`` the share of the replication's full periods that met the target.
    For SLA and OLA/UC targets ``measured`` and ``met`` count tickets (visits) by replication and
    period; they are ``None`` for availability.
    """

    key: TargetKey
    kind: str
    row: Row
    compliance: np.ndarray
    share_met: np.ndarray
    periods: tuple[Period, ...]
    measured: np.ndarray | None
    met: np.ndarray | None
    ok: np.ndarray

    def period_compliance(self) -> np.ndarray:
        """Met / measured per replication and period (NaN where nothing was measured)."""
        if self.measured is None or self.met is None:
            raise ValueError(f"{self.kind} targets have no ticket counts per period")
        with np.errstate(divide="ignore", invalid="ignore"):
            share = self.met / self.measured
        return np.where(self.ok[:, None] & (self.measured > 0), share, np.nan)


@dataclass(frozen=True, eq=False)
class RunFigures:
    """A run's summary document and, per target, its per-replication figures."""

    results: Results
    document: dict[str, Any]
    spec: MeasureSpec
    targets: dict[TargetKey, TargetRuns]


def _sla_key(row: Mapping[str, Any]) -> TargetKey:
    return ("sla", row["level"], row["service"], row["customer"], row["priority"], row["metric"])


def _ola_key(row: Mapping[str, Any]) -> TargetKey:
    return ("ola", row["team"], row["kind"], row.get("priority"), row["metric"])


def target_label(row: Mapping[str, Any]) -> str:
    """A target as people name it: ``'payroll P1 resolve'``, ``'finance: payroll P1 resolve'``,
    ``'corporate P1 resolve'``, ``'apps OLA resolve'``, ``'payroll availability'``."""
    if "level" in row and row.get("level") is not None:
        if row["level"] == "corporate":
            return f"corporate {row['priority']} {row['metric']}"
        prefix = f"{row['customer']}: " if row["level"] == "customer" else ""
        return f"{prefix}{row['service']} {row['priority']} {row['metric']}"
    if row.get("team") is not None:
        priority = f" {row['priority']}" if row.get("priority") else ""
        return f"{row['team']} {str(row['kind']).upper()}{priority} {row['metric']}"
    return f"{row.get('service')} availability"


def run_figures(results: Results) -> RunFigures:
    """Per-replication figures of every SLA, OLA/UC and availability target of a run, measured
    exactly as its summary measures them, and the summary itself."""
    document = results.summary()
    spec = dataclasses.replace(results.measure_spec(), replications=results.replications)
    ok = np.ones(results.replications, dtype=bool)
    ok[[f.replication for f in results.failures]] = False
    targets: dict[TargetKey, TargetRuns] = {}
    if not results.succeeded:
        return RunFigures(results, document, spec, targets)
    tickets = results.service_tickets()
    attached = ticket_pauses(tickets, results.pauses, spec) if spec.sla else None
    for target, row in zip(spec.sla, document["sla"], strict=True):
        outcomes = sla_outcomes(tickets, attached, target, spec)
        key = _sla_key(row)
        targets[key] = _counted(key, "sla", row, target, target_figures(outcomes, spec), ok)
    for ola_target, row in zip(spec.ola, document["ola"], strict=True):
        outcomes = ola_outcomes(results.visits, ola_target, spec, tickets)
        key = _ola_key(row)
        targets[key] = _counted(key, "ola", row, ola_target, target_figures(outcomes, spec), ok)
    for a_target, row in zip(
        availability_targets(results.scenario), document["availability"], strict=True
    ):
        outcomes = availability_outcomes(results.outages, a_target, spec)
        key = ("availability", a_target.service)
        targets[key] = _available(key, row, outcomes, results.replications, ok)
    return RunFigures(results, document, spec, targets)


def _shares(numerator: np.ndarray, denominator: np.ndarray, ok: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        share = numerator / denominator
    return np.where(ok & (denominator > 0), share, np.nan)


def _counted(
    key: TargetKey,
    kind: str,
    row: Row,
    target: SlaTarget | OlaTarget,
    figures: TargetFigures,
    ok: np.ndarray,
) -> TargetRuns:
    full = np.array([p.full for p in figures.periods], dtype=bool)
    meets, defined = period_meets(
        figures.measured[:, full], figures.met[:, full], target.goal, target.small_sample
    )
    return TargetRuns(
        key=key,
        kind=kind,
        row=row,
        compliance=_shares(figures.met.sum(axis=1), figures.measured.sum(axis=1), ok),
        share_met=_shares(meets.sum(axis=1), defined.sum(axis=1), ok),
        periods=figures.periods,
        measured=figures.measured,
        met=figures.met,
        ok=ok,
    )


def _available(
    key: TargetKey, row: Row, outcomes: pa.Table, replications: int, ok: np.ndarray
) -> TargetRuns:
    """Availability per replication, (Σ agreed − Σ down) / Σ agreed over the span, and the share
    of full periods meeting the target."""

    def column(name: str) -> np.ndarray:
        return np.asarray(outcomes[name].to_numpy(zero_copy_only=False))

    replication = column("replication").astype(np.int64)
    agreed = np.bincount(replication, column("agreed_h"), minlength=replications)
    down = np.bincount(replication, column("down_h"), minlength=replications)
    judged = column("full").astype(bool) & outcomes["met"].is_valid().to_numpy(zero_copy_only=False)
    met = judged & np.asarray(pc.fill_null(outcomes["met"], False).to_numpy(zero_copy_only=False))
    return TargetRuns(
        key=key,
        kind="availability",
        row=row,
        compliance=_shares(agreed - down, agreed, ok),
        share_met=_shares(
            np.bincount(replication, met, minlength=replications),
            np.bincount(replication, judged, minlength=replications),
            ok,
        ),
        periods=(),
        measured=None,
        met=None,
        ok=ok,
    )


# -- paired differences and their words ------------------------------------------------------------


def paired(change: np.ndarray, baseline: np.ndarray) -> Interval:
    """Paired mean difference ``change − baseline`` of two fractions with its 95% t-interval
    (clipped to ±1), over the replications where both are defined (NaN marks an undefined
    value)."""
    both = np.isfinite(change) & np.isfinite(baseline)
    if not both.any():
        return _EMPTY
    delta = paired_difference(change[both], baseline[both])
    if delta.lo is None or delta.hi is None:
        return delta
    return Interval(delta.mean, max(delta.lo, -1.0), min(delta.hi, 1.0))


def pp_digits(*values: float) -> int:
    """Decimals for percentage points: one, or two when a non-zero value would show as 0.0."""
    small = [abs(v) * 100 for v in values if v != 0.0]
    return 2 if small and min(small) < 0.05 else 1


def fmt_pp(value: float, digits: int = 1, *, signed: bool = False) -> str:
    """A difference of fractions in percentage points: ``0.031`` → ``'3.1'`` (``'+3.1'`` signed,
    with a true minus sign)."""
    text = f"{value * 100:{'+' if signed else ''}.{digits}f}"
    return text.replace("-", "−")


def effect_words(delta: Interval, what: str = "compliance") -> tuple[str, str]:
    """The effect of a change from the interval of its paired difference, in words.

    Returns
    -------
    effect, words
        ``effect`` is ``improves`` (the interval lies above zero), ``worsens`` (below zero),
        ``none`` (it contains zero, or the runs are identical) or ``unknown`` (not measured in
        both runs, or a single replication); ``words`` reads e.g. ``'improves compliance by
        3.1 pp [1.9–4.3]'``.
    """
    mean, lo, hi = delta.mean, delta.lo, delta.hi
    if mean is None:
        return "unknown", f"{what} not measured in both runs"
    if mean == 0.0 and lo == 0.0 and hi == 0.0:
        return "none", f"no effect on {what}: identical in every replication"
    if lo is None or hi is None:
        return "unknown", f"{what} {fmt_pp(mean, signed=True)} pp (one replication: no interval)"
    d = max(pp_digits(mean, lo, hi), 2 if what == "availability" else 1)
    if lo > 0.0:
        return (
            "improves",
            f"improves {what} by {fmt_pp(mean, d)} pp [{fmt_pp(lo, d)}–{fmt_pp(hi, d)}]",
        )
    if hi < 0.0:
        return "worsens", (
            f"worsens {what} by {fmt_pp(-mean, d)} pp [{fmt_pp(-hi, d)}–{fmt_pp(-lo, d)}]"
        )
    return "none", (
        f"no detectable effect on {what} ({fmt_pp(mean, d, signed=True)} pp "
        f"[{fmt_pp(lo, d, signed=True)} to {fmt_pp(hi, d, signed=True)}])"
    )


def _slr(row_change: Row | None, row_base: Row | None, confidence: float) -> Row:
    def judged(row: Row | None) -> str | None:
        if row is None:
            return None
        p = row.get("p_period_met") or {}
        return verdict(p.get("lo"), p.get("hi"), confidence)

    before, after = judged(row_base), judged(row_change)
    flips = before is not None and after is not None and before != after
    return {"confidence": confidence, "baseline": before, "change": after, "flips": flips}


def target_fields(row: Row, kind: str) -> Row:
    """The fields naming a target in every row: kind, level, service, customer, team, priority,
    metric and its label."""
    return {
        "kind": kind,
        "level": row.get("level"),
        "service": row.get("service"),
        "customer": row.get("customer"),
        "team": row.get("team"),
        "priority": row.get("priority"),
        "metric": row.get("metric", "availability"),
        "label": target_label(row),
    }


def _row(
    base_row: Row | None,
    change_row: Row | None,
    kind: str,
    compliance: Interval,
    p_met: Interval,
    confidence: float,
    *,
    figure: str = "compliance",
) -> Row:
    shown = change_row if change_row is not None else base_row
    assert shown is not None
    effect, words = effect_words(compliance, figure)
    slr = _slr(change_row, base_row, confidence)
    verdict_text = words
    if slr["flips"]:
        verdict_text += (
            f"; at {confidence:.0%} confidence the target goes from {slr['baseline']} to "
            f"{slr['change']}"
        )
    if base_row is None:
        verdict_text = "a new target: only the change measures it"
        effect = "unknown"
    elif change_row is None:
        verdict_text = "the change removes this target"
        effect = "unknown"
    _, p_words = effect_words(p_met, "P(period meets goal)")
    return {
        **target_fields(shown, kind),
        "compliance_delta": compliance.as_dict(),
        "p_period_met_delta": p_met.as_dict(),
        "verdict": verdict_text,
        "effect": effect,
        "slr": slr,
        "baseline_compliance": (base_row or {}).get(figure),
        "change_compliance": (change_row or {}).get(figure),
        "words": f"{verdict_text}; {p_words}",
    }


def _comparison_rows(change: RunFigures, base: RunFigures, confidence: float) -> list[Row]:
    rows: list[Row] = []
    keys = list(base.targets) + [k for k in change.targets if k not in base.targets]
    for key in keys:
        b, c = base.targets.get(key), change.targets.get(key)
        if b is not None and c is not None:
            compliance = paired(c.compliance, b.compliance)
            p_met = paired(c.share_met, b.share_met)
        else:
            compliance = p_met = _EMPTY
        kind = key[0]
        rows.append(
            _row(
                b.row if b else None,
                c.row if c else None,
                kind,
                compliance,
                p_met,
                confidence,
                figure="availability" if kind == "availability" else "compliance",
            )
        )
    return rows


def _period_rows(change: RunFigures, base: RunFigures) -> list[Row]:
    """Per SLA target and reporting period: baseline and change compliance and their paired
    difference."""
    rows: list[Row] = []
    for key, b in base.targets.items():
        c = change.targets.get(key)
        if b.kind != "sla" or c is None or b.measured is None or c.measured is None:
            continue
        b_share, c_share = b.period_compliance(), c.period_compliance()
        c_index = {p.label: i for i, p in enumerate(c.periods)}
        for i, period in enumerate(b.periods):
            j = c_index.get(period.label)
            if j is None:
                continue
            measured = b.measured[:, i].any() or c.measured[:, j].any()
            if period.start >= base.spec.horizon_end and not measured:
                continue
            b_values, c_values = b_share[:, i], c_share[:, j]
            rows.append(
                {
                    "period": period.label,
                    "full": period.full,
                    **target_fields(b.row, "sla"),
                    "baseline_compliance": _interval(b_values),
                    "change_compliance": _interval(c_values),
                    "compliance_delta": paired(c_values, b_values).as_dict(),
                    "tickets_baseline": float(b.measured[:, i].sum() / max(int(b.ok.sum()), 1)),
                    "tickets_change": float(c.measured[:, j].sum() / max(int(c.ok.sum()), 1)),
                }
            )
    return rows


def _interval(values: np.ndarray) -> dict[str, float | None]:
    return mean_interval(values[np.isfinite(values)], bounds=_FRACTION).as_dict()


# -- running ---------------------------------------------------------------------------------------


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
    chosen = _changes(scenario, changes, sets, together)
    n = scenario.replications if replications is None else int(replications)
    s = scenario.seed if seed is None else int(seed)
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
