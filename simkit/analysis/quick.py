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

The parts: :mod:`~simkit.analysis.quick_week` (the week in slots) and
:mod:`~simkit.analysis.quick_queues` (one team's queue); this module estimates the targets.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from simkit.analysis.quick_queues import _team_queue, _TeamQueue, erlang_c_fractional
from simkit.analysis.quick_week import SLOTS, _arrivals, _label, _visits
from simkit.measure import SlaTarget
from simkit.scenario import Scenario
from simkit.scenario.targets import sla_targets
from simkit.timespec import DAY_NAMES

__all__ = ["METHOD", "SLOTS", "erlang_c_fractional", "quick_estimate"]

METHOD = "Erlang C, stationary intervals"
Row = dict[str, Any]


def _plain(value: float | np.floating[Any]) -> float | None:
    number = float(value)
    return number if math.isfinite(number) else None


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
