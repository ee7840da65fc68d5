"""Static rendering of the charts of :mod:`simkit.report.charts`: Altair (Vega-Lite) → SVG through
``vl-convert-python``, which runs Vega in-process — no browser, no network.

The SVG is made safe to inline next to others in one page: its element ids (clip paths,
gradients) get a prefix unique to the chart, it scales to its container, and it carries an
accessible name.
"""

from __future__ import annotations

import html
import importlib.util
import itertools
import re
from collections.abc import Callable
from typing import Any

from simkit.report.html import Figure

__all__ = ["MISSING_RENDERER", "can_render", "chart_figure", "chart_svg"]

MISSING_RENDERER = (
    "static charts need Altair and vl-convert-python: pip install 'simkit[app]' vl-convert-python"
)
"""What to say when a chart cannot be drawn here."""

DEFAULT_WIDTH = 760
"""Plot width in pixels of a chart whose width follows its container in the app."""

_ids = itertools.count(1)
_ID = re.compile(r'\bid="([^"]+)"')
_PROLOG = re.compile(r"^\s*<\?xml[^>]*\?>\s*")


def can_render() -> bool:
    """Whether Altair and vl-convert-python are installed."""
    return all(importlib.util.find_spec(name) is not None for name in ("altair", "vl_convert"))


def _unique_ids(svg: str, prefix: str) -> str:
    names = set(_ID.findall(svg))
    if not names:
        return svg

    def rename(match: re.Match[str]) -> str:
        name = match.group(2)
        return f"{match.group(1)}{prefix}{name}" if name in names else match.group(0)

    svg = re.sub(r'(\bid=")([^"]+)(?=")', rename, svg)
    svg = re.sub(r"(url\(#)([^)]+)(?=\))", rename, svg)
    return re.sub(r'((?:xlink:)?href="#)([^"]+)(?=")', rename, svg)


def chart_svg(chart: Any, *, width: int = DEFAULT_WIDTH, label: str = "") -> str:
    """Render an Altair chart as inline SVG.

    Parameters
    ----------
    chart
        An Altair chart (any of :mod:`simkit.report.charts`).
    width
        Plot width in pixels, used where the chart's width follows its container.
    label
        Accessible name of the image (defaults to the chart's title).

    Returns
    -------
    str
        An ``<svg>`` element that scales to its container.

    Raises
    ------
    ImportError
        When vl-convert-python is not installed (:data:`MISSING_RENDERER` says what to do).
    """
    try:
        import vl_convert
    except ImportError as error:  # pragma: no cover - depends on the installation
        raise ImportError(MISSING_RENDERER) from error
    spec = chart.to_dict()
    if spec.get("width") == "container" or "width" not in spec:
        spec["width"] = width
    svg = _PROLOG.sub(
        "", vl_convert.vegalite_to_svg(spec, vl_version=_vl_version(), allowed_base_urls=[])
    )
    svg = _unique_ids(svg, f"c{next(_ids)}-")
    title = label or _title(spec)
    attributes = ' role="img" preserveAspectRatio="xMinYMin meet"'
    if title:
        attributes += f' aria-label="{html.escape(title, quote=True)}"'
    return svg.replace("<svg ", f"<svg{attributes} ", 1)


def chart_figure(
    build: Callable[[], Any],
    *,
    caption: str,
    name: str,
    charts: bool = True,
    width: int = DEFAULT_WIDTH,
) -> Figure:
    """A :class:`~simkit.report.html.Figure` of the chart ``build()`` makes, or an empty one
    saying why it was not drawn (charts switched off, or no renderer installed).

    ``build`` is called only when the chart is drawn, so Altair is imported only then.
    """
    if not charts:
        return Figure(None, caption, name, "charts were switched off")
    if not can_render():
        return Figure(None, caption, name, MISSING_RENDERER)
    return Figure(chart_svg(build(), width=width), caption, name)


def _vl_version() -> str:
    """The Vega-Lite version Altair writes, as vl-convert names it (``v6_4``)."""
    from altair import SCHEMA_VERSION

    return "_".join(str(SCHEMA_VERSION).split(".")[:2])


def _title(spec: dict[str, Any]) -> str:
    title = spec.get("title")
    if isinstance(title, dict):
        title = title.get("text")
    if isinstance(title, list):
        title = " ".join(str(t) for t in title)
    return str(title) if title else ""
