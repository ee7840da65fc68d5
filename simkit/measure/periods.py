"""Reporting periods: ISO weeks, calendar months and quarters in the scenario time zone.

Labels are ``2027-W02`` (ISO week, so the first days of January may belong to the previous year's
week 52 or 53), ``2027-01`` and ``2027-Q1``. Period boundaries are local midnights converted to UTC
with :mod:`zoneinfo`, so a month in Europe/London starts at 00:00 GMT in winter and 23:00 UTC the
evening before in summer. Instants are assigned to periods with :func:`numpy.searchsorted` on the
boundary array — one call for any number of tickets.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal
from zoneinfo import ZoneInfo

import numpy as np

if TYPE_CHECKING:
    from collections.abc import Sequence

    from simkit.measure.targets import MeasureSpec

__all__ = [
    "PERIOD_KINDS",
    "Period",
    "PeriodKind",
    "period_boundaries",
    "period_index",
    "period_of",
    "period_positions",
    "period_table",
]

PeriodKind = Literal["week", "month", "quarter"]
PERIOD_KINDS: tuple[PeriodKind, ...] = ("week", "month", "quarter")

_UTC = dt.UTC
_US = np.timedelta64(1, "us")


@dataclass(frozen=True)
class Period:
    """One reporting period ``[start, end)`` (UTC instants, ``datetime64[us]``).

    ``full`` is true when the period lies entirely inside the measured span; partial periods at
    either end are reported but excluded from P(period meets goal).
    """

    label: str
    start: np.datetime64
    end: np.datetime64
    full: bool


def _check_kind(kind: str) -> None:
    if kind not in PERIOD_KINDS:
        raise ValueError(f"period must be one of week, month, quarter, got {kind!r}")


def _first_day(day: dt.date, kind: str) -> dt.date:
    if kind == "week":
        return day - dt.timedelta(days=day.weekday())
    if kind == "month":
        return day.replace(day=1)
    return day.replace(month=3 * ((day.month - 1) // 3) + 1, day=1)


def _next_first_day(first: dt.date, kind: str) -> dt.date:
    if kind == "week":
        return first + dt.timedelta(days=7)
    step = 1 if kind == "month" else 3
    month = first.month - 1 + step
    return dt.date(first.year + month // 12, month % 12 + 1, 1)


def _label(first: dt.date, kind: str) -> str:
    if kind == "week":
        year, week, _ = first.isocalendar()
        return f"{year}-W{week:02d}"
    if kind == "month":
        return f"{first.year}-{first.month:02d}"
    return f"{first.year}-Q{(first.month - 1) // 3 + 1}"


def _local_midnight_utc(day: dt.date, zone: ZoneInfo) -> np.datetime64:
    instant = dt.datetime.combine(day, dt.time(0), tzinfo=zone).astimezone(_UTC)
    return np.datetime64(instant.replace(tzinfo=None), "us")


def _local_date(instant: np.datetime64, zone: ZoneInfo) -> dt.date:
    micros = int(instant.astype("datetime64[us]").astype(np.int64))
    utc = dt.datetime(1970, 1, 1, tzinfo=_UTC) + dt.timedelta(microseconds=micros)
    return utc.astimezone(zone).date()


def period_boundaries(
    first: np.datetime64, last: np.datetime64, timezone: str, kind: str
) -> tuple[np.ndarray, list[str]]:
    """Boundaries and labels of every period that contains an instant of ``[first, last]``.

    Returns
    -------
    edges, labels
        ``edges`` is a sorted ``datetime64[us]`` array one longer than ``labels``: period *i*
        is ``[edges[i], edges[i + 1])``.
    """
    _check_kind(kind)
    zone = ZoneInfo(timezone)
    day = _first_day(_local_date(first, zone), kind)
    edges = [_local_midnight_utc(day, zone)]
    labels: list[str] = []
    last_us = last.astype("datetime64[us]")
    while edges[-1] <= last_us:
        labels.append(_label(day, kind))
        day = _next_first_day(day, kind)
        edges.append(_local_midnight_utc(day, zone))
    return np.array(edges, dtype="datetime64[us]"), labels


def period_index(instants: np.ndarray, timezone: str, kind: str) -> tuple[np.ndarray, list[str]]:
    """The period of each instant as an index into a list of labels.

    Returns
    -------
    index, labels
        ``index`` is an int64 array (−1 where the instant is ``NaT``) into ``labels``, the
        labels of every period from the one of the earliest instant to the one of the latest.
    """
    _check_kind(kind)
    times = np.asarray(instants).astype("datetime64[us]")
    known = ~np.isnat(times)
    if not known.any():
        return np.full(times.shape, -1, dtype=np.int64), []
    edges, labels = period_boundaries(times[known].min(), times[known].max(), timezone, kind)
    index = np.searchsorted(edges, times, side="right").astype(np.int64) - 1
    index[~known] = -1
    return index, labels


def period_of(instants: np.ndarray, timezone: str, kind: str) -> np.ndarray:
    """Label of the period containing each instant.

    Parameters
    ----------
    instants
        UTC instants as ``datetime64`` (any unit); ``NaT`` gives ``None``.
    timezone
        IANA name of the time zone whose local calendar defines the periods.
    kind
        ``"week"`` (ISO), ``"month"`` or ``"quarter"``.

    Returns
    -------
    numpy.ndarray
        Object array of ``str`` labels (``None`` where the instant is ``NaT``).
    """
    index, labels = period_index(instants, timezone, kind)
    labels_out = np.full(index.shape, None, dtype=object)
    known = index >= 0
    labels_out[known] = np.asarray(labels, dtype=object)[index[known]]
    return labels_out


def period_positions(instants: np.ndarray, periods: Sequence[Period]) -> np.ndarray:
    """The index of the period of ``periods`` (contiguous, in order) holding each instant, −1
    for ``NaT`` and for instants outside them."""
    times = np.asarray(instants).astype("datetime64[us]", copy=False)
    if not periods:
        return np.full(times.shape, -1, dtype=np.int64)
    edges = np.array([p.start for p in periods] + [periods[-1].end], dtype="datetime64[us]")
    micros = times.view(np.int64)  # NaT is the smallest int64: before the first period
    index: np.ndarray = np.searchsorted(edges.view(np.int64), micros, side="right") - 1
    index[index >= len(periods)] = -1
    return index.astype(np.int64, copy=False)


def period_table(spec: MeasureSpec) -> list[Period]:
    """Every reporting period from the one containing ``spec.start`` to the one containing the
    last instant a clock can stop at (the end of the horizon, or ``observed_until`` if later).

    A period is ``full`` when it lies entirely inside ``[spec.start, spec.horizon_end)``.
    Tickets measured at the end of the horizon can stop their clock after it; their periods are
    in the table too, as partial periods.
    """
    last = max(spec.horizon_end - _US, spec.observed_until)
    edges, labels = period_boundaries(spec.start, last, spec.timezone, spec.period)
    return [
        Period(
            label=label,
            start=edges[i],
            end=edges[i + 1],
            full=bool(edges[i] >= spec.start and edges[i + 1] <= spec.horizon_end),
        )
        for i, label in enumerate(labels)
    ]
