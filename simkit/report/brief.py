"""The negotiation brief: what a Service Level Manager takes into a negotiation.

:func:`brief_document` runs the analyses once — one simulation of the scenario feeds the
achievable targets, the OLA/UC alignment and the availability figures; each change runs against
the baseline with the same seed — and returns one JSON document. :func:`render_brief` turns it
into a self-contained HTML page (or Markdown) written for a customer: verdict sentences first,
every simulated figure with its 95% interval and the number of runs behind it, the assumptions
and the data sources at the end.

The document is built in :mod:`~simkit.report.brief_data`; the sections are drawn in
:mod:`~simkit.report.brief_targets` and :mod:`~simkit.report.brief_context`.
"""

from __future__ import annotations

import shlex
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from simkit.report.brief_context import (
    _assumptions_section,
    _availability_section,
    _impact_section,
    _sources_section,
    _teams_section,
)
from simkit.report.brief_data import DEFAULT_CONFIDENCE, MODEL_LIMITS, brief_document
from simkit.report.brief_data import scenario_assumptions as scenario_assumptions
from simkit.report.brief_targets import (
    _Brief,
    _ola_section,
    _options_section,
    _reading,
    _summary,
    _targets_section,
)
from simkit.report.html import (
    Document,
    Section,
    format_of,
    render_html,
    render_markdown,
    write_document,
)

__all__ = [
    "BRIEF_SECTIONS",
    "DEFAULT_CONFIDENCE",
    "MODEL_LIMITS",
    "brief_document",
    "render_brief",
    "write_brief",
    "write_demo_reports",
]

BRIEF_SECTIONS = (
    ("summary", "In short"),
    ("reading", "How to read this brief"),
    ("targets", "Proposed and achievable targets"),
    ("options", "Options: what more staff would buy"),
    ("ola", "Internal agreements (OLAs) and supplier contracts (UCs)"),
    ("impact", "Effect of the changes considered"),
    ("availability", "Availability and service credits"),
    ("teams", "Team workload in the simulation"),
    ("assumptions", "Assumptions"),
    ("sources", "Data sources and reproducibility"),
)
"""Section ids and titles of the brief, in order (every brief has all of them)."""


def _build(brief: _Brief) -> Document:
    """The brief's document model: every section in order, with the facts in its header."""
    makers: dict[str, Callable[[_Brief], list[Any]]] = {
        "summary": _summary,
        "reading": _reading,
        "targets": _targets_section,
        "options": _options_section,
        "ola": _ola_section,
        "impact": _impact_section,
        "availability": _availability_section,
        "teams": _teams_section,
        "assumptions": _assumptions_section,
        "sources": _sources_section,
    }
    sections = tuple(
        Section(key, f"{i}. {title}", tuple(makers[key](brief)))
        for i, (key, title) in enumerate(BRIEF_SECTIONS, start=1)
    )
    run = brief.doc["assumptions"]["run"]
    facts = (
        ("Service levels for", str(brief.doc["scenario"])),
        ("Simulated", f"{run['horizon_words']} from {run['start']} ({run['timezone']})"),
        ("Runs", f"{brief.n} replications, seed {brief.doc['seed']}"),
        ("Promise means", f"met in at least {brief.c:.0%} of {brief.period}s"),
        ("Prepared", str(brief.doc["generated"])),
    )
    return Document(
        title=f"Service level brief — {brief.doc['scenario']}",
        subtitle="What we can promise, what it takes, and how sure we are.",
        sections=sections,
        facts=facts,
        footer=(
            "Figures are estimates from a simulation of the service under the assumptions "
            "listed in this brief; intervals are 95%. Prepared with simkit."
        ),
    )


def render_brief(document: Mapping[str, Any], *, format: str = "html", charts: bool = True) -> str:
    """The brief as text.

    Parameters
    ----------
    document
        From :func:`brief_document`.
    format
        ``"html"`` (one self-contained page) or ``"md"`` (Markdown; charts left out with a note
        — :func:`write_brief` writes them beside the file).
    charts
        Draw the charts (needs Altair and vl-convert-python; without them each chart is
        replaced by a note).
    """
    output = "--out brief.md" if format == "md" else "--out brief.html"
    built = _build(_Brief(document, charts, output))
    if format == "html":
        return render_html(built)
    if format == "md":
        return render_markdown(built)[0]
    raise ValueError(f"format must be 'html' or 'md', got {format!r}")


def write_brief(
    document: Mapping[str, Any], out: str | Path, *, format: str | None = None, charts: bool = True
) -> list[Path]:
    """Write the brief to ``out``; Markdown gets its charts as SVG files beside it.

    Parameters
    ----------
    document
        From :func:`brief_document`.
    out
        The file to write.
    format
        ``"html"`` or ``"md"``; default from the file's suffix (``.md`` → Markdown, else HTML).
    charts
        Draw the charts.

    Returns
    -------
    list of Path
        Every file written, the document first.
    """
    path = Path(out)
    output = f"--out {shlex.quote(path.name)}"
    if format is not None and format != format_of(path):
        output += f" --format {format}"
    return write_document(_build(_Brief(document, charts, output)), path, format)


# -- the demo ------------------------------------------------------------------------------------

DEMO_BRIEF_SCENARIO = "new_service_slr.yaml"
"""The example scenario whose brief the demo writes: a new service's proposed targets."""
DEMO_BRIEF_CHANGES = ("third_analyst", "relaxed_p2")


def write_demo_reports(out_dir: str | Path, *, replications: int | None = None) -> list[Path]:
    """Write the negotiation brief of the example new service and the service review pack of the
    bundled sample history into ``out_dir`` (``brief.html``, ``review.html``).

    Parameters
    ----------
    out_dir
        The folder to write into (created if needed).
    replications
        Replications of every simulation (default: each scenario's own).

    Returns
    -------
    list of Path
        The files written.
    """
    from simkit.calibrate import load_history
    from simkit.calibrate.review import review
    from simkit.report.review_pack import write_review_pack
    from simkit.resources import calibration_dir, examples_dir
    from simkit.scenario import load_scenario

    folder = Path(out_dir)
    folder.mkdir(parents=True, exist_ok=True)
    scenario = load_scenario(examples_dir() / DEMO_BRIEF_SCENARIO)
    brief = brief_document(scenario, changes=DEMO_BRIEF_CHANGES, replications=replications)
    written = write_brief(brief, folder / "brief.html")
    sample = calibration_dir() / "sample"
    sample_scenario = load_scenario(sample / "scenario.yaml")
    # the sample's clock times are its scenario's local time, not the profile's default (UTC)
    history = load_history(
        sample / "servicenow_incidents.csv.gz", "servicenow", timezone=sample_scenario.timezone
    )
    document = review(history, sample_scenario)
    written += write_review_pack(
        document, folder / "review.html", scenario=sample_scenario, replications=replications
    )
    return written
