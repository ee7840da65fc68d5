"""Fitting the continuous distribution families to observed durations by maximum likelihood,
optionally with right-censored values (tickets still open), ranked by AIC, with the
Kolmogorov–Smirnov distance to the empirical (Kaplan–Meier) CDF.

Import :func:`fit` and its results from :mod:`simkit.distributions`.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
from scipy import stats

from simkit.distribution_families import (
    Distribution,
    Exponential,
    FloatArray,
    Gamma,
    Lognormal,
    Weibull,
)
from simkit.distribution_spec import _closest
from simkit.errors import SpecError
from simkit.fitting_rounded import fit_rounded, reading_cdf

__all__ = ["FitCandidate", "FitResult", "fit"]


_FIT_PARAMETERS = {"exponential": 1, "lognormal": 2, "gamma": 2, "weibull": 2}

ROUNDING_MATTERS = 10
"""With a clock's step given, the values are fitted as readings of that clock when at least 1% of
the completed ones are under this many steps, or their standard deviation is; otherwise as exact,
where the rounding changes no figure and the fit is many times quicker."""

GRID_TOLERANCE = 1e-3
"""How far, in steps, a reading may lie from a whole number of steps (the float arithmetic that
made it) and still be read as on the clock's grid."""


def rounding_matters(completed: FloatArray, step: float) -> bool:
    """Whether readings of a clock of ``step`` move the fit (see :data:`ROUNDING_MATTERS`)."""
    if completed.size == 0:
        return False
    short = float(np.mean(completed < ROUNDING_MATTERS * step)) >= 0.01
    narrow = completed.size >= 2 and float(np.std(completed)) < ROUNDING_MATTERS * step
    return short or narrow


def on_grid(values: FloatArray, step: float) -> bool:
    """Whether every value is a whole number of ``step`` (within :data:`GRID_TOLERANCE`)."""
    ratio = values / step
    return bool(np.all(np.abs(ratio - np.rint(ratio)) <= GRID_TOLERANCE))


def _on_the_grid(values: FloatArray, mask: npt.NDArray[np.bool_], step: float) -> FloatArray:
    """The completed values as exact whole steps (``k·step``); censored ones as they are."""
    done = values[~mask]
    if not on_grid(done, step):
        ratio = done / step
        worst = int(np.argmax(np.abs(ratio - np.rint(ratio))))
        raise SpecError(
            f"the durations are not readings of a clock of step {step:g} h: "
            f"{done[worst]!r} is {ratio[worst]:.4f} steps",
            "give the step the durations were read with (1/60 for whole minutes), or leave it "
            "out to fit them as exact",
        )
    snapped = values.copy()
    snapped[~mask] = np.rint(done / step) * step
    return snapped


@dataclass(frozen=True)
class FitCandidate:
    """One family fitted by maximum likelihood, with its AIC and goodness of fit."""

    family: str
    distribution: Distribution
    loglik: float
    """Log-likelihood of the data in hours (censored values contribute log P(T > value)); with a
    clock's step, of the readings (log-probabilities, so independent of the unit)."""
    aic: float
    """``2k − 2·loglik`` with k the number of fitted parameters (location fixed at 0)."""
    ks_statistic: float
    """Largest distance between the fitted CDF and the empirical (Kaplan–Meier) CDF."""
    ks_pvalue: float
    """Kolmogorov–Smirnov p-value; optimistic (too high), as the parameters came from the data."""

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready fields: the family, its spec and description, and the fit statistics."""
        return {
            "family": self.family,
            "spec": self.distribution.to_spec(),
            "description": self.distribution.describe(),
            "mean_h": float(self.distribution.mean),
            "cv": float(self.distribution.cv),
            "loglik": float(self.loglik),
            "aic": float(self.aic),
            "ks_statistic": float(self.ks_statistic),
            "ks_pvalue": float(self.ks_pvalue),
        }


@dataclass(frozen=True)
class FitResult:
    """Every family fitted to one set of durations; ``candidates`` run from best to worst AIC."""

    best: Distribution
    candidates: tuple[FitCandidate, ...]
    n: int
    """Number of durations, censored ones included."""
    n_censored: int

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready fields (every duration in hours)."""
        return {
            "best": self.best.to_spec(),
            "best_family": self.best.family,
            "n": self.n,
            "n_censored": self.n_censored,
            "candidates": [c.as_dict() for c in self.candidates],
        }


def _fit_input(
    data: npt.ArrayLike, censored: npt.ArrayLike | None, rounded: bool = False
) -> tuple[FloatArray, npt.NDArray[np.bool_]]:
    try:
        values = np.asarray(data, dtype=np.float64)
    except (TypeError, ValueError):
        raise SpecError("durations to fit must be numbers of hours", "convert them first") from None
    if values.ndim != 1 or values.size == 0:
        raise SpecError(
            f"durations to fit must be a non-empty 1-D array, got shape {values.shape}",
            "pass one duration in hours per ticket (or visit)",
        )
    bad = np.flatnonzero(~np.isfinite(values) | ((values < 0) if rounded else (values <= 0)))
    if bad.size:
        what = "negative" if rounded else "zero, negative"
        raise SpecError(
            f"{bad.size:,} of {values.size:,} durations to fit are {what} or not finite "
            f"(the first at position {bad[0]}: {values[bad[0]]!r})",
            f"fitting needs {'readings of zero or more' if rounded else 'positive durations'}: "
            "correct or remove those rows first",
        )
    if censored is None:
        mask = np.zeros(values.size, dtype=np.bool_)
    else:
        raw = np.asarray(censored)
        if raw.shape != values.shape:
            raise SpecError(
                f"the censored mask has shape {raw.shape} but the durations have {values.shape}",
                "give one True/False per duration (True: still open, the value is a lower bound)",
            )
        if raw.dtype != np.bool_ and not np.all((raw == 0) | (raw == 1)):
            raise SpecError("the censored mask must hold True/False", "True: still open")
        mask = raw.astype(np.bool_)
    uncensored = values[~mask]
    if uncensored.size < 2 or np.ptp(uncensored) == 0:
        raise SpecError(
            f"fitting needs at least two different completed durations, got {uncensored.size:,}",
            "collect more history or use {fixed: ...} or {empirical: ...} instead",
        )
    return values, mask


def _mle(family: str, uncensored: FloatArray, right: FloatArray) -> Distribution:
    """Maximum-likelihood fit of one family with location 0 (data already near unit scale)."""
    if family == "exponential":
        return Exponential(float((uncensored.sum() + right.sum()) / uncensored.size))
    data: Any = stats.CensoredData(uncensored=uncensored, right=right) if right.size else uncensored
    if family == "lognormal":
        sigma, _, scale = stats.lognorm.fit(data, floc=0)
        return Lognormal.from_log(math.log(scale), float(sigma))
    if family == "gamma":
        shape, _, scale = stats.gamma.fit(data, floc=0)
        return Gamma.from_shape_scale(float(shape), float(scale))
    shape, _, scale = stats.weibull_min.fit(data, floc=0)
    return Weibull.from_shape_scale(float(shape), float(scale))


def _ks(
    distribution: Distribution,
    uncensored: FloatArray,
    right: FloatArray,
    resolution: float | None = None,
) -> tuple[float, float]:
    """KS distance between the fitted CDF and the Kaplan–Meier estimate (the ECDF if uncensored);
    with ``resolution``, the CDF of the fitted durations as a clock of that step reads them."""
    sample: Any = (
        stats.CensoredData(uncensored=uncensored, right=right) if right.size else uncensored
    )
    empirical = stats.ecdf(sample).cdf
    times = np.asarray(empirical.quantiles, dtype=np.float64)
    after = np.asarray(empirical.probabilities, dtype=np.float64)
    before = np.concatenate(([0.0], after[:-1]))
    if resolution:
        fitted = reading_cdf(distribution, times, resolution)
        below = reading_cdf(distribution, times - resolution, resolution)
    else:
        fitted = below = distribution.cdf(times)
    statistic = float(max(np.max(np.abs(after - fitted)), np.max(np.abs(below - before))))
    return statistic, float(stats.kstwo.sf(statistic, uncensored.size))


def fit(
    data: npt.ArrayLike,
    *,
    families: Sequence[str] = ("exponential", "lognormal", "gamma", "weibull"),
    censored: npt.ArrayLike | None = None,
    resolution: float | None = None,
) -> FitResult:
    """Fit each family to observed durations by maximum likelihood and rank them by AIC.

    Parameters
    ----------
    data
        Durations in hours, all greater than zero (zeros and negatives are refused, never dropped).
    families
        Families to try, from ``exponential``, ``lognormal``, ``gamma`` and ``weibull``; each has
        its location fixed at zero.
    censored
        Optional boolean mask aligned with ``data``: ``True`` marks a right-censored value, a lower
        bound such as the age of a ticket still open. Censored values enter the likelihood through
        the survival function, so the fit is not biased towards short durations.
    resolution
        Optional step, in hours, of the clock the durations were read from (``1/60`` for an
        export stamped in whole minutes). Each completed value is then a reading of that clock —
        zero allowed, when both stamps fell in one step — and enters the likelihood as the
        probability of that reading (:mod:`simkit.fitting_rounded`); the KS distance is measured
        against the distribution of readings. That is done when at least 1% of the completed
        values, or their standard deviation, are under :data:`ROUNDING_MATTERS` steps (zeros are
        still allowed otherwise, read as half a step). The completed values must be whole
        numbers of steps (the float arithmetic that made them aside). Without it the values are
        exact.

    Returns
    -------
    FitResult
        ``best`` is the family with the lowest AIC; ``candidates`` lists every family that could be
        fitted, best first, with its log-likelihood, AIC and Kolmogorov–Smirnov statistic.

    Notes
    -----
    The KS statistic is the largest distance between the fitted CDF and the empirical CDF — the
    Kaplan–Meier estimate when values are censored, which equals the plain ECDF of the values when
    none is. Its p-value uses the KS distribution for the number of completed (uncensored) values.
    It is optimistic: the parameters were estimated from the same data, so a poor fit shows a
    p-value that is too high (a Lilliefors-type correction would lower it), and under censoring it
    is only approximate. Read it as a warning light, not a test.

    Raises
    ------
    SpecError
        When the data hold non-positive or non-finite values, the mask does not match, fewer than
        two different completed durations remain, a family is unknown, or no family can be fitted.
    """
    for family in families:
        if family not in _FIT_PARAMETERS:
            raise SpecError(
                f"cannot fit family {family!r}{_closest(family, _FIT_PARAMETERS)}",
                f"fit one of: {', '.join(_FIT_PARAMETERS)}",
            )
    if resolution is not None and not (math.isfinite(resolution) and resolution > 0):
        raise SpecError(
            f"the clock's step must be a positive number of hours, got {resolution!r}",
            "e.g. 1/60 for stamps in whole minutes, or leave it out for exact durations",
        )
    values, mask = _fit_input(data, censored, rounded=resolution is not None)
    if resolution is not None:
        values = _on_the_grid(values, mask, resolution)
    # A reading of zero is a duration under one step: read as exact, it is half a step.
    exact = np.where(values > 0, values, (resolution or 0.0) / 2)
    if resolution is not None and not rounding_matters(values[~mask], resolution):
        values, resolution = exact, None  # the rounding moves no figure: exact is far quicker
    uncensored, right = values[~mask], values[mask]
    unit = float(np.median(exact))
    candidates: list[FitCandidate] = []
    for family in dict.fromkeys(families):
        try:
            with warnings.catch_warnings(), np.errstate(all="ignore"):
                warnings.simplefilter("ignore", RuntimeWarning)
                start = _mle(family, exact[~mask] / unit, right / unit)
                if resolution is None:
                    distribution = start.scaled(unit)
                    frozen = distribution._scipy()
                    loglik = float(frozen.logpdf(uncensored).sum() + frozen.logsf(right).sum())
                else:
                    found, loglik = fit_rounded(
                        start, uncensored / unit, right / unit, resolution / unit
                    )
                    distribution = found.scaled(unit)  # loglik: of probabilities, unitless
        except (ValueError, RuntimeError, OverflowError, ZeroDivisionError):
            continue
        if not math.isfinite(loglik):
            continue
        statistic, pvalue = _ks(distribution, uncensored, right, resolution)
        aic = 2 * _FIT_PARAMETERS[family] - 2 * loglik
        candidates.append(FitCandidate(family, distribution, loglik, aic, statistic, pvalue))
    if not candidates:
        raise SpecError(
            f"none of {', '.join(families)} could be fitted to these durations",
            "use {empirical: ...} to resample the observed values instead",
        )
    candidates.sort(key=lambda c: c.aic)
    return FitResult(
        best=candidates[0].distribution,
        candidates=tuple(candidates),
        n=int(values.size),
        n_censored=int(mask.sum()),
    )
