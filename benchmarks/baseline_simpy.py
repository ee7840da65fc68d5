"""The idiomatic simpy baseline for the support-engine benchmark.

Written the way the simpy documentation teaches: one process per ticket, a
:class:`simpy.Resource` (a :class:`simpy.PriorityResource` for the two-tier network) for the
agents, and every time drawn when it is needed with :meth:`random.Random.expovariate`. The waits
are collected in a list and summarised exactly as the simkit run is (mean wait and
P(wait <= t) at the entry tier), so both sides do the same work.
"""

from __future__ import annotations

import random
from collections.abc import Generator, Sequence
from dataclasses import dataclass

import simpy

__all__ = ["BaselineRun", "mmc", "two_tier"]


@dataclass(frozen=True)
class BaselineRun:
    tickets: int
    mean_wait_h: float
    p_wait_within: float
    """Share of entry-tier waits at most the benchmark's threshold."""


def _summary(waits: list[float], threshold_h: float) -> BaselineRun:
    n = len(waits)
    return BaselineRun(
        tickets=n,
        mean_wait_h=sum(waits) / n,
        p_wait_within=sum(1 for w in waits if w <= threshold_h) / n,
    )


def mmc(
    arrival_rate: float,
    service_rate: float,
    agents: int,
    tickets: int,
    threshold_h: float,
    seed: int = 1,
) -> BaselineRun:
    """``tickets`` tickets through an M/M/c queue, one simpy process each."""
    rng = random.Random(seed)
    env = simpy.Environment()
    desk = simpy.Resource(env, capacity=agents)
    waits: list[float] = []

    def ticket(env: simpy.Environment) -> Generator[simpy.Event, object, None]:
        opened = env.now
        with desk.request() as request:
            yield request
            waits.append(env.now - opened)
            yield env.timeout(rng.expovariate(service_rate))

    def source(env: simpy.Environment) -> Generator[simpy.Event, object, None]:
        for _ in range(tickets):
            yield env.timeout(rng.expovariate(arrival_rate))
            env.process(ticket(env))

    env.process(source(env))
    env.run()
    return _summary(waits, threshold_h)


def two_tier(
    arrival_rate: float,
    shares: Sequence[float],
    tier1_agents: int,
    tier1_rate: float,
    tier2_agents: int,
    tier2_rate: float,
    escalation: float,
    tickets: int,
    threshold_h: float,
    seed: int = 1,
) -> BaselineRun:
    """A two-tier desk with priority classes (rank 0 first), non-preemptive at both tiers."""
    rng = random.Random(seed)
    env = simpy.Environment()
    tier1 = simpy.PriorityResource(env, capacity=tier1_agents)
    tier2 = simpy.PriorityResource(env, capacity=tier2_agents)
    waits: list[float] = []
    ranks = list(range(len(shares)))

    def ticket(env: simpy.Environment, rank: int) -> Generator[simpy.Event, object, None]:
        opened = env.now
        with tier1.request(priority=rank) as request:
            yield request
            waits.append(env.now - opened)
            yield env.timeout(rng.expovariate(tier1_rate))
        if rng.random() < escalation:
            with tier2.request(priority=rank) as request:
                yield request
                yield env.timeout(rng.expovariate(tier2_rate))

    def source(env: simpy.Environment) -> Generator[simpy.Event, object, None]:
        for _ in range(tickets):
            yield env.timeout(rng.expovariate(arrival_rate))
            env.process(ticket(env, rng.choices(ranks, weights=shares)[0]))

    env.process(source(env))
    env.run()
    return _summary(waits, threshold_h)
