"""The quick-estimate element's script (app/instant_estimate.js) in chromium, on a page made
for it: the sliders, the element and the page's table container as the workbench draws them,
with no server, so that each step (a key press, a message from the page, a table coming or
going stale) happens exactly when the test says. The workbench itself is tested in
test_e2e_app.py, where those steps race each other. Skipped where chromium or playwright is
missing."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from typing import Any

import pytest

from app import instant_estimate
from scripts.browser import CHROMIUM, CHROMIUM_ARGS, ROOT, have_browser

pytestmark = pytest.mark.e2e

LABEL = "Volume change, every service"
CONTEXT = "ctx"
TABLE = instant_estimate.TABLE_KEY

PAGE = f"""<!doctype html><html><body>
<div data-testid="stSlider"><div role="group" aria-label="{LABEL}">
  <input type="range" min="-50" max="100" step="5" value="0"></div></div>
<div id="element"><div class="simkit-instant-estimate"></div></div>
<div class="st-key-{TABLE}"></div>
</body></html>"""

SETUP = """async (source) => {
  const module = await import("data:text/javascript;base64," + source);
  window.mount = (data) => module.default({
    parentElement: document.getElementById("element"), data,
  });
  // what the element holds, once per frame, after the script's own work in that frame
  window.frames = () => new Promise((done) => requestAnimationFrame(() => setTimeout(done, 0)));
  window.shown = () => {
    const box = document.querySelector(".simkit-instant-estimate");
    return [box.dataset.source || null, box.dataset.position || null,
            [...box.querySelectorAll("td")].map((c) => c.textContent)];
  };
  // the page's simulated table coming into its container, stale or not
  window.table = (stale) => {
    const element = document.createElement("div");
    element.className = "stElementContainer";
    element.setAttribute("data-stale", stale ? "true" : "false");
    const grid = document.createElement("div");
    grid.setAttribute("data-testid", "stDataFrame");
    element.append(grid);
    document.querySelector(".st-key-TABLE_KEY").replaceChildren(element);
    return element;
  };
}""".replace("TABLE_KEY", TABLE)


def key(volume: float) -> str:
    return f"{CONTEXT}|{volume:.6f}"


def data(current: float, show: bool, entries: dict[str, Any]) -> dict[str, Any]:
    """A message from the page, as :func:`app.instant_estimate.show` sends it."""
    return {
        "context": CONTEXT,
        "labels": [LABEL],
        "current": key(current),
        "show": show,
        "entries": entries,
        "table": TABLE,
        "heading": instant_estimate.HEADING,
        "caption": instant_estimate.CAPTION,
        "columns": instant_estimate.COLUMNS,
    }


def entry(volume: float) -> dict[str, Any]:
    """An estimate whose cells name its position, so that a test sees which one is drawn."""
    return {"position": f"volume={volume:g}", "rows": [[f"cell {volume:g}"] * 6]}


@pytest.fixture
def page() -> Iterator[Any]:
    missing = have_browser()
    if missing:
        pytest.skip(missing)
    from playwright.sync_api import sync_playwright

    source = (ROOT / "app" / "instant_estimate.js").read_bytes()
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            tab = browser.new_page()
            tab.set_content(PAGE)
            tab.evaluate(SETUP, base64.b64encode(source).decode())
            yield tab
        finally:
            browser.close()


def frames(page: Any, count: int) -> None:
    for _ in range(count):
        page.evaluate("window.frames()")


def taken_away(page: Any) -> int:
    count: int = page.evaluate("window.__simkitInstantEstimate.takenAway")
    return count


def test_the_estimate_gives_way_in_the_frame_its_table_comes(page: Any) -> None:
    """The page's estimate stays while its container holds no table, or only a stale one
    (the run before's), and goes in the first frame a table that is not stale is there."""
    page.evaluate("(d) => window.mount(d)", data(0, True, {key(0): entry(0)}))
    assert page.evaluate("window.shown()") == ["page", "volume=0", ["cell 0"] * 6]
    frames(page, 3)
    page.evaluate("window.table(true)")
    frames(page, 3)
    assert page.evaluate("window.shown()")[2] == ["cell 0"] * 6, "gone before its table came"
    assert taken_away(page) == 0
    page.evaluate(
        "document.querySelector('.stElementContainer').setAttribute('data-stale', 'false')"
    )
    frames(page, 1)
    assert page.evaluate("window.shown()") == [None, "volume=0", []]
    assert taken_away(page) == 1
    # the page's next message, with nothing to show, leaves it empty
    page.evaluate("(d) => window.mount(d)", data(0, False, {}))
    assert page.evaluate("window.shown()")[2] == []


def test_a_key_press_draws_the_estimate_sent_ahead_for_that_position(page: Any) -> None:
    """A slider moved to a position the page sent an estimate for: drawn in the next frame,
    by the browser; moved to one it sent none for: nothing drawn; the page's run for the
    position then draws its own."""
    page.evaluate("window.table(false)")
    page.evaluate("(d) => window.mount(d)", data(0, False, {key(5): entry(5)}))
    assert page.evaluate("window.shown()")[2] == []
    slider = page.get_by_role("slider")
    slider.focus()
    slider.press("ArrowRight")
    frames(page, 1)
    assert slider.input_value() == "5"
    assert page.evaluate("window.shown()") == ["browser", "volume=5", ["cell 5"] * 6]
    slider.press("ArrowRight")
    frames(page, 1)
    assert page.evaluate("window.shown()")[2] == [], "an estimate no one sent for +10%"
    # the page's run for +10%: its table not come yet (the old one is stale)
    page.evaluate("window.table(true)")
    page.evaluate("(d) => window.mount(d)", data(10, True, {key(10): entry(10)}))
    assert page.evaluate("window.shown()") == ["page", "volume=10", ["cell 10"] * 6]


def test_an_estimate_for_a_newer_position_stays_beside_an_older_table(page: Any) -> None:
    """A key press moved on while the page's run was under way: the estimate the browser drew
    for the newer position stays as the older position's table comes, and as the page's next
    message (with nothing of its own to show) comes; a table after that takes nothing away."""
    page.evaluate("(d) => window.mount(d)", data(0, True, {key(0): entry(0), key(5): entry(5)}))
    slider = page.get_by_role("slider")
    slider.focus()
    slider.press("ArrowRight")  # on to +5% while the page's run for 0% is under way
    frames(page, 1)
    assert page.evaluate("window.shown()")[:2] == ["browser", "volume=5"]
    page.evaluate("window.table(false)")  # the table of 0% comes
    frames(page, 2)
    assert page.evaluate("window.shown()")[:2] == ["browser", "volume=5"], "the +5% estimate went"
    assert taken_away(page) == 0
    page.evaluate("(d) => window.mount(d)", data(0, False, {key(5): entry(5)}))
    assert page.evaluate("window.shown()")[:2] == ["browser", "volume=5"]
    page.evaluate("window.table(false)")
    frames(page, 2)
    assert taken_away(page) == 0


def test_only_the_newest_message_watches_for_the_table(page: Any) -> None:
    """Two messages from the page, each with its estimate to show, before the table comes:
    the first one's watch stops when the second replaces it, so the table's coming takes the
    estimate away once, by the newest message's watch."""
    page.evaluate("window.table(true)")  # the run before's table, stale
    page.evaluate("(d) => window.mount(d)", data(0, True, {key(0): entry(0)}))
    frames(page, 2)
    page.evaluate("(d) => window.mount(d)", data(0, True, {key(0): entry(0)}))
    frames(page, 2)
    assert page.evaluate("window.shown()")[2] == ["cell 0"] * 6
    page.evaluate("window.table(false)")
    frames(page, 2)
    assert page.evaluate("window.shown()")[2] == []
    assert taken_away(page) == 1, "a replaced message's watch went on"
