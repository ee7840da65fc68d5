"""Visits cut into episodes: the stretches of handling between the engine's routing decisions.

Each awaiting-user pause is placed in the visit it interrupts; a visit with pauses inside becomes
several stretches, each ending in a route (``resolved``, ``pause`` or the next team). A stretch
that resumes after a pause has no pick-up time of its own.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from simkit.calibrate.arrays import _Data

_ROUTE_RESOLVED = "resolved"
_ROUTE_PAUSE = "pause"


@dataclass(frozen=True, eq=False)
class _Episodes:
    """Stretches of handling between routing decisions, one per decision the engine makes."""

    visit: np.ndarray
    begin_work: np.ndarray
    """Pick-up (or, after a pause inside a visit, the pause's end); NaN when unknown."""
    begin_stay: np.ndarray
    """Assignment (or the pause's end)."""
    end: np.ndarray
    """NaN while running at the export time."""
    route: np.ndarray
    """``resolved``, ``pause``, a team name, or ``None`` (unknown: still open)."""
    after_pause: np.ndarray


@dataclass(frozen=True, eq=False)
class _PauseLinks:
    team: np.ndarray
    inside: np.ndarray
    visit: np.ndarray
    orphans: int


def _link_pauses(data: _Data) -> _PauseLinks:
    """The visit (and team) each awaiting pause belongs to: the ticket's last visit assigned at
    or before the pause began."""
    n = data.p_ticket.size
    team = np.full(n, None, dtype=object)
    inside = np.zeros(n, dtype=bool)
    visit = np.full(n, -1, dtype=np.int64)
    if n == 0 or data.v_ticket.size == 0:
        return _PauseLinks(team, inside, visit, int(n))
    stride = _key_stride(data)
    vkey = data.v_ticket * stride + data.v_assigned
    pkey = data.p_ticket * stride + data.p_start
    at = np.searchsorted(vkey, pkey, side="right") - 1
    ok = (at >= 0) & (data.v_ticket[np.maximum(at, 0)] == data.p_ticket)
    visit[ok] = at[ok]
    team[ok] = data.v_team[at[ok]]
    finished = data.v_finished[np.maximum(at, 0)]
    eps = data.resolution_h
    inside = ok & (np.isnan(finished) | (data.p_start < finished - eps))
    at_end = ok & ~inside & (np.abs(data.p_start - finished) <= eps)
    orphans = int(n - inside.sum() - at_end.sum())
    return _PauseLinks(team, inside, visit, orphans)


def _key_stride(data: _Data) -> float:
    """A stride that keeps (ticket, hours) pairs apart in one float key."""
    largest = [abs(data.observed_h), abs(data.span_h)]
    for values in (data.v_assigned, data.p_start):
        if values.size and np.isfinite(values).any():
            largest.append(float(np.nanmax(np.abs(values))))
    return max(largest) * 4 + 10


def _resumed(data: _Data) -> np.ndarray:
    """Visits that begin when a pause of their ticket ends and are 'started' at that very moment:
    the user answered (or the ticket was reopened) and the ticket became active again. That is
    not a pick-up, and the time to the end of such a visit includes waiting."""
    nv = data.v_ticket.size
    out = np.zeros(nv, dtype=bool)
    ended = ~np.isnan(data.p_end)
    if nv == 0 or not ended.any():
        return out
    stride = _key_stride(data)
    pause_keys = np.sort(data.p_ticket[ended] * stride + data.p_end[ended])
    visit_keys = data.v_ticket * stride + data.v_assigned
    at = np.searchsorted(pause_keys, visit_keys)
    eps = data.resolution_h
    for k in (at - 1, at):
        valid = (k >= 0) & (k < pause_keys.size)
        out[valid] |= np.abs(pause_keys[k[valid]] - visit_keys[valid]) <= eps
    at_once = np.isnan(data.v_started) | (np.abs(data.v_started - data.v_assigned) <= eps)
    first = np.r_[True, data.v_ticket[1:] != data.v_ticket[:-1]]
    resumed: np.ndarray = out & at_once & ~first
    return resumed


def _episodes(data: _Data, links: _PauseLinks) -> _Episodes:
    nv = data.v_ticket.size
    same_next = np.zeros(nv, dtype=bool)
    if nv > 1:
        same_next[:-1] = data.v_ticket[1:] == data.v_ticket[:-1]
    next_team = np.full(nv, None, dtype=object)
    next_team[:-1] = data.v_team[1:]
    next_team[~same_next] = None
    outcome = data.v_outcome
    route = np.full(nv, None, dtype=object)
    route[outcome == "resolved"] = _ROUTE_RESOLVED
    route[outcome == "abandoned"] = _ROUTE_RESOLVED
    route[outcome == "paused"] = _ROUTE_PAUSE
    routed = (outcome == "routed") & same_next
    route[routed] = next_team[routed]
    unknown = ~np.isin(outcome, ["resolved", "abandoned", "paused", "routed", "open"])
    inferred = unknown & same_next & ~np.isnan(data.v_finished)
    route[inferred] = next_team[inferred]
    final = unknown & ~same_next & ~np.isnan(data.v_finished)
    route[final] = _ROUTE_RESOLVED

    ins = np.flatnonzero(links.inside & ~data.p_reopen)
    ins = ins[np.lexsort((data.p_start[ins], links.visit[ins]))]
    pv = links.visit[ins]
    first_of_visit = np.r_[True, pv[1:] != pv[:-1]] if ins.size else np.zeros(0, bool)
    last_of_visit = np.r_[pv[1:] != pv[:-1], True] if ins.size else np.zeros(0, bool)
    previous_end = np.r_[np.nan, data.p_end[ins][:-1]] if ins.size else np.zeros(0)
    pause_begin_work = np.where(first_of_visit, data.v_started[pv], previous_end)
    pause_begin_stay = np.where(first_of_visit, data.v_assigned[pv], previous_end)
    has_inside = np.zeros(nv, dtype=bool)
    has_inside[pv] = True
    resume = np.full(nv, np.nan)
    resume[pv[last_of_visit]] = data.p_end[ins][last_of_visit]
    visit_begin_work = np.where(has_inside, resume, data.v_started)
    visit_begin_stay = np.where(has_inside, resume, data.v_assigned)
    # a visit whose last inside pause is still running has no final stretch
    final_stretch = ~has_inside | ~np.isnan(resume)
    keep = np.flatnonzero(final_stretch)
    return _Episodes(
        visit=np.r_[pv, keep],
        begin_work=np.r_[pause_begin_work, visit_begin_work[keep]],
        begin_stay=np.r_[pause_begin_stay, visit_begin_stay[keep]],
        end=np.r_[data.p_start[ins], data.v_finished[keep]],
        route=np.r_[np.full(ins.size, _ROUTE_PAUSE, dtype=object), route[keep]],
        after_pause=np.r_[~first_of_visit, (has_inside | _resumed(data))[keep]],
    )
