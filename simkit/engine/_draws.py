"""Random values drawn in bulk and handed out one at a time.

The engine never samples per call: every stream of handling times, patience, pauses, routing
uniforms … is a :data:`Draws`, a zero-argument callable returning the next value. Behind it, one
vectorised ``sample`` call fills a Python list (in chunks that double up to 65,536 values), and
:func:`itertools.chain` walks the lists in C. Values come out as Python floats, which are cheaper
to add and compare than numpy scalars.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from functools import partial
from itertools import chain

import numpy as np

from simkit.distributions import Distribution

__all__ = ["Draws", "bulk_draws", "distribution_draws", "uniform_draws"]

_FIRST_CHUNK = 64
_LARGEST_CHUNK = 1 << 16

Draws = Callable[[], float]
"""Returns the next value of an endless stream."""


def _chunks(sampler: Callable[[int], np.ndarray]) -> Iterator[list[float]]:
    size = _FIRST_CHUNK
    while True:
        yield sampler(size).tolist()
        size = min(2 * size, _LARGEST_CHUNK)


def bulk_draws(sampler: Callable[[int], np.ndarray]) -> Draws:
    """Values of ``sampler(n)`` (``n`` independent draws), one per call."""
    return chain.from_iterable(_chunks(sampler)).__next__


def distribution_draws(distribution: Distribution, rng: np.random.Generator) -> Draws:
    """Draws of ``distribution`` from ``rng``."""
    return bulk_draws(partial(distribution.sample, rng))


def uniform_draws(rng: np.random.Generator) -> Draws:
    """Uniform draws on ``[0, 1)`` from ``rng``."""
    return bulk_draws(rng.random)
