"""Closed-form queueing results: the analytic checks of the engine and quick estimates.

All rates are per hour and all times are hours. ``c`` is the number of agents, ``a = λ/μ`` the
offered load in erlangs.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

__all__ = [
    "ErlangA",
    "cobham_mean_waits",
    "erlang_a",
    "erlang_b",
    "erlang_c",
    "jackson_mean_sojourn",
    "mm_c_mean_wait",
    "mm_c_wait_cdf",
]


def _check_agents(c: int) -> None:
    if c < 1:
        raise ValueError(f'"c" must be at least 1 agent, got {c}.')


def erlang_b(c: int, a: float) -> float:
    """Blocking probability of an M/M/c/c loss system with offered load ``a`` erlangs."""
    _check_agents(c)
    if a < 0:
        raise ValueError(f'offered load "a" must be >= 0, got {a}.')
    b = 1.0
    for k in range(1, c + 1):
        b = a * b / (k + a * b)
    return b


def erlang_c(c: int, a: float) -> float:
    """Probability that an arrival waits in an M/M/c queue with offered load ``a`` erlangs.

    Parameters
    ----------
    c
        Agents.
    a
        Offered load ``λ/μ``; at or above ``c`` the queue is unstable and every arrival waits.

    Returns
    -------
    float
        ``C(c, a)``, computed from Erlang B by the stable recursion.
    """
    if a >= c:
        return 1.0
    b = erlang_b(c, a)
    return c * b / (c - a * (1.0 - b))


def _stable(c: int, arrival_rate: float, service_rate: float) -> None:
    _check_agents(c)
    if arrival_rate >= c * service_rate:
        raise ValueError(
            f"unstable queue: arrival rate {arrival_rate}/h >= capacity {c * service_rate}/h; "
            "add agents or lower the demand."
        )


def mm_c_mean_wait(c: int, arrival_rate: float, service_rate: float) -> float:
    """Mean time an arrival waits before service in an M/M/c queue (FIFO), in hours."""
    _stable(c, arrival_rate, service_rate)
    return erlang_c(c, arrival_rate / service_rate) / (c * service_rate - arrival_rate)


def mm_c_wait_cdf(
    t: float | np.ndarray, c: int, arrival_rate: float, service_rate: float
) -> float | np.ndarray:
    """``P(wait <= t)`` in an M/M/c FIFO queue: ``1 - C(c, a) exp(-(cμ - λ) t)`` for ``t >= 0``."""
    _stable(c, arrival_rate, service_rate)
    waits = erlang_c(c, arrival_rate / service_rate)
    decay = c * service_rate - arrival_rate
    tt = np.asarray(t, dtype=np.float64)
    cdf = np.where(tt < 0, 0.0, 1.0 - waits * np.exp(-decay * np.maximum(tt, 0.0)))
    return float(cdf) if cdf.ndim == 0 else cdf


def cobham_mean_waits(c: int, arrival_rates: Sequence[float], service_rate: float) -> list[float]:
    """Mean wait of each class in an M/M/c queue with non-preemptive priorities (Cobham).

    Every class has the same exponential handling rate ``service_rate``.

    Parameters
    ----------
    c
        Agents.
    arrival_rates
        Arrival rate of each class, highest priority first.
    service_rate
        Handling rate of one agent.

    Returns
    -------
    list of float
        ``W_k = C(c, a) / (cμ (1 - σ_{k-1}) (1 - σ_k))`` with ``σ_k`` the load of classes 1…k.
    """
    total = float(sum(arrival_rates))
    _stable(c, total, service_rate)
    base = erlang_c(c, total / service_rate) / (c * service_rate)
    waits: list[float] = []
    above = 0.0
    for rate in arrival_rates:
        upto = above + rate / (c * service_rate)
        waits.append(base / ((1.0 - above) * (1.0 - upto)))
        above = upto
    return waits


def jackson_mean_sojourn(
    external_rates: Sequence[float],
    routing: Sequence[Sequence[float]] | np.ndarray,
    agents: Sequence[int],
    service_rates: Sequence[float],
) -> float:
    """Mean time from arrival to departure in an open Jackson network of M/M/c stations.

    Parameters
    ----------
    external_rates
        Arrivals from outside at each station.
    routing
        ``routing[i][j]`` is the probability of going from station ``i`` to ``j`` after
        handling; the rest of row ``i`` leaves the network.
    agents, service_rates
        Agents and handling rate per agent at each station.

    Returns
    -------
    float
        ``Σ L_i / Σ γ_i`` (Little), with each station an M/M/c at its total arrival rate.
    """
    gamma = np.asarray(external_rates, dtype=np.float64)
    moves = np.asarray(routing, dtype=np.float64)
    flow = np.linalg.solve(np.eye(gamma.size) - moves.T, gamma)
    in_system = 0.0
    for rate, c, mu in zip(flow.tolist(), agents, service_rates, strict=True):
        in_system += rate * (mm_c_mean_wait(c, rate, mu) + 1.0 / mu)
    return in_system / float(gamma.sum())


@dataclass(frozen=True)
class ErlangA:
    """Steady state of an M/M/c+M queue (exponential patience)."""

    p_wait: float
    """Probability that an arrival finds every agent busy."""
    p_abandon: float
    """Probability that an arrival abandons before it is served."""
    mean_wait: float
    """Mean time in queue over all arrivals (served or abandoning), hours."""


def erlang_a(c: int, arrival_rate: float, service_rate: float, abandon_rate: float) -> ErlangA:
    """The Erlang A (Palm) model, from its birth-death chain truncated where the tail is negligible.

    Parameters
    ----------
    c
        Agents.
    arrival_rate, service_rate
        Per hour.
    abandon_rate
        ``1 / mean patience``; ``0`` gives the M/M/c queue (which must then be stable).

    Returns
    -------
    ErlangA
        ``p_abandon = θ E[Q] / λ`` and ``mean_wait = E[Q] / λ`` (Little), ``E[Q]`` the mean queue.
    """
    _check_agents(c)
    if abandon_rate <= 0.0:
        return ErlangA(
            p_wait=erlang_c(c, arrival_rate / service_rate),
            p_abandon=0.0,
            mean_wait=mm_c_mean_wait(c, arrival_rate, service_rate),
        )
    log_terms = [0.0]
    n = 0
    while True:
        n += 1
        departures = min(n, c) * service_rate + max(n - c, 0) * abandon_rate
        log_terms.append(log_terms[-1] + math.log(arrival_rate / departures))
        if n > c and log_terms[-1] < max(log_terms) - 50.0:
            break
    logs = np.asarray(log_terms)
    weights = np.exp(logs - logs.max())
    probs = weights / weights.sum()
    states = np.arange(probs.size)
    queue = float(np.sum(np.maximum(states - c, 0) * probs))
    return ErlangA(
        p_wait=float(probs[c:].sum()),
        p_abandon=abandon_rate * queue / arrival_rate,
        mean_wait=queue / arrival_rate,
    )
