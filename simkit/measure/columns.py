"""The columns of a ticket or visit table as numpy arrays, converted once per table.

Measuring many targets on one table reads the same columns for every target. Each column is
converted when first needed — instants to ``datetime64[us]`` (``NaT`` where null), names to
integer codes — and kept: :func:`ticket_columns` and :func:`visit_columns` return the same
object for the same table while that table is alive, so a loop over targets converts every
column once. Tables are immutable, so what was converted stays true.
"""

from __future__ import annotations

import weakref
from collections.abc import Iterable
from functools import cached_property
from typing import TypeVar

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from simkit.measure.clock import instants

__all__ = ["Names", "TicketColumns", "VisitColumns", "integers", "ticket_columns", "visit_columns"]

_NO_CODE = -2
"""The code of a name a column does not hold: equal to no row (a null row is −1)."""


def integers(column: pa.Array | pa.ChunkedArray, dtype: type[np.integer]) -> np.ndarray:
    """An integer column as a numpy array of ``dtype``."""
    return np.asarray(column.to_numpy(zero_copy_only=False)).astype(dtype, copy=False)


def _read_only(values: np.ndarray) -> np.ndarray:
    """``values``, which every measurement of the table shares, protected from writes."""
    values.setflags(write=False)
    return values


class Names:
    """A text column, compared with one name at a time or read as integer codes."""

    def __init__(self, column: pa.Array | pa.ChunkedArray) -> None:
        chunked = column if isinstance(column, pa.ChunkedArray) else pa.chunked_array([column])
        if pa.types.is_dictionary(chunked.type):
            chunked = chunked.cast(chunked.type.value_type)
        self._column = chunked
        self._masks: dict[str, np.ndarray] = {}
        self._encoding: tuple[np.ndarray, tuple[str, ...], dict[str, int]] | None = None

    def expect(self, values: Iterable[str]) -> None:
        """Announce the names that :meth:`equals` will be asked for: with more than one not
        compared yet, the column is encoded once (one pass) instead of compared once per name."""
        if len(set(values) - self._masks.keys()) > 1:
            self._encode()

    def equals(self, value: str) -> np.ndarray:
        """Read-only boolean mask of the rows holding exactly ``value`` (false where null)."""
        mask = self._masks.get(value)
        if mask is None:
            if self._encoding is not None or pa.types.is_null(self._column.type):
                mask = self.codes == self.code(value)
            else:
                equal = pc.equal(self._column, pa.scalar(value, self._column.type))
                if equal.null_count:  # null to false, on the bitmaps: null AND false is false
                    equal = pc.and_kleene(equal, pc.is_valid(equal))
                mask = np.asarray(equal.to_numpy(zero_copy_only=False), dtype=bool)
            self._masks[value] = _read_only(mask)
        return mask

    @property
    def codes(self) -> np.ndarray:
        """Per row the index of its name in :attr:`names`, −1 where null."""
        return self._encode()[0]

    @property
    def names(self) -> tuple[str, ...]:
        """The distinct names of the column."""
        return self._encode()[1]

    def code(self, value: str) -> int:
        """The code of ``value`` (one that no row has when the column never holds it)."""
        return self._encode()[2].get(value, _NO_CODE)

    def _encode(self) -> tuple[np.ndarray, tuple[str, ...], dict[str, int]]:
        if self._encoding is None:
            codes, names = self._dictionary_codes()
            index = {name: code for code, name in enumerate(names)}
            self._encoding = (_read_only(codes), names, index)
        return self._encoding

    def _dictionary_codes(self) -> tuple[np.ndarray, tuple[str, ...]]:
        if pa.types.is_null(self._column.type):
            return np.full(len(self._column), -1, dtype=np.int64), ()
        chunks = [chunk for chunk in self._column.dictionary_encode().chunks if len(chunk)]
        if not chunks:
            return np.empty(0, dtype=np.int64), ()
        dictionary = chunks[0].dictionary
        if not all(chunk.dictionary.equals(dictionary) for chunk in chunks[1:]):
            chunks = [self._column.combine_chunks().dictionary_encode()]
            dictionary = chunks[0].dictionary
        indices = pa.chunked_array([chunk.indices for chunk in chunks], chunks[0].indices.type)
        if indices.null_count:
            indices = pc.fill_null(indices, -1)
        codes = indices.to_numpy(zero_copy_only=False).astype(np.int64)
        return codes, tuple(str(name) for name in dictionary.to_pylist())


_Columns = TypeVar("_Columns", "TicketColumns", "VisitColumns")


class _TableColumns:
    """Columns of one table, each converted on first use; holds the table weakly."""

    def __init__(self, table: pa.Table) -> None:
        self._table_ref = weakref.ref(table)
        self._windows: dict[tuple[str, np.datetime64, np.datetime64], np.ndarray] = {}
        self.rows = table.num_rows

    @property
    def table(self) -> pa.Table:
        table = self._table_ref()
        if table is None:  # pragma: no cover - the caller holds the table while measuring
            raise RuntimeError("the table of these columns is gone")
        return table

    def _instants(self, name: str, label: str) -> np.ndarray:
        return _read_only(instants(self.table[name], label, copy=False))

    def _integers(self, name: str, dtype: type[np.integer]) -> np.ndarray:
        return _read_only(integers(self.table[name], dtype))

    def _names(self, name: str) -> Names:
        return Names(self.table[name])

    def _within(
        self, name: str, values: np.ndarray, start: np.datetime64, end: np.datetime64
    ) -> np.ndarray:
        """Read-only mask of the rows whose ``values`` lie in ``[start, end)``."""
        key = (name, start, end)
        mask = self._windows.get(key)
        if mask is None:
            micros = values.view(np.int64)  # NaT is the smallest int64: before any start
            lo, hi = (t.astype("datetime64[us]").astype(np.int64) for t in (start, end))
            mask = _read_only((micros >= lo) & (micros < hi))
            self._windows[key] = mask
        return mask


class TicketColumns(_TableColumns):
    """The columns of a ticket table that SLA measurement reads."""

    @cached_property
    def replication(self) -> np.ndarray:
        return self._integers("replication", np.int32)

    @cached_property
    def ticket_id(self) -> np.ndarray:
        return self._integers("ticket_id", np.int64)

    @cached_property
    def opened(self) -> np.ndarray:
        return self._instants("opened_at", "tickets.opened_at")

    def opened_within(self, start: np.datetime64, end: np.datetime64) -> np.ndarray:
        """Read-only mask of the tickets opened in ``[start, end)``."""
        return self._within("opened", self.opened, start, end)

    @cached_property
    def first_response(self) -> np.ndarray:
        return self._instants("first_response_at", "tickets.first_response_at")

    @cached_property
    def resolved(self) -> np.ndarray:
        return self._instants("resolved_at", "tickets.resolved_at")

    @cached_property
    def abandoned(self) -> np.ndarray:
        if "abandoned" not in self.table.column_names:
            return _read_only(np.zeros(self.rows, dtype=bool))
        values = pc.fill_null(self.table["abandoned"].cast(pa.bool_()), False)
        return _read_only(np.asarray(values.to_numpy(zero_copy_only=False), dtype=bool))

    @cached_property
    def service(self) -> Names:
        return self._names("service")

    @cached_property
    def customer(self) -> Names:
        return self._names("customer")

    @cached_property
    def priority(self) -> Names:
        return self._names("priority")


class VisitColumns(_TableColumns):
    """The columns of a visit table that OLA/UC and team measurement reads."""

    @cached_property
    def replication(self) -> np.ndarray:
        return self._integers("replication", np.int32)

    @cached_property
    def ticket_id(self) -> np.ndarray:
        return self._integers("ticket_id", np.int64)

    @cached_property
    def seq(self) -> np.ndarray:
        return self._integers("seq", np.int32)

    @cached_property
    def assigned(self) -> np.ndarray:
        return self._instants("assigned_at", "visits.assigned_at")

    def assigned_within(self, start: np.datetime64, end: np.datetime64) -> np.ndarray:
        """Read-only mask of the visits assigned in ``[start, end)``."""
        return self._within("assigned", self.assigned, start, end)

    def measured_within(self, start: np.datetime64, end: np.datetime64) -> np.ndarray:
        """Read-only mask of the visits assigned in ``[start, end)`` and not abandoned: those
        that OLAs and UCs measure."""
        key = ("measured", start, end)
        mask = self._windows.get(key)
        if mask is None:
            mask = self.assigned_within(start, end) & ~self.outcome.equals("abandoned")
            self._windows[key] = _read_only(mask)
        return mask

    @cached_property
    def started(self) -> np.ndarray:
        return self._instants("started_at", "visits.started_at")

    @cached_property
    def finished(self) -> np.ndarray:
        return self._instants("finished_at", "visits.finished_at")

    @cached_property
    def team(self) -> Names:
        return self._names("team")

    @cached_property
    def outcome(self) -> Names:
        return self._names("outcome")

    @cached_property
    def priority(self) -> Names:
        return self._names("priority")


_CACHE: dict[tuple[type[_TableColumns], int], tuple[weakref.ref[pa.Table], _TableColumns]] = {}


def _cached(kind: type[_Columns], table: pa.Table) -> _Columns:
    key = (kind, id(table))
    entry = _CACHE.get(key)
    if entry is not None and entry[0]() is table:
        found = entry[1]
        assert isinstance(found, kind)
        return found
    columns = kind(table)

    def forget(ref: weakref.ref[pa.Table]) -> None:
        current = _CACHE.get(key)
        if current is not None and current[0] is ref:
            _CACHE.pop(key, None)

    _CACHE[key] = (weakref.ref(table, forget), columns)
    return columns


def ticket_columns(tickets: pa.Table) -> TicketColumns:
    """The columns of ``tickets``, shared by every measurement of that table."""
    return _cached(TicketColumns, tickets)


def visit_columns(visits: pa.Table) -> VisitColumns:
    """The columns of ``visits``, shared by every measurement of that table."""
    return _cached(VisitColumns, visits)
