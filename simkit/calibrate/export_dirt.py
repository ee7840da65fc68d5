"""The dirt of a real export, added to a clean one at random with a fixed seed: missing values,
incidents without a priority, day-first times, incidents opened after their resolution and
duplicated rows.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pyarrow as pa

__all__ = ["add_dirt"]


def _day_first(text: np.ndarray) -> np.ndarray:
    """``2025-01-31 14:05:09`` → ``31/01/2025 14:05:09``."""
    return np.asarray(
        [f"{t[8:10]}/{t[5:7]}/{t[0:4]} {t[11:]}" for t in text.tolist()], dtype=object
    )


def add_dirt(table: pa.Table, seed: int = 0) -> tuple[pa.Table, dict[str, Any]]:
    """The realistic dirt of a real export, placed at random with a fixed seed.

    Returns
    -------
    table, dirt
        The dirty table and what was done (counts and the incident numbers affected).
    """
    rng = np.random.default_rng(np.random.SeedSequence([seed, 11]))
    data = {
        name: np.asarray(table[name].to_numpy(zero_copy_only=False), dtype=object)
        for name in table.column_names
    }
    rows = table.num_rows
    numbers = data["number"]
    unique_numbers = np.unique(numbers)
    dirt: dict[str, Any] = {}
    # `?` in descriptive fields, for whole incidents
    for name in ("caller_id", "contact_type", "location", "category", "subcategory"):
        chosen = unique_numbers[rng.random(unique_numbers.size) < 0.02]
        hit = np.isin(numbers, chosen)
        data[name] = np.where(hit, "?", data[name])
        dirt[f"missing_{name}"] = int(chosen.size)
    # incidents without a priority
    no_priority = rng.choice(unique_numbers, size=min(4, unique_numbers.size), replace=False)
    hit = np.isin(numbers, no_priority)
    data["priority"] = np.where(hit, "?", data["priority"])
    dirt["missing_priority"] = sorted(no_priority.tolist())
    # update times written day-first
    hit = rng.random(rows) < 0.002
    data["sys_updated_at"] = np.where(
        hit, _day_first(data["sys_updated_at"]), data["sys_updated_at"]
    )
    dirt["day_first_times"] = int(hit.sum())
    # incidents opened after their resolution (a clock or entry error)
    resolved = data["resolved_at"]
    candidates = np.unique(numbers[(resolved != "?") & (data["incident_state"] == "Resolved")])
    swapped = rng.choice(candidates, size=min(2, candidates.size), replace=False)
    for number in swapped.tolist():
        mine = numbers == number
        last_resolved = max(r for r in resolved[mine].tolist() if r != "?")
        later = _plus_hours(last_resolved, 2)
        data["opened_at"] = np.where(mine, later, data["opened_at"])
    dirt["opened_after_resolved"] = sorted(swapped.tolist())
    # duplicated rows, right after the original
    duplicate = rng.random(rows) < 0.003
    index = np.sort(np.r_[np.arange(rows), np.flatnonzero(duplicate)])
    dirt["duplicated_rows"] = int(duplicate.sum())
    out = pa.table(
        {name: pa.array(values[index].tolist(), pa.string()) for name, values in data.items()}
    )
    return out, dirt


def _plus_hours(text: str, hours: int) -> str:
    moment = np.datetime64(text.replace(" ", "T"), "s") + np.timedelta64(hours, "h")
    return str(moment).replace("T", " ")
