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
"""

from __future__ import annotations

import gzip
import hashlib
import io
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pv

from simkit.calibrate.fit import as_instant
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
CLOSE_AFTER_H = 5 * 24.0
"""Resolved incidents close automatically after five days."""

COLUMNS = (
    "number",
    "incident_state",
    "active",
    "reassignment_count",
    "reopen_count",
    "sys_mod_count",
    "caller_id",
    "opened_by",
    "opened_at",
    "sys_created_by",
    "sys_created_at",
    "sys_updated_by",
    "sys_updated_at",
    "contact_type",
    "location",
    "category",
    "subcategory",
    "business_service",
    "company",
    "impact",
    "urgency",
    "priority",
    "assignment_group",
    "assigned_to",
    "knowledge",
    "notify",
    "problem_id",
    "vendor",
    "close_code",
    "resolved_by",
    "resolved_at",
    "closed_at",
)

PRIORITY_LABELS = {
    "P1": "1 - Critical",
    "P2": "2 - High",
    "P3": "3 - Moderate",
    "P4": "4 - Low",
    "P5": "5 - Planning",
}
_IMPACT = {
    "P1": ("1 - High", "1 - High"),
    "P2": ("1 - High", "2 - Medium"),
    "P3": ("2 - Medium", "2 - Medium"),
}
_LOW = ("3 - Low", "3 - Low")

OPEN, REASSIGN, PICKUP, AWAIT, RESUME, RESOLVE, REOPEN, CANCEL, CLOSE = range(9)
_STATE = (
    "New",
    "New",
    "Active",
    "Awaiting User Info",
    "Active",
    "Resolved",
    "Active",
    "Canceled",
    "Closed",
)
_US_PER_S = 1_000_000
_US_PER_H = 3_600_000_000

_CATEGORIES = (
    ("Software", "Email"),
    ("Software", "Payroll application"),
    ("Software", "Office suite"),
    ("Hardware", "Laptop"),
    ("Hardware", "Printer"),
    ("Network", "VPN"),
    ("Network", "Wi-Fi"),
    ("Inquiry / Help", "How to"),
    ("Access", "Password reset"),
    ("Access", "New account"),
)
_LOCATIONS = ("London", "Manchester", "Leeds", "Bristol", "Glasgow", "Remote")
_CONTACT = ("Self-service", "Email", "Phone", "Walk-in", "Chat")


def _us(column: pa.ChunkedArray | pa.Array) -> np.ndarray:
    values = np.asarray(column.to_numpy(zero_copy_only=False)).astype("datetime64[us]")
    out = values.astype(np.int64)
    return np.where(np.isnat(values), np.iinfo(np.int64).max, out)


def _local_text(us: np.ndarray, timezone: str) -> np.ndarray:
    """Local ``YYYY-MM-DD HH:MM:SS`` strings of UTC instants (whole seconds)."""
    seconds = us // _US_PER_S
    utc = pa.array(seconds, pa.timestamp("s", tz="UTC")).cast(pa.timestamp("s", tz=timezone))
    local = pc.local_timestamp(utc)
    text = pc.strftime(local, format="%Y-%m-%d %H:%M:%S")
    return np.asarray(text.to_numpy(zero_copy_only=False), dtype=object)


def _day_first(text: np.ndarray) -> np.ndarray:
    """``2025-01-31 14:05:09`` → ``31/01/2025 14:05:09``."""
    return np.asarray(
        [f"{t[8:10]}/{t[5:7]}/{t[0:4]} {t[11:]}" for t in text.tolist()], dtype=object
    )


@dataclass(frozen=True)
class _Rows:
    ticket: np.ndarray
    time: np.ndarray
    kind: np.ndarray
    team: np.ndarray
    agent: np.ndarray


def _agents(visits: pa.Table, rng: np.random.Generator, pool: int) -> np.ndarray:
    teams = np.asarray(visits["team"].to_numpy(zero_copy_only=False), dtype=object)
    numbers = rng.integers(1, pool + 1, size=teams.size)
    return np.asarray(
        [
            f"{t.replace('_', ' ').title()} Agent {k:02d}"
            for t, k in zip(teams.tolist(), numbers.tolist(), strict=True)
        ],
        dtype=object,
    )


def event_log(
    tickets: pa.Table,
    visits: pa.Table,
    pauses: pa.Table,
    *,
    timezone: str,
    start: np.datetime64,
    end: np.datetime64,
    seed: int = 0,
    first_number: int = 10001,
) -> pa.Table:
    """The incidents opened in ``[start, end)`` as a ServiceNow export taken at ``end``.

    Parameters
    ----------
    tickets, visits, pauses
        One replication of a simulation (the engine's tables).
    timezone
        Local time zone of the export's clock times.
    start, end
        UTC instants: incidents opened in ``[start, end)`` are exported; updates after ``end``
        are not known yet.
    seed
        Seed of the descriptive fields (caller, category, agent names …).
    first_number
        Number of the first incident (``INC0010001``).

    Returns
    -------
    pyarrow.Table
        Every column of :data:`COLUMNS` as strings, one row per update, sorted by incident and
        update; no dirt (see :func:`add_dirt`).
    """
    rng = np.random.default_rng(np.random.SeedSequence([seed, 7]))
    start_us = int(as_instant(start).astype(np.int64))
    end_us = int(as_instant(end).astype(np.int64))
    opened = _us(tickets["opened_at"])
    chosen = (opened >= start_us) & (opened < end_us)
    order = np.flatnonzero(chosen)
    order = order[np.argsort(opened[order], kind="stable")]
    ids = np.asarray(tickets["ticket_id"].to_numpy(zero_copy_only=False), dtype=np.int64)
    n = order.size
    lookup = np.full(int(ids.max()) + 1 if ids.size else 1, -1, dtype=np.int64)
    lookup[ids[order]] = np.arange(n)

    v_ids = np.asarray(visits["ticket_id"].to_numpy(zero_copy_only=False), dtype=np.int64)
    v_keep = (v_ids < lookup.size) & (lookup[np.minimum(v_ids, lookup.size - 1)] >= 0)
    visits = visits.filter(pa.array(v_keep))
    v_ticket = lookup[
        np.asarray(visits["ticket_id"].to_numpy(zero_copy_only=False), dtype=np.int64)
    ]
    v_seq = np.asarray(visits["seq"].to_numpy(zero_copy_only=False), dtype=np.int64)
    sort = np.lexsort((v_seq, v_ticket))
    visits = visits.take(pa.array(sort))
    v_ticket, v_seq = v_ticket[sort], v_seq[sort]
    v_team = np.asarray(visits["team"].to_numpy(zero_copy_only=False), dtype=object)
    v_assigned = _us(visits["assigned_at"])
    v_started = _us(visits["started_at"])
    v_finished = _us(visits["finished_at"])
    v_outcome = np.asarray(visits["outcome"].to_numpy(zero_copy_only=False), dtype=object)
    v_agent = _agents(visits, rng, 12)
    previous_outcome = np.r_[None, v_outcome[:-1]].astype(object)
    first = v_seq == 0
    after_route = ~first & (previous_outcome == "routed")

    p_ids = np.asarray(pauses["ticket_id"].to_numpy(zero_copy_only=False), dtype=np.int64)
    p_keep = (p_ids < lookup.size) & (lookup[np.minimum(p_ids, lookup.size - 1)] >= 0)
    pauses = pauses.filter(pa.array(p_keep))
    p_ticket = lookup[
        np.asarray(pauses["ticket_id"].to_numpy(zero_copy_only=False), dtype=np.int64)
    ]
    p_end = _us(pauses["end"])
    p_reopen = np.asarray(pauses["reason"].to_numpy(zero_copy_only=False), dtype=object) == "reopen"

    parts: list[tuple[np.ndarray, np.ndarray, int, np.ndarray, np.ndarray]] = []

    def add(
        mask: np.ndarray,
        times: np.ndarray,
        kind: int,
        team: np.ndarray,
        agent: np.ndarray,
        owner: np.ndarray,
    ) -> None:
        parts.append((owner[mask], times[mask], kind, team[mask], agent[mask]))

    none = np.full(v_team.size, "?", dtype=object)
    add(first, np.maximum(v_assigned, opened[order][v_ticket]), OPEN, v_team, none, v_ticket)
    add(after_route, v_assigned, REASSIGN, v_team, none, v_ticket)
    add((first | after_route) & (v_started < end_us), v_started, PICKUP, v_team, v_agent, v_ticket)
    add(v_outcome == "paused", v_finished, AWAIT, v_team, v_agent, v_ticket)
    add(v_outcome == "resolved", v_finished, RESOLVE, v_team, v_agent, v_ticket)
    add(v_outcome == "abandoned", v_finished, CANCEL, v_team, none, v_ticket)
    blank = np.full(p_ticket.size, "", dtype=object)
    add(~p_reopen, p_end, RESUME, blank, blank, p_ticket)
    add(p_reopen, p_end, REOPEN, blank, blank, p_ticket)
    resolved = _us(tickets["resolved_at"])[order]
    close_at = np.where(
        resolved < np.iinfo(np.int64).max, resolved + int(CLOSE_AFTER_H * _US_PER_H), resolved
    )
    everyone = np.arange(n)
    blank_t = np.full(n, "", dtype=object)
    add(close_at < end_us, close_at, CLOSE, blank_t, blank_t, everyone)

    ticket = np.concatenate([p[0] for p in parts])
    time = np.concatenate([p[1] for p in parts])
    kind = np.concatenate([np.full(p[0].size, p[2], dtype=np.int64) for p in parts])
    team = np.concatenate([p[3] for p in parts])
    agent = np.concatenate([p[4] for p in parts])
    known = time < end_us
    ticket, time, kind, team, agent = (
        ticket[known],
        time[known],
        kind[known],
        team[known],
        agent[known],
    )
    sort = np.lexsort((kind, time // _US_PER_S, ticket))
    ticket, time, kind, team, agent = ticket[sort], time[sort], kind[sort], team[sort], agent[sort]
    return _table(
        ticket, time, kind, team, agent, tickets.take(pa.array(order)), timezone, rng, first_number
    )


def _forward(setter: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Each row's value from the latest setter row at or before it (rows in ticket order, each
    ticket starting with a setter)."""
    index = np.where(setter, np.arange(setter.size), 0)
    index = np.maximum.accumulate(index)
    out: np.ndarray = values[index]
    return out


def _table(
    ticket: np.ndarray,
    time: np.ndarray,
    kind: np.ndarray,
    team: np.ndarray,
    agent: np.ndarray,
    chosen: pa.Table,
    timezone: str,
    rng: np.random.Generator,
    first_number: int,
) -> pa.Table:
    rows = ticket.size
    n = chosen.num_rows
    starts = np.r_[True, ticket[1:] != ticket[:-1]] if rows else np.zeros(0, bool)
    row_index = np.arange(rows)
    group_start = np.maximum.accumulate(np.where(starts, row_index, 0))
    mod_count = row_index - group_start

    def per_ticket_cumsum(flag: np.ndarray) -> np.ndarray:
        total = np.cumsum(flag)
        counts: np.ndarray = total - (total - flag)[group_start]
        return counts

    reassignments = per_ticket_cumsum((kind == REASSIGN).astype(np.int64))
    reopens = per_ticket_cumsum((kind == REOPEN).astype(np.int64))
    group = _forward(np.isin(kind, (OPEN, REASSIGN)), team)
    assigned = _forward(np.isin(kind, (OPEN, REASSIGN, PICKUP)), agent)
    stamp = _local_text(time, timezone)
    resolved_at = _forward(
        np.isin(kind, (OPEN, RESOLVE, REOPEN)), np.where(kind == RESOLVE, stamp, "?")
    )
    resolved_by = _forward(
        np.isin(kind, (OPEN, RESOLVE, REOPEN)), np.where(kind == RESOLVE, assigned, "?")
    )
    closed_at = np.where(kind == CLOSE, stamp, "?")
    state = np.asarray(_STATE, dtype=object)[kind]
    active = np.where(np.isin(kind, (RESOLVE, CLOSE, CANCEL)), "false", "true")

    opened = _local_text(_us(chosen["opened_at"]), timezone)
    priority = np.asarray(chosen["priority"].to_numpy(zero_copy_only=False), dtype=object)
    service = np.asarray(chosen["service"].to_numpy(zero_copy_only=False), dtype=object)
    customer = (
        np.asarray(
            pc.fill_null(chosen["customer"], "?").to_numpy(zero_copy_only=False), dtype=object
        )
        if "customer" in chosen.column_names
        else np.full(n, "?", dtype=object)
    )
    labels = np.asarray([PRIORITY_LABELS.get(p, p) for p in priority.tolist()], dtype=object)
    impact = np.asarray([_IMPACT.get(p, _LOW)[0] for p in priority.tolist()], dtype=object)
    urgency = np.asarray([_IMPACT.get(p, _LOW)[1] for p in priority.tolist()], dtype=object)
    numbers = np.asarray([f"INC{first_number + k:07d}" for k in range(n)], dtype=object)
    callers = np.asarray(
        [f"Caller {k}" for k in rng.integers(1, 4000, size=n).tolist()], dtype=object
    )
    openers = np.asarray(
        [f"Service Desk Agent {k:02d}" for k in rng.integers(1, 13, size=n).tolist()], dtype=object
    )
    category_pick = rng.integers(0, len(_CATEGORIES), size=n)
    category = np.asarray([_CATEGORIES[k][0] for k in category_pick.tolist()], dtype=object)
    subcategory = np.asarray([_CATEGORIES[k][1] for k in category_pick.tolist()], dtype=object)
    location = np.asarray(_LOCATIONS, dtype=object)[rng.integers(0, len(_LOCATIONS), size=n)]
    contact = np.asarray(_CONTACT, dtype=object)[rng.integers(0, len(_CONTACT), size=n)]
    knowledge = np.where(rng.random(n) < 0.15, "true", "false").astype(object)

    def each(values: np.ndarray) -> pa.Array:
        return pa.array(values[ticket].tolist(), pa.string())

    def plain(values: np.ndarray) -> pa.Array:
        return pa.array([str(v) for v in values.tolist()], pa.string())

    updated_by = np.where(assigned == "?", "system", assigned)
    columns: dict[str, pa.Array] = {
        "number": each(numbers),
        "incident_state": plain(state),
        "active": plain(active),
        "reassignment_count": plain(reassignments),
        "reopen_count": plain(reopens),
        "sys_mod_count": plain(mod_count),
        "caller_id": each(callers),
        "opened_by": each(openers),
        "opened_at": each(opened),
        "sys_created_by": each(openers),
        "sys_created_at": each(opened),
        "sys_updated_by": plain(updated_by),
        "sys_updated_at": plain(stamp),
        "contact_type": each(contact),
        "location": each(location),
        "category": each(category),
        "subcategory": each(subcategory),
        "business_service": each(service),
        "company": each(customer),
        "impact": each(impact),
        "urgency": each(urgency),
        "priority": each(labels),
        "assignment_group": plain(group),
        "assigned_to": plain(assigned),
        "knowledge": each(knowledge),
        "notify": pa.array(["Do Not Notify"] * rows, pa.string()),
        "problem_id": pa.array(["?"] * rows, pa.string()),
        "vendor": plain(np.where(group == "vendor_x", "Vendor X Ltd", "?")),
        "close_code": plain(np.where(np.isin(kind, (RESOLVE, CLOSE)), "Solved (Permanently)", "?")),
        "resolved_by": plain(resolved_by),
        "resolved_at": plain(resolved_at),
        "closed_at": plain(closed_at),
    }
    return pa.table({name: columns[name] for name in COLUMNS})


def add_dirt(table: pa.Table, seed: int = 0) -> tuple[pa.Table, dict[str, Any]]:
    """The realistic dirt of a real export, placed at random with a fixed seed.

    Returns
    -------
    table, dirt
        The dirty table and what was done (counts and the incident numbers affected).
    """
    rng = np.random.default_rng(np.random.SeedSequence([seed, 11]))
    data = {
        name: np.asarray(table[name].to_numpy(zero_copy_only=False), dtype=object)
        for name in table.column_names
    }
    rows = table.num_rows
    numbers = data["number"]
    unique_numbers = np.unique(numbers)
    dirt: dict[str, Any] = {}
    # `?` in descriptive fields, for whole incidents
    for name in ("caller_id", "contact_type", "location", "category", "subcategory"):
        chosen = unique_numbers[rng.random(unique_numbers.size) < 0.02]
        hit = np.isin(numbers, chosen)
        data[name] = np.where(hit, "?", data[name])
        dirt[f"missing_{name}"] = int(chosen.size)
    # incidents without a priority
    no_priority = rng.choice(unique_numbers, size=min(4, unique_numbers.size), replace=False)
    hit = np.isin(numbers, no_priority)
    data["priority"] = np.where(hit, "?", data["priority"])
    dirt["missing_priority"] = sorted(no_priority.tolist())
    # update times written day-first
    hit = rng.random(rows) < 0.002
    data["sys_updated_at"] = np.where(
        hit, _day_first(data["sys_updated_at"]), data["sys_updated_at"]
    )
    dirt["day_first_times"] = int(hit.sum())
    # incidents opened after their resolution (a clock or entry error)
    resolved = data["resolved_at"]
    candidates = np.unique(numbers[(resolved != "?") & (data["incident_state"] == "Resolved")])
    swapped = rng.choice(candidates, size=min(2, candidates.size), replace=False)
    for number in swapped.tolist():
        mine = numbers == number
        last_resolved = max(r for r in resolved[mine].tolist() if r != "?")
        later = _plus_hours(last_resolved, 2)
        data["opened_at"] = np.where(mine, later, data["opened_at"])
    dirt["opened_after_resolved"] = sorted(swapped.tolist())
    # duplicated rows, right after the original
    duplicate = rng.random(rows) < 0.003
    index = np.sort(np.r_[np.arange(rows), np.flatnonzero(duplicate)])
    dirt["duplicated_rows"] = int(duplicate.sum())
    out = pa.table(
        {name: pa.array(values[index].tolist(), pa.string()) for name, values in data.items()}
    )
    return out, dirt


def _plus_hours(text: str, hours: int) -> str:
    moment = np.datetime64(text.replace(" ", "T"), "s") + np.timedelta64(hours, "h")
    return str(moment).replace("T", " ")


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
