"""The negotiation brief and the shared report building blocks: every example renders, has every
section, loads nothing from anywhere, and says how sure it is."""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest

from simkit.cli import main
from simkit.errors import InputError
from simkit.report.brief import (
    BRIEF_SECTIONS,
    MODEL_LIMITS,
    brief_document,
    render_brief,
    scenario_assumptions,
    write_brief,
)
from simkit.report.html import (
    Badge,
    Bullets,
    Document,
    Figure,
    Figures,
    Para,
    Section,
    Small,
    Strong,
    Table,
    render_html,
    render_markdown,
    write_document,
)
from simkit.report.render import can_render, chart_svg
from simkit.report.text import fmt_interval, fmt_pct
from simkit.resources import calibration_dir, example_scenarios
from simkit.scenario import load_scenario

REPLICATIONS = 2
SCENARIOS = [*example_scenarios(), calibration_dir() / "sample" / "scenario.yaml"]
charts_needed = pytest.mark.skipif(not can_render(), reason="altair / vl-convert-python missing")


class _Links(HTMLParser):
    """Every tag and every URL-valued attribute of a page."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.urls: list[tuple[str, str, str]] = []
        self.ids: set[str] = set()
        self.headings: list[str] = []
        self._in_h2 = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        for name, value in attrs:
            if name == "id" and value:
                self.ids.add(value)
            if name in ("src", "href", "xlink:href", "action", "poster", "data") and value:
                self.urls.append((tag, name, value))
        self._in_h2 = tag == "h2"

    def handle_data(self, data: str) -> None:
        if self._in_h2:
            self.headings.append(data)
            self._in_h2 = False


def assert_self_contained(page: str) -> _Links:
    """No script, no stylesheet link, no image, no fetched URL: only in-page anchors."""
    links = _Links()
    links.feed(page)
    assert not {"script", "link", "img", "iframe", "object", "embed"} & set(links.tags)
    external = [u for u in links.urls if not u[2].startswith("#")]
    assert external == []
    assert not re.search(r"url\((?!#)", page), "CSS or SVG refers to an outside resource"
    assert "@import" not in page
    assert re.search(
        r'<meta http-equiv="Content-Security-Policy" content="default-src \'none\'', page
    )
    return links


@pytest.fixture(scope="module")
def briefs() -> dict[str, dict[str, Any]]:
    """The brief document of every example scenario (and the sample's), a few replications."""
    out = {}
    for path in SCENARIOS:
        scenario = load_scenario(path)
        changes = list(scenario.changes)[:1]
        out[path.name] = brief_document(scenario, changes=changes, replications=REPLICATIONS)
    return out


@pytest.mark.parametrize("name", [p.name for p in SCENARIOS])
def test_every_example_brief_renders_with_every_section(
    briefs: dict[str, dict[str, Any]], name: str
) -> None:
    """The brief of every example is one page with all ten sections, in order, and no
    outside resource; the JSON document is strict JSON."""
    document = briefs[name]
    json.dumps(document, allow_nan=False, default=str)
    page = render_brief(document)
    links = assert_self_contained(page)
    assert [s for s, _ in BRIEF_SECTIONS] == [s for s, _ in BRIEF_SECTIONS if s in links.ids]
    positions = [page.index(f'<section id="{s}">') for s, _ in BRIEF_SECTIONS]
    assert positions == sorted(positions)
    for _, title in BRIEF_SECTIONS:
        assert any(title in h for h in links.headings)
    assert f"{REPLICATIONS} replications" in page
    assert f"seed {document['seed']}" in page


@charts_needed
@pytest.mark.parametrize("name", [p.name for p in SCENARIOS])
def test_brief_embeds_its_charts_as_inline_svg(
    briefs: dict[str, dict[str, Any]], name: str
) -> None:
    """Charts are inline SVG inside figures, never a note that they could not be drawn."""
    page = render_brief(briefs[name])
    assert page.count("<figure><svg") >= 3
    assert "Chart not drawn" not in page


def test_brief_states_every_target_verdict_with_its_interval(
    briefs: dict[str, dict[str, Any]],
) -> None:
    """Every proposed target appears with its verdict sentence and P(period meets goal) with a
    bracketed interval."""
    document = briefs["corporate_service_desk.yaml"]
    page = render_brief(document, charts=False)
    for row in document["targets"]["sla"]:
        assert row["verdict"] in page
        words = row["words"].split(": ", 1)[1]
        assert words in page
    assert re.search(r"\d+% \[\d+–\d+\]", page)
    assert "Only 2 simulated runs" in page


def test_brief_shows_change_impact_for_a_change(briefs: dict[str, dict[str, Any]]) -> None:
    """With --change the brief compares it paired with the baseline; without, it says how to
    ask for one."""
    with_change = briefs["corporate_service_desk.yaml"]
    assert with_change["impact"] is not None
    name = with_change["impact"]["changes"][0]["name"]
    page = render_brief(with_change, charts=False)
    impact = page[page.index('<section id="impact">') : page.index('<section id="availability">')]
    assert name in impact and "difference (pp)" in impact
    without = briefs["scenario.yaml"]
    assert without["impact"] is None
    page = render_brief(without, charts=False)
    assert "No change was assessed" in page


def test_brief_availability_section_reports_credits(briefs: dict[str, dict[str, Any]]) -> None:
    """A scenario with an availability target and a fee shows availability with its interval,
    the verdict and the expected credit; one without says so."""
    document = briefs["corporate_service_desk.yaml"]
    page = render_brief(document, charts=False)
    section = page[page.index('<section id="availability">') : page.index('<section id="teams">')]
    row = document["simulation"]["availability"][0]
    assert row["service"] in section and "expected credit" in section
    assert f"{row['expected_credit']:,.0f}" in section
    assert "monthly fee 20,000" in section
    page = render_brief(briefs["ola_uc_chain.yaml"], charts=False)
    assert "The scenario sets no availability target." in page


def test_assumptions_name_calendars_rosters_and_model_limits() -> None:
    """The assumptions list every calendar, team and component of the scenario, warm-up and
    drain, and every model limit."""
    scenario = load_scenario(SCENARIOS[0])
    found = scenario_assumptions(scenario)
    assert {c["calendar"] for c in found["calendars"]} >= set(scenario.calendars)
    assert [t["team"] for t in found["teams"]] == list(scenario.teams)
    assert [c["component"] for c in found["components"]] == list(scenario.components)
    assert found["run"]["warmup"] and found["run"]["drain"]
    assert found["limits"] == list(MODEL_LIMITS)
    for team in found["teams"]:
        spec = scenario.teams[team["team"]]
        if team["agent_hours_per_week"]:
            assert team["on_tickets_per_week"] == pytest.approx(
                team["agent_hours_per_week"] * (1 - spec.shrinkage)
            )


def test_sources_name_the_file_seed_and_a_command_that_reproduces_it(
    briefs: dict[str, dict[str, Any]],
) -> None:
    """The data sources give the scenario file with its digest, the replications and seed, and
    the command that reproduces the brief."""
    document = briefs["new_service_slr.yaml"]
    sources = document["sources"]
    assert sources["scenario_file"].endswith("new_service_slr.yaml")
    assert re.fullmatch(r"[0-9a-f]{64}", sources["scenario_sha256"])
    assert f"--replications {REPLICATIONS}" in sources["command"]
    assert f"--seed {document['seed']}" in sources["command"]
    page = render_brief(document, charts=False)
    assert sources["scenario_sha256"][:16] in page


def test_a_calibrated_scenario_names_its_history(tmp_path: Path) -> None:
    """A scenario that says it was calibrated from a history gets that line under data
    sources."""
    source = SCENARIOS[0].read_text(encoding="utf-8")
    path = tmp_path / "calibrated.yaml"
    path.write_text(
        "# Calibrated from export.csv (profile servicenow): 1,234 tickets\n" + source,
        encoding="utf-8",
    )
    document = brief_document(load_scenario(path), replications=1, options=False)
    assert document["sources"]["calibration"].startswith("Calibrated from export.csv")
    assert "Calibrated from export.csv" in render_brief(document, charts=False)


@charts_needed
def test_markdown_brief_writes_its_charts_beside_it(
    briefs: dict[str, dict[str, Any]], tmp_path: Path
) -> None:
    """--format md writes Markdown with every section anchor and links each chart to an SVG
    file written beside it."""
    written = write_brief(briefs["new_service_slr.yaml"], tmp_path / "brief.md")
    text = written[0].read_text(encoding="utf-8")
    for section, _ in BRIEF_SECTIONS:
        assert f'<a id="{section}"></a>' in text
    charts = written[1:]
    assert charts
    for chart in charts:
        assert chart.parent == tmp_path and chart.read_text(encoding="utf-8").startswith("<svg")
        assert f"]({chart.name})" in text


def test_markdown_without_charts_says_so(briefs: dict[str, dict[str, Any]]) -> None:
    """Markdown text alone leaves the charts out with a note where each would be."""
    text = render_brief(briefs["ola_uc_chain.yaml"], format="md")
    assert "Chart left out" in text
    assert "<svg" not in text


def test_cli_report_writes_the_brief_and_prints_json(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """``simkit report SCENARIO --out brief.html --json`` writes the page and prints the
    document with the file written."""
    out = tmp_path / "brief.html"
    code = main(
        [
            "report",
            str(SCENARIOS[0]),
            "--replications",
            "1",
            "--no-options",
            "--no-charts",
            "--out",
            str(out),
            "--json",
        ]
    )
    assert code == 0
    document = json.loads(capsys.readouterr().out)
    assert document["written"] == [str(out)]
    assert_self_contained(out.read_text(encoding="utf-8"))


def test_cli_report_refuses_an_unknown_change_before_simulating(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """An unknown --change exits 2 with the scenario's changes as the fix, writing nothing."""
    out = tmp_path / "brief.html"
    code = main(["report", str(SCENARIOS[0]), "--change", "nope", "--out", str(out), "--json"])
    assert code == 2
    errors = json.loads(capsys.readouterr().out)["errors"]
    assert "nope" in errors[0]["message"]
    assert not out.exists()


def test_a_brief_refuses_a_set_inside_an_unknown_team_before_simulating(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A --set inside a team the scenario lacks is refused before the baseline runs."""
    import simkit.report.brief_data as brief_data

    def must_not_run(*args: object, **kwargs: object) -> None:
        raise AssertionError("simulated before the --set was checked")

    monkeypatch.setattr(brief_data, "simulate", must_not_run)
    scenario = load_scenario(SCENARIOS[0])
    with pytest.raises(InputError, match="has no team 'aps'") as caught:
        brief_document(scenario, sets=["teams.aps.shrinkage=25%"], replications=2)
    assert "did you mean 'apps'?" in caught.value.problems[0].fix


def test_cli_report_refuses_a_file_name_of_another_format(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`--out brief.pdf` would be HTML under a PDF name: refused before anything runs."""
    out = tmp_path / "new" / "brief.pdf"
    assert main(["report", str(SCENARIOS[0]), "--out", str(out), "--json"]) == 2
    error = json.loads(capsys.readouterr().out)["errors"][0]
    assert error["path"] == "--out" and ".html or .md" in error["fix"]
    assert not out.parent.exists()  # refused before any folder is made


def test_cli_report_refuses_a_bad_confidence(capsys: pytest.CaptureFixture[str]) -> None:
    """--confidence outside (0, 1) exits 2."""
    code = main(["report", str(SCENARIOS[0]), "--confidence", "100%", "--out", "x.html", "--json"])
    assert code == 2
    assert json.loads(capsys.readouterr().out)["errors"]


# -- building blocks ---------------------------------------------------------------------------


def _tiny() -> Document:
    return Document(
        title="A <title> & more",
        subtitle="sub",
        sections=(
            Section(
                "one",
                "One",
                (
                    Para.of("plain ", Strong("bold"), " ", Badge("red", "missed")),
                    Bullets.of(["a", ["b ", Small("c")]]),
                    Table.of(
                        ["x", "y|z"], [["1", [Badge("green", "ok"), Small("n")]]], numeric=[0]
                    ),
                    Figure("<svg></svg>", "a chart", "chart"),
                    Figures((Figure(None, "missing", "gone", "why not"),)),
                ),
            ),
        ),
        facts=(("k", "v"),),
        footer="foot",
    )


def test_html_escapes_text_and_reads_without_colour() -> None:
    """Text is escaped, badges carry a symbol as well as a colour, numeric columns align
    right, and a missing chart says why."""
    page = render_html(_tiny())
    assert "A &lt;title&gt; &amp; more" in page
    assert '<span class="badge rag-red">✗ missed</span>' in page
    assert '<td class="n">1</td>' in page
    assert "Chart not drawn: why not" in page
    assert_self_contained(page)


def test_markdown_escapes_table_cells_and_writes_figures(tmp_path: Path) -> None:
    """Markdown escapes pipes in cells and writes each drawn chart as ``<stem>.<name>.svg``."""
    text, charts = render_markdown(_tiny(), chart_prefix="doc")
    assert "y\\|z" in text
    assert "✓ ok (n)" in text
    assert charts == {"doc.chart.svg": "<svg></svg>"}
    written = write_document(_tiny(), tmp_path / "doc.md")
    assert [p.name for p in written] == ["doc.md", "doc.chart.svg"]


@charts_needed
def test_inline_svgs_never_share_an_element_id() -> None:
    """Two charts in one page get distinct element ids, and references follow the rename."""
    from simkit.report.render import _unique_ids

    svg = '<svg><defs><clipPath id="clip1"/></defs><g clip-path="url(#clip1)"/></svg>'
    first, second = _unique_ids(svg, "a-"), _unique_ids(svg, "b-")
    assert 'id="a-clip1"' in first and "url(#a-clip1)" in first
    assert set(re.findall(r'id="([^"]+)"', first)).isdisjoint(re.findall(r'id="([^"]+)"', second))
    import altair as alt

    chart = alt.Chart(alt.Data(values=[{"x": 1, "y": 2}])).mark_point().encode(x="x:Q", y="y:Q")
    drawn = chart_svg(chart, label="a point")
    assert drawn.startswith("<svg") and 'aria-label="a point"' in drawn


def test_without_a_renderer_each_chart_is_a_note(
    briefs: dict[str, dict[str, Any]], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Where Altair or vl-convert-python is missing the brief is still written, each chart
    replaced by a note that says what to install."""
    import simkit.report.render as render

    monkeypatch.setattr(render, "can_render", lambda: False)
    page = render_brief(briefs["ola_uc_chain.yaml"])
    assert "<svg" not in page
    assert page.count("Chart not drawn: static charts need") >= 3
    assert_self_contained(page)


def test_an_uploads_name_reads_no_server_file(tmp_path: Path, monkeypatch: Any) -> None:
    """The brief reads a scenario's own file for its digest and calibration note only when the
    scenario was loaded from disk: an upload named like a file on the server reads nothing."""
    from simkit.report import brief_data
    from simkit.scenario import parse_scenario

    desk = next(p for p in example_scenarios() if p.stem == "corporate_service_desk")
    (tmp_path / "secret.yaml").write_text("# calibrated from SECRET-TOKEN\nname: x\n")
    monkeypatch.chdir(tmp_path)
    for name in ("secret.yaml", str(tmp_path / "secret.yaml")):
        upload = parse_scenario(desk.read_bytes(), file=name, allow_files=False)
        assert brief_data._calibration_note(upload) is None
        assert brief_data._source_file(upload) is None
    assert brief_data._source_file(load_scenario(desk)) == desk.resolve()


def test_a_document_is_not_written_over_a_folder(tmp_path: Path) -> None:
    """write_brief / write_review_pack given a folder refuse it by name (a bare
    IsADirectoryError before)."""
    from simkit.errors import InputError
    from simkit.report.html import Document, write_document

    with pytest.raises(InputError, match="is a folder"):
        write_document(Document(title="t", subtitle="", sections=()), tmp_path)


def test_bold_text_closes_in_markdown() -> None:
    """A bold label ending in a space ("Change hire_apps: ") is written with the space outside
    the asterisks: CommonMark does not close "**text **", and showed the asterisks."""
    from simkit.report.html import Strong, _inline_md

    assert _inline_md(Strong("Change hire_apps: ")) == "**Change hire\\_apps:** "
    assert _inline_md(Strong(" both ")) == " **both** "


def test_months_out_of_ten_round_halves_alike() -> None:
    """0.85 and 0.55 both round up ("about 9", "about 6"): Python's round() went to the even
    one, so 0.85 read "about 8"."""
    from simkit.analysis.verdict import verdict_words

    assert "about 9 months out of 10" in verdict_words("achievable", 0.85, 0.8)
    assert "about 6 months out of 10" in verdict_words("at risk", 0.55, 0.8)
    assert "(we need 8)" in verdict_words("at risk", 0.55, 0.8)


BARE = """
name: Bare desk
start: 2027-01-04
horizon: 4w
calendars: {24x7: always}
services:
  s:
    entry: desk
    demand: {per_week: 60}
    priorities: {P1: {share: 100%, resolve: {within: 4h, goal: 90%}}}
teams:
  desk:
    roster: {"mon-sun 00:00-24:00": 2}
    handle: {default: {exponential: {mean: 1h}}}
"""


def test_a_brief_says_what_a_scenario_lacks_and_how_to_reproduce_it(tmp_path: Path) -> None:
    """Without components or agreements the brief does not speak of infrastructure or of
    gaps lying with a team (no agreement exists to have a gap); its "Reproduce" line names the
    file it was written to."""
    from simkit.report.brief import write_brief
    from simkit.scenario import parse_scenario

    document = brief_document(parse_scenario(BARE, file="bare.yaml"), replications=2)
    assert not any(limit.startswith("Components") for limit in document["assumptions"]["limits"])
    (path,) = write_brief(document, tmp_path / "bare.md", charts=False)
    text = path.read_text(encoding="utf-8")
    assert "simulated the support teams behind" in text
    assert "No team has an OLA and no supplier a UC" in text
    assert "gaps lie with" not in text
    assert "--out bare.md\n" in text
    (page,) = write_brief(document, tmp_path / "bare.html", format="md", charts=False)
    assert "--out bare.html --format md" in page.read_text(encoding="utf-8")


def test_an_at_risk_target_inside_the_achievable_one_is_not_offered_as_a_promise(
    briefs: dict[str, dict[str, Any]],
) -> None:
    """The achievable target is what the runs reached in the chosen share of periods, so its
    own P(period met) is about that share: the brief states it as such, not as "what we can
    promise", and says why a proposed target it lies inside is still at risk."""
    import copy

    from simkit.report.brief import render_brief

    document = copy.deepcopy(next(iter(briefs.values())))
    row = document["targets"]["sla"][0]
    row["verdict"] = "at risk"
    row["achievable_within_h"] = row["proposed_within_h"] * 0.9
    row["achievable_interval"] = {"lo": row["achievable_within_h"] * 0.8, "hi": None}
    text = render_brief(document, format="md", charts=False)
    assert "What we can promise at" not in text
    assert "(the achievable target, with its 95% interval)" in text
    row["achievable_interval"] = {"lo": None, "hi": None}
    assert "(the achievable target)." in render_brief(document, format="md", charts=False)
    assert "inside the proposed target, but the runs cannot show with confidence" in text


def test_an_availability_reached_in_every_period_is_not_shown_as_a_promise() -> None:
    """Where most simulated months had no outage the achievable availability is 100%: the brief
    says what that means rather than offering 100% as a level to agree."""
    from simkit.report.brief_context import _achievable_availability

    assert _achievable_availability(1.0) == "100% (no outage in most periods)"
    assert _achievable_availability(0.9992) == "99.920%"
    assert _achievable_availability(None) == "—"


@pytest.mark.parametrize(
    ("share", "digits", "text"),
    [
        (0.931, 1, "93.1%"),
        (1.0, 1, "100.0%"),
        (0.0, 1, "0.0%"),
        (0.9995, 1, "99.95%"),  # not 100.0%: a share that is not certain never reads as certain
        (0.996, 0, "99.6%"),
        (0.0004, 1, "0.04%"),  # nor one that is not nil as nil
        (0.9999999, 1, "99.999%"),  # beyond the extra digits, cut towards 50
        (1e-8, 1, "0.001%"),
    ],
)
def test_shares_near_certain_or_nil_keep_the_digits_that_say_so(
    share: float, digits: int, text: str
) -> None:
    """A compliance of 99.95% printed as 100.0% beside a difference of +0.15 reads as a target
    always met; shares gain up to two digits rather than round to 0% or 100%."""
    assert fmt_pct(share, digits) == text
    assert fmt_interval({"mean": 0.9995, "lo": 0.999, "hi": 1.0}) == "99.95% [99.9–100.0]"
    # the review's and the back-test's own tables follow the same rule
    from simkit.calibrate.review import fmt_pct as review_pct
    from simkit.report.review_sla import _range_text

    assert review_pct(0.9995) == "99.95%"
    assert _range_text({"lo": 0.9995, "hi": 1.0}) == "99.95–100.0%"
