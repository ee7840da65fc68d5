"""Results as plain rows for the workbench's tables, charts and downloads; every figure keeps
its interval or its replications.
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Mapping, Sequence
from typing import Any, Literal

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from simkit.analysis.verdict import verdict
from simkit.measure import sla_outcomes, ticket_pauses
from simkit.measure.queues import team_load, weekly_profile
from simkit.report.text import fmt_interval, fmt_pct, sla_label
from simkit.runner import Results
from simkit.units import format_duration

__all__ = [
    "DEFAULT_CONFIDENCE",
    "estimate_table",
    "flat_row",
    "fmt_hours",
    "handling_fit_rows",
    "period_rows",
    "profile_rows",
    "queue_rows",
    "result_tables",
    "sla_table",
    "table_bytes",
    "target_identity",
    "time_rows",
]

DEFAULT_CONFIDENCE = 0.8

Row = dict[str, Any]
TargetKey = tuple[str, str | None, str | None, str, str]
"""``(level, service, customer, priority, metric)`` of an SLA row."""


# -- rows for tables and charts --------------------------------------------------------------------


def target_identity(row: Mapping[str, Any]) -> TargetKey:
    """``(level, service, customer, priority, metric)`` of an SLA or estimate row."""
    return (row["level"], row["service"], row["customer"], row["priority"], row["metric"])


def fmt_hours(value: float | None) -> str:
    """``'6.6m'``, ``'2.4h'``, ``'130h'``; ``'—'`` for none or infinite."""
    if value is None or not math.isfinite(value):
        return "—"
    if value < 1:
        minutes = value * 60
        return f"{minutes:.1f}m" if minutes < 10 else f"{minutes:.0f}m"
    return f"{value:.1f}h" if value < 100 else f"{value:.0f}h"


def _target_text(row: Mapping[str, Any]) -> str:
    return (
        f"{fmt_pct(row['goal'], 0)} within {format_duration(row['within_h'])} ({row['calendar']})"
    )


def sla_table(
    document: Mapping[str, Any],
    *,
    confidence: float = DEFAULT_CONFIDENCE,
    estimate: Mapping[str, Any] | None = None,
) -> list[Row]:
    """The SLA table of a simulate document, one row per target, ready to show.

    Columns: ``SLA, target, tickets, compliance`` (mean [95% interval]), ``P(period met)``
    (Wilson interval), ``verdict`` (at ``confidence``, from the interval), ``p90``, and, given a
    quick estimate, ``estimate`` (its share within target, marked as an estimate). Hidden keys
    ``_compliance`` and ``_verdict`` keep the numbers for tests and charts.
    """
    estimates = {target_identity(r): r for r in (estimate or {}).get("sla", [])}
    rows = []
    for row in document["sla"]:
        p = row["p_period_met"]
        decided = verdict(p.get("lo"), p.get("hi"), confidence)
        quick = estimates.get(target_identity(row))
        rows.append(
            {
                "SLA": sla_label(row),
                "target": _target_text(row),
                "tickets": round(float(row["tickets"]), 1),
                "compliance": fmt_interval(row["compliance"]),
                "P(period met)": fmt_interval(p, 0),
                "verdict": decided,
                "p90": fmt_hours(row["quantiles_h"].get("90")),
                "estimate": f"≈ {fmt_pct(quick['p_within'])}" if quick else "—",
                "_compliance": row["compliance"].get("mean"),
                "_verdict": decided,
            }
        )
    return rows


def estimate_table(estimate: Mapping[str, Any]) -> list[Row]:
    """The quick estimate's SLA rows, ready to show (every figure says it is an estimate)."""
    return [
        {
            "SLA": sla_label(row),
            "target": _target_text(row),
            "within target (estimate)": f"≈ {fmt_pct(row['p_within'])}",
            "meets goal?": "likely" if row["meets_goal"] else "unlikely",
            "mean (estimate)": fmt_hours(row["mean_h"]),
            "tickets in overloaded hours": fmt_pct(row["overloaded_share"], 0),
            "_p_within": row["p_within"],
        }
        for row in estimate["sla"]
    ]


def period_rows(document: Mapping[str, Any]) -> list[Row]:
    """Compliance per period and target, with its interval and the goal, for charts."""
    goals = {target_identity(r): r["goal"] for r in document["sla"]}
    out = []
    for row in document["periods"]:
        compliance = row["compliance"]
        out.append(
            {
                "target": sla_label(row),
                "period": row["period"],
                "compliance": compliance.get("mean"),
                "lo": compliance.get("lo"),
                "hi": compliance.get("hi"),
                "goal": goals.get(target_identity(row)),
                "p_met": row.get("p_met"),
                "tickets": row["tickets"],
                "full": bool(row.get("full", True)),
            }
        )
    return out


def time_rows(results: Results, index: int, *, points: int = 99) -> list[Row]:
    """The distribution of measured times of one SLA target (``index`` into the document's
    ``sla`` rows), pooled over replications, as quantile rows for a chart.

    Rows: ``share`` (0.01 … 0.99), ``hours`` (business hours on the target's calendar; ``None``
    where the quantile falls on tickets breached while still open), ``target``, ``within_h``,
    ``goal``, ``replications``.
    """
    spec = results.measure_spec()
    target = spec.sla[index]
    tickets = results.service_tickets()
    pauses = ticket_pauses(tickets, results.pauses, spec)
    outcomes = sla_outcomes(tickets, pauses, target, spec)
    status = np.asarray(outcomes["status"].to_numpy(zero_copy_only=False), dtype=object)
    times = np.asarray(outcomes["time_h"].to_numpy(zero_copy_only=False), dtype=np.float64)
    measured = times[(status == "met") | (status == "breached")]
    shares = np.linspace(0.01, 0.99, points)
    label = sla_label(
        {
            "level": target.level,
            "service": target.service,
            "customer": target.customer,
            "priority": target.priority,
            "metric": target.metric,
        }
    )
    if measured.size == 0:
        return []
    values = np.quantile(measured, shares, method="inverted_cdf")
    return [
        {
            "share": float(share),
            "hours": float(value) if math.isfinite(value) else None,
            "target": label,
            "within_h": float(target.within_h),
            "goal": float(target.goal),
            "replications": results.succeeded,
        }
        for share, value in zip(shares, values, strict=True)
    ]


def queue_rows(results: Results, estimate: Mapping[str, Any] | None = None) -> list[Row]:
    """Tickets waiting, agents busy and utilisation per team and local hour of the week.

    Agents on duty (roster × (1 − shrinkage), windowed changes left out) come from the quick
    estimate's team rows when given; utilisation is then busy / on duty.
    """
    spec = results.measure_spec()
    teams = [name for name, team in results.scenario.teams.items() if team.kind == "team"]
    loads = team_load(
        results.visits,
        start=spec.start,
        end=spec.horizon_end,
        replications=max(results.succeeded, 1),
        teams=teams,
    )
    agents = None
    if estimate is not None:
        agents = {
            row["team"]: [hour["agents"] for hour in row["hours"]]
            for row in estimate["teams"]
            if row["kind"] == "team"
        }
    rows = weekly_profile(loads, timezone=results.scenario.timezone, agents=agents)
    for row in rows:
        row["replications"] = results.succeeded
    return rows


# -- calibration -----------------------------------------------------------------------------------


def handling_fit_rows(
    visits: pa.Table, fitted: Mapping[str, Any], team: str, *, points: int = 99
) -> list[Row]:
    """The observed time in hand of a team's visits against the CDFs of the fitted candidates,
    for a goodness-of-fit chart.

    Parameters
    ----------
    visits
        The history's visits table.
    fitted
        One ``handle`` entry of a calibration report's team (``best``, ``candidates`` with
        ``spec``, ``description``, ``ks_statistic``).
    team
        The team whose finished visits are observed (start → finish, pauses included).

    Returns
    -------
    list of dict
        ``hours, share, curve`` rows: the observed quantiles at ``points`` shares
        (``curve = "observed (n visits)"``) and each candidate's CDF at those hours.
    """
    from simkit.distributions import from_spec
    from simkit.measure.clock import instants

    mine = np.asarray(
        pc.fill_null(pc.equal(visits["team"], team), False).to_numpy(zero_copy_only=False),
        dtype=bool,
    )
    chosen = visits.filter(pa.array(mine))
    started = instants(chosen["started_at"], "visits.started_at")
    finished = instants(chosen["finished_at"], "visits.finished_at")
    known = ~np.isnat(started) & ~np.isnat(finished)
    hours = (finished[known] - started[known]) / np.timedelta64(3_600_000_000, "us")
    hours = np.sort(hours[hours >= 0].astype(np.float64))
    if hours.size == 0:
        return []
    shares = np.linspace(0.01, 0.99, points)
    grid = np.quantile(hours, shares, method="inverted_cdf")
    rows: list[Row] = [
        {"hours": float(h), "share": float(q), "curve": f"observed ({hours.size:,} visits)"}
        for h, q in zip(grid, shares, strict=True)
    ]
    for candidate in fitted.get("candidates", []):
        distribution = from_spec(candidate["spec"], allow_files=False)
        ks = candidate.get("ks_statistic")
        label = candidate["description"] + (f" (KS {ks:.3f})" if ks is not None else "")
        rows.extend(
            {"hours": float(h), "share": float(c), "curve": label}
            for h, c in zip(grid, distribution.cdf(grid), strict=True)
        )
    return rows


def profile_rows(matrix: Sequence[Sequence[float]]) -> list[Row]:
    """A 7×24 hour-of-week profile (rows mon…sun) as ``day, hour, weight`` rows."""
    from simkit.timespec import DAY_NAMES

    return [
        {"day": DAY_NAMES[d], "hour": h, "weight": float(matrix[d][h])}
        for d in range(len(matrix))
        for h in range(len(matrix[d]))
    ]


# -- downloads -------------------------------------------------------------------------------------


def result_tables(results: Results) -> dict[str, pa.Table]:
    """The tables a user can download: ``tickets``, ``visits``, ``pauses``, ``outages``."""
    return {
        "tickets": results.tickets,
        "visits": results.visits,
        "pauses": results.pauses,
        "outages": results.outages,
    }


def flat_row(row: Mapping[str, Any], prefix: str = "") -> Row:
    """A row with nested mappings spread into columns: ``compliance {mean, lo, hi}`` becomes
    ``compliance_mean, compliance_lo, compliance_hi``; keys starting with ``_`` are left out."""
    out: Row = {}
    for key, value in row.items():
        if str(key).startswith("_"):
            continue
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            out.update(flat_row(value, f"{name}_"))
        elif isinstance(value, list | tuple):
            out[name] = "; ".join(str(v) for v in value)
        else:
            out[name] = value
    return out


def table_bytes(
    table: pa.Table | Sequence[Mapping[str, Any]], fmt: Literal["parquet", "csv"]
) -> bytes:
    """A table (Arrow, or rows of plain values) as Parquet or CSV bytes for a download.

    Rows are spread by :func:`flat_row` (``compliance_mean, compliance_lo, …``) in both formats.
    """
    if not isinstance(table, pa.Table):
        rows = [flat_row(r) for r in table]
        names = list(dict.fromkeys(k for r in rows for k in r))
        if fmt == "csv":
            buffer = io.StringIO()
            writer = csv.DictWriter(buffer, fieldnames=names)
            writer.writeheader()
            writer.writerows(rows)
            return buffer.getvalue().encode("utf-8")
        table = pa.Table.from_pylist([{k: r.get(k) for k in names} for r in rows])
    sink = io.BytesIO()
    if fmt == "parquet":
        pq.write_table(table, sink)
    elif fmt == "csv":
        import pyarrow.csv as pacsv

        pacsv.write_csv(table, sink)
    else:
        raise ValueError(f"format must be 'parquet' or 'csv', got {fmt!r}")
    return sink.getvalue()
