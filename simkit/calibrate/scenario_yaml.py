"""The fitted scenario as YAML text, every number with a comment saying where it came from.

The targets, calendars, OLAs/UCs, customers and corporate level of a given scenario are copied in
where service and team names match. Names are quoted where YAML would misread them, and numbers
are rounded to the digits the history supports.
"""

from __future__ import annotations

import math
import re
from collections.abc import Collection, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import yaml

from simkit.calibrate.durations import _fit_comment
from simkit.calibrate.episodes import _ROUTE_PAUSE, _ROUTE_RESOLVED
from simkit.calibrate.report import _pct, _sig
from simkit.calibrate.span import DAYS, _iso, _local_date, as_instant
from simkit.scenario.checks import natural_key
from simkit.units import parse_fraction

if TYPE_CHECKING:
    from simkit.calibrate.arrays import _Data
    from simkit.calibrate.history import History
    from simkit.calibrate.outage_fit import FittedComponent
    from simkit.calibrate.starting import StartingState
    from simkit.calibrate.teams import _TeamFit
    from simkit.distributions import Distribution
    from simkit.scenario import Scenario


def _share_strings(counts: Mapping[str, int], decimals: int = 1) -> dict[str, str]:
    """Percentages that add up to exactly 100% (largest remainder), dropping zero shares; more
    decimals where a share would otherwise round to zero."""
    total = sum(counts.values())
    smallest = min((v for v in counts.values() if v > 0), default=total) / max(total, 1) * 100
    while decimals < 4 and smallest < 10**-decimals:
        decimals += 1
    unit = 10**decimals * 100
    raw = {k: v / total * unit for k, v in counts.items() if v > 0}
    floors = {k: math.floor(v) for k, v in raw.items()}
    short = unit - sum(floors.values())
    for k in sorted(raw, key=lambda k: raw[k] - floors[k], reverse=True)[:short]:
        floors[k] += 1
    return {k: f"{v / 10**decimals:.{decimals}f}%" for k, v in floors.items() if v > 0}


_PLAIN = re.compile(r"[A-Za-z_][A-Za-z0-9_./ -]*")
_YAML_WORDS = {"yes", "no", "on", "off", "true", "false", "null", "y", "n", "~"}

# Characters a YAML comment may hold as they are (PyYAML's reader refuses every other one), less
# the tab, the byte-order mark and the line breaks, which would end the comment: the rest is
# written as escapes (scalars are quoted by PyYAML's own emitter, :func:`_quoted`).
_UNPRINTABLE = re.compile(
    r"[^\x20-\x7e\xa0-\u2027\u202a-\ud7ff\ue000-\ufefe\uff00-\ufffd\U00010000-\U0010ffff]"
)
_ESCAPES = {"\t": "\\t", "\n": "\\n", "\r": "\\r", "\x85": "\\N", "\u2028": "\\L", "\u2029": "\\P"}


def _escape(match: re.Match[str]) -> str:
    """A YAML double-quoted escape for one character YAML cannot print (or that breaks a line)."""
    char = match.group()
    code = ord(char)
    if char in _ESCAPES:
        return _ESCAPES[char]
    if code < 0x100:
        return f"\\x{code:02x}"
    if code < 0x10000:
        return f"\\u{code:04x}"
    return f"\\U{code:08x}"


def _printable(text: str) -> str:
    """``text`` with every character YAML cannot print, and every line break, written as its
    escape (``\\x92``, ``\\N``, ``\\L``): for comments, where a raw one would make the whole
    file unreadable or end the comment early and turn the rest of it into YAML."""
    return _UNPRINTABLE.sub(_escape, text)


def _quoted(text: str) -> str:
    """``text`` as a YAML double-quoted scalar that reads back as exactly ``text``, written by
    PyYAML's own emitter (JSON quoting left C1 control characters, NEL and the Unicode line
    separators as they are, which YAML refuses or reads as line breaks)."""
    emitted: str = yaml.safe_dump(text, default_style='"', allow_unicode=True, width=math.inf)
    return emitted.rstrip("\n")


def _key(name: str) -> str:
    """A YAML key or scalar, quoted when YAML would misread it (or could not print it)."""
    if _PLAIN.fullmatch(name) and name.lower() not in _YAML_WORDS and not name.endswith(" "):
        return name
    return _quoted(name)


def _flow(value: Any) -> str:
    """A small value in YAML flow style."""
    if isinstance(value, Mapping):
        return "{" + ", ".join(f"{_key(str(k))}: {_flow(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_flow(v) for v in value) + "]"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return f"{_sig(value, 4):g}"
    if isinstance(value, int):
        return str(value)
    if value is None:
        return "null"
    text = str(value)
    if re.match(r"^[0-9.]+(s|m|min|h|d|w|%)$", text):
        return text
    return _key(text)


def _rounded_spec(distribution: Distribution) -> dict[str, Any]:
    """``to_spec`` with plain numbers rounded to 3 significant digits."""
    spec = distribution.to_spec()
    family, params = next(iter(spec.items()))
    out: dict[str, Any] = {}
    for name, value in params.items():
        if isinstance(value, float):
            out[name] = _sig(value, 3)
        elif isinstance(value, str):
            out[name] = _round_duration(value)
        else:
            out[name] = value
    return {family: out}


def _round_duration(text: str) -> str:
    match = re.match(r"^([0-9.eE+-]+)([a-z]+)$", text)
    if not match:
        return text
    number = _sig(float(match.group(1)), 3)
    return f"{number:g}{match.group(2)}"


def _copied_targets(
    given: Scenario | None,
    services: Sequence[str],
    teams: Sequence[str],
    priorities: Collection[str] = (),
) -> dict[str, Any]:
    """The parts of the given scenario to copy: calendars, priority targets, OLAs/UCs,
    customers and the corporate level, with a note of what matched.

    Customer and corporate targets for a priority the history has no ticket of (``priorities``:
    those of the fitted scenario) are left out — the fitted scenario could not hold them — and
    so are customers of none of the history's services; ``dropped`` says which and why."""
    if given is None:
        return {"from": None, "note": "no scenario given: the fitted scenario has no targets"}
    raw = given.raw
    out: dict[str, Any] = {
        "from": given.source or given.name,
        "calendars": raw.get("calendars") or {},
    }
    service_targets: dict[str, dict[str, Any]] = {}
    missing_services = []
    for name, service in (raw.get("services") or {}).items():
        if name not in services:
            missing_services.append(name)
            continue
        service_targets[name] = {
            str(p): {k: v for k, v in (level or {}).items() if k in ("respond", "resolve")}
            for p, level in (service.get("priorities") or {}).items()
        }
    agreements = {}
    for name, team in (raw.get("teams") or {}).items():
        if name in teams:
            for key in ("ola", "uc"):
                if team.get(key):
                    agreements[name] = (key, team[key])
    customers, corporate, dropped = _known_priority_targets(raw, services, priorities)
    out.update(
        priorities=service_targets,
        agreements=agreements,
        customers=customers,
        corporate=corporate,
        dropped=dropped,
        period=raw.get("period"),
        priority_order=raw.get("priority_order"),
        missing_services=missing_services,
        missing_teams=[t for t in (raw.get("teams") or {}) if t not in teams],
    )
    return out


def _split(targets: Mapping[Any, Any], known: Collection[str]) -> tuple[dict[Any, Any], list[str]]:
    """Targets by priority: those of a ``known`` priority, and the names of the others."""
    kept = {p: t for p, t in targets.items() if str(p) in known}
    return kept, [str(p) for p in targets if str(p) not in known]


def _known_priority_targets(
    raw: Mapping[str, Any], services: Sequence[str], priorities: Collection[str]
) -> tuple[dict[str, Any], dict[str, Any] | None, list[str]]:
    """The given scenario's customers and corporate level without targets for priorities the
    history lacks (and without customers of none of its services), and a note of each removal.

    With no priority in the history at all nothing is removed for priorities (the fitted
    scenario then checks no priority names)."""
    known = {str(p) for p in priorities}
    shown = ", ".join(sorted(known, key=natural_key))
    why = (
        f"the history has no ticket of that priority (its priorities: {shown}); map the "
        "export's priority values onto the scenario's in the mapping profile's priorities "
        "to keep these targets"
    )
    dropped: list[str] = []
    customers: dict[str, Any] = {}
    for cname, spec in (raw.get("customers") or {}).items():
        spec = dict(spec or {})
        if not any(s in services for s in (spec.get("services") or {})):
            dropped.append(
                f"customer {cname} of the given scenario left out: none of its services "
                f"({', '.join(map(str, spec.get('services') or {})) or 'none'}) is in the history"
            )
            continue
        kept, absent = _split(spec.get("priorities") or {}, known)
        if known and absent:
            spec["priorities"] = kept
            if not kept:
                del spec["priorities"]
            dropped.append(
                f"customer {cname}: targets for priority {', '.join(absent)} of the given "
                f"scenario left out: {why}"
            )
        customers[cname] = spec
    corporate = raw.get("corporate")
    if corporate and known:
        kept, absent = _split(corporate.get("priorities") or {}, known)
        if absent:
            corporate = {**corporate, "priorities": kept} if kept else None
            dropped.append(
                f"corporate level: targets for priority {', '.join(absent)} of the given "
                f"scenario left out{'' if kept else ' (no corporate level remains)'}: {why}"
            )
    return customers, corporate, dropped


class _Yaml:
    """YAML text built line by line; comments (which may quote names from the history) have
    the characters YAML cannot print escaped, so no name can break the file."""

    def __init__(self) -> None:
        self.lines: list[str] = []

    def comment(self, text: str, indent: int = 0) -> None:
        for line in _wrap(_printable(text), 98 - indent):
            self.lines.append(" " * indent + "# " + line)

    def line(self, indent: int, text: str, comment: str | None = None) -> None:
        body = " " * indent + text
        if comment:
            comment = _printable(comment)
            pad = max(1, 44 - len(body))
            if len(body) + pad + len(comment) + 2 > 100:
                self.comment(comment, indent)
                self.lines.append(body)
                return
            body += " " * pad + "# " + comment
        self.lines.append(body)

    def text(self) -> str:
        return "\n".join(self.lines) + "\n"


def _wrap(text: str, width: int) -> list[str]:
    words = text.split()
    lines: list[str] = []
    current = ""
    for word in words:
        if current and len(current) + 1 + len(word) > width:
            lines.append(current)
            current = word
        else:
            current = f"{current} {word}" if current else word
    if current:
        lines.append(current)
    return lines or [""]


def _plain_yaml(value: Any) -> str:
    import yaml

    text: str = yaml.safe_dump(
        value, default_flow_style=True, sort_keys=False, allow_unicode=True, width=10_000
    )
    return text.strip()


def _block(out: _Yaml, indent: int, key: str, value: Any) -> None:
    """A copied value in block style (via PyYAML) under ``key``."""
    import yaml

    text = yaml.safe_dump({key: value}, sort_keys=False, allow_unicode=True, width=96)
    for line in text.rstrip("\n").split("\n"):
        out.lines.append(" " * indent + line)


def _customer_shares(
    data: _Data, services: Collection[str], customers: Mapping[str, Any]
) -> dict[str, dict[str, Any]]:
    """Each customer's share of each service: the history's where the customer is seen in it;
    the given scenario's where not — scaled down, where needed, to what the customers seen leave
    of 100% (a customer left nothing is left out of that service)."""
    out: dict[str, dict[str, Any]] = {c: {} for c in customers}
    for s in services:
        rows = (data.service == s) & ~np.isnan(data.opened)
        total = max(1, int(rows.sum()))
        seen: dict[str, float] = {}
        given: dict[str, tuple[float, Any]] = {}
        for c, spec in customers.items():
            share = (spec.get("services") or {}).get(s)
            if share is None:
                continue
            count = int(np.sum(rows & (data.customer == c)))
            if count:
                seen[c] = count / total
            else:
                given[c] = (parse_fraction(share), share)
        left = max(0.0, 1.0 - sum(seen.values()))
        wanted = sum(fraction for fraction, _ in given.values())
        scale = left / wanted if wanted > left else 1.0
        for c, fraction in seen.items():
            out[c][s] = _pct(fraction, 1)
        for c, (fraction, written) in given.items():
            if scale == 1.0:
                out[c][s] = written
            elif (kept := math.floor(fraction * scale * 1000) / 1000) > 0:
                out[c][s] = _pct(kept, 1)  # rounded down: the shares stay within 100%
    return out


def _availability(
    out: _Yaml,
    service: str,
    components: Sequence[FittedComponent],
    given: Scenario | None,
    fitted_any: Sequence[FittedComponent] = (),
) -> None:
    """A service's availability on its fitted components, with the given scenario's target (and
    calendar, maintenance, credits); without a target, a comment saying how to add it; with a
    target but no outage in the span, a comment saying why it is left out."""
    spec = None
    if given is not None and service in given.services:
        spec = ((given.raw.get("services") or {}).get(service) or {}).get("availability")
    names = [c.name for c in components]
    if not components:
        if spec and fitted_any:
            out.comment(
                f"Availability of the given scenario left out: the outage history has no "
                f"unplanned outage of {service} in the span (no failure to fit)",
                4,
            )
        return
    if not spec:
        out.comment(
            f"Outages fitted to {', '.join(names)}; no availability target for {service} in a "
            f"given scenario (--scenario): add availability: {{target: 99.9%, depends_on: "
            f"[{', '.join(names)}]}}",
            4,
        )
        return
    replaced = list(dict(spec).get("depends_on") or [])
    if replaced and replaced != names:
        out.comment(
            f"depends_on replaced: the given scenario's {', '.join(map(str, replaced))} by the "
            "components fitted to the outage history",
            4,
        )
    kept = {k: v for k, v in dict(spec).items() if k != "depends_on"}
    _block(out, 4, "availability", {**kept, "depends_on": names})


def _write_yaml(
    history: History,
    data: _Data,
    zone: str,
    start: np.datetime64,
    end: np.datetime64,
    name: str,
    services: Mapping[str, dict[str, Any]],
    teams: Sequence[_TeamFit],
    copied: Mapping[str, Any],
    given: Scenario | None,
    components: Sequence[FittedComponent] = (),
    starting: StartingState | None = None,
) -> str:
    out = _Yaml()
    n_tickets = int(np.sum(~np.isnan(data.opened)))
    out.comment(
        f"Calibrated from {history.source} (profile {history.profile}): {n_tickets:,} tickets "
        f"opened {_local_date(start, zone).isoformat()} … "
        f"{(_local_date(end - np.timedelta64(1, 'us'), zone)).isoformat()} "
        f"({data.span_h / 168:.1f} weeks), observed until "
        f"{_iso(as_instant(history.observed_until))}. Every number below says where it "
        "came from; see the calibration report for goodness of fit and assumptions."
    )
    out.line(0, f"name: {_key(name)}")
    days = max(1, round(data.span_h / 24))
    if starting is None:
        first, first_note = _local_date(start, zone), "the first day of the history"
    else:
        first = starting.start
        first_note = "the first midnight at or after the export: the run starts with its backlog"
    out.line(0, f"start: {first.isoformat()}", first_note)
    out.line(0, f"timezone: {zone}", "profile and rosters are in this time zone")
    out.line(
        0,
        f"horizon: {days}d",
        "the span of the history" if starting is None else "as long as the history",
    )
    if starting is not None:
        note = (
            "the run begins at the export"
            + (", the backlog below in the queues" if starting.lines else "")
            + "; tickets opening before the start are not measured"
        )
        out.line(0, f"warmup: {_sig(starting.warmup_h, 6):g}h", note)
    if given is not None:
        out.line(0, f"replications: {given.replications}", "from the given scenario")
        out.line(0, f"seed: {given.seed}")
    period = copied.get("period") or "month"
    out.line(0, f"period: {period}", "from the given scenario" if copied.get("period") else None)
    priorities = sorted({str(p) for s in services.values() for p in s["mix"]}, key=natural_key)
    order = list(copied.get("priority_order") or [])
    order = [p for p in order if p in priorities] + [p for p in priorities if p not in order]
    out.line(0, f"priority_order: {_flow(order)}", "highest first")
    calendars = dict(copied.get("calendars") or {})
    own = {
        f["demand"]["calendar"][0]: f["demand"]["calendar"][1]
        for f in services.values()
        if f["demand"].get("calendar") is not None
    }
    if calendars or own:
        out.line(0, "calendars:")
        if calendars:
            out.comment("from the given scenario (its targets use them)", 2)
            for name, spec in calendars.items():
                _block(out, 2, str(name), spec)
        for name, spec in own.items():
            out.comment(
                "the hours tickets of this service arrive in, closed on the holidays found quiet", 2
            )
            _block(out, 2, name, spec)
    out.line(0, "services:")
    for service, fitted in services.items():
        demand = fitted["demand"]
        out.line(2, f"{_key(service)}:")
        entry_note = (
            f"{_pct(fitted['entry_share'])} of its tickets were first assigned here"
            if fitted["entry_share"] < 1
            else "every ticket was first assigned here"
        )
        out.line(4, f"entry: {_key(fitted['entry'])}", entry_note)
        out.line(4, "demand:")
        per_week = demand["per_week"]
        growth = demand["growth"]
        rate_note = f"{demand['tickets']:,} tickets over {demand['weeks']:.1f} weeks"
        if starting is not None and growth["per_year"]:
            per_week *= (1 + growth["per_year"]) ** starting.years_on
            rate_note += ", moved along the trend to the start"
        elif growth.get("used"):
            rate_note += ", at the start of the trend"
        out.line(6, f"per_week: {_sig(per_week, 4):g}", rate_note)
        out.line(6, f"growth: {_pct(growth['per_year'], 1)}", growth.get("note", ""))
        if isinstance(demand["profile"], str):
            out.line(6, f"profile: {_key(demand['profile'])}", demand["profile_note"])
        else:
            out.line(6, "profile:", demand["profile_note"])
            matrix = demand["profile"]
            for d in range(7):
                row = ", ".join(f"{_sig(float(v), 3):g}" for v in matrix[d])
                out.line(8, f"- [{row}]", DAYS[d])
        holiday_note = demand["holidays"].get("note")
        if holiday_note:
            out.comment(f"Holidays: {holiday_note}", 6)
        out.line(4, "priorities:")
        mix = fitted["mix"]
        shares = _share_strings(mix)
        targets = (copied.get("priorities") or {}).get(service, {})
        for p in sorted(shares, key=natural_key):
            level: dict[str, Any] = {"share": shares[p]}
            level.update(targets.get(p, {}))
            out.line(
                6,
                f"{_key(p)}: {_plain_yaml(level)}",
                f"{mix[p]:,} of {sum(mix.values()):,} tickets",
            )
        missing = [p for p in targets if p not in shares]
        if missing:
            out.comment(
                f"targets for {', '.join(missing)} in the given scenario: no such tickets in the "
                "history, left out",
                6,
            )
        probability, after = fitted["reopen"]
        if after is not None and probability > 0:
            out.line(
                4,
                f"reopen: {{probability: {_pct(probability, 2)}, after: {_flow(_rounded_spec(after.distribution))}}}",
                f"reopened tickets / resolved tickets; {_fit_comment(after, 'reopenings')}",
            )
        _availability(
            out, service, [c for c in components if service in c.services], given, components
        )
    out.line(0, "teams:")
    for team in teams:
        out.line(2, f"{_key(team.name)}:")
        if team.kind == "supplier":
            out.line(4, "kind: supplier")
            out.line(4, f"calendar: {_key(team.calendar or '24x7')}")
        else:
            out.comment(team.roster_comment, 4)
            out.line(4, "roster:")
            for line, n in (team.roster or {}).items():
                out.line(6, f"{_quoted(str(line))}: {n}")
            if team.shrinkage:
                out.line(
                    4,
                    f"shrinkage: {_pct(team.shrinkage, 0)}",
                    "whole agents above × (1 − shrinkage) = the capacity inferred",
                )
        out.comment(f"handling: {team.method}: {team.handle_what}", 4)
        out.line(4, "handle:")
        for p, f in team.handle.items():
            out.line(
                6,
                f"{_key(p)}: {_flow(_rounded_spec(f.distribution))}",
                _fit_comment(f, "stretches"),
            )
        routes = dict(team.routes)
        if routes and set(routes) != {_ROUTE_RESOLVED}:
            shares = _share_strings(
                {k: v for k, v in routes.items() if v > 0} or {_ROUTE_RESOLVED: 1}
            )
            ordered = {
                k: shares[k]
                for k in sorted(shares, key=lambda k: (k != _ROUTE_RESOLVED, k != _ROUTE_PAUSE, k))
            }
            out.line(
                4,
                f"next: {_flow(ordered)}",
                f"from {sum(team.routes.values()):,} finished stretches",
            )
        if team.pause is not None and routes.get(_ROUTE_PAUSE):
            out.line(
                4,
                f"pause: {{duration: {_flow(_rounded_spec(team.pause.distribution))}}}",
                team.pause_comment,
            )
        agreement = (copied.get("agreements") or {}).get(team.name)
        if agreement is not None:
            key, value = agreement
            if (key == "uc") == (team.kind == "supplier"):
                _block(out, 4, key, value)
    customers = copied.get("customers") or {}
    kept = {
        c: spec
        for c, spec in customers.items()
        if any(s in services for s in (spec.get("services") or {}))
    }
    if kept:
        out.comment("Customers of the given scenario, with their shares of each service.")
        of_customer = _customer_shares(data, services, kept)
        fitted_customers: dict[str, Any] = {}
        for c, spec in kept.items():
            entry: dict[str, Any] = {"services": of_customer[c]}
            if spec.get("priorities"):
                entry["priorities"] = spec["priorities"]
            if of_customer[c]:
                fitted_customers[c] = entry
        for c in kept:
            if not of_customer[c]:
                out.comment(f"Customer {c} left out: the history's customers fill its services.")
        if fitted_customers:
            _block(out, 0, "customers", fitted_customers)
    if copied.get("corporate"):
        _block(out, 0, "corporate", copied["corporate"])
    if components:
        out.comment("Components fitted to the outage history: one per service (or per component")
        out.comment("the file names), its unplanned outages as failures.")
        out.line(0, "components:")
        for c in components:
            out.line(2, f"{_key(c.name)}:")
            out.line(4, f"fails: {_flow(_rounded_spec(c.fails.distribution))}", c.fails_comment())
            out.line(
                4, f"repair: {_flow(_rounded_spec(c.repair.distribution))}", c.repair_comment()
            )
    if starting is not None and starting.lines:
        out.comment(
            f"The tickets open at the export time ({_iso(as_instant(history.observed_until))}), "
            "by the team that last held them, with their mean age then: they wait in "
            "its queue when the run begins; their SLA is not measured (they opened before it), "
            "their later visits to other teams are, as any visit's."
        )
        out.line(0, "backlog:")
        for group in starting.lines:
            fields = (
                f"team: {_key(group['team'])}, service: {_key(group['service'])}, "
                f"priority: {_key(group['priority'])}, tickets: {group['tickets']}, "
                f"age: {_sig(group['age_h'], 4):g}h"
            )
            out.line(2, "- {" + fields + "}")
    for note in starting.notes if starting is not None else []:
        out.comment(note[0].upper() + note[1:] + ".")
    for note in copied.get("dropped") or ():
        out.comment(note[0].upper() + note[1:] + ".")
    return out.text()
