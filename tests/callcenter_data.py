"""The "Anonymous Bank" call-centre log (February 1999), for the validation in
tests/test_validation_callcenter.py and docs/validation.md.

Reads the log from ``../shared/data/bank_callcenter_1999/`` (never copied into the project), keeps
the calls that reached the agents, derives the model's inputs from them (arrivals per hour of
week, handling times, patience, agents on the floor and their shrinkage), builds the simkit
scenario, and measures records and simulation alike: the mean wait of answered calls and the
abandonment share per hour of day, with their standard errors over days. Running this file prints
the tables of docs/validation.md::

    .venv/bin/python tests/callcenter_data.py [path/to/shared/data]
"""

from __future__ import annotations

import datetime as dt
import math
import sys
import zoneinfo
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from simkit.distributions import Distribution, fit

LOG_FILE = Path("bank_callcenter_1999") / "data_anonymous_bank_february.txt"
TIMEZONE = "Asia/Jerusalem"
"""UTC+02:00 throughout February 1999 (Israel's summer time began in April), so no clock change."""
FIRST_DAY = dt.date(1999, 2, 1)
"""A Monday; the log covers 28 days, exactly four weeks."""
DAYS_IN_LOG = 28
WORKDAYS = (6, 0, 1, 2, 3)
"""Sunday to Thursday (0 = Monday): the full working days of an Israeli bank. Friday is a short
morning, Saturday a short evening after the Sabbath."""
MIN_CALLS_PER_DAY = 10
"""An hour of day is compared when it averages at least this many calls per working day."""
GAP_OFF_FLOOR_MIN = 30
"""An agent with no call for longer than this is taken to be off the floor."""
WEEKDAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
COLUMNS = (
    "vru+line",
    "call_id",
    "customer_id",
    "priority",
    "type",
    "date",
    "vru_entry",
    "vru_exit",
    "vru_time",
    "q_start",
    "q_exit",
    "q_time",
    "outcome",
    "ser_start",
    "ser_exit",
    "ser_time",
    "server",
)
OUTCOMES = ("AGENT", "HANG", "PHANTOM")
NO_SERVER = "NO_SERVER"
DIRECT_TYPES = ("PS", "NE", "PE")
DAY_S = 86_400


# -- reading -------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class CallLog:
    """Every row of the log as numpy columns; clock times in seconds after local midnight of
    ``date`` (a ``vru_exit`` more than 12 h before ``vru_entry`` is read as after midnight)."""

    line: np.ndarray
    """Line number in the file (the header is line 1)."""
    day: np.ndarray
    """Days since :data:`FIRST_DAY`."""
    priority: np.ndarray
    call_type: np.ndarray
    vru_entry_s: np.ndarray
    vru_exit_s: np.ndarray
    q_start: np.ndarray
    """The raw text: ``0:00:00`` stands for "never queued"."""
    q_time_s: np.ndarray
    outcome: np.ndarray
    ser_time_s: np.ndarray
    server: np.ndarray


def _strings(table: pa.Table, name: str) -> np.ndarray:
    return np.asarray(
        pc.utf8_trim_whitespace(table.column(name).combine_chunks()).to_numpy(zero_copy_only=False),
        dtype=str,
    )


def _refuse(path: Path, lines: np.ndarray, bad: np.ndarray, what: str, values: np.ndarray) -> None:
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise ValueError(
            f"{path}: line {lines[i]}: {what} {values[i]!r} ({int(bad.sum())} such rows)"
        )


def _clock_seconds(path: Path, lines: np.ndarray, text: np.ndarray, name: str) -> np.ndarray:
    """``H:MM:SS`` → seconds after midnight; anything else is refused with its line."""
    parts = np.char.partition(np.char.partition(text, ":")[:, 2], ":")
    hours = np.char.partition(text, ":")[:, 0]
    minutes, seconds = parts[:, 0], parts[:, 2]
    bad = ~(
        np.char.isdigit(hours)
        & (np.char.str_len(hours) <= 2)
        & np.char.isdigit(minutes)
        & (np.char.str_len(minutes) == 2)
        & np.char.isdigit(seconds)
        & (np.char.str_len(seconds) == 2)
    )
    _refuse(path, lines, bad, f"{name} is not a time H:MM:SS:", text)
    return np.asarray(
        hours.astype(np.int64) * 3600 + minutes.astype(np.int64) * 60 + seconds.astype(np.int64)
    )


def _whole(path: Path, lines: np.ndarray, text: np.ndarray, name: str) -> np.ndarray:
    digits = np.char.lstrip(text, "-")
    _refuse(path, lines, ~np.char.isdigit(digits), f"{name} is not a whole number:", text)
    return np.asarray(text.astype(np.int64))


def _days(path: Path, lines: np.ndarray, raw: np.ndarray) -> np.ndarray:
    """``YYMMDD`` → days since :data:`FIRST_DAY`; anything else is refused with its line."""
    keys, inverse = np.unique(raw, return_inverse=True)
    offsets = np.empty(keys.size, dtype=np.int64)
    for k, key in enumerate(keys.tolist()):
        try:
            day = dt.datetime.strptime(key, "%y%m%d").date() if len(key) == 6 else None
        except ValueError:
            day = None
        if day is None:
            _refuse(path, lines, raw == key, "date is not YYMMDD:", raw)
        assert day is not None
        offsets[k] = (day - FIRST_DAY).days
    return offsets[inverse]


def read_call_log(shared_data: Path) -> CallLog:
    """Read the tab-separated February log under ``shared_data``.

    Nothing is dropped here; a row that cannot be read (a malformed time, date or number, an
    unknown outcome, a date outside February 1999) is refused with its line number.
    """
    path = shared_data / LOG_FILE
    table = pacsv.read_csv(
        path,
        parse_options=pacsv.ParseOptions(delimiter="\t"),
        convert_options=pacsv.ConvertOptions(column_types=dict.fromkeys(COLUMNS, pa.string())),
    )
    if tuple(table.column_names) != COLUMNS:
        raise ValueError(f"{path}: expected the columns {COLUMNS}, found {table.column_names}")
    lines = np.arange(2, table.num_rows + 2)
    outcome = _strings(table, "outcome")
    _refuse(path, lines, ~np.isin(outcome, OUTCOMES), "unknown outcome", outcome)
    day = _days(path, lines, _strings(table, "date"))
    _refuse(path, lines, (day < 0) | (day >= DAYS_IN_LOG), "date outside February 1999:", day)
    entry = _clock_seconds(path, lines, _strings(table, "vru_entry"), "vru_entry")
    exit_ = _clock_seconds(path, lines, _strings(table, "vru_exit"), "vru_exit")
    exit_ = exit_ + DAY_S * (exit_ < entry - DAY_S // 2)
    return CallLog(
        line=lines,
        day=day,
        priority=_whole(path, lines, _strings(table, "priority"), "priority"),
        call_type=_strings(table, "type"),
        vru_entry_s=entry,
        vru_exit_s=exit_,
        q_start=_strings(table, "q_start"),
        q_time_s=_whole(path, lines, _strings(table, "q_time"), "q_time"),
        outcome=outcome,
        ser_time_s=_whole(path, lines, _strings(table, "ser_time"), "ser_time"),
        server=_strings(table, "server"),
    )


# -- the calls that reached the agents ----------------------------------------------------------


@dataclass(frozen=True, eq=False)
class QueueCalls:
    """The calls that reached the agents: answered (at once or after waiting) or abandoned while
    waiting. Instants in seconds after local midnight of :data:`FIRST_DAY`."""

    arrival_s: np.ndarray
    """When the call left the voice menu for the agents (``vru_exit``; equal to ``q_start``
    for queued calls)."""
    wait_s: np.ndarray
    """``q_time``: until answered, or until the caller hung up."""
    answered: np.ndarray
    priority: np.ndarray
    call_type: np.ndarray
    server: np.ndarray
    handle_s: np.ndarray
    """``ser_time`` of answered calls, 0 for abandoned ones."""
    dropped: dict[str, int]
    """Rows of the log left out, by reason."""
    kept_oddities: dict[str, int]
    """Rows kept although something about them is odd, by what."""

    @property
    def abandoned(self) -> np.ndarray:
        return ~self.answered

    @property
    def day(self) -> np.ndarray:
        return self.arrival_s // DAY_S

    @property
    def hour(self) -> np.ndarray:
        return self.arrival_s % DAY_S // 3600

    @property
    def weekday(self) -> np.ndarray:
        """0 = Monday … 6 = Sunday."""
        return (self.day + FIRST_DAY.weekday()) % 7

    @property
    def direct(self) -> np.ndarray:
        """Unidentified callers (priority 0) asking for regular service, the stock desk or
        English (types PS, NE, PE): the log shows them answered at once, ahead of the queue."""
        return np.asarray((self.priority == 0) & np.isin(self.call_type, DIRECT_TYPES))


def queue_calls(log: CallLog) -> QueueCalls:
    """Keep answered calls and calls abandoned while waiting; drop phantom calls and callers who
    hung up in the voice menu before reaching the queue (counted in ``dropped``)."""
    answered = log.outcome == "AGENT"
    hang = log.outcome == "HANG"
    never_queued = (log.q_start == "0:00:00") & (log.q_time_s == 0)
    keep = answered | (hang & ~never_queued)
    negative = keep & ((log.q_time_s < 0) | (log.ser_time_s < 0))
    if negative.any():
        raise ValueError(f"{LOG_FILE}: line {log.line[negative][0]}: negative q_time or ser_time")
    served = answered[keep]
    return QueueCalls(
        arrival_s=(log.day * DAY_S + log.vru_exit_s)[keep],
        wait_s=log.q_time_s[keep],
        answered=served,
        priority=log.priority[keep],
        call_type=log.call_type[keep],
        server=log.server[keep],
        handle_s=np.where(served, log.ser_time_s[keep], 0),
        dropped={
            "outcome PHANTOM (a phantom call; never reached an agent)": int(
                (log.outcome == "PHANTOM").sum()
            ),
            "outcome HANG without queueing (hung up in the voice menu)": int(
                (hang & never_queued).sum()
            ),
        },
        kept_oddities={
            "answered, no agent named (server NO_SERVER)": int(
                (answered & (log.server == NO_SERVER)).sum()
            ),
            "answered with ser_time 0": int((answered & (log.ser_time_s == 0)).sum()),
            "abandoned with q_time 0 (patience taken as 0.5 s)": int(
                (keep & hang & (log.q_time_s == 0)).sum()
            ),
            "vru_exit before vru_entry (negative vru_time)": int(
                (keep & (log.vru_exit_s < log.vru_entry_s)).sum()
            ),
        },
    )


def arrivals_per_week(calls: QueueCalls, mask: np.ndarray | None = None) -> np.ndarray:
    """Mean calls per (weekday mon…sun, local hour) over the four weeks: a 7×24 matrix."""
    pick = np.ones(calls.arrival_s.size, bool) if mask is None else mask
    slot = calls.weekday[pick] * 24 + calls.hour[pick]
    return np.bincount(slot, minlength=168).reshape(7, 24) / (DAYS_IN_LOG // 7)


def patience(calls: QueueCalls) -> Distribution:
    """Patience of the callers who queue (not :attr:`QueueCalls.direct`) by censored maximum
    likelihood, best family by AIC: an abandoned call's wait is its patience (0 s, below the
    clock's resolution, counts as 0.5 s); an answered call that waited gives a lower bound
    (censored). Calls answered at once tell nothing and are left out."""
    informative = ~calls.direct & (calls.abandoned | (calls.wait_s > 0))
    seconds = np.maximum(calls.wait_s[informative], 0.5).astype(np.float64)
    return fit(seconds / 3600.0, censored=calls.answered[informative]).best


# -- agents --------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class Floor:
    """Agents per (weekday, hour) as simkit sees them: heads on the floor and the shrinkage."""

    present: np.ndarray
    """7×24 mean agents on the floor (fractional)."""
    shrinkage: float
    """Share of the floor's time not on calls while callers wait."""

    @property
    def on_calls(self) -> np.ndarray:
        return self.present * (1.0 - self.shrinkage)


def _timeline(span: int, starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
    """How many of the intervals ``[starts, ends)`` cover each second of ``[0, span)``."""
    steps = np.zeros(span + 1, dtype=np.int32)
    np.add.at(steps, starts, 1)
    np.add.at(steps, ends, -1)
    return np.cumsum(steps)[:span]


def _per_slot(span: int, values: np.ndarray) -> np.ndarray:
    """Mean of a per-second series for each hour of the week, as 7×24 (Monday first)."""
    offset = FIRST_DAY.weekday() * 24
    slot = (np.arange(span) // 3600 + offset) % 168
    total = np.bincount(slot, weights=values, minlength=168)
    seconds = np.bincount(slot, minlength=168)
    return (total / np.maximum(seconds, 1)).reshape(7, 24)


def floor_from_log(calls: QueueCalls, gap_min: float = GAP_OFF_FLOOR_MIN) -> Floor:
    """Agents on the floor per hour of week and their shrinkage, inferred from the log.

    An agent is on the floor from the start of a call to the end of the last call before a gap
    longer than ``gap_min`` minutes. While at least one caller waits, every agent free for calls
    takes one, so (calls in service) / (agents on the floor), over all the moments with a
    caller waiting, is the share of floor time available for calls; one minus it is the
    shrinkage (after-call work, breaks, other tasks — none of which the log records).
    """
    start = calls.arrival_s + calls.wait_s
    end = start + calls.handle_s
    span = int(end.max()) + 1
    waiting = calls.wait_s > 0
    someone_waits = _timeline(span, calls.arrival_s[waiting], start[waiting]) > 0
    in_service = _timeline(span, start[calls.answered], end[calls.answered])
    named = calls.answered & (calls.server != NO_SERVER)
    spell_starts, spell_ends = [], []
    for agent in np.unique(calls.server[named]):
        mine = named & (calls.server == agent)
        order = np.argsort(start[mine], kind="stable")
        a = start[mine][order]
        b = np.maximum.accumulate(end[mine][order])
        breaks = np.flatnonzero(a[1:] - b[:-1] > gap_min * 60)
        spell_starts.append(np.concatenate([[a[0]], a[breaks + 1]]))
        spell_ends.append(np.concatenate([b[breaks], [b[-1]]]))
    present = _timeline(span, np.concatenate(spell_starts), np.concatenate(spell_ends))
    available = float((in_service * someone_waits).sum() / (present * someone_waits).sum())
    return Floor(present=_per_slot(span, present), shrinkage=1.0 - available)


def agents_seen(calls: QueueCalls) -> np.ndarray:
    """7×24 mean number of different agents who served a call in each hour (a head count of the
    kind a shift report gives)."""
    named = calls.answered & (calls.server != NO_SERVER)
    start = (calls.arrival_s + calls.wait_s)[named]
    end = start + calls.handle_s[named]
    _, agent = np.unique(calls.server[named], return_inverse=True)
    first, last = start // 3600, np.maximum(end - 1, start) // 3600
    reps = (last - first + 1).astype(np.int64)
    hours = np.repeat(first, reps) + (
        np.arange(reps.sum()) - np.repeat(np.cumsum(reps) - reps, reps)
    )
    pairs = np.unique(np.stack([hours, np.repeat(agent, reps)]), axis=1)
    counts = np.bincount(pairs[0], minlength=DAYS_IN_LOG * 24 + 24)[: DAYS_IN_LOG * 24]
    slot = (np.arange(DAYS_IN_LOG * 24) + FIRST_DAY.weekday() * 24) % 168
    return (np.bincount(slot, weights=counts, minlength=168) / (DAYS_IN_LOG // 7)).reshape(7, 24)


# -- the scenario --------------------------------------------------------------------------------


def roster_lines(agents: np.ndarray) -> dict[str, int]:
    """A 7×24 matrix of fractional agents as stacked roster lines: ``n`` for the whole hour plus
    one agent for the fraction's minutes (4.4 → 4 from :00 to :00 and 1 from :00 to :24)."""
    lines: dict[str, int] = {}
    for w, name in enumerate(WEEKDAY_NAMES):
        for h in range(24):
            whole = math.floor(float(agents[w, h]) + 1e-9)
            minutes = round((agents[w, h] - whole) * 60)
            if minutes == 60:
                whole, minutes = whole + 1, 0
            if whole:
                lines[f"{name} {h:02d}:00-{h + 1:02d}:00"] = whole
            if minutes:
                lines[f"{name} {h:02d}:00-{h:02d}:{minutes:02d}"] = 1
    return lines


def _empirical(seconds: np.ndarray) -> dict[str, Any]:
    return {"empirical": {"values": [f"{s}s" for s in seconds.tolist()]}}


def class_name(direct: bool, hour: int | None) -> str:
    """Priority label of a call class: ``direct`` or ``queue``, with its hour when banded."""
    kind = "direct" if direct else "queue"
    return kind if hour is None else f"{kind} {hour:02d}h"


def bank_scenario(
    calls: QueueCalls,
    agents: np.ndarray,
    shrinkage: float,
    *,
    hourly_handling: bool = True,
    preempt: bool = True,
    replications: int = 20,
    seed: int = 1999,
) -> dict[str, Any]:
    """The scenario (as a dict for ``parse_scenario``) of the bank's four weeks.

    Two classes of call: ``direct`` (answered at once in the records, see
    :attr:`QueueCalls.direct`) ranked before ``queue`` (everything else, first come first served),
    with ``preempt`` letting a direct call take an agent from a queue call. With
    ``hourly_handling`` each hour of day is its own service with its own priority labels
    (``queue 09h``), whose handling times are the ones recorded in that hour; labels are ranked
    in hour order, so within a day the queue is still first come, first served.
    """
    hours: list[int | None] = (
        [h for h in range(24) if (calls.hour == h).any()] if hourly_handling else [None]
    )
    services: dict[str, Any] = {}
    handle: dict[str, Any] = {"default": _empirical(calls.handle_s[calls.answered])}
    for hour in hours:
        in_band = np.ones(calls.arrival_s.size, bool) if hour is None else calls.hour == hour
        priorities: dict[str, Any] = {}
        for direct in (True, False):
            mine = in_band & (calls.direct == direct)
            if not mine.any():
                continue
            label = class_name(direct, hour)
            priorities[label] = {"share": float(mine.sum() / in_band.sum())}
            if (mine & calls.answered).sum() >= 20:
                handle[label] = _empirical(calls.handle_s[mine & calls.answered])
        profile = arrivals_per_week(calls, in_band)
        services["calls" if hour is None else f"calls {hour:02d}h"] = {
            "entry": "agents",
            "demand": {"per_week": float(profile.sum()), "profile": profile.tolist()},
            "priorities": priorities,
        }
    labels = [label for service in services.values() for label in service["priorities"]]
    order = sorted(labels, key=lambda label: (label.startswith("queue"), label))
    team: dict[str, Any] = {
        "roster": roster_lines(agents),
        "shrinkage": float(shrinkage),
        "handle": handle,
        "patience": patience(calls).to_spec(),
    }
    if preempt:
        team["preempt"] = [label for label in order if label.startswith("direct")]
    return {
        "name": "Anonymous Bank call centre, February 1999",
        "start": FIRST_DAY.isoformat(),
        "timezone": TIMEZONE,
        "horizon": f"{DAYS_IN_LOG}d",
        "warmup": "1d",
        "drain": "2h",
        "replications": replications,
        "seed": seed,
        "priority_order": order,
        "services": services,
        "teams": {"agents": team},
    }


# -- measuring records and simulation alike ------------------------------------------------------


@dataclass(frozen=True, eq=False)
class Measured:
    """One row per call (recorded or simulated), ready for :func:`hourly_figures`."""

    cluster: np.ndarray
    """A day: ``day`` for the records, ``replication × 28 + day`` for a simulation."""
    day: np.ndarray
    hour: np.ndarray
    wait_s: np.ndarray
    answered: np.ndarray
    direct: np.ndarray
    clusters: int
    """Replications × days (1 × 28 for the records)."""

    def workday_clusters(self) -> np.ndarray:
        runs = self.clusters // DAYS_IN_LOG
        days = np.array(
            [d for d in range(DAYS_IN_LOG) if (d + FIRST_DAY.weekday()) % 7 in WORKDAYS]
        )
        return np.asarray((np.arange(runs)[:, None] * DAYS_IN_LOG + days[None, :]).ravel())


def measured_records(calls: QueueCalls) -> Measured:
    return Measured(
        cluster=calls.day,
        day=calls.day,
        hour=calls.hour,
        wait_s=calls.wait_s.astype(np.float64),
        answered=calls.answered,
        direct=calls.direct,
        clusters=DAYS_IN_LOG,
    )


def local_midnight_utc() -> np.datetime64:
    midnight = dt.datetime.combine(FIRST_DAY, dt.time(0), tzinfo=zoneinfo.ZoneInfo(TIMEZONE))
    return np.datetime64(midnight.astimezone(dt.UTC).replace(tzinfo=None), "us")


def measured_simulation(visits: pa.Table, tickets: pa.Table, replications: int) -> Measured:
    """The simulated calls assigned in the four weeks: wait = started − assigned of answered
    calls, abandonment = outcome ``abandoned`` (one visit per call: no routing)."""
    assigned = visits.column("assigned_at").to_numpy()
    started = visits.column("started_at").to_numpy()
    since = (assigned - local_midnight_utc()) / np.timedelta64(1, "s")
    inside = (since >= 0) & (since < DAYS_IN_LOG * DAY_S)
    seconds = np.floor(since[inside]).astype(np.int64)
    replication = visits.column("replication").to_numpy()[inside].astype(np.int64)
    outcome = np.asarray(visits.column("outcome").to_numpy(zero_copy_only=False), dtype=str)
    answered = outcome[inside] != "abandoned"
    wait = ((started - assigned) / np.timedelta64(1, "s"))[inside]
    key = visits.column("ticket_id").to_numpy()[inside] * replications + replication
    ticket_key = tickets.column("ticket_id").to_numpy() * replications + tickets.column(
        "replication"
    ).to_numpy().astype(np.int64)
    order = np.argsort(ticket_key)
    found = order[np.searchsorted(ticket_key, key, sorter=order)]
    priority = np.asarray(tickets.column("priority").to_numpy(zero_copy_only=False), dtype=str)
    day = seconds // DAY_S
    return Measured(
        cluster=replication * DAYS_IN_LOG + day,
        day=day,
        hour=seconds % DAY_S // 3600,
        wait_s=np.where(answered, wait, 0.0),
        answered=answered,
        direct=np.char.startswith(priority[found], "direct"),
        clusters=replications * DAYS_IN_LOG,
    )


@dataclass(frozen=True, eq=False)
class HourlyFigures:
    """A figure per hour of day (index 0–23) over a set of days: pooled over the calls, with its
    standard error and day-to-day spread from the days as independent clusters."""

    calls: np.ndarray
    """The figure's denominator per hour, all days together."""
    value: np.ndarray
    """Sum of values / calls (nan where no call)."""
    se: np.ndarray
    """Standard error of ``value`` (ratio estimator, days as clusters)."""
    day_sd: np.ndarray
    """Day-to-day standard deviation of the hourly figure, calls-weighted: ``se × √days``."""
    days: int


def hourly_figures(
    cluster: np.ndarray, hour: np.ndarray, value: np.ndarray, clusters: np.ndarray
) -> HourlyFigures:
    """Per hour of day: the pooled mean of ``value`` over the calls of ``clusters``, with its
    cluster standard error; every id in ``clusters`` counts, also without a call in that hour."""
    ids = np.sort(np.asarray(clusters))
    k = ids.size
    pick = np.isin(cluster, ids)
    index = np.searchsorted(ids, cluster[pick]) * 24 + hour[pick]
    n = np.bincount(index, minlength=k * 24).reshape(k, 24)
    total = np.bincount(index, weights=value[pick], minlength=k * 24).reshape(k, 24)
    calls = n.sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        pooled = total.sum(axis=0) / calls
        residual = total - pooled * n
        se = np.sqrt(k / (k - 1) * (residual**2).sum(axis=0)) / calls
    return HourlyFigures(calls=calls, value=pooled, se=se, day_sd=se * math.sqrt(k), days=k)


@dataclass(frozen=True, eq=False)
class Figures:
    """Mean wait of answered calls (s) and abandonment share, per hour and over the whole day,
    on working days."""

    wait: HourlyFigures
    abandoned: HourlyFigures
    wait_all: tuple[float, float]
    """(value, standard error) over every hour."""
    abandoned_all: tuple[float, float]


def figures(measured: Measured, mask: np.ndarray | None = None) -> Figures:
    pick = np.ones(measured.cluster.size, bool) if mask is None else mask
    days = measured.workday_clusters()
    answered = pick & measured.answered
    wait = hourly_figures(
        measured.cluster[answered], measured.hour[answered], measured.wait_s[answered], days
    )
    abandoned = hourly_figures(
        measured.cluster[pick],
        measured.hour[pick],
        (~measured.answered[pick]).astype(np.float64),
        days,
    )
    zero = np.zeros(measured.cluster.size, dtype=np.int64)
    wait_all = hourly_figures(
        measured.cluster[answered], zero[answered], measured.wait_s[answered], days
    )
    abandoned_all = hourly_figures(
        measured.cluster[pick], zero[pick], (~measured.answered[pick]).astype(np.float64), days
    )
    return Figures(
        wait=wait,
        abandoned=abandoned,
        wait_all=(float(wait_all.value[0]), float(wait_all.se[0])),
        abandoned_all=(float(abandoned_all.value[0]), float(abandoned_all.se[0])),
    )


def compared_hours(records: Figures) -> list[int]:
    """Hours of day with at least :data:`MIN_CALLS_PER_DAY` calls per working day."""
    per_day = records.abandoned.calls / records.abandoned.days
    return [h for h in range(24) if per_day[h] >= MIN_CALLS_PER_DAY]


def z_scores(records: HourlyFigures, simulated: HourlyFigures, hours: Sequence[int]) -> np.ndarray:
    """(simulated − recorded) / combined standard error, per hour."""
    h = np.asarray(hours)
    return np.asarray(
        (simulated.value[h] - records.value[h]) / np.hypot(records.se[h], simulated.se[h])
    )


# -- the report of docs/validation.md ------------------------------------------------------------


def _simulate(scenario: dict[str, Any], replications: int) -> Measured:
    import yaml

    from simkit.runner import simulate
    from simkit.scenario import parse_scenario

    results = simulate(
        parse_scenario(yaml.safe_dump(scenario), file="callcenter"),
        replications=replications,
        seed=scenario["seed"],
    )
    if results.failures:
        raise RuntimeError(results.failures[0].detail)
    return measured_simulation(results.visits, results.tickets, replications)


def _survival_check(calls: QueueCalls) -> str:
    """Fitted patience against the Kaplan–Meier estimate of the same censored sample."""
    informative = ~calls.direct & (calls.abandoned | (calls.wait_s > 0))
    seconds = np.maximum(calls.wait_s[informative], 0.5).astype(np.float64)
    event = calls.abandoned[informative]
    order = np.argsort(seconds, kind="stable")
    seconds, event = seconds[order], event[order]
    times = np.unique(seconds)
    at_risk = seconds.size - np.searchsorted(seconds, times, side="left")
    events = np.bincount(np.searchsorted(times, seconds[event]), minlength=times.size)
    survival = np.cumprod(1.0 - events / at_risk)
    fitted = patience(calls)
    shown = []
    for t in (30, 60, 120, 180, 300):
        km = survival[np.searchsorted(times, t, side="right") - 1]
        shown.append(f"{t} s: fitted {1.0 - float(fitted.cdf(t / 3600.0)):.3f} / KM {km:.3f}")
    return (
        f"{fitted.describe()} from {seconds.size} calls ({int(event.sum())} abandoned); "
        + "; ".join(shown)
    )


def _within(records: HourlyFigures, simulated: HourlyFigures, hours: list[int]) -> tuple[int, int]:
    """Hours within 2 combined standard errors, and within 2 day-to-day SDs of the records."""
    h = np.asarray(hours)
    by_se = int((abs(z_scores(records, simulated, hours)) <= 2).sum())
    by_day = int((abs(simulated.value[h] - records.value[h]) <= 2 * records.day_sd[h]).sum())
    return by_se, by_day


def report(shared_data: Path, replications: int = 20) -> None:  # pragma: no cover - a tool
    """Print the tables of docs/validation.md."""
    calls = queue_calls(read_call_log(shared_data))
    measured = measured_records(calls)
    records = figures(measured)
    hours = compared_hours(records)
    floor = floor_from_log(calls)
    seen = agents_seen(calls)
    workday = np.isin(calls.weekday, WORKDAYS)
    rows = list(WORKDAYS)
    print("dropped:", calls.dropped)
    print("kept:", calls.kept_oddities)
    print(
        f"calls kept {calls.arrival_s.size}, answered {int(calls.answered.sum())}, "
        f"direct {int(calls.direct.sum())}, on working days {int(workday.sum())}"
    )
    print(
        f"shrinkage {floor.shrinkage:.3f}; patience {patience(calls).describe()}; "
        f"handling mean {calls.handle_s[calls.answered].mean():.0f} s"
    )
    queue = ~calls.direct
    classes = {
        "direct": calls.direct,
        "priority 2": queue & (calls.priority == 2),
        "priority 1": queue & (calls.priority == 1),
        "unidentified, other types": queue & (calls.priority == 0),
    }
    print("\n| calls (working days) | share | answered at once | mean wait, answered | abandoned |")
    for label, members in classes.items():
        mine = members & workday
        at_once = calls.answered & (calls.wait_s == 0)
        print(
            f"| {label} | {mine.sum() / workday.sum():.0%} | {at_once[mine].mean():.0%} "
            f"| {calls.wait_s[mine & calls.answered].mean():.1f} s "
            f"| {calls.abandoned[mine].mean():.1%} |"
        )
    print(f"\npatience: {_survival_check(calls)}")
    print("\n| hour | calls/day | direct | handling (s) | agents seen | on the floor | on calls |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for h in hours:
        mine = workday & (calls.hour == h)
        print(
            f"| {h:02d}–{h + 1:02d} | {mine.sum() / len(measured.workday_clusters()):.0f} "
            f"| {calls.direct[mine].mean():.0%} | {calls.handle_s[mine & calls.answered].mean():.0f} "
            f"| {seen[rows, h].mean():.1f} | {floor.present[rows, h].mean():.1f} "
            f"| {floor.on_calls[rows, h].mean():.1f} |"
        )
    variants = {
        "main": bank_scenario(calls, floor.present, floor.shrinkage),
        "one handling distribution for all hours": bank_scenario(
            calls, floor.present, floor.shrinkage, hourly_handling=False
        ),
        "direct calls wait like the others (no preemption)": bank_scenario(
            calls, floor.present, floor.shrinkage, preempt=False
        ),
        "agents seen per hour, no shrinkage": bank_scenario(calls, seen, 0.0),
        "agents on the floor +10%": bank_scenario(calls, floor.present * 1.1, floor.shrinkage),
        "agents on the floor -10%": bank_scenario(calls, floor.present * 0.9, floor.shrinkage),
    }
    for gap in (15, 60):
        other = floor_from_log(calls, gap)
        variants[f"off-floor gap {gap} min (shrinkage {other.shrinkage:.0%})"] = bank_scenario(
            calls, other.present, other.shrinkage
        )
    print(
        f"\nrecords: wait {records.wait_all[0]:.1f} s ± {records.wait_all[1]:.1f} (SE); "
        f"abandoned {records.abandoned_all[0]:.2%} ± {records.abandoned_all[1]:.2%} (SE)"
    )
    print(
        "\n| variant | mean wait (s) | abandoned | hours within 2 SE: wait, abandoned "
        "| within 2 day-to-day SD: wait, abandoned |"
    )
    print("|---|---:|---:|---:|---:|")
    main: tuple[Figures, Measured] | None = None
    for name, scenario in variants.items():
        simulated_calls = _simulate(scenario, replications)
        simulated = figures(simulated_calls)
        if main is None:
            main = (simulated, simulated_calls)
        w_se, w_day = _within(records.wait, simulated.wait, hours)
        a_se, a_day = _within(records.abandoned, simulated.abandoned, hours)
        print(
            f"| {name} | {simulated.wait_all[0]:.1f} ({simulated.wait_all[0] / records.wait_all[0] - 1:+.0%}) "
            f"| {simulated.abandoned_all[0]:.1%} ({simulated.abandoned_all[0] / records.abandoned_all[0] - 1:+.0%}) "
            f"| {w_se}, {a_se} of {len(hours)} | {w_day}, {a_day} |"
        )
        if name.startswith("direct calls wait"):
            direct_only = figures(simulated_calls, simulated_calls.direct)
            print(
                f"| … direct calls alone | {direct_only.wait_all[0]:.1f} s "
                f"| {direct_only.abandoned_all[0]:.1%} | | |"
            )
    assert main is not None
    simulated, simulated_calls = main
    zw = z_scores(records.wait, simulated.wait, hours)
    za = z_scores(records.abandoned, simulated.abandoned, hours)
    print(
        f"\nmain: wait {simulated.wait_all[0]:.1f} ± {simulated.wait_all[1]:.1f}, "
        f"abandoned {simulated.abandoned_all[0]:.2%} ± {simulated.abandoned_all[1]:.2%}; "
        f"z wait {(simulated.wait_all[0] - records.wait_all[0]) / math.hypot(records.wait_all[1], simulated.wait_all[1]):+.1f}, "
        f"z abandoned {(simulated.abandoned_all[0] - records.abandoned_all[0]) / math.hypot(records.abandoned_all[1], simulated.abandoned_all[1]):+.1f}"
    )
    print(
        "\n| hour | calls/day | wait, records | wait, simulated | z | abandoned, records "
        "| abandoned, simulated | z |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    r, s = records, simulated
    for i, h in enumerate(hours):
        print(
            f"| {h:02d}–{h + 1:02d} | {r.abandoned.calls[h] / r.abandoned.days:.0f} "
            f"| {r.wait.value[h]:.1f} ± {2 * r.wait.se[h]:.1f} "
            f"| {s.wait.value[h]:.1f} ± {2 * s.wait.se[h]:.1f} | {zw[i]:+.1f} "
            f"| {r.abandoned.value[h]:.1%} ± {2 * r.abandoned.se[h]:.1%} "
            f"| {s.abandoned.value[h]:.1%} ± {2 * s.abandoned.se[h]:.1%} | {za[i]:+.1f} |"
        )
    print(
        "\n| calls | share | wait, records | wait, simulated | abandoned, records "
        "| abandoned, simulated |"
    )
    print("|---|---:|---:|---:|---:|---:|")
    for label, direct in (("direct", True), ("queue", False)):
        rec = figures(measured, measured.direct == direct)
        sim = figures(simulated_calls, simulated_calls.direct == direct)
        share = (calls.direct[workday] == direct).mean()
        print(
            f"| {label} | {share:.0%} | {rec.wait_all[0]:.1f} ± {2 * rec.wait_all[1]:.1f} "
            f"| {sim.wait_all[0]:.1f} ± {2 * sim.wait_all[1]:.1f} "
            f"| {rec.abandoned_all[0]:.1%} ± {2 * rec.abandoned_all[1]:.1%} "
            f"| {sim.abandoned_all[0]:.1%} ± {2 * sim.abandoned_all[1]:.1%} |"
        )


if __name__ == "__main__":  # pragma: no cover
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    root = (
        Path(sys.argv[1])
        if len(sys.argv) > 1
        else Path(__file__).resolve().parents[2] / "shared" / "data"
    )
    report(root)
