"""Worker process pools whose results are not held back by a busy caller.

A replication's result goes back to the caller through one pipe of the process pool, as its
tables (about 1.8 MB for a replication of the baseline example). A pipe holds 64 KiB by
default on Linux, so the caller's thread that receives results reads each one in about thirty
pieces, and needs Python's interpreter lock for each. When another thread of the caller keeps
the lock busy — a server measuring another user's run, drawing their charts — that thread gets
it back only every few milliseconds, and the worker, which cannot write the next piece until
the last is read, waits instead of simulating. With a thread of the caller busy throughout, 20
replications of the baseline on two workers took medians of 3.2–3.7 s here, against 1.7–1.9 s
with the pipe widened to 1 MiB (``make bench``, "while the caller is busy"); with the caller idle,
the pipe's width made no difference that could be measured.

:func:`widen_results_pipe` widens that pipe to what the system allows an unprivileged process
(``/proc/sys/fs/pipe-max-size``, 1 MiB by default). It reaches the pipe through the pool's
private ``_result_queue`` (CPython's :class:`~concurrent.futures.ProcessPoolExecutor`, 3.11 and
later); where that or ``F_SETPIPE_SZ`` is missing (another platform or Python) it leaves the
pool as it is.
"""

from __future__ import annotations

from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from types import ModuleType

fcntl: ModuleType | None
try:
    import fcntl
except ImportError:  # not on this platform: pools are left as they are
    fcntl = None

__all__ = ["DEFAULT_PIPE_BYTES", "results_pipe_size", "widen_results_pipe"]

DEFAULT_PIPE_BYTES = 1 << 20
"""The size asked for when the system's limit cannot be read (Linux's default limit)."""
_PIPE_MAX = Path("/proc/sys/fs/pipe-max-size")
_SET_PIPE_SIZE: int | None = getattr(fcntl, "F_SETPIPE_SZ", None)
_GET_PIPE_SIZE: int | None = getattr(fcntl, "F_GETPIPE_SZ", None)
"""Linux's commands (Python 3.10 and later name them); elsewhere ``None``: nothing is set."""


def _limit() -> int:
    try:
        return int(_PIPE_MAX.read_text(encoding="ascii").strip())
    except (OSError, ValueError):
        return DEFAULT_PIPE_BYTES


def _results_fd(pool: ProcessPoolExecutor) -> int | None:
    """The file descriptor the results are read from (``None`` where the pool has none)."""
    try:
        return int(pool._result_queue._reader.fileno())  # type: ignore[attr-defined]
    except (AttributeError, OSError):
        return None


def results_pipe_size(pool: ProcessPoolExecutor) -> int:
    """Bytes the pipe that brings ``pool``'s results holds (0 where it cannot be read)."""
    fd = _results_fd(pool)
    if fcntl is None or _GET_PIPE_SIZE is None or fd is None:
        return 0
    try:
        return int(fcntl.fcntl(fd, _GET_PIPE_SIZE))
    except OSError:
        return 0


def widen_results_pipe(pool: ProcessPoolExecutor, size: int | None = None) -> int:
    """Set the pipe that brings ``pool``'s results to ``size`` bytes (by default the most the
    system allows an unprivileged process) and return the size it has then, which the system
    rounds up to whole pages; 0 where it cannot be set, and the pool is left as it was. A size
    below the present one narrows the pipe, which cannot be done while it holds more than that
    unread (0 then too)."""
    fd = _results_fd(pool)
    if fcntl is None or _SET_PIPE_SIZE is None or fd is None:
        return 0
    try:
        fcntl.fcntl(fd, _SET_PIPE_SIZE, _limit() if size is None else size)
    except OSError:
        return 0
    return results_pipe_size(pool)
