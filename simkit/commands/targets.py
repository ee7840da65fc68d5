"""``simkit targets``: what can we promise — achievable targets, SLR verdicts, staffing options,
or (``--quick``) the queueing-formula estimate in milliseconds."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any

from rich.console import Console
from rich.table import Table

from simkit.analysis.quick import quick_estimate
from simkit.analysis.targets import achievable_targets, achievable_text
from simkit.cli_common import (
    add_run_options,
    emit_json,
    executor_from,
    progress_bar,
    scenario_from,
)
from simkit.errors import InputError, SpecError
from simkit.report.text import fmt_interval, fmt_pct, sla_label
from simkit.units import format_duration, parse_fraction

__all__ = ["print_quick", "print_targets", "register"]

Command = Callable[..., argparse.ArgumentParser]
_VERDICT_STYLE = {"achievable": "green", "at risk": "yellow", "not achievable": "red"}


def register(command: Command) -> None:
    """Add ``simkit targets`` to the command line."""
    p = command(
        "targets",
        run,
        "what can we promise: the achievable target of every SLA, a verdict on the proposed "
        "one, and what one or two more agents on the limiting team would buy",
    )
    add_run_options(p)
    p.add_argument(
        "--confidence",
        default="80%",
        help="share of reporting periods a promise must hold in (default 80%%)",
    )
    p.add_argument(
        "--quick",
        action="store_true",
        help="print the queueing-formula ESTIMATE instead (milliseconds, no simulation)",
    )
    p.add_argument(
        "--no-options",
        action="store_true",
        help="skip the staffing options (+1/+2 agents), which need two runs per limiting team",
    )


def _confidence(text: str) -> float:
    try:
        value = parse_fraction(text)
    except SpecError as error:
        raise InputError.single(error.message, error.fix, path="--confidence") from None
    if not 0.0 < value < 1.0:
        raise InputError.single(
            f"--confidence must be between 0% and 100%, got {text}",
            "e.g. --confidence 80%",
            path="--confidence",
        )
    return value


def run(args: argparse.Namespace) -> int:
    confidence = _confidence(args.confidence)
    scenario = scenario_from(args)
    if args.quick:
        document = quick_estimate(scenario)
        if args.json:
            emit_json(document)
        else:
            print_quick(document)
        return 0
    with (
        executor_from(args) as executor,
        progress_bar("simulating baseline and staffing options", not args.json) as progress,
    ):
        document = achievable_targets(
            scenario,
            confidence=confidence,
            replications=args.replications,
            seed=args.seed,
            executor=executor,
            progress=progress,
            options=not args.no_options,
            max_visits=args.max_visits,
        )
    if args.json:
        emit_json(document)
    else:
        print_targets(document)
    return 0 if document["replications"] else 1


# -- tables ------------------------------------------------------------------------------------


def _hours(value: float | None) -> str:
    if value is None:
        return "—"
    if value < 1:
        return f"{value * 60:.0f}m" if value * 60 >= 10 else f"{value * 60:.1f}m"
    return f"{value:.1f}h" if value < 100 else f"{value:.0f}h"


def _proposed(row: dict[str, Any]) -> str:
    return (
        f"{format_duration(row['proposed_within_h'])} {row['calendar']} @{fmt_pct(row['goal'], 0)}"
    )


def _verdict(row: dict[str, Any], *, words: bool = True) -> str:
    text = str(row["words"] if words else row["verdict"])
    style = _VERDICT_STYLE.get(row["verdict"], "")
    return f"[{style}]{text}[/{style}]" if style else text


def _money(value: float | None) -> str:
    return "—" if value is None else f"{value:,.0f}"


def print_targets(document: dict[str, Any], console: Console | None = None) -> None:
    """Print the targets document as tables with verdicts in words."""
    console = console or Console()
    c = document["confidence"]
    period = document.get("period", "month")
    console.print(
        f"[bold]{document['scenario']}[/bold] — {document['replications']} replications, "
        f"seed {document['seed']}"
        + (f", changes: {', '.join(document['changes'])}" if document.get("changes") else "")
    )
    console.print(
        f"A target is promised when it is met in at least {fmt_pct(c, 0)} of {period}s: "
        "'achievable' when even the low end of the 95% interval of P(period met) reaches that, "
        "'not achievable' when even its high end falls short, 'at risk' in between."
    )
    table = Table(title="What can we promise? (SLA targets)")
    for column in (
        "SLA",
        "proposed",
        "achievable target",
        "compliance at proposed",
        "P(period met)",
        "verdict",
    ):
        table.add_column(column)
    for row in document["sla"]:
        table.add_row(
            sla_label(row),
            _proposed(row),
            achievable_text(row, _hours) + (" *" if row.get("note") else ""),
            fmt_pct(row["achievable_goal"]),
            fmt_interval(row["p_period_met"], 0),
            _verdict(row),
        )
    console.print(table)
    console.print(
        f"achievable target: the time met at each goal in {fmt_pct(c, 0)} of the "
        f"{period}s simulated (business hours on the target's calendar)"
    )
    for row in document["sla"]:
        if row.get("note"):
            console.print(f"* {sla_label(row)}: {row['note']}")
    if document.get("availability"):
        table = Table(title="Availability")
        for column in (
            "service",
            "proposed",
            "achievable",
            "availability",
            "P(period met)",
            "verdict",
        ):
            table.add_column(column)
        for row in document["availability"]:
            table.add_row(
                str(row["service"]),
                f"{fmt_pct(row.get('target'), 2)} {row.get('calendar', '')}",
                fmt_pct(row.get("achievable"), 3),
                fmt_interval(row.get("availability"), 3),
                fmt_interval(row["p_period_met"], 0),
                _verdict(row),
            )
        console.print(table)
        console.print(
            f"achievable availability: the level reached in {fmt_pct(c, 0)} of the {period}s "
            "simulated"
        )
    if document.get("options"):
        _print_options(document, console)
    for failure in document.get("failures", []):
        console.print(f"[red]replication {failure['replication']} failed: {failure['error']}[/red]")


def _print_options(document: dict[str, Any], console: Console) -> None:
    table = Table(title="Options for the negotiation (staffing of the team that limits each SLA)")
    for column in (
        "SLA",
        "limited by",
        "staffing",
        "achievable target",
        "P(period met)",
        "verdict",
        "added cost / month",
    ):
        table.add_column(column)
    previous = None
    for row in document["options"]:
        first = row["target_index"] != previous
        previous = row["target_index"]
        staffing = (
            "current roster"
            if row["agents"] == 0
            else f"+{row['agents']} on {row['line']} ({row['line_agents']})"
        )
        table.add_row(
            sla_label(row) if first else "",
            (row["team"] or "—") if first else "",
            staffing,
            achievable_text(row, _hours),
            fmt_interval(row["p_period_met"], 0),
            _verdict(row, words=False),
            _money(row["added_cost_per_month"]),
            end_section=row["agents"] == 2,
        )
    console.print(table)
    console.print(
        "limited by: the team whose queue holds the target's tickets longest; staffing options "
        "add agents to its roster line with the most agent-hours and run with the same random "
        "numbers as the baseline"
    )


def print_quick(document: dict[str, Any], console: Console | None = None) -> None:
    """Print the quick estimate, labelled as an estimate throughout."""
    console = console or Console()
    console.print(
        f"[bold]{document['scenario']}[/bold] — [bold yellow]QUICK ESTIMATE[/bold yellow] "
        f"({document['method']}): queueing formulas, not a simulation. "
        "Run `simkit targets` without --quick for the answer."
    )
    table = Table(title="Teams (ESTIMATE)")
    for column in ("team", "model", "visits/week", "utilisation", "overloaded hours"):
        table.add_column(column)
    for row in document["teams"]:
        hours = row["overloaded_hours"]
        shown = ", ".join(hours[:4]) + (f" … ({len(hours)} in all)" if len(hours) > 4 else "")
        if row["kind"] == "team" and not row.get("backlog_clears", True):
            shown = "[red]the week's work exceeds the week's agents[/red] " + shown
        table.add_row(
            row["team"],
            row["model"],
            f"{row['visits_per_week']:.0f}",
            fmt_pct(row["utilization"]),
            shown or "none",
        )
    console.print(table)
    table = Table(title="SLA targets (ESTIMATE)")
    for column in (
        "SLA",
        "target",
        "est. within target",
        "est. mean",
        "est. verdict",
        "in overload",
    ):
        table.add_column(column)
    for row in document["sla"]:
        target = f"{format_duration(row['within_h'])} {row['calendar']} @{fmt_pct(row['goal'], 0)}"
        table.add_row(
            sla_label(row),
            target,
            fmt_pct(row["p_within"]),
            _hours(row["mean_h"]),
            {True: "likely met", False: "[red]likely missed[/red]"}.get(row["meets_goal"], "—"),
            fmt_pct(row["overloaded_share"], 0),
        )
    console.print(table)
    for note in document["notes"]:
        console.print(f"- {note}")
