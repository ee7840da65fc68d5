"""The workbench's latency: a slider change → the updated SLA table, on the baseline example
(corporate_service_desk, 20 replications), through the app's own code path
(:mod:`simkit.app_model`) rather than a browser.

- **quick estimate**: the slider values → patched scenario → Erlang C estimate table (target
  ≤ 100 ms);
- **simulated answer** after a staffing slider: patched scenario → the run guard → 20
  replications → measurement of the SLA figures → SLA table (target ≤ 1 s), in the page's
  thread and on the two worker processes the app uses by default; and after the volume slider
  is raised 20% (more tickets, more to simulate). The page measures the OLA, team and
  availability figures only when their tab is opened ("Teams & OLAs tab" below);
- **re-measured answer** after a target slider: the cached run measured against the new target
  (the simulation is not repeated);
- **moved while a run is under way**: a staffing slider moved again while the last position's
  run is on its third replication — that run is given up and the new position's run made — on
  the two workers, from the give-up to the new SLA table; the workers stop the given-up run's
  replications under way (:mod:`simkit.stops`), compared with the same moves when they run
  those replications to their end (as before they could be stopped);
- **workers while the caller is busy**: 20 replications on the two workers while a thread of the
  caller keeps Python's interpreter lock busy, as a server does while it draws another user's
  page — with the pipe that brings results widened (:mod:`simkit.pools`, as the app and the CLI
  do) against Linux's default 64 KiB pipe, in turn.

Each is compared with the first, uncached view of the scenario (simulate + measure, serial).
The simulated figures give their split between simulation and measurement.
"""

from __future__ import annotations

import contextlib
import dataclasses
import multiprocessing
import statistics
import threading
import time
from collections.abc import Callable
from concurrent.futures import Executor, ProcessPoolExecutor
from typing import Any

from benchmarks._harness import BenchResult, best_of
from simkit import app_model as model
from simkit.analysis.quick import quick_estimate
from simkit.pools import results_pipe_size, widen_results_pipe
from simkit.resources import examples_dir
from simkit.scenario import Scenario, load_scenario
from simkit.stops import StopBoard, start_worker

REPLICATIONS = 20
SEED = 2027
TARGET_SIMULATED_S = 1.0
TARGET_QUICK_S = 0.1
VOLUME_UP = 0.2
"""The volume slider's move timed too: more tickets, so more to simulate than a staffing move."""
WORKERS = 2
"""Worker processes, as the app uses by default on this machine."""


def _answer(
    scenario: Scenario, what_if: model.WhatIf, executor: Executor | None = None
) -> tuple[float, float]:
    """Seconds simulating, and measuring the SLA table, of one slider position — what the
    Scenario page does before it shows the table (its OLA, team and availability figures are
    measured after the table is on the screen)."""
    edited = model.edit_scenario(scenario, what_if)
    t0 = time.perf_counter()
    # On workers, replications are handed out as the app hands them: one more than the workers.
    results = model.simulate_run(
        edited.run,
        replications=REPLICATIONS,
        seed=SEED,
        executor=executor,
        in_flight=None if executor is None else WORKERS + 1,
    )
    t1 = time.perf_counter()
    model.sla_table(model.remeasure(results, edited.measured).sla_summary())
    return t1 - t0, time.perf_counter() - t1


class _MovedOn(Exception):
    """A page's user moved the slider again."""


def _moved_while_running(
    scenario: Scenario,
    given_up: model.WhatIf,
    wanted: model.WhatIf,
    executor: Executor,
    board: StopBoard | None,
) -> tuple[float, float]:
    """The run of ``given_up`` given up at its third replication, as a page gives up its run
    when its user moves on (with a :class:`~simkit.stops.RunStop` on ``board``, if any), then
    :func:`_answer` for ``wanted`` at once: its seconds simulating and measuring."""

    def progress(done: int, total: int) -> None:
        if done >= 3:
            raise _MovedOn

    with contextlib.suppress(_MovedOn):
        model.simulate_run(
            model.edit_scenario(scenario, given_up).run,
            replications=REPLICATIONS,
            seed=SEED,
            executor=executor,
            progress=progress,
            in_flight=WORKERS + 1,
            stop=None if board is None else board.run_stop(),
        )
    return _answer(scenario, wanted, executor)


DEFAULT_PIPE = 1 << 16
"""Linux's default pipe size."""


def _while_busy(
    scenario: Scenario, pool: ProcessPoolExecutor, rounds: int = 3
) -> tuple[float, float, int]:
    """Median seconds of 20 replications on ``pool`` while a thread of this process keeps the
    interpreter lock busy: with the results pipe widened, and at :data:`DEFAULT_PIPE`, in
    turn; and the widened pipe's size."""
    busy = threading.Event()
    done = threading.Event()

    def hold_the_lock() -> None:
        while not done.is_set():
            if not busy.wait(0.05):
                continue
            total = 0
            for i in range(20_000):  # pure Python: holds the lock between switches
                total += i

    thread = threading.Thread(target=hold_the_lock, daemon=True)
    thread.start()
    wide: list[float] = []
    narrow: list[float] = []
    try:
        for k in range(2 * rounds):
            widened = k % 2 == 0
            size = widen_results_pipe(pool, None if widened else DEFAULT_PIPE)
            if size == 0 or widened == (size == DEFAULT_PIPE):
                raise RuntimeError(f"the results pipe could not be set ({size} bytes)")
            # the two of a pair at the same volume: the same work
            edited = model.edit_scenario(scenario, model.WhatIf(volume=0.01 * (k // 2 + 1)))
            busy.set()
            t0 = time.perf_counter()
            model.simulate_run(
                edited.run,
                replications=REPLICATIONS,
                seed=SEED,
                executor=pool,
                in_flight=WORKERS + 1,
            )
            (wide if widened else narrow).append(time.perf_counter() - t0)
            busy.clear()
    finally:
        done.set()
        busy.clear()
        thread.join()
    widen_results_pipe(pool)
    return statistics.median(wide), statistics.median(narrow), results_pipe_size(pool)


def _timed(fn: Callable[[], tuple[float, float]], repeat: int = 2) -> tuple[float, float, float]:
    """Best total of ``repeat`` calls, with its simulation and measurement parts."""
    best = (float("inf"), 0.0, 0.0)
    for _ in range(repeat):
        simulate_s, measure_s = fn()
        if simulate_s + measure_s < best[0]:
            best = (simulate_s + measure_s, simulate_s, measure_s)
    return best


def _figure(total: float, simulate_s: float, measure_s: float) -> str:
    return f"{total:.2f} s (sim {simulate_s:.2f} + measure {measure_s:.2f})"


def run() -> list[BenchResult]:
    scenario = load_scenario(examples_dir() / "corporate_service_desk.yaml")
    controls = model.scenario_controls(scenario)
    apps = next(t for t in controls.teams if t.team == "apps")
    line, agents = apps.roster[0]
    staffing = [model.WhatIf(agents={"apps": {line: agents + k}}) for k in (1, 2, 3)]
    target = controls.targets[1]

    first_total, *_ = _timed(lambda: _answer(scenario, model.WhatIf()), repeat=1)
    baseline = "first uncached view"

    positions = iter(staffing * 3)

    def quick() -> Any:
        edited = model.edit_scenario(scenario, next(positions))
        return model.estimate_table(quick_estimate(edited.measured))

    quick()
    quick_s = best_of(quick, repeat=5)

    serial = iter(staffing)
    serial_total, serial_sim, serial_measure = _timed(lambda: _answer(scenario, next(serial)))

    context = multiprocessing.get_context("spawn")
    board = StopBoard(context)  # as the app starts its workers
    pool = ProcessPoolExecutor(
        max_workers=WORKERS, mp_context=context, initializer=start_worker, initargs=(board, 0)
    )
    widen_results_pipe(pool)  # as the app's pool
    try:
        pool.submit(int, 0).result()
        pooled = iter(staffing)
        _answer(scenario, model.WhatIf(volume=0.05), pool)  # workers import simkit
        pool_total, pool_sim, pool_measure = _timed(lambda: _answer(scenario, next(pooled), pool))
        busier = model.WhatIf(volume=VOLUME_UP)
        volume_total, volume_sim, volume_measure = _timed(lambda: _answer(scenario, busier, pool))
        moves = [(staffing[k], staffing[(k + 1) % 3]) for k in range(3)]
        stopped_s: list[float] = []
        waited_s: list[float] = []
        for _ in range(2):  # in turn, so that a drift of the machine's speed hits both alike
            for given_up, wanted in moves:
                stopped_s.append(sum(_moved_while_running(scenario, given_up, wanted, pool, board)))
                waited_s.append(sum(_moved_while_running(scenario, given_up, wanted, pool, None)))
        moved_total, moved_base = min(stopped_s), min(waited_s)
        busy_wide, busy_narrow, pipe = _while_busy(scenario, pool)
    finally:
        pool.shutdown()

    results = model.simulate_run(scenario, replications=REPLICATIONS, seed=SEED)
    goals = iter((0.9, 0.91, 0.92, 0.93))

    def remeasure() -> Any:
        what_if = model.WhatIf(targets={target.key: (target.within_h, next(goals))})
        edited = model.edit_scenario(scenario, what_if)
        return model.sla_table(model.remeasure(results, edited.measured).sla_summary())

    remeasure_s = best_of(remeasure, repeat=3)

    def rest_of_page() -> float:
        """Seconds for the other figures (OLA, teams, availability), measured when the user
        opens the Teams & OLAs tab."""
        measured = dataclasses.replace(results)  # a copy without the measured figures
        measured.sla_summary()
        t0 = time.perf_counter()
        measured.summary()
        return time.perf_counter() - t0

    rest_s = min(rest_of_page() for _ in range(3))

    def result(name: str, seconds: float, figure: str, target_s: float) -> BenchResult:
        return BenchResult(
            name=name,
            figure=figure,
            ratio=first_total / seconds,
            baseline=f"{baseline} ({first_total:.2f} s)",
            target=f"<= {target_s:g} s",
            passed=seconds <= target_s,
        )

    return [
        result(
            "app: quick estimate after a slider",
            quick_s,
            f"{quick_s * 1000:.0f} ms",
            TARGET_QUICK_S,
        ),
        result(
            "app: simulated SLA table, 20 reps (serial)",
            serial_total,
            _figure(serial_total, serial_sim, serial_measure),
            TARGET_SIMULATED_S,
        ),
        result(
            "app: simulated SLA table, 20 reps (2 workers)",
            pool_total,
            _figure(pool_total, pool_sim, pool_measure),
            TARGET_SIMULATED_S,
        ),
        result(
            f"app: simulated SLA table, volume {VOLUME_UP:+.0%} (2 workers)",
            volume_total,
            _figure(volume_total, volume_sim, volume_measure),
            TARGET_SIMULATED_S,
        ),
        result(
            "app: SLA table after a target slider",
            remeasure_s,
            f"{remeasure_s:.2f} s (measure only)",
            TARGET_SIMULATED_S,
        ),
        BenchResult(
            name="app: moved while a run is under way (2 workers)",
            figure=f"{moved_total:.2f} s (best of 6; given-up run's replications stopped)",
            ratio=moved_base / moved_total,
            baseline=f"run to their end, best of 6 ({moved_base:.2f} s)",
            target=f"<= {TARGET_SIMULATED_S:g} s",
            passed=moved_total <= TARGET_SIMULATED_S,
        ),
        BenchResult(
            name="app: 20 reps on 2 workers while the caller is busy",
            figure=(
                f"{busy_wide:.2f} s (median of 3; results pipe {pipe // 1024} KiB; "
                "a thread of the caller holds the interpreter lock throughout)"
            ),
            ratio=busy_narrow / busy_wide,
            baseline=f"64 KiB pipe, median of 3 ({busy_narrow:.2f} s)",
            target="none (a shared server's load; the 1 s is for an idle one)",
            passed=True,
            informational=True,
        ),
        BenchResult(
            name="app: Teams & OLAs tab, when opened",
            figure=f"{rest_s:.2f} s (OLA, teams)",
            ratio=first_total / rest_s,
            baseline=f"{baseline} ({first_total:.2f} s)",
            target="none (not on the slider path)",
            passed=True,
            informational=True,
        ),
    ]


if __name__ == "__main__":
    for line in run():
        print(line.line())
