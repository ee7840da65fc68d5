"""The calibration report, JSON-ready and in plain language.

Here too: the open backlog at the export time (reported; the fitted scenario's starting state
with ``calibrate --backlog``) and
the rounding of numbers for people that the scenario's YAML comments share.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import numpy as np
import pyarrow as pa

from simkit.calibrate.quality import outage_quality_summary, quality_summary
from simkit.scenario.checks import natural_key
from simkit.units import percent

if TYPE_CHECKING:
    from simkit.calibrate.arrays import _Data
    from simkit.calibrate.history import History

__all__ = ["describe_report"]


def _sig(value: float, digits: int = 3) -> float:
    if value == 0 or not math.isfinite(value):
        return 0.0
    return float(f"{value:.{digits}g}")


def _pct(fraction: float, decimals: int = 1) -> str:
    return f"{percent(fraction, decimals)}%"


def _backlog(data: _Data) -> dict[str, Any]:
    open_ticket = np.isnan(data.resolved) & ~data.abandoned & ~np.isnan(data.opened)
    open_ticket &= data.opened < data.observed_h
    rows = np.flatnonzero(open_ticket)
    # no team held it yet, or it has no priority: null, never a name a history may use
    last_team = np.full(data.opened.size, None, dtype=object)
    if data.v_ticket.size:
        last = np.r_[data.v_ticket[1:] != data.v_ticket[:-1], True]
        last_team[data.v_ticket[last]] = data.v_team[last]
    # paused at the export time: a pause (not a reopening) begun and not ended
    paused = np.zeros(data.opened.size, dtype=bool)
    waiting = ~data.p_reopen & np.isnan(data.p_end) & (data.p_start <= data.observed_h)
    paused[data.p_ticket[waiting]] = True
    ages = data.observed_h - data.opened[rows]
    table = pa.table(
        {
            "service": pa.array(data.service[rows], pa.string()),
            "priority": pa.array(data.priority[rows], pa.string()),
            "team": pa.array(last_team[rows], pa.string()),
            "age": ages,
            "paused": paused[rows],
            # the ages of those not paused: the ones a starting state queues
            "ready_age": pa.array(ages, mask=paused[rows]),
        }
    )
    grouped = table.group_by(["service", "priority", "team"]).aggregate(
        [
            ("age", "count"),
            ("paused", "sum"),
            ("age", "mean"),
            ("ready_age", "mean"),
            ("age", "max"),
        ]
    )
    by = sorted(
        (
            {
                "service": row["service"],
                "priority": row["priority"],
                "team": row["team"],
                "tickets": int(row["age_count"]),
                "awaiting_user": int(row["paused_sum"]),
                "mean_age_h": float(row["age_mean"]),
                "ready_mean_age_h": row["ready_age_mean"],
                "max_age_h": float(row["age_max"]),
            }
            for row in grouped.to_pylist()
        ),
        key=lambda g: (
            g["service"],
            g["priority"] is None,
            natural_key(g["priority"] or ""),
            g["team"] is None,
            g["team"] or "",
        ),
    )
    return {
        "tickets": int(rows.size),
        "by": by,
        "note": (
            "tickets still open at the export time: an optional starting state (calibrate "
            "--backlog). The fitted scenario spans the history without them; its warm-up "
            "(default 2 weeks) loads the queues instead"
        ),
    }


def _quality(history: History) -> Any:
    quality = getattr(history, "quality", None)
    for attribute in ("as_dict", "to_dict", "as_json"):
        method = getattr(quality, attribute, None)
        if callable(method):
            return method()
    return None


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating | float):
        number = float(value)
        return number if math.isfinite(number) else None
    if isinstance(value, np.bool_):
        return bool(value)
    if isinstance(value, np.ndarray):
        return _jsonable(value.tolist())
    return value


def describe_report(report: Mapping[str, Any]) -> str:
    """The calibration report in plain language."""
    lines: list[str] = []
    span = report["span"]
    lines.append(
        f"Calibrated {report['tickets']:,} tickets from {report['source']} "
        f"({span['from']} … {span['until']}, {span['days']:.0f} days; time zone {report['timezone']})"
    )
    for s in report["services"]:
        lines.append(
            f"\nservice {s['service']}: {s['per_week']:.1f} tickets/week, entry {s['entry']} "
            f"({_pct(s['entry_share'])} of tickets)"
        )
        lines.append(f"  trend: {s['growth'].get('note', '')}")
        lines.append(f"  holidays: {s['holidays'].get('note', '')}")
        mix = ", ".join(f"{p['priority']} {_pct(p['share'])}" for p in s["priorities"])
        lines.append(f"  priorities: {mix}")
        reopen = s["reopen"]
        if reopen.get("probability"):
            lines.append(f"  reopened: {_pct(reopen['probability'], 2)} of resolved tickets")
    for t in report["teams"]:
        lines.append(f"\nteam {t['team']} ({t['kind']}, {t['visits']:,} visits): {t['method']}")
        for p, h in t["handle"].items():
            cands = h.get("candidates") or []
            chosen = next((c for c in cands if c["family"] == h.get("best_family")), None)
            gof = f", KS {chosen['ks_statistic']:.3f}" if chosen else ""
            desc = chosen["description"] if chosen else str(h.get("best"))
            lines.append(f"  handle {p}: {desc} (n={h.get('n', 0):,}{gof})")
        total = sum(t["routes"].values())
        if total:
            routes = ", ".join(
                f"{k} {_pct(v / total)}"
                for k, v in sorted(t["routes"].items(), key=lambda kv: -kv[1])
            )
            lines.append(f"  next: {routes}")
    backlog = report["backlog"]
    lines.append(f"\nopen at the export time: {backlog['tickets']:,} tickets — {backlog['note']}")
    starting = backlog.get("starting_state")
    if starting:
        lines.append(
            f"  the scenario starts {starting['start']} with {starting['tickets']:,} of them in "
            f"{len(starting['lines'])} backlog lines"
        )
        lines.extend(f"  - {note}" for note in starting["notes"])
    outages = report.get("outages")
    if outages:
        lines.append(f"\noutages ({outages['source']}):")
        for c in outages["components"]:
            lines.append(
                f"  component {c['component']} ({', '.join(c['services'])}): {c['outages']:,} "
                f"outages, MTBF {c['mtbf_h']:,.1f} h, MTRS {c['mtrs_h']:,.2f} h"
            )
        for row in outages["left_out"]:
            lines.append(f"  left out: {row['outages']:,} {row['reason']}")
        if outages["without_outages"]:
            lines.append(f"  no outage for: {', '.join(outages['without_outages'])}")
        lines += [f"  {line}" for line in outage_quality_summary(outages["quality"])]
    lines.append(f"\ntargets: {report['targets']['note']}")
    if report["assumptions"]:
        lines.append("\nassumptions and what the history could not identify:")
        lines.extend(f"  - {a}" for a in report["assumptions"])
    if report.get("quality"):
        lines += ["", *quality_summary(report["quality"])]
    return "\n".join(lines)
