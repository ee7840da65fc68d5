"""The SLA clock: business time on a target's calendar, stopped inside pauses.

The clock of an item (a ticket, or a visit to a team) runs from its ``begin`` instant on the open
time of a calendar, minus the business time of the item's pauses — each pause converted on the
same calendar, so a pause over a weekend costs only its business part. Everything here is
vectorised over items and pauses: pauses are attached to items by sorting, and the few scans
that must run within an item's pauses step over *positions* (first pause of every item, then the
second, …), never over rows.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

import numpy as np
import pyarrow as pa

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

__all__ = [
    "BREACHED",
    "MET",
    "OPEN",
    "TOLERANCE_H",
    "BusinessClock",
    "ClockReadings",
    "ItemPauses",
    "attach_pauses",
    "breach_instants",
    "instants",
    "match_items",
    "net_hours",
]

TOLERANCE_H = 1e-9
"""Clock readings within this many hours (about 4 µs) of a target count as on the target."""

MET, BREACHED, OPEN = 0, 1, 2
"""Status codes of a measured item: met, breached, or still open (reported, not measured)."""

_NAT = np.datetime64("NaT", "us")
_US_PER_HOUR = 3_600_000_000


class BusinessClock(Protocol):
    """What the measurement needs from a calendar (see :class:`simkit.calendar.Calendar`)."""

    def elapsed(self, start: np.ndarray, end: np.ndarray) -> np.ndarray: ...

    def open_time(self, *instants: np.ndarray) -> tuple[np.ndarray, ...]: ...

    def add(self, start: np.ndarray, hours: np.ndarray) -> np.ndarray: ...


def instants(
    column: pa.Array | pa.ChunkedArray, name: str = "column", *, copy: bool = True
) -> np.ndarray:
    """A timestamp column as ``datetime64[us]`` UTC instants, ``NaT`` where null.

    With ``copy=False`` the array may share (read-only) memory with the column.

    Raises
    ------
    TypeError
        When the column does not hold timestamps.
    """
    if not pa.types.is_timestamp(column.type):
        raise TypeError(f"{name} must be a timestamp column, got {column.type}")
    values = column.to_numpy(zero_copy_only=False)
    return np.asarray(values).astype("datetime64[us]", copy=copy)


@dataclass(frozen=True)
class ItemPauses:
    """The pauses of a set of items, sorted by item then start, and non-overlapping.

    ``owner[i]`` is the index of the item pause *i* belongs to; ``start``/``end`` are
    ``datetime64[us]`` with ``start <= end`` (a pause still running ends at the observation
    instant).
    """

    owner: np.ndarray
    start: np.ndarray
    end: np.ndarray

    @classmethod
    def none(cls) -> ItemPauses:
        return cls(
            np.empty(0, np.int64),
            np.empty(0, "datetime64[us]"),
            np.empty(0, "datetime64[us]"),
        )

    def subset(self, keep: np.ndarray) -> ItemPauses:
        """The pauses of the items where ``keep`` (a boolean mask over items) is true,
        renumbered to index the kept items."""
        if self.owner.size == 0:
            return self
        rows = keep[self.owner]
        owner = np.searchsorted(np.flatnonzero(keep), self.owner[rows]).astype(np.int64)
        return ItemPauses(owner, self.start[rows], self.end[rows])


def _scan_previous(
    owner: np.ndarray,
    values: np.ndarray,
    combine: Callable[[np.ndarray, np.ndarray], np.ndarray],
    initial: object,
) -> np.ndarray:
    """For rows sorted by ``owner``: ``combine`` folded over the previous rows of the same owner
    (``initial`` for an owner's first row). Steps over positions within owners, so the cost is
    one numpy call per position of the longest run, and O(rows) in total."""
    out = np.empty_like(values)
    n = owner.size
    if n == 0:
        return out
    first = np.flatnonzero(np.concatenate(([True], owner[1:] != owner[:-1])))
    sizes = np.diff(np.concatenate((first, [n])))
    order = np.argsort(-sizes, kind="stable")
    first, sizes = first[order], sizes[order]
    out[first] = initial
    descending = -sizes
    for k in range(1, int(sizes[0])):
        rows = first[: np.searchsorted(descending, -k, side="left")] + k
        out[rows] = combine(out[rows - 1], values[rows - 1])
    return out


def _pair_keys(replication: np.ndarray, ticket_id: np.ndarray) -> np.ndarray:
    """One int64 per ``(replication, ticket_id)`` pair, ordered as the pairs are: the offsets
    from the smallest values when they fit, else the ranks of the values."""
    if replication.dtype.kind in "iu" and ticket_id.dtype.kind in "iu" and ticket_id.size:
        rep_lo, rep_hi = int(replication.min()), int(replication.max())
        id_lo, id_hi = int(ticket_id.min()), int(ticket_id.max())
        width = id_hi - id_lo + 1
        bound = max(abs(rep_lo), abs(rep_hi), abs(id_lo), abs(id_hi))
        if (rep_hi - rep_lo + 1) * width < 2**62 and bound < 2**62:
            key: np.ndarray = replication.astype(np.int64)
            key -= rep_lo
            key *= width
            key += ticket_id.astype(np.int64, copy=False)
            key -= id_lo
            return key
    ids, id_rank = np.unique(ticket_id, return_inverse=True)
    _, rep_rank = np.unique(replication, return_inverse=True)
    ranked: np.ndarray = rep_rank.astype(np.int64) * ids.size + id_rank
    return ranked


def match_items(
    item_replication: np.ndarray,
    item_id: np.ndarray,
    replication: np.ndarray,
    ticket_id: np.ndarray,
) -> np.ndarray:
    """Index of the item with the same ``(replication, ticket_id)`` for every row, −1 if none.
    Items must be unique on that key."""
    n = item_id.size
    if n == 0:
        return np.full(ticket_id.size, -1, dtype=np.int64)
    key = _pair_keys(
        np.concatenate((item_replication, replication)), np.concatenate((item_id, ticket_id))
    )
    item_key, row_key = key[:n], key[n:]
    order: np.ndarray | None = None
    sorted_key = item_key
    if not (item_key[1:] > item_key[:-1]).all():
        order = np.argsort(item_key, kind="stable")
        sorted_key = item_key[order]
    position = np.minimum(np.searchsorted(sorted_key, row_key), n - 1)
    found = sorted_key[position] == row_key
    index = position if order is None else order[position]
    return np.where(found, index, -1).astype(np.int64)


def attach_pauses(
    item_replication: np.ndarray,
    item_id: np.ndarray,
    pauses: pa.Table | None,
    observed_until: np.datetime64,
) -> ItemPauses:
    """Join ``pauses`` rows (``replication, ticket_id, start, end``) to items by
    ``(replication, ticket_id)``.

    Pauses of other items are dropped; pauses starting at or after ``observed_until`` have not
    happened yet; a pause without end (still paused) or ending later ends at ``observed_until``.
    Overlapping pauses of one item are merged, so no stopped time is subtracted twice.
    """
    if pauses is None or pauses.num_rows == 0 or item_id.size == 0:
        return ItemPauses.none()
    now = observed_until.astype("datetime64[us]")
    start = instants(pauses["start"], "pauses.start")
    end = instants(pauses["end"], "pauses.end")
    owner = match_items(
        item_replication,
        item_id,
        pauses["replication"].to_numpy(zero_copy_only=False),
        pauses["ticket_id"].to_numpy(zero_copy_only=False),
    )
    keep = (owner >= 0) & ~np.isnat(start) & (start < now)
    owner, start, end = owner[keep], start[keep], end[keep]
    end = np.where(np.isnat(end) | (end > now), now, end)
    order = np.lexsort((start, owner))
    owner, start, end = owner[order], start[order], end[order]
    end_us = end.view(np.int64)
    latest_before = _scan_previous(owner, end_us, np.maximum, np.iinfo(np.int64).min)
    start = np.maximum(start.view(np.int64), latest_before).view("datetime64[us]")
    end = np.maximum(end, start)
    return ItemPauses(owner.astype(np.int64), start, end)


def _clip(values: np.ndarray, low: np.ndarray, high: np.ndarray) -> np.ndarray:
    clipped: np.ndarray = np.minimum(np.maximum(values, low), high)
    return clipped


def net_hours(
    calendar: BusinessClock,
    begin: np.ndarray,
    stop: np.ndarray,
    pauses: ItemPauses,
) -> np.ndarray:
    """Business hours from ``begin`` to ``stop`` of each item minus the business hours of its
    pauses inside that span, on ``calendar``. ``stop`` must not be before ``begin``."""
    total = np.asarray(calendar.elapsed(begin, stop), dtype=np.float64)
    return _less_pauses(calendar, total, begin, stop, pauses)


def _less_pauses(
    calendar: BusinessClock,
    total: np.ndarray,
    begin: np.ndarray,
    stop: np.ndarray,
    pauses: ItemPauses,
) -> np.ndarray:
    """``total`` business hours from ``begin`` to ``stop`` of each item less the business hours
    of its pauses inside that span."""
    if pauses.owner.size == 0:
        return total
    low, high = begin[pauses.owner], stop[pauses.owner]
    start = _clip(pauses.start, low, high)
    end = _clip(pauses.end, start, high)
    stopped = np.asarray(calendar.elapsed(start, end), dtype=np.float64)
    return np.maximum(total - np.bincount(pauses.owner, stopped, minlength=begin.size), 0.0)


def breach_instants(
    calendar: BusinessClock,
    begin: np.ndarray,
    within_h: float,
    pauses: ItemPauses,
) -> np.ndarray:
    """The instant at which each item's clock reaches ``within_h`` business hours.

    Exact, without iteration: between pauses the clock is ``F(t) − F(begin) − stopped so far``,
    constant inside a pause. The clock reaches the target before pause *i* when its reading at
    the start of pause *i* is at least ``within_h``; the breach instant is then
    ``F⁻¹(F(begin) + within_h + business time of the earlier pauses)``, or with every pause
    counted when no pause comes after the target is reached.
    """
    target = np.full(begin.size, within_h, dtype=np.float64)
    if pauses.owner.size:
        owner = pauses.owner
        start = np.maximum(pauses.start, begin[owner])
        end = np.maximum(pauses.end, start)
        stopped = np.asarray(calendar.elapsed(start, end), dtype=np.float64)
        stopped_before = _scan_previous(owner, stopped, np.add, 0.0)
        reading = np.asarray(calendar.elapsed(begin[owner], start), dtype=np.float64)
        reading -= stopped_before
        extra = np.bincount(owner, stopped, minlength=begin.size)
        reached = np.flatnonzero(reading >= within_h)
        first_owner, first_row = np.unique(owner[reached], return_index=True)
        extra[first_owner] = stopped_before[reached[first_row]]
        target += extra
    return np.asarray(calendar.add(begin, target)).astype("datetime64[us]")


@dataclass(frozen=True, eq=False)
class ClockReadings:
    """The clocks of a set of items on one calendar, read once for every target that shares
    the calendar and the clock's stop (respond or resolve): each target then only compares
    the readings with its own ``within_h``.

    ``until`` is the stop, or ``observed_until`` for an item still running (``closed`` false),
    and ``time_h`` the net business hours from ``begin`` to ``until``.
    """

    calendar: BusinessClock
    begin: np.ndarray
    until: np.ndarray
    closed: np.ndarray
    time_h: np.ndarray
    pauses: ItemPauses

    @classmethod
    def read(
        cls,
        calendar: BusinessClock,
        begin: np.ndarray,
        stop: np.ndarray,
        pauses: ItemPauses,
        observed_until: np.datetime64,
    ) -> ClockReadings:
        """Read the clocks of items that begin at ``begin`` and stop at ``stop`` (``NaT``:
        not stopped); a stop after ``observed_until`` is not known yet."""
        return cls.read_stops(calendar, begin, [stop], pauses, observed_until)[0]

    @classmethod
    def read_stops(
        cls,
        calendar: BusinessClock,
        begin: np.ndarray,
        stops: Sequence[np.ndarray],
        pauses: ItemPauses,
        observed_until: np.datetime64,
    ) -> list[ClockReadings]:
        """:meth:`read` for each of several stops of the same items (such as the response and
        the resolution), reading the calendar's open time at ``begin`` once for all."""
        closed = [stop <= observed_until for stop in stops]  # false where NaT
        untils = [np.where(c, stop, observed_until) for c, stop in zip(closed, stops, strict=True)]
        for until in untils:
            np.maximum(until, begin, out=until)
        begin_open, *until_open = calendar.open_time(begin, *untils)
        readings = []
        for until, stopped, open_micros in zip(untils, closed, until_open, strict=True):
            open_micros -= begin_open
            total = open_micros / _US_PER_HOUR
            time_h = _less_pauses(calendar, total, begin, until, pauses)
            readings.append(cls(calendar, begin, until, stopped, time_h, pauses))
        return readings

    def judge(
        self, within_h: float, items: np.ndarray | None = None
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Net time, status code and stop/breach instant of each item against ``within_h``.

        Parameters
        ----------
        within_h
            The target in business hours.
        items
            Increasing indices of the items judged (default: all of them).

        Returns
        -------
        time_h, status, stop_at
            ``time_h`` is +∞ for an item breached while still running and NaN while ``OPEN``;
            ``stop_at`` is the stop, the breach instant of an item breached while running, or
            ``NaT`` while ``OPEN``.
        """
        if items is None:
            time_h, closed, until = self.time_h.copy(), self.closed, self.until
        else:
            time_h, closed, until = self.time_h[items], self.closed[items], self.until[items]
        over = time_h > within_h + TOLERANCE_H
        status = np.full(time_h.size, MET, dtype=np.int8)
        status[over] = BREACHED
        running = ~(closed | over)
        status[running] = OPEN
        stop_at = np.where(closed, until, _NAT)
        late = over & ~closed
        if late.any():
            late_items = np.flatnonzero(late) if items is None else items[late]
            keep = np.zeros(self.begin.size, dtype=bool)
            keep[late_items] = True
            stop_at[late] = breach_instants(
                self.calendar, self.begin[late_items], within_h, self.pauses.subset(keep)
            )
            time_h[late] = np.inf
        time_h[running] = np.nan
        return time_h, status, stop_at
