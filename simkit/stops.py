"""Stopping a run's replications in worker processes once nobody needs them.

A process pool cannot take back a replication it has handed to a worker: given up, a run's
replications already under way run to their end, and the next run waits for them. A front end
that gives runs up often — a user pressing a slider's key again, a run made ahead withdrawn when
the user moves elsewhere — starts its worker processes with :func:`start_worker` and a
:class:`StopBoard`; each run it may give up takes a :class:`RunStop` from the board
(:meth:`StopBoard.run_stop`) and passes it to :func:`simkit.runner.simulate`.

:meth:`RunStop.stop` raises the run's flag on the board, shared memory every worker reads, and
sends the workers ``SIGUSR1``. A worker running a replication of that run stops it at once
(:class:`ReplicationStopped`, raised by the signal handler between two Python instructions); one
that is running another run's replication, or none, goes on. A replication of the run that a
worker takes up later stops before it starts. Without the signal (Windows) only those waiting
are stopped.

A stopped replication is never part of a result: :func:`simkit.runner.simulate` gives the whole
run up (:class:`RunStopped`). The replications that ended before the stop are kept as any
others are (its ``finished`` mapping).

The signal handler stops only a replication of a stopped run, and disarms itself as it does
(a worker marks the run it is on as a replication starts and unmarks it as it ends, however it
ends): a signal that arrives between replications, while a worker waits for its next task or
sends a result, or again while a stopped replication unwinds, does nothing. Each run has its
own number; the board keeps, per slot, the number of the run last stopped there, so stopping
a run never stops another that shares its slot (:data:`SLOTS` runs apart, long over by then).
"""

from __future__ import annotations

import itertools
import multiprocessing
import os
import signal
import threading
from contextlib import suppress
from types import FrameType
from typing import Any

__all__ = ["ReplicationStopped", "RunStop", "RunStopped", "StopBoard", "start_worker"]

SLOTS = 4096
"""Slots of the board: run *n* is stopped when slot ``n % SLOTS`` holds *n*."""
MAX_WORKERS = 256
"""Worker processes a board can signal."""
_SIGNAL = getattr(signal, "SIGUSR1", None)


class ReplicationStopped(BaseException):
    """Raised in a worker to stop a replication of a run that was stopped (:class:`RunStop`).

    A :class:`BaseException`, so that the replication's own error handling, which records an
    exception as a failed replication, lets it through: the replication did not fail."""


class RunStopped(Exception):
    """A run was stopped (:meth:`RunStop.stop`) before all its replications ended."""


class StopBoard:
    """The runs stopped, and the worker processes to tell, in shared memory.

    Made in the process that hands out the runs, before the workers start, and given to each
    worker as it starts (:func:`start_worker`'s argument, which a ``multiprocessing`` context
    passes on only then)."""

    def __init__(self, context: Any | None = None) -> None:
        ctx = context if context is not None else multiprocessing.get_context("spawn")
        # No lock is taken to read: a worker reads the board in its signal handler, which must
        # never wait, and the process that stops runs must not wait for a worker either (an
        # aligned 8-byte number is read and written whole).
        self._stopped: Any = ctx.RawArray("q", SLOTS)
        self._stopped[:] = [-1] * SLOTS
        self._pids: Any = ctx.RawArray("q", MAX_WORKERS)
        self._workers: Any = ctx.RawValue("i", 0)
        self._register_lock: Any = ctx.Lock()
        self._runs = itertools.count()
        self._lock = threading.Lock()

    def __getstate__(self) -> dict[str, Any]:
        # What a worker needs: the shared memory (which only a starting process may receive).
        return {
            "_stopped": self._stopped,
            "_pids": self._pids,
            "_workers": self._workers,
            "_register_lock": self._register_lock,
        }

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._runs = itertools.count()
        self._lock = threading.Lock()

    def run_stop(self) -> RunStop:
        """A new run's :class:`RunStop` (in the process that hands out the runs)."""
        with self._lock:
            run = next(self._runs)
        return RunStop(self, run)

    def stopped(self, run: int) -> bool:
        """Whether the run numbered ``run`` was stopped."""
        return bool(self._stopped[run % SLOTS] == run)

    def _stop(self, run: int) -> None:
        if self.stopped(run):
            return  # stopped already: those signalled then stop, those starting later check
        self._stopped[run % SLOTS] = run
        if _SIGNAL is None:
            return
        registered = set(self._pids[: self._workers.value])
        # Only the live children of this process: a worker that ended may have left its number
        # to an unrelated process, which the signal would end.
        for child in multiprocessing.active_children():
            if child.pid is not None and child.pid in registered:
                with suppress(ProcessLookupError):  # ended meanwhile
                    os.kill(child.pid, _SIGNAL)

    def _register(self, pid: int) -> None:
        with self._register_lock:
            count = self._workers.value
            if count < MAX_WORKERS:
                self._pids[count] = pid  # written before the count that makes it read
                self._workers.value = count + 1


class RunStop:
    """One run's place on a :class:`StopBoard`: :meth:`stop` stops the replications of the run
    running in the workers or waiting for one, from any thread."""

    def __init__(self, board: StopBoard, run: int) -> None:
        self.board = board
        self.run = run

    def stop(self) -> None:
        self.board._stop(self.run)

    @property
    def stopped(self) -> bool:
        return self.board.stopped(self.run)


_board: StopBoard | None = None
"""In a worker: the board it was started with."""
_running: int | None = None
"""In a worker: the run whose replication it is running, if any (and it can be stopped)."""


def start_worker(board: StopBoard | None, niceness: int = 0) -> None:
    """Initialise a worker process (a pool's ``initializer``): read ``board`` and stop on its
    signal, and run ``niceness`` steps below the process that started it (Unix ``nice``)."""
    global _board
    if niceness and hasattr(os, "nice"):
        os.nice(niceness)
    _board = board
    if board is not None and _SIGNAL is not None:
        signal.signal(_SIGNAL, _on_signal)
        board._register(os.getpid())


def _on_signal(signum: int, frame: FrameType | None) -> None:
    global _running
    run = _running
    if run is not None and _board is not None and _board.stopped(run):
        _running = None  # disarmed: one stop per replication, and none outside one
        raise ReplicationStopped


def check_started(run: int | None) -> None:
    """In a worker, as a replication of the run numbered ``run`` starts: mark it as the run
    under way, or stop at once if that run was stopped. Called inside the ``try`` whose
    ``finally`` calls :func:`ended`."""
    global _running
    _running = None
    if run is None or _board is None:
        return
    if _board.stopped(run):
        raise ReplicationStopped
    _running = run
    if _board.stopped(run):  # stopped (and signalled) before it was marked
        _running = None
        raise ReplicationStopped


def ended() -> None:
    """In a worker, as a replication ends (however it ends)."""
    global _running
    _running = None
