"""Cleaning a ticket export: the rules that remove, repair or keep rows and values.

Nothing is dropped silently: every row or ticket removed, every value repaired and every oddity
kept is counted under a named rule with up to five examples (row number, ticket, column, value).
Everything is vectorised with ``pyarrow.compute`` and ``numpy``.

The report is :mod:`simkit.calibrate.quality`, the column helpers are
:mod:`simkit.calibrate.columns` and timestamps are read by
:func:`simkit.calibrate.timestamps.parse_instants`; their names are importable from here too.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from simkit.calibrate.columns import dictionary_codes, duplicate_rows, encoded, strip_missing
from simkit.calibrate.quality import (
    MAX_EXAMPLES,
    QualityLog,
    QualityReport,
    QualityRule,
    examples_at,
)
from simkit.calibrate.timestamps import (
    FIRST_YEAR,
    ISO,
    LAST_YEAR,
    NAT,
    ParsedTimes,
    excel_hint,
    format_pattern,
    parse_instants,
)
from simkit.errors import InputError

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
    file: str | None = None,
) -> tuple[Rows, dict[str, np.ndarray]]:
    """Parse the time columns (``{field: column}``); rows with an unreadable value are removed.

    Returns the remaining rows and, per field, UTC microseconds (:data:`NAT` where missing).
    Mixed formats within a column and local times made ambiguous or impossible by a
    daylight-saving change are reported.

    Raises
    ------
    InputError
        When no format reads most of a time column's values (at least 10 of them): the column
        mapped is not a time, or the dates are written in a format not given — removing those
        rows would leave a fit of what little remains.
    """
    parsed: dict[str, ParsedTimes] = {}
    by_column: dict[str, ParsedTimes] = {}
    for field_name, column in columns.items():
        if column not in by_column:
            by_column[column] = parse_instants(
                rows.table[column], formats, timezone, offsets=offsets
            )
        parsed[field_name] = by_column[column]
    for column, times in by_column.items():
        _mostly_readable(rows, column, times, columns, formats, file)
    n = rows.table.num_rows
    unreadable = np.zeros(n, dtype=bool)
    # Unreadable for a year outside those read, in some column, and readable otherwise in
    # every column: a mistyped year, said so (a row also unreadable otherwise is counted once,
    # as unreadable).
    years_only = np.zeros(n, dtype=bool)
    for times in by_column.values():
        unreadable |= times.unreadable
        if times.year_out_of_range is not None:
            years_only |= times.year_out_of_range
    years_only &= ~_unreadable_otherwise(by_column, n)
    examples: list[dict[str, Any]] = []
    year_examples: list[dict[str, Any]] = []
    for column, times in by_column.items():
        bad = np.flatnonzero(times.unreadable & ~years_only)
        examples.extend(rows.examples(bad[: MAX_EXAMPLES - len(examples)], column=column))
        typo = np.flatnonzero(times.unreadable & years_only)
        year_examples.extend(
            rows.examples(typo[: MAX_EXAMPLES - len(year_examples)], column=column)
        )
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
        if times.with_offset is not None:
            # a column where some values write their UTC offset and others do not: those are
            # read in the profile's time zone, which may not be what the export meant
            local = np.flatnonzero((times.format_index >= 0) & ~times.with_offset)
            log.add(
                "mixed_offsets",
                f"{column!r}: values without a UTC offset (read in {timezone}) beside "
                f"{int(times.with_offset.sum()):,} with one",
                "info",
                local.size,
                "values",
                rows.examples(local, column=column),
                f"check that the values without an offset are clock times in {timezone} "
                "(--timezone sets the zone)",
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
        "timestamps_out_of_range",
        f"rows with a date outside the years {FIRST_YEAR}–{LAST_YEAR} (a mistyped year?)",
        "removed",
        int(years_only.sum()),
        "rows",
        year_examples,
        "check these dates: a mistyped year (2999 for 2019) is the usual cause; correct them "
        "in the export to keep the rows",
    )
    log.add(
        "unreadable_timestamps",
        "rows with a timestamp no date format reads",
        "removed",
        int((unreadable & ~years_only).sum()),
        "rows",
        examples,
        f"the profile reads {' or '.join(formats)}; pass --date-format if the export uses "
        "another format",
    )
    keep = ~unreadable
    return rows.keep(keep), {f: p.micros[keep] for f, p in parsed.items()}


def _unreadable_otherwise(by_column: dict[str, ParsedTimes], n: int) -> np.ndarray:
    """Rows with a value no format reads for a reason other than its year, in any column."""
    other = np.zeros(n, dtype=bool)
    for times in by_column.values():
        years = times.year_out_of_range
        other |= times.unreadable if years is None else times.unreadable & ~years
    return other


def _mostly_readable(
    rows: Rows,
    column: str,
    times: ParsedTimes,
    columns: dict[str, str],
    formats: Sequence[str],
    file: str | None,
) -> None:
    """Refuse a time column whose values mostly no format reads (see :func:`read_times`)."""
    bad = int(times.unreadable.sum())
    present = int(rows.table.num_rows - rows.table[column].null_count)
    if bad < 10 or 2 * bad <= present:
        return
    fields = ", ".join(f for f, c in columns.items() if c == column)
    found = rows.examples(np.flatnonzero(times.unreadable)[:3], column=column)
    values = [str(e["value"]) for e in found if "value" in e]
    message = (
        f"no date format reads {bad:,} of the {present:,} values of the column {column!r} "
        f"(read as {fields}), e.g. {', '.join(repr(v) for v in values)}"
    )
    fix = (
        f"map {fields.split(', ')[0]} to the column that holds those times (--column "
        f"{fields.split(', ')[0]}=NAME, or its box on the Calibrate page), or give the date "
        f"format with --date-format (now {' or '.join(formats)})"
    )
    unreadable = rows.table[column].filter(pa.array(times.unreadable))
    common = pc.value_counts(unreadable.cast(pa.string())).to_pylist()
    common.sort(key=lambda item: -int(item["counts"]))
    top = common[:1]
    if int(top[0]["counts"]) >= 0.8 * bad and _placeholder_like(str(top[0]["values"])):
        placeholders = ", ".join(f"{item['values']!r} ({int(item['counts']):,})" for item in top)
        message = (
            f"no date format reads {bad:,} of the {present:,} values of the column {column!r} "
            f"(read as {fields}): most are {placeholders} — a placeholder for 'no time'?"
        )
        fix = (
            "if so, add it to the mapping profile's missing: list (values read as empty; copy "
            "the profile's YAML from calibration/ and pass its path to --profile); otherwise " + fix
        )
        raise InputError.single(message, fix, file=file, path=column)
    hint = excel_hint(values, column)
    if hint is not None:
        message += hint[0]
        fix = hint[1]
    else:
        message += ": it does not hold times, or not in the formats given"
    raise InputError.single(message, fix, file=file, path=column)


_PLACEHOLDER_WORDS = {"none", "null", "nil", "n/a", "na", "tbd", "unknown", "empty", "missing"}


def _placeholder_like(value: str) -> bool:
    """A value that reads as 'no time': punctuation or zeros only (``-``, ``0000-00-00``), up to
    four characters, or a word such as ``N/A`` — not a state or a priority mapped by mistake."""
    text = value.strip()
    return (
        not text
        or len(text) <= 4
        or text.lower() in _PLACEHOLDER_WORDS
        or all(c in "0" or not c.isalnum() for c in text)
    )


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
