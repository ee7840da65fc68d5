"""History → scenario: fit demand, priority mix, teams, routing and pauses from a ticket history.

:func:`calibrate` reads a :class:`~simkit.calibrate.history.History` (the engine's ``tickets``,
``visits`` and ``pauses`` tables) and returns a :class:`Calibration`: a scenario as commented YAML
text (every number says where it came from), the validated :class:`~simkit.scenario.Scenario`,
and a report (JSON-ready and readable) that lists every assumption made where the history cannot
identify something. Nothing is guessed silently.

What is fitted, and how:

- **Demand** per service: tickets per week (exposure-weighted over the span), a 7×24 hour-of-week
  profile in the scenario time zone, and a growth trend and holiday effect tested with a
  quasi-Poisson regression of daily counts (weekday effects, a linear trend in log volume, a
  holiday indicator); growth is used only when significant at 1% over at least half a year.
- **Priority mix** per service, and the **entry team** (the team of the first visit).
- **Handling** per team (and per priority where it differs): maximum likelihood with
  right-censoring for visits still open, family by AIC, Kolmogorov–Smirnov distance reported.
  Handling is ``started_at → finished_at`` minus pauses inside; without ``started_at`` it is not
  identifiable and the team becomes a *delay station* (handling = observed time at the team).
- **Rosters** (agents on tickets by hour of the week) from the concurrency of work: while tickets
  wait, every agent on duty is busy; where nobody waited, the largest number of tickets in hand.
- **Routing** (``next``) from the visit sequences; **pauses** from awaiting-user intervals;
  **reopening** from reopen pauses.
- The **open backlog** at the end of the history is reported; with ``backlog=True`` it is the
  fitted scenario's starting state (:mod:`~simkit.calibrate.starting`).

The fits live in :mod:`~simkit.calibrate.demand` and :mod:`~simkit.calibrate.teams` (with
:mod:`~simkit.calibrate.episodes`, :mod:`~simkit.calibrate.durations` and
:mod:`~simkit.calibrate.rosters`); :mod:`~simkit.calibrate.scenario_yaml` writes the YAML and
:mod:`~simkit.calibrate.report` the report. The time helpers (:func:`history_span`,
:func:`history_between`, :func:`local_midnight`, :func:`as_instant`) live in
:mod:`~simkit.calibrate.span` and are importable from here.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from simkit.calendar_spec import known_zone
from simkit.calibrate.arrays import _Data, _data, _hour_grid, _pool_small_teams, _without_visits
from simkit.calibrate.demand import _demand, _holiday_dates
from simkit.calibrate.durations import _durations, _fit_durations, _Fitted
from simkit.calibrate.episodes import _ROUTE_PAUSE, _ROUTE_RESOLVED, _episodes, _link_pauses
from simkit.calibrate.outage_fit import FittedComponent, fit_outages
from simkit.calibrate.outages import OutageHistory
from simkit.calibrate.report import _backlog, _jsonable, _pct, _quality
from simkit.calibrate.report import describe_report as describe_report
from simkit.calibrate.scenario_yaml import _copied_targets, _write_yaml
from simkit.calibrate.span import HOURS_PER_YEAR as HOURS_PER_YEAR
from simkit.calibrate.span import (
    _iso,
    _local_date,
    as_instant,
    history_between,
    history_span,
    local_midnight,
)
from simkit.calibrate.starting import starting_state
from simkit.calibrate.teams import _fit_team, _TeamFit
from simkit.distributions import Exponential
from simkit.errors import InputError, Problem
from simkit.scenario import Scenario, parse_scenario
from simkit.scenario.checks import natural_key, reaching

if TYPE_CHECKING:
    from simkit.calibrate.history import History

__all__ = [
    "Calibration",
    "as_instant",
    "calibrate",
    "history_between",
    "history_span",
    "local_midnight",
]

UNPRIORITISED = "unprioritised"
"""The priority class of a service whose tickets carry no priority at all."""


@dataclass(frozen=True, eq=False)
class Calibration:
    """A fitted scenario, its YAML text and the calibration report.

    Attributes
    ----------
    yaml
        The scenario as YAML with comments saying where each number came from.
    scenario
        The same scenario, validated.
    report
        JSON-ready report: span, services, teams, backlog, assumptions (every duration in hours,
        every fraction 0–1).
    """

    yaml: str
    scenario: Scenario
    report: dict[str, Any]

    def describe(self) -> str:
        """The report in plain language, for people."""
        return describe_report(self.report)


def _reopen(data: _Data, rows: np.ndarray) -> tuple[float, _Fitted | None, dict[str, Any]]:
    ever_resolved = ~np.isnan(data.resolved[rows]) | data.reopened[rows]
    n_resolved = int(ever_resolved.sum())
    n_reopened = int(data.reopened[rows].sum())
    report: dict[str, Any] = {"resolved": n_resolved, "reopened": n_reopened}
    if n_reopened == 0 or n_resolved == 0:
        report["note"] = "no ticket was reopened"
        return 0.0, None, report
    mine = np.isin(data.p_ticket, rows) & data.p_reopen
    values, censored, _, _, _ = _durations(data.p_start[mine], data.p_end[mine], data.observed_h)
    after = _fit_durations(values, censored, "reopenings", data.resolution_h)
    probability = n_reopened / n_resolved
    report["probability"] = probability
    if after is None:
        report["note"] = (
            f"{n_reopened} tickets were reopened but the history has no time of reopening: "
            "reopening left out"
        )
        return 0.0, None, report
    report["after"] = after.report
    return probability, after, report


def _never_resolved(teams: list[_TeamFit]) -> dict[str, list[str]]:
    """The teams whose fitted routing can never lead a ticket to ``resolved``, each with where
    its finished stretches went.

    Mirrors what :func:`~simkit.calibrate.scenario_yaml._write_yaml` writes: a team without
    routes (or routing only to resolved) resolves; a pause returns to the same team.
    """
    edges: dict[str, set[str]] = {}
    for team in teams:
        routes = {k for k, v in team.routes.items() if v > 0}
        if not routes or routes == {_ROUTE_RESOLVED}:
            edges[team.name] = {_ROUTE_RESOLVED}
        else:
            edges[team.name] = {k if k != _ROUTE_PAUSE else team.name for k in routes}
    good = reaching(edges, _ROUTE_RESOLVED)
    return {
        name: sorted(k for k in team.routes if team.routes[k] > 0)
        for team in teams
        if (name := team.name) not in good
    }


def _no_resolution(history: History, data: _Data) -> tuple[str, str, str] | None:
    """When no ticket of the history was ever resolved (nor reopened, nor abandoned): what the
    history lacks, how to fix it and the field to name; ``None`` when some ticket was.

    The quality report's ``no_state`` finding (an event log without its state column) names
    the column the profile expected; otherwise the resolved states are the likely culprit."""
    ever = ~np.isnan(data.resolved) | data.reopened | data.abandoned
    if ever.any():
        return None
    n_tickets = int(np.sum(~np.isnan(data.opened)))
    what = f"none of the {n_tickets:,} tickets in the history was ever resolved"
    missing = history.quality.rule("no_state") if history.quality is not None else None
    if missing is not None:
        return f"{what} (quality report: {missing.count:,} {missing.title})", missing.fix, "state"
    return (
        what,
        "map the states that mean resolved (states.resolved in the profile) to the export's "
        "values, or the resolution time with --column resolved_at=NAME",
        "states.resolved",
    )


def _unresolvable(history: History, data: _Data, stuck: Mapping[str, list[str]]) -> InputError:
    """The error for a history whose tickets, at the ``stuck`` teams, are never seen resolved:
    bad input (no resolution in the export, or states not mapped), not a bug of the fit.

    With no resolved ticket at all the cause is the mapping (see :func:`_no_resolution`);
    otherwise each team is named with where its tickets went."""
    none_resolved = _no_resolution(history, data)
    if none_resolved is not None:
        what, fix, field_name = none_resolved
        teams = ", ".join(repr(t) for t in stuck)
        return InputError.single(
            f"{what}, so tickets at {teams} could never be resolved in the fitted scenario",
            fix,
            file=history.source,
            path=field_name,
        )
    return InputError(
        Problem(
            file=history.source,
            line=None,
            path="team",
            message=(
                f"no ticket at team {team!r} was ever seen resolved: its finished stretches went "
                f"only to {', '.join(targets)}, so the fitted scenario could never resolve its "
                "tickets"
            ),
            fix=(
                "check that the export's resolution states are mapped (states.resolved in the "
                "profile), or fit on a longer history in which this team resolves tickets"
            ),
        )
        for team, targets in stuck.items()
    )


def calibrate(
    history: History,
    *,
    scenario: Scenario | None = None,
    timezone: str | None = None,
    agents: Mapping[str, int] | None = None,
    handling_fraction: float | None = None,
    holidays: str | None = None,
    name: str | None = None,
    outages: OutageHistory | None = None,
    backlog: bool = False,
) -> Calibration:
    """Fit a scenario to a ticket history.

    Parameters
    ----------
    history
        The history (from :func:`simkit.calibrate.load_history`).
    scenario
        Optional scenario whose targets (SLA per service and priority, customers, corporate,
        OLAs/UCs), calendars, period and priority order are copied into the fitted scenario
        where service and team names match; its rosters serve teams whose handling time the
        history cannot identify; its holidays are tested for a holiday effect.
    timezone
        Time zone of the fitted scenario (default: the given scenario's, else the history's).
    agents
        Agents on duty round the clock per team name, overriding the inferred roster.
    handling_fraction
        For teams without pick-up times and with a given roster: handling time as this fraction
        of the observed time at the team. Without it such teams are delay stations.
    holidays
        ``"GB/ENG"``-style country (and subdivision) whose public holidays are tested for an
        effect on volume.
    name
        Scenario name (default: ``"Calibrated from <file>"``).
    outages
        Optional outage history (:func:`simkit.calibrate.load_outages`): each service's unplanned
        outages in the span become a component it depends on, with fitted up and restore times
        (:mod:`simkit.calibrate.outage_fit`); its availability target comes from ``scenario``.
    backlog
        Start the fitted scenario from the open backlog at the export time
        (:mod:`simkit.calibrate.starting`): ``start`` moves to the first local midnight at or
        after the export, ``warmup`` the time from the export to it, and the open tickets wait in
        their teams' queues when the run begins (at the export).
        Without it the scenario spans the history and the backlog is only reported.

    Returns
    -------
    Calibration

    Raises
    ------
    simkit.errors.InputError
        When the history is too short or holds no tickets, or when tickets at some team
        were never seen resolved (no resolution in the export, or its states not mapped).
    """
    zone = timezone or (scenario.timezone if scenario is not None else history.timezone)
    if known_zone(zone) is None:
        raise InputError.single(
            f"unknown time zone {zone!r}",
            "use an IANA name such as Europe/London",
            path="--timezone",
        )
    if handling_fraction is not None and not 0 < handling_fraction <= 1:
        raise InputError.single(
            f"the handling fraction must lie in (0, 1], got {handling_fraction}",
            "e.g. --handling-fraction 30%",
            path="--handling-fraction",
        )
    agents = dict(agents or {})
    for team_name, count in agents.items():
        if isinstance(count, bool) or not isinstance(count, int) or count < 1:
            raise InputError.single(
                f"--agents {team_name}={count!r}: a team's agents must be a whole number of 1 "
                "or more",
                f"e.g. --agents {team_name}=4 (the agents on duty at once)",
                path="--agents",
            )
    start, end = history_span(history, zone)
    data = _data(history, zone, start, end)
    if data.span_h < 7 * 24:
        raise InputError.single(
            f"the history covers {data.span_h / 24:.1f} days; fitting needs at least a week",
            "export a longer history (a quarter or more is best)",
            file=history.source,
        )
    assumptions: list[str] = list(data.notes)
    if data.v_ticket.size == 0:
        data = _without_visits(data, "resolver")
        assumptions.append(data.notes[-1])
    data = _pool_small_teams(data, scenario, agents, assumptions)
    grid = _hour_grid(data)
    ref_date = _local_date(as_instant(data.ref), zone)
    years = range(ref_date.year, ref_date.year + int(data.span_h // HOURS_PER_YEAR) + 2)
    holiday_set = _holiday_dates(holidays, scenario, years)

    # services
    services_report: list[dict[str, Any]] = []
    service_names = sorted(set(data.service[~np.isnan(data.opened)].tolist()), key=natural_key)
    first_visit = (
        np.r_[True, data.v_ticket[1:] != data.v_ticket[:-1]]
        if data.v_ticket.size
        else np.zeros(0, bool)
    )
    entry_of_ticket = np.full(data.opened.size, None, dtype=object)
    entry_of_ticket[data.v_ticket[first_visit]] = data.v_team[first_visit]
    service_fits: dict[str, dict[str, Any]] = {}
    for service in service_names:
        rows = np.flatnonzero((data.service == service) & ~np.isnan(data.opened))
        demand = _demand(data, service, rows, grid, holiday_set, scenario)
        entries = Counter(e for e in entry_of_ticket[rows].tolist() if e is not None)
        if not entries:
            entry, entry_share = "resolver", 1.0
        else:
            entry, count = entries.most_common(1)[0]
            entry_share = count / sum(entries.values())
        if entry_share < 0.99 and entries:
            assumptions.append(
                f"service {service}: {_pct(1 - entry_share)} of its tickets were first assigned "
                f"to a team other than {entry} ({', '.join(f'{t}: {c:,}' for t, c in entries.most_common()[1:4])}); "
                "the scenario has one entry team per service, so they enter at "
                f"{entry}"
            )
        in_span = rows[(data.opened[rows] >= 0) & (data.opened[rows] < data.span_h)]
        mix = Counter(p for p in data.priority[in_span].tolist() if p is not None)
        unprioritised = int(sum(1 for p in data.priority[in_span].tolist() if p is None))
        if not mix:
            mix = Counter({UNPRIORITISED: max(unprioritised, 1)})
            assumptions.append(
                f"service {service}: none of its tickets has a priority (is the priority column "
                f"mapped?); they form one class, {UNPRIORITISED!r}"
            )
        elif unprioritised:
            assumptions.append(
                f"service {service}: {unprioritised:,} tickets without a priority count in the "
                "volume; the mix is taken from the others"
            )
        probability, after, reopen_report = _reopen(data, rows)
        service_fits[service] = {
            "demand": demand,
            "entry": entry,
            "entry_share": entry_share,
            "mix": mix,
            "reopen": (probability, after),
        }
        services_report.append(
            {
                "service": service,
                "tickets": int(rows.size),
                "tickets_in_span": demand["tickets"],
                "per_week": demand["per_week"],
                "entry": entry,
                "entry_share": entry_share,
                "growth": demand["growth"],
                "holidays": demand["holidays"],
                "profile": (
                    demand["profile"]
                    if isinstance(demand["profile"], str)
                    else np.round(demand["profile"], 4).tolist()
                ),
                "hourly_rate": np.round(demand["hourly_rate"], 4).tolist(),
                "profile_note": demand["profile_note"],
                "priorities": [
                    {"priority": p, "tickets": c, "share": c / max(1, sum(mix.values()))}
                    for p, c in sorted(mix.items(), key=lambda kv: natural_key(kv[0]))
                ],
                "reopen": reopen_report,
            }
        )
        if demand["growth"].get("used"):
            assumptions.append(f"service {service}: {demand['growth']['note']}")
        if demand["holidays"].get("significant"):
            assumptions.append(f"service {service}: {demand['holidays']['note']}")

    # teams
    links = _link_pauses(data)
    if links.orphans:
        assumptions.append(
            f"{links.orphans:,} awaiting-user pauses could not be placed in a visit (they began "
            "outside any stay with a team) and were not used"
        )
    episodes = _episodes(data, links)
    team_names = sorted(
        set(data.v_team.tolist()) | {f["entry"] for f in service_fits.values()}, key=natural_key
    )
    team_fits: list[_TeamFit] = []
    for team in team_names:
        fitted = _fit_team(
            team, data, episodes, links, grid, scenario, agents, handling_fraction, assumptions
        )
        if not fitted.handle:
            fitted.handle = {
                "default": _Fitted(Exponential(1.0), {"note": "no completed visit: 1 hour assumed"})
            }
            assumptions.append(f"team {team}: no completed visit, handling of 1 hour assumed")
        team_fits.append(fitted)
    abandoned = int(data.abandoned.sum())
    if abandoned:
        assumptions.append(
            f"{abandoned:,} tickets were abandoned or cancelled; their last visit counts as "
            "resolved in the routing and no patience is fitted"
        )
    for name_ in agents:
        if name_ not in team_names:
            raise InputError.single(
                f"--agents names team {name_!r}, which the history does not have",
                f"teams in the history: {', '.join(team_names)}",
                path="--agents",
            )

    fitted_priorities = {str(p) for f in service_fits.values() for p in f["mix"]}
    copied = _copied_targets(scenario, service_names, team_names, fitted_priorities)
    for service, targets in (copied.get("priorities") or {}).items():
        absent = [p for p in targets if p not in service_fits[service]["mix"]]
        if absent:
            assumptions.append(
                f"service {service}: targets for priority {', '.join(absent)} of the given "
                "scenario left out: the history has no such tickets of this service"
            )
    assumptions.extend(copied.get("dropped") or ())
    stuck = _never_resolved(team_fits)
    if stuck:
        raise _unresolvable(history, data, stuck)
    none_resolved = _no_resolution(history, data)
    if none_resolved is not None:
        what, fix, _ = none_resolved
        assumptions.append(
            f"{what}: tickets leave the fitted scenario at the teams they were last seen at, so "
            f"its resolution times are not the history's ({fix})"
        )
    open_tickets = _backlog(data)
    starting = None
    if backlog:
        starting = starting_state(
            open_tickets,
            export_at=as_instant(history.observed_until),
            history_start=_local_date(start, zone),
            zone=zone,
            entries={s: str(f["entry"]) for s, f in service_fits.items()},
            teams=[t.name for t in team_fits],
            mixes={s: dict(f["mix"]) for s, f in service_fits.items()},
            unprioritised=UNPRIORITISED,
        )
        open_tickets = {**open_tickets, "starting_state": starting.report()}
        open_tickets["note"] = (
            "tickets still open at the export time: the fitted scenario starts with them "
            f"(measured from {starting.start.isoformat()}; the run begins at the export)"
        )
    document_name = name or f"Calibrated from {history.source}"
    components: list[FittedComponent] = []
    outage_report: dict[str, Any] | None = None
    if outages is not None:
        components, outage_report = fit_outages(
            outages, _micros(start), _micros(end), list(service_fits)
        )
    text = _write_yaml(
        history,
        data,
        zone,
        start,
        end,
        document_name,
        service_fits,
        team_fits,
        copied,
        scenario,
        components,
        starting,
    )
    try:
        fitted_scenario = parse_scenario(text, file=None)
    except InputError as error:  # a bug here, not bad input: show the text
        raise RuntimeError(
            "the fitted scenario does not validate:\n" + error.describe() + "\n" + text
        ) from error
    report: dict[str, Any] = {
        "scenario": document_name,
        "source": history.source,
        "profile": history.profile,
        "timezone": zone,
        "span": {
            "from": _iso(start),
            "until": _iso(end),
            "days": data.span_h / 24,
            "observed_until": _iso(as_instant(history.observed_until)),
        },
        "tickets": int(np.sum(~np.isnan(data.opened))),
        "visits": int(data.v_ticket.size),
        "pauses": int(data.p_ticket.size),
        "services": services_report,
        "teams": [t.report for t in team_fits],
        "backlog": open_tickets,
        "targets": {
            "from": copied.get("from"),
            "dropped": list(copied.get("dropped") or ()),
            "note": copied.get("note")
            or (
                "targets copied for services "
                + (", ".join(copied["priorities"]) or "none")
                + (
                    f"; not in the history: {', '.join(copied['missing_services'])}"
                    if copied["missing_services"]
                    else ""
                )
            ),
        },
        "assumptions": assumptions,
        "quality": _quality(history),
    }
    if outage_report is not None:
        report["outages"] = outage_report
    return Calibration(yaml=text, scenario=fitted_scenario, report=_jsonable(report))


def _micros(instant: np.datetime64) -> int:
    return int(as_instant(instant).astype("datetime64[us]").astype(np.int64))
