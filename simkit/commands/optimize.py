"""``simkit optimize``: the cheapest roster change that makes every SLR achievable."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any

from rich.console import Console
from rich.table import Table

from simkit.analysis.optimize import DEFAULT_BUDGET_RUNS, optimize_staffing
from simkit.cli_common import (
    add_run_options,
    emit_json,
    executor_from,
    progress_bar,
    scenario_from,
)
from simkit.commands.impact import parse_share
from simkit.report.text import fmt_interval

__all__ = ["print_optimization", "register"]

Command = Callable[..., argparse.ArgumentParser]


def register(command: Command) -> None:
    """Add ``simkit optimize`` to the command line."""
    p = command(
        "optimize",
        run,
        "the cheapest change of agents per team and roster line that makes every SLR "
        "achievable: a quick-estimate start, a search by simulation with common random "
        "numbers, and a confirmation with fresh seeds",
    )
    add_run_options(p)
    p.add_argument(
        "--confidence",
        default="80%",
        help="share of reporting periods each SLR must be met in (default 80%%)",
    )
    p.add_argument(
        "--budget",
        type=int,
        default=DEFAULT_BUDGET_RUNS,
        help=f"simulation runs the search may spend (default {DEFAULT_BUDGET_RUNS})",
    )
    p.add_argument(
        "--start",
        choices=("quick", "current"),
        default="quick",
        help="start from the quick estimate (default) or from the current roster",
    )


def run(args: argparse.Namespace) -> int:
    confidence = parse_share(args.confidence, "--confidence")
    scenario = scenario_from(args)
    with (
        executor_from(args) as executor,
        progress_bar("searching rosters", not args.json) as progress,
    ):
        document = optimize_staffing(
            scenario,
            confidence=confidence,
            budget_runs=args.budget,
            replications=args.replications,
            seed=args.seed,
            executor=executor,
            progress=progress,
            start=args.start,
            max_visits=args.max_visits,
        )
    if args.json:
        emit_json(document)
    else:
        print_optimization(document)
    return 0


def _money(value: float, unit: str) -> str:
    sign = "−" if value < 0 else "+"
    amount = f"{abs(value):,.0f}"
    return f"{sign}{amount} agent-hours" if unit == "agent-hours" else f"{sign}{amount}"


def print_optimization(document: dict[str, Any], console: Console | None = None) -> None:
    """Print the roster change, its cost, and the verdicts before, after and on confirmation."""
    console = console or Console()
    unit = document["cost_unit"]
    console.print(
        f"[bold]{document['scenario']}[/bold] — cheapest staffing for every SLR at "
        f"{document['confidence']:.0%} confidence; {document['replications']} replications, "
        f"seed {document['seed']} (confirmation seed {document['confirmation_seed']}); "
        f"{document['runs']} of {document['budget_runs']} simulation runs used"
        + (
            f", starting from the {document['start']['from']}"
            if document["start"]["from"] != "none"
            else ""
        )
    )
    colour = "green" if document["found"] and document["confirmed"] else "yellow"
    console.print(f"[{colour}]{document['message']}[/{colour}]")
    changes = Table(
        title="Roster change" + (" (where the search stopped)" if not document["found"] else "")
    )
    for column in ("team", "roster line", "agents", "now", "cost per month"):
        changes.add_column(column)
    for row in document["changes"]:
        changes.add_row(
            row["team"],
            row["line"],
            f"{row['agents']:+d}",
            f"{row['agents_before']} → {row['agents_after']}",
            _money(row["cost_per_month"], unit),
        )
    changes.add_row("", "total", "", "", _money(document["cost_per_month"], unit))
    if document["changes"]:
        console.print(changes)
    elif document["verdicts_after"]:
        console.print(
            "no roster change" + ("" if document["found"] else " (where the search stopped)")
        )
    if not document["verdicts_before"]:
        return
    confirmation = document["confirmation"]
    verdicts = Table(title="SLR verdicts: P(period meets goal) [95% interval]")
    for column in ("SLR", "before", "after (search seed)", "confirmation (fresh seeds)"):
        verdicts.add_column(column)
    after = {r["label"]: r for r in document["verdicts_after"]}
    confirmed = {r["label"]: r for r in confirmation["verdicts"]} if confirmation else {}

    def cell(row: dict[str, Any] | None) -> str:
        if row is None:
            return "—"
        return f"{row['verdict']} {fmt_interval(row['p_period_met'], 0)}"

    for row in document["verdicts_before"]:
        label = row["label"]
        verdicts.add_row(label, cell(row), cell(after.get(label)), cell(confirmed.get(label)))
    console.print(verdicts)
    console.print(
        f"searched {len(document['searched'])} rosters; run with --json for every candidate, "
        "its cost and its verdicts"
    )
