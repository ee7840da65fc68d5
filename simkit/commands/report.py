"""``simkit report``: the negotiation brief — one self-contained HTML page (or Markdown)."""

from __future__ import annotations

import argparse
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from simkit.cli_common import (
    add_run_options,
    document_path,
    emit_json,
    executor_from,
    progress_bar,
    writing,
)
from simkit.errors import InputError, SpecError
from simkit.units import parse_fraction

__all__ = ["register"]

Command = Callable[..., argparse.ArgumentParser]


def register(command: Command) -> None:
    """Add ``simkit report`` to the command line."""
    p = command(
        "report",
        run,
        "write the negotiation brief: proposed vs achievable targets with verdicts, staffing "
        "options, OLA/UC gaps, change impact, availability and credits, assumptions — one "
        "self-contained HTML page that opens offline",
    )
    add_run_options(p, changes=False)
    p.add_argument("--out", required=True, help="the file to write, e.g. brief.html or brief.md")
    p.add_argument(
        "--format",
        choices=("html", "md"),
        help="html (default) or md (Markdown, charts as SVG files beside it); default from --out",
    )
    p.add_argument(
        "--change",
        action="append",
        default=[],
        metavar="NAME",
        help="a change of the scenario to compare with the baseline (repeatable)",
    )
    p.add_argument(
        "--together",
        action="store_true",
        help="compare every change at once as one Service Improvement Plan",
    )
    p.add_argument(
        "--confidence",
        default="80%",
        help="share of reporting periods a promise must hold in (default 80%%)",
    )
    p.add_argument(
        "--no-options",
        action="store_true",
        help="skip the staffing options (+1/+2 agents), which need two runs per limiting team",
    )
    p.add_argument("--no-charts", action="store_true", help="tables only, no charts")
    p.epilog = (
        "--change NAME and --set PATH=VALUE are compared with the baseline, as in `simkit "
        "impact`; the targets are those of the scenario as written."
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


def _format(args: argparse.Namespace) -> str:
    from simkit.report.html import format_of

    return format_of(Path(args.out), args.format)


def run(args: argparse.Namespace) -> int:
    from simkit.report.brief import brief_document, write_brief
    from simkit.scenario import load_scenario

    confidence = _confidence(args.confidence)
    chosen = _format(args)
    out = document_path(args.out, args.format, "the brief")
    scenario = load_scenario(args.scenario)
    with (
        executor_from(args) as executor,
        progress_bar("simulating the baseline, options and changes", not args.json) as progress,
    ):
        document = brief_document(
            scenario,
            changes=args.change,
            sets=args.set,
            together=args.together,
            confidence=confidence,
            replications=args.replications,
            seed=args.seed,
            executor=executor,
            progress=progress,
            options=not args.no_options,
            max_visits=args.max_visits,
        )
    with writing(out):
        written = write_brief(document, out, format=chosen, charts=not args.no_charts)
    if args.json:
        emit_json({**document, "written": [str(p) for p in written]})
    else:
        _print_summary(document)
        print(
            f"brief written to {written[0]}"
            + (f" (+{len(written) - 1} charts)" if len(written) > 1 else "")
        )
    return 0 if document["replications"] else 1


def _print_summary(document: Mapping[str, Any]) -> None:
    from simkit.report.text import sla_label

    targets = document["targets"]
    print(
        f"{document['scenario']} — {document['replications']} replications, seed "
        f"{document['seed']}, confidence {document['confidence']:.0%}"
    )
    for row in targets["sla"]:
        print(f"  {sla_label(row)}: {row['words']}")
    for row in targets.get("availability", []):
        print(f"  {row['service']} availability: {row['words']}")
