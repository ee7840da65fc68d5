"""The back-test: simulate a scenario over the span of a history and compare, target by target,
what the model says with what happened.

The history may be a later period than the one the scenario was fitted on (out of sample). The
scenario is moved onto the history's span with :meth:`~simkit.scenario.Scenario.with_patch`:
``start`` is the first local day measured, ``horizon`` the measured span, and ``drain`` the time
from its end to the export time, so simulated tickets are observed exactly as long as the real
ones (a ticket still open at the export time is open, or breached, in both). Demand with growth is
carried forward to the new start. Both sides are measured by one path (:mod:`simkit.measure`).

Every row carries the simulated compliance with its interval over replications and the standard
error of a single period's compliance (the spread between replications): the history is one
realisation, so a difference within ``max(3 pp, t·SE)`` is what chance alone produces, with t the
Student-t 97.5% point on R − 1 degrees of freedom (R replications): a history that is one more
draw from the model misses it with probability at most 5%, however few the replications.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping, Sequence
from concurrent.futures import Executor
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pyarrow as pa
from scipy import stats

from simkit.calendar import Calendar
from simkit.calibrate.fit import HOURS_PER_YEAR, as_instant, history_span, local_midnight
from simkit.calibrate.quality import quality_summary
from simkit.errors import InputError
from simkit.measure import (
    QUANTILES,
    MeasureSpec,
    SlaTarget,
    ola_outcomes,
    period_of,
    sla_outcomes,
    target_figures,
    ticket_pauses,
)
from simkit.runner import DEFAULT_MAX_VISITS, Progress, simulate
from simkit.scenario import Scenario
from simkit.scenario.targets import measure_spec
from simkit.stats import mean_interval
from simkit.units import percent

if TYPE_CHECKING:
    from simkit.calibrate.history import History

__all__ = [
    "TOLERANCE",
    "Backtest",
    "backtest",
    "backtest_scenario",
    "describe_backtest",
    "match_tolerance",
    "t_factor",
]

TOLERANCE = 0.03
"""A row matches when |simulated − historical| ≤ max(TOLERANCE, t·SE): see
:func:`match_tolerance`."""
PROBE_QUANTILE = 0.8
MIN_PROBE_TICKETS = 20
_LEVELS = np.array([0.5, 0.8, 0.9, 0.95])


@dataclass(frozen=True, eq=False)
class Backtest:
    """Simulated against historical figures over one span.

    Attributes
    ----------
    document
        The JSON document of ``simkit backtest --json``: ``rows`` (SLA targets), ``ola``,
        ``volume``, ``probes`` and ``summary``.
    scenario
        The scenario as simulated (moved onto the history's span).
    """

    document: dict[str, Any]
    scenario: Scenario

    @property
    def rows(self) -> list[dict[str, Any]]:
        rows: list[dict[str, Any]] = self.document["rows"]
        return rows

    def describe(self) -> str:
        """The comparison in plain language, for people."""
        return describe_backtest(self.document)


def _quantiles(times: np.ndarray) -> dict[str, float | None]:
    if times.size == 0:
        return dict.fromkeys(QUANTILES)
    values = np.quantile(times, _LEVELS, method="inverted_cdf")
    return {
        k: (float(v) if math.isfinite(v) else None) for k, v in zip(QUANTILES, values, strict=True)
    }


def t_factor(replications: int) -> float | None:
    """The multiple of the standard error a row may differ by: the Student-t 97.5% point on
    ``replications`` − 1 degrees of freedom (2.78 at 5, 2.26 at 10, 2.09 at 20); ``None``
    below two replications (no spread to measure)."""
    if replications < 2:
        return None
    return float(stats.t.ppf(0.975, replications - 1))


def match_tolerance(se: float | None, replications: int) -> float | None:
    """``max(TOLERANCE, t·se)`` with t from :func:`t_factor`.

    ``se`` is the replications' standard deviation s × √(1 + 1/R): the history is one more draw
    around the model's mean, so (simulated mean − history) / se follows Student's t on R − 1
    degrees of freedom, and a true model misses the tolerance with probability at most 5% (less
    where the 3-point floor applies)."""
    t = t_factor(replications)
    if se is None or t is None:
        return None
    return max(TOLERANCE, t * se)


def _compare(
    hist: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray],
    sim: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray],
) -> dict[str, Any]:
    """One row's figures from (measured, met, open, times) per side; measured/met/open are per
    replication (history: one replication)."""
    h_measured, h_met, h_open, h_times = hist
    s_measured, s_met, s_open, s_times = sim
    replications = s_measured.size
    h_n = int(h_measured.sum())
    compliance_hist = float(h_met.sum() / h_n) if h_n else None
    counted = s_measured > 0
    shares = s_met[counted] / s_measured[counted]
    interval = mean_interval(shares, bounds=(0.0, 1.0)).as_dict()
    spread = float(np.std(shares, ddof=1)) if shares.size >= 2 else None
    se = spread * math.sqrt(1 + 1 / shares.size) if spread is not None else None
    difference = (
        interval["mean"] - compliance_hist
        if interval["mean"] is not None and compliance_hist is not None
        else None
    )
    tolerance = match_tolerance(se, int(shares.size))
    return {
        "tickets_hist": h_n,
        "tickets_sim": float(s_measured.sum() / replications) if replications else None,
        "open_hist": int(h_open.sum()),
        "open_sim": float(s_open.sum() / replications) if replications else None,
        "compliance_hist": compliance_hist,
        "compliance_sim": interval,
        "difference": difference,
        "se": se,
        "tolerance": tolerance,
        "within_tolerance": (
            bool(abs(difference) <= tolerance)
            if difference is not None and tolerance is not None
            else None
        ),
        "quantiles_h_hist": _quantiles(h_times),
        "quantiles_h_sim": _quantiles(s_times),
    }


def _counts(
    outcomes: pa.Table, spec: MeasureSpec
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    figures = target_figures(outcomes, spec)
    return (
        figures.measured.sum(axis=1),
        figures.met.sum(axis=1),
        figures.open_per_replication,
        figures.times,
    )


def _moved(scenario: Scenario, start: dt.date, horizon_h: float, drain_h: float) -> Scenario:
    """The scenario on a new span, demand with growth carried forward to the new start. A
    backlog (the queue at the scenario's own start, another instant) is left out, and the
    warm-up goes back to the default (two weeks), whatever the scenario set beside it: the run
    fills its queues as a scenario without a backlog does."""
    years = (
        (
            local_midnight(start, scenario.timezone)
            - local_midnight(scenario.start, scenario.timezone)
        )
        / np.timedelta64(1, "h")
        / HOURS_PER_YEAR
    )
    services: dict[str, Any] = {}
    for name, service in scenario.services.items():
        if service.demand.growth:
            per_week = service.demand.per_week * (1 + service.demand.growth) ** float(years)
            services[name] = {"demand": {"per_week": round(per_week, 6)}}
    patch: dict[str, Any] = {
        "start": start.isoformat(),
        "horizon": f"{horizon_h:.6f}h",
        "drain": f"{max(drain_h, 0.0):.6f}h",
        "changes": None,
    }
    if scenario.backlog:
        patch.update({"backlog": None, "warmup": None})
    if services:
        patch["services"] = services
    return scenario.with_patch(patch, name="back-test span")


def _span(
    history: History, scenario: Scenario, start: dt.date | None, until: dt.date | None
) -> tuple[np.datetime64, np.datetime64, np.datetime64]:
    zone = scenario.timezone
    first, last = history_span(history, zone)
    observed = as_instant(history.observed_until)
    begin = local_midnight(start, zone) if start is not None else first
    end = local_midnight(until, zone) if until is not None else last
    end = min(end, observed)
    if not begin < end:
        raise InputError.single(
            f"the back-test span is empty: from {begin} to {end} (the history was observed until "
            f"{observed})",
            "choose --from before --until, both inside the history",
            path="--from",
        )
    return begin, end, observed


def _history_spec(
    scenario: Scenario, begin: np.datetime64, end: np.datetime64, observed: np.datetime64
) -> MeasureSpec:
    return measure_spec(
        scenario, start=begin, horizon_end=end, observed_until=observed, replications=1
    )


def _probe_targets(history: History, scenario: Scenario, spec: MeasureSpec) -> list[SlaTarget]:
    """Per service and priority: resolve (and respond) within the history's own 80th percentile
    of wall-clock times — comparisons that need no targets in the scenario."""
    calendar = Calendar.from_spec("always", scenario.timezone, name="24x7")
    tickets = history.tickets
    services = tickets["service"].to_numpy(zero_copy_only=False)
    priorities = tickets["priority"].to_numpy(zero_copy_only=False)
    pairs = sorted(
        {(s, p) for s, p in zip(services.tolist(), priorities.tolist(), strict=True) if s and p}
    )
    attached = ticket_pauses(tickets, history.pauses, spec)
    probes: list[SlaTarget] = []
    for service, priority in pairs:
        if (
            service not in scenario.services
            or priority not in scenario.services[service].priorities
        ):
            continue
        for metric in ("respond", "resolve"):
            trial = SlaTarget(
                "service", service, None, priority, metric, 1.0, "24x7", calendar, 0.5
            )
            outcomes = sla_outcomes(tickets, attached, trial, spec)
            times = np.asarray(outcomes["time_h"].to_numpy(zero_copy_only=False), dtype=float)
            status = np.asarray(outcomes["status"].to_numpy(zero_copy_only=False), dtype=object)
            times = times[status != "open"]
            if times.size < MIN_PROBE_TICKETS:
                continue
            within = float(np.quantile(times, PROBE_QUANTILE, method="inverted_cdf"))
            if not 0 < within < math.inf:
                continue
            probes.append(
                SlaTarget(
                    "service",
                    service,
                    None,
                    priority,
                    metric,
                    within,
                    "24x7",
                    calendar,
                    PROBE_QUANTILE,
                )
            )
    return probes


def backtest_scenario(
    history: History,
    scenario: Scenario,
    *,
    start: dt.date | None = None,
    until: dt.date | None = None,
) -> Scenario:
    """``scenario`` as :func:`backtest` simulates it: moved onto the span of ``history`` (or
    ``start`` … ``until``), with the history's drain — for sizing a back-test before it runs."""
    return _moved_over(scenario, *_span(history, scenario, start, until))


def _moved_over(
    scenario: Scenario, begin: np.datetime64, end: np.datetime64, observed: np.datetime64
) -> Scenario:
    begin_date = dt.datetime.fromisoformat(str(begin.astype("datetime64[s]"))).replace(
        tzinfo=dt.UTC
    )
    first_day = begin_date.astimezone(_zone(scenario.timezone)).date()
    return _moved(scenario, first_day, _hours(end - begin), _hours(observed - end))


def _hours(span: np.timedelta64) -> float:
    return float(span / np.timedelta64(1, "us")) / 3.6e9


def backtest(
    history: History,
    scenario: Scenario,
    *,
    start: dt.date | None = None,
    until: dt.date | None = None,
    replications: int | None = None,
    seed: int | None = None,
    executor: Executor | None = None,
    progress: Progress | None = None,
    max_visits: int = DEFAULT_MAX_VISITS,
) -> Backtest:
    """Simulate ``scenario`` over the span of ``history`` and compare every target.

    Parameters
    ----------
    history
        The history to compare with (from :func:`simkit.calibrate.load_history`).
    scenario
        The scenario (usually fitted by :func:`simkit.calibrate.fit.calibrate`, possibly on an
        earlier period); its targets are the rows. Windowed changes are not applied.
    start, until
        Local dates (scenario time zone) of the first measured day and the day after the last;
        default: the history's whole span.
    replications, seed, executor, progress, max_visits
        As for :func:`simkit.runner.simulate`.

    Returns
    -------
    Backtest
        ``document["rows"]`` holds, per SLA target: ``level, service, customer, priority,
        metric, within_h, calendar, goal, tickets_hist, tickets_sim, compliance_hist,
        compliance_sim {mean, lo, hi}, difference, se, tolerance, within_tolerance,
        quantiles_h_hist, quantiles_h_sim``.
    """
    begin, end, observed = _span(history, scenario, start, until)
    moved = _moved_over(scenario, begin, end, observed)
    horizon_h = _hours(end - begin)
    results = simulate(
        moved,
        replications=replications,
        seed=seed,
        executor=executor,
        progress=progress,
        max_visits=max_visits,
    )
    sim_spec = results.measure_spec()
    sim_spec = MeasureSpec(
        timezone=sim_spec.timezone,
        period=sim_spec.period,
        start=sim_spec.start,
        horizon_end=sim_spec.horizon_end,
        observed_until=sim_spec.observed_until,
        sla=sim_spec.sla,
        ola=sim_spec.ola,
        replications=results.replications,
    )
    hist_spec = _history_spec(moved, begin, end, observed)
    hist_pauses = ticket_pauses(history.tickets, history.pauses, hist_spec)
    sim_pauses = ticket_pauses(results.tickets, results.pauses, sim_spec)

    def sla_row(target: SlaTarget, level: str) -> dict[str, Any]:
        hist = _counts(sla_outcomes(history.tickets, hist_pauses, target, hist_spec), hist_spec)
        sim = _counts(sla_outcomes(results.tickets, sim_pauses, target, sim_spec), sim_spec)
        return {
            "level": level,
            "service": target.service,
            "customer": target.customer,
            "priority": target.priority,
            "metric": target.metric,
            "within_h": target.within_h,
            "calendar": target.calendar_name,
            "goal": target.goal,
            **_compare(hist, sim),
        }

    rows = [sla_row(t, t.level) for t in hist_spec.sla]
    ola_rows = []
    for target in hist_spec.ola:
        hist = _counts(ola_outcomes(history.visits, target, hist_spec, history.tickets), hist_spec)
        sim = _counts(ola_outcomes(results.visits, target, sim_spec, results.tickets), sim_spec)
        ola_rows.append(
            {
                "team": target.team,
                "kind": target.kind,
                "metric": target.metric,
                "within_h": target.within_h,
                "calendar": target.calendar_name,
                "goal": target.goal,
                **_compare(hist, sim),
            }
        )
    probes = [sla_row(t, "probe") for t in _probe_targets(history, moved, hist_spec)]
    volume = _volume(history, results.tickets, moved, begin, end, results.replications)
    matched = [r for r in rows if r["within_tolerance"] is not None]
    ola_matched = [r for r in ola_rows if r["within_tolerance"] is not None]
    errors = [abs(r["difference"]) for r in rows + probes if r["difference"] is not None]
    document: dict[str, Any] = {
        "scenario": scenario.name,
        "history": history.source,
        "profile": history.profile,
        "span": {
            "from": _iso(begin),
            "until": _iso(end),
            "observed_until": _iso(observed),
            "days": horizon_h / 24,
        },
        "replications": results.succeeded,
        "seed": results.seed,
        "rows": rows,
        "ola": ola_rows,
        "probes": probes,
        "volume": volume,
        "summary": {
            "targets": len(rows),
            "within_tolerance": sum(1 for r in matched if r["within_tolerance"]),
            "compared": len(matched),
            "ola_within_tolerance": sum(1 for r in ola_matched if r["within_tolerance"]),
            "ola_compared": len(ola_matched),
            "probes_within_tolerance": sum(1 for r in probes if r["within_tolerance"]),
            "probes": len(probes),
            "mean_abs_difference": float(np.mean(errors)) if errors else None,
            "max_abs_difference": float(np.max(errors)) if errors else None,
        },
        "failures": [{"replication": f.replication, "error": f.error} for f in results.failures],
        "quality": None if history.quality is None else history.quality.as_dict(),
    }
    return Backtest(document=document, scenario=moved)


def _zone(name: str) -> Any:
    import zoneinfo

    return zoneinfo.ZoneInfo(name)


def _iso(instant: np.datetime64) -> str:
    return str(np.datetime_as_string(instant.astype("datetime64[s]"), unit="s")) + "Z"


def _opened(table: pa.Table) -> np.ndarray:
    return np.asarray(table["opened_at"].to_numpy(zero_copy_only=False)).astype("datetime64[us]")


def _volume(
    history: History,
    simulated: pa.Table,
    scenario: Scenario,
    begin: np.datetime64,
    end: np.datetime64,
    replications: int,
) -> list[dict[str, Any]]:
    """Tickets per service in the span, and per ISO week, history against simulation."""
    weeks = float((end - begin) / np.timedelta64(1, "h")) / 168
    h_opened = _opened(history.tickets)
    s_opened = _opened(simulated)
    h_service = np.asarray(history.tickets["service"].to_numpy(zero_copy_only=False), dtype=object)
    s_service = np.asarray(simulated["service"].to_numpy(zero_copy_only=False), dtype=object)
    s_rep = np.asarray(simulated["replication"].to_numpy(zero_copy_only=False), dtype=np.int64)
    h_in = ~np.isnat(h_opened) & (h_opened >= begin) & (h_opened < end)
    s_in = (s_opened >= begin) & (s_opened < end)
    h_week = period_of(h_opened, scenario.timezone, "week")
    s_week = period_of(s_opened, scenario.timezone, "week")
    out = []
    for service in scenario.services:
        h_mine = h_in & (h_service == service)
        s_mine = s_in & (s_service == service)
        per_rep = np.bincount(s_rep[s_mine], minlength=replications).astype(float)
        interval = mean_interval(per_rep).as_dict()
        spread = float(np.std(per_rep, ddof=1)) if replications >= 2 else None
        hist_n = int(h_mine.sum())
        labels = sorted(set(h_week[h_mine].tolist()) | set(s_week[s_mine].tolist()))
        h_counts = (
            {
                k: int(v)
                for k, v in zip(
                    *np.unique(h_week[h_mine].astype(str), return_counts=True), strict=True
                )
            }
            if h_mine.any()
            else {}
        )
        s_counts = (
            {
                k: int(v)
                for k, v in zip(
                    *np.unique(s_week[s_mine].astype(str), return_counts=True), strict=True
                )
            }
            if s_mine.any()
            else {}
        )
        out.append(
            {
                "service": service,
                "tickets_hist": hist_n,
                "tickets_sim": interval,
                "per_week_hist": hist_n / weeks if weeks > 0 else None,
                "per_week_sim": (interval["mean"] / weeks)
                if interval["mean"] is not None and weeks > 0
                else None,
                "difference": (interval["mean"] - hist_n) / hist_n
                if hist_n and interval["mean"] is not None
                else None,
                "se": (spread * math.sqrt(1 + 1 / replications) / hist_n)
                if spread is not None and hist_n
                else None,
                "weekly": [
                    {
                        "week": label,
                        "hist": h_counts.get(label, 0),
                        "sim": s_counts.get(label, 0) / max(replications, 1),
                    }
                    for label in labels
                ],
            }
        )
    return out


# --------------------------------------------------------------------------- readable


def _p(value: float | None, digits: int = 1) -> str:
    return "—" if value is None else f"{percent(value, digits)}%"


def _h(value: float | None) -> str:
    return "—" if value is None else f"{value:.1f}h"


def describe_backtest(document: Mapping[str, Any]) -> str:
    """The back-test in plain language: one line per target, then volumes and probes."""
    span = document["span"]
    lines = [
        f"Back-test of {document['scenario']!r} against {document['history']} "
        f"({span['from']} … {span['until']}, {span['days']:.0f} days; "
        f"{document['replications']} replications)",
    ]

    def table(rows: Sequence[Mapping[str, Any]], title: str) -> None:
        if not rows:
            return
        lines.append(f"\n{title}")
        lines.append(
            f"  {'target':<34} {'tickets':>7} {'history':>8} {'simulated (95% CI)':>24} "
            f"{'diff':>7}  {'p90 hist/sim':>15}  match"
        )
        for r in rows:
            who = r.get("team") or " ".join(
                str(x)
                for x in (
                    r.get("service") or "all",
                    r.get("customer") or "",
                    r.get("priority", ""),
                )
                if x
            )
            label = f"{who} {r['metric']} ≤ {r['within_h']:.3g}h"
            ci = r["compliance_sim"]
            sim = f"{_p(ci['mean'])} ({_p(ci['lo'], 0)}–{_p(ci['hi'], 0)})"
            diff = "—" if r["difference"] is None else f"{r['difference'] * 100:+.1f}pp"
            p90 = f"{_h(r['quantiles_h_hist']['90'])}/{_h(r['quantiles_h_sim']['90'])}"
            match = {True: "yes", False: "NO", None: "—"}[r["within_tolerance"]]
            lines.append(
                f"  {label[:34]:<34} {r['tickets_hist']:>7,} {_p(r['compliance_hist']):>8} "
                f"{sim:>24} {diff:>7}  {p90:>15}  {match}"
            )

    table(document["rows"], "SLA targets (history vs simulation)")
    table(document["ola"], "OLA / UC targets")
    table(document["probes"], "Probes: share within the history's own 80th percentile (24x7 hours)")
    if document["volume"]:
        lines.append("\nVolume")
        for v in document["volume"]:
            sim = v["tickets_sim"]
            lines.append(
                f"  {v['service']:<20} history {v['tickets_hist']:>7,}  simulated "
                f"{(sim['mean'] or 0):>9,.0f} ({(sim['lo'] or 0):,.0f}–{(sim['hi'] or 0):,.0f})"
            )
    summary = document["summary"]
    olas = (
        f"{summary['ola_within_tolerance']} of {summary['ola_compared']} OLA/UC targets, "
        if summary["ola_compared"]
        else ""
    )
    t = t_factor(int(document["replications"]))
    rule = "max(3 pp, t·SE)" + (
        ", t the Student-t 97.5% point for the replications that measured the target "
        f"({t:.2f} with all {int(document['replications'])}: "
        f"{int(document['replications']) - 1} d.f.)"
        if t is not None
        else ""
    )
    lines.append(
        f"\n{summary['within_tolerance']} of {summary['compared']} SLA targets, {olas}"
        f"{summary['probes_within_tolerance']} of {summary['probes']} probes within "
        f"{rule} of the history"
    )
    if document.get("quality"):
        lines += ["", *quality_summary(document["quality"])]
    return "\n".join(lines)
