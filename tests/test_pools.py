"""The results pipe of a worker pool (simkit.pools): widened where the system allows it, and
the pool's results the same as without it."""

from __future__ import annotations

import argparse
import multiprocessing
import sys
from concurrent.futures import ProcessPoolExecutor

import pytest

from simkit import app_model as model
from simkit.cli_common import executor_from
from simkit.pools import DEFAULT_PIPE_BYTES, results_pipe_size, widen_results_pipe
from simkit.resources import examples_dir
from simkit.scenario import load_scenario

linux_only = pytest.mark.skipif(
    not sys.platform.startswith("linux"), reason="pipe sizes are set with Linux's F_SETPIPE_SZ"
)


@linux_only
def test_the_results_pipe_is_widened_to_what_is_asked() -> None:
    with ProcessPoolExecutor(max_workers=1) as pool:
        before = results_pipe_size(pool)
        assert 0 < before < DEFAULT_PIPE_BYTES, "Linux's pipes hold 64 KiB by default"
        assert widen_results_pipe(pool, DEFAULT_PIPE_BYTES) == DEFAULT_PIPE_BYTES
        assert results_pipe_size(pool) == DEFAULT_PIPE_BYTES
        # and back (the benchmark compares both)
        assert widen_results_pipe(pool, 1 << 16) == 1 << 16


@linux_only
def test_by_default_the_pipe_is_widened_to_the_systems_limit() -> None:
    with open("/proc/sys/fs/pipe-max-size", encoding="ascii") as limit:
        most = int(limit.read())
    with ProcessPoolExecutor(max_workers=1) as pool:
        assert widen_results_pipe(pool) == most


def test_a_pool_without_the_pipe_is_left_as_it_is() -> None:
    """Where the pool has no results pipe to reach (another Python's pool), nothing is set and
    0 says so."""
    pool = object.__new__(ProcessPoolExecutor)  # no pipe, no processes
    assert widen_results_pipe(pool) == 0
    assert results_pipe_size(pool) == 0


@linux_only
def test_replications_through_a_widened_pipe_are_the_same() -> None:
    """A replication's tables (well over 64 KiB) come back whole: the same figures on two
    workers with the pipe widened as in the caller's thread."""
    scenario = load_scenario(examples_dir() / "corporate_service_desk.yaml")
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=2, mp_context=context) as pool:
        assert widen_results_pipe(pool) > 1 << 16
        pooled = model.simulate_run(scenario, replications=3, seed=11, executor=pool)
    serial = model.simulate_run(scenario, replications=3, seed=11)
    assert pooled.tickets.num_rows > 1000
    assert pooled.tickets.equals(serial.tickets)
    assert pooled.visits.equals(serial.visits)
    assert pooled.sla_summary()["sla"] == serial.sla_summary()["sla"]


@linux_only
def test_the_clis_workers_get_the_widened_pipe() -> None:
    """``--workers N`` makes a pool whose results pipe is widened."""
    with executor_from(argparse.Namespace(workers=2)) as pool:
        assert isinstance(pool, ProcessPoolExecutor)
        assert results_pipe_size(pool) > 1 << 16


@linux_only
def test_the_apps_workers_get_the_widened_pipe() -> None:
    """The app's worker pool (app_support._pool, shared by every session) is widened as it is
    made."""
    pytest.importorskip("streamlit")
    from app import app_support

    pool, _ = app_support._pool.__wrapped__(2)  # the function, not the server-wide resource
    try:
        assert isinstance(pool, ProcessPoolExecutor)
        assert results_pipe_size(pool) > 1 << 16
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
