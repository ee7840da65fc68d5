"""Sorted disjoint time intervals (int64 UTC microseconds) and agreed service time.

Availability is measured on intervals: outage rows merged per service and replication, agreed
service time (a calendar's open intervals less the maintenance windows when they are excluded),
and the agreed time inside any span, read off prefix sums with :func:`numpy.searchsorted`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from simkit.measure.availability import AvailabilityTarget

__all__ = ["AgreedTime", "merge_intervals", "subtract_intervals"]


def merge_intervals(
    group: np.ndarray, start: np.ndarray, end: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Union of intervals ``[start, end)`` (int64 µs, ``end > start``) within each group:
    overlapping or touching intervals become one. Returns sorted ``group, start, end``."""
    if group.size == 0:
        return group, start, end
    order = np.lexsort((start, group))
    group, start, end = group[order], start[order], end[order]
    origin = int(start.min())
    width = int(end.max()) - origin + 1
    if int(group.max()) + 1 > (2**62) // width:
        raise ValueError("too many replications or too long a span to merge outages")
    shifted_end = group * width + (end - origin)
    latest = np.maximum.accumulate(shifted_end)
    previous = np.concatenate(([-1], latest[:-1]))
    first = np.flatnonzero(group * width + (start - origin) > previous)
    return group[first], start[first], np.maximum.reduceat(end, first)


def subtract_intervals(
    starts: np.ndarray, ends: np.ndarray, cut_starts: np.ndarray, cut_ends: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Sorted disjoint intervals minus sorted disjoint cuts (int64 µs)."""
    if cut_starts.size == 0 or starts.size == 0:
        return starts, ends
    bounds = np.unique(np.concatenate([starts, ends, cut_starts, cut_ends]))
    state = _covered(bounds, starts, ends) & ~_covered(bounds, cut_starts, cut_ends)
    before = np.concatenate([[False], state[:-1]])
    return bounds[state & ~before], bounds[~state & before]


def _covered(points: np.ndarray, starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
    k = np.searchsorted(starts, points, side="right") - 1
    covered: np.ndarray = (k >= 0) & (points < ends[np.maximum(k, 0)])
    return covered


@dataclass(frozen=True, eq=False)
class AgreedTime:
    """Agreed service time as sorted disjoint intervals (int64 µs) with prefix sums: its
    cumulative function ``G`` measures any interval with one ``searchsorted``."""

    starts: np.ndarray
    ends: np.ndarray
    cum: np.ndarray

    @classmethod
    def build(cls, target: AvailabilityTarget, lo: int, hi: int) -> AgreedTime:
        pairs = target.calendar.open_intervals(np.datetime64(lo, "us"), np.datetime64(hi, "us"))
        starts = pairs[:, 0].astype("datetime64[us]").view(np.int64)
        ends = pairs[:, 1].astype("datetime64[us]").view(np.int64)
        windows = target.maintenance
        if target.exclude_maintenance and windows is not None and windows.size:
            cuts = windows.view(np.int64)
            keep = cuts[:, 1] > cuts[:, 0]
            _, cut_starts, cut_ends = merge_intervals(
                np.zeros(int(keep.sum()), np.int64), cuts[keep, 0], cuts[keep, 1]
            )
            starts, ends = subtract_intervals(starts, ends, cut_starts, cut_ends)
        cum = np.concatenate(([0], np.cumsum(ends - starts))).astype(np.int64)
        return cls(starts, ends, cum)

    def cumulative(self, t: np.ndarray) -> np.ndarray:
        if self.starts.size == 0:
            return np.zeros(np.shape(t), dtype=np.int64)
        k = np.searchsorted(self.starts, t, side="right") - 1
        kc = np.maximum(k, 0)
        inside = np.clip(t - self.starts[kc], 0, self.ends[kc] - self.starts[kc])
        values: np.ndarray = np.where(k >= 0, self.cum[kc] + inside, 0)
        return values

    def measure(self, start: np.ndarray, end: np.ndarray) -> np.ndarray:
        """Agreed microseconds in ``[start, end)`` (0 when ``end <= start``)."""
        micros: np.ndarray = np.maximum(self.cumulative(end) - self.cumulative(start), 0)
        return micros

    def first_agreed(self, t: np.ndarray) -> np.ndarray:
        """The first agreed instant at or after each ``t`` (``t`` itself when agreed); only
        meaningful where agreed time follows ``t``."""
        if self.starts.size == 0:
            return t
        k = np.searchsorted(self.starts, t, side="right") - 1
        inside = (k >= 0) & (t < self.ends[np.maximum(k, 0)])
        following = self.starts[np.minimum(k + 1, self.starts.size - 1)]
        first: np.ndarray = np.where(inside, t, np.maximum(following, t))
        return first
