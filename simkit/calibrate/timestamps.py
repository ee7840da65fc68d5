"""Reading timestamps: :func:`parse_instants`, a vectorised ``strptime`` subset.

Built on Arrow's regular expressions and numpy calendar arithmetic, it (unlike a rolling parser)
refuses dates that do not exist (``31/02/2016``), tells which of several formats each value had,
reads fractional seconds and UTC offsets, and places local clock times in the export's time zone
(counting the ones a daylight-saving change makes ambiguous or impossible).
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

# the years a time stamp is read in, those calendars cover: outside them a date is a typo (2999)
from simkit.calendar import FIRST_YEAR, LAST_YEAR
from simkit.calibrate.columns import encoded

__all__ = [
    "FIRST_YEAR",
    "ISO",
    "LAST_YEAR",
    "NAT",
    "ParsedTimes",
    "format_pattern",
    "parse_instants",
]

ISO = "iso"
"""The date format keyword for ISO 8601 (``2027-01-04 09:30``, ``2027-01-04T09:30:00.000+01:00``)."""
_US_PER_S = 1_000_000
NAT = np.iinfo(np.int64).min
"""Missing instant in the microsecond arrays (the ``int64`` of ``NaT``)."""
_NAT = NAT

_FIELDS: dict[str, tuple[str, str]] = {
    "Y": ("year", r"\d{4}"),
    "y": ("year2", r"\d{2}"),
    "m": ("month", r"\d{1,2}"),
    "d": ("day", r"\d{1,2}"),
    "e": ("day", r"\d{1,2}"),
    "H": ("hour", r"\d{1,2}"),
    "I": ("hour12", r"\d{1,2}"),
    "M": ("minute", r"\d{1,2}"),
    "S": ("second", r"\d{1,2}"),
    "f": ("fraction", r"\d{1,9}"),
    "p": ("ampm", r"[AaPp]\.?[Mm]\.?"),
    "b": ("monthname", r"[A-Za-z]{3,9}\.?"),
    "B": ("monthname", r"[A-Za-z]{3,9}"),
    "z": ("offset", r"Z|[+-]\d{2}:?\d{2}"),
}
_OFFSET = r"(?:\s*(?P<offset>Z|[+-]\d{2}:?\d{2}))?"
_FRACTION = r"(?:[.,](?P<fraction>\d{1,9}))?"
_ISO_PATTERN = (
    r"^\s*(?P<year>\d{4})-(?P<month>\d{1,2})-(?P<day>\d{1,2})"
    r"(?:[T ]\s*(?P<hour>\d{1,2}):(?P<minute>\d{2})(?::(?P<second>\d{2})"
    + _FRACTION
    + r")?)?"
    + _OFFSET
    + r"\s*$"
)
_MONTHS = {
    name: i + 1
    for i, names in enumerate(
        [
            ("jan", "january"),
            ("feb", "february"),
            ("mar", "march"),
            ("apr", "april"),
            ("may",),
            ("jun", "june"),
            ("jul", "july"),
            ("aug", "august"),
            ("sep", "sept", "september"),
            ("oct", "october"),
            ("nov", "november"),
            ("dec", "december"),
        ]
    )
    for name in names
}


def format_pattern(fmt: str) -> str:
    """The RE2 pattern (named groups) that reads strptime format ``fmt`` (or ``iso``).

    Raises
    ------
    ValueError
        For a strptime code simkit does not read (use ``%Y %y %m %d %H %I %M %S %f %p %b %B
        %z``).
    """
    if fmt == ISO:
        return _ISO_PATTERN
    out = [r"^\s*"]
    used: set[str] = set()
    i = 0
    while i < len(fmt):
        ch = fmt[i]
        if ch == "%" and i + 1 < len(fmt):
            code = fmt[i + 1]
            i += 2
            if code == "%":
                out.append("%")
                continue
            if code not in _FIELDS:
                raise ValueError(
                    f"the date format {fmt!r} uses %{code}, which is not supported: use "
                    "%Y %y %m %d %H %I %M %S %f %p %b %B %z"
                )
            name, regex = _FIELDS[code]
            if name in used:
                raise ValueError(f"the date format {fmt!r} names %{code} twice")
            used.add(name)
            if code == "S" and not fmt[i:].startswith((".%f", ",%f")):
                out.append(f"(?P<second>{regex})" + _FRACTION)
                used.add("fraction")
            elif code == "f":
                if out and out[-1] in (r"\.", ","):
                    out.pop()
                out.append(_FRACTION)
            else:
                out.append(f"(?P<{name}>{regex})")
            continue
        if ch.isspace():
            out.append(r"\s+")
            while i < len(fmt) and fmt[i].isspace():
                i += 1
            continue
        out.append(re.escape(ch))
        i += 1
    if "offset" not in used:
        out.append(_OFFSET)
    out.append(r"\s*$")
    if not used & {"year", "year2"} or ("month" not in used and "monthname" not in used):
        raise ValueError(f"the date format {fmt!r} needs a year (%Y) and a month (%m or %b)")
    return "".join(out)


@dataclass(frozen=True, eq=False)
class ParsedTimes:
    """Instants read from one column.

    Attributes
    ----------
    micros
        UTC microseconds since the epoch (``int64``); :data:`NAT` where missing or unreadable.
    unreadable
        Rows holding a value that no format read.
    format_index
        Which of the formats read each row (``-1`` none).
    formats
        The formats, in the order they were tried.
    ambiguous, nonexistent
        Local clock times that a daylight-saving change makes ambiguous (read as the earlier
        instant) or impossible (read as the instant the clocks jumped to).
    year_out_of_range
        Unreadable rows that a format would read but for the year, outside
        :data:`FIRST_YEAR` … :data:`LAST_YEAR` (a mistyped year, such as 2999); ``None`` for
        none.
    with_offset
        Rows read from a value that wrote its UTC offset (``Z``, ``+01:00``) and was read with
        it; ``None`` for none (native timestamps, or offsets ignored).
    """

    micros: np.ndarray
    unreadable: np.ndarray
    format_index: np.ndarray
    formats: tuple[str, ...]
    ambiguous: np.ndarray
    nonexistent: np.ndarray
    year_out_of_range: np.ndarray | None = None
    with_offset: np.ndarray | None = None

    @property
    def known(self) -> np.ndarray:
        known: np.ndarray = self.micros != NAT
        return known

    def as_datetime64(self) -> np.ndarray:
        return self.micros.view("datetime64[us]")

    def format_counts(self) -> dict[str, int]:
        counts = np.bincount(self.format_index[self.format_index >= 0], minlength=len(self.formats))
        return {f: int(c) for f, c in zip(self.formats, counts, strict=True) if c}


def _group(matched: pa.StructArray, name: str) -> np.ndarray | None:
    """A numeric group of a regex match as int64 (-1 where empty); ``None`` if absent."""
    if matched.type.get_field_index(name) < 0:
        return None
    text = pc.struct_field(matched, name)
    text = pc.if_else(pc.equal(text, ""), pa.scalar(None, pa.string()), text)
    if name in ("ampm", "monthname", "offset"):
        return np.asarray(text.to_numpy(zero_copy_only=False), dtype=object)
    if name == "fraction":
        padded = pc.utf8_rpad(pc.utf8_slice_codeunits(text, 0, 6), width=6, padding="0")
        text = padded
    numbers = pc.fill_null(text.cast(pa.int64()), -1)
    return np.asarray(numbers.to_numpy(zero_copy_only=False), dtype=np.int64)


def _local_micros(
    matched: pa.StructArray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """``(local microseconds, valid, offset seconds or None-mask, invalid for the year
    alone)`` from regex groups."""
    n = len(matched)
    year = _group(matched, "year")
    if year is None:
        year2 = _group(matched, "year2")
        assert year2 is not None
        year = np.where(year2 < 69, 2000 + year2, 1900 + year2)
    month = _group(matched, "month")
    if month is None:
        names = _group(matched, "monthname")
        assert names is not None
        month = np.array(
            [_MONTHS.get(str(v).rstrip(".").lower(), -1) if v is not None else -1 for v in names],
            dtype=np.int64,
        )
    day = _group(matched, "day")
    if day is None:
        day = np.ones(n, dtype=np.int64)
    hour = _group(matched, "hour")
    hour12 = _group(matched, "hour12")
    if hour is None and hour12 is not None:
        ampm = _group(matched, "ampm")
        pm = np.array(
            [v is not None and str(v)[0] in "pP" for v in ampm]
            if ampm is not None
            else [False] * n,
            dtype=bool,
        )
        hour = np.where(hour12 == 12, 0, hour12) + np.where(pm, 12, 0)
        hour = np.where(hour12 < 1, -1, np.where(hour12 > 12, 99, hour))
    zero = np.zeros(n, dtype=np.int64)
    hour = zero if hour is None else np.where(hour < 0, 0, hour)
    minute = _group(matched, "minute")
    minute = zero if minute is None else np.where(minute < 0, 0, minute)
    second = _group(matched, "second")
    second = zero if second is None else np.where(second < 0, 0, second)
    fraction = _group(matched, "fraction")
    fraction = zero if fraction is None else np.where(fraction < 0, 0, fraction)
    in_years = (year >= FIRST_YEAR) & (year <= LAST_YEAR)
    fields = (month >= 1) & (month <= 12) & (hour <= 23) & (minute <= 59) & (second <= 59)
    # the length of the month, in the year given or, outside the years read, in one of them
    # with the same leap-year rule (for telling a year out of range from a day that does not
    # exist)
    leap = (year % 4 == 0) & ((year % 100 != 0) | (year % 400 == 0))
    stand_in = np.where(in_years, year, np.where(leap, 2000, 2001))
    months = np.where(fields, (stand_in - 1970) * 12 + month - 1, 0).astype("datetime64[M]")
    first = months.astype("datetime64[D]")
    length = ((months + 1).astype("datetime64[D]") - first).astype(np.int64)
    fields &= (day >= 1) & (day <= length)
    valid = in_years & fields
    year_only = fields & ~in_years
    days = (first.astype(np.int64) + np.where(valid, day - 1, 0)).astype(np.int64)
    micros = (
        days * 86_400 * _US_PER_S
        + hour * 3_600 * _US_PER_S
        + minute * 60 * _US_PER_S
        + second * _US_PER_S
        + fraction
    )
    offsets = _group(matched, "offset")
    offset_s = np.full(n, _NAT, dtype=np.int64)
    if offsets is not None:
        has = np.array([v is not None for v in offsets], dtype=bool)
        if has.any():
            texts = [str(v) for v in offsets[has]]
            offset_s[has] = [_offset_seconds(t) for t in texts]
    return micros, valid, offset_s, year_only


def _offset_seconds(text: str) -> int:
    if text in ("Z", "z"):
        return 0
    sign = -1 if text[0] == "-" else 1
    digits = text[1:].replace(":", "")
    return sign * (int(digits[:2]) * 3600 + int(digits[2:4]) * 60)


def _assume(local: np.ndarray, timezone: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Local wall-clock micros → UTC micros, with ambiguous / nonexistent flags."""
    if timezone == "UTC" or local.size == 0:
        none = np.zeros(local.size, dtype=bool)
        return local, none, none
    naive = pa.array(local, pa.timestamp("us"))

    def utc(ambiguous: str, nonexistent: str) -> np.ndarray:
        aware = pc.assume_timezone(
            naive, timezone=timezone, ambiguous=ambiguous, nonexistent=nonexistent
        )
        return np.asarray(aware.cast(pa.int64()).to_numpy(zero_copy_only=False), dtype=np.int64)

    early = utc("earliest", "latest")
    late = utc("latest", "earliest")
    differs = early != late
    # a nonexistent time reads as the jump instant with "latest" and one microsecond before it
    # with "earliest"; an ambiguous one differs by the size of the clock change
    nonexistent = differs & (early - late == 1)
    ambiguous = differs & ~nonexistent
    return early, ambiguous, nonexistent


def parse_instants(
    column: pa.ChunkedArray | pa.Array,
    formats: Sequence[str],
    timezone: str,
    *,
    offsets: Literal["honour", "ignore"] = "honour",
) -> ParsedTimes:
    """Read a column of timestamps as UTC instants.

    Parameters
    ----------
    column
        Strings (missing values already null), or Arrow timestamps / dates (used as they are;
        naive ones are local times in ``timezone``).
    formats
        strptime formats (``%Y %y %m %d %H %I %M %S %f %p %b %B %z``) or ``iso``, tried in
        order: a value is read by the first that fits. Fractional seconds and a trailing UTC
        offset (``Z``, ``+01:00``) are accepted with any format.
    timezone
        IANA zone of local clock times (values without an offset, or every value when
        ``offsets="ignore"``).
    offsets
        ``honour`` a written offset, or ``ignore`` it (exports whose offsets are wrong, such as
        BPIC 2014: labelled +00:00 but Dutch local time).

    Returns
    -------
    ParsedTimes
    """
    if isinstance(column, pa.ChunkedArray):
        column = column.combine_chunks() if column.num_chunks else pa.array([], column.type)
    kind = column.type
    if pa.types.is_timestamp(kind) or pa.types.is_date(kind):
        return _native(column, timezone)
    dictionary = encoded(column)
    distinct = _parse_text(dictionary.dictionary, formats, timezone, offsets)
    index = np.asarray(
        pc.fill_null(dictionary.indices.cast(pa.int64()), -1).to_numpy(zero_copy_only=False),
        dtype=np.int64,
    )
    present = index >= 0
    at = np.maximum(index, 0)

    def spread(values: np.ndarray, missing: Any) -> np.ndarray:
        if values.size == 0:
            return np.full(index.size, missing, dtype=values.dtype)
        out: np.ndarray = np.where(present, values[at], missing)
        return out

    return ParsedTimes(
        spread(distinct.micros, _NAT),
        spread(distinct.unreadable, False),
        spread(distinct.format_index, -1),
        distinct.formats,
        spread(distinct.ambiguous, False),
        spread(distinct.nonexistent, False),
        None if distinct.year_out_of_range is None else spread(distinct.year_out_of_range, False),
        None if distinct.with_offset is None else spread(distinct.with_offset, False),
    )


def _parse_text(text: pa.Array, formats: Sequence[str], timezone: str, offsets: str) -> ParsedTimes:
    """:func:`parse_instants` over a string array (each value once).

    A value is read by the first format that fits it — unless that mixes formats in the column
    and one format alone reads every value they read: then that one reads them all. A column of
    month-first dates whose first days are all 12 or less (``9/6/2005``, … ``9/13/2005``) is
    then read month-first throughout, not day-first until the first day above 12."""
    first = _parse_first_fit(text, formats, timezone, offsets)
    used = np.unique(first.format_index[first.format_index >= 0])
    if used.size <= 1:
        return first
    for index in used[1:]:
        alone = _parse_first_fit(text, [formats[int(index)]], timezone, offsets)
        if np.array_equal(alone.unreadable, first.unreadable):
            which = np.where(alone.format_index >= 0, int(index), -1)
            return dataclasses.replace(alone, format_index=which, formats=first.formats)
    return first


def _parse_first_fit(
    text: pa.Array, formats: Sequence[str], timezone: str, offsets: str
) -> ParsedTimes:
    """Each value read by the first of ``formats`` that fits it."""
    n = len(text)
    micros = np.full(n, _NAT, dtype=np.int64)
    offset_s = np.full(n, _NAT, dtype=np.int64)
    which = np.full(n, -1, dtype=np.int64)
    year_out = np.zeros(n, dtype=bool)
    present = np.asarray(pc.is_valid(text).to_numpy(zero_copy_only=False), dtype=bool)
    todo = np.flatnonzero(present)
    for index, fmt in enumerate(formats):
        if todo.size == 0:
            break
        subset = text.take(pa.array(todo)) if todo.size < n else text
        matched = pc.extract_regex(subset, pattern=format_pattern(fmt))
        hit = np.asarray(pc.is_valid(matched).to_numpy(zero_copy_only=False), dtype=bool)
        if not hit.any():
            continue
        local, valid, offset, year_only = _local_micros(matched.filter(pa.array(hit)))
        year_out[todo[hit][year_only]] = True
        rows = todo[hit][valid]
        micros[rows] = local[valid]
        offset_s[rows] = offset[valid]
        which[rows] = index
        done = np.zeros(todo.size, dtype=bool)
        done[np.flatnonzero(hit)[valid]] = True
        todo = todo[~done]
    unreadable = np.zeros(n, dtype=bool)
    unreadable[todo] = True
    read = which >= 0
    has_offset = read & (offset_s != _NAT) & (offsets == "honour")
    local_rows = read & ~has_offset
    ambiguous = np.zeros(n, dtype=bool)
    nonexistent = np.zeros(n, dtype=bool)
    if local_rows.any():
        utc, amb, gap = _assume(micros[local_rows], timezone)
        micros[local_rows] = utc
        ambiguous[local_rows] = amb
        nonexistent[local_rows] = gap
    micros[has_offset] -= offset_s[has_offset] * _US_PER_S
    return ParsedTimes(
        micros,
        unreadable,
        which,
        tuple(formats),
        ambiguous,
        nonexistent,
        unreadable & year_out,
        has_offset if has_offset.any() else None,
    )


def _native(column: pa.Array, timezone: str) -> ParsedTimes:
    n = len(column)
    kind = column.type
    if pa.types.is_date(kind):
        column = column.cast(pa.timestamp("us"))
        kind = column.type
    if kind.tz is None:
        local = column.cast(pa.timestamp("us"))
        values = np.asarray(
            pc.fill_null(local.cast(pa.int64()), _NAT).to_numpy(zero_copy_only=False),
            dtype=np.int64,
        )
        known = values != _NAT
        micros = values.copy()
        ambiguous = np.zeros(n, dtype=bool)
        nonexistent = np.zeros(n, dtype=bool)
        if known.any():
            utc, amb, gap = _assume(values[known], timezone)
            micros[known] = utc
            ambiguous[known] = amb
            nonexistent[known] = gap
    else:
        micros = np.asarray(
            pc.fill_null(column.cast(pa.timestamp("us", "UTC")).cast(pa.int64()), _NAT).to_numpy(
                zero_copy_only=False
            ),
            dtype=np.int64,
        )
        ambiguous = nonexistent = np.zeros(n, dtype=bool)
    which = np.where(micros != _NAT, 0, -1)
    return ParsedTimes(micros, np.zeros(n, dtype=bool), which, ("native",), ambiguous, nonexistent)


_EXCEL_SERIAL = re.compile(r"\s*(\d{4,5})(\.\d+)?\s*")
"""An Excel serial date: whole days since 1899-12-30, the time of day as a fraction."""
_EXCEL_EPOCH = np.datetime64("1899-12-30T00:00", "s")


def excel_serial(values: list[str]) -> str:
    """When every value looks like an Excel serial date between 1950 and 2100 (``41191.618252``),
    the first one written as a date and time (``2012-10-09 14:50``); else ``""``.

    Excel stores dates as day numbers; a sheet saved as CSV with the column not formatted as a
    date writes those numbers, which no date format reads."""
    days = []
    for value in values:
        if _EXCEL_SERIAL.fullmatch(value) is None:
            return ""
        days.append(float(value))
    if not days or not all(18_264 <= d <= 73_051 for d in days):  # 1950-01-01 … 2100-01-01
        return ""
    first = _EXCEL_EPOCH + np.timedelta64(round(days[0] * 86_400), "s")
    return str(first)[:16].replace("T", " ")


def excel_hint(values: list[str], column: str) -> tuple[str, str] | None:
    """Where ``values`` look like Excel serial dates: what to add to the message and the fix
    (how to export the column as dates); else ``None``."""
    serial = excel_serial(values)
    if not serial:
        return None
    return (
        f": these look like Excel serial dates (days since 1899-12-30; {values[0]!r} is {serial})",
        f"in Excel, format the column {column!r} as a date and time (e.g. yyyy-mm-dd hh:mm:ss) "
        "before saving as CSV, or export the dates as text from the ticket system",
    )
