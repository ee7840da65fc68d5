"""Cleaning a ticket export, and the data-quality report that says what cleaning did.

Nothing is dropped silently: every row or ticket removed, every value repaired and every oddity
kept is counted under a named rule with up to five examples (row number, ticket, column, value).
Everything is vectorised with ``pyarrow.compute`` and ``numpy``.

Timestamps are read by :func:`parse_instants` — a vectorised ``strptime`` subset built on Arrow's
regular expressions and numpy calendar arithmetic, which (unlike a rolling parser) refuses dates
that do not exist (``31/02/2016``), tells which of several formats each value had, reads
fractional seconds and UTC offsets, and places local clock times in the export's time zone
(counting the ones a daylight-saving change makes ambiguous or impossible).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

if TYPE_CHECKING:
    from collections.abc import Callable

    from simkit.calibrate.profiles import Priorities

__all__ = [
    "ISO",
    "NAT",
    "ParsedTimes",
    "QualityLog",
    "QualityReport",
    "QualityRule",
    "Rows",
    "clean_rows",
    "dictionary_codes",
    "duplicate_rows",
    "encoded",
    "format_pattern",
    "map_priorities",
    "parse_instants",
    "read_times",
    "strip_missing",
]

ISO = "iso"
"""The date format keyword for ISO 8601 (``2027-01-04 09:30``, ``2027-01-04T09:30:00.000+01:00``)."""
Action = Literal["removed", "repaired", "kept", "info"]
MAX_EXAMPLES = 5
_US_PER_S = 1_000_000
NAT = np.iinfo(np.int64).min
"""Missing instant in the microsecond arrays (the ``int64`` of ``NaT``)."""
_NAT = NAT


# -- the report -------------------------------------------------------------------------------


@dataclass(frozen=True)
class QualityRule:
    """One cleaning rule's findings.

    Attributes
    ----------
    rule
        Stable identifier, e.g. ``duplicate_rows``.
    title
        What the rule found, in plain words.
    action
        ``removed`` (rows or tickets taken out), ``repaired`` (a value set or cleared),
        ``kept`` (kept as they are, e.g. tickets still open) or ``info``.
    count, unit
        How many, of what (``rows``, ``tickets``, ``values``).
    examples
        Up to five examples: ``row`` (1-based data row or event number), ``ticket``,
        ``column``, ``value``, ``detail`` where they apply.
    fix
        What the user can do about it, if anything.
    """

    rule: str
    title: str
    action: Action
    count: int
    unit: str
    examples: tuple[dict[str, Any], ...] = ()
    fix: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {
            "rule": self.rule,
            "title": self.title,
            "action": self.action,
            "count": self.count,
            "unit": self.unit,
            "examples": [dict(e) for e in self.examples],
            "fix": self.fix,
        }


@dataclass(frozen=True)
class QualityReport:
    """What cleaning found and did, rule by rule (see :class:`QualityRule`)."""

    source: str
    profile: str
    rows_read: int
    tickets: int
    rules: tuple[QualityRule, ...]
    notes: tuple[str, ...] = ()

    def rule(self, name: str) -> QualityRule | None:
        """The findings of rule ``name`` (``None`` when it found nothing)."""
        return next((r for r in self.rules if r.rule == name), None)

    def count(self, name: str) -> int:
        """How many items rule ``name`` found, over every column it was applied to."""
        return sum(r.count for r in self.rules if r.rule == name)

    @property
    def removed_rows(self) -> int:
        """Rows of the export taken out by the rules counting rows."""
        return sum(r.count for r in self.rules if r.action == "removed" and r.unit == "rows")

    @property
    def removed_tickets(self) -> int:
        """Whole tickets taken out after their rows were assembled."""
        return sum(r.count for r in self.rules if r.action == "removed" and r.unit == "tickets")

    def as_dict(self) -> dict[str, Any]:
        """The report as plain JSON-ready values."""
        return {
            "source": self.source,
            "profile": self.profile,
            "rows_read": self.rows_read,
            "tickets": self.tickets,
            "removed_rows": self.removed_rows,
            "removed_tickets": self.removed_tickets,
            "rules": [r.as_dict() for r in self.rules],
            "notes": list(self.notes),
        }

    def to_text(self) -> str:
        """The report as readable text, one paragraph per rule."""
        lines = [
            f"Data quality — {self.source} (profile {self.profile})",
            f"  {self.rows_read:,} rows read, {self.tickets:,} tickets loaded; "
            f"{self.removed_rows:,} rows and {self.removed_tickets:,} tickets removed",
        ]
        lines.extend(f"  note: {n}" for n in self.notes)
        if not self.rules:
            lines.append("  no problems found")
        for r in self.rules:
            lines.append(f"  [{r.action}] {r.title}: {r.count:,} {r.unit}  ({r.rule})")
            for example in r.examples:
                lines.append("      e.g. " + _example_text(example))
            if r.fix:
                lines.append(f"      fix: {r.fix}")
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.to_text()


def _example_text(example: dict[str, Any]) -> str:
    parts = []
    for key in ("row", "ticket", "column", "value", "detail"):
        if example.get(key) is not None:
            value = example[key]
            parts.append(f"{key} {value!r}" if key in ("value",) else f"{key} {value}")
    return ", ".join(parts)


@dataclass
class QualityLog:
    """Collects rule findings while an export is loaded; :meth:`report` freezes them."""

    rules: list[QualityRule] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def add(
        self,
        rule: str,
        title: str,
        action: Action,
        count: int,
        unit: str,
        examples: Sequence[dict[str, Any]] = (),
        fix: str = "",
    ) -> None:
        """Record a finding; a rule that found nothing is not recorded."""
        if count <= 0:
            return
        cleaned = tuple(
            {k: _plain(v) for k, v in e.items() if v is not None} for e in examples[:MAX_EXAMPLES]
        )
        self.rules.append(QualityRule(rule, title, action, int(count), unit, cleaned, fix))

    def note(self, text: str) -> None:
        self.notes.append(text)

    def report(self, *, source: str, profile: str, rows_read: int, tickets: int) -> QualityReport:
        return QualityReport(
            source=source,
            profile=profile,
            rows_read=rows_read,
            tickets=tickets,
            rules=tuple(self.rules),
            notes=tuple(self.notes),
        )


def _plain(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.datetime64):
        return str(value)
    return value


def examples_at(
    table: pa.Table, rows: np.ndarray, *, row_column: str, ticket_column: str | None, **extra: Any
) -> list[dict[str, Any]]:
    """Up to five examples for the given row positions of ``table``."""
    picked = np.asarray(rows, dtype=np.int64)[:MAX_EXAMPLES]
    if picked.size == 0:
        return []
    subset = table.take(pa.array(picked))
    numbers = subset[row_column].to_pylist()
    tickets = subset[ticket_column].to_pylist() if ticket_column else [None] * len(numbers)
    out = []
    for i, number in enumerate(numbers):
        example: dict[str, Any] = {"row": number, "ticket": tickets[i]}
        for key, value in extra.items():
            example[key] = value[i] if isinstance(value, list) else value
        out.append(example)
    return out


# -- missing markers and duplicates -----------------------------------------------------------


def encoded(column: pa.ChunkedArray | pa.Array) -> pa.DictionaryArray:
    """A column as one dictionary array of strings (other types are written as text)."""
    if isinstance(column, pa.ChunkedArray):
        column = column.combine_chunks() if column.num_chunks else pa.array([], column.type)
    if pa.types.is_dictionary(column.type):
        if pa.types.is_string(column.type.value_type):
            return column
        column = column.cast(pa.string())
    elif not pa.types.is_string(column.type):
        column = column.cast(pa.string())
    result: pa.DictionaryArray = pc.dictionary_encode(column)
    return result


def dictionary_codes(column: pa.ChunkedArray | pa.Array) -> tuple[np.ndarray, pa.Array]:
    """Distinct values of a column (as an Arrow string array) and each row's index into them
    (``-1`` for null).

    Per-value decisions (priority mapping, state classes, date parsing) are made once per
    distinct value and spread over the rows with one numpy take.
    """
    dictionary = encoded(column)
    codes = pc.fill_null(dictionary.indices.cast(pa.int64()), -1)
    return np.asarray(codes.to_numpy(zero_copy_only=False), dtype=np.int64), dictionary.dictionary


def strip_missing(column: pa.ChunkedArray | pa.Array, markers: Sequence[str]) -> pa.DictionaryArray:
    """A column as a dictionary array with surrounding spaces removed and missing-value markers
    (``?``, ``#N/B`` …, compared after trimming) turned into nulls.

    The work is done once per distinct value: exports repeat their values a lot.
    """
    dictionary = encoded(column)
    values = dictionary.dictionary
    trimmed = pc.utf8_trim_whitespace(values)
    marker = pc.is_in(trimmed, value_set=pa.array(sorted(set(markers)), pa.string()))
    if not pc.any(pc.not_equal(trimmed, values)).as_py():
        if not pc.any(marker).as_py():
            return dictionary
        positions = pa.array(np.flatnonzero(marker.to_numpy(zero_copy_only=False)), pa.int32())
        hidden = pc.is_in(dictionary.indices, value_set=positions)
        indices = pc.if_else(hidden, pa.scalar(None, pa.int32()), dictionary.indices)
        hidden_markers: pa.DictionaryArray = pa.DictionaryArray.from_arrays(indices, values)
        return hidden_markers
    unique = pc.dictionary_encode(trimmed)
    remap = np.asarray(unique.indices.to_numpy(zero_copy_only=False), dtype=np.int64)
    remap = np.where(np.asarray(marker.to_numpy(zero_copy_only=False), bool), -1, remap)
    old = np.asarray(
        pc.fill_null(dictionary.indices.cast(pa.int64()), -1).to_numpy(zero_copy_only=False),
        dtype=np.int64,
    )
    new = np.where(old >= 0, remap[np.maximum(old, 0)], -1) if remap.size else old
    result: pa.DictionaryArray = pa.DictionaryArray.from_arrays(
        pa.array(new.astype(np.int32), mask=new < 0), unique.dictionary
    )
    return result


def duplicate_rows(table: pa.Table, columns: Sequence[str]) -> np.ndarray:
    """Which rows repeat an earlier row exactly in ``columns`` (the first copy is not flagged;
    missing values equal missing values). Arrow's hash grouping finds each row combination's
    first row."""
    n = table.num_rows
    if n < 2 or not columns:
        return np.zeros(n, dtype=bool)
    keys = {f"k{i}": table[name] for i, name in enumerate(columns)}
    grouped = pa.table({**keys, "row": pa.array(np.arange(n, dtype=np.int64))})
    firsts = grouped.group_by(list(keys), use_threads=False).aggregate([("row", "min")])
    flagged = np.ones(n, dtype=bool)
    flagged[np.asarray(firsts["row_min"].to_numpy(), dtype=np.int64)] = False
    return flagged


# -- timestamps -------------------------------------------------------------------------------

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
    """

    micros: np.ndarray
    unreadable: np.ndarray
    format_index: np.ndarray
    formats: tuple[str, ...]
    ambiguous: np.ndarray
    nonexistent: np.ndarray

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


def _local_micros(matched: pa.StructArray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(local microseconds, valid, offset seconds or None-mask)`` from regex groups."""
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
    valid = (
        (year >= 1900)
        & (year <= 2200)
        & (month >= 1)
        & (month <= 12)
        & (hour <= 23)
        & (minute <= 59)
        & (second <= 59)
    )
    months = np.where(valid, (year - 1970) * 12 + month - 1, 0).astype("datetime64[M]")
    first = months.astype("datetime64[D]")
    length = ((months + 1).astype("datetime64[D]") - first).astype(np.int64)
    valid &= (day >= 1) & (day <= length)
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
    return micros, valid, offset_s


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
    )


def _parse_text(text: pa.Array, formats: Sequence[str], timezone: str, offsets: str) -> ParsedTimes:
    """:func:`parse_instants` over a string array (each value once)."""
    n = len(text)
    micros = np.full(n, _NAT, dtype=np.int64)
    offset_s = np.full(n, _NAT, dtype=np.int64)
    which = np.full(n, -1, dtype=np.int64)
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
        local, valid, offset = _local_micros(matched.filter(pa.array(hit)))
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
    return ParsedTimes(micros, unreadable, which, tuple(formats), ambiguous, nonexistent)


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


# -- the cleaning rules -----------------------------------------------------------------------


@dataclass(frozen=True)
class Rows:
    """Where examples come from: a table with its row-number and ticket columns."""

    table: pa.Table
    row_column: str
    ticket_column: str | None

    def examples(self, rows: np.ndarray, **extra: Any) -> list[dict[str, Any]]:
        """Up to five examples for row positions ``rows``; ``extra`` values may be lists
        (one per example) or plain values; ``column=NAME`` adds that column's value too."""
        picked = np.asarray(rows, dtype=np.int64)[:MAX_EXAMPLES]
        if picked.size == 0:
            return []
        column = extra.get("column")
        if column is not None and "value" not in extra and column in self.table.column_names:
            values = self.table[column].take(pa.array(picked)).to_pylist()
            extra = {**extra, "value": [None if v is None else str(v) for v in values]}
        return examples_at(
            self.table,
            picked,
            row_column=self.row_column,
            ticket_column=self.ticket_column,
            **extra,
        )

    def keep(self, mask: np.ndarray) -> Rows:
        """These rows with only ``mask`` kept."""
        if mask.all():
            return self
        return Rows(self.table.filter(pa.array(mask)), self.row_column, self.ticket_column)


def _as_text(column: pa.ChunkedArray, markers: Sequence[str]) -> pa.Array | pa.ChunkedArray:
    """A column ready for mapping: timestamps as they are, anything else as trimmed text
    (dictionary-encoded) with missing-value markers as nulls."""
    if pa.types.is_timestamp(column.type) or pa.types.is_date(column.type):
        return column
    return strip_missing(column, markers)


def clean_rows(
    rows: Rows,
    *,
    missing: Sequence[str],
    filters: Sequence[tuple[str, Sequence[str], str]],
    log: QualityLog,
) -> Rows:
    """Missing-value markers to null, the profile's row filters, rows without a ticket number,
    exact duplicate rows — each removal counted in ``log``.

    ``filters`` holds ``(column, values kept, reason)``; values compare case-insensitively.
    """
    table = rows.table
    data = [c for c in table.column_names if c != rows.row_column]
    table = pa.table(
        {**{c: _as_text(table[c], missing) for c in data}, rows.row_column: table[rows.row_column]}
    )
    rows = Rows(table, rows.row_column, rows.ticket_column)
    for column, kept, reason in filters:
        codes, distinct = dictionary_codes(rows.table[column])
        values = [str(v) for v in distinct.to_pylist()]
        wanted = {k.casefold() for k in kept}
        chosen = np.array([v.casefold() in wanted for v in values] + [False], dtype=bool)
        keep = chosen[np.where(codes >= 0, codes, len(values))]
        log.add(
            "filtered_rows",
            f"rows whose {column!r} is not {' / '.join(kept)} (profile filter)",
            "removed",
            int((~keep).sum()),
            "rows",
            rows.examples(np.flatnonzero(~keep), column=column),
            reason,
        )
        rows = rows.keep(keep)
    if rows.ticket_column is not None:
        ticket = rows.ticket_column
        absent = np.asarray(pc.is_null(rows.table[ticket]).to_numpy(zero_copy_only=False), bool)
        log.add(
            "missing_ticket",
            "rows without a ticket number",
            "removed",
            int(absent.sum()),
            "rows",
            rows.examples(np.flatnonzero(absent), column=ticket),
            f"every row needs its ticket number in {ticket!r}",
        )
        rows = rows.keep(~absent)
    repeated = duplicate_rows(rows.table, data)
    log.add(
        "duplicate_rows",
        "rows repeated exactly, in every column read (the first copy is kept)",
        "removed",
        int(repeated.sum()),
        "rows",
        rows.examples(np.flatnonzero(repeated)),
        "the export holds these rows twice",
    )
    return rows.keep(~repeated)


def read_times(
    rows: Rows,
    columns: dict[str, str],
    *,
    formats: Sequence[str],
    timezone: str,
    offsets: Literal["honour", "ignore"],
    log: QualityLog,
) -> tuple[Rows, dict[str, np.ndarray]]:
    """Parse the time columns (``{field: column}``); rows with an unreadable value are removed.

    Returns the remaining rows and, per field, UTC microseconds (:data:`NAT` where missing).
    Mixed formats within a column and local times made ambiguous or impossible by a
    daylight-saving change are reported.
    """
    parsed: dict[str, ParsedTimes] = {}
    by_column: dict[str, ParsedTimes] = {}
    for field_name, column in columns.items():
        if column not in by_column:
            by_column[column] = parse_instants(
                rows.table[column], formats, timezone, offsets=offsets
            )
        parsed[field_name] = by_column[column]
    unreadable = np.zeros(rows.table.num_rows, dtype=bool)
    examples: list[dict[str, Any]] = []
    for column, times in by_column.items():
        bad = np.flatnonzero(times.unreadable)
        examples.extend(rows.examples(bad[: MAX_EXAMPLES - len(examples)], column=column))
        unreadable |= times.unreadable
        counts = times.format_counts()
        if len(counts) > 1:
            detail = ", ".join(f"{fmt}: {n:,}" for fmt, n in counts.items())
            firsts = np.array(
                [
                    int(np.flatnonzero(times.format_index == i)[0])
                    for i, f in enumerate(times.formats)
                    if f in counts
                ]
            )
            log.add(
                "mixed_date_formats",
                f"{column!r} holds dates in more than one format ({detail})",
                "info",
                sum(counts.values()) - max(counts.values()),
                "values",
                rows.examples(
                    firsts,
                    column=column,
                    detail=[f"read as {times.formats[int(times.format_index[i])]}" for i in firsts],
                ),
                "each value was read by the first format that fits it; check that day-first "
                "and month-first dates are not mixed",
            )
        for flag, rule, title in (
            (
                times.ambiguous,
                "dst_ambiguous_times",
                "local times that occur twice when the clocks go back (read as the first)",
            ),
            (
                times.nonexistent,
                "dst_missing_times",
                "local times that do not exist when the clocks go forward (read as the jump)",
            ),
        ):
            found = np.flatnonzero(flag)
            log.add(
                rule,
                f"{column!r}: {title}",
                "info",
                found.size,
                "values",
                rows.examples(found, column=column),
                f"check the time zone ({timezone}); --timezone overrides it",
            )
    log.add(
        "unreadable_timestamps",
        "rows with a timestamp no date format reads",
        "removed",
        int(unreadable.sum()),
        "rows",
        examples,
        f"the profile reads {' or '.join(formats)}; pass --date-format if the export uses "
        "another format",
    )
    keep = ~unreadable
    return rows.keep(keep), {f: p.micros[keep] for f, p in parsed.items()}


def map_priorities(
    raw: pa.Array,
    priorities: Priorities,
    *,
    log: QualityLog,
    examples: Callable[[np.ndarray], list[dict[str, Any]]],
    has_column: bool,
) -> pa.Array:
    """Raw priority values → names, by the profile's ``priorities`` rules (once per distinct
    value). Unmapped values are kept as written and reported; missing ones get the default."""
    encoded = pc.dictionary_encode(raw)
    values = [str(v) for v in encoded.dictionary.to_pylist()]
    codes = np.asarray(
        pc.fill_null(encoded.indices.cast(pa.int64()), -1).to_numpy(zero_copy_only=False),
        dtype=np.int64,
    )
    names: list[str | None] = list(values)
    if priorities.maps_values and values:
        found = priorities.lookup(values)
        unknown_value = np.array([f is None for f in found], dtype=bool)
        names = [v if f is None else f for v, f in zip(values, found, strict=True)]
        unknown = (codes >= 0) & unknown_value[np.maximum(codes, 0)]
        if unknown.any():
            counts = np.bincount(codes[unknown], minlength=len(values))
            worst = np.argsort(-counts)[:MAX_EXAMPLES]
            log.add(
                "unknown_priorities",
                "tickets whose priority the profile does not map (kept as written)",
                "kept",
                int(unknown.sum()),
                "tickets",
                [
                    {"value": values[i], "detail": f"{int(counts[i]):,} tickets"}
                    for i in worst
                    if counts[i]
                ],
                "add the value to priorities.map in the profile, or map it in the review",
            )
    absent = codes < 0
    log.add(
        "missing_priorities",
        "tickets without a priority"
        + (f" (given {priorities.default!r})" if priorities.default else " (kept without one)"),
        "repaired" if priorities.default else "kept",
        int(absent.sum()),
        "tickets",
        examples(np.flatnonzero(absent)),
        ""
        if has_column
        else "the export has no priority column; the profile's "
        "priorities.default names one for every ticket",
    )
    lookup = pa.array([*names, priorities.default], pa.string())
    return lookup.take(pa.array(np.where(absent, len(names), codes)))
