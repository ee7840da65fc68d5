"""Columns recorded while a support run is in progress.

Nothing per ticket survives as a Python object: each visit is a row index into typed
:class:`array.array` columns (C buffers that grow by over-allocation and become numpy arrays
without a copy), written when the visit opens and updated when it starts and ends.
"""

from __future__ import annotations

import math
from array import array

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
]

OPEN, RESOLVED, ROUTED, PAUSED, ABANDONED = range(5)
OUTCOMES = ("open", "resolved", "routed", "paused", "abandoned")
"""Visit outcome names by code."""

AWAITING_USER, REOPEN = range(2)
PAUSE_REASONS = ("awaiting user", "reopen")
"""Pause reasons by code."""

NAN = math.nan


class Ledger:
    """Visits, pauses and interrupted handling of one replication, as columns."""

    def __init__(self) -> None:
        self.visit_ticket = array("q")
        self.visit_desk = array("h")
        self.assigned = array("d")
        self.started = array("d")
        """First start of handling; NaN while the visit has never started."""
        self.finished = array("d")
        """End of the visit (handled, or abandoned); NaN while it is still open."""
        self.outcome = array("b")
        self.pause_ticket = array("q")
        self.pause_start = array("d")
        self.pause_end = array("d")
        self.pause_reason = array("b")
        self.interrupted_desk = array("h")
        self.interrupted_start = array("d")
        self.interrupted_end = array("d")
        self.resumed: dict[int, float] = {}
        """Visit -> start of its latest stretch of handling, for visits preempted and resumed."""
        self.suspended: set[int] = set()
        """Visits preempted and waiting to resume when the run ended."""

    def open_visit(self, ticket: int, desk: int, now: float) -> int:
        """Record a new visit assigned at ``now``, not yet started; return its row."""
        row = len(self.assigned)
        self.visit_ticket.append(ticket)
        self.visit_desk.append(desk)
        self.assigned.append(now)
        self.started.append(NAN)
        self.finished.append(NAN)
        self.outcome.append(OPEN)
        return row

    def reserve_first_visits(self, desk: np.ndarray, assigned: np.ndarray) -> None:
        """Rows ``0 … n-1`` become the first visits of tickets ``0 … n-1``, known in advance
        (call before any other visit is recorded)."""
        n = assigned.size
        self.visit_ticket.frombytes(np.arange(n, dtype=np.int64).tobytes())
        self.visit_desk.frombytes(np.asarray(desk, dtype=np.int16).tobytes())
        self.assigned.frombytes(np.asarray(assigned, dtype=np.float64).tobytes())
        self.started.frombytes(np.full(n, NAN).tobytes())
        self.finished.frombytes(np.full(n, NAN).tobytes())
        self.outcome.frombytes(np.full(n, OPEN, dtype=np.int8).tobytes())

    def pause(self, ticket: int, start: float, end: float, reason: int) -> None:
        """Record a pause; ``end`` is NaN when the run ends first."""
        self.pause_ticket.append(ticket)
        self.pause_start.append(start)
        self.pause_end.append(end)
        self.pause_reason.append(reason)

    def interrupted(self, desk: int, start: float, end: float) -> None:
        """Record a stretch of handling cut short by preemption."""
        self.interrupted_desk.append(desk)
        self.interrupted_start.append(start)
        self.interrupted_end.append(end)

    @property
    def visits(self) -> int:
        return len(self.assigned)

    def handling_stretches(self, end: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Every stretch of handling as ``(desk, start, end)`` arrays; open ones end at ``end``.

        Visits never started are left out; a preempted visit contributes its interrupted
        stretches and, unless it was still waiting to resume, its last one.
        """
        desk = np.frombuffer(self.visit_desk, dtype=np.int16)
        start = np.frombuffer(self.started, dtype=np.float64).copy()
        if self.resumed:
            rows = np.fromiter(self.resumed.keys(), dtype=np.int64, count=len(self.resumed))
            start[rows] = np.fromiter(self.resumed.values(), dtype=np.float64, count=rows.size)
        if self.suspended:
            start[np.fromiter(self.suspended, dtype=np.int64, count=len(self.suspended))] = NAN
        finish = np.frombuffer(self.finished, dtype=np.float64)
        stop = np.where(np.isnan(finish), end, finish)
        keep = ~np.isnan(start)
        return (
            np.concatenate([desk[keep], np.frombuffer(self.interrupted_desk, dtype=np.int16)]),
            np.concatenate([start[keep], np.frombuffer(self.interrupted_start, dtype=np.float64)]),
            np.concatenate([stop[keep], np.frombuffer(self.interrupted_end, dtype=np.float64)]),
        )
