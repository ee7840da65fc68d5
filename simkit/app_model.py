"""The what-if workbench's model: slider values → a merge patch → a scenario, run and measured.

The Streamlit pages in ``app/`` only draw widgets and call these functions, so every number the
workbench shows comes from here and is testable without a browser.

- :func:`scenario_controls` lists what can be moved in a scenario (volume and growth per service,
  agents per team and roster line, handling-time multipliers, pause rates, SLA targets) with the
  scenario's own values as the starting point.
- A :class:`WhatIf` holds the slider values; :func:`edit_scenario` turns it into two validated
  scenarios: ``run`` (what is simulated) and ``measured`` (``run`` with the edited targets, which
  are measured but never change the simulation) — so moving a target re-measures a cached run
  instead of simulating again. Only values that differ from the scenario go into the patch: an
  untouched workbench is the scenario itself.
- :func:`check_run` is the guard a shared server needs: the visit guard of
  :func:`simkit.runner.check_size` plus a budget for the whole run (visits × replications).
- The ``*_rows``/``*_table`` functions turn results into plain rows for tables and charts; every
  figure keeps its interval or its replications.
"""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import hashlib
import io
import math
from collections.abc import Mapping, Sequence
from concurrent.futures import Executor
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import yaml

from simkit.analysis.verdict import verdict
from simkit.errors import InputError
from simkit.measure import (
    availability_outcomes,
    availability_period_rows,
    sla_outcomes,
    ticket_pauses,
)
from simkit.measure.queues import team_load, weekly_profile
from simkit.report.text import fmt_interval, fmt_pct, sla_label
from simkit.runner import DEFAULT_MAX_VISITS, Progress, Results, check_size, simulate
from simkit.scenario import Scenario
from simkit.scenario.models import PriorityTargets, TeamRepair
from simkit.scenario.overlay import merge_patch
from simkit.scenario.targets import availability_targets
from simkit.units import format_duration

__all__ = [
    "DEFAULT_CONFIDENCE",
    "DEFAULT_REPLICATIONS",
    "MAX_REPLICATIONS",
    "RUN_VISIT_BUDGET",
    "AvailabilityWhatIf",
    "ComponentControl",
    "Controls",
    "EditedScenario",
    "ServiceControl",
    "TargetControl",
    "TeamControl",
    "WhatIf",
    "availability_figures",
    "availability_patch",
    "check_run",
    "component_controls",
    "edit_scenario",
    "estimate_table",
    "flat_row",
    "fmt_hours",
    "handling_fit_rows",
    "period_rows",
    "profile_rows",
    "queue_rows",
    "remeasure",
    "result_tables",
    "run_key",
    "scenario_controls",
    "simulate_run",
    "sla_table",
    "table_bytes",
    "target_identity",
    "time_rows",
    "what_if_patch",
    "with_custom_change",
    "yaml_text",
]

DEFAULT_REPLICATIONS = 10
"""Replications of a workbench run unless the user raises them."""
MAX_REPLICATIONS = 100
DEFAULT_CONFIDENCE = 0.8
RUN_VISIT_BUDGET = 20_000_000
"""Most visits (over all replications) one workbench run may simulate on a shared server."""

Row = dict[str, Any]
Patch = dict[str, Any]
TargetKey = tuple[str, str | None, str | None, str, str]
"""``(level, service, customer, priority, metric)`` of an SLA row."""


# -- what can be moved ----------------------------------------------------------------------------


@dataclass(frozen=True)
class ServiceControl:
    """A service's demand as the scenario has it."""

    service: str
    per_week: float
    growth: float


@dataclass(frozen=True)
class TeamControl:
    """A team's roster lines (agents per line), shrinkage and pause rate as the scenario has them.

    ``pause`` is the team's routing share to ``pause``, or ``None`` when the team has no
    ``pause:`` duration (its pause rate cannot be moved). Suppliers have no roster.
    """

    team: str
    kind: str
    roster: tuple[tuple[str, int], ...]
    shrinkage: float
    pause: float | None
    handle: str


@dataclass(frozen=True)
class TargetControl:
    """An SLA target as written in the scenario: ``path`` leads to it in the scenario's data,
    ``key`` is that path dotted (for widget keys)."""

    key: str
    path: tuple[str, ...]
    label: str
    level: str
    priority: str
    metric: str
    within_h: float
    goal: float
    calendar: str


@dataclass(frozen=True)
class Controls:
    """Everything the workbench's sliders can move in one scenario."""

    services: tuple[ServiceControl, ...]
    teams: tuple[TeamControl, ...]
    targets: tuple[TargetControl, ...]


def _target_controls(
    prefix: tuple[str, ...], label: str, level: str, priorities: Mapping[str, PriorityTargets]
) -> list[TargetControl]:
    out = []
    for priority, targets in priorities.items():
        for metric in ("respond", "resolve"):
            target = getattr(targets, metric)
            if target is None:
                continue
            path = (*prefix, "priorities", priority, metric)
            out.append(
                TargetControl(
                    key=".".join(path),
                    path=path,
                    label=f"{label} {priority} {metric}",
                    level=level,
                    priority=priority,
                    metric=metric,
                    within_h=float(target.within),
                    goal=float(target.goal),
                    calendar=target.calendar,
                )
            )
    return out


def scenario_controls(scenario: Scenario) -> Controls:
    """The sliders of ``scenario`` with its own values: services, teams, SLA targets."""
    services = tuple(
        ServiceControl(name, float(s.demand.per_week), float(s.demand.growth))
        for name, s in scenario.services.items()
    )
    teams = []
    for name, team in scenario.teams.items():
        routing = dict(team.next) if team.next else {"resolved": 1.0}
        teams.append(
            TeamControl(
                team=name,
                kind=team.kind,
                roster=tuple((line, int(n)) for line, n in (team.roster or {}).items()),
                shrinkage=float(team.shrinkage),
                pause=float(routing.get("pause", 0.0)) if team.pause is not None else None,
                handle="; ".join(f"{p}: {d.describe()}" for p, d in team.handle.items()),
            )
        )
    targets: list[TargetControl] = []
    for name, service in scenario.services.items():
        targets += _target_controls(("services", name), name, "service", service.priorities)
    for name, customer in scenario.customers.items():
        targets += _target_controls(
            ("customers", name), f"{name} (customer)", "customer", customer.priorities
        )
    if scenario.corporate is not None:
        targets += _target_controls(
            ("corporate",), "corporate", "corporate", scenario.corporate.priorities
        )
    return Controls(services, tuple(teams), tuple(targets))


# -- slider values → patch -------------------------------------------------------------------------


@dataclass(frozen=True)
class WhatIf:
    """Slider values. Anything left out keeps the scenario's value.

    Attributes
    ----------
    volume
        Relative change of every service's tickets per week (0.2 = +20%), > −1.
    growth
        Growth per year by service (0.05 = 5%).
    agents
        Agents by team and roster line (the line as written in the scenario).
    handle
        Multiplier of every handling-time distribution of a team (1.2 = 20% longer).
    pause
        A team's routing share to ``pause``; the team's other shares are rescaled to fill the rest.
    targets
        ``(within_h, goal)`` by target key (:attr:`TargetControl.key`).
    """

    volume: float = 0.0
    growth: Mapping[str, float] = field(default_factory=dict)
    agents: Mapping[str, Mapping[str, int]] = field(default_factory=dict)
    handle: Mapping[str, float] = field(default_factory=dict)
    pause: Mapping[str, float] = field(default_factory=dict)
    targets: Mapping[str, tuple[float, float]] = field(default_factory=dict)


def _slider_problem(message: str, fix: str, path: str) -> InputError:
    return InputError.single(message, fix, path=path)


def _nest(patch: Patch, keys: Sequence[str], value: Any) -> None:
    node = patch
    for key in keys[:-1]:
        node = node.setdefault(key, {})
    node[keys[-1]] = value


def _routing(current: Mapping[str, float], pause: float) -> dict[str, float | None]:
    """The team's ``next`` with ``pause`` as its pause share, the other shares rescaled."""
    old = float(current.get("pause", 0.0))
    others = {k: float(v) for k, v in current.items() if k != "pause"}
    rest = sum(others.values())
    if rest <= 0:
        others, rest = {"resolved": 1.0}, 1.0
    scale = (1.0 - pause) / rest
    routing: dict[str, float | None] = {k: round(v * scale, 6) for k, v in others.items()}
    if pause > 0:
        routing["pause"] = round(pause, 6)
    elif old > 0:
        routing["pause"] = None
    return routing


def _run_patch(scenario: Scenario, what_if: WhatIf) -> Patch:
    patch: Patch = {}
    if not math.isfinite(what_if.volume) or what_if.volume <= -1:
        raise _slider_problem(
            f"volume change of {what_if.volume:+.0%} leaves no tickets",
            "choose a change above −100%",
            "volume",
        )
    for name, service in scenario.services.items():
        demand = service.demand
        if what_if.volume != 0:
            per_week = round(float(demand.per_week) * (1.0 + what_if.volume), 4)
            _nest(patch, ("services", name, "demand", "per_week"), per_week)
        growth = what_if.growth.get(name)
        if growth is not None and not math.isclose(growth, demand.growth, abs_tol=1e-12):
            _nest(patch, ("services", name, "demand", "growth"), round(float(growth), 6))
    for name, lines in what_if.agents.items():
        team = scenario.teams.get(name)
        roster = (team.roster or {}) if team is not None else {}
        for line, agents in lines.items():
            if line not in roster:
                raise _slider_problem(
                    f"team {name!r} has no roster line {line!r}",
                    f"lines of {name}: {', '.join(roster) or 'none'}",
                    f"teams.{name}.roster",
                )
            if int(agents) < 0:
                raise _slider_problem(
                    f"{name} {line}: {agents} agents", "agents are 0 or more", f"teams.{name}"
                )
            if int(agents) != roster[line]:
                _nest(patch, ("teams", name, "roster", line), int(agents))
    for name, factor in what_if.handle.items():
        if name not in scenario.teams:
            raise _slider_problem(f"there is no team {name!r}", "", f"teams.{name}")
        if not math.isfinite(factor) or factor <= 0:
            raise _slider_problem(
                f"handling time × {factor:g} for {name}",
                "use a multiplier greater than 0, e.g. 1.2 for 20% longer",
                f"teams.{name}.handle",
            )
        if factor != 1.0:
            scaled = {p: d.scaled(factor).to_spec() for p, d in scenario.teams[name].handle.items()}
            _nest(patch, ("teams", name, "handle"), scaled)
    for name, share in what_if.pause.items():
        team = scenario.teams.get(name)
        if team is None or team.pause is None:
            raise _slider_problem(
                f"team {name!r} has no pause duration, so its pause rate cannot be set",
                "add pause: {duration: …} to the team in the scenario",
                f"teams.{name}.pause",
            )
        if not 0.0 <= share <= 1.0:
            raise _slider_problem(
                f"pause rate {share:.0%} for {name}", "choose 0% to 100%", f"teams.{name}.next"
            )
        current = dict(team.next) if team.next else {"resolved": 1.0}
        if not math.isclose(share, current.get("pause", 0.0), abs_tol=1e-9):
            _nest(patch, ("teams", name, "next"), _routing(current, share))
    return patch


def _target_patch(scenario: Scenario, what_if: WhatIf) -> Patch:
    known = {c.key: c for c in scenario_controls(scenario).targets}
    patch: Patch = {}
    for key, (within_h, goal) in what_if.targets.items():
        control = known.get(key)
        if control is None:
            raise _slider_problem(f"there is no SLA target {key!r}", "", key)
        change: dict[str, Any] = {}
        if not math.isclose(within_h, control.within_h, rel_tol=1e-9):
            if not within_h > 0:
                raise _slider_problem(
                    f"{control.label}: a target of {within_h:g} hours",
                    "a target is a time greater than zero",
                    key,
                )
            change["within"] = format_duration(float(within_h))
        if not math.isclose(goal, control.goal, abs_tol=1e-9):
            change["goal"] = round(float(goal), 6)
        if change:
            _nest(patch, control.path, change)
    return patch


def yaml_text(patch: Mapping[str, Any]) -> str:
    """A patch (or any plain data) as YAML, keys in their order."""
    return yaml.safe_dump(dict(patch), sort_keys=False, allow_unicode=True)


def what_if_patch(scenario: Scenario, what_if: WhatIf) -> Patch:
    """The merge patch (RFC 7396) that the slider values make of ``scenario``: only the values
    that differ from it; ``{}`` for an untouched workbench.

    Raises
    ------
    InputError
        For a value no scenario can hold (a volume change of −100% or less, a handling
        multiplier ≤ 0, a pause rate outside 0–100%, an unknown team, line or target).
    """
    return dict(merge_patch(_run_patch(scenario, what_if), _target_patch(scenario, what_if)))


@dataclass(frozen=True, eq=False)
class EditedScenario:
    """The scenario as the sliders leave it.

    ``run`` carries every change but the targets — it is what is simulated; ``measured`` adds the
    target changes — it is what is measured, estimated and downloaded; ``patch`` is the whole
    merge patch.
    """

    run: Scenario
    measured: Scenario
    patch: Patch


def edit_scenario(scenario: Scenario, what_if: WhatIf, *, name: str = "what-if") -> EditedScenario:
    """Apply the slider values to ``scenario`` (validated like a scenario file).

    Raises
    ------
    InputError
        When the values, or the scenario they make, are invalid; every problem is listed.
    """
    run_patch = _run_patch(scenario, what_if)
    target_patch = _target_patch(scenario, what_if)
    run = scenario.with_patch(run_patch, name=name) if run_patch else scenario
    measured = run.with_patch(target_patch, name=f"{name} targets") if target_patch else run
    return EditedScenario(run, measured, dict(merge_patch(run_patch, target_patch)))


def with_custom_change(
    scenario: Scenario,
    patch: Mapping[str, Any],
    *,
    name: str = "custom",
    window: tuple[dt.date, dt.date] | None = None,
    description: str | None = None,
) -> Scenario:
    """``scenario`` with one more named change (a merge patch, permanent or inside ``window`` —
    from inclusive, until exclusive), so that it can be compared with the baseline like any
    change the file defines. The baseline itself is not changed.

    Raises
    ------
    InputError
        When the name is taken, the patch is empty, or the scenario the change makes is invalid.
    """
    if name in scenario.changes:
        raise _slider_problem(
            f"the scenario already has a change named {name!r}", "choose another name", "changes"
        )
    if not patch:
        raise _slider_problem(
            "the change changes nothing", "move at least one slider away from the scenario", name
        )
    change: dict[str, Any] = {"patch": _without_deletions(patch)}
    if window is not None:
        change["window"] = {"from": window[0].isoformat(), "until": window[1].isoformat()}
    if description:
        change["description"] = description
    built = scenario.with_patch({"changes": {name: change}}, name=f"define {name}")
    built.apply(name)
    return built


def _without_deletions(patch: Mapping[str, Any]) -> dict[str, Any]:
    """The patch, refused when it deletes a key: a ``null`` inside a change defined through a
    merge patch would be dropped by that merge, so a custom change may only set values."""
    out: dict[str, Any] = {}
    for key, value in patch.items():
        if value is None:
            raise _slider_problem(
                f"a custom change cannot delete {key!r}", "set a value instead", str(key)
            )
        out[key] = _without_deletions(value) if isinstance(value, Mapping) else value
    return out


# -- running ---------------------------------------------------------------------------------------


def check_run(
    scenario: Scenario,
    replications: int,
    *,
    max_visits: int = DEFAULT_MAX_VISITS,
    budget: int = RUN_VISIT_BUDGET,
) -> float:
    """Refuse a run too large for a shared server, before it starts.

    Returns the expected visits per replication.

    Raises
    ------
    InputError
        When a replication would exceed ``max_visits`` (:func:`simkit.runner.check_size`), or
        the whole run ``budget`` visits, or ``replications`` is outside 1 … MAX_REPLICATIONS.
    """
    if not 1 <= replications <= MAX_REPLICATIONS:
        raise InputError.single(
            f"{replications} replications", f"choose 1 to {MAX_REPLICATIONS}", path="replications"
        )
    estimate = check_size(scenario, max_visits)
    if estimate * replications > budget:
        raise InputError.single(
            f"this run expects about {estimate * replications:,.0f} visits "
            f"({estimate:,.0f} per replication × {replications}), more than the "
            f"{budget:,} the workbench runs at once",
            "lower the replications or the volume, or run it with `simkit simulate`",
            path="replications",
        )
    return estimate


def run_key(scenario: Scenario, replications: int, seed: int) -> str:
    """A key for a run's results: the scenario's YAML (and where its files resolve), the
    replications and the seed — equal keys give equal numbers."""
    digest = hashlib.sha256()
    for part in (scenario.to_yaml(), str(scenario.base_dir), str(replications), str(seed)):
        digest.update(part.encode("utf-8"))
        digest.update(b"\0")
    return digest.hexdigest()


def simulate_run(
    scenario: Scenario,
    *,
    replications: int,
    seed: int,
    executor: Executor | None = None,
    progress: Progress | None = None,
) -> Results:
    """:func:`check_run`, then :func:`simkit.runner.simulate`."""
    check_run(scenario, replications)
    return simulate(
        scenario, replications=replications, seed=seed, executor=executor, progress=progress
    )


def remeasure(results: Results, scenario: Scenario) -> Results:
    """``results`` measured against the targets of ``scenario`` — which must differ from the
    scenario that was run in its targets only (as :attr:`EditedScenario.measured` does)."""
    if scenario is results.scenario:
        return results
    return dataclasses.replace(results, scenario=scenario, _summary=None)


# -- rows for tables and charts --------------------------------------------------------------------


def target_identity(row: Mapping[str, Any]) -> TargetKey:
    """``(level, service, customer, priority, metric)`` of an SLA or estimate row."""
    return (row["level"], row["service"], row["customer"], row["priority"], row["metric"])


def fmt_hours(value: float | None) -> str:
    """``'6.6m'``, ``'2.4h'``, ``'130h'``; ``'—'`` for none or infinite."""
    if value is None or not math.isfinite(value):
        return "—"
    if value < 1:
        minutes = value * 60
        return f"{minutes:.1f}m" if minutes < 10 else f"{minutes:.0f}m"
    return f"{value:.1f}h" if value < 100 else f"{value:.0f}h"


def _target_text(row: Mapping[str, Any]) -> str:
    return (
        f"{fmt_pct(row['goal'], 0)} within {format_duration(row['within_h'])} ({row['calendar']})"
    )


def sla_table(
    document: Mapping[str, Any],
    *,
    confidence: float = DEFAULT_CONFIDENCE,
    estimate: Mapping[str, Any] | None = None,
) -> list[Row]:
    """The SLA table of a simulate document, one row per target, ready to show.

    Columns: ``SLA, target, tickets, compliance`` (mean [95% interval]), ``P(period met)``
    (Wilson interval), ``verdict`` (at ``confidence``, from the interval), ``p90``, and, given a
    quick estimate, ``estimate`` (its share within target, marked as an estimate). Hidden keys
    ``_compliance`` and ``_verdict`` keep the numbers for tests and charts.
    """
    estimates = {target_identity(r): r for r in (estimate or {}).get("sla", [])}
    rows = []
    for row in document["sla"]:
        p = row["p_period_met"]
        decided = verdict(p.get("lo"), p.get("hi"), confidence)
        quick = estimates.get(target_identity(row))
        rows.append(
            {
                "SLA": sla_label(row),
                "target": _target_text(row),
                "tickets": round(float(row["tickets"]), 1),
                "compliance": fmt_interval(row["compliance"]),
                "P(period met)": fmt_interval(p, 0),
                "verdict": decided,
                "p90": fmt_hours(row["quantiles_h"].get("90")),
                "estimate": f"≈ {fmt_pct(quick['p_within'])}" if quick else "—",
                "_compliance": row["compliance"].get("mean"),
                "_verdict": decided,
            }
        )
    return rows


def estimate_table(estimate: Mapping[str, Any]) -> list[Row]:
    """The quick estimate's SLA rows, ready to show (every figure says it is an estimate)."""
    return [
        {
            "SLA": sla_label(row),
            "target": _target_text(row),
            "within target (estimate)": f"≈ {fmt_pct(row['p_within'])}",
            "meets goal?": "likely" if row["meets_goal"] else "unlikely",
            "mean (estimate)": fmt_hours(row["mean_h"]),
            "tickets in overloaded hours": fmt_pct(row["overloaded_share"], 0),
            "_p_within": row["p_within"],
        }
        for row in estimate["sla"]
    ]


def period_rows(document: Mapping[str, Any]) -> list[Row]:
    """Compliance per period and target, with its interval and the goal, for charts."""
    goals = {target_identity(r): r["goal"] for r in document["sla"]}
    out = []
    for row in document["periods"]:
        compliance = row["compliance"]
        out.append(
            {
                "target": sla_label(row),
                "period": row["period"],
                "compliance": compliance.get("mean"),
                "lo": compliance.get("lo"),
                "hi": compliance.get("hi"),
                "goal": goals.get(target_identity(row)),
                "p_met": row.get("p_met"),
                "tickets": row["tickets"],
                "full": bool(row.get("full", True)),
            }
        )
    return out


def time_rows(results: Results, index: int, *, points: int = 99) -> list[Row]:
    """The distribution of measured times of one SLA target (``index`` into the document's
    ``sla`` rows), pooled over replications, as quantile rows for a chart.

    Rows: ``share`` (0.01 … 0.99), ``hours`` (business hours on the target's calendar; ``None``
    where the quantile falls on tickets breached while still open), ``target``, ``within_h``,
    ``goal``, ``replications``.
    """
    spec = results.measure_spec()
    target = spec.sla[index]
    tickets = results.service_tickets()
    pauses = ticket_pauses(tickets, results.pauses, spec)
    outcomes = sla_outcomes(tickets, pauses, target, spec)
    status = np.asarray(outcomes["status"].to_numpy(zero_copy_only=False), dtype=object)
    times = np.asarray(outcomes["time_h"].to_numpy(zero_copy_only=False), dtype=np.float64)
    measured = times[(status == "met") | (status == "breached")]
    shares = np.linspace(0.01, 0.99, points)
    label = sla_label(
        {
            "level": target.level,
            "service": target.service,
            "customer": target.customer,
            "priority": target.priority,
            "metric": target.metric,
        }
    )
    if measured.size == 0:
        return []
    values = np.quantile(measured, shares, method="inverted_cdf")
    return [
        {
            "share": float(share),
            "hours": float(value) if math.isfinite(value) else None,
            "target": label,
            "within_h": float(target.within_h),
            "goal": float(target.goal),
            "replications": results.succeeded,
        }
        for share, value in zip(shares, values, strict=True)
    ]


def queue_rows(results: Results, estimate: Mapping[str, Any] | None = None) -> list[Row]:
    """Tickets waiting, agents busy and utilisation per team and local hour of the week.

    Agents on duty (roster × (1 − shrinkage), windowed changes left out) come from the quick
    estimate's team rows when given; utilisation is then busy / on duty.
    """
    spec = results.measure_spec()
    teams = [name for name, team in results.scenario.teams.items() if team.kind == "team"]
    loads = team_load(
        results.visits,
        start=spec.start,
        end=spec.horizon_end,
        replications=max(results.succeeded, 1),
        teams=teams,
    )
    agents = None
    if estimate is not None:
        agents = {
            row["team"]: [hour["agents"] for hour in row["hours"]]
            for row in estimate["teams"]
            if row["kind"] == "team"
        }
    rows = weekly_profile(loads, timezone=results.scenario.timezone, agents=agents)
    for row in rows:
        row["replications"] = results.succeeded
    return rows


# -- availability ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class ComponentControl:
    """A component as the scenario has it: redundancy, failures and repairs."""

    component: str
    count: int
    needed: int
    fails: str
    repair: str
    repair_by_team: bool
    services: tuple[str, ...]


def component_controls(scenario: Scenario) -> tuple[ComponentControl, ...]:
    """The components of ``scenario`` with the services that depend on them."""
    out = []
    for name, component in scenario.components.items():
        repair = component.repair
        by_team = isinstance(repair, TeamRepair)
        out.append(
            ComponentControl(
                component=name,
                count=int(component.count),
                needed=int(component.needed),
                fails=component.fails.describe(),
                repair=(
                    f"incident {repair.priority} at {repair.team}"
                    if isinstance(repair, TeamRepair)
                    else repair.describe()
                )
                + (
                    f", then {format_duration(component.restore)} restore"
                    if component.restore
                    else ""
                ),
                repair_by_team=by_team,
                services=tuple(
                    s
                    for s, service in scenario.services.items()
                    if service.availability is not None and name in service.availability.depends_on
                ),
            )
        )
    return tuple(out)


@dataclass(frozen=True)
class AvailabilityWhatIf:
    """Availability slider values; anything left out keeps the scenario's value.

    ``fails`` multiplies every unit's time to failure (2.0 = fails half as often), ``repair``
    a repair-time distribution (components repaired through a team's queue are left alone),
    ``exclude_maintenance`` sets a service's rule for its maintenance windows.
    """

    count: Mapping[str, int] = field(default_factory=dict)
    needed: Mapping[str, int] = field(default_factory=dict)
    fails: Mapping[str, float] = field(default_factory=dict)
    repair: Mapping[str, float] = field(default_factory=dict)
    exclude_maintenance: Mapping[str, bool] = field(default_factory=dict)


def availability_patch(scenario: Scenario, what_if: AvailabilityWhatIf) -> Patch:
    """The merge patch of the availability sliders (only what differs from ``scenario``).

    Raises
    ------
    InputError
        For an unknown component or service, or a multiplier that is not greater than zero.
        (``needed`` above ``count`` is reported by the scenario's own validation.)
    """
    patch: Patch = {}
    for kind, values in (("count", what_if.count), ("needed", what_if.needed)):
        for name, value in values.items():
            component = scenario.components.get(name)
            if component is None:
                raise _slider_problem(f"there is no component {name!r}", "", f"components.{name}")
            if int(value) != getattr(component, kind):
                _nest(patch, ("components", name, kind), int(value))
    factors: tuple[tuple[str, Mapping[str, float]], ...] = (
        ("fails", what_if.fails),
        ("repair", what_if.repair),
    )
    for kind, multipliers in factors:
        for name, factor in multipliers.items():
            component = scenario.components.get(name)
            if component is None:
                raise _slider_problem(f"there is no component {name!r}", "", f"components.{name}")
            if not math.isfinite(factor) or factor <= 0:
                raise _slider_problem(
                    f"{name}: {kind} × {factor:g}",
                    "use a multiplier greater than 0",
                    f"components.{name}.{kind}",
                )
            distribution = getattr(component, kind)
            if factor != 1.0 and not isinstance(distribution, TeamRepair):
                _nest(patch, ("components", name, kind), distribution.scaled(factor).to_spec())
    for name, exclude in what_if.exclude_maintenance.items():
        service = scenario.services.get(name)
        if service is None or service.availability is None:
            raise _slider_problem(
                f"service {name!r} has no availability target", "", f"services.{name}"
            )
        if bool(exclude) != service.availability.exclude_maintenance:
            _nest(patch, ("services", name, "availability", "exclude_maintenance"), bool(exclude))
    return patch


def availability_figures(results: Results) -> dict[str, list[Row]]:
    """Availability of a run for the workbench.

    Returns
    -------
    dict
        ``targets``: the ``availability`` rows of the simulate document; ``periods``: per
        service and period (:func:`simkit.measure.availability_period_rows`); ``outcomes``: per
        service, replication and *full* period ``availability`` and ``credit`` (share of the
        fee); ``credits``: per service and credit tier the share of full periods earning it.
    """
    targets = availability_targets(results.scenario)
    spec = results.measure_spec()
    outcomes: list[Row] = []
    credits: list[Row] = []
    for target in targets:
        table = availability_outcomes(results.outages, target, spec)
        full = np.asarray(table["full"].to_numpy(zero_copy_only=False), dtype=bool)
        values = np.asarray(table["availability"].to_numpy(zero_copy_only=False), dtype=np.float64)[
            full
        ]
        credit = np.asarray(table["credit"].to_numpy(zero_copy_only=False), dtype=np.float64)[full]
        replication = np.asarray(table["replication"].to_numpy(zero_copy_only=False))[full]
        period = np.asarray(table["period"].to_numpy(zero_copy_only=False), dtype=object)[full]
        defined = ~np.isnan(values)
        outcomes.extend(
            {
                "service": target.service,
                "replication": int(r),
                "period": str(p),
                "availability": float(v),
                "credit": float(c),
                "target": target.target,
            }
            for r, p, v, c in zip(
                replication[defined], period[defined], values[defined], credit[defined], strict=True
            )
        )
        judged = int(defined.sum())
        for below, share in target.credits:
            earned = int(np.sum(np.isclose(credit[defined], share)))
            credits.append(
                {
                    "service": target.service,
                    "below": below,
                    "credit": share,
                    "periods": judged,
                    "share_of_periods": earned / judged if judged else None,
                }
            )
    return {
        "targets": results.summary()["availability"],
        "periods": availability_period_rows(results.outages, targets, spec),
        "outcomes": outcomes,
        "credits": credits,
    }


# -- calibration -----------------------------------------------------------------------------------


def handling_fit_rows(
    visits: pa.Table, fitted: Mapping[str, Any], team: str, *, points: int = 99
) -> list[Row]:
    """The observed time in hand of a team's visits against the CDFs of the fitted candidates,
    for a goodness-of-fit chart.

    Parameters
    ----------
    visits
        The history's visits table.
    fitted
        One ``handle`` entry of a calibration report's team (``best``, ``candidates`` with
        ``spec``, ``description``, ``ks_statistic``).
    team
        The team whose finished visits are observed (start → finish, pauses included).

    Returns
    -------
    list of dict
        ``hours, share, curve`` rows: the observed quantiles at ``points`` shares
        (``curve = "observed (n visits)"``) and each candidate's CDF at those hours.
    """
    from simkit.distributions import from_spec
    from simkit.measure.clock import instants

    mine = np.asarray(
        pc.fill_null(pc.equal(visits["team"], team), False).to_numpy(zero_copy_only=False),
        dtype=bool,
    )
    chosen = visits.filter(pa.array(mine))
    started = instants(chosen["started_at"], "visits.started_at")
    finished = instants(chosen["finished_at"], "visits.finished_at")
    known = ~np.isnat(started) & ~np.isnat(finished)
    hours = (finished[known] - started[known]) / np.timedelta64(3_600_000_000, "us")
    hours = np.sort(hours[hours >= 0].astype(np.float64))
    if hours.size == 0:
        return []
    shares = np.linspace(0.01, 0.99, points)
    grid = np.quantile(hours, shares, method="inverted_cdf")
    rows: list[Row] = [
        {"hours": float(h), "share": float(q), "curve": f"observed ({hours.size:,} visits)"}
        for h, q in zip(grid, shares, strict=True)
    ]
    for candidate in fitted.get("candidates", []):
        distribution = from_spec(candidate["spec"], allow_files=False)
        ks = candidate.get("ks_statistic")
        label = candidate["description"] + (f" (KS {ks:.3f})" if ks is not None else "")
        rows.extend(
            {"hours": float(h), "share": float(c), "curve": label}
            for h, c in zip(grid, distribution.cdf(grid), strict=True)
        )
    return rows


def profile_rows(matrix: Sequence[Sequence[float]]) -> list[Row]:
    """A 7×24 hour-of-week profile (rows mon…sun) as ``day, hour, weight`` rows."""
    from simkit.timespec import DAY_NAMES

    return [
        {"day": DAY_NAMES[d], "hour": h, "weight": float(matrix[d][h])}
        for d in range(len(matrix))
        for h in range(len(matrix[d]))
    ]


# -- downloads -------------------------------------------------------------------------------------


def result_tables(results: Results) -> dict[str, pa.Table]:
    """The tables a user can download: ``tickets``, ``visits``, ``pauses``, ``outages``."""
    return {
        "tickets": results.tickets,
        "visits": results.visits,
        "pauses": results.pauses,
        "outages": results.outages,
    }


def flat_row(row: Mapping[str, Any], prefix: str = "") -> Row:
    """A row with nested mappings spread into columns: ``compliance {mean, lo, hi}`` becomes
    ``compliance_mean, compliance_lo, compliance_hi``; keys starting with ``_`` are left out."""
    out: Row = {}
    for key, value in row.items():
        if str(key).startswith("_"):
            continue
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            out.update(flat_row(value, f"{name}_"))
        elif isinstance(value, list | tuple):
            out[name] = "; ".join(str(v) for v in value)
        else:
            out[name] = value
    return out


def table_bytes(
    table: pa.Table | Sequence[Mapping[str, Any]], fmt: Literal["parquet", "csv"]
) -> bytes:
    """A table (Arrow, or rows of plain values) as Parquet or CSV bytes for a download.

    Rows are spread by :func:`flat_row` (``compliance_mean, compliance_lo, …``) in both formats.
    """
    if not isinstance(table, pa.Table):
        rows = [flat_row(r) for r in table]
        names = list(dict.fromkeys(k for r in rows for k in r))
        if fmt == "csv":
            buffer = io.StringIO()
            writer = csv.DictWriter(buffer, fieldnames=names)
            writer.writeheader()
            writer.writerows(rows)
            return buffer.getvalue().encode("utf-8")
        table = pa.Table.from_pylist([{k: r.get(k) for k in names} for r in rows])
    sink = io.BytesIO()
    if fmt == "parquet":
        pq.write_table(table, sink)
    elif fmt == "csv":
        import pyarrow.csv as pacsv

        pacsv.write_csv(table, sink)
    else:
        raise ValueError(f"format must be 'parquet' or 'csv', got {fmt!r}")
    return sink.getvalue()
