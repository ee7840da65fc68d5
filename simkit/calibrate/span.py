"""Time on a ticket history: instants, local days, the span a history covers and windows of it.

:func:`history_span` is the stretch of time a history speaks for (local midnight of the day of its
first ticket to the export time); :func:`history_between` cuts a history down to what an export
taken at an earlier moment would have shown, so that a scenario can be fitted on earlier months
and back-tested on later ones. Instants are ``datetime64[us]`` in UTC; local days and hours are
read in an IANA time zone.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import zoneinfo
from typing import TYPE_CHECKING, Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from simkit.calibrate.quality import MAX_EXAMPLES, QualityReport, QualityRule
from simkit.errors import InputError

if TYPE_CHECKING:
    from simkit.calibrate.history import History

__all__ = [
    "DAYS",
    "HOURS_PER_YEAR",
    "US_PER_HOUR",
    "as_instant",
    "history_between",
    "history_span",
    "local_midnight",
]

US_PER_HOUR = 3_600_000_000
HOURS_PER_YEAR = 365.25 * 24
DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


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


def _null_after(column: pa.ChunkedArray | pa.Array, cut: np.datetime64) -> pa.Array:
    values = np.asarray(column.to_numpy(zero_copy_only=False)).astype("datetime64[us]")
    late = ~np.isnat(values) & (values >= cut)
    values = values.copy()
    values[late] = np.datetime64("NaT")
    return pa.array(values, pa.timestamp("us", tz="UTC"), mask=np.isnat(values))


def _replace(table: pa.Table, name: str, values: pa.Array) -> pa.Table:
    index = table.column_names.index(name)
    return table.set_column(index, table.schema.field(index).with_type(values.type), values)


def _when(instant: np.datetime64, zone: str) -> str:
    """A local date (and time, unless it is midnight) for messages."""
    moment = as_instant(instant).astype(dt.datetime).replace(tzinfo=dt.UTC)
    local: dt.datetime = moment.astimezone(zoneinfo.ZoneInfo(zone))
    return local.strftime("%Y-%m-%d" if local.time() == dt.time(0) else "%Y-%m-%d %H:%M")


def _empty_window(
    history: History,
    opened: np.ndarray,
    start: np.datetime64 | None,
    end: np.datetime64 | None,
) -> InputError:
    """Why a window holds none of the history's tickets, naming the first and last ticket's
    dates: otherwise the empty history would be reported later as one whose opening times are
    not mapped, which sends the user to the wrong fix."""
    zone = history.timezone
    first, last = _when(opened.min(), zone), _when(opened.max(), zone)
    span = f"the history's tickets were opened {first[:10]} … {last[:10]} ({zone})"
    if start is not None and as_instant(start) > opened.max():
        return InputError.single(
            f"--from {_when(start, zone)} is after the last ticket of the history, opened on "
            f"{last} ({zone}): no ticket is left",
            f"choose a --from before {last[:10]}: {span}",
            file=history.source,
            path="--from",
        )
    if end is not None and as_instant(end) <= opened.min():
        return InputError.single(
            f"--until {_when(end, zone)} is not after the first ticket of the history, opened "
            f"on {first} ({zone}): no ticket is left",
            f"choose an --until after {first[:10]}: {span}",
            file=history.source,
            path="--until",
        )
    since = _when(start, zone) if start is not None else "the start"
    until = _when(end, zone) if end is not None else "the end"
    return InputError.single(
        f"no ticket of the history was opened from {since} until {until}",
        f"choose --from and --until around days with tickets: {span}",
        file=history.source,
        path="--from",
    )


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

    Raises
    ------
    simkit.errors.InputError
        When no ticket of the history was opened in the window (``--from`` after the last
        ticket, ``--until`` before the first).
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
    if not keep.any() and not np.isnat(opened).all():
        raise _empty_window(history, opened[~np.isnat(opened)], start, end)
    quality = _left_out(history, opened, keep, start, end)
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
        history,
        tickets=tickets,
        visits=visits,
        pauses=pauses,
        observed_until=observed,
        quality=quality,
    )


def _left_out(
    history: History,
    opened: np.ndarray,
    keep: np.ndarray,
    start: np.datetime64 | None,
    end: np.datetime64 | None,
) -> QualityReport:
    """The history's quality report with the tickets a window leaves out counted (an ``info``
    rule, ``outside_span``: the user chose the window, cleaning removed nothing), so that the
    tickets read and the tickets used add up."""
    quality = history.quality
    left = np.flatnonzero(~keep)
    if not left.size or quality is None:  # None: a history made in code, without a report
        return quality
    zone = history.timezone
    sides = []
    if start is not None:
        sides.append(f"before {_when(start, zone)}")
    if end is not None:
        sides.append(f"from {_when(end, zone)}")
    names = history.tickets.column_names
    ids = history.tickets["source_id" if "source_id" in names else "ticket_id"]
    examples = tuple(
        {
            "ticket": str(ids[int(i)].as_py()),
            "column": "opened_at",
            "value": "missing" if np.isnat(opened[i]) else _when(opened[i], zone),
        }
        for i in left[:MAX_EXAMPLES]
    )
    rule = QualityRule(
        "outside_span",
        f"tickets opened {' or '.join(sides)} ({zone}), outside the span chosen (left out)",
        "info",
        int(left.size),
        "tickets",
        examples,
        "widen the span chosen (--from / --until on the command line) to use them",
    )
    return dataclasses.replace(quality, rules=(*quality.rules, rule))
