"""Availability measurement on outage tables — one path for history and simulation.

An ``outages`` table holds one row per interval in which a service is down: ``service, component,
start, end, planned, cause, replication`` (``end`` null: still down when the data ends). Rows of one
service may overlap — two components down at once — so they are merged per service and
replication into *service outages* before anything is measured: overlapping or touching rows are
one outage.

Rules (DESIGN, "Availability model"):

- **Agreed service time** is the open time of the target's calendar inside the measured span
  ``[spec.start, min(spec.horizon_end, spec.observed_until))``. Outages are known up to
  ``observed_until``: an outage without end (or ending later) lasts until then, one starting
  later has not happened yet. Periods are those of :func:`period_table` that overlap the span; a
  period is full when it lies inside it.
- **Maintenance** is the target's ``maintenance`` windows and nothing else. With
  ``exclude_maintenance`` they are removed from agreed service time, so nothing inside them is
  downtime; without it they are downtime themselves (whether or not an outage row records them).
  Every outage row is downtime inside agreed service time, planned or not: planned work outside
  the agreed windows is downtime, and a planned row that repeats a window changes nothing.
- **Downtime** is the agreed service time inside the merged downtime intervals (all outage rows,
  plus the windows when maintenance is not excluded); ``availability = (agreed − down) / agreed``
  per period (``None`` without agreed time), and it meets the target when it is at least the
  target.
- **Outage counts** (``outages``, ``outages_per_period``, ``bands``) and ``mtbf_h``, ``mtrs_h``,
  ``mtbsi_h`` describe *unplanned* service outages — the unplanned rows merged on their own. An
  outage belongs to the period in which it first touches agreed service time and counts only if
  it does; its duration is its agreed service time within the measured span (the whole of it, in
  its first period). Planned downtime lowers availability but is not a service outage.
- **ITIL figures**, in agreed-service-time hours over the measured span, pooled over
  replications, with ``n`` unplanned outages: MTRS = unplanned downtime / n, MTBF = (agreed −
  unplanned downtime) / n, MTBSI = agreed / n = MTBF + MTRS (``None`` when n = 0).
- **Bands** are the mean number of unplanned outages per full period whose duration is at most
  5 minutes, 5–30 minutes, 30 minutes–4 hours and over 4 hours (each band includes its upper
  bound); the bands add up to ``outages_per_period``.
- **Credits**: a period whose availability is below a tier's ``below`` earns that tier's
  ``credit`` share of the fee, the largest applicable tier counting. ``expected_credit`` is the
  mean over (replication, full period) pairs of credit share × period fee, where the period fee
  is ``monthly_fee`` for months, 3 × ``monthly_fee`` for quarters and ``monthly_fee`` × 12 × 7 /
  365.2425 for ISO weeks (a week's share of an average month).
- Periods without agreed service time have no availability; they are left out of
  ``p_period_met`` and ``expected_credit``, as a period without tickets is for an SLA.

Everything is vectorised over outage rows; the only loops run over targets and periods. Every
number returned is a plain ``float``/``int``/``bool`` or ``None`` (never NaN).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from simkit.measure.clock import instants
from simkit.measure.intervals import AgreedTime, merge_intervals
from simkit.measure.periods import Period, period_table
from simkit.stats import clustered_wilson_interval, mean_interval

if TYPE_CHECKING:
    from collections.abc import Sequence

    from simkit.calendar import Calendar
    from simkit.measure.targets import MeasureSpec

__all__ = [
    "AVAILABILITY_OUTCOME_SCHEMA",
    "BANDS",
    "AvailabilityTarget",
    "availability_outcomes",
    "availability_period_rows",
    "availability_rows",
]

BANDS = ("<=5m", "5-30m", "30m-4h", ">4h")
"""Duration bands of unplanned outages, by their agreed service time."""
_BAND_UPPER_H = np.array([5 / 60, 0.5, 4.0])
_TOLERANCE = 1e-12
"""Availabilities within this of a target or a credit threshold count as on it."""
_TOLERANCE_H = 1e-9
_US_PER_HOUR = 3_600_000_000
_DAYS_PER_YEAR = 365.2425
_FRACTION = (0.0, 1.0)
_REQUIRED = ("service", "start", "end", "planned", "replication")

Row = dict[str, Any]

AVAILABILITY_OUTCOME_SCHEMA = pa.schema(
    [
        ("replication", pa.int32()),
        ("period", pa.string()),
        ("service", pa.string()),
        ("agreed_h", pa.float64()),
        ("down_h", pa.float64()),
        ("unplanned_down_h", pa.float64()),
        ("outages", pa.int64()),
        ("outage_h", pa.list_(pa.float64())),
        ("availability", pa.float64()),
        ("met", pa.bool_()),
        ("credit", pa.float64()),
        ("full", pa.bool_()),
    ]
)
"""One row per (replication, period) overlapping the measured span: agreed service time, the
downtime inside it (all, and unplanned only), the number of unplanned outages that first touch
agreed service time in the period with their durations (``outage_h``, agreed-service-time hours),
availability (null without agreed time), whether it meets the target, the credit share earned and
whether the period is full."""


@dataclass(frozen=True, eq=False)
class AvailabilityTarget:
    """An availability target of one service.

    Attributes
    ----------
    service
        The service measured (rows of the ``outages`` table with this ``service``).
    target
        The availability to meet in every period, a fraction such as 0.999.
    calendar_name, calendar
        Agreed service time is the open time of ``calendar``; ``calendar_name`` is reported back.
    exclude_maintenance
        True: maintenance windows are removed from agreed service time. False: they count as
        downtime inside it.
    maintenance
        ``(n, 2)`` array of planned maintenance windows ``[start, end)`` as UTC instants
        (``datetime64``), expanded over the measured span by whoever compiles the target, or
        ``None``. Stored as a read-only ``datetime64[us]`` array.
    credits
        ``(below, credit)`` tiers: a period whose availability is below ``below`` earns ``credit``
        share of the fee; the largest applicable credit counts.
    monthly_fee
        The fee the credits are a share of, or ``None`` (no expected credit).
    """

    service: str
    target: float
    calendar_name: str
    calendar: Calendar
    exclude_maintenance: bool = True
    maintenance: np.ndarray | None = None
    credits: tuple[tuple[float, float], ...] = ()
    monthly_fee: float | None = None

    def __post_init__(self) -> None:
        if not 0.0 < self.target <= 1.0:
            raise ValueError(f"target must be a fraction in (0, 1], got {self.target!r}")
        tiers = tuple((float(below), float(credit)) for below, credit in self.credits)
        for below, credit in tiers:
            if not 0.0 < below <= 1.0 or not 0.0 <= credit <= 1.0:
                raise ValueError(
                    f"a credit tier needs 0 < below <= 1 and 0 <= credit <= 1, "
                    f"got below={below!r}, credit={credit!r}"
                )
        object.__setattr__(self, "credits", tiers)
        if self.monthly_fee is not None and not (
            np.isfinite(self.monthly_fee) and self.monthly_fee >= 0
        ):
            raise ValueError(f"monthly_fee must be >= 0, got {self.monthly_fee!r}")
        if self.maintenance is not None:
            windows = np.array(self.maintenance).astype("datetime64[us]")
            if windows.size == 0:
                windows = windows.reshape(0, 2)
            if windows.ndim != 2 or windows.shape[1] != 2:
                raise ValueError(
                    f"maintenance must be an (n, 2) array of [start, end) instants, "
                    f"got shape {windows.shape}"
                )
            if np.isnat(windows).any() or (windows[:, 1] < windows[:, 0]).any():
                raise ValueError("maintenance windows need a start and an end not before it")
            windows.setflags(write=False)
            object.__setattr__(self, "maintenance", windows)

    def credit_share(self, availability: np.ndarray) -> np.ndarray:
        """The credit share each availability earns (0 where no tier applies or NaN)."""
        values = np.asarray(availability, dtype=np.float64)
        share = np.zeros(values.shape)
        for below, credit in self.credits:
            with np.errstate(invalid="ignore"):
                share = np.where(values < below - _TOLERANCE, np.maximum(share, credit), share)
        return share


# ---------------------------------------------------------------------- outage rows


@dataclass(frozen=True, eq=False)
class _Rows:
    """The outage rows of one service clipped to the measured span (int64 µs), ``end > start``."""

    replication: np.ndarray
    start: np.ndarray
    end: np.ndarray
    planned: np.ndarray


def _service_rows(
    outages: pa.Table | None, service: str, lo: int, hi: int, spec: MeasureSpec
) -> _Rows:
    empty = np.empty(0, np.int64)
    if outages is None or outages.num_rows == 0:
        return _Rows(empty, empty, empty, np.empty(0, bool))
    missing = [name for name in _REQUIRED if name not in outages.column_names]
    if missing:
        raise ValueError(f"the outages table has no column {', '.join(missing)}")
    mine = pc.fill_null(pc.equal(outages["service"], service), False)
    table = outages.filter(mine)
    replication = np.asarray(table["replication"].to_numpy(zero_copy_only=False), np.int64)
    if replication.size and (replication.min() < 0 or replication.max() >= spec.replications):
        raise ValueError(
            f"replication ids must be 0 … {spec.replications - 1} (spec.replications = "
            f"{spec.replications}), found {replication.min()} … {replication.max()}"
        )
    start = instants(table["start"], "outages.start")
    end = instants(table["end"], "outages.end")
    if np.isnat(start).any():
        raise ValueError(f"{int(np.isnat(start).sum())} outage rows of {service!r} have no start")
    backwards = end < start
    if backwards.any():
        raise ValueError(f"{int(backwards.sum())} outage rows of {service!r} end before they start")
    now = spec.observed_until.astype("datetime64[us]")
    end = np.where(np.isnat(end) | (end > now), now, end)
    start_us = np.clip(start.view(np.int64), lo, hi)
    end_us = np.clip(end.view(np.int64), lo, hi)
    planned = np.asarray(
        pc.fill_null(table["planned"], False).to_numpy(zero_copy_only=False), dtype=bool
    )
    keep = end_us > start_us
    return _Rows(replication[keep], start_us[keep], end_us[keep], planned[keep])


# ---------------------------------------------------------------------- outcomes


def _span(spec: MeasureSpec) -> tuple[int, int]:
    lo = spec.start.astype("datetime64[us]").view(np.int64)
    hi = min(spec.horizon_end, spec.observed_until).astype("datetime64[us]").view(np.int64)
    return int(lo), max(int(hi), int(lo))


def _periods(spec: MeasureSpec, lo: int, hi: int) -> list[Period]:
    """The periods overlapping the measured span; a period ending after the span is partial."""
    periods = []
    for period in period_table(spec):
        begin = int(period.start.view(np.int64))
        finish = int(period.end.view(np.int64))
        if finish > lo and begin < hi:
            full = period.full and finish <= hi
            periods.append(Period(period.label, period.start, period.end, full))
    return periods


def _down_by_period(
    agreed: AgreedTime,
    replication: np.ndarray,
    start: np.ndarray,
    end: np.ndarray,
    edges: np.ndarray,
    replications: int,
) -> np.ndarray:
    """Agreed microseconds inside the intervals (inside ``[edges[0], edges[-1])``), by
    replication (rows) and period (columns): each interval is cut at the period edges it
    crosses."""
    n_periods = edges.size - 1
    first = np.searchsorted(edges, start, side="right") - 1
    last = np.searchsorted(edges, end - 1, side="right") - 1
    pieces = last - first + 1
    owner = np.repeat(np.arange(start.size), pieces)
    offset = np.arange(owner.size) - np.repeat(np.cumsum(pieces) - pieces, pieces)
    period = first[owner] + offset
    inside = agreed.measure(
        np.maximum(start[owner], edges[period]), np.minimum(end[owner], edges[period + 1])
    )
    cells = np.bincount(
        replication[owner] * n_periods + period, inside, minlength=replications * n_periods
    )
    return np.rint(cells).astype(np.int64).reshape(replications, n_periods)


def _hours(micros: np.ndarray) -> np.ndarray:
    hours: np.ndarray = np.asarray(micros, dtype=np.float64) / _US_PER_HOUR
    return hours


@dataclass(frozen=True, eq=False)
class _Measured:
    """One target measured: arrays by (replication, period) and the unplanned outages."""

    periods: tuple[Period, ...]
    agreed_us: np.ndarray
    down_us: np.ndarray
    unplanned_us: np.ndarray
    outages: np.ndarray
    outage_replication: np.ndarray
    outage_period: np.ndarray
    outage_h: np.ndarray

    @property
    def availability(self) -> np.ndarray:
        """Per (replication, period); NaN without agreed time."""
        with np.errstate(divide="ignore", invalid="ignore"):
            shares: np.ndarray = np.where(
                self.agreed_us > 0,
                (self.agreed_us - self.down_us) / np.maximum(self.agreed_us, 1),
                np.nan,
            )
        return shares

    @property
    def full(self) -> np.ndarray:
        return np.array([p.full for p in self.periods], dtype=bool)


def _measure(outages: pa.Table | None, target: AvailabilityTarget, spec: MeasureSpec) -> _Measured:
    lo, hi = _span(spec)
    replications = spec.replications
    periods = tuple(_periods(spec, lo, hi))
    bounds = [int(p.start.view(np.int64)) for p in periods]
    bounds += [int(p.end.view(np.int64)) for p in periods[-1:]]
    edges = np.clip(np.array(bounds or [lo], dtype=np.int64), lo, hi)
    agreed = AgreedTime.build(target, lo, hi)
    agreed_per_period = agreed.measure(edges[:-1], edges[1:])
    agreed_us = np.broadcast_to(agreed_per_period, (replications, len(periods))).copy()

    rows = _service_rows(outages, target.service, lo, hi, spec)
    down_rep, down_start, down_end = rows.replication, rows.start, rows.end
    windows = target.maintenance
    if not target.exclude_maintenance and windows is not None and windows.size:
        cuts = np.clip(windows.view(np.int64), lo, hi)
        cuts = cuts[cuts[:, 1] > cuts[:, 0]]
        down_rep = np.concatenate((down_rep, np.repeat(np.arange(replications), len(cuts))))
        down_start = np.concatenate((down_start, np.tile(cuts[:, 0], replications)))
        down_end = np.concatenate((down_end, np.tile(cuts[:, 1], replications)))
    down_us = _down_by_period(
        agreed, *merge_intervals(down_rep, down_start, down_end), edges, replications
    )

    unplanned = ~rows.planned
    u_rep, u_start, u_end = merge_intervals(
        rows.replication[unplanned], rows.start[unplanned], rows.end[unplanned]
    )
    unplanned_us = _down_by_period(agreed, u_rep, u_start, u_end, edges, replications)
    duration = agreed.measure(u_start, u_end)
    touches = duration > 0
    u_rep, duration = u_rep[touches], duration[touches]
    first = agreed.first_agreed(u_start[touches])
    outage_period = np.searchsorted(edges, first, side="right") - 1
    counts = np.bincount(
        u_rep * len(periods) + outage_period, minlength=replications * len(periods)
    ).reshape(replications, len(periods))
    return _Measured(
        periods,
        agreed_us,
        down_us,
        unplanned_us,
        counts,
        u_rep,
        outage_period,
        _hours(duration),
    )


def availability_outcomes(
    outages: pa.Table | None, target: AvailabilityTarget, spec: MeasureSpec
) -> pa.Table:
    """Availability of one target by replication and period.

    Parameters
    ----------
    outages
        The outage table of the run (all replications) or of the history (replication 0);
        ``None`` means no outage at all.
    target
        The availability target.
    spec
        Measured span, period kind and number of replications.

    Returns
    -------
    pyarrow.Table
        :data:`AVAILABILITY_OUTCOME_SCHEMA`, one row per replication and period overlapping the
        measured span, ordered by replication then period. See the module docstring for the
        rules.

    Raises
    ------
    ValueError
        When a column is missing, a replication id lies outside ``0 … spec.replications − 1``,
        or an outage has no start or ends before it starts.
    """
    measured = _measure(outages, target, spec)
    replications, n_periods = measured.agreed_us.shape
    availability = measured.availability.ravel()
    defined = ~np.isnan(availability)
    order = np.lexsort((measured.outage_h, measured.outage_period, measured.outage_replication))
    offsets = np.concatenate(([0], np.cumsum(measured.outages.ravel()))).astype(np.int32)
    outage_h = pa.ListArray.from_arrays(
        pa.array(offsets, pa.int32()), pa.array(measured.outage_h[order], pa.float64())
    )
    met = availability >= target.target - _TOLERANCE
    credit = target.credit_share(availability)
    return pa.Table.from_arrays(
        [
            pa.array(np.repeat(np.arange(replications), n_periods), pa.int32()),
            pa.array([p.label for p in measured.periods] * replications, pa.string()),
            pa.array([target.service] * (replications * n_periods), pa.string()),
            pa.array(_hours(measured.agreed_us.ravel()), pa.float64()),
            pa.array(_hours(measured.down_us.ravel()), pa.float64()),
            pa.array(_hours(measured.unplanned_us.ravel()), pa.float64()),
            pa.array(measured.outages.ravel(), pa.int64()),
            outage_h,
            pa.array(availability, pa.float64(), mask=~defined),
            pa.array(met, pa.bool_(), mask=~defined),
            pa.array(credit, pa.float64(), mask=~defined),
            pa.array(np.tile(measured.full, replications), pa.bool_()),
        ],
        schema=AVAILABILITY_OUTCOME_SCHEMA,
    )


# ---------------------------------------------------------------------- figures


def _number(value: float | np.floating[Any] | None) -> float | None:
    if value is None:
        return None
    number = float(value)
    return number if np.isfinite(number) else None


def _period_fee(monthly_fee: float, kind: str) -> float:
    if kind == "week":
        return monthly_fee * 12.0 * 7.0 / _DAYS_PER_YEAR
    if kind == "quarter":
        return 3.0 * monthly_fee
    return monthly_fee


def _bands(measured: _Measured, pairs: int) -> dict[str, float | None]:
    if pairs == 0:
        return dict.fromkeys(BANDS)
    durations = measured.outage_h[measured.full[measured.outage_period]]
    band = np.searchsorted(_BAND_UPPER_H + _TOLERANCE_H, durations, side="left")
    counts = np.bincount(band, minlength=len(BANDS))
    return {name: float(count / pairs) for name, count in zip(BANDS, counts, strict=True)}


def _target_row(target: AvailabilityTarget, measured: _Measured, spec: MeasureSpec) -> Row:
    agreed = measured.agreed_us.sum(axis=1)
    down = measured.down_us.sum(axis=1)
    counted = agreed > 0
    per_replication = (agreed[counted] - down[counted]) / agreed[counted]
    full = measured.full
    availability = measured.availability[:, full]
    defined = ~np.isnan(availability)
    met = defined & (np.nan_to_num(availability, nan=-1.0) >= target.target - _TOLERANCE)
    pairs = int(full.sum()) * spec.replications
    outages = int(measured.outages.sum())
    agreed_h = float(_hours(agreed.sum()))
    unplanned_h = float(_hours(measured.unplanned_us.sum()))
    if target.monthly_fee is None or not defined.any():
        credit = None
    else:
        shares = target.credit_share(availability[defined])
        credit = float(shares.mean() * _period_fee(target.monthly_fee, spec.period))
    return {
        "service": target.service,
        "target": float(target.target),
        "calendar": target.calendar_name,
        "availability": mean_interval(per_replication, bounds=_FRACTION).as_dict(),
        "p_period_met": clustered_wilson_interval(met.sum(axis=1), defined.sum(axis=1)).as_dict(),
        "outages_per_period": (float(measured.outages[:, full].sum() / pairs) if pairs else None),
        "bands": _bands(measured, pairs),
        "mtbf_h": _number((agreed_h - unplanned_h) / outages) if outages else None,
        "mtrs_h": _number(unplanned_h / outages) if outages else None,
        "mtbsi_h": _number(agreed_h / outages) if outages else None,
        "expected_credit": credit,
    }


def availability_rows(
    outages: pa.Table | None, targets: Sequence[AvailabilityTarget], spec: MeasureSpec
) -> list[Row]:
    """The ``availability`` rows of the ``simulate --json`` contract, one per target.

    Parameters
    ----------
    outages
        The outage table of the run or of the history (``None``: no outages).
    targets
        The availability targets.
    spec
        Measured span, period kind and number of replications.

    Returns
    -------
    list of dict
        ``service, target, calendar, availability {mean, lo, hi}, p_period_met {mean, lo, hi},
        outages_per_period, bands {"<=5m", "5-30m", "30m-4h", ">4h"}, mtbf_h, mtrs_h, mtbsi_h,
        expected_credit``. ``availability`` is, per replication, (Σ agreed − Σ down) / Σ agreed
        over the measured span, averaged over replications with a t-based 95% interval (``lo``
        and ``hi`` are ``None`` with one replication, as for a history); ``p_period_met`` is the
        share of (replication, full period) pairs meeting the target with a Wilson 95% interval;
        ``outages_per_period`` and ``bands`` are mean counts of unplanned outages per full period
        (``None`` without a full period); MTBF/MTRS/MTBSI are in agreed-service-time hours
        (``None`` without outages); ``expected_credit`` is the mean credit per full period in
        the fee's currency (``None`` without ``monthly_fee``). See the module docstring.
    """
    return [_target_row(target, _measure(outages, target, spec), spec) for target in targets]


def availability_period_rows(
    outages: pa.Table | None, targets: Sequence[AvailabilityTarget], spec: MeasureSpec
) -> list[Row]:
    """Availability per period and target, for charts.

    Returns
    -------
    list of dict
        One row per target and period overlapping the measured span: ``period, service,
        availability {mean, lo, hi}`` (over the replications with agreed service time in the
        period, t-based interval), ``p_met`` (share of those replications meeting the target,
        ``None`` without any), ``outages`` (mean unplanned outages per replication) and ``full``.
    """
    rows: list[Row] = []
    for target in targets:
        measured = _measure(outages, target, spec)
        availability = measured.availability
        for p, period in enumerate(measured.periods):
            values = availability[:, p]
            values = values[~np.isnan(values)]
            met = values >= target.target - _TOLERANCE
            rows.append(
                {
                    "period": period.label,
                    "service": target.service,
                    "availability": mean_interval(values, bounds=_FRACTION).as_dict(),
                    "p_met": float(met.mean()) if values.size else None,
                    "outages": float(measured.outages[:, p].sum() / spec.replications),
                    "full": period.full,
                }
            )
    return rows
