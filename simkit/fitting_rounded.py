"""Maximum likelihood for durations read off a clock of a fixed step (an export stamped in whole
minutes), for :func:`simkit.fitting.fit` with ``resolution``.

A duration between two stamps that each drop what is below the step ``r`` reads as a multiple of
``r``: a true duration ``t`` reads as ``⌊t/r⌋·r`` or one step more, the more likely the nearer,
so a reading ``d`` comes from ``t`` with weight ``1 − |t − d|/r`` (a triangle on ``d ± r``). Its
probability is

    P(D = d) = ∫ f(t) (1 − |t − d|/r) dt = (Q(d + r) − 2 Q(d) + Q(d − r)) / r,

with ``Q(x) = E[(T − x)⁺] = ∫ₓ^∞ S(u) du`` the expected excess over ``x`` (``Q(x) = E[T] − x``
for ``x ≤ 0``), written with the incomplete gamma function and the normal distribution for the
four families. ``Q`` is small in the tail rather than close to the mean, so the second difference
keeps its precision there; left of the mode ``G(x) = ∫₀ˣ F = x − E[T] + Q(x)``, small there,
gives the same second difference with its digits. Readings of :data:`FAR` steps or more use the
density times ``r`` instead, which the triangle barely changes there and which costs far less; so
does any reading whose second difference runs out of digits both ways. Readings equal to zero
(both stamps in the same step) need no special value.

Fitting a reading as if it were exact favours the families with a mode away from zero when the
durations last a few steps: a 3-minute exponential read from minute stamps comes out lognormal,
its 99th percentile about a quarter too long. Under this likelihood it comes out exponential.
The distribution of a reading is also what the Kolmogorov–Smirnov distance is measured against:
``P(D ≤ d) = 1 + (Q(d + r) − Q(d)) / r``.
"""

from __future__ import annotations

import math

import numpy as np
from scipy import optimize, special

from simkit.distribution_families import (
    Distribution,
    Exponential,
    FloatArray,
    Gamma,
    Lognormal,
    Weibull,
)

__all__ = ["FAR", "fit_rounded", "reading_cdf"]

FAR = 50
"""Readings of this many steps or more enter the likelihood as density × step."""

_Params = tuple[str, float, float]
"""A family with its two natural parameters: gamma (shape, scale) — the exponential is a gamma
of shape 1 —, lognormal (mu, sigma) of log-hours, weibull (shape, scale)."""


def _params(distribution: Distribution) -> _Params:
    if isinstance(distribution, Exponential):
        return ("gamma", 1.0, distribution.mean)
    if isinstance(distribution, Gamma):
        shape = 1.0 / distribution.cv**2
        return ("gamma", shape, distribution.mean / shape)
    if isinstance(distribution, Lognormal):
        sigma = math.sqrt(math.log1p(distribution.cv**2))
        return ("lognormal", math.log(distribution.mean) - sigma**2 / 2, sigma)
    if isinstance(distribution, Weibull):
        return ("weibull", distribution.shape, distribution.scale_h)
    raise TypeError(f"no reading likelihood for {distribution.family}")


def _mean(p: _Params) -> float:
    family, a, b = p
    if family == "gamma":
        return a * b
    if family == "lognormal":
        return math.exp(a + b * b / 2)
    return b * math.gamma(1.0 + 1.0 / a)


def _excess(p: _Params, x: FloatArray) -> FloatArray:
    """``Q(x) = E[(T − x)⁺]``."""
    family, a, b = p
    at = np.maximum(x, 0.0)
    mean = _mean(p)
    with np.errstate(all="ignore"):
        if family == "gamma":
            z = at / b
            q = mean * special.gammaincc(a + 1.0, z) - at * special.gammaincc(a, z)
        elif family == "lognormal":
            log_at = np.log(at)
            q = mean * special.ndtr((a + b * b - log_at) / b) - at * special.ndtr((a - log_at) / b)
        else:
            z = (at / b) ** a
            q = mean * special.gammaincc(1.0 + 1.0 / a, z) - at * np.exp(-z)
    return np.asarray(np.where(x > 0, q, mean - x), dtype=np.float64)


def _logpdf(p: _Params, x: FloatArray) -> FloatArray:
    family, a, b = p
    with np.errstate(all="ignore"):
        if family == "gamma":
            value = (a - 1.0) * np.log(x) - x / b - special.gammaln(a) - a * math.log(b)
        elif family == "lognormal":
            log_x = np.log(x)
            value = -log_x - math.log(b * math.sqrt(2 * math.pi)) - (log_x - a) ** 2 / (2 * b * b)
        else:
            value = math.log(a / b) + (a - 1.0) * np.log(x / b) - (x / b) ** a
    return np.asarray(value, dtype=np.float64)


def _logsf(p: _Params, x: FloatArray) -> FloatArray:
    family, a, b = p
    with np.errstate(all="ignore"):
        if family == "gamma":
            value = np.log(special.gammaincc(a, x / b))
        elif family == "lognormal":
            value = special.log_ndtr((a - np.log(x)) / b)
        else:
            value = -((x / b) ** a)
    return np.asarray(value, dtype=np.float64)


def _log_reading(p: _Params, d: FloatArray, step: float) -> FloatArray:
    """log P(D = d) for readings ``d`` (each under :data:`FAR` steps) of a clock of step ``step``."""
    q = _excess(p, np.concatenate((d + step, d, d - step)))
    n = d.size
    second = q[:n] - 2.0 * q[n : 2 * n] + q[2 * n :]
    with np.errstate(all="ignore"):
        value = np.log(second / step)
    usable = np.isfinite(value) & (second > 1e-12 * np.abs(q[n : 2 * n]))
    if usable.all():
        return np.asarray(value, dtype=np.float64)
    # Left of the mode Q is close to E[T] − x and its second difference runs out of digits;
    # there G(x) = ∫₀ˣ F = x − E[T] + Q(x) is small instead and keeps them. Where neither does
    # (far in either tail) the density × step stands in.
    g = _lower(p, np.concatenate((d + step, d, d - step)))
    lower = g[:n] - 2.0 * g[n : 2 * n] + g[2 * n :]
    with np.errstate(all="ignore"):
        from_lower = np.log(lower / step)
        near = _logpdf(p, np.maximum(d, step / 2)) + math.log(step)
    left = np.isfinite(from_lower) & (lower > 1e-12 * np.abs(g[:n]))
    value = np.where(usable, value, np.where(left, from_lower, near))
    return np.asarray(value, dtype=np.float64)


def _lower(p: _Params, x: FloatArray) -> FloatArray:
    """``G(x) = ∫₀ˣ F(u) du = x·F(x) − E[T; T < x]`` (0 for ``x ≤ 0``)."""
    family, a, b = p
    at = np.maximum(x, 0.0)
    mean = _mean(p)
    with np.errstate(all="ignore"):
        if family == "gamma":
            z = at / b
            below, partial = special.gammainc(a, z), mean * special.gammainc(a + 1.0, z)
        elif family == "lognormal":
            log_at = np.log(at)
            below = special.ndtr((log_at - a) / b)
            partial = mean * special.ndtr((log_at - a - b * b) / b)
        else:
            z = (at / b) ** a
            below, partial = -np.expm1(-z), mean * special.gammainc(1.0 + 1.0 / a, z)
        g = at * below - partial
    return np.asarray(np.where(x > 0, g, 0.0), dtype=np.float64)


def reading_cdf(distribution: Distribution, d: FloatArray, step: float) -> FloatArray:
    """``P(D ≤ d)`` for readings on a clock of step ``step`` (``d`` a reading)."""
    d = np.asarray(d, dtype=np.float64)
    p = _params(distribution)
    both = np.concatenate((d + step, d))
    q = _excess(p, both)
    g = _lower(p, both)
    upper = 1.0 + (q[: d.size] - q[d.size :]) / step
    lower = (g[: d.size] - g[d.size :]) / step  # the same, with the digits of a small value
    value = np.where(upper < 0.5, lower, upper)
    return np.asarray(np.clip(value, 0.0, 1.0), dtype=np.float64)


def _log_likelihood(
    p: _Params,
    near: tuple[FloatArray, FloatArray],
    far: tuple[FloatArray, FloatArray],
    right: FloatArray,
    step: float,
) -> float:
    value = float(near[1] @ _log_reading(p, near[0], step))
    if far[0].size:
        value += float(far[1] @ _logpdf(p, far[0])) + float(far[1].sum()) * math.log(step)
    if right.size:
        value += float(_logsf(p, right).sum())
    return value


def _from_theta(family: str, theta: np.ndarray) -> _Params:
    if family == "exponential":
        return ("gamma", 1.0, math.exp(theta[0]))
    if family == "lognormal":
        return ("lognormal", float(theta[0]), math.exp(theta[1]))
    return (family, math.exp(theta[0]), math.exp(theta[1]))


def _theta(family: str, p: _Params) -> np.ndarray:
    _, a, b = p
    if family == "exponential":
        return np.array([math.log(b)])
    if family == "lognormal":
        return np.array([a, math.log(b)])
    return np.array([math.log(a), math.log(b)])


def _distribution(p: _Params, family: str) -> Distribution:
    """The distribution of ``p``; ``ValueError`` where its variance is lost to rounding (a shape
    so large the durations are all but fixed)."""
    kind, a, b = p
    made: Distribution
    if family == "exponential":
        made = Exponential(b)
    elif kind == "gamma":
        made = Gamma.from_shape_scale(a, b)
    elif kind == "lognormal":
        made = Lognormal.from_log(a, b)
    else:
        made = Weibull.from_shape_scale(a, b)
    if not (math.isfinite(made.var) and made.var > 1e-12 * made.mean**2):
        raise ValueError(f"{family} with parameters {a}, {b} has no spread left")
    return made


def fit_rounded(
    start: Distribution, completed: FloatArray, right: FloatArray, step: float
) -> tuple[Distribution, float]:
    """The maximum-likelihood member of ``start``'s family for readings ``completed`` (and
    durations still running after ``right``) of a clock of step ``step``, searched from
    ``start`` (the fit that reads them as exact); with its log-likelihood (of the readings'
    probabilities)."""
    family = start.family
    readings, counts = np.unique(completed, return_counts=True)
    weights = counts.astype(np.float64)
    close = readings < FAR * step
    near = (readings[close], weights[close])
    far = (readings[~close], weights[~close])

    def negative(theta: np.ndarray) -> float:
        try:
            p = _from_theta(family, theta)
            _distribution(p, family)
        except (ValueError, ArithmeticError):
            return math.inf
        value = _log_likelihood(p, near, far, right, step)
        return -value if math.isfinite(value) else math.inf

    theta0 = _theta(family, _params(start))
    result = optimize.minimize(
        negative,
        theta0,
        method="Nelder-Mead",
        options={"xatol": 1e-6, "fatol": 1e-7, "maxiter": 600},
    )
    best = result.x if result.fun <= negative(theta0) else theta0
    p = _from_theta(family, best)
    return _distribution(p, family), _log_likelihood(p, near, far, right, step)
