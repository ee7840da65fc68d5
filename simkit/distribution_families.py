"""The distribution families: random durations in hours that sample in bulk from a given
:class:`numpy.random.Generator` and know their own mean, variance, CDF and quantiles.

Each family is a frozen dataclass stored in its moment form (mean and cv where the family has
them). Import the families from :mod:`simkit.distributions`, which also parses scenario specs
into them and fits them to data.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, ClassVar

import numpy as np
import numpy.typing as npt
from scipy import stats

from simkit.errors import SpecError
from simkit.units import format_duration

__all__ = [
    "FAMILIES",
    "Distribution",
    "Empirical",
    "Exponential",
    "Fixed",
    "Gamma",
    "Lognormal",
    "Uniform",
    "Weibull",
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
"""Every family name :func:`~simkit.distributions.from_spec` accepts."""


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


def _show(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


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
