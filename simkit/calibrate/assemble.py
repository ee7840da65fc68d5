"""Assembling tickets, visits and pauses from cleaned rows, for either export layout.

A *flat* export has one row per ticket with its opening, response and resolution times (and one
visit, with its assignment group). An *event log* has one row per update or activity; the rows of
a ticket, in time order, are cut into runs — working with one team, paused, resolved, cancelled —
and the runs become visits (a stay with a team), pauses (the SLA clock stopped; also the gap
between a resolution and a reopening) and the resolution. Everything is vectorised over rows: one
sort, then numpy scans over run boundaries.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from simkit.calibrate.clean import Rows
from simkit.calibrate.columns import dictionary_codes
from simkit.calibrate.profiles import StateClass
from simkit.calibrate.timestamps import NAT

if TYPE_CHECKING:
    from simkit.calibrate.history import _Load

_ACTIVE, _PAUSE, _DONE, _CANCEL, _NONE = 0, 1, 2, 3, 4
_OUTCOME_AFTER = np.array(["routed", "paused", "resolved", "abandoned", "open"], dtype=object)
_BIG = np.iinfo(np.int64).max


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


def _unmapped(load: _Load, field_name: str) -> tuple[str, str]:
    """Why ``field_name`` has no column, and how to map one: the column the profile expected,
    the export's closest unmapped header (if any) and the ``--column`` option.

    Used where a missing optional column is not fatal at once but leaves every ticket without
    something (its team, its resolution), so the report and any later error say which column
    was expected and how to name it.
    """
    ref = getattr(load.profile.columns, field_name)
    wanted = [] if ref is None else [ref] if isinstance(ref, str) else list(ref)
    taken = set(load.columns.values())
    free = {c.lower(): c for c in load.available if c not in taken}
    close = [
        match
        for w in wanted
        for match in difflib.get_close_matches(w.lower(), list(free), n=1, cutoff=0.5)
    ]
    if wanted:
        what = (
            f"the export has no column {' or '.join(repr(w) for w in wanted)} ({field_name}), "
            "which the profile expects"
        )
    else:
        what = f"the profile names no {field_name} column"
    fix = (f"did you mean {free[close[0]]!r}? " if close else "") + (
        f"map the {field_name} column with --column {field_name}=NAME (or columns.{field_name} "
        "in the profile)"
    )
    return what, fix


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
    if "state" not in load.columns:
        # Only states say when a ticket of an event log is picked up, paused or resolved.
        what, fix = _unmapped(load, "state")
        load.log.add(
            "no_state",
            f"tickets never seen picked up, paused or resolved, as {what}",
            "info",
            n_tickets,
            "tickets",
            rows.examples(in_table(starts)),
            fix,
        )
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

    no_team = np.unique(l_ticket[team == unassigned])
    title = f"tickets with no assignment group in any event (given team {profile.unassigned!r})"
    fix = ""
    if "team" not in load.columns:
        what, fix = _unmapped(load, "team")
        title += f": {what}"
    load.log.add(
        "no_team",
        title,
        "repaired",
        no_team.size,
        "tickets",
        rows.examples(in_table(starts[no_team.astype(np.int64)])),
        fix,
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
    title = f"tickets without an assignment group (given team {profile.unassigned!r})"
    fix = ""
    if "team" not in load.columns:
        what, fix = _unmapped(load, "team")
        title += f": {what}"
    load.log.add(
        "no_team",
        title,
        "repaired",
        missing_team.size,
        "tickets",
        rows.examples(missing_team),
        fix,
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
