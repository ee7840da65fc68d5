"""Queue length and agents busy over time, from the visits table — for history and simulation.

For each team (suppliers have no queue and are left out) a visit is

- **waiting** from ``assigned_at`` until ``started_at`` — or, never started, until ``finished_at``
  (an abandoned ticket) or the end of the measured span;
- **in service** from ``started_at`` until ``finished_at`` (or the end of the span while it is
  still open). A preempted visit counts as in service from its first start to its finish.

The number of visits in each state is integrated exactly over every hour of the measured span
``[start, end)`` and divided by the number of replications: ``waiting`` is the mean number of
tickets in the queue during that hour, ``busy`` the mean number of agents handling one.
:func:`weekly_profile` averages the hours by their local hour of the week (Monday 00:00–01:00 is
slot 0, DST-correct), and, given the agents on duty per slot, reports utilisation = busy / agents.

Everything is vectorised over visits (sorted interval ends with prefix sums evaluated at the hour
edges); the only loop runs over teams.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from simkit.measure.clock import instants
from simkit.timespec import DAY_NAMES

__all__ = ["SLOTS", "TeamLoad", "team_load", "weekly_profile"]

SLOTS = 168
"""Hours in a week: the slots of :func:`weekly_profile`."""
_US_PER_HOUR = 3_600_000_000

Row = dict[str, Any]


@dataclass(frozen=True, eq=False)
class TeamLoad:
    """One team's queue and agents busy, hour by hour over the measured span.

    Attributes
    ----------
    team
        The team's name.
    hours
        The UTC instant at which each hour begins (``datetime64[us]``).
    waiting, busy
        Mean tickets waiting and mean visits in service during each hour, over replications.
    """

    team: str
    hours: np.ndarray
    waiting: np.ndarray
    busy: np.ndarray


def _as_instant(value: object) -> np.datetime64:
    if isinstance(value, dt.datetime) and value.tzinfo is not None:
        value = value.astimezone(dt.UTC).replace(tzinfo=None)
    instant: np.datetime64 = np.asarray(value).astype("datetime64[us]").reshape(1)[0]
    if np.isnat(instant):
        raise ValueError("start and end must be instants, got NaT")
    return instant


def _occupancy(begin: np.ndarray, finish: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """Σ over intervals of their overlap with each ``[edges[k], edges[k + 1])``, in hours.

    ``begin`` and ``finish`` are hours from the first edge, already clipped to the edges' span.
    The overlap up to ``x`` is ``Σ min(finish, x) − Σ min(begin, x)``; each sum is read off a
    sorted array and its prefix sums.
    """
    keep = finish > begin

    def integral(points: np.ndarray) -> np.ndarray:
        ordered = np.sort(points[keep])
        prefix = np.concatenate(([0.0], np.cumsum(ordered)))
        below = np.searchsorted(ordered, edges, side="right")
        result: np.ndarray = prefix[below] + edges * (ordered.size - below)
        return result

    covered = integral(finish) - integral(begin)
    result: np.ndarray = np.maximum(np.diff(covered), 0.0)  # rounding of the prefix sums
    return result


def team_load(
    visits: pa.Table,
    *,
    start: object,
    end: object,
    replications: int,
    teams: Sequence[str] | None = None,
) -> list[TeamLoad]:
    """Tickets waiting and agents busy per team, hour by hour over ``[start, end)``.

    Parameters
    ----------
    visits
        The visits table of a run (every replication) or of a history (replication 0).
    start, end
        Instants of the measured span: ``numpy.datetime64`` (UTC) or an aware ``datetime``;
        only whole hours from ``start`` are reported.
    replications
        The number of replications in ``visits``: every figure is a mean per replication.
    teams
        The teams to report, in this order (default: every team in ``visits`` with
        ``kind == "team"``, sorted by name). A named team without visits gets zeros.

    Returns
    -------
    list of TeamLoad
        One per team; see the module docstring for what counts as waiting and busy.
    """
    if replications < 1:
        raise ValueError(f"replications must be at least 1, got {replications}")
    begin_at, end_at = _as_instant(start), _as_instant(end)
    span_h = int((end_at - begin_at) // np.timedelta64(_US_PER_HOUR, "us"))
    if span_h < 1:
        raise ValueError("the measured span must last at least one hour")
    edges = np.arange(span_h + 1, dtype=np.float64)
    hours = begin_at + np.arange(span_h) * np.timedelta64(_US_PER_HOUR, "us")
    kind = pc.fill_null(pc.equal(visits["kind"], "team"), False)
    rows = visits.filter(kind)
    names = np.asarray(rows["team"].to_numpy(zero_copy_only=False), dtype=object)
    chosen = sorted(set(names.tolist()) - {None}) if teams is None else list(teams)

    def offset(column: str) -> np.ndarray:
        values = instants(rows[column], f"visits.{column}")
        hours_from = (values - begin_at) / np.timedelta64(_US_PER_HOUR, "us")
        return np.asarray(hours_from, dtype=np.float64)

    assigned, started, finished = offset("assigned_at"), offset("started_at"), offset("finished_at")
    limit = float(span_h)
    waiting_until = np.where(
        np.isnan(started), np.where(np.isnan(finished), limit, finished), started
    )
    served_until = np.where(np.isnan(finished), limit, finished)

    def clipped(values: np.ndarray) -> np.ndarray:
        result: np.ndarray = np.clip(np.nan_to_num(values, nan=limit), 0.0, limit)
        return result

    wait_begin, wait_end = clipped(assigned), clipped(waiting_until)
    serve_begin, serve_end = clipped(started), clipped(served_until)
    loads = []
    for team in chosen:
        mine = names == team
        loads.append(
            TeamLoad(
                team=team,
                hours=hours,
                waiting=_occupancy(wait_begin[mine], wait_end[mine], edges) / replications,
                busy=_occupancy(serve_begin[mine], serve_end[mine], edges) / replications,
            )
        )
    return loads


def _local_slots(hours: np.ndarray, timezone: str) -> np.ndarray:
    """The local hour of the week (0 = Monday 00:00) in which each UTC hour begins."""
    zone = zoneinfo.ZoneInfo(timezone)
    seconds = hours.astype("datetime64[s]").astype(np.int64)
    offsets = _offsets(seconds, zone)
    local = seconds + offsets.astype(np.int64)
    days = local // 86_400
    weekday = (days + 3) % 7  # 1970-01-01 was a Thursday (3 with Monday = 0)
    hour = (local % 86_400) // 3_600
    result: np.ndarray = (weekday * 24 + hour).astype(np.int64)
    return result


def _offsets(seconds: np.ndarray, zone: zoneinfo.ZoneInfo) -> np.ndarray:
    """UTC offset in seconds at each instant (UTC seconds since the epoch).

    Read once per hour of the span — thousands of hours, never one per visit — because a DST
    change falls inside a day.
    """
    offsets = []
    for value in seconds.tolist():
        offset = dt.datetime.fromtimestamp(value, dt.UTC).astimezone(zone).utcoffset()
        offsets.append(offset.total_seconds() if offset is not None else 0.0)
    return np.asarray(offsets, dtype=np.float64)


def weekly_profile(
    loads: Sequence[TeamLoad],
    *,
    timezone: str,
    agents: Mapping[str, Sequence[float | None] | np.ndarray] | None = None,
) -> list[Row]:
    """The hours of :func:`team_load` averaged by local hour of the week, for charts.

    Parameters
    ----------
    loads
        From :func:`team_load`.
    timezone
        IANA time zone whose local week the slots follow.
    agents
        Optional agents on duty per team and slot (168 values, e.g. roster × (1 − shrinkage));
        utilisation is then busy / agents (``None`` in slots without agents). Agents finish the
        ticket in hand when their shift ends, so utilisation can exceed 1 in the hour after it.

    Returns
    -------
    list of dict
        One row per team and slot: ``team, slot, day, hour, label ("mon 08:00"), waiting, busy,
        agents, utilization`` (means over the weeks measured; ``agents`` and ``utilization``
        ``None`` when not given). Slots the span never covers have ``None`` figures.
    """
    rows: list[Row] = []
    for load in loads:
        slots = _local_slots(load.hours, timezone)
        counts = np.bincount(slots, minlength=SLOTS)
        with np.errstate(invalid="ignore", divide="ignore"):
            waiting = np.bincount(slots, weights=load.waiting, minlength=SLOTS) / counts
            busy = np.bincount(slots, weights=load.busy, minlength=SLOTS) / counts
        on_duty = None
        if agents is not None and load.team in agents:
            on_duty = np.array(
                [np.nan if a is None else float(a) for a in agents[load.team]], dtype=np.float64
            )
            if on_duty.size != SLOTS:
                raise ValueError(f"agents of {load.team!r} must have {SLOTS} slots")
        for slot in range(SLOTS):
            covered = counts[slot] > 0
            staffed = on_duty is not None and on_duty[slot] > 0
            rows.append(
                {
                    "team": load.team,
                    "slot": slot,
                    "day": DAY_NAMES[slot // 24],
                    "hour": slot % 24,
                    "label": f"{DAY_NAMES[slot // 24]} {slot % 24:02d}:00",
                    "waiting": float(waiting[slot]) if covered else None,
                    "busy": float(busy[slot]) if covered else None,
                    "agents": (
                        float(on_duty[slot])
                        if on_duty is not None and not np.isnan(on_duty[slot])
                        else None
                    ),
                    "utilization": (
                        float(busy[slot] / on_duty[slot])
                        if covered and staffed and on_duty is not None
                        else None
                    ),
                }
            )
    return rows
