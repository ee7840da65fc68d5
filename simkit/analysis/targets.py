"""What can we promise? Achievable targets, SLR verdicts and the negotiation options table.

Definitions (DESIGN.md, "Achievable target"; docs/methods.md explains them for readers):

- For one SLA target with goal *g*, every (replication, full period) has a *period value*: the
  smallest target that period would have met by the contract's rule — the *g*-quantile of its
  measured times (``inverted_cdf``; a ticket breached while still open counts as +∞), or, for a
  period thinner than the target's ``small_sample.below``, the smaller of that and the time that
  leaves exactly ``max_breaches`` tickets later than it (the rule is a relief).
- The *achievable target* at confidence *c* is the *c*-quantile (``inverted_cdf``) of the period
  values: the smallest target met in at least a share *c* of the periods. It is ``None`` when
  that quantile is infinite (too many tickets still open at the end of the run). Its 95%
  interval (``achievable_interval``) is Woodruff's, on the clustered Wilson interval of the
  share of period values below it (a replication's periods are correlated).
- ``achievable_goal`` is the mean compliance at the proposed target; ``p_period_met`` and the
  verdict are those of the proposed target (:mod:`simkit.analysis.verdict`).
- The team that *limits* a target is the team (never a supplier) whose queue holds the target's
  measured tickets longest in the baseline: the largest sum of waiting time (assignment to pickup,
  wall-clock) over the visits of those tickets — only their first visit for a response target.
- For availability, the achievable level at confidence *c* is the largest availability reached
  in at least a share *c* of the full periods (the (1 − *c*)-quantile of the period
  availabilities), with the verdict on the proposed target as for SLAs.
- A staffing *option* adds one or two agents to that team's roster line with the most
  agent-hours per week; it costs ``line hours per week × agents × cost_per_agent_hour × 52 / 12``
  a month. Every option runs once, with the baseline's seed (common random numbers), and serves
  every target that team limits. The pairing holds while tickets flow one way; where a team
  sends tickets back to an earlier one, an extra agent reorders the earlier team's handling
  and the draws then land on other tickets, so the option's run is close to an independent
  sample: compare options through their intervals.

Each target in one run is measured by :mod:`~simkit.analysis.target_assessment`; this module
turns the assessments into the document and runs the staffing options.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Executor
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow.compute as pc

from simkit.analysis.target_assessment import (
    NO_TICKETS_NOTE,
    TargetAssessment,
    _alive,
    _full_spec,
    assess_targets,
    limiting_teams,
    period_values,
    smallest_met,
)
from simkit.analysis.verdict import check_confidence, verdict, verdict_words
from simkit.measure import SlaTarget
from simkit.measure.availability import availability_outcomes
from simkit.runner import DEFAULT_MAX_VISITS, Progress, Results, simulate
from simkit.scenario import Scenario
from simkit.scenario.targets import availability_targets
from simkit.stats import clustered_wilson_interval, mean_interval
from simkit.timespec import parse_weekly_pattern, weekly_intervals

__all__ = [
    "ADDED_AGENTS",
    "RosterLine",
    "TargetAssessment",
    "achievable_targets",
    "achievable_text",
    "assess_targets",
    "busiest_line",
    "limiting_teams",
    "period_values",
    "smallest_met",
]

ADDED_AGENTS = (1, 2)
"""The staffing options of the negotiation table, in agents added to the limiting team."""
WEEKS_PER_MONTH = 52 / 12
_AVAILABILITY_TOLERANCE = 1e-12
Row = dict[str, Any]


@dataclass(frozen=True)
class RosterLine:
    """A roster line of a team: ``"mon-fri 08:00-18:00": 6``."""

    line: str
    agents: int
    hours_per_week: float

    @property
    def agent_hours_per_week(self) -> float:
        return self.agents * self.hours_per_week


def busiest_line(scenario: Scenario, team: str) -> RosterLine | None:
    """The team's roster line with the most agent-hours per week (the first of equals);
    ``None`` for a supplier or a team without roster lines."""
    spec = scenario.teams.get(team)
    if spec is None or spec.kind != "team" or not spec.roster:
        return None
    lines = []
    for line, agents in spec.roster.items():
        days, clock = parse_weekly_pattern(line)
        minutes = sum(b - a for a, b in weekly_intervals(days, clock))
        lines.append(RosterLine(line, int(agents), minutes / 60))
    return max(lines, key=lambda r: r.agent_hours_per_week)


def _added_cost(scenario: Scenario, team: str, line: RosterLine, added: int) -> float | None:
    cost = scenario.teams[team].cost_per_agent_hour
    if cost is None:
        return None
    return float(line.hours_per_week * added * cost * WEEKS_PER_MONTH)


def _with_agents(scenario: Scenario, team: str, line: RosterLine, added: int) -> Scenario:
    """``scenario`` with ``added`` agents on ``line`` — inside the window of a windowed change
    too, added to the agents that change puts on the line (when it keeps the line)."""

    def more(regime: Scenario) -> dict[str, Any]:
        roster = (regime.teams[team].roster or {}) if team in regime.teams else {}
        if line.line not in roster:
            return {}
        return {"teams": {team: {"roster": {line.line: int(roster[line.line]) + added}}}}

    return scenario.with_patch_everywhere(
        more(scenario),
        [more(overlay.scenario) for overlay in scenario.overlays],
        name=f"+{added} {team} ({line.line})",
    )


def _identity(target: SlaTarget) -> Row:
    return {
        "level": target.level,
        "service": target.service,
        "customer": target.customer,
        "priority": target.priority,
        "metric": target.metric,
    }


def achievable_text(row: Mapping[str, Any], hours: Callable[[float | None], str]) -> str:
    """A row's achievable target with its 95% interval where there is one, each written by
    ``hours``: ``15.1h [14.8h–37.6h]`` (``…`` for an upper end beyond the runs)."""
    text = hours(row["achievable_within_h"])
    interval = row.get("achievable_interval") or {}
    if row["achievable_within_h"] is not None and interval.get("lo") is not None:
        hi = interval.get("hi")
        text += f" [{hours(interval['lo'])}–{hours(hi) if hi is not None else '…'}]"
    return text


def _interval(assessment: TargetAssessment) -> dict[str, float | None]:
    lo, hi = assessment.achievable_interval
    return {"lo": lo, "hi": hi}


def _sla_row(assessment: TargetAssessment, confidence: float, period: str) -> Row:
    target = assessment.target
    p = assessment.p_period_met
    v = verdict(p["lo"], p["hi"], confidence)
    return {
        **_identity(target),
        "calendar": target.calendar_name,
        "goal": float(target.goal),
        "confidence": confidence,
        "proposed_within_h": float(target.within_h),
        "achievable_within_h": assessment.achievable_within_h,
        "achievable_interval": _interval(assessment),
        "achievable_goal": assessment.achievable_goal,
        "p_period_met": p,
        "verdict": v,
        "words": verdict_words(
            v, p["mean"], confidence, period, periods_measured=assessment.note == NO_TICKETS_NOTE
        ),
        "note": assessment.note,
    }


def _availability_rows(results: Results, confidence: float, period: str) -> list[Row]:
    """Per service with an availability target: the availability met in a share ``confidence``
    of the full periods (the largest level that many periods reach), and the verdict."""
    targets = availability_targets(results.scenario)
    if not targets or results.succeeded == 0:
        return []
    spec = _full_spec(results)
    alive = _alive(results)
    rows = []
    for target in targets:
        outcomes = availability_outcomes(results.outages, target, spec)
        replication = np.asarray(outcomes["replication"].to_numpy(zero_copy_only=False), np.int64)
        full = np.asarray(outcomes["full"].to_numpy(zero_copy_only=False), dtype=bool)
        agreed = np.asarray(outcomes["agreed_h"].to_numpy(zero_copy_only=False), np.float64)
        down = np.asarray(outcomes["down_h"].to_numpy(zero_copy_only=False), np.float64)
        level = np.asarray(
            pc.fill_null(outcomes["availability"], np.nan).to_numpy(zero_copy_only=False),
            np.float64,
        )
        counted = alive[replication] & full & ~np.isnan(level)
        levels = level[counted]
        hits = levels >= target.target - _AVAILABILITY_TOLERANCE
        clusters = replication[counted]
        p = clustered_wilson_interval(
            np.bincount(clusters, weights=hits, minlength=results.replications),
            np.bincount(clusters, minlength=results.replications),
        ).as_dict()
        v = verdict(p["lo"], p["hi"], confidence)
        agreed_total = np.bincount(replication, weights=agreed, minlength=results.replications)
        down_total = np.bincount(replication, weights=down, minlength=results.replications)
        kept = alive & (agreed_total > 0)
        span = (agreed_total[kept] - down_total[kept]) / agreed_total[kept]
        achievable = -smallest_met(np.sort(-levels), confidence) if levels.size else None
        rows.append(
            {
                "service": target.service,
                "target": float(target.target),
                "calendar": target.calendar_name,
                "confidence": confidence,
                "achievable": achievable,
                "availability": mean_interval(span, bounds=(0.0, 1.0)).as_dict(),
                "p_period_met": p,
                "verdict": v,
                "words": verdict_words(v, p["mean"], confidence, period),
                "note": None if levels.size else "no full period was measured",
            }
        )
    return rows


class _Tally:
    """Progress over the baseline and every staffing option, as one count."""

    def __init__(self, progress: Progress | None, per_run: int) -> None:
        self.progress, self.per_run, self.runs, self.done = progress, per_run, 1, 0

    def expect(self, runs: int) -> None:
        self.runs = runs

    def run(self) -> Progress | None:
        if self.progress is None:
            return None
        offset, report = self.done * self.per_run, self.progress
        self.done += 1

        def step(done: int, total: int) -> None:
            report(offset + done, self.runs * self.per_run)

        return step


def _options(
    results: Results,
    assessments: Sequence[TargetAssessment],
    confidence: float,
    executor: Executor | None,
    tally: _Tally,
    max_visits: int,
) -> list[Row]:
    scenario = results.scenario
    limits = limiting_teams(results, assessments)
    lines = {t: busiest_line(scenario, t) for t in dict.fromkeys(x for x in limits if x)}
    staffable = [t for t, line in lines.items() if line is not None]
    tally.expect(1 + len(ADDED_AGENTS) * len(staffable))
    served = {t: [i for i, x in enumerate(limits) if x == t] for t in staffable}
    variants: dict[tuple[str, int, int], TargetAssessment] = {}
    for team in staffable:
        busiest = lines[team]
        assert busiest is not None
        targets = [assessments[i].target for i in served[team]]
        for added in ADDED_AGENTS:
            run = simulate(
                _with_agents(scenario, team, busiest, added),
                replications=results.replications,
                seed=results.seed,
                executor=executor,
                progress=tally.run(),
                max_visits=max_visits,
            )
            for i, option in zip(
                served[team], assess_targets(run, confidence, targets), strict=True
            ):
                variants[(team, added, i)] = option
    period = scenario.period
    rows: list[Row] = []
    for index, (assessment, limiting) in enumerate(zip(assessments, limits, strict=True)):
        line = lines.get(limiting) if limiting else None
        options = [(0, assessment)]
        if limiting is not None and line is not None:
            options += [(k, variants[(limiting, k, index)]) for k in ADDED_AGENTS]
        for added, option in options:
            p = option.p_period_met
            v = verdict(p["lo"], p["hi"], confidence)
            note = option.note
            if added == 0 and limiting is not None and line is None:
                note = f"{limiting} has no roster line to add agents to"
            rows.append(
                {
                    **_identity(option.target),
                    "team": limiting,
                    "agents": added,
                    "line": line.line if line else None,
                    "line_agents": (line.agents + added) if line else None,
                    "achievable_within_h": option.achievable_within_h,
                    "achievable_interval": _interval(option),
                    "p_period_met": p,
                    "verdict": v,
                    "words": verdict_words(
                        v,
                        p["mean"],
                        confidence,
                        period,
                        periods_measured=option.note == NO_TICKETS_NOTE,
                    ),
                    "added_cost_per_month": (
                        _added_cost(scenario, limiting, line, added) if limiting and line else None
                    ),
                    "note": note,
                    "target_index": index,
                }
            )
    return rows


def achievable_targets(
    scenario: Scenario,
    *,
    confidence: float = 0.8,
    replications: int | None = None,
    seed: int | None = None,
    executor: Executor | None = None,
    progress: Progress | None = None,
    results: Results | None = None,
    options: bool = True,
    max_visits: int = DEFAULT_MAX_VISITS,
) -> dict[str, Any]:
    """Which targets can be promised: achievable targets, verdicts and staffing options.

    Parameters
    ----------
    scenario
        The scenario with the proposed targets (changes already applied).
    confidence
        The share of reporting periods a promise must hold in (0–1, e.g. 0.8).
    replications, seed, executor, progress
        As for :func:`simkit.runner.simulate`; ignored for the baseline when ``results`` is
        given (options then run with the replications and seed of ``results``).
    results
        A finished run of ``scenario`` to reuse instead of simulating it again.
    options
        Whether to run the staffing options (+1 and +2 agents on each limiting team).
    max_visits
        The size guard of :func:`simkit.runner.simulate`.

    Returns
    -------
    dict
        ``{"scenario", "replications", "seed", "confidence", "period", "sla", "availability",
        "options", "failures"}``. ``sla`` rows: ``service, priority, metric, goal, confidence,
        proposed_within_h, achievable_within_h, achievable_goal, p_period_met {mean, lo, hi},
        verdict`` plus ``level, customer, calendar, words, note, achievable_interval {lo, hi}``.
        ``options`` rows: ``service, priority, metric, team, agents (0, 1, 2 added), line,
        achievable_within_h, achievable_interval {lo, hi}, p_period_met,
        verdict, added_cost_per_month`` plus ``level, customer, line_agents, words, note,
        target_index`` (the index of the target's ``sla`` row). Durations are business hours on
        the target's calendar; ``None`` where a figure does not exist. ``availability`` rows:
        ``service, target, calendar, confidence, achievable`` (the availability reached in a
        share ``confidence`` of the full periods), ``availability {mean, lo, hi}`` (over the
        span), ``p_period_met, verdict, words, note``.
    """
    check_confidence(confidence)
    n = results.replications if results is not None else (replications or scenario.replications)
    tally = _Tally(progress, n)
    if results is None:
        results = simulate(
            scenario,
            replications=replications,
            seed=seed,
            executor=executor,
            progress=tally.run(),
            max_visits=max_visits,
        )
    else:
        tally.done = 1
    assessments = assess_targets(results, confidence)
    period = results.scenario.period
    return {
        "scenario": results.scenario.name,
        "replications": results.succeeded,
        "seed": results.seed,
        "confidence": confidence,
        "period": period,
        "changes": list(results.scenario.applied_changes),
        "sla": [_sla_row(a, confidence, period) for a in assessments],
        "availability": _availability_rows(results, confidence, period),
        "options": (
            _options(results, assessments, confidence, executor, tally, max_visits)
            if options and assessments
            else []
        ),
        "failures": [{"replication": f.replication, "error": f.error} for f in results.failures],
    }
