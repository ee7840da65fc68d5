"""Scenario → :class:`~simkit.engine.model.SupportModel`: rosters, arrival rates and parameters
as arrays over the run, with windowed changes spliced in as regimes.

Conventions (documented in docs/model.md):

- Run hour 0 is ``start − warmup`` (UTC); the measured span is ``[start, start + horizon)``; the
  run continues for ``drain`` after it with arrivals going on, so that tickets opened near the end
  of the horizon can finish (they are measured; tickets opened in the drain are not).
- Rosters are weekly patterns in the scenario time zone (DST-correct); holidays do not change them.
- Shrinkage: a team with ``n`` rostered agents and shrinkage ``s`` has ``n (1 − s)`` agents on
  tickets on average; in each run hour the fractional part is rounded up with that probability
  (stream ``shrinkage/<team>``), so capacity is unbiased for small teams too.
"""

from __future__ import annotations

import datetime as dt
import math
import zoneinfo
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

import numpy as np

from simkit.distributions import Distribution
from simkit.engine.model import (
    PAUSE,
    RESOLVED,
    BacklogModel,
    Roster,
    ServiceModel,
    ServiceParams,
    SupportModel,
    TeamModel,
    TeamParams,
)
from simkit.errors import InputError
from simkit.scenario import Scenario
from simkit.scenario.models import Service, Team
from simkit.streams import Streams, stream_name
from simkit.timespec import MINUTES_PER_WEEK, parse_weekly_pattern, weekly_intervals

__all__ = [
    "PerScenario",
    "RunClock",
    "compile_support",
    "expected_visits",
    "profile_weights",
    "run_clock",
]

HOURS_PER_YEAR = 365.25 * 24
_US_PER_MINUTE = 60_000_000
_ONE_US = dt.timedelta(microseconds=1)
_NO_OFFSET = dt.timedelta(0)
T = TypeVar("T")


class RunClock:
    """Run hours ↔ instants for one scenario."""

    def __init__(self, scenario: Scenario) -> None:
        zone = zoneinfo.ZoneInfo(scenario.timezone)
        start_local = dt.datetime.combine(scenario.start, dt.time(0), tzinfo=zone)
        start_utc = start_local.astimezone(dt.UTC).replace(tzinfo=None)
        self.zone = zone
        self.start_instant = np.datetime64(start_utc, "us")
        self.warmup = scenario.warmup
        self.origin = self.start_instant - np.timedelta64(
            round(scenario.warmup * 3_600_000_000), "us"
        )
        self.start = scenario.warmup
        self.horizon_end = scenario.warmup + scenario.horizon
        days = scenario.horizon / 24
        if abs(days - round(days)) < 1e-9:
            # a horizon in whole days (13w, 90d) ends at local midnight, across clock changes too
            last = dt.datetime.combine(
                scenario.start + dt.timedelta(days=round(days)), dt.time(0), tzinfo=zone
            )
            self.horizon_end = self.hours_of(last)
        self.end = self.horizon_end + scenario.drain

    def instant(self, hours: float) -> np.datetime64:
        return self.origin + np.timedelta64(round(hours * 3_600_000_000), "us")

    def hours_of(self, moment: dt.datetime) -> float:
        utc = moment.astimezone(dt.UTC).replace(tzinfo=None)
        delta = np.datetime64(utc, "us") - self.origin
        return float(delta / np.timedelta64(1, "us")) / 3_600_000_000

    def local_midnight_hours(self, day: dt.date) -> float:
        return self.hours_of(dt.datetime.combine(day, dt.time(0), tzinfo=self.zone))

    def local_days(self) -> list[dt.date]:
        """Every local date the run touches."""
        first = (
            self.instant(0.0)
            .astype(dt.datetime)
            .replace(tzinfo=dt.UTC)
            .astimezone(self.zone)
            .date()
        )
        last = (
            self.instant(self.end)
            .astype(dt.datetime)
            .replace(tzinfo=dt.UTC)
            .astimezone(self.zone)
            .date()
        )
        return [first + dt.timedelta(days=k) for k in range(-1, (last - first).days + 2)]


def run_clock(scenario: Scenario) -> RunClock:
    return RunClock(scenario)


# -- weekly patterns over the run -------------------------------------------------------------------


def _weekly_level(roster: dict[str, int]) -> tuple[np.ndarray, np.ndarray]:
    """Breakpoints (minutes of week) and agents from roster lines that stack."""
    delta = np.zeros(MINUTES_PER_WEEK + 1, dtype=np.int64)
    for line, agents in roster.items():
        days, clock = parse_weekly_pattern(line)
        for a, b in weekly_intervals(days, clock):
            delta[a] += agents
            delta[b] -= agents
    level = np.cumsum(delta)[:MINUTES_PER_WEEK]
    change = np.flatnonzero(np.diff(level, prepend=level[-1] - 1 if level[0] == level[-1] else -1))
    change = np.union1d(change, [0])
    return change, level[change]


def _weekly_to_run(
    clock: RunClock, minutes: np.ndarray, values: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """A weekly step function (local minutes of week) as a step function over run hours."""
    days = clock.local_days()
    # every week the run touches, from the Monday on or before its first day (a run may hold no
    # Monday at all), and the week before it
    first = days[0] - dt.timedelta(days=days[0].weekday())
    weeks = [first - dt.timedelta(days=7)]
    while weeks[-1] + dt.timedelta(days=7) <= days[-1]:
        weeks.append(weeks[-1] + dt.timedelta(days=7))
    offsets = np.asarray(minutes, dtype=np.int64)
    local_us = (
        np.array(weeks, dtype="datetime64[us]").astype(np.int64)[:, None]
        + offsets[None, :] * _US_PER_MINUTE
    ).ravel()
    zone = clock.zone
    week_starts = [dt.datetime.combine(monday, dt.time(0)) for monday in weeks]
    utc_offset_us = np.array(
        [
            (zone.utcoffset(start + dt.timedelta(minutes=minute)) or _NO_OFFSET) // _ONE_US
            for start in week_starts
            for minute in offsets.tolist()
        ],
        dtype=np.int64,
    )
    since_origin = local_us - utc_offset_us - clock.origin.astype(np.int64)
    times = since_origin.astype(np.float64) / 3_600_000_000
    levels = np.tile(np.asarray(values, dtype=float), len(weeks))
    order = np.argsort(times, kind="stable")
    t = times[order]
    v = levels[order]
    # the value in force at hour 0
    before = t <= 0.0
    first_value = v[before][-1] if before.any() else v[0]
    keep = (t > 0.0) & (t < clock.end)
    return np.concatenate([[0.0], t[keep]]), np.concatenate([[first_value], v[keep]])


def _sample_step(times: np.ndarray, values: np.ndarray, at: np.ndarray) -> np.ndarray:
    return values[np.searchsorted(times, at, side="right") - 1]


# -- regimes ------------------------------------------------------------------------------------------


def _regimes(scenario: Scenario, clock: RunClock) -> tuple[np.ndarray, list[Scenario]]:
    """Regime start hours and the scenario in force in each (windowed changes spliced in)."""
    if not scenario.overlays:
        return np.array([0.0]), [scenario]
    bounds = {0.0}
    spans = []
    for overlay in scenario.overlays:
        a = max(0.0, clock.local_midnight_hours(overlay.window.from_))
        b = min(clock.end, clock.local_midnight_hours(overlay.window.until))
        spans.append((a, b))
        if a < clock.end:
            bounds.add(a)
        if 0.0 < b < clock.end:
            bounds.add(b)
    starts = np.array(sorted(bounds))
    cache: dict[tuple[int, ...], Scenario] = {}
    scenarios = []
    for t in starts:
        active = tuple(i for i, (a, b) in enumerate(spans) if a <= t < b)
        if active not in cache:
            regime = scenario
            for i in active:
                overlay = scenario.overlays[i]
                regime = regime.with_patch(overlay.patch, name=overlay.name)
            cache[active] = regime
        scenarios.append(cache[active])
    return starts, scenarios


def _splice(
    starts: np.ndarray, end: float, pieces: Sequence[tuple[np.ndarray, np.ndarray]]
) -> tuple[np.ndarray, np.ndarray]:
    """Join per-regime step functions: regime k's function inside [starts[k], starts[k+1])."""
    times: list[np.ndarray] = []
    values: list[np.ndarray] = []
    bounds = [*starts.tolist(), end]
    for k, (t, v) in enumerate(pieces):
        a, b = bounds[k], bounds[k + 1]
        inside = (t > a) & (t < b)
        times.append(np.concatenate([[a], t[inside]]))
        values.append(np.concatenate([[_sample_step(t, v, np.array([a]))[0]], v[inside]]))
    return np.concatenate(times), np.concatenate(values)


# -- teams -------------------------------------------------------------------------------------------


def _team_params(team: Team | None, priorities: Sequence[str], fallback: Team) -> TeamParams:
    team = team or fallback
    handle: dict[str, Distribution] = {}
    for p in priorities:
        dist = team.handle.get(p, team.handle.get("default"))
        if dist is None:  # validated: only priorities the team never sees can lack a time
            dist = next(iter(team.handle.values()))
        handle[p] = dist
    routing = dict(team.next) if team.next else {RESOLVED: 1.0}
    routes = tuple(routing)
    probs = np.array([routing[r] for r in routes], dtype=float)
    probs = probs / probs.sum()
    return TeamParams(
        handle=handle,
        routes=routes,
        route_probs=probs,
        pause=team.pause.duration if team.pause else None,
        patience=team.patience,
        preempt=frozenset(team.preempt),
    )


def _shrinkage_steps(
    rostered: tuple[np.ndarray, np.ndarray],
    shrinkage_of: Sequence[float],
    starts: np.ndarray,
    clock: RunClock,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The replication-independent part of :func:`_effective_roster`: the steps (the roster's
    breakpoints and every whole run hour), the whole agents on tickets and the fraction of one
    more in each step, and the run hour of each step."""
    times, agents = rostered
    hours = np.arange(0.0, math.ceil(clock.end))
    grid = np.union1d(times, hours[hours < clock.end])
    level = _sample_step(times, agents, grid)
    regime = np.searchsorted(starts, grid, side="right") - 1
    keep = np.asarray(shrinkage_of, dtype=float)[regime]
    effective = level * (1.0 - keep)
    whole = np.floor(effective + 1e-9)
    hour = np.minimum(np.floor(grid).astype(np.int64), len(hours) - 1)
    return grid, whole, effective - whole, hour


def _effective_roster(team: _RosteredTeam, clock: RunClock, streams: Streams) -> Roster:
    """Stochastically rounded agents on tickets, changing at most at whole run hours and at the
    roster's own breakpoints: in each run hour one more agent than the whole number with the
    probability of the fraction (stream ``shrinkage/<team>``)."""
    u = streams(stream_name("shrinkage", team.name)).random(math.ceil(clock.end))
    agents_on = (team.whole + (u[team.hour] < team.fraction)).astype(np.int64)
    change = np.concatenate([[True], agents_on[1:] != agents_on[:-1]])
    return Roster(times=team.steps[change], agents=agents_on[change])


def _work_intervals(
    calendars: Sequence[tuple[str, Scenario]], starts: np.ndarray, clock: RunClock
) -> np.ndarray:
    pieces = []
    bounds = [*starts.tolist(), clock.end]
    for k, (name, regime) in enumerate(calendars):
        calendar = regime.calendar(name)
        intervals = calendar.open_intervals_hours(clock.origin, clock.end)
        a, b = bounds[k], bounds[k + 1]
        clipped = np.clip(intervals, a, b)
        clipped = clipped[clipped[:, 1] > clipped[:, 0]]
        pieces.append(clipped)
    out = np.concatenate(pieces) if pieces else np.zeros((0, 2))
    # merge touching intervals across regime boundaries
    if len(out) > 1:
        merged = [out[0].tolist()]
        for a, b in out[1:].tolist():
            if a <= merged[-1][1] + 1e-12:
                merged[-1][1] = max(merged[-1][1], b)
            else:
                merged.append([a, b])
        out = np.asarray(merged)
    return out.reshape(-1, 2)


# -- demand ------------------------------------------------------------------------------------------


def profile_weights(service: Service, regime: Scenario, clock: RunClock) -> np.ndarray:
    """Expected share of a nominal week's tickets in each run hour [k, k+1)."""
    n_hours = math.ceil(clock.end)
    profile = service.demand.profile
    if profile == "flat":
        return np.full(n_hours, 1.0 / 168.0)
    if isinstance(profile, str):
        calendar = regime.calendar(profile)
        intervals = calendar.open_intervals_hours(clock.origin, float(n_hours))
        open_per_hour = np.zeros(n_hours)
        edges = np.arange(n_hours + 1, dtype=float)
        cumulative = np.concatenate([[0.0], np.cumsum(intervals[:, 1] - intervals[:, 0])])

        def open_until(x: np.ndarray) -> np.ndarray:
            i = np.searchsorted(intervals[:, 0], x, side="right") - 1
            i_clipped = np.clip(i, 0, max(len(intervals) - 1, 0))
            inside = (
                np.where(
                    i >= 0, np.minimum(x, intervals[i_clipped, 1]) - intervals[i_clipped, 0], 0.0
                )
                if len(intervals)
                else np.zeros_like(x)
            )
            return np.where(i >= 0, cumulative[np.maximum(i, 0)] + np.maximum(inside, 0.0), 0.0)

        f = open_until(edges)
        open_per_hour = np.diff(f)
        weekly = calendar.open_hours_per_week
        if weekly <= 0:
            raise InputError.single(
                f"profile calendar {profile!r} has no open hours",
                "give the calendar open hours",
                path=f"services.{service.entry}.demand.profile",
            )
        return open_per_hour / weekly
    matrix = np.asarray(profile, dtype=float)  # a file was read into its matrix at validation
    weights = matrix / matrix.sum()
    mid = clock.origin + (np.arange(n_hours) * 3600 + 1800).astype("timedelta64[s]")
    weekday, hour = _local_weekday_hour(mid, clock)
    hourly: np.ndarray = weights[weekday, hour]
    return hourly


def _local_weekday_hour(instants: np.ndarray, clock: RunClock) -> tuple[np.ndarray, np.ndarray]:
    """Local weekday (0 = Monday) and hour of UTC instants, DST-correct via the zone's offsets."""
    days = clock.local_days()
    offsets_at = []
    marks = []
    for day in days:
        moment = dt.datetime.combine(day, dt.time(12), tzinfo=clock.zone)
        marks.append(np.datetime64(moment.astimezone(dt.UTC).replace(tzinfo=None), "us"))
        offset = moment.utcoffset()
        offsets_at.append(offset.total_seconds() if offset else 0.0)
    # The offset at the last local noon holds until the next one, except across a change of
    # offset (01:00–03:00 local): there, and before the first noon, the zone is read at each
    # instant — a few dozen hours a year.
    at = instants.astype("datetime64[us]")
    noons, noon_offsets = np.asarray(marks), np.asarray(offsets_at)
    i = np.searchsorted(noons, at) - 1
    offset_s = noon_offsets[np.clip(i, 0, len(noons) - 1)]
    changed = np.flatnonzero(np.diff(noon_offsets) != 0)
    exact = (i < 0) | np.isin(i, changed)
    for j in np.flatnonzero(exact):
        moment = at[j].astype(dt.datetime).replace(tzinfo=dt.UTC).astimezone(clock.zone)
        offset = moment.utcoffset()
        offset_s[j] = offset.total_seconds() if offset else 0.0
    seconds = instants.astype("datetime64[s]").astype(np.int64) + offset_s.astype(np.int64)
    weekday = ((seconds // 86400) + 3) % 7  # 1970-01-01 was a Thursday
    hour = (seconds % 86400) // 3600
    return weekday.astype(np.int64), hour.astype(np.int64)


def _hourly_rate(
    name: str, regimes: Sequence[Scenario], starts: np.ndarray, clock: RunClock
) -> np.ndarray:
    n_hours = math.ceil(clock.end)
    hour_mid = np.arange(n_hours) + 0.5
    regime_of_hour = np.searchsorted(starts, np.arange(n_hours, dtype=float), side="right") - 1
    rate = np.zeros(n_hours)
    for k, regime in enumerate(regimes):
        service = regime.services.get(name)
        mask = regime_of_hour == k
        if service is None or not mask.any():
            continue
        weights = profile_weights(service, regime, clock)
        years = (hour_mid - clock.start) / HOURS_PER_YEAR
        growth = (1.0 + service.demand.growth) ** years
        rate[mask] = (service.demand.per_week * weights * growth)[mask]
    return rate


def _service_params(
    service: Service | None,
    regime: Scenario,
    name: str,
    priorities: Sequence[str],
    customers: Sequence[str],
) -> ServiceParams:
    if service is None:
        return ServiceParams(
            priority_probs=np.full(len(priorities), 1.0 / len(priorities)),
            customer_probs=np.eye(len(customers))[-1],
        )
    shares = np.array(
        [service.priorities[p].share if p in service.priorities else 0.0 for p in priorities]
    )
    shares = shares / shares.sum()
    cust = np.zeros(len(customers))
    for i, cname in enumerate(customers[:-1]):
        customer = regime.customers.get(cname)
        if customer is not None:
            cust[i] = customer.services.get(name, 0.0)
    cust[-1] = max(0.0, 1.0 - cust[:-1].sum())
    cust = cust / cust.sum()
    return ServiceParams(
        priority_probs=shares,
        customer_probs=cust,
        reopen_probability=service.reopen.probability if service.reopen else 0.0,
        reopen_after=service.reopen.after if service.reopen else None,
    )


# -- the model ---------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class _RosteredTeam:
    """A team before shrinkage is rounded (see :func:`_shrinkage_steps`)."""

    name: str
    steps: np.ndarray
    whole: np.ndarray
    fraction: np.ndarray
    hour: np.ndarray
    params: tuple[TeamParams, ...]


@dataclass(frozen=True, eq=False)
class _Prepared:
    """The part of a support model that is the same in every replication."""

    clock: RunClock
    starts: np.ndarray
    priorities: tuple[str, ...]
    teams: tuple[TeamModel | _RosteredTeam, ...]
    services: tuple[ServiceModel, ...]


class PerScenario(Generic[T]):
    """``build(scenario)``, computed once per scenario object (scenarios are immutable) and
    reused by every replication in this process; the latest ``size`` scenarios are kept."""

    def __init__(self, build: Callable[[Scenario], T], size: int = 16) -> None:
        self._build = build
        self._size = size
        self._values: OrderedDict[int, tuple[Scenario, T]] = OrderedDict()

    def __call__(self, scenario: Scenario) -> T:
        key = id(scenario)
        cached = self._values.get(key)
        if cached is not None and cached[0] is scenario:
            self._values.move_to_end(key)
            return cached[1]
        value = self._build(scenario)
        self._values[key] = (scenario, value)
        while len(self._values) > self._size:
            self._values.popitem(last=False)
        return value


def _prepare_uncached(scenario: Scenario) -> _Prepared:
    clock = RunClock(scenario)
    starts, regimes = _regimes(scenario, clock)
    priorities = list(scenario.priorities)
    for regime in regimes:
        for p in regime.priorities:
            if p not in priorities:
                priorities.append(p)
    team_names: list[str] = []
    service_names: list[str] = []
    for regime in regimes:
        team_names.extend(t for t in regime.teams if t not in team_names)
        service_names.extend(s for s in regime.services if s not in service_names)

    teams: list[TeamModel | _RosteredTeam] = []
    for name in team_names:
        fallback = next(r.teams[name] for r in regimes if name in r.teams)
        params = tuple(_team_params(r.teams.get(name), priorities, fallback) for r in regimes)
        if fallback.kind == "supplier":
            calendars = [((r.teams.get(name) or fallback).calendar or "24x7", r) for r in regimes]
            teams.append(
                TeamModel(
                    name=name,
                    kind="supplier",
                    roster=None,
                    work_intervals=_work_intervals(calendars, starts, clock),
                    params=params,
                )
            )
            continue
        pieces = []
        for r in regimes:
            team = r.teams.get(name)
            roster = (team.roster or {}) if team is not None else {}
            pieces.append(_weekly_to_run(clock, *_weekly_level(roster)))
        teams.append(
            _RosteredTeam(
                name,
                *_shrinkage_steps(
                    _splice(starts, clock.end, pieces),
                    tuple((r.teams.get(name) or fallback).shrinkage for r in regimes),
                    starts,
                    clock,
                ),
                params=params,
            )
        )

    services = []
    for name in service_names:
        customers = (
            *dict.fromkeys(
                c for r in regimes for c, spec in r.customers.items() if name in spec.services
            ),
            "",
        )
        fallback_service = next(r.services[name] for r in regimes if name in r.services)
        services.append(
            ServiceModel(
                name=name,
                entry=fallback_service.entry,
                hourly_rate=_hourly_rate(name, regimes, starts, clock),
                customers=customers,
                params=tuple(
                    _service_params(r.services.get(name), r, name, priorities, customers)
                    for r in regimes
                ),
            )
        )
    return _Prepared(
        clock=clock,
        starts=starts,
        priorities=tuple(priorities),
        teams=tuple(teams),
        services=tuple(services),
    )


_prepare = PerScenario(_prepare_uncached)
"""Rosters, work intervals, arrival rates and parameters of a scenario."""


def compile_support(scenario: Scenario, streams: Streams) -> SupportModel:
    """The support model of ``scenario`` for one replication (``streams`` round the rosters)."""
    prepared = _prepare(scenario)
    clock = prepared.clock
    teams = []
    for team in prepared.teams:
        if isinstance(team, TeamModel):
            teams.append(team)
            continue
        roster = _effective_roster(team, clock, streams)
        teams.append(
            TeamModel(
                name=team.name, kind="team", roster=roster, work_intervals=None, params=team.params
            )
        )
    return SupportModel(
        origin=clock.origin,
        start=clock.start,
        horizon_end=clock.horizon_end,
        end=clock.end,
        priorities=prepared.priorities,
        teams=tuple(teams),
        services=prepared.services,
        regime_starts=prepared.starts,
        backlog=tuple(
            BacklogModel(g.team, g.service, g.priority, g.tickets, g.age) for g in scenario.backlog
        ),
    )


def expected_visits(model: SupportModel) -> float:
    """Expected visits per replication: arrivals × visits per ticket from the routing chain
    (pauses and reopens included), for the size guard."""
    index = {t.name: i for i, t in enumerate(model.teams)}
    n = len(model.teams)
    transfer = np.zeros((n, n))
    for i, team in enumerate(model.teams):
        params = team.params[0]
        for route, p in zip(params.routes, params.route_probs.tolist(), strict=True):
            if route == PAUSE:
                transfer[i, i] += p
            elif route != RESOLVED and route in index:
                transfer[i, index[route]] += p
    try:
        visits = np.linalg.inv(np.eye(n) - transfer.T)
    except np.linalg.LinAlgError:
        return math.inf
    total = 0.0
    for service in model.services:
        entry = np.zeros(n)
        entry[index[service.entry]] = 1.0
        reopen = 1.0 + service.params[0].reopen_probability
        total += float(service.hourly_rate.sum()) * float((visits @ entry).sum()) * reopen
    reopening = {s.name: s.params[0].reopen_probability for s in model.services}
    for group in model.backlog:
        entry = np.zeros(n)
        entry[index[group.team]] = 1.0
        reopen = 1.0 + reopening.get(group.service, 0.0)
        total += group.tickets * float((visits @ entry).sum()) * reopen
    return total
