"""Routing paths of an SLA target's tickets: the ways through the teams and how many take each.

Paths run from the entry team through ``next`` until resolved, with their probabilities from the
routing shares; a pause or a reopen brings the ticket back to the same team as a new visit.
Paths are enumerated depth first and listed when they carry at least :data:`MIN_PATH_SHARE` of
the tickets (:mod:`simkit.analysis.ola` explains how they are checked).
"""

from __future__ import annotations

from dataclasses import dataclass

from simkit.measure import SlaTarget
from simkit.scenario import Scenario

__all__ = ["MAX_PATH_VISITS", "MIN_PATH_SHARE", "RoutingPath", "routing_paths"]

MIN_PATH_SHARE = 0.01
"""Paths carrying at least this share of a target's tickets are listed and checked."""
MAX_PATH_VISITS = 20
"""Paths are not followed beyond this many visits (ping-pong loops)."""
_EXPLORE = MIN_PATH_SHARE / 10
_RESOLVED, _PAUSE = "resolved", "pause"


@dataclass(frozen=True)
class RoutingPath:
    """One way through the teams: the visits in order and the share of tickets taking it.

    ``breaks`` holds the indices of visits that begin after a pause or a reopen (the SLA clock
    stopped before them).
    """

    teams: tuple[str, ...]
    share: float
    breaks: tuple[int, ...] = ()


def _routes(scenario: Scenario, team: str) -> list[tuple[str, float]]:
    routing = scenario.teams[team].next or {_RESOLVED: 1.0}
    total = sum(routing.values())
    return [(route, share / total) for route, share in routing.items() if share > 0]


def routing_paths(scenario: Scenario, service: str) -> tuple[list[RoutingPath], float]:
    """The routing paths of ``service``'s tickets carrying at least :data:`MIN_PATH_SHARE`.

    Parameters
    ----------
    scenario
        The scenario (outside any windowed change).
    service
        The service whose entry team the paths start from; its ``reopen`` probability sends a
        resolved ticket back to the resolving team once.

    Returns
    -------
    paths, other_share
        The paths, most common first, and the share of tickets on paths not listed (rarer
        ones, and those longer than :data:`MAX_PATH_VISITS` visits).
    """
    spec = scenario.services[service]
    reopen = spec.reopen.probability if spec.reopen else 0.0
    found: dict[tuple[tuple[str, ...], tuple[int, ...]], float] = {}
    stack: list[tuple[tuple[str, ...], tuple[int, ...], float, bool]] = [
        ((spec.entry,), (), 1.0, False)
    ]

    def finish(teams: tuple[str, ...], breaks: tuple[int, ...], p: float) -> None:
        found[(teams, breaks)] = found.get((teams, breaks), 0.0) + p

    while stack:
        teams, breaks, prob, reopened = stack.pop()
        here = teams[-1]
        room = len(teams) < MAX_PATH_VISITS
        for route, share in _routes(scenario, here):
            p = prob * share
            if p < _EXPLORE:
                continue
            if route == _RESOLVED:
                if reopen > 0 and not reopened:
                    finish(teams, breaks, p * (1.0 - reopen))
                    if room and p * reopen >= _EXPLORE:
                        stack.append(((*teams, here), (*breaks, len(teams)), p * reopen, True))
                else:
                    finish(teams, breaks, p)
            elif room and route == _PAUSE:
                stack.append(((*teams, here), (*breaks, len(teams)), p, reopened))
            elif room:
                stack.append(((*teams, route), breaks, p, reopened))
    paths = [
        RoutingPath(teams, share, breaks)
        for (teams, breaks), share in found.items()
        if share >= MIN_PATH_SHARE - 1e-12
    ]
    paths.sort(key=lambda path: (-path.share, len(path.teams), path.teams))
    other = max(0.0, 1.0 - sum(path.share for path in paths))
    return paths, other


def _target_paths(scenario: Scenario, target: SlaTarget) -> tuple[list[RoutingPath], float]:
    """The paths of a target: its service's, or for the corporate level every service's with
    the priority, weighted by their volume of it."""
    if target.service is not None:
        weights = {target.service: 1.0}
    else:
        weights = {
            name: service.demand.per_week * service.priorities[target.priority].share
            for name, service in scenario.services.items()
            if target.priority in service.priorities
        }
    total = sum(weights.values())
    if total <= 0:
        return [], 1.0
    merged: dict[tuple[tuple[str, ...], tuple[int, ...]], float] = {}
    for name, weight in weights.items():
        if target.metric == "respond":
            key: tuple[tuple[str, ...], tuple[int, ...]] = ((scenario.services[name].entry,), ())
            merged[key] = merged.get(key, 0.0) + weight / total
            continue
        paths, _ = routing_paths(scenario, name)
        for path in paths:
            key = (path.teams, path.breaks)
            merged[key] = merged.get(key, 0.0) + path.share * weight / total
    listed = [RoutingPath(t, s, b) for (t, b), s in merged.items() if s >= MIN_PATH_SHARE - 1e-12]
    listed.sort(key=lambda path: (-path.share, len(path.teams), path.teams))
    return listed, max(0.0, 1.0 - sum(path.share for path in listed))
