"""What can we promise? Achievable targets, SLR verdicts and the negotiation options table.

Definitions (DESIGN.md, "Achievable target"; docs/methods.md explains them for readers):

- For one SLA target with goal *g*, every (replication, full period) has a *period value*: the
  smallest target that period would have met by the contract's rule — the *g*-quantile of its
  measured times (``inverted_cdf``; a ticket breached while still open counts as +∞), or, for a
  period thinner than the target's ``small_sample.below``, the time that leaves exactly
  ``max_breaches`` tickets later than it.
- The *achievable target* at confidence *c* is the *c*-quantile (``inverted_cdf``) of the period
  values: the smallest target met in at least a share *c* of the periods. It is ``None`` when
  that quantile is infinite (too many tickets still open at the end of the run).
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
  every target that team limits.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from concurrent.futures import Executor
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from simkit.analysis.verdict import verdict, verdict_words
from simkit.errors import InputError
from simkit.measure import (
    MeasureSpec,
    SlaTarget,
    TargetFigures,
    period_meets,
    sla_outcomes,
    target_figures,
    ticket_pauses,
)
from simkit.measure.availability import availability_outcomes
from simkit.measure.clock import ItemPauses, instants
from simkit.runner import DEFAULT_MAX_VISITS, Progress, Results, simulate
from simkit.scenario import Scenario
from simkit.scenario.targets import availability_targets
from simkit.stats import mean_interval, wilson_interval
from simkit.timespec import parse_weekly_pattern, weekly_intervals

__all__ = [
    "ADDED_AGENTS",
    "RosterLine",
    "TargetAssessment",
    "achievable_targets",
    "assess_targets",
    "busiest_line",
    "limiting_teams",
    "period_values",
    "smallest_met",
]

ADDED_AGENTS = (1, 2)
"""The staffing options of the negotiation table, in agents added to the limiting team."""
WEEKS_PER_MONTH = 52 / 12
_COUNT_SLACK = 1e-9
_SETTLED = ("met", "breached")
_AVAILABILITY_TOLERANCE = 1e-12

Row = dict[str, Any]


def _settled(outcomes: pa.Table) -> np.ndarray:
    """Met or breached (measured), as opposed to still open."""
    mask = pc.fill_null(pc.is_in(outcomes["status"], value_set=pa.array(_SETTLED)), False)
    return np.asarray(mask.to_numpy(zero_copy_only=False), dtype=bool)


# -- quantiles as the contract's rule reads them -------------------------------------------------


def smallest_met(sorted_values: np.ndarray, share: float) -> float:
    """The smallest value ``s`` with at least ``share`` of ``sorted_values`` at or below it.

    This is ``numpy.quantile(values, share, method="inverted_cdf")`` computed on counts, so that
    it agrees with :func:`simkit.measure.period_meets` when ``share × n`` is a whole number
    (floating rounding can otherwise pick the next order statistic).

    Parameters
    ----------
    sorted_values
        Ascending values (``+inf`` allowed), at least one.
    share
        Between 0 and 1; ``0`` gives ``0.0`` (any value meets a goal of 0).
    """
    n = sorted_values.size
    needed = math.ceil(n * share - _COUNT_SLACK)
    if needed <= 0:
        return 0.0
    return float(sorted_values[min(needed, n) - 1])


def period_values(outcomes: pa.Table, figures: TargetFigures, target: SlaTarget) -> np.ndarray:
    """The smallest target each (replication, full period) would have met.

    Parameters
    ----------
    outcomes
        The target's outcome table (:func:`simkit.measure.sla_outcomes`).
    figures
        The same outcomes counted by :func:`simkit.measure.target_figures`.
    target
        The target: its goal and small-sample rule decide the rank.

    Returns
    -------
    numpy.ndarray
        Shape ``(replications, full periods)``; ``nan`` where the period measured no ticket and
        has no small-sample rule (its compliance is undefined), ``0.0`` where any target meets
        it (a thin period allowed at least as many breaches as it had tickets), ``inf`` where the
        deciding ticket was breached while still open.
    """
    full = np.array([p.full for p in figures.periods], dtype=bool)
    counts = figures.measured[:, full]
    replications, n_full = counts.shape
    values = np.full((replications, n_full), np.nan)
    if n_full == 0:
        return values
    column = np.full(len(figures.periods), -1, dtype=np.int64)
    column[full] = np.arange(n_full)
    labels = pa.array([p.label for p in figures.periods], pa.string())
    period = np.asarray(
        pc.fill_null(pc.index_in(outcomes["period"], value_set=labels), -1).to_numpy(
            zero_copy_only=False
        ),
        np.int64,
    )
    measured = _settled(outcomes) & (period >= 0)
    measured[measured] = column[period[measured]] >= 0
    replication = np.asarray(outcomes["replication"].to_numpy(zero_copy_only=False), np.int64)
    key = replication[measured] * n_full + column[period[measured]]
    times = np.asarray(outcomes["time_h"].to_numpy(zero_copy_only=False), np.float64)[measured]
    order = np.lexsort((times, key))
    times = times[order]
    n = counts.ravel()
    offsets = np.concatenate([[0], np.cumsum(n)[:-1]])
    needed = np.ceil(n * target.goal - _COUNT_SLACK).astype(np.int64)
    rule = target.small_sample
    if rule is not None:
        thin = n < rule.below
        needed = np.where(thin, n - rule.max_breaches, needed)
    needed = np.minimum(needed, n)
    flat = np.full(n.size, np.nan)
    anything = needed <= 0
    flat[anything] = 0.0
    ranked = ~anything & (n > 0)
    flat[ranked] = times[offsets[ranked] + needed[ranked] - 1]
    if rule is None:
        flat[n == 0] = np.nan
    return flat.reshape(replications, n_full)


# -- one target under one run --------------------------------------------------------------------


@dataclass(frozen=True)
class TargetAssessment:
    """One SLA target measured in one run: what the negotiation needs of it."""

    target: SlaTarget
    achievable_within_h: float | None
    """``None`` when no full period was measured or the quantile is infinite."""
    achievable_goal: float | None
    """Mean compliance at the proposed target."""
    p_period_met: dict[str, float | None]
    note: str | None
    measured_keys: np.ndarray
    """``replication × stride + ticket_id`` of the measured tickets (for the limiting team)."""


def _alive(results: Results) -> np.ndarray:
    failed = {f.replication for f in results.failures}
    return np.array([k not in failed for k in range(results.replications)], dtype=bool)


def _full_spec(results: Results) -> MeasureSpec:
    """The run's measured span over every replication id (failed ones are dropped later)."""
    spec: MeasureSpec = results.measure_spec()
    return dataclasses.replace(spec, replications=results.replications)


def _stride(results: Results) -> int:
    if results.tickets.num_rows == 0:
        return 1
    return int(pc.max(results.tickets["ticket_id"]).as_py()) + 1


def _assess(
    target: SlaTarget,
    results: Results,
    tickets: pa.Table,
    attached: ItemPauses,
    spec: MeasureSpec,
    confidence: float,
    alive: np.ndarray,
) -> TargetAssessment:
    outcomes = sla_outcomes(tickets, attached, target, spec)
    figures = target_figures(outcomes, spec)
    full = np.array([p.full for p in figures.periods], dtype=bool)
    meets, defined = period_meets(
        figures.measured[alive][:, full],
        figures.met[alive][:, full],
        target.goal,
        target.small_sample,
    )
    p = wilson_interval(int(meets.sum()), int(defined.sum())).as_dict()
    measured, met = figures.measured[alive].sum(axis=1), figures.met[alive].sum(axis=1)
    counted = measured > 0
    goal = mean_interval(met[counted] / measured[counted], bounds=(0.0, 1.0)).mean
    values = period_values(outcomes, figures, target)[alive].ravel()
    values = np.sort(values[~np.isnan(values)])
    note = None
    achievable: float | None = None
    if values.size == 0:
        note = "no full period was measured: lengthen the horizon"
    else:
        achievable = smallest_met(values, confidence)
        if not math.isfinite(achievable):
            achievable = None
            note = (
                "too many tickets were still open at the end of the run to bound the target: "
                "lengthen the drain, or the target is far out of reach"
            )
    done = _settled(outcomes)
    ids = np.asarray(outcomes["ticket_id"].to_numpy(zero_copy_only=False), np.int64)[done]
    reps = np.asarray(outcomes["replication"].to_numpy(zero_copy_only=False), np.int64)[done]
    return TargetAssessment(
        target=target,
        achievable_within_h=achievable,
        achievable_goal=goal,
        p_period_met=p,
        note=note,
        measured_keys=reps * _stride(results) + ids,
    )


def _unmeasured(target: SlaTarget, note: str) -> TargetAssessment:
    return TargetAssessment(
        target, None, None, {"mean": None, "lo": None, "hi": None}, note, np.zeros(0, np.int64)
    )


def assess_targets(
    results: Results, confidence: float, targets: Sequence[SlaTarget] | None = None
) -> list[TargetAssessment]:
    """Achievable target, compliance and P(period meets goal) of SLA targets in one run.

    Parameters
    ----------
    results
        A finished run.
    confidence
        Share of periods the achievable target must be met in.
    targets
        The targets to assess (default: every SLA target of the run's scenario).
    """
    _check_confidence(confidence)
    spec = _full_spec(results)
    chosen = spec.sla if targets is None else tuple(targets)
    if results.succeeded == 0:
        return [_unmeasured(t, "every replication failed") for t in chosen]
    tickets = results.service_tickets()
    attached = ticket_pauses(tickets, results.pauses, spec)
    alive = _alive(results)
    return [_assess(t, results, tickets, attached, spec, confidence, alive) for t in chosen]


# -- which team limits a target -------------------------------------------------------------------


def limiting_teams(results: Results, assessments: Sequence[TargetAssessment]) -> list[str | None]:
    """For each assessed target, the team whose queue held its measured tickets longest.

    Waiting is wall-clock time from assignment to pickup (to abandonment, or to the end of the
    run, for a visit never picked up), summed over the visits of the target's measured tickets
    to teams (suppliers never queue); a response target counts only each ticket's first visit.
    Without any waiting the team with the most such visits is chosen. ``None`` when the target
    measured no ticket.
    """
    visits = results.visits
    if visits.num_rows == 0:
        return [None for _ in assessments]
    is_team = np.asarray(
        pc.fill_null(pc.equal(visits["kind"], "team"), False).to_numpy(zero_copy_only=False),
        dtype=bool,
    )
    team_codes = pc.dictionary_encode(visits["team"]).combine_chunks()
    names = team_codes.dictionary.to_pylist()
    team = np.asarray(team_codes.indices.to_numpy(zero_copy_only=False), np.int64)
    key = np.asarray(visits["replication"].to_numpy(zero_copy_only=False), np.int64) * _stride(
        results
    ) + np.asarray(visits["ticket_id"].to_numpy(zero_copy_only=False), np.int64)
    first = np.asarray(visits["seq"].to_numpy(zero_copy_only=False), np.int64) == 0
    assigned = instants(visits["assigned_at"], "visits.assigned_at")
    picked = instants(visits["started_at"], "visits.started_at")
    ended = instants(visits["finished_at"], "visits.finished_at")
    picked = np.where(np.isnat(picked), ended, picked)
    picked = np.where(np.isnat(picked), results.measure_spec().observed_until, picked)
    wait_h = np.maximum((picked - assigned) / np.timedelta64(3_600_000_000, "us"), 0.0)
    wait_h = np.nan_to_num(wait_h, nan=0.0)
    out: list[str | None] = []
    for assessment in assessments:
        mine = is_team & np.isin(key, assessment.measured_keys)
        if assessment.target.metric == "respond":
            mine &= first
        if not mine.any():
            out.append(None)
            continue
        waiting = np.bincount(team[mine], weights=wait_h[mine], minlength=len(names))
        if waiting.max() <= 0.0:
            waiting = np.bincount(team[mine], minlength=len(names)).astype(np.float64)
        out.append(str(names[int(np.argmax(waiting))]))
    return out


# -- staffing options -----------------------------------------------------------------------------


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
    patch = {"teams": {team: {"roster": {line.line: line.agents + added}}}}
    return scenario.with_patch(patch, name=f"+{added} {team} ({line.line})")


# -- the document ----------------------------------------------------------------------------------


def _check_confidence(confidence: float) -> None:
    if not 0.0 < confidence < 1.0:
        raise InputError.single(
            f"confidence must be between 0 and 1, got {confidence!r}",
            "write a share of periods such as 0.8 (80% of periods)",
            path="--confidence",
        )


def _identity(target: SlaTarget) -> Row:
    return {
        "level": target.level,
        "service": target.service,
        "customer": target.customer,
        "priority": target.priority,
        "metric": target.metric,
    }


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
        "achievable_goal": assessment.achievable_goal,
        "p_period_met": p,
        "verdict": v,
        "words": verdict_words(v, p["mean"], confidence, period),
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
        met = int((levels >= target.target - _AVAILABILITY_TOLERANCE).sum())
        p = wilson_interval(met, int(levels.size)).as_dict()
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
                    "p_period_met": p,
                    "verdict": v,
                    "words": verdict_words(v, p["mean"], confidence, period),
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
        verdict`` plus ``level, customer, calendar, words, note``. ``options`` rows: ``service,
        priority, metric, team, agents (0, 1, 2 added), line, achievable_within_h, p_period_met,
        verdict, added_cost_per_month`` plus ``level, customer, line_agents, words, note,
        target_index`` (the index of the target's ``sla`` row). Durations are business hours on
        the target's calendar; ``None`` where a figure does not exist. ``availability`` rows:
        ``service, target, calendar, confidence, achievable`` (the availability reached in a
        share ``confidence`` of the full periods), ``availability {mean, lo, hi}`` (over the
        span), ``p_period_met, verdict, words, note``.
    """
    _check_confidence(confidence)
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
