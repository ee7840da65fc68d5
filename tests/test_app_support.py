"""The workbench's support code outside a page: the progress bar's pace, the workers' priority."""

from __future__ import annotations

import os
from typing import Any

import pytest


def test_progress_bar_updates_at_most_once_a_step(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each progress update makes the browser redraw the page, which on a small server takes
    processor time from the workers: the bar moves at most once per PROGRESS_EVERY_S, however
    often replications finish, and the result still comes back."""
    pytest.importorskip("streamlit")
    from app import app_support

    shown: list[float] = []

    class Bar:
        def progress(self, value: float, text: str) -> None:
            shown.append(value)

        def empty(self) -> None:
            pass

    step = app_support.PROGRESS_EVERY_S
    # replications finishing at these instants (the first reading is when the bar appears)
    instants = iter([0.0, 0.2 * step, 0.5 * step, 1.1 * step, 1.5 * step, 2.3 * step, 2.4 * step])
    monkeypatch.setattr(app_support.st, "progress", lambda value, text: Bar())
    monkeypatch.setattr(app_support.time, "monotonic", lambda: next(instants))

    def compute(progress: Any) -> str:
        for done in range(1, 7):
            progress(done, 6)
        return "done"

    result = app_support.with_progress("Simulating", ("test-progress", id(shown)), compute)
    assert result == "done"
    assert shown == [3 / 6, 5 / 6]


@pytest.mark.skipif(not hasattr(os, "nice"), reason="scheduling priority is a Unix notion")
def test_workers_run_at_a_lower_priority_than_the_server() -> None:
    """The app's worker processes run at WORKER_NICENESS below the server (capped at the
    lowest priority), so a run taking every core leaves the pages responsive."""
    pytest.importorskip("streamlit")
    from app import app_support

    pool = app_support._pool.__wrapped__(2)  # type: ignore[attr-defined]
    try:
        assert pool.submit(app_support.warm_up).result() is None
        niceness = set(pool.map(os.nice, [0] * 4))
    finally:
        pool.shutdown()
    assert niceness == {min(os.nice(0) + app_support.WORKER_NICENESS, 19)}


def test_a_worker_starting_up_does_not_run_the_app() -> None:
    """A spawned worker runs the app's main module as ``__mp_main__`` before its first task:
    that must draw nothing, start no pool of its own, and not even import streamlit."""
    import subprocess
    import sys
    from pathlib import Path

    app = Path(__file__).resolve().parent.parent / "app" / "streamlit_app.py"
    code = (
        "import runpy, sys\n"
        f"runpy.run_path({str(app)!r}, run_name='__mp_main__')\n"
        "print('streamlit' in sys.modules)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True
    )
    assert done.stdout.strip() == "False", done.stdout + done.stderr


def test_result_cache_keeps_nothing_of_a_failed_computation() -> None:
    """A computation that raises leaves neither a value nor its per-key lock behind (a server
    meeting many bad inputs must not grow), and the same key computes again afterwards."""
    pytest.importorskip("streamlit")
    from app import app_support

    cache = app_support.ResultCache(entries=4)

    def fails() -> int:
        raise ValueError("bad input")

    for k in range(50):
        with pytest.raises(ValueError):
            cache.get_or_compute(("bad", k), fails)
    assert not cache._values and not cache._key_locks
    assert cache.get_or_compute(("bad", 0), lambda: 7) == 7
    assert cache.get_or_compute(("bad", 0), fails) == 7  # kept: not computed again


def _wait(condition: Any, timeout_s: float = 10.0) -> None:
    import time

    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.005)


def test_anticipator_makes_what_is_wanted_in_order_within_its_limit() -> None:
    """Runs made ahead go into the runs cache in the order wanted; one already cached costs
    nothing and does not count against the limit; at most ``limit`` runs per wish; ``then`` gets
    each value."""
    pytest.importorskip("streamlit")
    from app import app_support

    cache = app_support.ResultCache(entries=8)
    cache.get_or_compute("b", lambda: "cached")
    made: list[str] = []
    then: list[Any] = []

    def job(key: str) -> Any:
        def run(progress: Any) -> str:
            made.append(key)
            return key.upper()

        return app_support.Job(key, run, then.append)

    anticipator = app_support.Anticipator(cache)
    anticipator.want([job("a"), job("b"), job("c"), job("d")], limit=2)
    _wait(anticipator.idle)
    assert made == ["a", "c"]  # "b" was cached, "d" is past the limit
    assert then == ["A", "cached", "C"]
    assert [cache.get(k) for k in "abcd"] == ["A", "cached", "C", None]
    assert anticipator.made == 2
    anticipator.want([job("d")], limit=2)  # a new wish has a limit of its own
    _wait(anticipator.idle)
    assert cache.get("d") == "D" and anticipator.made == 3


def test_anticipator_makes_way_for_what_a_user_asks_for() -> None:
    """A user's computation withdraws the run being made ahead and drops the waiting ones,
    leaving nothing in the cache; one for the very run being made ahead lets it finish."""
    pytest.importorskip("streamlit")
    import threading

    from app import app_support

    cache = app_support.ResultCache(entries=8)
    started = threading.Event()
    release = threading.Event()
    made: list[str] = []

    def job(key: str) -> Any:
        def run(progress: Any) -> str:
            made.append(key)
            started.set()
            while not release.is_set():  # a run reporting its replications as they finish
                progress(0, 20)
                release.wait(0.01)
            return key

        return app_support.Job(key, run)

    anticipator = app_support.Anticipator(cache)
    anticipator.want([job("a"), job("b")], limit=5)
    started.wait(10)
    anticipator.make_way("other")
    _wait(anticipator.idle)
    assert made == ["a"] and cache.get("a") is None and cache.get("b") is None
    assert anticipator.made == 0

    started.clear()
    anticipator.want([job("c")], limit=5)
    started.wait(10)
    anticipator.make_way("c")  # the page waits for this one rather than starting it again
    release.set()
    assert cache.get_or_compute("c", lambda: "again") == "c"
    _wait(anticipator.idle)
    assert anticipator.made == 1


def test_anticipator_with_no_runs_allowed_starts_nothing() -> None:
    """``SIMKIT_APP_ANTICIPATE=0`` turns making runs ahead off: no thread, nothing made."""
    pytest.importorskip("streamlit")
    from app import app_support

    anticipator = app_support.Anticipator(app_support.ResultCache(entries=2))
    anticipator.want([app_support.Job("a", lambda progress: 1)], limit=0)
    assert anticipator.idle() and anticipator._thread is None and anticipator.made == 0


def test_anticipation_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("streamlit")
    from app import app_support

    monkeypatch.delenv("SIMKIT_APP_ANTICIPATE", raising=False)
    assert app_support.anticipate_limit() == app_support.ANTICIPATE_RUNS
    monkeypatch.setenv("SIMKIT_APP_ANTICIPATE", "0")
    assert app_support.anticipate_limit() == 0
    monkeypatch.setenv("SIMKIT_APP_ANTICIPATE", "lots")
    assert app_support.anticipate_limit() == app_support.ANTICIPATE_RUNS
