"""The week in 168 hourly slots for the quick estimate: arrivals, rostered agents, expected visits
per team and mean handling times.

Slot 0 is Monday 00:00–01:00 local time (:mod:`simkit.analysis.quick` states the model).
"""

from __future__ import annotations

import numpy as np

from simkit.engine.compile import HOURS_PER_YEAR
from simkit.errors import InputError
from simkit.scenario import Scenario
from simkit.scenario.models import Service, Team
from simkit.timespec import DAY_NAMES, MINUTES_PER_WEEK, parse_weekly_pattern, weekly_intervals

__all__ = ["SLOTS"]

SLOTS = 168
_RESOLVED, _PAUSE = "resolved", "pause"


def _slot_mean(per_minute: np.ndarray) -> np.ndarray:
    result: np.ndarray = per_minute.reshape(SLOTS, 60).mean(axis=1)
    return result


def _coverage(intervals: list[tuple[int, int]] | tuple[tuple[int, int], ...]) -> np.ndarray:
    delta = np.zeros(MINUTES_PER_WEEK + 1)
    for a, b in intervals:
        delta[a] += 1.0
        delta[b] -= 1.0
    return np.cumsum(delta)[:MINUTES_PER_WEEK]


def _rostered(team: Team) -> np.ndarray:
    """Rostered agents per slot (lines stack)."""
    level = np.zeros(MINUTES_PER_WEEK)
    for line, agents in (team.roster or {}).items():
        days, clock = parse_weekly_pattern(line)
        level += agents * _coverage(weekly_intervals(days, clock))
    return _slot_mean(level)


def _profile(scenario: Scenario, service: Service) -> np.ndarray:
    """The share of a week's tickets arriving in each slot."""
    profile = service.demand.profile
    if profile == "flat":
        return np.full(SLOTS, 1.0 / SLOTS)
    if isinstance(profile, str):
        weights = _slot_mean(_coverage(scenario.calendar(profile).weekly))
    else:
        weights = np.asarray(profile, dtype=np.float64).ravel()
    total = weights.sum()
    return weights / total if total > 0 else np.full(SLOTS, 1.0 / SLOTS)


def _arrivals(scenario: Scenario, service: Service) -> np.ndarray:
    """Tickets per hour in each slot, grown to the middle of the horizon."""
    years = scenario.horizon / 2 / HOURS_PER_YEAR
    growth = (1.0 + service.demand.growth) ** years
    result: np.ndarray = service.demand.per_week * growth * _profile(scenario, service)
    return result


def _visits(scenario: Scenario, teams: list[str]) -> np.ndarray:
    """``visits[j, e]``: expected visits to team ``j`` of a ticket entering at team ``e``."""
    index = {t: i for i, t in enumerate(teams)}
    n = len(teams)
    moves = np.zeros((n, n))
    for i, name in enumerate(teams):
        routing = scenario.teams[name].next or {_RESOLVED: 1.0}
        total = sum(routing.values())
        for route, share in routing.items():
            if route == _PAUSE:
                moves[i, i] += share / total
            elif route in index:
                moves[i, index[route]] += share / total
    try:
        visits = np.linalg.solve(np.eye(n) - moves.T, np.eye(n))
    except np.linalg.LinAlgError:
        visits = np.full((n, n), np.inf)
    if not np.all(np.isfinite(visits)) or (visits < -1e-9).any():
        raise InputError.single(
            "the routing never resolves some tickets: every path keeps passing them on",
            "give the teams' next: a resolved share",
            file=scenario.source,
            path="teams",
        )
    result: np.ndarray = np.maximum(visits, 0.0)
    return result


def _handle_means(team: Team, priorities: tuple[str, ...]) -> np.ndarray:
    means = []
    for p in priorities:
        dist = team.handle.get(p, team.handle.get("default"))
        if dist is None:
            dist = next(iter(team.handle.values()))
        means.append(float(dist.mean))
    return np.asarray(means)


def _label(slot: int) -> str:
    return f"{DAY_NAMES[slot // 24]} {slot % 24:02d}:00"
