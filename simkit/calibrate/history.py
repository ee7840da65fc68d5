"""A ticket history loaded from an export: the engine's tables plus what cleaning found.

:func:`load_history` reads a CSV / Parquet / XES export with a mapping profile, cleans it and
returns a :class:`History` whose ``tickets``, ``visits`` and ``pauses`` tables have exactly the
schemas the simulation writes (``replication = 0``), so one measurement path serves both.

Two layouts are understood: a *flat* export (one row per ticket) and an *event log* (one row
per update or activity). :mod:`simkit.calibrate.assemble` turns either into tickets, visits and
pauses; :mod:`simkit.calibrate.tables` makes the final checks and builds the tables.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from simkit.calibrate.assemble import _events, _flat
from simkit.calibrate.clean import Rows, clean_rows, read_times
from simkit.calibrate.columns import dictionary_codes
from simkit.calibrate.profiles import (
    TIME_FIELDS,
    Profile,
    load_profile,
    missing_column_problem,
    resolve_column,
    resolve_columns,
)
from simkit.calibrate.quality import QualityLog, QualityReport, QualityRule
from simkit.calibrate.readers import ROW_COLUMN, Export, check_column_types, open_export
from simkit.calibrate.tables import _tables
from simkit.calibrate.timestamps import NAT, excel_hint
from simkit.errors import InputError, Problem

__all__ = ["DEFAULT_MAX_BYTES", "History", "load_history"]

DEFAULT_MAX_BYTES = 2 * 1024**3
"""Largest decompressed export read by default (2 GiB)."""

MALFORMED_SHARE = 0.05
"""Above this share of malformed CSV rows the file is refused rather than cleaned."""


LATE_GAP_DAYS = 300
"""A time stamp this many days (or the longest quiet spell between openings, if longer) after
every other is taken for a typo — a year mistyped — when at most :data:`LATE_MAX` values lie
beyond the gap. A ticket of an export filtered by opening date that is updated months after
the others is no typo: 300 days keeps it clear of that."""
LATE_MAX = 5


def _export_time(
    times: dict[str, np.ndarray],
    kept: np.ndarray,
    opened: np.ndarray,
    log: QualityLog,
    examples: Callable[[np.ndarray, str], list[dict[str, Any]]],
    columns: dict[str, str],
) -> np.datetime64:
    """The export time: the latest time stamp of the rows of tickets kept (a ticket removed by
    cleaning does not move it), unless a few stamps lie far after every other — a mistyped year,
    say (2061 for 2016) — which are reported, and the export time taken before them.

    ``times`` holds each time field's UTC microseconds per row (:data:`NAT` where missing),
    ``kept`` the rows whose ticket was kept, ``opened`` the kept tickets' opening times."""
    fields = [(f, v[kept]) for f, v in times.items()]
    every = np.sort(np.concatenate([v[v != NAT] for _, v in fields] or [np.zeros(0, np.int64)]))
    if every.size == 0:
        return np.datetime64(0, "us")
    gaps = np.diff(every)
    day = 86_400_000_000
    big = np.flatnonzero(gaps > LATE_GAP_DAYS * day)
    if big.size:
        j = int(big[-1])
        before = np.sort(opened[opened <= every[j]])
        quiet = int(np.diff(before).max()) if before.size > 1 else 0
        late = every[j + 1 :]
        if late.size <= LATE_MAX and gaps[j] > quiet:
            found: list[dict[str, Any]] = []
            for field, values in times.items():
                rows = np.flatnonzero(kept & (values != NAT) & (values > every[j]))
                found.extend(examples(rows, columns[field]))
            log.add(
                "late_timestamps",
                f"time stamps {gaps[j] / day:,.0f} days after every other (the export time is "
                "taken before them)",
                "kept",
                int(late.size),
                "values",
                found,
                "check these times: a mistyped year is the usual cause",
            )
            return np.datetime64(int(every[j]), "us")
    return np.datetime64(int(every[-1]), "us")


@dataclass(frozen=True, eq=False)
class History:
    """One organisation's ticket history in the engine's table schemas.

    Attributes
    ----------
    tickets, visits, pauses
        Arrow tables in the engine's ``TICKETS_SCHEMA`` / ``VISITS_SCHEMA`` / ``PAUSES_SCHEMA``
        (``replication = 0``), tickets numbered in opening order. ``tickets`` adds
        ``source_id`` (the export's ticket number) and the source columns the profile keeps
        (their last value per ticket).
    observed_until
        The export time: the latest timestamp seen, as ``datetime64[us]`` (UTC).
    timezone
        The IANA time zone local clock times in the export were read in.
    source
        File name of the export.
    profile
        Name of the mapping profile used.
    quality
        What cleaning found and did: each rule with a count and examples.
    """

    tickets: pa.Table
    visits: pa.Table
    pauses: pa.Table
    observed_until: np.datetime64
    timezone: str
    source: str
    profile: str
    quality: QualityReport

    @property
    def first_opened(self) -> np.datetime64:
        """The earliest ``opened_at`` (UTC); ``observed_until`` for a history without tickets."""
        if self.tickets.num_rows == 0:
            return self.observed_until
        first = pc.min(self.tickets["opened_at"]).cast(pa.int64()).as_py()
        return np.datetime64(int(first), "us")


def load_history(
    path: str | Path,
    profile: str | Profile,
    *,
    timezone: str | None = None,
    date_format: str | None = None,
    max_bytes: int = DEFAULT_MAX_BYTES,
    service: str | None = None,
) -> History:
    """Read, map and clean a ticket export.

    Parameters
    ----------
    path
        CSV (any delimiter, UTF-8 / UTF-16 / Windows-1252, optionally gzip / xz / bzip2),
        Parquet or XES (optionally compressed the same ways).
    profile
        A bundled profile name (``servicenow``, ``jira``, ``bpic2013``, ``bpic2014``,
        ``helpdesk``, ``generic``), a path to a profile YAML, or a :class:`Profile`.
    timezone, date_format
        Override the profile's time zone / date format (a strptime format or ``iso``).
    max_bytes
        Refuse an export larger than this once decompressed.
    service
        Service name for tickets without a service value (default: the profile's).

    Returns
    -------
    History

    Raises
    ------
    simkit.errors.InputError
        When the file cannot be read or does not fit the profile: names the file, the row or
        line, the column and the fix.
    """
    chosen = profile if isinstance(profile, Profile) else load_profile(profile)
    if timezone is not None or date_format is not None or service is not None:
        chosen = chosen.with_overrides(timezone=timezone, date_format=date_format, service=service)
    return _Load(Path(path), chosen, max_bytes).run()


class _Load:
    """One load: read, clean row by row, assemble tickets, final checks, tables."""

    def __init__(self, path: Path, profile: Profile, max_bytes: int) -> None:
        self.path = path
        self.file = str(path)
        self.profile = profile
        self.max_bytes = max_bytes
        self.log = QualityLog()
        self.columns: dict[str, str] = {}
        self.available: list[str] = []
        self.kept: list[str] = []

    def run(self) -> History:
        table, rows_read = self._read()
        filters = [(c, rule.keep, rule.reason) for c, rule in self.filters]
        rows = Rows(table, ROW_COLUMN, self.columns["ticket"])
        rows = clean_rows(rows, missing=self.profile.missing, filters=filters, log=self.log)
        time_columns = {f: self.columns[f] for f in TIME_FIELDS if f in self.columns}
        rows, times = read_times(
            rows,
            time_columns,
            formats=self.profile.date_format,
            timezone=self.profile.timezone,
            offsets=self.profile.offsets,
            log=self.log,
            file=self.file,
        )
        layout = self._layout(rows.table)
        rows, times = self._require_time(rows, times, layout)
        assembled = _flat(self, rows, times) if layout == "flat" else _events(self, rows, times)
        tickets, visits, pauses = _tables(self, assembled)
        ticket_of_row = pc.cast(rows.table[self.columns["ticket"]], pa.string())
        # The rows the tickets were made of: of a ticket kept, and not set aside while they
        # were assembled (a flat export's earlier rows repeating a ticket number).
        kept = np.asarray(
            pc.and_(
                pc.is_in(ticket_of_row, value_set=pc.cast(tickets["source_id"], pa.string())),
                pc.is_in(rows.table[ROW_COLUMN], value_set=assembled.rows.table[ROW_COLUMN]),
            )
            .fill_null(False)
            .to_numpy(zero_copy_only=False),
            dtype=bool,
        )
        opened = pc.cast(tickets["opened_at"], pa.int64()).to_numpy(zero_copy_only=False)
        observed_until = _export_time(
            times,
            kept,
            np.asarray(opened, dtype=np.int64),
            self.log,
            lambda found, column: rows.examples(found, column=column),
            time_columns,
        )
        report = self.log.report(
            source=self.path.name,
            profile=self.profile.name,
            rows_read=rows_read,
            tickets=tickets.num_rows,
        )
        return History(
            tickets=tickets,
            visits=visits,
            pauses=pauses,
            observed_until=observed_until,
            timezone=self.profile.timezone,
            source=self.path.name,
            profile=self.profile.name,
            quality=report,
        )

    # -- reading --------------------------------------------------------------------------
    def _read(self) -> tuple[pa.Table, int]:
        profile = self.profile
        export = open_export(
            self.path,
            max_bytes=self.max_bytes,
            delimiter=profile.csv.delimiter,
            encoding=profile.csv.encoding,
        )
        table = export.read(None) if export.format == "xes" else None
        if table is not None and table.num_rows == 0:
            raise self._no_xes_events(export)
        available = (
            [c for c in table.column_names if c != ROW_COLUMN]
            if table is not None
            else list(export.columns or ())
        )
        self.available = available
        self.columns = resolve_columns(profile, available)
        problems: list[Problem] = []
        if "ticket" not in self.columns:
            problems.append(
                missing_column_problem(
                    "ticket",
                    profile.columns.ticket,
                    available,
                    file=self.file,
                    delimiter=export.delimiter if export.format == "csv" else None,
                )
            )
        for named in sorted(profile.named_columns - set(self.columns)):
            if named != "ticket":  # reported above
                problems.append(
                    missing_column_problem(
                        named,
                        getattr(profile.columns, named),
                        available,
                        file=self.file,
                        delimiter=export.delimiter if export.format == "csv" else None,
                        taken=list(self.columns.values()),
                    )
                )
        self.filters = []
        for rule in profile.filter:
            found = resolve_column(rule.column, available)
            if found is None:
                problems.append(
                    missing_column_problem(
                        "filter", rule.column, available, file=self.file, delimiter=None
                    )
                )
            else:
                self.filters.append((found, rule))
        if problems and export.misnamed_format:
            problems.insert(0, self._misnamed_format_problem(export))
        if problems and export.misnamed:
            problems.insert(0, self._misnamed_problem(export))
        if problems:
            raise InputError(problems)
        self.kept = [c for k in profile.keep if (c := resolve_column(k, available)) is not None]
        absent = [k for k in profile.keep if resolve_column(k, available) is None]
        if absent:
            self.log.note(f"columns the profile keeps but the export lacks: {', '.join(absent)}")
        wanted = list(
            dict.fromkeys([*self.columns.values(), *(c for c, _ in self.filters), *self.kept])
        )
        table = export.read(wanted) if table is None else table.select([*wanted, ROW_COLUMN])
        roles: dict[str, list[str]] = {}
        for field_name, column in self.columns.items():
            roles.setdefault(column, []).append(field_name)
        for column, _ in self.filters:
            roles.setdefault(column, []).append("filter")
        for column in self.kept:
            roles.setdefault(column, []).append("kept")
        check_column_types(
            table,
            file=self.file,
            fields={c: ", ".join(dict.fromkeys(r)) for c, r in roles.items()},
            times=[c for f, c in self.columns.items() if f in TIME_FIELDS],
        )
        self._check_ticket_ids(table)
        self._describe(export)
        return table, self._malformed(export, table.num_rows)

    def _check_ticket_ids(self, table: pa.Table) -> None:
        """Refuse a ticket column of fractional numbers (``1.5``): they are measurements, not
        ticket numbers, and rows sharing one would be merged into one ticket."""
        column = self.columns["ticket"]
        values = table[column]
        if not pa.types.is_floating(values.type) or values.null_count == len(values):
            return
        numbers = values.to_numpy(zero_copy_only=False)
        fractional = np.flatnonzero(np.isfinite(numbers) & (numbers != np.round(numbers)))
        if fractional.size == 0:
            return
        rows = table[ROW_COLUMN].to_numpy(zero_copy_only=False)
        examples = ", ".join(f"{numbers[i]:g} (row {rows[i]})" for i in fractional[:3])
        raise InputError.single(
            f"column {column!r} (ticket) holds fractional numbers in {fractional.size:,} of "
            f"{len(values):,} rows, e.g. {examples}: they are not ticket numbers, and rows "
            "sharing one would be merged into one ticket",
            f"map the ticket field to the export's ticket number column, or write {column!r} "
            "as text or whole numbers",
            file=self.file,
            path="ticket",
        )

    def _no_xes_events(self, export: Export) -> InputError:
        """An XES log without one event inside a trace: nothing names a ticket, so say that
        rather than list the (no) columns it has."""
        if export.orphan_events:
            what = (
                f"its {export.orphan_events:,} event(s) lie directly under <log>, outside any "
                "<trace>, so none names a ticket"
            )
        elif export.traces:
            what = f"its {export.traces:,} trace(s) hold no <event>"
        else:
            what = "it has no <trace> and no <event>"
        return InputError.single(
            f"the XES event log holds no events: {what}",
            "export the event log again with the tickets (traces) and their events of the "
            "period you want",
            file=self.file,
        )

    def _misnamed_problem(self, export: Export) -> Problem:
        """Why a file named ``.gz`` (``.xz``, ``.bz2``) whose content is not compressed so
        probably lacks its columns: it is not the export, or a damaged copy of it."""
        return Problem(
            self.file,
            None,
            "",
            f"{export.notes[0] if export.notes else 'the file is not compressed as named'}; "
            f"read that way it has no column the profile needs, so it is probably not the "
            f"{export.misnamed} export (or a damaged copy)",
            "download or copy the export again and check that it unpacks "
            f"({'gunzip' if export.misnamed == 'gzip' else export.misnamed} -t); if it is a "
            "plain CSV export, remove the compression suffix from its name",
        )

    def _misnamed_format_problem(self, export: Export) -> Problem:
        """Why a file named ``.parquet`` (``.xes``) whose content is another format probably
        lacks its columns: it is not the export, or a damaged copy of it."""
        claimed = {"parquet": "Parquet", "xes": "XES"}.get(export.misnamed_format or "", "")
        note = next((n for n in export.notes if f"is not {claimed} (" in n), "")
        return Problem(
            self.file,
            None,
            "",
            f"{note or f'the file is not {claimed} as named'}; read that way it has no column "
            f"the profile needs, so it is probably not the {claimed} export (or a damaged copy)",
            f"upload or pass the {claimed} export itself (download or copy it again); if the "
            f"file is a CSV export, name it .csv",
        )

    def _describe(self, export: Export) -> None:
        for note in export.notes:
            self.log.note(note)
        packed = f", {export.compression}" if export.compression else ""
        if export.format == "csv":
            self.log.note(
                f"read as CSV ({export.encoding}, delimiter {export.delimiter!r}{packed})"
            )
        else:
            self.log.note(f"read as {export.format.upper()}{packed.replace(',', ' —')}")

    def _malformed(self, export: Export, good: int) -> int:
        """Report (or refuse) rows with the wrong number of fields; the number of rows read.

        The examples give each row's data row number (``row``), the scheme of every rule; the
        refusal names the line of the file, where an editor finds it. A last row cut short is
        told apart: the file looks truncated, not mis-quoted."""
        self.log.add(
            "events_outside_traces",
            "XES events outside any trace (they name no ticket)",
            "removed",
            export.orphan_events,
            "rows",
        )
        malformed = export.malformed_count
        total = good + malformed + export.orphan_events
        if total == 0:
            raise InputError.single(
                "the export has a header but no rows"
                if export.format == "csv"
                else "the export has no events",
                "export again with the tickets of the period you want",
                file=self.file,
            )
        if not malformed:
            return total
        first = export.malformed[0]
        if malformed > MALFORMED_SHARE * total:
            raise InputError.single(
                f"{malformed:,} of {total:,} rows have the wrong number of fields (line "
                f"{first.line}: {first.actual} fields where the header has {first.expected})",
                f"check the delimiter (read as {export.delimiter!r}) and the quoting; pass "
                "--delimiter if it is wrong",
                file=self.file,
                line=first.line,
            )
        cut = export.cut_short
        fixes = []
        if cut is not None:
            where = f" (line {cut.line})" if cut.line is not None else ""
            fixes.append(
                f"the last line of the file{where} is cut short, {cut.actual} of "
                f"{cut.expected} fields: the file looks truncated — export or copy it again "
                "in full"
            )
        if cut is None or malformed > 1:
            fixes.append(
                ("the other rows: " if fixes else "")
                + "usually a delimiter inside an unquoted value: fix the export's quoting"
            )
        self.log.add(
            "malformed_rows",
            "rows with the wrong number of fields (skipped)",
            "removed",
            malformed,
            "rows",
            [
                {
                    "row": m.row,
                    "value": m.text[:120],
                    "detail": f"{m.actual} fields where the header has {m.expected}"
                    + (" (the last line, cut short)" if m.last and m.actual < m.expected else ""),
                }
                for m in export.malformed
            ],
            "; ".join(fixes),
        )
        return total

    # -- layout and required times --------------------------------------------------------
    def _layout(self, table: pa.Table) -> str:
        layout = self.profile.layout
        if layout == "auto":
            codes, _ = dictionary_codes(table[self.columns["ticket"]])
            repeats = np.count_nonzero(np.bincount(codes[codes >= 0])) < codes.size
            evented = "sequence" in self.columns or "opened_at" not in self.columns
            layout = "events" if repeats and evented else "flat"
        self.log.note(
            "layout: "
            + ("one row per ticket" if layout == "flat" else "event log (one row per update)")
        )
        return layout

    def _require_time(
        self, rows: Rows, times: dict[str, np.ndarray], layout: str
    ) -> tuple[Rows, dict[str, np.ndarray]]:
        required = "opened_at" if layout == "flat" else "event_at"
        if required not in self.columns:
            ref = getattr(self.profile.columns, required)
            what = "a flat export" if layout == "flat" else "an event log"
            raise InputError(
                [
                    missing_column_problem(
                        required,
                        ref,
                        self.available,
                        file=self.file,
                        delimiter=None,
                        taken=list(self.columns.values()),
                    )
                    if ref is not None
                    else Problem(
                        self.file,
                        None,
                        required,
                        f"the profile names no {required} column, which {what} needs",
                        f"add columns.{required} to the profile or pass --column {required}=NAME",
                    )
                ]
            )
        missing = times[required] == NAT
        self.log.add(
            "missing_timestamps",
            f"rows without {self.columns[required]!r} ({required})",
            "removed",
            int(missing.sum()),
            "rows",
            rows.examples(np.flatnonzero(missing), column=self.columns[required]),
            "every row needs this time",
        )
        rows = rows.keep(~missing)
        times = {f: v[~missing] for f, v in times.items()}
        if rows.table.num_rows == 0:
            raise self._no_usable_rows()
        return rows, times

    def _no_usable_rows(self) -> InputError:
        """The error when cleaning left no row. When unreadable times are among the causes it
        names their column, shows example values and says how to give the date format — and
        recognises Excel serial day numbers, which no date format reads."""
        removed = "cleaning removed every row — " + "; ".join(
            f"{r.title}: {r.count:,}" for r in self.log.rules
        )
        unreadable = self._rule("unreadable_timestamps")
        examples = unreadable.examples if unreadable is not None else ()
        columns = list(dict.fromkeys(str(e["column"]) for e in examples if e.get("column")))
        if unreadable is None or not columns:
            return InputError.single(
                f"no usable rows: {removed}",
                "check the profile's columns, date format and time zone against the export",
                file=self.file,
            )
        column = columns[0]
        fields = [f for f, c in self.columns.items() if c == column and f in TIME_FIELDS]
        values = [str(e["value"]) for e in examples if e.get("column") == column and "value" in e]
        shown = ", ".join(repr(v) for v in values[:3])
        message = (
            f"no usable rows: no date format reads the column {column!r}"
            + (f" ({', '.join(fields)})" if fields and fields != [column] else "")
            + f", e.g. {shown}"
            + (f" (nor {', '.join(repr(c) for c in columns[1:])})" if len(columns) > 1 else "")
        )
        fix = unreadable.fix
        hint = excel_hint(values, column)
        if hint is not None:
            message += hint[0]
            fix = f"{hint[1]}; {fix}"
        return InputError.single(f"{message} — {removed}", fix, file=self.file, path=column)

    def _rule(self, name: str) -> QualityRule | None:
        """The findings of rule ``name`` so far (``None`` when it found nothing)."""
        return next((r for r in self.log.rules if r.rule == name), None)

    # -- helpers for the assemblers -------------------------------------------------------
    def codes(self, table: pa.Table, field_name: str) -> tuple[np.ndarray, list[str]] | None:
        """Each row's code and the distinct values of a (small-vocabulary) field."""
        column = self.columns.get(field_name)
        if column is None:
            return None
        codes, values = dictionary_codes(table[column])
        return codes, [str(v) for v in values.to_pylist()]

    def text_at(self, table: pa.Table, field_name: str, rows: np.ndarray) -> pa.Array:
        """Field values at row positions (null where ``rows < 0`` or unmapped)."""
        column = self.columns.get(field_name)
        if column is None:
            return pa.nulls(rows.size, pa.string())
        index = pa.array(np.maximum(rows, 0), mask=rows < 0)
        taken = table[column].take(index).combine_chunks()
        return taken if pa.types.is_string(taken.type) else taken.cast(pa.string())

    def numbers(self, table: pa.Table, field_name: str) -> np.ndarray:
        """A numeric field as float64 (NaN where missing or not a number)."""
        column = self.columns.get(field_name)
        if column is None:
            return np.full(table.num_rows, np.nan)
        codes, text = dictionary_codes(table[column])
        numeric = pc.match_substring_regex(text, r"^\s*[-+]?\d+(\.\d*)?\s*$")
        parsed = pc.if_else(numeric, text, pa.scalar(None, pa.string())).cast(pa.float64())
        by_value = np.asarray(pc.fill_null(parsed, np.nan).to_numpy(zero_copy_only=False), float)
        by_value = np.r_[by_value, np.nan]
        found: np.ndarray = by_value[np.where(codes >= 0, codes, len(text))]
        return found
