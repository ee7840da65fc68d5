"""The common look of simkit's charts: how rows become chart data, intervals are read, titles
and axes are set, and the colour of a goal.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import altair as alt

__all__ = ["Rows"]

Rows = Sequence[Mapping[str, Any]]
_PERCENT = ".1%"
_GOAL_COLOUR = "#d62728"
_WIDTH = "container"


def _data(rows: Rows) -> Any:
    return alt.Data(values=[dict(r) for r in rows])  # type: ignore[no-untyped-call]


def _interval(row: Mapping[str, Any], key: str) -> dict[str, float | None]:
    value = row.get(key) or {}
    return {"mean": value.get("mean"), "lo": value.get("lo"), "hi": value.get("hi")}


def _runs(replications: int | None) -> str:
    return f"{replications} replications, 95% intervals" if replications else ""


def _title(text: str, *subtitle: str) -> Any:
    """A chart title; the subtitle's non-empty parts joined by " · " (a part left empty, such as
    :func:`_runs` without replications, leaves no stray separator). A part naming the
    replications goes on a line of its own, so that a narrow chart, which cuts a long subtitle
    short, never cuts the number of replications behind its figures."""
    parts = [part for part in subtitle if part]
    runs = [part for part in parts if "replications" in part]
    rest = " · ".join(part for part in parts if part not in runs)
    lines = ([rest] if rest else []) + runs
    shown: str | list[str] = lines[0] if len(lines) == 1 else lines
    return alt.TitleParams(text=text, subtitle=shown, anchor="start")


def _label_axis() -> Any:
    return alt.Axis(labelLimit=240)
