"""The workbench's latency as a user sees it: a key press on a slider of the Scenario page in a
real browser → the quick estimate on the screen → the simulated SLA table (20 replications of
the baseline example on the app's two worker processes) on the screen.

This adds what :mod:`benchmarks.bench_app` leaves out: the browser sending the new value,
Streamlit re-running the page's fragment (sliders, patch, quick estimate), the progress bar,
and the table reaching the browser. The browser runs on the same two cores as the server and
its workers here, so the figure is pessimistic for a user on their own machine.

Three kinds of move, each to a position never shown before. While the workers are idle the
page makes the runs a user is likely to ask for next (``SIMKIT_APP_ANTICIPATE``, docs/app.md):
one step either side of the slider last moved, then one step of each other slider on the screen.

- **one step on** — the volume slider moved again in the same direction, after a pause of a few
  seconds (a user looking at the table): the move finds its run made;
- **another slider, after a pause** — a growth slider and the volume slider in turn, after the
  same pause: the move finds its run made too, when the pause was long enough to make it;
- **another slider, at once** — the same, pressed as soon as the table is on the screen: no run
  has been made ahead yet, so the run starts at the key press;
- **three quick presses** — one slider pressed three times, 250 ms apart (a user stepping
  through positions): timed from the last press to the first drawing of the table of the
  position reached. The page stops each run it no longer needs at its next replication and
  starts the next position's at once. (This benchmark once timed the last drawing of any
  table instead; the grid draws a table again when the page's layout moves under it, which
  added up to 0.1 s after the table was on the screen.)

The target is for the baseline example, so the moves stay near it: the volume slider goes up
four steps (to +20%), then back down a step at a time in the moves to another slider (to +0%),
and up to +15% and back in the quick presses; the growth slider only goes up, a step of 1% a
year, which adds well under 1% of tickets over the 13 weeks. Each position is one never shown
before. The volume at each timed move is printed with its figures. (Moving every slider only
upwards, as this benchmark once did, measured the moves made at once at +35–40% volume and the
quick presses at up to +70%: 35–70% more tickets to simulate than the baseline.)

The quick estimate is timed on the moves made at once. Each is one step from the position on
the screen, so the browser draws the estimate the page sent ahead for it
(app/instant_estimate.py); the figure says how many were. A slider moved further than the
positions sent ahead gets its estimate from the page's run, about 0.15 s after the key press
here (docs/app.md).

Needs Debian's chromium and playwright (:mod:`scripts.browser`); prints a note without them.
Ratios are against the first view of the page (opening it until its first simulated table,
worker start included), as in :mod:`benchmarks.bench_app`.
"""

from __future__ import annotations

import re
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any, NamedTuple

from benchmarks._harness import BenchResult
from scripts.browser import CHROMIUM, CHROMIUM_ARGS, have_browser, streamlit_server

REPLICATIONS = 20
MOVES = 4
"""Moves of each kind."""
TARGET_SIMULATED_S = 1.0
TARGET_QUICK_S = 0.1
ROW = "payroll P1 respond"
TIMEOUT_S = 120.0
PAUSE_MS = 4000
"""Pause after the table appears before the next key press: the browser draws the charts below
the table, and the page makes its runs ahead (about 1 s of both cores a run)."""
AT_ONCE_MS = 300
"""Pause before a key press "at once": the table is on the screen, nothing is made ahead yet."""
PRESSES = 3
PRESS_GAP_MS = 250
"""Quick presses: how many, and the time between two."""
QUIET_MS = 2500
"""After quick presses, the page is taken to have drawn its last table once it has been
settled this long."""

DRAWS = """
() => {
  // Every frame in which the table grid, under the simulated table's heading, draws cells: the
  // texts it drew, and the end of that frame in the page's own clock. The grid draws a table
  // again now and then (the page's layout moving under it, say), so the moment the position's
  // table reached the screen is the first frame that drew it, not the last (see _presses).
  const heading = (start) =>
    [...document.querySelectorAll("h4")].some((h) => h.textContent.startsWith(start));
  window.__draws = { armed: false, frames: [], frame: null };
  const fillText = CanvasRenderingContext2D.prototype.fillText;
  CanvasRenderingContext2D.prototype.fillText = function (text, ...rest) {
    const d = window.__draws;
    if (d.armed && this.canvas.closest('[data-testid="stDataFrame"]')
        && heading("Simulated SLA table")) {
      if (d.frame === null) {
        const frame = { texts: [] };
        d.frame = frame;
        requestAnimationFrame(() => setTimeout(() => {
          frame.time = performance.now();
          d.frames.push(frame);
          d.frame = null;
        }));
      }
      d.frame.texts.push(String(text));
    }
    return fillText.call(this, text, ...rest);
  };
}
"""

WATCH = """
() => {
  // Timestamps, in the page's own clock, of the key press and of the frames that first show the
  // quick estimate and then the new simulated SLA table. Streamlit's table grid draws its cells
  // on a canvas: the new table is on the screen when the grid, under the heading of the
  // simulated table, has drawn a cell that the table on the screen at the key press did not
  // hold, and the browser has painted that frame. (The grid's accessibility cells, which a DOM
  // query reads, can come before or after the canvas; at the key press they hold the old
  // table; they serve as a fallback, counted apart.) When the run was made ahead, the simulated
  // table may come before the page's own quick estimate. A MutationObserver and a wrapper round the canvas's fillText note the moments,
  // so the benchmark does not poll the page while the workers run.
  const heading = (start) =>
    [...document.querySelectorAll("h4")].some((h) => h.textContent.startsWith(start));
  const painted = (t, name) =>  // the end of the frame in which the change is drawn
    requestAnimationFrame(() => setTimeout(() => { t[name] = performance.now(); }));
  window.__latency = {};
  document.addEventListener("keydown", () => {
    const cells = document.querySelectorAll("[role=gridcell], [role=columnheader]");
    window.__latency = {
      press: performance.now(), before: new Set([...cells].map((c) => c.textContent)),
    };
  }, true);
  new MutationObserver(() => {
    const t = window.__latency;
    if (t.press === undefined) return;
    if (t.estimateSeen === undefined && heading("Quick estimate")) {
      t.estimateSeen = true;
      // "browser": drawn from the estimates the page sent ahead; "page": by the page's run
      const box = document.querySelector(".simkit-instant-estimate");
      t.source = (box && box.dataset.source) || "page";
      painted(t, "estimate");
    }
    // The same table seen in the grid's accessibility cells: a fallback for a drawing the
    // canvas wrapper below does not see (rare; the page was then found showing the new
    // position's table). Counted apart in the figures.
    if (t.tableDomSeen === undefined && heading("Simulated SLA table")) {
      const cells = document.querySelectorAll('[data-testid="stDataFrame"] [role=gridcell]');
      if ([...cells].some((c) => !t.before.has(c.textContent))) {
        t.tableDomSeen = true;
        painted(t, "tableDom");
      }
    }
  }).observe(document.body, { childList: true, subtree: true, characterData: true });
  const fillText = CanvasRenderingContext2D.prototype.fillText;
  CanvasRenderingContext2D.prototype.fillText = function (text, ...rest) {
    const t = window.__latency;
    if (t.press !== undefined && t.tableSeen === undefined && !t.before.has(String(text))
        && this.canvas.closest('[data-testid="stDataFrame"]')
        && heading("Simulated SLA table")) {
      t.tableSeen = true;
      painted(t, "table");
    }
    return fillText.call(this, text, ...rest);
  };
}
"""


def _settled(page: Any) -> None:
    """Wait until the simulated SLA table is on the screen and no run is in progress."""
    page.wait_for_function(
        """(row) => [...document.querySelectorAll("h4")]
              .some((h) => h.textContent.startsWith("Simulated SLA table"))
            && [...document.querySelectorAll("[role=gridcell]")]
              .some((c) => c.textContent === row)
            && !document.body.innerText.includes("Simulating")""",
        arg=ROW,
        polling=250,
        timeout=TIMEOUT_S * 1000,
    )


def _volume(slider: Any) -> int:
    """The volume slider's position, in percent."""
    return int(float(slider.input_value()))


class _NoTable(Exception):
    """No new simulated table reached the screen within :data:`TIMEOUT_S` of a key press."""


def _kept_for_later(page: Any) -> str:
    """A screenshot and the text of the page, kept in the temporary folder: what the page
    showed when no new table came (named in the benchmark's figure)."""
    folder = Path(tempfile.gettempdir())
    stem = f"simkit-bench-no-table-{time.strftime('%Y%m%d-%H%M%S')}"
    page.screenshot(path=str(folder / f"{stem}.png"), full_page=True)
    (folder / f"{stem}.txt").write_text(page.evaluate("() => document.body.innerText"))
    return str(folder / stem)


class _Move(NamedTuple):
    estimate: float | None
    """Seconds to the quick estimate on the screen (``None``: the simulated table came first)."""
    table: float
    """Seconds to the simulated SLA table on the screen."""
    source: str | None
    """Who drew the estimate: ``"browser"`` (from the estimates the page sent ahead) or
    ``"page"`` (the page's run)."""
    cells_only: bool
    """The table's drawing on the grid's canvas was not seen, only its accessibility cells:
    ``table`` is when those were drawn."""


CANVAS_GRACE_MS = 5000
"""How long after the table's cells the canvas wrapper may take to see the table drawn."""


def _move(page: Any, slider: Any, key: str, pause_ms: int = PAUSE_MS) -> _Move:
    """One press of ``key``, ``pause_ms`` after the page settled, timed to the quick estimate
    and the simulated SLA table on the screen.

    Raises
    ------
    _NoTable
        When no new table came within :data:`TIMEOUT_S` (the page is kept, see
        :func:`_kept_for_later`)."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    _settled(page)
    page.wait_for_timeout(pause_ms)
    slider.focus()
    slider.press(key)
    try:
        page.wait_for_function(
            "() => window.__latency.table !== undefined || window.__latency.tableDom !== undefined",
            polling=250,
            timeout=TIMEOUT_S * 1000,
        )
        page.wait_for_function(
            "() => window.__latency.table !== undefined", polling=100, timeout=CANVAS_GRACE_MS
        )
    except PlaywrightTimeout:
        if page.evaluate("() => window.__latency.tableDom === undefined"):
            raise _NoTable(_kept_for_later(page)) from None
    t = page.evaluate(
        "() => ({press: window.__latency.press, estimate: window.__latency.estimate,"
        " table: window.__latency.table, tableDom: window.__latency.tableDom,"
        " source: window.__latency.source})"
    )
    cells_only = t.get("table") is None
    end = t["tableDom"] if cells_only else t["table"]
    table = (end - t["press"]) / 1000
    estimate = t.get("estimate")
    if estimate is None or estimate > end:
        return _Move(None, table, None, cells_only)
    return _Move((estimate - t["press"]) / 1000, table, t.get("source"), cells_only)


def _presses(page: Any, slider: Any, key: str) -> float | None:
    """Seconds from the last of :data:`PRESSES` quick presses of ``key``, after a pause, to the
    first frame that drew the table of the position reached (``None`` when none was seen).

    That table is the one the grid's accessibility cells hold once the page has settled. A
    frame drew it when the texts it drew, leaving out those the table on the screen before the
    first press held and those drawn before the last press, are that table's (nine in ten of
    them at least: the canvas may draw a long text shortened), and there is at least one. A
    table of a position passed on the way, drawn after the last press, holds other figures
    (its ticket counts at least)."""
    _settled(page)
    page.wait_for_timeout(PAUSE_MS)
    slider.focus()
    before = page.evaluate(
        """() => {
          window.__draws.frames = [];
          window.__draws.armed = true;
          const cells = document.querySelectorAll("[role=gridcell], [role=columnheader]");
          return [...cells].map((c) => c.textContent);
        }"""
    )
    last = 0.0
    for k in range(PRESSES):
        if k:
            page.wait_for_timeout(PRESS_GAP_MS)
        slider.press(key)
        last = page.evaluate("() => performance.now()")
    page.wait_for_timeout(500)  # the page has taken up the last press
    _settled(page)
    page.wait_for_timeout(QUIET_MS)
    _settled(page)
    frames, final = page.evaluate(
        """() => {
          window.__draws.armed = false;
          const cells = document.querySelectorAll('[data-testid="stDataFrame"] [role=gridcell]');
          return [window.__draws.frames, [...cells].map((c) => c.textContent)];
        }"""
    )
    seen = set(before)
    for frame in frames:
        if frame["time"] < last:
            seen.update(frame["texts"])
    table = set(final)
    drawn = []
    for frame in frames:
        new = set(frame["texts"]) - seen
        if frame["time"] >= last and new and 10 * len(new - table) <= len(new):
            drawn.append(frame["time"])
    return (min(drawn) - last) / 1000 if drawn else None


def _table_result(
    name: str,
    tables: list[float],
    first_view: float,
    volumes: list[int] | None = None,
    missing: list[str] | None = None,
    cells_only: int = 0,
    unseen: int = 0,
) -> BenchResult:
    """``missing``: the moves after which no new table came (where their pages were kept);
    ``cells_only``: how many moves' tables were timed by the grid's cells (:class:`_Move`);
    ``unseen``: how many were not timed (:func:`_presses`)."""
    table = statistics.median(tables) if tables else float("nan")
    detail = ", ".join(f"{t:.2f}" for t in tables)
    where = f"; volume {min(volumes):+d}…{max(volumes):+d}%" if volumes else ""
    lost = f"; NO TABLE after {len(missing)} move(s), page kept: {missing[0]}" if missing else ""
    cells = f"; {cells_only} timed by the grid's cells, not its canvas" if cells_only else ""
    cells += f"; {unseen} not timed: the table's drawing was not seen" if unseen else ""
    return BenchResult(
        name=name,
        figure=f"{table:.2f} s (median; {detail}{where}{lost}{cells})",
        ratio=first_view / table,
        baseline=f"first view ({first_view:.1f} s)",
        target=f"<= {TARGET_SIMULATED_S:g} s",
        passed=table <= TARGET_SIMULATED_S and not missing,
    )


def run() -> list[BenchResult]:
    missing = have_browser()
    if missing:
        print(f"bench_app_browser: skipped, {missing}")
        return []
    from playwright.sync_api import sync_playwright

    estimates: list[float] = []
    sources: list[str] = []
    """Who drew each estimate timed: "browser" or "page"."""
    ahead: list[float] = []
    other: list[float] = []
    cold: list[float] = []
    quick: list[float] = []
    volumes: dict[str, list[int]] = {"other": [], "cold": [], "quick": []}
    missing: dict[str, list[str]] = {"ahead": [], "other": [], "cold": []}
    unseen = 0
    """Quick presses after which the drawing of the last position's table was not seen."""
    cells_only = {"ahead": 0, "other": 0, "cold": 0}
    """By kind, the moves whose table was seen in the grid's cells only (:class:`_Move`)."""
    """The moves after which no new table came, by kind: where their pages were kept."""
    """The volume slider's position at each timed move, by kind."""
    first_view = float("nan")
    with tempfile.TemporaryDirectory() as folder:
        env = {"SIMKIT_APP_REPLICATIONS": str(REPLICATIONS), "SIMKIT_APP_WORKERS": "2"}
        log = Path(folder) / "server.log"
        with streamlit_server(log, env=env) as url, sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            try:
                page = browser.new_page(viewport={"width": 1400, "height": 1400})
                opened = time.perf_counter()
                page.goto(url, wait_until="domcontentloaded")
                _settled(page)
                first_view = time.perf_counter() - opened
                page.evaluate(WATCH)
                volume = page.get_by_role("slider", name="Volume change, every service")
                growth = page.get_by_role("slider", name=re.compile("^Growth per year — payroll"))
                up, down = (volume, "ArrowRight"), (volume, "ArrowLeft")
                more = (growth, "ArrowRight")
                for _ in range(MOVES):  # the slider last moved, one step on
                    try:
                        move = _move(page, *up)
                        ahead.append(move.table)
                        cells_only["ahead"] += move.cells_only
                    except _NoTable as lost:
                        missing["ahead"].append(str(lost))
                for slider, key in (more, down, more, down):  # another slider, after a pause
                    try:
                        move = _move(page, slider, key)
                        other.append(move.table)
                        cells_only["other"] += move.cells_only
                    except _NoTable as lost:
                        missing["other"].append(str(lost))
                    volumes["other"].append(_volume(volume))
                for slider, key in (more, down, more, down):  # another slider, at once
                    try:
                        move = _move(page, slider, key, AT_ONCE_MS)
                    except _NoTable as lost:
                        missing["cold"].append(str(lost))
                        continue
                    cold.append(move.table)
                    cells_only["cold"] += move.cells_only
                    volumes["cold"].append(_volume(volume))
                    if move.estimate is not None:
                        estimates.append(move.estimate)
                        sources.append(move.source or "page")
                page.evaluate(DRAWS)
                for slider, key in (more, up, more, down):  # three quick presses of one slider
                    pressed = _presses(page, slider, key)
                    if pressed is None:
                        unseen += 1
                    else:
                        quick.append(pressed)
                        volumes["quick"].append(_volume(volume))
            finally:
                browser.close()
    estimate = statistics.median(estimates) if estimates else float("nan")
    return [
        BenchResult(
            name="app in chromium: slider -> quick estimate",
            figure=(
                f"{estimate:.3f} s (median of {len(estimates)}; "
                f"{sources.count('browser')} drawn by the browser from the estimates sent ahead)"
            ),
            ratio=first_view / estimate,
            baseline=f"first view ({first_view:.1f} s)",
            target=f"<= {TARGET_QUICK_S:g} s",
            passed=estimate <= TARGET_QUICK_S,
        ),
        _table_result(
            "app in chromium: one step on -> table",
            ahead,
            first_view,
            missing=missing["ahead"],
            cells_only=cells_only["ahead"],
        ),
        _table_result(
            "app in chromium: other slider, after a pause -> table",
            other,
            first_view,
            volumes["other"],
            missing["other"],
            cells_only["other"],
        ),
        _table_result(
            "app in chromium: other slider, at once -> table",
            cold,
            first_view,
            volumes["cold"],
            missing["cold"],
            cells_only["cold"],
        ),
        _table_result(
            f"app in chromium: {PRESSES} quick presses, last -> table",
            quick,
            first_view,
            volumes["quick"],
            unseen=unseen,
        ),
    ]


if __name__ == "__main__":
    for line in run():
        print(line.line())
