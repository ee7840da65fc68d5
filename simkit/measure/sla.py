"""Per-ticket SLA outcomes and per-visit OLA/UC outcomes — the same code for history and simulation.

An outcome table has one row per measured item of one target:

``replication`` (int32), ``ticket_id`` (int64), ``seq`` (int32, OLA/UC only), ``time_h`` (float64:
net business hours on the target's calendar; ``+inf`` for an item breached while still open;
null while ``open``), ``status`` (``met`` | ``breached`` | ``open``), ``stop_at`` (the clock stop,
or the breach instant of an item breached while open; null while ``open``) and ``period`` (the
label of the period of ``stop_at``).

Rules (DESIGN, "SLA clock"): the clock runs from ``opened_at`` (``assigned_at`` for a visit) on
the target's calendar and stops at the first response or the resolution (the start or the end of
the visit), minus the business time of the ticket's pauses. Events after ``observed_until`` are
not known yet. An item still running at ``observed_until`` is breached when its clock already
exceeds the target — in the period of its breach instant — and ``open`` (reported, not measured)
otherwise.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from simkit.measure.clock import (
    TOLERANCE_H,
    BusinessClock,
    ItemPauses,
    attach_pauses,
    breach_instants,
    instants,
    match_items,
    net_hours,
)
from simkit.measure.periods import period_of
from simkit.measure.targets import MeasureSpec, OlaTarget, SlaTarget

__all__ = [
    "OLA_OUTCOME_SCHEMA",
    "SLA_OUTCOME_SCHEMA",
    "STATUSES",
    "ola_outcomes",
    "sla_outcomes",
    "ticket_pauses",
]

STATUSES = ("met", "breached", "open")
MET, BREACHED, OPEN = 0, 1, 2

_TIMESTAMP = pa.timestamp("us", "UTC")
SLA_OUTCOME_SCHEMA = pa.schema(
    [
        ("replication", pa.int32()),
        ("ticket_id", pa.int64()),
        ("time_h", pa.float64()),
        ("status", pa.string()),
        ("stop_at", _TIMESTAMP),
        ("period", pa.string()),
    ]
)
OLA_OUTCOME_SCHEMA = pa.schema(
    [
        ("replication", pa.int32()),
        ("ticket_id", pa.int64()),
        ("seq", pa.int32()),
        ("time_h", pa.float64()),
        ("status", pa.string()),
        ("stop_at", _TIMESTAMP),
        ("period", pa.string()),
    ]
)


def _equals(column: pa.ChunkedArray, value: str) -> np.ndarray:
    mask = pc.fill_null(pc.equal(column, pa.scalar(value, column.type)), False)
    return np.asarray(mask.to_numpy(zero_copy_only=False), dtype=bool)


def _flag(table: pa.Table, name: str) -> np.ndarray:
    if name not in table.column_names:
        return np.zeros(table.num_rows, dtype=bool)
    values = pc.fill_null(table[name].cast(pa.bool_()), False)
    return np.asarray(values.to_numpy(zero_copy_only=False), dtype=bool)


def _integers(table: pa.Table, name: str, dtype: type[np.integer]) -> np.ndarray:
    return np.asarray(table[name].to_numpy(zero_copy_only=False)).astype(dtype)


def _in_window(opened: np.ndarray, spec: MeasureSpec) -> np.ndarray:
    inside: np.ndarray = ~np.isnat(opened) & (opened >= spec.start) & (opened < spec.horizon_end)
    return inside


def _first_known(*candidates: np.ndarray) -> np.ndarray:
    result = candidates[0].copy()
    for other in candidates[1:]:
        gap = np.isnat(result)
        result[gap] = other[gap]
    return result


def _clock(
    calendar: BusinessClock,
    begin: np.ndarray,
    stop: np.ndarray,
    within_h: float,
    pauses: ItemPauses,
    spec: MeasureSpec,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Net time, status code and stop/breach instant of every item."""
    now = spec.observed_until
    stop = np.where(stop > now, np.datetime64("NaT", "us"), stop)
    closed = ~np.isnat(stop)
    until = np.maximum(np.where(closed, stop, now), begin)
    time_h = net_hours(calendar, begin, until, pauses)
    status = np.full(begin.size, OPEN, dtype=np.int8)
    status[closed] = np.where(time_h[closed] <= within_h + TOLERANCE_H, MET, BREACHED)
    late = ~closed & (time_h > within_h + TOLERANCE_H)
    status[late] = BREACHED
    stop_at = np.where(closed, until, np.datetime64("NaT", "us"))
    if late.any():
        stop_at[late] = breach_instants(calendar, begin[late], within_h, pauses.subset(late))
        time_h[late] = np.inf
    time_h[status == OPEN] = np.nan
    return time_h, status, stop_at


def _table(
    columns: dict[str, np.ndarray],
    time_h: np.ndarray,
    status: np.ndarray,
    stop_at: np.ndarray,
    spec: MeasureSpec,
    schema: pa.Schema,
) -> pa.Table:
    statuses = pa.DictionaryArray.from_arrays(pa.array(status, pa.int8()), pa.array(STATUSES))
    labels = period_of(stop_at, spec.timezone, spec.period)
    data = {
        **columns,
        "time_h": pa.array(time_h, pa.float64(), mask=np.isnan(time_h)),
        "status": statuses.cast(pa.string()),
        "stop_at": pa.array(stop_at, _TIMESTAMP),
        "period": pa.array(labels, pa.string()),
    }
    return pa.table([data[field.name] for field in schema], schema=schema)


def ticket_pauses(tickets: pa.Table, pauses: pa.Table | None, spec: MeasureSpec) -> ItemPauses:
    """The pauses attached to the rows of ``tickets`` once, for measuring many targets.

    Pass the result as ``pauses`` to :func:`sla_outcomes` with the same ``tickets`` table: the
    join by ``(replication, ticket_id)`` then runs once instead of once per target.
    """
    return attach_pauses(
        _integers(tickets, "replication", np.int32),
        _integers(tickets, "ticket_id", np.int64),
        pauses,
        spec.observed_until,
    )


def sla_outcomes(
    tickets: pa.Table,
    pauses: pa.Table | ItemPauses | None,
    target: SlaTarget,
    spec: MeasureSpec,
) -> pa.Table:
    """Outcome of every ticket measured against one SLA target (see the module docstring).

    Parameters
    ----------
    tickets
        The ticket table (simulated or imported; extra columns are ignored).
    pauses
        The pause table, ``None`` when no ticket was ever paused, or the pauses already
        attached to the rows of ``tickets`` by :func:`ticket_pauses`.
    target
        The SLA target; its calendar converts both the clock and the pauses.
    spec
        The measured span: tickets opened in ``[spec.start, spec.horizon_end)`` that were not
        abandoned and match the target's service (any, at the corporate level), customer (any
        when ``None``) and priority.

    Returns
    -------
    pyarrow.Table
        :data:`SLA_OUTCOME_SCHEMA`, one row per selected ticket, ``open`` ones included.

    Notes
    -----
    Response stops at ``first_response_at``; a resolved ticket without a recorded response
    (possible in history) counts as responded at its resolution.
    """
    opened = instants(tickets["opened_at"], "tickets.opened_at")
    chosen = _in_window(opened, spec) & ~_flag(tickets, "abandoned")
    chosen &= _equals(tickets["priority"], target.priority)
    if target.service is not None:
        chosen &= _equals(tickets["service"], target.service)
    if target.customer is not None:
        chosen &= _equals(tickets["customer"], target.customer)
    rows = np.flatnonzero(chosen)
    selected = tickets.take(pa.array(rows, pa.int64()))
    resolved = instants(selected["resolved_at"], "tickets.resolved_at")
    if target.metric == "respond":
        stop = _first_known(
            instants(selected["first_response_at"], "tickets.first_response_at"), resolved
        )
    else:
        stop = resolved
    replication = _integers(selected, "replication", np.int32)
    ticket_id = _integers(selected, "ticket_id", np.int64)
    if isinstance(pauses, ItemPauses):
        item_pauses = pauses.subset(chosen)
    else:
        item_pauses = attach_pauses(replication, ticket_id, pauses, spec.observed_until)
    time_h, status, stop_at = _clock(
        target.calendar, opened[rows], stop, target.within_h, item_pauses, spec
    )
    return _table(
        {"replication": replication, "ticket_id": ticket_id},
        time_h,
        status,
        stop_at,
        spec,
        SLA_OUTCOME_SCHEMA,
    )


def _visit_priority(visits: pa.Table, tickets: pa.Table | None) -> pa.ChunkedArray:
    if "priority" in visits.column_names:
        return visits["priority"]
    if tickets is None:
        raise ValueError(
            "an OLA/UC target for one priority needs the tickets table to look up the priority "
            "of each visit: pass tickets=..."
        )
    owner = match_items(
        _integers(tickets, "replication", np.int32),
        _integers(tickets, "ticket_id", np.int64),
        _integers(visits, "replication", np.int32),
        _integers(visits, "ticket_id", np.int64),
    )
    priority = tickets["priority"].take(pa.array(np.maximum(owner, 0), pa.int64()))
    return pa.chunked_array([pc.if_else(pa.array(owner >= 0), priority, None)])


def ola_outcomes(
    visits: pa.Table,
    target: OlaTarget,
    spec: MeasureSpec,
    tickets: pa.Table | None = None,
) -> pa.Table:
    """Outcome of every visit to the target's team measured against its OLA or UC.

    Parameters
    ----------
    visits
        The visit table: one row per stay of a ticket with a team or supplier.
    target
        The OLA/UC target. respond = ``assigned_at`` → ``started_at``, resolve = ``assigned_at``
        → ``finished_at``, on the target's calendar (visits have no pauses: a pause ends one
        visit and the return starts the next).
    spec
        The measured span: visits assigned in ``[spec.start, spec.horizon_end)``; abandoned
        visits are not measured.
    tickets
        Needed only for a target restricted to one priority when ``visits`` carries no
        ``priority`` column.

    Returns
    -------
    pyarrow.Table
        :data:`OLA_OUTCOME_SCHEMA`, one row per selected visit, ``open`` ones included.
    """
    assigned = instants(visits["assigned_at"], "visits.assigned_at")
    chosen = _in_window(assigned, spec) & _equals(visits["team"], target.team)
    chosen &= ~_equals(visits["outcome"], "abandoned")
    if target.priority is not None:
        chosen &= _equals(_visit_priority(visits, tickets), target.priority)
    rows = np.flatnonzero(chosen)
    selected = visits.take(pa.array(rows, pa.int64()))
    finished = instants(selected["finished_at"], "visits.finished_at")
    if target.metric == "respond":
        stop = _first_known(instants(selected["started_at"], "visits.started_at"), finished)
    else:
        stop = finished
    time_h, status, stop_at = _clock(
        target.calendar, assigned[rows], stop, target.within_h, ItemPauses.none(), spec
    )
    return _table(
        {
            "replication": _integers(selected, "replication", np.int32),
            "ticket_id": _integers(selected, "ticket_id", np.int64),
            "seq": _integers(selected, "seq", np.int32),
        },
        time_h,
        status,
        stop_at,
        spec,
        OLA_OUTCOME_SCHEMA,
    )
