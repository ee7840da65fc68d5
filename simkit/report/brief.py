"""The negotiation brief: what a Service Level Manager takes into a negotiation.

:func:`brief_document` runs the analyses once — one simulation of the scenario feeds the
achievable targets, the OLA/UC alignment and the availability figures; each change runs against
the baseline with the same seed — and returns one JSON document. :func:`render_brief` turns it
into a self-contained HTML page (or Markdown) written for a customer: verdict sentences first,
every simulated figure with its 95% interval and the number of runs behind it, the assumptions
and the data sources at the end.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import math
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Executor
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from simkit.errors import InputError, Problem
from simkit.report.html import (
    Badge,
    Bullets,
    Cell,
    Document,
    Figure,
    Inline,
    Para,
    Section,
    Strong,
    Table,
    fmt_hours,
    fmt_money,
    render_html,
    render_markdown,
    target_text,
    write_document,
)
from simkit.report.render import chart_figure
from simkit.report.text import fmt_interval, fmt_pct, sla_label
from simkit.runner import DEFAULT_MAX_VISITS, Progress, Results, simulate
from simkit.scenario import Scenario
from simkit.units import format_duration, format_percent

__all__ = [
    "BRIEF_SECTIONS",
    "DEFAULT_CONFIDENCE",
    "MODEL_LIMITS",
    "brief_document",
    "render_brief",
    "write_brief",
    "write_demo_reports",
]

DEFAULT_CONFIDENCE = 0.8
"""Share of reporting periods a promise must hold in, unless the user says otherwise."""

BRIEF_SECTIONS = (
    ("summary", "In short"),
    ("reading", "How to read this brief"),
    ("targets", "Proposed and achievable targets"),
    ("options", "Options: what more staff would buy"),
    ("ola", "Internal agreements (OLAs) and supplier contracts (UCs)"),
    ("impact", "Effect of the changes considered"),
    ("availability", "Availability and service credits"),
    ("teams", "Team workload in the simulation"),
    ("assumptions", "Assumptions"),
    ("sources", "Data sources and reproducibility"),
)
"""Section ids and titles of the brief, in order (every brief has all of them)."""

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

FEW_RUNS = 20
"""Fewer simulated runs than this earn the brief a warning about wide intervals."""

Row = dict[str, Any]
_VERDICT_STATUS = {"achievable": "green", "at risk": "amber", "not achievable": "red"}
_EFFECT_STATUS = {"improves": "green", "worsens": "red", "none": "grey", "unknown": "grey"}
_EFFECT_WORDS = {
    "improves": "better",
    "worsens": "worse",
    "none": "no clear effect",
    "unknown": "not comparable",
}


def _key(row: Mapping[str, Any]) -> tuple[Any, ...]:
    return (row["level"], row["service"], row["customer"], row["priority"], row["metric"])


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
    from simkit.scenario.overlay import parse_set

    problems: list[Problem] = []
    for name in changes:
        try:
            scenario.apply(name)
        except InputError as error:
            problems.extend(error.problems)
    if problems:
        raise InputError(problems)
    for item in sets:
        parse_set(item)
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
        "limits": list(MODEL_LIMITS),
    }


def _calibration_note(scenario: Scenario) -> str | None:
    """The scenario's own statement that it was calibrated from a history, if it makes one."""
    if scenario.name.startswith("Calibrated from"):
        return scenario.name
    if scenario.source is None:
        return None
    try:
        head = Path(scenario.source).read_text(encoding="utf-8").splitlines()[:40]
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
    if scenario.source is not None:
        try:
            digest = hashlib.sha256(Path(scenario.source).read_bytes()).hexdigest()
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


# -- rendering -----------------------------------------------------------------------------------


class _Brief:
    """Builds the sections of one brief from its document."""

    def __init__(self, document: Mapping[str, Any], charts: bool) -> None:
        self.doc = document
        self.charts = charts
        self.n = int(document["replications"])
        self.c = float(document["confidence"])
        self.period = str(document["period"])
        self.targets = document["targets"]
        self.sim = document["simulation"]
        self.compliance = {_key(r): r for r in self.sim["sla"]}

    def figure(self, build: Callable[[], Any], caption: str, name: str) -> Figure:
        return chart_figure(build, caption=caption, name=name, charts=self.charts)

    def runs(self) -> str:
        return f"{self.n} simulated runs"

    # -- sections

    def summary(self) -> list[Any]:
        rows = self.targets["sla"]
        counts = {v: sum(1 for r in rows if r["verdict"] == v) for v in _VERDICT_STATUS}
        blocks: list[Any] = []
        description = self.doc.get("description")
        if description:
            blocks.append(Para.of(str(description).strip()))
        run = self.doc["assumptions"]["run"]
        blocks.append(
            Para.of(
                f"We simulated the support teams and the infrastructure behind this service "
                f"{self.n} times over {run['horizon_words']} from {run['start']} — each run a "
                f"plausible {self.period}-by-{self.period} future under the same assumptions — "
                f"and measured every proposed target as the service management tool would. A "
                f"target can be promised when it is met in at least {self.c:.0%} of "
                f"{self.period}s.",
                kind="lead",
            )
        )
        if rows:
            blocks.append(Para.of(*_count_sentence(len(rows), counts)))
        if self.n < FEW_RUNS:
            blocks.append(
                Para.of(
                    f"Only {self.n} simulated runs: the intervals are wide and the verdicts "
                    f"cautious. A brief for a negotiation should rest on {FEW_RUNS} or more "
                    "(--replications).",
                    kind="note",
                )
            )
        items: list[list[Inline]] = []
        options = self.targets.get("options", [])
        for index, row in enumerate(rows):
            if row["verdict"] == "achievable":
                continue
            item: list[Inline] = [
                Badge(_VERDICT_STATUS[row["verdict"]], row["verdict"]),
                " ",
                Strong(sla_label(row)),
                f" ({target_text(row)}): {_words(row)}.",
            ]
            if row.get("achievable_within_h") is not None:
                item.append(
                    f" What we can promise at {self.c:.0%} confidence: "
                    f"{fmt_pct(row['goal'], 0)} within {fmt_hours(row['achievable_within_h'])}."
                )
            fix = _cheapest_fix(options, index)
            if fix is not None:
                item.append(f" {fix}")
            items.append(item)
        for row in self.targets.get("availability", []):
            item = [
                Badge(_VERDICT_STATUS[row["verdict"]], row["verdict"]),
                " ",
                Strong(f"{row['service']} availability"),
                f" ({format_percent(row['target'])} of agreed service time): {_words(row)}.",
            ]
            credit = self._credit(row["service"])
            if credit is not None:
                item.append(f" Expected service credits: {fmt_money(credit)} a {self.period}.")
            items.append(item)
        if items:
            blocks.append(Bullets.of(items))
        ola_rows = self.doc["ola"]["sla"]
        if ola_rows:
            underpinned = sum(1 for r in ola_rows if r["underpinned"])
            gaps = sorted({g for r in ola_rows for g in r["gaps"]})
            sentence = (
                f"{underpinned} of {len(ola_rows)} targets are underpinned by the internal "
                "agreements and supplier contracts as written"
            )
            sentence += (
                f"; the gaps lie with {', '.join(gaps)} (section 5)." if gaps else " (section 5)."
            )
            blocks.append(Para.of(sentence))
        impact = self.doc.get("impact")
        for change in (impact or {}).get("changes", []):
            blocks.append(Para.of(Strong(f"Change {change['name']}: "), _change_headline(change)))
        return blocks

    def reading(self) -> list[Any]:
        return [
            Bullets.of(
                [
                    f"Every simulated figure is the mean over {self.runs()} with its 95% "
                    "interval in brackets, e.g. 93.1% [91.8–94.3]: the range the mean would "
                    "fall in if the simulation were run again many times. Fewer runs give "
                    "wider intervals.",
                    f"P({self.period} meets goal) is the share of simulated {self.period}s in "
                    "which the target met its goal (its interval is a Wilson 95% interval). "
                    f"“Met in about 7 {self.period}s out of 10” reads it in words.",
                    [
                        "Verdicts: ",
                        Badge("green", "achievable"),
                        f" when even the lower end of that interval reaches {self.c:.0%}; ",
                        Badge("red", "not achievable"),
                        f" when even its upper end falls short of {self.c:.0%}; ",
                        Badge("amber", "at risk"),
                        " otherwise — the simulation cannot promise it either way.",
                    ],
                    f"The achievable target is the shortest time that would have been met, with "
                    f"the goal as proposed, in {self.c:.0%} of the simulated {self.period}s.",
                    "Times are business hours on the target's calendar: a ticket opened on "
                    "Friday evening against an office-hours target starts its clock on Monday "
                    "morning. Periods only partly inside the simulated span are shown but not "
                    f"counted in P({self.period} meets goal).",
                    "The figures are estimates from a model of the service, not measurements: "
                    "the assumptions are listed at the end.",
                ]
            )
        ]

    def targets_section(self) -> list[Any]:
        rows = self.targets["sla"]
        if not rows:
            return [Para.of("The scenario proposes no response or resolution target.")]
        table = Table.of(
            [
                "target",
                "proposed",
                "compliance at proposed",
                f"P({self.period} meets goal)",
                f"achievable at {self.c:.0%}",
                "verdict",
            ],
            [
                [
                    sla_label(r),
                    target_text(r),
                    fmt_interval(self.compliance.get(_key(r), {}).get("compliance")),
                    fmt_interval(r["p_period_met"], 0),
                    _achievable(r),
                    Badge(_VERDICT_STATUS[r["verdict"]], r["verdict"]),
                ]
                for r in rows
            ],
            numeric=(2, 3),
            caption=f"Mean [95% interval] over {self.runs()}",
        )
        items: list[list[Inline]] = []
        for r in rows:
            item: list[Inline] = [Strong(sla_label(r)), f": {_words(r)}."]
            if r.get("note"):
                item.append(f" Note: {r['note']}.")
            items.append(item)
        sentences = Bullets.of(items)
        from simkit.app_model import period_rows

        return [
            table,
            sentences,
            self.figure(
                lambda: _charts().verdict_chart(rows, confidence=self.c, replications=self.n),
                f"P({self.period} meets goal) per proposed target with its 95% interval; the red "
                f"line is the {self.c:.0%} asked for.",
                "verdicts",
            ),
            self.figure(
                lambda: _charts().compliance_chart(self.sim["sla"], replications=self.n),
                "Compliance over the whole span per target (mean and 95% interval); the red tick "
                "is the goal.",
                "compliance",
            ),
            self.figure(
                lambda: _charts().period_chart(period_rows(self.sim), replications=self.n),
                f"Compliance per {self.period} (mean and 95% interval); hollow points are "
                "partial periods.",
                "periods",
            ),
        ]

    def options_section(self) -> list[Any]:
        options = self.targets.get("options", [])
        if not options:
            return [
                Para.of(
                    "No staffing option was simulated (none was asked for, or no team limits "
                    "the targets)."
                )
            ]
        rows: list[list[Cell]] = []
        for option in options:
            target = self.targets["sla"][option["target_index"]]
            rows.append(
                [
                    sla_label(target),
                    _option_text(option),
                    _achievable({**option, "goal": target["goal"]}),
                    fmt_interval(option["p_period_met"], 0),
                    Badge(_VERDICT_STATUS[option["verdict"]], option["verdict"]),
                    fmt_money(option.get("added_cost_per_month")) if option["agents"] else "",
                ]
            )
        return [
            Para.of(
                "For each target, the team whose queue holds its tickets longest gets one or two "
                "more agents on its busiest roster line, and the whole scenario is simulated "
                "again with the same random numbers. The cost is the added agent-hours at the "
                "team's hourly cost, per month."
            ),
            Table.of(
                [
                    "target",
                    "option",
                    f"achievable at {self.c:.0%}",
                    f"P({self.period} meets goal)",
                    "verdict",
                    "added cost / month",
                ],
                rows,
                numeric=(3, 5),
                caption=f"Each option: {self.runs()}, same seed as the baseline",
            ),
        ]

    def ola_section(self) -> list[Any]:
        rows = self.doc["ola"]["sla"]
        blocks: list[Any] = [
            Para.of(
                "An SLA is underpinned when the internal agreements (OLAs) of the teams and the "
                "contracts (UCs) of the suppliers a ticket passes through, each met as agreed, "
                "add up to no more than the SLA. A “watermelon” breach is green inside and red "
                "outside: every OLA met, the SLA missed."
            )
        ]
        if not rows:
            return [*blocks, Para.of("The scenario has no SLA target to underpin.")]
        blocks.append(
            Table.of(
                [
                    "target",
                    "underpinned as written",
                    "gaps",
                    "P(SLA met | OLAs met)",
                    "share of SLA breaches with every OLA met",
                ],
                [
                    [
                        sla_label(r),
                        Badge("green", "yes") if r["underpinned"] else Badge("red", "no"),
                        ", ".join(r["gaps"]) or "—",
                        fmt_interval(r.get("p_met_when_olas_met_interval"), 0),
                        fmt_interval(r.get("watermelon_share_interval"), 0),
                    ]
                    for r in rows
                ],
                numeric=(3, 4),
                caption=f"Shares pooled over the tickets of {self.runs()} [Wilson 95% interval]",
            )
        )
        recommended = [
            [
                sla_label(r),
                f"{rec['team']} {str(rec['kind']).upper()} {rec['metric']}",
                _agreement_now(self.doc["assumptions"]["teams"], rec),
                (
                    f"{fmt_pct(rec['goal'])} within {fmt_hours(rec['within_h'])} "
                    f"({rec['calendar']})"
                    if rec.get("within_h") is not None
                    else "—"
                ),
                fmt_pct(rec.get("compliance_now")),
            ]
            for r in rows
            if not r["underpinned"]
            for rec in r.get("recommended", [])
        ]
        if recommended:
            blocks.append(
                Para.of(
                    "What each team and supplier would have to promise so that the agreements "
                    "add up to the SLA (shared in proportion to the time each takes today):"
                )
            )
            blocks.append(
                Table.of(
                    ["for target", "agreement", "as written", "recommended", "met today"],
                    recommended,
                    numeric=(4,),
                )
            )
        agreements = self.sim.get("ola", [])
        if agreements:
            blocks.append(
                Table.of(
                    [
                        "agreement",
                        "target",
                        "visits per run",
                        "compliance",
                        f"P({self.period} meets goal)",
                    ],
                    [
                        [
                            f"{a['team']} {str(a['kind']).upper()} {a['metric']}"
                            + (f" {a['priority']}" if a.get("priority") else ""),
                            target_text(a),
                            f"{a['tickets']:,.0f}",
                            fmt_interval(a["compliance"]),
                            fmt_interval(a["p_period_met"], 0),
                        ]
                        for a in agreements
                    ],
                    numeric=(2, 3, 4),
                    caption=f"OLAs and UCs as simulated: mean [95% interval] over {self.runs()}",
                )
            )
        return blocks

    def impact_section(self) -> list[Any]:
        impact = self.doc.get("impact")
        if not impact:
            names = ", ".join(self.doc["assumptions"].get("change_names", [])) or "none defined"
            return [
                Para.of(
                    "No change was assessed in this brief. Name one with --change NAME (the "
                    f"scenario defines: {names}) or --set PATH=VALUE to show what it would do."
                )
            ]
        blocks: list[Any] = [
            Para.of(
                "Each change was simulated with the same random numbers as the baseline, so the "
                "difference is measured run by run (paired): its interval is narrow, and a "
                "change that changes nothing shows exactly zero."
            )
        ]
        for change in impact["changes"]:
            intro: list[Inline] = [Strong(change["name"])]
            if change.get("description"):
                intro.append(f": {change['description']}")
            window = change.get("window")
            if window:
                intro.append(f" (from {window['from']} until {window['until']})")
            blocks.append(Para.of(*intro))
            rows = change["rows"]
            blocks.append(
                Table.of(
                    ["target", "baseline", "with the change", "difference (pp)", "effect"],
                    [
                        [
                            r["label"],
                            fmt_interval(r.get("baseline_compliance"), _digits(r)),
                            fmt_interval(r.get("change_compliance"), _digits(r)),
                            _delta_text(r["compliance_delta"], _digits(r)),
                            Badge(
                                _EFFECT_STATUS.get(r["effect"], "grey"),
                                _EFFECT_WORDS.get(r["effect"], r["effect"]),
                            ),
                        ]
                        for r in rows
                    ],
                    numeric=(1, 2, 3),
                    caption=f"Compliance (availability for availability targets), mean [95% "
                    f"interval] over {self.runs()}",
                )
            )
            flips = [r for r in rows if r.get("slr", {}).get("flips")]
            if flips:
                blocks.append(
                    Bullets.of(
                        [
                            [
                                Strong(r["label"]),
                                f": at {self.c:.0%} confidence the verdict goes from "
                                f"{r['slr']['baseline']} to {r['slr']['change']}.",
                            ]
                            for r in flips
                        ]
                    )
                )
            shown = [r for r in rows if r["kind"] in ("sla", "availability")]
            blocks.append(
                self.figure(
                    _impact_chart(shown, self.n),
                    f"{change['name']}: difference per target, change − baseline, with its "
                    "paired 95% interval.",
                    f"impact-{_slug(change['name'])}",
                )
            )
        return blocks

    def availability_section(self) -> list[Any]:
        rows = self.sim.get("availability", [])
        if not rows:
            return [Para.of("The scenario sets no availability target.")]
        judged = {r["service"]: r for r in self.targets.get("availability", [])}
        blocks: list[Any] = [
            Table.of(
                [
                    "service",
                    "target",
                    "availability",
                    f"P({self.period} meets target)",
                    f"achievable at {self.c:.0%}",
                    "verdict",
                ],
                [
                    [
                        r["service"],
                        f"{format_percent(r['target'])} ({r['calendar']})",
                        fmt_interval(r["availability"], 3),
                        fmt_interval(r["p_period_met"], 0),
                        fmt_pct(judged.get(r["service"], {}).get("achievable"), 3),
                        _verdict_badge(judged.get(r["service"])),
                    ]
                    for r in rows
                ],
                numeric=(2, 3, 4),
                caption=f"Over agreed service time: mean [95% interval] over {self.runs()}",
            ),
            Table.of(
                [
                    "service",
                    f"unplanned outages per {self.period}",
                    "≤5 min",
                    "5–30 min",
                    "30 min–4 h",
                    "> 4 h",
                    "MTRS",
                    "MTBSI",
                    f"expected credit per {self.period}",
                ],
                [
                    [
                        r["service"],
                        _number(r.get("outages_per_period")),
                        *(_number((r.get("bands") or {}).get(b)) for b in _BANDS),
                        fmt_hours(r.get("mtrs_h")),
                        fmt_hours(r.get("mtbsi_h")),
                        fmt_money(r.get("expected_credit")),
                    ]
                    for r in rows
                ],
                numeric=range(1, 9),
                caption=f"Outages by length (mean per {self.period}); MTRS: mean time to restore "
                "service; MTBSI: mean time between service incidents (agreed-service-time hours)",
            ),
        ]
        credits = [
            a for a in self.doc["assumptions"]["availability"] if a["credits"] or a["monthly_fee"]
        ]
        if credits:
            blocks.append(
                Bullets.of(
                    [
                        f"{a['service']}: "
                        + "; ".join(
                            f"{format_percent(c['credit'])} of the fee below "
                            f"{format_percent(c['below'])}"
                            for c in a["credits"]
                        )
                        + (
                            f" — monthly fee {fmt_money(a['monthly_fee'])}"
                            if a["monthly_fee"]
                            else ""
                        )
                        for a in credits
                    ]
                )
            )
        target = rows[0]["target"] if len(rows) == 1 else None
        periods = self.doc.get("availability_periods") or []
        outcomes = self.doc.get("availability_outcomes") or []
        if periods:
            blocks.append(
                self.figure(
                    lambda: _charts().availability_chart(
                        periods, target=target, replications=self.n
                    ),
                    f"Availability per {self.period} (mean and 95% interval); the red line is "
                    "the target.",
                    "availability",
                )
            )
        if outcomes:
            blocks.append(
                self.figure(
                    lambda: _charts().availability_histogram(outcomes, target=target),
                    f"Availability in each simulated {self.period}: how often it falls short, "
                    "and by how much.",
                    "availability-spread",
                )
            )
        return blocks

    def teams_section(self) -> list[Any]:
        rows = self.sim.get("teams", [])
        if not rows:
            return [Para.of("No team was simulated.")]
        return [
            Table.of(
                ["team", "utilisation", "mean wait", "90% of tickets wait less than", "abandoned"],
                [
                    [
                        r["team"],
                        fmt_pct(r.get("utilization")),
                        fmt_hours((r.get("wait_h") or {}).get("mean")),
                        fmt_hours((r.get("wait_h") or {}).get("90")),
                        fmt_pct(r.get("abandoned")),
                    ]
                    for r in rows
                ],
                numeric=(1, 2, 3, 4),
                caption=f"Means over {self.runs()}; waits are wall-clock from assignment to "
                "pickup; utilisation is time on tickets over time available for them",
            )
        ]

    def assumptions_section(self) -> list[Any]:
        a = self.doc["assumptions"]
        run = a["run"]
        blocks: list[Any] = [
            Bullets.of(
                [
                    f"Measured span: {run['horizon_words']} from {run['start']} "
                    f"({run['timezone']}), "
                    f"reported by {run['period']}.",
                    f"Warm-up: {run['warmup']} simulated before the start and never measured, "
                    f"so that the first day starts with realistic queues; drain: {run['drain']} "
                    "after the end, so that late tickets can finish.",
                    "Priorities, highest first: " + ", ".join(run["priority_order"]) + ".",
                ]
            ),
            Table.of(
                ["calendar", "open", "holidays", "time zone"],
                [[c["calendar"], c["hours"], c["holidays"], c["timezone"]] for c in a["calendars"]],
                caption="Business calendars",
            ),
            Table.of(
                ["service", "tickets / week", "arrive", "growth / year", "priorities", "reopen"],
                [
                    [
                        s["service"],
                        f"{s['per_week']:,.0f}",
                        _profile_text(s["profile"]),
                        format_percent(s["growth"]),
                        ", ".join(
                            f"{p['priority']} {format_percent(p['share'])}" for p in s["priorities"]
                        ),
                        s.get("reopen") or "—",
                    ]
                    for s in a["services"]
                ],
                numeric=(1, 3),
                caption="Demand",
            ),
            Table.of(
                [
                    "team",
                    "roster (agents)",
                    "shrinkage",
                    "agent-hours / week on tickets",
                    "cost / agent-hour",
                ],
                [
                    [
                        t["team"],
                        "; ".join(f"{line}: {n}" for line, n in t["roster"].items())
                        if t["kind"] == "team"
                        else f"supplier, works {t['calendar'] or '24x7'}",
                        format_percent(t["shrinkage"]) if t["kind"] == "team" else "—",
                        _number(t.get("on_tickets_per_week"), 0),
                        fmt_money(t.get("cost_per_agent_hour")),
                    ]
                    for t in a["teams"]
                ],
                numeric=(2, 3, 4),
                caption="Rosters (shrinkage: the share of rostered time not spent on tickets)",
            ),
            Table.of(
                ["team", "handling time", "then", "agreement"],
                [
                    [
                        t["team"],
                        "; ".join(f"{p}: {d}" for p, d in t["handle"].items()),
                        ", ".join(f"{k} {format_percent(v)}" for k, v in t["next"].items())
                        + (f" (pause {t['pause']})" if t.get("pause") else ""),
                        "; ".join(f"{m} {text}" for m, text in t["agreement"].items()) or "—",
                    ]
                    for t in a["teams"]
                ],
                caption="Handling and routing",
            ),
        ]
        if a["components"]:
            blocks.append(
                Table.of(
                    ["component", "units", "time to failure", "repair", "changes"],
                    [
                        [c["component"], c["units"], c["fails"], c["repair"], c["changes"] or "—"]
                        for c in a["components"]
                    ],
                    caption="Infrastructure behind availability",
                )
            )
            blocks.append(
                Bullets.of(
                    [
                        f"{s['service']} depends on {', '.join(s['depends_on'])} (down while any "
                        f"is down); agreed service time: calendar {s['calendar']}; maintenance "
                        f"{s['maintenance']}, "
                        + (
                            "excluded from agreed service time."
                            if s["exclude_maintenance"]
                            else "counted as downtime."
                        )
                        for s in a["availability"]
                    ]
                )
            )
        blocks.append(Para.of(Strong("What the model leaves out")))
        blocks.append(Bullets.of(a["limits"]))
        return blocks

    def sources_section(self) -> list[Any]:
        s = self.doc["sources"]
        items: list[Any] = [
            (
                f"Scenario file: {s['scenario_file']}"
                + (f" (SHA-256 {s['scenario_sha256'][:16]}…)" if s.get("scenario_sha256") else "")
                if s.get("scenario_file")
                else "Scenario: given directly, not from a file."
            ),
            (
                f"Calibration: {s['calibration']}."
                if s.get("calibration")
                else "Calibration: the scenario does not say it was calibrated from a ticket "
                "history; its figures are as written."
            ),
        ]
        if s.get("applied_changes"):
            items.append("Changes applied to the scenario: " + ", ".join(s["applied_changes"]))
        if s.get("compared_changes"):
            items.append("Changes compared with it: " + ", ".join(s["compared_changes"]))
        items.append(
            f"{s['replications']} replications (simulated runs), seed {s['seed']}, confidence "
            f"{self.c:.0%}; the same seed gives the same figures."
        )
        if s.get("failures"):
            items.append(
                f"{len(s['failures'])} replications failed and are left out: "
                + "; ".join(f"#{f['replication']}: {f['error']}" for f in s["failures"][:3])
            )
        items.append(f"Reproduce: {s['command']} --out brief.html")
        items.append(f"simkit {s['simkit_version']}, {self.doc['generated']}.")
        return [Bullets.of(items)]

    def build(self) -> Document:
        makers = {
            "summary": self.summary,
            "reading": self.reading,
            "targets": self.targets_section,
            "options": self.options_section,
            "ola": self.ola_section,
            "impact": self.impact_section,
            "availability": self.availability_section,
            "teams": self.teams_section,
            "assumptions": self.assumptions_section,
            "sources": self.sources_section,
        }
        sections = tuple(
            Section(key, f"{i}. {title}", tuple(makers[key]()))
            for i, (key, title) in enumerate(BRIEF_SECTIONS, start=1)
        )
        run = self.doc["assumptions"]["run"]
        facts = (
            ("Service levels for", str(self.doc["scenario"])),
            ("Simulated", f"{run['horizon_words']} from {run['start']} ({run['timezone']})"),
            ("Runs", f"{self.n} replications, seed {self.doc['seed']}"),
            ("Promise means", f"met in at least {self.c:.0%} of {self.period}s"),
            ("Prepared", str(self.doc["generated"])),
        )
        return Document(
            title=f"Service level brief — {self.doc['scenario']}",
            subtitle="What we can promise, what it takes, and how sure we are.",
            sections=sections,
            facts=facts,
            footer=(
                "Figures are estimates from a simulation of the service under the assumptions "
                "listed in this brief; intervals are 95%. Prepared with simkit."
            ),
        )

    def _credit(self, service: str) -> float | None:
        for row in self.sim.get("availability", []):
            if row["service"] == service:
                value = row.get("expected_credit")
                return None if value is None else float(value)
        return None


_BANDS = ("<=5m", "5-30m", "30m-4h", ">4h")


def _charts() -> Any:
    from simkit.report import charts

    return charts


def _impact_chart(rows: Sequence[Row], replications: int) -> Callable[[], Any]:
    def build() -> Any:
        return _charts().impact_chart(rows, replications=replications)

    return build


def _count_sentence(total: int, counts: Mapping[str, int]) -> list[Inline]:
    """``'Of the 9 proposed targets, 6 can be promised, 2 are at risk and 1 cannot be met as
    proposed.'`` — zero counts left out."""
    phrases = {
        "achievable": "can be promised",
        "at risk": "are at risk" if counts["at risk"] != 1 else "is at risk",
        "not achievable": "cannot be met as proposed",
    }
    parts = [f"{counts[v]} {phrases[v]}" for v in phrases if counts[v]]
    if len(parts) == 1:
        everything = "all " if total > 1 else ""
        return [
            f"Of the {total} proposed service level target{'s' if total > 1 else ''}, ",
            Strong(f"{everything}{parts[0]}"),
            ".",
        ]
    out: list[Inline] = [f"Of the {total} proposed service level targets, "]
    for i, part in enumerate(parts):
        if i:
            out.append(" and " if i == len(parts) - 1 else ", ")
        out.append(Strong(part))
    out.append(".")
    return out


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


def _words(row: Mapping[str, Any]) -> str:
    words = str(row.get("words") or row.get("verdict") or "")
    prefix = f"{row.get('verdict')}: "
    return words[len(prefix) :] if words.startswith(prefix) else words


def _achievable(row: Mapping[str, Any]) -> str:
    value = row.get("achievable_within_h")
    if value is None:
        return "—"
    return f"{fmt_pct(row['goal'], 0)} within {fmt_hours(value)}"


def _verdict_badge(row: Mapping[str, Any] | None) -> Badge | str:
    if not row:
        return "—"
    return Badge(_VERDICT_STATUS[row["verdict"]], row["verdict"])


def _option_text(option: Mapping[str, Any]) -> str:
    if option["agents"] == 0:
        return "as planned"
    agents = option["agents"]
    line = option.get("line")
    now = option.get("line_agents")
    where = f" ({line}: {now - agents} → {now})" if line and now is not None else ""
    return f"+{agents} agent{'s' if agents > 1 else ''} on {option['team']}{where}"


def _cheapest_fix(options: Sequence[Mapping[str, Any]], index: int) -> str | None:
    """The smallest staffing option that makes target ``index`` achievable, in words."""
    for option in options:
        if option["target_index"] != index or option["agents"] == 0:
            continue
        if option["verdict"] == "achievable":
            cost = option.get("added_cost_per_month")
            price = f", about {fmt_money(cost)} a month" if cost is not None else ""
            return f"{_option_text(option)} would make it achievable{price} (section 4)."
    return None


def _agreement_now(teams: Sequence[Mapping[str, Any]], rec: Mapping[str, Any]) -> str:
    for team in teams:
        if team["team"] == rec["team"]:
            text = team["agreement"].get(rec["metric"])
            return str(text) if text else "none"
    return "none"


def _change_headline(change: Mapping[str, Any]) -> str:
    rows = [r for r in change["rows"] if r["kind"] in ("sla", "availability")]
    better = sum(1 for r in rows if r["effect"] == "improves")
    worse = sum(1 for r in rows if r["effect"] == "worsens")
    flips = [r for r in rows if r.get("slr", {}).get("flips")]
    moved = [f"improves {better}" if better else "", f"worsens {worse}" if worse else ""]
    if better or worse:
        text = " and ".join(m for m in moved if m) + f" of {len(rows)} targets"
        text += " (differences whose 95% interval excludes zero)"
    else:
        text = f"no clear effect on any of the {len(rows)} targets"
    if flips:
        text += "; it changes the verdict of " + ", ".join(
            f"{r['label']} ({r['slr']['baseline']} → {r['slr']['change']})" for r in flips
        )
    return text + " (section 6)."


def _digits(row: Mapping[str, Any]) -> int:
    return 3 if row.get("kind") == "availability" else 1


def _delta_text(delta: Mapping[str, Any] | None, digits: int) -> str:
    if not delta or delta.get("mean") is None:
        return "—"

    def pp(value: float) -> str:
        return f"{value * 100:+.{digits}f}".replace("-", "−")

    if delta.get("lo") is None or delta.get("hi") is None:
        return pp(delta["mean"])
    return f"{pp(delta['mean'])} [{pp(delta['lo'])} to {pp(delta['hi'])}]"


def _number(value: float | None, digits: int = 2) -> str:
    if value is None or not math.isfinite(value):
        return "—"
    return f"{value:,.{digits}f}"


def _profile_text(profile: str) -> str:
    if profile == "flat":
        return "evenly over the week"
    if profile == "custom":
        return "by a weekly profile"
    return f"in {profile} hours"


def _slug(text: str) -> str:
    return "".join(ch if ch.isalnum() else "-" for ch in text.lower()).strip("-") or "change"


def render_brief(document: Mapping[str, Any], *, format: str = "html", charts: bool = True) -> str:
    """The brief as text.

    Parameters
    ----------
    document
        From :func:`brief_document`.
    format
        ``"html"`` (one self-contained page) or ``"md"`` (Markdown; charts left out with a note
        — :func:`write_brief` writes them beside the file).
    charts
        Draw the charts (needs Altair and vl-convert-python; without them each chart is
        replaced by a note).
    """
    built = _Brief(document, charts).build()
    if format == "html":
        return render_html(built)
    if format == "md":
        return render_markdown(built)[0]
    raise ValueError(f"format must be 'html' or 'md', got {format!r}")


def write_brief(
    document: Mapping[str, Any], out: str | Path, *, format: str | None = None, charts: bool = True
) -> list[Path]:
    """Write the brief to ``out``; Markdown gets its charts as SVG files beside it.

    Parameters
    ----------
    document
        From :func:`brief_document`.
    out
        The file to write.
    format
        ``"html"`` or ``"md"``; default from the file's suffix (``.md`` → Markdown, else HTML).
    charts
        Draw the charts.

    Returns
    -------
    list of Path
        Every file written, the document first.
    """
    return write_document(_Brief(document, charts).build(), Path(out), format)


# -- the demo ------------------------------------------------------------------------------------

DEMO_BRIEF_SCENARIO = "new_service_slr.yaml"
"""The example scenario whose brief the demo writes: a new service's proposed targets."""
DEMO_BRIEF_CHANGES = ("third_analyst", "relaxed_p2")


def write_demo_reports(out_dir: str | Path, *, replications: int | None = None) -> list[Path]:
    """Write the negotiation brief of the example new service and the service review pack of the
    bundled sample history into ``out_dir`` (``brief.html``, ``review.html``).

    Parameters
    ----------
    out_dir
        The folder to write into (created if needed).
    replications
        Replications of every simulation (default: each scenario's own).

    Returns
    -------
    list of Path
        The files written.
    """
    from simkit.calibrate import load_history
    from simkit.calibrate.review import review
    from simkit.report.review_pack import write_review_pack
    from simkit.resources import calibration_dir, examples_dir
    from simkit.scenario import load_scenario

    folder = Path(out_dir)
    folder.mkdir(parents=True, exist_ok=True)
    scenario = load_scenario(examples_dir() / DEMO_BRIEF_SCENARIO)
    brief = brief_document(scenario, changes=DEMO_BRIEF_CHANGES, replications=replications)
    written = write_brief(brief, folder / "brief.html")
    sample = calibration_dir() / "sample"
    sample_scenario = load_scenario(sample / "scenario.yaml")
    history = load_history(sample / "servicenow_incidents.csv.gz", "servicenow")
    document = review(history, sample_scenario)
    written += write_review_pack(
        document, folder / "review.html", scenario=sample_scenario, replications=replications
    )
    return written
