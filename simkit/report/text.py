"""Readable terminal tables of the simulate document (rich)."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.table import Table

from simkit.units import format_duration, percent

__all__ = ["fmt_interval", "fmt_pct", "print_simulation", "sla_label"]


def fmt_pct(value: float | None, digits: int = 1) -> str:
    """``'93.1%'``: a share in percent (:func:`simkit.units.percent`); ``'—'`` for none."""
    return "—" if value is None else f"{percent(value, digits)}%"


def fmt_interval(interval: dict[str, Any] | None, digits: int = 1) -> str:
    """``'93.1% [91.8–94.3]'``; without an interval, the mean alone."""
    if not interval or interval.get("mean") is None:
        return "—"
    mean = fmt_pct(interval["mean"], digits)
    if interval.get("lo") is None or interval.get("hi") is None:
        return mean
    return f"{mean} [{percent(interval['lo'], digits)}–{percent(interval['hi'], digits)}]"


def _hours(value: float | None) -> str:
    """A duration for people: ``'6.6m'``, ``'2.4h'``, ``'130h'`` (business hours stay hours)."""
    if value is None:
        return "—"
    if value < 1:
        minutes = value * 60
        return f"{minutes:.1f}m" if minutes < 10 else f"{minutes:.0f}m"
    return f"{value:.1f}h" if value < 100 else f"{value:.0f}h"


def _target(row: dict[str, Any]) -> str:
    """The target as written: ``'4h 24x7 @95%'``."""
    return f"{format_duration(row['within_h'])} {row['calendar']} @{fmt_pct(row['goal'], 0)}"


def sla_label(row: dict[str, Any]) -> str:
    """``'payroll P1 resolve'``, ``'finance: payroll P1 resolve'``, ``'corporate P1 resolve'``."""
    if row["level"] == "corporate":
        return f"corporate {row['priority']} {row['metric']}"
    prefix = f"{row['customer']}: " if row["level"] == "customer" else ""
    return f"{prefix}{row['service']} {row['priority']} {row['metric']}"


def print_simulation(document: dict[str, Any], console: Console | None = None) -> None:
    """Print the SLA, OLA/UC and team tables of a simulate document."""
    console = console or Console()
    n = document["replications"]
    console.print(
        f"[bold]{document['scenario']}[/bold] — {n} replications, seed {document['seed']}"
        + (f", changes: {', '.join(document['changes'])}" if document.get("changes") else "")
    )
    console.print("compliance and P(period meets goal): mean [95% interval]")
    table = Table(title="Service level targets (SLA)")
    for column in ("SLA", "target", "tickets", "compliance", "P(period met)", "p90"):
        table.add_column(column, justify="right" if column == "tickets" else "left")
    for row in document["sla"]:
        table.add_row(
            sla_label(row),
            _target(row),
            f"{row['tickets']:.0f}",
            fmt_interval(row["compliance"]),
            fmt_interval(row["p_period_met"], 0),
            _hours(row["quantiles_h"].get("90")),
        )
    console.print(table)
    if document.get("ola"):
        table = Table(title="Operational level agreements (OLA) and underpinning contracts (UC)")
        for column in ("agreement", "target", "visits", "compliance", "P(period met)"):
            table.add_column(column, justify="right" if column == "visits" else "left")
        for row in document["ola"]:
            table.add_row(
                f"{row['team']} {row['kind'].upper()} {row['metric']}",
                _target(row),
                f"{row['tickets']:.0f}",
                fmt_interval(row["compliance"]),
                fmt_interval(row["p_period_met"], 0),
            )
        console.print(table)
    table = Table(title="Teams")
    for column in ("team", "utilisation", "mean wait", "90% wait", "abandoned"):
        table.add_column(column)
    for row in document["teams"]:
        wait = row.get("wait_h") or {}
        table.add_row(
            row["team"],
            fmt_pct(row.get("utilization")),
            _hours(wait.get("mean")),
            _hours(wait.get("90")),
            fmt_pct(row.get("abandoned")),
        )
    console.print(table)
    if document.get("availability"):
        table = Table(title="Availability (agreed service time)")
        for column in (
            "service",
            "target",
            "availability",
            "P(period met)",
            "outages/period",
            "MTRS",
            "expected credit",
        ):
            table.add_column(column)
        for row in document["availability"]:
            credit = row.get("expected_credit")
            table.add_row(
                row["service"],
                fmt_pct(row["target"], 2),
                fmt_interval(row["availability"], 3),
                fmt_interval(row["p_period_met"], 0),
                "—"
                if row.get("outages_per_period") is None
                else f"{row['outages_per_period']:.2f}",
                _hours(row.get("mtrs_h")),
                "—" if credit is None else f"{credit:,.0f}",
            )
        console.print(table)
    for failure in document.get("failures", []):
        console.print(f"[red]replication {failure['replication']} failed: {failure['error']}[/red]")
