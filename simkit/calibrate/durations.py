"""Fitting durations — handling, pauses, reopenings — with right-censoring.

A duration still running at the export time is censored there. The family is chosen by AIC among
those with a plausible mean, and its Kolmogorov–Smirnov distance is reported; too few completed
durations give an exponential with their mean.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from simkit.distributions import Distribution, Exponential, FitResult, fit
from simkit.errors import SpecError
from simkit.fitting import on_grid
from simkit.units import format_duration

__all__ = ["MIN_FIT", "Elapsed"]

MIN_FIT = 5
"""Fewest completed durations a distribution is fitted to (else an exponential by the mean)."""


Elapsed = Callable[[np.ndarray, np.ndarray], np.ndarray]
"""Hours between two arrays of run hours (wall clock, or business hours of a calendar)."""


def _durations(
    begin: np.ndarray,
    end: np.ndarray,
    observed_h: float,
    elapsed: Elapsed | None = None,
) -> tuple[np.ndarray, np.ndarray, int, int, np.ndarray]:
    """Durations with a censoring mask (still running → censored at the export time).

    Returns the usable durations, their censoring mask, the count of zero durations (both
    stamps in one step of the clock: :func:`_fit_durations` reads every duration as a reading of
    that clock), the count of unusable ones (negative, or no start), and the mask of the usable
    entries among the inputs."""
    known = ~np.isnan(begin)
    censored = np.isnan(end)
    stop = np.where(censored, observed_h, end)
    value = np.full(begin.size, np.nan)
    if known.any():
        value[known] = (
            elapsed(begin[known], stop[known])
            if elapsed is not None
            else stop[known] - begin[known]
        )
    bad = ~np.isfinite(value) | (value < 0)
    zeros = (value == 0) & ~bad
    keep = ~bad
    return value[keep], censored[keep], int(zeros.sum()), int((known & bad).sum()), keep


@dataclass(frozen=True)
class _Fitted:
    distribution: Distribution
    report: dict[str, Any]


def reading_step(completed: np.ndarray, scale: float = 1.0) -> float | None:
    """The clock the durations were read from: a minute (× ``scale``) when every completed one
    is a whole number of minutes, else a second when each is a whole number of seconds, else
    ``None`` (business hours cut at other instants, say). Taken from the durations themselves:
    an export may stamp one column to the second and the work to the minute."""
    for step in (scale / 60, scale / 3600):
        if completed.size and on_grid(completed, step):
            return step
    return None


def _fit_durations(
    values: np.ndarray, censored: np.ndarray, what: str, resolution_h: float, scale: float = 1.0
) -> _Fitted | None:
    """Best family by AIC with its goodness of fit; an exponential by the mean for few values;
    ``None`` when there is nothing to fit. The durations are readings of a clock
    (:func:`reading_step`; zero: both stamps in one step), fitted as such where the step
    matters (:func:`simkit.distributions.fit`); when they are not, a zero counts as half the
    export's ``resolution_h`` (× ``scale``)."""
    done = values[~censored]
    if done.size == 0:
        return None
    step = reading_step(done, scale)
    if step is None:
        values = np.where(values > 0, values, resolution_h * scale / 2)
        done = values[~censored]
    resolution_h = step if step is not None else resolution_h * scale
    if done.size < MIN_FIT or np.ptp(done) == 0:
        mean = float((values.sum()) / done.size)
        dist = Exponential(max(mean, resolution_h / 2))
        return _Fitted(
            dist,
            {
                "n": int(values.size),
                "n_censored": int(censored.sum()),
                "best": dist.to_spec(),
                "best_family": "exponential",
                "note": f"only {done.size} completed {what}: exponential with their mean",
                "candidates": [],
            },
        )
    try:
        result: FitResult = fit(values, censored=censored, resolution=step)
    except SpecError as error:
        mean = float(values.sum() / done.size)
        dist = Exponential(max(mean, resolution_h / 2))
        return _Fitted(
            dist,
            {
                "n": int(values.size),
                "n_censored": int(censored.sum()),
                "best": dist.to_spec(),
                "best_family": "exponential",
                "note": f"no family could be fitted ({error}): exponential with the mean",
                "candidates": [],
            },
        )
    report = result.as_dict()
    low = float(values.mean())
    high = float(values.sum() / done.size)
    plausible = [c for c in result.candidates if 0.5 * low <= c.distribution.mean <= 2 * high]
    best = plausible[0] if plausible else result.candidates[0]
    if best is not result.candidates[0]:
        top = result.candidates[0]
        report["best"] = best.distribution.to_spec()
        report["best_family"] = best.family
        report["override"] = (
            f"{top.family} had the lowest AIC but a mean of {format_duration(top.distribution.mean)} "
            f"against {format_duration(high)} observed (its tail is an artefact of the extremes); "
            f"{best.family} is the best family with a plausible mean"
        )
    report["ks_statistic"] = best.ks_statistic
    report["empirical_mean_h"] = float(done.mean())
    if best.ks_statistic > 0.1 and done.size >= 100:
        report["note"] = (
            f"poor fit: the best family ({best.family}) is {best.ks_statistic:.2f} away from the "
            "observed distribution (KS); consider {empirical: {file: …}} with the observed times"
        )
    return _Fitted(best.distribution, report)


def _fit_comment(fitted: _Fitted, what: str) -> str:
    report = fitted.report
    if "n" not in report:  # nothing was fitted: the value assumed says why
        return str(report.get("note", "assumed"))
    n, c = report["n"], report["n_censored"]
    text = f"{n:,} {what}"
    if c:
        text += f" ({c:,} still open, censored)"
    candidates = report.get("candidates") or []
    if report.get("override"):
        text += (
            f"; {report['best_family']}: the lowest AIC with a plausible mean, KS "
            f"{report['ks_statistic']:.3f}"
        )
    elif len(candidates) > 1:
        text += f"; best of {len(candidates)} families by AIC, KS {report['ks_statistic']:.3f}"
    elif report.get("note"):
        text += f"; {report['note']}"
    return text
