"""Demand per service: tickets per week, the hour-of-week profile, growth and holidays.

Volume is exposure-weighted over the span. The profile is a calendar when one holds the arrivals
evenly, else the 7×24 matrix of hourly rates (weekday volume × hour-of-day shares when tickets
are few). Growth and the holiday effect come from a quasi-Poisson regression of daily counts
(weekday effects, a linear trend in log volume, a holiday indicator); growth is used only when
significant at 1% over at least half a year.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
from scipy import stats

from simkit.calibrate.report import _pct
from simkit.calibrate.rosters import _roster_lines
from simkit.calibrate.span import (
    DAYS,
    HOURS_PER_YEAR,
    US_PER_HOUR,
    _local_date,
    _local_slots,
    as_instant,
)
from simkit.errors import InputError, SpecError

if TYPE_CHECKING:
    from simkit.calibrate.arrays import _Data, _Grid
    from simkit.scenario import Scenario

__all__ = [
    "FULL_PROFILE_TICKETS",
    "MIN_TREND_DAYS",
    "QUIET_DAY_P",
    "SIGNIFICANCE",
    "TREND_SIGNIFICANCE",
]

MIN_TREND_DAYS = 175
"""A yearly trend is adopted only from (about) half a year of history: shorter spans mistake
seasons for growth."""
SIGNIFICANCE = 0.05
TREND_SIGNIFICANCE = 0.01
"""A trend changes every forecast, so it is adopted only at the 1% level."""
QUIET_DAY_P = 1e-3
"""Without a holiday list, a day whose count is this improbable under the regression (its mean
and dispersion) is listed as a likely holiday."""
FULL_PROFILE_TICKETS = 10 * 168
"""Below this many tickets the 7×24 profile is the product of weekday and hour-of-day shares."""


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


def _lower_tail(y: np.ndarray, mu: np.ndarray, dispersion: float) -> np.ndarray:
    """P(Y ≤ y) for daily counts with mean ``mu`` and variance ``dispersion`` × ``mu``, the
    quasi-Poisson regression's own spread: a negative binomial when days vary more than Poisson
    (``dispersion`` > 1), Poisson otherwise."""
    if dispersion <= 1.0 + 1e-9:
        tail: np.ndarray = stats.poisson.cdf(y, mu)
        return tail
    tail = stats.nbinom.cdf(y, mu / (dispersion - 1.0), 1.0 / dispersion)
    return tail


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
        quiet = (_lower_tail(y, mu, dispersion) < QUIET_DAY_P) & (mu >= 5)
        if quiet.any():
            used_days = np.asarray(dates, dtype=object)[use]
            listed = [d.isoformat() for d in used_days[quiet][:12]]
            holiday_report["quiet_days"] = listed
            holiday_report["note"] += (
                f"; {int(quiet.sum())} days had far fewer tickets than a normal day "
                f"(P < {QUIET_DAY_P:g} given the day-to-day spread): {', '.join(listed)} — "
                "likely holidays"
            )
    return _Trend(report["per_year"], report, holiday_report)


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
    ticket_slot: np.ndarray,
    ticket_day: np.ndarray,
    grid: _Grid,
    data: _Data,
    candidates: Sequence[tuple[str, Any]],
) -> tuple[str, np.ndarray, str] | None:
    """The calendar among ``candidates`` whose open hours hold the arrivals evenly: nearly every
    ticket inside them, a uniform rate inside them on the days it is open (χ² test at 1%; its
    holidays are closed, so their hours and tickets take no part), and its holidays in the span
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
        hour_closed = np.isin(day, closed_days)
        cover = np.clip(data.span_h - starts, 0.0, 1.0)
        # The uniformity test is over the hours the calendar is open: its holidays are closed,
        # so neither their hours (exposure) nor their few tickets (counts) take part.
        slots = share > 0
        open_exposure = np.bincount(slot, weights=cover * ~hour_closed, minlength=168)
        open_counts = counts - np.bincount(ticket_slot[on_holiday], minlength=168)
        expected = open_exposure[slots] * share[slots]
        if expected.sum() <= 0:
            continue
        expected = expected / expected.sum() * open_counts[slots].sum()
        statistic = float(np.sum((open_counts[slots] - expected) ** 2 / np.maximum(expected, 1e-9)))
        p_value = float(stats.chi2.sf(statistic, max(1, int(slots.sum()) - 1)))
        if p_value < SIGNIFICANCE / 5:
            continue
        hour_open = share[slot] * ~hour_closed * cover
        holiday_hours = float(np.sum(share[slot] * hour_closed * cover))
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
        # A name of its own: the given scenario may hold one of this name (calibrated before).
        taken = set(given.calendar_names) if given is not None else set()
        own_name = f"{service} arrivals"
        suffix = 2
        while own_name in taken:
            own_name, suffix = f"{service} arrivals {suffix}", suffix + 1
        try:
            own = Calendar.from_spec(spec, data.zone, name=own_name)
        except SpecError:
            own = None
        if own is not None:
            own_calendar = (own_name, spec)
            candidates.append((own_calendar[0], own))
    chosen = _calendar_profile(counts, weekday * 24 + hour, day, grid, data, candidates)
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
