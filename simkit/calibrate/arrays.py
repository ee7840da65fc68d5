"""A ticket history as numpy arrays, the form every fit works on.

:func:`_data` turns the ``tickets``, ``visits`` and ``pauses`` tables into a :class:`_Data`: times
in hours after the start of the span, visits sorted by ticket then assignment, pauses tied to
their tickets. Teams with too few visits to fit on their own are pooled, a history without
assignment records becomes one visit per ticket, and :func:`_hour_grid` places every hour of the
span in the local week.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from simkit.calibrate.span import US_PER_HOUR, _hours, _local_slots, as_instant

if TYPE_CHECKING:
    from simkit.calibrate.history import History
    from simkit.scenario import Scenario

__all__ = ["MIN_TEAM_VISITS", "POOLED"]


def _strings(table: pa.Table, name: str, default: str | None = None) -> np.ndarray:
    if name not in table.column_names:
        return np.full(table.num_rows, default, dtype=object)
    column = table[name]
    if not pa.types.is_string(column.type) and not pa.types.is_large_string(column.type):
        column = column.cast(pa.string())
    values = np.asarray(column.to_numpy(zero_copy_only=False), dtype=object)
    if default is not None:
        values = np.where(_is_none(values), default, values)
    return values


def _is_none(values: np.ndarray) -> np.ndarray:
    """True where an object array holds ``None``."""
    flags: np.ndarray = np.frompyfunc(lambda v: v is None, 1, 1)(values).astype(bool)
    return flags


def _flags(table: pa.Table, name: str) -> np.ndarray:
    if name not in table.column_names:
        return np.zeros(table.num_rows, dtype=bool)
    return np.asarray(
        pc.fill_null(table[name].cast(pa.bool_()), False).to_numpy(zero_copy_only=False),
        dtype=bool,
    )


def _times(table: pa.Table, name: str) -> np.ndarray:
    if name not in table.column_names:
        return np.full(table.num_rows, np.datetime64("NaT"), dtype="datetime64[us]")
    return np.asarray(table[name].to_numpy(zero_copy_only=False)).astype("datetime64[us]")


@dataclass(frozen=True, eq=False)
class _Data:
    """A history as numpy arrays, times in hours after ``ref`` (the span's start)."""

    ref: int
    span_h: float
    observed_h: float
    zone: str
    resolution_h: float
    # tickets
    service: np.ndarray
    customer: np.ndarray
    priority: np.ndarray
    opened: np.ndarray
    response: np.ndarray
    resolved: np.ndarray
    reopened: np.ndarray
    abandoned: np.ndarray
    # visits, sorted by ticket then assignment
    v_ticket: np.ndarray
    v_team: np.ndarray
    v_supplier: np.ndarray
    v_assigned: np.ndarray
    v_started: np.ndarray
    v_finished: np.ndarray
    v_outcome: np.ndarray
    # pauses
    p_ticket: np.ndarray
    p_start: np.ndarray
    p_end: np.ndarray
    p_reopen: np.ndarray
    notes: tuple[str, ...]


def _timestamp_resolution(*columns: np.ndarray) -> float:
    """1/3600 h when any instant has seconds, else 1/60 h (minute-resolution exports)."""
    for values in columns:
        known = values[~np.isnat(values)].astype(np.int64)
        if known.size and np.any(known % 60_000_000 != 0):
            return 1 / 3600
    return 1 / 60


def _data(history: History, zone: str, start: np.datetime64, end: np.datetime64) -> _Data:
    tickets, visits, pauses = history.tickets, history.visits, history.pauses
    notes: list[str] = []
    ref = int(as_instant(start).astype(np.int64))
    ids = np.asarray(tickets["ticket_id"].to_numpy(zero_copy_only=False), dtype=np.int64)
    opened_at = _times(tickets, "opened_at")
    usable = ~np.isnat(opened_at)
    if (~usable).any():
        notes.append(f"{int((~usable).sum()):,} tickets without an opening time were not used")
    order = np.argsort(ids, kind="stable")
    sorted_ids = ids[order]

    def ticket_index(column: np.ndarray) -> np.ndarray:
        at = np.searchsorted(sorted_ids, column)
        at = np.clip(at, 0, max(sorted_ids.size - 1, 0))
        found = sorted_ids.size > 0
        match = (sorted_ids[at] == column) if found else np.zeros(column.size, bool)
        return np.where(match, order[at] if found else -1, -1)

    v_ids = np.asarray(visits["ticket_id"].to_numpy(zero_copy_only=False), dtype=np.int64)
    v_index = ticket_index(v_ids)
    v_keep = v_index >= 0
    v_keep[v_keep] &= usable[v_index[v_keep]]
    if (~v_keep).any():
        notes.append(
            f"{int((~v_keep).sum()):,} visits of unknown or unusable tickets were not used"
        )
    v_assigned_at = _times(visits, "assigned_at")
    v_keep &= ~np.isnat(v_assigned_at)
    v_rows = np.flatnonzero(v_keep)
    v_ticket = v_index[v_rows]
    v_assigned = _hours(v_assigned_at[v_rows], ref)
    sort = np.lexsort((v_assigned, v_ticket))
    v_rows, v_ticket, v_assigned = v_rows[sort], v_ticket[sort], v_assigned[sort]
    kind = _strings(visits, "kind", "team")[v_rows]
    p_ids = np.asarray(pauses["ticket_id"].to_numpy(zero_copy_only=False), dtype=np.int64)
    p_index = ticket_index(p_ids)
    p_start_at = _times(pauses, "start")
    p_keep = (p_index >= 0) & ~np.isnat(p_start_at)
    p_keep[p_keep] &= usable[p_index[p_keep]]
    reason = _strings(pauses, "reason", "")
    started_at = _times(visits, "started_at")
    finished_at = _times(visits, "finished_at")
    resolution = _timestamp_resolution(opened_at, started_at, finished_at)
    return _Data(
        ref=ref,
        span_h=float((int(as_instant(end).astype(np.int64)) - ref) / US_PER_HOUR),
        observed_h=float(
            (int(as_instant(history.observed_until).astype(np.int64)) - ref) / US_PER_HOUR
        ),
        zone=zone,
        resolution_h=resolution,
        service=_strings(tickets, "service", "service"),
        customer=_strings(tickets, "customer"),
        priority=_strings(tickets, "priority"),
        opened=np.where(usable, _hours(opened_at, ref), np.nan),
        response=_hours(_times(tickets, "first_response_at"), ref),
        resolved=_hours(_times(tickets, "resolved_at"), ref),
        reopened=_flags(tickets, "reopened"),
        abandoned=_flags(tickets, "abandoned"),
        v_ticket=v_ticket,
        v_team=_strings(visits, "team", "unassigned")[v_rows],
        v_supplier=kind == "supplier",
        v_assigned=v_assigned,
        v_started=_hours(started_at[v_rows], ref),
        v_finished=_hours(finished_at[v_rows], ref),
        v_outcome=_strings(visits, "outcome", "open")[v_rows],
        p_ticket=p_index[p_keep],
        p_start=_hours(p_start_at[p_keep], ref),
        p_end=_hours(_times(pauses, "end")[p_keep], ref),
        p_reopen=reason[p_keep] == "reopen",
        notes=tuple(notes),
    )


MIN_TEAM_VISITS = 30
"""Teams with fewer visits are pooled into one, ``other teams``: too few to fit on their own."""
POOLED = "other teams"


def _pool_small_teams(
    data: _Data, given: Scenario | None, agents: Mapping[str, int], assumptions: list[str]
) -> _Data:
    """Teams with fewer than :data:`MIN_TEAM_VISITS` visits (and not named in the given scenario
    or in ``agents``) become one pooled team."""
    names, counts = np.unique(data.v_team.astype(str), return_counts=True)
    named = (set(given.teams) if given is not None else set()) | set(agents)
    small = [
        n
        for n, c in zip(names.tolist(), counts.tolist(), strict=True)
        if c < MIN_TEAM_VISITS and n not in named
    ]
    if len(small) < 2:
        return data
    pooled = np.isin(data.v_team.astype(str), small)
    listed = ", ".join(small[:8]) + (f" and {len(small) - 8} more" if len(small) > 8 else "")
    assumptions.append(
        f"{len(small)} teams with fewer than {MIN_TEAM_VISITS} visits each ({int(pooled.sum()):,} "
        f"visits in all) are pooled into one team {POOLED!r}: {listed}"
    )
    return dataclasses.replace(data, v_team=np.where(pooled, POOLED, data.v_team))


def _without_visits(data: _Data, team: str) -> _Data:
    """One visit per ticket at ``team`` from opening to resolution (history with no visits)."""
    n = data.opened.size
    rows = np.flatnonzero(~np.isnan(data.opened))
    resolved = data.resolved[rows]
    outcome = np.where(np.isnan(resolved), "open", "resolved").astype(object)
    return dataclasses.replace(
        data,
        v_ticket=rows,
        v_team=np.full(rows.size, team, dtype=object),
        v_supplier=np.zeros(rows.size, dtype=bool),
        v_assigned=data.opened[rows],
        v_started=np.full(rows.size, np.nan),
        v_finished=resolved,
        v_outcome=outcome,
        notes=(
            *data.notes,
            f"the history has no assignment records: each of the {n:,} tickets is one visit to "
            f"a single team {team!r} from opening to resolution",
        ),
    )


_Grid = tuple[np.ndarray, np.ndarray, np.ndarray]


def _hour_grid(data: _Data) -> _Grid:
    """Start (hours after ref), local hour-of-week slot and local day number of every hour of
    the span."""
    starts = np.arange(0.0, math.ceil(data.span_h))
    us = data.ref + (starts * US_PER_HOUR + US_PER_HOUR // 2).astype(np.int64)
    day, weekday, hour = _local_slots(us, data.zone)
    return starts, weekday * 24 + hour, day
