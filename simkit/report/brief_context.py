"""The sections of the negotiation brief around its targets: the effect of the changes
considered, availability and service credits, team workload, the assumptions and the data
sources.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from simkit.report.brief_targets import _VERDICT_STATUS, _Brief, _charts
from simkit.report.html import Badge, Bullets, Inline, Para, Strong, Table, fmt_hours, fmt_money
from simkit.report.text import fmt_interval, fmt_pct
from simkit.units import format_percent

Row = dict[str, Any]
_EFFECT_STATUS = {"improves": "green", "worsens": "red", "none": "grey", "unknown": "grey"}
_EFFECT_WORDS = {
    "improves": "better",
    "worsens": "worse",
    "none": "no clear effect",
    "unknown": "not comparable",
}

_BANDS = ("<=5m", "5-30m", "30m-4h", ">4h")


def _impact_section(brief: _Brief) -> list[Any]:
    impact = brief.doc.get("impact")
    if not impact:
        names = ", ".join(brief.doc["assumptions"].get("change_names", [])) or "none defined"
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
                f"interval] over {brief.runs()}",
            )
        )
        flips = [r for r in rows if r.get("slr", {}).get("flips")]
        if flips:
            blocks.append(
                Bullets.of(
                    [
                        [
                            Strong(r["label"]),
                            f": at {brief.c:.0%} confidence the verdict goes from "
                            f"{r['slr']['baseline']} to {r['slr']['change']}.",
                        ]
                        for r in flips
                    ]
                )
            )
        shown = [r for r in rows if r["kind"] in ("sla", "availability")]
        blocks.append(
            brief.figure(
                _impact_chart(shown, brief.n),
                f"{change['name']}: difference per target, change − baseline, with its "
                "paired 95% interval.",
                f"impact-{_slug(change['name'])}",
            )
        )
    return blocks


def _achievable_availability(value: float | None) -> str:
    """The availability reached in the chosen share of periods. 100% there only says that
    most simulated periods had no outage, which is no promise of none."""
    if value is not None and value >= 1.0:
        return "100% (no outage in most periods)"
    return fmt_pct(value, 3)


def _availability_section(brief: _Brief) -> list[Any]:
    rows = brief.sim.get("availability", [])
    if not rows:
        return [Para.of("The scenario sets no availability target.")]
    judged = {r["service"]: r for r in brief.targets.get("availability", [])}
    blocks: list[Any] = [
        Table.of(
            [
                "service",
                "target",
                "availability",
                f"P({brief.period} meets target)",
                f"achievable at {brief.c:.0%}",
                "verdict",
            ],
            [
                [
                    r["service"],
                    f"{format_percent(r['target'])} ({r['calendar']})",
                    fmt_interval(r["availability"], 3),
                    fmt_interval(r["p_period_met"], 0),
                    _achievable_availability(judged.get(r["service"], {}).get("achievable")),
                    _verdict_badge(judged.get(r["service"])),
                ]
                for r in rows
            ],
            numeric=(2, 3, 4),
            caption=f"Over agreed service time: mean [95% interval] over {brief.runs()}",
        ),
        Table.of(
            [
                "service",
                f"unplanned outages per {brief.period}",
                "≤5 min",
                "5–30 min",
                "30 min–4 h",
                "> 4 h",
                "MTRS",
                "MTBSI",
                f"expected credit per {brief.period}",
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
            caption=f"Outages by length (mean per {brief.period}); MTRS: mean time to restore "
            "service; MTBSI: mean time between service incidents (agreed-service-time hours)",
        ),
    ]
    credits = [
        a for a in brief.doc["assumptions"]["availability"] if a["credits"] or a["monthly_fee"]
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
                    + (f" — monthly fee {fmt_money(a['monthly_fee'])}" if a["monthly_fee"] else "")
                    for a in credits
                ]
            )
        )
    target = rows[0]["target"] if len(rows) == 1 else None
    periods = brief.doc.get("availability_periods") or []
    outcomes = brief.doc.get("availability_outcomes") or []
    if periods:
        blocks.append(
            brief.figure(
                lambda: _charts().availability_chart(periods, target=target, replications=brief.n),
                f"Availability per {brief.period} (mean and 95% interval); the red line is "
                "the target.",
                "availability",
            )
        )
    if outcomes:
        blocks.append(
            brief.figure(
                lambda: _charts().availability_histogram(outcomes, target=target),
                f"Availability in each simulated {brief.period}: how often it falls short, "
                "and by how much.",
                "availability-spread",
            )
        )
    return blocks


def _teams_section(brief: _Brief) -> list[Any]:
    rows = brief.sim.get("teams", [])
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
            caption=f"Means over {brief.runs()}; waits are wall-clock from assignment to "
            "pickup; utilisation is time on tickets over time available for them",
        )
    ]


def _assumptions_section(brief: _Brief) -> list[Any]:
    a = brief.doc["assumptions"]
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


def _sources_section(brief: _Brief) -> list[Any]:
    s = brief.doc["sources"]
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
        f"{brief.c:.0%}; the same seed gives the same figures."
    )
    if s.get("failures"):
        items.append(
            f"{len(s['failures'])} replications failed and are left out: "
            + "; ".join(f"#{f['replication']}: {f['error']}" for f in s["failures"][:3])
        )
    items.append(f"Reproduce: {s['command']} {brief.output}")
    items.append(f"simkit {s['simkit_version']}, {brief.doc['generated']}.")
    return [Bullets.of(items)]


def _impact_chart(rows: Sequence[Row], replications: int) -> Callable[[], Any]:
    def build() -> Any:
        return _charts().impact_chart(rows, replications=replications)

    return build


def _verdict_badge(row: Mapping[str, Any] | None) -> Badge | str:
    if not row:
        return "—"
    return Badge(_VERDICT_STATUS[row["verdict"]], row["verdict"])


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
