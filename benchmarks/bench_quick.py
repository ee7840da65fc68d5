"""The quick estimate of the baseline example (``scenarios/corporate_service_desk.yaml``) against
simulating the same scenario with 20 replications: how much sooner a first answer comes.

Both time the work after the scenario is loaded. The ratio is simulation time / quick time.
"""

from __future__ import annotations

import time

from benchmarks._harness import BenchResult, best_of
from simkit.analysis.quick import quick_estimate
from simkit.resources import example_scenarios
from simkit.runner import simulate
from simkit.scenario import load_scenario

TARGET_S = 0.1
REPLICATIONS = 20


def run() -> list[BenchResult]:
    path = next(p for p in example_scenarios() if p.name == "corporate_service_desk.yaml")
    scenario = load_scenario(path)
    quick_s = best_of(lambda: quick_estimate(scenario), repeat=5)
    t0 = time.perf_counter()
    simulate(scenario, replications=REPLICATIONS)
    simulate_s = time.perf_counter() - t0
    return [
        BenchResult(
            name="quick estimate: baseline example",
            figure=f"{quick_s * 1000:.1f} ms (sim {simulate_s:.1f} s)",
            ratio=simulate_s / quick_s,
            baseline=f"simulate, {REPLICATIONS} replications",
            target=f"<= {TARGET_S:g} s",
            passed=quick_s <= TARGET_S,
        )
    ]
