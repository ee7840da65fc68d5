"""Per-team fits: handling time, roster, routing and pauses.

Handling is measured (picked up → passed on) where the history has pick-up times, with the
roster inferred from the concurrency of work. Without them a given roster and a handling fraction
model the queue; otherwise the team is a delay station (handling = observed time at the team).
A supplier's stays are measured in its calendar's open hours. Every such choice is written to
the assumptions.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from simkit.calibrate.durations import _durations, _fit_comment, _fit_durations, _Fitted
from simkit.calibrate.episodes import _ROUTE_PAUSE
from simkit.calibrate.report import _pct, _sig
from simkit.calibrate.rosters import _delay_agents, _infer_agents, _roster_from_agents
from simkit.calibrate.span import US_PER_HOUR
from simkit.distributions import Exponential
from simkit.scenario.checks import natural_key
from simkit.units import format_duration

if TYPE_CHECKING:
    from simkit.calibrate.arrays import _Data, _Grid
    from simkit.calibrate.durations import Elapsed
    from simkit.calibrate.episodes import _Episodes, _PauseLinks
    from simkit.scenario import Scenario

__all__ = ["MAX_UTILISATION", "MIN_PRIORITY_FIT", "STARTED_SHARE"]

STARTED_SHARE = 0.9
"""Share of finished visits with a known pick-up time needed to measure handling directly."""
MAX_UTILISATION = 1.15
"""A team whose handling is more work than its inferred agents could do one ticket at a time
(allowing for work finished after a shift ends) is not a queue of hands-on work."""
MIN_PRIORITY_FIT = 100
"""Completed durations a priority needs for its own handling time."""


@dataclass
class _TeamFit:
    name: str
    kind: str
    visits: int
    method: str
    roster: dict[str, int] | None
    roster_comment: str
    shrinkage: float
    handle: dict[str, _Fitted]
    handle_what: str
    routes: dict[str, int]
    pause: _Fitted | None
    pause_comment: str
    calendar: str | None
    report: dict[str, Any]


def _priority_of_visit(data: _Data, visits: np.ndarray) -> np.ndarray:
    out: np.ndarray = data.priority[data.v_ticket[visits]]
    return out


def _fit_handling(
    data: _Data,
    episodes: _Episodes,
    chosen: np.ndarray,
    begin: np.ndarray,
    scale: float,
    what: str,
    elapsed: Elapsed | None = None,
) -> tuple[dict[str, _Fitted], dict[str, Any]]:
    """Handling per priority with a ``default`` over all; a priority gets its own entry when it
    has enough completed stretches and its mean differs from the others' by more than 3 SE."""
    end = episodes.end[chosen]
    b = begin[chosen]
    values_all, censored_all, zeros, bad, keep = _durations(b, end, data.observed_h, elapsed)
    values_all = values_all * scale
    priority = _priority_of_visit(data, episodes.visit[chosen])[keep]
    fitted: dict[str, _Fitted] = {}
    report: dict[str, Any] = {"zero_durations": zeros, "unusable": bad}
    pooled = _fit_durations(values_all, censored_all, what, data.resolution_h, scale)
    if pooled is None:
        return fitted, report
    fitted["default"] = pooled
    done = ~censored_all
    for p in sorted({q for q in priority[done].tolist() if q is not None}, key=natural_key):
        mine = priority == p
        mine_done = mine & done
        if mine_done.sum() < MIN_PRIORITY_FIT:
            continue
        others = ~mine & done
        if others.sum() < 2:
            continue
        m1, m2 = values_all[mine_done].mean(), values_all[others].mean()
        se = math.sqrt(
            values_all[mine_done].var(ddof=1) / mine_done.sum()
            + values_all[others].var(ddof=1) / others.sum()
        )
        if se > 0 and abs(m1 - m2) > 3 * se and abs(m1 - m2) > 0.1 * m2:
            own = _fit_durations(
                values_all[mine], censored_all[mine], what, data.resolution_h, scale
            )
            if own is not None:
                fitted[str(p)] = own
    return fitted, report


def _fit_team(
    name: str,
    data: _Data,
    episodes: _Episodes,
    links: _PauseLinks,
    grid: _Grid,
    given: Scenario | None,
    agents: Mapping[str, int],
    handling_fraction: float | None,
    assumptions: list[str],
) -> _TeamFit:
    rows = np.flatnonzero(data.v_team == name)
    supplier_share = float(data.v_supplier[rows].mean()) if rows.size else 0.0
    given_team = given.teams.get(name) if given is not None else None
    kind = (
        "supplier"
        if supplier_share > 0.5 or (given_team and given_team.kind == "supplier")
        else "team"
    )
    chosen = np.isin(episodes.visit, rows)
    finished = ~np.isnan(data.v_finished[rows])
    started_share = (
        float(np.mean(~np.isnan(data.v_started[rows][finished]))) if finished.any() else 0.0
    )
    report: dict[str, Any] = {
        "team": name,
        "kind": kind,
        "visits": int(rows.size),
        "visits_open": int((~finished).sum()),
        "started_known": started_share,
    }
    roster: dict[str, int] | None = None
    shrinkage = 0.0
    calendar: str | None = None
    roster_comment = ""
    if kind == "supplier":
        calendar = given_team.calendar if given_team is not None and given_team.calendar else "24x7"
        method = "supplier"
        cal = given.calendar(calendar) if given is not None else None

        def elapsed(b: np.ndarray, e: np.ndarray) -> np.ndarray:
            if cal is None or cal.is_always:
                wall: np.ndarray = e - b
                return wall
            t0 = (data.ref + b * US_PER_HOUR).astype(np.int64).astype("datetime64[us]")
            t1 = (data.ref + e * US_PER_HOUR).astype(np.int64).astype("datetime64[us]")
            return np.asarray(cal.elapsed(t0, t1), dtype=float)

        handle, detail = _fit_handling(
            data, episodes, chosen, episodes.begin_stay, 1.0, "stays", elapsed
        )
        handle_what = (
            f"stays with the supplier (assigned → done) in its calendar {calendar!r}'s open hours; "
            "a supplier starts every ticket at once"
        )
        report["handling"] = "time with the supplier"
    else:
        handle, detail, method, handle_what = {}, {}, "", ""
        why = ""
        if started_share >= STARTED_SHARE:
            method = "measured handling"
            picked_up = chosen & ~episodes.after_pause
            handle, detail = _fit_handling(
                data, episodes, picked_up, episodes.begin_work, 1.0, "handling stretches"
            )
            detail["resumed_stretches"] = int((chosen & episodes.after_pause).sum())
            handle_what = (
                "handling stretches, picked up → passed on (stretches resuming after a pause "
                "have no pick-up time and are left out)"
            )
            if name in agents:
                roster = {"mon-sun 00:00-24:00": int(agents[name])}
                roster_comment = f"{agents[name]} agents round the clock, as given with --agents"
                report["roster_source"] = "--agents"
            elif handle:
                typical = float(handle["default"].distribution.quantile(0.5))
                estimate, pickups = _infer_agents(data, episodes, chosen, typical, grid)
                roster, shrinkage, _ = _roster_from_agents(estimate, pickups)
                capacity = float(np.sum(estimate))
                weeks = max(data.span_h / 168, 1e-9)
                load = float(chosen.sum()) / weeks * handle["default"].distribution.mean
                report["agents_by_hour"] = np.round(estimate.reshape(7, 24), 2).tolist()
                report["waited_pickups_by_hour"] = pickups.reshape(7, 24).astype(int).tolist()
                report["agent_hours_per_week"] = capacity
                report["handling_hours_per_week"] = load
                if not roster or load >= MAX_UTILISATION * capacity:
                    why = (
                        f"its tickets are in hand {_sig(handle['default'].distribution.mean, 3):g} h "
                        f"on average: {load:.0f} hours of work a week against the "
                        f"{capacity:.0f} agent-hours its concurrency shows — more than one "
                        "ticket at a time per person, so 'in hand' is not hands-on time here"
                    )
                    roster = None
                else:
                    report["roster_source"] = "inferred"
                    roster_comment = (
                        "inferred from the tickets in hand just after a waiting ticket was "
                        "picked up (then every agent on duty is busy); where none waited, the "
                        f"most in hand after a pick-up; {capacity:.0f} agent-hours on tickets a "
                        f"week for {load:.0f} hours of handling"
                    )
                    if given_team is not None and given_team.roster:
                        report["given_roster"] = dict(given_team.roster)
                    assumptions.append(
                        f"team {name}: roster inferred from the concurrency of work "
                        f"({capacity:.0f} agent-hours on tickets a week); shrinkage "
                        f"{_pct(shrinkage, 0)} turns whole agents into that capacity — replace "
                        "it with the real roster if you know it"
                    )
        else:
            why = (
                f"only {_pct(started_share, 0)} of its finished visits have a pick-up time, so "
                "waiting and handling cannot be told apart"
                if started_share > 0
                else "the history has no pick-up times for it, so waiting and handling cannot "
                "be told apart"
            )
        if roster is None:
            user_roster: dict[str, int] | None = None
            source = ""
            if name in agents:
                user_roster = {"mon-sun 00:00-24:00": int(agents[name])}
                source = "--agents"
            elif given_team is not None and given_team.roster:
                user_roster = dict(given_team.roster)
                shrinkage = given_team.shrinkage
                source = "the given scenario"
            if user_roster is not None and handling_fraction is not None:
                method = "handling fraction"
                roster = user_roster
                handle, detail = _fit_handling(
                    data, episodes, chosen, episodes.begin_stay, handling_fraction, "stays"
                )
                handle_what = (
                    f"stays at the team (assigned → passed on) × {_pct(handling_fraction, 0)}, "
                    "the handling fraction given with --handling-fraction"
                )
                roster_comment = f"roster from {source}"
                report["roster_source"] = source
                assumptions.append(
                    f"team {name}: {why}; used {_pct(handling_fraction, 0)} of the observed "
                    f"time at the team (--handling-fraction) with the roster from {source}"
                )
            else:
                method = "delay station"
                handle, detail = _fit_handling(
                    data, episodes, chosen, episodes.begin_stay, 1.0, "stays"
                )
                n_agents = _delay_agents(data, rows, grid)
                roster = {"mon-sun 00:00-24:00": n_agents}
                shrinkage = 0.0
                handle_what = (
                    "stays at the team (assigned → passed on, minus pauses), waiting included"
                )
                roster_comment = (
                    f"delay station: {n_agents} agents round the clock so that no ticket waits; "
                    "the observed time at the team (waiting included) is the handling time"
                )
                report["roster_source"] = "delay station"
                extra = (
                    f"; a roster was given ({source}) but without --handling-fraction the "
                    "handling time cannot be separated from waiting"
                    if user_roster is not None
                    else ""
                )
                assumptions.append(
                    f"team {name}: {why} — modelled as a delay station (no queue; handling = "
                    f"observed time at the team, so its response is immediate){extra}. Give the "
                    "roster (--scenario or --agents) and --handling-fraction to model its queue"
                )
    report["method"] = method
    report["handle"] = {p: f.report for p, f in handle.items()}
    report["handle_detail"] = detail
    if detail.get("zero_durations"):
        assumptions.append(
            f"team {name}: {detail['zero_durations']:,} stretches of zero length (both "
            f"timestamps in one step of {format_duration(data.resolution_h)}) read as shorter "
            "than one step"
        )
    # routing
    routes = Counter(r for r in episodes.route[chosen].tolist() if r is not None)
    report["routes"] = dict(routes)
    report["after_pause_stretches"] = int(episodes.after_pause[chosen].sum())
    # pauses
    awaiting = (links.team == name) & ~data.p_reopen
    pause: _Fitted | None = None
    pause_comment = ""
    if routes.get(_ROUTE_PAUSE, 0):
        values, censored, _, _, _ = _durations(
            data.p_start[awaiting], data.p_end[awaiting], data.observed_h
        )
        pause = _fit_durations(values, censored, "awaiting-user pauses", data.resolution_h)
        if pause is None or pause.report["n"] < 30:
            pooled = ~data.p_reopen & (links.team != None)  # noqa: E711
            values, censored, _, _, _ = _durations(
                data.p_start[pooled], data.p_end[pooled], data.observed_h
            )
            pause = _fit_durations(
                values, censored, "awaiting-user pauses of every team", data.resolution_h
            )
            pause_comment = "pooled over every team (fewer than 30 of its own): "
        if pause is None:
            pause = _Fitted(
                Exponential(24.0), {"note": "no pause duration observed: 1 day assumed"}
            )
            assumptions.append(f"team {name}: pauses without any duration; assumed 1 day")
            pause_comment = "assumed"
        else:
            pause_comment += _fit_comment(pause, "awaiting-user pauses")
        report["pause"] = pause.report
    return _TeamFit(
        name=name,
        kind=kind,
        visits=int(rows.size),
        method=method,
        roster=roster,
        roster_comment=roster_comment,
        shrinkage=shrinkage,
        handle=handle,
        handle_what=handle_what,
        routes=dict(routes),
        pause=pause,
        pause_comment=pause_comment,
        calendar=calendar,
        report=report,
    )
