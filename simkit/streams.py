"""Random streams keyed by stable names.

One :class:`numpy.random.SeedSequence` per run is spawned per replication; inside a replication each
stream ("arrivals/payroll", "handle/apps", "routing/apps", "failures/db" …) is derived from the
replication's sequence and a stable hash of its name — never from the order in which streams are
asked for. Adding a team therefore leaves every other team's numbers unchanged, and a baseline and
its changes draw the same numbers where they share a stream (common random numbers).
"""

from __future__ import annotations

import hashlib

import numpy as np

__all__ = ["Streams", "replication_seeds", "stream_name"]


def stream_name(*parts: object) -> str:
    """The name of the stream for ``parts`` ("arrivals", a service's name …), joined by "/".

    A "/" (or "\\") inside a part is escaped, so that names never collide: a service named
    ``X/customer`` does not draw from the stream of service X's customers. A name holding
    neither keeps the plain joined name, and so its numbers.
    """
    return "/".join(str(part).replace("\\", "\\\\").replace("/", "\\/") for part in parts)


def _name_key(name: str) -> int:
    return int.from_bytes(hashlib.blake2b(name.encode("utf-8"), digest_size=8).digest(), "little")


class Streams:
    """Factory of independent generators for one replication, keyed by name."""

    def __init__(self, seed: np.random.SeedSequence) -> None:
        self.seed = seed

    def __call__(self, name: str) -> np.random.Generator:
        """A fresh generator for ``name``; the same name always gives the same numbers."""
        child = np.random.SeedSequence(
            entropy=self.seed.entropy,
            spawn_key=(*self.seed.spawn_key, _name_key(name)),
            pool_size=self.seed.pool_size,
        )
        return np.random.Generator(np.random.PCG64(child))


def replication_seeds(seed: int, replications: int) -> list[np.random.SeedSequence]:
    """The per-replication seed sequences of a run: ``SeedSequence(seed).spawn(replications)``.

    Replication *k* always gets the same sequence, however many replications are run in total.
    """
    root = np.random.SeedSequence(seed)
    return [
        np.random.SeedSequence(entropy=root.entropy, spawn_key=(k,), pool_size=root.pool_size)
        for k in range(replications)
    ]
