"""The static half of the OLA alignment: agreements chained along each routing path.

From a start instant each visit's OLA/UC ``within`` is added on its own calendar, the total
measured on the SLA's calendar, and the worst case over a representative week decides whether
a path fits the SLA (:mod:`simkit.analysis.ola` states the rules); no simulation.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np

from simkit.analysis.ola_paths import RoutingPath, _target_paths
from simkit.calendar import Calendar
from simkit.measure import SlaTarget
from simkit.measure.clock import TOLERANCE_H
from simkit.measure.summary import sla_identity
from simkit.scenario import Scenario
from simkit.scenario.targets import ola_targets, sla_targets

__all__ = [
    "GRID_MINUTES",
    "Agreements",
    "Step",
    "start_grid",
    "static_alignment",
    "worst_case_hours",
]

GRID_MINUTES = 15
"""Spacing of the start instants over the representative week."""
Row = dict[str, Any]


def start_grid(scenario: Scenario, services: Iterable[str] | None = None) -> np.ndarray:
    """Start instants every :data:`GRID_MINUTES` minutes over the representative week.

    The week runs from the first local Monday 00:00 on or after the scenario's ``start``.
    With ``services``, only instants in hours where at least one of them receives tickets (by
    its demand profile) are kept — all of them when that would leave none.

    Returns
    -------
    numpy.ndarray
        ``datetime64[us]`` UTC instants, ascending.
    """
    zone = ZoneInfo(scenario.timezone)
    monday = scenario.start + dt.timedelta(days=(7 - scenario.start.weekday()) % 7)
    first = dt.datetime.combine(monday, dt.time(0))
    count = 7 * 24 * 60 // GRID_MINUTES
    walls = [first + dt.timedelta(minutes=GRID_MINUTES * k) for k in range(count)]
    micros = [
        round(w.replace(tzinfo=zone).astimezone(dt.UTC).timestamp() * 1_000_000) for w in walls
    ]
    grid = np.array(micros, dtype=np.int64).astype("datetime64[us]")
    if services is None:
        return grid
    keep = np.zeros(grid.size, dtype=bool)
    day = np.array([w.weekday() for w in walls])
    hour = np.array([w.hour for w in walls])
    for name in services:
        profile = scenario.services[name].demand.profile
        if profile == "flat":
            return grid
        if isinstance(profile, str):
            keep |= np.asarray(scenario.calendar(profile).is_open(grid), dtype=bool)
        else:
            weights = np.asarray(profile, dtype=np.float64)
            keep |= weights[day, hour] > 0
    return grid[keep] if keep.any() else grid


Step = tuple[float, Calendar]
"""One visit's agreement: ``within`` hours on its calendar."""


def worst_case_hours(
    segments: Sequence[Sequence[Step]], sla_calendar: Calendar, starts: np.ndarray
) -> tuple[float, list[float]]:
    """The worst case, over ``starts``, of chained agreements measured on the SLA's calendar.

    Parameters
    ----------
    segments
        The visits' agreements, split where the SLA clock stops (a pause or a reopen); each
        segment is chained from a start instant, each step's deadline on its own calendar.
    sla_calendar
        The calendar the total is measured on.
    starts
        Candidate start instants (:func:`start_grid`).

    Returns
    -------
    worst, contributions
        The sum over segments of each segment's worst total, and each step's share of it (SLA
        business hours between its start and its deadline at the segment's worst start), in
        the order of the steps.
    """
    worst = 0.0
    contributions: list[float] = []
    for segment in segments:
        if not segment:
            continue
        t = starts
        parts = []
        for within, calendar in segment:
            deadline = calendar.add(t, np.full(t.shape, within))
            parts.append(np.asarray(sla_calendar.elapsed(t, deadline), dtype=np.float64))
            t = deadline
        table = np.stack(parts, axis=1)
        totals = table.sum(axis=1)
        at = int(np.argmax(totals))
        worst += float(totals[at])
        contributions.extend(float(v) for v in table[at])
    return worst, contributions


Agreements = Mapping[tuple[str, str], Step]
"""``(team, metric) → (within_h, calendar)``."""


def _agreements_for(scenario: Scenario, target: SlaTarget) -> dict[tuple[str, str], Step]:
    found: dict[tuple[str, str], Step] = {}
    general: dict[tuple[str, str], Step] = {}
    for ola in ola_targets(scenario):
        if ola.metric != target.metric:
            continue
        if ola.priority == target.priority:
            found[(ola.team, ola.metric)] = (ola.within_h, ola.calendar)
        elif ola.priority is None:
            general[(ola.team, ola.metric)] = (ola.within_h, ola.calendar)
    return {**general, **found}


@dataclass(frozen=True)
class _PathCheck:
    path: RoutingPath
    ola_sum_h: float | None
    fits: bool
    missing: tuple[str, ...]
    blamed: tuple[str, ...]


class _Chains:
    """Worst cases of chained agreements, cached by chain (paths share their prefixes)."""

    def __init__(self, sla_calendar: Calendar, starts: np.ndarray) -> None:
        self.sla_calendar, self.starts = sla_calendar, starts
        self._cache: dict[tuple[tuple[Step, ...], ...], tuple[float, list[float]]] = {}

    def worst(self, segments: tuple[tuple[Step, ...], ...]) -> tuple[float, list[float]]:
        if segments not in self._cache:
            self._cache[segments] = worst_case_hours(segments, self.sla_calendar, self.starts)
        return self._cache[segments]


def _check_path(
    path: RoutingPath, target: SlaTarget, agreements: Agreements, chains: _Chains
) -> _PathCheck:
    missing = tuple(dict.fromkeys(t for t in path.teams if (t, target.metric) not in agreements))
    segments: list[list[Step]] = [[]]
    owners: list[str] = []
    for index, team in enumerate(path.teams):
        if index in path.breaks:
            segments.append([])
        step = agreements.get((team, target.metric))
        if step is not None:
            segments[-1].append(step)
            owners.append(team)
    total, parts = chains.worst(tuple(tuple(s) for s in segments if s))
    limit = target.within_h + TOLERANCE_H
    blamed: list[str] = []
    if total > limit:
        per_team: dict[str, float] = {}
        for team, part in zip(owners, parts, strict=True):
            per_team[team] = per_team.get(team, 0.0) + part
        remaining = total
        for team, part in sorted(per_team.items(), key=lambda item: -item[1]):
            if remaining <= limit:
                break
            blamed.append(team)
            remaining -= part
    if missing:
        return _PathCheck(path, None, False, missing, tuple(blamed))
    return _PathCheck(path, total, total <= limit, (), tuple(blamed))


def _static(
    scenario: Scenario, target: SlaTarget, agreements: Agreements | None = None
) -> tuple[list[_PathCheck], float]:
    paths, other = _target_paths(scenario, target)
    services = [target.service] if target.service is not None else list(scenario.services)
    chains = _Chains(target.calendar, start_grid(scenario, services))
    chosen = _agreements_for(scenario, target) if agreements is None else agreements
    return [_check_path(p, target, chosen, chains) for p in paths], other


def _gaps(checks: Sequence[_PathCheck]) -> list[str]:
    names: dict[str, None] = {}
    for check in checks:
        names.update(dict.fromkeys(check.missing))
    for check in checks:
        names.update(dict.fromkeys(check.blamed))
    return list(names)


def _path_row(check: _PathCheck) -> Row:
    return {
        "teams": list(check.path.teams),
        "share": check.path.share,
        "ola_sum_h": check.ola_sum_h,
        "fits": check.fits,
        "missing": list(check.missing),
        "pauses": len(check.path.breaks),
    }


def static_alignment(scenario: Scenario) -> list[Row]:
    """The static half of :func:`ola_alignment`, without simulation (milliseconds).

    Returns
    -------
    list of dict
        One row per SLA target: the target, ``underpinned``, ``gaps``, ``paths`` (``teams,
        share, ola_sum_h, fits`` plus ``missing`` and ``pauses``) and ``other_share``.
    """
    return [_static_row(target, *_static(scenario, target)) for target in sla_targets(scenario)]


def _static_row(target: SlaTarget, checks: Sequence[_PathCheck], other: float) -> Row:
    return {
        **sla_identity(target),
        "underpinned": bool(checks) and all(c.fits for c in checks),
        "gaps": _gaps(checks),
        "paths": [_path_row(c) for c in checks],
        "other_share": other,
    }
