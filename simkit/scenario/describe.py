"""A plain summary of a scenario — services, teams, rosters, targets — for people and JSON."""

from __future__ import annotations

from typing import Any

from simkit.scenario.models import ServiceLevelTarget, TeamTargets
from simkit.scenario.scenario import Scenario
from simkit.timespec import MINUTES_PER_WEEK, parse_weekly_pattern, weekly_intervals
from simkit.units import format_duration, format_percent

__all__ = ["describe_scenario", "roster_agent_hours", "target_text"]


def target_text(target: ServiceLevelTarget) -> str:
    """``'95% within 4h (24x7)'``."""
    return (
        f"{format_percent(target.goal)} within {format_duration(target.within)} ({target.calendar})"
    )


def roster_agent_hours(roster: dict[str, int]) -> float:
    """Agent-hours rostered in a nominal week (before shrinkage; holidays ignored)."""
    total = 0.0
    for line, agents in roster.items():
        days, clock = parse_weekly_pattern(line)
        minutes = sum(b - a for a, b in weekly_intervals(days, clock))
        total += agents * minutes / 60
    return total


def _peak_agents(roster: dict[str, int]) -> int:
    import numpy as np

    level = np.zeros(MINUTES_PER_WEEK + 1, dtype=np.int64)
    for line, agents in roster.items():
        days, clock = parse_weekly_pattern(line)
        for a, b in weekly_intervals(days, clock):
            level[a] += agents
            level[b] -= agents
    return int(np.cumsum(level).max())


def _agreement(targets: TeamTargets | None) -> dict[str, str]:
    if targets is None:
        return {}
    return {
        metric: target_text(t)
        for metric, t in (("respond", targets.respond), ("resolve", targets.resolve))
        if t is not None
    }


def describe_scenario(scenario: Scenario) -> dict[str, Any]:
    """Services, teams, rosters, targets and changes of ``scenario`` as plain data."""
    services = []
    for name, service in scenario.services.items():
        rows = []
        for prio, level in service.priorities.items():
            rows.append(
                {
                    "priority": prio,
                    "share": level.share,
                    "respond": target_text(level.respond) if level.respond else None,
                    "resolve": target_text(level.resolve) if level.resolve else None,
                }
            )
        profile = service.demand.profile
        services.append(
            {
                "service": name,
                "entry": service.entry,
                "per_week": service.demand.per_week,
                "profile": profile if isinstance(profile, str) else "custom",
                "growth": service.demand.growth,
                "priorities": rows,
                "availability": (
                    format_percent(service.availability.target) if service.availability else None
                ),
            }
        )
    teams = []
    for name, team in scenario.teams.items():
        roster = team.roster or {}
        teams.append(
            {
                "team": name,
                "kind": team.kind,
                "roster": dict(roster),
                "agent_hours_per_week": roster_agent_hours(roster) if roster else None,
                "peak_agents": _peak_agents(roster) if roster else None,
                "shrinkage": team.shrinkage,
                "calendar": team.calendar if team.kind == "supplier" else None,
                "handle": {
                    p: d.describe() if hasattr(d, "describe") else str(d)
                    for p, d in team.handle.items()
                },
                "next": dict(team.next) if team.next else {"resolved": 1.0},
                "agreement": _agreement(team.ola if team.kind == "team" else team.uc),
            }
        )
    return {
        "scenario": scenario.name,
        "file": scenario.source,
        "start": scenario.start.isoformat(),
        "timezone": scenario.timezone,
        "horizon": format_duration(scenario.horizon),
        "period": scenario.period,
        "replications": scenario.replications,
        "seed": scenario.seed,
        "priorities": list(scenario.priorities),
        "calendars": list(scenario.calendar_names),
        "services": services,
        "teams": teams,
        "customers": list(scenario.customers),
        "corporate": bool(scenario.corporate),
        "components": list(scenario.components),
        "backlog": [
            {
                "team": group.team,
                "service": group.service,
                "priority": group.priority,
                "tickets": group.tickets,
                "age": format_duration(group.age),
            }
            for group in scenario.backlog
        ],
        "changes": {
            name: {
                "description": change.description,
                "window": (
                    {
                        "from": change.window.from_.isoformat(),
                        "until": change.window.until.isoformat(),
                    }
                    if change.window
                    else None
                ),
            }
            for name, change in scenario.changes.items()
        },
    }
