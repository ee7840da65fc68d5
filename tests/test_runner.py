"""Runner: seeds, executors, failures as data, the size guard, the simulate contract."""

from __future__ import annotations

import gc
import json
import queue
import threading
import time
import weakref
from concurrent.futures import Executor, Future, ProcessPoolExecutor
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest
import yaml

from simkit.engine.compile import compile_support
from simkit.engine.support import SupportRun
from simkit.errors import InputError
from simkit.resources import example_scenarios, examples_dir
from simkit.runner import Results, replications_in_flight, simulate
from simkit.scenario import Scenario, load_scenario, parse_scenario
from simkit.streams import Streams, replication_seeds, stream_name

SMALL = {
    "name": "Small desk",
    "start": "2027-01-04",
    "timezone": "Europe/London",
    "horizon": "4w",
    "warmup": "1w",
    "drain": "1w",
    "replications": 3,
    "seed": 7,
    "calendars": {"office": {"hours": {"mon-fri": "08:00-18:00"}}},
    "services": {
        "svc": {
            "entry": "desk",
            "demand": {"per_week": 60, "profile": "office"},
            "priorities": {
                "P1": {
                    "share": "20%",
                    "respond": {"within": "30m", "calendar": "office", "goal": "90%"},
                    "resolve": {"within": "4h", "calendar": "office", "goal": "90%"},
                },
                "P2": {
                    "share": "80%",
                    "resolve": {"within": "16h", "calendar": "office", "goal": "90%"},
                },
            },
        }
    },
    "teams": {
        "desk": {
            "roster": {"mon-fri 08:00-18:00": 2},
            "handle": {"default": {"exponential": {"mean": "20m"}}},
            "next": {"resolved": "70%", "l2": "20%", "pause": "10%"},
            "pause": {"duration": {"exponential": {"mean": "4h"}}},
            "ola": {"respond": {"within": "1h", "calendar": "office", "goal": "90%"}},
        },
        "l2": {
            "roster": {"mon-fri 09:00-17:00": 1},
            "handle": {"default": {"exponential": {"mean": "1h"}}},
            "ola": {"resolve": {"within": "8h", "calendar": "office", "goal": "90%"}},
        },
    },
}


def small(**overrides: Any) -> Scenario:
    data = {**SMALL, **overrides}
    return parse_scenario(yaml.safe_dump(data), file="small.yaml")


def test_same_seed_same_numbers_serial_and_processes() -> None:
    """Same seed → identical summaries, serially and on a 2-process pool."""
    scenario = small()
    serial = simulate(scenario).summary()
    with ProcessPoolExecutor(max_workers=2) as pool:
        pooled = simulate(scenario, executor=pool).summary()
        windowed = simulate(scenario, executor=pool, in_flight=3).summary()
    assert json.dumps(serial, sort_keys=True) == json.dumps(pooled, sort_keys=True)
    assert json.dumps(serial, sort_keys=True) == json.dumps(windowed, sort_keys=True)
    other = simulate(scenario, seed=8).summary()
    assert json.dumps(other["sla"]) != json.dumps(serial["sla"])


def test_replication_k_independent_of_count() -> None:
    """Replication k draws the same numbers whether 2 or 3 replications are run."""
    scenario = small()
    two = simulate(scenario, replications=2)
    three = simulate(scenario, replications=3)
    first_two = three.tickets.filter(three.tickets.column("replication").to_numpy() < 2)
    assert first_two.equals(two.tickets)


@pytest.mark.distributed
def test_dask_local_cluster_identical() -> None:
    """A Dask LocalCluster executor gives the same summary as the serial run."""
    distributed = pytest.importorskip("distributed")
    scenario = small()
    serial = simulate(scenario).summary()
    with (
        distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        clustered = simulate(scenario, executor=client.get_executor()).summary()
    assert json.dumps(serial, sort_keys=True) == json.dumps(clustered, sort_keys=True)


def test_failed_replication_is_data(monkeypatch: pytest.MonkeyPatch) -> None:
    """A replication that raises is recorded in failures; the others are still measured. A
    failure is not kept for a later call (``finished``): made again, it may not fail."""
    import simkit.runner as runner

    real = runner.simulate_support

    def flaky(model: Any, streams: Any, replication: int = 0) -> Any:
        if replication == 1:
            raise RuntimeError("boom")
        return real(model, streams, replication)

    monkeypatch.setattr(runner, "simulate_support", flaky)
    kept: dict[int, Any] = {}
    results = simulate(small(), finished=kept)
    assert [f.replication for f in results.failures] == [1]
    assert sorted(kept) == [0, 2]
    document = results.summary()
    assert document["replications"] == 2
    assert document["failures"][0]["error"] == "RuntimeError: boom"
    assert all(row["tickets"] > 0 for row in document["sla"])


def test_progress_callback() -> None:
    calls: list[tuple[int, int]] = []
    simulate(small(), replications=2, progress=lambda d, t: calls.append((d, t)))
    assert calls == [(1, 2), (2, 2)]


class _GaveUp(Exception):
    pass


def test_progress_that_raises_withdraws_pending_replications() -> None:
    """When the caller gives up during a run (its progress callback raises, as a page does when
    the user moves a slider again), replications not yet started are cancelled rather than left
    to occupy the workers; the exception reaches the caller."""

    class OneAtATime(Executor):
        """Runs the first task at once and the others, in order, only once ``gate`` opens."""

        def __init__(self) -> None:
            self.gate = threading.Event()
            self.futures: list[Future[Any]] = []
            self.tasks: queue.Queue[Any] = queue.Queue()
            self.thread = threading.Thread(target=self._work, daemon=True)
            self.thread.start()

        def submit(self, fn: Any, /, *args: Any, **kwargs: Any) -> Future[Any]:
            future: Future[Any] = Future()
            self.futures.append(future)
            self.tasks.put((future, fn, args, kwargs))
            return future

        def _work(self) -> None:
            first = True
            while (task := self.tasks.get()) is not None:
                future, fn, args, kwargs = task
                if not first:
                    self.gate.wait()
                first = False
                if future.set_running_or_notify_cancel():
                    future.set_result(fn(*args, **kwargs))

        def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
            self.gate.set()
            self.tasks.put(None)
            self.thread.join()

    def give_up(done: int, total: int) -> None:
        raise _GaveUp

    pool = OneAtATime()
    with pytest.raises(_GaveUp):
        simulate(small(), replications=8, executor=pool, progress=give_up)
    pool.shutdown()
    assert len(pool.futures) == 8
    assert pool.futures[0].done() and not pool.futures[0].cancelled()
    assert all(future.cancelled() for future in pool.futures[1:])

    # With a bound on the replications in flight — given, or set around the call — only that
    # many were ever handed to the executor: a process pool cannot take back one it has given a
    # worker, so nothing more is left behind.
    for bounded in (True, False):
        pool = OneAtATime()
        with pytest.raises(_GaveUp), replications_in_flight(None if bounded else 2):
            simulate(
                small(),
                replications=8,
                executor=pool,
                progress=give_up,
                in_flight=2 if bounded else None,
            )
        pool.shutdown()
        assert len(pool.futures) == 2
        assert pool.futures[0].done() and not pool.futures[0].cancelled()
        assert pool.futures[1].cancelled()


def test_a_run_given_up_keeps_its_replications_for_the_next_call() -> None:
    """With ``finished``, a run given up part way keeps the replications it made — also those
    still running when it was given up — and the same run asked for again makes only the rest,
    with the same numbers as a run made in one go (serially and on a process pool)."""
    whole = simulate(small(), replications=6).summary()

    def give_up_at(k: int) -> Any:
        def progress(done: int, total: int) -> None:
            if done == k:
                raise _GaveUp

        return progress

    kept: dict[int, Any] = {}
    with pytest.raises(_GaveUp):
        simulate(small(), replications=6, progress=give_up_at(2), finished=kept)
    assert sorted(kept) == [0, 1]
    calls: list[int] = []
    again = simulate(small(), replications=6, progress=lambda d, t: calls.append(d), finished=kept)
    assert calls == [3, 4, 5, 6]  # two were kept: four made
    assert sorted(kept) == list(range(6))
    assert json.dumps(again.summary(), sort_keys=True) == json.dumps(whole, sort_keys=True)

    kept = {}
    with ProcessPoolExecutor(max_workers=2) as pool:
        with pytest.raises(_GaveUp):
            simulate(
                small(),
                replications=6,
                executor=pool,
                in_flight=3,
                progress=give_up_at(1),
                finished=kept,
            )
        deadline = time.monotonic() + 60
        while len(kept) < 3 and time.monotonic() < deadline:
            time.sleep(0.01)  # the two still running when the run was given up end later
        assert len(kept) == 3
        calls = []
        again = simulate(
            small(),
            replications=6,
            executor=pool,
            progress=lambda d, t: calls.append(d),
            finished=kept,
        )
    assert calls == [4, 5, 6]
    assert json.dumps(again.summary(), sort_keys=True) == json.dumps(whole, sort_keys=True)


def test_sla_summary_is_the_sla_part_of_the_summary() -> None:
    """The SLA part a page shows first carries exactly the summary's SLA and period rows, its
    header and failures, without the OLA/team figures; the whole summary then agrees with one
    measured from scratch."""
    results = simulate(small(), replications=2)
    head = results.sla_summary()
    assert "ola" not in head and "teams" not in head and "availability" not in head
    assert head["sla"] and head["periods"]
    whole = results.summary()
    assert list(whole) == [
        "scenario", "replications", "seed", "changes", "sla", "ola", "teams", "periods",
        "availability", "failures",
    ]  # fmt: skip
    for key in ("scenario", "replications", "seed", "changes", "sla", "periods", "failures"):
        assert whole[key] == head[key]
    fresh = simulate(small(), replications=2).summary()
    assert json.dumps(fresh, sort_keys=True) == json.dumps(whole, sort_keys=True)
    assert whole["ola"] and whole["teams"]


def test_visit_guard() -> None:
    """A scenario expecting more visits than the bound is refused before it runs, with the fix."""
    big = small(horizon="52w")
    with pytest.raises(InputError) as caught:
        simulate(big, max_visits=1000)
    problem = caught.value.problems[0]
    assert "visits per replication" in problem.message and "--max-visits" in problem.fix


def test_visit_estimate_is_made_once_per_scenario_and_not_shared_with_a_dated_change() -> None:
    """The guard's estimate is computed once per scenario object (the app checks a run, then
    runs it); a dated change made from that scenario has its own estimate."""
    import datetime as dt

    from simkit.runner import check_size
    from simkit.scenario.models import Window

    base = small()
    first = check_size(base)
    assert check_size(base) == first
    assert base.derived("expected_visits", lambda: -1.0) == first
    window = Window.model_validate({"from": dt.date(2027, 1, 11), "until": dt.date(2027, 1, 25)})
    busier = base.with_patch({"services": {"svc": {"demand": {"per_week": 400}}}}, window=window)
    assert check_size(busier) > first
    assert check_size(base) == first


def test_summary_contract_keys() -> None:
    """The simulate document has DESIGN.md's top-level keys and row fields."""
    document = simulate(small(), replications=2).summary()
    assert {
        "scenario",
        "replications",
        "seed",
        "sla",
        "ola",
        "teams",
        "availability",
        "periods",
    } <= set(document)
    sla = document["sla"][0]
    assert {
        "level",
        "service",
        "customer",
        "priority",
        "metric",
        "within_h",
        "calendar",
        "goal",
        "tickets",
        "open",
        "compliance",
        "p_period_met",
        "mean_h",
        "quantiles_h",
    } <= set(sla)
    assert set(sla["quantiles_h"]) == {"50", "80", "90", "95"}
    assert {"mean", "lo", "hi"} == set(sla["compliance"])
    ola = document["ola"][0]
    assert {
        "team",
        "kind",
        "metric",
        "within_h",
        "calendar",
        "goal",
        "tickets",
        "open",
        "compliance",
        "p_period_met",
        "mean_h",
        "quantiles_h",
    } <= set(ola)
    team = document["teams"][0]
    assert {"team", "utilization", "wait_h", "abandoned"} <= set(team)
    period = document["periods"][0]
    assert {
        "period",
        "level",
        "service",
        "customer",
        "priority",
        "metric",
        "compliance",
        "p_met",
        "tickets",
    } <= set(period)
    json.dumps(document, allow_nan=False)


def test_cli_simulate_json_and_out(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """`simkit simulate --json --out DIR` prints the contract and writes the four Parquet tables."""
    from simkit.cli import main

    path = tmp_path / "small.yaml"
    path.write_text(yaml.safe_dump(SMALL))
    code = main(
        ["simulate", str(path), "--json", "--replications", "2", "--out", str(tmp_path / "out")]
    )
    assert code == 0
    document = json.loads(capsys.readouterr().out)
    assert document["replications"] == 2 and document["scenario"] == "Small desk"
    for name in ("tickets", "visits", "pauses", "outages"):
        assert pq.read_table(tmp_path / "out" / f"{name}.parquet").num_columns > 0


def test_cli_simulate_bad_input(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Bad flags and bad --set values exit 2 with the errors document."""
    from simkit.cli import main

    path = tmp_path / "small.yaml"
    path.write_text(yaml.safe_dump(SMALL))
    assert main(["simulate", str(path), "--json", "--set", "teams.desk.shrinkage=150%"]) == 2
    document = json.loads(capsys.readouterr().out)
    assert document["errors"][0]["path"].endswith("shrinkage")
    assert main(["simulate", str(path), "--json", "--change", "nope"]) == 2
    assert "no change named" in json.loads(capsys.readouterr().out)["errors"][0]["message"]
    assert main(["simulate", str(path), "--json", "--replications", "x"]) == 2
    capsys.readouterr()
    # a --set inside a team the scenario does not have names the team and the likely one, not
    # a key missing from a new, incomplete team
    assert main(["simulate", str(path), "--json", "--set", "teams.dsk.shrinkage=15%"]) == 2
    (error,) = json.loads(capsys.readouterr().out)["errors"]
    assert error["path"] == "--set" and "has no team 'dsk'" in error["message"]
    assert "did you mean 'desk'?" in error["fix"]
    # setting a whole new entry is adding one: not refused as unknown
    new_team = (
        "teams.extra={roster: {'mon-fri 08:00-18:00': 1}, handle: {default: {fixed: {value: 1h}}}}"
    )
    args = ["simulate", str(path), "--json", "--replications", "1", "--set", new_team]
    assert main(args) == 0, capsys.readouterr().out


@pytest.mark.parametrize(
    ("flags", "path", "says"),
    [
        (["--seed", "-1"], "--seed", "must be at least 0"),
        (["--replications", "0"], "--replications", "must be at least 1"),
        (["--max-visits", "0"], "--max-visits", "must be at least 1"),
        (["--workers", "0"], "--workers", "must be at least 1"),
        (["--scheduler", "notanaddress"], "--scheduler", "cannot reach"),
        (["--out", "{file}"], "--out", "is a file, not a folder"),
        (["--out", "{file}/below"], "--out", "cannot write"),
    ],
    ids=["seed", "replications", "max-visits", "workers", "scheduler", "out-file", "out-under"],
)
def test_cli_flags_out_of_range_are_input_errors(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], flags: list[str], path: str, says: str
) -> None:
    """A flag's value out of range, or an output place that cannot be written, exits 2 with the
    errors document naming the flag — before anything is simulated, not as an internal error
    after it."""
    from simkit.cli import main

    scenario = tmp_path / "small.yaml"
    scenario.write_text(yaml.safe_dump(SMALL))
    afile = tmp_path / "afile"
    afile.write_text("")
    given = [flag.format(file=afile) for flag in flags]
    assert main(["simulate", str(scenario), "--json", "--replications", "1", *given]) == 2
    error = json.loads(capsys.readouterr().out)["errors"][0]
    assert error["path"] == path and says in error["message"] and error["fix"]


def test_cli_flags_are_not_abbreviated(capsys: pytest.CaptureFixture[str]) -> None:
    """`--jso` is not taken for `--json`: it is refused by name."""
    from simkit.cli import main

    assert main(["validate", "x.yaml", "--jso"]) == 2
    assert "--jso" in capsys.readouterr().err


@pytest.mark.slow
@pytest.mark.parametrize("path", example_scenarios(), ids=lambda p: p.name)
def test_every_example_simulates(path: Path) -> None:
    """Every example runs as shipped (fewer replications) with every change applied."""
    scenario = load_scenario(path)
    document = simulate(scenario, replications=2).summary()
    assert document["sla"] and not document["failures"]
    for name in scenario.changes:
        changed = simulate(scenario.apply(name), replications=2).summary()
        assert not changed["failures"], (name, changed["failures"])


def _rows_of_the_span(results: Any) -> dict[str, pa.Table]:
    """Tickets opened before the end of the measured span, with their visits and pauses, the
    ticket ids replaced by their order (tickets opened during the run, e.g. incidents, are
    numbered after the services' own and so differ by the tickets that never opened)."""
    horizon_end = results.measure_spec().horizon_end
    tickets = results.tickets
    opened = tickets["opened_at"].cast(pa.timestamp("us")).to_numpy(zero_copy_only=False)
    kept = tickets.filter(pa.array(opened < horizon_end))

    def key(table: pa.Table) -> pa.ChunkedArray:  # (replication, ticket) as one number
        return pc.add(pc.multiply(table["replication"].cast(pa.int64()), 10**9), table["ticket_id"])

    out = {}
    for name in ("tickets", "visits", "pauses"):
        table = getattr(results, name)
        mine = table.filter(pc.is_in(key(table), key(kept)))
        out[name] = mine.set_column(0, "ticket_id", pc.index_in(key(mine), key(kept)))
    return out


def _assert_drain_end_changes_nothing(
    scenario: Scenario, monkeypatch: pytest.MonkeyPatch, replications: int = 3
) -> None:
    import simkit.engine.support as support

    runs = {}
    for settled in (True, False):
        monkeypatch.setattr(support, "END_WHEN_SETTLED", settled)
        runs[settled] = simulate(scenario, replications=replications, seed=11)
    early, full = runs[True], runs[False]
    assert early.visits.num_rows < full.visits.num_rows  # the drain did end sooner
    assert json.dumps(early.summary(), default=str) == json.dumps(full.summary(), default=str)
    horizon_end = early.measure_spec().horizon_end

    def outages_of_the_span(results: Results) -> pa.Table:
        start = results.outages["start"].cast(pa.timestamp("us")).to_numpy(zero_copy_only=False)
        return results.outages.filter(pa.array(start < horizon_end))

    assert outages_of_the_span(early).equals(outages_of_the_span(full))
    ours, theirs = _rows_of_the_span(early), _rows_of_the_span(full)
    for name, table in ours.items():
        assert table.equals(theirs[name]), (scenario.name, name)


@pytest.mark.parametrize("path", example_scenarios(), ids=lambda p: p.name)
def test_ending_the_drain_when_settled_changes_no_figure(
    path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The drain ends once every ticket opened before the end of the span is settled (and no
    component is down): every figure, every outage and every row of those tickets is what the
    run to the end of the drain gives, for each example and each of its changes."""
    scenario = load_scenario(path)
    for variant in [scenario, *(scenario.apply(name) for name in scenario.changes)]:
        _assert_drain_end_changes_nothing(variant, monkeypatch)


def test_ending_the_drain_waits_for_components_repaired_by_a_team(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Units of a 2-of-3 component repaired through an office-hours team: their incidents are
    tickets opened during the run, and a unit still down holds the run; the figures, the
    outages and the rows of the span are those of the run to the end of the drain."""
    services = {
        "svc": {
            **SMALL["services"]["svc"],  # type: ignore[index]
            "availability": {"target": "99%", "depends_on": ["box"]},
        }
    }
    components = {
        "box": {
            "count": 3,
            "needed": 2,
            "fails": {"exponential": {"mean": "40h"}},
            "repair": {"team": "l2", "priority": "P1"},
            "restore": "30h",  # a unit is back 30 h after its incident is resolved
        }
    }
    for seed in (3, 4):
        scenario = small(services=services, components=components, seed=seed)
        _assert_drain_end_changes_nothing(scenario, monkeypatch, replications=4)


def test_a_model_that_cannot_be_built_is_an_input_error(monkeypatch: pytest.MonkeyPatch) -> None:
    """A value problem met only while the model is built (a calendar asked for a year it does
    not cover) reaches the caller as an InputError naming the scenario, as every other
    problem of a scenario does — never as a bare SpecError."""
    import simkit.runner as runner
    from simkit.errors import SpecError

    def fails(*_: Any) -> Any:
        raise SpecError("business time is needed in the year 2300", "check the dates")

    monkeypatch.setattr(runner, "compile_support", fails)
    scenario = load_scenario(next(p for p in example_scenarios() if "desk" in p.stem))
    with pytest.raises(InputError, match="year 2300") as caught:
        runner.check_size(scenario)
    assert caught.value.problems[0].file == scenario.source


def test_components_that_fail_all_the_time_are_refused_before_the_run() -> None:
    """The size guard counts outage events too: a component failing every minute costs a run
    as much as millions of tickets, and is refused before anything is simulated."""
    from simkit.runner import check_size

    desk = next(p for p in example_scenarios() if "desk" in p.stem)
    text = (
        desk.read_text(encoding="utf-8")
        .replace("fails: {exponential: {mean: 8000h}}", "fails: {exponential: {mean: 1m}}")
        .replace("repair: {lognormal: {mean: 3h, cv: 0.5}}", "repair: {fixed: {value: 1s}}")
        .replace("horizon: 90d ", "horizon: 3650d ")
    )
    assert "mean: 1m" in text and "value: 1s" in text and "3650d" in text
    busy = parse_scenario(text, file="busy.yaml", allow_files=False)
    with pytest.raises(InputError, match="outage events"):
        check_size(busy)  # the run's own tickets are far below the bound
    assert check_size(load_scenario(desk)) < 100_000


def test_a_replication_leaves_nothing_in_memory() -> None:
    """Once a replication's tables are built, its desks, clock and ledger are garbage. Numpy
    arrays take no part in garbage collection: a desk's routes (which name desks) kept in an array
    of objects made every replication's whole run uncollectable, and a long-lived worker grew by
    megabytes a replication."""
    scenario = load_scenario(examples_dir() / "corporate_service_desk.yaml")
    streams = Streams(replication_seeds(1, 1)[0])
    run = SupportRun(compile_support(scenario, streams), streams)
    assert any(len(rules.routes) > 1 for desk in run.desks for rules in desk.rules)
    ledger = weakref.ref(run.floor.ledger)
    records = run.run()
    assert records.visits.num_rows > 1000
    del run
    gc.collect()
    assert ledger() is None


def test_a_replication_kept_while_a_run_starts_is_neither_lost_nor_made_twice() -> None:
    """A replication of a run given up earlier may land in ``finished`` while the same run
    starts again: the run reads ``finished`` once, so the replication is either taken or made —
    never left out of the results."""
    earlier: dict[int, Any] = {}
    simulate(small(), replications=6, finished=earlier)  # replication 2, made "earlier"

    class Landing(dict):  # type: ignore[type-arg]
        """Replication 2 of the run given up lands after the first look into the mapping."""

        looks = 0

        def __contains__(self, key: object) -> bool:
            Landing.looks += 1
            if Landing.looks == 7:
                self[2] = earlier[2]
            return super().__contains__(key)

    kept = Landing({0: earlier[0]})
    again = simulate(small(), replications=6, finished=kept)
    replications = set(again.tickets.column("replication").to_pylist())
    assert replications == set(range(6))
    assert json.dumps(again.summary(), sort_keys=True) == json.dumps(
        simulate(small(), replications=6).summary(), sort_keys=True
    )


@pytest.mark.parametrize(
    ("given", "path"),
    [
        ({"seed": -1}, "seed"),
        ({"seed": 1.5}, "seed"),
        ({"replications": 2.9}, "replications"),
        ({"replications": "two"}, "replications"),
    ],
)
def test_a_seed_or_count_that_is_not_a_whole_number_is_refused(
    given: dict[str, Any], path: str
) -> None:
    """A negative seed made every replication fail and returned an empty run; a fraction was
    cut short silently. Both are refused, naming the argument."""
    with pytest.raises(InputError) as caught:
        simulate(small(), **{"replications": 1, **given})
    assert caught.value.problems[0].path == path


def test_whole_numbers_of_any_kind_are_taken() -> None:
    """numpy integers, whole floats and seeds beyond 64 bits are whole numbers."""
    import numpy as np

    for seed in (np.int64(3), 3.0, 2**70):
        assert simulate(small(), replications=1, seed=seed).seed == int(seed)


def test_a_run_without_a_monday_runs() -> None:
    """A run shorter than a week that touches no Monday (a Friday's half day) used to crash
    laying the weekly rosters over the run."""
    friday = small(start="2027-01-08", horizon="12h", warmup="0h", drain="0h")
    results = simulate(friday, replications=1)
    assert results.succeeded == 1


def test_tables_are_not_written_over_a_file(tmp_path: Path) -> None:
    afile = tmp_path / "afile"
    afile.write_text("")
    with pytest.raises(InputError, match="is a file, not a folder"):
        simulate(small(), replications=1).write(afile)


def test_stream_names_of_different_things_never_collide() -> None:
    """Names may hold "/": a service named "X/customer" must not draw its priorities from the
    stream of service X's customers, nor a priority "P1/2" its handling times from the second
    regime's stream of P1. Names without "/" keep their plain stream (and so their numbers)."""
    assert stream_name("arrivals", "payroll") == "arrivals/payroll"
    assert stream_name("failures", "web", 3) == "failures/web/3"
    pairs = [
        (("mix", "X/customer"), ("mix", "X", "customer")),
        (("handle", "apps", "P1/2"), ("handle", "apps", "P1", 2)),
        (("arrivals", "a\\/b"), ("arrivals", "a/b")),
    ]
    streams = Streams(replication_seeds(1, 1)[0])
    for one, other in pairs:
        assert stream_name(*one) != stream_name(*other)
        assert streams(stream_name(*one)).random() != streams(stream_name(*other)).random()


def test_json_before_the_command_name_is_the_same_flag(capsys: pytest.CaptureFixture[str]) -> None:
    """``simkit --json validate X`` prints the same one JSON document as ``simkit validate X
    --json`` (it was refused as an unrecognised argument)."""
    from simkit.cli import main
    from simkit.resources import examples_dir

    path = str(examples_dir() / "new_service_slr.yaml")
    assert main(["validate", path, "--json"]) == 0
    after = json.loads(capsys.readouterr().out)
    assert main(["--json", "validate", path]) == 0
    assert json.loads(capsys.readouterr().out) == after
    assert main(["--json", "validate"]) == 2  # a missing argument is still an error, in JSON
    assert json.loads(capsys.readouterr().out)["errors"]


def test_app_json_prints_one_document_and_sends_the_server_s_messages_to_stderr(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """``simkit app --json``: stdout holds one JSON document (where to open the workbench);
    the server's own banner goes to stderr."""
    import subprocess
    import sys

    from simkit.cli import main

    calls: list[dict[str, object]] = []

    def fake_call(command: list[str], **kwargs: object) -> int:
        calls.append({"command": command, **kwargs})
        return 0

    monkeypatch.setattr(subprocess, "call", fake_call)
    with open(tmp_path / "stderr.txt", "w") as stderr:
        monkeypatch.setattr(sys, "stderr", stderr)
        assert main(["app", "--json", "--port", "8765"]) == 0
        assert calls[0]["stdout"] is stderr and "8765" in calls[0]["command"]  # type: ignore[operator]
    out = capsys.readouterr().out
    assert json.loads(out) == {"app": {"url": "http://localhost:8765", "port": 8765}}
    import io

    monkeypatch.setattr(sys, "stderr", io.StringIO())  # no file descriptor: dropped, not stdout
    assert main(["app", "--json"]) == 0
    assert calls[1]["stdout"] is subprocess.DEVNULL


def test_the_garbage_collector_pauses_during_a_worker_replication_only(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A replication run for an executor runs with the collector's automatic runs paused, and
    leaves the collector as it found it — after a replication that failed or was stopped too,
    and when two threads of one process run replications at once; one run in the caller's own
    thread is left alone."""
    import simkit.runner as runner
    from simkit.stops import ReplicationStopped

    seen: list[bool] = []
    replicate = runner.run_replication

    def watched(*args: Any, **kwargs: Any) -> Any:
        seen.append(gc.isenabled())
        return replicate(*args, **kwargs)

    def stopped(*args: Any, **kwargs: Any) -> Any:
        raise ReplicationStopped

    shipped = runner._ShippedScenario.of(small())
    was_on = gc.isenabled()
    try:
        gc.enable()
        monkeypatch.setattr(runner, "run_replication", watched)
        assert runner._run_shipped(shipped, 7, 0, 1).failure is None
        assert seen == [False] and gc.isenabled()
        monkeypatch.setattr(runner, "run_replication", stopped)
        with pytest.raises(ReplicationStopped):
            runner._run_shipped(shipped, 7, 0, 1)
        assert gc.isenabled()
        monkeypatch.setattr(runner, "run_replication", watched)
        threads = [
            threading.Thread(target=runner._run_shipped, args=(shipped, 7, k, 4)) for k in range(4)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert seen[1:] == [False] * 4 and gc.isenabled()
        gc.disable()
        runner._run_shipped(shipped, 7, 0, 1)
        assert not gc.isenabled()
        gc.enable()
        seen.clear()
        simulate_support = runner.simulate_support

        def engine(*args: Any, **kwargs: Any) -> Any:
            seen.append(gc.isenabled())
            return simulate_support(*args, **kwargs)

        monkeypatch.setattr(runner, "run_replication", replicate)
        monkeypatch.setattr(runner, "simulate_support", engine)
        simulate(small(replications=1))  # in this thread: not paused
        assert seen == [True]
    finally:
        if was_on:
            gc.enable()
        else:
            gc.disable()
