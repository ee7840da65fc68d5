"""Column helpers for cleaning: dictionary encoding, missing-value markers, duplicate rows.

Exports repeat their values a lot, so per-value work (trimming, marker lookup, mapping, date
parsing) is done once per distinct value of a dictionary-encoded column and spread over the rows
with one numpy take.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

__all__ = ["dictionary_codes", "duplicate_rows", "encoded", "strip_missing"]


def encoded(column: pa.ChunkedArray | pa.Array) -> pa.DictionaryArray:
    """A column as one dictionary array of strings (other types are written as text)."""
    if isinstance(column, pa.ChunkedArray):
        column = column.combine_chunks() if column.num_chunks else pa.array([], column.type)
    if pa.types.is_dictionary(column.type):
        if pa.types.is_string(column.type.value_type):
            return column
        column = column.cast(pa.string())
    elif not pa.types.is_string(column.type):
        column = column.cast(pa.string())
    result: pa.DictionaryArray = pc.dictionary_encode(column)
    return result


def dictionary_codes(column: pa.ChunkedArray | pa.Array) -> tuple[np.ndarray, pa.Array]:
    """Distinct values of a column (as an Arrow string array) and each row's index into them
    (``-1`` for null).

    Per-value decisions (priority mapping, state classes, date parsing) are made once per
    distinct value and spread over the rows with one numpy take.
    """
    dictionary = encoded(column)
    codes = pc.fill_null(dictionary.indices.cast(pa.int64()), -1)
    return np.asarray(codes.to_numpy(zero_copy_only=False), dtype=np.int64), dictionary.dictionary


def strip_missing(column: pa.ChunkedArray | pa.Array, markers: Sequence[str]) -> pa.DictionaryArray:
    """A column as a dictionary array with surrounding spaces removed and missing-value markers
    (``?``, ``#N/B`` …, compared after trimming) turned into nulls.

    The work is done once per distinct value: exports repeat their values a lot.
    """
    dictionary = encoded(column)
    values = dictionary.dictionary
    trimmed = pc.utf8_trim_whitespace(values)
    marker = pc.is_in(trimmed, value_set=pa.array(sorted(set(markers)), pa.string()))
    if not pc.any(pc.not_equal(trimmed, values)).as_py():
        if not pc.any(marker).as_py():
            return dictionary
        positions = pa.array(np.flatnonzero(marker.to_numpy(zero_copy_only=False)), pa.int32())
        hidden = pc.is_in(dictionary.indices, value_set=positions)
        indices = pc.if_else(hidden, pa.scalar(None, pa.int32()), dictionary.indices)
        hidden_markers: pa.DictionaryArray = pa.DictionaryArray.from_arrays(indices, values)
        return hidden_markers
    unique = pc.dictionary_encode(trimmed)
    remap = np.asarray(unique.indices.to_numpy(zero_copy_only=False), dtype=np.int64)
    remap = np.where(np.asarray(marker.to_numpy(zero_copy_only=False), bool), -1, remap)
    old = np.asarray(
        pc.fill_null(dictionary.indices.cast(pa.int64()), -1).to_numpy(zero_copy_only=False),
        dtype=np.int64,
    )
    new = np.where(old >= 0, remap[np.maximum(old, 0)], -1) if remap.size else old
    result: pa.DictionaryArray = pa.DictionaryArray.from_arrays(
        pa.array(new.astype(np.int32), mask=new < 0), unique.dictionary
    )
    return result


def duplicate_rows(table: pa.Table, columns: Sequence[str]) -> np.ndarray:
    """Which rows repeat an earlier row exactly in ``columns`` (the first copy is not flagged;
    missing values equal missing values). Arrow's hash grouping finds each row combination's
    first row."""
    n = table.num_rows
    if n < 2 or not columns:
        return np.zeros(n, dtype=bool)
    keys = {f"k{i}": table[name] for i, name in enumerate(columns)}
    grouped = pa.table({**keys, "row": pa.array(np.arange(n, dtype=np.int64))})
    firsts = grouped.group_by(list(keys), use_threads=False).aggregate([("row", "min")])
    flagged = np.ones(n, dtype=bool)
    flagged[np.asarray(firsts["row_min"].to_numpy(), dtype=np.int64)] = False
    return flagged
