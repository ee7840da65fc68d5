"""Reading ticket exports into Arrow: CSV (any delimiter, UTF-8 / UTF-16 / Latin-1), Parquet and
XES event logs, each optionally gzip / xz / bzip2 compressed.

The container is recognised by its magic bytes, not its name. Every read is streamed through a
counter of *decompressed* bytes, so a file over the size limit — a gzip bomb included — is refused
as soon as the limit is passed, never unpacked. CSV and XES values arrive as strings (the mapping
profile parses them); Parquet keeps its own column types. Every table carries a ``__row`` column:
the 1-based data row (CSV, Parquet) or event (XES) number that problems are reported against.

The parts: :mod:`~simkit.calibrate.readers_stream` (limited streams, row numbers),
:mod:`~simkit.calibrate.readers_sniff` (recognising the file) and
:mod:`~simkit.calibrate.readers_xes` (XES); this module opens and reads an export.
"""

from __future__ import annotations

import codecs
import io
import lzma
import re
import xml.etree.ElementTree as ET
import zlib
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import pyarrow as pa
import pyarrow.csv as pv
import pyarrow.parquet as pq

from simkit.calibrate.readers_sniff import (
    _MAGIC,
    _REFUSED_MAGIC,
    _header,
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
    misnamed
        The compression the file's name claims (``gzip`` for ``.gz``) when its content is not
        compressed that way (it is read as what it is, and a note says so); else ``""``.
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
    misnamed: str = ""
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
