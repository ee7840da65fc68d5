"""Recognising what an export holds before it is read: refused containers by their magic bytes,
compression, text encoding, binary content, the CSV delimiter and a de-duplicated header.

Internal to :func:`simkit.calibrate.readers.open_export`; nothing here is public.
"""

from __future__ import annotations

import codecs
import csv
import io

__all__: list[str] = []

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

CP1252 = "cp1252"
"""The encoding name used for Windows-1252 text (see :func:`_decode_cp1252`)."""


def _cp1252_table() -> dict[int, str]:
    """Latin-1 character → Windows-1252 character for the bytes 0x80–0x9F where the two differ
    (``’ – € “ ”`` …); the five bytes Windows-1252 leaves undefined are not in the table."""
    table: dict[int, str] = {}
    for byte in range(0x80, 0xA0):
        try:
            table[byte] = bytes([byte]).decode("cp1252")
        except UnicodeDecodeError:
            continue
    return table


_CP1252_TABLE = _cp1252_table()


def _decode_cp1252(data: bytes) -> str:
    """Windows-1252 bytes as text; the five bytes it leaves undefined (0x81, 0x8D, 0x8F, 0x90,
    0x9D) read as Latin-1 instead of failing.

    Exports that are not UTF-8 almost always come from Windows (Excel, Windows-1252). Latin-1
    would turn its ``’ – € “ ”`` into invisible C1 control characters, and Python's strict
    ``cp1252`` codec would refuse a file over one undefined byte. Decoding byte by byte keeps any
    split of the stream into chunks safe.
    """
    return data.decode("latin-1").translate(_CP1252_TABLE)


def _is_cp1252(encoding: str) -> bool:
    """Whether ``encoding`` names Windows-1252 (``cp1252``, ``windows-1252`` …)."""
    try:
        return codecs.lookup(encoding).name == CP1252
    except LookupError:
        return False


def _text_encoding(sample: bytes) -> tuple[str, str]:
    """``(encoding, sample decoded)``: UTF-16 by its byte-order mark, UTF-8 (with or without
    its mark) when the sample is valid UTF-8, otherwise Windows-1252 (:data:`CP1252`)."""
    if sample.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "utf-16", sample.decode("utf-16", errors="ignore")
    body = sample[3:] if sample.startswith(codecs.BOM_UTF8) else sample
    try:
        text = codecs.getincrementaldecoder("utf-8")().decode(body, final=False)
    except UnicodeDecodeError:
        return CP1252, _decode_cp1252(body)
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
