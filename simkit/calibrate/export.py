"""Simulated tickets written as a ServiceNow incident export, dirt included — the bundled sample
history, and a way to test the whole import → calibrate → back-test path against a known truth.

The layout is ServiceNow's incident audit export (one row per update of an incident, as in the
public "incident management process enriched event log"): ``number, incident_state, active,
reassignment_count, reopen_count, sys_mod_count, caller_id, opened_by, opened_at, …,
assignment_group, assigned_to, …, resolved_by, resolved_at, closed_at``, every value quoted,
``?`` for a missing value, times as local ``YYYY-MM-DD HH:MM:SS``.

How a simulated ticket becomes rows:

======================  ==========================================================================
engine event            row
======================  ==========================================================================
ticket opened           ``New``, assignment group = the entry team, nobody assigned
routed to a team        ``New``, the new group, nobody assigned, ``reassignment_count`` + 1
picked up               ``Active``, ``assigned_to`` an agent of the group
paused (awaiting user)  ``Awaiting User Info``; the user's answer: ``Active`` again
resolved                ``Resolved`` with ``resolved_at``, ``resolved_by``
reopened                ``Active``, ``reopen_count`` + 1, ``resolved_at`` cleared
closed                  ``Closed`` five days after the final resolution, with ``closed_at``
abandoned               ``Canceled``
======================  ==========================================================================

Going back to ``New`` on reassignment is a common ServiceNow configuration (the new group has not
taken the incident yet); it is what makes a group's pick-up time visible. A ticket's return to work
after a pause or a reopening is not a separate pick-up in ServiceNow, so it has no row of its own.

Dirt (:func:`add_dirt`, fixed seed): ``?`` in some descriptive fields, a few incidents without a
priority, a few duplicated rows, a few update times written day-first (``31/01/2025 14:05:09``),
two incidents whose ``opened_at`` lies after their resolution, and the incidents still open at the
export time.

The parts: :mod:`~simkit.calibrate.export_events` (tickets → updates),
:mod:`~simkit.calibrate.export_layout` (updates → ServiceNow columns) and
:mod:`~simkit.calibrate.export_dirt` (the dirt); this module writes the export and the sample.
"""

from __future__ import annotations

import gzip
import hashlib
import io
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.csv as pv

from simkit.calibrate.export_dirt import add_dirt
from simkit.calibrate.export_events import CLOSE_AFTER_H as CLOSE_AFTER_H
from simkit.calibrate.export_events import event_log
from simkit.calibrate.export_layout import COLUMNS
from simkit.calibrate.export_layout import PRIORITY_LABELS as PRIORITY_LABELS
from simkit.engine.compile import RunClock
from simkit.scenario import Scenario, load_scenario

__all__ = [
    "COLUMNS",
    "SAMPLE_FILE",
    "SAMPLE_SCENARIO",
    "ExportSummary",
    "add_dirt",
    "event_log",
    "export_history",
    "make_sample",
    "write_csv_gz",
]

SAMPLE_SCENARIO = "scenario.yaml"
SAMPLE_FILE = "servicenow_incidents.csv.gz"


def write_csv_gz(table: pa.Table, path: str | Path) -> bytes:
    """Write ``table`` as gzip-compressed CSV (every value quoted) with no time stamp or file
    name in the gzip header, so the same table always gives the same bytes; return them."""
    raw = io.BytesIO()
    pv.write_csv(table, raw, pv.WriteOptions(quoting_style="all_valid"))
    packed = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=packed, mtime=0, compresslevel=9) as handle:
        handle.write(raw.getvalue())
    data = packed.getvalue()
    Path(path).write_bytes(data)
    return data


@dataclass(frozen=True)
class ExportSummary:
    """What :func:`export_history` wrote."""

    path: str
    scenario: str
    seed: int
    start: str
    end: str
    incidents: int
    rows: int
    bytes: int
    sha256: str
    dirt: dict[str, Any]

    def as_dict(self) -> dict[str, Any]:
        return {
            "written": self.path,
            "scenario": self.scenario,
            "seed": self.seed,
            "from": self.start,
            "until": self.end,
            "incidents": self.incidents,
            "rows": self.rows,
            "bytes": self.bytes,
            "sha256": self.sha256,
            "dirt": self.dirt,
        }


def export_history(
    scenario: Scenario, out: str | Path, *, seed: int | None = None, dirt: bool = True
) -> ExportSummary:
    """Simulate one replication of ``scenario`` and write the incidents opened in its measured
    span as a ServiceNow export taken at the end of the span (gzip CSV, deterministic).

    Parameters
    ----------
    scenario
        The scenario; its warm-up loads the queues (warm-up incidents are not exported) and its
        drain is ignored (the export is taken at ``start + horizon``).
    out
        The file to write (``.csv.gz``).
    seed
        Seed of the simulation and of the descriptive fields (default: the scenario's).
    dirt
        Add the dirt of a real export (:func:`add_dirt`).
    """
    from simkit.runner import simulate

    run_seed = scenario.seed if seed is None else int(seed)
    moved = scenario.with_patch({"drain": "0h", "changes": None}, name="export")
    results = simulate(moved, replications=1, seed=run_seed)
    if results.failures:
        raise RuntimeError(f"the simulation failed: {results.failures[0].error}")
    clock = RunClock(moved)
    start, end = clock.instant(clock.start), clock.instant(clock.horizon_end)
    table = event_log(
        results.tickets,
        results.visits,
        results.pauses,
        timezone=moved.timezone,
        start=start,
        end=end,
        seed=run_seed,
    )
    found: dict[str, Any] = {}
    if dirt:
        table, found = add_dirt(table, run_seed)
    data = write_csv_gz(table, out)
    return ExportSummary(
        path=str(out),
        scenario=scenario.source or scenario.name,
        seed=run_seed,
        start=str(start.astype("datetime64[s]")) + "Z",
        end=str(end.astype("datetime64[s]")) + "Z",
        incidents=len(set(table["number"].to_pylist())),
        rows=table.num_rows,
        bytes=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
        dirt=found,
    )


def sample_dir() -> Path:
    """The folder of the bundled sample history."""
    from simkit.resources import calibration_dir

    return calibration_dir() / "sample"


def make_sample(out: str | Path | None = None) -> ExportSummary:
    """Regenerate the bundled sample history from ``calibration/sample/scenario.yaml`` with the
    scenario's seed (the same bytes every time).

    Parameters
    ----------
    out
        Where to write (default: ``calibration/sample/servicenow_incidents.csv.gz``).
    """
    folder = sample_dir()
    scenario = load_scenario(folder / SAMPLE_SCENARIO)
    return export_history(scenario, out if out is not None else folder / SAMPLE_FILE)
