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
"""

from __future__ import annotations

import difflib
import math
import os
import re
import string
import warnings
from abc import ABC, abstractmethod
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import numpy.typing as npt
from scipy import stats

from simkit.errors import SpecError
from simkit.units import format_duration, parse_duration

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

FloatArray = npt.NDArray[np.float64]

_FORMS: dict[str, tuple[tuple[str, ...], ...]] = {
    "exponential": (("mean",),),
    "lognormal": (("mean", "cv"), ("mu", "sigma")),
    "gamma": (("mean", "cv"), ("shape", "scale")),
    "weibull": (("shape", "scale"), ("shape", "mean")),
    "fixed": (("value",),),
    "uniform": (("low", "high"),),
    "empirical": (("values",), ("file",)),
}
_EXAMPLES = {
    "exponential": "{exponential: {mean: 40m}}",
    "lognormal": "{lognormal: {mean: 25m, cv: 1.2}}",
    "gamma": "{gamma: {mean: 3h, cv: 1.0}}",
    "weibull": "{weibull: {shape: 0.8, mean: 2000h}}",
    "fixed": "{fixed: {value: 15m}}",
    "uniform": "{uniform: {low: 10m, high: 1h}}",
    "empirical": "{empirical: {values: [10m, 25m, 2h]}}",
}
FAMILIES: tuple[str, ...] = tuple(_FORMS)
"""Every family name :func:`from_spec` accepts."""


def _plain(x: float) -> str:
    """A number to three significant digits, never in scientific notation."""
    return str(np.format_float_positional(x, precision=3, unique=True, fractional=False, trim="-"))


def _readable(hours: float) -> str:
    """A duration for people: ``format_duration`` rounded to three significant digits."""
    text = format_duration(hours)
    number, unit = text.rstrip("smhdw"), text[len(text.rstrip("smhdw")) :]
    return _plain(float(number)) + unit


def _check_positive(
    family: str, name: str, value: float, *, time: bool, shown: object = None
) -> None:
    """Refuse a parameter that is not greater than zero; ``shown`` is the value as written."""
    if math.isfinite(value) and value > 0:
        return
    if shown is None:
        shown = format_duration(value) if time and value == 0 else value
    kind = "a time" if time else "a number"
    fix = f"a {family} {name} is {kind} greater than zero, e.g. {_EXAMPLES[family]}"
    if name == "cv":
        fix = "cv is the standard deviation divided by the mean, e.g. 1.2; for a constant time "
        fix += "use {fixed: {value: ...}}"
    raise SpecError(f"{family} {name} must be greater than zero, got {_show(shown)}", fix)


def _check_factor(factor: float) -> float:
    if isinstance(factor, bool) or not isinstance(factor, int | float):
        raise SpecError(f"a scale factor must be a number, got {factor!r}", "e.g. 1.1 for +10%")
    if not math.isfinite(factor) or factor <= 0:
        raise SpecError(
            f"a scale factor must be greater than zero, got {factor!r}", "e.g. 1.1 for +10%"
        )
    return float(factor)


def _check_probabilities(q: npt.ArrayLike) -> FloatArray:
    probabilities = np.asarray(q, dtype=np.float64)
    if np.any(~(probabilities >= 0) | ~(probabilities <= 1)):
        raise SpecError(
            "a quantile's probability must lie between 0 and 1", "e.g. 0.9 for the 90th"
        )
    return probabilities


class Distribution(ABC):
    """A non-negative random duration in hours.

    Concrete families are frozen dataclasses: equal parameters compare equal and hash alike, and
    instances travel to worker processes by pickling.
    """

    family: ClassVar[str]

    @abstractmethod
    def sample(self, rng: np.random.Generator, size: int) -> FloatArray:
        """``size`` independent draws as float64 hours, drawn in bulk from ``rng``."""

    @property
    @abstractmethod
    def mean(self) -> float:
        """The expected value in hours."""

    @property
    @abstractmethod
    def var(self) -> float:
        """The variance in hours squared."""

    @abstractmethod
    def scaled(self, factor: float) -> Distribution:
        """The same family with every draw multiplied by ``factor`` (> 0)."""

    @abstractmethod
    def to_spec(self) -> dict[str, Any]:
        """The scenario-file form, e.g. ``{"exponential": {"mean": "40m"}}``."""

    @abstractmethod
    def describe(self) -> str:
        """A short human description, e.g. ``"lognormal, mean 25m, cv 1.2"``."""

    @property
    def std(self) -> float:
        """The standard deviation in hours."""
        return math.sqrt(self.var)

    @property
    def cv(self) -> float:
        """The coefficient of variation: standard deviation divided by the mean."""
        return self.std / self.mean

    def cdf(self, x: npt.ArrayLike) -> FloatArray:
        """P(duration <= x) for every ``x`` in hours (vectorised)."""
        return np.asarray(self._scipy().cdf(np.asarray(x, dtype=np.float64)), dtype=np.float64)

    def quantile(self, q: npt.ArrayLike) -> FloatArray:
        """The duration in hours below which a share ``q`` of draws falls (vectorised)."""
        return np.asarray(self._scipy().ppf(_check_probabilities(q)), dtype=np.float64)

    def _scipy(self) -> Any:
        """The equivalent frozen ``scipy.stats`` distribution (never used for sampling)."""
        raise NotImplementedError(f"{self.family} has no scipy equivalent")


@dataclass(frozen=True)
class Exponential(Distribution):
    """Memoryless durations: ``{exponential: {mean: 40m}}``."""

    mean_h: float
    family: ClassVar[str] = "exponential"

    def __post_init__(self) -> None:
        _check_positive(self.family, "mean", self.mean_h, time=True)

    def sample(self, rng: np.random.Generator, size: int) -> FloatArray:
        return rng.exponential(self.mean_h, size)

    @property
    def mean(self) -> float:
        return self.mean_h

    @property
    def var(self) -> float:
        return self.mean_h**2

    def scaled(self, factor: float) -> Exponential:
        return Exponential(self.mean_h * _check_factor(factor))

    def to_spec(self) -> dict[str, Any]:
        return {"exponential": {"mean": format_duration(self.mean_h)}}

    def describe(self) -> str:
        return f"exponential, mean {_readable(self.mean_h)}"

    def _scipy(self) -> Any:
        return stats.expon(scale=self.mean_h)


@dataclass(frozen=True)
class Lognormal(Distribution):
    """Right-skewed durations by mean and cv; ``mu``/``sigma`` are those of log-hours."""

    mean_h: float
    cv_value: float
    family: ClassVar[str] = "lognormal"

    def __post_init__(self) -> None:
        _check_positive(self.family, "mean", self.mean_h, time=True)
        _check_positive(self.family, "cv", self.cv_value, time=False)

    @classmethod
    def from_log(cls, mu: float, sigma: float) -> Lognormal:
        """The lognormal whose logarithm (of hours) is normal with mean ``mu`` and sd ``sigma``."""
        if not math.isfinite(mu):
            raise SpecError(f"lognormal mu must be a finite number, got {mu}", "e.g. mu: -1.2")
        _check_positive("lognormal", "sigma", sigma, time=False)
        try:
            mean_h = math.exp(mu + sigma**2 / 2)
            cv = math.sqrt(math.expm1(sigma**2))
        except OverflowError:
            raise SpecError(
                f"lognormal mu {mu} and sigma {sigma} give an infinite mean",
                "mu and sigma are of log-hours: a mean of 25m is about mu -1.2 with sigma 0.9",
            ) from None
        return cls(mean_h, cv)

    @property
    def sigma(self) -> float:
        """Standard deviation of log-hours."""
        return math.sqrt(math.log1p(self.cv_value**2))

    @property
    def mu(self) -> float:
        """Mean of log-hours."""
        return math.log(self.mean_h) - self.sigma**2 / 2

    def sample(self, rng: np.random.Generator, size: int) -> FloatArray:
        return rng.lognormal(self.mu, self.sigma, size)

    @property
    def mean(self) -> float:
        return self.mean_h

    @property
    def var(self) -> float:
        return (self.mean_h * self.cv_value) ** 2

    @property
    def cv(self) -> float:
        return self.cv_value

    def scaled(self, factor: float) -> Lognormal:
        return Lognormal(self.mean_h * _check_factor(factor), self.cv_value)

    def to_spec(self) -> dict[str, Any]:
        return {"lognormal": {"mean": format_duration(self.mean_h), "cv": float(self.cv_value)}}

    def describe(self) -> str:
        return f"lognormal, mean {_readable(self.mean_h)}, cv {_plain(self.cv_value)}"

    def _scipy(self) -> Any:
        return stats.lognorm(self.sigma, scale=math.exp(self.mu))


@dataclass(frozen=True)
class Gamma(Distribution):
    """Durations by mean and cv; ``shape = 1/cv²`` and ``scale = mean·cv²``."""

    mean_h: float
    cv_value: float
    family: ClassVar[str] = "gamma"

    def __post_init__(self) -> None:
        _check_positive(self.family, "mean", self.mean_h, time=True)
        _check_positive(self.family, "cv", self.cv_value, time=False)

    @classmethod
    def from_shape_scale(cls, shape: float, scale_h: float) -> Gamma:
        """The gamma with ``shape`` (k) and ``scale_h`` (θ, hours): mean kθ, cv 1/√k."""
        _check_positive("gamma", "shape", shape, time=False)
        _check_positive("gamma", "scale", scale_h, time=True)
        return cls(shape * scale_h, 1.0 / math.sqrt(shape))

    @property
    def shape(self) -> float:
        return 1.0 / self.cv_value**2

    @property
    def scale_h(self) -> float:
        return self.mean_h * self.cv_value**2

    def sample(self, rng: np.random.Generator, size: int) -> FloatArray:
        return rng.gamma(self.shape, self.scale_h, size)

    @property
    def mean(self) -> float:
        return self.mean_h

    @property
    def var(self) -> float:
        return (self.mean_h * self.cv_value) ** 2

    @property
    def cv(self) -> float:
        return self.cv_value

    def scaled(self, factor: float) -> Gamma:
        return Gamma(self.mean_h * _check_factor(factor), self.cv_value)

    def to_spec(self) -> dict[str, Any]:
        return {"gamma": {"mean": format_duration(self.mean_h), "cv": float(self.cv_value)}}

    def describe(self) -> str:
        return f"gamma, mean {_readable(self.mean_h)}, cv {_plain(self.cv_value)}"

    def _scipy(self) -> Any:
        return stats.gamma(self.shape, scale=self.scale_h)


@dataclass(frozen=True)
class Weibull(Distribution):
    """Times to failure by ``shape`` (k < 1: early failures dominate) and mean."""

    shape: float
    mean_h: float
    family: ClassVar[str] = "weibull"

    def __post_init__(self) -> None:
        _check_positive(self.family, "shape", self.shape, time=False)
        _check_positive(self.family, "mean", self.mean_h, time=True)
        try:
            math.gamma(1 + 2 / self.shape)
        except OverflowError:
            raise SpecError(
                f"weibull shape {self.shape} is too small: its variance overflows",
                "use a shape of 0.1 or more (0.5–1 models early failures)",
            ) from None

    @classmethod
    def from_shape_scale(cls, shape: float, scale_h: float) -> Weibull:
        """The Weibull with ``shape`` (k) and ``scale_h`` (λ, hours): mean λ·Γ(1 + 1/k)."""
        _check_positive("weibull", "shape", shape, time=False)
        _check_positive("weibull", "scale", scale_h, time=True)
        try:
            return cls(shape, scale_h * math.gamma(1 + 1 / shape))
        except OverflowError:
            raise SpecError(
                f"weibull shape {shape} is too small: its mean overflows",
                "use a shape of 0.1 or more (0.5–1 models early failures)",
            ) from None

    @property
    def scale_h(self) -> float:
        return self.mean_h / math.gamma(1 + 1 / self.shape)

    def sample(self, rng: np.random.Generator, size: int) -> FloatArray:
        return self.scale_h * rng.weibull(self.shape, size)

    @property
    def mean(self) -> float:
        return self.mean_h

    @property
    def var(self) -> float:
        return self.scale_h**2 * math.gamma(1 + 2 / self.shape) - self.mean_h**2

    def scaled(self, factor: float) -> Weibull:
        return Weibull(self.shape, self.mean_h * _check_factor(factor))

    def to_spec(self) -> dict[str, Any]:
        return {"weibull": {"shape": float(self.shape), "mean": format_duration(self.mean_h)}}

    def describe(self) -> str:
        return f"weibull, shape {_plain(self.shape)}, mean {_readable(self.mean_h)}"

    def _scipy(self) -> Any:
        return stats.weibull_min(self.shape, scale=self.scale_h)


@dataclass(frozen=True)
class Fixed(Distribution):
    """A constant duration: ``{fixed: {value: 15m}}``."""

    value_h: float
    family: ClassVar[str] = "fixed"

    def __post_init__(self) -> None:
        _check_positive(self.family, "value", self.value_h, time=True)

    def sample(self, rng: np.random.Generator, size: int) -> FloatArray:
        return np.full(size, self.value_h, dtype=np.float64)

    @property
    def mean(self) -> float:
        return self.value_h

    @property
    def var(self) -> float:
        return 0.0

    def scaled(self, factor: float) -> Fixed:
        return Fixed(self.value_h * _check_factor(factor))

    def to_spec(self) -> dict[str, Any]:
        return {"fixed": {"value": format_duration(self.value_h)}}

    def describe(self) -> str:
        return f"fixed {_readable(self.value_h)}"

    def cdf(self, x: npt.ArrayLike) -> FloatArray:
        return (np.asarray(x, dtype=np.float64) >= self.value_h).astype(np.float64)

    def quantile(self, q: npt.ArrayLike) -> FloatArray:
        return np.full_like(_check_probabilities(q), self.value_h)


@dataclass(frozen=True)
class Uniform(Distribution):
    """Equally likely durations between ``low`` and ``high`` hours."""

    low_h: float
    high_h: float
    family: ClassVar[str] = "uniform"

    def __post_init__(self) -> None:
        if not math.isfinite(self.low_h) or self.low_h < 0:
            raise SpecError(
                f"uniform low must be a time of zero or more, got {self.low_h}",
                f"e.g. {_EXAMPLES['uniform']}",
            )
        if not math.isfinite(self.high_h):
            raise SpecError(f"uniform high must be a finite time, got {self.high_h}", "e.g. 1h")
        if self.high_h < self.low_h:
            raise SpecError(
                f"uniform low ({format_duration(self.low_h)}) is above high "
                f"({format_duration(self.high_h) if self.high_h >= 0 else self.high_h})",
                "swap them: low is the shortest time, high the longest",
            )
        if self.high_h == self.low_h:
            raise SpecError(
                f"uniform low and high are both {format_duration(self.low_h)}",
                f"for a constant time write {{fixed: {{value: {format_duration(self.low_h)}}}}}",
            )

    def sample(self, rng: np.random.Generator, size: int) -> FloatArray:
        return rng.uniform(self.low_h, self.high_h, size)

    @property
    def mean(self) -> float:
        return (self.low_h + self.high_h) / 2

    @property
    def var(self) -> float:
        return (self.high_h - self.low_h) ** 2 / 12

    def scaled(self, factor: float) -> Uniform:
        f = _check_factor(factor)
        return Uniform(self.low_h * f, self.high_h * f)

    def to_spec(self) -> dict[str, Any]:
        return {
            "uniform": {"low": format_duration(self.low_h), "high": format_duration(self.high_h)}
        }

    def describe(self) -> str:
        return f"uniform, {_readable(self.low_h)} to {_readable(self.high_h)}"

    def _scipy(self) -> Any:
        return stats.uniform(loc=self.low_h, scale=self.high_h - self.low_h)


@dataclass(frozen=True)
class Empirical(Distribution):
    """Resampling of observed durations, each value equally likely.

    ``file`` records the path as written in the scenario when the values came from a CSV file, so
    :meth:`to_spec` writes the file back instead of every value; it takes no part in equality.
    """

    values_h: tuple[float, ...]
    file: str | None = field(default=None, compare=False)
    family: ClassVar[str] = "empirical"

    def __post_init__(self) -> None:
        if len(self.values_h) == 0:
            raise SpecError(
                "empirical values is empty",
                "list at least one duration, e.g. values: [10m, 25m, 2h], or name a file",
            )
        values = self._values
        if not np.all(np.isfinite(values)) or np.any(values < 0):
            raise SpecError(
                "empirical values must be durations of zero or more", "remove negative values"
            )
        if not values.sum() > 0:
            raise SpecError(
                "empirical values are all zero, so the mean is zero",
                "give the observed durations, at least one greater than zero",
            )

    @cached_property
    def _values(self) -> FloatArray:
        return np.asarray(self.values_h, dtype=np.float64)

    @cached_property
    def _sorted(self) -> FloatArray:
        return np.sort(self._values)

    def sample(self, rng: np.random.Generator, size: int) -> FloatArray:
        return self._values[rng.integers(0, self._values.size, size)]

    @property
    def mean(self) -> float:
        return float(self._values.mean())

    @property
    def var(self) -> float:
        return float(self._values.var())

    def scaled(self, factor: float) -> Empirical:
        return Empirical(tuple((self._values * _check_factor(factor)).tolist()))

    def to_spec(self) -> dict[str, Any]:
        if self.file is not None:
            return {"empirical": {"file": self.file}}
        return {"empirical": {"values": [format_duration(v) for v in self.values_h]}}

    def describe(self) -> str:
        source = f" from {self.file}" if self.file is not None else ""
        return f"empirical, {len(self.values_h):,} values{source}, mean {_readable(self.mean)}"

    def cdf(self, x: npt.ArrayLike) -> FloatArray:
        points = np.asarray(x, dtype=np.float64)
        below = np.searchsorted(self._sorted, points, side="right")
        return np.asarray(below / self._sorted.size, dtype=np.float64)

    def quantile(self, q: npt.ArrayLike) -> FloatArray:
        return np.asarray(
            np.quantile(self._sorted, _check_probabilities(q), method="inverted_cdf"),
            dtype=np.float64,
        )


# --------------------------------------------------------------------------------------- parsing


def _show(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _closest(name: str, options: Iterable[str]) -> str:
    options = list(options)
    prefixed = [o for o in options if name and o.startswith(name.lower())]
    close = prefixed or difflib.get_close_matches(name.lower(), options, n=1, cutoff=0.5)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _accepted(family: str) -> str:
    return " or ".join("{" + ", ".join(form) + "}" for form in _FORMS[family])


def _choose_form(family: str, params: Mapping[Any, Any]) -> tuple[str, ...]:
    keys = {str(k) for k in params}
    known = {name for form in _FORMS[family] for name in form}
    fix = f"{family} takes {_accepted(family)}, e.g. {_EXAMPLES[family]}"
    unknown = sorted(keys - known)
    if unknown:
        name = unknown[0]
        raise SpecError(f"{family} has no parameter {name!r}{_closest(name, sorted(known))}", fix)
    for form in _FORMS[family]:
        if keys == set(form):
            return form
    partial = [form for form in _FORMS[family] if keys <= set(form)]
    if partial:
        missing = [", ".join(p for p in form if p not in keys) for form in partial]
        raise SpecError(f"{family} is missing {' or '.join(missing)}", fix)
    raise SpecError(f"{family} cannot combine {', '.join(sorted(keys))}", "give one set: " + fix)


def _duration(family: str, name: str, value: Any, *, positive: bool = False) -> float:
    """A time parameter in hours; ``positive`` refuses zero as well as negative times."""
    if (isinstance(value, int | float) and not isinstance(value, bool) and value < 0) or (
        isinstance(value, str) and value.strip().startswith("-")
    ):
        if positive:
            _check_positive(family, name, -1.0, time=True, shown=value)
        raise SpecError(
            f"{family} {name} cannot be negative, got {_show(value)}",
            f"write a time of zero or more such as '25m', e.g. {_EXAMPLES[family]}",
        )
    try:
        hours = parse_duration(value)
    except SpecError as error:
        fix = error.fix or f"write a time such as '25m', e.g. {_EXAMPLES[family]}"
        raise SpecError(f"{family} {name}: {error.message}", fix) from None
    if positive:
        _check_positive(family, name, hours, time=True, shown=value)
    return hours


def _number(family: str, name: str, value: Any) -> float:
    number: float | None = None
    if isinstance(value, int | float) and not isinstance(value, bool):
        number = float(value)
    elif isinstance(value, str):
        try:
            number = float(value.strip())
        except ValueError:
            number = None
    if number is None or not math.isfinite(number):
        hint = " (a plain number, no time unit)" if isinstance(value, str) else ""
        raise SpecError(
            f"{family} {name} must be a number{hint}, got {_show(value)}",
            f"e.g. {_EXAMPLES[family]}",
        )
    return number


def _positive_duration(family: str, name: str, value: Any) -> float:
    return _duration(family, name, value, positive=True)


def _positive_number(family: str, name: str, value: Any) -> float:
    number = _number(family, name, value)
    _check_positive(family, name, number, time=False, shown=value)
    return number


def _cell_hours(cell: str) -> float:
    """A CSV cell in hours: a plain number or a duration string such as ``25m``."""
    try:
        return float(cell)
    except ValueError:
        return parse_duration(cell)


def _column_hours(cells: npt.NDArray[np.str_]) -> FloatArray | None:
    """Hours from plain numbers and duration strings in bulk; ``None`` if any cell is malformed."""
    cells = np.strings.strip(np.strings.strip(cells, "\"'"))
    numbers = np.strings.rstrip(cells, string.ascii_letters)
    units = np.strings.lower(np.strings.slice(cells, np.strings.str_len(numbers), None))
    try:
        values = np.strings.strip(numbers).astype(np.float64)
        names, which = np.unique(units, return_inverse=True)
        per_unit = np.array([parse_duration(f"1{name}") if name else 1.0 for name in names])
    except (ValueError, SpecError):
        return None
    return np.asarray(values * per_unit[which], dtype=np.float64)


def _read_column(path: Path, shown: str) -> tuple[float, ...]:
    """The durations in a one-column CSV file (hours or duration strings, optional header)."""
    fix = "the path is relative to the scenario file; the file has one column of durations"
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise SpecError(f"empirical file {shown!r} not found (looked for {path})", fix) from None
    except (OSError, UnicodeDecodeError) as error:
        reason = error.strerror if isinstance(error, OSError) and error.strerror else str(error)
        raise SpecError(f"empirical file {shown!r} cannot be read: {reason}", fix) from None
    separator = re.search(r"[,;\t]", text)
    if separator is not None:
        n = text.count("\n", 0, separator.start()) + 1
        line = text.splitlines()[n - 1].strip()
        raise SpecError(
            f"empirical file {shown!r} line {n} has more than one column: {_show(line)}",
            "keep one column of durations (hours or strings like '25m')",
        )
    lines = [line.strip() for line in text.splitlines()]
    cells = [(n, line) for n, line in enumerate(lines, start=1) if line]
    if cells:
        try:
            _cell_hours(cells[0][1].strip("\"'"))
        except SpecError:
            cells = cells[1:]
    if not cells:
        raise SpecError(f"empirical file {shown!r} holds no durations", fix)
    try:
        hours: FloatArray | None = np.array([cell for _, cell in cells], dtype=np.float64)
    except ValueError:
        hours = _column_hours(np.array([cell for _, cell in cells]))
    if hours is None:
        hours = np.empty(len(cells), dtype=np.float64)
        for i, (n, cell) in enumerate(cells):
            try:
                hours[i] = _cell_hours(cell.strip("\"'").strip())
            except SpecError as error:
                raise SpecError(
                    f"empirical file {shown!r} line {n}: {error.message}",
                    error.fix or "write hours or durations such as '25m'",
                ) from None
    bad = np.flatnonzero(~np.isfinite(hours) | (hours < 0))
    if bad.size:
        n, cell = cells[int(bad[0])]
        raise SpecError(
            f"empirical file {shown!r} line {n}: {cell!r} is not a duration of zero or more",
            "write hours or durations such as '25m'",
        )
    return tuple(hours.tolist())


def _empirical(
    form: tuple[str, ...], params: Mapping[str, Any], base_dir: Path | None, allow_files: bool
) -> Empirical:
    if form == ("values",):
        raw = params["values"]
        if isinstance(raw, str | bytes | Mapping) or not isinstance(raw, Sequence):
            raise SpecError(
                f"empirical values must be a list of durations, got {_show(raw)}",
                "e.g. values: [10m, 25m, 2h]",
            )
        numeric = all(isinstance(v, int | float) and not isinstance(v, bool) for v in raw)
        if numeric and raw:
            array = np.asarray(raw, dtype=np.float64)
            if np.isfinite(array).all() and (array >= 0).all():
                return Empirical(tuple(array.tolist()))  # plain hours: no per-value parsing
        values = tuple(_duration("empirical", f"values[{i}]", v) for i, v in enumerate(raw))
        return Empirical(values)
    raw_file = params["file"]
    if not isinstance(raw_file, str | os.PathLike) or not str(raw_file).strip():
        raise SpecError(
            f"empirical file must be a path, got {_show(raw_file)}", "e.g. file: handling.csv"
        )
    shown = os.fspath(raw_file)
    if not allow_files:
        raise SpecError(
            f"empirical file {shown!r} cannot be read: an uploaded scenario may not name files",
            "list the durations instead, e.g. {empirical: {values: [10m, 25m, 2h]}}",
        )
    path = Path(shown).expanduser()
    if not path.is_absolute():
        path = (base_dir if base_dir is not None else Path.cwd()) / path
    return Empirical(_read_column(path, shown), file=shown)


def _build(family: str, form: tuple[str, ...], p: Mapping[str, Any]) -> Distribution:
    if family == "exponential":
        return Exponential(_positive_duration(family, "mean", p["mean"]))
    if family in ("lognormal", "gamma") and form == ("mean", "cv"):
        mean_h = _positive_duration(family, "mean", p["mean"])
        cv = _positive_number(family, "cv", p["cv"])
        return Lognormal(mean_h, cv) if family == "lognormal" else Gamma(mean_h, cv)
    if family == "lognormal":
        return Lognormal.from_log(
            _number(family, "mu", p["mu"]), _number(family, "sigma", p["sigma"])
        )
    if family == "gamma":
        shape = _positive_number(family, "shape", p["shape"])
        return Gamma.from_shape_scale(shape, _positive_duration(family, "scale", p["scale"]))
    if family == "weibull":
        shape = _positive_number(family, "shape", p["shape"])
        if form == ("shape", "scale"):
            return Weibull.from_shape_scale(shape, _positive_duration(family, "scale", p["scale"]))
        return Weibull(shape, _positive_duration(family, "mean", p["mean"]))
    if family == "fixed":
        return Fixed(_positive_duration(family, "value", p["value"]))
    low = _duration(family, "low", p["low"])
    high = _duration(family, "high", p["high"])
    if high < low:
        raise SpecError(
            f"uniform low ({_show(p['low'])}) is above high ({_show(p['high'])})",
            "swap them: low is the shortest time, high the longest",
        )
    return Uniform(low, high)


def from_spec(spec: Any, *, base_dir: Path | None = None, allow_files: bool = True) -> Distribution:
    """Parse a scenario-file distribution such as ``{"lognormal": {"mean": "25m", "cv": 1.2}}``.

    Parameters
    ----------
    spec
        A mapping with exactly one family key (see :data:`FAMILIES`) whose value maps parameter
        names to values; times take units (``"25m"``, ``"3h"``, ``"1d"``) or are numbers of hours.
    base_dir
        Directory that a relative ``empirical.file`` path is resolved against (the scenario file's
        directory); the current directory when ``None``.
    allow_files
        Whether ``empirical.file`` may be read. ``False`` for uploaded scenarios, which must not
        read files on the server.

    Returns
    -------
    Distribution
        The frozen distribution, in hours.

    Raises
    ------
    SpecError
        When the spec is malformed: not a mapping, no or several families, an unknown family or
        parameter, a missing parameter, a non-positive mean, value, shape or cv, ``low > high``,
        empty values, or an unreadable or forbidden file. The message names the problem and the
        fix says which parameter sets the family accepts.
    """
    families = ", ".join(FAMILIES)
    if not isinstance(spec, Mapping):
        raise SpecError(
            f"a distribution must be a mapping with one family, got {_show(spec)}",
            f"write e.g. {_EXAMPLES['lognormal']}; families: {families}",
        )
    keys = [str(k) for k in spec]
    parameter_names = {name for forms in _FORMS.values() for form in forms for name in form}
    if keys and all(k in parameter_names for k in keys):
        verb = "is a parameter" if len(keys) == 1 else "are parameters"
        raise SpecError(
            f"{', '.join(repr(k) for k in keys)} {verb}, not a family",
            f"put the family around them, e.g. {_EXAMPLES['lognormal']}; families: {families}",
        )
    if len(keys) != 1:
        got = "no family" if not keys else f"{len(keys)} families ({', '.join(keys)})"
        raise SpecError(
            f"a distribution names exactly one family, got {got}",
            f"keep one of: {families}, e.g. {_EXAMPLES['lognormal']}",
        )
    family = keys[0]
    if family not in _FORMS:
        raise SpecError(
            f"unknown distribution family {family!r}{_closest(family, FAMILIES)}",
            f"use one of: {families}",
        )
    params = next(iter(spec.values()))
    if not isinstance(params, Mapping):
        raise SpecError(
            f"{family} parameters must be a mapping, got {_show(params)}",
            f"{family} takes {_accepted(family)}, e.g. {_EXAMPLES[family]}",
        )
    form = _choose_form(family, params)
    named = {str(k): v for k, v in params.items()}
    if family == "empirical":
        return _empirical(form, named, base_dir, allow_files)
    return _build(family, form, named)


# --------------------------------------------------------------------------------------- fitting

_FIT_PARAMETERS = {"exponential": 1, "lognormal": 2, "gamma": 2, "weibull": 2}


@dataclass(frozen=True)
class FitCandidate:
    """One family fitted by maximum likelihood, with its AIC and goodness of fit."""

    family: str
    distribution: Distribution
    loglik: float
    """Log-likelihood of the data in hours (censored values contribute log P(T > value))."""
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
    data: npt.ArrayLike, censored: npt.ArrayLike | None
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
    bad = np.flatnonzero(~np.isfinite(values) | (values <= 0))
    if bad.size:
        raise SpecError(
            f"{bad.size:,} of {values.size:,} durations to fit are zero, negative or not finite "
            f"(the first at position {bad[0]}: {values[bad[0]]!r})",
            "fitting needs positive durations: correct or remove those rows first",
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
    distribution: Distribution, uncensored: FloatArray, right: FloatArray
) -> tuple[float, float]:
    """KS distance between the fitted CDF and the Kaplan–Meier estimate (the ECDF if uncensored)."""
    sample: Any = (
        stats.CensoredData(uncensored=uncensored, right=right) if right.size else uncensored
    )
    empirical = stats.ecdf(sample).cdf
    times = np.asarray(empirical.quantiles, dtype=np.float64)
    after = np.asarray(empirical.probabilities, dtype=np.float64)
    before = np.concatenate(([0.0], after[:-1]))
    fitted = distribution.cdf(times)
    statistic = float(max(np.max(np.abs(after - fitted)), np.max(np.abs(fitted - before))))
    return statistic, float(stats.kstwo.sf(statistic, uncensored.size))


def fit(
    data: npt.ArrayLike,
    *,
    families: Sequence[str] = ("exponential", "lognormal", "gamma", "weibull"),
    censored: npt.ArrayLike | None = None,
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
    values, mask = _fit_input(data, censored)
    uncensored, right = values[~mask], values[mask]
    unit = float(np.median(values))
    candidates: list[FitCandidate] = []
    for family in dict.fromkeys(families):
        try:
            with warnings.catch_warnings(), np.errstate(all="ignore"):
                warnings.simplefilter("ignore", RuntimeWarning)
                distribution = _mle(family, uncensored / unit, right / unit).scaled(unit)
                frozen = distribution._scipy()
                loglik = float(frozen.logpdf(uncensored).sum() + frozen.logsf(right).sum())
        except (ValueError, RuntimeError, OverflowError, ZeroDivisionError):
            continue
        if not math.isfinite(loglik):
            continue
        statistic, pvalue = _ks(distribution, uncensored, right)
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
