"""The front end, driven headless with streamlit's AppTest: every page, every main slider,
uploads good and bad, downloads. Runs use 2 replications in the page's own thread."""

from __future__ import annotations

import csv
import io
import json
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, ClassVar

import pytest

pytest.importorskip("streamlit")
import pyarrow.parquet as pq
import yaml
from streamlit.runtime.media_file_manager import MediaFileManager
from streamlit.testing.v1 import AppTest

from simkit import app_model as model
from simkit.scenario import load_scenario, parse_scenario

ROOT = Path(__file__).resolve().parent.parent
APP = str(ROOT / "app" / "streamlit_app.py")
DESK = ROOT / "scenarios" / "corporate_service_desk.yaml"
PAGES = ("scenario", "availability", "targets", "impact", "ola", "calibrate")
SAMPLE = ROOT / "calibration" / "sample" / "servicenow_incidents.csv.gz"


@pytest.fixture(autouse=True)
def light_runs(monkeypatch: pytest.MonkeyPatch) -> None:
    """Serial runs of 2 replications: light enough for a test suite."""
    monkeypatch.setenv("SIMKIT_APP_WORKERS", "0")
    monkeypatch.setenv("SIMKIT_APP_REPLICATIONS", "2")


def run_app() -> AppTest:
    at = AppTest.from_file(APP, default_timeout=180)
    at.run()
    return at


def labelled(widgets: Any, start: str) -> Any:
    """The first widget whose label starts with ``start``."""
    for widget in widgets:
        if widget.label.startswith(start):
            return widget
    raise AssertionError(f"no widget labelled {start!r}: {[w.label for w in widgets]}")


def open_tab(at: AppTest, tabs: str, label: str) -> AppTest:
    """Open the tab ``label`` of the tabs keyed ``tabs`` (``what_if_tab``, ``results_tab``,
    ``availability_tab``): only the open tab's widgets and figures are drawn."""
    at.session_state[tabs] = label
    return at.run()


def sla_table(at: AppTest) -> dict[str, str]:
    """The simulated SLA table: compliance text by SLA label."""
    for frame in at.dataframe:
        value = frame.value
        if "verdict" in value.columns and "compliance" in value.columns:
            return dict(zip(value["SLA"], value["compliance"], strict=True))
    raise AssertionError("no SLA table on the page")


def test_the_verdict_shows_beside_its_target() -> None:
    """The SLA table's verdict comes right after the SLA and its target, where a narrow
    screen (a laptop in a meeting) shows it without scrolling the table sideways."""
    at = run_app()
    (order,) = [list(f.proto.column_order) for f in at.dataframe if "verdict" in f.value.columns]
    assert order[:4] == ["SLA", "target", "verdict", "compliance"]


def estimate_column(at: AppTest) -> dict[str, str]:
    for frame in at.dataframe:
        value = frame.value
        if "verdict" in value.columns and "estimate" in value.columns:
            return dict(zip(value["SLA"], value["estimate"], strict=True))
    raise AssertionError("no SLA table on the page")


def errors(at: AppTest) -> str:
    return "\n".join(e.value for e in at.error)


def assert_clean(at: AppTest) -> None:
    assert not at.exception, [e.value for e in at.exception]


def test_every_page_loads() -> None:
    """Each page of the navigation opens on the bundled example without an exception or an
    error message, and shows a table (the Change impact page: what to press)."""
    at = run_app()
    for page in PAGES:
        at.switch_page(f"app_pages/{page}.py").run()
        assert_clean(at)
        assert not at.error, (page, errors(at))
        assert at.dataframe or (page == "impact" and at.info), page


def test_the_objects_loaded_with_the_first_page_are_frozen(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Once a page has been drawn, the objects alive then — the modules imported and what they
    hold — are out of the garbage collector's sight (``gc.freeze``): a full collection no
    longer reads them all, which took about 150 ms of the server's processor time."""
    import gc

    run_app()  # the app's own module, as it imports it (not the tests' ``app.app_support``)
    sys.modules["app_support"].freeze_loaded_objects.clear()  # once per process: once more
    monkeypatch.setenv("SIMKIT_APP_FREEZE", "1")  # the suite turns it off (conftest.py)
    gc.unfreeze()
    try:
        run_app()
        assert gc.get_freeze_count() > 10_000
    finally:
        gc.unfreeze()  # this test process goes on collecting as before
        sys.modules["app_support"].freeze_loaded_objects.clear()


def test_every_example_loads() -> None:
    """Each bundled example can be chosen and shows its simulated SLA table."""
    at = run_app()
    options = at.selectbox(key="example_choice").options
    assert len(options) >= 3
    for option in options:
        at.selectbox(key="example_choice").set_value(option).run()
        assert_clean(at)
        assert sla_table(at), option


@pytest.mark.parametrize(
    ("tab", "label", "value"),
    [
        ("Demand", "Volume change", 60),
        ("Demand", "Growth per year — payroll", 40),
        ("Staff", "apps: mon-fri 08:00-18:00", 3),
        ("Staff", "service_desk: mon-fri 11:00-19:00", 1),
        ("Handling", "Handling time × — apps", 1.8),
        ("Handling", "Pause rate — service_desk", 40),
    ],
)
def test_main_sliders_change_the_figures(tab: str, label: str, value: float) -> None:
    """Moving a main slider changes the simulated SLA table and the quick estimate beside it."""
    at = open_tab(run_app(), "what_if_tab", tab)
    before, estimate_before = sla_table(at), estimate_column(at)
    labelled(at.slider, label).set_value(value).run()
    assert_clean(at)
    assert not at.error, errors(at)
    after, estimate_after = sla_table(at), estimate_column(at)
    assert after.keys() == before.keys()
    assert after != before
    assert estimate_after != estimate_before


def instant_data(at: AppTest) -> dict[str, Any]:
    """What the page last sent the quick-estimate element (app/instant_estimate.py)."""
    (element,) = at.get("bidi_component")
    data: dict[str, Any] = json.loads(element.proto.json)
    return data


@pytest.mark.parametrize("tab", ["Demand", "Staff", "Handling"])
def test_the_estimates_of_the_next_positions_are_the_pages_own(tab: str) -> None:
    """The estimates the page sends ahead for the browser to draw the moment a slider moves:
    keyed as the browser keys them (the labels and values of the sliders on the screen), and,
    for every position sent, the very estimate the page shows when the slider gets there (its
    share within target per SLA, the SLA table's estimate column)."""
    at = open_tab(run_app(), "what_if_tab", tab)
    data = instant_data(at)
    assert data["show"] is False  # the simulated table is on the screen
    on_screen = [s for s in at.slider if s.label in data["labels"]]
    assert [s.label for s in on_screen] == data["labels"] and data["labels"]
    context, *values = data["current"].split("|")
    by_label = {s.label: s for s in on_screen}
    assert values == [f"{float(by_label[label].value):.6f}" for label in data["labels"]]
    ahead = data["entries"]
    assert len(ahead) >= len(data["labels"])  # each slider on the screen, a step up or down
    assert data["current"] not in ahead  # only positions a slider on the screen can reach
    for key, entry in ahead.items():
        moved_context, *moved_values = key.split("|")
        assert moved_context == context
        (i,) = [k for k, (a, b) in enumerate(zip(values, moved_values, strict=True)) if a != b]
        slider = by_label[data["labels"][i]]
        slider.set_value(type(slider.value)(float(moved_values[i]))).run()
        assert not at.error, errors(at)
        column = data["columns"].index("within target (estimate)")
        sent = {row[0]: row[column] for row in entry["rows"]}
        assert sent == estimate_column(at), f"{entry['position']}: not the page's estimate"
        slider.set_value(type(slider.value)(float(values[i]))).run()  # back


def test_target_change_remeasures_only_its_row() -> None:
    """A longer target raises its own compliance and leaves every other row as it was: the
    same run is measured again."""
    at = open_tab(run_app(), "what_if_tab", "Targets")
    before = sla_table(at)
    labelled(at.number_input, "payroll P1 resolve: within").set_value(8.0).run()
    assert_clean(at)
    after = sla_table(at)
    changed = {k for k in before if before[k] != after[k]}
    assert "payroll P1 resolve" in changed
    assert changed <= {"payroll P1 resolve"}
    assert float(after["payroll P1 resolve"].split("%")[0]) >= float(
        before["payroll P1 resolve"].split("%")[0]
    )


def test_replications_are_shown_with_the_table() -> None:
    """The table's heading names its replications; raising them reruns with more."""
    at = run_app()
    assert any("2 replications" in m.value for m in at.markdown)
    open_tab(at, "what_if_tab", "Run")
    labelled(at.number_input, "Replications").set_value(3).run()
    assert_clean(at)
    assert any("3 replications" in m.value for m in at.markdown)


def test_impossible_slider_value_gives_a_message_and_the_page_recovers() -> None:
    """A target of zero hours is refused with the reason in the page; setting it back brings
    the table back."""
    at = open_tab(run_app(), "what_if_tab", "Targets")
    labelled(at.number_input, "payroll P1 resolve: within").set_value(0.0).run()
    assert_clean(at)
    assert "greater than zero" in errors(at)
    labelled(at.number_input, "payroll P1 resolve: within").set_value(8.0).run()
    assert not at.error and sla_table(at)


def test_pause_rate_slider_stops_below_100_percent() -> None:
    """A pause rate of 100% is never valid (no ticket is ever resolved), so the slider stops
    below it; a pause rate at the top of the slider runs."""
    at = open_tab(run_app(), "what_if_tab", "Handling")
    slider = labelled(at.slider, "Pause rate — service_desk")
    assert slider.max == model.MAX_PAUSE < 100
    slider.set_value(slider.max).run()
    assert_clean(at)
    assert not at.error and sla_table(at)


def test_closed_tabs_keep_their_values() -> None:
    """Only the open tab's sliders are drawn; a value set in one tab stands while another is
    open, and is shown again when its tab reopens."""
    at = run_app()
    assert labelled(at.slider, "Volume change")
    assert not any(s.label.startswith("apps:") for s in at.slider)
    labelled(at.slider, "Volume change").set_value(40).run()
    raised = sla_table(at)
    open_tab(at, "what_if_tab", "Staff")
    assert_clean(at)
    assert not any(s.label.startswith("Volume change") for s in at.slider)
    assert sla_table(at) == raised
    labelled(at.slider, "apps: mon-fri 08:00-18:00").set_value(1).run()
    both = sla_table(at)
    assert both != raised
    open_tab(at, "what_if_tab", "Demand")
    assert labelled(at.slider, "Volume change").value == 40
    assert sla_table(at) == both


def test_the_change_shows_as_a_patch_when_opened() -> None:
    """An untouched workbench makes no patch; a slider move makes one, drawn as YAML when its
    expander is opened (not before: the browser's code highlighter is slow to start)."""
    at = run_app()
    assert not any(e.label.startswith("The change") for e in at.expander)
    labelled(at.slider, "Volume change").set_value(20).run()
    assert any(e.label.startswith("The change") for e in at.expander)
    assert not at.code
    at.session_state["patch_expander"] = True
    at.run()
    assert_clean(at)
    patch = yaml.safe_load(at.code[0].value)
    assert patch["services"]["payroll"]["demand"]["per_week"] == pytest.approx(540)


def test_result_tabs_are_made_when_opened() -> None:
    """Each results tab shows its figures when opened; the OLA and team figures only there."""
    at = run_app()
    assert not any("OLAs and underpinning" in m.value for m in at.markdown)
    expected = {
        "Times against targets": lambda: at.selectbox(key="time_target"),
        "Queues & utilisation": lambda: at.radio(key="queue_measure"),
        "Teams & OLAs": lambda: next(f for f in at.dataframe if "utilisation" in f.value.columns),
        "Downloads": lambda: at.get("download_button")[0],
    }
    for tab, shown in expected.items():
        open_tab(at, "results_tab", tab)
        assert_clean(at)
        assert not at.error, (tab, errors(at))
        assert shown(), tab
        assert sla_table(at)
        ola_shown = any("OLAs and underpinning" in m.value for m in at.markdown)
        assert ola_shown == (tab == "Teams & OLAs"), tab


def upload(at: AppTest, name: str, data: bytes) -> AppTest:
    at.file_uploader(key="upload").set_value((name, data, "application/x-yaml"))
    return at.run()


def test_good_upload_is_used() -> None:
    """A valid uploaded scenario replaces the example for this session."""
    at = run_app()
    text = DESK.read_text(encoding="utf-8").replace(
        "name: Corporate service desk — baseline", "name: Uploaded desk"
    )
    upload(at, "mine.yaml", text.encode("utf-8"))
    assert_clean(at)
    assert any(h.value == "Uploaded desk" for h in at.subheader)
    assert sla_table(at)
    # read once, not again on every rerun (a large scenario takes seconds to read)
    read = at.session_state["upload_read"]
    at.run()
    assert at.session_state["upload_read"] is read
    assert any(h.value == "Uploaded desk" for h in at.subheader)


def test_the_latest_choice_of_scenario_wins_over_an_upload() -> None:
    """An upload is picked as it arrives; picking an example, or the calibrated scenario, with
    the file still in the uploader uses that choice (not the upload, silently); the upload stays
    in the list to be picked again."""
    at = run_app()
    text = DESK.read_text(encoding="utf-8").replace(
        "name: Corporate service desk — baseline", "name: Uploaded desk"
    )
    upload(at, "mine.yaml", text.encode("utf-8"))
    picker = at.selectbox(key="example_choice")
    assert picker.value == "uploaded: mine.yaml"
    example = next(o for o in picker.options if not o.startswith("uploaded"))
    picker.set_value(example).run()
    assert_clean(at)
    assert not any(h.value == "Uploaded desk" for h in at.subheader)
    assert sla_table(at)
    at.selectbox(key="example_choice").set_value("uploaded: mine.yaml").run()
    assert any(h.value == "Uploaded desk" for h in at.subheader)

    at.switch_page("app_pages/calibrate.py").run()
    at.button(key="use_calibrated").click().run()
    at.switch_page("app_pages/scenario.py").run()
    assert_clean(at)
    assert any("Calibrated" in h.value for h in at.subheader)
    assert "uploaded: mine.yaml" in at.selectbox(key="example_choice").options


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b"name: [unclosed\n  start: 2027-01-01", ""),
        (b"name: x\nstart: 2027-01-01\nhorizon: 95\n", ""),
        (b"\xff\xfe not text", "UTF-8"),
        (b"", "the scenario file is empty"),
        (b"# just a comment\n\n", "the scenario file is empty"),
        (b"name: x\x00\n", "NUL (U+0000) (line 1) — *fix:* save the scenario as plain UTF-8"),
    ],
    ids=["unclosed", "bare-horizon", "not-utf8", "empty", "comment-only", "nul"],
)
def test_broken_upload_gives_a_message(content: bytes, expected: str) -> None:
    """A malformed upload is refused with its problems listed, and the page stays usable:
    removing the file brings back the example."""
    at = run_app()
    upload(at, "broken.yaml", content)
    assert_clean(at)
    assert "broken.yaml" in errors(at) and expected in errors(at)
    at.file_uploader(key="upload").set_value(None).run()
    assert not at.error and sla_table(at)


def test_oversize_upload_is_refused() -> None:
    """An upload over the byte limit is refused with its size, before it is parsed."""
    at = run_app()
    upload(at, "huge.yaml", b"# " + b"x" * 1_100_000 + b"\n")
    assert_clean(at)
    assert "bytes" in errors(at)


@pytest.mark.parametrize(
    ("old", "new"),
    [
        (
            "handle: {default: {gamma: {mean: 75m, cv: 1.0}}, P1: {gamma: {mean: 45m, cv: 0.8}}}",
            "handle: {default: {empirical: {file: /etc/passwd}}}",
        ),
        (
            "demand: {per_week: 300, profile: office}",
            "demand: {per_week: 300, profile: {file: /etc/passwd}}",
        ),
    ],
)
def test_upload_naming_a_server_file_is_refused(old: str, new: str) -> None:
    """An uploaded scenario that names a file on the server (here /etc/passwd, as empirical
    values or as a demand profile) is refused with a message; nothing is read."""
    at = run_app()
    text = DESK.read_text(encoding="utf-8")
    assert old in text
    upload(at, "evil.yaml", text.replace(old, new).encode("utf-8"))
    assert_clean(at)
    message = errors(at)
    assert "may not name files" in message
    assert "root:" not in message


class RecordingFiles(MediaFileManager):
    """Keeps what each download button would send, eager or deferred, by file name."""

    files: ClassVar[dict[str, bytes | str | Callable[[], Any]]] = {}

    def add(
        self,
        path_or_data: bytes | str,
        mimetype: str,
        coordinates: str,
        file_name: str | None = None,
        is_for_static_download: bool = False,
    ) -> str:
        if file_name:
            RecordingFiles.files[file_name] = path_or_data
        return super().add(path_or_data, mimetype, coordinates, file_name, is_for_static_download)

    def add_deferred(
        self,
        data_callable: Any,
        mimetype: Any,
        coordinates: str,
        file_name: str | None = None,
        **kwargs: Any,
    ) -> str:
        if file_name:
            RecordingFiles.files[file_name] = data_callable
        return super().add_deferred(data_callable, mimetype, coordinates, file_name, **kwargs)


def _bytes(value: Any) -> bytes:
    data = value() if callable(value) else value
    return data.encode("utf-8") if isinstance(data, str) else bytes(data)


def test_downloads_produce_valid_files(downloads: dict[str, Any]) -> None:
    """The edited scenario downloads as YAML that validates as an upload and holds the edit;
    the SLA and period tables as CSV; the result tables as Parquet."""
    at = run_app()
    labelled(at.slider, "Volume change").set_value(20).run()
    open_tab(at, "results_tab", "Downloads")
    assert_clean(at)
    assert {b.label for b in at.get("download_button")} >= {
        "Scenario as edited (YAML)",
        "SLA table (CSV)",
        "tickets (Parquet)",
    }
    scenario = parse_scenario(_bytes(downloads["scenario.yaml"]), allow_files=False)
    assert scenario.services["payroll"].demand.per_week == pytest.approx(540)
    rows = list(csv.DictReader(io.StringIO(_bytes(downloads["sla.csv"]).decode("utf-8"))))
    assert rows and "compliance_mean" in rows[0]
    assert list(csv.DictReader(io.StringIO(_bytes(downloads["periods.csv"]).decode("utf-8"))))
    for name in ("tickets", "visits", "pauses", "outages"):
        table = pq.read_table(io.BytesIO(_bytes(downloads[f"{name}.parquet"])))
        assert "replication" in table.schema.names, name
    tickets = pq.read_table(io.BytesIO(_bytes(downloads["tickets.parquet"])))
    assert set(tickets.column("replication").to_pylist()) == {0, 1}


def test_sessions_are_independent() -> None:
    """One session's upload never reaches another session."""
    first, second = run_app(), run_app()
    text = DESK.read_text(encoding="utf-8").replace(
        "name: Corporate service desk — baseline", "name: Private desk"
    )
    upload(first, "private.yaml", text.encode("utf-8"))
    second.run()
    assert any(h.value == "Private desk" for h in first.subheader)
    assert not any(h.value == "Private desk" for h in second.subheader)


def test_what_if_carries_to_the_other_pages() -> None:
    """The Scenario page's what-if is offered to the analysis pages, which say they use it."""
    at = run_app()
    labelled(at.slider, "Volume change").set_value(20).run()
    at.switch_page("app_pages/targets.py").run()
    assert_clean(at)
    assert at.toggle(key="use_what_if").value is True
    assert any("with the what-if changes" in c.value for c in at.caption)


def test_availability_slider_changes_the_figures() -> None:
    """A database that fails four times as often changes the simulated availability."""
    at = run_app()
    at.switch_page("app_pages/availability.py").run()
    assert_clean(at)

    def availability() -> str:
        for frame in at.dataframe:
            if "availability" in frame.value.columns:
                return str(frame.value["availability"].iloc[0])
        raise AssertionError("no availability table")

    def component(name: str, column: str) -> str:
        for frame in at.dataframe:
            if "component" in frame.value.columns:
                return str(frame.value.set_index("component").loc[name, column])
        raise AssertionError("no components table")

    before = availability()
    mean_before = component("db", "time to failure (per unit)")
    labelled(at.slider, "db: time to failure").set_value(0.25).run()
    assert_clean(at)
    assert availability() != before
    # the components table shows the failures the run has, not the scenario's as loaded
    after = component("db", "time to failure (per unit)")
    assert after != mean_before, after
    assert any("with the what-if" in m.value for m in at.markdown)


def test_availability_tabs_show_their_tables_when_opened() -> None:
    """The availability page draws only its open tab: the credit tiers and the outages by
    length appear when their tab is opened."""
    at = run_app()
    at.switch_page("app_pages/availability.py").run()
    assert not any("tier" in f.value.columns for f in at.dataframe)
    open_tab(at, "availability_tab", "Credits")
    assert_clean(at)
    assert any("tier" in f.value.columns for f in at.dataframe)
    open_tab(at, "availability_tab", "Outages by length")
    assert_clean(at)
    assert not any("tier" in f.value.columns for f in at.dataframe)
    assert any("by their length" in c.value for c in at.caption)


def test_targets_confidence_and_options() -> None:
    """The SLR verdicts follow the confidence slider (a lower confidence never makes a verdict
    worse); the staffing options run on demand."""
    at = run_app()
    at.switch_page("app_pages/targets.py").run()
    assert_clean(at)
    rank = {"not achievable": 0, "at risk": 1, "achievable": 2}

    def verdicts() -> list[str]:
        for frame in at.dataframe:
            if "verdict" in frame.value.columns and "SLR" in frame.value.columns:
                return list(frame.value["verdict"])
        raise AssertionError("no SLR table")

    before = verdicts()
    labelled(at.slider, "Confidence").set_value(50).run()
    assert_clean(at)
    after = verdicts()
    assert len(after) == len(before)
    assert all(rank[a] >= rank[b] for a, b in zip(after, before, strict=True))
    assert any("50%" in m.value for m in at.markdown)
    at.button(key="run_options").click().run()
    assert_clean(at)
    assert any("agents added" in f.value.columns for f in at.dataframe)
    # the options' figures name the replications behind them
    assert any("Each option: 2 replications, seed" in c.value for c in at.caption)


def test_a_search_beyond_the_servers_budget_gives_a_message(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The optimiser and the staffing options are refused before they start when all their runs
    together exceed what the workbench spends on one search; the page stays usable."""
    import simkit.app_model.run as run

    monkeypatch.setattr(run, "SEARCH_VISIT_BUDGET", 1000)
    at = run_app()
    at.switch_page("app_pages/targets.py").run()
    assert_clean(at)
    at.button(key="run_optimiser").click().run()
    assert_clean(at)
    assert "The optimiser would simulate" in errors(at)
    at.button(key="run_options").click().run()
    assert_clean(at)
    assert "The staffing options would simulate" in errors(at)
    assert any("SLR" in f.value.columns for f in at.dataframe)


def test_change_impact_compares_on_demand() -> None:
    """A change of the scenario is compared with the baseline when asked, as paired
    differences per target."""
    at = run_app()
    at.switch_page("app_pages/impact.py").run()
    assert_clean(at)
    at.button(key="compare").click().run()
    assert_clean(at)
    assert not at.error, errors(at)
    assert any("difference" in f.value.columns for f in at.dataframe)


def test_built_change_with_a_window() -> None:
    """A change built with sliders, dated, is compared too; an empty one asks for a slider move
    (not an error: nothing is wrong yet)."""
    at = run_app()
    at.switch_page("app_pages/impact.py").run()
    labelled(at.multiselect, "Changes defined").set_value([]).run()
    labelled(at.toggle, "…and a change built here").set_value(True).run()
    assert not at.error and "Move a slider" in "\n".join(i.value for i in at.info)
    labelled(at.slider, "Volume change").set_value(30).run()
    labelled(at.toggle, "Only for a while").set_value(True).run()
    at.button(key="compare").click().run()
    assert_clean(at)
    assert not at.error, errors(at)
    assert any("difference" in f.value.columns for f in at.dataframe)


def test_calibrate_sample_and_use_as_scenario() -> None:
    """The bundled sample is read, cleaned (quality table), fitted and reviewed; "use as
    scenario" makes the fit the session's scenario on every page."""
    at = run_app()
    at.switch_page("app_pages/calibrate.py").run()
    assert_clean(at)
    assert not at.error, errors(at)
    columns = [set(f.value.columns) for f in at.dataframe]
    assert any({"finding", "action", "count"} <= c for c in columns)
    assert any({"service", "tickets / week"} <= c for c in columns)
    assert any({"SLA", "compliance", "periods met"} <= c for c in columns)
    at.button(key="use_calibrated").click().run()
    assert_clean(at)
    at.switch_page("app_pages/scenario.py").run()
    assert_clean(at)
    assert any("Calibrated" in h.value for h in at.subheader)
    assert sla_table(at)


def test_calibrate_upload_and_backtest() -> None:
    """An uploaded export is calibrated like the sample and back-tested on demand; an export
    the profile cannot read gives a message, not a traceback."""
    at = run_app()
    at.switch_page("app_pages/calibrate.py").run()
    labelled(at.radio, "History").set_value("upload an export").run()
    at.file_uploader(key="history_upload").set_value(
        ("export.csv", b"this,is,not\na,ticket,export\n", "text/csv")
    ).run()
    assert_clean(at)
    assert "cannot be read" in errors(at)
    at.file_uploader(key="history_upload").set_value(
        (SAMPLE.name, SAMPLE.read_bytes(), "application/gzip")
    ).run()
    assert_clean(at)
    assert not at.error, errors(at)
    labelled(at.number_input, "Replications").set_value(2).run()
    at.button(key="run_backtest").click().run()
    assert_clean(at)
    assert any("within tolerance" in f.value.columns for f in at.dataframe)
    # its replications are named, and "within tolerance" is said
    replications = labelled(at.number_input, "Replications").value
    said = [c.value for c in at.caption if c.value.startswith(f"{replications} replications.")]
    assert said and "Within tolerance" in said[0], [c.value for c in at.caption]


def test_brief_downloads_as_html(downloads: dict[str, Any]) -> None:
    """The negotiation brief of the edited scenario is made on request and downloads as one
    HTML page naming the scenario."""
    at = open_tab(run_app(), "results_tab", "Downloads")
    at.button(key="make_brief").click().run()
    assert_clean(at)
    assert not at.error, errors(at)
    page = _bytes(downloads["brief.html"]).decode("utf-8")
    assert page.lstrip().lower().startswith("<!doctype html")
    assert "Corporate service desk" in page


AHEAD_REPLICATIONS = 2
VOLUME_LABEL = "Volume change, every service"


def _wait_idle(anticipator: Any, timeout_s: float = 120.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not anticipator.idle():
        assert time.monotonic() < deadline, "the runs made ahead did not finish"
        time.sleep(0.05)


def test_a_run_that_fails_leaves_no_heading_above_the_error(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A run that fails for a reason the page does not foresee (not bad input): Streamlit's
    error box stands alone, not under the heading of a simulated table that will not come."""
    at = run_app()
    assert any("Simulated SLA table" in m.value for m in at.markdown)

    def broken(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("the workers are gone")

    # the page takes `simulated` from app_support at each run; patched there, it fails even
    # for a run another test has left in the cache
    monkeypatch.setattr(sys.modules["app_support"], "simulated", broken)
    labelled(at.slider, "Volume change").set_value(35).run()
    assert "the workers are gone" in str([e.value for e in at.exception])
    assert not [m.value for m in at.markdown if "Simulated SLA table" in m.value]


def test_the_next_step_of_the_slider_is_made_ahead(monkeypatch: pytest.MonkeyPatch) -> None:
    """With worker processes, the first view makes the volume slider's next steps ahead; moving
    the slider there simulates nothing in the page and shows the table a fresh run gives."""
    monkeypatch.setenv("SIMKIT_APP_WORKERS", "2")
    monkeypatch.setenv("SIMKIT_APP_REPLICATIONS", str(AHEAD_REPLICATIONS))
    monkeypatch.setenv("SIMKIT_APP_ANTICIPATE", "2")
    at = AppTest.from_file(APP, default_timeout=180)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    support = sys.modules["app_support"]  # the module the pages imported
    calls: list[str] = []
    simulate_run = support.simulate_run

    def counted(*args: Any, **kwargs: Any) -> Any:
        calls.append(threading.current_thread().name)
        return simulate_run(*args, **kwargs)

    monkeypatch.setattr(support, "simulate_run", counted)
    anticipator = support.anticipator()
    _wait_idle(anticipator)

    desk = load_scenario(DESK)
    seed = int(desk.seed)
    runs = support.shared_cache("runs")
    for volume in (0.05, -0.05):  # the volume slider, one step either side
        edited = model.edit_scenario(desk, model.WhatIf(volume=volume))
        assert runs.get(("run", model.run_key(edited.run, AHEAD_REPLICATIONS, seed))) is not None

    at.slider(key=next(s.key for s in at.slider if s.label == VOLUME_LABEL)).set_value(5).run()
    assert not at.exception, [e.value for e in at.exception]
    assert "MainThread" not in calls and not [c for c in calls if "anticipation" not in c]
    shown = sla_table(at)

    fresh = model.simulate_run(
        model.edit_scenario(desk, model.WhatIf(volume=0.05)).run,
        replications=AHEAD_REPLICATIONS,
        seed=seed,
    )
    expected = model.sla_table(fresh.sla_summary())
    assert shown == {row["SLA"]: row["compliance"] for row in expected}

    # The slider moved last is made ahead first: here a staffing line, moved down.
    line = "mon-fri 08:00-18:00"
    at.session_state["what_if_tab"] = "Staff"
    at.run()
    at.slider(key=next(s.key for s in at.slider if s.label == f"apps: {line}")).set_value(5).run()
    assert not at.exception, [e.value for e in at.exception]
    _wait_idle(anticipator)
    # One step on, down; one step back is the run shown before this move, made already; then
    # another slider on the screen, one step up.
    other = next(s for s in at.slider if s.label != f"apps: {line}")
    team, other_line = other.label.split(": ", 1)
    moves: list[dict[str, dict[str, int]]] = [{"apps": {line: 4}}, {"apps": {line: 5}}]
    moves[1].setdefault(team, {})[other_line] = int(other.value) + 1
    for agents in moves:
        edited = model.edit_scenario(desk, model.WhatIf(volume=0.05, agents=agents))
        assert runs.get(("run", model.run_key(edited.run, AHEAD_REPLICATIONS, seed))) is not None
