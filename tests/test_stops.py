"""Stopping a run's replications in worker processes (:mod:`simkit.stops`)."""

from __future__ import annotations

import json
import multiprocessing
import signal
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from typing import Any

import pytest
import yaml
from test_runner import SMALL, small

from simkit import stops
from simkit.runner import ReplicationOutcome, _run_shipped, _ShippedScenario, simulate, warm_up
from simkit.scenario import Scenario, parse_scenario
from simkit.stops import SLOTS, ReplicationStopped, RunStopped, StopBoard, start_worker

needs_signal = pytest.mark.skipif(
    not hasattr(signal, "SIGUSR1"), reason="a replication under way is stopped by a signal"
)

STORM_S = 1.5
"""How long runs are stopped one after another while replications run."""
STOP_AFTER_S = 0.5
"""When a test stops a run: a replication of :func:`long_scenario` takes several seconds here
(about 3 s on a 2-core machine), so it is well under way then and far from its end."""


def long_scenario(name: str = "Long desk") -> Scenario:
    """A scenario one replication of which takes seconds: four years of 4000 tickets a week."""
    data: dict[str, Any] = {**SMALL, "name": name, "horizon": "208w", "replications": 2}
    service = SMALL["services"]["svc"]
    data["services"] = {"svc": {**service, "demand": {"per_week": 4000, "profile": "office"}}}
    data["teams"] = {
        team: {**spec, "roster": {"mon-fri 08:00-18:00": 60}}
        for team, spec in SMALL["teams"].items()
    }
    return parse_scenario(yaml.safe_dump(data), file="long.yaml")


@pytest.fixture(scope="module")
def pool() -> Iterator[tuple[ProcessPoolExecutor, StopBoard]]:
    context = multiprocessing.get_context("spawn")
    board = StopBoard(context)
    executor = ProcessPoolExecutor(
        max_workers=2, mp_context=context, initializer=start_worker, initargs=(board, 0)
    )
    try:
        for future in [executor.submit(warm_up) for _ in range(2)]:
            future.result()
        yield executor, board
    finally:
        executor.shutdown(cancel_futures=True)


def test_each_run_is_stopped_on_its_own() -> None:
    """Each run has its own number; stopping one stops that run only — also the run that
    shares its slot on the board, :data:`SLOTS` runs later — and stopping it again changes
    nothing. A worker receives the shared memory, without the counter or the thread lock."""
    board = StopBoard()
    first, second = board.run_stop(), board.run_stop()
    assert first.run != second.run
    first.stop()
    assert first.stopped and not second.stopped
    for _ in range(SLOTS - 2):
        board.run_stop()
    later = board.run_stop()  # the first run's slot
    assert later.run % SLOTS == first.run % SLOTS
    assert not later.stopped and first.stopped
    first.stop()
    assert not later.stopped
    state = board.__getstate__()
    assert set(state) == {"_stopped", "_pids", "_workers", "_register_lock"}


def test_the_signal_stops_one_replication_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """In a worker (here, this process standing in for one): the signal stops the replication
    under way only if its run was stopped, and disarms as it does, so that a second signal —
    arriving while the first stop unwinds — does nothing; a replication starting unmarks
    whatever run went before, so a replication without a stop is never stopped."""
    board = StopBoard()
    monkeypatch.setattr(stops, "_board", board)
    monkeypatch.setattr(stops, "_running", None)
    run, other = board.run_stop(), board.run_stop()
    stops.check_started(run.run)
    stops._on_signal(0, None)  # its run not stopped: nothing happens
    other.stop()
    stops._on_signal(0, None)  # another run stopped: nothing happens
    run.stop()
    with pytest.raises(ReplicationStopped):
        stops._on_signal(0, None)
    stops._on_signal(0, None)  # again, as the stop unwinds: nothing happens
    assert stops._running is None
    monkeypatch.setattr(stops, "_running", run.run)  # as if a replication had not unmarked it
    stops.check_started(None)
    stops._on_signal(0, None)
    with pytest.raises(ReplicationStopped):
        stops.check_started(run.run)  # a run stopped before its replication starts
    assert stops._running is None


def test_a_stopped_run_starts_no_replication(pool: tuple[ProcessPoolExecutor, StopBoard]) -> None:
    """A replication of a run stopped before a worker takes it up stops before it starts."""
    executor, board = pool
    stop = board.run_stop()
    stop.stop()
    shipped = _ShippedScenario.of(small())
    future = executor.submit(_run_shipped, shipped, 7, 0, 3, stop.run)
    with pytest.raises(ReplicationStopped):
        future.result(timeout=60)
    other = executor.submit(_run_shipped, shipped, 7, 0, 3, board.run_stop().run)
    assert other.result(timeout=60).failure is None


@needs_signal
@pytest.mark.slow
def test_a_stop_ends_the_replications_under_way_of_that_run_only(
    pool: tuple[ProcessPoolExecutor, StopBoard],
) -> None:
    """Two runs' replications under way, one on each worker: stopping the first ends its
    replication part way (its worker is signalled, as is the other); the second goes on to
    its end, with the numbers it has when nothing is stopped."""
    executor, board = pool
    stopped, going_on = board.run_stop(), board.run_stop()
    shipped = _ShippedScenario.of(long_scenario())
    first = executor.submit(_run_shipped, shipped, 7, 0, 2, stopped.run)
    second = executor.submit(_run_shipped, shipped, 7, 1, 2, going_on.run)
    threading.Event().wait(STOP_AFTER_S)
    assert not first.done() and not second.done()
    stopped.stop()
    with pytest.raises(ReplicationStopped):
        first.result(timeout=60)
    outcome: ReplicationOutcome = second.result(timeout=120)
    assert outcome.failure is None and outcome.records is not None
    alone = executor.submit(_run_shipped, shipped, 7, 1, 2).result(timeout=120)
    assert alone.records is not None
    assert outcome.records.tickets.equals(alone.records.tickets)


@needs_signal
def test_simulate_given_up_or_stopped_stops_its_replications(
    pool: tuple[ProcessPoolExecutor, StopBoard],
) -> None:
    """``simulate`` with a :class:`RunStop`: stopped from another thread while its
    replications run, it raises :class:`RunStopped` without waiting for them, and keeps
    none (none ended). The workers then run the next run as usual: the same numbers as a
    serial run."""
    executor, board = pool
    stop = board.run_stop()
    finished: dict[int, ReplicationOutcome] = {}
    timer = threading.Timer(STOP_AFTER_S, stop.stop)
    timer.start()
    try:
        with pytest.raises(RunStopped):
            simulate(long_scenario(), executor=executor, stop=stop, finished=finished)
    finally:
        timer.cancel()
    assert finished == {}
    scenario = small()
    serial = simulate(scenario).summary()
    pooled = simulate(scenario, executor=executor, stop=board.run_stop()).summary()
    assert json.dumps(pooled, sort_keys=True) == json.dumps(serial, sort_keys=True)


@needs_signal
def test_signals_at_any_moment_stop_only_the_runs_stopped(
    pool: tuple[ProcessPoolExecutor, StopBoard],
) -> None:
    """Runs stopped one after another, each signalling the workers, every fraction of a
    millisecond, while the workers start, run and end replications — of runs stopped while
    their replications run, of a run never stopped and of a run without a stop. A signal
    between replications, as a worker sends a result or waits for the next, or while a
    stopped replication unwinds, does nothing: only the stopped runs' replications stop, and
    the workers live on."""
    executor, board = pool
    shipped = _ShippedScenario.of(small(replications=1))
    kept = board.run_stop()
    victim = [board.run_stop()]
    going = threading.Event()
    going.set()

    def storm() -> None:
        while going.is_set():
            victim[0].stop()  # stopped while its replications start, run or end
            board.run_stop().stop()  # a new run each time, so each time a signal
            time.sleep(0.0001)

    thread = threading.Thread(target=storm)
    thread.start()
    outcomes: dict[str, list[str]] = {"victim": [], "kept": [], "none": []}
    try:
        deadline = time.monotonic() + STORM_S
        while time.monotonic() < deadline:
            victim[0] = board.run_stop()
            runs = {"victim": victim[0].run, "kept": kept.run, "none": None}
            futures = [
                (name, executor.submit(_run_shipped, shipped, 7, 0, 1, run))
                for _ in range(2)
                for name, run in runs.items()
            ]
            for name, future in futures:
                try:
                    outcome = future.result(timeout=60)
                    outcomes[name].append("ended" if outcome.failure is None else "failed")
                except ReplicationStopped:
                    outcomes[name].append("stopped")
    finally:
        going.clear()
        thread.join()
    assert outcomes["kept"] and set(outcomes["kept"]) == {"ended"}
    assert set(outcomes["none"]) == {"ended"}
    assert "stopped" in outcomes["victim"] and "failed" not in outcomes["victim"]
    assert executor.submit(_run_shipped, shipped, 7, 0, 1).result(timeout=60).failure is None


def test_a_run_given_up_by_its_caller_is_stopped(
    pool: tuple[ProcessPoolExecutor, StopBoard],
) -> None:
    """A caller giving a run up — its progress callback raising, as a page does when its user
    moves on — stops the run (its replications under way then stop, as above); a run not
    given up is not."""
    executor, board = pool

    class MovedOn(Exception):
        pass

    def progress(done: int, total: int) -> None:
        raise MovedOn

    stop = board.run_stop()
    with pytest.raises(MovedOn):
        simulate(small(), executor=executor, stop=stop, progress=progress, in_flight=2)
    assert stop.stopped
    kept = board.run_stop()
    simulate(small(), executor=executor, stop=kept)
    assert not kept.stopped
