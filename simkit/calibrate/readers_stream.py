"""What every export reader shares: decompressed byte streams that stop at the size limit, and
the ``__row`` column that problems are reported against.

Every read is streamed through a counter of *decompressed* bytes, so a file over the limit — a
gzip bomb included — is refused as soon as the limit is passed, never unpacked.
"""

from __future__ import annotations

import bz2
import gzip
import io
import lzma
from collections.abc import Sequence
from pathlib import Path
from typing import IO, Any, Literal

import numpy as np
import pyarrow as pa

__all__ = ["ROW_COLUMN", "Compression"]

ROW_COLUMN = "__row"
"""Name of the row-number column every reader adds."""
Compression = Literal["gzip", "xz", "bz2"] | None
_SAMPLE_BYTES = 64 * 1024
_BLOCK_BYTES = 4 * 1024 * 1024
_MAX_BLOCK_BYTES = 256 * 1024 * 1024


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
