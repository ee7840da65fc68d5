"""Paired differences between a change and the baseline, per target and per period, and the
words that say what a change does (improves, worsens, no detectable effect).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np

from simkit.analysis.impact_figures import RunFigures, TargetRuns, target_label
from simkit.analysis.verdict import verdict
from simkit.measure.summary import compliance_interval
from simkit.stats import Interval, paired_difference

__all__ = [
    "SAME_SIGN_RUNS",
    "effect_words",
    "fmt_delta",
    "fmt_pp",
    "fmt_row_delta",
    "paired",
    "pp_digits",
    "target_fields",
]

Row = dict[str, Any]
_EMPTY = Interval(None, None, None)


SAME_SIGN_RUNS = 6
"""Replications that must all move by the same non-zero amount before that amount is taken as
shown: their t-interval has no width whatever their number, but only from six on is "every
replication moved the same way" significant at 95% (a sign test: 2 × 0.5⁶ = 3.1%). Fewer, and
the difference is given without an interval (figures that move in steps — P(period met) over
three months moves by thirds — often tie in two or three replications)."""


def paired(change: np.ndarray, baseline: np.ndarray) -> Interval:
    """Paired mean difference ``change − baseline`` of two fractions with its 95% t-interval
    (clipped to ±1), over the replications where both are defined (NaN marks an undefined
    value). Replications that all moved by the same non-zero amount give no interval unless
    there are at least :data:`SAME_SIGN_RUNS` of them."""
    both = np.isfinite(change) & np.isfinite(baseline)
    if not both.any():
        return _EMPTY
    delta = paired_difference(change[both], baseline[both])
    if delta.lo is None or delta.hi is None:
        return delta
    tied = math.isclose(delta.lo, delta.hi, rel_tol=0.0, abs_tol=1e-12) and delta.mean != 0.0
    if tied and int(both.sum()) < SAME_SIGN_RUNS:
        return Interval(delta.mean, None, None)
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


def fmt_delta(interval: Mapping[str, Any] | None, *, at_least: int = 1) -> str:
    """A paired difference in percentage points: ``'+3.1 pp [+1.9, +4.3]'``, with the digits
    :func:`effect_words` gives it (two where a non-zero value would show as 0.0; at least
    ``at_least``: 2 for availability), so that the figure and the words agree."""
    if not interval or interval.get("mean") is None:
        return "—"
    if interval["mean"] == 0.0 and interval.get("lo") == 0.0 and interval.get("hi") == 0.0:
        return "0 pp (identical)"
    values = [v for v in (interval.get("lo"), interval.get("hi")) if v is not None]
    digits = max(pp_digits(interval["mean"], *values), at_least)
    text = f"{fmt_pp(interval['mean'], digits, signed=True)} pp"
    if interval.get("lo") is None or interval.get("hi") is None:
        return text
    lo = fmt_pp(interval["lo"], digits, signed=True)
    hi = fmt_pp(interval["hi"], digits, signed=True)
    return f"{text} [{lo}, {hi}]"


def fmt_row_delta(row: Mapping[str, Any]) -> str:
    """A comparison row's compliance difference (:func:`fmt_delta`) with the digits its words
    have: at least two for an availability row."""
    return fmt_delta(
        row["compliance_delta"], at_least=2 if row.get("kind") == "availability" else 1
    )


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
        d = max(pp_digits(mean), 2 if what == "availability" else 1)
        return "unknown", (
            f"{what} {fmt_pp(mean, d, signed=True)} pp (no interval: one replication, or a few "
            "that all moved by exactly this much; run more replications)"
        )
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
    """Per SLA target and reporting period: baseline and change compliance, their paired
    difference and the replications it is over (those measuring a ticket in the period in
    both runs: in a thin or partial period, fewer than the run's)."""
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
                    "baseline_compliance": _counted(b, i),
                    "change_compliance": _counted(c, j),
                    "compliance_delta": paired(c_values, b_values).as_dict(),
                    "replications": int(np.sum(np.isfinite(c_values) & np.isfinite(b_values))),
                    "tickets_baseline": float(b.measured[:, i].sum() / max(int(b.ok.sum()), 1)),
                    "tickets_change": float(c.measured[:, j].sum() / max(int(c.ok.sum()), 1)),
                }
            )
    return rows


def _counted(figures: TargetRuns, period: int) -> dict[str, float | None]:
    """A period's compliance over the replications that measured it, as ``simulate`` gives it
    (:func:`simkit.measure.summary.compliance_interval`; failed replications left out)."""
    assert figures.measured is not None and figures.met is not None
    ok = figures.ok
    return compliance_interval(
        np.where(ok, figures.measured[:, period], 0), np.where(ok, figures.met[:, period], 0)
    )
