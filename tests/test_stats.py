"""Confidence intervals: t-based means, Wilson shares, paired differences."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy import stats

from simkit.stats import (
    Interval,
    clustered_wilson_interval,
    mean_interval,
    paired_difference,
    wilson_interval,
)


def test_mean_interval_matches_scipy_t_interval() -> None:
    """The interval is mean ± t(0.975, n−1)·s/√n, as scipy computes it."""
    values = [0.91, 0.95, 0.88, 0.97, 0.93]
    expected_lo, expected_hi = stats.t.interval(
        0.95, len(values) - 1, loc=np.mean(values), scale=stats.sem(values)
    )
    result = mean_interval(values)
    assert result.mean == pytest.approx(np.mean(values), abs=1e-15)
    assert result.lo == pytest.approx(expected_lo, abs=1e-12)
    assert result.hi == pytest.approx(expected_hi, abs=1e-12)


def test_mean_interval_by_hand_for_two_values() -> None:
    """For 1 and 3: mean 2, s = √2, half-width t(0.975, 1)·√2/√2 = 12.706…"""
    result = mean_interval([1.0, 3.0])
    half = 12.706204736174698
    assert result.mean == 2.0
    assert result.lo == pytest.approx(2.0 - half, rel=1e-12)
    assert result.hi == pytest.approx(2.0 + half, rel=1e-12)


def test_mean_interval_other_confidence() -> None:
    """A 90% interval is narrower than the 95% one and uses t(0.95, n−1)."""
    values = np.array([1.0, 2.0, 4.0, 7.0])
    half = stats.t.ppf(0.95, 3) * values.std(ddof=1) / 2.0
    result = mean_interval(values, confidence=0.90)
    assert result.hi == pytest.approx(values.mean() + half, rel=1e-12)
    assert result.hi < mean_interval(values).hi  # type: ignore[operator]


def test_mean_interval_small_samples() -> None:
    """No values: nothing is known; one value: a mean without an interval."""
    assert mean_interval([]) == Interval(None, None, None)
    assert mean_interval([0.8]) == Interval(0.8, None, None)


def test_mean_interval_without_spread_collapses() -> None:
    """Identical replications give an interval of zero width."""
    assert mean_interval([0.5, 0.5, 0.5]) == Interval(0.5, 0.5, 0.5)


def test_mean_interval_bounds_clip_a_fraction() -> None:
    """A compliance interval never leaves [0, 1]."""
    result = mean_interval([1.0, 1.0, 0.2], bounds=(0.0, 1.0))
    assert result.hi == 1.0
    assert result.lo == 0.0


def test_mean_interval_rejects_undefined_values_and_bad_confidence() -> None:
    """NaN must be dropped by the caller; confidence lies strictly between 0 and 1."""
    with pytest.raises(ValueError, match="finite"):
        mean_interval([0.5, math.nan])
    with pytest.raises(ValueError, match="confidence"):
        mean_interval([0.5, 0.6], confidence=95)


def test_wilson_interval_known_values() -> None:
    """Wilson 95% intervals from the literature: 0/10 → [0, 0.2775], 8/10 → [0.4902, 0.9433]."""
    none = wilson_interval(0, 10)
    assert none.mean == 0.0
    assert none.lo == 0.0
    assert none.hi == pytest.approx(0.27753, abs=5e-5)
    most = wilson_interval(8, 10)
    assert most.mean == 0.8
    assert most.lo == pytest.approx(0.49016, abs=5e-5)
    assert most.hi == pytest.approx(0.94332, abs=5e-5)


def test_wilson_interval_by_formula() -> None:
    """centre ± half with centre = (p + z²/2n)/(1 + z²/n) and
    half = z/(1 + z²/n)·√(p(1−p)/n + z²/4n²)."""
    k, n, z = 37, 52, stats.norm.ppf(0.975)
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z / (1 + z * z / n) * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    result = wilson_interval(k, n)
    assert result.lo == pytest.approx(centre - half, rel=1e-12)
    assert result.hi == pytest.approx(centre + half, rel=1e-12)


def test_wilson_interval_edge_cases() -> None:
    """No trials: nothing is known; impossible counts are refused."""
    assert wilson_interval(0, 0) == Interval(None, None, None)
    assert wilson_interval(5, 5).hi == 1.0
    with pytest.raises(ValueError, match="successes"):
        wilson_interval(6, 5)


def test_paired_difference_is_the_interval_of_the_differences() -> None:
    """Pairing removes the variation common to both runs."""
    baseline = np.array([0.80, 0.90, 0.70, 0.85])
    change = baseline + np.array([0.05, 0.04, 0.06, 0.05])
    result = paired_difference(change, baseline)
    assert result == mean_interval(change - baseline)
    assert result.lo is not None and result.lo > 0.0
    with pytest.raises(ValueError, match="same length"):
        paired_difference([1.0, 2.0], [1.0])


def test_interval_as_dict_is_json() -> None:
    """``as_dict`` gives the JSON form with plain floats and nulls."""
    text = json.dumps(mean_interval([0.9]).as_dict(), allow_nan=False)
    assert json.loads(text) == {"mean": 0.9, "lo": None, "hi": None}


@given(st.lists(st.floats(0.0, 1.0), min_size=0, max_size=30))
def test_mean_interval_orders_its_bounds(values: list[float]) -> None:
    """lo <= mean <= hi, all within [0, 1] for fractions."""
    result = mean_interval(values, bounds=(0.0, 1.0))
    if result.mean is None:
        assert values == []
        return
    assert 0.0 <= result.mean <= 1.0
    if result.lo is not None and result.hi is not None:
        assert 0.0 <= result.lo <= result.mean <= result.hi <= 1.0


@given(st.integers(1, 10_000).flatmap(lambda n: st.tuples(st.integers(0, n), st.just(n))))
def test_wilson_interval_contains_the_share(case: tuple[int, int]) -> None:
    """0 <= lo <= k/n <= hi <= 1 for every count."""
    k, n = case
    result = wilson_interval(k, n)
    assert result.lo is not None and result.hi is not None and result.mean is not None
    assert result.mean == k / n
    assert 0.0 <= result.lo <= result.mean <= result.hi <= 1.0


def _markov_flags(rng: np.random.Generator, m: int, p: float, rho: float) -> np.ndarray:
    """``m`` met/missed flags of consecutive periods: a two-state chain with share ``p`` and
    lag-1 correlation ``rho`` (a run whose queue is long misses several periods in a row)."""
    stay, enter = p + rho * (1 - p), p * (1 - rho)
    flags = np.empty(m, dtype=bool)
    flags[0] = rng.random() < p
    for i in range(1, m):
        flags[i] = rng.random() < (stay if flags[i - 1] else enter)
    return flags


def test_clustered_wilson_covers_when_the_periods_of_a_run_are_correlated() -> None:
    """10 replications × 26 weekly periods whose met flags have a lag-1 correlation of 0.4 (as
    at high load): the plain Wilson interval on the 260 pooled pairs covers the true share far
    less than 95%; the clustered one covers it within sampling error (4 standard errors of a
    coverage estimated from 1,000 trials). Without correlation it is the plain interval's."""
    rng = np.random.default_rng(20271)
    trials, p = 1000, 0.565
    clustered = plain = 0
    for _ in range(trials):
        flags = np.array([_markov_flags(rng, 26, p, 0.4) for _ in range(10)])
        c = clustered_wilson_interval(flags.sum(axis=1), np.full(10, 26))
        w = wilson_interval(int(flags.sum()), flags.size)
        assert c.lo is not None and c.hi is not None and w.lo is not None and w.hi is not None
        clustered += c.lo <= p <= c.hi
        plain += w.lo <= p <= w.hi
    tolerance = 4 * math.sqrt(0.95 * 0.05 / trials)
    assert abs(clustered / trials - 0.95) < tolerance
    assert plain / trials < 0.95 - tolerance

    # the interval widens gradually as the clusters spread beyond binomial: the quantile is not
    # t's (three clusters: t = 4.3, width 0.29 here) as soon as the spread passes binomial
    def width(counts: list[int]) -> float:
        band = clustered_wilson_interval(counts, [100] * len(counts))
        assert band.lo is not None and band.hi is not None
        return band.hi - band.lo

    assert width([45, 50, 55]) < width([44, 50, 56]) < 0.25
    assert clustered_wilson_interval([3], [10]) == wilson_interval(3, 10)  # one cluster
    assert clustered_wilson_interval([10, 10], [10, 10]) == wilson_interval(20, 20)  # all met


def test_compliance_interval_keeps_its_coverage_when_replications_tie() -> None:
    """Five replications of 20 tickets at 99% compliance mostly all meet every ticket: their
    t-interval has no width and covered the truth in about 64% of runs. Widened to the pooled
    tickets' Wilson interval it covers at least 95% (within 4 standard errors of a coverage
    estimated from 2,000 trials); it always holds the replications' own t-interval."""
    from simkit.measure.summary import compliance_interval

    rng = np.random.default_rng(7)
    trials, p = 2000, 0.99
    covered = 0
    for _ in range(trials):
        met = rng.binomial(20, p, 5)
        interval = compliance_interval(np.full(5, 20), met)
        covered += interval["lo"] <= p <= interval["hi"]
    assert covered / trials >= 0.95 - 4 * math.sqrt(0.95 * 0.05 / trials)
    spread = compliance_interval(np.full(4, 100), np.array([60, 70, 80, 90]))
    t = mean_interval([0.6, 0.7, 0.8, 0.9], bounds=(0.0, 1.0))
    assert spread["mean"] == t.mean and spread["lo"] <= t.lo and spread["hi"] >= t.hi
    assert compliance_interval(np.array([20]), np.array([20]))["lo"] is None  # one replication
