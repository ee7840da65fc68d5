"""Availability-engine throughput: 20 components over 5 simulated years × 100 replications.

One service depends on 20 single-unit components in series, each with its own Weibull time to
failure (means from 200 h to 1,150 h, shapes 0.7 to 1.5) and an independent lognormal repair;
the support side carries a token demand (one ticket a week), so what is timed is the availability
model: failure and repair draws, the k-of-n sweep, the outage table. ``simulate()`` is timed end
to end (serial, all 100 replications), and the measurement (``summary()``) separately.

Events are failures plus repairs, counted exactly from the outage table: with one unit per
component each unplanned row is one failure, and each row with an end one repair. The figure is
set beside the support engine's throughput on the M/M/10 workload of ``bench_support`` measured in
the same process, as the ratio availability events/s ÷ support tickets/s — end to end, and net of
the support side of the same scenario (the scenario without its components, timed likewise: with
a token demand that is mostly the per-replication compile of rosters over five years; a
difference of two timings, so the noisier figure). There is no target: the benchmark passes when
it completes. Every side is timed in CPU seconds of this process, best of three.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np
import pyarrow.compute as pc
import yaml

from benchmarks._harness import BenchResult
from benchmarks.bench_support import MMc, best_cpu_of, entry_waits, mmc_model
from simkit.engine.support import simulate_support
from simkit.runner import Results, simulate
from simkit.scenario import Scenario, parse_scenario
from simkit.streams import Streams

COMPONENTS = 20
YEARS = 5
REPLICATIONS = 100
SUPPORT_TICKETS = 50_000
"""Tickets of the M/M/10 workload run for the support throughput (a short run)."""


def availability_scenario(
    components: int = COMPONENTS, years: int = YEARS, replications: int = REPLICATIONS
) -> Scenario:
    """One service behind ``components`` single-unit components over ``years`` years (with no
    component, the same scenario without availability: the support side alone)."""
    means = np.linspace(200, 1150, components)
    shapes = np.linspace(0.7, 1.5, components)
    parts: dict[str, Any] = {
        f"c{k + 1:02d}": {
            "fails": {"weibull": {"shape": round(float(shapes[k]), 3), "mean": f"{means[k]:.0f}h"}},
            "repair": {"lognormal": {"mean": f"{2 + k % 5}h", "cv": 1.0}},
        }
        for k in range(components)
    }
    data: dict[str, Any] = {
        "name": "Availability benchmark",
        "start": "2027-01-04",
        "timezone": "UTC",
        "horizon": f"{round(years * 365.25)}d",
        "warmup": "0h",
        "drain": "0h",
        "replications": replications,
        "seed": 2027,
        "period": "month",
        "services": {
            "platform": {
                "entry": "ops",
                "demand": {"per_week": 1},
                "priorities": {"P1": {"share": "100%"}},
            }
        },
        "teams": {
            "ops": {
                "roster": {"mon-sun 00:00-24:00": 1},
                "handle": {"default": {"exponential": {"mean": "1h"}}},
            }
        },
        "components": parts,
    }
    if parts:
        data["services"]["platform"]["availability"] = {
            "target": "99.5%",
            "depends_on": list(parts),
            "credits": [{"below": "99.5%", "credit": "10%"}],
            "monthly_fee": 10000,
        }
    return parse_scenario(yaml.safe_dump(data), file="bench_availability.yaml")


def events(results: Results) -> int:
    """Failures plus repairs in the outage table (single-unit components, no maintenance)."""
    unplanned = results.outages.filter(pc.invert(results.outages["planned"]))
    return int(2 * unplanned.num_rows - unplanned["end"].null_count)


def _support_rate() -> float:
    """Tickets per CPU second of the support engine on the M/M/10 workload, best of three."""
    model = mmc_model(MMc(tickets=SUPPORT_TICKETS))
    tickets = 0

    def once() -> None:
        nonlocal tickets
        records = simulate_support(model, Streams(np.random.SeedSequence(7)))
        entry_waits(records.visits)
        tickets = records.tickets.num_rows

    seconds = best_cpu_of(once, repeat=3)
    return tickets / seconds


def run() -> list[BenchResult]:
    scenario = availability_scenario()
    results: Results | None = None

    def simulation() -> None:
        nonlocal results
        results = simulate(scenario)

    simulate_s = best_cpu_of(simulation, repeat=3)
    assert results is not None and not results.failures
    done = results

    def measurement() -> None:
        done._summary = None
        done.summary()

    measure_s = best_cpu_of(measurement, repeat=2)
    support_only = availability_scenario(components=0)
    support_side_s = best_cpu_of(lambda: simulate(support_only), repeat=3)
    n = events(done)
    rate = n / simulate_s
    net_rate = n / max(simulate_s - support_side_s, 1e-9)
    support = _support_rate()
    row = done.summary()["availability"][0]
    shape = f"{COMPONENTS} components x {YEARS} y x {REPLICATIONS} reps"
    baseline = f"support M/M/10 {support:,.0f} t/s"
    return [
        BenchResult(
            name=f"availability {shape}",
            figure=f"{simulate_s:.2f} s",
            ratio=None,
            baseline="",
            target="completes",
            passed=True,
        ),
        BenchResult(
            name="availability events/s, end to end",
            figure=f"{rate:,.0f} events/s",
            ratio=rate / support,
            baseline=baseline,
            target="none (report)",
            passed=True,
        ),
        BenchResult(
            name="availability events/s, net of support side",
            figure=f"{net_rate:,.0f} events/s",
            ratio=net_rate / support,
            baseline=baseline,
            target="none (report)",
            passed=True,
        ),
        BenchResult(
            name=f"availability measurement ({n:,} events)",
            figure=f"{measure_s:.2f} s",
            ratio=None,
            baseline=f"A = {row['availability']['mean']:.4%}",
            target="none (report)",
            passed=True,
        ),
    ]


if __name__ == "__main__":
    started = time.perf_counter()
    for result in run():
        print(result.line())
    print(f"({time.perf_counter() - started:.0f} s)")
