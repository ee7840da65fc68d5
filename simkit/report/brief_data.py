"""The negotiation brief's document: :func:`brief_document` runs every analysis the brief shows
once and collects them in one JSON document, with the scenario's assumptions in plain words
(:func:`scenario_assumptions`) and the data sources that reproduce it.

These are importable from :mod:`simkit.report.brief`, which renders the document.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Sequence
from concurrent.futures import Executor
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from simkit.errors import InputError, Problem
from simkit.runner import DEFAULT_MAX_VISITS, Progress, Results, simulate
from simkit.scenario import Scenario
from simkit.units import format_duration, format_percent

__all__ = ["DEFAULT_CONFIDENCE", "MODEL_LIMITS", "brief_document", "scenario_assumptions"]

DEFAULT_CONFIDENCE = 0.8
"""Share of reporting periods a promise must hold in, unless the user says otherwise."""

MODEL_LIMITS = (
    "Every agent of a team can handle every ticket of the team (no skills within a team).",
    "Agents are not shared between teams, and each works on one ticket at a time.",
    "Teams work their weekly roster on public holidays; a holiday only stops the SLA clocks of "
    "calendars that have it.",
    "A ticket keeps its priority for life, and SLA clocks do not restart on reassignment.",
    "Breaks are not at fixed times: shrinkage is spread evenly over the rostered hours.",
    "Components fail independently (no common-cause failures) and are either up or down "
    "(no degraded service).",
    "Demand, handling times and failure rates follow the scenario's distributions throughout; "
    "a one-off event outside them is not foreseen.",
)
"""What the model leaves out (docs/model.md and docs/availability.md), as the brief states it."""

Row = dict[str, Any]


# -- the document ------------------------------------------------------------------------------


def brief_document(
    scenario: Scenario,
    *,
    changes: Sequence[str] = (),
    sets: Sequence[str | tuple[str, Any]] = (),
    together: bool = False,
    confidence: float = DEFAULT_CONFIDENCE,
    replications: int | None = None,
    seed: int | None = None,
    executor: Executor | None = None,
    progress: Progress | None = None,
    options: bool = True,
    max_visits: int = DEFAULT_MAX_VISITS,
) -> dict[str, Any]:
    """Run every analysis the brief shows and collect them in one JSON document.

    Parameters
    ----------
    scenario
        The scenario with the proposed targets.
    changes, sets, together
        Changes to compare with the baseline, as for
        :func:`simkit.analysis.impact.change_impact` (named changes of the scenario, ad-hoc
        ``path=value`` changes, or all at once as one plan).
    confidence
        Share of reporting periods a promise must hold in (0–1).
    replications, seed
        Default: the scenario's. Every run of the brief uses them (common random numbers).
    executor, progress
        As for :func:`simkit.runner.simulate`.
    options
        Whether to run the staffing options (+1/+2 agents on each limiting team).
    max_visits
        The size guard of :func:`simkit.runner.simulate`.

    Returns
    -------
    dict
        ``kind`` (``"brief"``), ``scenario``, ``description``, ``generated`` (date),
        ``replications``, ``seed``, ``confidence``, ``period``, ``simulation`` (the simulate
        document), ``targets`` (:func:`~simkit.analysis.targets.achievable_targets`), ``ola``
        (:func:`~simkit.analysis.ola.ola_alignment`), ``availability_periods`` and
        ``availability_outcomes`` (per period, and per replication and full period),
        ``impact`` (``None`` without changes: otherwise ``{"together", "changes": [{"name",
        "description", "window", "rows"}]}``), ``assumptions`` and ``sources``.
    """
    from simkit.analysis.impact import change_impact
    from simkit.analysis.ola import ola_alignment
    from simkit.analysis.targets import achievable_targets
    from simkit.scenario.overlay import check_set_path, parse_set

    if isinstance(changes, str):  # one name, not its letters
        changes = (changes,)
    if isinstance(sets, str):
        sets = (sets,)
    problems: list[Problem] = []
    for name in changes:
        try:
            scenario.apply(name)
        except InputError as error:
            problems.extend(error.problems)
    if problems:
        raise InputError(problems)
    for item in sets:  # refused before anything runs
        check_set_path(scenario, parse_set(item)[0])
    results = simulate(
        scenario,
        replications=replications,
        seed=seed,
        executor=executor,
        progress=progress,
        max_visits=max_visits,
    )
    targets = achievable_targets(
        scenario,
        confidence=confidence,
        results=results,
        options=options,
        executor=executor,
        progress=progress,
        max_visits=max_visits,
    )
    alignment = ola_alignment(scenario, results=results)
    impact = None
    if changes or sets:
        found = change_impact(
            scenario,
            changes,
            together=together,
            sets=sets,
            replications=results.replications,
            seed=results.seed,
            executor=executor,
            progress=progress,
            confidence=confidence,
            max_visits=max_visits,
        )
        impact = {
            "together": together,
            "changes": [
                {k: v for k, v in entry.items() if k not in ("change_document", "periods")}
                for entry in found["changes"]
            ],
        }
    periods, outcomes = _availability_views(results)
    return {
        "kind": "brief",
        "scenario": scenario.name,
        "description": scenario.description,
        "generated": dt.date.today().isoformat(),
        "replications": results.succeeded,
        "seed": results.seed,
        "confidence": confidence,
        "period": scenario.period,
        "simulation": results.summary(),
        "targets": targets,
        "ola": alignment,
        "availability_periods": periods,
        "availability_outcomes": outcomes,
        "impact": impact,
        "assumptions": scenario_assumptions(scenario),
        "sources": _sources(scenario, changes, sets, together, confidence, results),
    }


def _availability_views(results: Results) -> tuple[list[Row], list[Row]]:
    """Availability per period (mean and interval over replications) and per replication and
    full period, over the successful replications only."""
    from simkit.measure.availability import availability_outcomes, availability_period_rows
    from simkit.scenario.targets import availability_targets

    targets = availability_targets(results.scenario)
    if not targets or results.succeeded == 0:
        return [], []
    outages = results.outages
    if results.failures:
        failed = np.array(sorted(f.replication for f in results.failures), np.int64)
        ids = np.asarray(outages["replication"].to_numpy(zero_copy_only=False), np.int64)
        outages = outages.filter(pa.array(~np.isin(ids, failed)))
        kept = np.asarray(outages["replication"].to_numpy(zero_copy_only=False), np.int64)
        renumbered = kept - np.searchsorted(failed, kept, side="left")
        index = outages.schema.get_field_index("replication")
        outages = outages.set_column(
            index, "replication", pa.array(renumbered.astype(np.int32), pa.int32())
        )
    spec = results.measure_spec()
    periods = availability_period_rows(outages, targets, spec)
    outcomes: list[Row] = []
    for target in targets:
        table = availability_outcomes(outages, target, spec)
        table = table.filter(pc.and_(table["full"], pc.is_valid(table["availability"])))
        outcomes += [
            {
                "service": target.service,
                "replication": r,
                "period": p,
                "availability": a,
                "credit": c,
            }
            for r, p, a, c in zip(
                table["replication"].to_pylist(),
                table["period"].to_pylist(),
                table["availability"].to_pylist(),
                table["credit"].to_pylist(),
                strict=True,
            )
        ]
    return periods, outcomes


# -- assumptions and sources ---------------------------------------------------------------------


def _calendar_text(spec: Any) -> tuple[str, str, str]:
    """Hours, holidays and time zone of a calendar as written in the scenario."""
    if spec == "always":
        return "24 hours, 7 days", "none", ""
    hours = "; ".join(
        f"{days} {', '.join(v) if isinstance(v, tuple) else v}" for days, v in spec.hours.items()
    )
    holidays = spec.holidays
    if holidays is None:
        text = "none"
    elif isinstance(holidays, tuple):
        text = f"{len(holidays)} dates"
    else:
        parts = []
        if holidays.country:
            region = f"-{holidays.subdivision}" if holidays.subdivision else ""
            parts.append(f"public holidays of {holidays.country}{region}")
        if holidays.dates:
            parts.append(f"{len(holidays.dates)} more dates")
        text = " and ".join(parts) or "none"
    return hours, text, spec.timezone or ""


def _component_text(name: str, component: Any) -> Row:
    repair = component.repair
    if hasattr(repair, "team"):
        repaired = f"by {repair.team} as a {repair.priority} incident"
        if component.restore:
            repaired += f", then {format_duration(component.restore)} to restore"
    else:
        repaired = repair.describe()
    change_text = ""
    if component.changes is not None:
        ch = component.changes
        change_text = (
            f"{ch.per_month:g} changes a month, {format_percent(ch.failure_rate)} fail "
            f"(outage {ch.outage.describe()})"
        )
    return {
        "component": name,
        "units": f"{component.needed} of {component.count} needed",
        "fails": component.fails.describe(),
        "repair": repaired,
        "changes": change_text,
    }


def scenario_assumptions(scenario: Scenario) -> dict[str, Any]:
    """What the scenario assumes, in plain words: the run, calendars, demand, rosters,
    handling and routing, components, and what the model leaves out.

    Parameters
    ----------
    scenario
        The scenario of the brief.

    Returns
    -------
    dict
        ``run``, ``calendars``, ``services``, ``teams``, ``components``, ``availability``,
        ``change_names`` and ``limits`` (plain rows and sentences).
    """
    from simkit.scenario.describe import describe_scenario

    described = describe_scenario(scenario)
    calendars = []
    names = [n for n in scenario.calendar_names if n != "always" or n in scenario.calendars]
    for name in names:
        spec = scenario.calendars.get(name, "always")
        hours, holidays, zone = _calendar_text(spec)
        calendars.append(
            {
                "calendar": name,
                "hours": hours,
                "holidays": holidays,
                "timezone": zone or scenario.timezone,
            }
        )
    teams = []
    for team in described["teams"]:
        model = scenario.teams[team["team"]]
        hours = team["agent_hours_per_week"]
        teams.append(
            {
                **team,
                "on_tickets_per_week": None if hours is None else hours * (1 - model.shrinkage),
                "cost_per_agent_hour": model.cost_per_agent_hour,
                "pause": model.pause.duration.describe() if model.pause else None,
                "patience": model.patience.describe() if model.patience else None,
                "preempt": list(model.preempt),
            }
        )
    availability = []
    for name, service in scenario.services.items():
        agreed = service.availability
        if agreed is None:
            continue
        maintenance = agreed.maintenance
        if isinstance(maintenance, tuple):
            maintenance_text = f"{len(maintenance)} windows"
        else:
            maintenance_text = maintenance or "none"
        availability.append(
            {
                "service": name,
                "target": agreed.target,
                "calendar": agreed.calendar,
                "depends_on": list(agreed.depends_on),
                "maintenance": maintenance_text,
                "exclude_maintenance": agreed.exclude_maintenance,
                "credits": [{"below": c.below, "credit": c.credit} for c in agreed.credits],
                "monthly_fee": agreed.monthly_fee,
            }
        )
    reopen = {
        name: (
            f"{format_percent(s.reopen.probability)} reopen after {s.reopen.after.describe()}"
            if s.reopen
            else None
        )
        for name, s in scenario.services.items()
    }
    return {
        "run": {
            "start": scenario.start.isoformat(),
            "horizon": format_duration(scenario.horizon),
            "horizon_words": _span_words(scenario.horizon),
            "timezone": scenario.timezone,
            "warmup": _span_words(scenario.warmup),
            "drain": _span_words(scenario.drain),
            "period": scenario.period,
            "priority_order": list(scenario.priorities),
        },
        "calendars": calendars,
        "services": [{**s, "reopen": reopen[s["service"]]} for s in described["services"]],
        "teams": teams,
        "components": [_component_text(n, c) for n, c in scenario.components.items()],
        "availability": availability,
        "change_names": list(scenario.changes),
        "limits": [
            limit
            for limit in MODEL_LIMITS
            if scenario.components or not limit.startswith("Components")
        ],
    }


def _source_file(scenario: Scenario) -> Path | None:
    """The file a scenario was loaded from, to read its comments and digest: only for one
    loaded from disk. An upload's name is the user's to choose and names no file here."""
    if scenario.source is None or scenario.base_dir is None:
        return None
    return scenario.base_dir / Path(scenario.source).name


def _calibration_note(scenario: Scenario) -> str | None:
    """The scenario's own statement that it was calibrated from a history, if it makes one."""
    if scenario.name.startswith("Calibrated from"):
        return scenario.name
    path = _source_file(scenario)
    if path is None:
        return None
    try:
        head = path.read_text(encoding="utf-8").splitlines()[:40]
    except OSError:
        return None
    for line in head:
        text = line.strip()
        if text.startswith("#") and "calibrated from" in text.lower():
            return text.lstrip("#").strip()
    return None


def _sources(
    scenario: Scenario,
    changes: Sequence[str],
    sets: Sequence[str | tuple[str, Any]],
    together: bool,
    confidence: float,
    results: Results,
) -> dict[str, Any]:
    from simkit import __version__

    digest = None
    path = _source_file(scenario)
    if path is not None:
        try:
            digest = hashlib.sha256(path.read_bytes()).hexdigest()
        except OSError:
            digest = None
    set_texts = [s if isinstance(s, str) else f"{s[0]}={s[1]}" for s in sets]
    command = ["simkit", "report", scenario.source or "SCENARIO.yaml"]
    command += [f"--change {name}" for name in changes]
    command += [f"--set {text}" for text in set_texts]
    if together:
        command.append("--together")
    command += [
        f"--replications {results.replications}",
        f"--seed {results.seed}",
        f"--confidence {confidence:.0%}",
    ]
    return {
        "scenario_file": scenario.source,
        "scenario_sha256": digest,
        "calibration": _calibration_note(scenario),
        "applied_changes": list(scenario.applied_changes),
        "compared_changes": list(changes) + set_texts,
        "replications": results.succeeded,
        "replications_requested": results.replications,
        "seed": results.seed,
        "simkit_version": __version__,
        "command": " ".join(command),
        "failures": [{"replication": f.replication, "error": f.error} for f in results.failures],
    }


def _span_words(hours: float) -> str:
    """``'26 weeks'``, ``'90 days'``, ``'2,159 hours'``, ``'none'``."""
    if hours == 0:
        return "none"
    for unit, size in (("week", 168.0), ("day", 24.0)):
        count = hours / size
        if count >= 1 and abs(count - round(count)) < 1e-9:
            n = round(count)
            return f"{n:,} {unit}{'s' if n != 1 else ''}"
    return f"{hours:,.0f} hours"
