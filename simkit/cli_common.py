"""Pieces shared by the commands: loading a scenario with --change/--set, choosing an executor,
progress bars, number formatting."""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
from collections.abc import Callable, Iterator
from concurrent.futures import Executor, ProcessPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, Any

from simkit.errors import InputError
from simkit.pools import widen_results_pipe
from simkit.scenario import Scenario, load_scenario
from simkit.scenario.overlay import check_set_path, parse_set, patch_for

if TYPE_CHECKING:
    from simkit.calibrate.outages import OutageHistory

__all__ = [
    "add_outage_options",
    "add_replication_options",
    "add_run_options",
    "document_path",
    "emit_json",
    "executor_from",
    "outages_from",
    "output_path",
    "progress_bar",
    "scenario_from",
    "whole_number",
    "writing",
]


def whole_number(
    flag: str, minimum: int, example: int, maximum: int | None = None
) -> Callable[[str], int]:
    """An argparse ``type`` for ``flag``: a whole number from ``minimum`` (to ``maximum``),
    refused with an :class:`InputError` naming the flag, the range and an example."""

    def parse(text: str) -> int:
        try:
            value = int(text.strip().replace("_", ""))
        except ValueError:
            raise InputError.single(
                f"{flag} {text!r} is not a whole number", f"e.g. {flag} {example}", path=flag
            ) from None
        if value < minimum or (maximum is not None and value > maximum):
            bound = f"at least {minimum:,}" if maximum is None else f"{minimum:,} to {maximum:,}"
            raise InputError.single(
                f"{flag} {value:,} is out of range: it must be {bound}",
                f"e.g. {flag} {example}",
                path=flag,
            )
        return value

    return parse


def output_path(text: str, flag: str = "--out", *, folder: bool = False) -> Path:
    """The file (or ``folder``) ``flag`` names, checked before any work is done: not a folder
    where a file is wanted (or the reverse), and in a folder that exists or can be made and can
    be written to. Raises :class:`InputError` otherwise."""
    path = Path(text)
    if folder and path.exists() and not path.is_dir():
        raise InputError.single(
            f"{flag} {text} is a file, not a folder",
            f"name a folder for the output, e.g. {flag} results/",
            path=flag,
        )
    if not folder and path.is_dir():
        raise InputError.single(
            f"{flag} {text} is a folder",
            f"name the file to write in it, e.g. {flag} {path / 'out'}",
            path=flag,
        )
    ancestor = path if folder else path.parent
    while not ancestor.exists() and ancestor != ancestor.parent:
        ancestor = ancestor.parent
    if not ancestor.is_dir() or not os.access(ancestor, os.W_OK | os.X_OK):
        raise InputError.single(
            f"{flag} {text}: cannot write in {ancestor}",
            "choose a place you can write to",
            path=flag,
        )
    with writing(text, flag):  # made now, not after the work: some places refuse it anyway
        (path if folder else path.parent).mkdir(parents=True, exist_ok=True)
    return path


def document_path(text: str, format: str | None, what: str) -> Path:
    """:func:`output_path` for a document written as HTML or Markdown (the brief, the review
    pack): without ``format``, the name must say which, or it is refused before any work."""
    from simkit.report.html import HTML_NAMES, MARKDOWN_NAMES

    if format is None and Path(text).suffix.lower() not in HTML_NAMES + MARKDOWN_NAMES:
        raise InputError.single(
            f"--out {text}: {what} is written as HTML or Markdown, and the name says neither",
            "end the name with .html or .md (or choose the format with --format)",
            path="--out",
        )
    return output_path(text)


@contextlib.contextmanager
def writing(target: str | Path, flag: str = "--out") -> Iterator[None]:
    """Turn a failure to write ``target`` into an :class:`InputError` naming ``flag``."""
    try:
        yield
    except OSError as error:
        reason = error.strerror or type(error).__name__
        raise InputError.single(
            f"{flag} {target}: cannot write it ({reason})",
            "choose a place you can write to",
            path=flag,
        ) from None


def emit_json(document: Any) -> None:
    """Print one JSON document on standard output (no NaN: missing values are null)."""
    sys.stdout.write(json.dumps(document, indent=2, allow_nan=False, default=str) + "\n")


def add_run_options(parser: argparse.ArgumentParser, *, changes: bool = True) -> None:
    parser.add_argument("scenario", help="scenario YAML file")
    add_replication_options(parser)
    if changes:
        parser.add_argument(
            "--change",
            action="append",
            default=[],
            metavar="NAME",
            help="apply a named change from the scenario (repeatable)",
        )
    parser.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="PATH=VALUE",
        help="override one value, e.g. teams.apps.shrinkage=25%% (repeatable)",
    )


def add_replication_options(parser: argparse.ArgumentParser) -> None:
    """--replications, --seed, --workers | --scheduler and --max-visits."""
    parser.add_argument(
        "--replications",
        type=whole_number("--replications", 1, 20),
        help="replications (default: the scenario's)",
    )
    parser.add_argument(
        "--seed",
        type=whole_number("--seed", 0, 42),
        help="random seed (default: the scenario's)",
    )
    group = parser.add_mutually_exclusive_group()
    group.add_argument(
        "--workers",
        type=whole_number("--workers", 1, 2),
        help="run replications on N local processes",
    )
    group.add_argument("--scheduler", help="run replications on a Dask cluster at ADDR")
    parser.add_argument(
        "--max-visits",
        type=whole_number("--max-visits", 1, 10_000_000),
        default=5_000_000,
        help="refuse scenarios expecting more visits per replication (default 5,000,000)",
    )


def scenario_from(args: argparse.Namespace) -> Scenario:
    """The scenario named on the command line with its --change and --set applied."""
    scenario = load_scenario(args.scenario)
    for name in getattr(args, "change", []) or []:
        scenario = scenario.apply(name)
    for item in getattr(args, "set", []) or []:
        path, value = parse_set(item)
        check_set_path(scenario, path)
        scenario = scenario.with_patch(patch_for(path, value), name=f"--set {path}")
    return scenario


def executor_from(args: argparse.Namespace) -> contextlib.AbstractContextManager[Executor | None]:
    workers = getattr(args, "workers", None)
    scheduler = getattr(args, "scheduler", None)
    if workers is not None:
        if workers < 1:
            raise InputError.single(
                "--workers must be at least 1", "e.g. --workers 2", path="--workers"
            )
        pool = ProcessPoolExecutor(max_workers=workers)
        widen_results_pipe(pool)
        return pool
    if scheduler:
        return _dask_executor(scheduler)
    return contextlib.nullcontext(None)


@contextlib.contextmanager
def _dask_executor(address: str) -> Iterator[Executor]:
    try:
        from distributed import Client
    except ImportError:
        raise InputError.single(
            "--scheduler needs Dask's distributed package",
            "pip install 'simkit[distributed]'",
            path="--scheduler",
        ) from None
    try:
        client = Client(address, timeout="10s")  # type: ignore[no-untyped-call]
    except (OSError, ValueError) as error:  # unreachable, or not an address (no port …)
        raise InputError.single(
            f"cannot reach the Dask scheduler at {address}: {error}",
            "check the address (tcp://host:8786) and that the scheduler runs",
            path="--scheduler",
        ) from None
    try:
        yield client.get_executor()  # type: ignore[no-untyped-call]
    finally:
        client.close()  # type: ignore[no-untyped-call]


@contextlib.contextmanager
def progress_bar(label: str, enabled: bool) -> Iterator[Any]:
    """A rich progress bar on standard error; yields a ``progress(done, total)`` callback."""
    if not enabled or not sys.stderr.isatty():
        yield None
        return
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn

    with Progress(
        "[progress.description]{task.description}",
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        transient=True,
        console=_stderr_console(),
    ) as bar:
        task = bar.add_task(label, total=None)

        def update(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        yield update


def _stderr_console() -> Any:
    from rich.console import Console

    return Console(stderr=True)


def add_outage_options(parser: argparse.ArgumentParser, purpose: str) -> None:
    """``--outages``, ``--outage-service`` and ``--outage-date-format``."""
    parser.add_argument(
        "--outages",
        help=f"outage history (CSV/Parquet: start, end, planned, service, …) {purpose}",
    )
    parser.add_argument(
        "--outage-service", help="the service of every outage when the file has no service column"
    )
    parser.add_argument(
        "--outage-date-format",
        help="date format of the outage file, e.g. '%%m/%%d/%%Y %%H:%%M' (default: ISO, then "
        "year-first, day-first and month-first, one format for a whole column where one reads it)",
    )


def outages_from(
    args: argparse.Namespace, timezone: str, service: str | None
) -> OutageHistory | None:
    """The outage history the options name (``service``: the default for a file without a
    service column, unless ``--outage-service`` gives one); ``None`` without ``--outages``."""
    if not args.outages:
        return None
    from simkit.calibrate.outages import DEFAULT_FORMATS, load_outages

    formats = (args.outage_date_format,) if args.outage_date_format else DEFAULT_FORMATS
    return load_outages(
        args.outages,
        timezone=timezone,
        service=args.outage_service or service,
        date_formats=formats,
    )
