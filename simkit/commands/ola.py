"""``simkit ola``: do the OLAs and UCs underpin each SLA target, and what would they need to be."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any

from rich.console import Console
from rich.table import Table

from simkit.analysis.ola import ola_alignment
from simkit.cli_common import (
    add_run_options,
    emit_json,
    executor_from,
    progress_bar,
    scenario_from,
)
from simkit.report.text import fmt_pct, sla_label
from simkit.runner import simulate
from simkit.units import format_duration

__all__ = ["print_alignment", "register"]

Command = Callable[..., argparse.ArgumentParser]


def register(command: Command) -> None:
    """Add ``simkit ola`` to the command line."""
    p = command(
        "ola",
        run,
        "do the teams' OLAs and the suppliers' UCs underpin each SLA target: routing paths, "
        "agreements added up on the SLA's calendar, the watermelon effect in simulation, and "
        "the agreements that would underpin it",
    )
    add_run_options(p)


def run(args: argparse.Namespace) -> int:
    scenario = scenario_from(args)
    with (
        executor_from(args) as executor,
        progress_bar("simulating", not args.json) as progress,
    ):
        results = simulate(
            scenario,
            replications=args.replications,
            seed=args.seed,
            executor=executor,
            progress=progress,
            max_visits=args.max_visits,
        )
    document = ola_alignment(scenario, results=results)
    if args.json:
        emit_json(document)
    else:
        print_alignment(document)
    return 0 if document["replications"] else 1


def _hours(value: float | None) -> str:
    """A duration for people, to the minute: ``'13h'``, ``'6.5h'``, ``'34m'``."""
    if value is None:
        return "unbounded"
    if value < 1:
        minutes = value * 60
        return f"{minutes:.1f}m" if minutes < 10 else f"{minutes:.0f}m"
    return f"{value:.2f}".rstrip("0").rstrip(".") + "h"


def _path(teams: list[str]) -> str:
    return " → ".join(teams)


def _recommended(row: dict[str, Any]) -> str:
    parts = []
    for rec in row["recommended"]:
        shown = "—" if rec["within_h"] is None else _hours(rec["within_h"])
        now = rec.get("compliance_now")
        met = f" ({fmt_pct(now, 0)})" if now is not None else ""
        parts.append(f"{rec['team']} {shown} @{fmt_pct(rec['goal'], 1)}{met}")
    if not parts:
        return "—"
    calendar = row["recommended"][0]["calendar"]
    return f"{calendar}: {', '.join(parts)}"


def print_alignment(document: dict[str, Any], console: Console | None = None) -> None:
    """Print the alignment table, the paths of targets the agreements do not underpin, and the
    recommended agreements."""
    console = console or Console()
    console.print(
        f"[bold]{document['scenario']}[/bold] — OLA/UC alignment, {document['replications']} "
        f"replications, seed {document['seed']}"
    )
    table = Table(title="Do the agreements underpin the SLA?")
    table.add_column("target")
    table.add_column("SLA")
    table.add_column("underpinned", no_wrap=True)
    for column in ("gaps", "SLA met if OLAs met", "watermelon", "too tight"):
        table.add_column(column)
    for row in document["sla"]:
        table.add_row(
            sla_label(row),
            f"{format_duration(row['within_h'])} {row['calendar']} @{fmt_pct(row['goal'], 0)}",
            "[green]yes[/green]" if row["underpinned"] else "[red]no[/red]",
            ", ".join(row["gaps"]) or "—",
            fmt_pct(row["p_met_when_olas_met"]),
            fmt_pct(row["watermelon_share"]),
            fmt_pct(row["tight_share"]),
        )
    console.print(table)
    console.print(
        "SLA met if OLAs met = P(SLA met | every OLA/UC on the ticket met); watermelon = share "
        "of SLA breaches on tickets that met every OLA/UC (agreements too loose); too tight = "
        "share of OLA/UC breaches on tickets whose SLA was met"
    )
    for row in document["sla"]:
        if row["underpinned"]:
            continue
        paths = Table(
            title=f"{sla_label(row)} within {format_duration(row['within_h'])} "
            f"({row['calendar']}): agreements along each path, worst case over the measured "
            "span (holidays included)"
        )
        for column in ("path", "tickets", "agreements add up to", "fits"):
            paths.add_column(column)
        for path in row["paths"]:
            missing = f" (no agreement: {', '.join(path['missing'])})" if path["missing"] else ""
            holidays = path.get("holidays_differ") or []
            if holidays:
                missing += " — holidays that close an agreement on this path but not every "
                missing += "calendar on it: "
                missing += ", ".join(str(h["date"]) for h in holidays[:3])
                missing += " …" if len(holidays) > 3 else ""
            paths.add_row(
                _path(path["teams"]),
                fmt_pct(path["share"]),
                _hours(path["ola_sum_h"]) + missing,
                "yes" if path["fits"] else "[red]no[/red]",
            )
        if row["other_share"] > 0:
            paths.add_row("other paths", fmt_pct(row["other_share"]), "not checked", "")
        console.print(paths)
    recs = Table(title="Agreements that would underpin each target at its goal")
    recs.add_column("target")
    recs.add_column(
        "recommended OLA/UC: within @goal on the SLA's calendar (share of visits meeting it now)"
    )
    for row in document["sla"]:
        recs.add_row(sla_label(row), _recommended(row))
    console.print(recs)
