"""Reading ticket exports into Arrow: CSV (any delimiter, UTF-8 / UTF-16 / Latin-1), Parquet and
XES event logs, each optionally gzip / xz / bzip2 compressed.

The container is recognised by its magic bytes, not its name. Every read is streamed through a
counter of *decompressed* bytes, so a file over the size limit — a gzip bomb included — is refused
as soon as the limit is passed, never unpacked. CSV and XES values arrive as strings (the mapping
profile parses them); Parquet keeps its own column types. Every table carries a ``__row`` column:
the 1-based data row (CSV, Parquet) or event (XES) number that problems are reported against.
"""

from __future__ import annotations

import bz2
import codecs
import csv
import gzip
import io
import lzma
import re
import xml.etree.ElementTree as ET
import zlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from itertools import chain
from pathlib import Path
from typing import IO, Any, Literal

import numpy as np
import pyarrow as pa
import pyarrow.csv as pv
import pyarrow.parquet as pq

from simkit.errors import InputError

__all__ = [
    "ROW_COLUMN",
    "Export",
    "MalformedRow",
    "open_export",
]

ROW_COLUMN = "__row"
"""Name of the row-number column every reader adds."""

Format = Literal["csv", "parquet", "xes"]
Compression = Literal["gzip", "xz", "bz2"] | None

_SAMPLE_BYTES = 64 * 1024
_BLOCK_BYTES = 4 * 1024 * 1024
_MAX_BLOCK_BYTES = 256 * 1024 * 1024
_MAGIC: tuple[tuple[bytes, str], ...] = (
    (b"\x1f\x8b", "gzip"),
    (b"\xfd7zXZ\x00", "xz"),
    (b"BZh", "bz2"),
)
_REFUSED_MAGIC: tuple[tuple[bytes, str, str], ...] = (
    (
        b"PK\x03\x04",
        "a zip archive (an Excel .xlsx is one too)",
        "unzip it, or save the sheet as CSV, and pass the CSV file",
    ),
    (b"\x28\xb5\x2f\xfd", "zstandard-compressed", "decompress it (zstd -d) or use gzip / xz"),
    (b"\xd0\xcf\x11\xe0", "an old Excel .xls workbook", "save the sheet as CSV"),
    (b"%PDF", "a PDF document", "export the tickets as CSV, Parquet or XES"),
)
_DELIMITERS = ",;\t|"
_XES_NS = re.compile(r"^\{[^}]*\}")
_XES_CHUNK = 65_536


class _TooLarge(Exception):
    """Raised inside a read once more than the allowed decompressed bytes went through."""


class _Limited(io.RawIOBase):
    """A binary stream that raises :class:`_TooLarge` once ``limit`` bytes have been read."""

    def __init__(self, inner: IO[bytes], limit: int) -> None:
        super().__init__()
        self._inner = inner
        self._limit = limit
        self.count = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        view = memoryview(buffer)
        data = self._inner.read(min(len(view), self._limit - self.count + 1))
        n = len(data)
        view[:n] = data
        self.count += n
        if self.count > self._limit:
            raise _TooLarge
        return n

    def close(self) -> None:
        self._inner.close()
        super().close()


@dataclass(frozen=True)
class MalformedRow:
    """A CSV row with the wrong number of fields, skipped and reported."""

    line: int | None
    expected: int
    actual: int
    text: str


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
        Rows skipped because they had the wrong number of fields (CSV), filled by :meth:`read`.
    orphan_events
        XES events outside any trace, not read (they belong to no ticket).
    notes
        Plain-language notes on how the file was read (encoding fallback, renamed columns).
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
        block = _BLOCK_BYTES
        while True:
            self.malformed.clear()
            self._malformed_count = 0
            try:
                return self._read_csv_as(columns, self.encoding, block)
            except pa.ArrowInvalid as error:
                text = str(error)
                if "invalid UTF8" in text and self.encoding in ("utf-8", "utf-8-sig"):
                    self.notes.append(
                        "the file is not valid UTF-8 beyond its first lines: read as Latin-1"
                    )
                    self.encoding = "latin-1"
                elif "straddl" in text and block < _MAX_BLOCK_BYTES:
                    block *= 8
                else:
                    raise self._csv_error(error, block) from None

    def _read_csv_as(self, columns: list[str] | None, encoding: str, block: int) -> pa.Table:
        assert self.columns is not None
        names = list(self.columns)
        include = columns if columns is not None else names

        def on_invalid(row: Any) -> str:
            self._malformed_count += 1
            if len(self.malformed) < 5:
                self.malformed.append(
                    MalformedRow(row.number, row.expected_columns, row.actual_columns, row.text)
                )
            return "skip"

        read_options = pv.ReadOptions(
            column_names=names,
            skip_rows=1,
            block_size=block,
            encoding=encoding,
            use_threads=False,
        )
        parse_options = pv.ParseOptions(
            delimiter=self.delimiter, newlines_in_values=True, invalid_row_handler=on_invalid
        )
        convert_options = pv.ConvertOptions(
            column_types=dict.fromkeys(names, pa.string()),
            include_columns=include,
            strings_can_be_null=True,
            quoted_strings_can_be_null=True,
            null_values=[""],
        )
        with self._stream() as raw, io.BufferedReader(raw, buffer_size=_BLOCK_BYTES) as stream:
            try:
                reader = pv.open_csv(
                    stream,
                    read_options=read_options,
                    parse_options=parse_options,
                    convert_options=convert_options,
                )
            except StopIteration:
                return _empty(include)
            batches = list(reader)
        if not batches:
            return _empty(include)
        table = pa.Table.from_batches(batches)
        return table.append_column(ROW_COLUMN, _row_numbers(table.num_rows))

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
            table = parquet.read(columns=columns)
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
        table = collected.table()
        if columns is not None:
            present = [c for c in columns if c in table.column_names]
            table = table.select([*present, ROW_COLUMN])
        return table


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


# -- opening ----------------------------------------------------------------------------------


def _decompressed(path: Path, compression: Compression) -> IO[bytes]:
    if compression == "gzip":
        return gzip.GzipFile(path, "rb")  # type: ignore[return-value]
    if compression == "xz":
        return lzma.open(path, "rb")
    if compression == "bz2":
        return bz2.open(path, "rb")
    return open(path, "rb")


def _size(n: int) -> str:
    for unit, scale in (("GB", 1024**3), ("MB", 1024**2), ("kB", 1024)):
        if n >= scale:
            return f"{n / scale:,.1f} {unit}"
    return f"{n:,} bytes"


def _row_numbers(n: int) -> pa.Array:
    return pa.array(np.arange(1, n + 1, dtype=np.int64))


def _empty(names: Sequence[str]) -> pa.Table:
    arrays = {name: pa.array([], pa.string()) for name in names}
    arrays[ROW_COLUMN] = pa.array([], pa.int64())
    return pa.table(arrays)


def _head(path: Path, compression: Compression, limit: int) -> bytes:
    stream = _Limited(_decompressed(path, compression), limit)
    chunks: list[bytes] = []
    size = 0
    try:
        with stream:
            while size < _SAMPLE_BYTES:
                chunk = stream.read(_SAMPLE_BYTES - size)
                if not chunk:
                    break
                chunks.append(chunk)
                size += len(chunk)
    except _TooLarge:
        pass
    return b"".join(chunks)


def _text_encoding(sample: bytes) -> tuple[str, str]:
    """``(encoding for Arrow, sample decoded)``."""
    if sample.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "utf-16", sample.decode("utf-16", errors="ignore")
    body = sample[3:] if sample.startswith(codecs.BOM_UTF8) else sample
    try:
        text = codecs.getincrementaldecoder("utf-8")().decode(body, final=False)
    except UnicodeDecodeError:
        return "latin-1", body.decode("latin-1")
    return ("utf-8-sig" if body is not sample else "utf-8"), text


def _sniff_delimiter(text: str) -> str:
    lines = text.splitlines()
    head = "\n".join(lines[:50])
    try:
        return csv.Sniffer().sniff(head, delimiters=_DELIMITERS).delimiter
    except csv.Error:
        first = lines[0] if lines else ""
        counts = {d: first.count(d) for d in _DELIMITERS}
        best = max(counts, key=lambda d: counts[d])
        return best if counts[best] else ","


def _header(text: str, delimiter: str) -> list[str]:
    rows = csv.reader(io.StringIO(text), delimiter=delimiter)
    try:
        return next(rows)
    except (StopIteration, csv.Error):
        return []


def _unique_names(names: list[str]) -> tuple[list[str], list[str]]:
    seen: dict[str, int] = {}
    out: list[str] = []
    notes: list[str] = []
    for raw in names:
        name = raw.strip().lstrip("\ufeff") or "column"
        if name in seen:
            seen[name] += 1
            renamed = f"{name} ({seen[name]})"
            notes.append(f"the header names {name!r} more than once: the repeat is {renamed!r}")
            name = renamed
        else:
            seen[name] = 1
        out.append(name)
    return out, notes


def _looks_binary(sample: bytes, encoding: str) -> bool:
    if encoding == "utf-16":
        return False
    if b"\x00" in sample:
        return True
    controls = sum(1 for b in sample[:4096] if b < 32 and b not in (9, 10, 13, 12))
    return controls > max(8, len(sample[:4096]) // 20)


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
    if not sample.strip():
        raise InputError.single(
            "the file is empty" + (" once decompressed" if compression else ""),
            "export the tickets again: the file has no rows",
            file=name,
        )
    if sample.startswith(b"PAR1"):
        export.format = "parquet"
        source = export._parquet_source() if compression else str(path)
        try:
            export.columns = tuple(pq.read_schema(source).names)
        except (pa.ArrowInvalid, OSError) as error:
            raise InputError.single(
                f"cannot read the Parquet file: {error}",
                "check that the file is a complete Parquet file",
                file=name,
            ) from None
        return export
    stripped = sample.lstrip(codecs.BOM_UTF8).lstrip()
    if stripped.startswith((b"<?xml", b"<log", b"<!--")):
        export.format = "xes"
        return export
    chosen, text = _text_encoding(sample)
    if _looks_binary(sample, chosen):
        raise InputError.single(
            "the file is binary, not a CSV, Parquet or XES ticket export",
            "export the tickets as CSV (or Parquet / XES) and pass that file",
            file=name,
        )
    if encoding is not None:
        chosen = encoding
        text = sample.decode(encoding, errors="replace")
    elif chosen == "latin-1":
        export.notes.append(
            "the file is not UTF-8: read as Latin-1 (Windows-1252 text reads alike)"
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
