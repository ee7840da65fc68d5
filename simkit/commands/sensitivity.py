"""``simkit sensitivity``: which inputs move each target most (a tornado table)."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any

from rich.console import Console
from rich.table import Table

from simkit.analysis.sensitivity import DEFAULT_STEP, sensitivity
from simkit.cli_common import (
    add_run_options,
    emit_json,
    executor_from,
    progress_bar,
    scenario_from,
)
from simkit.commands.impact import fmt_delta, parse_share
from simkit.report.text import fmt_interval

__all__ = ["print_sensitivity", "register"]

Command = Callable[..., argparse.ArgumentParser]
_BAR = 12


def register(command: Command) -> None:
    """Add ``simkit sensitivity`` to the command line."""
    p = command(
        "sensitivity",
        run,
        "which inputs move each target most: volume, handling time, staffing, pause rate and "
        "supplier time each moved down and up (a tornado table)",
    )
    add_run_options(p)
    p.add_argument(
        "--step",
        default=f"{DEFAULT_STEP:.0%}",
        help="how far each input moves down and up (default 10%%)",
    )
    p.add_argument(
        "--target",
        action="append",
        default=None,
        metavar="LABEL",
        help="report only this target, e.g. 'payroll P1 resolve' or 'apps OLA resolve' "
        "(repeatable)",
    )


def run(args: argparse.Namespace) -> int:
    step = parse_share(args.step, "--step")
    scenario = scenario_from(args)
    with (
        executor_from(args) as executor,
        progress_bar("simulating the tornado runs", not args.json) as progress,
    ):
        document = sensitivity(
            scenario,
            step=step,
            targets=args.target,
            replications=args.replications,
            seed=args.seed,
            executor=executor,
            progress=progress,
            max_visits=args.max_visits,
        )
    if args.json:
        emit_json(document)
    else:
        print_sensitivity(document)
    return 0 if document["baseline"]["replications"] else 1


def _bar(value: float | None, largest: float) -> str:
    if value is None or largest <= 0:
        return ""
    return "█" * max(1 if value > 0 else 0, round(_BAR * value / largest))


def print_sensitivity(document: dict[str, Any], console: Console | None = None) -> None:
    """Print one tornado table per target, inputs by swing, largest first."""
    console = console or Console()
    step = document["step"]
    console.print(
        f"[bold]{document['scenario']}[/bold] — each input moved by −{step:.0%} and +{step:.0%}, "
        f"{document['replications']} replications with common random numbers, seed "
        f"{document['seed']}"
    )
    console.print(
        "change in compliance from the baseline in percentage points [95% paired interval]; "
        "swing = |high − low|"
    )
    groups: dict[str, list[dict[str, Any]]] = {}
    for row in document["rows"]:
        groups.setdefault(row["label"], []).append(row)
    for label, rows in groups.items():
        largest = max((r["swing"] or 0.0 for r in rows), default=0.0)
        baseline = fmt_interval(rows[0]["baseline_compliance"])
        table = Table(title=f"{label} — baseline compliance {baseline}")
        for column in ("input", f"−{step:.0%}", f"+{step:.0%}", "swing"):
            table.add_column(column)
        table.add_column("", no_wrap=True, min_width=_BAR)
        for row in rows:
            swing = row["swing"]
            table.add_row(
                row["input"] + _factors(row, step),
                fmt_delta(row["low"]),
                fmt_delta(row["high"]),
                "—" if swing is None else f"{swing * 100:.1f} pp",
                _bar(swing, largest),
            )
        console.print(table)
    for item in document.get("skipped", []):
        console.print(f"skipped {item['input']}: {item['reason']}")


def _factors(row: dict[str, Any], step: float) -> str:
    """Where rounding to whole agents moved an input by other than ±step, say by how much."""
    low, high = row["low_factor"], row["high_factor"]
    if abs(low - (1 - step)) < 1e-9 and abs(high - (1 + step)) < 1e-9:
        return ""
    return f" ({(low - 1) * 100:+.0f}% / {(high - 1) * 100:+.0f}%)".replace("-", "−")
