"""Reading ticket exports into Arrow: CSV (any delimiter, UTF-8 / UTF-16 / Windows-1252), Parquet
and XES event logs, each optionally gzip / xz / bzip2 compressed.

The container is recognised by its magic bytes, not its name. Every read is streamed through a
counter of *decompressed* bytes, so a file over the size limit — a gzip bomb included — is refused
as soon as the limit is passed, never unpacked. CSV and XES values arrive as strings (the mapping
profile parses them); Parquet keeps its own column types. Every table carries a ``__row`` column:
the 1-based data row (CSV, Parquet) or event (XES) number that problems are reported against.
For a CSV file the data row is the n-th record after the header, the rows skipped for the wrong
number of fields included, so every rule of the quality report numbers rows alike (without
values over several lines or blank lines, data row n is line n + 1 of the file).

A CSV value that swallows later lines of the file because its quote is never closed is refused
with the line it opens on, never read as one long value or one skipped row.

The parts: :mod:`~simkit.calibrate.readers_stream` (limited streams, row numbers),
:mod:`~simkit.calibrate.readers_sniff` (recognising the file) and
:mod:`~simkit.calibrate.readers_xes` (XES); this module opens and reads an export.
"""

from __future__ import annotations

import codecs
import csv
import io
import lzma
import re
import xml.etree.ElementTree as ET
import zlib
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pv
import pyarrow.parquet as pq

from simkit.calibrate.readers_sniff import (
    _MAGIC,
    _REFUSED_MAGIC,
    CP1252,
    _decode_cp1252,
    _header,
    _is_cp1252,
    _looks_binary,
    _sniff_delimiter,
    _text_encoding,
    _unique_names,
)
from simkit.calibrate.readers_stream import (
    _BLOCK_BYTES,
    _MAX_BLOCK_BYTES,
    ROW_COLUMN,
    _decompressed,
    _empty,
    _head,
    _Limited,
    _row_numbers,
    _size,
    _TooLarge,
)
from simkit.calibrate.readers_stream import Compression as Compression
from simkit.calibrate.readers_xes import _XesColumns
from simkit.errors import InputError, Problem

__all__ = ["ROW_COLUMN", "Export", "MalformedRow", "check_column_types", "open_export"]

Format = Literal["csv", "parquet", "xes"]

_NAMED_COMPRESSION = {".gz": "gzip", ".gzip": "gzip", ".xz": "xz", ".bz2": "bz2"}
"""File suffix → the compression the name claims."""
_NAMED_FORMAT: dict[str, Format] = {".parquet": "parquet", ".xes": "xes"}
"""File suffix (before any compression suffix) → the format the name claims."""
_FORMAT_NAMES = {"csv": "CSV", "parquet": "Parquet", "xes": "XES"}
_FORMAT_SIGNS = {
    "parquet": "a Parquet file begins and ends with the bytes PAR1",
    "xes": "an XES event log is XML, beginning with <?xml or <log",
}


_EXAMPLES = 5
"""Malformed rows kept as examples."""
_PARQUET_BATCH_ROWS = 65_536
"""Rows of a Parquet file decoded at a time, each batch counted against the size limit."""
_TEXT_CHARS = 1000
"""Characters of a malformed row's text kept."""
_SWALLOWS = 10
"""Values that look like an unclosed quote kept (the first in the file is reported)."""


@dataclass(frozen=True)
class MalformedRow:
    """A CSV row with the wrong number of fields, skipped and reported.

    Attributes
    ----------
    row
        Its 1-based data row: the n-th record after the header, skipped rows included — the
        scheme of every ``__row`` number and quality-report example; ``None`` if unknown.
    line
        The line of the file the row starts on (the header is line 1; blank lines, which the
        reader skips, are not counted); ``None`` if unknown.
    expected, actual
        The number of fields in the header and in the row.
    text
        The row as written (its first 1,000 characters).
    last
        Whether it is the last row of the file (one cut short there means a truncated file).
    """

    row: int | None
    line: int | None
    expected: int
    actual: int
    text: str
    last: bool = False


@dataclass(frozen=True)
class _Swallow:
    """A value that holds line breaks whose lines look like rows of the file: the trace of a
    quote opened and not closed where it should have been. ``good`` is the position among the
    rows read (a row with the right number of fields), ``row`` the data row of a skipped one;
    ``breaks`` the line breaks in the value, ``chars`` its length after its first line, and
    ``rowlike`` how many of its lines look like rows; ``ends_line`` whether it ends with a line
    break (at the end of the file that break ends the last line rather than adding one)."""

    good: int | None
    row: int | None
    column: str
    breaks: int
    chars: int
    rowlike: int
    ends_line: bool
    actual: int | None = None
    expected: int | None = None


class _CsvScan:
    """What one pass of Arrow's CSV reader saw besides the rows it returned.

    Arrow calls :meth:`on_invalid` for every row with the wrong number of fields (it is skipped)
    and every batch read goes through :meth:`batch`. From both the scan knows each row's data
    row number (the skipped rows numbered in their place), the line each row starts on (values
    holding line breaks move the later rows down), and the values that swallowed later lines
    because a quote was never closed.
    """

    def __init__(self, names: Sequence[str], delimiter: str) -> None:
        self.names = list(names)
        self.delimiter = delimiter
        self.good = 0
        self.skipped = 0
        self.bad_rows: list[int] = []
        self.examples: list[MalformedRow] = []
        self.last_bad: MalformedRow | None = None
        self.numbered = True
        self.break_rows: list[np.ndarray] = []
        self.break_counts: list[np.ndarray] = []
        self.bad_breaks: list[tuple[int, int]] = []
        self.swallows: list[_Swallow] = []
        # A line counts as a row when it has a delimiter for every field after the first. A note
        # over several lines can hold one such line (a list of items), so a value is taken to
        # have swallowed rows from two of them — three in a narrow file, where prose needs
        # fewer delimiters to pass for a row.
        self.rowlike_needed = 2 if len(self.names) >= 5 else 3
        needed = max(1, len(self.names) - 1)
        self._rowlike_pattern = "\n(?:[^\n]*" + re.escape(delimiter) + "){" + str(needed) + "}"

    def on_invalid(self, row: Any) -> str:
        """Arrow's handler for a row with the wrong number of fields: note it, skip it."""
        number = int(row.number) if row.number is not None else -1
        data_row = number - 1 if number > 1 else None
        text = str(row.text)
        self.skipped += 1
        if data_row is None:
            self.numbered = False
        else:
            self.bad_rows.append(data_row)
        bad = MalformedRow(
            data_row, None, int(row.expected_columns), int(row.actual_columns), text[:_TEXT_CHARS]
        )
        if len(self.examples) < _EXAMPLES:
            self.examples.append(bad)
        self.last_bad = bad
        breaks = text.count("\n")
        if breaks and data_row is not None:
            self.bad_breaks.append((data_row, breaks))
            rowlike = self._rowlike(text)
            # A row skipped for its field count whose text holds lines that look like rows has
            # swallowed them; a short row over two lines is a note broken by a stray quote or
            # delimiter, reported as malformed like any other.
            if len(self.swallows) < _SWALLOWS and rowlike >= self.rowlike_needed:
                first = text.split("\n", 1)[0]
                self.swallows.append(
                    _Swallow(
                        None,
                        data_row,
                        self._open_column(first),
                        breaks,
                        len(text) - len(first),
                        rowlike,
                        text.endswith("\n"),
                        bad.actual,
                        bad.expected,
                    )
                )
        return "skip"

    def batch(self, batch: pa.RecordBatch) -> None:
        """Count the line breaks in each row's values (every column, read or not)."""
        breaks: np.ndarray | None = None
        for name, column in zip(batch.schema.names, batch.columns, strict=True):
            if not _has_line_break(column):
                continue
            counts = np.asarray(
                pc.fill_null(pc.count_substring(column, "\n"), 0).to_numpy(zero_copy_only=False),
                dtype=np.int64,
            )
            breaks = counts if breaks is None else breaks + counts
            if len(self.swallows) >= _SWALLOWS:
                continue
            # lines that look like rows, per value, counted by Arrow (no Python loop over values)
            rowlike_counts = np.asarray(
                pc.fill_null(pc.count_substring_regex(column, self._rowlike_pattern), 0).to_numpy(
                    zero_copy_only=False
                ),
                dtype=np.int64,
            )
            at = np.flatnonzero(rowlike_counts >= self.rowlike_needed)
            values = column.take(pa.array(at)).to_pylist()
            for position, value in zip(at.tolist(), values, strict=True):
                rowlike = self._rowlike(value)
                if rowlike >= self.rowlike_needed:
                    first = value.split("\n", 1)[0]
                    self.swallows.append(
                        _Swallow(
                            self.good + position,
                            None,
                            name,
                            int(counts[position]),
                            len(value) - len(first),
                            rowlike,
                            value.endswith("\n"),
                        )
                    )
                    break
        if breaks is not None:
            at = np.flatnonzero(breaks)
            self.break_rows.append(self.good + at)
            self.break_counts.append(breaks[at])
        self.good += batch.num_rows

    def _rowlike(self, text: str) -> int:
        """How many lines after the first of ``text`` have a delimiter for every field."""
        needed = len(self.names) - 1
        if needed < 1:
            return 0
        return sum(1 for line in text.split("\n")[1:] if line.count(self.delimiter) >= needed)

    def _open_column(self, line: str) -> str:
        """The column whose quote is still open at the end of ``line`` (a row's first line)."""
        fields = next(csv.reader([line.rstrip("\r")], delimiter=self.delimiter), [])
        index = len(fields) - 1
        return self.names[index] if 0 <= index < len(self.names) else ""

    # -- after the pass ---------------------------------------------------------------------
    @property
    def total(self) -> int:
        """Data rows seen: read and skipped."""
        return self.good + self.skipped

    def row_numbers(self) -> np.ndarray:
        """The data row of each row read, in order (skipped rows keep their numbers)."""
        total = self.total
        if not self.bad_rows or not self.numbered or max(self.bad_rows) > total:
            return np.arange(1, self.good + 1, dtype=np.int64)
        skipped = np.zeros(total + 1, dtype=bool)
        skipped[0] = True
        skipped[np.asarray(self.bad_rows, dtype=np.int64)] = True
        return np.flatnonzero(~skipped).astype(np.int64)

    def lines(self, rows: np.ndarray) -> _Lines:
        """Data row → the line of the file it starts on (``rows``: :meth:`row_numbers`)."""
        good = np.concatenate([np.zeros(0, np.int64), *self.break_rows])
        starts = np.concatenate(
            [rows[good], np.asarray([r for r, _ in self.bad_breaks], dtype=np.int64)]
        )
        counts = np.concatenate(
            [
                np.zeros(0, np.int64),
                *self.break_counts,
                np.asarray([b for _, b in self.bad_breaks], dtype=np.int64),
            ]
        )
        order = np.argsort(starts, kind="stable")
        before = np.concatenate([[0], np.cumsum(counts[order])]).astype(np.int64)
        return _Lines(starts[order], before)

    def first_swallow(self, rows: np.ndarray) -> tuple[_Swallow, int] | None:
        """The value nearest the start of the file that swallowed rows, with its data row."""
        found = [(int(rows[s.good]) if s.good is not None else s.row, s) for s in self.swallows]
        known = [(row, s) for row, s in found if row is not None]
        if not known:
            return None
        row, swallow = min(known, key=lambda pair: pair[0])
        return swallow, row


@dataclass(frozen=True)
class _Lines:
    """Data row → line of the file: row + 1 (the header) + the line breaks inside the values of
    the rows before it."""

    starts: np.ndarray
    before: np.ndarray

    def __call__(self, row: int | None) -> int | None:
        if row is None:
            return None
        return row + 1 + int(self.before[int(np.searchsorted(self.starts, row))])


def _has_line_break(column: pa.Array) -> bool:
    """Whether any value of a string column may hold a line break (a fast look at its bytes)."""
    buffers = column.buffers()
    data = buffers[2] if len(buffers) > 2 else None
    return data is not None and data.size > 0 and bool(np.any(np.frombuffer(data, np.uint8) == 10))


class _Utf8FromCp1252(io.RawIOBase):
    """A stream of Windows-1252 bytes handed on as UTF-8, for Arrow's CSV reader.

    Arrow decodes other encodings with Python's strict codecs, which refuse a Windows-1252 file
    over any of the five bytes it leaves undefined; :func:`_decode_cp1252` reads those as
    Latin-1.
    """

    def __init__(self, inner: io.RawIOBase) -> None:
        super().__init__()
        self._inner = inner
        self._pending = b""
        self._at = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        view = memoryview(buffer).cast("B")
        if self._at >= len(self._pending):
            chunk = self._inner.read(max(1, len(view) // 2))
            if not chunk:
                return 0
            self._pending = _decode_cp1252(chunk).encode("utf-8")
            self._at = 0
        n = min(len(view), len(self._pending) - self._at)
        view[:n] = self._pending[self._at : self._at + n]
        self._at += n
        return n

    def close(self) -> None:
        self._inner.close()
        super().close()


@dataclass
class Export:
    """An opened export: what it is, its columns, and how to read it.

    Attributes
    ----------
    path, name
        The file and its name for messages.
    format, compression
        ``csv``, ``parquet`` or ``xes``; the compression recognised from the magic bytes.
    columns
        Column names (CSV header de-duplicated, Parquet schema); ``None`` for XES until read.
    encoding, delimiter
        For CSV: the text encoding and the field delimiter used.
    max_bytes
        The decompressed size limit.
    malformed
        Rows skipped because they had the wrong number of fields (CSV), filled by :meth:`read`:
        the first five, as examples.
    cut_short
        The file's last row when it was skipped with fewer fields than the header: the file
        looks truncated (CSV, filled by :meth:`read`); else ``None``.
    orphan_events
        XES events outside any trace, not read (they belong to no ticket).
    traces
        XES traces read (filled by :meth:`read`).
    notes
        Plain-language notes on how the file was read (encoding fallback, renamed columns).
    misnamed
        The compression the file's name claims (``gzip`` for ``.gz``) when its content is not
        compressed that way (it is read as what it is, and a note says so); else ``""``.
    misnamed_format
        The format the file's name claims (``parquet`` for ``.parquet``, ``xes`` for ``.xes``)
        when its content is not that format (it is read as what it is, and a note says so);
        else ``None``.
    """

    path: Path
    name: str
    format: Format
    compression: Compression
    columns: tuple[str, ...] | None
    max_bytes: int
    encoding: str = "utf-8"
    delimiter: str = ","
    malformed: list[MalformedRow] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    orphan_events: int = 0
    traces: int = 0
    misnamed: str = ""
    misnamed_format: Format | None = None
    cut_short: MalformedRow | None = None
    _malformed_count: int = 0

    @property
    def malformed_count(self) -> int:
        """Number of rows skipped for the wrong number of fields (examples in ``malformed``)."""
        return self._malformed_count

    def read(self, columns: Sequence[str] | None = None) -> pa.Table:
        """Read the export (only ``columns`` when given) plus the ``__row`` column.

        Raises
        ------
        simkit.errors.InputError
            Over the size limit, truncated or corrupt compression, unreadable rows.
        """
        wanted = list(dict.fromkeys(columns)) if columns is not None else None
        try:
            if self.format == "csv":
                table = self._read_csv(wanted)
            elif self.format == "parquet":
                table = self._read_parquet(wanted)
            else:
                table = self._read_xes(wanted)
        except _TooLarge:
            raise self._too_large() from None
        except (EOFError, zlib.error, lzma.LZMAError, OSError) as error:
            raise self._corrupt(error) from None
        except UnicodeDecodeError as error:
            byte = error.object[error.start : error.start + 1].hex()
            raise InputError.single(
                f"the file is not {self.encoding} text ({error.reason}: byte 0x{byte})",
                "name the export's encoding in the profile (csv.encoding, e.g. utf-8 or "
                "cp1252), or leave it out to have it detected",
                file=self.name,
            ) from None
        return table

    # -- streams --------------------------------------------------------------------------------
    def _stream(self) -> _Limited:
        return _Limited(_decompressed(self.path, self.compression), self.max_bytes)

    def _too_large(self) -> InputError:
        what = "decompressed, it is" if self.compression else "it is"
        return InputError.single(
            f"the export is too large: {what} more than the limit of {_size(self.max_bytes)}",
            "raise the limit (--max-bytes / max_bytes=) if the file is genuine, or export a "
            "shorter period",
            file=self.name,
        )

    def _corrupt(self, error: BaseException) -> InputError:
        if self.compression and isinstance(error, EOFError | zlib.error | lzma.LZMAError):
            return InputError.single(
                f"the {self.compression} file is truncated or corrupt ({error})",
                "download or copy the export again; check that it unpacks with "
                f"{'gunzip' if self.compression == 'gzip' else self.compression} -t",
                file=self.name,
            )
        return InputError.single(
            f"cannot read the export: {error}", "check the file", file=self.name
        )

    # -- CSV ------------------------------------------------------------------------------------
    def _read_csv(self, columns: list[str] | None) -> pa.Table:
        """Read the CSV rows; a block too small for one row is retried larger (a long value
        is legitimate up to 256 MB), text that turns out not to be UTF-8 as Windows-1252."""
        block = _BLOCK_BYTES
        while True:
            try:
                table, scan = self._read_csv_as(columns, self.encoding, block)
            except pa.ArrowInvalid as error:
                text = str(error)
                if "invalid UTF8" in text and self.encoding in ("utf-8", "utf-8-sig"):
                    self.notes.append(
                        "the file is not valid UTF-8 beyond its first lines: read as "
                        "Windows-1252 (Latin-1 for the five bytes Windows-1252 leaves undefined)"
                    )
                    self.encoding = CP1252
                elif "straddl" in text and block < _MAX_BLOCK_BYTES:
                    block *= 8
                else:
                    raise self._csv_error(error, block) from None
            else:
                return self._scanned(table, scan)

    def _read_csv_as(
        self, columns: list[str] | None, encoding: str, block: int
    ) -> tuple[pa.Table, _CsvScan]:
        """One pass of Arrow's CSV reader over every column (line breaks are counted in all of
        them, so a quote left open in a column not asked for is found too); only ``columns``
        are kept."""
        assert self.columns is not None
        names = list(self.columns)
        include = columns if columns is not None else names
        scan = _CsvScan(names, self.delimiter)
        cp1252 = _is_cp1252(encoding)
        read_options = pv.ReadOptions(
            column_names=names,
            skip_rows=1,
            block_size=block,
            encoding="utf-8" if cp1252 else encoding,
            use_threads=False,
        )
        parse_options = pv.ParseOptions(
            delimiter=self.delimiter, newlines_in_values=True, invalid_row_handler=scan.on_invalid
        )
        convert_options = pv.ConvertOptions(
            column_types=dict.fromkeys(names, pa.string()),
            strings_can_be_null=True,
            quoted_strings_can_be_null=True,
            null_values=[""],
        )
        batches: list[pa.RecordBatch] = []
        with self._stream() as raw:
            source: io.RawIOBase = _Utf8FromCp1252(raw) if cp1252 else raw
            with io.BufferedReader(source, buffer_size=_BLOCK_BYTES) as stream:
                try:
                    reader = pv.open_csv(
                        stream,
                        read_options=read_options,
                        parse_options=parse_options,
                        convert_options=convert_options,
                    )
                except StopIteration:
                    reader = None
                for batch in reader or ():
                    scan.batch(batch)
                    batches.append(batch.select(include))
        if not batches:
            return _empty(include).drop_columns([ROW_COLUMN]), scan
        return pa.Table.from_batches(batches), scan

    def _scanned(self, table: pa.Table, scan: _CsvScan) -> pa.Table:
        """Number the rows read, keep what the scan found; refuse a quote left open."""
        rows = scan.row_numbers()
        line = scan.lines(rows)
        swallowed = scan.first_swallow(rows)
        if swallowed is not None:
            raise self._unclosed_quote(*swallowed, line, scan.total)
        self._malformed_count = scan.skipped
        self.malformed = [
            replace(m, line=line(m.row), last=m.row == scan.total) for m in scan.examples
        ]
        last = scan.last_bad
        self.cut_short = None
        if last is not None and last.row == scan.total and last.actual < last.expected:
            self.cut_short = replace(last, line=line(last.row), last=True)
        return table.append_column(ROW_COLUMN, pa.array(rows[: table.num_rows]))

    def _unclosed_quote(self, swallow: _Swallow, row: int, line: _Lines, total: int) -> InputError:
        """The error for a value whose quote is never closed (or closed lines too late)."""
        start = line(row)
        to_end = row == total
        lines = swallow.breaks - (1 if to_end and swallow.ends_line else 0)
        where = f"line {start:,}" if start is not None else "one row"
        value = f"the {swallow.column!r} value" if swallow.column else "a value"
        reach = (
            "to the end of the file"
            if to_end or start is None
            else f"to line {start + swallow.breaks:,}"
        )
        shape = (
            f"; read so, the row has {swallow.actual} fields where the header has "
            f"{swallow.expected}"
            if swallow.actual is not None
            else ""
        )
        looks = f" ({swallow.rowlike:,} of them look like rows)" if swallow.rowlike else ""
        return InputError.single(
            f"an unclosed quote: {value} opening with a quote on {where} runs on over the next "
            f"{lines:,} lines ({reach}, {_size(swallow.chars)} of text), so they were "
            f"read as part of that one value, not as rows{looks}{shape}",
            f'close the quote on {where} (every opening " needs its closing one, and a " '
            'inside a quoted value is written ""), or export the file again with proper CSV '
            "quoting",
            file=self.name,
            line=start,
            path=swallow.column,
        )

    def _csv_error(self, error: pa.ArrowInvalid, block: int) -> InputError:
        text = str(error)
        if "straddl" in text:
            return InputError.single(
                f"a row of the CSV file is longer than {_size(block)}: an unclosed quote "
                "probably runs on to the end of the file",
                'check the quoting of the export (every opening " needs its closing one)',
                file=self.name,
            )
        match = re.search(r"CSV column #(\d+)", text)
        column = ""
        if match and self.columns is not None and int(match.group(1)) < len(self.columns):
            column = self.columns[int(match.group(1))]
        row = re.search(r"[Rr]ow #?(\d+)", text)
        return InputError.single(
            f"cannot read the CSV file: {text}",
            "check the delimiter, quoting and encoding of the export (the profile's csv "
            "settings, or --delimiter)",
            file=self.name,
            line=int(row.group(1)) if row else None,
            path=column,
        )

    # -- Parquet --------------------------------------------------------------------------------
    def _parquet_source(self) -> Any:
        if self.compression is None:
            return str(self.path)
        with self._stream() as stream:
            return io.BytesIO(stream.read())

    def _read_parquet(self, columns: list[str] | None) -> pa.Table:
        try:
            parquet = pq.ParquetFile(self._parquet_source())
            meta = parquet.metadata
            size = sum(meta.row_group(i).total_byte_size for i in range(meta.num_row_groups))
            if size > self.max_bytes:
                raise _TooLarge
            # The row groups' sizes are as stored: a dictionary- or run-length-encoded column
            # decodes to far more. The decoded batches are counted as they come, so a small
            # file that would decode to gigabytes stops at the limit.
            schema = parquet.schema_arrow
            if columns is not None:
                schema = pa.schema([schema.field(c) for c in columns if c in schema.names])
            batches = []
            decoded = 0
            for batch in parquet.iter_batches(batch_size=_PARQUET_BATCH_ROWS, columns=columns):
                decoded += batch.nbytes
                if decoded > self.max_bytes:
                    raise _TooLarge
                batches.append(batch)
            table = pa.Table.from_batches(batches, schema=schema)
        except (pa.ArrowInvalid, pa.ArrowIOError) as error:
            raise InputError.single(
                f"cannot read the Parquet file: {error}",
                "check that the file is a complete Parquet file",
                file=self.name,
            ) from None
        return table.append_column(ROW_COLUMN, _row_numbers(table.num_rows))

    # -- XES ------------------------------------------------------------------------------------
    def _read_xes(self, columns: list[str] | None) -> pa.Table:
        with self._stream() as raw, io.BufferedReader(raw, buffer_size=_BLOCK_BYTES) as stream:
            collected = _XesColumns(set(columns) if columns is not None else None)
            try:
                collected.parse(stream)
            except ET.ParseError as error:
                line, _ = getattr(error, "position", (None, None))
                raise InputError.single(
                    f"the XES file is not well-formed XML: {error}",
                    "the file is probably truncated or not XES; export the event log again",
                    file=self.name,
                    line=line,
                ) from None
        self.columns = tuple(collected.order)
        self.orphan_events = collected.orphans
        self.traces = collected.traces
        table = collected.table()
        if columns is not None:
            present = [c for c in columns if c in table.column_names]
            table = table.select([*present, ROW_COLUMN])
        return table


def _ends_with_par1(source: str | io.BytesIO) -> bool:
    """Whether a Parquet file (a path, or the bytes of a decompressed one) ends with its footer's
    magic bytes ``PAR1``: one that does not is cut short or damaged."""
    if isinstance(source, io.BytesIO):
        return source.getvalue()[-4:] == b"PAR1"
    with open(source, "rb") as handle:
        handle.seek(0, io.SEEK_END)
        if handle.tell() < 8:
            return False
        handle.seek(-4, io.SEEK_END)
        return handle.read(4) == b"PAR1"


def _note_misnamed_format(
    export: Export, suffix: str, claimed: Format | None, sample: bytes
) -> None:
    """Note that the file's name claims a format (``.parquet``, ``.xes``) its content is not:
    it is read as what it is, and if it then lacks the columns the first problem says so."""
    if claimed is None or claimed == export.format:
        return
    export.misnamed_format = claimed
    export.notes.append(
        f"the file is named {suffix} but is not {_FORMAT_NAMES[claimed]} "
        f"({_FORMAT_SIGNS[claimed]}; this one begins {sample[:16]!r}): read as "
        f"{_FORMAT_NAMES[export.format]}, what its content is"
    )


def _readable_type(kind: pa.DataType) -> bool:
    """Whether a column of this type can be read as text (every value written as a string):
    text, numbers, booleans, dates, times and timestamps can; lists, structs, maps and
    intervals cannot."""
    if pa.types.is_dictionary(kind):
        return _readable_type(kind.value_type)
    if pa.types.is_nested(kind):
        return False
    try:
        pa.array([], kind).cast(pa.string())
    except (pa.ArrowNotImplementedError, pa.ArrowInvalid, pa.ArrowTypeError):
        return False
    return True


def check_column_types(
    table: pa.Table,
    *,
    file: str,
    fields: Mapping[str, str],
    times: Collection[str] = (),
) -> None:
    """Refuse columns whose values cannot be read as one value per row.

    A Parquet file keeps its own column types; a list, struct, map or interval column (a
    ``priority`` written as ``struct<a: int64>``) holds no single text, number or time per row.

    Parameters
    ----------
    table
        The columns read.
    file
        The export's name for messages.
    fields
        Column name → the field(s) it is read as (``"priority"``), for messages.
    times
        Columns holding times (a timestamp or text column is expected).

    Raises
    ------
    simkit.errors.InputError
        One problem per such column, naming the column, its type and the type expected.
    """
    problems = []
    for name in table.column_names:
        kind = table.schema.field(name).type
        if name == ROW_COLUMN or _readable_type(kind):
            continue
        field_name = fields.get(name, "")
        is_time = name in times
        expected = (
            "a timestamp, or text dates"
            if is_time
            else "text (string), or a plain number / boolean / date"
        )
        role = f" ({field_name})" if field_name else ""
        problems.append(
            Problem(
                file=file,
                line=None,
                path=name,
                message=(
                    f"column {name!r}{role} has type {kind}, which holds no single value per "
                    f"row; expected {expected}"
                ),
                fix=(
                    f"write {name!r} to the export as "
                    + ("a timestamp or string" if is_time else "a string")
                    + " column (flatten the nested value), or map the field to another column"
                ),
            )
        )
    if problems:
        raise InputError(problems)


def open_export(
    path: str | Path,
    *,
    max_bytes: int,
    delimiter: str | None = None,
    encoding: str | None = None,
) -> Export:
    """Open a ticket export: recognise its compression and format, read the CSV header.

    Parameters
    ----------
    path
        The export file.
    max_bytes
        Refuse a file larger than this once decompressed.
    delimiter, encoding
        Force the CSV delimiter / text encoding instead of sniffing them.

    Returns
    -------
    Export
        Call :meth:`Export.read` for the table.

    Raises
    ------
    simkit.errors.InputError
        A missing, empty, binary, refused (zip, xlsx, PDF …) or over-sized file.
    """
    path = Path(path)
    name = str(path)
    if not path.exists():
        raise InputError.single(f"no such file: {name}", "check the path", file=name)
    if path.is_dir():
        raise InputError.single(f"{name} is a folder, not an export", "name the file", file=name)
    if max_bytes < 1:
        raise InputError.single(
            f"the size limit must be positive, got {max_bytes}", "e.g. max_bytes=2**30", file=name
        )
    with open(path, "rb") as handle:
        magic = handle.read(8)
    if not magic:
        raise InputError.single(
            "the file is empty", "export the tickets again: the file has no content", file=name
        )
    for prefix, what, fix in _REFUSED_MAGIC:
        if magic.startswith(prefix):
            raise InputError.single(f"the file is {what}, not a ticket export", fix, file=name)
    compression: Compression = None
    for prefix, kind in _MAGIC:
        if magic.startswith(prefix):
            compression = kind  # type: ignore[assignment]
    if compression is None and path.stat().st_size > max_bytes:
        raise InputError.single(
            f"the export is too large: {_size(path.stat().st_size)}, more than the limit of "
            f"{_size(max_bytes)}",
            "raise the limit (--max-bytes / max_bytes=) if the file is genuine, or export a "
            "shorter period",
            file=name,
        )
    try:
        sample = _head(path, compression, max_bytes)
    except (EOFError, zlib.error, lzma.LZMAError, OSError) as error:
        raise InputError.single(
            f"the {compression} file is truncated or corrupt ({error})",
            "download or copy the export again",
            file=name,
        ) from None
    export = Export(path, name, "csv", compression, None, max_bytes)
    claimed = _NAMED_COMPRESSION.get(path.suffix.lower())
    if claimed is not None and claimed != compression:
        export.misnamed = claimed
        actual = f"it is {compression}-compressed" if compression else f"it begins {magic!r}"
        export.notes.append(
            f"the file is named {path.suffix} but is not {claimed}-compressed ({actual}): "
            "read as what its content is"
        )
    format_suffix = (path.with_suffix("") if claimed is not None else path).suffix.lower()
    claimed_format = _NAMED_FORMAT.get(format_suffix)
    if not sample.strip():
        raise InputError.single(
            "the file is empty" + (" once decompressed" if compression else ""),
            "export the tickets again: the file has no rows",
            file=name,
        )
    if sample.startswith(b"PAR1"):
        export.format = "parquet"
        source = export._parquet_source() if compression else str(path)
        if not _ends_with_par1(source):
            raise InputError.single(
                "the Parquet file is truncated or damaged: it begins with the bytes PAR1 but "
                "does not end with them",
                "download or copy the export again in full",
                file=name,
            )
        try:
            export.columns = tuple(pq.read_schema(source).names)
        except (pa.ArrowInvalid, OSError) as error:
            raise InputError.single(
                f"cannot read the Parquet file: {error}",
                "check that the file is a complete Parquet file",
                file=name,
            ) from None
        _note_misnamed_format(export, format_suffix, claimed_format, sample)
        return export
    stripped = sample.lstrip(codecs.BOM_UTF8).lstrip()
    if stripped.startswith((b"<?xml", b"<log", b"<!--")):
        export.format = "xes"
        _note_misnamed_format(export, format_suffix, claimed_format, sample)
        return export
    chosen, text = _text_encoding(sample)
    if _looks_binary(sample, chosen):
        if claimed_format is not None:
            raise InputError.single(
                f"the file is named {format_suffix} but is not {_FORMAT_NAMES[claimed_format]} "
                f"({_FORMAT_SIGNS[claimed_format]}; this one begins {sample[:8]!r}), nor "
                + " or ".join(n for f, n in _FORMAT_NAMES.items() if f != claimed_format)
                + ": it is some other binary file",
                f"export the tickets again as {_FORMAT_NAMES[claimed_format]} (or CSV) and "
                "pass that file",
                file=name,
            )
        raise InputError.single(
            "the file is binary, not a CSV, Parquet or XES ticket export",
            "export the tickets as CSV (or Parquet / XES) and pass that file",
            file=name,
        )
    _note_misnamed_format(export, format_suffix, claimed_format, sample)
    if encoding is not None:
        chosen = encoding
        if _is_cp1252(encoding):
            text = _decode_cp1252(sample)
        else:
            text = sample.decode(encoding, errors="replace")
    elif chosen == CP1252:
        export.notes.append(
            "the file is not UTF-8: read as Windows-1252 (Latin-1 for the five bytes "
            "Windows-1252 leaves undefined)"
        )
    export.encoding = chosen
    export.delimiter = delimiter or _sniff_delimiter(text)
    header = _header(text, export.delimiter)
    if not any(h.strip() for h in header):
        raise InputError.single(
            "the CSV file has no header row", "the first line must name the columns", file=name
        )
    names, notes = _unique_names(header)
    export.columns = tuple(names)
    export.notes.extend(notes)
    return export
