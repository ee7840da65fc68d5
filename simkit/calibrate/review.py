"""The service review: how the service levels of a scenario were actually met in a history.

The history's tickets, visits and pauses go through :func:`simkit.measure.summarize` — the very
code that measures simulations — with the scenario's SLA, OLA and UC targets, over the history's
own span: from local midnight (scenario time zone) of the day the first ticket was opened to the
export time. Reporting periods lying wholly inside are *full*; the partial ones at either end are
reported but left out of P(period met).

The history's names (services, priorities, customers, teams) are matched to the scenario's in
this order: an explicit mapping (``--map team:"Group 56"=service_desk``); the same name; the same
name ignoring case, spaces, dashes and underscores (``Service Desk`` = ``service_desk``); and, for
services, the only service on each side. Several history names may map to one scenario name (two
assignment groups forming one team). Whatever stays unmatched is reported: history names whose
tickets no target measures, and scenario names that found no history.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from simkit.calibrate.quality import quality_summary
from simkit.errors import InputError
from simkit.measure import summarize
from simkit.measure.clock import instants
from simkit.measure.sla import ola_outcomes, sla_outcomes, ticket_pauses
from simkit.scenario.targets import measure_spec
from simkit.units import percent

if TYPE_CHECKING:
    from simkit.calibrate.history import History
    from simkit.calibrate.outages import OutageHistory
    from simkit.measure import MeasureSpec
    from simkit.scenario import Scenario

__all__ = [
    "KINDS",
    "NameMap",
    "fmt_hours",
    "fmt_pct",
    "parse_map_option",
    "review",
    "review_text",
    "target_label",
    "verdict",
]

KINDS = ("service", "priority", "customer", "team")
"""The kinds of names matched between history and scenario."""

_US_PER_H = 3_600_000_000


@dataclass(frozen=True)
class NameMap:
    """Explicit history → scenario names, per kind (``service``, ``priority``, ``customer``,
    ``team``)."""

    service: Mapping[str, str] = field(default_factory=dict)
    priority: Mapping[str, str] = field(default_factory=dict)
    customer: Mapping[str, str] = field(default_factory=dict)
    team: Mapping[str, str] = field(default_factory=dict)

    def of(self, kind: str) -> Mapping[str, str]:
        found: Mapping[str, str] = getattr(self, kind)
        return found


def parse_map_option(items: Sequence[str]) -> NameMap:
    """``KIND:HISTORY=SCENARIO`` options (``priority:S1=P1``, ``team:Group 56=service_desk``).

    Raises
    ------
    simkit.errors.InputError
        Naming every malformed option.
    """
    found: dict[str, dict[str, str]] = {k: {} for k in KINDS}
    problems = []
    for item in items:
        kind, colon, rest = item.partition(":")
        source, equals, target = rest.partition("=")
        kind = kind.strip().lower()
        if not colon or not equals or kind not in KINDS or not source.strip() or not target.strip():
            problems.append(
                InputError.single(
                    f"--map {item!r} is not KIND:HISTORY=SCENARIO",
                    f"KIND is one of {', '.join(KINDS)}; e.g. --map priority:S1=P1 or "
                    "--map 'team:Group 56=service_desk'",
                    path="--map",
                ).problems[0]
            )
            continue
        found[kind][source.strip()] = target.strip()
    if problems:
        raise InputError(problems)
    return NameMap(**found)


def _key(name: str) -> str:
    return re.sub(r"[\s_\-./]+", "", name).casefold()


@dataclass(frozen=True)
class _Matched:
    mapping: dict[str, str]
    how: dict[str, str]
    unmatched_history: list[str]
    unmatched_scenario: list[str]
    unused_maps: list[str]
    """``--map`` entries naming a history name the export does not hold."""


def _match(
    kind: str, history: Sequence[str], scenario: Sequence[str], explicit: Mapping[str, str]
) -> _Matched:
    mapping: dict[str, str] = {}
    how: dict[str, str] = {}
    known = set(scenario)
    bad = [f"{k}={v}" for k, v in explicit.items() if v not in known]
    if bad:
        raise InputError.single(
            f"--map {kind}: {', '.join(bad)} names no {kind} of the scenario",
            f"the scenario's {kind} names are: {', '.join(sorted(known)) or '(none)'}",
            path="--map",
        )
    # A mapping from a name this history lacks is kept as a note, not refused: a standing
    # --map serves exports of every month, and a month may lack a name (or it is a typo).
    unused = [f"{k}={v}" for k, v in explicit.items() if k not in set(history)]
    by_key = {_key(s): s for s in scenario}
    for name in history:
        if name in explicit:
            mapping[name], how[name] = explicit[name], "mapped"
        elif name in known:
            mapping[name], how[name] = name, "same name"
        elif _key(name) in by_key:
            mapping[name], how[name] = by_key[_key(name)], "same name (case and spacing ignored)"
    left_history = [h for h in history if h not in mapping]
    left_scenario = [s for s in scenario if s not in set(mapping.values())]
    if kind == "service" and len(left_history) == 1 and len(left_scenario) == 1:
        only = left_history[0]
        mapping[only], how[only] = left_scenario[0], "the only service on each side"
        left_history, left_scenario = [], []
    return _Matched(mapping, how, left_history, left_scenario, unused)


def _names(column: pa.ChunkedArray) -> list[str]:
    return sorted(str(v) for v in pc.unique(column).to_pylist() if v is not None)


def _renamed(column: pa.ChunkedArray, mapping: Mapping[str, str]) -> pa.Array:
    """``column`` with its values renamed by ``mapping`` (others unchanged), vectorised."""
    encoded = pc.dictionary_encode(column.combine_chunks())
    values = encoded.dictionary.to_pylist()
    renamed = pa.array([mapping.get(v, v) for v in values], pa.string())
    out: pa.Array = renamed.take(encoded.indices)
    return out


def _scenario_names(scenario: Scenario) -> dict[str, list[str]]:
    priorities = list(scenario.priorities)
    for customer in scenario.customers.values():
        priorities.extend(p for p in customer.priorities if p not in priorities)
    if scenario.corporate is not None:
        priorities.extend(p for p in scenario.corporate.priorities if p not in priorities)
    return {
        "service": list(scenario.services),
        "priority": priorities,
        "customer": list(scenario.customers),
        "team": list(scenario.teams),
    }


def _local_midnight(instant: np.datetime64, zone: str) -> np.datetime64:
    micros = int(instant.astype("datetime64[us]").astype(np.int64))
    utc = dt.datetime(1970, 1, 1, tzinfo=dt.UTC) + dt.timedelta(microseconds=micros)
    day = utc.astimezone(ZoneInfo(zone)).date()
    return _day_start(day, zone)


def _day_start(day: dt.date, zone: str) -> np.datetime64:
    local = dt.datetime.combine(day, dt.time(0), tzinfo=ZoneInfo(zone))
    return np.datetime64(local.astimezone(dt.UTC).replace(tzinfo=None), "us")


def _iso(instant: np.datetime64 | None, zone: str) -> str | None:
    if instant is None or np.isnat(instant):
        return None
    micros = int(np.asarray(instant).astype("datetime64[us]").astype(np.int64))
    utc = dt.datetime(1970, 1, 1, tzinfo=dt.UTC) + dt.timedelta(microseconds=micros)
    return utc.astimezone(ZoneInfo(zone)).isoformat(timespec="minutes")


def review(
    history: History,
    scenario: Scenario,
    *,
    names: NameMap | None = None,
    start: dt.date | None = None,
    until: dt.date | None = None,
    breaches: int = 20,
    outages: OutageHistory | None = None,
) -> dict[str, Any]:
    """Measure a history against a scenario's SLA, OLA and UC targets.

    Parameters
    ----------
    history
        From :func:`simkit.calibrate.load_history`.
    scenario
        Its targets, calendars, time zone and reporting period are used.
    names
        Explicit history → scenario names (see the module docstring for the matching rules).
    start, until
        Local dates (scenario time zone) to measure from (inclusive) and until (exclusive)
        instead of the whole history.
    breaches
        How many of the worst breaches to list.
    outages
        An outage history (:func:`simkit.calibrate.outages.load_outages`): availability per
        period is measured against the scenario's availability targets over the same span.

    Returns
    -------
    dict
        The :func:`simkit.measure.summarize` document (``sla``, ``ola``, ``teams``,
        ``periods``) plus ``scenario``, ``source``, ``profile``, ``span``, ``mapping``,
        ``quality`` and ``breaches`` — the worst first, by time taken relative to the target;
        ``stop_at`` is when the clock stopped, or for a ticket still open its breach instant.
    """
    names = names or NameMap()
    wanted = _scenario_names(scenario)
    tickets, visits = history.tickets, history.visits
    mapping_doc: dict[str, Any] = {}
    for kind in KINDS:
        table, column = (visits, "team") if kind == "team" else (tickets, kind)
        matched = _match(kind, _names(table[column]), wanted[kind], names.of(kind))
        if table.num_rows:
            index = table.schema.get_field_index(column)
            table = table.set_column(index, column, _renamed(table[column], matched.mapping))
        if kind == "team":
            visits = table
        else:
            tickets = table
        mapping_doc[kind] = {
            "matched": [
                {"history": h, "scenario": s, "how": matched.how[h]}
                for h, s in matched.mapping.items()
            ],
            "unmatched_history": matched.unmatched_history,
            "unmatched_scenario": matched.unmatched_scenario,
            "unused_maps": matched.unused_maps,
        }
    spec = _span(history, scenario, start, until)
    document = summarize(tickets, visits, history.pauses, None, spec)
    full = sum(1 for p in _period_labels(document, full=True))
    partial = sum(1 for p in _period_labels(document, full=False))
    return {
        "scenario": scenario.name,
        "source": history.source,
        "profile": history.profile,
        **document,
        "span": {
            "start": _iso(spec.start, spec.timezone),
            "end": _iso(spec.horizon_end, spec.timezone),
            "observed_until": _iso(history.observed_until, spec.timezone),
            "first_opened": _iso(history.first_opened, spec.timezone),
            "timezone": spec.timezone,
            "period": spec.period,
            "full_periods": full,
            "partial_periods": partial,
        },
        "mapping": mapping_doc,
        "quality": history.quality.as_dict(),
        "breaches": _worst_breaches(tickets, visits, history, spec, breaches),
        **_availability(outages, scenario, spec),
    }


def _availability(
    outages: OutageHistory | None, scenario: Scenario, spec: MeasureSpec
) -> dict[str, Any]:
    """Availability rows and per-period rows of an outage history, as for a simulation."""
    if outages is None:
        return {"availability": [], "availability_periods": []}
    from simkit.measure.availability import availability_period_rows, availability_rows
    from simkit.scenario.targets import availability_targets

    targets = availability_targets(scenario, span=(spec.start, spec.horizon_end))
    quality: dict[str, Any] = outages.as_dict()
    measured = {target.service for target in targets}
    services = Counter(outages.outages["service"].to_pylist())
    unmatched = {name: count for name, count in services.items() if name not in measured}
    if unmatched:  # rows no availability target measures: counted, never dropped silently
        quality["rules"] = [
            *quality["rules"],
            {
                "rule": "unknown_service",
                "title": "outages of a service with no availability target in the scenario "
                "(not measured)",
                "action": "info",
                "count": sum(unmatched.values()),
                "unit": "rows",
                "examples": [
                    {"column": "service", "value": name, "detail": f"{count:,} rows"}
                    for name, count in list(unmatched.items())[:5]
                ],
                "fix": "name the services as the scenario does ("
                + (", ".join(sorted(measured)) or "it has no availability target")
                + "), or give --outage-service for a file without a service column",
            },
        ]
    return {
        "availability": availability_rows(outages.outages, targets, spec),
        "availability_periods": availability_period_rows(outages.outages, targets, spec),
        "outage_quality": quality,
    }


def _period_labels(document: Mapping[str, Any], *, full: bool) -> list[str]:
    return sorted({r["period"] for r in document["periods"] if bool(r.get("full")) == full})


def _span(
    history: History, scenario: Scenario, start: dt.date | None, until: dt.date | None
) -> MeasureSpec:
    zone = scenario.timezone
    begin = _day_start(start, zone) if start else _local_midnight(history.first_opened, zone)
    end = _day_start(until, zone) if until else history.observed_until + np.timedelta64(1, "us")
    if not begin < end:
        raise InputError.single(
            f"the measured span is empty: it starts {_iso(begin, zone)} and ends {_iso(end, zone)}",
            "check --from / --until against the history's dates "
            f"({_iso(history.first_opened, zone)} … {_iso(history.observed_until, zone)})",
            path="--from",
        )
    return measure_spec(
        scenario,
        start=begin,
        horizon_end=end,
        observed_until=history.observed_until,
        replications=1,
    )


def _worst_breaches(
    tickets: pa.Table, visits: pa.Table, history: History, spec: MeasureSpec, limit: int
) -> list[dict[str, Any]]:
    """The ``limit`` breaches with the largest time taken relative to the target."""
    if limit <= 0:
        return []
    found: list[dict[str, Any]] = []
    zone = spec.timezone
    source_id = tickets["source_id"] if "source_id" in tickets.column_names else None
    now = spec.observed_until
    attached = ticket_pauses(tickets, history.pauses, spec) if spec.sla else None
    candidates: list[tuple[float, dict[str, Any]]] = []
    for target in spec.sla:
        outcomes = sla_outcomes(tickets, attached, target, spec)
        candidates.extend(
            _breach_rows(
                outcomes,
                target.within_h,
                target.calendar,
                now,
                limit,
                {
                    "kind": "sla",
                    "level": target.level,
                    "service": target.service,
                    "customer": target.customer,
                    "priority": target.priority,
                    "team": None,
                    "metric": target.metric,
                    "within_h": float(target.within_h),
                    "calendar": target.calendar_name,
                },
            )
        )
    for ola in spec.ola:
        outcomes = ola_outcomes(visits, ola, spec, tickets)
        candidates.extend(
            _breach_rows(
                outcomes,
                ola.within_h,
                ola.calendar,
                now,
                limit,
                {
                    "kind": ola.kind,
                    "level": None,
                    "service": None,
                    "customer": None,
                    "priority": ola.priority,
                    "team": ola.team,
                    "metric": ola.metric,
                    "within_h": float(ola.within_h),
                    "calendar": ola.calendar_name,
                },
            )
        )
    candidates.sort(key=lambda item: -item[0])
    for _, row in candidates[:limit]:
        ticket_id = row.pop("_ticket_id")
        row["ticket_id"] = ticket_id
        row["ticket"] = source_id[ticket_id].as_py() if source_id is not None else None
        opened = tickets["opened_at"][ticket_id].value
        row["opened_at"] = _iso(np.datetime64(opened, "us"), zone)
        row["stop_at"] = _iso(row.pop("_stop"), zone)
        found.append(row)
    return found


def _breach_rows(
    outcomes: pa.Table,
    within_h: float,
    calendar: Any,
    now: np.datetime64,
    limit: int,
    target: dict[str, Any],
) -> list[tuple[float, dict[str, Any]]]:
    breached = pc.equal(outcomes["status"], "breached")
    rows = outcomes.filter(breached)
    if rows.num_rows == 0:
        return []
    time_h = np.asarray(rows["time_h"].to_numpy(zero_copy_only=False), dtype=np.float64)
    stop = instants(rows["stop_at"], "stop_at")
    still_open = ~np.isfinite(time_h)
    if still_open.any():
        late = np.asarray(calendar.elapsed(stop[still_open], np.full(still_open.sum(), now)))
        time_h = time_h.copy()
        time_h[still_open] = within_h + late
    ratio = time_h / within_h
    top = np.argsort(-ratio, kind="stable")[:limit]
    ticket_ids = rows["ticket_id"].to_numpy(zero_copy_only=False)
    periods = rows["period"].to_pylist()
    out = []
    for i in top:
        out.append(
            (
                float(ratio[i]),
                {
                    **target,
                    "_ticket_id": int(ticket_ids[i]),
                    "time_h": float(time_h[i]),
                    "over_h": float(time_h[i] - within_h),
                    "times_target": float(ratio[i]),
                    "open": bool(still_open[i]),
                    "period": periods[i],
                    "_stop": stop[i],
                },
            )
        )
    return out


# -- presentation -----------------------------------------------------------------------------


def fmt_pct(value: float | None) -> str:
    """A fraction as a percentage with one decimal (``—`` when missing)."""
    return "—" if value is None else f"{percent(value)}%"


def fmt_hours(value: float | None) -> str:
    """Hours as minutes, hours or days, whichever reads best."""
    if value is None:
        return "—"
    if value >= 48:
        return f"{value / 24:.1f} d"
    if value >= 1:
        return f"{value:.1f} h"
    return f"{value * 60:.0f} min"


def target_label(row: Mapping[str, Any]) -> str:
    """``service/customer priority metric`` (or ``team priority metric``) of a row."""
    who = row.get("team") or "/".join(
        str(x) for x in (row.get("service") or "all services", row.get("customer")) if x
    )
    priority = row.get("priority")
    return f"{who} {priority or ''} {row['metric']}".replace("  ", " ").strip()


def verdict(row: Mapping[str, Any]) -> str:
    """``met`` / ``missed`` (measured compliance against the goal), ``no tickets``."""
    mean = row["compliance"]["mean"]
    if mean is None:
        return "no tickets"
    return "met" if mean >= row["goal"] - 1e-12 else "missed"


def review_text(document: Mapping[str, Any]) -> str:
    """The review as plain text tables (for terminals without colour, logs and tests)."""
    span = document["span"]
    lines = [
        f"Service review — {document['scenario']}",
        f"history {document['source']} (profile {document['profile']}), "
        f"{span['start']} … {span['end']}, {span['period']}s in {span['timezone']}: "
        f"{span['full_periods']} full and {span['partial_periods']} partial periods",
        "",
        "SLA targets",
    ]
    for row in document["sla"]:
        lines.append(
            f"  {target_label(row):<40} within {fmt_hours(row['within_h']):>8} "
            f"goal {fmt_pct(row['goal']):>6}  tickets {row['tickets']:>7.0f}  "
            f"compliance {fmt_pct(row['compliance']['mean']):>6}  "
            f"periods met {fmt_pct(row['p_period_met']['mean']):>6}  {verdict(row)}"
        )
    if document["ola"]:
        lines += ["", "OLA / UC targets"]
        for row in document["ola"]:
            lines.append(
                f"  {target_label(row):<40} within {fmt_hours(row['within_h']):>8} "
                f"goal {fmt_pct(row['goal']):>6}  visits {row['tickets']:>7.0f}  "
                f"compliance {fmt_pct(row['compliance']['mean']):>6}  {verdict(row)}"
            )
    if document["breaches"]:
        lines += ["", "Worst breaches"]
        for b in document["breaches"]:
            lines.append(
                f"  {b['ticket']!s:<14} {target_label(b):<36} took {fmt_hours(b['time_h'])} "
                f"({b['times_target']:.1f}× the {fmt_hours(b['within_h'])} target)"
                + (" — still open" if b["open"] else "")
            )
    unmatched = [
        f"{kind}: history {', '.join(m['unmatched_history'])}"
        for kind, m in document["mapping"].items()
        if m["unmatched_history"]
    ]
    if unmatched:
        lines += ["", "Not measured (no matching scenario name; use --map):"]
        lines += [f"  {u}" for u in unmatched]
    unused = [
        f"--map {kind}:{u}" for kind, m in document["mapping"].items() for u in m["unused_maps"]
    ]
    if unused:
        lines += ["", "Mappings from names this history does not hold (typo, or not this time):"]
        lines += [f"  {u}" for u in unused]
    lines += ["", *quality_summary(document["quality"])]
    return "\n".join(lines)
