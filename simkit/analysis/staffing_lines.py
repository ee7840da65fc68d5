"""The roster lines the staffing optimiser may change, what an agent on each costs, and rosters
as agents per line.

A roster is a tuple of agents, one per :class:`StaffedLine` in order; the helpers here change,
cost and patch it into the scenario (:mod:`simkit.analysis.optimize` runs the search).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from simkit.analysis.targets import WEEKS_PER_MONTH
from simkit.scenario import Scenario
from simkit.timespec import parse_weekly_pattern, weekly_intervals

__all__ = ["StaffedLine", "staffed_lines"]

Row = dict[str, Any]
Roster = tuple[int, ...]


@dataclass(frozen=True)
class StaffedLine:
    """A roster line the search may staff: ``"mon-fri 08:00-18:00": 6`` of a team."""

    team: str
    line: str
    agents: int
    hours_per_week: float
    cost_per_agent_hour: float

    @property
    def cost_per_agent_month(self) -> float:
        """What one more agent on this line costs a month."""
        return self.hours_per_week * self.cost_per_agent_hour * WEEKS_PER_MONTH


def staffed_lines(scenario: Scenario) -> tuple[list[StaffedLine], list[Row], str]:
    """The roster lines the optimiser may change, the teams it leaves alone, and the cost unit.

    Returns
    -------
    lines, fixed, unit
        ``fixed`` rows are ``{team, reason}``; ``unit`` is ``"money"`` when lines are costed by
        ``cost_per_agent_hour``, ``"agent-hours"`` when no team has a cost (each agent-hour
        then costs 1).
    """
    teams = [(n, t) for n, t in scenario.teams.items() if t.kind == "team"]
    costed = any(t.cost_per_agent_hour is not None for _, t in teams)
    lines: list[StaffedLine] = []
    fixed: list[Row] = []
    for name, team in teams:
        if not team.roster:
            fixed.append({"team": name, "reason": "no roster lines"})
            continue
        if costed and team.cost_per_agent_hour is None:
            fixed.append({"team": name, "reason": "no cost_per_agent_hour"})
            continue
        rate = float(team.cost_per_agent_hour or 0.0) if costed else 1.0
        for line, agents in team.roster.items():
            days, clock = parse_weekly_pattern(line)
            minutes = sum(b - a for a, b in weekly_intervals(days, clock))
            lines.append(StaffedLine(name, line, int(agents), minutes / 60, rate))
    return lines, fixed, "money" if costed else "agent-hours"


def _roster_cost(lines: Sequence[StaffedLine], roster: Roster) -> float:
    return sum(n * line.cost_per_agent_month for n, line in zip(roster, lines, strict=True))


def _changes(lines: Sequence[StaffedLine], roster: Roster) -> list[Row]:
    return [
        {
            "team": line.team,
            "line": line.line,
            "agents": n - line.agents,
            "agents_before": line.agents,
            "agents_after": n,
            "cost_per_month": (n - line.agents) * line.cost_per_agent_month,
        }
        for n, line in zip(roster, lines, strict=True)
        if n != line.agents
    ]


def _patched(scenario: Scenario, lines: Sequence[StaffedLine], roster: Roster) -> Scenario:
    """``scenario`` staffed with ``roster``. Inside the window of a windowed change the same
    agents are added to (or taken from) the agents that change puts on each line — a change that
    staffs a line itself would otherwise set the candidate back there — never below none on a
    line, and never leaving a team that had agents in the window with none."""
    moves = {
        (line.team, line.line): n - line.agents
        for n, line in zip(roster, lines, strict=True)
        if n != line.agents
    }
    if not moves:
        return scenario

    def patch_of(regime: Scenario) -> dict[str, Any]:
        teams: dict[str, Any] = {}
        for team in dict.fromkeys(t for t, _ in moves):
            before = dict(regime.teams[team].roster or {}) if team in regime.teams else {}
            after = dict(before)
            for (t, name), delta in moves.items():
                if t == team and name in before:
                    after[name] = max(0, int(before[name]) + delta)
            if sum(after.values()) == 0 and sum(before.values()) > 0:
                kept = next(n for (t, n) in moves if t == team and before.get(n))
                after[kept] = 1
            changed = {name: n for name, n in after.items() if n != before[name]}
            if changed:
                teams[team] = {"roster": changed}
        return {"teams": teams} if teams else {}

    return scenario.with_patch_everywhere(
        patch_of(scenario),
        [patch_of(overlay.scenario) for overlay in scenario.overlays],
        name="staffing candidate",
    )


def _with(roster: Roster, index: int, delta: int) -> Roster:
    return tuple(n + delta if j == index else n for j, n in enumerate(roster))


def _removable(lines: Sequence[StaffedLine], roster: Roster, index: int, floor: Roster) -> bool:
    """Whether one agent may leave line ``index``: above its floor, and not the team's last
    (a roster with no agents at any time is not a roster)."""
    team = lines[index].team
    left = sum(n for n, line in zip(roster, lines, strict=True) if line.team == team) - 1
    return roster[index] > floor[index] and left >= 1
