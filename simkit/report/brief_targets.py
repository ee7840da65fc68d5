"""The sections of the negotiation brief on the proposed targets — in short, how to read it, the
targets, the staffing options and the OLA/UC alignment — and the view of a brief document that
every section reads.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from simkit.report.html import (
    Badge,
    Bullets,
    Cell,
    Figure,
    Inline,
    Para,
    Strong,
    Table,
    fmt_hours,
    fmt_money,
    target_text,
)
from simkit.report.render import chart_figure
from simkit.report.text import fmt_interval, fmt_pct, sla_label
from simkit.units import format_percent

FEW_RUNS = 20
"""Fewer simulated runs than this earn the brief a warning about wide intervals."""

_VERDICT_STATUS = {"achievable": "green", "at risk": "amber", "not achievable": "red"}


def _key(row: Mapping[str, Any]) -> tuple[Any, ...]:
    return (row["level"], row["service"], row["customer"], row["priority"], row["metric"])


class _Brief:
    """What the sections of one brief read from its document."""

    def __init__(
        self, document: Mapping[str, Any], charts: bool, output: str = "--out brief.html"
    ) -> None:
        self.doc = document
        self.charts = charts
        self.output = output
        """How the command that reproduces the brief names its output (section "Reproduce")."""
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

    def credit(self, service: str) -> float | None:
        for row in self.sim.get("availability", []):
            if row["service"] == service:
                value = row.get("expected_credit")
                return None if value is None else float(value)
        return None


def _summary(brief: _Brief) -> list[Any]:
    rows = brief.targets["sla"]
    counts = {v: sum(1 for r in rows if r["verdict"] == v) for v in _VERDICT_STATUS}
    blocks: list[Any] = []
    description = brief.doc.get("description")
    if description:
        blocks.append(Para.of(str(description).strip()))
    run = brief.doc["assumptions"]["run"]
    blocks.append(
        Para.of(
            "We simulated the support teams"
            + (" and the infrastructure" if brief.doc["assumptions"]["components"] else "")
            + " behind this service "
            f"{brief.n} times over {run['horizon_words']} from {run['start']} — each run a "
            f"plausible {brief.period}-by-{brief.period} future under the same assumptions — "
            f"and measured every proposed target as the service management tool would. A "
            f"target can be promised when it is met in at least {brief.c:.0%} of "
            f"{brief.period}s.",
            kind="lead",
        )
    )
    if rows:
        blocks.append(Para.of(*_count_sentence(len(rows), counts)))
    if brief.n < FEW_RUNS:
        blocks.append(
            Para.of(
                f"Only {brief.n} simulated runs: the intervals are wide and the verdicts "
                f"cautious. A brief for a negotiation should rest on {FEW_RUNS} or more "
                "(--replications).",
                kind="note",
            )
        )
    items: list[list[Inline]] = []
    options = brief.targets.get("options", [])
    for index, row in enumerate(rows):
        if row["verdict"] == "achievable":
            continue
        item: list[Inline] = [
            Badge(_VERDICT_STATUS[row["verdict"]], row["verdict"]),
            " ",
            Strong(sla_label(row)),
            f" ({target_text(row)}): {_words(row)}.",
        ]
        reached = row.get("achievable_within_h")
        if reached is not None:
            # The achievable target is what the runs reached in the chosen share of periods: by
            # construction its own P(period met) is about that share, so it is no promise either.
            item.append(
                f" In {brief.c:.0%} of the simulated {brief.period}s the service met "
                f"{fmt_pct(row['goal'], 0)} within {fmt_hours(reached)}{_interval_text(row)} "
                + (
                    "(the achievable target, with its 95% interval)."
                    if _interval_text(row)
                    else "(the achievable target)."
                )
            )
            if row["verdict"] == "at risk" and reached <= row["proposed_within_h"]:
                item.append(
                    " That is inside the proposed target, but the runs cannot show with "
                    f"confidence that it holds in {brief.c:.0%} of {brief.period}s: more "
                    "replications would settle it, or a margin above the proposed target."
                )
        fix = _cheapest_fix(options, index)
        if fix is not None:
            item.append(f" {fix}")
        items.append(item)
    for row in brief.targets.get("availability", []):
        item = [
            Badge(_VERDICT_STATUS[row["verdict"]], row["verdict"]),
            " ",
            Strong(f"{row['service']} availability"),
            f" ({format_percent(row['target'])} of agreed service time): {_words(row)}.",
        ]
        credit = brief.credit(row["service"])
        if credit is not None:
            item.append(f" Expected service credits: {fmt_money(credit)} a {brief.period}.")
        items.append(item)
    if items:
        blocks.append(Bullets.of(items))
    ola_rows = brief.doc["ola"]["sla"]
    if ola_rows and not brief.doc["simulation"]["ola"]:
        blocks.append(
            Para.of(
                "No team has an OLA and no supplier a UC, so nothing underpins the targets as "
                "written; section 5 recommends the agreements that would."
            )
        )
    elif ola_rows:
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
    impact = brief.doc.get("impact")
    for change in (impact or {}).get("changes", []):
        blocks.append(Para.of(Strong(f"Change {change['name']}: "), _change_headline(change)))
    return blocks


def _reading(brief: _Brief) -> list[Any]:
    return [
        Bullets.of(
            [
                f"Every simulated figure is the mean over {brief.runs()} with its 95% "
                "interval in brackets, e.g. 93.1% [91.8–94.3]: the range the mean would "
                "fall in if the simulation were run again many times. Fewer runs give "
                "wider intervals.",
                f"P({brief.period} meets goal) is the share of simulated {brief.period}s in "
                "which the target met its goal (its interval is a Wilson 95% interval). "
                f"“Met in about 7 {brief.period}s out of 10” reads it in words.",
                [
                    "Verdicts: ",
                    Badge("green", "achievable"),
                    f" when even the lower end of that interval reaches {brief.c:.0%}; ",
                    Badge("red", "not achievable"),
                    f" when even its upper end falls short of {brief.c:.0%}; ",
                    Badge("amber", "at risk"),
                    " otherwise — the simulation cannot promise it either way.",
                ],
                f"The achievable target is the shortest time that would have been met, with "
                f"the goal as proposed, in {brief.c:.0%} of the simulated {brief.period}s.",
                "Times are business hours on the target's calendar: a ticket opened on "
                "Friday evening against an office-hours target starts its clock on Monday "
                "morning. Periods only partly inside the simulated span are shown but not "
                f"counted in P({brief.period} meets goal).",
                "The figures are estimates from a model of the service, not measurements: "
                "the assumptions are listed at the end.",
            ]
        )
    ]


def _targets_section(brief: _Brief) -> list[Any]:
    rows = brief.targets["sla"]
    if not rows:
        return [Para.of("The scenario proposes no response or resolution target.")]
    table = Table.of(
        [
            "target",
            "proposed",
            "compliance at proposed",
            f"P({brief.period} meets goal)",
            f"achievable at {brief.c:.0%}",
            "verdict",
        ],
        [
            [
                sla_label(r),
                target_text(r),
                fmt_interval(brief.compliance.get(_key(r), {}).get("compliance")),
                fmt_interval(r["p_period_met"], 0),
                _achievable(r),
                Badge(_VERDICT_STATUS[r["verdict"]], r["verdict"]),
            ]
            for r in rows
        ],
        numeric=(2, 3),
        caption=f"Mean [95% interval] over {brief.runs()}",
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
        brief.figure(
            lambda: _charts().verdict_chart(rows, confidence=brief.c, replications=brief.n),
            f"P({brief.period} meets goal) per proposed target with its 95% interval; the red "
            f"line is the {brief.c:.0%} asked for.",
            "verdicts",
        ),
        brief.figure(
            lambda: _charts().compliance_chart(brief.sim["sla"], replications=brief.n),
            "Compliance over the whole span per target (mean and 95% interval); the red tick "
            "is the goal.",
            "compliance",
        ),
        brief.figure(
            lambda: _charts().period_chart(period_rows(brief.sim), replications=brief.n),
            f"Compliance per {brief.period} (mean and 95% interval); hollow points are "
            "partial periods.",
            "periods",
        ),
    ]


def _options_section(brief: _Brief) -> list[Any]:
    options = brief.targets.get("options", [])
    if not options:
        return [
            Para.of(
                "No staffing option was simulated (none was asked for, or no team limits "
                "the targets)."
            )
        ]
    rows: list[list[Cell]] = []
    for option in options:
        target = brief.targets["sla"][option["target_index"]]
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
                f"achievable at {brief.c:.0%}",
                f"P({brief.period} meets goal)",
                "verdict",
                "added cost / month",
            ],
            rows,
            numeric=(3, 5),
            caption=f"Each option: {brief.runs()}, same seed as the baseline",
        ),
    ]


def _ola_section(brief: _Brief) -> list[Any]:
    rows = brief.doc["ola"]["sla"]
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
            caption=f"Shares pooled over the tickets of {brief.runs()} [Wilson 95% interval]",
        )
    )
    recommended = [
        [
            sla_label(r),
            f"{rec['team']} {str(rec['kind']).upper()} {rec['metric']}",
            _agreement_now(brief.doc["assumptions"]["teams"], rec),
            (
                f"{fmt_pct(rec['goal'])} within {fmt_hours(rec['within_h'])} ({rec['calendar']})"
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
    agreements = brief.sim.get("ola", [])
    if agreements:
        blocks.append(
            Table.of(
                [
                    "agreement",
                    "target",
                    "visits per run",
                    "compliance",
                    f"P({brief.period} meets goal)",
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
                caption=f"OLAs and UCs as simulated: mean [95% interval] over {brief.runs()}",
            )
        )
    return blocks


def _charts() -> Any:
    from simkit.report import charts

    return charts


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


def _words(row: Mapping[str, Any]) -> str:
    words = str(row.get("words") or row.get("verdict") or "")
    prefix = f"{row.get('verdict')}: "
    return words[len(prefix) :] if words.startswith(prefix) else words


def _achievable(row: Mapping[str, Any]) -> str:
    value = row.get("achievable_within_h")
    if value is None:
        return "—"
    return f"{fmt_pct(row['goal'], 0)} within {fmt_hours(value)}{_interval_text(row)}"


def _interval_text(row: Mapping[str, Any]) -> str:
    """`` [lo–hi]`` of the achievable target (95%, resampling replications), where there is one."""
    interval = row.get("achievable_interval") or {}
    if interval.get("lo") is None:
        return ""
    hi = interval.get("hi")
    return f" [{fmt_hours(interval['lo'])}–{fmt_hours(hi) if hi is not None else '…'}]"


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
