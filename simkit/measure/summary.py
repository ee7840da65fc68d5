"""Figures over replications: the ``sla``, ``ola``, ``teams`` and ``periods`` rows of a run or a
history, exactly as the ``simulate --json`` contract names them — all at once
(:func:`summarize`), or the SLA half (:func:`summarize_sla`) and the OLA/UC and team half
(:func:`summarize_teams`) on their own.

Definitions (DESIGN, "Figures over replications"):

- ``compliance`` is met / measured within each replication over the whole horizon; ``mean`` is the
  mean over replications with a t-based 95% interval, widened where narrower to the pooled items'
  clustered Wilson interval (:func:`compliance_interval`; ``lo``/``hi`` null with fewer than two
  replications). A replication in which a target measured no ticket has no compliance and is left
  out of the mean.
- ``p_period_met`` is the share of (replication, *full* period) pairs meeting the goal, with a
  Wilson 95% interval clustered by replication (:func:`simkit.stats.clustered_wilson_interval`). A period with fewer than ``small_sample.below`` measured tickets also meets
  the target when it has at most ``small_sample.max_breaches`` breaches; a period with no measured
  ticket meets it under a small-sample rule and is left out otherwise (its compliance is undefined);
  a target that measured no item at all, in any full period, has no ``p_period_met``.
- ``tickets`` and ``open`` are means per replication; ``mean_h`` is the mean of the finite measured
  times; ``quantiles_h`` are pooled over replications with
  ``numpy.quantile(method="inverted_cdf")``, an item breached while open counting as +∞ — an
  infinite quantile is reported as ``null``.

Every number is a plain Python ``float``/``int``/``bool`` or ``None`` (never NaN), ready for
``json.dumps(..., allow_nan=False)``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from simkit.measure.columns import ticket_columns, visit_columns
from simkit.measure.periods import Period, period_positions, period_table
from simkit.measure.sla import (
    BREACHED,
    OPEN,
    STATUSES,
    Outcomes,
    measure_olas,
    measure_sla,
)
from simkit.measure.targets import MeasureSpec, OlaTarget, SlaTarget, SmallSample
from simkit.stats import Interval, clustered_wilson_interval, mean_interval

__all__ = [
    "QUANTILES",
    "TargetFigures",
    "compliance_interval",
    "period_meets",
    "sla_identity",
    "summarize",
    "summarize_sla",
    "summarize_teams",
    "target_figures",
]

QUANTILES = ("50", "80", "90", "95")
_QUANTILE_LEVELS = np.array([0.5, 0.8, 0.9, 0.95])
_WAIT_LEVEL = np.array([0.9])
_US_PER_HOUR = 3_600_000_000
_FRACTION = (0.0, 1.0)
_GOAL_TOLERANCE = 1e-12

Row = dict[str, Any]


def _number(value: float | np.floating[Any] | None) -> float | None:
    if value is None:
        return None
    number = float(value)
    return number if np.isfinite(number) else None


def period_meets(
    measured: np.ndarray,
    met: np.ndarray,
    goal: float,
    small_sample: SmallSample | None,
) -> tuple[np.ndarray, np.ndarray]:
    """Whether each period met its target, by the contract's rule.

    Parameters
    ----------
    measured, met
        Measured and met ticket counts per period (any shape, same shape).
    goal
        The share that must be met.
    small_sample
        The contract's rule for thin periods, if any.

    Returns
    -------
    meets, defined
        Boolean arrays: ``defined`` is false for a period without measured tickets and without a
        small-sample rule (its compliance is undefined), and ``meets`` is false there. When no
        period measured anything the rule does not apply: nothing is defined.
    """
    measured = np.asarray(measured, dtype=np.int64)
    met = np.asarray(met, dtype=np.int64)
    with np.errstate(divide="ignore", invalid="ignore"):
        meets = met / np.maximum(measured, 1) >= goal - _GOAL_TOLERANCE
    defined = measured > 0
    if small_sample is not None and measured.any():
        # Not one item in any period: the rule would make every period "met" by having
        # nothing to measure. No evidence is no figure.
        # A relief for thin periods, as contracts write it ("deemed met if no more than N
        # breach"): it never fails a period that meets the goal.
        thin = measured < small_sample.below
        meets |= thin & (measured - met <= small_sample.max_breaches)
        defined |= thin
    return meets & defined, defined


@dataclass(frozen=True, eq=False)
class TargetFigures:
    """One target's outcomes counted by replication and period.

    ``measured`` and ``met`` have shape ``(replications, len(periods))``; open items have no
    period and are counted per replication in ``open_per_replication``; ``times`` holds the
    measured times pooled over replications (+∞ for items breached while open).
    """

    periods: tuple[Period, ...]
    measured: np.ndarray
    met: np.ndarray
    open_per_replication: np.ndarray
    times: np.ndarray


def _count(
    periods: tuple[Period, ...],
    replication: np.ndarray,
    status: np.ndarray,
    period: np.ndarray,
    time_h: np.ndarray,
    replications: int,
) -> TargetFigures:
    """Outcomes counted by replication and period (``period`` indexes ``periods``, −1 for
    none); ``status`` codes as :data:`~simkit.measure.sla.MET` and friends."""
    if replication.size and (replication.min() < 0 or replication.max() >= replications):
        raise ValueError(
            f"replication ids must be 0 … {replications - 1} (spec.replications = "
            f"{replications}), found {replication.min()} … {replication.max()}"
        )
    judged = status != OPEN
    counted = judged & (period >= 0)
    cell = replication[counted].astype(np.int64) * len(periods) + period[counted]
    breached = status[counted] == BREACHED
    # two counts per cell: met, then breached
    by_status = np.bincount(2 * cell + breached, minlength=2 * replications * len(periods))
    met_breached = by_status.reshape(replications, len(periods), 2)
    measured = met_breached.sum(axis=2)
    met = met_breached[:, :, 0]
    open_items = np.bincount(replication[~judged], minlength=replications)
    return TargetFigures(periods, measured, met, open_items, time_h[judged])


def target_figures(outcomes: pa.Table, spec: MeasureSpec) -> TargetFigures:
    """Count an outcome table (from :func:`sla_outcomes` / :func:`ola_outcomes`) by replication
    and period of :func:`period_table`.

    Raises
    ------
    ValueError
        When a replication id lies outside ``0 … spec.replications − 1``.
    """
    periods = tuple(period_table(spec))
    replication = np.asarray(outcomes["replication"].to_numpy(zero_copy_only=False), np.int64)
    codes = pc.index_in(outcomes["status"], value_set=pa.array(STATUSES))
    status = np.asarray(pc.fill_null(codes, OPEN).to_numpy(zero_copy_only=False), np.int64)
    labels = pa.array([p.label for p in periods], pa.string())
    index = pc.fill_null(pc.index_in(outcomes["period"], value_set=labels), -1)
    period = np.asarray(index.to_numpy(zero_copy_only=False), np.int64)
    time_h = np.asarray(outcomes["time_h"].to_numpy(zero_copy_only=False), np.float64)
    return _count(periods, replication, status, period, time_h, spec.replications)


def _figures(
    outcomes: Outcomes, replication: np.ndarray, periods: tuple[Period, ...], spec: MeasureSpec
) -> TargetFigures:
    """:func:`target_figures` of outcomes held as arrays (``replication`` of their rows)."""
    return _count(
        periods,
        replication,
        outcomes.status,
        period_positions(outcomes.stop_at, periods),
        outcomes.time_h,
        spec.replications,
    )


def _order_statistics(values: np.ndarray, levels: np.ndarray) -> np.ndarray:
    """``numpy.quantile(values, levels, method="inverted_cdf")`` of a non-empty array without
    NaN: the level-*q* quantile is the ⌈n·q⌉-th smallest value. A partition at those ranks
    puts each in its place without sorting the rest (for the four levels of a run's 200,000
    times, about a third of the time of a sort)."""
    ranks = np.maximum(np.ceil(values.size * levels) - 1, 0).astype(np.intp)
    chosen: np.ndarray = np.partition(values, ranks)[ranks]
    return chosen


def _quantiles(times: np.ndarray) -> dict[str, float | None]:
    if times.size == 0:
        return dict.fromkeys(QUANTILES)
    values = _order_statistics(times, _QUANTILE_LEVELS)
    return {key: _number(v) for key, v in zip(QUANTILES, values, strict=True)}


def compliance_interval(measured: np.ndarray, met: np.ndarray) -> dict[str, float | None]:
    """Mean and interval over the replications (rows) that measured at least one item.

    The t-interval of the replications' shares, widened where needed to the Wilson interval of
    their pooled items (clustered by replication): replications that all met every ticket — or
    the same share — have no spread, and their t-interval no width, though a few dozen tickets
    cannot show a share of exactly 100% (its coverage fell to 10% at 5 × 20 tickets of 99.9%).
    """
    counted = measured > 0
    shares = met[counted] / measured[counted]
    spread = mean_interval(shares, bounds=_FRACTION)
    if spread.lo is None or spread.hi is None:
        return spread.as_dict()
    pooled = clustered_wilson_interval(met[counted], measured[counted])
    assert pooled.lo is not None and pooled.hi is not None
    return Interval(spread.mean, min(spread.lo, pooled.lo), max(spread.hi, pooled.hi)).as_dict()


def _common_figures(
    figures: TargetFigures, goal: float, small_sample: SmallSample | None, replications: int
) -> Row:
    measured = figures.measured.sum(axis=1)
    full = np.array([p.full for p in figures.periods], dtype=bool)
    meets, defined = period_meets(
        figures.measured[:, full], figures.met[:, full], goal, small_sample
    )
    finite = figures.times[np.isfinite(figures.times)]
    return {
        "tickets": float(measured.sum() / replications),
        "open": float(figures.open_per_replication.sum() / replications),
        "compliance": compliance_interval(measured, figures.met.sum(axis=1)),
        "p_period_met": clustered_wilson_interval(meets.sum(axis=1), defined.sum(axis=1)).as_dict(),
        "mean_h": _number(finite.mean()) if finite.size else None,
        "quantiles_h": _quantiles(figures.times),
    }


def sla_identity(target: SlaTarget) -> Row:
    """The fields that name an SLA target in every row about it."""
    return {
        "level": target.level,
        "service": target.service,
        "customer": target.customer,
        "priority": target.priority,
        "metric": target.metric,
        "within_h": float(target.within_h),
        "calendar": target.calendar_name,
        "goal": float(target.goal),
    }


def _sla_row(target: SlaTarget, figures: TargetFigures, replications: int) -> Row:
    return {
        **sla_identity(target),
        **_common_figures(figures, target.goal, target.small_sample, replications),
    }


def _ola_row(target: OlaTarget, figures: TargetFigures, replications: int) -> Row:
    return {
        "team": target.team,
        "kind": target.kind,
        "priority": target.priority,
        "metric": target.metric,
        "within_h": float(target.within_h),
        "calendar": target.calendar_name,
        "goal": float(target.goal),
        **_common_figures(figures, target.goal, target.small_sample, replications),
    }


def _period_rows(target: SlaTarget, figures: TargetFigures, spec: MeasureSpec) -> list[Row]:
    """One row per period that overlaps the measured span or holds a measured ticket."""
    meets, defined = period_meets(figures.measured, figures.met, target.goal, target.small_sample)
    rows: list[Row] = []
    for p, period in enumerate(figures.periods):
        measured = figures.measured[:, p]
        if period.start >= spec.horizon_end and not measured.any():
            continue
        judged = int(defined[:, p].sum())
        rows.append(
            {
                "period": period.label,
                "level": target.level,
                "service": target.service,
                "customer": target.customer,
                "priority": target.priority,
                "metric": target.metric,
                "compliance": compliance_interval(measured, figures.met[:, p]),
                "p_met": float(meets[:, p].sum() / judged) if judged else None,
                "tickets": float(measured.sum() / spec.replications),
                "full": period.full,
            }
        )
    return rows


def _team_rows(visits: pa.Table, team_stats: pa.Table | None, spec: MeasureSpec) -> list[Row]:
    columns = visit_columns(visits)
    inside = columns.assigned_within(spec.start, spec.horizon_end)
    codes = columns.team.codes
    slots = len(columns.team.names) + 1
    visit_count = np.bincount(codes[inside] + 1, minlength=slots)[1:]
    abandoned = inside & columns.outcome.equals("abandoned")
    abandoned_count = np.bincount(codes[abandoned] + 1, minlength=slots)[1:]
    waited = inside & ~np.isnat(columns.started)
    wait_us = columns.started.view(np.int64)[waited]
    wait_us -= columns.assigned.view(np.int64)[waited]
    wait_h = wait_us / _US_PER_HOUR
    waiting_team = codes[waited]
    names: set[Any] = {columns.team.names[code] for code in np.flatnonzero(visit_count)}
    if team_stats is not None:
        names |= set(team_stats["team"].to_pylist())
    names.discard(None)
    utilization = _utilization(team_stats, spec.replications)
    rows: list[Row] = []
    for team in sorted(names):
        code = columns.team.code(team)
        count = int(visit_count[code]) if code >= 0 else 0
        waits = wait_h[waiting_team == code]
        rows.append(
            {
                "team": team,
                "utilization": utilization.get(team),
                "wait_h": {
                    "mean": _number(waits.mean()) if waits.size else None,
                    "90": _number(_order_statistics(waits, _WAIT_LEVEL)[0]) if waits.size else None,
                },
                "abandoned": float(abandoned_count[code] / count) if count else None,
            }
        )
    return rows


def _utilization(team_stats: pa.Table | None, replications: int) -> dict[str, float | None]:
    """busy / available per replication, mean over replications; ``None`` without an available
    time (suppliers) or without team statistics."""
    if team_stats is None or team_stats.num_rows == 0:
        return {}
    result: dict[str, float | None] = {}
    team = np.asarray(team_stats["team"].to_numpy(zero_copy_only=False), dtype=object)
    busy = np.asarray(team_stats["busy_h"].to_numpy(zero_copy_only=False), dtype=np.float64)
    available = np.asarray(
        pc.fill_null(team_stats["available_h"].cast(pa.float64()), 0.0).to_numpy(
            zero_copy_only=False
        ),
        dtype=np.float64,
    )
    for name in set(team.tolist()) - {None}:
        mine = (team == name) & (available > 0)
        result[name] = _number(np.mean(busy[mine] / available[mine])) if mine.any() else None
    return result


def summarize_sla(
    tickets: pa.Table, pauses: pa.Table | None, spec: MeasureSpec
) -> dict[str, list[Row]]:
    """The SLA and period figures of a run or a history, without the OLA/UC and team figures.

    Needs no visits, so a page can show the SLA table before :func:`summarize_teams` has run.

    Parameters
    ----------
    tickets, pauses
        The ticket and pause tables of the run (all replications) or of the history
        (replication 0); ``pauses`` may be ``None`` when no ticket was ever paused.
    spec
        Measured span and targets (only ``spec.sla`` is measured).

    Returns
    -------
    dict
        ``{"sla": [...], "periods": [...]}``: the rows of :func:`summarize` under those keys.

    Raises
    ------
    ValueError
        When a replication id lies outside ``0 … spec.replications − 1``.
    """
    replications = spec.replications
    periods = tuple(period_table(spec))
    replication = ticket_columns(tickets).replication
    sla_rows: list[Row] = []
    period_rows: list[Row] = []
    for target, outcomes in zip(spec.sla, measure_sla(tickets, pauses, spec), strict=True):
        figures = _figures(outcomes, replication[outcomes.rows], periods, spec)
        sla_rows.append(_sla_row(target, figures, replications))
        period_rows.extend(_period_rows(target, figures, spec))
    return {"sla": sla_rows, "periods": period_rows}


def summarize_teams(
    tickets: pa.Table | None,
    visits: pa.Table | None,
    team_stats: pa.Table | None,
    spec: MeasureSpec,
) -> dict[str, list[Row]]:
    """The OLA/UC and team figures of a run or a history, without the SLA figures.

    Parameters
    ----------
    tickets
        The ticket table; read only for an OLA/UC target restricted to one priority when
        ``visits`` has no ``priority`` column (may be ``None`` otherwise).
    visits
        The visit table, or ``None`` for a history without assignment records when there are
        no OLA/UC targets; there are then no rows at all.
    team_stats
        Per team and replication ``busy_h`` and ``available_h`` over the measured window (from
        the simulation); ``None`` for history, whose utilisation is then ``null``.
    spec
        Measured span and targets (only ``spec.ola`` is measured).

    Returns
    -------
    dict
        ``{"ola": [...], "teams": [...]}``: the rows of :func:`summarize` under those keys.

    Raises
    ------
    ValueError
        When a replication id lies outside ``0 … spec.replications − 1``, or OLA/UC targets are
        given without visits.
    """
    if visits is None:
        if spec.ola:
            raise ValueError("OLA/UC targets are measured on visits: pass the visits table")
        return {"ola": [], "teams": []}
    replications = spec.replications
    periods = tuple(period_table(spec))
    replication = visit_columns(visits).replication
    teams = _team_rows(visits, team_stats, spec)
    ola_rows: list[Row] = []
    measured = measure_olas(visits, spec.ola, spec, tickets)
    for target, outcomes in zip(spec.ola, measured, strict=True):
        figures = _figures(outcomes, replication[outcomes.rows], periods, spec)
        ola_rows.append(_ola_row(target, figures, replications))
    return {"ola": ola_rows, "teams": teams}


def summarize(
    tickets: pa.Table,
    visits: pa.Table | None,
    pauses: pa.Table | None,
    team_stats: pa.Table | None,
    spec: MeasureSpec,
) -> dict[str, list[Row]]:
    """Every SLA, OLA/UC, team and period figure of a run or a history.

    The union of :func:`summarize_sla` and :func:`summarize_teams`, which measure the two halves
    on their own.

    Parameters
    ----------
    tickets, visits, pauses
        The tables of the run (all replications) or of the history (replication 0). ``visits``
        may be ``None`` for a history without assignment records when there are no OLA/UC
        targets; there are then no team rows.
    team_stats
        Per team and replication ``busy_h`` and ``available_h`` over the measured window (from
        the simulation); ``None`` for history, whose utilisation is then ``null``.
    spec
        Measured span and targets.

    Returns
    -------
    dict
        ``{"sla": [...], "ola": [...], "teams": [...], "periods": [...]}`` with the rows of the
        ``simulate --json`` contract (OLA rows carry ``priority`` too, ``null`` for every
        priority; period rows carry ``full``). See the module docstring for the definitions.

    Notes
    -----
    A replication in which a target measured no ticket has no compliance: it is excluded from
    the mean (and interval) of ``compliance``, while ``tickets`` and ``open`` still average over
    every replication. A quantile that falls on a ticket breached while open is +∞ and is
    reported as ``None`` (JSON ``null``), as is every figure without data.

    Raises
    ------
    ValueError
        When a replication id lies outside ``0 … spec.replications − 1``, or OLA/UC targets are
        given without visits.
    """
    sla = summarize_sla(tickets, pauses, spec)
    teams = summarize_teams(tickets, visits, team_stats, spec)
    return {
        "sla": sla["sla"],
        "ola": teams["ola"],
        "teams": teams["teams"],
        "periods": sla["periods"],
    }
