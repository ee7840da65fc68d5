"""Business calendars: weekly open hours in local time, a time zone and holidays, and business-time
arithmetic on them.

A :class:`Calendar` is built from the value a scenario holds — ``"always"`` (24x7) or a mapping::

    {"hours": {"mon-fri": "08:00-17:00", "sat": ["09:00-11:00", "11:30-13:00"]},
     "holidays": {"country": "GB", "subdivision": "ENG", "dates": ["2027-12-24"]},
     "timezone": "America/New_York"}

Business time between two instants is ``F(t1) - F(t0)``, where ``F`` is the cumulative open time.
``F`` is held as a sorted array of open intervals in UTC microseconds with prefix sums, built lazily
for the local calendar years a query touches (and extended when a later query needs more), and is
evaluated with :func:`numpy.searchsorted`, so one call handles millions of tickets. Open hours are
local wall-clock hours converted to UTC day by day, which makes every calendar DST-correct: an
08:00-17:00 day is 9 hours on both sides of a clock change, and a 00:00-24:00 day is 23 or 25 hours
on the day of the change.

Instants are numpy ``datetime64`` values (any unit, taken as UTC), pyarrow timestamp arrays with a
time zone, or time-zone-aware :class:`datetime.datetime` objects; results are microsecond precise.

Wall-clock times that a clock change skips or repeats are read as follows: a skipped time (an
opening at 01:30 on the night the clocks jump from 01:00 to 02:00) is the instant of the change; a
repeated time (01:30 on the night the clocks go back) is its first occurrence.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, overload
from zoneinfo import ZoneInfo

import numpy as np
import numpy.typing as npt

from simkit.calendar_spec import _holiday_table, _parse_holidays, _parse_hours, _zone
from simkit.calendar_timeline import _EPOCH, _ONE_US, BoolArray, _build_timeline, _Micros, _Timeline
from simkit.errors import SpecError
from simkit.timespec import MINUTES_PER_WEEK, WeeklyInterval

__all__ = ["Calendar"]

FloatArray = npt.NDArray[np.float64]
InstantArray = npt.NDArray[np.datetime64]

Instant = dt.datetime | np.datetime64
"""One instant: an aware :class:`datetime.datetime` or a numpy ``datetime64`` (UTC)."""

US_PER_HOUR = 3_600_000_000
_NAT = np.iinfo(np.int64).min
FIRST_YEAR = 1900
LAST_YEAR = 2200
"""The years calendars (and their public holidays) cover."""
_MAX_ADD_HOURS = 1e6
_SPEC_KEYS = ("hours", "holidays", "timezone")
_SPEC_FIX = (
    "write 'always' for 24x7, or a mapping such as "
    "{hours: {mon-fri: '08:00-17:00'}, holidays: {country: GB}, timezone: Europe/London}"
)
_INSTANT_FIX = (
    "give time-zone-aware datetimes, e.g. datetime(2027, 1, 4, 9, 0, "
    "tzinfo=ZoneInfo('Europe/London')), numpy datetime64 values in UTC, "
    "or a pyarrow timestamp('us', 'UTC') array"
)


class _TimelineCache:
    """The one mutable part of a calendar: the intervals built so far, replaced when extended."""

    __slots__ = ("timeline",)

    def __init__(self) -> None:
        self.timeline: _Timeline | None = None


@dataclass(frozen=True)
class Calendar:
    """A business calendar: weekly open hours in local time, a time zone and holidays.

    Build one with :meth:`from_spec`. Calendars are immutable values (equal when their hours,
    time zone and holidays are equal; the display ``name`` does not count) and safe to pickle.
    """

    weekly: tuple[WeeklyInterval, ...]
    """Open intervals of the local week in minutes, Monday 00:00 = 0, sorted and merged."""
    timezone: str = "UTC"
    """IANA name of the time zone the open hours and holidays are read in."""
    holiday_country: str | None = None
    """ISO country code whose public holidays close the calendar (``holidays`` library)."""
    holiday_subdivision: str | None = None
    """Subdivision of ``holiday_country`` (e.g. ``ENG``), or ``None`` for national holidays."""
    holiday_dates: frozenset[dt.date] = frozenset()
    """Extra local dates on which the calendar is closed."""
    name: str = field(default="", compare=False)
    """For display only."""
    _cache: _TimelineCache = field(
        default_factory=_TimelineCache, init=False, repr=False, compare=False
    )

    def __post_init__(self) -> None:
        _zone(self.timezone)
        if not self.weekly:
            raise SpecError("the calendar has no open hours", "give at least one range in 'hours'")
        previous = -1
        for start, stop in self.weekly:
            if not previous < start < stop <= MINUTES_PER_WEEK:
                raise SpecError(
                    f"weekly open intervals {self.weekly!r} are not sorted, disjoint minutes "
                    "of the week",
                    "build calendars with Calendar.from_spec",
                )
            previous = stop
        if self.holiday_subdivision is not None and self.holiday_country is None:
            raise SpecError(
                f"holiday subdivision {self.holiday_subdivision!r} has no country",
                "add the country, e.g. {country: GB, subdivision: ENG}",
            )
        if self.holiday_country is not None:
            _holiday_table(self.holiday_country, self.holiday_subdivision, years=())

    # ------------------------------------------------------------------ construction

    @classmethod
    def from_spec(cls, spec: object, timezone: str = "UTC", *, name: str = "") -> Calendar:
        """Build a calendar from its scenario value.

        Parameters
        ----------
        spec
            ``"always"`` (24x7), or a mapping with ``hours`` (day keys such as ``"mon-fri"`` mapped
            to a range ``"08:00-17:00"`` or a list of ranges; overnight ranges such as
            ``"22:00-06:00"`` run into the next day), optional ``holidays`` (a mapping with optional
            ``country``, ``subdivision`` and ``dates``, or a plain list of dates) and an optional
            ``timezone``. A :class:`Calendar` is returned as it is.
        timezone
            The scenario's time zone, used unless the calendar names its own.
        name
            A name for display, such as the calendar's key in the scenario.

        Raises
        ------
        SpecError
            With what is wrong and how to fix it: unknown keys, bad days or times, empty hours,
            an unknown time zone, holiday country or subdivision, or a bad date.
        """
        if isinstance(spec, Calendar):
            return spec
        _zone(timezone)
        if isinstance(spec, str):
            if spec.strip().lower() == "always":
                always = ((0, MINUTES_PER_WEEK),)
                return cls(weekly=always, timezone=timezone, name=name or "always")
            raise SpecError(f"unknown calendar {spec!r}", _SPEC_FIX)
        if not isinstance(spec, Mapping):
            raise SpecError(
                f"expected 'always' or a mapping for a calendar, got {spec!r}", _SPEC_FIX
            )
        unknown = [str(key) for key in spec if key not in _SPEC_KEYS]
        if unknown:
            raise SpecError(
                f"unknown calendar key{'s' if len(unknown) > 1 else ''} "
                f"{', '.join(map(repr, unknown))}",
                f"a calendar takes {', '.join(_SPEC_KEYS)}",
            )
        if "hours" not in spec:
            raise SpecError(
                "the calendar has no 'hours'", "add hours, e.g. {mon-fri: '08:00-17:00'}"
            )
        own_zone = spec.get("timezone", timezone)
        if not isinstance(own_zone, str):
            raise SpecError(
                f"expected a time zone name, got {own_zone!r}",
                "use an IANA name such as Europe/London",
            )
        country, subdivision, dates = _parse_holidays(spec.get("holidays"))
        return cls(
            weekly=_parse_hours(spec["hours"]),
            timezone=own_zone,
            holiday_country=country,
            holiday_subdivision=subdivision,
            holiday_dates=dates,
            name=name,
        )

    # ------------------------------------------------------------------ description

    @property
    def is_always(self) -> bool:
        """True when the calendar is open all the time (24x7, no holidays).

        Business time is then wall time, computed without any intervals.
        """
        return (
            self.weekly == ((0, MINUTES_PER_WEEK),)
            and self.holiday_country is None
            and not self.holiday_dates
        )

    @property
    def open_hours_per_week(self) -> float:
        """Nominal open hours in a week: no holidays, no clock changes."""
        return sum(stop - start for start, stop in self.weekly) / 60

    @property
    def zone(self) -> ZoneInfo:
        return _zone(self.timezone)

    def __str__(self) -> str:
        if self.name:
            return self.name
        if self.is_always:
            return "always"
        return f"{self.open_hours_per_week:g} h/week ({self.timezone})"

    # ------------------------------------------------------------------ arithmetic

    @overload
    def elapsed(self, start: Instant, end: Instant) -> float: ...
    @overload
    def elapsed(self, start: npt.NDArray[Any], end: object) -> FloatArray: ...
    @overload
    def elapsed(self, start: object, end: npt.NDArray[Any]) -> FloatArray: ...
    @overload
    def elapsed(self, start: object, end: object) -> FloatArray | float: ...

    def elapsed(self, start: object, end: object) -> FloatArray | float:
        """Business hours between ``start`` and ``end``: ``F(end) - F(start)``.

        Parameters
        ----------
        start, end
            Instants, broadcast against each other: numpy ``datetime64`` (UTC), pyarrow timestamp
            arrays with a time zone, aware datetimes, or sequences of them.

        Returns
        -------
        float or numpy.ndarray
            float64 hours; a float when both inputs are single instants. When ``end`` is before
            ``start`` the result is negative: ``elapsed(a, b) == -elapsed(b, a)``. A missing
            instant (NaT, null) gives NaN.

        Raises
        ------
        SpecError
            For naive datetimes, values that are not instants, or instants outside 1900–2200.
        """
        t0, scalar0 = _as_micros(start, "start")
        t1, scalar1 = _as_micros(end, "end")
        t0, t1 = np.broadcast_arrays(t0, t1)
        first = min(int(t0.min()), int(t1.min())) if t0.size else _NAT
        if first != _NAT and not self.is_always:  # nothing missing: NaT is the smallest int64
            timeline = self._covering_span(first, max(int(t0.max()), int(t1.max())))
            micros = timeline.cumulative(t1)
            micros -= timeline.cumulative(t0)
            hours = np.asarray(micros / US_PER_HOUR)
            return float(hours) if scalar0 and scalar1 else hours
        missing = (t0 == _NAT) | (t1 == _NAT)
        t0 = np.where(missing, 0, t0)
        t1 = np.where(missing, 0, t1)
        if self.is_always:
            micros = _within_years(t1) - _within_years(t0)
        elif missing.all():
            micros = np.zeros(t0.shape, dtype=np.int64)
        else:
            timeline = self._covering(t0[~missing], t1[~missing])
            t0 = np.where(missing, timeline.lo, t0)
            t1 = np.where(missing, timeline.lo, t1)
            micros = timeline.cumulative(t1) - timeline.cumulative(t0)
        hours = np.where(missing, np.nan, micros / US_PER_HOUR)
        return float(hours) if scalar0 and scalar1 else hours

    def open_time(self, *instants: object) -> tuple[npt.NDArray[np.int64], ...]:
        """``F``, the cumulative open time, at each array of instants: open microseconds from
        one origin that the arrays of this call share.

        ``(F(t1) - F(t0)) / 3_600_000_000`` is exactly ``elapsed(t0, t1)`` for instants of any
        two of the arrays, so spans that begin at the same instants read ``F`` there once.

        Parameters
        ----------
        *instants
            Arrays of instants as for :meth:`elapsed`, none missing.

        Returns
        -------
        tuple of numpy.ndarray
            int64 microseconds, one array per argument, shaped as it.

        Raises
        ------
        SpecError
            For missing instants, bad instants, or instants outside 1900–2200.
        """
        micros = [_as_micros(value, "instants")[0] for value in instants]
        read = [m for m in micros if m.size]
        first = min((int(m.min()) for m in read), default=0)
        if first == _NAT:
            raise SpecError("open time is read at a missing instant", "leave out missing instants")
        if self.is_always or not read:
            return tuple(_within_years(m).copy() for m in micros)
        timeline = self._covering_span(first, max(int(m.max()) for m in read))
        return tuple(timeline.cumulative(m) for m in micros)

    @overload
    def add(self, start: Instant, hours: float) -> np.datetime64: ...
    @overload
    def add(self, start: npt.NDArray[Any], hours: object) -> InstantArray: ...
    @overload
    def add(self, start: object, hours: npt.NDArray[Any]) -> InstantArray: ...
    @overload
    def add(self, start: object, hours: object) -> InstantArray | np.datetime64: ...

    def add(self, start: object, hours: object) -> InstantArray | np.datetime64:
        """The instant ``hours`` business hours after ``start``: ``F⁻¹(F(start) + hours)``.

        The result is the *earliest* instant at which that much business time has passed, so
        9 hours from Monday 08:00 on an 08:00-17:00 calendar is Monday 17:00, not Tuesday 08:00.
        Adding 0 returns ``start`` itself, even when the calendar is closed then. Negative hours
        go back: the result is the *latest* instant that far in business time before ``start``.

        Parameters
        ----------
        start
            Instants as for :meth:`elapsed`.
        hours
            Business hours, broadcast against ``start``.

        Returns
        -------
        numpy.datetime64 or numpy.ndarray
            ``datetime64[us]`` UTC instants; a scalar when both inputs are scalars. A missing
            start or a NaN ``hours`` gives NaT.

        Raises
        ------
        SpecError
            For bad instants, or when the result would fall outside 1900–2200.
        """
        t0, _ = _as_micros(start, "start")
        h = np.asarray(hours, dtype=np.float64)
        t0, h = np.broadcast_arrays(t0, h)
        missing = (t0 == _NAT) | np.isnan(h)
        if np.any(np.abs(h[~missing]) > _MAX_ADD_HOURS):
            raise SpecError(
                f"cannot add more than {_MAX_ADD_HOURS:,.0f} business hours", "check the durations"
            )
        step = np.rint(np.where(missing, 0.0, h) * US_PER_HOUR).astype(np.int64)
        t0 = np.where(missing, 0, t0)
        moving = step != 0
        if self.is_always or not moving.any():
            result = t0 + step
            if self.is_always:
                _within_years(np.where(missing, _NAT, result))
        else:
            result = np.where(moving, self._advance(t0, step, moving), t0)
        micros = np.where(missing, _NAT, result)
        if micros.ndim == 0:
            return np.datetime64(int(micros), "us")
        instants: InstantArray = micros.astype("datetime64[us]")
        return instants

    def is_open(self, t: object) -> BoolArray | bool:
        """Whether the calendar is open at each instant (open intervals include their start).

        Returns a bool for a single instant, else a bool array; a missing instant is not open.
        """
        micros, scalar = _as_micros(t, "instant")
        missing = micros == _NAT
        if self.is_always:
            result = ~missing
        elif missing.all():
            result = np.zeros(micros.shape, dtype=np.bool_)
        else:
            timeline = self._covering(micros[~missing])
            result = timeline.is_open(np.where(missing, timeline.lo, micros)) & ~missing
        return bool(result) if scalar else result

    def open_intervals(self, start: object, end: object) -> InstantArray:
        """The open intervals in ``[start, end)``, clipped to it.

        Returns
        -------
        numpy.ndarray
            Shape ``(n, 2)``, ``datetime64[us]`` UTC, sorted and disjoint (touching intervals
            merged); empty when ``end <= start``.
        """
        lo, hi = self._span_of(start, end)
        if hi <= lo:
            return np.empty((0, 2), dtype="datetime64[us]")
        if self.is_always:
            pairs = np.array([[lo, hi]], dtype=np.int64)
        else:
            timeline = self._covering(np.array([lo, hi], dtype=np.int64))
            keep = (timeline.ends > lo) & (timeline.starts < hi)
            pairs = np.stack(
                [np.maximum(timeline.starts[keep], lo), np.minimum(timeline.ends[keep], hi)], axis=1
            )
        return pairs.view("datetime64[us]")

    def open_intervals_hours(self, origin: object, until_h: float) -> FloatArray:
        """Open intervals as hours since ``origin``, clipped to ``[0, until_h]``, for the engine.

        Returns
        -------
        numpy.ndarray
            Shape ``(n, 2)`` float64, sorted and disjoint.
        """
        micros, scalar = _as_micros(origin, "origin")
        if not scalar or micros == _NAT:
            raise SpecError(f"expected one instant as the origin, got {origin!r}", _INSTANT_FIX)
        lo = int(micros)
        hi = lo + round(until_h * US_PER_HOUR)
        pairs = self.open_intervals(np.datetime64(lo, "us"), np.datetime64(hi, "us"))
        hours = (pairs.view(np.int64) - lo) / US_PER_HOUR
        return np.clip(hours, 0.0, until_h)

    # ------------------------------------------------------------------ timeline

    def _span_of(self, start: object, end: object) -> tuple[int, int]:
        lo, scalar_lo = _as_micros(start, "start")
        hi, scalar_hi = _as_micros(end, "end")
        if not (scalar_lo and scalar_hi) or lo == _NAT or hi == _NAT:
            raise SpecError(
                f"expected two single instants, got {start!r} and {end!r}", _INSTANT_FIX
            )
        return int(lo), int(hi)

    def _covering(self, *instants: _Micros) -> _Timeline:
        """A timeline covering every (non-missing) instant given, extending the cache if needed."""
        lo = min(int(a.min()) for a in instants if a.size)
        hi = max(int(a.max()) for a in instants if a.size)
        return self._covering_span(lo, hi)

    def _covering_span(self, lo: int, hi: int) -> _Timeline:
        """A timeline covering the instants from ``lo`` to ``hi`` (UTC microseconds)."""
        return self._covering_years(_local_year(lo, -1), _local_year(hi, +1))

    def _covering_years(self, first_year: int, last_year: int) -> _Timeline:
        cached = self._cache.timeline
        if cached is not None:
            if cached.first_year <= first_year and last_year <= cached.last_year:
                return cached
            first_year = min(first_year, cached.first_year)
            last_year = max(last_year, cached.last_year)
        if first_year < FIRST_YEAR or last_year > LAST_YEAR:
            raise _outside_years(first_year if first_year < FIRST_YEAR else last_year)
        timeline = _build_timeline(self, first_year, last_year)
        self._cache.timeline = timeline
        return timeline

    def _advance(self, t0: _Micros, step: _Micros, moving: BoolArray) -> _Micros:
        """``F⁻¹(F(t0) + step)`` for the rows where ``moving``, extending the timeline as needed."""
        timeline = self._covering(t0[moving])
        per_year = max(self.open_hours_per_week * 52 * US_PER_HOUR, 1.0)
        while True:
            start = np.where(moving, t0, timeline.lo)
            target = timeline.cumulative(start) + np.where(moving, step, 0)
            short_after = int(target.max()) - timeline.total
            short_before = -int(target.min())
            if short_after <= 0 and short_before <= 0:
                break
            first, last = timeline.first_year, timeline.last_year
            if short_after > 0:
                last += math.ceil(1.25 * short_after / per_year) + 1
            if short_before > 0:
                first -= math.ceil(1.25 * short_before / per_year) + 1
            timeline = self._covering_years(max(first, FIRST_YEAR - 1), min(last, LAST_YEAR + 1))
        return timeline.instant_at(target, step < 0)


# ---------------------------------------------------------------------- instants


def _as_micros(value: object, what: str) -> tuple[_Micros, bool]:
    """Instants as int64 UTC microseconds (NaT as int64 min) and whether a single one was given."""
    if isinstance(value, dt.datetime):
        return np.array(_aware_micros(value, what), dtype=np.int64), True
    if isinstance(value, dt.date):
        raise SpecError(f"{what} {value} is a date, not an instant", _INSTANT_FIX)
    if isinstance(value, np.datetime64):
        return np.array(value, dtype="datetime64[us]").view(np.int64), True
    if type(value).__module__.startswith("pyarrow"):
        return _arrow_micros(value, what)
    if value is None:
        raise SpecError(f"{what} is missing", _INSTANT_FIX)
    array = np.asarray(value)
    if array.dtype.kind == "M":
        return array.astype("datetime64[us]", copy=False).view(np.int64), False
    if array.dtype == object:
        flat = [_object_micros(item, what) for item in array.ravel()]
        return np.array(flat, dtype=np.int64).reshape(array.shape), False
    raise SpecError(f"{what} must be instants, got {array.dtype} values", _INSTANT_FIX)


def _aware_micros(value: dt.datetime, what: str) -> int:
    if value.tzinfo is None or value.utcoffset() is None:
        raise SpecError(f"{what} {value.isoformat()} has no time zone", _INSTANT_FIX)
    return (value - _EPOCH) // _ONE_US


def _object_micros(item: object, what: str) -> int:
    if item is None:
        return _NAT
    if isinstance(item, dt.datetime):
        return _aware_micros(item, what)
    if isinstance(item, np.datetime64):
        return int(item.astype("datetime64[us]").view(np.int64))
    raise SpecError(f"{what} must be instants, got {item!r}", _INSTANT_FIX)


def _arrow_micros(value: Any, what: str) -> tuple[_Micros, bool]:
    import pyarrow as pa

    scalar = isinstance(value, pa.Scalar)
    array = pa.array([value.as_py()], type=value.type) if scalar else value
    kind = array.type
    if not pa.types.is_timestamp(kind):
        raise SpecError(f"{what} must be timestamps, got {kind}", _INSTANT_FIX)
    if kind.tz is None:
        raise SpecError(
            f"{what} timestamps have no time zone", "cast them to pa.timestamp('us', 'UTC')"
        )
    micros = array.cast(pa.timestamp("us", "UTC"), safe=False).to_numpy(zero_copy_only=False)
    result = np.asarray(micros).astype("datetime64[us]").view(np.int64)
    return (result.reshape(()) if scalar else result), scalar


def _outside_years(year: int) -> SpecError:
    return SpecError(
        f"business time is needed in the year {year}, outside the years "
        f"{FIRST_YEAR}–{LAST_YEAR} that calendars cover",
        "check for placeholder dates such as 9999-12-31 and leave missing instants empty (NaT)",
    )


_FIRST_MICROS = int(np.datetime64(f"{FIRST_YEAR}-01-01", "us").astype(np.int64))
_END_MICROS = int(np.datetime64(f"{LAST_YEAR + 1}-01-01", "us").astype(np.int64))


def _within_years(micros: _Micros) -> _Micros:
    """``micros``, once every instant not missing is in the years calendars cover (UTC): the
    ``always`` calendar, which needs no timeline, refuses what the others do."""
    if micros.size:
        lo = micros.min(initial=_END_MICROS, where=micros != _NAT)
        hi = micros.max(initial=_FIRST_MICROS)
        if lo < _FIRST_MICROS or hi >= _END_MICROS:
            raise _outside_years(_local_year(int(lo if lo < _FIRST_MICROS else hi), 0))
    return micros


def _local_year(micros: int, side: int) -> int:
    """The local calendar year of a UTC instant, widened by one day towards ``side``."""
    shifted = np.datetime64(micros + side * 86_400_000_000, "us")
    return int(shifted.astype("datetime64[Y]").astype(np.int64)) + 1970
