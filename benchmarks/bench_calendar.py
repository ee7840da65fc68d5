"""Business hours for a million (opened, resolved) pairs on an office calendar with GB holidays:
``Calendar.elapsed`` against a plain Python loop that walks each pair's local days.

Pairs open uniformly over 2027 (UTC) and stay open an exponential time with a mean of two days, as
tickets do. The loop is timed on a subsample and scaled linearly to the full count; it also checks
the vectorised answers on that subsample.
"""

from __future__ import annotations

import datetime as dt
import time
from zoneinfo import ZoneInfo

import holidays
import numpy as np
import numpy.typing as npt

from benchmarks._harness import BenchResult, best_of
from simkit.calendar import Calendar

PAIRS = 1_000_000
LOOP_PAIRS = 20_000
SPEC = {
    "hours": {"mon-fri": "08:00-18:00"},
    "holidays": {"country": "GB", "subdivision": "ENG"},
}
TIMEZONE = "Europe/London"
Instants = npt.NDArray[np.datetime64]


def _pairs(n: int, seed: int = 2027) -> tuple[Instants, Instants]:
    rng = np.random.default_rng(seed)
    year_start = np.datetime64("2027-01-01T00:00", "us").astype(np.int64)
    year_us = 365 * 24 * 3_600_000_000
    opened = year_start + rng.integers(0, year_us, n)
    open_for = rng.exponential(48 * 3_600_000_000, n).astype(np.int64)
    return opened.astype("datetime64[us]"), (opened + open_for).astype("datetime64[us]")


def _loop_elapsed(
    opened: list[dt.datetime], resolved: list[dt.datetime], zone: ZoneInfo, closed: set[dt.date]
) -> list[float]:
    """Business hours pair by pair: for each local day from opening to resolution, overlap the
    day's 08:00-18:00 (weekdays that are not holidays) with the pair."""
    office = (dt.time(8), dt.time(18))
    results = []
    for start, end in zip(opened, resolved, strict=True):
        seconds = 0.0
        day = start.astimezone(zone).date()
        last = end.astimezone(zone).date()
        while day <= last:
            if day.weekday() < 5 and day not in closed:
                opens = dt.datetime.combine(day, office[0], tzinfo=zone).astimezone(dt.UTC)
                closes = dt.datetime.combine(day, office[1], tzinfo=zone).astimezone(dt.UTC)
                lo, hi = max(opens, start), min(closes, end)
                if hi > lo:
                    seconds += (hi - lo).total_seconds()
            day += dt.timedelta(days=1)
        results.append(seconds / 3600)
    return results


def run() -> list[BenchResult]:
    opened, resolved = _pairs(PAIRS)

    def vectorised() -> npt.NDArray[np.float64]:
        return Calendar.from_spec(SPEC, TIMEZONE).elapsed(opened, resolved)

    seconds = best_of(vectorised, repeat=3)
    hours = vectorised()

    zone = ZoneInfo(TIMEZONE)
    closed = set(holidays.country_holidays("GB", subdiv="ENG", years=range(2026, 2030)))
    sub_open = [t.replace(tzinfo=dt.UTC) for t in opened[:LOOP_PAIRS].astype(dt.datetime)]
    sub_resolved = [t.replace(tzinfo=dt.UTC) for t in resolved[:LOOP_PAIRS].astype(dt.datetime)]
    t0 = time.perf_counter()
    looped = _loop_elapsed(sub_open, sub_resolved, zone, closed)
    loop_seconds = (time.perf_counter() - t0) * PAIRS / LOOP_PAIRS
    worst = float(np.max(np.abs(np.asarray(looped) - hours[:LOOP_PAIRS])))
    if worst > 1e-9:
        raise AssertionError(f"vectorised and loop business hours differ by up to {worst} h")

    return [
        BenchResult(
            name="calendar: elapsed, 1M pairs, office + GB holidays",
            figure=f"{seconds:.3f} s (loop {loop_seconds:.1f} s: 20k pairs x50)",
            ratio=loop_seconds / seconds,
            baseline="plain Python loop",
            target="<= 0.5 s",
            passed=seconds <= 0.5,
        )
    ]
