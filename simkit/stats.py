"""Confidence intervals for figures over replications.

Every figure a user sees carries its interval: a mean over replications gets a t-based interval
(:func:`mean_interval`), a share of successes a Wilson score interval (:func:`wilson_interval`), and
a change measured against its baseline with common random numbers a paired interval
(:func:`paired_difference`). Undefined parts are ``None``, never NaN, so an :class:`Interval` goes
straight into JSON.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from scipy import stats as _scipy_stats

__all__ = [
    "Interval",
    "clustered_wilson_interval",
    "mean_interval",
    "paired_difference",
    "wilson_interval",
]


@dataclass(frozen=True)
class Interval:
    """A point estimate with the bounds of its confidence interval.

    ``mean`` is ``None`` when there is nothing to estimate from; ``lo`` and ``hi`` are ``None``
    when the sample is too small to give an interval (fewer than two values for a mean).
    """

    mean: float | None
    lo: float | None
    hi: float | None

    def as_dict(self) -> dict[str, float | None]:
        """``{"mean", "lo", "hi"}`` as plain floats or ``None`` — the JSON form."""
        return {"mean": self.mean, "lo": self.lo, "hi": self.hi}


_EMPTY = Interval(None, None, None)


@lru_cache(maxsize=256)
def _t_quantile(level: float, df: int) -> float:
    return float(_scipy_stats.t.ppf(level, df))


@lru_cache(maxsize=64)
def _normal_quantile(level: float) -> float:
    return float(_scipy_stats.norm.ppf(level))


def _check_confidence(confidence: float) -> None:
    if not 0.0 < confidence < 1.0:
        raise ValueError(f"confidence must be between 0 and 1 (exclusive), got {confidence!r}")


def mean_interval(
    values: Sequence[float] | np.ndarray,
    confidence: float = 0.95,
    *,
    bounds: tuple[float, float] | None = None,
) -> Interval:
    """Mean of ``values`` with a two-sided Student-t confidence interval.

    Parameters
    ----------
    values
        One value per replication; must be finite.
    confidence
        Coverage of the interval, between 0 and 1.
    bounds
        Optional ``(low, high)`` range the quantity cannot leave (``(0, 1)`` for a fraction);
        the interval is clipped to it.

    Returns
    -------
    Interval
        ``mean`` is ``None`` for no values; ``lo``/``hi`` are ``None`` for fewer than two values.
        With zero spread the interval collapses onto the mean.
    """
    _check_confidence(confidence)
    x = np.asarray(values, dtype=np.float64).ravel()
    if x.size == 0:
        return _EMPTY
    if not np.all(np.isfinite(x)):
        raise ValueError("mean_interval needs finite values; drop undefined replications first")
    mean = float(np.mean(x))
    if bounds is not None:
        mean = min(max(mean, bounds[0]), bounds[1])
    if x.size < 2:
        return Interval(mean, None, None)
    spread = float(np.std(x, ddof=1))
    t = _t_quantile(0.5 + confidence / 2.0, x.size - 1)
    half = t * spread / math.sqrt(x.size)
    lo, hi = mean - half, mean + half
    if bounds is not None:
        lo, hi = max(lo, bounds[0]), min(hi, bounds[1])
    return Interval(mean, min(lo, mean), max(hi, mean))


def wilson_interval(successes: float, n: float, confidence: float = 0.95) -> Interval:
    """Share of successes ``successes / n`` with its Wilson score interval.

    The Wilson interval stays inside [0, 1] and keeps sensible coverage for shares near 0 or 1
    and for few trials, which is where periods-meeting-the-goal usually sit.

    ``successes`` and ``n`` may be fractional: an effective number of trials
    (:func:`clustered_wilson_interval`).

    Returns
    -------
    Interval
        ``mean`` is the observed share; all three are ``None`` when ``n == 0``.
    """
    _check_confidence(confidence)
    if n < 0 or not 0 <= successes <= n * (1 + 1e-12):
        raise ValueError(f"need 0 <= successes <= n, got successes={successes}, n={n}")
    if n == 0:
        return _EMPTY
    return _wilson(successes, n, _normal_quantile(0.5 + confidence / 2.0))


def _wilson(successes: float, n: float, z: float) -> Interval:
    """The Wilson score interval of ``successes`` in ``n`` (> 0) at the normal quantile ``z``."""
    p = min(successes / n, 1.0)
    z2 = z * z
    denominator = 1.0 + z2 / n
    centre = (p + z2 / (2.0 * n)) / denominator
    half = z / denominator * math.sqrt(p * (1.0 - p) / n + z2 / (4.0 * n * n))
    lo = min(max(centre - half, 0.0), p)
    hi = max(min(centre + half, 1.0), p)
    return Interval(p, lo, hi)


def clustered_wilson_interval(
    successes: Sequence[int] | np.ndarray,
    trials: Sequence[int] | np.ndarray,
    confidence: float = 0.95,
) -> Interval:
    """Pooled share ``Σ successes / Σ trials`` of trials that come in clusters (the periods of
    one replication, the tickets of one run), with a Wilson interval on the effective number of
    trials.

    Trials of one cluster are not independent: a replication whose queue runs long misses
    several periods in a row, so pooling its periods as independent trials narrows the interval
    (at high load the plain Wilson interval covered 61% instead of 95%). The design effect — the
    variance of the pooled share estimated from the spread of the clusters' own totals (a ratio
    estimator), over the binomial variance — divides the trials; it is never taken below 1, and
    with a single cluster, or a share of 0 or 1, it is 1 (the plain Wilson interval). Where it is
    above 1 the quantile mixes the normal's, for the binomial part of the variance, with
    Student's t on clusters − 1 degrees of freedom, for the part estimated from the clusters'
    spread, by their shares of the variance — so the interval widens smoothly with the spread.

    Returns
    -------
    Interval
        ``mean`` is the pooled share; all three are ``None`` without trials.
    """
    s = np.asarray(successes, dtype=np.float64).ravel()
    n = np.asarray(trials, dtype=np.float64).ravel()
    total = float(n.sum())
    if total <= 0:
        return _EMPTY
    share = float(s.sum()) / total
    keep = n > 0
    clusters = int(keep.sum())
    design = 1.0
    binomial = share * (1.0 - share) / total
    if clusters > 1 and binomial > 0:
        residual = s[keep] - share * n[keep]
        ratio = clusters / (clusters - 1) * float(np.sum(residual**2)) / total**2
        design = max(1.0, ratio / binomial)
    effective = total / design
    z = _normal_quantile(0.5 + confidence / 2.0)
    if design > 1.0:
        # The binomial part of the variance is known (normal quantile); the part beyond it is
        # estimated from the clusters' spread (Student's t on clusters − 1 degrees of freedom).
        # The quantile weighs the two by their share of the variance: it moves smoothly from
        # the normal's (no extra spread) towards t's (spread far above binomial).
        t = _t_quantile(0.5 + confidence / 2.0, clusters - 1)
        z = math.sqrt((z * z + t * t * (design - 1.0)) / design)
    interval = _wilson(share * effective, effective, z)
    return Interval(share, interval.lo, interval.hi)


def paired_difference(
    change: Sequence[float] | np.ndarray,
    baseline: Sequence[float] | np.ndarray,
    confidence: float = 0.95,
) -> Interval:
    """Mean and t-interval of the paired differences ``change − baseline``.

    Replication *i* of the change and of the baseline share their random numbers, so the
    difference is taken per replication before averaging; its interval is far narrower than the
    difference of two independent intervals.

    Raises
    ------
    ValueError
        When the two samples differ in length (they must be paired replication by replication).
    """
    a = np.asarray(change, dtype=np.float64).ravel()
    b = np.asarray(baseline, dtype=np.float64).ravel()
    if a.shape != b.shape:
        raise ValueError(
            f"paired samples must have the same length, got {a.size} and {b.size} replications"
        )
    return mean_interval(a - b, confidence)
