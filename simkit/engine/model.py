"""The compiled support model: plain arrays and distributions, no pydantic, no YAML.

:func:`simkit.engine.compile.compile_support` turns a validated scenario into a
:class:`SupportModel`; the simpy engine only ever sees this. Times are float hours since
``origin`` (the UTC instant at which the run, warm-up included, begins).

Windowed changes (temporary overlays) make *regimes*: regime *k* holds from
``regime_starts[k]`` until the next start. Rosters and arrival rates are already spliced over the
whole run; per-regime parameters (handling, routing, pauses, mix …) are looked up by the regime in
force at the moment of the decision (arrival, start of handling, end of handling).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

import numpy as np

from simkit.distributions import Distribution

__all__ = [
    "BacklogModel",
    "Roster",
    "ServiceModel",
    "ServiceParams",
    "SupportModel",
    "TeamModel",
    "TeamParams",
]

RESOLVED = "resolved"
PAUSE = "pause"


@dataclass(frozen=True, eq=False)
class Roster:
    """Agents available to work tickets, piecewise constant over the run (shrinkage applied)."""

    times: np.ndarray
    """float64, strictly increasing, ``times[0] == 0.0``: the breakpoints in run hours."""
    agents: np.ndarray
    """int64, ``agents[i]`` agents are available in ``[times[i], times[i + 1])``."""


@dataclass(frozen=True, eq=False)
class TeamParams:
    """One team's (or supplier's) parameters in one regime."""

    handle: Mapping[str, Distribution]
    """Handling time by priority name; every priority of the model is present."""
    routes: tuple[str, ...]
    """Where a ticket goes after handling: ``"resolved"``, ``"pause"`` or a team/supplier name."""
    route_probs: np.ndarray
    """float64 probabilities aligned with ``routes``; they sum to 1."""
    pause: Distribution | None = None
    """Duration of a pause (awaiting the user); the ticket then returns to this team's queue."""
    patience: Distribution | None = None
    """Time a waiting ticket stays in the queue before it abandons; ``None`` means it never does."""
    preempt: frozenset[str] = frozenset()
    """Priorities whose arrival interrupts a ticket of lower rank in service (preemptive resume)."""


@dataclass(frozen=True, eq=False)
class TeamModel:
    name: str
    kind: Literal["team", "supplier"]
    roster: Roster | None
    """Agents on duty for a team; ``None`` for a supplier (every ticket starts at once)."""
    work_intervals: np.ndarray | None
    """For a supplier: ``(n, 2)`` float64 run-hour intervals in which its handling time runs
    (its calendar's open hours, sorted, disjoint, covering the whole run). ``None`` for a team."""
    params: tuple[TeamParams, ...]
    """One entry per regime."""


@dataclass(frozen=True, eq=False)
class ServiceParams:
    """One service's parameters in one regime."""

    priority_probs: np.ndarray
    """float64 over ``SupportModel.priorities``."""
    customer_probs: np.ndarray
    """float64 over ``ServiceModel.customers``."""
    reopen_probability: float = 0.0
    reopen_after: Distribution | None = None


@dataclass(frozen=True, eq=False)
class ServiceModel:
    name: str
    entry: str
    """Name of the team whose queue new tickets join."""
    hourly_rate: np.ndarray
    """Expected arrivals in each whole run hour ``[k, k + 1)``; length ``ceil(SupportModel.end)``."""
    customers: tuple[str, ...]
    """Customer names; ``""`` stands for tickets from no named customer."""
    params: tuple[ServiceParams, ...]


@dataclass(frozen=True, eq=False)
class BacklogModel:
    """Tickets open when the run begins (run hour 0): they join ``team``'s queue then."""

    team: str
    service: str
    priority: str
    tickets: int
    age: float
    """Hours the tickets have been open at run hour 0."""


@dataclass(frozen=True, eq=False)
class SupportModel:
    origin: np.datetime64
    """``datetime64[us]`` UTC instant of run hour 0 (the start of the warm-up)."""
    start: float
    """Run hour of the first measured instant (the scenario's ``start``)."""
    horizon_end: float
    """Run hour at which the measured span ends: tickets opened in ``[start, horizon_end)`` count."""
    end: float
    """Run hour at which the simulation stops; arrivals continue until then (drain)."""
    priorities: tuple[str, ...]
    """Priority names, highest rank first."""
    teams: tuple[TeamModel, ...]
    services: tuple[ServiceModel, ...]
    regime_starts: np.ndarray
    """float64, ``regime_starts[0] == 0.0``; regime k holds from ``regime_starts[k]``."""
    backlog: tuple[BacklogModel, ...] = ()
    """Tickets already open at run hour 0 (the scenario's ``backlog``)."""

    def team_index(self, name: str) -> int:
        for i, team in enumerate(self.teams):
            if team.name == name:
                return i
        raise KeyError(name)

    def regime_at(self, t: float) -> int:
        return int(np.searchsorted(self.regime_starts, t, side="right")) - 1
