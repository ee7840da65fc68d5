"""The workbench's support code outside a page: the progress bar's pace, the workers' priority."""

from __future__ import annotations

import dataclasses
import os
import threading
import time
from collections.abc import Callable, Hashable
from typing import Any

import pytest

from simkit.resources import examples_dir
from simkit.scenario import load_scenario


class _QuietBar:
    """A progress bar that draws nothing (``st.progress`` outside a page)."""

    def progress(self, value: float, text: str) -> None:
        pass

    def empty(self) -> None:
        pass


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

    pool, _ = app_support._pool.__wrapped__(2)  # type: ignore[attr-defined]
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
    monkeypatch.setenv("SIMKIT_APP_ANTICIPATE", "5")
    assert app_support.anticipate_limit() == 5
    for off in ("off", "false", "-1"):  # whatever else someone writes to turn it off
        monkeypatch.setenv("SIMKIT_APP_ANTICIPATE", off)
        assert app_support.anticipate_limit() == 0


def test_result_cache_hands_a_failed_key_to_the_next_in_line_only() -> None:
    """When a computation fails while others wait for the same key, the next in line computes it
    and everyone after waits for that one: the key is never computed twice at once (a withdrawn
    run made ahead fails this way while a page waits for it)."""
    pytest.importorskip("streamlit")
    from app import app_support

    cache = app_support.ResultCache(entries=4)
    running: list[str] = []
    most = [0]
    first_started = threading.Event()
    let_first_fail = threading.Event()
    results: dict[str, Any] = {}

    def compute(name: str) -> Any:
        running.append(name)
        most[0] = max(most[0], len(running))
        try:
            if name == "first":
                first_started.set()
                let_first_fail.wait(10)
                raise RuntimeError("withdrawn")
            time.sleep(0.2)
            return name
        finally:
            running.remove(name)

    def user(name: str) -> None:
        try:
            results[name] = cache.get_or_compute("x", lambda: compute(name))
        except RuntimeError as error:
            results[name] = error

    first = threading.Thread(target=user, args=("first",))
    first.start()
    first_started.wait(10)
    second = threading.Thread(target=user, args=("second",))
    second.start()
    time.sleep(0.05)  # the second waits for the key
    let_first_fail.set()
    time.sleep(0.05)  # the second computes now; a third arrives meanwhile
    third = threading.Thread(target=user, args=("third",))
    third.start()
    for thread in (first, second, third):
        thread.join(10)
    assert isinstance(results["first"], RuntimeError)
    assert results["second"] == results["third"] == "second"
    assert most[0] == 1
    assert not cache._key_locks


def test_nothing_is_made_ahead_while_a_user_computes() -> None:
    """While a user's computation is under way the run being made ahead is withdrawn and the
    next does not start; it starts once the computation ends."""
    pytest.importorskip("streamlit")
    from app import app_support

    cache = app_support.ResultCache(entries=8)
    started: list[str] = []
    running = threading.Event()

    def job(key: str, slow: bool = False) -> Any:
        def run(progress: Any) -> str:
            started.append(key)
            running.set()
            while slow:  # a run reporting replications until it is withdrawn
                progress(0, 20)
                time.sleep(0.01)
            return key

        return app_support.Job(key, run)

    anticipator = app_support.Anticipator(cache)
    anticipator.want([job("a", slow=True), job("b")], limit=5)
    running.wait(10)
    with anticipator.serving():
        _wait(lambda: anticipator._running is None)  # "a" withdrawn
        anticipator.want([job("c")], limit=5)  # another session's wish, meanwhile
        time.sleep(0.1)
        assert started == ["a"] and cache.get("a") is None
    _wait(anticipator.idle)
    assert started == ["a", "c"] and cache.get("c") == "c"


def _held_run(
    polls: bool,
) -> tuple[threading.Event, threading.Event, Callable[[Callable[[int, int], None]], str]]:
    """A run made ahead that starts (``started``) and goes on until ``release``: reporting its
    replications all along (``polls``: withdrawn as soon as asked), or once at the end."""
    started, release = threading.Event(), threading.Event()

    def run(progress: Callable[[int, int], None]) -> str:
        started.set()
        while polls and not release.is_set():
            progress(0, 20)
            release.wait(0.01)
        release.wait(10)
        progress(1, 20)  # raises if the run was withdrawn by then
        return "made ahead"

    return started, release, run


def test_a_run_a_page_waits_for_is_not_withdrawn() -> None:
    """Once a page waits for the run being made ahead, another user's computation does not
    withdraw it: the page would otherwise wait for the time already spent and a whole run."""
    pytest.importorskip("streamlit")
    from app import app_support

    cache = app_support.ResultCache(entries=8)
    started, release, run = _held_run(polls=True)
    anticipator = app_support.Anticipator(cache)
    anticipator.want([app_support.Job("k", run)], limit=1)
    started.wait(10)
    with anticipator.waiting_for("k"):  # a page waits for exactly this run
        with anticipator.serving():  # another session computes something else meanwhile
            time.sleep(0.1)  # the run goes on reporting its replications: not withdrawn
            release.set()
        assert cache.get_or_compute("k", lambda: "again") == "made ahead"
    _wait(anticipator.idle)


def test_a_claim_lasts_only_while_a_page_waits() -> None:
    """A page that claimed the run being made ahead and then moved on (its rerun interrupted
    before it waited) does not keep that run from being withdrawn; a page that waits for it
    claims it even after it was asked to stop."""
    pytest.importorskip("streamlit")
    from app import app_support

    cache = app_support.ResultCache(entries=8)
    started, release, run = _held_run(polls=False)
    anticipator = app_support.Anticipator(cache)
    anticipator.want([app_support.Job("k", run)], limit=1)
    started.wait(10)
    anticipator.make_way("k")  # a page about to need "k" — and then its user moves on
    with anticipator.serving():  # the next position's computation
        release.set()
        _wait(anticipator.idle)
    assert cache.get("k") is None  # withdrawn: nobody waited for it

    started.clear()
    release.clear()
    anticipator.want([app_support.Job("k", run)], limit=1)
    started.wait(10)
    # another session asks the run to stop, but this page waits for exactly this run
    with anticipator.serving(), anticipator.waiting_for("k"):
        release.set()
        assert cache.get_or_compute("k", lambda: "again") == "made ahead"
    _wait(anticipator.idle)


def test_a_run_withdrawn_stops_its_replications_under_way() -> None:
    """A run made ahead carries its own :class:`RunStop` (``AHEAD_STOP``); withdrawing it
    stops that run (its replications under way end at once in the workers), and a page that
    then waits for it does not claim it: it ends without a result, and the page makes it."""
    pytest.importorskip("streamlit")
    from app import app_support
    from simkit.stops import StopBoard

    board = StopBoard()
    given: list[Any] = []

    def new_stop() -> Any:
        given.append(board.run_stop())
        return given[-1]

    seen: list[Any] = []
    started, release, held = _held_run(polls=False)

    def run(progress: Callable[[int, int], None]) -> str:
        seen.append(app_support.AHEAD_STOP.get())
        return held(progress)

    cache = app_support.ResultCache(entries=8)
    anticipator = app_support.Anticipator(cache)
    anticipator.want([app_support.Job("k", run, stop=new_stop)], limit=1)
    started.wait(10)
    assert seen == given and len(given) == 1 and not given[0].stopped
    anticipator.make_way("k")  # a page about to need this very run: it goes on
    assert not given[0].stopped
    anticipator.make_way("other")
    assert given[0].stopped
    with anticipator.waiting_for("k"):
        assert not anticipator._claimed
        release.set()
        _wait(anticipator.idle)
    assert cache.get("k") is None and app_support.AHEAD_STOP.get() is None


def test_measured_runs_go_with_their_run() -> None:
    """A run measured against edited targets shares the run's tables: it is dropped when its run
    is dropped, so the memory held stays within the runs cache's size."""
    pytest.importorskip("streamlit")
    from app import app_support

    runs = app_support.shared_cache("runs")
    measured = app_support.shared_cache("measured")
    first = ("run", "first")
    runs.get_or_compute(first, lambda: "tables")
    measured.get_or_compute(("measured", first, "targets a"), lambda: "a")
    measured.get_or_compute(("measured", first, "targets b"), lambda: "b")
    measured.get_or_compute(("measured", ("run", "other"), "targets a"), lambda: "c")
    for k in range(runs.entries):  # other runs push the first out
        runs.get_or_compute(("run", k), lambda: "more tables")
    assert not runs.holds(first)
    assert not measured.holds(("measured", first, "targets a"))
    assert not measured.holds(("measured", first, "targets b"))
    assert measured.holds(("measured", ("run", "other"), "targets a"))


def test_a_run_made_ahead_hands_each_worker_one_replication_at_a_time(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A run made ahead is withdrawn whenever a user moves elsewhere: it hands the workers no more
    replications than there are workers, so a withdrawal leaves only those they are working on
    (a user's own run hands out one more, to keep every worker busy)."""
    pytest.importorskip("streamlit")
    from app import app_support

    monkeypatch.setenv("SIMKIT_APP_WORKERS", "3")
    monkeypatch.setattr(app_support, "executor", lambda: None)
    handed: list[int | None] = []
    monkeypatch.setattr(
        app_support, "simulate_run", lambda *args, in_flight, **kwargs: handed.append(in_flight)
    )
    scenario = load_scenario(examples_dir() / "corporate_service_desk.yaml")
    job = app_support.run_ahead(scenario, 20, 1, None)
    job.run(lambda done, total: None)
    assert handed == [3] and app_support.in_flight() == 4


def test_the_runs_a_page_makes_carry_their_stop(monkeypatch: pytest.MonkeyPatch) -> None:
    """The page's own run is made with a new :class:`RunStop` of the workers' board, and a run
    made ahead with the one the Anticipator gave it (``AHEAD_STOP``), so that giving either up
    stops its replications under way."""
    pytest.importorskip("streamlit")
    from app import app_support

    monkeypatch.setenv("SIMKIT_APP_WORKERS", "3")
    monkeypatch.setattr(app_support, "executor", lambda: None)
    monkeypatch.setattr(app_support.st, "progress", lambda value, text: _QuietBar())
    own, ahead = object(), object()
    monkeypatch.setattr(app_support, "run_stop", lambda: own)
    given: list[object] = []
    monkeypatch.setattr(
        app_support, "simulate_run", lambda *args, stop, **kwargs: given.append(stop) or "run"
    )
    scenario = load_scenario(examples_dir() / "corporate_service_desk.yaml")
    seed = 918_273  # a run no other test caches
    assert app_support.simulated(scenario, 20, seed) == "run"
    job = app_support.run_ahead(scenario, 20, seed + 1, None)
    token = app_support.AHEAD_STOP.set(ahead)  # type: ignore[arg-type]
    try:
        job.run(lambda done, total: None)
    finally:
        app_support.AHEAD_STOP.reset(token)
    assert given == [own, ahead]


def test_result_cache_keeps_within_its_byte_budget() -> None:
    """Runs of a large scenario are large: the runs cache holds at most its budget of bytes,
    dropping the least recently used first (with what goes with them), and always keeps the run
    stored last, however large."""
    pytest.importorskip("streamlit")
    from app import app_support

    dropped: list[Hashable] = []
    cache = app_support.ResultCache(10, dropped.append, weigh=len, budget=10)
    for key, value in (("a", "xxxx"), ("b", "xxxx"), ("c", "xx")):
        cache.get_or_compute(key, lambda value=value: value)
    assert cache.weight == 10 and not dropped
    cache.get("a")  # used: "b" is now the least recently used
    cache.get_or_compute("d", lambda: "xxx")
    assert dropped == ["b"] and cache.weight == 9
    cache.get_or_compute("e", lambda: "x" * 50)
    assert dropped == ["b", "c", "a", "d"] and cache.holds("e") and cache.weight == 50
    cache.discard(lambda key: key == "e")
    assert cache.weight == 0
    # A value stored again (None reads as missing, so it is computed again) is weighed once.
    nothing = app_support.ResultCache(10, weigh=lambda value: 3)
    for _ in range(2):
        nothing.get_or_compute("n", lambda: None)
    assert nothing.weight == 3


@pytest.fixture(scope="module")
def one_run() -> Any:
    """One replication of the baseline, as the runs cache holds it."""
    from simkit.runner import simulate

    return simulate(load_scenario(examples_dir() / "corporate_service_desk.yaml"), replications=1)


def test_the_runs_cache_weighs_a_run_by_its_tables(one_run: Any) -> None:
    """A run weighs at least its tables' bytes; anything else in the cache weighs nothing."""
    pytest.importorskip("streamlit")
    from app import app_support

    results = one_run
    tables = (results.tickets, results.visits, results.pauses, results.team_stats)
    assert app_support.run_bytes(results) >= sum(t.nbytes for t in tables) > 0
    assert app_support.run_bytes("not a run") == 0


def test_a_run_weighs_the_tables_made_to_measure_it(one_run: Any) -> None:
    """Measuring a run makes tables of its own (the service tickets): once measured, the run
    weighs them too, and a run measured against edited targets weighs only them in the measured
    cache, which has a byte budget of its own."""
    pytest.importorskip("streamlit")
    from app import app_support

    run = dataclasses.replace(one_run)  # not yet measured
    before = app_support.run_bytes(run)
    assert run.measuring_bytes() == 0 and app_support.measuring_bytes(run) == 0
    run.sla_summary()
    made = run.measuring_bytes()
    assert made > 0 and app_support.run_bytes(run) == before + made
    assert app_support.measuring_bytes(run) == made
    assert app_support.measuring_bytes("not a run") == 0
    measured = app_support.shared_cache("measured")
    assert measured.budget == app_support.MEASURED_BYTES and measured.weigh is not None


def test_result_cache_weighs_values_again_as_they_grow() -> None:
    """A run kept before it was measured grows when it is: the next value stored counts it as
    it is now, and the least recently used values make room for it."""
    pytest.importorskip("streamlit")
    from app import app_support

    dropped: list[Hashable] = []
    cache = app_support.ResultCache(10, dropped.append, weigh=len, budget=10)
    grows = ["x"] * 2
    cache.get_or_compute("a", lambda: ["x"] * 2)
    cache.get_or_compute("b", lambda: grows)
    assert cache.weight == 4
    grows.extend(["x"] * 5)  # "b" is measured: 7 now
    cache.get_or_compute("c", lambda: ["x"] * 2)
    assert dropped == ["a"] and cache.weight == 9


def test_runs_made_ahead_leave_room_for_the_run_on_the_screen(
    monkeypatch: pytest.MonkeyPatch, one_run: Any
) -> None:
    """Each run made ahead takes room in the runs cache: no more are made than fit beside the run
    on the screen and the one before it, counting each as large as the run on the screen, so
    that they never push it out. Unlimited room leaves the setting as it is."""
    pytest.importorskip("streamlit")
    from app import app_support

    shown = one_run
    size = app_support.run_bytes(shown)
    monkeypatch.delenv("SIMKIT_APP_ANTICIPATE", raising=False)
    assert app_support.ahead_limit(shown) == app_support.ANTICIPATE_RUNS  # the baseline: room
    monkeypatch.setattr(app_support, "RUN_BYTES", 5 * size)
    assert app_support.ahead_limit(shown) == 3
    monkeypatch.setattr(app_support, "RUN_BYTES", size)
    assert app_support.ahead_limit(shown) == 0
    monkeypatch.setattr(app_support, "RUN_BYTES", 100 * size)
    monkeypatch.setattr(app_support, "RUN_ENTRIES", 4)
    assert app_support.ahead_limit(shown) == 2
    monkeypatch.setenv("SIMKIT_APP_ANTICIPATE", "1")
    assert app_support.ahead_limit(shown) == 1


class _MovedOn(Exception):
    """Stands in for Streamlit's rerun exception in the tests below."""


def quiet_progress(monkeypatch: pytest.MonkeyPatch) -> None:
    """``st.progress`` draws nothing (outside a page's run)."""
    from app import app_support

    monkeypatch.setattr(app_support.st, "progress", lambda value, text: _QuietBar())


def test_streamlit_lets_a_fragment_finish_before_its_next_run() -> None:
    """Why the page checks for a newer run itself (:func:`app_support._rerun_waiting`): a widget
    change inside a running fragment does not stop the fragment at Streamlit's yield points, so
    a user pressing a key three times would wait for three runs. This pins the Streamlit state
    the check reads (it has no public accessor): if Streamlit changes it, this fails."""
    pytest.importorskip("streamlit")
    from types import SimpleNamespace

    from streamlit.runtime.scriptrunner_utils.script_requests import RerunData, ScriptRequests

    from app import app_support

    requests = ScriptRequests()
    context = SimpleNamespace(script_requests=requests)
    original = app_support.get_script_run_ctx
    try:
        app_support.get_script_run_ctx = lambda suppress_warning=False: context  # type: ignore[assignment]
        assert not app_support._rerun_waiting()
        requests.request_rerun(RerunData(fragment_id="sliders"))  # a slider of the fragment moved
        assert app_support._rerun_waiting()
        assert requests.on_scriptrunner_yield() is None  # Streamlit's yield point lets it run on
        assert app_support._rerun_waiting()
    finally:
        app_support.get_script_run_ctx = original  # type: ignore[assignment]
    assert not app_support._rerun_waiting()  # outside a page's run: nothing waits


def test_moved_on_starts_the_fragment_again_only_when_a_run_waits(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """With a newer run waiting, the fragment starts again at once (``st.rerun(scope=
    "fragment")``); with none, nothing happens; in a run of the whole page, which Streamlit
    does not let a fragment cut short, the run goes on."""
    pytest.importorskip("streamlit")
    from streamlit.errors import StreamlitAPIException

    from app import app_support

    checked: list[str] = []
    reruns: list[str] = []
    waiting = [False]
    whole_page = [False]

    def rerun(*, scope: str) -> None:
        if whole_page[0]:
            raise StreamlitAPIException('scope="fragment" only during fragment reruns')
        reruns.append(scope)
        raise _MovedOn

    monkeypatch.setattr(app_support, "get_run_yield_check", lambda: lambda: checked.append("y"))
    monkeypatch.setattr(app_support, "_rerun_waiting", lambda: waiting[0])
    monkeypatch.setattr(app_support.st, "rerun", rerun)
    app_support.moved_on()
    assert checked == ["y"] and reruns == []
    waiting[0] = True
    with pytest.raises(_MovedOn):
        app_support.moved_on()
    assert reruns == ["fragment"]
    app_support.moved_on(restart=False)  # a search, which keeps nothing, goes on
    assert reruns == ["fragment"] and checked == ["y"] * 3
    whole_page[0] = True
    app_support.moved_on()  # no exception: the page's run goes on
    assert checked == ["y"] * 4
    monkeypatch.setattr(app_support, "get_run_yield_check", lambda: None)
    app_support.moved_on()  # not in a page's run: not even Streamlit's check
    assert checked == ["y"] * 4


def test_a_run_stops_at_the_first_replication_after_its_user_moved_on(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A page's run asks after every replication whether its user has moved on, not only when
    its progress bar moves (once a second): the next position's run starts at once. Only a
    simulation run, which keeps its replications, starts the page again (``restart``)."""
    pytest.importorskip("streamlit")
    from app import app_support

    asked = [0]
    restarts: list[bool] = []

    def moved_on(*, restart: bool = True) -> None:
        asked[0] += 1
        restarts.append(restart)
        if asked[0] == 3:
            raise _MovedOn

    monkeypatch.setattr(app_support.st, "progress", lambda value, text: _QuietBar())
    monkeypatch.setattr(app_support, "moved_on", moved_on)
    done: list[int] = []

    def compute(progress: Any) -> str:
        for k in range(1, 21):
            progress(k, 20)  # replications finishing far faster than the bar moves
            done.append(k)
        return "done"

    key = ("test-moved-on", id(done))
    with pytest.raises(_MovedOn):
        app_support.with_progress("Simulating", key, compute)
    assert done == [1, 2] and restarts == [False] * 3
    assert app_support.shared_cache("figures").get(key) is None
    asked[0] = 0
    with pytest.raises(_MovedOn):
        app_support.with_progress("Simulating", ("other", id(done)), compute, restart=True)
    assert restarts[3:] == [True] * 3


def test_a_page_waiting_for_a_run_made_elsewhere_stops_when_its_user_moves_on() -> None:
    """A page waiting for the run someone else makes (a run made ahead it claimed, or another
    session's) stops waiting when ``waiting`` raises; the run goes on and is kept."""
    pytest.importorskip("streamlit")
    from app import app_support

    cache = app_support.ResultCache(entries=4)
    started, release = threading.Event(), threading.Event()

    def slow() -> str:
        started.set()
        release.wait(10)
        return "made elsewhere"

    maker = threading.Thread(target=lambda: cache.get_or_compute("k", slow))
    maker.start()
    started.wait(10)
    polls = [0]

    def waiting() -> None:
        polls[0] += 1
        if polls[0] == 2:
            raise _MovedOn

    with pytest.raises(_MovedOn):
        cache.get_or_compute("k", lambda: "computed again", waiting=waiting)
    assert polls[0] == 2 and not release.is_set()
    release.set()
    maker.join(10)
    assert cache.get("k") == "made elsewhere"
    assert cache.get_or_compute("k", lambda: "computed again", waiting=waiting) == "made elsewhere"
    assert not cache._key_locks


def test_a_page_stops_waiting_for_another_sessions_run_when_its_user_moves_on(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The page's wait for a run another session is making (or a run made ahead) checks
    whether its user has moved on, as its own run does."""
    pytest.importorskip("streamlit")
    from app import app_support

    quiet_progress(monkeypatch)
    cache = app_support.shared_cache("figures")
    key = ("test-waiting", id(cache))
    started, release = threading.Event(), threading.Event()

    def slow() -> str:
        started.set()
        release.wait(10)
        return "made by another session"

    maker = threading.Thread(target=lambda: cache.get_or_compute(key, slow))
    maker.start()
    started.wait(10)
    asked = [0]

    def moved_on(*, restart: bool = True) -> None:
        asked[0] += 1
        raise _MovedOn

    monkeypatch.setattr(app_support, "moved_on", moved_on)
    try:
        with pytest.raises(_MovedOn):
            app_support.with_progress("Simulating", key, lambda progress: "computed again")
        assert asked[0] == 1 and not release.is_set()
    finally:
        release.set()
        maker.join(10)
    assert cache.get(key) == "made by another session"


def test_a_run_given_up_goes_on_from_where_it_stopped(monkeypatch: pytest.MonkeyPatch) -> None:
    """A page whose user moved on part way through a run keeps the replications made; when the
    same run is asked for again (the user comes back, or opened a tab meanwhile) only the rest
    are made, and the numbers are those of a run made in one go. Once whole, the run's
    replications are no longer kept apart."""
    pytest.importorskip("streamlit")
    from app import app_support
    from simkit.runner import simulate

    quiet_progress(monkeypatch)
    monkeypatch.setenv("SIMKIT_APP_WORKERS", "1")  # in the test's thread: progress in order
    scenario = load_scenario(examples_dir() / "corporate_service_desk.yaml")
    seed = 4321  # a run no other test makes
    key = app_support.run_cache_key(scenario, 4, seed)
    made: list[int] = []

    def moved_on_at(k: int) -> Callable[..., None]:
        def moved_on(*, restart: bool = True) -> None:
            assert restart  # a run keeps its replications: the page starts again at once
            made.append(1)
            if len(made) == k:
                raise _MovedOn

        return moved_on

    monkeypatch.setattr(app_support, "moved_on", moved_on_at(2))
    with pytest.raises(_MovedOn):
        app_support.simulated(scenario, 4, seed)
    assert app_support.partial_runs().holds(key)
    made.clear()
    monkeypatch.setattr(app_support, "moved_on", moved_on_at(0))
    results = app_support.simulated(scenario, 4, seed)
    assert len(made) == 2  # two replications made, two kept
    assert not app_support.partial_runs().holds(key)
    whole = simulate(scenario, replications=4, seed=seed)
    assert results.tickets.equals(whole.tickets) and results.visits.equals(whole.visits)


def test_partial_runs_keep_the_runs_given_up_last_within_their_bytes(one_run: Any) -> None:
    """Parts of runs given up are kept for the last ``runs`` runs and within ``budget`` bytes of
    tables; a run takes its part back while it runs, and a run refused keeps nothing."""
    pytest.importorskip("streamlit")
    from app import app_support
    from simkit.runner import ReplicationOutcome

    outcome = ReplicationOutcome(0, None, one_run.outages, None)
    weight = app_support._outcome_bytes(outcome)
    parts = app_support.PartialRuns(runs=2, budget=10**12)
    for key in "abc":
        parts.keep(key, {0: outcome})
    assert not parts.holds("a") and parts.holds("b") and parts.holds("c")
    assert parts.take("b") == {0: outcome} and not parts.holds("b")
    assert parts.take("never kept") == {}

    big = ReplicationOutcome(0, None, one_run.tickets, None)
    size = app_support._outcome_bytes(big)
    assert size > weight
    parts = app_support.PartialRuns(runs=4, budget=size + weight)
    parts.keep("small", {0: outcome})
    parts.keep("big", {0: big})
    assert parts.holds("small") and parts.holds("big")
    parts.keep("another", {0: outcome})  # over the budget: the oldest goes first
    assert not parts.holds("small") and parts.holds("big") and parts.holds("another")

    from simkit.errors import InputError

    desk = load_scenario(examples_dir() / "corporate_service_desk.yaml")
    key = ("run", "refused")
    with pytest.raises(InputError):  # too many replications: refused before anything runs
        app_support.whole_run(
            key,
            lambda finished: app_support.simulate_run(
                desk, replications=10**6, seed=1, finished=finished
            ),
        )
    assert not app_support.partial_runs().holds(key)
