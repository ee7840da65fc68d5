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

from collections.abc import Sequence
from dataclasses import dataclass
from functools import reduce

import numpy as np
import pyarrow as pa

from simkit.measure.clock import (
    BREACHED,
    MET,
    OPEN,
    ClockReadings,
    ItemPauses,
    attach_pauses,
    match_items,
)
from simkit.measure.columns import TicketColumns, VisitColumns, ticket_columns, visit_columns
from simkit.measure.periods import period_index
from simkit.measure.targets import MeasureSpec, OlaTarget, SlaTarget

__all__ = [
    "BREACHED",
    "MET",
    "OLA_OUTCOME_SCHEMA",
    "OPEN",
    "SLA_OUTCOME_SCHEMA",
    "STATUSES",
    "Outcomes",
    "measure_ola",
    "measure_olas",
    "measure_sla",
    "ola_outcomes",
    "sla_outcomes",
    "ticket_pauses",
]

STATUSES = ("met", "breached", "open")

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


@dataclass(frozen=True, eq=False)
class Outcomes:
    """The outcomes of one target as arrays: the measured ``rows`` of the ticket or visit
    table (increasing), and per row its ``time_h``, ``status`` code (:data:`MET`,
    :data:`BREACHED`, :data:`OPEN`) and ``stop_at`` — an outcome table without the labels."""

    rows: np.ndarray
    time_h: np.ndarray
    status: np.ndarray
    stop_at: np.ndarray


def _first_known(*candidates: np.ndarray) -> np.ndarray:
    result = candidates[0].copy()
    for other in candidates[1:]:
        gap = np.isnat(result)
        result[gap] = other[gap]
    return result


def _table(
    columns: dict[str, np.ndarray], outcomes: Outcomes, spec: MeasureSpec, schema: pa.Schema
) -> pa.Table:
    statuses = pa.DictionaryArray.from_arrays(
        pa.array(outcomes.status, pa.int8()), pa.array(STATUSES)
    )
    index, labels = period_index(outcomes.stop_at, spec.timezone, spec.period)
    periods = pa.DictionaryArray.from_arrays(
        pa.array(index, pa.int64(), mask=index < 0), pa.array(labels, pa.string())
    )
    time_h = outcomes.time_h
    data = {
        **columns,
        "time_h": pa.array(time_h, pa.float64(), mask=np.isnan(time_h)),
        "status": statuses.cast(pa.string()),
        "stop_at": pa.array(outcomes.stop_at, _TIMESTAMP),
        "period": periods.cast(pa.string()),
    }
    return pa.table([data[field.name] for field in schema], schema=schema)


def ticket_pauses(tickets: pa.Table, pauses: pa.Table | None, spec: MeasureSpec) -> ItemPauses:
    """The pauses attached to the rows of ``tickets`` once, for measuring many targets.

    Pass the result as ``pauses`` to :func:`sla_outcomes` with the same ``tickets`` table: the
    join by ``(replication, ticket_id)`` then runs once instead of once per target.
    """
    columns = ticket_columns(tickets)
    return attach_pauses(columns.replication, columns.ticket_id, pauses, spec.observed_until)


def _chosen_tickets(columns: TicketColumns, target: SlaTarget, window: np.ndarray) -> np.ndarray:
    chosen: np.ndarray = window & columns.priority.equals(target.priority)
    if target.service is not None:
        chosen &= columns.service.equals(target.service)
    if target.customer is not None:
        chosen &= columns.customer.equals(target.customer)
    return chosen


def _ticket_window(columns: TicketColumns, spec: MeasureSpec) -> np.ndarray:
    window: np.ndarray = columns.opened_within(spec.start, spec.horizon_end) & ~columns.abandoned
    return window


def _ticket_stop(columns: TicketColumns, metric: str, rows: np.ndarray) -> np.ndarray:
    """Response stops at ``first_response_at`` (at the resolution when none is recorded),
    resolution at ``resolved_at``."""
    resolved: np.ndarray = columns.resolved[rows]
    if metric == "respond":
        return _first_known(columns.first_response[rows], resolved)
    return resolved


def measure_sla(
    tickets: pa.Table, pauses: pa.Table | ItemPauses | None, spec: MeasureSpec
) -> list[Outcomes]:
    """The outcomes of every SLA target of ``spec``, in order, as :func:`sla_outcomes` gives
    them with the pauses attached to every row of ``tickets`` (:func:`ticket_pauses`).

    The targets that share a calendar and a metric share one reading of the clocks, taken over
    every ticket any of them measures; each target then only compares it with its own target.
    """
    if not spec.sla:
        return []
    columns = ticket_columns(tickets)
    attached = pauses if isinstance(pauses, ItemPauses) else ticket_pauses(tickets, pauses, spec)
    columns.priority.expect(target.priority for target in spec.sla)
    columns.service.expect(target.service for target in spec.sla if target.service is not None)
    columns.customer.expect(target.customer for target in spec.sla if target.customer is not None)
    window = _ticket_window(columns, spec)
    chosen = [_chosen_tickets(columns, target, window) for target in spec.sla]
    groups: dict[tuple[object, str], list[int]] = {}
    for i, target in enumerate(spec.sla):
        groups.setdefault((target.calendar, target.metric), []).append(i)
    found: dict[int, Outcomes] = {}
    for (_, metric), members in groups.items():
        calendar = spec.sla[members[0]].calendar
        union = reduce(np.logical_or, [chosen[i] for i in members])
        rows = np.flatnonzero(union)
        readings = ClockReadings.read(
            calendar,
            columns.opened[rows],
            _ticket_stop(columns, metric, rows),
            attached.subset(union),
            spec.observed_until,
        )
        for i in members:
            if len(members) == 1:
                found[i] = Outcomes(rows, *readings.judge(spec.sla[i].within_h))
                continue
            items = np.flatnonzero(chosen[i][rows])
            time_h, status, stop_at = readings.judge(spec.sla[i].within_h, items)
            found[i] = Outcomes(rows[items], time_h, status, stop_at)
    return [found[i] for i in range(len(spec.sla))]


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
    columns = ticket_columns(tickets)
    chosen = _chosen_tickets(columns, target, _ticket_window(columns, spec))
    rows = np.flatnonzero(chosen)
    replication = columns.replication[rows]
    ticket_id = columns.ticket_id[rows]
    if isinstance(pauses, ItemPauses):
        item_pauses = pauses.subset(chosen)
    else:
        item_pauses = attach_pauses(replication, ticket_id, pauses, spec.observed_until)
    readings = ClockReadings.read(
        target.calendar,
        columns.opened[rows],
        _ticket_stop(columns, target.metric, rows),
        item_pauses,
        spec.observed_until,
    )
    outcomes = Outcomes(rows, *readings.judge(target.within_h))
    return _table(
        {"replication": replication, "ticket_id": ticket_id}, outcomes, spec, SLA_OUTCOME_SCHEMA
    )


def _visit_priority(
    visits: pa.Table, columns: VisitColumns, tickets: pa.Table | None, priority: str
) -> np.ndarray:
    """Whether each visit belongs to a ticket of ``priority``."""
    if "priority" in visits.column_names:
        return columns.priority.equals(priority)
    if tickets is None:
        raise ValueError(
            "an OLA/UC target for one priority needs the tickets table to look up the priority "
            "of each visit: pass tickets=..."
        )
    owners = ticket_columns(tickets)
    owner = match_items(
        owners.replication, owners.ticket_id, columns.replication, columns.ticket_id
    )
    code = np.where(owner >= 0, owners.priority.codes[np.maximum(owner, 0)], -1)
    mask: np.ndarray = code == owners.priority.code(priority)
    return mask


def _visit_stop(columns: VisitColumns, metric: str, rows: np.ndarray) -> np.ndarray:
    """Response stops at ``started_at`` (at the end of the visit when none is recorded),
    resolution at ``finished_at``."""
    finished: np.ndarray = columns.finished[rows]
    if metric == "respond":
        return _first_known(columns.started[rows], finished)
    return finished


def measure_olas(
    visits: pa.Table,
    targets: Sequence[OlaTarget],
    spec: MeasureSpec,
    tickets: pa.Table | None = None,
) -> list[Outcomes]:
    """The outcomes of OLA/UC targets as arrays, in order; see :func:`ola_outcomes`.

    The targets of one team, priority and calendar (its respond and resolve OLA) measure the
    same visits: their clocks are read together, the open time at the assignments once.
    """
    columns = visit_columns(visits)
    groups: dict[tuple[str, str | None, object], list[int]] = {}
    for i, target in enumerate(targets):
        groups.setdefault((target.team, target.priority, target.calendar), []).append(i)
    found: dict[int, Outcomes] = {}
    for (team, priority, _), members in groups.items():
        chosen = columns.measured_within(spec.start, spec.horizon_end) & columns.team.equals(team)
        if priority is not None:
            chosen &= _visit_priority(visits, columns, tickets, priority)
        rows = np.flatnonzero(chosen)
        metrics = list(dict.fromkeys(targets[i].metric for i in members))
        readings = ClockReadings.read_stops(
            targets[members[0]].calendar,
            columns.assigned[rows],
            [_visit_stop(columns, metric, rows) for metric in metrics],
            ItemPauses.none(),
            spec.observed_until,
        )
        by_metric = dict(zip(metrics, readings, strict=True))
        for i in members:
            target = targets[i]
            found[i] = Outcomes(rows, *by_metric[target.metric].judge(target.within_h))
    return [found[i] for i in range(len(targets))]


def measure_ola(
    visits: pa.Table,
    target: OlaTarget,
    spec: MeasureSpec,
    tickets: pa.Table | None = None,
) -> Outcomes:
    """The outcomes of one OLA/UC target as arrays; see :func:`ola_outcomes`."""
    return measure_olas(visits, [target], spec, tickets)[0]


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
    outcomes = measure_ola(visits, target, spec, tickets)
    columns = visit_columns(visits)
    rows = outcomes.rows
    return _table(
        {
            "replication": columns.replication[rows],
            "ticket_id": columns.ticket_id[rows],
            "seq": columns.seq[rows],
        },
        outcomes,
        spec,
        OLA_OUTCOME_SCHEMA,
    )
