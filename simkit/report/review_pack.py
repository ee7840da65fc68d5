"""The service review pack: how the service levels were met, period by period, for the review
meeting — built on the measured review of :func:`simkit.calibrate.review.review`.

Colours (red/amber/green) of a target in a period, against its goal:

- **green**: met, with more than :data:`AMBER_MARGIN` (2 percentage points) to spare;
- **amber**: met, but within 2 points of the goal, or met only through the contract's
  small-sample rule (compliance below the goal, but no more breaches than a thin period allows);
- **red**: missed;
- **grey**: no measured ticket (nothing to judge).

Over the whole span (no small-sample rule there) the same margins apply to the compliance. For
availability the margin is the downtime allowance: amber when a period used more than
:data:`AVAILABILITY_AMBER_USED` (80%) of the downtime the target allows, red below the target.

Where a scenario is given, :func:`expected_performance` simulates it over the same span, observed
as the history was (no drain: tickets still open at the export stay open), so each measured
figure sits next to the model's expectation: the mean over the runs with its 95% interval, and
the *range of the runs*, where one real history should fall if the model is right (with the
chance that a history of the model falls outside it: 5% or less from 39 runs).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from concurrent.futures import Executor
from pathlib import Path
from typing import Any

import pyarrow as pa

from simkit.errors import InputError
from simkit.report.html import Document, Section, render_html, render_markdown, write_document
from simkit.report.review_context import _availability, _data, _model, _ola
from simkit.report.review_data import (
    AMBER_MARGIN,
    AVAILABILITY_AMBER_USED,
    availability_status,
    expected_performance,
    history_availability,
    rag_status,
    review_span_scenario,
)
from simkit.report.review_sla import (
    _breaches,
    _colours,
    _compliance,
    _day,
    _Pack,
    _summary,
    _trends,
)
from simkit.runner import Progress
from simkit.scenario import Scenario

__all__ = [
    "AMBER_MARGIN",
    "AVAILABILITY_AMBER_USED",
    "REVIEW_SECTIONS",
    "availability_status",
    "expected_performance",
    "history_availability",
    "rag_status",
    "render_review_pack",
    "review_span_scenario",
    "write_review_pack",
]

REVIEW_SECTIONS = (
    ("summary", "In short"),
    ("colours", "How to read the colours"),
    ("compliance", "Compliance per period"),
    ("trends", "Trends"),
    ("breaches", "Breaches, worst first"),
    ("ola", "Internal agreements (OLAs) and supplier contracts (UCs)"),
    ("availability", "Availability"),
    ("model", "Against the model"),
    ("data", "Data, names and quality"),
)
"""Section ids and titles of the review pack, in order (every pack has all of them)."""


def _build(pack: _Pack) -> Document:
    """The pack's document model: every section in order, with the facts in its header."""
    makers: dict[str, Callable[[_Pack], list[Any]]] = {
        "summary": _summary,
        "colours": _colours,
        "compliance": _compliance,
        "trends": _trends,
        "breaches": _breaches,
        "ola": _ola,
        "availability": _availability,
        "model": _model,
        "data": _data,
    }
    sections = tuple(
        Section(key, f"{i}. {title}", tuple(makers[key](pack)))
        for i, (key, title) in enumerate(REVIEW_SECTIONS, start=1)
    )
    span = pack.span
    facts = [
        ("Service", str(pack.review["scenario"])),
        ("Span", f"{_day(span['start'])} to {_day(span['end'])} ({span['timezone']})"),
        ("Reported by", pack.period),
        ("History", f"{pack.review['source']} ({pack.review['profile']} profile)"),
    ]
    if pack.expected is not None:
        facts.append(("Model", f"{pack.runs} simulated runs, seed {pack.expected['seed']}"))
    return Document(
        title=f"Service review — {pack.review['scenario']}",
        subtitle=f"Service levels as delivered, {pack.period} by {pack.period}.",
        sections=sections,
        facts=tuple(facts),
        footer="Measured with the same code that tests proposed service levels; "
        "prepared with simkit.",
    )


def render_review_pack(
    review_document: Mapping[str, Any],
    *,
    expected: Mapping[str, Any] | None = None,
    availability: Mapping[str, Any] | None = None,
    format: str = "html",
    charts: bool = True,
    margin: float = AMBER_MARGIN,
) -> str:
    """The service review pack as text.

    Parameters
    ----------
    review_document
        From :func:`simkit.calibrate.review.review`.
    expected
        From :func:`expected_performance` (the model's expectation over the same span), or
        ``None``.
    availability
        From :func:`history_availability` (measured availability), or ``None``.
    format
        ``"html"`` (one self-contained page) or ``"md"`` (Markdown without its charts).
    charts
        Draw the charts (needs Altair and vl-convert-python).
    margin
        The amber margin (:data:`AMBER_MARGIN`).
    """
    built = _build(_Pack(review_document, expected, availability, charts, margin))
    if format == "html":
        return render_html(built)
    if format == "md":
        return render_markdown(built)[0]
    raise ValueError(f"format must be 'html' or 'md', got {format!r}")


def write_review_pack(
    review_document: Mapping[str, Any],
    out: str | Path,
    *,
    scenario: Scenario | None = None,
    outages: pa.Table | None = None,
    replications: int | None = None,
    seed: int | None = None,
    executor: Executor | None = None,
    progress: Progress | None = None,
    format: str | None = None,
    charts: bool = True,
    expected: Mapping[str, Any] | None = None,
) -> list[Path]:
    """Write the review pack, simulating the scenario over the review's span first when one is
    given (``replications=0`` skips the simulation) and measuring an outage history if given.

    Parameters
    ----------
    review_document
        From :func:`simkit.calibrate.review.review`.
    out
        The file to write; ``.md`` writes Markdown with its charts as SVG files beside it.
    scenario
        The scenario for the model's expectation and the availability targets.
    outages
        An outage table (e.g. ``simkit.calibrate.outages.load_outages(...).outages``). Without
        it, the availability the review itself measured (``simkit review --outages``) is shown.
    replications, seed, executor, progress
        For the simulation (default: the scenario's replications and seed).
    format
        ``"html"`` or ``"md"`` (default from the suffix).
    charts
        Draw the charts.
    expected
        The model's expectation already made (:func:`expected_performance`, e.g. to print it
        too): the scenario is then not simulated again.

    Returns
    -------
    list of Path
        Every file written, the document first.
    """
    if expected is None and scenario is not None and replications != 0:
        expected = expected_performance(
            review_document,
            scenario,
            replications=replications,
            seed=seed,
            executor=executor,
            progress=progress,
        )
    measured = None
    if outages is not None:
        if scenario is None:
            raise InputError.single(
                "an outage history needs a scenario with availability targets",
                "give --scenario with services.<name>.availability",
                path="--outages",
            )
        measured = history_availability(outages, review_document, scenario)
    elif review_document.get("availability_periods"):
        measured = {
            "availability": review_document["availability"],
            "periods": review_document["availability_periods"],
        }
    built = _build(_Pack(review_document, expected, measured, charts, AMBER_MARGIN))
    return write_document(built, Path(out), format)
