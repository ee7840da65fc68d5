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
POLL_MS = 10
TIMEOUT_S = 300.0


def _cells(page: Any) -> list[str]:
    cells: list[str] = page.locator("[role=gridcell]").all_inner_texts()
    return cells


def _settled(page: Any) -> list[str]:
    """Wait until the simulated SLA table is on the screen and no run is in progress; its cells."""
    deadline = time.monotonic() + TIMEOUT_S
    while time.monotonic() < deadline:
        cells: list[str] = page.locator("[role=gridcell]").all_inner_texts()
        simulated = page.get_by_text("Simulated SLA table").count()
        if ROW in cells and simulated and not page.get_by_text("Simulating").count():
            return cells
        page.wait_for_timeout(100)
    raise TimeoutError("the simulated SLA table did not appear")


def _move(page: Any, slider: Any) -> tuple[float, float]:
    """Seconds from one key press to the quick estimate on the screen and to the simulated SLA
    table that replaces it (the table shows the estimate while the run is under way)."""
    _settled(page)
    page.wait_for_timeout(1000)
    slider.focus()
    start = time.perf_counter()
    slider.press("ArrowRight")
    estimate_s: float | None = None
    deadline = time.monotonic() + TIMEOUT_S
    while time.monotonic() < deadline:
        if estimate_s is None:
            if page.get_by_text("Quick estimate —").count():
                estimate_s = time.perf_counter() - start
        elif page.get_by_text("Simulated SLA table").count() and ROW in _cells(page):
            return estimate_s, time.perf_counter() - start
        page.wait_for_timeout(POLL_MS)
    raise TimeoutError("the SLA table did not change after the slider moved")


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
                slider = page.get_by_role("slider").first
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
