"""The open intervals of a calendar over whole local years, as prefix sums for business time.

A :class:`_Timeline` holds the open intervals of the local calendar years it covers in UTC
microseconds, with the open time before each, so that ``F`` (the cumulative open time) and its
inverse are evaluated with :func:`numpy.searchsorted`. :func:`_build_timeline` converts a
calendar's weekly local hours to UTC day by day and takes out its holidays, which makes every
timeline DST-correct.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

import numpy as np
import numpy.typing as npt

from simkit.calendar_spec import _holiday_table

if TYPE_CHECKING:
    from simkit.calendar import Calendar

BoolArray = npt.NDArray[np.bool_]
_Micros = npt.NDArray[np.int64]

_UTC = dt.UTC
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=_UTC)
_ONE_US = dt.timedelta(microseconds=1)


@dataclass(frozen=True, eq=False)
class _Timeline:
    """The open intervals of the local years ``first_year..last_year`` in UTC microseconds."""

    first_year: int
    last_year: int
    lo: int
    """UTC microsecond of local midnight starting ``first_year``; ``F`` is counted from here."""
    hi: int
    """UTC microsecond of local midnight ending ``last_year``."""
    starts: _Micros
    ends: _Micros
    cum: _Micros
    """Open microseconds before interval ``i``; ``cum[-1]`` is the total."""
    shift: _Micros = field(init=False, repr=False)
    """``shift[k]`` is ``cum[k - 1] - starts[k - 1]`` (``-lo`` for ``k = 0``): ``F(t)`` is
    ``t + shift[k]`` inside interval ``k - 1``, capped at ``cum[k]`` after its end."""

    def __post_init__(self) -> None:
        shift = np.concatenate([[-self.lo], self.cum[:-1] - self.starts]).astype(np.int64)
        object.__setattr__(self, "shift", shift)

    @property
    def total(self) -> int:
        return int(self.cum[-1])

    def cumulative(self, t: _Micros) -> _Micros:
        """``F(t)``: open microseconds in ``[lo, t)`` for instants inside ``[lo, hi]``.

        With ``k`` the number of intervals starting at or before ``t``, ``F(t)`` is
        ``min(t + shift[k], cum[k])``: the open time up to ``t`` while inside interval ``k - 1``,
        the open time to its end after it (and 0 before the first interval).
        """
        k = np.searchsorted(self.starts, t, side="right")
        values: _Micros = np.asarray(self.shift.take(k))
        values += t
        return np.minimum(values, self.cum.take(k), out=values)

    def instant_at(self, target: _Micros, latest: BoolArray) -> _Micros:
        """``F⁻¹``: the earliest instant with ``F == target`` (the latest where ``latest``)."""
        cum_end = self.cum[1:]
        last = self.starts.size - 1
        k = np.minimum(np.searchsorted(cum_end, target, side="left"), last)
        k = np.minimum(k + (latest & (cum_end[k] == target)), last)
        instants: _Micros = self.starts[k] + (target - self.cum[k])
        return instants

    def is_open(self, t: _Micros) -> BoolArray:
        if self.starts.size == 0:
            return np.zeros(t.shape, dtype=np.bool_)
        k = np.searchsorted(self.starts, t, side="right") - 1
        return (k >= 0) & (t < self.ends[np.maximum(k, 0)])


def _wall_to_micros(wall: dt.datetime, zone: ZoneInfo) -> int:
    """The first UTC microsecond at which the local clock reads ``wall`` or later.

    That is the first occurrence of a repeated wall time, and the instant of the change for a
    skipped one.
    """
    first = wall.replace(tzinfo=zone, fold=0)
    micros: int = (first - _EPOCH) // _ONE_US
    if first.astimezone(_UTC).astimezone(zone).replace(tzinfo=None) == wall:
        return micros
    before = (wall.replace(tzinfo=zone, fold=1) - _EPOCH) // _ONE_US
    lo, hi = min(before, micros), max(before, micros)
    while hi - lo > 1:
        mid = (lo + hi) // 2
        local = (_EPOCH + mid * _ONE_US).astimezone(zone).replace(tzinfo=None)
        if local >= wall:
            hi = mid
        else:
            lo = mid
    return hi


def closed_days(calendar: Calendar, first: dt.date, stop: dt.date) -> list[dt.date]:
    """The calendar's holidays (its dates and its country's) from ``first`` until ``stop``."""
    days = {d for d in calendar.holiday_dates if first <= d < stop}
    if calendar.holiday_country is not None:
        table = _holiday_table(
            calendar.holiday_country,
            calendar.holiday_subdivision,
            years=range(first.year, stop.year + 1),
        )
        days.update(d for d in table if first <= d < stop)
    return sorted(days)


def _build_timeline(calendar: Calendar, first_year: int, last_year: int) -> _Timeline:
    zone = calendar.zone
    first, stop = dt.date(first_year, 1, 1), dt.date(last_year + 1, 1, 1)
    lo = _wall_to_micros(dt.datetime(first_year, 1, 1), zone)
    hi = _wall_to_micros(dt.datetime(last_year + 1, 1, 1), zone)
    week = dt.datetime.combine(first - dt.timedelta(days=first.weekday()), dt.time())
    walls: list[dt.datetime] = []
    while week.date() < stop:
        for open_min, close_min in calendar.weekly:
            walls.append(week + dt.timedelta(minutes=open_min))
            walls.append(week + dt.timedelta(minutes=close_min))
        week += dt.timedelta(days=7)
    bounds = np.array([_wall_to_micros(w, zone) for w in walls], dtype=np.int64).reshape(-1, 2)
    starts = np.clip(bounds[:, 0], lo, hi)
    ends = np.clip(bounds[:, 1], lo, hi)
    keep = ends > starts
    days = closed_days(calendar, first, stop)
    midnights = [
        _wall_to_micros(dt.datetime.combine(day + dt.timedelta(days=k), dt.time()), zone)
        for day in days
        for k in (0, 1)
    ]
    closed = np.array(midnights, dtype=np.int64).reshape(-1, 2)
    starts, ends = _subtract(starts[keep], ends[keep], closed[:, 0], closed[:, 1])
    cum = np.concatenate([[0], np.cumsum(ends - starts)]).astype(np.int64)
    return _Timeline(first_year, last_year, lo, hi, starts, ends, cum)


def _covered(points: _Micros, starts: _Micros, ends: _Micros) -> BoolArray:
    if starts.size == 0:
        return np.zeros(points.shape, dtype=np.bool_)
    k = np.searchsorted(starts, points, side="right") - 1
    return (k >= 0) & (points < ends[np.maximum(k, 0)])


def _subtract(
    starts: _Micros, ends: _Micros, cut_starts: _Micros, cut_ends: _Micros
) -> tuple[_Micros, _Micros]:
    """Sorted disjoint intervals minus sorted disjoint cuts, touching pieces merged."""
    bounds = np.unique(np.concatenate([starts, ends, cut_starts, cut_ends]))
    state = _covered(bounds, starts, ends) & ~_covered(bounds, cut_starts, cut_ends)
    before = np.concatenate([[False], state[:-1]])
    return bounds[state & ~before], bounds[~state & before]
