"""Random values drawn in bulk and handed out one at a time.

The engine never samples per call: every stream of handling times, patience, pauses, routing
uniforms … is a :data:`Draws`, a zero-argument callable returning the next value. Behind it, one
vectorised ``sample`` call fills a Python list (in chunks that double up to 65,536 values), and
:func:`itertools.chain` walks the lists in C. Values come out as Python floats, which are cheaper
to add and compare than numpy scalars. A choice among a few outcomes (a route) is drawn the same
way, the uniforms mapped to outcomes a chunk at a time.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from functools import partial
from itertools import chain
from typing import Any, TypeVar

import numpy as np

from simkit.distributions import Distribution
from simkit.engine.model import ServiceModel
from simkit.streams import stream_name

__all__ = [
    "Draws",
    "DrawsCache",
    "Reopening",
    "StreamFactory",
    "bulk_draws",
    "choice_draws",
    "distribution_draws",
    "no_draw",
    "same_value",
    "uniform_draws",
]

T = TypeVar("T")
StreamFactory = Callable[[str], np.random.Generator]

_FIRST_CHUNK = 64
_LARGEST_CHUNK = 1 << 16

Draws = Callable[[], float]
"""Returns the next value of an endless stream."""


def _chunks(sampler: Callable[[int], list[Any]]) -> Iterator[list[Any]]:
    size = _FIRST_CHUNK
    while True:
        yield sampler(size)
        size = min(2 * size, _LARGEST_CHUNK)


def bulk_draws(sampler: Callable[[int], np.ndarray]) -> Callable[[], Any]:
    """Values of ``sampler(n)`` (``n`` independent draws), one per call."""
    return chain.from_iterable(_chunks(lambda n: sampler(n).tolist())).__next__


def distribution_draws(distribution: Distribution, rng: np.random.Generator) -> Draws:
    """Draws of ``distribution`` from ``rng``."""
    return bulk_draws(partial(distribution.sample, rng))


def uniform_draws(rng: np.random.Generator) -> Draws:
    """Uniform draws on ``[0, 1)`` from ``rng``."""
    return bulk_draws(rng.random)


def choice_draws(
    choices: Sequence[T], thresholds: Sequence[float], rng: np.random.Generator
) -> Callable[[], T]:
    """One of ``choices`` per call: a uniform draw from ``rng`` picks the choice at
    ``bisect_right(thresholds, u)`` (mapped a chunk at a time).

    The choices are looked up in a tuple, never an array of objects: numpy arrays take no part
    in garbage collection, so choices that lead back to their owner (a desk's routes name the
    desk) would keep a whole run in memory through one."""
    table = tuple(choices)
    bounds = np.asarray(thresholds, dtype=np.float64)

    def sample(n: int) -> list[T]:
        picked = np.searchsorted(bounds, rng.random(n), side="right").tolist()
        return list(map(table.__getitem__, picked))

    pick: Callable[[], T] = chain.from_iterable(_chunks(sample)).__next__
    return pick


def no_draw() -> float:
    """Stands for draws that are never taken (a single route, no pause)."""
    raise AssertionError("drawn from a stream the rules do not have")


def same_value(a: object, b: object) -> bool:
    """Equal values (identity where a value cannot say whether it is equal)."""
    if a is b:
        return True
    try:
        return bool(a == b)
    except (TypeError, ValueError):
        return False


class DrawsCache:
    """One :class:`Draws` per distinct distribution of one purpose; the first regime to use a
    distribution names its stream (``name``, then ``name/<regime>`` for later ones)."""

    def __init__(self, name: str, streams: StreamFactory) -> None:
        self._name = name
        self._streams = streams
        self._known: list[tuple[Distribution, Draws]] = []

    def get(self, dist: Distribution | None, regime: int) -> Draws | None:
        return None if dist is None else self.require(dist, regime)

    def require(self, dist: Distribution, regime: int) -> Draws:
        for known, draws in self._known:
            if same_value(known, dist):
                return draws
        name = self._name if not self._known else f"{self._name}/{regime}"
        draws = distribution_draws(dist, self._streams(name))
        self._known.append((dist, draws))
        return draws


@dataclass(eq=False)
class Reopening:
    """A service's reopening, per regime: ``(probability, delay draws)``."""

    rules: list[tuple[float, Draws | None]]
    chance: Draws
    varies: bool

    @classmethod
    def of(cls, service: ServiceModel, streams: StreamFactory) -> Reopening | None:
        if all(p.reopen_probability <= 0.0 or p.reopen_after is None for p in service.params):
            return None
        delays = DrawsCache(stream_name("reopen", service.name, "after"), streams)
        rules: list[tuple[float, Draws | None]] = []
        for k, params in enumerate(service.params):
            after = delays.get(params.reopen_after, k) if params.reopen_probability > 0 else None
            rules.append((float(params.reopen_probability), after))
        return cls(
            rules=rules,
            chance=uniform_draws(streams(stream_name("reopen", service.name))),
            varies=any(rule != rules[0] for rule in rules[1:]),
        )
