"""Shared helpers of the app pages: the session's scenario, the run cache, messages, downloads.

Per session (``st.session_state``): the chosen example or the uploaded scenario and the slider
values. Across sessions only content-keyed results: a run is cached under the hash of its
scenario's YAML, replications and seed (:func:`simkit.app_model.run_key`), so the same
scenario gives the same numbers to everyone and no session can reach another's upload. Nothing
a user sends is unpickled or evaluated: uploads are parsed as YAML text with file references
refused (``allow_files=False``).
"""

from __future__ import annotations

import hashlib
import os
import tempfile
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterator, Sequence
from concurrent.futures import Executor, ProcessPoolExecutor
from contextlib import contextmanager, suppress
from contextvars import ContextVar
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import streamlit as st
from streamlit.errors import StreamlitAPIException
from streamlit.runtime.scriptrunner_utils.script_requests import ScriptRequestType
from streamlit.runtime.scriptrunner_utils.script_run_context import (
    get_run_yield_check,
    get_script_run_ctx,
)

from simkit.app_model import DEFAULT_REPLICATIONS, MAX_REPLICATIONS, run_key, simulate_run
from simkit.errors import InputError
from simkit.pools import widen_results_pipe
from simkit.resources import example_scenarios
from simkit.runner import ReplicationOutcome, Results, replications_in_flight, warm_up
from simkit.scenario import Scenario, load_scenario, parse_scenario
from simkit.scenario.models import MAX_SEED
from simkit.stops import RunStop, StopBoard, start_worker

MAX_UPLOAD_BYTES = 1_000_000
"""Largest scenario upload accepted (the uploader's own limit is 1 MB too)."""
RUN_ENTRIES = 16
"""Simulation runs (their tables: tens of MB each) kept in memory for every session to reuse,
with room for the runs made ahead (:class:`Anticipator`)."""
RUN_BYTES = 1 << 30
"""Most bytes of run tables kept (:func:`run_bytes`, with the tables made to measure them):
fewer runs are kept where they are large."""
MEASURED_BYTES = 256 << 20
"""Most bytes of tables made to measure runs against edited targets (:func:`measuring_bytes`)."""
FIGURE_ENTRIES = 64
"""Derived documents and chart rows (small) kept likewise."""
PROGRESS_EVERY_S = 1.0
"""Seconds between two updates of a progress bar. The bar shows at once; a run of the baseline
(about a second) then ends before its first update. Each update costs the browser a redraw of
the page, processor time the workers need when they share its cores."""
WAIT_POLL_S = 0.05
"""While a page waits for a run someone else is making (a run made ahead, or another session's
run of the same scenario), how often it checks whether its user has moved on."""
QUIET_MOTION_CSS = """
.stElementContainer[data-stale="true"], [data-testid="stTabs"] [role="tablist"] {
  transition-duration: 0s !important;
}
[data-testid="stProgressBarTrack"] > div { transition: none !important; }
"""
"""Figures being recomputed dim in one step, after the same half-second delay, rather than
fading over a second, and the progress bar jumps rather than gliding. Those transitions last
about as long as a run, and the browser drew them frame by frame: about 0.17 s of compositing
and as much again of page work per slider move (chromium on two cores, docs/app.md)."""

T = TypeVar("T")


# -- the session's scenario -----------------------------------------------------------------------


@st.cache_resource(show_spinner=False)
def _example(path: str) -> Scenario:
    return load_scenario(path)


def _examples() -> dict[str, str]:
    return {p.stem.replace("_", " "): str(p) for p in example_scenarios()}


def read_upload(name: str, data: bytes) -> Scenario:
    """An uploaded scenario, parsed as YAML text; any file it names is refused.

    Raises
    ------
    InputError
        For an over-size, non-UTF-8, malformed or invalid scenario, or one naming a file.
    """
    if len(data) > MAX_UPLOAD_BYTES:
        raise InputError.single(
            f"{name} is {len(data):,} bytes; a scenario upload may have at most "
            f"{MAX_UPLOAD_BYTES:,}",
            "a scenario is a short YAML file — check that this is the right file",
            file=name,
        )
    scenario = parse_scenario(data, file=name, allow_files=False)
    if scenario.seed > MAX_SEED:
        raise InputError.single(
            f"seed {scenario.seed} is larger than a browser's number field keeps exactly "
            f"({MAX_SEED})",
            f"choose a seed from 0 to {MAX_SEED}, or run this scenario with `simkit simulate`",
            file=name,
            path="seed",
        )
    return scenario


CALIBRATED = "calibrated from history"


def use_calibrated(scenario: Scenario) -> None:
    """Make a calibrated scenario this session's scenario (a button's callback)."""
    st.session_state["calibrated_scenario"] = scenario
    st.session_state["example_choice"] = CALIBRATED


UPLOADED = "uploaded: "
"""The picker's label of an uploaded scenario starts with this."""


def scenario_picker() -> None:
    """Sidebar: a bundled example, the scenario calibrated on the Calibrate page, or an
    uploaded scenario; the choice is this session's only.

    The latest choice wins: a new upload is picked as it arrives, and stays in the list while
    the file is in the uploader, so that picking an example (or *Use as the session's scenario*
    on the Calibrate page) never leaves an upload silently in force, and the upload can be
    picked again."""
    examples: dict[str, str | None] = dict(_examples())
    calibrated: Scenario | None = st.session_state.get("calibrated_scenario")
    if calibrated is not None:
        examples[CALIBRATED] = None
    options = list(examples)
    pending = st.session_state.get("upload")  # the uploader's file, as the browser last sent it
    uploaded: str | None = None
    if pending is not None:
        uploaded = f"{UPLOADED}{pending.name}"
        options.append(uploaded)
        arrived = (pending.name, pending.file_id)
        if st.session_state.get("upload_arrived") != arrived:
            st.session_state["upload_arrived"] = arrived
            before = st.session_state.get("example_choice")
            if before in examples:  # to go back to once the upload is removed
                st.session_state["choice_before_upload"] = before
            st.session_state["example_choice"] = uploaded
    if st.session_state.get("example_choice") not in options:
        before = st.session_state.get("choice_before_upload")
        st.session_state["example_choice"] = before if before in options else options[0]
    with st.sidebar:
        st.header("Scenario")
        choice = st.selectbox("Start from", options, key="example_choice")
        upload = st.file_uploader(
            "…or upload a scenario (YAML)",
            type=["yaml", "yml"],
            key="upload",
            max_upload_size=1,
            help="Uploaded scenarios may not name files (profiles or empirical values in CSV); "
            "write the values into the scenario instead.",
        )
    st.session_state["scenario_error"] = None
    if upload is not None and choice == uploaded:
        # Read once per upload, not on every rerun of the page: a large scenario takes seconds.
        data = upload.getvalue()
        identity = (upload.name, hashlib.blake2b(data, digest_size=16).hexdigest())
        read = st.session_state.get("upload_read")
        if read is None or read[0] != identity:
            try:
                read = (identity, read_upload(upload.name, data), None)
            except InputError as error:
                read = (identity, None, error)
            st.session_state["upload_read"] = read
        _, scenario, error = read
        if error is not None:
            st.session_state["scenario_error"] = (upload.name, error)
            st.session_state["scenario"] = None
        else:
            st.session_state["scenario"] = scenario
            st.session_state["scenario_origin"] = f"uploaded: {upload.name}"
        return
    path = examples.get(choice)
    if path is None and calibrated is not None:
        st.session_state["scenario"] = calibrated
        st.session_state["scenario_origin"] = CALIBRATED
        return
    st.session_state["scenario"] = _example(path or next(iter(_examples().values())))
    st.session_state["scenario_origin"] = f"example: {choice}"


def show_problems(error: InputError, title: str) -> None:
    """Every problem of ``error`` as one message in the page (never a traceback)."""
    lines = [f"**{title}**", ""]
    for problem in error.problems:
        where = f"`{problem.path}`: " if problem.path else ""
        line = f" (line {problem.line})" if problem.line else ""
        fix = f" — *fix:* {problem.fix}" if problem.fix else ""
        lines.append(f"- {where}{problem.message}{line}{fix}")
    st.error("\n".join(lines))


def no_tickets_notice(results: Results, consequence: str) -> str | None:
    """What to say when no service has a ticket (every service's volume 0 per week, so no ticket
    arrives), ``consequence`` saying what that leaves on the page; ``None`` when tickets arrived
    (or when every replication failed: that is said elsewhere). Repair incidents of components
    may still load the teams; they count in no service's SLA."""
    services = results.scenario.services.values()
    if results.succeeded == 0 or any(s.demand.per_week > 0 for s in services):
        return None
    backlog = sum(g.tickets for g in results.scenario.backlog) * results.succeeded
    if results.service_tickets().num_rows > backlog:
        return None  # a change in a window brings tickets
    worked = (
        " The backlog's tickets are worked, but their SLA is not measured (they opened before "
        "the run)."
        if backlog
        else ""
    )
    return (
        "**No tickets arrive in this scenario:** every service's volume is 0 per week "
        f"(`demand: {{per_week: 0}}`), so no service has a ticket to measure.{worked} "
        f"{consequence} "
        "Give at least one service a volume above 0 in the scenario and upload it again (the "
        "volume slider scales the scenario's volumes, so it cannot lift them from 0), or pick "
        "an example."
    )


def current_scenario() -> Scenario | None:
    """The session's scenario, or ``None`` after showing why there is none."""
    error = st.session_state.get("scenario_error")
    if error:
        name, problems = error
        show_problems(problems, f"The uploaded scenario {name} cannot be used:")
        st.info("Fix the file and upload it again, or remove it to go back to the examples.")
        return None
    scenario: Scenario | None = st.session_state.get("scenario")
    return scenario


def scenario_id(scenario: Scenario) -> str:
    """A short id of the scenario's content, to keep widget values per scenario."""
    return hashlib.sha256(scenario.to_yaml().encode("utf-8")).hexdigest()[:10]


def controls_id(scenario: Scenario) -> str:
    """The id under which a page keeps its controls' values for ``scenario``, the page's
    working scenario: the id of the session's scenario as chosen, so that a what-if change
    on the Scenario page does not reset the other pages' controls."""
    chosen: Scenario | None = st.session_state.get("scenario")
    return scenario_id(chosen if chosen is not None else scenario)


def _edits() -> dict[str, tuple[Scenario | None, dict[str, Any], str | None]]:
    """The Scenario page's what-if per scenario (by :func:`scenario_id`): the edited scenario
    and its patch, or ``None`` and the reason where the sliders make no valid scenario."""
    edits: dict[str, tuple[Scenario | None, dict[str, Any], str | None]]
    edits = st.session_state.setdefault("edited_scenarios", {})
    return edits


def options_key(base: str, options: Sequence[str]) -> str:
    """A widget key for a choice among ``options`` that starts again from its default when the
    options change (another scenario's targets): a kept choice of names the new options lack
    would otherwise leave nothing chosen."""
    digest = hashlib.sha256("\n".join(options).encode("utf-8")).hexdigest()[:10]
    return f"{base}:{digest}"


def remember_edit(scenario: Scenario, edited: Scenario, patch: dict[str, Any]) -> None:
    """Keep the Scenario page's what-if on ``scenario`` for the other pages of this session."""
    if patch:
        _edits()[scenario_id(scenario)] = (edited, patch, None)
    else:
        _edits().pop(scenario_id(scenario), None)


def remember_invalid_edit(scenario: Scenario, error: InputError) -> None:
    """The Scenario page's sliders make no valid scenario: the other pages say so, and use the
    scenario as chosen rather than an earlier position."""
    first = error.problems[0] if error.problems else None
    reason = f"{first.path}: {first.message}" if first is not None else str(error)
    _edits()[scenario_id(scenario)] = (None, {}, reason)


def working_scenario() -> Scenario | None:
    """The session's scenario for an analysis page: as chosen, or with the Scenario page's
    what-if changes when the user keeps them (a toggle, shown when there are any)."""
    scenario = current_scenario()
    if scenario is None:
        return None
    edit = _edits().get(scenario_id(scenario))
    origin = st.session_state.get("scenario_origin")
    if edit is not None and edit[0] is None:
        st.warning(
            f"The what-if changes on the Scenario page make no valid scenario ({edit[2]}): "
            "this page uses the scenario as chosen. Fix them there to use them here."
        )
        edit = None
    if edit is None:
        st.caption(f"Scenario: **{scenario.name}** ({origin})")
        return scenario
    edited, patch, _ = edit
    key = "use_what_if"
    use = st.toggle(
        "Use the what-if changes made on the Scenario page",
        key=kept(key, True),
        help="The merge patch: " + ", ".join(_leaves(patch)),
    )
    remember(key, use)
    st.caption(
        f"Scenario: **{scenario.name}** ({origin})" + (" with the what-if changes" if use else "")
    )
    return edited if use else scenario


def _leaves(patch: Any, prefix: str = "") -> list[str]:
    if not isinstance(patch, dict):
        return [f"{prefix} = {patch}"]
    out: list[str] = []
    for key, value in patch.items():
        out += _leaves(value, f"{prefix}.{key}" if prefix else str(key))
    return out


def default_replications() -> int:
    """Replications of a run until the user changes them: ``SIMKIT_APP_REPLICATIONS`` or
    :data:`simkit.app_model.DEFAULT_REPLICATIONS`."""
    setting = os.environ.get("SIMKIT_APP_REPLICATIONS", "")
    if setting.isdecimal() and 2 <= int(setting) <= MAX_REPLICATIONS:
        return int(setting)
    return DEFAULT_REPLICATIONS


def replications_control(prefix: str, scenario: Scenario) -> tuple[int, int]:
    """Replications and seed inputs for a page's runs (kept per scenario)."""
    left, right = st.columns(2)
    key = f"{prefix}:replications"
    replications = left.number_input(
        "Replications",
        min_value=2,
        max_value=MAX_REPLICATIONS,
        key=kept(key, default_replications()),
        help="More replications give narrower intervals and take longer.",
    )
    remember(key, replications)
    key = f"{prefix}:seed"
    seed = right.number_input(
        "Seed", min_value=0, max_value=MAX_SEED, key=kept(key, int(scenario.seed))
    )
    remember(key, seed)
    return int(replications), int(seed)


def table_height(rows: int, limit: int = 20) -> int:
    """Pixels for a table showing every row (up to ``limit``) without scrolling."""
    return 35 * (min(rows, limit) + 1) + 3


@dataclass(frozen=True)
class KeptUpload:
    """An uploaded file as a page keeps it for the session: a file uploader forgets its file
    when its page is not shown, and cannot be given it back."""

    name: str
    data: bytes = field(repr=False)
    digest: str
    file_id: str


def kept_upload(upload: Any, key: str, limit: int, forget: Callable[[], None]) -> KeptUpload | None:
    """The file to read: the uploader's ``upload``, kept under ``key`` for the session
    (replacing one kept before) when it is at most ``limit`` bytes; or, when the uploader is
    empty, the one kept. A file over the limit is returned, to be refused when read, and
    ``forget()`` drops the one kept before (the new upload replaces it all the same)."""
    if upload is None:
        kept_file: KeptUpload | None = st.session_state.get(key)
        return kept_file
    known = st.session_state.get(key)
    if known is not None and (known.file_id, known.name) == (upload.file_id, upload.name):
        return known  # type: ignore[no-any-return]
    data = upload.getvalue()
    chosen = KeptUpload(upload.name, data, hashlib.sha256(data).hexdigest(), upload.file_id)
    if len(data) <= limit:
        st.session_state[key] = chosen
    else:
        forget()
    return chosen


@contextmanager
def private_copy(data: bytes, name: str, known: Sequence[str], stem: str) -> Iterator[Path]:
    """The bytes of the upload ``name`` written to a private temporary folder, removed when the
    block ends: the file is ``<stem><suffixes>``, with the upload's last two suffixes where they
    are ``known`` ones (``.csv.gz``; ``.csv`` otherwise) — the upload's own name is never used
    on the server. The folder's path starts the yielded file's (for :func:`shortened` problem
    files)."""
    suffixes = [s.lower() for s in Path(name).suffixes if s.lower() in known]
    with tempfile.TemporaryDirectory(prefix=f"simkit-{stem}-") as folder:
        path = Path(folder) / f"{stem}{''.join(suffixes[-2:]) or '.csv'}"
        path.write_bytes(data)
        yield path


MAX_MESSAGE = 600
"""Longest problem message a page shows (messages may quote what was uploaded or typed)."""


def shortened(message: str) -> str:
    """``message`` cut to :data:`MAX_MESSAGE` characters, saying so."""
    if len(message) <= MAX_MESSAGE:
        return message
    return message[:MAX_MESSAGE] + f"… ({len(message):,} characters, shortened)"


def kept(key: str, default: Any) -> str:
    """A widget key whose value survives page switches: the last value is restored when the
    widget is drawn again. Use as ``st.slider(..., key=kept(key, default))``."""
    store: dict[str, Any] = st.session_state.setdefault("kept_values", {})
    if key not in st.session_state:
        st.session_state[key] = store.get(key, default)
    store[key] = st.session_state[key]
    return key


def kept_default(key: str, default: Any) -> Any:
    """The value to draw a kept widget with, passed as the widget's own default (``value=``,
    ``index=`` or ``default=``, with ``key=key``) rather than set in the session as
    :func:`kept` does: for a widget in a tab of ``st.tabs`` that may not be open. The browser
    builds such a widget only when its tab is opened, and then from the widget's own default,
    not from a value the session set meanwhile: after a run that stopped before the tabs (a
    read error fixed), a back-test's 7 replications came back as 2, the input's minimum, and
    were sent back so. While the widget lives, the user's value stands as usual."""
    store: dict[str, Any] = st.session_state.setdefault("kept_values", {})
    if key in st.session_state:
        store[key] = st.session_state[key]
    return store.get(key, default)


def remember(key: str, value: Any) -> None:
    """Record a widget's value for :func:`kept` (after the widget is drawn)."""
    st.session_state.setdefault("kept_values", {})[key] = value


def kept_widget(shown: bool | None, key: str, default: T, draw: Callable[[str], T]) -> T:
    """A kept widget's value: the widget is drawn (``draw(key)``, see :func:`kept`) unless
    ``shown`` is ``False`` — its tab is closed, so nothing is drawn there — and then its last
    value (``default`` before it was ever drawn) stands."""
    if shown is False:
        value: T = st.session_state.get("kept_values", {}).get(key, default)
        return value
    value = draw(kept(key, default))
    remember(key, value)
    return value


# -- content-keyed results shared by every session --------------------------------------------------


class ResultCache:
    """A small least-recently-used cache keyed by content, safe across sessions' threads.

    Values are kept as the objects they are (never pickled); the same key computed by two
    sessions at once is computed once. A key's lock lives while someone holds or waits for it:
    a computation that fails leaves it to the next in line, who computes again. It keeps at most
    ``entries`` values and, given ``weigh`` (a value's size in bytes), at most ``budget`` bytes
    of them — always the value stored last. Values are weighed again whenever one is stored, so
    a value that grew since (a run measured after it was kept) counts as it is now.
    """

    def __init__(
        self,
        entries: int,
        on_evict: Callable[[Hashable], None] | None = None,
        *,
        weigh: Callable[[Any], int] | None = None,
        budget: int | None = None,
    ) -> None:
        self.entries = entries
        self.on_evict = on_evict
        """Called with each key dropped to make room (outside the cache's lock)."""
        self.weigh = weigh
        self.budget = budget
        self._weights: dict[Hashable, int] = {}
        self.weight = 0
        """Bytes held, as ``weigh`` counts them."""
        self._values: OrderedDict[Hashable, Any] = OrderedDict()
        self._lock = threading.Lock()
        self._key_locks: dict[Hashable, tuple[threading.Lock, list[int]]] = {}
        """Key -> its lock and how many hold or wait for it."""

    def get(self, key: Hashable) -> Any | None:
        with self._lock:
            if key in self._values:
                self._values.move_to_end(key)
                return self._values[key]
        return None

    def discard(self, drop: Callable[[Hashable], bool]) -> None:
        """Drop every entry whose key ``drop`` picks."""
        with self._lock:
            for key in [k for k in self._values if drop(k)]:
                del self._values[key]
                self.weight -= self._weights.pop(key, 0)

    def holds(self, key: Hashable) -> bool:
        """Whether ``key`` is cached, without counting as a use of it."""
        with self._lock:
            return key in self._values

    def get_or_compute(
        self,
        key: Hashable,
        compute: Callable[[], T],
        *,
        waiting: Callable[[], None] | None = None,
    ) -> T:
        """The value under ``key``, computed now if it is not cached. While someone else
        computes it, ``waiting()`` is called every :data:`WAIT_POLL_S`: it may raise to stop
        waiting (the computation goes on and its value is kept)."""
        with self._lock:
            lock, users = self._key_locks.setdefault(key, (threading.Lock(), [0]))
            users[0] += 1
        try:
            if waiting is not None:
                while not lock.acquire(timeout=WAIT_POLL_S):
                    waiting()
            else:
                lock.acquire()
            try:
                hit = self.get(key)
                if hit is not None:
                    return hit  # type: ignore[no-any-return]
                value = compute()
                with self._lock:
                    self._values[key] = value
                    self._values.move_to_end(key)
                    if self.weigh is not None:
                        # Every value weighed anew: a run grows once it is measured.
                        self._weights = {k: self.weigh(v) for k, v in self._values.items()}
                        self.weight = sum(self._weights.values())
                    evicted = []
                    while len(self._values) > self.entries or (
                        self.budget is not None
                        and self.weight > self.budget
                        and len(self._values) > 1
                    ):
                        old = self._values.popitem(last=False)[0]
                        self.weight -= self._weights.pop(old, 0)
                        evicted.append(old)
                for old in evicted:
                    if self.on_evict is not None:
                        self.on_evict(old)
                return value
            finally:
                lock.release()
        finally:
            with self._lock:
                users[0] -= 1
                if not users[0]:
                    del self._key_locks[key]


class Withdrawn(Exception):
    """An anticipated run given up: a user's own computation needs the workers."""


AHEAD_STOP: ContextVar[RunStop | None] = ContextVar("AHEAD_STOP", default=None)
"""In the :class:`Anticipator`'s thread, while it makes a run: the run's :class:`RunStop`, with
which it stops the run's replications under way when it withdraws the run."""


@dataclass(frozen=True, eq=False)
class Job:
    """A run worth making before anyone asks for it (:class:`Anticipator`).

    ``run(progress)`` makes the value kept in the runs cache under ``key``; ``progress`` raises
    :class:`Withdrawn` once the job is withdrawn (a run passes it to
    :func:`simkit.runner.simulate`, which then withdraws the replications not yet started).
    ``then(value)`` prepares what a page makes from it next (the measured SLA table).
    ``stop()``, where the workers can stop a run, gives the run its :class:`RunStop` as it
    starts (``AHEAD_STOP`` while it runs), with which a withdrawal stops its replications under
    way.
    """

    key: Hashable
    run: Callable[[Callable[[int, int], None]], Any]
    then: Callable[[Any], Any] | None = None
    stop: Callable[[], RunStop] | None = None


class Anticipator:
    """Makes the runs a user is likely to ask for next while the workers are idle.

    One background thread for the whole server. A page states what it expects next
    (:meth:`want`: the positions one step from the sliders on the screen, the slider last moved
    first); the thread makes those runs in turn, skipping any already cached, at most ``limit``
    runs per wish, and keeps them in ``runs`` like any other run: the same scenario,
    replications and seed give the same numbers whoever made them.

    Anything a user asks for comes first. While any user's computation is under way
    (:meth:`serving`) nothing is made ahead: the run being made is withdrawn and the next
    waits. A withdrawn run stops when its next replication ends; where its job has a
    :class:`RunStop` (:attr:`Job.stop`), its replications under way stop at once too. A page
    about to need a run (:meth:`make_way`) drops the jobs waiting and withdraws the running
    one, unless it is making the very run asked for. A page waiting for that run
    (:meth:`waiting_for`) claims it: while it waits, nobody withdraws it — unless it was
    stopped already, when it ends without a result and the page makes the run itself (from the
    replications it had made, :class:`PartialRuns`).
    """

    def __init__(self, runs: ResultCache) -> None:
        self.runs = runs
        self._stop: RunStop | None = None
        """The :class:`RunStop` of the run being made, if it has one."""
        self._limit = 0
        self._lock = threading.Lock()
        self._ready = threading.Condition(self._lock)
        self._queue: list[Job] = []
        self._running: Hashable | None = None
        self._claimed = False
        """Whether a page waits for the run being made (it is then no longer withdrawn)."""
        self._serving = 0
        """Users' computations under way."""
        self._withdraw = threading.Event()
        self._thread: threading.Thread | None = None
        self._wish = 0
        self.made = 0
        """Runs made ahead since the server started (for tests and benchmarks)."""

    def want(self, jobs: list[Job], limit: int) -> None:
        """Replace the jobs waiting with ``jobs``, in order of preference, of which at most
        ``limit`` runs are made (0: none)."""
        if limit <= 0:
            return
        with self._lock:
            self._queue = list(jobs)
            self._limit = limit
            self._wish += 1
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(
                    target=self._loop, name="simkit-anticipation", daemon=True
                )
                self._thread.start()
            self._ready.notify()

    def make_way(self, key: Hashable | None = None) -> None:
        """A page is about to need the run ``key`` (or, with no key, the workers)."""
        with self._lock:
            self._make_way(key)

    def _make_way(self, key: Hashable | None) -> None:
        self._queue = []
        if self._running is not None and self._running != key and not self._claimed:
            self._withdraw.set()
            if self._stop is not None:  # its replications under way stop too
                self._stop.stop()

    @contextmanager
    def waiting_for(self, key: Hashable) -> Iterator[None]:
        """Around a page's wait for the run ``key``: if that is the run being made ahead, it is
        claimed — not withdrawn, even if it was asked to stop — until the wait ends; unless it
        was stopped already (its replications under way stopped), when it is not claimed: it
        ends without a result, and the page makes the run itself."""
        with self._lock:
            claim = self._running is not None and self._running == key
            if self._stop is not None and self._stop.stopped:
                claim = False  # it ends without a result: the page makes the run itself
            if claim:
                self._claimed = True
                self._withdraw.clear()
        try:
            yield
        finally:
            if claim:
                with self._lock:
                    if self._running == key:
                        self._claimed = False

    @contextmanager
    def serving(self) -> Iterator[None]:
        """Around a user's computation: nothing is made ahead until it ends."""
        with self._lock:
            self._make_way(None)
            self._serving += 1
        try:
            yield
        finally:
            with self._lock:
                self._serving -= 1
                self._ready.notify()

    def idle(self) -> bool:
        """Whether no job is running or waiting."""
        with self._lock:
            return self._running is None and not self._queue

    def _check(self, done: int, total: int) -> None:
        if self._withdraw.is_set():
            raise Withdrawn

    def _loop(self) -> None:
        made = wish = 0
        while True:
            with self._lock:
                while not self._queue or self._serving:
                    self._ready.wait()
                if wish != self._wish:
                    made, wish = 0, self._wish
                job = self._queue.pop(0)
                cached = self.runs.holds(job.key)
                if not cached and made >= self._limit:
                    continue
                self._running = job.key
                self._claimed = False
                self._withdraw.clear()
                self._stop = None if cached or job.stop is None else job.stop()
            token = AHEAD_STOP.set(self._stop)
            try:
                if cached:
                    value = self.runs.get(job.key)
                else:
                    value = self.runs.get_or_compute(job.key, lambda job=job: job.run(self._check))
                    made += 1
                    self.made += 1
                if value is not None and job.then is not None and not self._withdraw.is_set():
                    job.then(value)  # also for a run already made: its figures may not be
            except Exception:  # withdrawn, refused or failed: it was only ever a guess
                pass
            finally:
                AHEAD_STOP.reset(token)
                with self._lock:
                    self._running = None
                    self._claimed = False
                    self._stop = None


def run_bytes(value: Any) -> int:
    """The bytes of a run's tables, with those made to measure it (0 for anything else)."""
    if not isinstance(value, Results):
        return 0
    return value.table_bytes() + value.measuring_bytes()


def measuring_bytes(value: Any) -> int:
    """The bytes of the tables made to measure a run against edited targets (its run's own
    tables are counted in the runs cache)."""
    return value.measuring_bytes() if isinstance(value, Results) else 0


@st.cache_resource(show_spinner=False)
def shared_cache(kind: str = "figures") -> ResultCache:
    """The process-wide cache of ``kind``: ``"runs"`` (simulation results, under
    :func:`run_cache_key`), ``"measured"`` (runs measured against edited targets, under keys
    ``("measured", run's key, …)``) or ``"figures"``. A measured run shares its run's tables, and
    would hold them once the run is dropped: it is dropped with its run. The runs cache weighs
    a run's tables with those made to measure it; the measured cache only the latter."""
    if kind == "runs":
        measured = shared_cache("measured")
        return ResultCache(
            RUN_ENTRIES,
            on_evict=lambda run: measured.discard(lambda key: key[1] == run),
            weigh=run_bytes,
            budget=RUN_BYTES,
        )
    if kind == "measured":
        return ResultCache(RUN_ENTRIES, weigh=measuring_bytes, budget=MEASURED_BYTES)
    return ResultCache(FIGURE_ENTRIES)


PARTIAL_RUNS = 4
PARTIAL_BYTES = 256 << 20
"""Runs given up part way whose finished replications are kept (:class:`PartialRuns`): at most
this many, and at most this many bytes of their tables."""


def _outcome_bytes(outcome: ReplicationOutcome) -> int:
    records = outcome.records
    tables = (
        (records.tickets, records.visits, records.pauses, records.team_stats)
        if records is not None
        else ()
    )
    outages = (outcome.outages,) if outcome.outages is not None else ()
    return sum(int(table.nbytes) for table in (*tables, *outages))


class PartialRuns:
    """The replications already made of runs given up part way — a page whose user moved on, a
    run made ahead that was withdrawn — so that the same run asked for again makes only the rest
    (:func:`simkit.runner.simulate`'s ``finished``). Kept by run key for the ``runs`` runs given
    up last, within ``budget`` bytes of tables; a run takes its part back while it runs
    (:func:`whole_run`), so a run made whole keeps nothing here."""

    def __init__(self, runs: int, budget: int) -> None:
        self.runs = runs
        self.budget = budget
        self._parts: OrderedDict[Hashable, dict[int, ReplicationOutcome]] = OrderedDict()
        self._lock = threading.Lock()

    def take(self, key: Hashable) -> dict[int, ReplicationOutcome]:
        """The replications kept of the run ``key`` (a new mapping if none), no longer kept
        here: the run fills it in, and gives it back with :meth:`keep` if it is given up."""
        with self._lock:
            return self._parts.pop(key, None) or {}

    def keep(self, key: Hashable, part: dict[int, ReplicationOutcome]) -> None:
        """Keep ``part`` of the run ``key``, which was given up; the oldest parts go first when
        there are more than ``runs`` or more than ``budget`` bytes (replications still running
        are weighed once they have landed, at the next keep)."""
        with self._lock:
            self._parts[key] = part
            self._parts.move_to_end(key)
            weight = {k: sum(map(_outcome_bytes, dict(p).values())) for k, p in self._parts.items()}
            total = sum(weight.values())
            while self._parts and (len(self._parts) > self.runs or total > self.budget):
                old, _ = self._parts.popitem(last=False)
                total -= weight[old]

    def holds(self, key: Hashable) -> bool:
        with self._lock:
            return key in self._parts


@st.cache_resource(show_spinner=False)
def partial_runs() -> PartialRuns:
    """The server's :class:`PartialRuns`."""
    return PartialRuns(PARTIAL_RUNS, PARTIAL_BYTES)


def whole_run(key: Hashable, run: Callable[[dict[int, ReplicationOutcome]], Results]) -> Results:
    """``run(finished)`` for the run ``key``, going on from the replications kept of it
    (:func:`partial_runs`); given up part way, what it made is kept — refused (an
    :class:`InputError`: nothing was run), nothing is."""
    parts = partial_runs()
    part = parts.take(key)
    try:
        return run(part)
    except InputError:
        raise
    except BaseException:
        parts.keep(key, part)
        raise


ANTICIPATE_RUNS = 6
"""Runs made ahead after a slider move, while the workers are idle (:class:`Anticipator`)."""


def anticipate_limit() -> int:
    """Runs made ahead after each slider move: ``SIMKIT_APP_ANTICIPATE`` — a whole number, 0
    (or any value that is not a whole number, such as ``off``) turning it off — or, unset,
    :data:`ANTICIPATE_RUNS`."""
    setting = os.environ.get("SIMKIT_APP_ANTICIPATE", "").strip()
    if not setting:
        return ANTICIPATE_RUNS
    return int(setting) if setting.isdecimal() else 0


@st.cache_resource(show_spinner=False)
def anticipator() -> Anticipator:
    """The server's one :class:`Anticipator`, keeping its runs with every other run."""
    return Anticipator(shared_cache("runs"))


def anticipating() -> bool:
    """Whether runs are made ahead: only where runs go to worker processes (a run in the
    server's own process would hold up its pages) and ``SIMKIT_APP_ANTICIPATE`` is not 0."""
    return executor() is not None and anticipate_limit() > 0


def ahead_limit(shown: Results) -> int:
    """New runs to make ahead after the run ``shown``: :func:`anticipate_limit`, but no more than
    the runs cache holds besides ``shown`` and the run shown before it, by count and by bytes
    (each run made ahead taken to be as large as ``shown``), so that runs made ahead never push
    out the run on the screen."""
    room = min(RUN_ENTRIES, RUN_BYTES // max(1, run_bytes(shown))) - 2
    return max(0, min(anticipate_limit(), room))


def anticipate(jobs: list[Job], limit: int) -> None:
    """Make ``jobs`` ahead while the workers are idle (where :func:`anticipating`), at most
    ``limit`` new runs."""
    if anticipating():
        anticipator().want(jobs, limit)


@st.cache_resource(show_spinner=False)
def freeze_loaded_objects() -> int:
    """Once per server, after the first page has been drawn: move every object alive then — the
    modules imported so far (Streamlit, Altair, pandas, pyarrow, simkit) and what they hold,
    some 200,000 of them, with the first session's own — out of the garbage collector's sight
    (``gc.freeze``), and return how many. A full collection then reads only what was made
    since: it took about 150 ms of the server's processor time, a few times a minute while
    sliders moved, often during a move. Those objects are freed by reference counting as
    before; only one in a reference cycle that becomes garbage is not (the first session's, when
    it ends: once, and small). ``SIMKIT_APP_FREEZE=0`` leaves the collector alone (the test
    suite, which runs the app in its own process, does)."""
    import gc

    if os.environ.get("SIMKIT_APP_FREEZE", "").strip() == "0":
        return 0
    gc.freeze()
    return gc.get_freeze_count()


WORKER_NICENESS = 10
"""How much lower the workers' scheduling priority is than the server's (Unix ``nice``): the
pages, and a browser on the same machine, stay responsive while a run takes every core."""


@st.cache_resource(show_spinner=False)
def _pool(workers: int) -> tuple[Executor, StopBoard]:
    """The worker processes, and the board that stops a run's replications in them."""
    import multiprocessing

    context = multiprocessing.get_context("spawn")
    board = StopBoard(context)
    pool = ProcessPoolExecutor(
        max_workers=workers,
        mp_context=context,
        initializer=start_worker,
        initargs=(board, WORKER_NICENESS),
    )
    widen_results_pipe(pool)  # results not held back while the server is busy (simkit.pools)
    for _ in range(workers):  # each worker starts and imports the engine now, not at the first run
        pool.submit(warm_up)
    return pool, board


def workers() -> int:
    """Worker processes for the runs: ``SIMKIT_APP_WORKERS``, default up to 2 cores."""
    setting = os.environ.get("SIMKIT_APP_WORKERS")
    return int(setting) if setting and setting.isdecimal() else min(2, os.cpu_count() or 1)


def executor() -> Executor | None:
    """The worker processes (:func:`workers`), shared by every session so the server never runs
    more at once; ``None`` (one worker or none) runs in the page's thread."""
    count = workers()
    return _pool(count)[0] if count > 1 else None


def run_stop() -> RunStop | None:
    """A new run's :class:`RunStop` on the worker processes (``None`` without them): a run given
    up — its user moved on, or it was made ahead and withdrawn — stops its replications under
    way at once rather than when they end, so that the next run has the workers sooner."""
    count = workers()
    return _pool(count)[1].run_stop() if count > 1 else None


def in_flight() -> int:
    """Replications of one run handed to the workers at once: one more than the workers keeps
    them all busy, and a run given up part way leaves no more than that behind (a process pool
    cannot take back what it has handed out)."""
    return workers() + 1


def moved_on(*, restart: bool = True) -> None:
    """Stop this run of the page here if its user has moved on, so that a user pressing a key
    several times waits for the last position only. A page calls it where it waits without
    drawing anything: after each replication of its run, and while it waits for a run someone
    else makes.

    - Another page opened, or the whole page asked to run again: Streamlit's own yield point
      (which every ``st`` call passes through) raises its rerun or stop exception.
    - A widget of the running fragment changed again: Streamlit lets a fragment's run finish
      before the next (:func:`_rerun_waiting`). This starts the fragment again at once, with
      the newest values (``st.rerun(scope="fragment")``). The page's elements stay on the
      screen until the new run draws over them. Only where ``restart``: a simulation run keeps
      its replications for a return (:class:`PartialRuns`), a search or a comparison, which
      keeps nothing, goes on — the change may be to another control than the ones it needs.

    Nothing happens outside a page's run, or while the whole page runs (Streamlit then reruns
    the fragment once the page is drawn)."""
    check = get_run_yield_check()
    if check is None:
        return
    check()
    if restart and _rerun_waiting():
        # refused during a run of the whole page, not of a fragment: that run finishes first
        with suppress(StreamlitAPIException):
            st.rerun(scope="fragment")


def _rerun_waiting() -> bool:
    """Whether the browser has asked for another run of this session's page or of one of its
    fragments since this run began. Streamlit keeps this in its script requests' state, which
    it has no public accessor for; tests pin it (tests/test_app_support.py)."""
    ctx = get_script_run_ctx(suppress_warning=True)
    requests = getattr(ctx, "script_requests", None)
    return getattr(requests, "_state", None) is ScriptRequestType.RERUN


def with_progress(
    label: str,
    key: Hashable,
    compute: Callable[[Callable[[int, int], None]], T],
    *,
    kind: str = "figures",
    restart: bool = False,
) -> T:
    """A cached result, or compute it with a progress bar (``compute(progress)``); ``kind``
    picks the cache (:func:`shared_cache`); ``restart``: see :func:`moved_on`."""
    cache = shared_cache(kind)
    hit = cache.get(key)
    if hit is not None:
        return hit  # type: ignore[no-any-return]
    bar = st.progress(0.0, text=f"{label}…")
    shown = [time.monotonic()]

    def progress(done: int, total: int) -> None:
        moved_on(restart=restart)  # at each replication: a user who moved on waits no more
        # At most a few updates a second: each one makes the browser redraw the page, which on
        # a small server costs the workers processor time.
        now = time.monotonic()
        if now - shown[0] >= PROGRESS_EVERY_S:
            shown[0] = now
            bar.progress(done / max(total, 1), text=f"{label}: {done} of {total}")

    ahead = anticipator()

    def computing() -> T:
        # What a user asks for comes before any run made ahead; replications are handed to the
        # workers a few at a time, so that little is left behind if the user moves on.
        with ahead.serving(), replications_in_flight(in_flight()):
            return compute(progress)

    try:
        with ahead.waiting_for(key):
            return cache.get_or_compute(key, computing, waiting=lambda: moved_on(restart=restart))
    finally:
        bar.empty()


def quiet_motion() -> None:
    """Apply :data:`QUIET_MOTION_CSS` to the page (a style element takes no space)."""
    st.html(f"<style>{QUIET_MOTION_CSS}</style>")


def run_cache_key(scenario: Scenario, replications: int, seed: int) -> Hashable:
    """Where the run of ``scenario`` is kept in the runs cache."""
    return ("run", run_key(scenario, replications, seed))


def starting_run(key: Hashable) -> None:
    """A page is about to need the run ``key``: unless it is cached already, any run made ahead
    for another position is withdrawn now, before the page draws its quick figures, so that the
    workers are free when the page's own run starts."""
    if shared_cache("runs").get(key) is None:
        anticipator().make_way(key)


def run_ahead(
    scenario: Scenario, replications: int, seed: int, then: Callable[[Results], Any] | None
) -> Job:
    """The run of ``scenario`` as :func:`simulated` makes it, as a :class:`Job` to make ahead;
    ``then(results)`` prepares what the page makes of it next. It hands the workers one
    replication each at a time: withdrawn, it leaves only the replications they are working on,
    and stops those too (:attr:`Job.stop`)."""
    pool, window = executor(), workers()
    board = _pool(window)[1] if pool is not None else None
    key = run_cache_key(scenario, replications, seed)

    def run(progress: Callable[[int, int], None]) -> Results:
        return _run(
            key,
            scenario,
            replications,
            seed,
            progress,
            pool=pool,
            in_flight=window,
            stop=AHEAD_STOP.get(),
        )

    return Job(key, run, then, None if board is None else board.run_stop)


def simulated(scenario: Scenario, replications: int, seed: int) -> Results:
    """The run of ``scenario`` (cached by content), with a progress bar while it runs.

    Raises
    ------
    InputError
        When the run is refused (too large for the server) or the scenario cannot run.
    """
    key = run_cache_key(scenario, replications, seed)
    return with_progress(
        f"Simulating {replications} replications",
        key,
        lambda progress: _run(
            key, scenario, replications, seed, progress, pool=executor(), stop=run_stop()
        ),
        kind="runs",
        restart=True,
    )


def _run(
    key: Hashable,
    scenario: Scenario,
    replications: int,
    seed: int,
    progress: Callable[[int, int], None],
    *,
    pool: Executor | None,
    in_flight: int | None = None,
    stop: RunStop | None = None,
) -> Results:
    """The run ``key`` of ``scenario`` on ``pool``, going on from the replications kept of it
    and keeping them if it is given up (:func:`whole_run`): what :func:`simulated` and
    :func:`run_ahead` both make."""
    return whole_run(
        key,
        lambda finished: simulate_run(
            scenario,
            replications=replications,
            seed=seed,
            executor=pool,
            progress=progress,
            in_flight=in_flight,
            finished=finished,
            stop=stop,
        ),
    )


def cached(key: Hashable, compute: Callable[[], T]) -> T:
    """A derived figure (measurement, chart rows) cached by content key."""
    return shared_cache("figures").get_or_compute(key, compute)
