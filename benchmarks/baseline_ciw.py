"""The ciw 3.2 baseline for the support-engine benchmark.

The same two workloads as :mod:`benchmarks.baseline_simpy`, built the way the ciw documentation
builds networks, run for the time in which the requested number of tickets is expected to arrive,
and summarised from ``get_all_records()`` (mean wait and P(wait <= t) at the entry node).
"""

from __future__ import annotations

from collections.abc import Sequence

import ciw

from benchmarks.baseline_simpy import BaselineRun

__all__ = ["mmc", "two_tier"]


def _summary(sim: ciw.Simulation, threshold_h: float) -> BaselineRun:
    waits = [r.waiting_time for r in sim.get_all_records() if r.node == 1]
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
    """About ``tickets`` tickets through an M/M/c queue."""
    ciw.seed(seed)
    network = ciw.create_network(
        arrival_distributions=[ciw.dists.Exponential(rate=arrival_rate)],
        service_distributions=[ciw.dists.Exponential(rate=service_rate)],
        number_of_servers=[agents],
    )
    sim = ciw.Simulation(network)
    sim.simulate_until_max_time(tickets / arrival_rate)
    return _summary(sim, threshold_h)


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
    """About ``tickets`` tickets through the two-tier desk with priority classes (0 first)."""
    ciw.seed(seed)
    classes = [f"Class {k}" for k in range(len(shares))]
    network = ciw.create_network(
        arrival_distributions={
            name: [ciw.dists.Exponential(rate=arrival_rate * share), None]
            for name, share in zip(classes, shares, strict=True)
        },
        service_distributions={
            name: [ciw.dists.Exponential(rate=tier1_rate), ciw.dists.Exponential(rate=tier2_rate)]
            for name in classes
        },
        routing={name: [[0.0, escalation], [0.0, 0.0]] for name in classes},
        priority_classes={name: k for k, name in enumerate(classes)},
        number_of_servers=[tier1_agents, tier2_agents],
    )
    sim = ciw.Simulation(network)
    sim.simulate_until_max_time(tickets / arrival_rate)
    return _summary(sim, threshold_h)
