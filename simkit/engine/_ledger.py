"""Columns recorded while a support run is in progress.

No object is made per ticket or visit: each visit is a row index into columns. While the run
writes them the columns are Python lists (an item write or an append there is far cheaper than
into an :class:`array.array`, which parses every value it is given); they are packed into numpy
arrays once, when the run is over (:meth:`Ledger.columns`).
"""

from __future__ import annotations

import math
import struct
from dataclasses import dataclass

import numpy as np

__all__ = [
    "ABANDONED",
    "AWAITING_USER",
    "OPEN",
    "OUTCOMES",
    "PAUSED",
    "PAUSE_REASONS",
    "REOPEN",
    "RESOLVED",
    "ROUTED",
    "Ledger",
    "LedgerColumns",
]

OPEN, RESOLVED, ROUTED, PAUSED, ABANDONED = range(5)
OUTCOMES = ("open", "resolved", "routed", "paused", "abandoned")
"""Visit outcome names by code."""

AWAITING_USER, REOPEN = range(2)
PAUSE_REASONS = ("awaiting user", "reopen")
"""Pause reasons by code."""

NAN = math.nan


def _packed(values: list[float] | list[int], code: str, dtype: type[np.generic]) -> np.ndarray:
    """A list of numbers as a numpy array, packed by :mod:`struct` (much faster than letting
    numpy discover each element's type)."""
    return np.frombuffer(struct.pack(f"{len(values)}{code}", *values), dtype=dtype)


@dataclass(frozen=True, eq=False)
class LedgerColumns:
    """The recorded columns of a finished run as numpy arrays."""

    visit_ticket: np.ndarray
    visit_desk: np.ndarray
    assigned: np.ndarray
    started: np.ndarray
    finished: np.ndarray
    outcome: np.ndarray
    pause_ticket: np.ndarray
    pause_start: np.ndarray
    pause_end: np.ndarray
    pause_reason: np.ndarray
    interrupted_desk: np.ndarray
    interrupted_start: np.ndarray
    interrupted_end: np.ndarray


class Ledger:
    """Visits, pauses and interrupted handling of one replication, as columns.

    A desk appends a new visit's row itself (``Desk.join``) and writes the columns of its
    visits in place, holding the lists directly: no call per visit on the hot path.
    """

    def __init__(self) -> None:
        self.visit_ticket: list[int] = []
        self.visit_desk: list[int] = []
        """Desk of each visit after the first visits reserved in advance."""
        self.assigned: list[float] = []
        """Assignment instant of each visit after the first visits reserved in advance."""
        self._reserved = 0
        self._reserved_desk = np.zeros(0, dtype=np.int16)
        self._reserved_assigned = np.zeros(0, dtype=np.float64)
        self.started: list[float] = []
        """First start of handling; NaN while the visit has never started."""
        self.finished: list[float] = []
        """End of the visit (handled, or abandoned); NaN while it is still open."""
        self.outcome: list[int] = []
        self.pause_ticket: list[int] = []
        self.pause_start: list[float] = []
        self.pause_end: list[float] = []
        self.pause_reason: list[int] = []
        self.interrupted_desk: list[int] = []
        self.interrupted_start: list[float] = []
        self.interrupted_end: list[float] = []
        self.resumed: dict[int, float] = {}
        """Visit -> start of its latest stretch of handling, for visits preempted and resumed."""
        self.suspended: set[int] = set()
        """Visits preempted and waiting to resume when the run ended."""
        self._columns: LedgerColumns | None = None

    def reserve_first_visits(self, desk: np.ndarray, assigned: np.ndarray) -> None:
        """Rows ``0 … n-1`` become the first visits of tickets ``0 … n-1``, known in advance
        (call before any other visit is recorded)."""
        n = assigned.size
        self._reserved = n
        self._reserved_desk = np.asarray(desk, dtype=np.int16)
        self._reserved_assigned = np.asarray(assigned, dtype=np.float64)
        self.visit_ticket.extend(range(n))
        self.started.extend([NAN] * n)
        self.finished.extend([NAN] * n)
        self.outcome.extend([OPEN] * n)

    def pause(self, ticket: int, start: float, end: float, reason: int) -> None:
        """Record a pause; ``end`` is NaN when the run ends first."""
        self.pause_ticket.append(ticket)
        self.pause_start.append(start)
        self.pause_end.append(end)
        self.pause_reason.append(reason)

    def forget_unarrived(self, first: int, count: int) -> None:
        """Tickets ``first … first+count−1``, whose first visits were reserved but which never
        arrived (the run ended first), are removed: their rows go, and later tickets and rows
        are numbered ``count`` lower (call after the run, before :meth:`columns`)."""
        if count <= 0:
            return
        if self._columns is not None:
            raise RuntimeError("forget_unarrived is for use before the columns are packed")
        end = first + count
        if end != self._reserved:
            raise ValueError("only the last reserved tickets can be forgotten")
        for column in (self.visit_ticket, self.started, self.finished, self.outcome):
            del column[first:end]
        self._reserved = first
        self._reserved_desk = self._reserved_desk[:first]
        self._reserved_assigned = self._reserved_assigned[:first]
        for column, start in ((self.visit_ticket, first), (self.pause_ticket, 0)):
            later = np.asarray(column[start:], dtype=np.int64)
            later[later >= end] -= count
            column[start:] = later.tolist()
        self.resumed = {(r - count if r >= end else r): t for r, t in self.resumed.items()}
        self.suspended = {r - count if r >= end else r for r in self.suspended}

    def interrupted(self, desk: int, start: float, end: float) -> None:
        """Record a stretch of handling cut short by preemption."""
        self.interrupted_desk.append(desk)
        self.interrupted_start.append(start)
        self.interrupted_end.append(end)

    @property
    def visits(self) -> int:
        return len(self.visit_ticket)

    def columns(self) -> LedgerColumns:
        """The columns as numpy arrays (call when the run is over; packed once)."""
        if self._columns is None:
            self._columns = LedgerColumns(
                visit_ticket=np.concatenate(
                    [
                        np.arange(self._reserved, dtype=np.int64),
                        _packed(self.visit_ticket[self._reserved :], "q", np.int64),
                    ]
                ),
                visit_desk=np.concatenate(
                    [self._reserved_desk, _packed(self.visit_desk, "h", np.int16)]
                ),
                assigned=np.concatenate(
                    [self._reserved_assigned, _packed(self.assigned, "d", np.float64)]
                ),
                started=_packed(self.started, "d", np.float64),
                finished=_packed(self.finished, "d", np.float64),
                outcome=_packed(self.outcome, "b", np.int8),
                pause_ticket=_packed(self.pause_ticket, "q", np.int64),
                pause_start=_packed(self.pause_start, "d", np.float64),
                pause_end=_packed(self.pause_end, "d", np.float64),
                pause_reason=_packed(self.pause_reason, "b", np.int8),
                interrupted_desk=_packed(self.interrupted_desk, "h", np.int16),
                interrupted_start=_packed(self.interrupted_start, "d", np.float64),
                interrupted_end=_packed(self.interrupted_end, "d", np.float64),
            )
        return self._columns

    def handling_stretches(self, end: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Every stretch of handling as ``(desk, start, end)`` arrays; open ones end at ``end``.

        Visits never started are left out; a preempted visit contributes its interrupted
        stretches and, unless it was still waiting to resume, its last one.
        """
        columns = self.columns()
        desk = columns.visit_desk
        start = columns.started.copy()
        if self.resumed:
            rows = np.fromiter(self.resumed.keys(), dtype=np.int64, count=len(self.resumed))
            start[rows] = np.fromiter(self.resumed.values(), dtype=np.float64, count=rows.size)
        if self.suspended:
            start[np.fromiter(self.suspended, dtype=np.int64, count=len(self.suspended))] = NAN
        finish = columns.finished
        stop = np.where(np.isnan(finish), end, finish)
        keep = ~np.isnan(start)
        return (
            np.concatenate([desk[keep], columns.interrupted_desk]),
            np.concatenate([start[keep], columns.interrupted_start]),
            np.concatenate([stop[keep], columns.interrupted_end]),
        )
