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
