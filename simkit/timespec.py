"""Weekly time patterns as users write them: ``"mon-fri"``, ``"08:00-18:00"``,
``"mon-fri 07:00-19:00"`` (a roster line) and ``"sun 02:00-04:00"`` (a maintenance window).

Everything is returned as minutes of the week, Monday 00:00 = 0, so calendars, rosters and
maintenance windows share one representation. A clock range whose end is not after its start runs
past midnight (``"22:00-06:00"``), and Sunday night wraps to Monday morning.
"""

from __future__ import annotations

import re

from simkit.errors import SpecError

__all__ = [
    "DAY_NAMES",
    "MINUTES_PER_WEEK",
    "WeeklyInterval",
    "merge_intervals",
    "parse_clock_range",
    "parse_days",
    "parse_weekly_pattern",
    "weekly_intervals",
]

DAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
MINUTES_PER_DAY = 1440
MINUTES_PER_WEEK = 7 * MINUTES_PER_DAY
WeeklyInterval = tuple[int, int]
"""``(start, end)`` in minutes of the week, ``0 <= start < end <= MINUTES_PER_WEEK``."""

_ALIASES = {
    "monday": "mon",
    "tuesday": "tue",
    "wednesday": "wed",
    "thursday": "thu",
    "friday": "fri",
    "saturday": "sat",
    "sunday": "sun",
}
_GROUPS = {"weekdays": "mon-fri", "weekends": "sat-sun", "weekend": "sat-sun", "daily": "mon-sun"}
_CLOCK = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*$")
_DAY_FIX = (
    "write days as mon, tue, wed, thu, fri, sat, sun, ranges like mon-fri or lists like mon,wed"
)


def _day_index(name: str, whole: str) -> int:
    key = _ALIASES.get(name.strip().lower(), name.strip().lower())
    if key not in DAY_NAMES:
        raise SpecError(f"{name.strip()!r} in {whole!r} is not a day of the week", _DAY_FIX)
    return DAY_NAMES.index(key)


def parse_days(text: object) -> tuple[int, ...]:
    """``"mon-fri"`` → ``(0, 1, 2, 3, 4)``; ``"fri-mon"`` wraps; ``"mon,wed"``; ``"weekdays"``."""
    if not isinstance(text, str) or not text.strip():
        raise SpecError(f"expected days of the week such as 'mon-fri', got {text!r}", _DAY_FIX)
    spec = _GROUPS.get(text.strip().lower(), text)
    days: list[int] = []
    for part in spec.split(","):
        if "-" in part:
            first, _, last = part.partition("-")
            a, b = _day_index(first, text), _day_index(last, text)
            span = [(a + k) % 7 for k in range((b - a) % 7 + 1)]
        else:
            span = [_day_index(part, text)]
        for d in span:
            if d not in days:
                days.append(d)
    return tuple(sorted(days))


def _clock_minutes(text: str, whole: str, *, end: bool) -> int:
    match = _CLOCK.match(text)
    if match is None:
        raise SpecError(
            f"{text.strip()!r} in {whole!r} is not a time of day",
            "write times as HH:MM, e.g. 08:00",
        )
    hours, minutes = int(match.group(1)), int(match.group(2))
    limit = 24 if end else 23
    if hours > limit or minutes > 59 or (hours == 24 and minutes):
        raise SpecError(f"{text.strip()!r} in {whole!r} is not a time of day", "use 00:00 to 24:00")
    return hours * 60 + minutes


def parse_clock_range(text: object) -> tuple[int, int]:
    """``"08:00-18:00"`` → ``(480, 1080)`` minutes of the day. An end at or before the start runs
    past midnight: ``"22:00-06:00"`` → ``(1320, 1800)``."""
    if isinstance(text, int) and not isinstance(text, bool):
        raise SpecError(
            f"a time range was read as the number {text} (YAML reads unquoted 12:30 as a number)",
            'quote it, e.g. "08:00-18:00"',
        )
    if not isinstance(text, str) or text.count("-") != 1:
        raise SpecError(
            f"expected a time range such as '08:00-18:00', got {text!r}", 'write "HH:MM-HH:MM"'
        )
    first, _, last = text.partition("-")
    start = _clock_minutes(first, text, end=False)
    stop = _clock_minutes(last, text, end=True)
    if stop == start:
        raise SpecError(f"the time range {text!r} is empty", "make the end differ from the start")
    if stop < start:
        stop += MINUTES_PER_DAY
    return start, stop


def weekly_intervals(days: tuple[int, ...], clock: tuple[int, int]) -> list[WeeklyInterval]:
    """The intervals of the week covered by ``clock`` on each of ``days`` (sorted, wrapped, merged)."""
    pieces: list[WeeklyInterval] = []
    for d in days:
        start = d * MINUTES_PER_DAY + clock[0]
        stop = d * MINUTES_PER_DAY + clock[1]
        if stop <= MINUTES_PER_WEEK:
            pieces.append((start, stop))
        else:
            pieces.append((start, MINUTES_PER_WEEK))
            pieces.append((0, stop - MINUTES_PER_WEEK))
    return merge_intervals(pieces)


def merge_intervals(pieces: list[WeeklyInterval]) -> list[WeeklyInterval]:
    """Sort and merge overlapping or touching intervals."""
    merged: list[WeeklyInterval] = []
    for start, stop in sorted(pieces):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], stop))
        else:
            merged.append((start, stop))
    return merged


def parse_weekly_pattern(text: object) -> tuple[tuple[int, ...], tuple[int, int]]:
    """A roster line or maintenance window: ``"mon-fri 07:00-19:00"`` → (days, clock range)."""
    if not isinstance(text, str) or len(text.split()) != 2:
        raise SpecError(
            f"expected days and hours such as 'mon-fri 07:00-19:00', got {text!r}",
            'write "DAYS HH:MM-HH:MM", e.g. "mon-fri 07:00-19:00" or "sun 02:00-04:00"',
        )
    days_text, clock_text = text.split()
    return parse_days(days_text), parse_clock_range(clock_text)
