"""Distribution specs: sampling, moments, fitting.

A scenario file names a random duration as a mapping with exactly one family, its parameters with
time units where they are times (numbers are hours)::

    {exponential: {mean: 40m}}
    {lognormal: {mean: 25m, cv: 1.2}}      or {lognormal: {mu: -1.2, sigma: 0.9}}  (log-hours)
    {gamma: {mean: 3h, cv: 1.0}}           or {gamma: {shape: 1.0, scale: 3h}}
    {weibull: {shape: 0.8, mean: 2000h}}   or {weibull: {shape: 0.8, scale: 1766h}}
    {fixed: {value: 15m}}
    {uniform: {low: 10m, high: 1h}}
    {empirical: {values: [10m, 25m, 2h]}}  or {empirical: {file: handling.csv}}

:func:`from_spec` turns such a mapping into a frozen :class:`Distribution` that samples in bulk from
a given :class:`numpy.random.Generator` and knows its own mean, variance, CDF and quantiles.
Every value is a duration in hours. Each family is stored in its moment form (mean and cv where the
family has them), so :meth:`Distribution.to_spec` writes that form back, times as
:func:`simkit.units.format_duration` writes them; a spec in another form comes back as the same
distribution up to that rounding of its times.

:func:`fit` estimates the continuous families from observed durations by maximum likelihood,
optionally with right-censored values (tickets still open), and ranks them by AIC.

The families live in :mod:`simkit.distribution_families`, the parser in
:mod:`simkit.distribution_spec` and the fitting in :mod:`simkit.fitting`; this module is where
they are imported from.
"""

from simkit.distribution_families import (
    FAMILIES,
    Distribution,
    Empirical,
    Exponential,
    Fixed,
    Gamma,
    Lognormal,
    Uniform,
    Weibull,
)
from simkit.distribution_spec import from_spec
from simkit.fitting import FitCandidate, FitResult, fit

__all__ = [
    "FAMILIES",
    "Distribution",
    "Empirical",
    "Exponential",
    "FitCandidate",
    "FitResult",
    "Fixed",
    "Gamma",
    "Lognormal",
    "Uniform",
    "Weibull",
    "fit",
    "from_spec",
]
