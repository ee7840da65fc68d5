"""Quick estimates: queueing formulas per team and hour of the week, in milliseconds.

Every hour of the week (168 slots, local time, Monday 00:00–01:00 is slot 0) is a queue of its own:

- **Arrivals**: each service's ``per_week`` spread by its profile (``flat``, a calendar's open
  hours, or a 7×24 matrix) and grown to the middle of the horizon; holidays are ignored.
- **Visits**: the routing chain is solved for the expected visits each ticket pays to each team
  (``(I − Pᵀ)⁻¹``, pauses returning to the same team, reopens adding their share); a team's visit
  rate in a slot is the rate at which its tickets *arrive* in that slot — the time between
  teams is ignored.
- **Agents**: the roster's agents in the slot × (1 − shrinkage), a fractional number of servers
  (the continuous extension of Erlang C; whole numbers give the textbook values).
- **Queue**: in a slot without backlog, Erlang C (*stationary intervals*) with Cobham's
  non-preemptive priority classes ranked by ``priority_order``; a team with ``patience`` uses
  Erlang A (no priorities). A slot whose offered load reaches its agents (ρ ≥ 1, or tickets
  arriving while no agent is on duty) is reported as *overloaded*; the work it cannot do is
  carried into the following hours as a fluid backlog (Lindley's recursion over repeated weeks),
  and a ticket arriving behind a backlog waits until the agents left after higher priorities
  have cleared it. When the week's work exceeds the week's agents the backlog never clears and
  the estimate says so.

Per SLA target the estimate is weighted by the hours in which its tickets arrive: response = the
entry team's P(wait ≤ target) for the priority; resolution = the sum of expected waits and
handling times over the expected visits, taken as exponentially distributed (a crude shape).
Every output says it is an estimate; it is never the simulation's answer — docs/methods.md shows
how far apart the two are and why.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import special

from simkit.analysis.queueing import erlang_a
from simkit.engine.compile import HOURS_PER_YEAR
from simkit.errors import InputError
from simkit.measure import SlaTarget
from simkit.scenario import Scenario
from simkit.scenario.models import Service, Team
from simkit.scenario.targets import sla_targets
from simkit.timespec import DAY_NAMES, MINUTES_PER_WEEK, parse_weekly_pattern, weekly_intervals

__all__ = ["METHOD", "SLOTS", "erlang_c_fractional", "quick_estimate"]

METHOD = "Erlang C, stationary intervals"
SLOTS = 168
_RESOLVED, _PAUSE = "resolved", "pause"

Row = dict[str, Any]


def _plain(value: float | np.floating[Any]) -> float | None:
    number = float(value)
    return number if math.isfinite(number) else None


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


# -- the week in 168 slots ---------------------------------------------------------------------


def _slot_mean(per_minute: np.ndarray) -> np.ndarray:
    result: np.ndarray = per_minute.reshape(SLOTS, 60).mean(axis=1)
    return result


def _coverage(intervals: list[tuple[int, int]] | tuple[tuple[int, int], ...]) -> np.ndarray:
    delta = np.zeros(MINUTES_PER_WEEK + 1)
    for a, b in intervals:
        delta[a] += 1.0
        delta[b] -= 1.0
    return np.cumsum(delta)[:MINUTES_PER_WEEK]


def _rostered(team: Team) -> np.ndarray:
    """Rostered agents per slot (lines stack)."""
    level = np.zeros(MINUTES_PER_WEEK)
    for line, agents in (team.roster or {}).items():
        days, clock = parse_weekly_pattern(line)
        level += agents * _coverage(weekly_intervals(days, clock))
    return _slot_mean(level)


def _profile(scenario: Scenario, service: Service) -> np.ndarray:
    """The share of a week's tickets arriving in each slot."""
    profile = service.demand.profile
    if profile == "flat":
        return np.full(SLOTS, 1.0 / SLOTS)
    if isinstance(profile, str):
        weights = _slot_mean(_coverage(scenario.calendar(profile).weekly))
    else:
        weights = np.asarray(profile, dtype=np.float64).ravel()
    total = weights.sum()
    return weights / total if total > 0 else np.full(SLOTS, 1.0 / SLOTS)


def _arrivals(scenario: Scenario, service: Service) -> np.ndarray:
    """Tickets per hour in each slot, grown to the middle of the horizon."""
    years = scenario.horizon / 2 / HOURS_PER_YEAR
    growth = (1.0 + service.demand.growth) ** years
    result: np.ndarray = service.demand.per_week * growth * _profile(scenario, service)
    return result


def _visits(scenario: Scenario, teams: list[str]) -> np.ndarray:
    """``visits[j, e]``: expected visits to team ``j`` of a ticket entering at team ``e``."""
    index = {t: i for i, t in enumerate(teams)}
    n = len(teams)
    moves = np.zeros((n, n))
    for i, name in enumerate(teams):
        routing = scenario.teams[name].next or {_RESOLVED: 1.0}
        total = sum(routing.values())
        for route, share in routing.items():
            if route == _PAUSE:
                moves[i, i] += share / total
            elif route in index:
                moves[i, index[route]] += share / total
    try:
        visits = np.linalg.solve(np.eye(n) - moves.T, np.eye(n))
    except np.linalg.LinAlgError:
        visits = np.full((n, n), np.inf)
    if not np.all(np.isfinite(visits)) or (visits < -1e-9).any():
        raise InputError.single(
            "the routing never resolves some tickets: every path keeps passing them on",
            "give the teams' next: a resolved share",
            file=scenario.source,
            path="teams",
        )
    result: np.ndarray = np.maximum(visits, 0.0)
    return result


def _handle_means(team: Team, priorities: tuple[str, ...]) -> np.ndarray:
    means = []
    for p in priorities:
        dist = team.handle.get(p, team.handle.get("default"))
        if dist is None:
            dist = next(iter(team.handle.values()))
        means.append(float(dist.mean))
    return np.asarray(means)


def _label(slot: int) -> str:
    return f"{DAY_NAMES[slot // 24]} {slot % 24:02d}:00"


# -- one team ------------------------------------------------------------------------------------


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


# -- the document --------------------------------------------------------------------------------


def _team_row(queue: _TeamQueue) -> Row:
    rate = queue.visit_rate.sum(axis=0)
    waits = np.stack([queue.mean_wait(k) for k in range(queue.visit_rate.shape[0])])
    p_wait = np.where(np.isnan(queue.fluid_wait), queue.p_wait, 1.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        utilization = np.where(queue.agents > 0, queue.load / queue.agents, np.nan)
        share = np.where(queue.visit_rate > 0, queue.visit_rate / rate, 0.0)
        mean_wait = np.where(
            rate > 0, (share * np.where(share > 0, waits, 0.0)).sum(axis=0), np.nan
        )
        waiting = np.where(rate > 0, (share * np.where(share > 0, p_wait, 0.0)).sum(axis=0), np.nan)
    hours = [
        {
            "slot": slot,
            "day": DAY_NAMES[slot // 24],
            "hour": slot % 24,
            "visits_per_h": float(rate[slot]),
            "agents": _plain(queue.agents[slot]),
            "offered_load": float(queue.load[slot]),
            "utilization": _plain(utilization[slot]),
            "p_wait": _plain(waiting[slot]),
            "mean_wait_h": _plain(mean_wait[slot]),
            "backlog_h": _plain(queue.backlog[slot]),
            "overloaded": bool(queue.overloaded[slot]),
        }
        for slot in range(SLOTS)
    ]
    agent_hours = float(np.nansum(queue.agents)) if queue.kind == "team" else None
    return {
        "estimate": True,
        "team": queue.name,
        "kind": queue.kind,
        "model": queue.model,
        "visits_per_week": float(rate.sum()),
        "mean_handle_h": _plain(queue.load.sum() / rate.sum()) if rate.sum() > 0 else None,
        "agent_hours_per_week": agent_hours,
        "utilization": (_plain(queue.load.sum() / agent_hours) if agent_hours else None),
        "overloaded_hours": [_label(int(s)) for s in np.flatnonzero(queue.overloaded)],
        "backlog_clears": bool(np.isfinite(queue.backlog).all()),
        "hours": hours,
    }


@dataclass(frozen=True)
class _Estimate:
    p_within: float | None
    """``None`` when the target sees no tickets."""
    mean_h: float | None
    overloaded_share: float


def _weighted(values: np.ndarray, weights: np.ndarray) -> float | None:
    """The weighted mean over slots with weight; inf when any of them is inf."""
    keep = (weights > 0) & ~np.isnan(values)
    if not keep.any():
        return None
    return float(np.sum(values[keep] * weights[keep]) / np.sum(weights[keep]))


def _respond(queue: _TeamQueue, priority: int, arrivals: np.ndarray, within_h: float) -> _Estimate:
    if arrivals.sum() <= 0:
        return _Estimate(None, None, 0.0)
    weights = arrivals / arrivals.sum()
    p = np.nan_to_num(queue.p_within(priority, within_h), nan=0.0)
    return _Estimate(
        p_within=float(np.sum(weights * p)),
        mean_h=_weighted(queue.mean_wait(priority), weights),
        overloaded_share=float(weights[queue.overloaded].sum()),
    )


def _resolve(
    scenario: Scenario,
    queues: list[_TeamQueue],
    visits: np.ndarray,
    priority: int,
    within_h: float,
) -> _Estimate:
    total = overloaded = mean = 0.0
    for queue, count in zip(queues, visits.tolist(), strict=True):
        if count <= 0:
            continue
        handle = float(queue.handle[priority])
        if queue.kind == "supplier":
            calendar = scenario.teams[queue.name].calendar or "24x7"
            stretch = SLOTS / scenario.calendar(calendar).open_hours_per_week
            mean += count * handle * stretch
            continue
        rates = queue.visit_rate[priority]
        if rates.sum() <= 0:
            rates = queue.visit_rate.sum(axis=0)
        if rates.sum() <= 0:
            mean += count * handle
            continue
        weights = rates / rates.sum()
        wait = _weighted(queue.mean_wait(priority), weights)
        overloaded += count * float(weights[queue.overloaded].sum())
        total += count
        mean += count * (handle + (wait or 0.0))
    share = overloaded / total if total > 0 else 0.0
    if not math.isfinite(mean):
        return _Estimate(0.0, None, share)
    p = 1.0 - math.exp(-within_h / mean) if mean > 0 else 1.0
    return _Estimate(p, mean, share)


def _sla_row(target: SlaTarget, estimate: _Estimate) -> Row:
    return {
        "estimate": True,
        "method": METHOD,
        "level": target.level,
        "service": target.service,
        "customer": target.customer,
        "priority": target.priority,
        "metric": target.metric,
        "within_h": float(target.within_h),
        "calendar": target.calendar_name,
        "goal": float(target.goal),
        "p_within": estimate.p_within,
        "mean_h": (
            estimate.mean_h
            if estimate.mean_h is not None and math.isfinite(estimate.mean_h)
            else None
        ),
        "meets_goal": None if estimate.p_within is None else estimate.p_within >= target.goal,
        "overloaded_share": estimate.overloaded_share,
    }


NOTES = (
    "an ESTIMATE from queueing formulas per hour of the week, not a simulation",
    "each hour without a backlog is treated as a steady state (Erlang C); a backlog left by "
    "hours whose load exceeds their agents is carried forward as a fluid and delays the hours "
    "after it — random queues that outlast their hour are not seen",
    "routed tickets load their next team in the hour they arrived; holidays are ignored",
    "waits are wall-clock hours; business-hour targets read them as business time",
    "resolution times are taken as exponential with the estimated mean (waits + handling over "
    "the expected visits)",
)


def quick_estimate(scenario: Scenario) -> dict[str, Any]:
    """The quick estimate of a scenario's queues and SLA targets (milliseconds, no simulation).

    Parameters
    ----------
    scenario
        A validated scenario; windowed changes are not included (a note says so).

    Returns
    -------
    dict
        ``{"estimate": true, "method": "Erlang C, stationary intervals", "scenario", "notes",
        "teams", "sla"}``. ``teams`` rows: ``team, kind, model, visits_per_week,
        mean_handle_h, agent_hours_per_week, utilization, overloaded_hours`` (labels such as
        ``"mon 08:00"``), ``backlog_clears`` and ``hours`` — 168 slots with ``slot, day, hour,
        visits_per_h, agents, offered_load, utilization, p_wait, mean_wait_h, backlog_h``
        (agent-hours of work waiting mid-slot) and ``overloaded``. ``sla`` rows: the target (``level,
        service, customer, priority, metric, within_h, calendar, goal``) with ``p_within`` (the
        estimated share within target; ``None`` without tickets), ``mean_h`` (``None`` when the
        backlog never clears), ``meets_goal`` and ``overloaded_share`` (the share of its tickets,
        or for resolution of its visits, arriving in overloaded hours). Every row carries
        ``"estimate": true``.
    """
    teams = list(scenario.teams)
    priorities = tuple(scenario.priorities)
    visits = _visits(scenario, teams)
    index = {t: i for i, t in enumerate(teams)}
    rates = np.zeros((len(teams), len(priorities), SLOTS))
    arrivals: dict[str, np.ndarray] = {}
    ticket_visits: dict[str, np.ndarray] = {}
    for name, service in scenario.services.items():
        arrivals[name] = _arrivals(scenario, service)
        shares = np.array(
            [service.priorities[p].share if p in service.priorities else 0.0 for p in priorities]
        )
        shares = shares / shares.sum()
        reopen = 1.0 + (service.reopen.probability if service.reopen else 0.0)
        ticket_visits[name] = visits[:, index[service.entry]] * reopen
        rates += ticket_visits[name][:, None, None] * shares[None, :, None] * arrivals[name]
    queues = [
        _team_queue(name, scenario.teams[name], rates[i], priorities)
        for i, name in enumerate(teams)
    ]
    rank = {p: k for k, p in enumerate(priorities)}

    def service_estimate(service: str, target: SlaTarget) -> _Estimate:
        k = rank[target.priority]
        if arrivals[service].sum() <= 0:
            return _Estimate(None, None, 0.0)
        if target.metric == "respond":
            entry = queues[index[scenario.services[service].entry]]
            return _respond(entry, k, arrivals[service], target.within_h)
        return _resolve(scenario, queues, ticket_visits[service], k, target.within_h)

    rows = []
    for target in sla_targets(scenario):
        if target.service is not None:
            estimate = service_estimate(target.service, target)
        else:
            parts = [
                (float(arrivals[s].sum()) * spec.priorities[target.priority].share, s)
                for s, spec in scenario.services.items()
                if target.priority in spec.priorities
            ]
            pieces = [(w, service_estimate(s, target)) for w, s in parts if w > 0]
            weight = sum(w for w, _ in pieces) or 1.0
            means = [(w, e.mean_h) for w, e in pieces]
            estimate = _Estimate(
                p_within=(
                    sum(w * (e.p_within or 0.0) for w, e in pieces) / weight if pieces else None
                ),
                mean_h=(
                    None
                    if any(m is None for _, m in means)
                    else sum(w * (m or 0.0) for w, m in means) / weight
                ),
                overloaded_share=sum(w * e.overloaded_share for w, e in pieces) / weight,
            )
        rows.append(_sla_row(target, estimate))
    notes = list(NOTES)
    if scenario.overlays:
        names = ", ".join(o.name for o in scenario.overlays)
        notes.append(
            f"windowed changes ({names}) are not included: this is the scenario outside them"
        )
    return {
        "estimate": True,
        "method": METHOD,
        "scenario": scenario.name,
        "notes": notes,
        "teams": [_team_row(q) for q in queues],
        "sla": rows,
    }
