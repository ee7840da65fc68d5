"""Reading a calendar's scenario value: open hours, holidays and time zone.

These are the parsers behind :meth:`simkit.calendar.Calendar.from_spec`; each refuses a bad value
with a :class:`~simkit.errors.SpecError` that says what is wrong and how to fix it.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import holidays as holiday_tables

from simkit.errors import SpecError
from simkit.timespec import (
    WeeklyInterval,
    merge_intervals,
    parse_clock_range,
    parse_days,
    weekly_intervals,
)


def known_zone(name: object) -> ZoneInfo | None:
    """The IANA time zone ``name``, or None when it names none. Whatever the value — not a
    string, an empty or malformed name, one too long for the zone files' folder — the answer is
    None, never an exception: callers turn it into their own message."""
    if not isinstance(name, str) or not name.strip():
        return None
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        return None


_HOLIDAY_KEYS = ("country", "subdivision", "dates")
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def _zone(name: object) -> ZoneInfo:
    fix = "use an IANA time zone name such as Europe/London, America/New_York or UTC"
    if not isinstance(name, str) or not name.strip():
        raise SpecError(f"expected a time zone name, got {name!r}", fix)
    zone = known_zone(name)
    if zone is None:
        raise SpecError(f"unknown time zone {name!r}", fix)
    return zone


def _parse_hours(value: object) -> tuple[WeeklyInterval, ...]:
    fix = "map days to ranges, e.g. {mon-fri: '08:00-17:00', sat: ['09:00-12:00', '13:00-15:00']}"
    if not isinstance(value, Mapping):
        raise SpecError(
            f"expected calendar hours as a mapping of days to ranges, got {value!r}", fix
        )
    if not value:
        raise SpecError("the calendar's hours are empty", fix)
    pieces: list[WeeklyInterval] = []
    for days_text, ranges in value.items():
        days = parse_days(days_text)
        listed = ranges if isinstance(ranges, list | tuple) else [ranges]
        if not listed:
            raise SpecError(f"no time ranges are given for {days_text!r}", fix)
        for text in listed:
            pieces.extend(weekly_intervals(days, parse_clock_range(text)))
    return tuple(merge_intervals(pieces))


def _parse_holidays(value: object) -> tuple[str | None, str | None, frozenset[dt.date]]:
    if value is None:
        return None, None, frozenset()
    if isinstance(value, list | tuple):
        return None, None, _parse_dates(value)
    if not isinstance(value, Mapping):
        raise SpecError(
            f"expected holidays as a mapping or a list of dates, got {value!r}",
            "write {country: GB, subdivision: ENG, dates: [2027-12-24]} "
            "or [2027-12-24, 2027-12-31]",
        )
    unknown = [str(key) for key in value if key not in _HOLIDAY_KEYS]
    if unknown:
        raise SpecError(
            f"unknown holidays key{'s' if len(unknown) > 1 else ''} "
            f"{', '.join(map(repr, unknown))}",
            f"holidays take {', '.join(_HOLIDAY_KEYS)}",
        )
    country = _holiday_code(value.get("country"), "country")
    subdivision = _holiday_code(value.get("subdivision"), "subdivision")
    if country is not None:
        country = country.upper()
        subdivision = _known_subdivision(country, subdivision)
    elif subdivision is not None:
        raise SpecError(
            f"holiday subdivision {subdivision!r} has no country",
            "add the country, e.g. {country: GB, subdivision: ENG}",
        )
    dates = value.get("dates")
    if dates is not None and not isinstance(dates, list | tuple):
        raise SpecError(
            f"expected holiday dates as a list, got {dates!r}", "write dates: [2027-12-24]"
        )
    return country, subdivision, _parse_dates(dates or ())


def _holiday_code(value: object, key: str) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        raise SpecError(
            f"holiday {key} was read as {str(value).lower()} (YAML reads unquoted NO, YES, ON, OFF "
            "as true/false)",
            f"quote the code, e.g. {key}: '{'NO' if value is False else 'YES'}'",
        )
    if isinstance(value, int):
        raise SpecError(
            f"holiday {key} was read as the number {value}", f"quote it, e.g. {key}: '{value:02d}'"
        )
    if not isinstance(value, str) or not value.strip():
        raise SpecError(
            f"expected a holiday {key} code, got {value!r}", "e.g. country: GB, subdivision: ENG"
        )
    return value.strip()


def _known_subdivision(country: str, subdivision: str | None) -> str | None:
    supported = holiday_tables.list_supported_countries()
    if country not in supported:
        raise SpecError(
            f"unknown holiday country {country!r}",
            "use an ISO 3166 country code that the holidays library supports, "
            "e.g. GB, US, DE, FR, IN",
        )
    if subdivision is None:
        return None
    for candidate in dict.fromkeys((subdivision, subdivision.upper())):
        try:
            _holiday_table(country, candidate, years=())
        except SpecError:
            continue
        return candidate
    codes = supported[country]
    raise SpecError(
        f"{country} has no holiday subdivision {subdivision!r}",
        f"use one of {', '.join(codes)}" if codes else f"{country} has no subdivisions: remove it",
    )


def _holiday_table(country: str, subdivision: str | None, years: range | tuple[int, ...]) -> Any:
    try:
        return holiday_tables.country_holidays(country, subdiv=subdivision, years=years)
    except NotImplementedError:
        where = f"{country}/{subdivision}" if subdivision else country
        raise SpecError(
            f"no public holidays are known for {where!r}",
            "use an ISO 3166 country code and subdivision that the holidays library supports",
        ) from None


def _parse_dates(values: object) -> frozenset[dt.date]:
    fix = "write dates as YYYY-MM-DD, e.g. 2027-12-24"
    dates: set[dt.date] = set()
    for value in values if isinstance(values, list | tuple) else ():
        if isinstance(value, dt.datetime):
            raise SpecError(
                f"holiday {value!r} has a time of day; a holiday closes a whole day", fix
            )
        if isinstance(value, dt.date):
            dates.add(value)
            continue
        if isinstance(value, str) and _ISO_DATE.match(value.strip()):
            try:
                dates.add(dt.date.fromisoformat(value.strip()))
                continue
            except ValueError:
                pass
        raise SpecError(f"{value!r} is not a date", fix)
    return frozenset(dates)
