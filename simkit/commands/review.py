"""``simkit review``: how a history met a scenario's SLA, OLA and UC targets, period by period."""

from __future__ import annotations

import argparse
import datetime as dt
from collections.abc import Callable, Mapping
from typing import Any

from simkit.calibrate.quality import outage_quality_summary, quality_summary
from simkit.cli_common import (
    add_outage_options,
    document_path,
    emit_json,
    outages_from,
    whole_number,
    writing,
)
from simkit.errors import InputError

__all__ = ["add_history_options", "date_option", "history_from", "print_review", "register"]

Command = Callable[..., argparse.ArgumentParser]


def register(command: Command) -> None:
    """Add ``simkit review`` to the command line."""
    p = command(
        "review",
        run,
        "measure a ticket history against a scenario's SLA, OLA and UC targets, period by "
        "period, with the code that measures simulations",
    )
    add_history_options(p)
    p.add_argument("--scenario", required=True, help="scenario whose targets are measured")
    p.add_argument("--out", help="write the review as a self-contained HTML page here")
    p.add_argument(
        "--map",
        action="append",
        default=[],
        metavar="KIND:HISTORY=SCENARIO",
        help="match a history name to a scenario name, KIND one of service, priority, "
        "customer, team (repeatable), e.g. --map priority:S1=P1 --map 'team:Group 56=desk'",
    )
    p.add_argument(
        "--from", dest="from_date", help="measure from this local date (default: first ticket)"
    )
    p.add_argument(
        "--until", dest="until_date", help="measure until this local date (default: export time)"
    )
    p.add_argument(
        "--breaches",
        type=whole_number("--breaches", 0, 20),
        default=20,
        help="how many of the worst breaches to list",
    )
    add_outage_options(
        p, "to measure availability per period against the scenario's availability targets"
    )
    p.add_argument(
        "--replications",
        type=whole_number("--replications", 0, 20),
        help="simulated runs of the scenario for the model's expectation in the review pack "
        "(default: the scenario's; 0 skips it)",
    )
    p.add_argument(
        "--seed",
        type=whole_number("--seed", 0, 42),
        help="seed of those runs (default: the scenario's)",
    )
    p.add_argument(
        "--format", choices=("html", "md"), help="html (default) or md; default from --out"
    )


def add_history_options(p: argparse.ArgumentParser) -> None:
    """The options that read a history: the file, profile and its overrides."""
    p.add_argument("history", help="ticket export: CSV, Parquet or XES (optionally compressed)")
    p.add_argument(
        "--profile",
        required=True,
        help="mapping profile: servicenow, jira, bpic2013, bpic2014, helpdesk, generic, or a "
        "profile .yaml file",
    )
    p.add_argument("--timezone", help="time zone of the export's clock times (IANA name)")
    p.add_argument("--date-format", help="date format of the export, e.g. '%%d/%%m/%%Y %%H:%%M'")
    p.add_argument("--service", help="service name for tickets without one")
    p.add_argument(
        "--column",
        action="append",
        default=[],
        metavar="FIELD=COLUMN",
        help="name the export column of a field, e.g. --column opened_at='Created On' "
        "(repeatable; fields: ticket, opened_at, resolved_at, state, team, priority, …)",
    )
    p.add_argument("--delimiter", help="CSV delimiter (default: sniffed), e.g. ';' or tab")
    p.add_argument(
        "--max-bytes",
        type=int,
        help="refuse exports larger than this once decompressed (default 2 GiB)",
    )


def date_option(text: str | None, flag: str) -> dt.date | None:
    """The local date given with ``flag``, or ``None``."""
    if text is None:
        return None
    try:
        return dt.date.fromisoformat(text.strip())
    except ValueError:
        raise InputError.single(
            f"{flag} {text!r} is not a date", "write YYYY-MM-DD, e.g. 2025-04-01", path=flag
        ) from None


def history_from(args: argparse.Namespace) -> Any:
    """Load the history named by :func:`add_history_options`' options."""
    from simkit.calibrate import DEFAULT_MAX_BYTES, load_history
    from simkit.calibrate.profiles import load_profile

    profile = load_profile(args.profile)
    columns: dict[str, str] = {}
    for item in args.column or []:
        name, sep, column = item.partition("=")
        if not sep or not name.strip():
            raise InputError.single(
                f"--column {item!r} is not FIELD=COLUMN",
                "e.g. --column opened_at='Created On'",
                path="--column",
            )
        columns[name.strip()] = column.strip()
    if columns or args.delimiter:
        profile = profile.with_overrides(columns=columns, delimiter=args.delimiter)
    return load_history(
        args.history,
        profile,
        timezone=args.timezone,
        date_format=args.date_format,
        service=args.service,
        max_bytes=args.max_bytes or DEFAULT_MAX_BYTES,
    )


def run(args: argparse.Namespace) -> int:
    from simkit.calibrate.review import parse_map_option, review
    from simkit.scenario import load_scenario

    if args.out:
        document_path(args.out, args.format, "the review pack")
    names = parse_map_option(args.map)
    start = date_option(args.from_date, "--from")
    until = date_option(args.until_date, "--until")
    scenario = load_scenario(args.scenario)
    history = history_from(args)
    with_targets = [n for n, s in scenario.services.items() if s.availability is not None]
    outages = outages_from(
        args,
        args.timezone or scenario.timezone,
        with_targets[0] if len(with_targets) == 1 else None,
    )
    document = review(
        history,
        scenario,
        names=names,
        start=start,
        until=until,
        breaches=args.breaches,
        outages=outages,
    )
    if args.out:
        from simkit.report.review_data import expected_performance
        from simkit.report.review_pack import write_review_pack

        # the model's expectation, made once: the pack shows it, and --json prints it as "model"
        model = (
            expected_performance(document, scenario, replications=args.replications, seed=args.seed)
            if args.replications != 0
            else None
        )
        with writing(args.out):
            write_review_pack(
                document,
                args.out,
                scenario=scenario,
                replications=args.replications,
                seed=args.seed,
                format=args.format,
                expected=model,
            )
        document = {**document, "written": args.out, "model": model}
    if args.json:
        emit_json(document)
    else:
        print_review(document)
        if args.out:
            print(f"review written to {args.out}")
    return 0


def print_review(document: Mapping[str, Any]) -> None:
    """The review as rich tables on standard output."""
    from rich.console import Console
    from rich.table import Table

    from simkit.calibrate.review import fmt_hours, fmt_pct, target_label, verdict

    console = Console()
    span = document["span"]
    console.print(f"[bold]Service review — {document['scenario']}[/bold]")
    console.print(
        f"{document['source']} (profile {document['profile']}): {span['start']} … {span['end']}, "
        f"{span['full_periods']} full and {span['partial_periods']} partial {span['period']}s "
        f"({span['timezone']})"
    )
    sla = Table(title="SLA targets", title_justify="left")
    for name in ("target", "within", "goal", "tickets", "open", "compliance", "periods met", ""):
        sla.add_column(name, justify="right" if name in ("tickets", "open") else "left")
    for r in document["sla"]:
        outcome = verdict(r)
        colour = {"met": "green", "missed": "red"}.get(outcome, "dim")
        sla.add_row(
            target_label(r),
            fmt_hours(r["within_h"]),
            fmt_pct(r["goal"]),
            f"{r['tickets']:.0f}",
            f"{r['open']:.0f}",
            fmt_pct(r["compliance"]["mean"]),
            fmt_pct(r["p_period_met"]["mean"]),
            f"[{colour}]{outcome}[/{colour}]",
        )
    console.print(sla)
    if document["ola"]:
        ola = Table(title="OLA / UC targets", title_justify="left")
        for name in ("team", "kind", "metric", "within", "goal", "visits", "compliance", ""):
            ola.add_column(name)
        for r in document["ola"]:
            outcome = verdict(r)
            colour = {"met": "green", "missed": "red"}.get(outcome, "dim")
            ola.add_row(
                r["team"],
                r["kind"],
                r["metric"],
                fmt_hours(r["within_h"]),
                fmt_pct(r["goal"]),
                f"{r['tickets']:.0f}",
                fmt_pct(r["compliance"]["mean"]),
                f"[{colour}]{outcome}[/{colour}]",
            )
        console.print(ola)
    if document["breaches"]:
        worst = Table(title="Worst breaches", title_justify="left")
        for name in ("ticket", "target", "opened", "took", "× target", "period"):
            worst.add_column(name)
        for b in document["breaches"][:10]:
            worst.add_row(
                str(b["ticket"]),
                target_label(b),
                str(b["opened_at"]),
                fmt_hours(b["time_h"]) + (" (open)" if b["open"] else ""),
                f"{b['times_target']:.1f}",
                str(b["period"]),
            )
        console.print(worst)
    for kind, m in document["mapping"].items():
        if m["unmatched_history"]:
            shown = ", ".join(m["unmatched_history"][:8])
            more = (
                f" and {len(m['unmatched_history']) - 8} more"
                if len(m["unmatched_history"]) > 8
                else ""
            )
            console.print(
                f"[yellow]not measured[/yellow]: history {kind} {shown}{more} — no scenario "
                f"{kind} of that name (use --map {kind}:NAME=SCENARIO_NAME)"
            )
        if m["unmatched_scenario"]:
            console.print(
                f"[yellow]no history[/yellow] for scenario {kind} "
                + ", ".join(m["unmatched_scenario"])
            )
        for unused in m["unused_maps"]:
            console.print(
                f"[yellow]unused[/yellow]: --map {kind}:{unused} — the history has no {kind} "
                "of that name (a typo, or none this time)"
            )
    if document.get("availability"):
        from simkit.report.text import fmt_interval
        from simkit.report.text import fmt_pct as pct

        table = Table(title="Availability (agreed service time)", title_justify="left")
        for name in ("service", "target", "availability", "periods met", "outages/period"):
            table.add_column(name)
        for r in document["availability"]:
            per = r.get("outages_per_period")
            table.add_row(
                r["service"],
                pct(r["target"], 2),
                fmt_interval(r["availability"], 3),
                fmt_interval(r["p_period_met"], 0),
                "—" if per is None else f"{per:.2f}",
            )
        console.print(table)
    for line in quality_summary(document["quality"]):
        console.print(line, markup=False)
    if document.get("outage_quality"):
        for line in outage_quality_summary(document["outage_quality"]):
            console.print(line, markup=False)
