"""The sections of the service review pack beyond the service level targets: internal
agreements (OLAs) and supplier contracts (UCs), availability, the pack against the model, and the
data, names and quality behind it.
"""

from __future__ import annotations

from typing import Any

from simkit.report.html import Badge, Bullets, Cell, Para, Table, target_text
from simkit.report.review_data import availability_status, outside_chance
from simkit.report.review_sla import (
    _comparison,
    _digits,
    _label,
    _minute,
    _ola_key,
    _Pack,
    _range_text,
    _sla_key,
    _trend,
)
from simkit.report.text import fmt_interval, fmt_pct
from simkit.units import format_percent

Row = dict[str, Any]
_STATUS_WORDS = {"green": "met", "amber": "met, close", "red": "missed", "grey": "no tickets"}


def _ola(pack: _Pack) -> list[Any]:
    rows = pack.review.get("ola") or []
    if not rows:
        return [Para.of("The scenario sets no OLA or UC.")]
    headers = ["agreement", "target", "visits", "compliance", "status"]
    if pack.expected is not None:
        headers += ["model: mean [95%]", "range of runs", "reading"]
    table_rows = []
    for r in rows:
        status = pack.overall(r)
        value = r["compliance"]["mean"]
        model = pack.model_ola.get(_ola_key(r), {})
        digits = _digits(value, model.get("range"))
        cells: list[Any] = [
            _label(r),
            target_text(r),
            f"{r['tickets']:,.0f}",
            fmt_pct(value, digits),
            Badge(status, _STATUS_WORDS[status]),
        ]
        if pack.expected is not None:
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


def _availability(pack: _Pack) -> list[Any]:
    measured = pack.history_availability
    modelled = (pack.expected or {}).get("availability_periods") or []
    if measured is None and not modelled:
        return [
            Para.of(
                "No availability was measured: give an outage history and a scenario with "
                "an availability target, or a scenario with an availability target for the "
                "model's expectation."
            )
        ]
    blocks: list[Any] = []
    targets = {r["service"]: r["target"] for r in (pack.expected or {}).get("availability", [])}
    if measured is not None:
        targets.update({r["service"]: r["target"] for r in measured["availability"]})
    model = {(r["service"], r["period"]): r for r in modelled}
    rows_in = measured["periods"] if measured is not None else modelled
    services = list(dict.fromkeys(r["service"] for r in rows_in))
    if not services:
        return [Para.of("The scenario sets no availability target.")]
    headers = ["service", "target", pack.period, "measured", "status"]
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
            pack.figure(
                _trend(
                    rows,
                    goal=target,
                    title=f"{service} availability — target {format_percent(target)}",
                    value_format=".2%",
                    replications=pack.runs or None,
                ),
                f"{service}: availability per {pack.period} against its target",
                f"availability-{service}",
            )
        )
    return blocks


def _model(pack: _Pack) -> list[Any]:
    if pack.expected is None:
        return [
            Para.of(
                "No simulation of the scenario was run for this pack, so the measured "
                "figures stand alone. Give a scenario (and replications) to see what the "
                "model expected over the same span."
            )
        ]
    blocks: list[Any] = [
        Para.of(
            f"The scenario {pack.expected['scenario']} was simulated {pack.runs} times over "
            "the same span and observed as the history was. “Model” is the mean over the "
            "runs with its 95% interval; the “range of runs” is where one real history should "
            "fall if the model is right: a history outside it says the model (or the service) "
            f"has changed — or is the chance of {outside_chance(pack.runs):.1%} that a history "
            "of the model itself falls outside the range of "
            f"{pack.runs} runs (5% or less from 39 runs)."
        )
    ]
    rows: list[list[Cell]] = []
    for r in pack.review["sla"]:
        model = pack.model_sla.get(_sla_key(r), {})
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
                f"model: P({pack.period} meets goal)",
                "reading",
            ],
            rows,
            numeric=(1, 2, 3, 4),
        )
    )
    failures = pack.expected.get("failures") or []
    if failures:
        blocks.append(
            Para.of(f"{len(failures)} simulated runs failed and are left out.", kind="note")
        )
    blocks.append(
        Para.of(
            f"{pack.runs} runs, seed {pack.expected['seed']}. With few runs the range is "
            "rough: its ends are the extreme runs.",
            kind="note",
        )
    )
    return blocks


def _data(pack: _Pack) -> list[Any]:
    review, span = pack.review, pack.span
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
