"""Building blocks of the printed documents: a small document model rendered as one
self-contained HTML page or as Markdown.

A report is a :class:`Document` of :class:`Section` s holding blocks (:class:`Para`,
:class:`Bullets`, :class:`Table`, :class:`Figure`); text is plain strings with :class:`Strong`
and :class:`Badge` spans. The HTML page carries its CSS inline, embeds charts as inline SVG, loads
nothing (a Content-Security-Policy forbids every fetch) and needs no script, so it opens offline,
prints, and can be mailed as one file. The same document renders as Markdown, with charts as
separate SVG files beside it.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from simkit.errors import InputError
from simkit.units import format_duration

__all__ = [
    "HTML_NAMES",
    "MARKDOWN_NAMES",
    "RAG_WORDS",
    "Badge",
    "Bullets",
    "Cell",
    "Document",
    "Figure",
    "Figures",
    "Inline",
    "Para",
    "Section",
    "Small",
    "Strong",
    "Table",
    "fmt_hours",
    "fmt_money",
    "format_of",
    "render_html",
    "render_markdown",
    "target_text",
    "write_document",
]


@dataclass(frozen=True)
class Strong:
    """Emphasised text."""

    text: str


@dataclass(frozen=True)
class Small:
    """A small second line under a cell's or an item's main text (HTML), or a parenthesis
    (Markdown)."""

    text: str


@dataclass(frozen=True)
class Badge:
    """A coloured status label: ``green``, ``amber``, ``red`` or ``grey`` (its ``text`` is what
    a reader sees; colour is never the only signal)."""

    status: str
    text: str


Inline = str | Strong | Small | Badge
Cell = Inline | Sequence[Inline]

RAG_WORDS = {"green": "✓", "amber": "!", "red": "✗", "grey": "·"}
"""A symbol per status, so that a badge reads without colour (print, screen readers)."""


@dataclass(frozen=True)
class Para:
    """A paragraph; ``kind`` is ``""``, ``"lead"`` (a headline), or ``"note"`` (small print)."""

    parts: tuple[Inline, ...]
    kind: str = ""

    @classmethod
    def of(cls, *parts: Inline, kind: str = "") -> Para:
        return cls(tuple(parts), kind)


@dataclass(frozen=True)
class Bullets:
    """A list of short paragraphs."""

    items: tuple[tuple[Inline, ...], ...]

    @classmethod
    def of(cls, items: Iterable[Inline | Sequence[Inline]]) -> Bullets:
        return cls(tuple(_parts(item) for item in items))


@dataclass(frozen=True)
class Table:
    """A table; ``numeric`` columns are right-aligned."""

    headers: tuple[str, ...]
    rows: tuple[tuple[Cell, ...], ...]
    numeric: frozenset[int] = frozenset()
    caption: str = ""

    @classmethod
    def of(
        cls,
        headers: Sequence[str],
        rows: Iterable[Sequence[Cell]],
        *,
        numeric: Iterable[int] = (),
        caption: str = "",
    ) -> Table:
        return cls(tuple(headers), tuple(tuple(r) for r in rows), frozenset(numeric), caption)


@dataclass(frozen=True)
class Figure:
    """A chart: inline SVG (``None`` when it could not be drawn; ``missing`` says why), a
    caption, and ``name``, the file stem it gets beside a Markdown document."""

    svg: str | None
    caption: str
    name: str
    missing: str = ""


@dataclass(frozen=True)
class Figures:
    """Several charts side by side where the page is wide enough."""

    figures: tuple[Figure, ...]


Block = Para | Bullets | Table | Figure | Figures


@dataclass(frozen=True)
class Section:
    """A titled section with a stable ``id`` (the anchor of the table of contents)."""

    id: str
    title: str
    blocks: tuple[Block, ...]


@dataclass(frozen=True)
class Document:
    """A whole report: title, a line under it, facts shown at the top, and its sections."""

    title: str
    subtitle: str
    sections: tuple[Section, ...]
    facts: tuple[tuple[str, str], ...] = ()
    footer: str = ""
    meta: Mapping[str, Any] = field(default_factory=dict)


def _parts(item: Inline | Sequence[Inline]) -> tuple[Inline, ...]:
    if isinstance(item, str | Strong | Small | Badge):
        return (item,)
    return tuple(item)


# -- formatting --------------------------------------------------------------------------------


def fmt_hours(value: float | None) -> str:
    """Business hours for people: ``'12 min'``, ``'5.2 h'``, ``'130 h'``; ``—`` when missing."""
    if value is None:
        return "—"
    if value < 1:
        minutes = value * 60
        return f"{minutes:.1f} min" if minutes < 10 else f"{minutes:.0f} min"
    return f"{value:.1f} h" if value < 100 else f"{value:,.0f} h"


def fmt_money(value: float | None) -> str:
    """``12,345`` (no currency: the scenario's fee has none); ``—`` when missing."""
    return "—" if value is None else f"{value:,.0f}"


def target_text(row: Mapping[str, Any]) -> str:
    """A target as a contract writes it: ``'95% within 4h (24x7)'``."""
    goal = row["goal"] * 100
    goal_text = f"{goal:.0f}%" if abs(goal - round(goal)) < 1e-9 else f"{goal:.1f}%"
    within = row.get("within_h", row.get("proposed_within_h"))
    return f"{goal_text} within {format_duration(float(within))} ({row['calendar']})"


# -- HTML --------------------------------------------------------------------------------------

_CSS = """
:root{--ink:#1f2933;--muted:#52606d;--line:#d9e2ec;--soft:#f5f7fa;--accent:#1f4e79}
*{box-sizing:border-box}
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,Helvetica,Arial,sans-serif;
 color:var(--ink);margin:0;background:#fff;line-height:1.45;font-size:15px}
main{max-width:74rem;margin:0 auto;padding:2rem 1.5rem 3rem}
header.doc{border-bottom:3px solid var(--accent);margin-bottom:1rem;padding-bottom:.6rem}
h1{font-size:1.6rem;margin:0 0 .25rem;color:var(--accent)}
.subtitle{color:var(--muted);margin:0}
dl.facts{display:grid;grid-template-columns:max-content 1fr;gap:.15rem 1rem;margin:.8rem 0 0;
 font-size:.9rem}
dl.facts dt{color:var(--muted)}dl.facts dd{margin:0}
nav.toc{background:var(--soft);border:1px solid var(--line);border-radius:6px;padding:.5rem 1rem;
 margin:1rem 0 1.5rem;font-size:.9rem}
nav.toc ul{margin:.2rem 0;padding-left:0;list-style:none;columns:2}
nav.toc a{color:var(--accent);text-decoration:none}
section{margin-top:2rem}
h2{font-size:1.2rem;border-bottom:1px solid var(--line);padding-bottom:.2rem;color:var(--accent)}
p.lead{font-size:1.05rem}
p.note,.note{color:var(--muted);font-size:.85rem}
table{border-collapse:collapse;font-size:.85rem;margin:.6rem 0 1rem;width:100%}
caption{text-align:left;font-weight:600;padding:.2rem 0}
th,td{padding:.3rem .45rem;border-bottom:1px solid var(--line);text-align:left;vertical-align:top}
th{background:var(--soft);font-weight:600}
td.n,th.n{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
tbody tr:nth-child(even){background:#fbfcfd}
.badge{display:inline-block;border-radius:999px;padding:.05rem .55rem;font-size:.8rem;
 font-weight:600;white-space:nowrap;border:1px solid transparent}
.rag-green{background:#e3f4e8;color:#1b5e31;border-color:#a8d5b5}
.rag-amber{background:#fff3d6;color:#7a4d00;border-color:#f0c96a}
.rag-red{background:#fde8e7;color:#9b1c14;border-color:#f1a9a4}
.rag-grey{background:#eef0f3;color:#52606d;border-color:#d3d8de}
.wide{overflow-x:auto}
.sub{display:block;font-size:.75rem;color:var(--muted);font-weight:400}
.figures{display:grid;grid-template-columns:repeat(auto-fill,minmax(32rem,1fr));gap:0 1.5rem}
figure{margin:1rem 0}figure svg{max-width:100%;height:auto;display:block}
figcaption{font-size:.85rem;color:var(--muted);margin-top:.3rem}
.missing{border:1px dashed var(--line);padding:.6rem;color:var(--muted);font-size:.85rem}
footer{margin-top:3rem;border-top:1px solid var(--line);padding-top:.6rem;color:var(--muted);
 font-size:.8rem}
@page{size:A4 landscape;margin:12mm}
@media print{main{max-width:none;padding:0}nav.toc{display:none}section{break-inside:auto}
 figure,table{break-inside:avoid}table{font-size:.78rem}th,td{padding:.2rem .3rem}}
"""
"""Printed, the pages are A4 landscape: their widest tables (the review's periods, the brief's
comparisons) need its width, and portrait paper cut their last columns off."""

_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; font-src data:"
"""Nothing may be fetched: the page is complete as it is."""


def _e(text: str) -> str:
    return html.escape(text, quote=True)


def _inline_html(part: Inline) -> str:
    if isinstance(part, Strong):
        return f"<strong>{_e(part.text)}</strong>"
    if isinstance(part, Small):
        return f'<span class="sub">{_e(part.text)}</span>'
    if isinstance(part, Badge):
        symbol = RAG_WORDS.get(part.status, "")
        return (
            f'<span class="badge rag-{_e(part.status)}">'
            f"{_e(symbol + ' ' if symbol else '')}{_e(part.text)}</span>"
        )
    return _e(part)


def _parts_html(parts: Iterable[Inline]) -> str:
    return "".join(_inline_html(p) for p in parts)


def _table_html(table: Table) -> str:
    def cls(i: int) -> str:
        return ' class="n"' if i in table.numeric else ""

    head = "".join(f"<th{cls(i)}>{_e(h)}</th>" for i, h in enumerate(table.headers))
    body = "".join(
        "<tr>"
        + "".join(f"<td{cls(i)}>{_parts_html(_parts(c))}</td>" for i, c in enumerate(row))
        + "</tr>"
        for row in table.rows
    )
    caption = f"<caption>{_e(table.caption)}</caption>" if table.caption else ""
    return (
        f'<div class="wide"><table>{caption}<thead><tr>{head}</tr></thead>'
        f"<tbody>{body}</tbody></table></div>"
    )


def _block_html(block: Block) -> str:
    if isinstance(block, Para):
        kind = f' class="{block.kind}"' if block.kind else ""
        return f"<p{kind}>{_parts_html(block.parts)}</p>"
    if isinstance(block, Bullets):
        items = "".join(f"<li>{_parts_html(item)}</li>" for item in block.items)
        return f"<ul>{items}</ul>"
    if isinstance(block, Table):
        return _table_html(block)
    if isinstance(block, Figures):
        return '<div class="figures">' + "".join(_block_html(f) for f in block.figures) + "</div>"
    if block.svg is None:
        return (
            f'<figure><div class="missing">Chart not drawn: {_e(block.missing)}</div>'
            f"<figcaption>{_e(block.caption)}</figcaption></figure>"
        )
    return f"<figure>{block.svg}<figcaption>{_e(block.caption)}</figcaption></figure>"


def render_html(document: Document) -> str:
    """The document as one self-contained HTML page (inline CSS and SVG, no script, no fetch).

    Parameters
    ----------
    document
        The report.

    Returns
    -------
    str
        A complete HTML5 page.
    """
    facts = ""
    if document.facts:
        facts = (
            '<dl class="facts">'
            + "".join(f"<dt>{_e(k)}</dt><dd>{_e(v)}</dd>" for k, v in document.facts)
            + "</dl>"
        )
    toc = "".join(f'<li><a href="#{_e(s.id)}">{_e(s.title)}</a></li>' for s in document.sections)
    sections = "".join(
        f'<section id="{_e(s.id)}"><h2>{_e(s.title)}</h2>'
        + "".join(_block_html(b) for b in s.blocks)
        + "</section>"
        for s in document.sections
    )
    footer = f"<footer>{_e(document.footer)}</footer>" if document.footer else ""
    return (
        "<!doctype html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        f'<meta http-equiv="Content-Security-Policy" content="{_CSP}">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{_e(document.title)}</title><style>{_CSS}</style></head>\n"
        f'<body><main><header class="doc"><h1>{_e(document.title)}</h1>'
        f'<p class="subtitle">{_e(document.subtitle)}</p>{facts}</header>'
        f'<nav class="toc" aria-label="contents"><strong>Contents</strong><ul>{toc}</ul></nav>\n'
        f"{sections}\n{footer}</main></body></html>\n"
    )


# -- Markdown ----------------------------------------------------------------------------------

_MD_SPECIAL = re.compile(r"([\\`*_\[\]<>|])")


def _md(text: str) -> str:
    return _MD_SPECIAL.sub(r"\\\1", text).replace("\n", " ")


def _inline_md(part: Inline) -> str:
    if isinstance(part, Strong):
        # spaces go outside the asterisks: CommonMark does not close "**text **"
        core = part.text.strip()
        lead = part.text[: len(part.text) - len(part.text.lstrip())]
        trail = part.text[len(part.text.rstrip()) :]
        return f"{lead}**{_md(core)}**{trail}" if core else part.text
    if isinstance(part, Small):
        return f" ({_md(part.text)})"
    if isinstance(part, Badge):
        symbol = RAG_WORDS.get(part.status, "")
        return f"{symbol} {_md(part.text)}".strip()
    return _md(part)


def _parts_md(parts: Iterable[Inline]) -> str:
    return "".join(_inline_md(p) for p in parts)


def _table_md(table: Table) -> str:
    def align(i: int) -> str:
        return "---:" if i in table.numeric else "---"

    lines = []
    if table.caption:
        lines.append(f"*{_md(table.caption)}*\n")
    lines.append("| " + " | ".join(_md(h) for h in table.headers) + " |")
    lines.append("|" + "|".join(align(i) for i in range(len(table.headers))) + "|")
    lines += ["| " + " | ".join(_parts_md(_parts(c)) for c in row) + " |" for row in table.rows]
    return "\n".join(lines)


def render_markdown(
    document: Document, *, chart_prefix: str | None = None
) -> tuple[str, dict[str, str]]:
    """The document as Markdown, and the charts to write beside it.

    Parameters
    ----------
    document
        The report.
    chart_prefix
        File-name prefix of the chart files (e.g. the Markdown file's stem); ``None`` leaves the
        charts out, with a note where each would be.

    Returns
    -------
    text, charts
        The Markdown text and ``{file name: SVG text}`` for the charts it links to.
    """
    out = [f"# {_md(document.title)}", "", _md(document.subtitle), ""]
    out += [f"- **{_md(k)}:** {_md(v)}" for k, v in document.facts]
    charts: dict[str, str] = {}
    for section in document.sections:
        out += ["", f'<a id="{section.id}"></a>', "", f"## {_md(section.title)}", ""]
        blocks: list[Block] = []
        for block in section.blocks:
            blocks += list(block.figures) if isinstance(block, Figures) else [block]
        for block in blocks:
            if isinstance(block, Para):
                text = _parts_md(block.parts)
                out += [f"*{text}*" if block.kind == "note" else text, ""]
            elif isinstance(block, Bullets):
                out += [f"- {_parts_md(item)}" for item in block.items] + [""]
            elif isinstance(block, Table):
                out += [_table_md(block), ""]
            elif isinstance(block, Figures):
                continue
            elif block.svg is None:
                out += [f"*Chart not drawn ({_md(block.missing)}): {_md(block.caption)}*", ""]
            elif chart_prefix is None:
                out += [f"*Chart left out of the Markdown version: {_md(block.caption)}*", ""]
            else:
                name = f"{chart_prefix}.{block.name}.svg"
                charts[name] = block.svg
                out += [f"![{_md(block.caption)}]({name})", "", f"*{_md(block.caption)}*", ""]
    if document.footer:
        out += ["---", "", _md(document.footer), ""]
    return "\n".join(out).rstrip() + "\n", charts


HTML_NAMES = (".html", ".htm")
MARKDOWN_NAMES = (".md", ".markdown")


def format_of(path: Path, format: str | None = None) -> str:
    """The format a document is written in: ``format`` if given, else what the file name says
    (``.md``/``.markdown`` → ``"md"``, anything else → ``"html"``)."""
    if format is not None:
        return format
    return "md" if path.suffix.lower() in MARKDOWN_NAMES else "html"


def write_document(document: Document, path: Path, format: str | None = None) -> list[Path]:
    """Write ``document`` as HTML or Markdown; Markdown gets its charts as SVG files beside it
    (``<stem>.<chart>.svg``).

    Parameters
    ----------
    document
        The report.
    path
        The file to write (its folder is created if needed).
    format
        ``"html"`` or ``"md"``; default from the suffix (``.md`` → Markdown, else HTML).

    Returns
    -------
    list of Path
        Every file written, the document first.
    """
    chosen = format_of(path, format)
    if chosen not in ("html", "md"):
        raise ValueError(f"format must be 'html' or 'md', got {chosen!r}")
    if path.is_dir():
        raise InputError.single(
            f"{path} is a folder", f"name the file to write in it, e.g. {path / 'brief.html'}"
        )
    path.parent.mkdir(parents=True, exist_ok=True)
    if chosen == "html":
        path.write_text(render_html(document), encoding="utf-8")
        return [path]
    text, charts = render_markdown(document, chart_prefix=path.stem)
    path.write_text(text, encoding="utf-8")
    written = [path]
    for name, svg in charts.items():
        target = path.parent / name
        target.write_text(svg, encoding="utf-8")
        written.append(target)
    return written
