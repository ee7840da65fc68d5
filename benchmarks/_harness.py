"""Shared benchmark plumbing: every benchmark reports an absolute figure, a ratio against a
baseline measured in the same process, and PASS/MISS against its issue's target. Benchmarks never
fail CI; the machine is shared and noisy, so ratios are what to compare."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

__all__ = ["BenchResult", "best_of"]


@dataclass(frozen=True)
class BenchResult:
    name: str
    figure: str
    """The absolute figure, with its unit, e.g. ``"0.21 s"`` or ``"185,000 tickets/s"``."""
    ratio: float | None
    """How many times better than the baseline (higher is better); ``None`` when there is none."""
    baseline: str
    """What the ratio is against, e.g. ``"plain Python loop"``."""
    target: str
    """The issue's target in words, e.g. ``"<= 0.5 s"`` or ``">= 3x simpy"``."""
    passed: bool
    informational: bool = False
    """A figure shown for context, with no target of its own (printed as INFO)."""

    def line(self) -> str:
        ratio = f"{self.ratio:8.1f}x vs {self.baseline}" if self.ratio is not None else "      n/a"
        verdict = "INFO" if self.informational else "PASS" if self.passed else "MISS"
        return f"{self.name:<44} {self.figure:>22}  {ratio:<40} target {self.target:<18} {verdict}"


def best_of(fn: Callable[[], object], repeat: int = 3) -> float:
    """The fastest of ``repeat`` wall-clock timings of ``fn()`` in seconds."""
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best
