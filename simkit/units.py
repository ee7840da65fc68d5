"""Durations and percentages as users write them in scenario files.

Durations are strings with a unit — ``30m``, ``4h``, ``1.5h``, ``3d`` (= 72 h, as ServiceNow counts
days), ``2w`` — or plain numbers of hours. Percentages are ``95%`` or a fraction ``0.95``; a bare
``95`` is refused because it is ambiguous.
"""

from __future__ import annotations

import math
import re

from simkit.errors import SpecError

__all__ = [
    "EXTRA_DIGITS",
    "format_duration",
    "format_percent",
    "parse_duration",
    "parse_fraction",
    "percent",
]

_UNIT_HOURS = {
    "s": 1 / 3600,
    "sec": 1 / 3600,
    "m": 1 / 60,
    "min": 1 / 60,
    "h": 1.0,
    "hr": 1.0,
    "d": 24.0,
    "w": 168.0,
}
_DURATION = re.compile(r"^\s*([0-9]*\.?[0-9]+(?:[eE][-+]?[0-9]+)?)\s*([a-zA-Z]+)\s*$")


def parse_duration(value: object, *, allow_zero: bool = True) -> float:
    """Return a duration in hours from ``"30m"``, ``"1.5h"``, ``"3d"``, ``"2w"`` or a number of hours.

    Raises
    ------
    SpecError
        When the value is not a duration, is negative, or (``allow_zero=False``) is zero.
    """
    if isinstance(value, bool) or value is None:
        raise SpecError(
            f"expected a duration such as '30m', '4h', '3d' or '2w', got {value!r}",
            "write a number with a unit: s, m, h, d (24 h) or w",
        )
    if isinstance(value, int | float):
        hours = float(value)
    elif isinstance(value, str):
        match = _DURATION.match(value)
        if match is None:
            raise SpecError(
                f"{value!r} is not a duration",
                "write a number with a unit, e.g. '30m', '1.5h', '3d' (72 h) or '2w'",
            )
        unit = match.group(2).lower()
        if unit not in _UNIT_HOURS:
            raise SpecError(
                f"unknown time unit {match.group(2)!r} in {value!r}",
                "use s, m, h, d (24 h) or w",
            )
        hours = float(match.group(1)) * _UNIT_HOURS[unit]
    else:
        raise SpecError(
            f"expected a duration such as '30m' or '4h', got {type(value).__name__}",
            "write a number with a unit: s, m, h, d (24 h) or w",
        )
    if not math.isfinite(hours) or hours < 0:
        raise SpecError(
            f"a duration must be a finite non-negative time, got {value!r}",
            "write a time of 0 or more, e.g. 30m, 4h or 2d",
        )
    if hours == 0 and not allow_zero:
        raise SpecError(
            f"a duration here must be greater than zero, got {value!r}",
            "write a time greater than zero, e.g. 30m, 4h or 2d",
        )
    return hours


def parse_fraction(value: object) -> float:
    """Return a fraction in [0, 1] from ``"95%"`` or ``0.95``; a bare ``95`` is refused."""
    if isinstance(value, bool) or value is None:
        raise SpecError(f"expected a percentage, got {value!r}", "write e.g. 95% or 0.95")
    if isinstance(value, str):
        text = value.strip()
        if text.endswith("%"):
            try:
                number = float(text[:-1])
            except ValueError:
                raise SpecError(
                    f"{value!r} is not a percentage", "write e.g. 95% or 0.95"
                ) from None
            fraction = round(number / 100.0, 12)
        else:
            try:
                fraction = float(text)
            except ValueError:
                raise SpecError(
                    f"{value!r} is not a percentage", "write e.g. 95% or 0.95"
                ) from None
            if fraction > 1:
                raise SpecError(
                    f"{value!r} is ambiguous as a percentage",
                    f"write {text}% or {fraction / 100:g}",
                )
    elif isinstance(value, int | float):
        fraction = float(value)
        if fraction > 1:
            raise SpecError(
                f"{value!r} is ambiguous as a percentage", f"write {value}% or {fraction / 100:g}"
            )
    else:
        raise SpecError(
            f"expected a percentage, got {type(value).__name__}", "write e.g. 95% or 0.95"
        )
    if not math.isfinite(fraction) or fraction < 0 or fraction > 1:
        raise SpecError(
            f"a percentage must lie between 0% and 100%, got {value!r}",
            "write a share from 0% to 100%, e.g. 95% or 0.95",
        )
    return fraction


def format_duration(hours: float) -> str:
    """The shortest readable duration string for a number of hours (inverse of parse_duration)."""
    if hours == 0:
        return "0h"
    for unit, size in (("w", 168.0), ("d", 24.0)):
        value = hours / size
        if value >= 1 and abs(value - round(value)) < 1e-9:
            return f"{round(value)}{unit}"
    if hours >= 1:
        return f"{round(hours, 3):g}h"
    minutes = hours * 60
    if abs(minutes - round(minutes, 3)) < 1e-9:
        return f"{round(minutes, 3):g}m"
    return f"{hours * 60:.6g}m" if hours < 1 else f"{hours:.6g}h"


def format_percent(fraction: float) -> str:
    """``0.955`` → ``'95.5%'``."""
    return f"{fraction * 100:.6g}%"


EXTRA_DIGITS = 2
"""Digits a share may gain so as not to read as 0% or 100% when it is neither."""


def percent(value: float, digits: int = 1) -> str:
    """``value`` (a share) in percent, without the sign, with ``digits`` decimals — more, up to
    :data:`EXTRA_DIGITS`, where those would round a share that is not 0 or 1 to 0 or 100;
    beyond them it is cut towards 50 (99.99996% → ``'99.999'``): a share that is not certain never
    reads as certain, nor one that is not nil as nil."""
    hundred = value * 100
    for shown in range(digits, digits + EXTRA_DIGITS + 1):
        text = f"{hundred:.{shown}f}"
        if (0 < value < 1) and float(text) in (0.0, 100.0):
            continue
        return text
    scale = 10**shown
    cut = math.floor(hundred * scale) if value > 0.5 else math.ceil(hundred * scale)
    return f"{cut / scale:.{shown}f}"
