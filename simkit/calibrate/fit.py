"""History → scenario: fit demand, priority mix, teams, routing and pauses from a ticket history.

:func:`calibrate` reads a :class:`~simkit.calibrate.history.History` (the engine's ``tickets``,
``visits`` and ``pauses`` tables) and returns a :class:`Calibration`: a scenario as commented YAML
text (every number says where it came from), the validated :class:`~simkit.scenario.Scenario`,
and a report (JSON-ready and readable) that lists every assumption made where the history cannot
identify something. Nothing is guessed silently.

What is fitted, and how:

- **Demand** per service: tickets per week (exposure-weighted over the span), a 7×24 hour-of-week
  profile in the scenario time zone, and a growth trend and holiday effect tested with a
  quasi-Poisson regression of daily counts (weekday effects, a linear trend in log volume, a
  holiday indicator); growth is used only when significant at 1% over at least half a year.
- **Priority mix** per service, and the **entry team** (the team of the first visit).
- **Handling** per team (and per priority where it differs): maximum likelihood with
  right-censoring for visits still open, family by AIC, Kolmogorov–Smirnov distance reported.
  Handling is ``started_at → finished_at`` minus pauses inside; without ``started_at`` it is not
  identifiable and the team becomes a *delay station* (handling = observed time at the team).
- **Rosters** (agents on tickets by hour of the week) from the concurrency of work: while tickets
  wait, every agent on duty is busy; where nobody waited, the largest number of tickets in hand.
- **Routing** (``next``) from the visit sequences; **pauses** from awaiting-user intervals;
  **reopening** from reopen pauses.
- The **open backlog** at the end of the history is reported; the engine cannot start with it.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import math
import re
import zoneinfo
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from scipy import stats

from simkit.distributions import Distribution, Exponential, FitResult, fit
from simkit.errors import InputError, SpecError
from simkit.scenario import Scenario, parse_scenario
from simkit.scenario.checks import natural_key
from simkit.units import format_duration

if TYPE_CHECKING:
    from simkit.calibrate.history import History

__all__ = [
    "Calibration",
    "as_instant",
    "calibrate",
    "history_between",
    "history_span",
    "local_midnight",
]

US_PER_HOUR = 3_600_000_000
HOURS_PER_YEAR = 365.25 * 24
DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
MIN_TREND_DAYS = 175
"""A yearly trend is adopted only from (about) half a year of history: shorter spans mistake
seasons for growth."""
SIGNIFICANCE = 0.05
TREND_SIGNIFICANCE = 0.01
"""A trend changes every forecast, so it is adopted only at the 1% level."""
FULL_PROFILE_TICKETS = 10 * 168
"""Below this many tickets the 7×24 profile is the product of weekday and hour-of-day shares."""
STARTED_SHARE = 0.9
"""Share of finished visits with a known pick-up time needed to measure handling directly."""
MAX_UTILISATION = 1.15
"""A team whose handling is more work than its inferred agents could do one ticket at a time
(allowing for work finished after a shift ends) is not a queue of hands-on work."""
MIN_FIT = 5
"""Fewest completed durations a distribution is fitted to (else an exponential by the mean)."""
MIN_PRIORITY_FIT = 100
"""Completed durations a priority needs for its own handling time."""

_ROUTE_RESOLVED = "resolved"
_ROUTE_PAUSE = "pause"


# --------------------------------------------------------------------------- results


@dataclass(frozen=True, eq=False)
class Calibration:
    """A fitted scenario, its YAML text and the calibration report.

    Attributes
    ----------
    yaml
        The scenario as YAML with comments saying where each number came from.
    scenario
        The same scenario, validated.
    report
        JSON-ready report: span, services, teams, backlog, assumptions (every duration in hours,
        every fraction 0–1).
    """

    yaml: str
    scenario: Scenario
    report: dict[str, Any]

    def describe(self) -> str:
        """The report in plain language, for people."""
        return describe_report(self.report)


# --------------------------------------------------------------------------- time helpers


def as_instant(value: Any) -> np.datetime64:
    """Any instant (``datetime64`` of any unit, ISO text) as ``datetime64[us]``."""
    instant: np.datetime64 = np.asarray(value).astype("datetime64[us]").reshape(-1)[0]
    return instant


def _hours(values: np.ndarray, ref: int) -> np.ndarray:
    """datetime64 instants as float hours after ``ref`` (µs); NaT becomes NaN."""
    instants = np.asarray(values).astype("datetime64[us]")
    out = (instants.astype(np.int64) - ref) / US_PER_HOUR
    return np.where(np.isnat(instants), np.nan, out)


def _local_us(us: np.ndarray, zone: str) -> np.ndarray:
    """Local wall-clock microseconds (as if UTC) of UTC instants given in µs."""
    utc = pa.array(np.asarray(us, np.int64), pa.timestamp("us", tz="UTC"))
    local = pc.local_timestamp(utc.cast(pa.timestamp("us", tz=zone)))
    return np.asarray(local.cast(pa.int64()).to_numpy(zero_copy_only=False), np.int64)


def _local_slots(us: np.ndarray, zone: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Local day number (days since 1970-01-01), weekday (0 = Monday) and hour of instants."""
    local = _local_us(us, zone)
    day = np.floor_divide(local, 86_400_000_000)
    weekday = (day + 3) % 7
    hour = np.floor_divide(local, US_PER_HOUR) % 24
    return day, weekday, hour


def local_midnight(day: dt.date, timezone: str) -> np.datetime64:
    """The UTC instant (``datetime64[us]``) of local midnight at the start of ``day``."""
    moment = dt.datetime.combine(day, dt.time(0), tzinfo=zoneinfo.ZoneInfo(timezone))
    return np.datetime64(moment.astimezone(dt.UTC).replace(tzinfo=None), "us")


def _local_date(instant: np.datetime64, timezone: str) -> dt.date:
    moment = instant.astype("datetime64[us]").astype(dt.datetime).replace(tzinfo=dt.UTC)
    local: dt.date = moment.astimezone(zoneinfo.ZoneInfo(timezone)).date()
    return local


def _iso(instant: np.datetime64) -> str:
    return str(np.datetime_as_string(instant.astype("datetime64[s]"), unit="s")) + "Z"


def history_span(
    history: History, timezone: str | None = None
) -> tuple[np.datetime64, np.datetime64]:
    """The span a history covers: from local midnight of the day of its first ticket to the
    export time (``observed_until``) — or, when the export time lies further after the last
    ticket than the longest quiet spell between tickets inside the history (an export of tickets
    opened in a range, with their later updates), local midnight after the day of the last one.

    Parameters
    ----------
    history
        The history.
    timezone
        Time zone of the local days (default: the history's).

    Returns
    -------
    start, end
        UTC instants (``datetime64[us]``).
    """
    zone = timezone or history.timezone
    opened = np.asarray(history.tickets["opened_at"].to_numpy(zero_copy_only=False)).astype(
        "datetime64[us]"
    )
    opened = opened[~np.isnat(opened)]
    if opened.size == 0:
        raise InputError.single(
            "the history has no ticket with an opening time",
            "check the profile maps the opened column",
            file=history.source,
        )
    first = local_midnight(_local_date(opened.min(), zone), zone)
    last = opened.max()
    observed = max(as_instant(history.observed_until), last + np.timedelta64(1, "us"))
    ordered = np.sort(opened)
    longest_quiet = np.diff(ordered).max() if ordered.size > 1 else np.timedelta64(0, "us")
    if observed - last <= longest_quiet:
        return first, observed
    after_last = local_midnight(_local_date(last, zone) + dt.timedelta(days=1), zone)
    return first, min(after_last, observed)


# --------------------------------------------------------------------------- windows


def _null_after(column: pa.ChunkedArray | pa.Array, cut: np.datetime64) -> pa.Array:
    values = np.asarray(column.to_numpy(zero_copy_only=False)).astype("datetime64[us]")
    late = ~np.isnat(values) & (values >= cut)
    values = values.copy()
    values[late] = np.datetime64("NaT")
    return pa.array(values, pa.timestamp("us", tz="UTC"), mask=np.isnat(values))


def _replace(table: pa.Table, name: str, values: pa.Array) -> pa.Table:
    index = table.column_names.index(name)
    return table.set_column(index, table.schema.field(index).with_type(values.type), values)


def history_between(
    history: History, start: np.datetime64 | None = None, end: np.datetime64 | None = None
) -> History:
    """The history as it was known at ``end``, restricted to tickets opened in ``[start, end)``.

    Events at or after ``end`` are removed: resolutions and pick-ups after it become unknown,
    visits still running then are ``open`` and pauses still running have no end — exactly as an
    export taken at ``end`` would show them. Use it to fit on earlier months and back-test on
    later ones.

    Parameters
    ----------
    history
        The full history.
    start, end
        UTC instants; ``None`` keeps that side as it is.

    Returns
    -------
    History
        With ``observed_until = end`` (when given).
    """
    tickets, visits, pauses = history.tickets, history.visits, history.pauses
    opened = np.asarray(tickets["opened_at"].to_numpy(zero_copy_only=False)).astype(
        "datetime64[us]"
    )
    keep = ~np.isnat(opened)
    if start is not None:
        keep &= opened >= as_instant(start)
    if end is not None:
        keep &= opened < as_instant(end)
    tickets = tickets.filter(pa.array(keep))
    ids = pa.array(np.unique(np.asarray(tickets["ticket_id"].to_numpy(zero_copy_only=False))))
    visits = visits.filter(pc.is_in(visits["ticket_id"], value_set=ids))
    pauses = pauses.filter(pc.is_in(pauses["ticket_id"], value_set=ids))
    observed = as_instant(history.observed_until)
    if end is not None:
        cut = as_instant(end)
        observed = min(observed, cut)
        for name in ("first_response_at", "resolved_at"):
            if name in tickets.column_names:
                tickets = _replace(tickets, name, _null_after(tickets[name], cut))
        assigned = np.asarray(visits["assigned_at"].to_numpy(zero_copy_only=False)).astype(
            "datetime64[us]"
        )
        visits = visits.filter(pa.array(~np.isnat(assigned) & (assigned < cut)))
        finished_before = np.asarray(visits["finished_at"].to_numpy(zero_copy_only=False))
        running = np.isnat(finished_before.astype("datetime64[us]")) | (
            finished_before.astype("datetime64[us]") >= cut
        )
        visits = _replace(visits, "started_at", _null_after(visits["started_at"], cut))
        visits = _replace(visits, "finished_at", _null_after(visits["finished_at"], cut))
        outcome = np.asarray(visits["outcome"].to_numpy(zero_copy_only=False), dtype=object)
        outcome = np.where(running, "open", outcome)
        visits = _replace(visits, "outcome", pa.array(outcome.tolist(), pa.string()))
        begun = np.asarray(pauses["start"].to_numpy(zero_copy_only=False)).astype("datetime64[us]")
        pauses = pauses.filter(pa.array(~np.isnat(begun) & (begun < cut)))
        pauses = _replace(pauses, "end", _null_after(pauses["end"], cut))
        if "reopened" in tickets.column_names:
            reopen = pauses.filter(pc.equal(pauses["reason"], "reopen"))
            reopened = pc.is_in(tickets["ticket_id"], value_set=reopen["ticket_id"])
            tickets = _replace(tickets, "reopened", reopened)
    return dataclasses.replace(
        history, tickets=tickets, visits=visits, pauses=pauses, observed_until=observed
    )


# --------------------------------------------------------------------------- the tables as arrays


def _strings(table: pa.Table, name: str, default: str | None = None) -> np.ndarray:
    if name not in table.column_names:
        return np.full(table.num_rows, default, dtype=object)
    column = table[name]
    if not pa.types.is_string(column.type) and not pa.types.is_large_string(column.type):
        column = column.cast(pa.string())
    values = np.asarray(column.to_numpy(zero_copy_only=False), dtype=object)
    if default is not None:
        values = np.where(_is_none(values), default, values)
    return values


def _is_none(values: np.ndarray) -> np.ndarray:
    """True where an object array holds ``None``."""
    flags: np.ndarray = np.frompyfunc(lambda v: v is None, 1, 1)(values).astype(bool)
    return flags


def _flags(table: pa.Table, name: str) -> np.ndarray:
    if name not in table.column_names:
        return np.zeros(table.num_rows, dtype=bool)
    return np.asarray(
        pc.fill_null(table[name].cast(pa.bool_()), False).to_numpy(zero_copy_only=False),
        dtype=bool,
    )


def _times(table: pa.Table, name: str) -> np.ndarray:
    if name not in table.column_names:
        return np.full(table.num_rows, np.datetime64("NaT"), dtype="datetime64[us]")
    return np.asarray(table[name].to_numpy(zero_copy_only=False)).astype("datetime64[us]")


@dataclass(frozen=True, eq=False)
class _Data:
    """A history as numpy arrays, times in hours after ``ref`` (the span's start)."""

    ref: int
    span_h: float
    observed_h: float
    zone: str
    resolution_h: float
    # tickets
    service: np.ndarray
    customer: np.ndarray
    priority: np.ndarray
    opened: np.ndarray
    response: np.ndarray
    resolved: np.ndarray
    reopened: np.ndarray
    abandoned: np.ndarray
    # visits, sorted by ticket then assignment
    v_ticket: np.ndarray
    v_team: np.ndarray
    v_supplier: np.ndarray
    v_assigned: np.ndarray
    v_started: np.ndarray
    v_finished: np.ndarray
    v_outcome: np.ndarray
    # pauses
    p_ticket: np.ndarray
    p_start: np.ndarray
    p_end: np.ndarray
    p_reopen: np.ndarray
    notes: tuple[str, ...]


def _timestamp_resolution(*columns: np.ndarray) -> float:
    """1/3600 h when any instant has seconds, else 1/60 h (minute-resolution exports)."""
    for values in columns:
        known = values[~np.isnat(values)].astype(np.int64)
        if known.size and np.any(known % 60_000_000 != 0):
            return 1 / 3600
    return 1 / 60


def _data(history: History, zone: str, start: np.datetime64, end: np.datetime64) -> _Data:
    tickets, visits, pauses = history.tickets, history.visits, history.pauses
    notes: list[str] = []
    ref = int(as_instant(start).astype(np.int64))
    ids = np.asarray(tickets["ticket_id"].to_numpy(zero_copy_only=False), dtype=np.int64)
    opened_at = _times(tickets, "opened_at")
    usable = ~np.isnat(opened_at)
    if (~usable).any():
        notes.append(f"{int((~usable).sum()):,} tickets without an opening time were not used")
    order = np.argsort(ids, kind="stable")
    sorted_ids = ids[order]

    def ticket_index(column: np.ndarray) -> np.ndarray:
        at = np.searchsorted(sorted_ids, column)
        at = np.clip(at, 0, max(sorted_ids.size - 1, 0))
        found = sorted_ids.size > 0
        match = (sorted_ids[at] == column) if found else np.zeros(column.size, bool)
        return np.where(match, order[at] if found else -1, -1)

    v_ids = np.asarray(visits["ticket_id"].to_numpy(zero_copy_only=False), dtype=np.int64)
    v_index = ticket_index(v_ids)
    v_keep = v_index >= 0
    v_keep[v_keep] &= usable[v_index[v_keep]]
    if (~v_keep).any():
        notes.append(
            f"{int((~v_keep).sum()):,} visits of unknown or unusable tickets were not used"
        )
    v_assigned_at = _times(visits, "assigned_at")
    v_keep &= ~np.isnat(v_assigned_at)
    v_rows = np.flatnonzero(v_keep)
    v_ticket = v_index[v_rows]
    v_assigned = _hours(v_assigned_at[v_rows], ref)
    sort = np.lexsort((v_assigned, v_ticket))
    v_rows, v_ticket, v_assigned = v_rows[sort], v_ticket[sort], v_assigned[sort]
    kind = _strings(visits, "kind", "team")[v_rows]
    p_ids = np.asarray(pauses["ticket_id"].to_numpy(zero_copy_only=False), dtype=np.int64)
    p_index = ticket_index(p_ids)
    p_start_at = _times(pauses, "start")
    p_keep = (p_index >= 0) & ~np.isnat(p_start_at)
    p_keep[p_keep] &= usable[p_index[p_keep]]
    reason = _strings(pauses, "reason", "")
    started_at = _times(visits, "started_at")
    finished_at = _times(visits, "finished_at")
    resolution = _timestamp_resolution(opened_at, started_at, finished_at)
    return _Data(
        ref=ref,
        span_h=float((int(as_instant(end).astype(np.int64)) - ref) / US_PER_HOUR),
        observed_h=float(
            (int(as_instant(history.observed_until).astype(np.int64)) - ref) / US_PER_HOUR
        ),
        zone=zone,
        resolution_h=resolution,
        service=_strings(tickets, "service", "service"),
        customer=_strings(tickets, "customer"),
        priority=_strings(tickets, "priority"),
        opened=np.where(usable, _hours(opened_at, ref), np.nan),
        response=_hours(_times(tickets, "first_response_at"), ref),
        resolved=_hours(_times(tickets, "resolved_at"), ref),
        reopened=_flags(tickets, "reopened"),
        abandoned=_flags(tickets, "abandoned"),
        v_ticket=v_ticket,
        v_team=_strings(visits, "team", "unassigned")[v_rows],
        v_supplier=kind == "supplier",
        v_assigned=v_assigned,
        v_started=_hours(started_at[v_rows], ref),
        v_finished=_hours(finished_at[v_rows], ref),
        v_outcome=_strings(visits, "outcome", "open")[v_rows],
        p_ticket=p_index[p_keep],
        p_start=_hours(p_start_at[p_keep], ref),
        p_end=_hours(_times(pauses, "end")[p_keep], ref),
        p_reopen=reason[p_keep] == "reopen",
        notes=tuple(notes),
    )


MIN_TEAM_VISITS = 30
"""Teams with fewer visits are pooled into one, ``other teams``: too few to fit on their own."""
POOLED = "other teams"


def _pool_small_teams(
    data: _Data, given: Scenario | None, agents: Mapping[str, int], assumptions: list[str]
) -> _Data:
    """Teams with fewer than :data:`MIN_TEAM_VISITS` visits (and not named in the given scenario
    or in ``agents``) become one pooled team."""
    names, counts = np.unique(data.v_team.astype(str), return_counts=True)
    named = (set(given.teams) if given is not None else set()) | set(agents)
    small = [
        n
        for n, c in zip(names.tolist(), counts.tolist(), strict=True)
        if c < MIN_TEAM_VISITS and n not in named
    ]
    if len(small) < 2:
        return data
    pooled = np.isin(data.v_team.astype(str), small)
    listed = ", ".join(small[:8]) + (f" and {len(small) - 8} more" if len(small) > 8 else "")
    assumptions.append(
        f"{len(small)} teams with fewer than {MIN_TEAM_VISITS} visits each ({int(pooled.sum()):,} "
        f"visits in all) are pooled into one team {POOLED!r}: {listed}"
    )
    return dataclasses.replace(data, v_team=np.where(pooled, POOLED, data.v_team))


def _without_visits(data: _Data, team: str) -> _Data:
    """One visit per ticket at ``team`` from opening to resolution (history with no visits)."""
    n = data.opened.size
    rows = np.flatnonzero(~np.isnan(data.opened))
    resolved = data.resolved[rows]
    outcome = np.where(np.isnan(resolved), "open", "resolved").astype(object)
    return dataclasses.replace(
        data,
        v_ticket=rows,
        v_team=np.full(rows.size, team, dtype=object),
        v_supplier=np.zeros(rows.size, dtype=bool),
        v_assigned=data.opened[rows],
        v_started=np.full(rows.size, np.nan),
        v_finished=resolved,
        v_outcome=outcome,
        notes=(
            *data.notes,
            f"the history has no assignment records: each of the {n:,} tickets is one visit to "
            f"a single team {team!r} from opening to resolution",
        ),
    )


# --------------------------------------------------------------------------- formatting


def _sig(value: float, digits: int = 3) -> float:
    if value == 0 or not math.isfinite(value):
        return 0.0
    return float(f"{value:.{digits}g}")


def _pct(fraction: float, decimals: int = 1) -> str:
    return f"{fraction * 100:.{decimals}f}%"


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


_PLAIN = re.compile(r"^[A-Za-z_][A-Za-z0-9_./ -]*$")
_YAML_WORDS = {"yes", "no", "on", "off", "true", "false", "null", "y", "n", "~"}


def _key(name: str) -> str:
    """A YAML key or scalar, quoted when YAML would misread it."""
    if _PLAIN.match(name) and name.lower() not in _YAML_WORDS and not name.endswith(" "):
        return name
    return json.dumps(name, ensure_ascii=False)


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


# --------------------------------------------------------------------------- demand


@dataclass(frozen=True)
class _Trend:
    growth: float
    report: dict[str, Any]
    holiday: dict[str, Any]


def _deviance(y: np.ndarray, mu: np.ndarray) -> float:
    with np.errstate(divide="ignore", invalid="ignore"):
        term = np.where(y > 0, y * np.log(y / mu), 0.0)
    return float(2 * np.sum(term - (y - mu)))


def _glm_poisson(
    x: np.ndarray, y: np.ndarray
) -> tuple[np.ndarray, np.ndarray, float, np.ndarray, float] | None:
    """Quasi-Poisson log-linear fit by IRLS: coefficients, covariance (× dispersion), the
    dispersion, the fitted means and the deviance; ``None`` when it does not converge.

    A coefficient heading to −∞ (a day type with no tickets at all) stops the iteration once the
    deviance no longer changes."""
    beta = np.linalg.lstsq(x, np.log(y + 0.5), rcond=None)[0]
    previous = math.inf
    for _ in range(200):
        eta = np.clip(x @ beta, -50, 50)
        mu = np.exp(eta)
        z = eta + (y - mu) / np.maximum(mu, 1e-300)
        xtw = x.T * mu
        try:
            beta = np.linalg.lstsq(xtw @ x, xtw @ z, rcond=None)[0]
        except np.linalg.LinAlgError:
            return None
        deviance = _deviance(y, np.exp(np.clip(x @ beta, -50, 50)))
        if abs(previous - deviance) < 1e-9 * (1 + abs(deviance)):
            break
        previous = deviance
    else:
        return None
    mu = np.exp(np.clip(x @ beta, -50, 50))
    dof = max(1, y.size - x.shape[1])
    dispersion = max(1.0, float(np.sum((y - mu) ** 2 / np.maximum(mu, 1e-12))) / dof)
    cov = np.linalg.pinv((x.T * mu) @ x) * dispersion
    return beta, cov, dispersion, mu, _deviance(y, mu)


def _ci(lo: float | None, hi: float | None) -> str:
    if lo is None or hi is None:
        return ""
    return f" (95% CI {_pct(lo)} … {_pct(hi)})"


def _exp(x: float) -> float:
    return math.exp(min(max(x, -700.0), 700.0))


@dataclass(frozen=True)
class _Holidays:
    """Holidays to test: their dates, where they came from, and their calendar form."""

    dates: frozenset[dt.date] = frozenset()
    source: str | None = None
    spec: dict[str, Any] | None = None
    """``{country, subdivision, dates}`` for a calendar's ``holidays`` key."""


def _holiday_dates(spec: str | None, scenario: Scenario | None, years: range) -> _Holidays:
    """Holiday dates to test, from ``--holidays CC[/SUB]`` or the given scenario's calendars."""
    import holidays as holidays_lib

    if spec:
        country, _, subdivision = spec.replace("-", "/").partition("/")
        country, subdivision = country.strip().upper(), subdivision.strip().upper()
        try:
            table = holidays_lib.country_holidays(country, subdiv=subdivision or None, years=years)
        except (NotImplementedError, KeyError) as error:
            raise InputError.single(
                f"unknown holiday country or subdivision {spec!r}: {error}",
                "give an ISO country code, optionally with a subdivision: GB/ENG, US/NY, DE",
                path="--holidays",
            ) from None
        calendar_spec: dict[str, Any] = {"country": country}
        if subdivision:
            calendar_spec["subdivision"] = subdivision
        return _Holidays(frozenset(table), f"public holidays of {spec}", calendar_spec)
    if scenario is not None:
        for name in scenario.calendars:
            calendar = scenario.calendar(name)
            if calendar.holiday_country is None and not calendar.holiday_dates:
                continue
            dates = set(calendar.holiday_dates)
            calendar_spec = {}
            if calendar.holiday_country is not None:
                dates |= set(
                    holidays_lib.country_holidays(
                        calendar.holiday_country, subdiv=calendar.holiday_subdivision, years=years
                    )
                )
                calendar_spec["country"] = calendar.holiday_country
                if calendar.holiday_subdivision:
                    calendar_spec["subdivision"] = calendar.holiday_subdivision
            if calendar.holiday_dates:
                calendar_spec["dates"] = sorted(d.isoformat() for d in calendar.holiday_dates)
            return _Holidays(
                frozenset(dates),
                f"the holidays of calendar {name!r} of the given scenario",
                calendar_spec,
            )
    return _Holidays()


def _trend(
    day_counts: np.ndarray,
    first_day: int,
    holidays: set[dt.date],
    holiday_source: str | None,
) -> _Trend:
    """Growth and holiday effect from daily counts over full local days."""
    n_days = day_counts.size
    days = first_day + np.arange(n_days)
    weekday = (days + 3) % 7
    dates = [dt.date(1970, 1, 1) + dt.timedelta(days=int(d)) for d in days]
    is_holiday = np.array([d in holidays for d in dates], dtype=bool)
    active = np.array([day_counts[weekday == w].sum() > 0 for w in range(7)])
    use = active[weekday]
    holiday_report: dict[str, Any] = {"source": holiday_source, "tested": False}
    report: dict[str, Any] = {"tested": False, "used": False, "per_year": 0.0}
    if n_days < 14 or use.sum() < 14:
        report["note"] = f"only {n_days} full days: too short to test for a trend"
        holiday_report["note"] = "too short to test for a holiday effect"
        return _Trend(0.0, report, holiday_report)
    y = day_counts[use].astype(float)
    years = (np.arange(n_days)[use] + 0.5) / 365.25
    columns = [(weekday[use] == w).astype(float) for w in range(7) if active[w]]
    names = [DAYS[w] for w in range(7) if active[w]]
    columns.append(years - years.mean())
    names.append("trend")
    test_holiday = bool(holidays) and bool(is_holiday[use].any())
    if test_holiday:
        columns.append(is_holiday[use].astype(float))
        names.append("holiday")
    x = np.column_stack(columns)
    fitted = _glm_poisson(x, y)
    if fitted is None:
        report["note"] = "the regression of daily counts did not converge: no trend used"
        return _Trend(0.0, report, holiday_report)
    beta, cov, dispersion, mu, deviance = fitted
    dof = max(1, y.size - x.shape[1])
    tq = float(stats.t.ppf(0.975, dof))

    def effect(index: int) -> dict[str, Any]:
        """Estimate with a Wald interval (null where the estimate runs off to a bound) and a
        likelihood-ratio p-value (valid at the bound too)."""
        reduced = _glm_poisson(np.delete(x, index, axis=1), y)
        statistic = (reduced[4] - deviance) / dispersion if reduced is not None else 0.0
        p = float(stats.chi2.sf(max(statistic, 0.0), 1))
        b, se = float(beta[index]), float(math.sqrt(max(cov[index, index], 0.0)))
        finite = abs(b) < 20 and se < 5
        return {
            "estimate": _exp(b) - 1,
            "lo": _exp(b - tq * se) - 1 if finite else None,
            "hi": _exp(b + tq * se) - 1 if finite else None,
            "p_value": p,
        }

    trend = effect(names.index("trend"))
    long_enough = n_days >= MIN_TREND_DAYS
    used = long_enough and trend["p_value"] < TREND_SIGNIFICANCE
    report = {
        "tested": True,
        "used": used,
        "per_year": min(max(trend["estimate"], -0.99), 1.0) if used else 0.0,
        "estimate": trend["estimate"],
        "lo": trend["lo"],
        "hi": trend["hi"],
        "p_value": trend["p_value"],
        "days": int(n_days),
        "dispersion": dispersion,
    }
    if not long_enough:
        report["note"] = (
            f"{n_days} days are fewer than {MIN_TREND_DAYS}: a trend over so short a span is "
            "not used"
        )
    elif used:
        report["note"] = (
            f"volume changes by {_pct(trend['estimate'])} a year"
            f"{_ci(trend['lo'], trend['hi'])}, p = {trend['p_value']:.2g}"
        )
        if report["per_year"] != trend["estimate"]:
            report["note"] += (
                f"; capped at {_pct(report['per_year'])}, the most a scenario's growth may be"
            )
    else:
        report["note"] = (
            f"no significant trend (estimate {_pct(trend['estimate'])} a year, p = "
            f"{trend['p_value']:.2g}): growth 0%"
        )
    if test_holiday:
        h = effect(names.index("holiday"))
        holiday_report = {
            "source": holiday_source,
            "tested": True,
            "holidays_in_span": int(is_holiday[use].sum()),
            "effect": h["estimate"],
            "lo": h["lo"],
            "hi": h["hi"],
            "p_value": h["p_value"],
            "significant": h["p_value"] < SIGNIFICANCE,
            "note": (
                f"on {int(is_holiday[use].sum())} holidays volume was {_pct(h['estimate'])} "
                f"against a normal day{_ci(h['lo'], h['hi'])}, p = {h['p_value']:.2g}"
                + ("" if h["p_value"] < SIGNIFICANCE else "; not significant")
            ),
        }
    else:
        holiday_report["note"] = (
            "no holiday fell on a working weekday in the span"
            if holidays
            else "no holiday list given (--holidays CC/SUB or a scenario calendar with holidays)"
        )
        expected = mu
        quiet = stats.poisson.cdf(y, expected) < 1e-3
        quiet &= expected >= 5
        if quiet.any():
            used_days = np.asarray(dates, dtype=object)[use]
            listed = [d.isoformat() for d in used_days[quiet][:12]]
            holiday_report["quiet_days"] = listed
            holiday_report["note"] += (
                f"; {int(quiet.sum())} days had far fewer tickets than a normal day "
                f"(P < 0.001): {', '.join(listed)} — likely holidays"
            )
    return _Trend(report["per_year"], report, holiday_report)


_Grid = tuple[np.ndarray, np.ndarray, np.ndarray]


def _hour_grid(data: _Data) -> _Grid:
    """Start (hours after ref), local hour-of-week slot and local day number of every hour of
    the span."""
    starts = np.arange(0.0, math.ceil(data.span_h))
    us = data.ref + (starts * US_PER_HOUR + US_PER_HOUR // 2).astype(np.int64)
    day, weekday, hour = _local_slots(us, data.zone)
    return starts, weekday * 24 + hour, day


def _open_share(calendar: Any) -> np.ndarray:
    """Share of each local hour-of-week slot (168) that a calendar's weekly hours cover."""
    minutes = np.zeros(168 * 60 + 1)
    for a, b in calendar.weekly:
        minutes[a] += 1
        minutes[b] -= 1
    covered = np.cumsum(minutes)[: 168 * 60] > 0
    share: np.ndarray = covered.reshape(168, 60).mean(axis=1)
    return share


def _hours_spec(support: np.ndarray) -> dict[str, Any]:
    """Calendar ``hours`` for the hour-of-week slots in ``support`` (168 booleans), days with
    the same hours grouped: ``{"mon-fri": "08:00-18:00", "sat": "09:00-13:00"}``."""
    lines = _roster_lines(support.reshape(7, 24).astype(np.int64))
    hours: dict[str, list[str]] = {}
    for line in lines:
        days, clock = line.split(" ")
        hours.setdefault(days, []).append(clock)
    return {days: ranges[0] if len(ranges) == 1 else ranges for days, ranges in hours.items()}


def _calendar_profile(
    counts: np.ndarray,
    exposure: np.ndarray,
    ticket_day: np.ndarray,
    grid: _Grid,
    data: _Data,
    candidates: Sequence[tuple[str, Any]],
) -> tuple[str, np.ndarray, str] | None:
    """The calendar among ``candidates`` whose open hours hold the arrivals evenly: nearly every
    ticket inside them, a uniform rate inside (χ² test at 1%), and its holidays in the span
    quiet. Returns its name, the expected share of a week's tickets in each hour of the span
    (holidays closed), and the evidence; the most specific (fewest open hours) wins."""
    n = counts.sum()
    starts, slot, day = grid
    best: tuple[float, str, np.ndarray, str] | None = None
    first_year = _local_date(as_instant(data.ref), data.zone).year
    years = range(first_year, first_year + int(data.span_h // HOURS_PER_YEAR) + 2)
    for name, calendar in candidates:
        if calendar.timezone != data.zone or n == 0:
            continue
        share = _open_share(calendar)
        outside = float(counts[share == 0].sum())
        if outside > max(2.0, 0.005 * n):
            continue
        slots = share > 0
        expected = exposure[slots] * share[slots]
        expected = expected / expected.sum() * counts[slots].sum()
        statistic = float(np.sum((counts[slots] - expected) ** 2 / np.maximum(expected, 1e-9)))
        p_value = float(stats.chi2.sf(statistic, max(1, int(slots.sum()) - 1)))
        if p_value < SIGNIFICANCE / 5:
            continue
        closed = set(calendar.holiday_dates)
        if calendar.holiday_country is not None:
            import holidays as holidays_lib

            closed |= set(
                holidays_lib.country_holidays(
                    calendar.holiday_country, subdiv=calendar.holiday_subdivision, years=years
                )
            )
        closed_days = np.array([(d - dt.date(1970, 1, 1)).days for d in closed], dtype=np.int64)
        on_holiday = np.isin(ticket_day, closed_days)
        cover = np.clip(data.span_h - starts, 0.0, 1.0)
        hour_open = share[slot] * ~np.isin(day, closed_days) * cover
        holiday_hours = float(np.sum(share[slot] * np.isin(day, closed_days) * cover))
        if holiday_hours > 0:
            normal_rate = (n - on_holiday.sum()) / max(float(hour_open.sum()), 1e-9)
            if on_holiday.sum() > 0.5 * normal_rate * holiday_hours:
                continue  # tickets kept arriving on its holidays
        if holiday_hours > 0:
            on_closed = (share[slot] > 0) & np.isin(day, closed_days) & (cover > 0)
            days_closed = int(np.unique(day[on_closed]).size)
            holiday_note = f"; its holidays in the span ({days_closed} days) were quiet too"
        elif closed:
            holiday_note = (
                "; none of its holidays fell in the span: that they get no tickets is assumed"
            )
        else:
            holiday_note = ""
        note = (
            f"profile {name}: {100 * (1 - outside / n):.1f}% of arrivals fell in its open hours, "
            f"evenly (χ² p = {p_value:.2g}){holiday_note}"
        )
        weekly_open = float(share.sum())
        candidate = (weekly_open, name, hour_open / weekly_open, note)
        if best is None or candidate[0] < best[0]:
            best = candidate
    if best is None:
        return None
    return best[1], best[2], best[3]


def _demand(
    data: _Data,
    service: str,
    rows: np.ndarray,
    grid: _Grid,
    holidays: _Holidays,
    given: Scenario | None,
) -> dict[str, Any]:
    """Weekly volume, profile, growth and holiday effect of one service's tickets.

    The profile is a calendar when one holds the arrivals evenly: a calendar of the given
    scenario, or — when holidays are known and quiet — one made of the hours tickets arrive in,
    so that the simulation keeps the holidays quiet too. Otherwise it is the 7×24 matrix."""
    opened = data.opened[rows]
    inside = (opened >= 0) & (opened < data.span_h)
    opened = opened[inside]
    n = int(opened.size)
    us = data.ref + (opened * US_PER_HOUR).astype(np.int64)
    day, weekday, hour = _local_slots(us, data.zone)
    starts, slot_of_hour, _ = grid
    hour_weight = np.clip(data.span_h - starts, 0.0, 1.0)
    exposure = np.bincount(slot_of_hour, weights=hour_weight, minlength=168)
    counts = np.bincount(weekday * 24 + hour, minlength=168).astype(float)
    with np.errstate(invalid="ignore", divide="ignore"):
        if n >= FULL_PROFILE_TICKETS:
            rate = np.where(exposure > 0, counts / exposure, 0.0)
            profile_note = "tickets per hour in each local hour of the week, over the span"
        else:
            day_exposure = exposure.reshape(7, 24).sum(axis=1) / 24
            day_rate = np.where(
                day_exposure > 0, counts.reshape(7, 24).sum(axis=1) / day_exposure, 0.0
            )
            hour_share = counts.reshape(7, 24).sum(axis=0) / max(n, 1)
            rate = (day_rate[:, None] * hour_share[None, :]).ravel()
            profile_note = (
                f"{n:,} tickets are too few for a full 7×24 profile (< {FULL_PROFILE_TICKETS:,}): "
                "weekday volume × hour-of-day shares"
            )
    ref_date = _local_date(as_instant(data.ref), data.zone)
    first_day = (ref_date - dt.date(1970, 1, 1)).days
    full_days = math.floor(data.span_h / 24 + 1e-9)
    end_day = first_day + full_days
    in_full = day < end_day
    day_counts = np.bincount(day[in_full] - first_day, minlength=full_days)[:full_days]
    trend = _trend(day_counts, first_day, set(holidays.dates), holidays.source)
    growth = trend.growth
    weights = rate / rate.sum() if rate.sum() > 0 else np.full(168, 1 / 168)
    years_at = (starts + 0.5) / HOURS_PER_YEAR
    share_of_week = weights[slot_of_hour] * hour_weight
    profile: str | np.ndarray = rate.reshape(7, 24)
    candidates: list[tuple[str, Any]] = []
    if given is not None:
        candidates = [
            (name, given.calendar(name))
            for name in given.calendar_names
            if name not in ("24x7", "always")
        ]
    own_calendar: tuple[str, dict[str, Any]] | None = None
    support = counts > 0
    if holidays.spec is not None and trend.holiday.get("significant") and support.any():
        from simkit.calendar import Calendar

        spec = {"hours": _hours_spec(support), "holidays": dict(holidays.spec)}
        try:
            own = Calendar.from_spec(spec, data.zone, name=f"{service} arrivals")
        except SpecError:
            own = None
        if own is not None:
            own_calendar = (f"{service} arrivals", spec)
            candidates.append((own_calendar[0], own))
    chosen = _calendar_profile(counts, exposure, day, grid, data, candidates)
    calendar_spec: tuple[str, dict[str, Any]] | None = None
    if chosen is not None:
        profile, share_of_week, profile_note = chosen
        if own_calendar is not None and profile == own_calendar[0]:
            calendar_spec = own_calendar
            profile_note += " (a calendar of the hours tickets arrive in, with the holidays)"
            trend.holiday["note"] = trend.holiday["note"].split(";")[0] + (
                "; the profile is a calendar with these holidays, so they stay quiet"
            )
    elif trend.holiday.get("significant"):
        trend.holiday["note"] = trend.holiday["note"].split(";")[0] + (
            "; the arrivals are not even over any calendar's hours, and the scenario's 7×24 "
            "profile cannot express holidays, so simulated holidays get a normal day's volume "
            "(per_week is the average over the span, holidays included)"
        )
    expected_per_week = float(np.sum(share_of_week * (1 + growth) ** years_at))
    per_week = n / expected_per_week if expected_per_week > 0 else 0.0
    return {
        "calendar": calendar_spec,
        "tickets": n,
        "per_week": per_week,
        "weeks": data.span_h / 168,
        "profile": profile,
        "hourly_rate": rate.reshape(7, 24),
        "profile_note": profile_note,
        "growth": trend.report,
        "holidays": trend.holiday,
    }


# --------------------------------------------------------------------------- visits → episodes


@dataclass(frozen=True, eq=False)
class _Episodes:
    """Stretches of handling between routing decisions, one per decision the engine makes."""

    visit: np.ndarray
    begin_work: np.ndarray
    """Pick-up (or, after a pause inside a visit, the pause's end); NaN when unknown."""
    begin_stay: np.ndarray
    """Assignment (or the pause's end)."""
    end: np.ndarray
    """NaN while running at the export time."""
    route: np.ndarray
    """``resolved``, ``pause``, a team name, or ``None`` (unknown: still open)."""
    after_pause: np.ndarray


@dataclass(frozen=True, eq=False)
class _PauseLinks:
    team: np.ndarray
    inside: np.ndarray
    visit: np.ndarray
    orphans: int


def _link_pauses(data: _Data) -> _PauseLinks:
    """The visit (and team) each awaiting pause belongs to: the ticket's last visit assigned at
    or before the pause began."""
    n = data.p_ticket.size
    team = np.full(n, None, dtype=object)
    inside = np.zeros(n, dtype=bool)
    visit = np.full(n, -1, dtype=np.int64)
    if n == 0 or data.v_ticket.size == 0:
        return _PauseLinks(team, inside, visit, int(n))
    stride = _key_stride(data)
    vkey = data.v_ticket * stride + data.v_assigned
    pkey = data.p_ticket * stride + data.p_start
    at = np.searchsorted(vkey, pkey, side="right") - 1
    ok = (at >= 0) & (data.v_ticket[np.maximum(at, 0)] == data.p_ticket)
    visit[ok] = at[ok]
    team[ok] = data.v_team[at[ok]]
    finished = data.v_finished[np.maximum(at, 0)]
    eps = data.resolution_h
    inside = ok & (np.isnan(finished) | (data.p_start < finished - eps))
    at_end = ok & ~inside & (np.abs(data.p_start - finished) <= eps)
    orphans = int(n - inside.sum() - at_end.sum())
    return _PauseLinks(team, inside, visit, orphans)


def _key_stride(data: _Data) -> float:
    """A stride that keeps (ticket, hours) pairs apart in one float key."""
    largest = [abs(data.observed_h), abs(data.span_h)]
    for values in (data.v_assigned, data.p_start):
        if values.size and np.isfinite(values).any():
            largest.append(float(np.nanmax(np.abs(values))))
    return max(largest) * 4 + 10


def _resumed(data: _Data) -> np.ndarray:
    """Visits that begin when a pause of their ticket ends and are 'started' at that very moment:
    the user answered (or the ticket was reopened) and the ticket became active again. That is
    not a pick-up, and the time to the end of such a visit includes waiting."""
    nv = data.v_ticket.size
    out = np.zeros(nv, dtype=bool)
    ended = ~np.isnan(data.p_end)
    if nv == 0 or not ended.any():
        return out
    stride = _key_stride(data)
    pause_keys = np.sort(data.p_ticket[ended] * stride + data.p_end[ended])
    visit_keys = data.v_ticket * stride + data.v_assigned
    at = np.searchsorted(pause_keys, visit_keys)
    eps = data.resolution_h
    for k in (at - 1, at):
        valid = (k >= 0) & (k < pause_keys.size)
        out[valid] |= np.abs(pause_keys[k[valid]] - visit_keys[valid]) <= eps
    at_once = np.isnan(data.v_started) | (np.abs(data.v_started - data.v_assigned) <= eps)
    first = np.r_[True, data.v_ticket[1:] != data.v_ticket[:-1]]
    resumed: np.ndarray = out & at_once & ~first
    return resumed


def _episodes(data: _Data, links: _PauseLinks) -> _Episodes:
    nv = data.v_ticket.size
    same_next = np.zeros(nv, dtype=bool)
    if nv > 1:
        same_next[:-1] = data.v_ticket[1:] == data.v_ticket[:-1]
    next_team = np.full(nv, None, dtype=object)
    next_team[:-1] = data.v_team[1:]
    next_team[~same_next] = None
    outcome = data.v_outcome
    route = np.full(nv, None, dtype=object)
    route[outcome == "resolved"] = _ROUTE_RESOLVED
    route[outcome == "abandoned"] = _ROUTE_RESOLVED
    route[outcome == "paused"] = _ROUTE_PAUSE
    routed = (outcome == "routed") & same_next
    route[routed] = next_team[routed]
    unknown = ~np.isin(outcome, ["resolved", "abandoned", "paused", "routed", "open"])
    inferred = unknown & same_next & ~np.isnan(data.v_finished)
    route[inferred] = next_team[inferred]
    final = unknown & ~same_next & ~np.isnan(data.v_finished)
    route[final] = _ROUTE_RESOLVED

    ins = np.flatnonzero(links.inside & ~data.p_reopen)
    ins = ins[np.lexsort((data.p_start[ins], links.visit[ins]))]
    pv = links.visit[ins]
    first_of_visit = np.r_[True, pv[1:] != pv[:-1]] if ins.size else np.zeros(0, bool)
    last_of_visit = np.r_[pv[1:] != pv[:-1], True] if ins.size else np.zeros(0, bool)
    previous_end = np.r_[np.nan, data.p_end[ins][:-1]] if ins.size else np.zeros(0)
    pause_begin_work = np.where(first_of_visit, data.v_started[pv], previous_end)
    pause_begin_stay = np.where(first_of_visit, data.v_assigned[pv], previous_end)
    has_inside = np.zeros(nv, dtype=bool)
    has_inside[pv] = True
    resume = np.full(nv, np.nan)
    resume[pv[last_of_visit]] = data.p_end[ins][last_of_visit]
    visit_begin_work = np.where(has_inside, resume, data.v_started)
    visit_begin_stay = np.where(has_inside, resume, data.v_assigned)
    # a visit whose last inside pause is still running has no final stretch
    final_stretch = ~has_inside | ~np.isnan(resume)
    keep = np.flatnonzero(final_stretch)
    return _Episodes(
        visit=np.r_[pv, keep],
        begin_work=np.r_[pause_begin_work, visit_begin_work[keep]],
        begin_stay=np.r_[pause_begin_stay, visit_begin_stay[keep]],
        end=np.r_[data.p_start[ins], data.v_finished[keep]],
        route=np.r_[np.full(ins.size, _ROUTE_PAUSE, dtype=object), route[keep]],
        after_pause=np.r_[~first_of_visit, (has_inside | _resumed(data))[keep]],
    )


# --------------------------------------------------------------------------- fitting durations


Elapsed = Callable[[np.ndarray, np.ndarray], np.ndarray]
"""Hours between two arrays of run hours (wall clock, or business hours of a calendar)."""


def _durations(
    begin: np.ndarray,
    end: np.ndarray,
    observed_h: float,
    resolution_h: float,
    elapsed: Elapsed | None = None,
) -> tuple[np.ndarray, np.ndarray, int, int, np.ndarray]:
    """Durations with a censoring mask (still running → censored at the export time).

    Returns the usable durations, their censoring mask, the count of zero durations (raised to
    half the timestamp resolution), the count of unusable ones (negative, or no start), and the
    mask of the usable entries among the inputs."""
    known = ~np.isnan(begin)
    censored = np.isnan(end)
    stop = np.where(censored, observed_h, end)
    value = np.full(begin.size, np.nan)
    if known.any():
        value[known] = (
            elapsed(begin[known], stop[known])
            if elapsed is not None
            else stop[known] - begin[known]
        )
    bad = ~np.isfinite(value) | (value < 0)
    zeros = (value == 0) & ~bad
    value = np.where(zeros, resolution_h / 2, value)
    keep = ~bad
    return value[keep], censored[keep], int(zeros.sum()), int((known & bad).sum()), keep


@dataclass(frozen=True)
class _Fitted:
    distribution: Distribution
    report: dict[str, Any]


def _fit_durations(values: np.ndarray, censored: np.ndarray, what: str) -> _Fitted | None:
    """Best family by AIC with its goodness of fit; an exponential by the mean for few values;
    ``None`` when there is nothing to fit."""
    done = values[~censored]
    if done.size == 0:
        return None
    if done.size < MIN_FIT or np.ptp(done) == 0:
        mean = float((values.sum()) / done.size)
        dist = Exponential(max(mean, 1e-4))
        return _Fitted(
            dist,
            {
                "n": int(values.size),
                "n_censored": int(censored.sum()),
                "best": dist.to_spec(),
                "best_family": "exponential",
                "note": f"only {done.size} completed {what}: exponential with their mean",
                "candidates": [],
            },
        )
    try:
        result: FitResult = fit(values, censored=censored)
    except SpecError as error:
        mean = float(values.sum() / done.size)
        dist = Exponential(max(mean, 1e-4))
        return _Fitted(
            dist,
            {
                "n": int(values.size),
                "n_censored": int(censored.sum()),
                "best": dist.to_spec(),
                "best_family": "exponential",
                "note": f"no family could be fitted ({error}): exponential with the mean",
                "candidates": [],
            },
        )
    report = result.as_dict()
    low = float(values.mean())
    high = float(values.sum() / done.size)
    plausible = [c for c in result.candidates if 0.5 * low <= c.distribution.mean <= 2 * high]
    best = plausible[0] if plausible else result.candidates[0]
    if best is not result.candidates[0]:
        top = result.candidates[0]
        report["best"] = best.distribution.to_spec()
        report["best_family"] = best.family
        report["override"] = (
            f"{top.family} had the lowest AIC but a mean of {format_duration(top.distribution.mean)} "
            f"against {format_duration(high)} observed (its tail is an artefact of the extremes); "
            f"{best.family} is the best family with a plausible mean"
        )
    report["ks_statistic"] = best.ks_statistic
    report["empirical_mean_h"] = float(done.mean())
    if best.ks_statistic > 0.1 and done.size >= 100:
        report["note"] = (
            f"poor fit: the best family ({best.family}) is {best.ks_statistic:.2f} away from the "
            "observed distribution (KS); consider {empirical: {file: …}} with the observed times"
        )
    return _Fitted(best.distribution, report)


def _fit_comment(fitted: _Fitted, what: str) -> str:
    report = fitted.report
    n, c = report["n"], report["n_censored"]
    text = f"{n:,} {what}"
    if c:
        text += f" ({c:,} still open, censored)"
    candidates = report.get("candidates") or []
    if report.get("override"):
        text += (
            f"; {report['best_family']}: the lowest AIC with a plausible mean, KS "
            f"{report['ks_statistic']:.3f}"
        )
    elif len(candidates) > 1:
        text += f"; best of {len(candidates)} families by AIC, KS {report['ks_statistic']:.3f}"
    elif report.get("note"):
        text += f"; {report['note']}"
    return text


# --------------------------------------------------------------------------- rosters


def _busy_after(starts: np.ndarray, stops: np.ndarray, at: np.ndarray) -> np.ndarray:
    """Tickets in hand just after each instant of ``at`` (all events at that instant applied),
    from handling intervals ``[starts, stops)``."""
    times = np.r_[starts, stops]
    delta = np.r_[np.ones(starts.size), -np.ones(stops.size)]
    order = np.lexsort((delta, times))
    level = np.cumsum(delta[order])
    index = np.searchsorted(times[order], at, side="right") - 1
    out: np.ndarray = np.where(index >= 0, level[np.maximum(index, 0)], 0.0)
    return out


def _infer_agents(
    data: _Data,
    episodes: _Episodes,
    chosen: np.ndarray,
    typical_h: float,
    grid: _Grid,
) -> tuple[np.ndarray, np.ndarray]:
    """Agents taking tickets in each hour-of-week slot (168 floats), and the pick-ups of tickets
    that had waited, per slot.

    A ticket that waited is picked up the moment an agent on duty comes free, so just after that
    pick-up every agent on duty is busy: the tickets in hand then count the agents on duty. Where
    no ticket waited in a slot, the most tickets in hand just after any pick-up is a lower bound.
    Agents finishing a ticket after their shift take no new one, so they do not count. A stretch
    that resumes after a pause has no pick-up time: it counts as in hand for its last
    ``typical_h`` hours only. The first week of a history of three weeks or more is left out:
    work on tickets opened before the export began is invisible then.
    """
    begin = episodes.begin_work[chosen]
    end = np.where(np.isnan(episodes.end[chosen]), data.observed_h, episodes.end[chosen])
    resumed = episodes.after_pause[chosen]
    known = ~np.isnan(begin) & (end >= begin)
    hold_from = np.where(resumed, np.maximum(begin, end - typical_h), begin)
    in_hand_from, in_hand_to = hold_from[known], end[known]
    picked = known & ~resumed
    at = begin[picked]
    in_hand = _busy_after(in_hand_from, in_hand_to, at)
    waited = at - episodes.begin_stay[chosen][picked] > data.resolution_h
    skip = 7 * 24.0 if data.span_h >= 21 * 24.0 else 0.0
    use = (at >= skip) & (at < data.span_h)
    _, slot_of_hour, _ = grid
    hour = np.clip(np.floor(at).astype(np.int64), 0, slot_of_hour.size - 1)
    slot = slot_of_hour[hour]
    waited_use = use & waited
    count = np.bincount(slot[waited_use], minlength=168).astype(float)
    total = np.bincount(slot[waited_use], weights=in_hand[waited_use], minlength=168)
    peak = np.zeros(168)
    np.maximum.at(peak, slot[use], in_hand[use])
    agents = np.where(count >= 3, total / np.maximum(count, 1.0), peak)
    return agents, count


def _roster_lines(matrix: np.ndarray) -> dict[str, int]:
    """A 7×24 matrix of whole agents as non-overlapping roster lines, days with the same day
    pattern grouped (``"mon-fri 08:00-18:00": 4``)."""
    runs_of_day: list[tuple[tuple[int, int, int], ...]] = []
    for d in range(7):
        row = matrix[d]
        runs: list[tuple[int, int, int]] = []
        h = 0
        while h < 24:
            value = int(row[h])
            k = h
            while k < 24 and int(row[k]) == value:
                k += 1
            if value > 0:
                runs.append((h, k, value))
            h = k
        runs_of_day.append(tuple(runs))
    groups: dict[tuple[tuple[int, int, int], ...], list[int]] = {}
    for d, day_runs in enumerate(runs_of_day):
        if day_runs:
            groups.setdefault(day_runs, []).append(d)
    lines: dict[str, int] = {}
    for day_runs, days in groups.items():
        label = _day_label(days)
        for a, b, value in day_runs:
            lines[f"{label} {a:02d}:00-{b:02d}:00"] = value
    return lines


def _day_label(days: Sequence[int]) -> str:
    if len(days) == 7:
        return "mon-sun"
    parts: list[str] = []
    i = 0
    while i < len(days):
        j = i
        while j + 1 < len(days) and days[j + 1] == days[j] + 1:
            j += 1
        parts.append(DAYS[days[i]] if i == j else f"{DAYS[days[i]]}-{DAYS[days[j]]}")
        i = j + 1
    return ",".join(parts)


def _roster_from_agents(
    agents: np.ndarray, weight: np.ndarray
) -> tuple[dict[str, int], float, np.ndarray]:
    """Whole agents (rounded up) and a shrinkage that keeps the capacity right where the work
    is: the agent-hours are matched with each hour weighted by its pick-ups."""
    whole = np.ceil(np.maximum(agents, 0.0) - 0.05).astype(np.int64)
    whole = np.where((agents > 0.05) & (whole == 0), 1, whole)
    w = np.where(whole > 0, weight + 1e-9, 0.0)
    total = float(np.sum(w * whole))
    shrinkage = 1.0 - float(np.sum(w * agents)) / total if total > 0 else 0.0
    shrinkage = round(shrinkage, 2) if shrinkage >= 0.03 else 0.0
    return _roster_lines(whole.reshape(7, 24)), min(shrinkage, 0.9), whole


# --------------------------------------------------------------------------- teams


@dataclass
class _TeamFit:
    name: str
    kind: str
    visits: int
    method: str
    roster: dict[str, int] | None
    roster_comment: str
    shrinkage: float
    handle: dict[str, _Fitted]
    handle_what: str
    routes: dict[str, int]
    pause: _Fitted | None
    pause_comment: str
    calendar: str | None
    report: dict[str, Any]


def _priority_of_visit(data: _Data, visits: np.ndarray) -> np.ndarray:
    out: np.ndarray = data.priority[data.v_ticket[visits]]
    return out


def _fit_handling(
    data: _Data,
    episodes: _Episodes,
    chosen: np.ndarray,
    begin: np.ndarray,
    scale: float,
    what: str,
    elapsed: Elapsed | None = None,
) -> tuple[dict[str, _Fitted], dict[str, Any]]:
    """Handling per priority with a ``default`` over all; a priority gets its own entry when it
    has enough completed stretches and its mean differs from the others' by more than 3 SE."""
    end = episodes.end[chosen]
    b = begin[chosen]
    values_all, censored_all, zeros, bad, keep = _durations(
        b, end, data.observed_h, data.resolution_h, elapsed
    )
    values_all = values_all * scale
    priority = _priority_of_visit(data, episodes.visit[chosen])[keep]
    fitted: dict[str, _Fitted] = {}
    report: dict[str, Any] = {"zero_durations": zeros, "unusable": bad}
    pooled = _fit_durations(values_all, censored_all, what)
    if pooled is None:
        return fitted, report
    fitted["default"] = pooled
    done = ~censored_all
    for p in sorted({q for q in priority[done].tolist() if q is not None}, key=natural_key):
        mine = priority == p
        mine_done = mine & done
        if mine_done.sum() < MIN_PRIORITY_FIT:
            continue
        others = ~mine & done
        if others.sum() < 2:
            continue
        m1, m2 = values_all[mine_done].mean(), values_all[others].mean()
        se = math.sqrt(
            values_all[mine_done].var(ddof=1) / mine_done.sum()
            + values_all[others].var(ddof=1) / others.sum()
        )
        if se > 0 and abs(m1 - m2) > 3 * se and abs(m1 - m2) > 0.1 * m2:
            own = _fit_durations(values_all[mine], censored_all[mine], what)
            if own is not None:
                fitted[str(p)] = own
    return fitted, report


def _delay_agents(data: _Data, rows: np.ndarray, grid: _Grid) -> int:
    """Agents enough that nobody waits: well above the most tickets ever at the team at once and
    above the busiest hour's Poisson load."""
    assigned = data.v_assigned[rows]
    finished = np.where(np.isnan(data.v_finished[rows]), data.observed_h, data.v_finished[rows])
    times = np.r_[assigned, finished]
    delta = np.r_[np.ones(rows.size), -np.ones(rows.size)]
    order = np.lexsort((delta, times))
    most = float(np.max(np.cumsum(delta[order]))) if rows.size else 1.0
    starts, slot, _ = grid
    cover = np.clip(data.span_h - starts, 0.0, 1.0)
    per_slot = np.bincount(
        slot[np.clip(np.floor(assigned).astype(np.int64), 0, slot.size - 1)], minlength=168
    ) / np.maximum(np.bincount(slot, weights=cover, minlength=168), 1e-9)
    stay = np.nanmean(finished - assigned) if rows.size else 1.0
    load = float(per_slot.max() * max(stay, 0.0))
    return math.ceil(max(1.5 * most, load + 6 * math.sqrt(load) + 5))


def _fit_team(
    name: str,
    data: _Data,
    episodes: _Episodes,
    links: _PauseLinks,
    grid: _Grid,
    given: Scenario | None,
    agents: Mapping[str, int],
    handling_fraction: float | None,
    assumptions: list[str],
) -> _TeamFit:
    rows = np.flatnonzero(data.v_team == name)
    supplier_share = float(data.v_supplier[rows].mean()) if rows.size else 0.0
    given_team = given.teams.get(name) if given is not None else None
    kind = (
        "supplier"
        if supplier_share > 0.5 or (given_team and given_team.kind == "supplier")
        else "team"
    )
    chosen = np.isin(episodes.visit, rows)
    finished = ~np.isnan(data.v_finished[rows])
    started_share = (
        float(np.mean(~np.isnan(data.v_started[rows][finished]))) if finished.any() else 0.0
    )
    report: dict[str, Any] = {
        "team": name,
        "kind": kind,
        "visits": int(rows.size),
        "visits_open": int((~finished).sum()),
        "started_known": started_share,
    }
    roster: dict[str, int] | None = None
    shrinkage = 0.0
    calendar: str | None = None
    roster_comment = ""
    if kind == "supplier":
        calendar = given_team.calendar if given_team is not None and given_team.calendar else "24x7"
        method = "supplier"
        cal = given.calendar(calendar) if given is not None else None

        def elapsed(b: np.ndarray, e: np.ndarray) -> np.ndarray:
            if cal is None or cal.is_always:
                wall: np.ndarray = e - b
                return wall
            t0 = (data.ref + b * US_PER_HOUR).astype(np.int64).astype("datetime64[us]")
            t1 = (data.ref + e * US_PER_HOUR).astype(np.int64).astype("datetime64[us]")
            return np.asarray(cal.elapsed(t0, t1), dtype=float)

        handle, detail = _fit_handling(
            data, episodes, chosen, episodes.begin_stay, 1.0, "stays", elapsed
        )
        handle_what = (
            f"stays with the supplier (assigned → done) in its calendar {calendar!r}'s open hours; "
            "a supplier starts every ticket at once"
        )
        report["handling"] = "time with the supplier"
    else:
        handle, detail, method, handle_what = {}, {}, "", ""
        why = ""
        if started_share >= STARTED_SHARE:
            method = "measured handling"
            picked_up = chosen & ~episodes.after_pause
            handle, detail = _fit_handling(
                data, episodes, picked_up, episodes.begin_work, 1.0, "handling stretches"
            )
            detail["resumed_stretches"] = int((chosen & episodes.after_pause).sum())
            handle_what = (
                "handling stretches, picked up → passed on (stretches resuming after a pause "
                "have no pick-up time and are left out)"
            )
            if name in agents:
                roster = {"mon-sun 00:00-24:00": int(agents[name])}
                roster_comment = f"{agents[name]} agents round the clock, as given with --agents"
                report["roster_source"] = "--agents"
            elif handle:
                typical = float(handle["default"].distribution.quantile(0.5))
                estimate, pickups = _infer_agents(data, episodes, chosen, typical, grid)
                roster, shrinkage, _ = _roster_from_agents(estimate, pickups)
                capacity = float(np.sum(estimate))
                weeks = max(data.span_h / 168, 1e-9)
                load = float(chosen.sum()) / weeks * handle["default"].distribution.mean
                report["agents_by_hour"] = np.round(estimate.reshape(7, 24), 2).tolist()
                report["waited_pickups_by_hour"] = pickups.reshape(7, 24).astype(int).tolist()
                report["agent_hours_per_week"] = capacity
                report["handling_hours_per_week"] = load
                if not roster or load >= MAX_UTILISATION * capacity:
                    why = (
                        f"its tickets are in hand {_sig(handle['default'].distribution.mean, 3):g} h "
                        f"on average: {load:.0f} hours of work a week against the "
                        f"{capacity:.0f} agent-hours its concurrency shows — more than one "
                        "ticket at a time per person, so 'in hand' is not hands-on time here"
                    )
                    roster = None
                else:
                    report["roster_source"] = "inferred"
                    roster_comment = (
                        "inferred from the tickets in hand just after a waiting ticket was "
                        "picked up (then every agent on duty is busy); where none waited, the "
                        f"most in hand after a pick-up; {capacity:.0f} agent-hours on tickets a "
                        f"week for {load:.0f} hours of handling"
                    )
                    if given_team is not None and given_team.roster:
                        report["given_roster"] = dict(given_team.roster)
                    assumptions.append(
                        f"team {name}: roster inferred from the concurrency of work "
                        f"({capacity:.0f} agent-hours on tickets a week); shrinkage "
                        f"{_pct(shrinkage, 0)} turns whole agents into that capacity — replace "
                        "it with the real roster if you know it"
                    )
        else:
            why = (
                f"only {_pct(started_share, 0)} of its finished visits have a pick-up time, so "
                "waiting and handling cannot be told apart"
                if started_share > 0
                else "the history has no pick-up times for it, so waiting and handling cannot "
                "be told apart"
            )
        if roster is None:
            user_roster: dict[str, int] | None = None
            source = ""
            if name in agents:
                user_roster = {"mon-sun 00:00-24:00": int(agents[name])}
                source = "--agents"
            elif given_team is not None and given_team.roster:
                user_roster = dict(given_team.roster)
                shrinkage = given_team.shrinkage
                source = "the given scenario"
            if user_roster is not None and handling_fraction is not None:
                method = "handling fraction"
                roster = user_roster
                handle, detail = _fit_handling(
                    data, episodes, chosen, episodes.begin_stay, handling_fraction, "stays"
                )
                handle_what = (
                    f"stays at the team (assigned → passed on) × {_pct(handling_fraction, 0)}, "
                    "the handling fraction given with --handling-fraction"
                )
                roster_comment = f"roster from {source}"
                report["roster_source"] = source
                assumptions.append(
                    f"team {name}: {why}; used {_pct(handling_fraction, 0)} of the observed "
                    f"time at the team (--handling-fraction) with the roster from {source}"
                )
            else:
                method = "delay station"
                handle, detail = _fit_handling(
                    data, episodes, chosen, episodes.begin_stay, 1.0, "stays"
                )
                n_agents = _delay_agents(data, rows, grid)
                roster = {"mon-sun 00:00-24:00": n_agents}
                shrinkage = 0.0
                handle_what = (
                    "stays at the team (assigned → passed on, minus pauses), waiting included"
                )
                roster_comment = (
                    f"delay station: {n_agents} agents round the clock so that no ticket waits; "
                    "the observed time at the team (waiting included) is the handling time"
                )
                report["roster_source"] = "delay station"
                extra = (
                    f"; a roster was given ({source}) but without --handling-fraction the "
                    "handling time cannot be separated from waiting"
                    if user_roster is not None
                    else ""
                )
                assumptions.append(
                    f"team {name}: {why} — modelled as a delay station (no queue; handling = "
                    f"observed time at the team, so its response is immediate){extra}. Give the "
                    "roster (--scenario or --agents) and --handling-fraction to model its queue"
                )
    report["method"] = method
    report["handle"] = {p: f.report for p, f in handle.items()}
    report["handle_detail"] = detail
    if detail.get("zero_durations"):
        assumptions.append(
            f"team {name}: {detail['zero_durations']:,} stretches of zero length (same "
            f"timestamp) counted as {format_duration(data.resolution_h / 2)}"
        )
    # routing
    routes = Counter(r for r in episodes.route[chosen].tolist() if r is not None)
    report["routes"] = dict(routes)
    report["after_pause_stretches"] = int(episodes.after_pause[chosen].sum())
    # pauses
    awaiting = (links.team == name) & ~data.p_reopen
    pause: _Fitted | None = None
    pause_comment = ""
    if routes.get(_ROUTE_PAUSE, 0):
        values, censored, _, _, _ = _durations(
            data.p_start[awaiting], data.p_end[awaiting], data.observed_h, data.resolution_h
        )
        pause = _fit_durations(values, censored, "awaiting-user pauses")
        if pause is None or pause.report["n"] < 30:
            pooled = ~data.p_reopen & (links.team != None)  # noqa: E711
            values, censored, _, _, _ = _durations(
                data.p_start[pooled], data.p_end[pooled], data.observed_h, data.resolution_h
            )
            pause = _fit_durations(values, censored, "awaiting-user pauses of every team")
            pause_comment = "pooled over every team (fewer than 30 of its own): "
        if pause is None:
            pause = _Fitted(
                Exponential(24.0), {"note": "no pause duration observed: 1 day assumed"}
            )
            assumptions.append(f"team {name}: pauses without any duration; assumed 1 day")
            pause_comment = "assumed"
        else:
            pause_comment += _fit_comment(pause, "awaiting-user pauses")
        report["pause"] = pause.report
    return _TeamFit(
        name=name,
        kind=kind,
        visits=int(rows.size),
        method=method,
        roster=roster,
        roster_comment=roster_comment,
        shrinkage=shrinkage,
        handle=handle,
        handle_what=handle_what,
        routes=dict(routes),
        pause=pause,
        pause_comment=pause_comment,
        calendar=calendar,
        report=report,
    )


# --------------------------------------------------------------------------- services


def _reopen(data: _Data, rows: np.ndarray) -> tuple[float, _Fitted | None, dict[str, Any]]:
    ever_resolved = ~np.isnan(data.resolved[rows]) | data.reopened[rows]
    n_resolved = int(ever_resolved.sum())
    n_reopened = int(data.reopened[rows].sum())
    report: dict[str, Any] = {"resolved": n_resolved, "reopened": n_reopened}
    if n_reopened == 0 or n_resolved == 0:
        report["note"] = "no ticket was reopened"
        return 0.0, None, report
    mine = np.isin(data.p_ticket, rows) & data.p_reopen
    values, censored, _, _, _ = _durations(
        data.p_start[mine], data.p_end[mine], data.observed_h, data.resolution_h
    )
    after = _fit_durations(values, censored, "reopenings")
    probability = n_reopened / n_resolved
    report["probability"] = probability
    if after is None:
        report["note"] = (
            f"{n_reopened} tickets were reopened but the history has no time of reopening: "
            "reopening left out"
        )
        return 0.0, None, report
    report["after"] = after.report
    return probability, after, report


def _backlog(data: _Data) -> dict[str, Any]:
    open_ticket = np.isnan(data.resolved) & ~data.abandoned & ~np.isnan(data.opened)
    open_ticket &= data.opened < data.observed_h
    rows = np.flatnonzero(open_ticket)
    last_team = np.full(data.opened.size, "unassigned", dtype=object)
    if data.v_ticket.size:
        last = np.r_[data.v_ticket[1:] != data.v_ticket[:-1], True]
        last_team[data.v_ticket[last]] = data.v_team[last]
    groups: dict[tuple[str, str, str], list[float]] = {}
    ages = data.observed_h - data.opened[rows]
    for service, priority, team, age in zip(
        data.service[rows].tolist(),
        [p if p is not None else "none" for p in data.priority[rows].tolist()],
        last_team[rows].tolist(),
        ages.tolist(),
        strict=True,
    ):
        groups.setdefault((service, priority, team), []).append(age)
    by = [
        {
            "service": s,
            "priority": p,
            "team": t,
            "tickets": len(a),
            "mean_age_h": float(np.mean(a)),
            "max_age_h": float(np.max(a)),
        }
        for (s, p, t), a in sorted(
            groups.items(), key=lambda kv: (kv[0][0], natural_key(kv[0][1]), kv[0][2])
        )
    ]
    return {
        "tickets": int(rows.size),
        "by": by,
        "note": (
            "tickets still open at the export time: an optional starting state. The engine cannot "
            "start with a backlog yet, so the scenario does not contain it; its warm-up "
            "(default 2 weeks) loads the queues instead"
        ),
    }


# --------------------------------------------------------------------------- targets from a scenario


def _copied_targets(
    given: Scenario | None, services: Sequence[str], teams: Sequence[str]
) -> dict[str, Any]:
    """The parts of the given scenario to copy: calendars, priority targets, OLAs/UCs,
    customers and the corporate level, with a note of what matched."""
    if given is None:
        return {"from": None, "note": "no scenario given: the fitted scenario has no targets"}
    raw = given.raw
    out: dict[str, Any] = {
        "from": given.source or given.name,
        "calendars": raw.get("calendars") or {},
    }
    priorities: dict[str, dict[str, Any]] = {}
    missing_services = []
    for name, service in (raw.get("services") or {}).items():
        if name not in services:
            missing_services.append(name)
            continue
        priorities[name] = {
            str(p): {k: v for k, v in (level or {}).items() if k in ("respond", "resolve")}
            for p, level in (service.get("priorities") or {}).items()
        }
    agreements = {}
    for name, team in (raw.get("teams") or {}).items():
        if name in teams:
            for key in ("ola", "uc"):
                if team.get(key):
                    agreements[name] = (key, team[key])
    out.update(
        priorities=priorities,
        agreements=agreements,
        customers=raw.get("customers") or {},
        corporate=raw.get("corporate"),
        period=raw.get("period"),
        priority_order=raw.get("priority_order"),
        missing_services=missing_services,
        missing_teams=[t for t in (raw.get("teams") or {}) if t not in teams],
    )
    return out


# --------------------------------------------------------------------------- YAML


class _Yaml:
    def __init__(self) -> None:
        self.lines: list[str] = []

    def comment(self, text: str, indent: int = 0) -> None:
        for line in _wrap(text, 98 - indent):
            self.lines.append(" " * indent + "# " + line)

    def line(self, indent: int, text: str, comment: str | None = None) -> None:
        body = " " * indent + text
        if comment:
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


# --------------------------------------------------------------------------- calibrate


def calibrate(
    history: History,
    *,
    scenario: Scenario | None = None,
    timezone: str | None = None,
    agents: Mapping[str, int] | None = None,
    handling_fraction: float | None = None,
    holidays: str | None = None,
    name: str | None = None,
) -> Calibration:
    """Fit a scenario to a ticket history.

    Parameters
    ----------
    history
        The history (from :func:`simkit.calibrate.load_history`).
    scenario
        Optional scenario whose targets (SLA per service and priority, customers, corporate,
        OLAs/UCs), calendars, period and priority order are copied into the fitted scenario
        where service and team names match; its rosters serve teams whose handling time the
        history cannot identify; its holidays are tested for a holiday effect.
    timezone
        Time zone of the fitted scenario (default: the given scenario's, else the history's).
    agents
        Agents on duty round the clock per team name, overriding the inferred roster.
    handling_fraction
        For teams without pick-up times and with a given roster: handling time as this fraction
        of the observed time at the team. Without it such teams are delay stations.
    holidays
        ``"GB/ENG"``-style country (and subdivision) whose public holidays are tested for an
        effect on volume.
    name
        Scenario name (default: ``"Calibrated from <file>"``).

    Returns
    -------
    Calibration

    Raises
    ------
    simkit.errors.InputError
        When the history is too short or holds no tickets.
    """
    zone = timezone or (scenario.timezone if scenario is not None else history.timezone)
    try:
        zoneinfo.ZoneInfo(zone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise InputError.single(
            f"unknown time zone {zone!r}",
            "use an IANA name such as Europe/London",
            path="--timezone",
        ) from None
    if handling_fraction is not None and not 0 < handling_fraction <= 1:
        raise InputError.single(
            f"the handling fraction must lie in (0, 1], got {handling_fraction}",
            "e.g. --handling-fraction 30%",
            path="--handling-fraction",
        )
    agents = dict(agents or {})
    start, end = history_span(history, zone)
    data = _data(history, zone, start, end)
    if data.span_h < 7 * 24:
        raise InputError.single(
            f"the history covers {data.span_h / 24:.1f} days; fitting needs at least a week",
            "export a longer history (a quarter or more is best)",
            file=history.source,
        )
    assumptions: list[str] = list(data.notes)
    if data.v_ticket.size == 0:
        data = _without_visits(data, "resolver")
        assumptions.append(data.notes[-1])
    data = _pool_small_teams(data, scenario, agents, assumptions)
    grid = _hour_grid(data)
    ref_date = _local_date(as_instant(data.ref), zone)
    years = range(ref_date.year, ref_date.year + int(data.span_h // HOURS_PER_YEAR) + 2)
    holiday_set = _holiday_dates(holidays, scenario, years)

    # services
    services_report: list[dict[str, Any]] = []
    service_names = sorted(set(data.service[~np.isnan(data.opened)].tolist()), key=natural_key)
    first_visit = (
        np.r_[True, data.v_ticket[1:] != data.v_ticket[:-1]]
        if data.v_ticket.size
        else np.zeros(0, bool)
    )
    entry_of_ticket = np.full(data.opened.size, None, dtype=object)
    entry_of_ticket[data.v_ticket[first_visit]] = data.v_team[first_visit]
    service_fits: dict[str, dict[str, Any]] = {}
    for service in service_names:
        rows = np.flatnonzero((data.service == service) & ~np.isnan(data.opened))
        demand = _demand(data, service, rows, grid, holiday_set, scenario)
        entries = Counter(e for e in entry_of_ticket[rows].tolist() if e is not None)
        if not entries:
            entry, entry_share = "resolver", 1.0
        else:
            entry, count = entries.most_common(1)[0]
            entry_share = count / sum(entries.values())
        if entry_share < 0.99 and entries:
            assumptions.append(
                f"service {service}: {_pct(1 - entry_share)} of its tickets were first assigned "
                f"to a team other than {entry} ({', '.join(f'{t}: {c:,}' for t, c in entries.most_common()[1:4])}); "
                "the scenario has one entry team per service, so they enter at "
                f"{entry}"
            )
        in_span = rows[(data.opened[rows] >= 0) & (data.opened[rows] < data.span_h)]
        mix = Counter(p for p in data.priority[in_span].tolist() if p is not None)
        unprioritised = int(sum(1 for p in data.priority[in_span].tolist() if p is None))
        if unprioritised:
            assumptions.append(
                f"service {service}: {unprioritised:,} tickets without a priority count in the "
                "volume; the mix is taken from the others"
            )
        probability, after, reopen_report = _reopen(data, rows)
        service_fits[service] = {
            "demand": demand,
            "entry": entry,
            "entry_share": entry_share,
            "mix": mix,
            "reopen": (probability, after),
        }
        services_report.append(
            {
                "service": service,
                "tickets": int(rows.size),
                "tickets_in_span": demand["tickets"],
                "per_week": demand["per_week"],
                "entry": entry,
                "entry_share": entry_share,
                "growth": demand["growth"],
                "holidays": demand["holidays"],
                "profile": (
                    demand["profile"]
                    if isinstance(demand["profile"], str)
                    else np.round(demand["profile"], 4).tolist()
                ),
                "hourly_rate": np.round(demand["hourly_rate"], 4).tolist(),
                "profile_note": demand["profile_note"],
                "priorities": [
                    {"priority": p, "tickets": c, "share": c / max(1, sum(mix.values()))}
                    for p, c in sorted(mix.items(), key=lambda kv: natural_key(kv[0]))
                ],
                "reopen": reopen_report,
            }
        )
        if demand["growth"].get("used"):
            assumptions.append(f"service {service}: {demand['growth']['note']}")
        if demand["holidays"].get("significant"):
            assumptions.append(f"service {service}: {demand['holidays']['note']}")

    # teams
    links = _link_pauses(data)
    if links.orphans:
        assumptions.append(
            f"{links.orphans:,} awaiting-user pauses could not be placed in a visit (they began "
            "outside any stay with a team) and were not used"
        )
    episodes = _episodes(data, links)
    team_names = sorted(
        set(data.v_team.tolist()) | {f["entry"] for f in service_fits.values()}, key=natural_key
    )
    team_fits: list[_TeamFit] = []
    for team in team_names:
        fitted = _fit_team(
            team, data, episodes, links, grid, scenario, agents, handling_fraction, assumptions
        )
        if not fitted.handle:
            fitted.handle = {
                "default": _Fitted(Exponential(1.0), {"note": "no completed visit: 1 hour assumed"})
            }
            assumptions.append(f"team {team}: no completed visit, handling of 1 hour assumed")
        team_fits.append(fitted)
    abandoned = int(data.abandoned.sum())
    if abandoned:
        assumptions.append(
            f"{abandoned:,} tickets were abandoned or cancelled; their last visit counts as "
            "resolved in the routing and no patience is fitted"
        )
    for name_ in agents:
        if name_ not in team_names:
            raise InputError.single(
                f"--agents names team {name_!r}, which the history does not have",
                f"teams in the history: {', '.join(team_names)}",
                path="--agents",
            )

    copied = _copied_targets(scenario, service_names, team_names)
    backlog = _backlog(data)
    document_name = name or f"Calibrated from {history.source}"
    text = _write_yaml(
        history, data, zone, start, end, document_name, service_fits, team_fits, copied, scenario
    )
    try:
        fitted_scenario = parse_scenario(text, file=None)
    except InputError as error:  # a bug here, not bad input: show the text
        raise RuntimeError(
            "the fitted scenario does not validate:\n" + error.describe() + "\n" + text
        ) from error
    report: dict[str, Any] = {
        "scenario": document_name,
        "source": history.source,
        "profile": history.profile,
        "timezone": zone,
        "span": {
            "from": _iso(start),
            "until": _iso(end),
            "days": data.span_h / 24,
            "observed_until": _iso(as_instant(history.observed_until)),
        },
        "tickets": int(np.sum(~np.isnan(data.opened))),
        "visits": int(data.v_ticket.size),
        "pauses": int(data.p_ticket.size),
        "services": services_report,
        "teams": [t.report for t in team_fits],
        "backlog": backlog,
        "targets": {
            "from": copied.get("from"),
            "note": copied.get("note")
            or (
                "targets copied for services "
                + (", ".join(copied["priorities"]) or "none")
                + (
                    f"; not in the history: {', '.join(copied['missing_services'])}"
                    if copied["missing_services"]
                    else ""
                )
            ),
        },
        "assumptions": assumptions,
        "quality": _quality(history),
    }
    return Calibration(yaml=text, scenario=fitted_scenario, report=_jsonable(report))


def _quality(history: History) -> Any:
    quality = getattr(history, "quality", None)
    for attribute in ("as_dict", "to_dict", "as_json"):
        method = getattr(quality, attribute, None)
        if callable(method):
            return method()
    return None


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating | float):
        number = float(value)
        return number if math.isfinite(number) else None
    if isinstance(value, np.bool_):
        return bool(value)
    if isinstance(value, np.ndarray):
        return _jsonable(value.tolist())
    return value


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
    start_date = _local_date(start, zone)
    out.line(0, f"start: {start_date.isoformat()}", "the first day of the history")
    out.line(0, f"timezone: {zone}", "profile and rosters are in this time zone")
    days = max(1, round(data.span_h / 24))
    out.line(0, f"horizon: {days}d", "the span of the history")
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
        if growth.get("used"):
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
                out.line(6, f"{json.dumps(line)}: {n}")
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
        fitted_customers: dict[str, Any] = {}
        for c, spec in kept.items():
            shares_of = {}
            for s, share in (spec.get("services") or {}).items():
                if s not in services:
                    continue
                rows = (data.service == s) & ~np.isnan(data.opened)
                seen = int(np.sum(rows & (data.customer == c)))
                shares_of[s] = _pct(seen / max(1, int(rows.sum())), 1) if seen else share
            entry = {"services": shares_of}
            if spec.get("priorities"):
                entry["priorities"] = spec["priorities"]
            fitted_customers[c] = entry
        _block(out, 0, "customers", fitted_customers)
    if copied.get("corporate"):
        _block(out, 0, "corporate", copied["corporate"])
    return out.text()


# --------------------------------------------------------------------------- readable report


def describe_report(report: Mapping[str, Any]) -> str:
    """The calibration report in plain language."""
    lines: list[str] = []
    span = report["span"]
    lines.append(
        f"Calibrated {report['tickets']:,} tickets from {report['source']} "
        f"({span['from']} … {span['until']}, {span['days']:.0f} days; time zone {report['timezone']})"
    )
    for s in report["services"]:
        lines.append(
            f"\nservice {s['service']}: {s['per_week']:.1f} tickets/week, entry {s['entry']} "
            f"({_pct(s['entry_share'])} of tickets)"
        )
        lines.append(f"  trend: {s['growth'].get('note', '')}")
        lines.append(f"  holidays: {s['holidays'].get('note', '')}")
        mix = ", ".join(f"{p['priority']} {_pct(p['share'])}" for p in s["priorities"])
        lines.append(f"  priorities: {mix}")
        reopen = s["reopen"]
        if reopen.get("probability"):
            lines.append(f"  reopened: {_pct(reopen['probability'], 2)} of resolved tickets")
    for t in report["teams"]:
        lines.append(f"\nteam {t['team']} ({t['kind']}, {t['visits']:,} visits): {t['method']}")
        for p, h in t["handle"].items():
            cands = h.get("candidates") or []
            chosen = next((c for c in cands if c["family"] == h.get("best_family")), None)
            gof = f", KS {chosen['ks_statistic']:.3f}" if chosen else ""
            desc = chosen["description"] if chosen else str(h.get("best"))
            lines.append(f"  handle {p}: {desc} (n={h.get('n', 0):,}{gof})")
        total = sum(t["routes"].values())
        if total:
            routes = ", ".join(
                f"{k} {_pct(v / total)}"
                for k, v in sorted(t["routes"].items(), key=lambda kv: -kv[1])
            )
            lines.append(f"  next: {routes}")
    backlog = report["backlog"]
    lines.append(f"\nopen at the export time: {backlog['tickets']:,} tickets — {backlog['note']}")
    lines.append(f"\ntargets: {report['targets']['note']}")
    if report["assumptions"]:
        lines.append("\nassumptions and what the history could not identify:")
        lines.extend(f"  - {a}" for a in report["assumptions"])
    return "\n".join(lines)
