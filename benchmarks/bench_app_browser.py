"""The workbench's latency as a user sees it: a key press on the volume slider of the Scenario
page in a real browser → the quick estimate on the screen → the simulated SLA table (20
replications of the baseline example on the app's two worker processes) on the screen.

This adds what :mod:`benchmarks.bench_app` leaves out: the browser sending the new value,
Streamlit re-running the page's fragment (sliders, patch, quick estimate), the progress bar,
and the table reaching the browser. The browser runs on the same two cores as the server and
its workers here, so the figure is pessimistic for a user on their own machine.

Needs Debian's chromium and playwright (:mod:`scripts.browser`); prints a note without them.
Each move goes to a volume not simulated before (+5 % a step), so no cached run answers it.
Ratios are against the first view of the page (opening it until its first simulated table,
worker start included), as in :mod:`benchmarks.bench_app`.
"""

from __future__ import annotations

import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks._harness import BenchResult
from scripts.browser import CHROMIUM, CHROMIUM_ARGS, have_browser, streamlit_server

REPLICATIONS = 20
MOVES = 4
TARGET_SIMULATED_S = 1.0
TARGET_QUICK_S = 0.1
ROW = "payroll P1 respond"
TIMEOUT_S = 300.0
SETTLE_MS = 3000
"""Pause after the table appears, so the browser has drawn the charts below it before the
next key press (the browser runs on the same cores as the workers)."""


HEADER = "P(period met)"
"""A column of the simulated SLA table that the quick estimate's table does not have."""

WATCH = """
(header) => {
  // Timestamps, in the page's own clock, of the key press and of the frames that first show the
  // quick estimate and then the simulated SLA table. Streamlit's table grid draws its cells on a
  // canvas: the table is on the screen when the grid has drawn the simulated table's header and
  // the browser has painted that frame. (The grid's accessibility cells, which a DOM query
  // reads, can come before or after the canvas.) A MutationObserver and a wrapper round the
  // canvas's fillText note the moments, so the benchmark does not poll the page while the
  // workers run.
  const heading = (start) =>
    [...document.querySelectorAll("h4")].some((h) => h.textContent.startsWith(start));
  const painted = (t, name) =>  // the end of the frame in which the change is drawn
    requestAnimationFrame(() => setTimeout(() => { t[name] = performance.now(); }));
  window.__latency = {};
  document.addEventListener("keydown", () => {
    window.__latency = { press: performance.now() };
  }, true);
  new MutationObserver(() => {
    const t = window.__latency;
    if (t.press === undefined || t.estimateSeen !== undefined) return;
    if (heading("Quick estimate")) {
      t.estimateSeen = true;
      painted(t, "estimate");
    }
  }).observe(document.body, { childList: true, subtree: true, characterData: true });
  const fillText = CanvasRenderingContext2D.prototype.fillText;
  CanvasRenderingContext2D.prototype.fillText = function (text, ...rest) {
    const t = window.__latency;
    if (t.estimateSeen && t.tableSeen === undefined && text === header
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


def _move(page: Any, slider: Any) -> tuple[float, float]:
    """Seconds from one key press to the quick estimate on the screen and to the simulated SLA
    table that replaces it (the table shows the estimate while the run is under way)."""
    _settled(page)
    page.wait_for_timeout(SETTLE_MS)
    slider.focus()
    slider.press("ArrowRight")
    page.wait_for_function(
        "() => window.__latency.table !== undefined", polling=250, timeout=TIMEOUT_S * 1000
    )
    t = page.evaluate("() => window.__latency")
    return (t["estimate"] - t["press"]) / 1000, (t["table"] - t["press"]) / 1000


def run() -> list[BenchResult]:
    missing = have_browser()
    if missing:
        print(f"bench_app_browser: skipped, {missing}")
        return []
    from playwright.sync_api import sync_playwright

    estimates: list[float] = []
    tables: list[float] = []
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
                page.evaluate(WATCH, HEADER)
                slider = page.get_by_role("slider", name="Volume change, every service")
                for _ in range(MOVES):
                    estimate_s, table_s = _move(page, slider)
                    estimates.append(estimate_s)
                    tables.append(table_s)
            finally:
                browser.close()
    table = statistics.median(tables)
    estimate = statistics.median(estimates)
    detail = ", ".join(f"{t:.2f}" for t in tables)
    return [
        BenchResult(
            name="app in chromium: slider -> quick estimate",
            figure=f"{estimate:.2f} s (median of {len(estimates)})",
            ratio=first_view / estimate,
            baseline=f"first view ({first_view:.1f} s)",
            target=f"<= {TARGET_QUICK_S:g} s",
            passed=estimate <= TARGET_QUICK_S,
        ),
        BenchResult(
            name="app in chromium: slider -> simulated table",
            figure=f"{table:.2f} s (median; {detail})",
            ratio=first_view / table,
            baseline=f"first view ({first_view:.1f} s)",
            target=f"<= {TARGET_SIMULATED_S:g} s",
            passed=table <= TARGET_SIMULATED_S,
        ),
    ]


if __name__ == "__main__":
    for line in run():
        print(line.line())
