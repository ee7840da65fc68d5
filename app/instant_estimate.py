"""The quick estimate, drawn in the browser the moment a slider moves.

The Scenario page works out the quick estimate (Erlang C per hour of the week, a few
milliseconds) for the position on the screen and for the positions one step from it — those
a user is likely to pick next, as for the runs made ahead — and sends them to the browser with
this element. When a slider on the screen moves to one of those positions, the element draws
its estimate at once (``instant_estimate.js``), without waiting for the server to run the page
again; otherwise the page's run brings the estimate, as before. Every number is the page's:
the browser only picks which to draw.

A position is known by its key: a context (the scenario and everything the sliders on the
screen do not change) and the value of each slider on the screen, as its range input holds it.
The browser reads the sliders by their labels, which the page passes with the estimates.

Built on Streamlit's components v2 (``st.components.v2.component``): the element lives in the
page itself, not in a frame, so it can read the sliders' values; its HTML is written with
``textContent`` only, so a label from an uploaded scenario is never read as markup.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import streamlit as st

from simkit import app_model as model

HERE = Path(__file__).resolve().parent

TABLE_KEY = "simkit_sla_table"
"""The key of the container the page draws its simulated SLA table in: the browser takes the
quick estimate away as soon as a table of the page's present run is drawn there."""
HEADING = "Quick estimate — instant, from queueing formulas"
CAPTION = (
    "An ESTIMATE (Erlang C per hour of the week), not the simulation: the simulated table "
    "replaces it when ready."
)
COLUMNS = [
    "SLA",
    "target",
    "within target (estimate)",
    "meets goal?",
    "mean (estimate)",
    "tickets in overloaded hours",
]

CSS = """
/* No room taken while there is nothing to show (the simulated table is on the screen). */
[data-testid="stElementContainer"]:has(.simkit-instant-estimate:empty) { display: none; }
.simkit-instant-estimate h4 { margin: 0 0 0.25rem 0; padding: 0; }
.simkit-instant-estimate p { margin: 0 0 0.5rem 0; font-size: 0.875rem; opacity: 0.7; }
.simkit-instant-estimate div { overflow-x: auto; }
.simkit-instant-estimate table { border-collapse: collapse; font-size: 0.875rem; width: 100%; }
.simkit-instant-estimate th, .simkit-instant-estimate td {
  border: 1px solid rgba(128, 128, 128, 0.25); padding: 0.2rem 0.5rem; text-align: left;
  white-space: nowrap;
}
.simkit-instant-estimate th { font-weight: 600; }
"""

_mount = st.components.v2.component(
    "simkit_instant_estimate",
    html='<div class="simkit-instant-estimate"></div>',
    css=CSS,
    js=(HERE / "instant_estimate.js").read_text(encoding="utf-8"),
    # In the page's own tree, not a shadow root: the bench and the tests find its heading as
    # they find the page's (it takes the page's fonts too).
    isolate_styles=False,
)


def context_of(scenario: str, positions: model.Positions) -> str:
    """What the sliders on the screen do not change: the scenario (``scenario``: its content
    key, with where its files resolve, :func:`simkit.app_model.run_key`), the sliders drawn in
    other tabs and the targets. An estimate is kept in the browser for this context only."""
    hidden = {
        axis: value for axis, value in positions.values.items() if axis not in positions.shown
    }
    text = json.dumps([scenario, hidden, positions.targets], sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def position_key(context: str, positions: model.Positions, moved: Mapping[str, Any]) -> str:
    """The key of the position ``moved`` (a slider or none moved from ``positions``), as the
    browser makes it from the sliders on the screen (``positionKey`` in the script)."""
    at = {**positions.values, **moved}
    return "|".join([context, *(f"{float(at[axis]):.6f}" for axis in positions.shown)])


def entry(estimate: Mapping[str, Any], position: str) -> dict[str, Any]:
    """One position's estimate as the browser draws it: the rows' cells in :data:`COLUMNS`
    order; ``position`` names it (for tests)."""
    rows = model.estimate_table(estimate)
    return {"position": position, "rows": [[str(row[c]) for c in COLUMNS] for row in rows]}


def show(
    context: str,
    labels: Sequence[str],
    current: str,
    entries: Mapping[str, dict[str, Any]],
    *,
    drawn: bool,
) -> None:
    """Draw the element: the estimate of the position ``current`` when ``drawn`` (the
    simulated table is not on the screen yet) — until the browser sees a table of the page's
    present run drawn in the container keyed :data:`TABLE_KEY` — nothing otherwise; ``entries``
    (position key -> :func:`entry`) are kept in the browser, ready for a move; ``labels``: the
    sliders on the screen, in the order of the key."""
    _mount(
        data={
            "context": context,
            "labels": list(labels),
            "current": current,
            "show": drawn,
            "entries": dict(entries),
            "table": TABLE_KEY,
            "heading": HEADING,
            "caption": CAPTION,
            "columns": COLUMNS,
        },
        height="content",
    )
