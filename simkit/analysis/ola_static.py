"""The static half of the OLA alignment: agreements chained along each routing path.

From a start instant each visit's OLA/UC ``within`` is added on its own calendar, the total
measured on the SLA's calendar, and the worst case over every instant at which the target's
tickets can open in the measured span decides whether a path fits the SLA
(:mod:`simkit.analysis.ola` states the rules); no simulation.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import numpy.typing as npt

from simkit.analysis.ola_paths import RoutingPath, _target_paths
from simkit.calendar import US_PER_HOUR, Calendar
from simkit.calendar_timeline import closed_days
from simkit.engine.compile import RunClock, profile_weights
from simkit.measure import SlaTarget
from simkit.measure.clock import TOLERANCE_H
from simkit.measure.summary import sla_identity
from simkit.scenario import Scenario
from simkit.scenario.targets import ola_targets, sla_targets

__all__ = [
    "GRID_MINUTES",
    "Agreements",
    "StartWindows",
    "Step",
    "resume_windows",
    "start_grid",
    "start_windows",
    "static_alignment",
    "worst_case_hours",
]

GRID_MINUTES = 15
"""Spacing of :func:`start_grid`'s start instants over the representative week."""
Row = dict[str, Any]
Instants = npt.NDArray[np.datetime64]
_US = np.timedelta64(1, "us")
_ONE_US_H = 1.0 / US_PER_HOUR


def start_grid(scenario: Scenario, services: Iterable[str] | None = None) -> np.ndarray:
    """Start instants every :data:`GRID_MINUTES` minutes over the representative week.

    The week runs from the first local Monday 00:00 on or after the scenario's ``start``.
    With ``services``, only instants in hours where at least one of them receives tickets (by
    its demand profile) are kept — all of them when that would leave none. The static check
    itself uses :func:`start_windows`, which sees the holidays of the whole measured span.

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


@dataclass(frozen=True, eq=False)
class StartWindows:
    """The instants at which a target's measured tickets can open: sorted, disjoint
    ``[lo, hi)`` intervals (``datetime64[us]``, UTC)."""

    lo: np.ndarray
    hi: np.ndarray

    def contains(self, t: np.ndarray) -> np.ndarray:
        """Whether each instant lies in a window."""
        k = np.searchsorted(self.lo, t, side="right") - 1
        return (k >= 0) & (t < self.hi[np.maximum(k, 0)])


def start_windows(scenario: Scenario, services: Iterable[str] | None = None) -> StartWindows:
    """Where the measured tickets of ``services`` can open: the run hours of the measured span
    (``start`` to the end of the ``horizon``) in which at least one of them receives tickets by
    its demand profile, exactly as the simulation draws arrivals — the whole span without
    ``services``, or when that would leave nothing.
    """
    names = None if services is None else tuple(services)
    key = "ola_start_windows:" + ("*" if names is None else "\0".join(names))
    return scenario.derived(key, lambda: _start_windows(scenario, names))


def resume_windows(scenario: Scenario) -> StartWindows:
    """Where a measured ticket can resume after a pause or a reopen: any instant from the start
    of the measured span to the end of the run (the drain included)."""

    def compute() -> StartWindows:
        clock = RunClock(scenario)
        lo, hi = clock.instant(clock.start), clock.instant(clock.end)
        return StartWindows(
            np.array([lo], dtype="datetime64[us]"), np.array([hi], "datetime64[us]")
        )

    return scenario.derived("ola_resume_windows", compute)


def _start_windows(scenario: Scenario, services: tuple[str, ...] | None) -> StartWindows:
    clock = RunClock(scenario)
    first, last = clock.start, clock.horizon_end
    hours = np.arange(int(np.floor(first)), int(np.ceil(last)))
    receiving = np.ones(hours.size, dtype=bool)
    if services is not None:
        receiving[:] = False
        for name in services:
            weights = profile_weights(scenario.services[name], scenario, clock)
            receiving |= weights[hours] > 0
        if not receiving.any():
            receiving[:] = True
    lo_h = np.maximum(hours[receiving], first)
    hi_h = np.minimum(hours[receiving] + 1.0, last)
    new = np.concatenate([[True], lo_h[1:] > hi_h[:-1]])
    ends = np.concatenate([new[1:], [True]])
    origin = clock.origin.astype("datetime64[us]")

    def instants(h: np.ndarray) -> Instants:
        offsets = np.rint(h * US_PER_HOUR).astype(np.int64).astype("timedelta64[us]")
        at: Instants = origin + offsets
        return at

    return StartWindows(instants(lo_h[new]), instants(hi_h[ends]))


Step = tuple[float, Calendar]
"""One visit's agreement: ``within`` hours on its calendar."""


def _latest(calendar: Calendar, t: Instants) -> Instants:
    """The latest instant with as much open time before it as ``t``: the next opening when
    ``t`` falls where the calendar is closed (or closes)."""
    if calendar.is_always:
        return t
    return calendar.add(calendar.add(t, _ONE_US_H), -_ONE_US_H)


def _earliest(calendar: Calendar, t: Instants) -> Instants:
    """The earliest instant with as much open time before it as ``t``: the last closing when
    ``t`` falls where the calendar is closed."""
    if calendar.is_always:
        return t
    return calendar.add(calendar.add(t, -_ONE_US_H), _ONE_US_H)


def _deadline(step: Step, t: Instants) -> Instants:
    """The latest instant at which a visit assigned at ``t`` still meets ``step``: ``within``
    open hours on, and, when that falls at a closing, on to the next opening (the agreement's
    clock does not run in between)."""
    within, calendar = step
    return _latest(calendar, calendar.add(t, np.full(t.shape, within)))


def _release(step: Step, b: Instants) -> Instants:
    """The earliest assignment instant whose :func:`_deadline` is at or after ``b``."""
    within, calendar = step
    return _earliest(calendar, calendar.add(b, np.full(b.shape, -within)))


def _breakpoints(
    segment: Sequence[Step], sla_calendar: Calendar, windows: StartWindows
) -> tuple[np.ndarray, np.datetime64]:
    """Every start instant at which the chained total can change its slope or jump.

    The total ``elapsed_SLA(start, last deadline)`` is piecewise linear in the start, and
    changes only where the start, or one of the deadlines along the chain, crosses an opening or
    a closing of one of the calendars involved. Each such instant is found by walking an
    opening or closing back through the chain (:func:`_release`); with the instant just before
    each (the limit from the left) and the windows' ends, the worst case over the windows is
    the largest total at these instants. Also returns the latest instant any deadline can fall.
    """
    until = windows.hi[-1:]
    for step in segment:
        until = _deadline(step, until)
    calendars = {sla_calendar, *(calendar for _, calendar in segment)}
    edges = [
        calendar.open_intervals(windows.lo[0], until[0] + _US).ravel()
        for calendar in calendars
        if not calendar.is_always
    ]
    bounds = np.unique(np.concatenate([*edges, windows.lo, windows.hi]))
    found = [bounds]
    back = bounds[:0]
    for step in reversed(segment):
        back = _release(step, np.unique(np.concatenate([bounds, back])))
        found.append(back)
    starts = np.unique(np.concatenate(found))
    starts = np.unique(np.concatenate([starts, starts - _US]))
    return starts[windows.contains(starts)], np.datetime64(until[0], "us")


@dataclass(frozen=True)
class _Worst:
    """The worst case of a chain: its total, each step's part, and per segment the start
    instant it comes from; ``until`` is the latest any deadline can fall."""

    total: float
    parts: tuple[float, ...]
    starts: tuple[np.datetime64, ...]
    until: np.datetime64 | None


def _worst(
    segments: Sequence[Sequence[Step]],
    sla_calendar: Calendar,
    starts: np.ndarray | StartWindows,
    resumes: StartWindows | None = None,
) -> _Worst:
    total = 0.0
    parts: list[float] = []
    at: list[np.datetime64] = []
    until: np.datetime64 | None = None
    for segment in segments:
        if not segment:
            continue
        windows = resumes if at and resumes is not None else starts
        if isinstance(windows, StartWindows):
            t, last = _breakpoints(segment, sla_calendar, windows)
            until = last if until is None else max(until, last)
        else:
            t = np.asarray(windows).astype("datetime64[us]")
        first = t
        columns = []
        for step in segment:
            deadline = _deadline(step, t)
            columns.append(np.asarray(sla_calendar.elapsed(t, deadline), dtype=np.float64))
            t = deadline
        table = np.stack(columns, axis=1)
        totals = table.sum(axis=1)
        k = int(np.argmax(totals))
        total += float(totals[k])
        parts.extend(float(v) for v in table[k])
        at.append(first[k])
    return _Worst(total, tuple(parts), tuple(at), until)


def worst_case_hours(
    segments: Sequence[Sequence[Step]],
    sla_calendar: Calendar,
    starts: np.ndarray | StartWindows,
    resumes: StartWindows | None = None,
) -> tuple[float, list[float]]:
    """The worst case, over ``starts``, of chained agreements measured on the SLA's calendar.

    Parameters
    ----------
    segments
        The visits' agreements, split where the SLA clock stops (a pause or a reopen); each
        segment is chained from a start instant, each step's deadline on its own calendar (the
        latest instant at which the visit still meets its agreement).
    sla_calendar
        The calendar the total is measured on.
    starts
        Candidate start instants (:func:`start_grid`), or the windows in which a ticket can
        start (:func:`start_windows`): then the worst case over every instant of them, exact
        to the microsecond.
    resumes
        The windows the segments after the first start in (:func:`resume_windows`); without
        them every segment starts in ``starts``.

    Returns
    -------
    worst, contributions
        The sum over segments of each segment's worst total, and each step's share of it (SLA
        business hours between its start and its deadline at the segment's worst start), in
        the order of the steps.
    """
    worst = _worst(segments, sla_calendar, starts, resumes)
    return worst.total, list(worst.parts)


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
    worst_starts: tuple[str, ...] = ()
    holidays: tuple[Row, ...] = ()


class _Chains:
    """Worst cases of chained agreements, cached by chain (paths share their prefixes).

    ``starts`` are the windows in which tickets open (:func:`start_windows`), with ``resumes``
    those in which they resume after a pause or a reopen (:func:`resume_windows`) and ``zone``
    the time zone the worst starts and the holidays are reported in; or a grid of start
    instants (:func:`start_grid`) for every segment.
    """

    def __init__(
        self,
        sla_calendar: Calendar,
        starts: np.ndarray | StartWindows,
        zone: str = "UTC",
        resumes: StartWindows | None = None,
    ) -> None:
        self.sla_calendar, self.starts, self.zone = sla_calendar, starts, ZoneInfo(zone)
        self.resumes = resumes
        self._cache: dict[tuple[tuple[Step, ...], ...], _Worst] = {}

    def worst(self, segments: tuple[tuple[Step, ...], ...]) -> _Worst:
        if segments not in self._cache:
            self._cache[segments] = _worst(segments, self.sla_calendar, self.starts, self.resumes)
        return self._cache[segments]

    def local(self, instant: np.datetime64) -> dt.datetime:
        micros = int(np.asarray(instant).astype("datetime64[us]").astype(np.int64))
        return dt.datetime.fromtimestamp(round(micros / 1e6), tz=self.zone)


@functools.lru_cache(maxsize=256)
def _closing_holidays(calendar: Calendar, first: dt.date, last: dt.date) -> frozenset[dt.date]:
    """The holidays of ``calendar`` from ``first`` to ``last`` that fall on a weekday with open
    hours (a holiday on a day the calendar is closed anyway changes nothing)."""
    if calendar.holiday_country is None and not calendar.holiday_dates:
        return frozenset()
    open_days = {
        day
        for start, stop in calendar.weekly
        for day in range(start // 1440, (stop - 1) // 1440 + 1)
    }
    closed = closed_days(calendar, first, last + dt.timedelta(days=1))
    return frozenset(d for d in closed if d.weekday() in open_days)


def _holidays_differ(
    steps: Sequence[tuple[str, Step]], sla_calendar: Calendar, first: dt.date, last: dt.date
) -> list[Row]:
    """The dates from ``first`` to ``last`` on which a holiday closes an agreement on the path
    while another of the path's calendars (an agreement's or the SLA's) is not closed by one:
    the agreement's clock stops, the others may run. (A holiday of the SLA's calendar alone
    only stops the SLA's clock, which never lengthens the SLA's time.)"""
    sla_closed = _closing_holidays(sla_calendar, first, last)
    closed: dict[str, frozenset[dt.date]] = {}
    for team, (_, calendar) in steps:
        closed.setdefault(team, _closing_holidays(calendar, first, last))
    rows: list[Row] = []
    for day in sorted(frozenset().union(*closed.values())):
        teams = [team for team, days in closed.items() if day in days]
        if day in sla_closed and len(teams) == len(closed):
            continue
        rows.append(
            {"date": day.isoformat(), "agreements_closed": teams, "sla_closed": day in sla_closed}
        )
    return rows


def _check_path(
    path: RoutingPath, target: SlaTarget, agreements: Agreements, chains: _Chains
) -> _PathCheck:
    missing = tuple(dict.fromkeys(t for t in path.teams if (t, target.metric) not in agreements))
    segments: list[list[Step]] = [[]]
    owners: list[tuple[str, Step]] = []
    for index, team in enumerate(path.teams):
        if index in path.breaks:
            segments.append([])
        step = agreements.get((team, target.metric))
        if step is not None:
            segments[-1].append(step)
            owners.append((team, step))
    worst = chains.worst(tuple(tuple(s) for s in segments if s))
    total, parts = worst.total, worst.parts
    limit = target.within_h + TOLERANCE_H
    blamed: list[str] = []
    if total > limit:
        per_team: dict[str, float] = {}
        for (team, _), part in zip(owners, parts, strict=True):
            per_team[team] = per_team.get(team, 0.0) + part
        remaining = total
        for team, part in sorted(per_team.items(), key=lambda item: -item[1]):
            if remaining <= limit:
                break
            blamed.append(team)
            remaining -= part
    starts = tuple(chains.local(t).isoformat() for t in worst.starts)
    holidays: list[Row] = []
    windows = chains.starts
    if isinstance(windows, StartWindows) and worst.until is not None:
        first = chains.local(windows.lo[0]).date()
        holidays = _holidays_differ(
            owners, target.calendar, first, chains.local(worst.until).date()
        )
    if missing:
        return _PathCheck(path, None, False, missing, tuple(blamed), starts, tuple(holidays))
    return _PathCheck(path, total, total <= limit, (), tuple(blamed), starts, tuple(holidays))


def _static(
    scenario: Scenario, target: SlaTarget, agreements: Agreements | None = None
) -> tuple[list[_PathCheck], float]:
    paths, other = _target_paths(scenario, target)
    services = [target.service] if target.service is not None else list(scenario.services)
    chains = _Chains(
        target.calendar,
        start_windows(scenario, services),
        scenario.timezone,
        resume_windows(scenario),
    )
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
        "worst_starts": list(check.worst_starts),
        "holidays_differ": list(check.holidays),
    }


def static_alignment(scenario: Scenario) -> list[Row]:
    """The static half of :func:`ola_alignment`, without simulation (milliseconds).

    Returns
    -------
    list of dict
        One row per SLA target: the target, ``underpinned``, ``gaps``, ``paths`` (``teams,
        share, ola_sum_h, fits`` plus ``missing``, ``pauses``, ``worst_starts`` and
        ``holidays_differ``) and ``other_share``.
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
