"""Pieces shared by the commands: loading a scenario with --change/--set, choosing an executor,
progress bars, number formatting."""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
from collections.abc import Iterator
from concurrent.futures import Executor, ProcessPoolExecutor
from typing import Any

from simkit.errors import InputError
from simkit.scenario import Scenario, load_scenario
from simkit.scenario.overlay import parse_set, patch_for

__all__ = [
    "add_run_options",
    "emit_json",
    "executor_from",
    "progress_bar",
    "scenario_from",
]


def emit_json(document: Any) -> None:
    """Print one JSON document on standard output (no NaN: missing values are null)."""
    sys.stdout.write(json.dumps(document, indent=2, allow_nan=False, default=str) + "\n")


def add_run_options(parser: argparse.ArgumentParser, *, changes: bool = True) -> None:
    parser.add_argument("scenario", help="scenario YAML file")
    parser.add_argument("--replications", type=int, help="replications (default: the scenario's)")
    parser.add_argument("--seed", type=int, help="random seed (default: the scenario's)")
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--workers", type=int, help="run replications on N local processes")
    group.add_argument("--scheduler", help="run replications on a Dask cluster at ADDR")
    parser.add_argument(
        "--max-visits",
        type=int,
        default=5_000_000,
        help="refuse scenarios expecting more visits per replication (default 5,000,000)",
    )
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


def scenario_from(args: argparse.Namespace) -> Scenario:
    """The scenario named on the command line with its --change and --set applied."""
    scenario = load_scenario(args.scenario)
    for name in getattr(args, "change", []) or []:
        scenario = scenario.apply(name)
    for item in getattr(args, "set", []) or []:
        path, value = parse_set(item)
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
        return ProcessPoolExecutor(max_workers=workers)
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
    except OSError as error:
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
