"""The Calibrate page keeps its state for the session, driven headless with streamlit's AppTest:
an uploaded export and the page's boxes survive a switch to another page and back; targets of a
scenario that does not fit the history, or a scenario with none, are said so, not shown as
silent rows."""

from __future__ import annotations

from typing import Any

import pytest

pytest.importorskip("streamlit")
from streamlit.testing.v1 import AppTest
from test_app import (  # light_runs: test_app's autouse fixture, serial runs of 2 replications
    SAMPLE,
    light_runs,  # noqa: F401
    run_app,
)

from simkit.scenario import parse_scenario

EMPTY = "Upload an export, or use the bundled sample."
EARLIER = "Using the export uploaded earlier"
TARGETS = "Targets to measure against"
NO_TARGETS = """\
name: No targets
start: 2027-01-04
timezone: Europe/London
horizon: 4w
calendars: {24x7: always}
services:
  payroll:
    entry: service_desk
    demand: {per_week: 50}
    priorities: {P3: {share: 100%}}
teams:
  service_desk:
    roster: {"mon-fri 08:00-18:00": 2}
    handle: {default: {exponential: {mean: 30m}}}
    next: {resolved: 100%}
"""


def calibrate_page(at: AppTest | None = None) -> AppTest:
    at = at or run_app()
    at.switch_page("app_pages/calibrate.py").run()
    assert_clean(at)
    return at


def upload(at: AppTest, name: str, data: bytes) -> AppTest:
    labelled(at.radio, "History").set_value("upload an export").run()
    at.file_uploader(key="history_upload").set_value((name, data, "application/gzip"))
    at.run()
    assert_clean(at)
    return at


def labelled(widgets: Any, label: str) -> Any:
    for widget in widgets:
        if widget.label == label:
            return widget
    raise AssertionError(f"no widget labelled {label!r}: {[w.label for w in widgets]}")


def assert_clean(at: AppTest) -> None:
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]


def infos(at: AppTest) -> str:
    return "\n".join(i.value for i in at.info)


def fitted(at: AppTest) -> str:
    return "\n".join(s.value for s in at.success)


def review_tab(at: AppTest) -> Any:
    return next(t for t in at.tabs if t.label == "Service review")


def away_and_back(at: AppTest) -> AppTest:
    at.switch_page("app_pages/scenario.py").run()
    assert_clean(at)
    return calibrate_page(at)


def test_an_upload_and_the_page_s_boxes_survive_a_page_switch() -> None:
    """Upload, time zone, targets and the service shown are kept when the user visits the
    Scenario page and comes back; the page says it uses the earlier upload, which can be
    forgotten."""
    at = upload(calibrate_page(), SAMPLE.name, SAMPLE.read_bytes())
    assert SAMPLE.name in fitted(at)
    at.text_input(key="calibrate:tz").set_value("Europe/Paris").run()
    labelled(at.selectbox, TARGETS).set_value("the sample's scenario").run()
    arrivals = labelled(at.selectbox, "Arrivals of")
    service = arrivals.options[-1]
    assert service != arrivals.value
    arrivals.set_value(service).run()
    assert_clean(at)

    at = away_and_back(at)
    assert EMPTY not in infos(at)
    assert f"{EARLIER}: **{SAMPLE.name}**" in infos(at)
    assert f"uploaded: {SAMPLE.name}" in fitted(at)
    assert at.text_input(key="calibrate:tz").value == "Europe/Paris"
    assert labelled(at.selectbox, TARGETS).value == "the sample's scenario"
    assert labelled(at.selectbox, "Arrivals of").value == service
    assert labelled(at.radio, "History").value == "upload an export"

    at.button(key="forget_upload").click().run()
    assert_clean(at)
    assert EMPTY in infos(at) and EARLIER not in infos(at)
    assert "calibrate:export" not in at.session_state


def test_the_boxes_survive_a_page_switch_with_the_sample() -> None:
    """With the bundled sample too: the time zone, date format, a column box, the targets and
    the team and service shown are as the user left them."""
    at = calibrate_page()
    at.text_input(key="calibrate:tz").set_value("Europe/Paris").run()
    at.text_input(key="calibrate:fmt").set_value("iso").run()
    at.text_input(key="calibrate:column:service").set_value("business_service").run()
    labelled(at.selectbox, TARGETS).set_value("the session's scenario").run()
    chosen = {}
    for label in ("Arrivals of", "Handling of"):
        box = labelled(at.selectbox, label)
        chosen[label] = box.options[-1]
        box.set_value(chosen[label]).run()
    assert_clean(at)

    at = away_and_back(at)
    assert at.text_input(key="calibrate:tz").value == "Europe/Paris"
    assert at.text_input(key="calibrate:fmt").value == "iso"
    assert at.text_input(key="calibrate:column:service").value == "business_service"
    assert labelled(at.selectbox, TARGETS).value == "the session's scenario"
    for label, value in chosen.items():
        assert labelled(at.selectbox, label).value == value


def test_the_sample_is_read_in_its_own_time_zone() -> None:
    """The bundled sample's clock times are London time: the page reads them so, not as the
    profile's default (UTC, an hour off all summer), unless the time-zone box says otherwise."""
    at = calibrate_page()
    assert "time zone Europe/London" in fitted(at)
    at.text_input(key="calibrate:tz").set_value("UTC").run()
    assert "time zone UTC" in fitted(at)


def test_a_new_upload_replaces_the_kept_one_and_removing_it_drops_it() -> None:
    """After a page switch a new upload is used (not the kept one); removing the file in the
    uploader while on the page drops it: nothing kept comes back. Another session never sees
    it."""
    data = SAMPLE.read_bytes()
    at = away_and_back(upload(calibrate_page(), "first.csv.gz", data))
    assert "first.csv.gz" in infos(at)
    at.file_uploader(key="history_upload").set_value(("second.csv.gz", data, "application/gzip"))
    at.run()
    assert_clean(at)
    assert "uploaded: second.csv.gz" in fitted(at) and "first" not in fitted(at)
    assert EARLIER not in infos(at)

    at.file_uploader(key="history_upload").set_value(None).run()
    assert_clean(at)
    assert EMPTY in infos(at) and EARLIER not in infos(at)
    at = away_and_back(at)
    assert EMPTY in infos(at) and EARLIER not in infos(at)

    other = calibrate_page()
    labelled(other.radio, "History").set_value("upload an export").run()
    assert EMPTY in infos(other) and "second.csv.gz" not in infos(other)


def test_targets_of_a_scenario_the_history_lacks_are_warned_about() -> None:
    """The sample measured against "new service slr": its service hr_portal and team
    hr_systems are not in the history, and the review says so above its rows. Measured
    against its own scenario, the sample gets no such warning."""
    at = run_app()
    at.selectbox(key="example_choice").set_value("new service slr").run()
    at = calibrate_page(at)
    assert not review_tab(at).warning
    labelled(at.selectbox, TARGETS).set_value("the session's scenario").run()
    assert_clean(at)
    tab = review_tab(at)
    warning = "\n".join(w.value for w in tab.warning)
    assert "hr_portal" in warning and "hr_systems" in warning
    assert "no tickets" in warning
    assert any("hr_portal" in str(f.value["SLA"].tolist()) for f in tab.dataframe)


def test_a_scenario_without_targets_says_there_is_nothing_to_measure() -> None:
    """An uploaded scenario with no targets: the review says there are none to measure,
    instead of an empty table and chart."""
    parse_scenario(NO_TARGETS)  # a valid scenario
    at = run_app()
    at.file_uploader(key="upload").set_value(
        ("no_targets.yaml", NO_TARGETS.encode("utf-8"), "application/x-yaml")
    )
    at.run()
    assert_clean(at)
    at = calibrate_page(at)
    labelled(at.selectbox, TARGETS).set_value("the session's scenario").run()
    assert_clean(at)
    tab = review_tab(at)
    assert any("no SLA targets" in i.value for i in tab.info), [i.value for i in tab.info]
    assert not tab.dataframe
