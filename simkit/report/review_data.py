"""The figures behind the service review pack: the colour of a measured figure against its goal
(:func:`rag_status`, :func:`availability_status`), the scenario moved onto a review's span, the
model's expectation over that span (:func:`expected_performance`) and an outage history measured
against the scenario's availability targets (:func:`history_availability`).

These are importable from :mod:`simkit.report.review_pack`, which renders the pack.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
from collections.abc import Mapping
from concurrent.futures import Executor
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from simkit.errors import InputError
from simkit.runner import DEFAULT_MAX_VISITS, Progress, simulate
from simkit.scenario import Scenario
from simkit.stats import clustered_wilson_interval, mean_interval

__all__ = [
    "AMBER_MARGIN",
    "AVAILABILITY_AMBER_USED",
    "availability_status",
    "expected_performance",
    "history_availability",
    "outside_chance",
    "rag_status",
    "review_span_scenario",
]

AMBER_MARGIN = 0.02
"""A period met within this of its goal (2 percentage points) is amber, not green."""
AVAILABILITY_AMBER_USED = 0.8
"""A period that used more than this share of its downtime allowance is amber."""
RANGE = (0.025, 0.975)
"""The share of a model's histories the range of its runs should leave out at either end (see
:func:`_range`: with few runs it leaves out more)."""

Row = dict[str, Any]
_TOLERANCE = 1e-12


# -- colours -------------------------------------------------------------------------------------


def rag_status(
    compliance: float | None,
    goal: float,
    met: bool | None = None,
    tickets: float | None = None,
    *,
    margin: float = AMBER_MARGIN,
) -> str:
    """Red, amber, green or grey for a measured compliance against its goal.

    Parameters
    ----------
    compliance
        Share of tickets within target (``None``: nothing measured).
    goal
        The share the target asks for.
    met
        Whether the period met the target by the contract's rule (which may include a
        small-sample rule); ``None`` judges by ``compliance`` alone.
    tickets
        Measured tickets; ``0`` is grey whatever the rule says.
    margin
        Met with less than this to spare is amber.

    Returns
    -------
    str
        ``green``, ``amber``, ``red`` or ``grey`` (see :mod:`simkit.report.review_pack`).
    """
    if compliance is None or tickets == 0:
        return "grey"
    passed = compliance >= goal - _TOLERANCE if met is None else bool(met)
    if not passed:
        return "red"
    if compliance < goal - _TOLERANCE or compliance < goal + margin - _TOLERANCE:
        return "amber"
    return "green"


def availability_status(
    availability: float | None, target: float, *, used: float = AVAILABILITY_AMBER_USED
) -> str:
    """Red, amber, green or grey for an availability against its target: amber when more than
    ``used`` of the downtime allowance ``1 − target`` was used."""
    if availability is None:
        return "grey"
    if availability < target - _TOLERANCE:
        return "red"
    if 1.0 - availability > used * (1.0 - target) + _TOLERANCE:
        return "amber"
    return "green"


# -- the span of the review ------------------------------------------------------------------------


def _instant(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text)


def _utc64(moment: dt.datetime) -> np.datetime64:
    return np.datetime64(moment.astimezone(dt.UTC).replace(tzinfo=None), "us")


def review_span_scenario(review_document: Mapping[str, Any], scenario: Scenario) -> Scenario:
    """``scenario`` moved onto the span of a review: the same start date and measured span,
    observed as the history was (no drain after the export). A backlog — the queue at the
    scenario's own start, another instant — is left out, and the warm-up goes back to the
    default (two weeks), whatever the scenario set beside it.

    Raises
    ------
    InputError
        When the review was not measured in the scenario's time zone.
    """
    span = review_document["span"]
    if span["timezone"] != scenario.timezone:
        raise InputError.single(
            f"the review was measured in {span['timezone']}, the scenario runs in "
            f"{scenario.timezone}",
            "review the history against the scenario whose expectation you want",
            file=scenario.source,
            path="timezone",
        )
    start, end = _instant(span["start"]), _instant(span["end"])
    seconds = max(math.ceil((end - start).total_seconds()), 1)
    patch: dict[str, Any] = {
        "start": start.date().isoformat(),
        "horizon": f"{seconds}s",
        "drain": "0h",
    }
    if scenario.backlog:
        patch.update({"backlog": None, "warmup": None})
    return scenario.with_patch(patch, name="over the review span")


# -- the model's expectation ---------------------------------------------------------------------


def _range(values: np.ndarray) -> dict[str, float | None]:
    """The range of the runs: from the k-th lowest to the k-th highest run (runs' own values),
    k = ⌊2.5% × (R + 1)⌋ of R runs and at least 1, and ``outside``, the chance that a history
    drawn from the model itself falls outside it: 2k / (R + 1) — 5% or less from 39 runs, and,
    with fewer, the chance outside the lowest and the highest run (9.5% of 20). Interpolated
    ends lay inside the runs, so that a history equal to the lowest run read as "worse than the
    model"."""
    finite = np.sort(values[np.isfinite(values)])
    runs = int(finite.size)
    if runs == 0:
        return {"lo": None, "hi": None, "outside": None}
    k = _range_rank(runs)
    return {
        "lo": float(finite[k - 1]),
        "hi": float(finite[runs - k]),
        "outside": outside_chance(runs),
    }


def _range_rank(runs: int) -> int:
    return max(1, math.floor(RANGE[0] * (runs + 1) + 1e-9))


def outside_chance(runs: int) -> float:
    """The chance that a history of the model falls outside the range of ``runs`` runs
    (:func:`_range`)."""
    return min(1.0, 2 * _range_rank(runs) / (runs + 1))


def _shares(measured: np.ndarray, met: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(measured > 0, met / np.maximum(measured, 1), np.nan)


def _figures(measured: np.ndarray, met: np.ndarray) -> dict[str, Any]:
    """Compliance over the runs that measured something, as ``simulate`` gives it
    (:func:`simkit.measure.summary.compliance_interval`), and the range of the runs."""
    from simkit.measure.summary import compliance_interval

    shares = _shares(measured, met)
    return {
        "compliance": compliance_interval(measured, met),
        "range": _range(shares[np.isfinite(shares)]),
    }


def expected_performance(
    review_document: Mapping[str, Any],
    scenario: Scenario,
    *,
    replications: int | None = None,
    seed: int | None = None,
    executor: Executor | None = None,
    progress: Progress | None = None,
    max_visits: int = DEFAULT_MAX_VISITS,
) -> dict[str, Any]:
    """Simulate ``scenario`` over the span of a review and measure it the same way.

    Parameters
    ----------
    review_document
        From :func:`simkit.calibrate.review.review` (its ``span`` is used).
    scenario
        The scenario whose expectation to show (usually the one the review measured against).
    replications, seed, executor, progress, max_visits
        As for :func:`simkit.runner.simulate` (default: the scenario's replications and seed).

    Returns
    -------
    dict
        ``replications``, ``seed``, ``sla`` (per target: identity, ``compliance {mean, lo,
        hi}`` over the runs, ``range {lo, hi, outside}`` (:func:`_range`) — and
        ``p_period_met``), ``periods`` (per target and period: ``compliance``, ``range``,
        ``tickets``, ``full``), ``ola`` (per agreement: ``compliance``, ``range``),
        ``availability`` and ``availability_periods`` (``availability``, ``range``,
        ``p_period_met`` / ``p_met``, ``expected_credit``), and ``failures``.
    """
    from simkit.measure import (
        availability_outcomes,
        ola_outcomes,
        period_meets,
        sla_outcomes,
        target_figures,
        ticket_pauses,
    )
    from simkit.scenario.targets import availability_targets

    moved = review_span_scenario(review_document, scenario)
    results = simulate(
        moved,
        replications=replications,
        seed=seed,
        executor=executor,
        progress=progress,
        max_visits=max_visits,
    )
    spec = dataclasses.replace(results.measure_spec(), replications=results.replications)
    failed = {f.replication for f in results.failures}
    alive = np.array([k not in failed for k in range(results.replications)], dtype=bool)
    out: dict[str, Any] = {
        "scenario": scenario.name,
        "replications": results.succeeded,
        "seed": results.seed,
        "sla": [],
        "periods": [],
        "ola": [],
        "availability": [],
        "availability_periods": [],
        "failures": [{"replication": f.replication, "error": f.error} for f in results.failures],
    }
    if results.succeeded == 0:
        return out
    tickets = results.service_tickets()
    attached = ticket_pauses(tickets, results.pauses, spec)
    for target in spec.sla:
        figures = target_figures(sla_outcomes(tickets, attached, target, spec), spec)
        measured, met = figures.measured[alive], figures.met[alive]
        identity = {
            "level": target.level,
            "service": target.service,
            "customer": target.customer,
            "priority": target.priority,
            "metric": target.metric,
        }
        full = np.array([p.full for p in figures.periods], dtype=bool)
        meets, defined = period_meets(
            measured[:, full], met[:, full], target.goal, target.small_sample
        )
        out["sla"].append(
            {
                **identity,
                **_figures(measured.sum(axis=1), met.sum(axis=1)),
                "p_period_met": clustered_wilson_interval(
                    meets.sum(axis=1), defined.sum(axis=1)
                ).as_dict(),
            }
        )
        for p, period in enumerate(figures.periods):
            if period.start >= spec.horizon_end and not measured[:, p].any():
                continue
            out["periods"].append(
                {
                    **identity,
                    "period": period.label,
                    "full": period.full,
                    **_figures(measured[:, p], met[:, p]),
                    "tickets": float(measured[:, p].mean()),
                }
            )
    for agreement in spec.ola:
        figures = target_figures(ola_outcomes(results.visits, agreement, spec, tickets), spec)
        measured, met = figures.measured[alive], figures.met[alive]
        out["ola"].append(
            {
                "team": agreement.team,
                "kind": agreement.kind,
                "priority": agreement.priority,
                "metric": agreement.metric,
                **_figures(measured.sum(axis=1), met.sum(axis=1)),
            }
        )
    for target in availability_targets(moved):
        table = availability_outcomes(results.outages, target, spec)
        out["availability"].append(_expected_availability(table, target.target, alive))
        out["availability_periods"] += _expected_availability_periods(
            table, target.service, target.target, alive
        )
    return out


def _column(table: pa.Table, name: str) -> np.ndarray:
    values = (
        pc.fill_null(table[name], np.nan) if name in ("availability", "credit") else table[name]
    )
    return np.asarray(values.to_numpy(zero_copy_only=False))


def _expected_availability(table: pa.Table, target: float, alive: np.ndarray) -> Row:
    replication = _column(table, "replication").astype(np.int64)
    keep = alive[replication]
    agreed = np.bincount(replication, weights=_column(table, "agreed_h"), minlength=alive.size)
    down = np.bincount(replication, weights=_column(table, "down_h"), minlength=alive.size)
    counted = alive & (agreed > 0)
    span = (agreed[counted] - down[counted]) / agreed[counted]
    level = _column(table, "availability").astype(np.float64)
    full = _column(table, "full").astype(bool) & keep & ~np.isnan(level)
    met = full & (np.nan_to_num(level, nan=-1.0) >= target - _TOLERANCE)
    runs = alive.size
    return {
        "service": str(table["service"][0].as_py()) if table.num_rows else None,
        "target": target,
        "availability": mean_interval(span, bounds=(0.0, 1.0)).as_dict(),
        "range": _range(span),
        "p_period_met": clustered_wilson_interval(
            np.bincount(replication[met], minlength=runs),
            np.bincount(replication[full], minlength=runs),
        ).as_dict(),
    }


def _expected_availability_periods(
    table: pa.Table, service: str, target: float, alive: np.ndarray
) -> list[Row]:
    replication = _column(table, "replication").astype(np.int64)
    period = _column(table, "period").astype(str)
    level = _column(table, "availability").astype(np.float64)
    full = _column(table, "full").astype(bool)
    rows = []
    for label in dict.fromkeys(period.tolist()):
        mine = (period == label) & alive[replication]
        values = level[mine]
        values = values[~np.isnan(values)]
        rows.append(
            {
                "service": service,
                "period": label,
                "full": bool(full[mine].all()) if mine.any() else False,
                "availability": mean_interval(values, bounds=(0.0, 1.0)).as_dict(),
                "range": _range(values),
                "p_met": float(np.mean(values >= target - _TOLERANCE)) if values.size else None,
            }
        )
    return rows


# -- outage history ------------------------------------------------------------------------------


def history_availability(
    outages: pa.Table, review_document: Mapping[str, Any], scenario: Scenario
) -> dict[str, Any]:
    """Measure an outage history against the scenario's availability targets over the span of a
    review (the same measurement as for simulated outages).

    Returns
    -------
    dict
        ``availability``: the rows of :func:`simkit.measure.availability_rows`;
        ``periods``: :func:`simkit.measure.availability_period_rows` (one history: no
        interval).
    """
    from simkit.measure import availability_period_rows, availability_rows
    from simkit.scenario.targets import availability_targets, measure_spec

    moved = review_span_scenario(review_document, scenario)
    targets = availability_targets(moved)
    span = review_document["span"]
    observed = _utc64(_instant(span.get("observed_until") or span["end"]))
    spec = measure_spec(
        moved,
        start=_utc64(_instant(span["start"])),
        horizon_end=_utc64(_instant(span["end"])),
        observed_until=observed,
        replications=1,
    )
    return {
        "availability": availability_rows(outages, targets, spec),
        "periods": availability_period_rows(outages, targets, spec),
    }
