"""Do the OLAs and UCs underpin the SLA? Static alignment, simulated alignment, recommendations.

For every SLA target (service, customer and corporate levels) three answers:

**Static.** The routing paths that carry at least :data:`MIN_PATH_SHARE` of the target's tickets
— sequences of visits from the entry team through ``next`` until resolved, with their
probabilities from the routing shares (``pause`` and a reopen bring the ticket back to the same
team: a new visit, not a team of its own). Paths are enumerated depth first; a branch is
abandoned once its probability falls below a tenth of :data:`MIN_PATH_SHARE` or it reaches
:data:`MAX_PATH_VISITS` visits (what is not listed is ``other_share``). Along each path the
agreements are *chained*: from a start instant, each visit's OLA/UC ``within`` is added on its
own calendar (:meth:`simkit.calendar.Calendar.add`), the next visit starting where the previous
deadline fell, and the total is measured on the SLA's calendar
(:meth:`~simkit.calendar.Calendar.elapsed`). The worst case over start instants every
:data:`GRID_MINUTES` minutes of a representative week (the first local Monday-to-Sunday week of
the measured span), restricted to the hours in which the target's tickets arrive, is the path's
``ola_sum_h``. A pause or a reopen splits the chain: the SLA clock stops there for an arbitrary
time, so each segment takes its own worst start and the worst cases add. A path *fits* when the
sum is at most the SLA's ``within``; a team without an agreement for the metric leaves the path
unbounded (``ola_sum_h`` null, not fitting). For ``respond`` only the entry team's respond OLA
counts. ``gaps`` names the teams and suppliers that break it: those without an agreement on a
listed path, and on a path whose agreements add up to too much, the fewest agreements —
largest first — whose removal would make it fit.

**Simulated.** Each measured ticket of the target is joined with the OLA/UC outcomes of its
visits (resolve agreements for a resolution target; the first visit's respond agreement for a
response target), measured on every visit of the ticket whatever its assignment time. A visit to
a team without an agreement, or still running and not yet late when the run ends, counts neither
as met nor as breached; a ticket *met its OLAs* when at least one visit was measured and none
breached. ``p_met_when_olas_met`` = P(SLA met | OLAs met); ``watermelon_share`` = the share of SLA
breaches on tickets that met their OLAs (the OLAs are too loose); ``tight_share`` = the share of
OLA/UC breaches on tickets whose SLA was met (the OLAs are tighter than the SLA needs). Counts are
pooled over replications; their Wilson intervals treat tickets as independent.

**Recommended.** Per team on the listed paths, the time each visit takes on the SLA's calendar
is measured on the target's tickets. With *k* the most visits on a listed path, each agreement
gets the goal ``1 − (1 − g)/k`` (so that a ticket meets all *k* of them with probability at
least *g* whatever their dependence), and the SLA's ``within`` is shared out in proportion to
each team's time at that quantile, scaled so that the longest listed path adds up to
``within`` exactly (a team counts at least 1% of ``within``/*k*, so every target is positive).
The recommendations are written on the SLA's own calendar, rounded down to whole seconds, and
checked with the static method (``recommended_fits``).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures import Executor
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from simkit.calendar import Calendar
from simkit.measure import (
    MeasureSpec,
    OlaTarget,
    SlaTarget,
    ola_outcomes,
    sla_outcomes,
    ticket_pauses,
)
from simkit.measure.clock import TOLERANCE_H, instants
from simkit.measure.sla import STATUSES
from simkit.measure.summary import sla_identity
from simkit.runner import Progress, Results, simulate
from simkit.scenario import Scenario
from simkit.scenario.targets import ola_targets, sla_targets
from simkit.stats import wilson_interval

__all__ = [
    "GRID_MINUTES",
    "MAX_PATH_VISITS",
    "MIN_PATH_SHARE",
    "RoutingPath",
    "ola_alignment",
    "recommended_patch",
    "routing_paths",
    "start_grid",
    "static_alignment",
    "worst_case_hours",
]

MIN_PATH_SHARE = 0.01
"""Paths carrying at least this share of a target's tickets are listed and checked."""
MAX_PATH_VISITS = 20
"""Paths are not followed beyond this many visits (ping-pong loops)."""
GRID_MINUTES = 15
"""Spacing of the start instants over the representative week."""
_EXPLORE = MIN_PATH_SHARE / 10
_RESOLVED, _PAUSE = "resolved", "pause"
_FLOOR_SHARE = 0.01
_US_PER_HOUR = 3_600_000_000

Row = dict[str, Any]


# -- routing paths ------------------------------------------------------------------------------


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


# -- chaining agreements over a representative week ---------------------------------------------


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


# -- the static check ---------------------------------------------------------------------------


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


# -- the simulated join ---------------------------------------------------------------------------


def _ints(table: pa.Table, name: str) -> np.ndarray:
    return np.asarray(table[name].to_numpy(zero_copy_only=False)).astype(np.int64)


_MET, _BREACHED = 0, 1


def _statuses(table: pa.Table) -> np.ndarray:
    """Status codes: 0 met, 1 breached, 2 open."""
    codes = pc.fill_null(pc.index_in(table["status"], value_set=pa.array(STATUSES)), 2)
    return np.asarray(codes.to_numpy(zero_copy_only=False)).astype(np.int8)


def _team_codes(column: pa.ChunkedArray) -> tuple[np.ndarray, dict[str, int]]:
    """Integer codes of a string column and the code of each name."""
    encoded = pc.dictionary_encode(column).combine_chunks()
    names = encoded.dictionary.to_pylist()
    codes = np.asarray(encoded.indices.to_numpy(zero_copy_only=False)).astype(np.int64)
    return codes, {str(name): i for i, name in enumerate(names)}


@dataclass
class _RunData:
    """The tables of a run, keyed once for every target."""

    results: Results
    spec: MeasureSpec
    visit_spec: MeasureSpec
    stride: int
    visit_key: np.ndarray
    visit_team: np.ndarray
    team_code: dict[str, int]
    visit_first: np.ndarray
    assigned: np.ndarray
    started: np.ndarray
    finished: np.ndarray
    ola_cache: dict[int, tuple[np.ndarray, np.ndarray, np.ndarray]]
    hours_cache: dict[tuple[Calendar, str], np.ndarray]

    @classmethod
    def of(cls, results: Results) -> _RunData:
        spec = results.measure_spec()
        until = spec.observed_until + np.timedelta64(1, "us")
        visit_spec = dataclasses.replace(spec, horizon_end=max(until, spec.horizon_end))
        tickets, visits = results.tickets, results.visits
        stride = int(_ints(tickets, "ticket_id").max()) + 1 if tickets.num_rows else 1
        team, team_code = _team_codes(visits["team"])
        return cls(
            results=results,
            spec=spec,
            visit_spec=visit_spec,
            stride=stride,
            visit_key=_ints(visits, "replication") * stride + _ints(visits, "ticket_id"),
            visit_team=team,
            team_code=team_code,
            visit_first=_ints(visits, "seq") == 0,
            assigned=instants(visits["assigned_at"], "visits.assigned_at"),
            started=instants(visits["started_at"], "visits.started_at"),
            finished=instants(visits["finished_at"], "visits.finished_at"),
            ola_cache={},
            hours_cache={},
        )

    def ola(self, index: int, target: OlaTarget) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Key, status and first-visit flag of every measured visit of one OLA/UC target."""
        if index not in self.ola_cache:
            out = ola_outcomes(self.results.visits, target, self.visit_spec, self.results.tickets)
            key = _ints(out, "replication") * self.stride + _ints(out, "ticket_id")
            self.ola_cache[index] = (key, _statuses(out), _ints(out, "seq") == 0)
        return self.ola_cache[index]

    def visit_hours(self, calendar: Calendar, metric: str) -> np.ndarray:
        """Each visit's time on ``calendar`` (respond: to pickup; resolve: to the end of the
        visit); ``inf`` for a visit not over when the run ended."""
        key = (calendar, metric)
        if key not in self.hours_cache:
            stop = self.started if metric == "respond" else self.finished
            stop = np.where(np.isnat(stop), self.finished, stop) if metric == "respond" else stop
            late = np.isnat(stop) | (stop > self.spec.observed_until)
            hours = np.asarray(
                calendar.elapsed(self.assigned, np.where(late, self.assigned, stop)),
                dtype=np.float64,
            )
            hours[late] = np.inf
            self.hours_cache[key] = hours
        return self.hours_cache[key]


@dataclass(frozen=True)
class _Joined:
    keys: np.ndarray
    """Sorted keys of the target's measured tickets."""
    sla_met: np.ndarray
    ola_met: np.ndarray
    ola_breached: np.ndarray
    per_team: list[Row]


def _index_of(sorted_keys: np.ndarray, keys: np.ndarray) -> np.ndarray:
    """Position of each key in ``sorted_keys``, −1 where absent."""
    if sorted_keys.size == 0:
        return np.full(keys.size, -1, dtype=np.int64)
    pos = np.minimum(np.searchsorted(sorted_keys, keys), sorted_keys.size - 1)
    return np.where(sorted_keys[pos] == keys, pos, -1)


def _join(
    data: _RunData,
    target: SlaTarget,
    outcomes: pa.Table,
    olas: Sequence[tuple[int, OlaTarget]],
) -> _Joined:
    status = _statuses(outcomes)
    measured = status <= _BREACHED
    keys = (_ints(outcomes, "replication") * data.stride + _ints(outcomes, "ticket_id"))[measured]
    order = np.argsort(keys, kind="stable")
    keys = keys[order]
    sla_met = (status[measured] == _MET)[order]
    met = np.zeros(keys.size, dtype=np.int64)
    breached = np.zeros(keys.size, dtype=np.int64)
    per_team: list[Row] = []
    for index, ola in olas:
        visit_key, visit_status, first = data.ola(index, ola)
        owner = _index_of(keys, visit_key)
        mine = owner >= 0
        if target.metric == "respond":
            mine &= first
        late = mine & (visit_status == _BREACHED)
        ok = mine & (visit_status == _MET)
        met += np.bincount(owner[ok], minlength=keys.size)
        breached += np.bincount(owner[late], minlength=keys.size)
        per_team.append(
            {
                "team": ola.team,
                "kind": ola.kind,
                "visits": int(ok.sum() + late.sum()),
                "breached": int(late.sum()),
                "breached_sla_met": int(sla_met[owner[late]].sum()),
            }
        )
    return _Joined(keys, sla_met, (met > 0) & (breached == 0), breached, per_team)


def _share(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def _simulated(joined: _Joined, replications: int) -> Row:
    n_met = int(joined.ola_met.sum())
    breaches = int((~joined.sla_met).sum())
    ola_breaches = int(joined.ola_breached.sum())
    both = int((joined.sla_met & joined.ola_met).sum())
    melon = int((~joined.sla_met & joined.ola_met).sum())
    tight = int(joined.ola_breached[joined.sla_met].sum())
    return {
        "p_met_when_olas_met": _share(both, n_met),
        "p_met_when_olas_met_interval": wilson_interval(both, n_met).as_dict(),
        "watermelon_share": _share(melon, breaches),
        "watermelon_share_interval": wilson_interval(melon, breaches).as_dict(),
        "tight_share": _share(tight, ola_breaches),
        "tickets": joined.keys.size / replications,
        "share_olas_met": _share(n_met, joined.keys.size),
        "counts": {
            "tickets": int(joined.keys.size),
            "olas_met": n_met,
            "sla_breaches": breaches,
            "ola_breaches": ola_breaches,
            "replications": replications,
        },
        "teams": joined.per_team,
    }


# -- recommendations ------------------------------------------------------------------------------


def _recommend(
    data: _RunData,
    scenario: Scenario,
    target: SlaTarget,
    checks: Sequence[_PathCheck],
    keys: np.ndarray,
) -> tuple[list[Row], bool]:
    paths = [c.path for c in checks]
    if not paths or keys.size == 0:
        return [], False
    k = max(len(p.teams) for p in paths)
    goal = 1.0 - (1.0 - target.goal) / k
    floor = _FLOOR_SHARE * target.within_h / k
    hours = data.visit_hours(target.calendar, target.metric)
    mine = _index_of(keys, data.visit_key) >= 0
    if target.metric == "respond":
        mine &= data.visit_first
    teams = list(dict.fromkeys(t for p in paths for t in p.teams))
    quantile: dict[str, float] = {}
    times: dict[str, np.ndarray] = {}
    for team in teams:
        values = hours[mine & (data.visit_team == data.team_code.get(team, -1))]
        times[team] = values
        q = float(np.quantile(values, goal, method="inverted_cdf")) if values.size else math.inf
        quantile[team] = max(q, floor)
    sums = [sum(quantile[t] for t in p.teams) for p in paths]
    finite = [s for s in sums if math.isfinite(s)]
    scale = target.within_h / max(finite) if finite else math.nan
    goal_out = min(1.0, math.ceil(goal * 1000 - 1e-9) / 1000)
    rows: list[Row] = []
    recommended: dict[tuple[str, str], Step] = {}
    for team in teams:
        spec = scenario.teams[team]
        within = scale * quantile[team]
        if math.isfinite(within):
            within = math.floor(within * 3600 + 1e-9) / 3600
            if within <= 0:
                within = 1 / 3600
            recommended[(team, target.metric)] = (within, target.calendar)
        values = times[team]
        rows.append(
            {
                "team": team,
                "kind": "uc" if spec.kind == "supplier" else "ola",
                "metric": target.metric,
                "within_h": within if math.isfinite(within) else None,
                "calendar": target.calendar_name,
                "goal": goal_out,
                "quantile_h": quantile[team] if math.isfinite(quantile[team]) else None,
                "compliance_now": (
                    float(np.mean(values <= within + TOLERANCE_H))
                    if values.size and math.isfinite(within)
                    else None
                ),
            }
        )
    fits = False
    if len(recommended) == len(teams):
        chains = _Chains(target.calendar, start_grid(scenario))
        fits = all(_check_path(p, target, recommended, chains).fits for p in paths)
    return rows, fits


def recommended_patch(row: Mapping[str, Any]) -> dict[str, Any]:
    """The merge patch that writes a row's ``recommended`` agreements into the scenario.

    Use it with :meth:`simkit.scenario.Scenario.with_patch`. Each team's OLA (a supplier's UC)
    for the row's metric is replaced; its other agreement is kept. Teams without a
    recommendation (``within_h`` null) are left alone.
    """
    teams: dict[str, Any] = {}
    for rec in row.get("recommended", []):
        if rec.get("within_h") is None:
            continue
        seconds = round(float(rec["within_h"]) * 3600)
        agreement = {
            "within": f"{seconds}s",
            "calendar": rec["calendar"],
            "goal": float(rec["goal"]),
        }
        teams.setdefault(rec["team"], {}).setdefault(rec["kind"], {})[rec["metric"]] = agreement
    return {"teams": teams} if teams else {}


# -- the document ---------------------------------------------------------------------------------


def ola_alignment(
    scenario: Scenario,
    *,
    replications: int | None = None,
    seed: int | None = None,
    executor: Executor | None = None,
    progress: Progress | None = None,
    results: Results | None = None,
) -> dict[str, Any]:
    """Whether the OLAs and UCs underpin each SLA target, statically and in simulation, and
    what each team and supplier would have to promise instead (see the module docstring).

    Parameters
    ----------
    scenario
        The scenario with its SLA targets and the teams' OLAs and suppliers' UCs.
    replications, seed, executor, progress
        As for :func:`simkit.runner.simulate`; ignored when ``results`` is given.
    results
        A finished run of ``scenario`` to reuse instead of simulating it.

    Returns
    -------
    dict
        ``{"scenario", "replications", "seed", "changes", "min_path_share", "grid_minutes",
        "sla", "failures"}``. ``sla`` rows: ``service, priority, metric, within_h, underpinned,
        gaps, paths [{teams, share, ola_sum_h, fits, missing, pauses}], p_met_when_olas_met,
        watermelon_share, recommended [{team, within_h, goal, kind, metric, calendar,
        quantile_h, compliance_now}]`` plus ``level, customer, calendar, goal, other_share,
        tight_share, share_olas_met, tickets, counts, teams, recommended_fits`` and the Wilson
        intervals of the two shares. Durations are business hours on the SLA's calendar;
        figures without data are ``None``.
    """
    if results is None:
        results = simulate(
            scenario, replications=replications, seed=seed, executor=executor, progress=progress
        )
    scenario = results.scenario
    measured = results.succeeded > 0 and results.tickets.num_rows > 0
    data = _RunData.of(results) if measured else None
    all_olas = list(enumerate(ola_targets(scenario)))
    tickets = results.service_tickets()
    attached = ticket_pauses(tickets, results.pauses, data.spec) if data is not None else None
    rows: list[Row] = []
    for target in sla_targets(scenario):
        checks, other = _static(scenario, target)
        row = _static_row(target, checks, other)
        simulated: Row = {
            "p_met_when_olas_met": None,
            "watermelon_share": None,
            "tight_share": None,
        }
        recommended: list[Row] = []
        fits = False
        if data is not None:
            outcomes = sla_outcomes(tickets, attached, target, data.spec)
            olas = [
                (i, o)
                for i, o in all_olas
                if o.metric == target.metric and o.priority in (None, target.priority)
            ]
            joined = _join(data, target, outcomes, olas)
            simulated = _simulated(joined, results.succeeded)
            recommended, fits = _recommend(data, scenario, target, checks, joined.keys)
        rows.append({**row, **simulated, "recommended": recommended, "recommended_fits": fits})
    return {
        "scenario": scenario.name,
        "replications": results.succeeded,
        "seed": results.seed,
        "changes": list(scenario.applied_changes),
        "min_path_share": MIN_PATH_SHARE,
        "grid_minutes": GRID_MINUTES,
        "sla": rows,
        "failures": [{"replication": f.replication, "error": f.error} for f in results.failures],
    }
