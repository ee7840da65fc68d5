"""Simulated tickets as the updates of a ServiceNow incident: one row per opening, reassignment,
pick-up, pause, resolution, reopening, cancellation and closure, as known at the export time.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from simkit.calibrate.export_layout import (
    _US_PER_H,
    _US_PER_S,
    AWAIT,
    CANCEL,
    CLOSE,
    OPEN,
    PICKUP,
    REASSIGN,
    REOPEN,
    RESOLVE,
    RESUME,
    _table,
    _us,
)
from simkit.calibrate.fit import as_instant

__all__ = ["CLOSE_AFTER_H", "event_log"]

CLOSE_AFTER_H = 5 * 24.0
"""Resolved incidents close automatically after five days."""


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
