"""Availability features against theory: change-induced outages (``components.X.changes``), the
``restore`` time after a repair through a team's queue, and dated maintenance windows
(``availability.maintenance: [{from, until}]``) taken out of agreed service time.

Each test compares a simulated figure with a value derived in its docstring, within a tolerance
derived from the sample size (standard errors over replications, or a Poisson count), and checks
that the tolerance is small beside the effect of the feature, so that the test fails when the
feature stops working.
"""

from __future__ import annotations

import calendar
import math
from datetime import date
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import yaml

from simkit.measure.availability import availability_outcomes
from simkit.runner import Results, simulate
from simkit.scenario import parse_scenario
from simkit.scenario.targets import availability_targets

HOURS_PER_MONTH = 365.25 * 24 / 12
"""The month of ``changes.per_month``: a twelfth of an average year."""


def scenario(components: dict[str, Any], **extra: Any) -> dict[str, Any]:
    """A 24x7 service ``svc`` on UTC that depends on every component, with a small ticket load
    on one team ``ops``; ``extra`` overrides the run keys, ``availability`` extends its target."""
    availability = {
        "target": "99%",
        "depends_on": list(components),
        **extra.pop("availability", {}),
    }
    data: dict[str, Any] = {
        "name": "Availability features",
        "start": "2027-01-01",
        "horizon": "365d",
        "warmup": "1w",
        "drain": "0h",
        "replications": 20,
        "seed": 11,
        "period": "month",
        "services": {
            "svc": {
                "entry": "ops",
                "demand": {"per_week": 1},
                "priorities": {"P1": {"share": "100%"}},
                "availability": availability,
            }
        },
        "teams": {
            "ops": {
                "roster": extra.pop("roster", {"mon-sun 00:00-24:00": 2}),
                "handle": extra.pop("handle", {"default": {"exponential": {"mean": "1h"}}}),
            }
        },
        "components": components,
    }
    data.update(extra)
    return data


def run(data: dict[str, Any]) -> Results:
    return simulate(parse_scenario(yaml.safe_dump(data), file="availability_features.yaml"))


def outcomes(results: Results) -> pa.Table:
    """Availability of ``svc`` by replication and period, as the summary measures it."""
    (target,) = availability_targets(results.scenario)
    return availability_outcomes(results.outages, target, results.measure_spec())


def per_replication(results: Results) -> np.ndarray:
    """Per replication, (Σ agreed − Σ down) / Σ agreed over the measured span — the values whose
    mean is the summary's ``availability``."""
    table = outcomes(results)
    replication = table.column("replication").to_numpy()
    n = results.succeeded
    agreed = np.bincount(replication, table.column("agreed_h").to_numpy(), minlength=n)
    down = np.bincount(replication, table.column("down_h").to_numpy(), minlength=n)
    values: np.ndarray = (agreed - down) / agreed
    return values


def standard_error(values: np.ndarray) -> float:
    return float(values.std(ddof=1) / math.sqrt(len(values)))


def test_change_induced_outages_follow_poisson_theory() -> None:
    """Changes arrive as a Poisson process of ``per_month`` a month; each fails independently
    with ``failure_rate``, so failed changes are a thinned Poisson process of rate
    λ = per_month × failure_rate / 730.5 h = 10 × 50% / 730.5 h, each taking the component down
    for an independent draw D from ``outage`` (lognormal, mean 2 h, cv 0.5). The unit itself
    never fails in the run (fixed 100,000 h to failure), so every outage comes from a change.

    The outages in progress are then the customers of an M/G/∞ queue: in steady state (the
    one-week warm-up is many outage lengths) their number is Poisson(λ E[D]), and the component
    is up with probability

        availability = exp(−λ E[D]) = exp(−10 / 730.5) = 0.98640  (≈ 1 − λ E[D] = 0.98631).

    Overlapping outages merge into one service outage: a failed change starts a new one only
    when none is in progress at its arrival, which by PASTA has probability exp(−λ E[D]); so the
    expected number of unplanned outages per full month of h hours is
    λ h exp(−λ E[D]) ≈ 5.0 × 0.986 = 4.93.

    Tolerances: availability within 4 standard errors of the replications' spread; the total
    count of outages over all (replication, full month) pairs, μ expected, within 4√μ (Poisson).
    Both must be well under the effect of the feature (availability 1 and no outage without it).
    """
    components = {
        "box": {
            "fails": {"fixed": {"value": "100000h"}},
            "repair": {"fixed": {"value": "1h"}},
            "changes": {
                "per_month": 10,
                "failure_rate": "50%",
                "outage": {"lognormal": {"mean": "2h", "cv": 0.5}},
            },
        }
    }
    results = run(scenario(components))
    rate = 10 * 0.5 / HOURS_PER_MONTH
    mean_outage_h = 2.0
    up = math.exp(-rate * mean_outage_h)

    values = per_replication(results)
    tolerance = 4 * standard_error(values)
    assert tolerance < (1 - up) / 4, tolerance  # enough replications to see the feature
    assert abs(values.mean() - up) <= tolerance, (values.mean(), up, tolerance)
    row = results.summary()["availability"][0]
    assert abs(row["availability"]["mean"] - values.mean()) <= 1e-12

    table = outcomes(results)
    full = table.filter(table.column("full"))
    observed = int(pc.sum(full.column("outages")).as_py())
    expected = rate * pc.sum(full.column("agreed_h")).as_py() * up
    assert full.num_rows == 12 * results.succeeded
    assert abs(observed - expected) <= 4 * math.sqrt(expected), (observed, expected)
    assert row["outages_per_period"] == observed / full.num_rows

    unplanned = results.outages.filter(pc.invert(results.outages.column("planned")))
    assert unplanned.num_rows > 0
    assert pc.all(pc.equal(unplanned.column("cause"), "change")).as_py()


def test_restore_adds_to_team_repair_time() -> None:
    """One unit, time to failure exponential with mean MTBF = 50 h (counted from when it is back),
    repaired through the ``ops`` team's queue (P1, handling exponential with mean 5 h) and back
    in service ``restore`` = 5 h after the incident is resolved. The team has 10 agents round the
    clock for an offered load of about 0.13 Erlang (repair incidents ≤ 5/50, tickets 5/168), so
    an incident practically never waits (Erlang C probability of waiting below 1e-12) and every
    outage lasts handling + restore, with mean 5 + 5 = 10 h and standard deviation 5 h.

    Alternating renewal: availability = MTBF / (MTBF + mean handling + restore) = 50 / 60
    = 0.8333 (50 / 55 = 0.9091 without ``restore``).

    Tolerances: availability within 4 standard errors of the replications' spread; the mean
    length of the outages that lie wholly inside the run within 4 standard errors of their own
    spread (several thousand outages). Both must be well under the 5 h / 0.076 that ``restore``
    makes.
    """
    components = {
        "box": {
            "fails": {"exponential": {"mean": "50h"}},
            "repair": {"team": "ops", "priority": "P1"},
            "restore": "5h",
        }
    }
    data = scenario(
        components,
        roster={"mon-sun 00:00-24:00": 10},
        handle={"default": {"exponential": {"mean": "5h"}}},
    )
    results = run(data)
    expected = 50 / (50 + 5 + 5)
    without_restore = 50 / (50 + 5)

    values = per_replication(results)
    tolerance = 4 * standard_error(values)
    assert tolerance < (without_restore - expected) / 4, tolerance
    assert abs(values.mean() - expected) <= tolerance, (values.mean(), expected, tolerance)

    outages = results.outages.filter(
        pc.and_(pc.invert(results.outages.column("planned")), pc.is_valid(results.outages["end"]))
    )
    start = outages.column("start").to_numpy().astype("datetime64[us]")
    end = outages.column("end").to_numpy().astype("datetime64[us]")
    hours = (end - start).astype(np.int64) / 3_600_000_000
    assert len(hours) > 1000
    tolerance_h = 4 * standard_error(hours)
    assert tolerance_h < 5 / 4, tolerance_h
    assert abs(hours.mean() - 10.0) <= tolerance_h, (hours.mean(), tolerance_h)

    incidents = results.tickets.filter(pc.equal(results.tickets.column("service"), "component:box"))
    assert incidents.num_rows >= len(hours)


def test_dated_maintenance_window_leaves_agreed_service_time() -> None:
    """A dated window from Wednesday 31 March 2027 20:00 to Thursday 1 April 08:00 (UTC) next to
    a weekly window ``sun 02:00-04:00``, on a 24x7 service over 2027 (T = 8,760 h). Maintenance
    M = 2 h × 52 Sundays + 12 h = 116 h; the dated window removes 4 h from March and 8 h from
    April, so with ``exclude_maintenance: true`` each month's agreed time is its hours less 2 h a
    Sunday less that share (March 744 − 8 − 4 = 732 h, April 720 − 8 − 8 = 704 h), and with
    ``false`` it is the whole month.

    The component fails and is repaired independently (exponential, means 200 h and 4 h); both
    runs use the same seed, so they draw the same failures. With D the downtime outside the
    windows, the excluded run measures (T − M − D) / (T − M) and the included run
    (T − M − D) / T (the windows are downtime), so per replication, exactly,

        a_excluded − a_included = a_excluded × M / T,

    and with the renewal theory a_excluded ≈ 200 / 204 (windows do not depend on failures) the
    expected difference is M / T × 200 / 204 = 0.01298. Tolerances: the identity holds per
    replication up to floating-point rounding (1e-9); against theory, M / T times 4 standard
    errors of a_excluded over the replications. Without the dated window the difference would be
    smaller by about 12 / 8,760 = 0.00137, far outside both.
    """
    components = {
        "box": {
            "fails": {"exponential": {"mean": "200h"}},
            "repair": {"exponential": {"mean": "4h"}},
        }
    }
    windows = ["sun 02:00-04:00", {"from": "2027-03-31 20:00", "until": "2027-04-01 08:00"}]
    excluded = run(
        scenario(components, availability={"maintenance": windows, "exclude_maintenance": True})
    )
    included = run(
        scenario(components, availability={"maintenance": windows, "exclude_maintenance": False})
    )

    dated_share = {3: 4.0, 4: 8.0}
    expected_agreed = []
    for month in range(1, 13):
        days = calendar.monthrange(2027, month)[1]
        sundays = sum(date(2027, month, day).weekday() == 6 for day in range(1, days + 1))
        expected_agreed.append(24.0 * days - 2.0 * sundays - dated_share.get(month, 0.0))
    month_hours = [24.0 * calendar.monthrange(2027, month)[1] for month in range(1, 13)]
    for results, agreed in ((excluded, expected_agreed), (included, month_hours)):
        table = outcomes(results)
        for replication in (0, results.succeeded - 1):
            rows = table.filter(pc.equal(table.column("replication"), replication))
            np.testing.assert_allclose(rows.column("agreed_h").to_numpy(), agreed, atol=1e-9)

    total = 24.0 * 365
    maintenance = 2.0 * 52 + 12.0
    a_ex = per_replication(excluded)
    a_in = per_replication(included)
    np.testing.assert_allclose(a_ex - a_in, a_ex * maintenance / total, rtol=0, atol=1e-9)

    expected = maintenance / total * 200 / 204
    tolerance = maintenance / total * 4 * standard_error(a_ex)
    assert tolerance < 12 / total / 4, tolerance
    difference = float((a_ex - a_in).mean())
    assert abs(difference - expected) <= tolerance, (difference, expected, tolerance)
    summary_difference = (
        excluded.summary()["availability"][0]["availability"]["mean"]
        - included.summary()["availability"][0]["availability"]["mean"]
    )
    assert abs(summary_difference - difference) <= 1e-12
