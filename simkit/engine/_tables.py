"""From the recorded columns of one replication to the Arrow tables of the contract.

Everything here is vectorised: ticket-level facts (first response, final resolution,
abandonment) are read off each ticket's first and last visit after one stable sort of the visits
by ticket.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute  # Array.take needs it: pay for the import with the engine's

from simkit.engine._ledger import ABANDONED, OUTCOMES, PAUSE_REASONS, RESOLVED, Ledger
from simkit.engine._queues import Desk, Supplier, Team

__all__ = [
    "PAUSES_SCHEMA",
    "TEAM_STATS_SCHEMA",
    "TICKETS_SCHEMA",
    "VISITS_SCHEMA",
    "TicketColumns",
    "pauses_table",
    "team_stats_table",
    "tickets_and_visits",
]

INSTANT = pa.timestamp("us", tz="UTC")
_US_PER_HOUR = 3_600_000_000.0

TICKETS_SCHEMA = pa.schema(
    [
        ("ticket_id", pa.int64()),
        ("service", pa.string()),
        ("customer", pa.string()),
        ("priority", pa.string()),
        ("opened_at", INSTANT),
        ("first_response_at", INSTANT),
        ("resolved_at", INSTANT),
        ("reopened", pa.bool_()),
        ("abandoned", pa.bool_()),
        ("replication", pa.int32()),
    ]
)
VISITS_SCHEMA = pa.schema(
    [
        ("ticket_id", pa.int64()),
        ("team", pa.string()),
        ("kind", pa.string()),
        ("seq", pa.int32()),
        ("assigned_at", INSTANT),
        ("started_at", INSTANT),
        ("finished_at", INSTANT),
        ("outcome", pa.string()),
        ("replication", pa.int32()),
    ]
)
PAUSES_SCHEMA = pa.schema(
    [
        ("ticket_id", pa.int64()),
        ("start", INSTANT),
        ("end", INSTANT),
        ("reason", pa.string()),
        ("replication", pa.int32()),
    ]
)
TEAM_STATS_SCHEMA = pa.schema(
    [
        ("team", pa.string()),
        ("busy_h", pa.float64()),
        ("available_h", pa.float64()),
        ("replication", pa.int32()),
    ]
)


@dataclass(frozen=True, eq=False)
class TicketColumns:
    """Per-ticket facts known when the ticket opens, indexed by ticket id."""

    opened: np.ndarray
    service: np.ndarray
    """Index into ``service_names``."""
    customer: np.ndarray
    """Index into ``customer_names``."""
    rank: np.ndarray
    service_names: Sequence[str]
    customer_names: Sequence[str]
    """``""`` stands for no named customer and becomes null."""
    priorities: Sequence[str]


def instants(hours: np.ndarray, origin: np.datetime64) -> pa.Array:
    """Run hours as UTC timestamps (microseconds); NaN becomes null."""
    base = int(np.asarray(origin, dtype="datetime64[us]").astype(np.int64))
    missing = np.isnan(hours)
    micros = np.rint(np.where(missing, 0.0, hours) * _US_PER_HOUR).astype(np.int64) + base
    return pa.array(micros, type=INSTANT, mask=missing if missing.any() else None)


def _names(names: Sequence[str], codes: np.ndarray, *, empty_is_null: bool = False) -> pa.Array:
    dictionary = pa.array(
        [None if empty_is_null and n == "" else n for n in names], type=pa.string()
    )
    return dictionary.take(pa.array(np.asarray(codes, dtype=np.int64)))


def _replication(n: int, replication: int) -> pa.Array:
    return pa.array(np.full(n, replication, dtype=np.int32))


def tickets_and_visits(
    ledger: Ledger,
    tickets: TicketColumns,
    desks: Sequence[Desk],
    reopened: set[int],
    origin: np.datetime64,
    replication: int,
) -> tuple[pa.Table, pa.Table]:
    """The ``tickets`` and ``visits`` tables."""
    n_tickets = tickets.opened.size
    columns = ledger.columns()
    visit_ticket = columns.visit_ticket
    started = columns.started
    finished = columns.finished
    outcome = columns.outcome
    desk = columns.visit_desk
    n_visits = visit_ticket.size

    order = np.argsort(visit_ticket, kind="stable")
    by_ticket = visit_ticket[order]
    first = np.flatnonzero(np.r_[True, by_ticket[1:] != by_ticket[:-1]]) if n_visits else order
    last = np.r_[first[1:], n_visits] - 1 if n_visits else order
    seq = np.empty(n_visits, dtype=np.int32)
    seq[order] = np.arange(n_visits) - np.repeat(first, np.diff(np.r_[first, n_visits]))

    first_response = np.full(n_tickets, np.nan)
    resolved = np.full(n_tickets, np.nan)
    abandoned = np.zeros(n_tickets, dtype=bool)
    owners = by_ticket[first]
    first_response[owners] = started[order[first]]
    last_rows = order[last]
    ends_resolved = outcome[last_rows] == RESOLVED
    resolved[owners[ends_resolved]] = finished[last_rows[ends_resolved]]
    abandoned[owners] = outcome[last_rows] == ABANDONED
    was_reopened = np.zeros(n_tickets, dtype=bool)
    if reopened:
        was_reopened[np.fromiter(reopened, dtype=np.int64, count=len(reopened))] = True

    ticket_table = pa.Table.from_arrays(
        [
            pa.array(np.arange(n_tickets, dtype=np.int64)),
            _names(tickets.service_names, tickets.service),
            _names(tickets.customer_names, tickets.customer, empty_is_null=True),
            _names(tickets.priorities, tickets.rank),
            instants(tickets.opened, origin),
            instants(first_response, origin),
            instants(resolved, origin),
            pa.array(was_reopened),
            pa.array(abandoned),
            _replication(n_tickets, replication),
        ],
        schema=TICKETS_SCHEMA,
    )
    visit_table = pa.Table.from_arrays(
        [
            pa.array(visit_ticket),
            _names([d.name for d in desks], desk),
            _names([d.kind for d in desks], desk),
            pa.array(seq),
            instants(columns.assigned, origin),
            instants(started, origin),
            instants(finished, origin),
            _names(OUTCOMES, outcome),
            _replication(n_visits, replication),
        ],
        schema=VISITS_SCHEMA,
    )
    return ticket_table, visit_table


def pauses_table(ledger: Ledger, origin: np.datetime64, replication: int) -> pa.Table:
    """The ``pauses`` table."""
    columns = ledger.columns()
    reason = columns.pause_reason
    return pa.Table.from_arrays(
        [
            pa.array(columns.pause_ticket),
            instants(columns.pause_start, origin),
            instants(columns.pause_end, origin),
            _names(PAUSE_REASONS, reason),
            _replication(reason.size, replication),
        ],
        schema=PAUSES_SCHEMA,
    )


def _overlap(start: np.ndarray, stop: np.ndarray, lo: float, hi: float) -> np.ndarray:
    spans: np.ndarray = np.clip(np.minimum(stop, hi) - np.maximum(start, lo), 0.0, None)
    return spans


def team_stats_table(
    ledger: Ledger,
    desks: Sequence[Desk],
    window: tuple[float, float],
    end: float,
    replication: int,
) -> pa.Table:
    """The ``team_stats`` table: agent-hours handling and rostered inside ``window``."""
    lo, hi = window
    desk, start, stop = ledger.handling_stretches(end)
    busy = np.bincount(desk, weights=_overlap(start, stop, lo, hi), minlength=len(desks))
    available: list[float | None] = []
    for d in desks:
        if isinstance(d, Supplier):
            mine = desk == d.index
            a = np.clip(start[mine], lo, hi)
            b = np.clip(stop[mine], lo, hi)
            busy[d.index] = float(np.sum(d.work.elapsed_many(b) - d.work.elapsed_many(a)))
            available.append(None)
        elif isinstance(d, Team) and d.model.roster is not None:
            # The model's arrays, as the team reads them (cheaper than its lists back to arrays).
            times = np.asarray(d.model.roster.times, dtype=np.float64)
            agents = np.asarray(d.model.roster.agents).astype(int).astype(np.float64)
            spans = _overlap(times, np.r_[times[1:], np.inf], lo, hi)
            available.append(float(np.sum(agents * spans)))
        else:
            available.append(None)
    return pa.Table.from_arrays(
        [
            pa.array([d.name for d in desks], type=pa.string()),
            pa.array(busy.astype(np.float64)),
            pa.array(available, type=pa.float64()),
            _replication(len(desks), replication),
        ],
        schema=TEAM_STATS_SCHEMA,
    )
