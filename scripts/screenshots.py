"""Regenerate the README screenshots: one PNG per workbench page into docs/screenshots/.

Usage::

    .venv/bin/python scripts/screenshots.py [--out docs/screenshots] [--page NAME ...]
    .venv/bin/python scripts/screenshots.py --documents    # brief.png and review.png

Starts ``streamlit run app/streamlit_app.py`` headless on a free port, opens every page in
Debian's chromium (``/usr/bin/chromium``) through playwright, waits until the page has drawn its
simulated figures, and saves a PNG per page (palette-quantised when Pillow is installed, to keep
the committed files small). Needs ``apt-get install chromium`` and the ``dev`` extra.
"""

from __future__ import annotations

import argparse
import io
import os
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run as ``python scripts/screenshots.py``
    sys.path.insert(0, str(ROOT))

from scripts.browser import CHROMIUM, CHROMIUM_ARGS, streamlit_server  # noqa: E402


@dataclass(frozen=True)
class Shot:
    """One page: its URL path, a button to press first (if any), the text to wait for and a tab
    to open before the picture (if any)."""

    name: str
    path: str
    wait_for: str
    click: str | None = None
    tab: str | None = None
    cell: str | None = None
    """A cell of a table grid to wait for too (the Scenario page sends its simulated table's
    heading before the run, so the heading alone does not say the table is there)."""
    height: int = 1500


SHOTS = (
    Shot("scenario", "", "Simulated SLA table", cell="payroll P1 respond"),
    Shot("availability", "availability", "Availability —"),
    Shot("targets", "targets", "agents added", click="Run the staffing options"),
    Shot("impact", "impact", "Paired differences", click="Compare with the baseline"),
    Shot("ola", "ola", "Alignment per SLA target"),
    Shot("calibrate", "calibrate", "Fitted:", tab="Fitted"),
)


def available_pages(url: str, shots: tuple[Shot, ...]) -> tuple[Shot, ...]:
    """The shots whose page is in the app's navigation (pages whose engine part is missing are
    not shown by the app, and not photographed)."""
    present = []
    for shot in shots:
        if shot.path == "" or (ROOT / "app" / "app_pages" / f"{shot.name}.py").exists():
            present.append(shot)
    return tuple(present)


def _small_png(data: bytes) -> bytes:
    """The PNG quantised to a 128-colour palette when Pillow is there (a third of the size)."""
    try:
        from PIL import Image
    except ImportError:
        return data
    image = Image.open(io.BytesIO(data)).convert("RGB")
    out = io.BytesIO()
    image.quantize(colors=128, method=Image.Quantize.MEDIANCUT).save(out, "PNG", optimize=True)
    return out.getvalue()


def take(
    url: str, shots: tuple[Shot, ...], out: Path, timeout_s: float, full_page: bool = False
) -> list[Path]:
    from playwright.sync_api import sync_playwright

    written = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            for shot in shots:
                page = browser.new_page(viewport={"width": 1400, "height": shot.height})
                page.goto(f"{url}/{shot.path}", wait_until="domcontentloaded")
                if shot.click:
                    button = page.get_by_role("button", name=shot.click)
                    button.wait_for(timeout=timeout_s * 1000)
                    button.click()
                page.get_by_text(shot.wait_for).first.wait_for(
                    state="attached", timeout=timeout_s * 1000
                )
                if shot.cell:
                    page.locator("[role=gridcell]", has_text=shot.cell).first.wait_for(
                        state="attached", timeout=timeout_s * 1000
                    )
                page.get_by_text("Simulating").first.wait_for(
                    state="detached", timeout=timeout_s * 1000
                )
                if shot.tab:
                    page.get_by_role("tab", name=shot.tab).click()
                page.wait_for_timeout(2500)  # charts finish drawing
                path = out / f"{shot.name}.png"
                path.write_bytes(_small_png(page.screenshot(full_page=full_page)))
                written.append(path)
                page.close()
        finally:
            browser.close()
    return written


DOCUMENTS = ("brief", "review")
"""The two documents ``make demo`` writes, photographed at the top of their first page."""


def documents(out: Path) -> list[Path]:
    """``brief.png`` and ``review.png``: the negotiation brief and the service review pack as
    ``make demo`` writes them (:func:`simkit.report.brief.write_demo_reports`), opened from
    their files in chromium."""
    import tempfile

    from playwright.sync_api import sync_playwright

    from simkit.report.brief import write_demo_reports

    written = []
    with tempfile.TemporaryDirectory() as folder:
        write_demo_reports(folder)
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            try:
                for name in DOCUMENTS:
                    page = browser.new_page(viewport={"width": 1280, "height": 2000})
                    page.goto((Path(folder) / f"{name}.html").as_uri(), wait_until="load")
                    path = out / f"{name}.png"
                    path.write_bytes(_small_png(page.screenshot()))
                    written.append(path)
                    page.close()
            finally:
                browser.close()
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshots")
    parser.add_argument("--page", action="append", help="only these pages (by name)")
    parser.add_argument("--timeout", type=float, default=180.0, help="seconds per page")
    parser.add_argument("--full-page", action="store_true", help="the whole scrolled page")
    parser.add_argument(
        "--documents",
        action="store_true",
        help="instead of the pages: the brief and the review pack as make demo writes them",
    )
    args = parser.parse_args(argv)
    if not Path(CHROMIUM).exists():
        print(f"{CHROMIUM} is missing: apt-get install chromium", file=sys.stderr)
        return 2
    args.out.mkdir(parents=True, exist_ok=True)
    if args.documents:
        for path in documents(args.out):
            print(f"wrote {path} ({path.stat().st_size // 1024} KiB)")
        return 0
    log = args.out / ".streamlit.log"
    with streamlit_server(
        log, env={"SIMKIT_APP_WORKERS": os.environ.get("SIMKIT_APP_WORKERS", "2")}
    ) as url:
        shots = available_pages(url, SHOTS)
        if args.page:
            shots = tuple(s for s in shots if s.name in args.page)
        for path in take(url, shots, args.out, args.timeout, args.full_page):
            print(f"wrote {path} ({path.stat().st_size // 1024} KiB)")
    log.unlink(missing_ok=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
