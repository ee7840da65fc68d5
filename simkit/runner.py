"""Replications, seeds, executors, progress and the :class:`Results` of a run.

One ``SeedSequence(seed)`` per run, spawned per replication; replication *k* gets the same
numbers whatever the executor, worker count or completion order. The function shipped to workers
(:func:`run_replication`) lives here and returns Arrow tables, never simpy objects. A replication
that fails is recorded as data (:attr:`Results.failures`), not raised.
"""

from __future__ import annotations

import gc
import hashlib
import math
import numbers
import pickle
import threading
import traceback
from collections import OrderedDict
from collections.abc import Callable, Iterator, MutableMapping, Sequence
from concurrent.futures import FIRST_COMPLETED, Executor, Future, wait
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from simkit import stops
from simkit.engine.availability import (
    OUTAGES_SCHEMA,
    AvailabilityRun,
    compile_availability,
    expected_events,
    incident_label,
)
from simkit.engine.compile import RunClock, compile_support, expected_visits
from simkit.engine.support import SupportRecords, SupportRun, simulate_support
from simkit.errors import InputError, SpecError
from simkit.measure import summarize_sla, summarize_teams
from simkit.measure.availability import availability_rows
from simkit.scenario import Scenario
from simkit.scenario.targets import availability_targets, measure_spec
from simkit.stops import ReplicationStopped, RunStop, RunStopped
from simkit.streams import Streams, replication_seeds

__all__ = [
    "DEFAULT_MAX_VISITS",
    "Progress",
    "ReplicationFailure",
    "Results",
    "replications_in_flight",
    "run_counts",
    "run_replication",
    "simulate",
    "warm_up",
]

DEFAULT_MAX_VISITS = 5_000_000
Progress = Callable[[int, int], None]
"""Called as ``progress(done, total)`` after each replication finishes."""


@dataclass(frozen=True)
class ReplicationFailure:
    replication: int
    error: str
    detail: str


@dataclass(frozen=True)
class ReplicationOutcome:
    replication: int
    records: SupportRecords | None
    outages: pa.Table | None
    failure: ReplicationFailure | None


def run_replication(
    scenario: Scenario, seed: int, replication: int, replications: int
) -> ReplicationOutcome:
    """One replication of ``scenario``: compile with its streams, simulate, return the tables."""
    try:
        sequence = replication_seeds(seed, replications)[replication]
        streams = Streams(sequence)
        model = compile_support(scenario, streams)
        availability = compile_availability(scenario)
        if availability.empty:
            records = simulate_support(model, streams, replication)
            outages = OUTAGES_SCHEMA.empty_table()
        else:
            run = SupportRun(model, streams, replication)
            outage_run = AvailabilityRun(availability, run, streams)
            records = run.run()
            outages = outage_run.outages(replication)
        return ReplicationOutcome(replication, records, outages, None)
    except Exception as error:  # recorded as data: one bad replication must not lose the run
        return ReplicationOutcome(
            replication,
            None,
            None,
            ReplicationFailure(
                replication, f"{type(error).__name__}: {error}", traceback.format_exc()
            ),
        )


_collector_lock = threading.Lock()
_collector_pauses = 0
_collector_was_on = False


@contextmanager
def _collector_paused() -> Iterator[None]:
    """The garbage collector's automatic runs paused within the block, and restored after the
    last block of any thread in this process ends. Around a replication in a worker: the engine
    makes a container for every event it schedules, so they came every few hundred events,
    about 5% of a replication's time, to free almost nothing (what a replication leaves in
    cycles — its model — is freed at the next collection after it). A replication run in the
    caller's own thread (no executor) is left alone: a server's other threads go on collecting.
    """
    global _collector_pauses, _collector_was_on
    with _collector_lock:
        if _collector_pauses == 0:
            _collector_was_on = gc.isenabled()
            gc.disable()
        _collector_pauses += 1
    try:
        yield
    finally:
        with _collector_lock:
            _collector_pauses -= 1
            if _collector_pauses == 0 and _collector_was_on:
                gc.enable()


def warm_up() -> None:
    """Make a worker process ready for its first replication before there is one to run.

    Unpickling this function imports the engine; an empty table loads what pyarrow loads the
    first time it makes one (pandas, about 0.2 s). A front end submits it once per worker when
    it starts them, so that its first run does not wait for these imports (about 1.5 s).
    """
    OUTAGES_SCHEMA.empty_table()


@dataclass(frozen=True)
class _ShippedScenario:
    """A scenario as it travels to worker processes: pickled once by the runner, unpickled once
    per worker (by its digest), so that every replication a worker runs shares one scenario
    object and the model compiled from it."""

    digest: str
    data: bytes

    @classmethod
    def of(cls, scenario: Scenario) -> _ShippedScenario:
        data = pickle.dumps(scenario, protocol=pickle.HIGHEST_PROTOCOL)
        return cls(hashlib.blake2b(data, digest_size=16).hexdigest(), data)

    def scenario(self) -> Scenario:
        received = _RECEIVED.get(self.digest)
        if received is None:
            received = pickle.loads(self.data)
            _RECEIVED[self.digest] = received
            while len(_RECEIVED) > _RECEIVED_SIZE:
                _RECEIVED.popitem(last=False)
        else:
            _RECEIVED.move_to_end(self.digest)
        return received


_RECEIVED: OrderedDict[str, Scenario] = OrderedDict()
_RECEIVED_SIZE = 8


def _run_shipped(
    shipped: _ShippedScenario,
    seed: int,
    replication: int,
    replications: int,
    run: int | None = None,
) -> ReplicationOutcome:
    """:func:`run_replication` in a worker, on the worker's copy of the scenario; ``run``: the
    run's number on the worker's :class:`~simkit.stops.StopBoard`, if any. The collector pauses
    outside the span in which a stop can be raised (the run is marked in the ``try`` and unmarked
    in its ``finally``), so a stop never leaves it paused."""
    with _collector_paused():
        try:
            stops.check_started(run)
            return run_replication(shipped.scenario(), seed, replication, replications)
        finally:
            stops.ended()


@dataclass
class Results:
    """The tables of a run and the figures over its replications (:meth:`summary`)."""

    scenario: Scenario
    replications: int
    seed: int
    tickets: pa.Table
    visits: pa.Table
    pauses: pa.Table
    team_stats: pa.Table
    outages: pa.Table = field(default_factory=OUTAGES_SCHEMA.empty_table)
    failures: tuple[ReplicationFailure, ...] = ()
    _summary: dict[str, Any] | None = field(default=None, init=False, repr=False)
    _sla_summary: dict[str, Any] | None = field(default=None, init=False, repr=False)
    _measured: list[pa.Table] | None = field(default=None, init=False, repr=False)
    _table_bytes: int | None = field(default=None, init=False, repr=False)
    _measuring_bytes: int | None = field(default=None, init=False, repr=False)

    @property
    def succeeded(self) -> int:
        return self.replications - len(self.failures)

    def measure_spec(self) -> Any:
        clock = RunClock(self.scenario)
        return measure_spec(
            self.scenario,
            start=clock.instant(clock.start),
            horizon_end=clock.instant(clock.horizon_end),
            observed_until=clock.instant(clock.end),
            replications=self.succeeded,
        )

    def _tables(self) -> list[pa.Table]:
        """The tables measured: service tickets, visits, pauses, team statistics, outages, with
        replication ids made contiguous over the successful replications."""
        if self._measured is not None:
            return self._measured
        tables = [
            self.service_tickets(),
            self.visits,
            self.pauses,
            self.team_stats,
            self.outages,
        ]
        if self.failures:
            tables = [_renumber(t, self.failures) for t in tables]
        self._measured = tables
        return tables

    def table_bytes(self) -> int:
        """Bytes of the run's own tables (counted once: they never change). A server that
        keeps runs weighs every run it keeps each time it keeps one more; counting a run's
        twenty replications' buffers anew each time took 2 ms a run."""
        if self._table_bytes is None:
            own = (self.tickets, self.visits, self.pauses, self.team_stats, self.outages)
            self._table_bytes = sum(int(t.nbytes) for t in own)
        return self._table_bytes

    def measuring_bytes(self) -> int:
        """Bytes of the tables made to measure this run that its own tables do not hold (0
        until it is measured): the service tickets, and the renumbered tables where
        replications failed. A server that keeps runs counts them with the run's tables.
        Counted once, when the run has been measured (its measured tables never change)."""
        if self._measured is None:
            return 0
        if self._measuring_bytes is None:
            own = (self.tickets, self.visits, self.pauses, self.team_stats, self.outages)
            made = self._measured
            self._measuring_bytes = sum(
                int(t.nbytes) for t in made if all(t is not mine for mine in own)
            )
        return self._measuring_bytes

    def _header(self) -> dict[str, Any]:
        return {
            "scenario": self.scenario.name,
            "replications": self.succeeded,
            "seed": self.seed,
            "changes": list(self.scenario.applied_changes),
        }

    def _failure_rows(self) -> list[dict[str, Any]]:
        return [{"replication": f.replication, "error": f.error} for f in self.failures]

    def sla_summary(self) -> dict[str, Any]:
        """The SLA part of :meth:`summary` — its ``sla`` and ``periods`` rows with the header
        and ``failures`` — measured without the OLA, team and availability figures, so that a
        page can show the SLA table first. :meth:`summary` reuses it."""
        if self._sla_summary is None:
            figures: dict[str, Any] = {"sla": [], "periods": []}
            if self.succeeded:
                tickets, _, pauses, _, _ = self._tables()
                figures = summarize_sla(tickets, pauses, self.measure_spec())
            self._sla_summary = {
                **self._header(),
                "sla": figures["sla"],
                "periods": figures["periods"],
                "failures": self._failure_rows(),
            }
        return self._sla_summary

    def summary(self) -> dict[str, Any]:
        """The document ``simkit simulate --json`` prints (DESIGN.md's contract)."""
        if self._summary is None:
            sla = self.sla_summary()
            figures: dict[str, Any] = {"ola": [], "teams": []}
            availability: list[dict[str, Any]] = []
            if self.succeeded:
                tickets, visits, _, team_stats, outages = self._tables()
                spec = self.measure_spec()
                figures = summarize_teams(tickets, visits, team_stats, spec)
                targets = availability_targets(self.scenario)
                if targets:
                    availability = availability_rows(outages, targets, spec)
            self._summary = {
                **self._header(),
                "sla": sla["sla"],
                "ola": figures["ola"],
                "teams": figures["teams"],
                "periods": sla["periods"],
                "availability": availability,
                "failures": sla["failures"],
            }
        return self._summary

    def service_tickets(self) -> pa.Table:
        """The tickets of the services: without the repair incidents of components, which load
        the teams and count in their OLAs but not in any service's SLA."""
        if self.tickets.num_rows == 0 or not self.scenario.components:
            return self.tickets
        labels = pa.array([incident_label(name) for name in self.scenario.components])
        column = self.tickets.schema.get_field_index("service")
        kept: list[pa.RecordBatch] = []
        for batch in self.tickets.to_batches():
            incident = pc.is_in(batch.column(column), value_set=labels)
            mask = np.asarray(incident.to_numpy(zero_copy_only=False), dtype=bool)
            first = int(mask.argmax()) if mask.any() else len(mask)
            if mask[first:].all():
                # Incidents open during the run, after the replication's own tickets: they end
                # its rows, and the rows before them are kept without a copy.
                kept.append(batch.slice(0, first))
            else:
                kept.append(batch.filter(pa.array(~mask)))
        return pa.Table.from_batches(kept, schema=self.tickets.schema)

    def write(self, folder: str | Path) -> list[Path]:
        """Write the tables as Parquet files into ``folder`` (made if needed).

        Raises
        ------
        InputError
            When ``folder`` is a file.
        """
        out = Path(folder)
        if out.exists() and not out.is_dir():
            raise InputError.single(
                f"{out} is a file, not a folder", "name a folder for the tables, e.g. results/"
            )
        out.mkdir(parents=True, exist_ok=True)
        written = []
        for name, table in (
            ("tickets", self.tickets),
            ("visits", self.visits),
            ("pauses", self.pauses),
            ("outages", self.outages),
        ):
            path = out / f"{name}.parquet"
            pq.write_table(table, path)
            written.append(path)
        return written


def _renumber(table: pa.Table, failures: Sequence[ReplicationFailure]) -> pa.Table:
    """Replication ids made contiguous over the successful replications, for measurement."""
    if table is None or "replication" not in table.column_names:
        return table
    failed = np.array(sorted(f.replication for f in failures))
    ids = table.column("replication").to_numpy()
    new = ids - np.searchsorted(failed, ids, side="left")
    index = table.column_names.index("replication")
    return table.set_column(index, "replication", pa.array(new.astype(np.int32)))


def _whole(value: object, name: str, example: int) -> int:
    """``value`` as a whole number, or an :class:`InputError` naming ``name``: a fraction is
    refused rather than cut short (``replications=2.9`` is not 2)."""
    whole: int | None = None
    if isinstance(value, numbers.Real) and not isinstance(value, bool):
        number = float(value) if not isinstance(value, numbers.Integral) else None
        if number is None:
            whole = int(value)  # type: ignore[call-overload]  # an Integral: int, numpy ints
        elif math.isfinite(number) and number == int(number):
            whole = int(number)
    if whole is None:
        raise InputError.single(
            f"{name} must be a whole number, got {value!r}", f"e.g. {name}={example}", path=name
        )
    return whole


def run_counts(scenario: Scenario, replications: object, seed: object) -> tuple[int, int]:
    """The replications and seed of a run (the scenario's where ``None``), checked as every
    analysis needs them: whole numbers, at least one replication, a seed of 0 or more.

    Raises
    ------
    InputError
        Naming the argument that is not such a number.
    """
    n = scenario.replications if replications is None else _whole(replications, "replications", 20)
    if n < 1:
        raise InputError.single(
            "replications must be at least 1", "e.g. --replications 20", path="replications"
        )
    s = scenario.seed if seed is None else _whole(seed, "seed", 42)
    if s < 0:
        raise InputError.single(
            f"seed must be 0 or more, got {s}", "e.g. seed=42 (any whole number ≥ 0)", path="seed"
        )
    return n, s


def check_size(
    scenario: Scenario,
    max_visits: int = DEFAULT_MAX_VISITS,
    *,
    raise_bound: str = "raise the bound with --max-visits N",
) -> float:
    """Refuse a scenario expecting more than ``max_visits`` visits per replication (ticket
    visits, and the outage events of its components, which cost a run about as much);
    ``raise_bound`` ends the fix (how to run it all the same, where the caller has a way)."""

    def estimate_size() -> float:
        support = compile_support(scenario, Streams(replication_seeds(scenario.seed, 1)[0]))
        availability = compile_availability(scenario)
        events = 0.0 if availability.empty else expected_events(availability)
        return expected_visits(support) + events

    try:
        estimate = scenario.derived("expected_visits", estimate_size)
    except SpecError as error:  # e.g. a calendar asked for a year it does not cover
        raise InputError.single(
            error.message, error.fix, file=scenario.source, path="horizon"
        ) from None
    if not math.isfinite(estimate) or estimate > max_visits:
        shown = (
            "an unbounded number of" if not math.isfinite(estimate) else f"about {estimate:,.0f}"
        )
        raise InputError.single(
            f"this scenario expects {shown} visits per replication (ticket visits and outage "
            f"events), more than the limit of {max_visits:,}",
            f"shorten the horizon, lower the volume or make failures rarer, or {raise_bound}",
            file=scenario.source,
            path="horizon",
        )
    return estimate


_IN_FLIGHT: ContextVar[int | None] = ContextVar("simkit_replications_in_flight", default=None)


@contextmanager
def replications_in_flight(limit: int | None) -> Iterator[None]:
    """Within the block, every :func:`simulate` in this thread (or task) not given ``in_flight``
    hands an executor at most ``limit`` replications at once. For a caller whose runs happen
    inside analyses that take an executor but no such setting (targets, optimiser, brief,
    back-test) — a front end that may give up on them part way."""
    token = _IN_FLIGHT.set(limit)
    try:
        yield
    finally:
        _IN_FLIGHT.reset(token)


def simulate(
    scenario: Scenario,
    *,
    replications: int | None = None,
    seed: int | None = None,
    executor: Executor | None = None,
    progress: Progress | None = None,
    max_visits: int = DEFAULT_MAX_VISITS,
    in_flight: int | None = None,
    finished: MutableMapping[int, ReplicationOutcome] | None = None,
    stop: RunStop | None = None,
) -> Results:
    """Run ``scenario``'s replications (serially, or on any ``concurrent.futures.Executor``)
    and return the tables and figures. Same seed → same numbers whatever the executor.

    ``in_flight`` bounds the replications handed to the executor at once (``None``: the bound
    set by :func:`replications_in_flight`, if any, else all of them at the start). A process
    pool cannot take back a replication it has handed to a worker, so a run given up part way (a
    progress callback raising) leaves at most ``in_flight`` behind; one more than the workers
    keeps every worker busy.

    ``finished`` keeps a run's replications across calls: replications already in it are not
    made again, and each one made without failure is added as it finishes — also one still
    running when a run is given up, unless ``stop`` stops it (one still running when the run is
    asked for again is made again). A caller that may give up a run and ask for it again passes
    the same mapping both times, for the same scenario, replications and seed only (replication
    *k* is the same whoever made it).

    ``stop`` (on an executor whose workers were started with its board,
    :func:`simkit.stops.start_worker`) stops the replications under way as soon as the run is
    given up (at their next Python instruction), rather than when they end; anyone may give the
    run up with ``stop.stop()``, and it then raises :class:`~simkit.stops.RunStopped` (unless
    every replication had ended by then). Without an executor ``stop`` is not read: the
    replications run in the caller's thread, which gives the run up itself."""
    n, s = run_counts(scenario, replications, seed)
    check_size(scenario, max_visits)
    made = finished if finished is not None else {}
    # One reading of what is made: replications from a run given up earlier may still be added
    # to it meanwhile, and each must land either among those taken or among those to make.
    have = {k: outcome for k, outcome in dict(made).items() if 0 <= k < n}
    outcomes = list(have.values())
    to_make = [k for k in range(n) if k not in have]
    if executor is None:
        for k in to_make:
            outcome = run_replication(scenario, s, k, n)
            if outcome.failure is None:
                made[k] = outcome
            outcomes.append(outcome)
            if progress is not None:
                progress(len(outcomes), n)
    else:
        shipped = _ShippedScenario.of(scenario)
        waiting = iter(to_make)
        running: set[Future[ReplicationOutcome]] = set()
        window = in_flight if in_flight is not None else _IN_FLIGHT.get()

        def keep(future: Future[ReplicationOutcome]) -> None:
            # a failure is not kept: made again, it may not fail (it is recorded in this run)
            if not future.cancelled() and future.exception() is None:
                outcome = future.result()
                if outcome.failure is None:
                    made[outcome.replication] = outcome

        def submit_next() -> None:
            k = next(waiting, None)
            if k is not None:
                run = None if stop is None else stop.run
                future = executor.submit(_run_shipped, shipped, s, k, n, run)
                if finished is not None:  # kept even if the caller gives up before it ends
                    future.add_done_callback(keep)
                running.add(future)

        try:
            for _ in range(n if window is None else max(1, window)):
                submit_next()
            while running:
                ended, _ = wait(running, return_when=FIRST_COMPLETED)
                for future in ended:
                    running.discard(future)
                    if isinstance(future.exception(), ReplicationStopped):
                        raise RunStopped(f"the run of {scenario.name!r} was stopped")
                    outcomes.append(future.result())
                    if progress is not None:  # first: a caller giving up now saves one more
                        progress(len(outcomes), n)
                    submit_next()
        except BaseException:
            # The caller gave up (a progress callback raised, as a page does when its user
            # moves on, or the run was interrupted): replications not yet started are
            # withdrawn, so that the workers are free for whatever comes next.
            for future in running:
                future.cancel()
            if stop is not None:  # and those under way stop now
                stop.stop()
            raise
    outcomes.sort(key=lambda o: o.replication)
    records = [o.records for o in outcomes if o.records is not None]
    failures = tuple(o.failure for o in outcomes if o.failure is not None)

    def concat(name: str) -> pa.Table:
        tables = [getattr(r, name) for r in records]
        if not tables:
            return pa.table({})
        return pa.concat_tables(tables)

    outages = [o.outages for o in outcomes if o.outages is not None]
    return Results(
        scenario=scenario,
        outages=pa.concat_tables(outages) if outages else OUTAGES_SCHEMA.empty_table(),
        replications=n,
        seed=s,
        tickets=concat("tickets"),
        visits=concat("visits"),
        pauses=concat("pauses"),
        team_stats=concat("team_stats"),
        failures=failures,
    )
