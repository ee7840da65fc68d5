"""``simkit calibrate`` (history → scenario), ``simkit backtest`` (the scenario against a history)
and ``simkit sample`` (regenerate the bundled sample history)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from simkit.cli_common import (
    add_outage_options,
    add_replication_options,
    emit_json,
    executor_from,
    outages_from,
    output_path,
    progress_bar,
    whole_number,
    writing,
)
from simkit.commands.review import add_history_options, date_option, history_from
from simkit.errors import InputError, SpecError
from simkit.units import parse_fraction

if TYPE_CHECKING:
    from simkit.calibrate.history import History
    from simkit.scenario import Scenario

__all__ = ["register"]

Command = Callable[..., argparse.ArgumentParser]


def register(command: Command) -> None:
    """Add ``calibrate``, ``backtest`` and ``sample`` to the command line."""
    p = command(
        "calibrate",
        run_calibrate,
        "fit a scenario to a ticket history: demand, priority mix, teams, routing, pauses",
    )
    _history_options(p)
    p.add_argument(
        "--scenario",
        help="copy targets, calendars, customers and OLAs/UCs from this scenario (where the "
        "names match); its rosters serve teams whose handling the history cannot identify",
    )
    p.add_argument(
        "--agents",
        action="append",
        default=[],
        metavar="TEAM=N",
        help="N agents round the clock for TEAM instead of the inferred roster (repeatable)",
    )
    p.add_argument(
        "--handling-fraction",
        help="for teams without pick-up times and with a given roster: handling = this share "
        "of the observed time at the team (e.g. 30%%); without it they are delay stations",
    )
    p.add_argument(
        "--holidays",
        metavar="CC[/SUB]",
        help="test this country's public holidays for an effect on volume, e.g. GB/ENG",
    )
    add_outage_options(
        p,
        "to fit: each service's unplanned outages become a component it depends on, with "
        "fitted up and restore times",
    )
    p.add_argument(
        "--backlog",
        action="store_true",
        help="start the fitted scenario from the tickets open at the export time (or at "
        "--until): start moves to the first local midnight at or after it, and the run "
        "begins at the export with them in the queues (default: span the history and only "
        "report the backlog)",
    )
    p.add_argument("--name", help="name of the fitted scenario")
    p.add_argument("--out", help="write the scenario YAML here (default: print it)")
    p.add_argument("--report", help="also write the calibration report as JSON here")

    p = command(
        "backtest",
        run_backtest,
        "simulate a scenario over a history's span and compare every target with what happened",
    )
    _history_options(p)
    p.add_argument("--scenario", required=True, help="the scenario to test (e.g. a fitted one)")
    add_replication_options(p)

    p = command(
        "sample",
        run_sample,
        "regenerate the bundled sample history (calibration/sample/) from its scenario, or "
        "export any scenario as a ServiceNow incident log",
    )
    p.add_argument("--scenario", help="export this scenario instead of the bundled sample's")
    p.add_argument("--out", help="file to write (default: the bundled sample file)")
    p.add_argument(
        "--seed",
        type=whole_number("--seed", 0, 42),
        help="seed (default: the scenario's)",
    )
    p.add_argument("--clean", action="store_true", help="leave out the dirt of a real export")
    p.add_argument(
        "--check",
        action="store_true",
        help="regenerate into a temporary file and check it has the bundled file's exact bytes",
    )


def _history_options(p: argparse.ArgumentParser) -> None:
    add_history_options(p)
    p.add_argument(
        "--from",
        dest="from_date",
        help="use tickets opened on or after this local date (YYYY-MM-DD)",
    )
    p.add_argument(
        "--until",
        dest="until_date",
        help="use tickets opened before this local date; later events are treated as unknown",
    )


def _agents(items: list[str]) -> dict[str, int]:
    agents: dict[str, int] = {}
    for item in items:
        team, sep, count = item.rpartition("=")
        try:
            number = int(count)
        except ValueError:
            number = -1
        if not sep or not team.strip() or number < 1:
            raise InputError.single(
                f"--agents {item!r} is not TEAM=N with N ≥ 1",
                "e.g. --agents apps=4",
                path="--agents",
            )
        agents[team.strip()] = number
    return agents


def _fraction(text: str | None) -> float | None:
    if text is None:
        return None
    try:
        return parse_fraction(text)
    except SpecError as error:
        raise InputError.single(error.message, error.fix, path="--handling-fraction") from None


def _window(history: History, args: argparse.Namespace, timezone: str) -> History:
    from simkit.calibrate.fit import history_between, local_midnight

    start = date_option(args.from_date, "--from")
    until = date_option(args.until_date, "--until")
    if start is None and until is None:
        return history
    if start is not None and until is not None and until <= start:
        raise InputError.single(
            "--until must be after --from",
            "until is exclusive: the day after the last day",
            path="--until",
        )
    return history_between(
        history,
        local_midnight(start, timezone) if start is not None else None,
        local_midnight(until, timezone) if until is not None else None,
    )


def run_calibrate(args: argparse.Namespace) -> int:
    from simkit.calibrate.fit import calibrate
    from simkit.scenario import load_scenario

    for flag, target in (("--out", args.out), ("--report", args.report)):
        if target:
            output_path(target, flag)
    if args.backlog and args.from_date:
        raise InputError.single(
            "--backlog starts from every ticket still open at the export, and --from leaves out "
            "the tickets opened before it: the oldest open ones",
            "drop --from with --backlog (--until picks the day the backlog is taken)",
            path="--from",
        )
    given: Scenario | None = load_scenario(args.scenario) if args.scenario else None
    history = history_from(args)
    zone = given.timezone if given is not None else history.timezone
    history = _window(history, args, zone)
    services = list(dict.fromkeys(history.tickets.column("service").to_pylist()))
    outages = outages_from(args, zone, services[0] if len(services) == 1 else None)
    result = calibrate(
        history,
        scenario=given,
        agents=_agents(args.agents),
        handling_fraction=_fraction(args.handling_fraction),
        holidays=args.holidays,
        name=args.name,
        outages=outages,
        backlog=args.backlog,
    )
    if args.out:
        with writing(args.out):
            Path(args.out).write_text(result.yaml, encoding="utf-8")
    if args.report:
        import json

        with writing(args.report, "--report"):
            Path(args.report).write_text(
                json.dumps(result.report, indent=2, allow_nan=False) + "\n"
            )
    if args.json:
        emit_json(
            {
                "scenario": result.scenario.name,
                "written": args.out,
                "yaml": result.yaml,
                "report": result.report,
            }
        )
        return 0
    print(result.describe())
    if args.out:
        print(f"\nscenario written to {args.out}")
    else:
        print("\n" + "-" * 100 + "\n")
        sys.stdout.write(result.yaml)
    return 0


def run_backtest(args: argparse.Namespace) -> int:
    from simkit.calibrate.backtest import backtest
    from simkit.scenario import load_scenario

    scenario = load_scenario(args.scenario)
    history = history_from(args)
    start = date_option(args.from_date, "--from")
    until = date_option(args.until_date, "--until")
    with executor_from(args) as executor, progress_bar("back-testing", not args.json) as progress:
        result = backtest(
            history,
            scenario,
            start=start,
            until=until,
            replications=args.replications,
            seed=args.seed,
            executor=executor,
            progress=progress,
            max_visits=args.max_visits,
        )
    if args.json:
        emit_json(result.document)
    else:
        print(result.describe())
    return 0 if result.document["replications"] else 1


def run_sample(args: argparse.Namespace) -> int:
    import tempfile

    from simkit.calibrate.export import SAMPLE_FILE, export_history, sample_dir
    from simkit.scenario import load_scenario

    folder = sample_dir()
    scenario = (
        load_scenario(args.scenario) if args.scenario else load_scenario(folder / "scenario.yaml")
    )
    # --check only reads the file it compares with: nothing to write there
    target = (
        (Path(args.out) if args.check else output_path(args.out))
        if args.out
        else folder / SAMPLE_FILE
    )
    document: dict[str, Any]
    if args.check:
        import gzip

        with tempfile.TemporaryDirectory() as tmp:
            summary = export_history(
                scenario, Path(tmp) / SAMPLE_FILE, seed=args.seed, dirt=not args.clean
            )
            fresh = (Path(tmp) / SAMPLE_FILE).read_bytes()
        old = target.read_bytes() if target.is_file() else b""
        same_bytes = old == fresh
        same_csv = bool(old) and gzip.decompress(old) == gzip.decompress(fresh)
        document = {
            **summary.as_dict(),
            "written": None,
            "checked": str(target),
            "identical": same_bytes,
            "identical_csv": same_csv,
        }
        if args.json:
            emit_json(document)
        elif same_bytes:
            print(f"the regenerated sample has exactly the bytes of {target}")
        elif same_csv:
            print(
                f"the regenerated sample has the same CSV as {target}; only its compression "
                "differs (another zlib build)"
            )
        else:
            print(f"the regenerated sample DIFFERS from {target}")
        return 0 if same_csv else 1
    with writing(target):
        summary = export_history(scenario, target, seed=args.seed, dirt=not args.clean)
    if args.json:
        emit_json(summary.as_dict())
    else:
        print(
            f"wrote {summary.incidents:,} incidents ({summary.rows:,} rows, {summary.bytes:,} bytes) "
            f"to {summary.path}\n  from {summary.scenario}, seed {summary.seed}, "
            f"{summary.start} … {summary.end}\n  sha256 {summary.sha256}"
        )
    return 0
