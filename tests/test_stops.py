"""Stopping a run's replications in worker processes (:mod:`simkit.stops`)."""

from __future__ import annotations

import json
import multiprocessing
import signal
import threading
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from typing import Any

import pytest
import yaml
from test_runner import SMALL, small

from simkit.runner import ReplicationOutcome, _run_shipped, _ShippedScenario, simulate, warm_up
from simkit.scenario import Scenario, parse_scenario
from simkit.stops import SLOTS, ReplicationStopped, RunStopped, StopBoard, start_worker

needs_signal = pytest.mark.skipif(
    not hasattr(signal, "SIGUSR1"), reason="a replication under way is stopped by a signal"
)

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


def test_slots_are_fresh_and_the_board_travels_without_its_lock() -> None:
    """Each run gets a slot not stopped (a slot taken again is cleared); a stop raises that
    slot's flag only; a worker receives the shared flags and none of the lock or counter."""
    board = StopBoard()
    first, second = board.run_stop(), board.run_stop()
    assert first.slot != second.slot
    first.stop()
    assert first.stopped and not second.stopped
    for _ in range(SLOTS - 2):
        board.run_stop()
    again = board.run_stop()
    assert again.slot == first.slot and not again.stopped
    state = board.__getstate__()
    assert set(state) == {"_flags", "_pids", "_workers"}


def test_a_stopped_run_starts_no_replication(pool: tuple[ProcessPoolExecutor, StopBoard]) -> None:
    """A replication of a run stopped before a worker takes it up stops before it starts."""
    executor, board = pool
    stop = board.run_stop()
    stop.stop()
    shipped = _ShippedScenario.of(small())
    future = executor.submit(_run_shipped, shipped, 7, 0, 3, stop.slot)
    with pytest.raises(ReplicationStopped):
        future.result(timeout=60)
    other = executor.submit(_run_shipped, shipped, 7, 0, 3, board.run_stop().slot)
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
    first = executor.submit(_run_shipped, shipped, 7, 0, 2, stopped.slot)
    second = executor.submit(_run_shipped, shipped, 7, 1, 2, going_on.slot)
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


def test_a_run_given_up_by_its_caller_is_stopped(
    pool: tuple[ProcessPoolExecutor, StopBoard],
) -> None:
    """A caller giving a run up — its progress callback raising, as a page does when its user
    moves on — stops the run: the replications still under way stop (as above) rather than
    run to their end."""
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
