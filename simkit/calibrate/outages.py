"""Outage history: a file of service outages (start, end, planned …) as the ``outages`` table, so a
service review shows real availability per period next to the target, measured exactly as
simulated availability is (:mod:`simkit.measure.availability`).

The file is CSV (any delimiter, compressed or not) or Parquet with at least ``start``; optional
columns ``end`` (empty: still down), ``planned`` (true/false, yes/no, 1/0), ``service``,
``component`` and ``cause``. Other column names are given with ``columns={"start": "Began", …}``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from simkit.calibrate.clean import NAT, QualityRule, parse_instants
from simkit.calibrate.history import DEFAULT_MAX_BYTES
from simkit.calibrate.readers import check_column_types, open_export
from simkit.calibrate.timestamps import format_pattern
from simkit.engine.availability import OUTAGES_SCHEMA
from simkit.errors import InputError

__all__ = ["OutageHistory", "load_outages"]

FIELDS = ("start", "end", "planned", "service", "component", "cause")
DEFAULT_FORMATS = ("iso", "%Y-%m-%d %H:%M", "%d/%m/%Y %H:%M", "%m/%d/%Y %H:%M")
UNNAMED = "recorded"
"""The component (and cause) of an outage whose file does not name one."""
_TRUE = {"true", "yes", "y", "1", "planned", "t"}
_FALSE = {"false", "no", "n", "0", "unplanned", "f", ""}


@dataclass(frozen=True, eq=False)
class OutageHistory:
    """Outages read from a file: the ``outages`` table (replication 0) and what was set aside."""

    outages: pa.Table
    source: str
    rules: tuple[QualityRule, ...]

    def as_dict(self) -> dict[str, object]:
        return {
            "source": self.source,
            "outages": self.outages.num_rows,
            "rules": [rule.as_dict() for rule in self.rules],
        }


def _examples(
    rows: np.ndarray, values: Sequence[object], column: str
) -> tuple[dict[str, object], ...]:
    return tuple(
        {"row": int(r) + 1, "column": column, "value": str(values[int(r)])} for r in rows[:5]
    )


def load_outages(
    path: str | Path,
    *,
    timezone: str,
    date_formats: Sequence[str] = DEFAULT_FORMATS,
    service: str | None = None,
    columns: Mapping[str, str] | None = None,
    max_bytes: int = DEFAULT_MAX_BYTES,
) -> OutageHistory:
    """Read an outage history.

    Parameters
    ----------
    path
        The file.
    timezone
        Zone of clock times written without an offset.
    date_formats
        strptime formats (or ``iso``) tried in order.
    service
        The service every row belongs to when the file has no ``service`` column.
    columns
        The file's column name for each field, where it differs (``{"start": "Began"}``).

    Raises
    ------
    InputError
        An unreadable file, a missing ``start`` column, or no service to assign rows to.
    """
    for fmt in date_formats:
        try:
            format_pattern(fmt)
        except ValueError as error:
            raise InputError.single(
                str(error),
                "give a strptime format such as %d/%m/%Y %H:%M (codes %Y %y %m %d %H %I %M %S "
                "%f %p %b %B %z), or iso",
                file=str(path),
                path="date_format",
            ) from None
    export = open_export(path, max_bytes=max_bytes)
    try:
        return _read_outages(export, timezone, date_formats, service, columns)
    except (pa.ArrowInvalid, UnicodeDecodeError) as error:
        raise InputError.single(
            f"cannot read the outage file: {error}",
            "save it again as UTF-8 CSV (or Parquet) with columns start, end and optionally "
            "planned, service, component",
            file=export.name,
        ) from None


def _read_outages(
    export: Any,
    timezone: str,
    date_formats: Sequence[str],
    service: str | None,
    columns: Mapping[str, str] | None,
) -> OutageHistory:
    names = {field: (columns or {}).get(field, field) for field in FIELDS}
    present = set(export.columns or ())
    if export.format != "xes" and names["start"] not in present:
        raise InputError.single(
            f"the outage file has no column {names['start']!r}",
            f"name the start column (columns: {', '.join(sorted(present)) or 'none'})",
            file=export.name,
            path=names["start"],
        )
    wanted = [n for n in names.values() if n in present]
    table = export.read(wanted)
    check_column_types(
        table,
        file=export.name,
        fields={column: field for field, column in names.items()},
        times=[names["start"], names["end"]],
    )
    n = table.num_rows
    rules: list[QualityRule] = []

    def times(field: str, counted: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The field's instants, and which rows hold a value no format read (reported where
        ``counted``: a row already removed for another field is reported once)."""
        if names[field] not in table.column_names:
            return np.full(n, NAT, dtype=np.int64), np.zeros(n, dtype=bool)
        column = table[names[field]]
        if pa.types.is_string(column.type) or pa.types.is_large_string(column.type):
            column = pc.if_else(pc.equal(pc.utf8_trim_whitespace(column), ""), None, column)
        parsed = parse_instants(column, list(date_formats), timezone)
        bad = np.flatnonzero(parsed.unreadable & counted)
        values = table[names[field]].to_pylist()
        if bad.size:
            rules.append(
                QualityRule(
                    rule=f"unreadable_{field}",
                    title=f"{field} times no format could read",
                    action="removed",
                    count=int(bad.size),
                    unit="rows",
                    examples=_examples(bad, values, names[field]),
                    fix="give the date format of the file (--outage-date-format)",
                )
            )
        counts = parsed.format_counts()
        if len(counts) > 1:  # no one format reads them all (parse_instants prefers one that does)
            firsts = np.array(
                [
                    int(np.flatnonzero(parsed.format_index == i)[0])
                    for i, f in enumerate(parsed.formats)
                    if f in counts
                ]
            )
            rules.append(
                QualityRule(
                    rule=f"mixed_formats_{field}",
                    title=f"{field} times in more than one format ("
                    + ", ".join(f"{fmt}: {k:,}" for fmt, k in counts.items())
                    + ")",
                    action="info",
                    count=sum(counts.values()) - max(counts.values()),
                    unit="rows",
                    examples=_examples(firsts, values, names[field]),
                    fix="each value was read by the first format that fits it; check that "
                    "day-first and month-first dates are not mixed, or give the date format",
                )
            )
        return np.asarray(parsed.micros, dtype=np.int64), np.asarray(parsed.unreadable, bool)

    start, unreadable_start = times("start", np.ones(n, dtype=bool))
    end, unreadable_end = times("end", start != NAT)
    if names["service"] in table.column_names:
        services = pc.fill_null(table[names["service"]].cast(pa.string()), service or "")
    elif service is not None:
        services = pa.array([service] * n, pa.string())
    else:
        raise InputError.single(
            "the outage file has no service column",
            "add a service column or name the service (--outage-service NAME; service= in Python)",
            file=export.name,
            path=names["service"],
        )

    def text(field: str, default: str) -> pa.Array:
        if names[field] in table.column_names:
            return pc.fill_null(table[names[field]].cast(pa.string()), default).combine_chunks()
        return pa.array([default] * n, pa.string())

    planned_text = [
        str(v).strip().lower() if v is not None else "" for v in text("planned", "").to_pylist()
    ]
    unknown = np.flatnonzero([v not in _TRUE and v not in _FALSE for v in planned_text])
    if unknown.size:
        rules.append(
            QualityRule(
                rule="unknown_planned",
                title="planned values that are neither true nor false",
                action="repaired",
                count=int(unknown.size),
                unit="rows",
                examples=_examples(unknown, planned_text, names["planned"]),
                fix="write true/false (read as unplanned)",
            )
        )
    planned = np.array([v in _TRUE for v in planned_text], dtype=bool)

    missing_start = (start == NAT) & ~unreadable_start
    # An end written but unreadable is no reason to think the service still down: the row is
    # removed (reported above), not kept as an outage running to the export time.
    unreadable_end &= start != NAT
    backwards = (start != NAT) & (end != NAT) & (end < start)
    if missing_start.any():
        rows = np.flatnonzero(missing_start)
        rules.append(
            QualityRule(
                rule="missing_start",
                title="outages without a start",
                action="removed",
                count=int(rows.size),
                unit="rows",
                examples=_examples(rows, table[names["start"]].to_pylist(), names["start"]),
                fix="fill in the start of each outage",
            )
        )
    if backwards.any():
        rows = np.flatnonzero(backwards)
        rules.append(
            QualityRule(
                rule="negative_duration",
                title="outages that end before they start",
                action="removed",
                count=int(rows.size),
                unit="rows",
                examples=_examples(rows, table[names["end"]].to_pylist(), names["end"]),
                fix="check the start and end of these outages",
            )
        )
    keep = (start != NAT) & ~backwards & ~unreadable_end
    still_down = keep & (end == NAT)
    if still_down.any():
        rules.append(
            QualityRule(
                rule="still_down",
                title="outages without an end (still down when exported)",
                action="kept",
                count=int(still_down.sum()),
                unit="rows",
                examples=(),
                fix="",
            )
        )
    ts = pa.timestamp("us", tz="UTC")
    outages = pa.table(
        {
            "service": pc.filter(services, pa.array(keep)),
            "component": text("component", UNNAMED).filter(pa.array(keep)),
            "start": pa.array(start[keep], ts),
            "end": pa.array(end[keep], ts, mask=(end[keep] == NAT)),
            "planned": pa.array(planned[keep]),
            "cause": text("cause", "recorded").filter(pa.array(keep)),
            "replication": pa.array(np.zeros(int(keep.sum()), np.int32)),
        },
        schema=OUTAGES_SCHEMA,
    )
    return OutageHistory(outages=outages, source=export.name, rules=tuple(rules))
