"""A ticket history loaded from an export: the engine's tables plus what cleaning found.

:func:`load_history` reads a CSV / Parquet / XES export with a mapping profile, cleans it and
returns a :class:`History` whose ``tickets``, ``visits`` and ``pauses`` tables have exactly the
schemas the simulation writes (``replication = 0``), so one measurement path serves both.

Two layouts are understood. A *flat* export has one row per ticket with its opening, response
and resolution times (and one visit, with its assignment group). An *event log* has one row per
update or activity; the rows of a ticket, in time order, are cut into runs — working with one
team, paused, resolved, cancelled — and the runs become visits (a stay with a team), pauses (the
SLA clock stopped; also the gap between a resolution and a reopening) and the resolution.
Everything is vectorised over rows: one sort, then numpy scans over run boundaries.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from simkit.calibrate.clean import (
    NAT,
    QualityLog,
    QualityReport,
    Rows,
    clean_rows,
    dictionary_codes,
    map_priorities,
    read_times,
)
from simkit.calibrate.profiles import (
    TIME_FIELDS,
    Profile,
    StateClass,
    load_profile,
    missing_column_problem,
    resolve_column,
    resolve_columns,
)
from simkit.calibrate.readers import ROW_COLUMN, Export, open_export
from simkit.engine._tables import PAUSES_SCHEMA, TICKETS_SCHEMA, VISITS_SCHEMA
from simkit.errors import InputError, Problem

__all__ = ["DEFAULT_MAX_BYTES", "History", "load_history"]

DEFAULT_MAX_BYTES = 2 * 1024**3
"""Largest decompressed export read by default (2 GiB)."""

MALFORMED_SHARE = 0.05
"""Above this share of malformed CSV rows the file is refused rather than cleaned."""

_INSTANT = pa.timestamp("us", tz="UTC")
_ACTIVE, _PAUSE, _DONE, _CANCEL, _NONE = 0, 1, 2, 3, 4
_OUTCOME_AFTER = np.array(["routed", "paused", "resolved", "abandoned", "open"], dtype=object)
_BIG = np.iinfo(np.int64).max


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
        CSV (any delimiter, UTF-8 / UTF-16 / Latin-1, optionally gzip / xz / bzip2), Parquet or
        XES (optionally compressed the same ways).
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


# -- the load ---------------------------------------------------------------------------------


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
        )
        seen = [v[v != NAT] for v in times.values()]
        latest = max((int(v.max()) for v in seen if v.size), default=None)
        layout = self._layout(rows.table)
        rows, times = self._require_time(rows, times, layout)
        assembled = _flat(self, rows, times) if layout == "flat" else _events(self, rows, times)
        tickets, visits, pauses = _tables(self, assembled)
        observed_until = np.datetime64(latest if latest is not None else 0, "us")
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
        self._describe(export)
        return table, self._malformed(export, table.num_rows)

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
        """Report (or refuse) rows with the wrong number of fields; the number of rows read."""
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
        self.log.add(
            "malformed_rows",
            "rows with the wrong number of fields (skipped)",
            "removed",
            malformed,
            "rows",
            [
                {
                    "row": m.line,
                    "value": m.text[:120],
                    "detail": f"{m.actual} fields where the header has {m.expected}",
                }
                for m in export.malformed
            ],
            "usually a delimiter inside an unquoted value: fix the export's quoting",
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
            raise InputError.single(
                "no usable rows: cleaning removed every row — "
                + "; ".join(f"{r.title}: {r.count:,}" for r in self.log.rules),
                "check the profile's columns, date format and time zone against the export",
                file=self.file,
            )
        return rows, times

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


# -- assembling -------------------------------------------------------------------------------


@dataclass
class _Assembled:
    """Tickets, visits and pauses before the final checks (instants as micros, NAT = null)."""

    rows: Rows
    example_row: np.ndarray
    """Per ticket, a row position in ``rows`` used for examples and kept columns."""
    source_id: pa.Array
    opened: np.ndarray
    response: np.ndarray
    resolved: np.ndarray
    reopened: np.ndarray
    abandoned: np.ndarray
    priority: pa.Array
    service: pa.Array
    customer: pa.Array
    visit_ticket: np.ndarray
    visit_team: pa.Array
    visit_supplier: np.ndarray
    visit_seq: np.ndarray
    visit_assigned: np.ndarray
    visit_started: np.ndarray
    visit_finished: np.ndarray
    visit_outcome: np.ndarray
    pause_ticket: np.ndarray
    pause_start: np.ndarray
    pause_end: np.ndarray
    pause_reason: pa.Array
    last_row: np.ndarray
    """Per ticket, its last row position (the source columns kept are read there)."""


def _segment_starts(keys: np.ndarray) -> np.ndarray:
    """First position of each run of equal ``keys``."""
    if keys.size == 0:
        return np.zeros(0, np.int64)
    return np.flatnonzero(np.r_[True, keys[1:] != keys[:-1]])


def _last_valid(valid: np.ndarray, starts: np.ndarray) -> np.ndarray:
    """Position of the last ``valid`` row of each segment (``-1`` if none)."""
    if valid.size == 0:
        return np.zeros(starts.size, np.int64)
    last: np.ndarray = np.maximum.reduceat(np.where(valid, np.arange(valid.size), -1), starts)
    return last


def _first_valid(valid: np.ndarray, starts: np.ndarray) -> np.ndarray:
    """Position of the first ``valid`` row of each segment (``-1`` if none)."""
    if valid.size == 0:
        return np.zeros(starts.size, np.int64)
    first = np.minimum.reduceat(np.where(valid, np.arange(valid.size), _BIG), starts)
    out: np.ndarray = np.where(first == _BIG, -1, first)
    return out


def _forward_fill(valid: np.ndarray, segment_start: np.ndarray) -> np.ndarray:
    """For each row, the position of the latest ``valid`` row at or before it within its
    segment (``-1`` if none); ``segment_start`` is each row's segment start."""
    latest = np.maximum.accumulate(np.where(valid, np.arange(valid.size), -1))
    out: np.ndarray = np.where(latest >= segment_start, latest, -1)
    return out


def _classes(load: _Load, table: pa.Table) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Each row's state class, state code and the distinct state names."""
    found = load.codes(table, "state")
    n = table.num_rows
    if found is None:
        return np.full(n, StateClass.WORK, np.int8), np.full(n, -1, np.int64), []
    codes, values = found
    by_value = load.profile.states.classify(values)
    classes = np.full(n, StateClass.WORK, np.int8)
    known = codes >= 0
    classes[known] = by_value[codes[known]]
    return classes, codes, values


def _teams(load: _Load, table: pa.Table) -> tuple[np.ndarray, list[str]]:
    """Team code per row (the unassigned name's code where missing) and the team names."""
    found = load.codes(table, "team")
    if found is None:
        return np.zeros(table.num_rows, np.int64), [load.profile.unassigned]
    codes, values = found
    names = [*values, load.profile.unassigned]
    return np.where(codes >= 0, codes, len(values)), names


def _events(load: _Load, rows: Rows, times: dict[str, np.ndarray]) -> _Assembled:
    """Tickets, visits and pauses from an event log (one row per update or activity)."""
    profile = load.profile
    case_codes, case_values = dictionary_codes(rows.table[load.columns["ticket"]])
    sequence = load.numbers(rows.table, "sequence")
    sort_keys: list[np.ndarray] = [np.arange(case_codes.size)]
    for key in reversed(profile.order_by):
        sort_keys.append(times["event_at"] if key == "event_at" else sequence)
    sort_keys.append(case_codes)
    order = np.lexsort(tuple(sort_keys))
    table = rows.table

    def in_table(positions: np.ndarray) -> np.ndarray:
        """Row positions in the table for positions in time order (``-1`` stays)."""
        found: np.ndarray = np.where(positions >= 0, order[np.maximum(positions, 0)], -1)
        return found

    times = {f: v[order] for f, v in times.items()}
    case = case_codes[order]
    t = times["event_at"]
    n = case.size
    starts = _segment_starts(case)
    n_tickets = starts.size
    ticket_of = np.repeat(np.arange(n_tickets), np.diff(np.r_[starts, n]))

    cls, state_codes, state_names = _classes(load, table)
    cls, state_codes = cls[order], state_codes[order]
    if profile.states.reopen.values or profile.states.reopen.pattern:
        marker = np.where(cls == StateClass.RESOLVED, 1, np.where(cls == StateClass.REOPEN, 2, 0))
        latest = _forward_fill(marker > 0, starts[ticket_of])
        after_done = (latest >= 0) & (marker[np.maximum(latest, 0)] == 1) & (marker == 0)
        idle = after_done & (cls != StateClass.CANCELLED) & (cls != StateClass.IGNORE)
        load.log.add(
            "events_after_resolution",
            "events after a resolution and before any reopening (not counted as work)",
            "info",
            int(idle.sum()),
            "rows",
            rows.examples(in_table(np.flatnonzero(idle)), column=load.columns.get("state")),
        )
        cls = np.where(idle, StateClass.IGNORE, cls).astype(np.int8)
    cls = np.where(cls == StateClass.REOPEN, StateClass.WORK, cls).astype(np.int8)

    first_event = np.minimum.reduceat(t, starts)
    opened = first_event
    if "opened_at" in times:
        column = times["opened_at"]
        first = _first_valid(column != NAT, starts)
        opened = np.where(first >= 0, column[np.maximum(first, 0)], first_event)
        load.log.add(
            "opened_from_first_event",
            f"tickets without {load.columns['opened_at']!r}: opened at their first event",
            "repaired",
            int((first < 0).sum()),
            "tickets",
            rows.examples(in_table(starts[first < 0])),
        )

    # runs of the events that count
    live = np.flatnonzero(cls != StateClass.IGNORE)
    l_ticket = ticket_of[live]
    l_cls = cls[live]
    l_t = t[live]
    kind = np.select(
        [l_cls == StateClass.PAUSE, l_cls == StateClass.RESOLVED, l_cls == StateClass.CANCELLED],
        [_PAUSE, _DONE, _CANCEL],
        _ACTIVE,
    )
    team_codes, team_names = _teams(load, table)
    team_codes = team_codes[order]
    unassigned = len(team_names) - 1
    l_team = team_codes[live]
    l_starts = _segment_starts(l_ticket)
    l_segment_start = np.repeat(l_starts, np.diff(np.r_[l_starts, live.size]))
    known_team = l_team != unassigned
    carried = _forward_fill(known_team, l_segment_start)
    first_known = _first_valid(known_team, l_starts)
    backfill = np.repeat(first_known, np.diff(np.r_[l_starts, live.size]))
    source = np.where(carried >= 0, carried, backfill)
    team = np.where(source >= 0, l_team[np.maximum(source, 0)], unassigned)

    boundary = np.ones(live.size, dtype=bool)
    if live.size > 1:
        boundary[1:] = (
            (l_ticket[1:] != l_ticket[:-1])
            | (kind[1:] != kind[:-1])
            | ((kind[1:] == _ACTIVE) & (team[1:] != team[:-1]))
        )
    first_of_run = np.flatnonzero(boundary)
    run_ticket = l_ticket[first_of_run]
    run_kind = kind[first_of_run]
    run_team = team[first_of_run]
    run_t = l_t[first_of_run]
    run_state = state_codes[live][first_of_run]
    started = np.where(l_cls == StateClass.STARTED, l_t, _BIG)
    run_started = (
        np.minimum.reduceat(started, first_of_run) if first_of_run.size else np.zeros(0, np.int64)
    )
    run_started = np.where(run_started == _BIG, NAT, run_started)
    has_next = np.zeros(first_of_run.size, dtype=bool)
    has_next[:-1] = run_ticket[1:] == run_ticket[:-1]
    next_t = np.full(first_of_run.size, NAT)
    next_t[:-1] = run_t[1:]
    next_t = np.where(has_next, next_t, NAT)
    next_kind = np.full(first_of_run.size, _NONE)
    next_kind[:-1] = run_kind[1:]
    next_kind = np.where(has_next, next_kind, _NONE)

    final_kind = np.full(n_tickets, _NONE)
    final_t = np.full(n_tickets, NAT)
    final_kind[run_ticket[~has_next]] = run_kind[~has_next]
    final_t[run_ticket[~has_next]] = run_t[~has_next]
    resolved = np.where(final_kind == _DONE, final_t, NAT)
    if "resolved_at" in times:
        column = times["resolved_at"]
        last = _last_valid(column != NAT, starts)
        recorded = np.where(last >= 0, column[np.maximum(last, 0)], NAT)
        resolved = np.where((final_kind == _DONE) & (recorded != NAT), recorded, resolved)
    abandoned = final_kind == _CANCEL
    reopen_runs = (run_kind == _DONE) & has_next
    reopened = np.zeros(n_tickets, dtype=bool)
    reopened[run_ticket[reopen_runs]] = True
    count = load.numbers(table, "reopen_count")[order]
    if not np.isnan(count).all():
        reopened |= np.nan_to_num(np.fmax.reduceat(count, starts)) > 0

    if "first_response_at" in times:
        column = times["first_response_at"]
        first = _first_valid(column != NAT, starts)
        response = np.where(first >= 0, column[np.maximum(first, 0)], NAT)
    else:
        earliest = np.full(n_tickets, _BIG)
        picked = run_started != NAT
        np.minimum.at(earliest, run_ticket[picked], run_started[picked])
        response = np.where(earliest == _BIG, NAT, earliest)

    active = run_kind == _ACTIVE
    v_ticket = run_ticket[active]
    opens_ticket = np.r_[True, run_ticket[1:] != run_ticket[:-1]] if run_ticket.size else has_next
    v_assigned = np.where(
        opens_ticket[active], np.minimum(run_t[active], opened[v_ticket]), run_t[active]
    )
    v_seq = np.arange(v_ticket.size) - np.searchsorted(v_ticket, v_ticket, side="left")
    v_team_code = run_team[active]
    supplier_name = profile.suppliers.matches(team_names)

    paused = run_kind == _PAUSE
    reason_names = pa.array([*state_names, "pause", "reopen"], pa.string())
    reason_code = np.where(run_state[paused] >= 0, run_state[paused], len(state_names))
    reason_code = np.r_[reason_code, np.full(int(reopen_runs.sum()), len(state_names) + 1)]

    no_team = np.unique(l_ticket[team == unassigned]) if "team" in load.columns else np.zeros(0)
    load.log.add(
        "no_team",
        f"tickets with no assignment group in any event (given team {profile.unassigned!r})",
        "repaired",
        no_team.size,
        "tickets",
        rows.examples(in_table(starts[no_team.astype(np.int64)])),
    )
    names = pa.array(team_names, pa.string())
    return _Assembled(
        rows=rows,
        example_row=in_table(starts),
        source_id=case_values.take(pa.array(case[starts])),
        opened=opened,
        response=response,
        resolved=resolved,
        reopened=reopened,
        abandoned=abandoned,
        priority=load.text_at(
            table, "priority", in_table(_last_valid(_valid(load, table, "priority")[order], starts))
        ),
        service=load.text_at(
            table, "service", in_table(_last_valid(_valid(load, table, "service")[order], starts))
        ),
        customer=load.text_at(
            table, "customer", in_table(_last_valid(_valid(load, table, "customer")[order], starts))
        ),
        visit_ticket=v_ticket,
        visit_team=names.take(pa.array(v_team_code)),
        visit_supplier=supplier_name[v_team_code],
        visit_seq=v_seq,
        visit_assigned=v_assigned,
        visit_started=run_started[active],
        visit_finished=next_t[active],
        visit_outcome=_OUTCOME_AFTER[next_kind[active]],
        pause_ticket=np.r_[run_ticket[paused], run_ticket[reopen_runs]],
        pause_start=np.r_[run_t[paused], run_t[reopen_runs]],
        pause_end=np.r_[next_t[paused], next_t[reopen_runs]],
        pause_reason=reason_names.take(pa.array(reason_code)),
        last_row=in_table(np.r_[starts[1:], n] - 1),
    )


def _valid(load: _Load, table: pa.Table, field_name: str) -> np.ndarray:
    column = load.columns.get(field_name)
    if column is None:
        return np.zeros(table.num_rows, dtype=bool)
    return np.asarray(pc.is_valid(table[column]).to_numpy(zero_copy_only=False), dtype=bool)


def _flat(load: _Load, rows: Rows, times: dict[str, np.ndarray]) -> _Assembled:
    """Tickets, and one visit each, from a flat export (one row per ticket)."""
    profile = load.profile
    table = rows.table
    n = table.num_rows
    case_codes, case_values = dictionary_codes(table[load.columns["ticket"]])
    sort_keys: list[np.ndarray] = [np.arange(n)]
    if "sequence" in load.columns:
        sort_keys.append(load.numbers(table, "sequence"))
    if "event_at" in times:
        sort_keys.append(times["event_at"])
    sort_keys.append(case_codes)
    order = np.lexsort(tuple(sort_keys))
    latest = np.ones(n, dtype=bool)
    latest[:-1] = case_codes[order][1:] != case_codes[order][:-1]
    load.log.add(
        "duplicate_tickets",
        "rows repeating a ticket number with other values (the latest row is kept)",
        "removed",
        int((~latest).sum()),
        "rows",
        rows.examples(np.sort(order[~latest])),
        "a flat export has one row per ticket; for every update use the event-log export",
    )
    keep = np.zeros(n, dtype=bool)
    keep[order[latest]] = True
    rows = rows.keep(keep)
    times = {f: v[keep] for f, v in times.items()}
    case_codes = case_codes[keep]
    table = rows.table
    n = table.num_rows

    cls, _, _ = _classes(load, table)
    has_state = "state" in load.columns
    opened = times["opened_at"]
    resolved = times["resolved_at"].copy() if "resolved_at" in times else np.full(n, NAT)
    done = cls == StateClass.RESOLVED
    if "closed_at" in times:
        closed = times["closed_at"]
        use = (resolved == NAT) & (closed != NAT) & (done | (not has_state))
        load.log.add(
            "closed_at_used",
            f"tickets without a resolution time: resolved at {load.columns['closed_at']!r}",
            "repaired",
            int(use.sum()),
            "tickets",
            rows.examples(np.flatnonzero(use)),
        )
        resolved = np.where(use, closed, resolved)
    abandoned = cls == StateClass.CANCELLED
    reopened = np.nan_to_num(load.numbers(table, "reopen_count")) > 0
    if has_state:
        working = (cls == StateClass.WORK) | (cls == StateClass.STARTED) | (cls == StateClass.PAUSE)
        active_again = (resolved != NAT) & working
        load.log.add(
            "resolved_but_active",
            "tickets with a resolution time whose state is active again (reopened, open)",
            "repaired",
            int(active_again.sum()),
            "tickets",
            rows.examples(np.flatnonzero(active_again)),
        )
        resolved = np.where(active_again, NAT, resolved)
        reopened |= active_again
        no_time = done & (resolved == NAT)
        load.log.add(
            "resolved_without_time",
            "tickets in a resolved state without a resolution time",
            "removed",
            int(no_time.sum()),
            "tickets",
            rows.examples(np.flatnonzero(no_time)),
            "export resolved_at (or closed_at) with the tickets",
        )
        if no_time.any():
            keep = ~no_time
            rows = rows.keep(keep)
            times = {f: v[keep] for f, v in times.items()}
            table = rows.table
            case_codes, opened, resolved = case_codes[keep], opened[keep], resolved[keep]
            abandoned, reopened = abandoned[keep], reopened[keep]
            n = table.num_rows
    resolved = np.where(abandoned, NAT, resolved)
    response = times["first_response_at"] if "first_response_at" in times else np.full(n, NAT)
    team_codes, team_names = _teams(load, table)
    unassigned = len(team_names) - 1
    missing_team = np.flatnonzero(team_codes == unassigned)
    load.log.add(
        "no_team",
        f"tickets without an assignment group (given team {profile.unassigned!r})",
        "repaired",
        missing_team.size,
        "tickets",
        rows.examples(missing_team),
        "" if "team" in load.columns else "the export has no assignment group column",
    )
    everything = np.arange(n)
    outcome = np.where(abandoned, "abandoned", np.where(resolved != NAT, "resolved", "open"))
    return _Assembled(
        rows=rows,
        example_row=everything,
        source_id=case_values.take(pa.array(case_codes)),
        opened=opened,
        response=response,
        resolved=resolved,
        reopened=reopened,
        abandoned=abandoned,
        priority=load.text_at(table, "priority", everything),
        service=load.text_at(table, "service", everything),
        customer=load.text_at(table, "customer", everything),
        visit_ticket=everything,
        visit_team=pa.array(team_names, pa.string()).take(pa.array(team_codes)),
        visit_supplier=profile.suppliers.matches(team_names)[team_codes],
        visit_seq=np.zeros(n, np.int64),
        visit_assigned=opened,
        visit_started=response,
        visit_finished=resolved,
        visit_outcome=outcome.astype(object),
        pause_ticket=np.zeros(0, np.int64),
        pause_start=np.zeros(0, np.int64),
        pause_end=np.zeros(0, np.int64),
        pause_reason=pa.array([], pa.string()),
        last_row=everything,
    )


# -- final checks and tables ------------------------------------------------------------------


def _instants(micros: np.ndarray) -> pa.Array:
    missing = micros == NAT
    values = np.where(missing, 0, micros)
    return pa.array(values, _INSTANT, mask=missing if missing.any() else None)


def _ticket_checks(load: _Load, built: _Assembled) -> tuple[np.ndarray, np.ndarray]:
    """Negative durations (removed), responses out of order (repaired), open, cancelled and
    reopened tickets (kept, reported). Returns the tickets kept and the repaired responses."""
    log = load.log
    rows = built.rows
    at = built.example_row
    opened, resolved = built.opened, built.resolved
    response = built.response.copy()
    negative = (resolved != NAT) & (resolved < opened)
    log.add(
        "negative_durations",
        "tickets resolved before they were opened",
        "removed",
        int(negative.sum()),
        "tickets",
        rows.examples(at[negative]),
        "check the time zone and date format of the opened and resolved columns",
    )
    early = (response != NAT) & (response < opened) & ~negative
    log.add(
        "response_before_opened",
        "first responses before the ticket was opened (cleared: measured at resolution)",
        "repaired",
        int(early.sum()),
        "tickets",
        rows.examples(at[early]),
    )
    response[early] = NAT
    keep = ~negative
    still_open = keep & (resolved == NAT) & ~built.abandoned
    log.add(
        "still_open",
        "tickets still open at the end of the export (kept: breached once past their target, "
        "otherwise reported as open)",
        "kept",
        int(still_open.sum()),
        "tickets",
        rows.examples(at[still_open]),
    )
    cancelled = keep & built.abandoned
    log.add(
        "cancelled",
        "tickets cancelled (kept as abandoned: not measured against targets)",
        "kept",
        int(cancelled.sum()),
        "tickets",
        rows.examples(at[cancelled]),
    )
    reopened = keep & built.reopened
    log.add(
        "reopened",
        "tickets reopened after a resolution (the time until the reopening is a pause)",
        "info",
        int(reopened.sum()),
        "tickets",
        rows.examples(at[reopened]),
    )
    states = load.profile.states.started
    if "first_response_at" not in load.columns and not (states.values or states.pattern):
        log.note("the export records no first response: respond targets are measured at resolution")
    return keep, response


def _tables(load: _Load, built: _Assembled) -> tuple[pa.Table, pa.Table, pa.Table]:
    """The final checks, then the three tables with tickets numbered in opening order."""
    profile = load.profile
    keep, response = _ticket_checks(load, built)
    kept = np.flatnonzero(keep)
    order = kept[np.lexsort((kept, built.opened[kept]))]
    new_id = np.full(keep.size, -1, np.int64)
    new_id[order] = np.arange(order.size)
    take = pa.array(order)
    priority = map_priorities(
        built.priority.take(take),
        profile.priorities,
        log=load.log,
        examples=lambda rows: built.rows.examples(built.example_row[order][rows]),
        has_column="priority" in load.columns,
    )
    service = pc.fill_null(built.service.take(take), profile.service)
    columns: dict[str, pa.Array] = {
        "ticket_id": pa.array(np.arange(order.size, dtype=np.int64)),
        "service": service,
        "customer": built.customer.take(take),
        "priority": priority,
        "opened_at": _instants(built.opened[order]),
        "first_response_at": _instants(response[order]),
        "resolved_at": _instants(built.resolved[order]),
        "reopened": pa.array(built.reopened[order]),
        "abandoned": pa.array(built.abandoned[order]),
        "replication": pa.array(np.zeros(order.size, np.int32)),
    }
    tickets = pa.Table.from_arrays([columns[f.name] for f in TICKETS_SCHEMA], schema=TICKETS_SCHEMA)
    tickets = tickets.append_column("source_id", built.source_id.take(take))
    if load.kept:
        source = built.rows.table.take(pa.array(built.last_row[order]))
        for name in load.kept:
            if name not in tickets.column_names:
                tickets = tickets.append_column(name, source[name].cast(pa.string()))

    mine = keep[built.visit_ticket]
    v_ticket = new_id[built.visit_ticket[mine]]
    v_order = np.flatnonzero(mine)[np.lexsort((built.visit_seq[mine], v_ticket))]
    v_take = pa.array(v_order, pa.int64())
    visit_columns: dict[str, pa.Array] = {
        "ticket_id": pa.array(new_id[built.visit_ticket[v_order]], pa.int64()),
        "team": built.visit_team.take(v_take),
        "kind": pa.array(np.where(built.visit_supplier[v_order], "supplier", "team"), pa.string()),
        "seq": pa.array(built.visit_seq[v_order].astype(np.int32)),
        "assigned_at": _instants(built.visit_assigned[v_order]),
        "started_at": _instants(built.visit_started[v_order]),
        "finished_at": _instants(built.visit_finished[v_order]),
        "outcome": pa.array(built.visit_outcome[v_order].astype(str), pa.string()),
        "replication": pa.array(np.zeros(v_order.size, np.int32)),
    }
    visits = pa.Table.from_arrays(
        [visit_columns[f.name] for f in VISITS_SCHEMA], schema=VISITS_SCHEMA
    )

    mine = keep[built.pause_ticket]
    p_ticket = new_id[built.pause_ticket[mine]]
    p_order = np.flatnonzero(mine)[np.lexsort((built.pause_start[mine], p_ticket))]
    pause_columns: dict[str, pa.Array] = {
        "ticket_id": pa.array(new_id[built.pause_ticket[p_order]], pa.int64()),
        "start": _instants(built.pause_start[p_order]),
        "end": _instants(built.pause_end[p_order]),
        "reason": built.pause_reason.take(pa.array(p_order, pa.int64())),
        "replication": pa.array(np.zeros(p_order.size, np.int32)),
    }
    pauses = pa.Table.from_arrays(
        [pause_columns[f.name] for f in PAUSES_SCHEMA], schema=PAUSES_SCHEMA
    )
    return tickets, visits, pauses
