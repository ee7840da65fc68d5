"""Error rates of the calibration's own tests against their documented levels.

Each test repeats a decision over many synthetic histories drawn from a known truth and checks
that the share of wrong decisions is what the documentation promises: the calendar profile's χ²
test rejects a true calendar at 1%, "likely holidays" (P < 0.001 a day) are flagged on ordinary
days at most 0.1% of the time even when days vary more than Poisson, and a back-test row of a
true model misses max(3 pp, t·SE) at most 5% of the time. Tolerances are upper quantiles (one
in 10,000 false alarms) of the binomial or Poisson count of wrong decisions at the documented
level; seeds are fixed only to make the runs repeatable.
"""

from __future__ import annotations

import datetime as dt
import math
import zoneinfo

import holidays as holidays_lib
import numpy as np
import pyarrow as pa
import pytest
from scipy import stats

from simkit.calibrate.backtest import TOLERANCE, match_tolerance, t_factor
from simkit.calibrate.demand import QUIET_DAY_P, SIGNIFICANCE, _trend
from simkit.calibrate.fit import calibrate
from simkit.calibrate.history import History
from simkit.engine._tables import PAUSES_SCHEMA, TICKETS_SCHEMA, VISITS_SCHEMA

FALSE_ALARM = 1e-4
"""Probability that a test here fails although the code is right."""
ZONE = "Europe/London"
START = dt.date(2025, 3, 3)
WEEKS = 26
PER_WEEK = 300.0


def _open_hours() -> tuple[np.ndarray, np.ndarray, float]:
    """UTC starts (µs) of the hours of the span, which of them are open (Mon–Fri 08–18 local,
    English bank holidays closed), and the number of open hours."""
    zone = zoneinfo.ZoneInfo(ZONE)
    first = dt.datetime.combine(START, dt.time(0), tzinfo=zone).astimezone(dt.UTC)
    closed = set(holidays_lib.country_holidays("GB", subdiv="ENG", years=[START.year]))
    starts, is_open = [], []
    for h in range(WEEKS * 168):
        instant = first + dt.timedelta(hours=h)
        local = instant.astimezone(zone)
        starts.append(int(instant.timestamp() * 1e6))
        is_open.append(local.weekday() < 5 and 8 <= local.hour < 18 and local.date() not in closed)
    mask = np.array(is_open)
    return np.array(starts, dtype=np.int64), mask, float(mask.sum())


def _history(rng: np.random.Generator, starts: np.ndarray, is_open: np.ndarray) -> History:
    """Arrivals exactly uniform over the open hours (a Poisson process of PER_WEEK / 50 an
    hour), none on holidays; each resolved after an exponential 2 h, observed to the span's
    end."""
    rate = PER_WEEK / 50
    hours = starts[is_open]
    k = rng.poisson(rate, hours.size)
    opened = np.sort(np.repeat(hours, k) + rng.uniform(0, 3.6e9, k.sum()).astype(np.int64))
    end = int(starts[-1] + 3.6e9)
    resolved = opened + rng.exponential(2 * 3.6e9, opened.size).astype(np.int64)
    known = pa.array(resolved, pa.int64(), mask=resolved > end).cast(pa.timestamp("us", "UTC"))
    n = opened.size
    tickets = pa.table(
        {
            "ticket_id": pa.array(np.arange(n), pa.int64()),
            "service": pa.array(["svc"] * n),
            "customer": pa.array([None] * n, pa.string()),
            "priority": pa.array(["P1"] * n),
            "opened_at": pa.array(opened, pa.int64()).cast(pa.timestamp("us", "UTC")),
            "first_response_at": known,
            "resolved_at": known,
            "reopened": pa.array([False] * n),
            "abandoned": pa.array([False] * n),
            "replication": pa.array([0] * n, pa.int32()),
        },
        schema=TICKETS_SCHEMA,
    )
    return History(
        tickets=tickets,
        visits=VISITS_SCHEMA.empty_table(),
        pauses=PAUSES_SCHEMA.empty_table(),
        observed_until=np.datetime64(end, "us"),
        timezone=ZONE,
        source="synthetic",
        profile="none",
        quality=None,  # type: ignore[arg-type]
    )


@pytest.mark.filterwarnings("ignore")
def test_a_true_calendar_with_holidays_passes_the_uniformity_test_at_its_level() -> None:
    """Arrivals uniform over Mon–Fri 08–18 in London and none on English bank holidays (five
    in the span, one a DST change away): with --holidays GB/ENG the calendar of those hours is
    the truth, so the χ² test (at SIGNIFICANCE / 5 = 1%) may reject it in about 1% of histories
    — it used to count the holidays as open hours and rejected it in most. When chosen,
    per_week is unbiased: the mean over the histories lies within 4 standard errors of 300,
    one history's standard error being √(n) × 50 / open hours."""
    starts, is_open, open_hours = _open_hours()
    rng = np.random.default_rng(20250303)
    histories = 200
    level = SIGNIFICANCE / 5
    rejected = 0
    per_week = []
    for _ in range(histories):
        fitted = calibrate(_history(rng, starts, is_open), holidays="GB/ENG")
        service = fitted.report["services"][0]
        rejected += not isinstance(service["profile"], str)
        per_week.append(service["per_week"])
    allowed = stats.binom.ppf(1 - FALSE_ALARM, histories, level)
    assert rejected <= allowed, (rejected, allowed)
    se_one = math.sqrt(PER_WEEK / 50 * open_hours) * 50 / open_hours
    assert abs(np.mean(per_week) - PER_WEEK) <= 4 * se_one / math.sqrt(histories), (
        np.mean(per_week),
        se_one,
    )


@pytest.mark.parametrize("cv", [0.0, 0.2, 0.3])
def test_likely_holidays_are_flagged_at_their_level_under_overdispersion(cv: float) -> None:
    """196 days of flat demand (40 a day) whose daily rate varies by a gamma factor with
    coefficient of variation ``cv`` (quasi-Poisson dispersion 1 + 40 cv²): an ordinary day is
    listed as a likely holiday with probability at most QUIET_DAY_P, so the count over the
    histories stays below the Poisson upper quantile of histories × 196 × QUIET_DAY_P."""
    rng = np.random.default_rng(196 + int(cv * 10))
    first_day = (dt.date(2025, 1, 6) - dt.date(1970, 1, 1)).days
    histories, days = 500, 196
    flagged = 0
    for _ in range(histories):
        factor = rng.gamma(1 / cv**2, cv**2, days) if cv > 0 else np.ones(days)
        trend = _trend(rng.poisson(40 * factor), first_day, set(), None)
        flagged += len(trend.holiday.get("quiet_days", []))
    allowed = stats.poisson.ppf(1 - FALSE_ALARM, histories * days * QUIET_DAY_P)
    assert flagged <= allowed, (flagged, allowed)


def test_a_real_holiday_is_still_flagged_under_overdispersion() -> None:
    """The negative binomial does not hide a closed day: among 196 overdispersed days (cv 0.2),
    one with no tickets is listed as a likely holiday."""
    rng = np.random.default_rng(7)
    first_day = (dt.date(2025, 1, 6) - dt.date(1970, 1, 1)).days
    counts = rng.poisson(40 * rng.gamma(25, 0.04, 196))
    counts[100] = 0
    holiday = _trend(counts, first_day, set(), None).holiday
    closed = (dt.date(1970, 1, 1) + dt.timedelta(days=first_day + 100)).isoformat()
    assert closed in holiday.get("quiet_days", [])


@pytest.mark.parametrize("replications", [5, 20])
def test_a_true_model_misses_the_back_test_tolerance_one_time_in_twenty(replications: int) -> None:
    """The back-test's row test on pure normal draws: R replications and the history all from
    one normal distribution, se = s √(1 + 1/R) as the back-test computes it. With a spread so
    large that the 3-point floor never binds, |mean − history| > match_tolerance(se, R) in 5%
    of trials (a fixed 2 SE gave 11.6% at R = 5); the count lies within the binomial
    two-sided 1 − FALSE_ALARM range of trials × 5%."""
    rng = np.random.default_rng(replications)
    trials = 20_000
    draws = rng.normal(0.0, 1.0, (trials, replications))
    history = rng.normal(0.0, 1.0, trials)
    se = draws.std(axis=1, ddof=1) * math.sqrt(1 + 1 / replications)
    difference = draws.mean(axis=1) - history
    misses = sum(
        abs(d) > tol
        for d, tol in zip(
            difference, (match_tolerance(float(s), replications) for s in se), strict=True
        )
        if tol is not None
    )
    lo = stats.binom.ppf(FALSE_ALARM / 2, trials, 0.05)
    hi = stats.binom.isf(FALSE_ALARM / 2, trials, 0.05)
    assert lo <= misses <= hi, (misses, lo, hi)


def test_the_tolerance_keeps_its_floor_and_needs_two_replications() -> None:
    """Below the floor the tolerance is 3 pp; above it t·se with the Student-t 97.5% point on
    R − 1 degrees of freedom; one replication has no spread and no tolerance."""
    assert match_tolerance(0.001, 10) == TOLERANCE
    assert match_tolerance(0.05, 10) == pytest.approx(stats.t.ppf(0.975, 9) * 0.05)
    assert t_factor(5) == pytest.approx(stats.t.ppf(0.975, 4))
    assert match_tolerance(0.05, 1) is None and match_tolerance(None, 10) is None
