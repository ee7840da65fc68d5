"""What the workbench's sliders can move in a scenario, and the scenario they leave: slider
values → a merge patch → two validated scenarios (the one simulated and the one measured).
"""

from __future__ import annotations

import datetime as dt
import math
import numbers
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import yaml

from simkit.engine.compile import RunClock
from simkit.errors import InputError
from simkit.scenario import Scenario
from simkit.scenario.models import PriorityTargets
from simkit.scenario.overlay import merge_patch
from simkit.units import format_duration

__all__ = [
    "MAX_PAUSE",
    "STEP",
    "Controls",
    "EditedScenario",
    "Positions",
    "ServiceControl",
    "TargetControl",
    "TeamControl",
    "WhatIf",
    "edit_scenario",
    "exact",
    "scenario_controls",
    "what_if_patch",
    "window_reach",
    "with_custom_change",
    "yaml_text",
]

Patch = dict[str, Any]


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
    backlog: int = 0
    """Tickets of the scenario's backlog (open when the run begins); 0 without one."""


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
    backlog = sum(g.tickets for g in scenario.backlog)
    return Controls(services, tuple(teams), tuple(targets), backlog)


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
    backlog
        Multiplier of the tickets of every backlog line (0.5 = half of them open at the start;
        a line left with none goes).
    """

    volume: float = 0.0
    growth: Mapping[str, float] = field(default_factory=dict)
    agents: Mapping[str, Mapping[str, int]] = field(default_factory=dict)
    handle: Mapping[str, float] = field(default_factory=dict)
    pause: Mapping[str, float] = field(default_factory=dict)
    targets: Mapping[str, tuple[float, float]] = field(default_factory=dict)
    backlog: float = 1.0


# -- where the sliders stand ---------------------------------------------------------------------


def exact(shown: float, default: float, own: float) -> float:
    """The scenario's own value ``own`` while the widget stands at ``default`` (``own`` rounded to
    the widget's step), else the widget's value: an untouched widget changes nothing."""
    return own if shown == default else shown


STEP: dict[str, Any] = {
    "volume": 5,
    "growth": 1,
    "agents": 1,
    "handle": 0.05,
    "pause": 1,
    "backlog": 25,
}
"""The step of each kind of slider that changes what is simulated (in the slider's own unit:
percent, agents, multiplier). The Scenario page makes runs ahead one step either side of the
slider last moved and of the other sliders on the screen (:meth:`Positions.neighbours`)."""

MAX_PAUSE = 95
"""The highest pause rate a slider offers, in percent (a whole number of :data:`STEP` pause
steps): at 100% every handling ends in a pause and no ticket is ever resolved."""


@dataclass(frozen=True)
class Positions:
    """Where the sliders that change what is simulated stand, by axis (``volume``,
    ``growth:<service>``, ``agents:<team>:<line>``, ``handle:<team>``, ``pause:<team>``,
    ``backlog`` in percent of the scenario's), as the
    sliders give them, with their ranges; and the targets chosen. :meth:`what_if` makes the
    what-if of these positions or of a neighbouring one, the same way for both."""

    controls: Controls
    values: dict[str, Any]
    ranges: dict[str, tuple[Any, Any]]
    targets: dict[str, tuple[float, float]]
    shown: tuple[str, ...] = ()
    """The axes whose sliders are on the screen (the open tab's), in the order shown."""

    def what_if(self, moved: dict[str, Any] | None = None) -> WhatIf:
        """The what-if of these positions, with the axes in ``moved`` at the values given."""
        at = {**self.values, **(moved or {})}
        growth = {}
        for service in self.controls.services:
            default = round(service.growth * 100)
            value = at[f"growth:{service.service}"]
            growth[service.service] = exact(value / 100, default / 100, service.growth)
        agents = {
            team.team: {line: int(at[f"agents:{team.team}:{line}"]) for line, _ in team.roster}
            for team in self.controls.teams
            if team.roster
        }
        handle = {t.team: round(float(at[f"handle:{t.team}"]), 6) for t in self.controls.teams}
        pause = {}
        for team in self.controls.teams:
            if team.pause is not None:
                default = round(team.pause * 100)
                value = at[f"pause:{team.team}"]
                pause[team.team] = exact(value / 100, default / 100, team.pause)
        return WhatIf(
            volume=at["volume"] / 100,
            growth=growth,
            agents=agents,
            handle=handle,
            pause=pause,
            targets=self.targets,
            backlog=at.get("backlog", 100) / 100,
        )

    def neighbours(self, axis: str, direction: int) -> list[dict[str, Any]]:
        """The positions a user is likely to pick next, most likely first, each one slider moved
        inside its range: ``axis`` (the slider last moved) one step in ``direction``, then one
        back; every other slider on the screen (:attr:`shown`) one step up; ``axis`` two steps
        in ``direction``; every other slider on the screen one step down."""
        others = [other for other in self.shown if other != axis]
        moves = [(axis, direction), (axis, -direction)]
        moves += [(other, 1) for other in others]
        moves += [(axis, 2 * direction)]
        moves += [(other, -1) for other in others]
        out = []
        for moved, steps in moves:
            low, high = self.ranges[moved]
            value = round(self.values[moved] + steps * STEP[moved.split(":")[0]], 2)
            if low <= value <= high:
                out.append({moved: value})
        return out


def _slider_problem(message: str, fix: str, path: str) -> InputError:
    return InputError.single(message, fix, path=path)


def _whole(value: Any, what: str, path: str) -> int:
    """``value`` as a whole number of ``what`` (0 or more): a fraction is refused rather than
    cut short (2.5 agents is not 2)."""
    if (
        isinstance(value, bool)
        or not isinstance(value, numbers.Real)
        or not float(value).is_integer()
    ):
        raise _slider_problem(
            f"{what}: {value!r} is not a whole number", "give a whole number, e.g. 3", path
        )
    whole = int(float(value))
    if whole < 0:
        raise _slider_problem(f"{what}: {whole}", "give 0 or more", path)
    return whole


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
        if growth is not None and not math.isfinite(growth):
            raise _slider_problem(
                f"growth of {growth} for {name}",
                "give a growth per year, e.g. 0.05 for 5%",
                f"services.{name}.demand.growth",
            )
        if growth is not None and not math.isclose(growth, demand.growth, abs_tol=1e-12):
            _nest(patch, ("services", name, "demand", "growth"), round(float(growth), 6))
    unknown = [name for name in what_if.growth if name not in scenario.services]
    if unknown:
        raise _slider_problem(
            f"there is no service {unknown[0]!r}",
            f"services: {', '.join(scenario.services)}",
            f"services.{unknown[0]}",
        )
    for name, lines in what_if.agents.items():
        team = scenario.teams.get(name)
        if team is None:
            raise _slider_problem(
                f"there is no team {name!r}", f"teams: {', '.join(scenario.teams)}", f"teams.{name}"
            )
        roster = team.roster or {}
        for line, agents in lines.items():
            if line not in roster:
                raise _slider_problem(
                    f"team {name!r} has no roster line {line!r}",
                    f"lines of {name}: {', '.join(roster) or 'none'}",
                    f"teams.{name}.roster",
                )
            count = _whole(agents, f"{name} {line} agents", f"teams.{name}.roster")
            if count != roster[line]:
                _nest(patch, ("teams", name, "roster", line), count)
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
        if not math.isfinite(share) or not 0.0 <= share <= 1.0:
            raise _slider_problem(
                f"a pause rate of {share:.0%} for {name} is not a share of handlings",
                "choose a pause rate from 0% to below 100%",
                f"teams.{name}.next",
            )
        if math.isclose(share, 1.0):
            raise _slider_problem(
                f"a pause rate of 100% for {name} means every handling ends in a pause, so no "
                "ticket is ever resolved",
                f"choose a pause rate below 100% (the slider goes up to {MAX_PAUSE}%)",
                f"teams.{name}.next",
            )
        current = dict(team.next) if team.next else {"resolved": 1.0}
        if not math.isclose(share, current.get("pause", 0.0), abs_tol=1e-9):
            _nest(patch, ("teams", name, "next"), _routing(current, share))
    factor = what_if.backlog
    if not math.isfinite(factor) or factor < 0:
        raise _slider_problem(
            f"backlog × {factor:g}",
            "use a multiplier of 0 or more, e.g. 0.5 for half the open tickets",
            "backlog",
        )
    if factor != 1.0 and scenario.backlog:
        kept_lines: list[dict[str, Any]] = []
        for group in scenario.backlog:
            tickets = math.floor(group.tickets * factor + 0.5)  # halves up: 1 × 50% is 1
            if tickets > 0:
                backlog_line: dict[str, Any] = group.model_dump(mode="json")
                backlog_line.update(tickets=tickets, age=f"{group.age:.6g}h")
                kept_lines.append(backlog_line)
        patch["backlog"] = kept_lines or None
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
        multiplier ≤ 0, a pause rate outside 0 to below 100%, an unknown team, line or target).
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
    """Apply the slider values to ``scenario`` (validated like a scenario file). Inside the
    window of a windowed change in force, each move is made from the values in force there
    ("volume +10%" of the window's tickets per week; one more agent than the window puts on the
    line), so the window does not set it back.

    Raises
    ------
    InputError
        When the values, or the scenario they make, are invalid; every problem is listed.
    """
    run_patch = _run_patch(scenario, what_if)
    target_patch = _target_patch(scenario, what_if)
    inside = [
        _run_patch(o.scenario, _moved_inside(scenario, o.scenario, what_if))
        for o in scenario.overlays
    ]
    run = scenario.with_patch_everywhere(run_patch, inside, name=name) if run_patch else scenario
    measured = run.with_patch(target_patch, name=f"{name} targets") if target_patch else run
    return EditedScenario(run, measured, dict(merge_patch(run_patch, target_patch)))


def _moved_inside(scenario: Scenario, inside: Scenario, what_if: WhatIf) -> WhatIf:
    """The slider moves of ``what_if`` (made from ``scenario``) made from ``inside``, the scenario
    in force inside a windowed change's window: the same volume change, handling multiplier and
    pause rate; the same agents added to (or taken from) each line the window keeps, never below
    none; the same change of growth. A window that sets a value itself would otherwise set the
    move back inside it."""
    growth = {
        name: inside.services[name].demand.growth + (g - scenario.services[name].demand.growth)
        for name, g in what_if.growth.items()
        if name in inside.services
    }
    agents: dict[str, dict[str, int]] = {}
    for team, lines in what_if.agents.items():
        outside = scenario.teams[team].roster or {}
        within = (inside.teams[team].roster or {}) if team in inside.teams else {}
        moved = {
            line: max(0, int(within[line]) + int(n) - int(outside[line]))
            for line, n in lines.items()
            if line in within
        }
        if moved:
            agents[team] = moved
    return WhatIf(
        volume=what_if.volume,
        growth=growth,
        agents=agents,
        handle={t: f for t, f in what_if.handle.items() if t in inside.teams},
        pause={
            t: p
            for t, p in what_if.pause.items()
            if t in inside.teams and inside.teams[t].pause is not None
        },
    )


def window_reach(scenario: Scenario, window: tuple[dt.date, dt.date]) -> str:
    """Where a change dated ``window`` (local dates, from inclusive, until exclusive) acts, placed
    on the run's clock as the run places a windowed change: ``"measured"`` when it overlaps the
    measured span, ``"unmeasured"`` when it touches only the warm-up or the drain, ``"none"``
    when it lies outside the simulated run."""
    clock = RunClock(scenario)
    since, until = (clock.local_midnight_hours(day) for day in window)
    if since < clock.horizon_end and until > clock.start:
        return "measured"
    if until <= 0.0 or since >= clock.end:
        return "none"
    return "unmeasured"


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
