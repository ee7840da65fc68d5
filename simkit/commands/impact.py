"""``simkit impact``: what a change does to service levels, paired against the baseline."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any

from rich.console import Console
from rich.table import Table

from simkit.analysis.impact import DEFAULT_CONFIDENCE, change_impact, fmt_delta, fmt_row_delta
from simkit.cli_common import add_run_options, emit_json, executor_from, progress_bar
from simkit.errors import InputError, SpecError
from simkit.report.text import fmt_pct
from simkit.scenario import load_scenario
from simkit.units import parse_fraction

__all__ = ["fmt_delta", "parse_share", "print_impact", "register"]

Command = Callable[..., argparse.ArgumentParser]


def register(command: Command) -> None:
    """Add ``simkit impact`` to the command line."""
    p = command(
        "impact",
        run,
        "what a change does to the service levels: each change against the baseline, paired "
        "replication by replication (or all together as one plan with --together)",
    )
    add_run_options(p, changes=False)
    p.add_argument(
        "--change",
        action="append",
        default=[],
        metavar="NAME",
        help="a change defined under changes: in the scenario (repeatable)",
    )
    p.add_argument(
        "--together",
        action="store_true",
        help="apply every change at once as one Service Improvement Plan, shown period by period",
    )
    p.add_argument(
        "--confidence",
        default=f"{DEFAULT_CONFIDENCE:.0%}",
        help="share of periods that must meet the goal for the SLR verdict (default 80%%)",
    )
    p.epilog = (
        "--set PATH=VALUE compares an ad-hoc change named after its path, e.g. "
        "--set teams.apps.shrinkage=25%"
    )


def parse_share(text: str, option: str) -> float:
    """A command-line percentage (``80%`` or ``0.8``) as a fraction, or an :class:`InputError`."""
    try:
        return parse_fraction(text)
    except SpecError as error:
        raise InputError.single(error.message, error.fix, path=option) from None


def run(args: argparse.Namespace) -> int:
    confidence = parse_share(args.confidence, "--confidence")
    scenario = load_scenario(args.scenario)
    with (
        executor_from(args) as executor,
        progress_bar("simulating baseline and changes", not args.json) as progress,
    ):
        document = change_impact(
            scenario,
            args.change,
            together=args.together,
            sets=args.set,
            replications=args.replications,
            seed=args.seed,
            executor=executor,
            progress=progress,
            confidence=confidence,
            max_visits=args.max_visits,
        )
    if args.json:
        emit_json(document)
    else:
        print_impact(document)
    documents = [document["baseline"], *(c["change_document"] for c in document["changes"])]
    return 0 if all(d["replications"] for d in documents) else 1


def _style(effect: str) -> str:
    return {"improves": "green", "worsens": "red"}.get(effect, "")


def _short_verdict(row: dict[str, Any]) -> str:
    """The verdict for a table cell: the effect, and the SLR verdict where the change flips it."""
    delta = row["compliance_delta"] or {}
    if row["effect"] in ("improves", "worsens"):
        text = row["effect"]
    elif delta.get("mean") == 0.0 and delta.get("lo") == 0.0 and delta.get("hi") == 0.0:
        text = "no effect (identical)"
    elif row["effect"] == "none":
        text = "no detectable effect"
    else:
        text = row["verdict"]
    slr = row.get("slr") or {}
    if slr.get("flips"):
        text += f"; {slr['baseline']} → {slr['change']}"
    style = _style(row["effect"])
    return f"[{style}]{text}[/{style}]" if style else text


def _mean(interval: dict[str, Any] | None) -> str:
    return fmt_pct((interval or {}).get("mean"))


def print_impact(document: dict[str, Any], console: Console | None = None) -> None:
    """Print each change's comparison with the baseline (and a plan's or a temporary change's
    period table)."""
    console = console or Console()
    base = document["baseline"]
    console.print(
        f"[bold]{document['scenario']}[/bold] — baseline against "
        f"{'one plan' if document.get('together') else 'each change'}, "
        f"{document['replications']} replications with common random numbers, seed "
        f"{document['seed']}"
    )
    console.print(
        "compliance: mean over replications; differences: change − baseline in percentage "
        "points [95% paired interval]; P(period met): share of full periods meeting the goal; "
        f"SLR verdicts at {document.get('confidence', DEFAULT_CONFIDENCE):.0%} confidence"
    )
    for change in document["changes"]:
        title = f"Change: {change['name']}"
        window = change.get("window")
        if window:
            title += f" (from {window['from']} until {window['until']})"
        if change.get("plan"):
            title = "Service Improvement Plan: " + change["name"]
        table = Table(title=title)
        for column in ("target", "baseline", "with change", "Δ compliance", "Δ P(period met)"):
            table.add_column(column)
        table.add_column("verdict", overflow="fold")
        for row in change["rows"]:
            table.add_row(
                row["label"],
                _mean(row["baseline_compliance"]),
                _mean(row["change_compliance"]),
                fmt_row_delta(row),
                fmt_delta(row["p_period_met_delta"]),
                _short_verdict(row),
            )
        console.print(table)
        for row in change["rows"]:
            if row["effect"] in ("improves", "worsens") or (row.get("slr") or {}).get("flips"):
                console.print(f"  {row['label']}: {row['words']}")
        if (change.get("plan") or window) and change.get("periods"):
            _print_periods(change, console)
    for failure in base.get("failures", []):
        console.print(
            f"[red]baseline replication {failure['replication']} failed: {failure['error']}[/red]"
        )


def _print_periods(change: dict[str, Any], console: Console) -> None:
    table = Table(title=f"{change['name']}: period by period")
    for column in ("period", "target", "baseline", "with change", "Δ compliance", "pairs"):
        table.add_column(column)
    for row in change["periods"]:
        period = row["period"] + ("" if row["full"] else " (partial)")
        table.add_row(
            period,
            row["label"],
            _mean(row["baseline_compliance"]),
            _mean(row["change_compliance"]),
            fmt_row_delta(row),
            str(row["replications"]),
        )
    console.print(table)
