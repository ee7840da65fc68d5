"""The final checks on assembled tickets, and the engine's three tables.

Tickets resolved before they were opened, and the few opened far before every other (a mistyped
year), are removed and responses before the opening cleared;
open, cancelled and reopened tickets are kept and reported. The ``tickets``, ``visits`` and
``pauses`` tables have exactly the engine's schemas, tickets numbered in opening order.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from simkit.calibrate.clean import map_priorities
from simkit.calibrate.span import US_PER_HOUR
from simkit.calibrate.timestamps import NAT
from simkit.engine._tables import PAUSES_SCHEMA, TICKETS_SCHEMA, VISITS_SCHEMA

if TYPE_CHECKING:
    from simkit.calibrate.assemble import _Assembled
    from simkit.calibrate.history import _Load

_INSTANT = pa.timestamp("us", tz="UTC")

EARLY_GAP_DAYS = 300
"""Up to :data:`EARLY_MAX` tickets opened this many days, and more than the whole span of the
other openings, before every other are taken for typos — a year mistyped (1900, or 2015 for
2025) — and removed: kept, they would start the history's span there and spread its tickets
over years. A genuine old ticket of a long export stays (BPIC 2013's first incident opens 306
days before the next, within the 461 days the others span). The mirror of ``late_timestamps``
(simkit.calibrate.history)."""
EARLY_MAX = 5
_DAY_US = 24 * US_PER_HOUR


def _early_openings(opened: np.ndarray, keep: np.ndarray) -> tuple[np.ndarray, float]:
    """The kept tickets opened far before every other (:data:`EARLY_GAP_DAYS`, and more than
    the span of the openings after them), at most :data:`EARLY_MAX` and fewer than the rest;
    with the gap in days after the last of them (0 when there are none). The latest such gap
    counts: a typo (1900) before a genuine old ticket is found behind it."""
    early = np.zeros(keep.size, dtype=bool)
    kept = np.flatnonzero(keep & (opened != NAT))
    head = min(EARLY_MAX, (kept.size - 1) // 2)  # fewer before the gap than after it
    if head < 1:
        return early, 0.0
    order = kept[np.argsort(opened[kept], kind="stable")]
    times = opened[order]
    gaps = np.diff(times[: head + 1])
    for j in np.flatnonzero(gaps > EARLY_GAP_DAYS * _DAY_US)[::-1]:
        if gaps[j] > times[-1] - times[j + 1]:  # beyond the span of the openings after it
            early[order[: j + 1]] = True
            return early, float(gaps[j]) / _DAY_US
    return early, 0.0


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
    typos, gap_days = _early_openings(opened, keep)
    log.add(
        "early_timestamps",
        f"tickets opened at least {gap_days:,.0f} days before every other (removed: the "
        "history's span would start at them)",
        "removed",
        int(typos.sum()),
        "tickets",
        rows.examples(
            at[typos],
            column="opened_at",
            value=[f"{np.datetime64(int(t), 'us')}Z" for t in opened[typos][:5]],
        ),
        "check these opening times: a mistyped year is the usual cause; correct them in the "
        "export to keep the tickets",
    )
    keep &= ~typos
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
    unanswered = keep & (response == NAT)
    if keep.any() and unanswered[keep].all():
        log.note(
            "no ticket in the export has a first response time (no first-response column, and "
            "no state the profile counts as a pick-up): respond targets are measured at "
            "resolution"
        )
    else:
        log.add(
            "no_first_response",
            "tickets without a first response time (respond targets measured at their "
            "resolution, or open)",
            "info",
            int(unanswered.sum()),
            "tickets",
            rows.examples(at[unanswered]),
        )
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
