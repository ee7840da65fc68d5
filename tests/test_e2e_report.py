"""Both documents in a real browser (Debian's chromium through playwright): they open from a
file without a console error, show every section and chart, and fetch nothing. Skipped where
chromium or playwright is missing."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from scripts.browser import CHROMIUM, CHROMIUM_ARGS, have_browser
from simkit.report.brief import BRIEF_SECTIONS, write_demo_reports
from simkit.report.render import can_render
from simkit.report.review_pack import REVIEW_SECTIONS

pytestmark = pytest.mark.e2e

TIMEOUT_MS = 60_000


@pytest.fixture(scope="module")
def documents(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The demo's brief and review pack, written with two replications."""
    folder = tmp_path_factory.mktemp("reports")
    brief, review = write_demo_reports(folder, replications=2)
    return {"brief": brief, "review": review}


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    missing = have_browser()
    if missing:
        pytest.skip(missing)
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield launched
        finally:
            launched.close()


@pytest.mark.parametrize(
    ("name", "sections"),
    [("brief", BRIEF_SECTIONS), ("review", REVIEW_SECTIONS)],
)
def test_document_opens_offline_without_errors(
    browser: Any, documents: dict[str, Path], name: str, sections: tuple[tuple[str, str], ...]
) -> None:
    """Opening the file makes no network request (only the file itself and data: URLs), logs
    no console error, and shows every section with its heading and the charts as SVG."""
    page = browser.new_page()
    requests: list[str] = []
    problems: list[str] = []
    page.on("request", lambda request: requests.append(request.url))
    page.on(
        "console",
        lambda message: problems.append(message.text) if message.type == "error" else None,
    )
    page.on("pageerror", lambda error: problems.append(str(error)))
    page.on("requestfailed", lambda request: problems.append(f"failed: {request.url}"))
    try:
        page.goto(documents[name].as_uri(), wait_until="load", timeout=TIMEOUT_MS)
        page.wait_for_timeout(500)
        for section, title in sections:
            heading = page.locator(f"section#{section} > h2")
            assert heading.count() == 1
            assert title in heading.inner_text()
        if can_render():
            assert page.locator("figure svg").count() >= 3
            box = page.locator("figure svg").first.bounding_box()
            assert box is not None and box["width"] > 200 and box["height"] > 50
        page.locator(f"nav.toc a[href='#{sections[-1][0]}']").click()
    finally:
        page.close()
    assert problems == []
    outside = [u for u in requests if not u.startswith(("file://", "data:"))]
    assert outside == []
    assert requests and requests[0] == documents[name].as_uri()


# A4 landscape less the 12 mm margins, in CSS pixels (96 per inch): the printed page's width.
PRINTED_WIDTH_PX = round((297 - 2 * 12) / 25.4 * 96)


@pytest.mark.parametrize("name", ["brief", "review"])
def test_printed_tables_fit_the_page(browser: Any, documents: dict[str, Path], name: str) -> None:
    """Printed, every table fits the page's width (on A4 portrait the review's periods and the
    brief's comparisons lost their last columns): laid out in print media at the printed
    width, no table reaches past the page."""
    page = browser.new_page(viewport={"width": PRINTED_WIDTH_PX, "height": 1000})
    try:
        page.emulate_media(media="print")
        page.goto(documents[name].as_uri(), wait_until="load", timeout=TIMEOUT_MS)
        too_wide = page.evaluate(
            """() => [...document.querySelectorAll('table')]
                .filter(t => t.getBoundingClientRect().right
                             > document.documentElement.clientWidth + 1)
                .map(t => t.querySelector('th').textContent)"""
        )
        size = page.evaluate(
            "() => [...document.styleSheets].flatMap(s => [...s.cssRules])"
            ".filter(r => r.type === CSSRule.PAGE_RULE).map(r => r.style.size)"
        )
    finally:
        page.close()
    assert too_wide == []
    assert size == ["a4 landscape"]
