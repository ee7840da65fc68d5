"""XES event logs as columns: event attributes by key, trace attributes as ``case:<key>``, values
kept as the strings XES writes, one ``__row`` per event.

Internal to :class:`simkit.calibrate.readers.Export`; nothing here is public.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from itertools import chain
from typing import IO

import pyarrow as pa

from simkit.calibrate.readers_stream import ROW_COLUMN, _row_numbers

__all__: list[str] = []

_XES_NS = re.compile(r"^\{[^}]*\}")
_XES_CHUNK = 65_536


class _XesColumns:
    """Events of an XES log as columns: event attributes by key, trace attributes as
    ``case:<key>``; values kept as the strings XES writes (dates in ISO 8601).

    Events are gathered as small dicts and turned into Arrow every :data:`_XES_CHUNK` events, so
    memory stays close to the size of the Arrow table.
    """

    def __init__(self, wanted: set[str] | None) -> None:
        self.wanted = wanted
        self.seen: dict[str, None] = {}
        self.rows: list[dict[str, str]] = []
        self.chunks: list[pa.Table] = []
        self.events = 0
        self.traces = 0
        """Traces read (tickets), with or without events."""
        self.orphans = 0
        """Events outside any trace (not read: they belong to no ticket)."""

    @property
    def order(self) -> list[str]:
        """Every attribute key seen, in order of first appearance."""
        return list(self.seen)

    def _flush(self) -> None:
        if not self.rows:
            return
        keys = dict.fromkeys(chain.from_iterable(self.rows))
        self.seen.update(keys)
        if self.wanted is not None:
            keys = {k: None for k in keys if k in self.wanted}
        rows = self.rows
        if keys:
            self.chunks.append(
                pa.table({k: pa.array([r.get(k) for r in rows], pa.string()) for k in keys})
            )
        self.events += len(rows)
        self.rows = []

    def parse(self, stream: IO[bytes]) -> None:
        last: ET.Element | None = None
        for _, element in ET.iterparse(stream, events=("end",)):
            last = element
            tag = element.tag
            if tag == "trace" or tag.endswith("}trace"):
                self.traces += 1
                trace = {f"case:{k}": v for k, v in _attributes(element).items()}
                for child in element:
                    if child.tag == "event" or child.tag.endswith("}event"):
                        attributes = _attributes(child)
                        attributes.update(trace)
                        self.rows.append(attributes)
                element.clear()
                if len(self.rows) >= _XES_CHUNK:
                    self._flush()
        self._flush()
        if last is None or _XES_NS.sub("", last.tag) != "log":
            raise ET.ParseError("the root element is not <log>: not an XES event log")
        self.orphans = sum(1 for c in last if c.tag == "event" or c.tag.endswith("}event"))

    def table(self) -> pa.Table:
        n = self.events
        if not self.chunks:
            return pa.table({ROW_COLUMN: _row_numbers(n)})
        table = pa.concat_tables(self.chunks, promote_options="permissive").combine_chunks()
        table = table.select([k for k in self.seen if k in table.column_names])
        return table.append_column(ROW_COLUMN, _row_numbers(n))


def _attributes(element: ET.Element) -> dict[str, str]:
    """Direct typed attributes (``<string key= value=>`` …) of an event or trace."""
    return {
        key: child.get("value", "") for child in element if (key := child.get("key")) is not None
    }
