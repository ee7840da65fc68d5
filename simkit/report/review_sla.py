"""The sections of the service review pack on the service level targets as delivered — in short,
the colours, compliance per period, trends and the worst breaches — and the view of a review that
every section reads.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from simkit.report.html import (
    Badge,
    Bullets,
    Cell,
    Figure,
    Figures,
    Inline,
    Para,
    Small,
    Strong,
    Table,
    fmt_hours,
    target_text,
)
from simkit.report.render import chart_figure
from simkit.report.review_data import _TOLERANCE, AVAILABILITY_AMBER_USED, rag_status
from simkit.report.text import fmt_pct
from simkit.units import percent

FEW_RUNS = 20
"""With fewer simulated runs than this the pack warns that the model's range is rough."""
Row = dict[str, Any]
_CHART_WIDTH = 760
_TREND_WIDTH = 480


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
    return f"{percent(band['lo'], digits)}–{percent(band['hi'], digits)}%"


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
    """What the sections of one review pack read from the review and the model's expectation."""

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


def _summary(pack: _Pack) -> list[Any]:
    review = pack.review
    sla = review["sla"]
    span = pack.span
    blocks: list[Any] = [
        Para.of(
            f"How the service levels of {review['scenario']} were met from "
            f"{_day(span['start'])} to {_day(span['end'])}, measured on the ticket history "
            f"{review['source']} by {pack.period} ({span['full_periods']} full and "
            f"{span['partial_periods']} partial {pack.period}s), with the same measurement "
            "that tests proposed service levels.",
            kind="lead",
        )
    ]
    met = sum(1 for r in sla if pack.overall(r) in ("green", "amber"))
    statuses = [
        pack.status(r, p)
        for r in sla
        for p in pack.by_target.get(_sla_key(r), {}).values()
        if p.get("full")
    ]
    red = statuses.count("red")
    amber = statuses.count("amber")
    blocks.append(
        Para.of(
            Strong(f"{met} of {len(sla)} targets"),
            " met their goal over the whole span. Over the full "
            f"{pack.period}s, {len(statuses)} target-{pack.period}s were judged: ",
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
        if pack.overall(r) != "red":
            continue
        periods = [p for p in pack.by_target.get(_sla_key(r), {}).values() if p.get("full")]
        red_periods = sum(1 for p in periods if pack.status(r, p) == "red")
        missed.append(
            [
                Badge("red", "missed"),
                " ",
                Strong(_label(r)),
                f" ({target_text(r)}): {fmt_pct(r['compliance']['mean'])} of "
                f"{r['tickets']:,.0f} tickets; red in {red_periods} of {len(periods)} full "
                f"{pack.period}s.",
            ]
        )
    for r in review.get("ola") or []:  # the agreements that underpin them, as in section 6
        if pack.overall(r) != "red":
            continue
        missed.append(
            [
                Badge("red", "missed"),
                " ",
                Strong(_label(r)),
                f" ({target_text(r)}): {fmt_pct(r['compliance']['mean'])} of "
                f"{r['tickets']:,.0f} visits over the span (section 6).",
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
    if pack.expected is not None:
        readings = [
            _comparison(r["compliance"]["mean"], pack.model_sla.get(_sla_key(r), {}).get("range"))[
                1
            ]
            for r in sla
        ]
        blocks.append(
            Para.of(
                f"Against the model ({pack.runs} simulated runs of the same span): "
                f"{readings.count('in line with the model')} targets in line, "
                f"{readings.count('worse than the model')} worse and "
                f"{readings.count('better than the model')} better than the range of the "
                "simulated runs (section 8)."
                + (
                    f" With only {pack.runs} runs that range is rough."
                    if pack.runs < FEW_RUNS
                    else ""
                )
            )
        )
    return blocks


def _colours(pack: _Pack) -> list[Any]:
    margin = f"{pack.margin * 100:g}"
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
                f"Partial {pack.period}s (the first and last, only partly inside the "
                "history) are shown in brackets and not counted in “periods met”.",
                "A ticket counts in the period in which its clock stopped; a ticket still "
                "open past its target counts as breached in the period of the breach.",
            ]
        )
    ]


def _compliance(pack: _Pack) -> list[Any]:
    sla = pack.review["sla"]
    if not sla:
        return [Para.of("The scenario has no SLA target to measure.")]
    headers = ["target"]
    headers += [p if pack.full.get(p) else f"({p})" for p in pack.periods]
    headers += ["whole span", f"full {pack.period}s met"]
    rows = []
    for r in sla:
        cells: list[Cell] = [[_label(r), Small(target_text(r))]]
        periods = pack.by_target.get(_sla_key(r), {})
        for label in pack.periods:
            p = periods.get(label)
            if p is None or p["compliance"]["mean"] is None:
                cells.append(Badge("grey", "—"))
                continue
            cells.append(
                [
                    Badge(pack.status(r, p), fmt_pct(p["compliance"]["mean"])),
                    Small(f"{p['tickets']:,.0f} tickets"),
                ]
            )
        cells.append(
            [
                Badge(pack.overall(r), fmt_pct(r["compliance"]["mean"])),
                Small(f"{r['tickets']:,.0f} tickets"),
            ]
        )
        judged = [p for p in periods.values() if p.get("full") and p.get("p_met") is not None]
        cells.append(f"{sum(1 for p in judged if p['p_met'] >= 0.5)} of {len(judged)}")
        rows.append(cells)
    return [
        Para.of(
            "Each cell: the share of tickets within target, coloured against the goal, and "
            f"the number of tickets measured. Partial {pack.period}s are in brackets."
        ),
        Table.of(headers, rows, numeric=range(1, len(headers))),
    ]


def _trends(pack: _Pack) -> list[Any]:
    figures = []
    for index, r in enumerate(pack.review["sla"]):
        key = _sla_key(r)
        model = pack.model_periods.get(key, {})
        rows = []
        for label, p in pack.by_target.get(key, {}).items():
            expected = model.get(label)
            rows.append(
                {
                    "period": label,
                    "value": p["compliance"]["mean"],
                    "status": pack.status(r, p),
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
            pack.figure(
                _trend(
                    rows,
                    goal=r["goal"],
                    title=f"{_label(r)} — {target_text(r)}",
                    value_format=".0%",
                    replications=pack.runs or None,
                ),
                f"{_label(r)}: compliance per {pack.period}"
                + (" next to the model's expectation" if model else ""),
                f"trend-{index + 1}",
                width=_TREND_WIDTH,
            )
        )
    if not figures:
        return [Para.of("No period was measured.")]
    return [Figures(tuple(figures))]


def _breaches(pack: _Pack) -> list[Any]:
    breaches = pack.review.get("breaches") or []
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
                    pack.period,
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
