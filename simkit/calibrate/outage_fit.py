"""Components fitted to an outage history: time between failures and time to restore service.

Each service's unplanned outages (or each component's, where the file names components) within
the history's span become one component with ``count: 1``:

- **up times** (``fails``): from the start of the span to the first outage, between one outage's
  end and the next one's start, and — censored — from the last outage's end to the end of the
  span. The first counts as complete: under exponential up times the time from any instant to the
  next failure has the up time's distribution (for other families it is an approximation, which
  the report states). Overlapping outages of one component are one outage.
- **restore times** (``repair``): each outage's start to end; one still open at the end of the
  span is censored there.

Both are fitted like handling times (:func:`simkit.calibrate.durations._fit_durations`: family by
AIC with censoring, an exponential by the mean below five values). Planned outages are
maintenance, not failures: they are counted and left out. MTBF is the mean up time, MTRS the mean
restore time, as ITIL defines them.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from simkit.calibrate.durations import _fit_comment, _fit_durations, _Fitted
from simkit.calibrate.outages import UNNAMED, OutageHistory
from simkit.distributions import Exponential
from simkit.errors import InputError
from simkit.scenario.scenario import MAX_ENTRIES

__all__ = ["FittedComponent", "fit_outages"]

US_PER_HOUR = 3_600_000_000
MINUTE_H = 1 / 60


@dataclass(frozen=True)
class FittedComponent:
    """One component fitted to the outages of a service, or of a component the file names."""

    name: str
    services: tuple[str, ...]
    """The services whose outages it holds (one, unless the file names a shared component)."""
    fails: _Fitted
    repair: _Fitted
    report: dict[str, Any]

    def fails_comment(self) -> str:
        r = self.report
        fitted = _fit_comment(self.fails, "up times").replace("still open", "still up at the end")
        return (
            f"{r['outages']} outages over {r['span_h']:,.0f} h; MTBF {r['mtbf_h']:,.1f} h; {fitted}"
        )

    def repair_comment(self) -> str:
        return f"MTRS {self.report['mtrs_h']:,.2f} h; " + _fit_comment(self.repair, "restores")


def _micros(column: pa.ChunkedArray) -> np.ndarray:
    values = pc.cast(column, pa.int64()).to_numpy(zero_copy_only=False)
    return np.asarray(values, dtype=np.float64)


def _merged(starts: np.ndarray, ends: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Overlapping outages (start order) joined; an open end (NaN) stays open."""
    order = np.argsort(starts, kind="stable")
    out_s: list[float] = []
    out_e: list[float] = []
    for s, e in zip(starts[order], ends[order], strict=True):
        if out_s and (np.isnan(out_e[-1]) or s <= out_e[-1]):
            if not np.isnan(out_e[-1]):
                out_e[-1] = e if np.isnan(e) else max(out_e[-1], e)
            continue
        out_s.append(float(s))
        out_e.append(float(e))
    return np.array(out_s), np.array(out_e)


def fit_outages(
    history: OutageHistory, start_us: int, end_us: int, services: Collection[str]
) -> tuple[list[FittedComponent], dict[str, Any]]:
    """Components fitted to ``history``'s unplanned outages that start in ``[start_us,
    end_us)`` (UTC microseconds), for the services in ``services``; with a report of what was
    fitted and what was left out, and why."""
    table = history.outages
    service = table["service"].to_pylist()
    component = table["component"].to_pylist()
    planned = np.asarray(pc.fill_null(table["planned"], False).to_numpy(zero_copy_only=False))
    starts, ends = _micros(table["start"]), _micros(table["end"])
    # An outage that began before the span and ends inside it is in it (its down time is no
    # up time); one that ended before the span or begins after it is not.
    inside = (starts < end_us) & (np.isnan(ends) | (ends > start_us))
    span_h = (end_us - start_us) / US_PER_HOUR
    left_out: dict[str, int] = {}

    def leave(reason: str, count: int) -> None:
        if count:
            left_out[reason] = left_out.get(reason, 0) + count

    leave("outside the history's span", int(np.sum(~inside)))
    leave("planned (maintenance, not failures)", int(np.sum(inside & planned)))
    groups: dict[str, list[int]] = {}
    owners: dict[str, dict[str, None]] = {}
    for i in np.flatnonzero(inside & ~planned):
        if service[i] not in services:
            leave("of a service the history does not have", 1)
            continue
        named = component[i] not in (None, "", UNNAMED)
        name = str(component[i] if named else f"{service[i]} outages")
        groups.setdefault(name, []).append(int(i))  # one component, whichever services use it
        owners.setdefault(name, {})[str(service[i])] = None
    if len(groups) > MAX_ENTRIES["components"]:
        raise InputError.single(
            f"the outage file names {len(groups):,} components; a scenario may hold at most "
            f"{MAX_ENTRIES['components']}",
            "leave the component column out (one component per service), or name fewer "
            "components — the ones a service's availability depends on",
            file=history.source,
            path="component",
        )
    fitted: list[FittedComponent] = []
    for name, rows in sorted(groups.items()):
        s, e = _merged(starts[rows], ends[rows])
        e = np.where(np.isnan(e) | (e > end_us), np.nan, e)  # still down at the end
        still_down = np.isnan(e)
        # up times: from the span's start (or the end of an outage already under way then)
        began = np.maximum(s, float(start_us))
        gap_from = np.concatenate(([float(start_us)], np.where(still_down, np.nan, e)))
        up = (np.concatenate((began, [float(end_us)])) - gap_from) / US_PER_HOUR
        up_censored = np.zeros(up.size, dtype=bool)
        up_censored[-1] = True  # after the last outage: still up at the end
        usable = np.isfinite(up) & (up >= 0)
        if s.size and s[0] < start_us:
            usable[0] = False  # down when the span began: no up time before it
        restore = (np.where(still_down, float(end_us), e) - s) / US_PER_HOUR
        fails = _fit_durations(up[usable], up_censored[usable], "up times", MINUTE_H)
        repair = _fit_durations(restore, still_down, "restores", MINUTE_H)
        if fails is None:  # every up time censored: one outage at most, still running
            mean = float(np.nansum(up[usable]))
            fails = _Fitted(Exponential(max(mean, MINUTE_H)), {"note": "no up time ended"})
        if repair is None:
            repair = _Fitted(
                Exponential(max(float(restore.mean()), MINUTE_H)), {"note": "no outage ended"}
            )
        served = list(owners[name])
        report = {
            "component": name,
            "service": served[0],
            "services": served,
            "outages": int(s.size),
            "merged": len(rows) - int(s.size),
            "still_down": int(still_down.sum()),
            "span_h": span_h,
            # exposure over the failures it saw (not one already under way at the start)
            "mtbf_h": float(np.sum(up[usable]) / max(1, int(np.sum(usable & ~up_censored)))),
            "mtrs_h": float(np.sum(restore) / max(1, int((~still_down).sum()))),
            "fails": fails.report,
            "repair": repair.report,
        }
        fitted.append(FittedComponent(name, tuple(served), fails, repair, report))
    quiet = sorted(set(services) - {svc for c in fitted for svc in c.services})
    summary = {
        "source": history.source,
        "quality": history.as_dict(),  # what reading the file removed or repaired, and why
        "components": [c.report for c in fitted],
        "left_out": [{"reason": k, "outages": v} for k, v in left_out.items()],
        "without_outages": quiet,
        "note": (
            "one component per service (per component where the file names them), count 1: "
            "up times from the span's start to the first outage count as complete (exact for "
            "exponential up times); the up time after the last outage is censored. The outage "
            "file is taken to cover the history's span: one that logs outages over part of it "
            "makes the up times too long"
        ),
    }
    return fitted, summary
