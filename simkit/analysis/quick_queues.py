"""One team's queue in every slot of the week for the quick estimate: Erlang C with Cobham's
priority classes, Erlang A with patience, and the fluid backlog carried between hours.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import special

from simkit.analysis.queueing import erlang_a
from simkit.analysis.quick_week import SLOTS, _handle_means, _rostered
from simkit.scenario.models import Team

__all__ = ["erlang_c_fractional"]


def erlang_c_fractional(agents: np.ndarray, load: np.ndarray) -> np.ndarray:
    """P(an arrival waits) in an M/M/c queue, vectorised and for fractional ``c``.

    Uses Erlang B's continuous extension ``B(c, a) = aᶜ e⁻ᵃ / Γ(c + 1, a)`` and
    ``C = c B / (c − a (1 − B))``; for whole ``c`` this is the textbook Erlang C
    (:func:`simkit.analysis.queueing.erlang_c`). Requires ``0 < a < c``.
    """
    c = np.asarray(agents, dtype=np.float64)
    a = np.asarray(load, dtype=np.float64)
    log_top = c * np.log(a) - a - special.gammaln(c + 1.0)
    blocking = np.exp(log_top) / special.gammaincc(c + 1.0, a)
    result: np.ndarray = c * blocking / (c - a * (1.0 - blocking))
    return result


@dataclass(frozen=True, eq=False)
class _TeamQueue:
    """One team's queue in every slot: arrays over slots, or over (priorities, slots)."""

    name: str
    kind: str
    model: str
    visit_rate: np.ndarray
    """(priorities, slots) visits per hour."""
    handle: np.ndarray
    """(priorities,) mean handling hours."""
    agents: np.ndarray
    """Agents on tickets (roster × (1 − shrinkage)); nan for a supplier."""
    load: np.ndarray
    """Offered load in erlangs (agent-hours of handling arriving per hour)."""
    overloaded: np.ndarray
    """ρ ≥ 1, or tickets arrive while no agent is on duty."""
    p_wait: np.ndarray
    """(priorities, slots) stationary P(a visit waits)."""
    decay: np.ndarray
    """(priorities, slots): stationary P(wait > t) = p_wait × exp(−decay × t)."""
    fluid_wait: np.ndarray
    """(priorities, slots) the wait behind a backlog carried over from earlier hours; nan where
    there is none (the stationary formulas hold), inf where the backlog never clears."""
    backlog: np.ndarray
    """Agent-hours of work waiting in the middle of each slot (fluid backlog)."""

    def p_within(self, priority: int, t: float) -> np.ndarray:
        """P(wait ≤ t) per slot for one priority."""
        if self.kind == "supplier":
            return np.ones(SLOTS)
        with np.errstate(invalid="ignore", over="ignore"):
            stationary = 1.0 - self.p_wait[priority] * np.exp(-self.decay[priority] * t)
        fluid = self.fluid_wait[priority]
        result: np.ndarray = np.where(np.isnan(fluid), stationary, (fluid <= t).astype(float))
        return result

    def mean_wait(self, priority: int) -> np.ndarray:
        """Mean wait per slot for one priority (inf where the backlog never clears)."""
        if self.kind == "supplier":
            return np.zeros(SLOTS)
        with np.errstate(divide="ignore", invalid="ignore"):
            stationary = np.where(
                self.p_wait[priority] > 0, self.p_wait[priority] / self.decay[priority], 0.0
            )
        fluid = self.fluid_wait[priority]
        result: np.ndarray = np.where(np.isnan(fluid), stationary, fluid)
        return result


def _fluid(
    load: np.ndarray, ahead: np.ndarray, agents: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Backlog carried between hours, as a fluid, and the wait behind it.

    ``load`` is the work arriving per hour of the classes served before a new ticket's, or with
    it; ``ahead`` the work of higher classes, which overtakes it. The backlog follows Lindley's
    recursion over repeated weeks until it is periodic; the wait is the time the capacity left
    after higher classes takes to clear the backlog found in the middle of the slot.

    Returns
    -------
    backlog, wait
        Per slot; ``wait`` is nan where there is no backlog and inf where it never clears
        (the week's work exceeds the week's capacity).
    """
    net = load - agents
    if load.sum() <= 0.0:
        return np.zeros(SLOTS), np.full(SLOTS, np.nan)
    if net.sum() >= 0.0:
        return np.full(SLOTS, np.inf), np.full(SLOTS, np.inf)
    weeks = 4
    level = np.cumsum(np.tile(net, weeks))
    after = level - np.minimum(0.0, np.minimum.accumulate(level))
    start = np.concatenate([[0.0], after[:-1]])[-SLOTS:]
    backlog = np.maximum(0.0, start + 0.5 * net)
    capacity = np.tile(np.maximum(agents - ahead, 0.0), 2)
    served = np.concatenate([[0.0], np.cumsum(capacity)])
    slots = np.arange(SLOTS)
    goal = served[slots] + 0.5 * capacity[slots] + backlog
    j = np.searchsorted(served, goal, side="left") - 1
    reachable = (j < capacity.size) & (backlog > 0)
    j = np.clip(j, 0, capacity.size - 1)
    with np.errstate(divide="ignore", invalid="ignore"):
        cleared = j + (goal - served[j]) / capacity[j]
    wait = np.where(reachable, cleared - (slots + 0.5), np.inf)
    return backlog, np.where(backlog > 1e-12, np.maximum(wait, 0.0), np.nan)


def _erlang_c_queue(
    rates: np.ndarray, handle: np.ndarray, agents: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Cobham's priority classes on Erlang C in the slots without backlog, the fluid elsewhere.

    Class *k* waits with the stationary probability ``C`` (1 when the team as a whole is
    overloaded but the classes up to *k* are not) and, given it waits, an exponential time with
    Cobham's mean ``1 / (cμ (1 − σₖ₋₁)(1 − σₖ))``, σ the load of the classes up to *k* per agent.
    """
    classes = rates.shape[0]
    class_load = rates * handle[:, None]
    up_to = np.cumsum(class_load, axis=0)
    ahead = up_to - class_load
    total = up_to[-1]
    p_wait = np.full((classes, SLOTS), np.nan)
    decay = np.full((classes, SLOTS), np.nan)
    fluid_wait = np.full((classes, SLOTS), np.nan)
    backlog = np.zeros(SLOTS)
    for k in range(classes):
        level, fluid_wait[k] = _fluid(up_to[k], ahead[k], agents)
        if k == classes - 1:
            backlog = level
    stable = (total > 0) & (agents > 0)
    if stable.any():
        c = agents[stable]
        load = total[stable]
        mean_handle = load / rates[:, stable].sum(axis=0)
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            waits = np.where(load < c, erlang_c_fractional(c, np.minimum(load, c * 0.999)), 1.0)
            sigma = up_to[:, stable] / c
            before = ahead[:, stable] / c
            rate = (c / mean_handle) * (1.0 - before) * (1.0 - sigma)
        p_wait[:, stable] = np.where(sigma < 1.0, waits, 1.0)
        decay[:, stable] = np.where(sigma < 1.0, rate, 0.0)
    return p_wait, decay, fluid_wait, backlog


def _erlang_a_queue(
    rates: np.ndarray, handle: np.ndarray, agents: np.ndarray, patience_h: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Erlang A (FIFO), mixing the whole agents below and above a fractional roster.

    Returns P(wait), the decay of P(wait > t) (exponential with Erlang A's mean wait) and the
    fluid wait, which is inf where no agent is on duty (every ticket abandons or waits for the
    next shift) and nan elsewhere.
    """
    classes = rates.shape[0]
    total = rates.sum(axis=0)
    busy = (total > 0) & (agents > 0)
    p_wait = np.full(SLOTS, np.nan)
    decay = np.full(SLOTS, np.nan)
    cache: dict[tuple[int, float, float], tuple[float, float]] = {}
    mean_handle = np.divide(
        (rates * handle[:, None]).sum(axis=0), total, where=busy, out=np.ones(SLOTS)
    )
    for slot in np.flatnonzero(busy):
        low = math.floor(agents[slot] + 1e-9)
        upper_share = agents[slot] - low
        wait = mean = 0.0
        for servers, weight in ((low, 1.0 - upper_share), (low + 1, upper_share)):
            if weight <= 1e-12:
                continue
            if servers == 0:
                wait, mean = wait + weight, mean + weight * patience_h
                continue
            key = (servers, float(total[slot]), float(mean_handle[slot]))
            if key not in cache:
                state = erlang_a(servers, key[1], 1.0 / key[2], 1.0 / patience_h)
                cache[key] = (state.p_wait, state.mean_wait)
            w, m = cache[key]
            wait, mean = wait + weight * w, mean + weight * m
        p_wait[slot] = wait
        decay[slot] = wait / mean if mean > 0 else np.inf
    unserved = np.where((total > 0) & (agents <= 0), np.inf, np.nan)
    return (
        np.tile(p_wait, (classes, 1)),
        np.tile(decay, (classes, 1)),
        np.tile(unserved, (classes, 1)),
    )


def _team_queue(
    name: str, team: Team, rates: np.ndarray, priorities: tuple[str, ...]
) -> _TeamQueue:
    handle = _handle_means(team, priorities)
    load = (rates * handle[:, None]).sum(axis=0)
    arriving = rates.sum(axis=0) > 0
    if team.kind == "supplier":
        empty = np.full(rates.shape, np.nan)
        return _TeamQueue(
            name=name,
            kind="supplier",
            model="no queue (supplier)",
            visit_rate=rates,
            handle=handle,
            agents=np.full(SLOTS, np.nan),
            load=load,
            overloaded=np.zeros(SLOTS, dtype=bool),
            p_wait=np.zeros(rates.shape),
            decay=empty,
            fluid_wait=empty,
            backlog=np.zeros(SLOTS),
        )
    agents = _rostered(team) * (1.0 - team.shrinkage)
    overloaded = arriving & ((agents <= 0) | (load >= agents))
    if team.patience is not None:
        p_wait, decay, fluid_wait = _erlang_a_queue(
            rates, handle, agents, float(team.patience.mean)
        )
        backlog = np.zeros(SLOTS)
        model = "Erlang A"
    else:
        p_wait, decay, fluid_wait, backlog = _erlang_c_queue(rates, handle, agents)
        model = "Erlang C, priorities" if len(priorities) > 1 else "Erlang C"
    return _TeamQueue(
        name=name,
        kind="team",
        model=model,
        visit_rate=rates,
        handle=handle,
        agents=agents,
        load=load,
        overloaded=overloaded,
        p_wait=p_wait,
        decay=decay,
        fluid_wait=fluid_wait,
        backlog=backlog,
    )
