"""Distribution specs: sampling, moments, fitting. (Skeleton — being completed.)"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

__all__ = ["Distribution", "Exponential", "from_spec"]


class Distribution(ABC):
    """A non-negative random duration in hours."""

    family: ClassVar[str]

    @abstractmethod
    def sample(self, rng: np.random.Generator, size: int) -> np.ndarray:
        """``size`` independent draws as float64 hours."""

    @property
    @abstractmethod
    def mean(self) -> float: ...

    @property
    @abstractmethod
    def var(self) -> float: ...

    @abstractmethod
    def scaled(self, factor: float) -> Distribution:
        """The same family with every draw multiplied by ``factor``."""

    @abstractmethod
    def to_spec(self) -> dict[str, Any]:
        """The scenario-file form, e.g. ``{"exponential": {"mean": "40m"}}``."""


@dataclass(frozen=True)
class Exponential(Distribution):
    mean_h: float
    family: ClassVar[str] = "exponential"

    def sample(self, rng: np.random.Generator, size: int) -> np.ndarray:
        return rng.exponential(self.mean_h, size)

    @property
    def mean(self) -> float:
        return self.mean_h

    @property
    def var(self) -> float:
        return self.mean_h**2

    def scaled(self, factor: float) -> Distribution:
        return Exponential(self.mean_h * factor)

    def to_spec(self) -> dict[str, Any]:
        return {"exponential": {"mean": self.mean_h}}


def from_spec(spec: Any, *, base_dir: Any = None, allow_files: bool = True) -> Distribution:
    raise NotImplementedError
