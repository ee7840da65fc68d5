"""Availability simulation against theory: alternating renewal, k-of-n with independent repair,
components in series, maintenance windows and repair through a team's queue."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pyarrow.compute as pc
import pytest
import yaml
from scipy import stats

from simkit.runner import Results, simulate
from simkit.scenario import parse_scenario


def scenario(components: dict[str, Any], depends_on: list[str], **extra: Any) -> dict[str, Any]:
    availability = {"target": "99%", "depends_on": depends_on, **extra.pop("availability", {})}
    data: dict[str, Any] = {
        "name": "Availability",
        "start": "2027-01-04",
        "horizon": extra.pop("horizon", "52w"),
        "warmup": "1w",
        "drain": "0h",
        "replications": extra.pop("replications", 20),
        "seed": extra.pop("seed", 1),
        "period": "month",
        "services": {
            "svc": {
                "entry": "ops",
                "demand": {"per_week": extra.pop("per_week", 1)},
                "priorities": {"P1": {"share": "100%"}},
                "availability": availability,
            }
        },
        "teams": {
            "ops": {
                "roster": extra.pop("roster", {"mon-sun 00:00-24:00": 2}),
                "handle": extra.pop("handle", {"default": {"exponential": {"mean": "2h"}}}),
            }
        },
        "components": components,
    }
    data.update(extra)
    return data


def run(data: dict[str, Any]) -> Results:
    return simulate(parse_scenario(yaml.safe_dump(data), file="availability.yaml"))


def per_replication_availability(results: Results) -> np.ndarray:
    """Availability of each replication over the measured span (24x7): 1 − down / span."""
    spec = results.measure_spec()
    start = spec.start.astype("datetime64[us]")
    end = spec.horizon_end.astype("datetime64[us]")
    out = results.outages.filter(pc.invert(results.outages.column("planned")))
    span_us = (end - start).astype(np.int64)
    values = []
    for k in range(results.succeeded):
        rows = out.filter(pc.equal(out.column("replication"), k))
        s = rows.column("start").to_numpy().astype("datetime64[us]")
        e = rows.column("end").to_numpy().astype("datetime64[us]")
        e = np.where(np.isnat(e), end, e)
        s, e = np.clip(s, start, end), np.clip(e, start, end)
        # merge overlaps
        order = np.argsort(s)
        s, e = s[order], e[order]
        down = 0
        cur_s, cur_e = None, None
        for a, b in zip(s, e, strict=True):
            if cur_e is None or a > cur_e:
                if cur_e is not None:
                    down += int((cur_e - cur_s).astype(np.int64))
                cur_s, cur_e = a, b
            else:
                cur_e = max(cur_e, b)
        if cur_e is not None:
            down += int((cur_e - cur_s).astype(np.int64))
        values.append(1 - down / span_us)
    return np.asarray(values)


def assert_close(values: np.ndarray, expected: float, k: float = 4.0) -> None:
    """The mean of ``values`` lies within k standard errors of ``expected``."""
    mean = values.mean()
    se = values.std(ddof=1) / math.sqrt(len(values))
    assert abs(mean - expected) <= k * se + 1e-9, (mean, expected, se)


def test_single_component_alternating_renewal() -> None:
    """One unit, exponential failure and repair: availability → MTBF / (MTBF + MTTR)."""
    data = scenario(
        {
            "box": {
                "fails": {"exponential": {"mean": "100h"}},
                "repair": {"exponential": {"mean": "10h"}},
            }
        },
        ["box"],
    )
    results = run(data)
    values = per_replication_availability(results)
    assert_close(values, 100 / 110)
    row = results.summary()["availability"][0]
    assert (
        row["availability"]["lo"] <= 100 / 110 + 0.01
        and row["availability"]["hi"] >= 100 / 110 - 0.01
    )
    assert row["mtbsi_h"] == pytest.approx(row["mtbf_h"] + row["mtrs_h"])


@pytest.mark.parametrize(("count", "needed"), [(3, 2), (4, 1)])
def test_k_of_n_binomial(count: int, needed: int) -> None:
    """k-of-n with independent repair: P(at least k of n up) from the binomial formula."""
    data = scenario(
        {
            "pool": {
                "count": count,
                "needed": needed,
                "fails": {"exponential": {"mean": "40h"}},
                "repair": {"exponential": {"mean": "10h"}},
            }
        },
        ["pool"],
    )
    p_up = 40 / 50
    expected = float(stats.binom.sf(needed - 1, count, p_up))
    assert_close(per_replication_availability(run(data)), expected)


def test_series_is_product() -> None:
    """Two independent components in series: the product of their availabilities."""
    data = scenario(
        {
            "a": {
                "fails": {"exponential": {"mean": "60h"}},
                "repair": {"exponential": {"mean": "6h"}},
            },
            "b": {
                "count": 2,
                "needed": 2,
                "fails": {"exponential": {"mean": "200h"}},
                "repair": {"exponential": {"mean": "20h"}},
            },
        },
        ["a", "b"],
    )
    expected = (60 / 66) * (200 / 220) ** 2
    assert_close(per_replication_availability(run(data)), expected)


def test_maintenance_excluded_vs_included() -> None:
    """Excluding a weekly 2-hour window vs counting it as downtime: availabilities differ by the
    window's share of agreed service time (2 h of 168 h, relative to the rest)."""
    components = {
        "box": {"fails": {"exponential": {"mean": "1000h"}}, "repair": {"fixed": {"value": "1h"}}}
    }
    base = {"maintenance": "sun 02:00-04:00"}
    excluded = run(
        scenario(components, ["box"], availability={**base, "exclude_maintenance": True})
    )
    included = run(
        scenario(components, ["box"], availability={**base, "exclude_maintenance": False})
    )
    a_ex = excluded.summary()["availability"][0]["availability"]["mean"]
    a_in = included.summary()["availability"][0]["availability"]["mean"]
    # included: agreed = T, down = D + M;  excluded: agreed = T − M, down = D (outside windows)
    # both runs draw the same failures (same seed), so a_ex − a_in ≈ M/T (to first order)
    share = 2 / 168
    assert a_ex - a_in == pytest.approx(share, abs=0.002)


def test_team_repair_overloaded_vs_ample() -> None:
    """Repair through a team: an overloaded team lowers availability; with ample staff it
    approaches the value from the repair (handling) distribution alone."""
    components = {
        "box": {
            "count": 1,
            "needed": 1,
            "fails": {"exponential": {"mean": "50h"}},
            "repair": {"team": "ops", "priority": "P1"},
        }
    }
    handle = {"default": {"exponential": {"mean": "5h"}}}
    ample = run(
        scenario(components, ["box"], handle=handle, per_week=1, roster={"mon-sun 00:00-24:00": 10})
    )
    expected = 50 / 55
    assert_close(per_replication_availability(ample), expected)
    overloaded = run(
        scenario(components, ["box"], handle=handle, per_week=30, roster={"mon-sun 00:00-24:00": 1})
    )
    worse = per_replication_availability(overloaded)
    assert worse.mean() < expected - 0.02
    incidents = overloaded.tickets.filter(
        pc.equal(overloaded.tickets.column("service"), "component:box")
    )
    assert incidents.num_rows > 0
    # the incidents load the team but are not measured in the service's SLA
    document = overloaded.summary()
    assert all(row["service"] != "component:box" for row in document["sla"])


def test_repair_incidents_never_abandon_where_callers_do() -> None:
    """A team with patience still works every repair incident: an incident that waits through
    the night is handled in the morning, so its unit comes back. (It used to abandon, leaving
    the unit down for the rest of the run: 1.4% availability.) Callers still abandon."""
    components = {
        "box": {
            "fails": {"exponential": {"mean": "50h"}},
            "repair": {"team": "ops", "priority": "P1"},
        }
    }
    data = scenario(
        components,
        ["box"],
        per_week=200,
        roster={"mon-fri 08:00-18:00": 5},
        handle={"default": {"fixed": {"value": "1h"}}},
        replications=4,
        horizon="13w",
    )
    data["teams"]["ops"]["patience"] = {"fixed": {"value": "1h"}}
    results = run(data)
    tickets = results.tickets
    incident = pc.equal(tickets.column("service"), "component:box")
    abandoned = tickets.column("abandoned")
    assert pc.sum(pc.cast(incident, "int64")).as_py() > 50
    assert not pc.any(pc.and_(incident, abandoned)).as_py()
    assert pc.any(pc.and_(pc.invert(incident), abandoned)).as_py()  # the callers' patience holds
    # Each failure is repaired by the next working morning at the latest: the box is down about
    # a fifth of the time (nights and weekends wait), never for the rest of the run.
    assert per_replication_availability(results).min() > 0.5
