"""The service review pack: how the service levels were met, period by period, for the review
meeting — built on the measured review of :func:`simkit.calibrate.review.review`.

Colours (red/amber/green) of a target in a period, against its goal:

- **green**: met, with more than :data:`AMBER_MARGIN` (2 percentage points) to spare;
- **amber**: met, but within 2 points of the goal, or met only through the contract's
  small-sample rule (compliance below the goal, but no more breaches than a thin period allows);
- **red**: missed;
- **grey**: no measured ticket (nothing to judge).

Over the whole span (no small-sample rule there) the same margins apply to the compliance. For
availability the margin is the downtime allowance: amber when a period used more than
:data:`AVAILABILITY_AMBER_USED` (80%) of the downtime the target allows, red below the target.

Where a scenario is given, :func:`expected_performance` simulates it over the same span, observed
as the history was (no drain: tickets still open at the export stay open), so each measured
figure sits next to the model's expectation: the mean over the runs with its 95% interval, and
the *range of the runs* — the middle 95% of the simulated runs, where one real history should
fall if the model is right.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
from collections.abc import Callable, Mapping
from concurrent.futures import Executor
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from simkit.errors import InputError
from simkit.report.html import (
    Badge,
    Bullets,
    Cell,
    Document,
    Figure,
    Figures,
    Inline,
    Para,
    Section,
    Small,
    Strong,
    Table,
    fmt_hours,
    render_html,
    render_markdown,
    target_text,
    write_document,
)
from simkit.report.render import chart_figure
from simkit.report.text import fmt_interval, fmt_pct
from simkit.runner import DEFAULT_MAX_VISITS, Progress, simulate
from simkit.scenario import Scenario
from simkit.stats import mean_interval, wilson_interval
from simkit.units import format_percent

__all__ = [
    "AMBER_MARGIN",
    "AVAILABILITY_AMBER_USED",
    "REVIEW_SECTIONS",
    "availability_status",
    "expected_performance",
    "history_availability",
    "rag_status",
    "render_review_pack",
    "review_span_scenario",
    "write_review_pack",
]

AMBER_MARGIN = 0.02
"""A period met within this of its goal (2 percentage points) is amber, not green."""
AVAILABILITY_AMBER_USED = 0.8
"""A period that used more than this share of its downtime allowance is amber."""
FEW_RUNS = 20
"""With fewer simulated runs than this the pack warns that the model's range is rough."""
RANGE = (0.025, 0.975)
"""The quantiles of the simulated runs that bound the model's range."""

REVIEW_SECTIONS = (
    ("summary", "In short"),
    ("colours", "How to read the colours"),
    ("compliance", "Compliance per period"),
    ("trends", "Trends"),
    ("breaches", "Breaches, worst first"),
    ("ola", "Internal agreements (OLAs) and supplier contracts (UCs)"),
    ("availability", "Availability"),
    ("model", "Against the model"),
    ("data", "Data, names and quality"),
)
"""Section ids and titles of the review pack, in order (every pack has all of them)."""

Row = dict[str, Any]
_TOLERANCE = 1e-12
_STATUS_WORDS = {"green": "met", "amber": "met, close", "red": "missed", "grey": "no tickets"}
_CHART_WIDTH = 760
_TREND_WIDTH = 480


# -- colours -------------------------------------------------------------------------------------


def rag_status(
    compliance: float | None,
    goal: float,
    met: bool | None = None,
    tickets: float | None = None,
    *,
    margin: float = AMBER_MARGIN,
) -> str:
    """Red, amber, green or grey for a measured compliance against its goal.

    Parameters
    ----------
    compliance
        Share of tickets within target (``None``: nothing measured).
    goal
        The share the target asks for.
    met
        Whether the period met the target by the contract's rule (which may include a
        small-sample rule); ``None`` judges by ``compliance`` alone.
    tickets
        Measured tickets; ``0`` is grey whatever the rule says.
    margin
        Met with less than this to spare is amber.

    Returns
    -------
    str
        ``green``, ``amber``, ``red`` or ``grey`` (see the module docstring).
    """
    if compliance is None or tickets == 0:
        return "grey"
    passed = compliance >= goal - _TOLERANCE if met is None else bool(met)
    if not passed:
        return "red"
    if compliance < goal - _TOLERANCE or compliance < goal + margin - _TOLERANCE:
        return "amber"
    return "green"


def availability_status(
    availability: float | None, target: float, *, used: float = AVAILABILITY_AMBER_USED
) -> str:
    """Red, amber, green or grey for an availability against its target: amber when more than
    ``used`` of the downtime allowance ``1 − target`` was used."""
    if availability is None:
        return "grey"
    if availability < target - _TOLERANCE:
        return "red"
    if 1.0 - availability > used * (1.0 - target) + _TOLERANCE:
        return "amber"
    return "green"


# -- the span of the review ------------------------------------------------------------------------


def _instant(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text)


def _utc64(moment: dt.datetime) -> np.datetime64:
    return np.datetime64(moment.astimezone(dt.UTC).replace(tzinfo=None), "us")


def review_span_scenario(review_document: Mapping[str, Any], scenario: Scenario) -> Scenario:
    """``scenario`` moved onto the span of a review: the same start date and measured span,
    observed as the history was (no drain after the export).

    Raises
    ------
    InputError
        When the review was not measured in the scenario's time zone.
    """
    span = review_document["span"]
    if span["timezone"] != scenario.timezone:
        raise InputError.single(
            f"the review was measured in {span['timezone']}, the scenario runs in "
            f"{scenario.timezone}",
            "review the history against the scenario whose expectation you want",
            file=scenario.source,
            path="timezone",
        )
    start, end = _instant(span["start"]), _instant(span["end"])
    seconds = max(math.ceil((end - start).total_seconds()), 1)
    return scenario.with_patch(
        {"start": start.date().isoformat(), "horizon": f"{seconds}s", "drain": "0h"},
        name="over the review span",
    )


# -- the model's expectation ---------------------------------------------------------------------


def _range(values: np.ndarray) -> dict[str, float | None]:
    finite = values[np.isfinite(values)]
    if finite.size == 0:
        return {"lo": None, "hi": None}
    lo, hi = np.quantile(finite, RANGE)
    return {"lo": float(lo), "hi": float(hi)}


def _shares(measured: np.ndarray, met: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(measured > 0, met / np.maximum(measured, 1), np.nan)


def _figures(values: np.ndarray) -> dict[str, Any]:
    finite = values[np.isfinite(values)]
    return {
        "compliance": mean_interval(finite, bounds=(0.0, 1.0)).as_dict(),
        "range": _range(finite),
    }


def expected_performance(
    review_document: Mapping[str, Any],
    scenario: Scenario,
    *,
    replications: int | None = None,
    seed: int | None = None,
    executor: Executor | None = None,
    progress: Progress | None = None,
    max_visits: int = DEFAULT_MAX_VISITS,
) -> dict[str, Any]:
    """Simulate ``scenario`` over the span of a review and measure it the same way.

    Parameters
    ----------
    review_document
        From :func:`simkit.calibrate.review.review` (its ``span`` is used).
    scenario
        The scenario whose expectation to show (usually the one the review measured against).
    replications, seed, executor, progress, max_visits
        As for :func:`simkit.runner.simulate` (default: the scenario's replications and seed).

    Returns
    -------
    dict
        ``replications``, ``seed``, ``sla`` (per target: identity, ``compliance {mean, lo,
        hi}`` over the runs, ``range {lo, hi}`` — the middle 95% of the runs — and
        ``p_period_met``), ``periods`` (per target and period: ``compliance``, ``range``,
        ``tickets``, ``full``), ``ola`` (per agreement: ``compliance``, ``range``),
        ``availability`` and ``availability_periods`` (``availability``, ``range``,
        ``p_period_met`` / ``p_met``, ``expected_credit``), and ``failures``.
    """
    from simkit.measure import (
        availability_outcomes,
        ola_outcomes,
        period_meets,
        sla_outcomes,
        target_figures,
        ticket_pauses,
    )
    from simkit.scenario.targets import availability_targets

    moved = review_span_scenario(review_document, scenario)
    results = simulate(
        moved,
        replications=replications,
        seed=seed,
        executor=executor,
        progress=progress,
        max_visits=max_visits,
    )
    spec = dataclasses.replace(results.measure_spec(), replications=results.replications)
    failed = {f.replication for f in results.failures}
    alive = np.array([k not in failed for k in range(results.replications)], dtype=bool)
    out: dict[str, Any] = {
        "scenario": scenario.name,
        "replications": results.succeeded,
        "seed": results.seed,
        "sla": [],
        "periods": [],
        "ola": [],
        "availability": [],
        "availability_periods": [],
        "failures": [{"replication": f.replication, "error": f.error} for f in results.failures],
    }
    if results.succeeded == 0:
        return out
    tickets = results.service_tickets()
    attached = ticket_pauses(tickets, results.pauses, spec)
    for target in spec.sla:
        figures = target_figures(sla_outcomes(tickets, attached, target, spec), spec)
        measured, met = figures.measured[alive], figures.met[alive]
        identity = {
            "level": target.level,
            "service": target.service,
            "customer": target.customer,
            "priority": target.priority,
            "metric": target.metric,
        }
        full = np.array([p.full for p in figures.periods], dtype=bool)
        meets, defined = period_meets(
            measured[:, full], met[:, full], target.goal, target.small_sample
        )
        out["sla"].append(
            {
                **identity,
                **_figures(_shares(measured.sum(axis=1), met.sum(axis=1))),
                "p_period_met": wilson_interval(int(meets.sum()), int(defined.sum())).as_dict(),
            }
        )
        shares = _shares(measured, met)
        for p, period in enumerate(figures.periods):
            if period.start >= spec.horizon_end and not measured[:, p].any():
                continue
            out["periods"].append(
                {
                    **identity,
                    "period": period.label,
                    "full": period.full,
                    **_figures(shares[:, p]),
                    "tickets": float(measured[:, p].mean()),
                }
            )
    for agreement in spec.ola:
        figures = target_figures(ola_outcomes(results.visits, agreement, spec, tickets), spec)
        measured, met = figures.measured[alive], figures.met[alive]
        out["ola"].append(
            {
                "team": agreement.team,
                "kind": agreement.kind,
                "priority": agreement.priority,
                "metric": agreement.metric,
                **_figures(_shares(measured.sum(axis=1), met.sum(axis=1))),
            }
        )
    for target in availability_targets(moved):
        table = availability_outcomes(results.outages, target, spec)
        out["availability"].append(_expected_availability(table, target.target, alive))
        out["availability_periods"] += _expected_availability_periods(
            table, target.service, target.target, alive
        )
    return out


def _column(table: pa.Table, name: str) -> np.ndarray:
    values = (
        pc.fill_null(table[name], np.nan) if name in ("availability", "credit") else table[name]
    )
    return np.asarray(values.to_numpy(zero_copy_only=False))


def _expected_availability(table: pa.Table, target: float, alive: np.ndarray) -> Row:
    replication = _column(table, "replication").astype(np.int64)
    keep = alive[replication]
    agreed = np.bincount(replication, weights=_column(table, "agreed_h"), minlength=alive.size)
    down = np.bincount(replication, weights=_column(table, "down_h"), minlength=alive.size)
    counted = alive & (agreed > 0)
    span = (agreed[counted] - down[counted]) / agreed[counted]
    level = _column(table, "availability").astype(np.float64)
    full = _column(table, "full").astype(bool) & keep & ~np.isnan(level)
    met = level[full] >= target - _TOLERANCE
    return {
        "service": str(table["service"][0].as_py()) if table.num_rows else None,
        "target": target,
        "availability": mean_interval(span, bounds=(0.0, 1.0)).as_dict(),
        "range": _range(span),
        "p_period_met": wilson_interval(int(met.sum()), int(full.sum())).as_dict(),
    }


def _expected_availability_periods(
    table: pa.Table, service: str, target: float, alive: np.ndarray
) -> list[Row]:
    replication = _column(table, "replication").astype(np.int64)
    period = _column(table, "period").astype(str)
    level = _column(table, "availability").astype(np.float64)
    full = _column(table, "full").astype(bool)
    rows = []
    for label in dict.fromkeys(period.tolist()):
        mine = (period == label) & alive[replication]
        values = level[mine]
        values = values[~np.isnan(values)]
        rows.append(
            {
                "service": service,
                "period": label,
                "full": bool(full[mine].all()) if mine.any() else False,
                "availability": mean_interval(values, bounds=(0.0, 1.0)).as_dict(),
                "range": _range(values),
                "p_met": float(np.mean(values >= target - _TOLERANCE)) if values.size else None,
            }
        )
    return rows


# -- outage history ------------------------------------------------------------------------------


def history_availability(
    outages: pa.Table, review_document: Mapping[str, Any], scenario: Scenario
) -> dict[str, Any]:
    """Measure an outage history against the scenario's availability targets over the span of a
    review (the same measurement as for simulated outages).

    Returns
    -------
    dict
        ``availability``: the rows of :func:`simkit.measure.availability_rows`;
        ``periods``: :func:`simkit.measure.availability_period_rows` (one history: no
        interval).
    """
    from simkit.measure import availability_period_rows, availability_rows
    from simkit.scenario.targets import availability_targets, measure_spec

    moved = review_span_scenario(review_document, scenario)
    targets = availability_targets(moved)
    span = review_document["span"]
    observed = _utc64(_instant(span.get("observed_until") or span["end"]))
    spec = measure_spec(
        moved,
        start=_utc64(_instant(span["start"])),
        horizon_end=_utc64(_instant(span["end"])),
        observed_until=observed,
        replications=1,
    )
    return {
        "availability": availability_rows(outages, targets, spec),
        "periods": availability_period_rows(outages, targets, spec),
    }


# -- the pack ------------------------------------------------------------------------------------


def _sla_key(row: Mapping[str, Any]) -> tuple[Any, ...]:
    return (row["level"], row["service"], row["customer"], row["priority"], row["metric"])


def _ola_key(row: Mapping[str, Any]) -> tuple[Any, ...]:
    return (row["team"], row["kind"], row.get("priority"), row["metric"])


def _label(row: Mapping[str, Any]) -> str:
    if row.get("team"):
        priority = f" {row['priority']}" if row.get("priority") else ""
        return f"{row['team']} {str(row['kind']).upper()}{priority} {row['metric']}"
    if row["level"] == "corporate":
        return f"corporate {row['priority']} {row['metric']}"
    prefix = f"{row['customer']}: " if row["level"] == "customer" else ""
    return f"{prefix}{row['service']} {row['priority']} {row['metric']}"


def _comparison(value: float | None, band: Mapping[str, Any] | None) -> tuple[str, str]:
    """Where a measured value sits against the range of the simulated runs."""
    if value is None or not band or band.get("lo") is None or band.get("hi") is None:
        return "grey", "not comparable"
    if value < band["lo"] - _TOLERANCE:
        return "red", "worse than the model"
    if value > band["hi"] + _TOLERANCE:
        return "green", "better than the model"
    return "grey", "in line with the model"


def _range_text(band: Mapping[str, Any] | None, digits: int = 1) -> str:
    if not band or band.get("lo") is None or band.get("hi") is None:
        return "—"
    return f"{band['lo'] * 100:.{digits}f}–{band['hi'] * 100:.{digits}f}%"


def _digits(value: float | None, band: Mapping[str, Any] | None, digits: int = 1) -> int:
    """Enough decimals that a measured value and the ends of a range it lies outside of do
    not print the same."""
    if value is None or not band or band.get("lo") is None or band.get("hi") is None:
        return digits
    for more in range(digits, digits + 3):
        shown = f"{value * 100:.{more}f}"
        if shown not in (f"{band['lo'] * 100:.{more}f}", f"{band['hi'] * 100:.{more}f}"):
            return more
    return digits + 2


class _Pack:
    """Builds the sections of one review pack."""

    def __init__(
        self,
        review: Mapping[str, Any],
        expected: Mapping[str, Any] | None,
        availability: Mapping[str, Any] | None,
        charts: bool,
        margin: float,
    ) -> None:
        self.review = review
        self.expected = expected
        self.history_availability = availability
        self.charts = charts
        self.margin = margin
        self.span = review["span"]
        self.period = str(self.span["period"])
        self.periods = list(dict.fromkeys(p["period"] for p in review["periods"]))
        self.full = {p["period"]: bool(p.get("full")) for p in review["periods"]}
        self.by_target: dict[tuple[Any, ...], dict[str, Row]] = {}
        for p in review["periods"]:
            self.by_target.setdefault(_sla_key(p), {})[p["period"]] = p
        self.model_sla = {_sla_key(r): r for r in (expected or {}).get("sla", [])}
        self.model_periods: dict[tuple[Any, ...], dict[str, Row]] = {}
        for p in (expected or {}).get("periods", []):
            self.model_periods.setdefault(_sla_key(p), {})[p["period"]] = p
        self.model_ola = {_ola_key(r): r for r in (expected or {}).get("ola", [])}
        self.runs = int((expected or {}).get("replications") or 0)

    def figure(
        self, build: Callable[[], Any], caption: str, name: str, *, width: int = _CHART_WIDTH
    ) -> Figure:
        return chart_figure(build, caption=caption, name=name, charts=self.charts, width=width)

    def status(self, target: Mapping[str, Any], period: Mapping[str, Any]) -> str:
        met = period.get("p_met")
        return rag_status(
            period["compliance"]["mean"],
            target["goal"],
            None if met is None else met >= 0.5,
            period.get("tickets"),
            margin=self.margin,
        )

    def overall(self, row: Mapping[str, Any]) -> str:
        return rag_status(
            row["compliance"]["mean"], row["goal"], None, row.get("tickets"), margin=self.margin
        )

    # -- sections

    def summary(self) -> list[Any]:
        review = self.review
        sla = review["sla"]
        span = self.span
        blocks: list[Any] = [
            Para.of(
                f"How the service levels of {review['scenario']} were met from "
                f"{_day(span['start'])} to {_day(span['end'])}, measured on the ticket history "
                f"{review['source']} by {self.period} ({span['full_periods']} full and "
                f"{span['partial_periods']} partial {self.period}s), with the same measurement "
                "that tests proposed service levels.",
                kind="lead",
            )
        ]
        met = sum(1 for r in sla if self.overall(r) in ("green", "amber"))
        statuses = [
            self.status(r, p)
            for r in sla
            for p in self.by_target.get(_sla_key(r), {}).values()
            if p.get("full")
        ]
        red = statuses.count("red")
        amber = statuses.count("amber")
        blocks.append(
            Para.of(
                Strong(f"{met} of {len(sla)} targets"),
                " met their goal over the whole span. Over the full "
                f"{self.period}s, {len(statuses)} target-{self.period}s were judged: ",
                Badge("red", f"{red} red"),
                " ",
                Badge("amber", f"{amber} amber"),
                " ",
                Badge("green", f"{statuses.count('green')} green"),
                ".",
            )
        )
        missed: list[list[Inline]] = []
        for r in sla:
            if self.overall(r) != "red":
                continue
            periods = [p for p in self.by_target.get(_sla_key(r), {}).values() if p.get("full")]
            red_periods = sum(1 for p in periods if self.status(r, p) == "red")
            missed.append(
                [
                    Badge("red", "missed"),
                    " ",
                    Strong(_label(r)),
                    f" ({target_text(r)}): {fmt_pct(r['compliance']['mean'])} of "
                    f"{r['tickets']:,.0f} tickets; red in {red_periods} of {len(periods)} full "
                    f"{self.period}s.",
                ]
            )
        if missed:
            blocks.append(Bullets.of(missed))
        breaches = review.get("breaches") or []
        if breaches:
            worst = breaches[0]
            blocks.append(
                Para.of(
                    "The worst breach: ",
                    Strong(str(worst.get("ticket") or worst["ticket_id"])),
                    f" ({_label(worst)}) took {fmt_hours(worst['time_h'])} against "
                    f"{fmt_hours(worst['within_h'])}, {worst['times_target']:.1f} times the "
                    "target" + (" — and is still open." if worst["open"] else "."),
                )
            )
        if self.expected is not None:
            readings = [
                _comparison(
                    r["compliance"]["mean"], self.model_sla.get(_sla_key(r), {}).get("range")
                )[1]
                for r in sla
            ]
            blocks.append(
                Para.of(
                    f"Against the model ({self.runs} simulated runs of the same span): "
                    f"{readings.count('in line with the model')} targets in line, "
                    f"{readings.count('worse than the model')} worse and "
                    f"{readings.count('better than the model')} better than the range of the "
                    "simulated runs (section 8)."
                    + (
                        f" With only {self.runs} runs that range is rough."
                        if self.runs < FEW_RUNS
                        else ""
                    )
                )
            )
        return blocks

    def colours(self) -> list[Any]:
        margin = f"{self.margin * 100:g}"
        used = f"{AVAILABILITY_AMBER_USED:.0%}"
        return [
            Bullets.of(
                [
                    [
                        Badge("green", "met"),
                        f": the goal was met with more than {margin} points to spare.",
                    ],
                    [
                        Badge("amber", "met, close"),
                        f": met, but within {margin} percentage points of the goal — or met only "
                        "through the contract's small-sample rule (a thin period with no more "
                        "breaches than the rule allows, although its share is below the goal).",
                    ],
                    [Badge("red", "missed"), ": the goal was not met."],
                    [Badge("grey", "no tickets"), ": nothing was measured in the period."],
                    f"Availability: amber when a period used more than {used} of the downtime "
                    "its target allows, red below the target.",
                    f"Partial {self.period}s (the first and last, only partly inside the "
                    "history) are shown in brackets and not counted in “periods met”.",
                    "A ticket counts in the period in which its clock stopped; a ticket still "
                    "open past its target counts as breached in the period of the breach.",
                ]
            )
        ]

    def compliance(self) -> list[Any]:
        sla = self.review["sla"]
        if not sla:
            return [Para.of("The scenario has no SLA target to measure.")]
        headers = ["target"]
        headers += [p if self.full.get(p) else f"({p})" for p in self.periods]
        headers += ["whole span", f"full {self.period}s met"]
        rows = []
        for r in sla:
            cells: list[Cell] = [[_label(r), Small(target_text(r))]]
            periods = self.by_target.get(_sla_key(r), {})
            for label in self.periods:
                p = periods.get(label)
                if p is None or p["compliance"]["mean"] is None:
                    cells.append(Badge("grey", "—"))
                    continue
                cells.append(
                    [
                        Badge(self.status(r, p), fmt_pct(p["compliance"]["mean"])),
                        Small(f"{p['tickets']:,.0f} tickets"),
                    ]
                )
            cells.append(
                [
                    Badge(self.overall(r), fmt_pct(r["compliance"]["mean"])),
                    Small(f"{r['tickets']:,.0f} tickets"),
                ]
            )
            judged = [p for p in periods.values() if p.get("full") and p.get("p_met") is not None]
            cells.append(f"{sum(1 for p in judged if p['p_met'] >= 0.5)} of {len(judged)}")
            rows.append(cells)
        return [
            Para.of(
                "Each cell: the share of tickets within target, coloured against the goal, and "
                f"the number of tickets measured. Partial {self.period}s are in brackets."
            ),
            Table.of(headers, rows, numeric=range(1, len(headers))),
        ]

    def trends(self) -> list[Any]:
        figures = []
        for index, r in enumerate(self.review["sla"]):
            key = _sla_key(r)
            model = self.model_periods.get(key, {})
            rows = []
            for label, p in self.by_target.get(key, {}).items():
                expected = model.get(label)
                rows.append(
                    {
                        "period": label,
                        "value": p["compliance"]["mean"],
                        "status": self.status(r, p),
                        "full": bool(p.get("full")),
                        "tickets": p["tickets"],
                        "expected": (expected or {}).get("compliance", {}).get("mean"),
                        "expected_lo": ((expected or {}).get("range") or {}).get("lo"),
                        "expected_hi": ((expected or {}).get("range") or {}).get("hi"),
                    }
                )
            if not rows:
                continue
            figures.append(
                self.figure(
                    _trend(
                        rows,
                        goal=r["goal"],
                        title=f"{_label(r)} — {target_text(r)}",
                        value_format=".0%",
                        replications=self.runs or None,
                    ),
                    f"{_label(r)}: compliance per {self.period}"
                    + (" next to the model's expectation" if model else ""),
                    f"trend-{index + 1}",
                    width=_TREND_WIDTH,
                )
            )
        if not figures:
            return [Para.of("No period was measured.")]
        return [Figures(tuple(figures))]

    def breaches(self) -> list[Any]:
        breaches = self.review.get("breaches") or []
        if not breaches:
            return [Para.of("No target was breached in the history.")]
        blocks: list[Any] = [
            Para.of(
                f"The {len(breaches)} longest breaches relative to their target, service level "
                "targets first, then internal agreements and supplier contracts. Times are "
                "business hours on the target's calendar; for a ticket still open, the time "
                "until the export."
            )
        ]
        for kind, caption in (("sla", "Service level targets"), (None, "OLAs and UCs")):
            chosen = [b for b in breaches if (b.get("kind") == "sla") == (kind == "sla")]
            if not chosen:
                continue
            blocks.append(
                Table.of(
                    [
                        "ticket",
                        "target",
                        "opened",
                        "clock stopped",
                        "took",
                        "target",
                        "× target",
                        self.period,
                    ],
                    [
                        [
                            str(b.get("ticket") or b["ticket_id"]),
                            _label(b),
                            _minute(b.get("opened_at")),
                            "still open" if b["open"] else _minute(b.get("stop_at")),
                            fmt_hours(b["time_h"]),
                            fmt_hours(b["within_h"]),
                            f"{b['times_target']:.1f}",
                            str(b["period"]),
                        ]
                        for b in chosen
                    ],
                    numeric=(4, 5, 6),
                    caption=caption,
                )
            )
        return blocks

    def ola(self) -> list[Any]:
        rows = self.review.get("ola") or []
        if not rows:
            return [Para.of("The scenario sets no OLA or UC.")]
        headers = ["agreement", "target", "visits", "compliance", "status"]
        if self.expected is not None:
            headers += ["model: mean [95%]", "range of runs", "reading"]
        table_rows = []
        for r in rows:
            status = self.overall(r)
            value = r["compliance"]["mean"]
            model = self.model_ola.get(_ola_key(r), {})
            digits = _digits(value, model.get("range"))
            cells: list[Any] = [
                _label(r),
                target_text(r),
                f"{r['tickets']:,.0f}",
                fmt_pct(value, digits),
                Badge(status, _STATUS_WORDS[status]),
            ]
            if self.expected is not None:
                colour, reading = _comparison(value, model.get("range"))
                cells += [
                    fmt_interval(model.get("compliance"), digits),
                    _range_text(model.get("range"), digits),
                    Badge(colour, reading),
                ]
            table_rows.append(cells)
        return [
            Table.of(
                headers,
                table_rows,
                numeric=(2, 3, 5, 6),
                caption="Measured per visit to the team or supplier over the whole span",
            )
        ]

    def availability(self) -> list[Any]:
        measured = self.history_availability
        modelled = (self.expected or {}).get("availability_periods") or []
        if measured is None and not modelled:
            return [
                Para.of(
                    "No availability was measured: give an outage history and a scenario with "
                    "an availability target, or a scenario with an availability target for the "
                    "model's expectation."
                )
            ]
        blocks: list[Any] = []
        targets = {r["service"]: r["target"] for r in (self.expected or {}).get("availability", [])}
        if measured is not None:
            targets.update({r["service"]: r["target"] for r in measured["availability"]})
        model = {(r["service"], r["period"]): r for r in modelled}
        rows_in = measured["periods"] if measured is not None else modelled
        services = list(dict.fromkeys(r["service"] for r in rows_in))
        if not services:
            return [Para.of("The scenario sets no availability target.")]
        headers = ["service", "target", self.period, "measured", "status"]
        if modelled:
            headers += ["model: mean [95%]", "range of runs"]
        table_rows = []
        chart_rows: dict[str, list[Row]] = {}
        for row in rows_in:
            service, label = row["service"], row["period"]
            target = targets.get(service)
            value = row["availability"]["mean"] if measured is not None else None
            status = availability_status(value, target) if target is not None else "grey"
            period_text = label if row.get("full") else f"({label})"
            cells: list[Any] = [
                service,
                format_percent(target) if target is not None else "—",
                period_text,
                fmt_pct(value, 3),
                Badge(status, _STATUS_WORDS[status] if value is not None else "not measured"),
            ]
            expected = model.get((service, label))
            if modelled:
                cells += [
                    fmt_interval((expected or {}).get("availability"), 3),
                    _range_text((expected or {}).get("range"), 3),
                ]
            table_rows.append(cells)
            chart_rows.setdefault(service, []).append(
                {
                    "period": label,
                    "value": value,
                    "status": status,
                    "full": bool(row.get("full")),
                    "tickets": None,
                    "expected": ((expected or {}).get("availability") or {}).get("mean"),
                    "expected_lo": ((expected or {}).get("range") or {}).get("lo"),
                    "expected_hi": ((expected or {}).get("range") or {}).get("hi"),
                }
            )
        blocks.append(
            Table.of(
                headers,
                table_rows,
                numeric=(3, 5, 6),
                caption="Availability over agreed service time"
                + ("" if measured is not None else " (no outage history given: model only)"),
            )
        )
        for service, rows in chart_rows.items():
            target = targets.get(service)
            if target is None:
                continue
            blocks.append(
                self.figure(
                    _trend(
                        rows,
                        goal=target,
                        title=f"{service} availability — target {format_percent(target)}",
                        value_format=".2%",
                        replications=self.runs or None,
                    ),
                    f"{service}: availability per {self.period} against its target",
                    f"availability-{service}",
                )
            )
        return blocks

    def model(self) -> list[Any]:
        if self.expected is None:
            return [
                Para.of(
                    "No simulation of the scenario was run for this pack, so the measured "
                    "figures stand alone. Give a scenario (and replications) to see what the "
                    "model expected over the same span."
                )
            ]
        blocks: list[Any] = [
            Para.of(
                f"The scenario {self.expected['scenario']} was simulated {self.runs} times over "
                "the same span and observed as the history was. “Model” is the mean over the "
                "runs with its 95% interval; the “range of runs” holds the middle 95% of the "
                "simulated runs — where one real history should fall if the model is right. A "
                "history outside it says the model (or the service) has changed."
            )
        ]
        rows: list[list[Cell]] = []
        for r in self.review["sla"]:
            model = self.model_sla.get(_sla_key(r), {})
            value = r["compliance"]["mean"]
            digits = _digits(value, model.get("range"))
            colour, reading = _comparison(value, model.get("range"))
            rows.append(
                [
                    _label(r),
                    fmt_pct(value, digits),
                    fmt_interval(model.get("compliance"), digits),
                    _range_text(model.get("range"), digits),
                    fmt_interval(model.get("p_period_met"), 0),
                    Badge(colour, reading),
                ]
            )
        blocks.append(
            Table.of(
                [
                    "target",
                    "measured",
                    "model: mean [95%]",
                    "range of runs",
                    f"model: P({self.period} meets goal)",
                    "reading",
                ],
                rows,
                numeric=(1, 2, 3, 4),
            )
        )
        failures = self.expected.get("failures") or []
        if failures:
            blocks.append(
                Para.of(f"{len(failures)} simulated runs failed and are left out.", kind="note")
            )
        blocks.append(
            Para.of(
                f"{self.runs} runs, seed {self.expected['seed']}. With few runs the range is "
                "rough: its ends are the extreme runs.",
                kind="note",
            )
        )
        return blocks

    def data(self) -> list[Any]:
        review, span = self.review, self.span
        quality = review.get("quality") or {}
        blocks: list[Any] = [
            Bullets.of(
                [
                    f"History: {review['source']} read with the {review['profile']} profile.",
                    f"Measured span: {_minute(span['start'])} to {_minute(span['end'])} "
                    f"({span['timezone']}); first ticket opened "
                    f"{_minute(span.get('first_opened'))}, export taken "
                    f"{_minute(span.get('observed_until'))}.",
                    f"Targets, calendars and periods from the scenario {review['scenario']}.",
                    (
                        f"{quality.get('rows_read', 0):,} rows read, "
                        f"{quality.get('tickets', 0):,} tickets; "
                        f"{quality.get('removed_rows', 0):,} rows and "
                        f"{quality.get('removed_tickets', 0):,} tickets removed in cleaning."
                    ),
                    *[str(n) for n in quality.get("notes", [])],
                ]
            )
        ]
        mapping_rows = []
        for kind, m in (review.get("mapping") or {}).items():
            mapping_rows += [[kind, x["history"], x["scenario"], x["how"]] for x in m["matched"]]
            mapping_rows += [
                [kind, h, "—", Badge("amber", "not measured")] for h in m["unmatched_history"]
            ]
            mapping_rows += [
                [kind, "—", s, Badge("grey", "no history")] for s in m["unmatched_scenario"]
            ]
        if mapping_rows:
            blocks.append(
                Table.of(
                    ["kind", "history", "scenario", "how"],
                    mapping_rows,
                    caption="Names: history → scenario",
                )
            )
        rules = quality.get("rules") or []
        if rules:
            blocks.append(
                Table.of(
                    ["cleaning rule", "action", "count"],
                    [[r["title"], r["action"], f"{r['count']:,} {r['unit']}"] for r in rules],
                    numeric=(2,),
                    caption="Data quality: what cleaning found and did",
                )
            )
        return blocks

    def build(self) -> Document:
        makers = {
            "summary": self.summary,
            "colours": self.colours,
            "compliance": self.compliance,
            "trends": self.trends,
            "breaches": self.breaches,
            "ola": self.ola,
            "availability": self.availability,
            "model": self.model,
            "data": self.data,
        }
        sections = tuple(
            Section(key, f"{i}. {title}", tuple(makers[key]()))
            for i, (key, title) in enumerate(REVIEW_SECTIONS, start=1)
        )
        span = self.span
        facts = [
            ("Service", str(self.review["scenario"])),
            ("Span", f"{_day(span['start'])} to {_day(span['end'])} ({span['timezone']})"),
            ("Reported by", self.period),
            ("History", f"{self.review['source']} ({self.review['profile']} profile)"),
        ]
        if self.expected is not None:
            facts.append(("Model", f"{self.runs} simulated runs, seed {self.expected['seed']}"))
        return Document(
            title=f"Service review — {self.review['scenario']}",
            subtitle=f"Service levels as delivered, {self.period} by {self.period}.",
            sections=sections,
            facts=tuple(facts),
            footer="Measured with the same code that tests proposed service levels; "
            "prepared with simkit.",
        )


def _charts() -> Any:
    from simkit.report import charts

    return charts


def _trend(
    rows: list[Row], *, goal: float, title: str, value_format: str, replications: int | None
) -> Callable[[], Any]:
    def build() -> Any:
        return _charts().trend_chart(
            rows, goal=goal, title=title, value_format=value_format, replications=replications
        )

    return build


def _day(text: str | None) -> str:
    return "—" if not text else str(text)[:10]


def _minute(text: str | None) -> str:
    return "—" if not text else str(text)[:16].replace("T", " ")


def render_review_pack(
    review_document: Mapping[str, Any],
    *,
    expected: Mapping[str, Any] | None = None,
    availability: Mapping[str, Any] | None = None,
    format: str = "html",
    charts: bool = True,
    margin: float = AMBER_MARGIN,
) -> str:
    """The service review pack as text.

    Parameters
    ----------
    review_document
        From :func:`simkit.calibrate.review.review`.
    expected
        From :func:`expected_performance` (the model's expectation over the same span), or
        ``None``.
    availability
        From :func:`history_availability` (measured availability), or ``None``.
    format
        ``"html"`` (one self-contained page) or ``"md"`` (Markdown without its charts).
    charts
        Draw the charts (needs Altair and vl-convert-python).
    margin
        The amber margin (:data:`AMBER_MARGIN`).
    """
    built = _Pack(review_document, expected, availability, charts, margin).build()
    if format == "html":
        return render_html(built)
    if format == "md":
        return render_markdown(built)[0]
    raise ValueError(f"format must be 'html' or 'md', got {format!r}")


def write_review_pack(
    review_document: Mapping[str, Any],
    out: str | Path,
    *,
    scenario: Scenario | None = None,
    outages: pa.Table | None = None,
    replications: int | None = None,
    seed: int | None = None,
    executor: Executor | None = None,
    progress: Progress | None = None,
    format: str | None = None,
    charts: bool = True,
) -> list[Path]:
    """Write the review pack, simulating the scenario over the review's span first when one is
    given (``replications=0`` skips the simulation) and measuring an outage history if given.

    Parameters
    ----------
    review_document
        From :func:`simkit.calibrate.review.review`.
    out
        The file to write; ``.md`` writes Markdown with its charts as SVG files beside it.
    scenario
        The scenario for the model's expectation and the availability targets.
    outages
        An outage table (e.g. ``simkit.calibrate.outages.load_outages(...).outages``). Without
        it, the availability the review itself measured (``simkit review --outages``) is shown.
    replications, seed, executor, progress
        For the simulation (default: the scenario's replications and seed).
    format
        ``"html"`` or ``"md"`` (default from the suffix).
    charts
        Draw the charts.

    Returns
    -------
    list of Path
        Every file written, the document first.
    """
    expected = None
    if scenario is not None and replications != 0:
        expected = expected_performance(
            review_document,
            scenario,
            replications=replications,
            seed=seed,
            executor=executor,
            progress=progress,
        )
    measured = None
    if outages is not None:
        if scenario is None:
            raise InputError.single(
                "an outage history needs a scenario with availability targets",
                "give --scenario with services.<name>.availability",
                path="--outages",
            )
        measured = history_availability(outages, review_document, scenario)
    elif review_document.get("availability_periods"):
        measured = {
            "availability": review_document["availability"],
            "periods": review_document["availability_periods"],
        }
    built = _Pack(review_document, expected, measured, charts, AMBER_MARGIN).build()
    return write_document(built, Path(out), format)
