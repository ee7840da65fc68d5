"""Rosters from the concurrency of work: agents on tickets by hour of the week.

Just after a waiting ticket is picked up every agent on duty is busy, so the tickets in hand then
count the agents on duty; where nobody waited, the most tickets in hand is a lower bound. The
estimate becomes whole agents on roster lines with a shrinkage that keeps the capacity. A delay
station gets agents enough that nobody waits.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from simkit.calibrate.span import DAYS

if TYPE_CHECKING:
    from simkit.calibrate.arrays import _Data, _Grid
    from simkit.calibrate.episodes import _Episodes


def _busy_after(starts: np.ndarray, stops: np.ndarray, at: np.ndarray) -> np.ndarray:
    """Tickets in hand just after each instant of ``at`` (all events at that instant applied),
    from handling intervals ``[starts, stops)``."""
    times = np.r_[starts, stops]
    delta = np.r_[np.ones(starts.size), -np.ones(stops.size)]
    order = np.lexsort((delta, times))
    level = np.cumsum(delta[order])
    index = np.searchsorted(times[order], at, side="right") - 1
    out: np.ndarray = np.where(index >= 0, level[np.maximum(index, 0)], 0.0)
    return out


def _infer_agents(
    data: _Data,
    episodes: _Episodes,
    chosen: np.ndarray,
    typical_h: float,
    grid: _Grid,
) -> tuple[np.ndarray, np.ndarray]:
    """Agents taking tickets in each hour-of-week slot (168 floats), and the pick-ups of tickets
    that had waited, per slot.

    A ticket that waited is picked up the moment an agent on duty comes free, so just after that
    pick-up every agent on duty is busy: the tickets in hand then count the agents on duty. Where
    no ticket waited in a slot, the most tickets in hand just after any pick-up is a lower bound.
    Agents finishing a ticket after their shift take no new one, so they do not count. A stretch
    that resumes after a pause has no pick-up time: it counts as in hand for its last
    ``typical_h`` hours only. The first week of a history of three weeks or more is left out:
    work on tickets opened before the export began is invisible then.
    """
    begin = episodes.begin_work[chosen]
    end = np.where(np.isnan(episodes.end[chosen]), data.observed_h, episodes.end[chosen])
    resumed = episodes.after_pause[chosen]
    known = ~np.isnan(begin) & (end >= begin)
    hold_from = np.where(resumed, np.maximum(begin, end - typical_h), begin)
    in_hand_from, in_hand_to = hold_from[known], end[known]
    picked = known & ~resumed
    at = begin[picked]
    in_hand = _busy_after(in_hand_from, in_hand_to, at)
    waited = at - episodes.begin_stay[chosen][picked] > data.resolution_h
    skip = 7 * 24.0 if data.span_h >= 21 * 24.0 else 0.0
    use = (at >= skip) & (at < data.span_h)
    _, slot_of_hour, _ = grid
    hour = np.clip(np.floor(at).astype(np.int64), 0, slot_of_hour.size - 1)
    slot = slot_of_hour[hour]
    waited_use = use & waited
    count = np.bincount(slot[waited_use], minlength=168).astype(float)
    total = np.bincount(slot[waited_use], weights=in_hand[waited_use], minlength=168)
    peak = np.zeros(168)
    np.maximum.at(peak, slot[use], in_hand[use])
    agents = np.where(count >= 3, total / np.maximum(count, 1.0), peak)
    return agents, count


def _roster_lines(matrix: np.ndarray) -> dict[str, int]:
    """A 7×24 matrix of whole agents as non-overlapping roster lines, days with the same day
    pattern grouped (``"mon-fri 08:00-18:00": 4``)."""
    runs_of_day: list[tuple[tuple[int, int, int], ...]] = []
    for d in range(7):
        row = matrix[d]
        runs: list[tuple[int, int, int]] = []
        h = 0
        while h < 24:
            value = int(row[h])
            k = h
            while k < 24 and int(row[k]) == value:
                k += 1
            if value > 0:
                runs.append((h, k, value))
            h = k
        runs_of_day.append(tuple(runs))
    groups: dict[tuple[tuple[int, int, int], ...], list[int]] = {}
    for d, day_runs in enumerate(runs_of_day):
        if day_runs:
            groups.setdefault(day_runs, []).append(d)
    lines: dict[str, int] = {}
    for day_runs, days in groups.items():
        label = _day_label(days)
        for a, b, value in day_runs:
            lines[f"{label} {a:02d}:00-{b:02d}:00"] = value
    return lines


def _day_label(days: Sequence[int]) -> str:
    if len(days) == 7:
        return "mon-sun"
    parts: list[str] = []
    i = 0
    while i < len(days):
        j = i
        while j + 1 < len(days) and days[j + 1] == days[j] + 1:
            j += 1
        parts.append(DAYS[days[i]] if i == j else f"{DAYS[days[i]]}-{DAYS[days[j]]}")
        i = j + 1
    return ",".join(parts)


def _roster_from_agents(
    agents: np.ndarray, weight: np.ndarray
) -> tuple[dict[str, int], float, np.ndarray]:
    """Whole agents (rounded up) and a shrinkage that keeps the capacity right where the work
    is: the agent-hours are matched with each hour weighted by its pick-ups."""
    whole = np.ceil(np.maximum(agents, 0.0) - 0.05).astype(np.int64)
    whole = np.where((agents > 0.05) & (whole == 0), 1, whole)
    w = np.where(whole > 0, weight + 1e-9, 0.0)
    total = float(np.sum(w * whole))
    shrinkage = 1.0 - float(np.sum(w * agents)) / total if total > 0 else 0.0
    shrinkage = round(shrinkage, 2) if shrinkage >= 0.03 else 0.0
    return _roster_lines(whole.reshape(7, 24)), min(shrinkage, 0.9), whole


def _delay_agents(data: _Data, rows: np.ndarray, grid: _Grid) -> int:
    """Agents enough that nobody waits: well above the most tickets ever at the team at once and
    above the busiest hour's Poisson load."""
    assigned = data.v_assigned[rows]
    finished = np.where(np.isnan(data.v_finished[rows]), data.observed_h, data.v_finished[rows])
    times = np.r_[assigned, finished]
    delta = np.r_[np.ones(rows.size), -np.ones(rows.size)]
    order = np.lexsort((delta, times))
    most = float(np.max(np.cumsum(delta[order]))) if rows.size else 1.0
    starts, slot, _ = grid
    cover = np.clip(data.span_h - starts, 0.0, 1.0)
    per_slot = np.bincount(
        slot[np.clip(np.floor(assigned).astype(np.int64), 0, slot.size - 1)], minlength=168
    ) / np.maximum(np.bincount(slot, weights=cover, minlength=168), 1e-9)
    stay = np.nanmean(finished - assigned) if rows.size else 1.0
    load = float(per_slot.max() * max(stay, 0.0))
    return math.ceil(max(1.5 * most, load + 6 * math.sqrt(load) + 5))
