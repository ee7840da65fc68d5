"""Per-replication figures of one run for every SLA, OLA/UC and availability target, measured as
the run's summary measures them, so that two runs with the same seed can be paired.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

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
from simkit.runner import Results
from simkit.scenario.targets import availability_targets

__all__ = ["RunFigures", "TargetKey", "TargetRuns", "run_figures", "target_label"]

TargetKey = tuple[Any, ...]
Row = dict[str, Any]


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
