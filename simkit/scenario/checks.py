"""Cross-checks between the sections of a scenario, run on the raw data so that they report
alongside the per-field problems — every problem at once, never only the first."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator, Mapping
from typing import Any

from simkit.errors import SpecError
from simkit.units import parse_fraction

__all__ = ["BUILTIN_CALENDARS", "cross_check", "natural_key", "window_patch_problems"]

BUILTIN_CALENDARS = ("24x7", "always")
SUM_TOLERANCE = 0.005
Issue = tuple[tuple[str | int, ...], str, str]
"""(field path, message, fix)."""


def natural_key(name: str) -> list[Any]:
    """Sort key that orders P2 before P10."""
    import re

    return [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", name)]


def _fraction(value: Any) -> float | None:
    try:
        return parse_fraction(value)
    except SpecError:
        return None


def _mapping(value: Any) -> Mapping[Any, Any]:
    return value if isinstance(value, Mapping) else {}


def _names(value: Any) -> list[str]:
    return [str(k) for k in _mapping(value)]


def _pct(value: float) -> str:
    return f"{value * 100:.4g}%"


def cross_check(data: Any) -> list[Issue]:
    """Every cross-reference problem in the scenario data ``data`` (as loaded from YAML)."""
    if not isinstance(data, Mapping):
        return []
    return list(_checks(data))


def _checks(data: Mapping[str, Any]) -> Iterator[Issue]:
    services = _mapping(data.get("services"))
    teams = _mapping(data.get("teams"))
    calendars = set(_names(data.get("calendars"))) | set(BUILTIN_CALENDARS)
    components = _mapping(data.get("components"))
    team_names = set(_names(teams))
    priorities: list[str] = []
    for service in services.values():
        for p in _names(_mapping(service).get("priorities")):
            if p not in priorities:
                priorities.append(p)
    known_priorities = set(priorities)

    def calendar_ref(path: tuple[str | int, ...], name: Any) -> Iterator[Issue]:
        if isinstance(name, str) and name not in calendars:
            yield (
                path,
                f"calendar {name!r} is not defined",
                f"define it under calendars: or use one of {sorted(calendars)}",
            )

    def targets(path: tuple[str | int, ...], value: Any) -> Iterator[Issue]:
        for metric in ("respond", "resolve"):
            target = _mapping(_mapping(value).get(metric))
            if "calendar" in target:
                yield from calendar_ref((*path, metric, "calendar"), target["calendar"])

    def priority_ref(path: tuple[str | int, ...], name: str) -> Iterator[Issue]:
        if known_priorities and name not in known_priorities:
            yield (
                path,
                f"priority {name!r} is not a priority of any service",
                f"use one of {sorted(known_priorities, key=natural_key)}",
            )

    # priority order
    order = data.get("priority_order")
    if isinstance(order, list | tuple):
        for index, name in enumerate(order):
            yield from priority_ref(("priority_order", index), str(name))
        twice = sorted(name for name, times in Counter(map(str, order)).items() if times > 1)
        if twice:
            yield (
                ("priority_order",),
                f"priority_order ranks {', '.join(twice)} more than once",
                "list each priority once, highest first",
            )
        missing = [p for p in priorities if p not in {str(o) for o in order}]
        if missing:
            yield (
                ("priority_order",),
                f"priority_order does not rank {missing}",
                "list every priority of every service, highest first",
            )

    # services
    for sname, service in services.items():
        service = _mapping(service)
        base = ("services", sname)
        entry = service.get("entry")
        if isinstance(entry, str) and entry not in team_names:
            yield (
                (*base, "entry"),
                f"entry team {entry!r} is not defined",
                f"define it under teams: or use one of {sorted(team_names)}",
            )
        prios = _mapping(service.get("priorities"))
        shares = [_fraction(_mapping(p).get("share")) for p in prios.values()]
        if prios and all(s is not None for s in shares):
            total = sum(s for s in shares if s is not None)
            if abs(total - 1.0) > SUM_TOLERANCE:
                yield (
                    (*base, "priorities"),
                    f"priority shares add up to {_pct(total)}, not 100%",
                    "make the shares of the priorities sum to 100% (within 0.5 pp)",
                )
        for pname, level in prios.items():
            yield from targets((*base, "priorities", pname), level)
        demand = _mapping(service.get("demand"))
        profile = demand.get("profile")
        if (
            isinstance(profile, str)
            and profile != "flat"
            and profile not in calendars
            and not profile.strip().lower().endswith(".csv")  # a file of weights
        ):
            yield (
                (*base, "demand", "profile"),
                f"profile {profile!r} is neither 'flat' nor a calendar",
                "use flat, a calendar name (uniform over its open hours), a 7x24 matrix or a CSV "
                "file of one (weights.csv)",
            )
        availability = _mapping(service.get("availability"))
        if "calendar" in availability:
            yield from calendar_ref((*base, "availability", "calendar"), availability["calendar"])
        for index, comp in enumerate(availability.get("depends_on") or []):
            if isinstance(comp, str) and comp not in components:
                yield (
                    (*base, "availability", "depends_on", index),
                    f"component {comp!r} is not defined",
                    f"define it under components: or use one of {sorted(_names(components))}",
                )

    # teams
    for tname, team in teams.items():
        team = _mapping(team)
        base = ("teams", tname)
        kind = team.get("kind", "team")
        if kind == "supplier" and team.get("roster") is not None:
            yield (
                (*base, "roster"),
                "a supplier has no roster: every ticket starts at once in its calendar's hours",
                "remove roster and give the supplier a calendar, or make it kind: team",
            )
        if kind == "team":
            roster = team.get("roster")
            if roster is None:
                yield (
                    base,
                    "a team needs a roster (agents on duty by time of week)",
                    'add e.g. roster: {"mon-fri 08:00-18:00": 4}, or kind: supplier',
                )
            elif isinstance(roster, Mapping) and all(
                isinstance(v, int) and v == 0 for v in roster.values()
            ):
                yield (
                    (*base, "roster"),
                    "the roster has no agents at any time",
                    "give at least one line agents",
                )
            if "calendar" in team:
                yield (
                    (*base, "calendar"),
                    "a team works by its roster; calendar is for suppliers",
                    "remove calendar, or make the team kind: supplier",
                )
            if "uc" in team:
                yield ((*base, "uc"), "a team's agreement is an OLA, not a UC", "rename uc to ola")
        if kind == "supplier":
            if "ola" in team:
                yield (
                    (*base, "ola"),
                    "a supplier's agreement is a UC, not an OLA",
                    "rename ola to uc",
                )
            for key in ("shrinkage", "preempt", "patience", "cost_per_agent_hour"):
                if key in team:
                    yield (
                        (*base, key),
                        f"{key} applies to teams with a roster, not to a supplier",
                        f"remove {key}",
                    )
            if "calendar" in team:
                yield from calendar_ref((*base, "calendar"), team["calendar"])
        for agreement in ("ola", "uc"):
            yield from targets((*base, agreement), team.get(agreement))
        handle = _mapping(team.get("handle"))
        for key in handle:
            if key != "default":
                yield from priority_ref((*base, "handle", str(key)), str(key))
        if handle and "default" not in handle:
            missing = [p for p in priorities if p not in handle]
            if missing:
                yield (
                    (*base, "handle"),
                    f"no handling time for {missing}",
                    "add handle.default, or a distribution for each of those priorities",
                )
        for index, name in enumerate(team.get("preempt") or []):
            yield from priority_ref((*base, "preempt", index), str(name))
        routing = team.get("next")
        if isinstance(routing, Mapping):
            probs = []
            for target, value in routing.items():
                target = str(target)
                if target not in ("resolved", "pause") and target not in team_names:
                    yield (
                        (*base, "next", target),
                        f"routing target {target!r} is neither resolved, pause nor a team",
                        f"use resolved, pause or one of {sorted(team_names)}",
                    )
                probs.append(_fraction(value))
            if probs and all(p is not None for p in probs):
                total = sum(p for p in probs if p is not None)
                if abs(total - 1.0) > SUM_TOLERANCE:
                    yield (
                        (*base, "next"),
                        f"routing adds up to {_pct(total)}, not 100%",
                        "make the shares under next sum to 100% (within 0.5 pp)",
                    )
            if "pause" in routing and team.get("pause") is None:
                yield (
                    (*base, "next", "pause"),
                    "routing sends tickets to pause but the team has no pause duration",
                    "add pause: {duration: {exponential: {mean: 1d}}}",
                )
    yield from _reachability(teams)

    # customers and corporate
    customer_share: dict[str, float] = {}
    for cname, customer in _mapping(data.get("customers")).items():
        customer = _mapping(customer)
        base = ("customers", cname)
        for sname, share in _mapping(customer.get("services")).items():
            if sname not in services:
                yield (
                    (*base, "services", sname),
                    f"service {sname!r} is not defined",
                    f"use one of {sorted(_names(services))}",
                )
            value = _fraction(share)
            if value is not None:
                customer_share[str(sname)] = customer_share.get(str(sname), 0.0) + value
        for pname, level in _mapping(customer.get("priorities")).items():
            yield from priority_ref((*base, "priorities", str(pname)), str(pname))
            yield from targets((*base, "priorities", pname), level)
    for sname, total in customer_share.items():
        if total > 1.0 + SUM_TOLERANCE:
            yield (
                ("customers",),
                f"customers take {_pct(total)} of service {sname!r}'s tickets, more than 100%",
                "make the customers' shares of each service add up to at most 100%",
            )
    corporate = _mapping(data.get("corporate"))
    for pname, level in _mapping(corporate.get("priorities")).items():
        yield from priority_ref(("corporate", "priorities", str(pname)), str(pname))
        yield from targets(("corporate", "priorities", pname), level)

    # changes with a window may not touch what holds for the whole run
    for cname, change in _mapping(data.get("changes")).items():
        change = _mapping(change)
        if change.get("window") is not None:
            for path, message, fix in window_patch_problems(change.get("patch")):
                yield (("changes", cname, "patch", *path), message, fix)

    # backlog: tickets open when the run begins
    backlog = data.get("backlog")
    for index, group in enumerate(backlog if isinstance(backlog, list | tuple) else []):
        group = _mapping(group)
        where_b: tuple[str | int, ...] = ("backlog", index)
        team = group.get("team")
        if isinstance(team, str) and team not in team_names:
            yield (
                (*where_b, "team"),
                f"team {team!r} is not defined",
                f"name the team whose queue holds the tickets: one of {sorted(team_names)}",
            )
        service_name = group.get("service")
        if isinstance(service_name, str) and service_name not in services:
            yield (
                (*where_b, "service"),
                f"service {service_name!r} is not defined",
                f"use one of {sorted(map(str, services))}",
            )
        elif isinstance(service_name, str) and isinstance(group.get("priority"), str):
            own = _names(_mapping(services[service_name]).get("priorities"))
            if own and group["priority"] not in own:
                yield (
                    (*where_b, "priority"),
                    f"priority {group['priority']!r} is not a priority of service {service_name!r}",
                    f"use one of {sorted(own, key=natural_key)}",
                )

    # components
    for cname, component in components.items():
        repair = _mapping(_mapping(component).get("repair"))
        if "team" in repair:
            where: tuple[str | int, ...] = ("components", cname, "repair")
            team = repair.get("team")
            if isinstance(team, str) and team not in team_names:
                yield (
                    (*where, "team"),
                    f"repair team {team!r} is not defined",
                    f"use one of {sorted(team_names)}",
                )
            if isinstance(repair.get("priority"), str):
                yield from priority_ref((*where, "priority"), repair["priority"])


# Keys a windowed change may not touch: they define what is measured and over which span, which
# holds for the whole run. Make such a change permanent instead.
_WHOLE_RUN_KEYS = {
    "name",
    "start",
    "timezone",
    "horizon",
    "warmup",
    "drain",
    "replications",
    "seed",
    "period",
    "priority_order",
    "customers",
    "corporate",
    "changes",
    "backlog",
}


def window_patch_problems(patch: Any) -> list[Issue]:
    """Parts of a windowed change's patch that cannot change inside a window."""
    out: list[Issue] = []
    fix = "make the change permanent (drop its window), or keep targets out of it"
    for key in _mapping(patch):
        if key in _WHOLE_RUN_KEYS:
            out.append(((str(key),), f"{key} cannot change inside a window", fix))
    # Availability is simulated with the components and agreements of the whole run: a windowed
    # change to them would be accepted and do nothing.
    whole = "make the change permanent (drop its window): availability is simulated with the "
    whole += "same components and agreement for the whole run"
    if "components" in _mapping(patch):
        out.append((("components",), "components cannot change inside a window", whole))
    for sname, service in _mapping(_mapping(patch).get("services")).items():
        if "availability" in _mapping(service):
            out.append(
                (
                    ("services", sname, "availability"),
                    "an availability agreement cannot change inside a window",
                    whole,
                )
            )
        for pname, level in _mapping(_mapping(service).get("priorities")).items():
            for metric in ("respond", "resolve"):
                if metric in _mapping(level):
                    out.append(
                        (
                            ("services", sname, "priorities", pname, metric),
                            "service level targets cannot change inside a window",
                            fix,
                        )
                    )
    for tname, team in _mapping(_mapping(patch).get("teams")).items():
        for agreement in ("ola", "uc"):
            if agreement in _mapping(team):
                out.append(
                    (
                        ("teams", tname, agreement),
                        f"{agreement.upper()} targets cannot change inside a window",
                        fix,
                    )
                )
    return out


def reaching(edges: Mapping[str, set[str]], goal: str) -> set[str]:
    """The nodes from which some path of ``edges`` (node → the nodes it leads to) reaches
    ``goal``, ``goal`` included: the teams whose tickets can be resolved."""
    good = {goal}
    changed = True
    while changed:
        changed = False
        for name, targets in edges.items():
            if name not in good and targets & good:
                good.add(name)
                changed = True
    return good


def _reachability(teams: Mapping[Any, Any]) -> Iterator[Issue]:
    """Every team must be able to reach ``resolved`` through routing with positive shares."""
    edges: dict[str, set[str]] = {}
    for tname, team in teams.items():
        routing = _mapping(team).get("next") if isinstance(team, Mapping) else None
        if routing is None:
            edges[str(tname)] = {"resolved"}
        elif isinstance(routing, Mapping):
            edges[str(tname)] = {
                str(t) for t, v in routing.items() if (_fraction(v) or 0) > 0 and str(t) != "pause"
            }
            if "pause" in routing:
                edges[str(tname)].add(str(tname))
    good = reaching(edges, "resolved")
    for name, targets in edges.items():
        if name not in good and all(t in edges or t == "resolved" for t in targets):
            yield (
                ("teams", name, "next"),
                f"tickets at {name!r} can never be resolved: no routing path leads to resolved",
                "give this team (or a team it routes to) a share to resolved",
            )
