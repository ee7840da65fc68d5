"""One SLA target measured in one run: its period values, achievable target, P(period meets goal)
and the team that limits it.

The definitions are those of :mod:`simkit.analysis.targets`: a period value is the smallest target
that (replication, full period) would have met by the contract's rule, the achievable target the
*c*-quantile of the period values.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from simkit.analysis.verdict import check_confidence
from simkit.measure import (
    MeasureSpec,
    SlaTarget,
    TargetFigures,
    period_meets,
    sla_outcomes,
    target_figures,
    ticket_pauses,
)
from simkit.measure.clock import ItemPauses, instants
from simkit.runner import Results
from simkit.stats import clustered_wilson_interval, mean_interval

__all__ = [
    "NO_TICKETS_NOTE",
    "TargetAssessment",
    "achievable_interval",
    "assess_targets",
    "limiting_teams",
    "period_values",
    "smallest_met",
]

_COUNT_SLACK = 1e-9
_SETTLED = ("met", "breached")

NO_TICKETS_NOTE = "no ticket was measured for this target in any full period: nothing to bound"
"""The note of a target whose full periods held no ticket of it (a service without volume)."""


def _settled(outcomes: pa.Table) -> np.ndarray:
    """Met or breached (measured), as opposed to still open."""
    mask = pc.fill_null(pc.is_in(outcomes["status"], value_set=pa.array(_SETTLED)), False)
    return np.asarray(mask.to_numpy(zero_copy_only=False), dtype=bool)


def smallest_met(sorted_values: np.ndarray, share: float) -> float:
    """The smallest value ``s`` with at least ``share`` of ``sorted_values`` at or below it.

    This is ``numpy.quantile(values, share, method="inverted_cdf")`` computed on counts, so that
    it agrees with :func:`simkit.measure.period_meets` when ``share × n`` is a whole number
    (floating rounding can otherwise pick the next order statistic).

    Parameters
    ----------
    sorted_values
        Ascending values (``+inf`` allowed), at least one.
    share
        Between 0 and 1; ``0`` gives ``0.0`` (any value meets a goal of 0).
    """
    n = sorted_values.size
    needed = math.ceil(n * share - _COUNT_SLACK)
    if needed <= 0:
        return 0.0
    return float(sorted_values[min(needed, n) - 1])


INTERVAL_MIN_REPLICATIONS = 3
"""Fewest replications the achievable target's interval is given for."""


def achievable_interval(values: np.ndarray, share: float) -> tuple[float | None, float | None]:
    """A 95% interval for the achievable target (:func:`smallest_met` of the period values), by
    Woodruff's method for quantiles of clustered samples: the share of period values at or below
    the achievable target gets the clustered Wilson interval of
    :func:`simkit.stats.clustered_wilson_interval` (a replication's periods are correlated), and
    the interval's ends are the period values at those shares, one rank further out each side
    for the values' discreteness (coverage 93.5–99% by simulation for 5–20 replications of 3–13
    periods; 88–92% for 5 replications of 90 daily periods, where the design effect rests on few
    replications). ``values`` is ``(replications, full periods)`` with ``nan`` for periods
    without a value; ``(None, None)`` below :data:`INTERVAL_MIN_REPLICATIONS` replications (the
    correlation of one replication's periods cannot be told), and the upper end ``None`` where
    it lies beyond the largest value (or is infinite)."""
    if values.shape[0] < INTERVAL_MIN_REPLICATIONS:
        return None, None
    present = ~np.isnan(values)
    ordered = np.sort(values[present])
    n = ordered.size
    if n == 0:
        return None, None
    reached = smallest_met(ordered, share)
    below = np.sum(present & (values <= reached), axis=1)
    interval = clustered_wilson_interval(below, present.sum(axis=1)).as_dict()
    pooled = float(below.sum() / n)
    if interval["lo"] is None or interval["hi"] is None:
        return None, None
    low_rank = math.floor(n * (share - (pooled - interval["lo"])) + _COUNT_SLACK)
    high_rank = math.ceil(n * (share + (interval["hi"] - pooled)) - _COUNT_SLACK) + 1
    lo = float(ordered[low_rank - 1]) if low_rank >= 1 else 0.0
    hi = float(ordered[high_rank - 1]) if high_rank <= n else math.inf
    return (lo if math.isfinite(lo) else None), (hi if math.isfinite(hi) else None)


def period_values(outcomes: pa.Table, figures: TargetFigures, target: SlaTarget) -> np.ndarray:
    """The smallest target each (replication, full period) would have met.

    Parameters
    ----------
    outcomes
        The target's outcome table (:func:`simkit.measure.sla_outcomes`).
    figures
        The same outcomes counted by :func:`simkit.measure.target_figures`.
    target
        The target: its goal and small-sample rule decide the rank.

    Returns
    -------
    numpy.ndarray
        Shape ``(replications, full periods)``; ``nan`` where the period measured no ticket and
        has no small-sample rule (its compliance is undefined), ``0.0`` where any target meets
        it (a thin period allowed at least as many breaches as it had tickets), ``inf`` where the
        deciding ticket was breached while still open.
    """
    full = np.array([p.full for p in figures.periods], dtype=bool)
    counts = figures.measured[:, full]
    replications, n_full = counts.shape
    values = np.full((replications, n_full), np.nan)
    if n_full == 0:
        return values
    column = np.full(len(figures.periods), -1, dtype=np.int64)
    column[full] = np.arange(n_full)
    labels = pa.array([p.label for p in figures.periods], pa.string())
    period = np.asarray(
        pc.fill_null(pc.index_in(outcomes["period"], value_set=labels), -1).to_numpy(
            zero_copy_only=False
        ),
        np.int64,
    )
    measured = _settled(outcomes) & (period >= 0)
    measured[measured] = column[period[measured]] >= 0
    replication = np.asarray(outcomes["replication"].to_numpy(zero_copy_only=False), np.int64)
    key = replication[measured] * n_full + column[period[measured]]
    times = np.asarray(outcomes["time_h"].to_numpy(zero_copy_only=False), np.float64)[measured]
    order = np.lexsort((times, key))
    times = times[order]
    n = counts.ravel()
    offsets = np.concatenate([[0], np.cumsum(n)[:-1]])
    needed = np.ceil(n * target.goal - _COUNT_SLACK).astype(np.int64)
    rule = target.small_sample
    if rule is not None:
        thin = n < rule.below
        needed = np.where(thin, np.minimum(needed, n - rule.max_breaches), needed)
    needed = np.minimum(needed, n)
    flat = np.full(n.size, np.nan)
    anything = needed <= 0
    flat[anything] = 0.0
    ranked = ~anything & (n > 0)
    flat[ranked] = times[offsets[ranked] + needed[ranked] - 1]
    if rule is None or not n.any():
        # No ticket in a period: no value, unless a small-sample rule makes the period met at
        # any target — and that only where some period measured something (no evidence, no
        # figure, as :func:`simkit.measure.summary.period_meets` has it).
        flat[n == 0] = np.nan
    return flat.reshape(replications, n_full)


@dataclass(frozen=True)
class TargetAssessment:
    """One SLA target measured in one run: what the negotiation needs of it."""

    target: SlaTarget
    achievable_within_h: float | None
    """``None`` when no full period was measured or the quantile is infinite."""
    achievable_interval: tuple[float | None, float | None]
    """95% interval of the achievable target (Woodruff's, on the clustered Wilson interval:
    :func:`achievable_interval`); ``(None, None)`` where there is none."""
    achievable_goal: float | None
    """Mean compliance at the proposed target."""
    p_period_met: dict[str, float | None]
    note: str | None
    measured_keys: np.ndarray
    """``replication × stride + ticket_id`` of the measured tickets (for the limiting team)."""


def _alive(results: Results) -> np.ndarray:
    failed = {f.replication for f in results.failures}
    return np.array([k not in failed for k in range(results.replications)], dtype=bool)


def _full_spec(results: Results) -> MeasureSpec:
    """The run's measured span over every replication id (failed ones are dropped later)."""
    spec: MeasureSpec = results.measure_spec()
    return dataclasses.replace(spec, replications=results.replications)


def _stride(results: Results) -> int:
    if results.tickets.num_rows == 0:
        return 1
    return int(pc.max(results.tickets["ticket_id"]).as_py()) + 1


def _assess(
    target: SlaTarget,
    results: Results,
    tickets: pa.Table,
    attached: ItemPauses,
    spec: MeasureSpec,
    confidence: float,
    alive: np.ndarray,
) -> TargetAssessment:
    outcomes = sla_outcomes(tickets, attached, target, spec)
    figures = target_figures(outcomes, spec)
    full = np.array([p.full for p in figures.periods], dtype=bool)
    meets, defined = period_meets(
        figures.measured[alive][:, full],
        figures.met[alive][:, full],
        target.goal,
        target.small_sample,
    )
    p = clustered_wilson_interval(meets.sum(axis=1), defined.sum(axis=1)).as_dict()
    measured, met = figures.measured[alive].sum(axis=1), figures.met[alive].sum(axis=1)
    counted = measured > 0
    goal = mean_interval(met[counted] / measured[counted], bounds=(0.0, 1.0)).mean
    matrix = period_values(outcomes, figures, target)[alive]
    values = matrix.ravel()
    values = np.sort(values[~np.isnan(values)])
    note = None
    achievable: float | None = None
    interval: tuple[float | None, float | None] = (None, None)
    if values.size == 0 and full.any() and not figures.measured[alive][:, full].any():
        note = NO_TICKETS_NOTE
    elif values.size == 0:
        note = "no full period was measured: lengthen the horizon"
    else:
        achievable = smallest_met(values, confidence)
        if not math.isfinite(achievable):
            achievable = None
            note = (
                "too many tickets were still open at the end of the run to bound the target: "
                "lengthen the drain, or the target is far out of reach"
            )
        else:
            interval = achievable_interval(matrix, confidence)
            note = _slowest_note(figures.measured[alive][:, full], target)
    done = _settled(outcomes)
    ids = np.asarray(outcomes["ticket_id"].to_numpy(zero_copy_only=False), np.int64)[done]
    reps = np.asarray(outcomes["replication"].to_numpy(zero_copy_only=False), np.int64)[done]
    return TargetAssessment(
        target=target,
        achievable_within_h=achievable,
        achievable_interval=interval,
        achievable_goal=goal,
        p_period_met=p,
        note=note,
        measured_keys=reps * _stride(results) + ids,
    )


def _slowest_note(counts: np.ndarray, target: SlaTarget) -> str | None:
    """A warning where most periods' value is their slowest ticket: fewer tickets a period than
    1/(1 − goal) leave no breach to spare, so the achievable target follows single tickets (a
    weekend in a queue) and moves in jumps from run to run."""
    measured = counts[counts > 0]
    if measured.size == 0 or not 0 < target.goal < 1:
        return None  # a goal of 100% is decided by the slowest ticket whatever the volume
    slowest = np.ceil(measured * target.goal - _COUNT_SLACK) >= measured
    if target.small_sample is not None or slowest.mean() < 0.5:
        return None
    return (
        f"each period's value is its slowest ticket (a median of {int(np.median(measured))} "
        f"tickets a period, too few for a {target.goal:.0%} goal to spare one): the achievable "
        "target follows single tickets and moves in jumps — read its interval"
    )


def _unmeasured(target: SlaTarget, note: str) -> TargetAssessment:
    return TargetAssessment(
        target,
        None,
        (None, None),
        None,
        {"mean": None, "lo": None, "hi": None},
        note,
        np.zeros(0, np.int64),
    )


def assess_targets(
    results: Results, confidence: float, targets: Sequence[SlaTarget] | None = None
) -> list[TargetAssessment]:
    """Achievable target, compliance and P(period meets goal) of SLA targets in one run.

    Parameters
    ----------
    results
        A finished run.
    confidence
        Share of periods the achievable target must be met in.
    targets
        The targets to assess (default: every SLA target of the run's scenario).
    """
    check_confidence(confidence)
    spec = _full_spec(results)
    chosen = spec.sla if targets is None else tuple(targets)
    if results.succeeded == 0:
        return [_unmeasured(t, "every replication failed") for t in chosen]
    tickets = results.service_tickets()
    attached = ticket_pauses(tickets, results.pauses, spec)
    alive = _alive(results)
    return [_assess(t, results, tickets, attached, spec, confidence, alive) for t in chosen]


def limiting_teams(results: Results, assessments: Sequence[TargetAssessment]) -> list[str | None]:
    """For each assessed target, the team whose queue held its measured tickets longest.

    Waiting is wall-clock time from assignment to pickup (to abandonment, or to the end of the
    run, for a visit never picked up), summed over the visits of the target's measured tickets
    to teams (suppliers never queue); a response target counts only each ticket's first visit.
    Without any waiting the team with the most such visits is chosen. ``None`` when the target
    measured no ticket.
    """
    visits = results.visits
    if visits.num_rows == 0:
        return [None for _ in assessments]
    is_team = np.asarray(
        pc.fill_null(pc.equal(visits["kind"], "team"), False).to_numpy(zero_copy_only=False),
        dtype=bool,
    )
    team_codes = pc.dictionary_encode(visits["team"]).combine_chunks()
    names = team_codes.dictionary.to_pylist()
    team = np.asarray(team_codes.indices.to_numpy(zero_copy_only=False), np.int64)
    key = np.asarray(visits["replication"].to_numpy(zero_copy_only=False), np.int64) * _stride(
        results
    ) + np.asarray(visits["ticket_id"].to_numpy(zero_copy_only=False), np.int64)
    first = np.asarray(visits["seq"].to_numpy(zero_copy_only=False), np.int64) == 0
    assigned = instants(visits["assigned_at"], "visits.assigned_at")
    picked = instants(visits["started_at"], "visits.started_at")
    ended = instants(visits["finished_at"], "visits.finished_at")
    picked = np.where(np.isnat(picked), ended, picked)
    picked = np.where(np.isnat(picked), results.measure_spec().observed_until, picked)
    wait_h = np.maximum((picked - assigned) / np.timedelta64(3_600_000_000, "us"), 0.0)
    wait_h = np.nan_to_num(wait_h, nan=0.0)
    out: list[str | None] = []
    for assessment in assessments:
        mine = is_team & np.isin(key, assessment.measured_keys)
        if assessment.target.metric == "respond":
            mine &= first
        if not mine.any():
            out.append(None)
            continue
        waiting = np.bincount(team[mine], weights=wait_h[mine], minlength=len(names))
        if waiting.max() <= 0.0:
            waiting = np.bincount(team[mine], minlength=len(names)).astype(np.float64)
        out.append(str(names[int(np.argmax(waiting))]))
    return out
