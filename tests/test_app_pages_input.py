"""Pages given input they cannot use as it stands: a scenario without SLA targets on the OLA / UC
page, a half-picked window on the Change impact page; and the replications behind the
availability page's outages by length. Driven headless with streamlit's AppTest."""

from __future__ import annotations

import datetime as dt

import pytest

pytest.importorskip("streamlit")
from streamlit.testing.v1 import AppTest
from test_app import DESK, assert_clean, errors, labelled, open_tab, run_app, upload

from simkit.scenario import load_scenario

NO_TARGETS = b"""\
name: no targets
start: 2027-01-04
horizon: 28d
services:
  s: {entry: t, demand: {per_week: 50}, priorities: {P1: {share: 100%}}}
teams:
  t: {roster: {"mon-fri 08:00-18:00": 2}, handle: {default: {exponential: {mean: 1h}}}}
"""


@pytest.fixture(autouse=True)
def light_runs(monkeypatch: pytest.MonkeyPatch) -> None:
    """Serial runs of 2 replications: light enough for a test suite."""
    monkeypatch.setenv("SIMKIT_APP_WORKERS", "0")
    monkeypatch.setenv("SIMKIT_APP_REPLICATIONS", "2")


def infos(at: AppTest) -> str:
    return "\n".join(i.value for i in at.info)


def warnings(at: AppTest) -> str:
    return "\n".join(w.value for w in at.warning)


def compared(at: AppTest) -> bool:
    """Whether the Change impact page shows a comparison (a table of differences)."""
    return any("difference" in f.value.columns for f in at.dataframe)


def test_ola_page_without_sla_targets_says_so() -> None:
    """A scenario with no SLA target gets a message on the OLA / UC page saying there is nothing
    to trace and how to add a target, not a traceback; the other pages still work."""
    at = run_app()
    upload(at, "notargets.yaml", NO_TARGETS)
    assert_clean(at)
    at.switch_page("app_pages/ola.py").run()
    assert_clean(at)
    assert not at.error, errors(at)
    message = infos(at)
    assert "no SLA target" in message
    assert "resolve:" in message
    assert not [s for s in at.selectbox if s.key == "ola_target"], "no target to pick"
    at.switch_page("app_pages/availability.py").run()
    assert_clean(at)


def _dated_change(at: AppTest) -> None:
    at.switch_page("app_pages/impact.py").run()
    labelled(at.multiselect, "Changes defined").set_value([]).run()
    labelled(at.toggle, "…and a change built here").set_value(True).run()
    labelled(at.slider, "Volume change").set_value(50).run()
    labelled(at.toggle, "Only for a while").set_value(True).run()


def test_half_picked_window_is_not_compared_as_permanent() -> None:
    """With "dated" on and only the first date of the window picked, the page asks for the end
    date and compares nothing (it used to run the change as a permanent one); once both dates
    are there it compares the dated change."""
    at = run_app()
    _dated_change(at)
    at.date_input[0].set_value((dt.date(2027, 1, 22),)).run()
    at.button(key="compare").click().run()
    assert_clean(at)
    assert "end date of the window" in warnings(at)
    assert not compared(at)
    assert not any("Paired differences" in m.value for m in at.markdown)
    at.date_input[0].set_value((dt.date(2027, 1, 22), dt.date(2027, 1, 29))).run()
    assert "end date of the window" not in warnings(at)
    at.button(key="compare").click().run()
    assert_clean(at)
    assert not at.error, errors(at)
    assert compared(at)
    assert any("from 2027-01-22 until 2027-01-29" in m.value for m in at.markdown)


def test_window_outside_the_run_is_warned_about() -> None:
    """A dated change whose window lies wholly outside the simulated span is flagged as having
    no effect; a window inside it is not."""
    at = run_app()
    _dated_change(at)
    assert "outside" not in warnings(at)
    at.date_input[0].set_value((dt.date(2030, 1, 1), dt.date(2030, 2, 1))).run()
    assert_clean(at)
    assert "no effect" in warnings(at)


def test_an_empty_window_gets_one_message_not_two() -> None:
    """A window ending the day it starts is empty: the scenario's own error says so, with no
    contradicting warning that the window lies outside the measured span."""
    at = run_app()
    _dated_change(at)
    day = load_scenario(DESK).start + dt.timedelta(days=7)
    at.date_input[0].set_value((day, day)).run()
    at.button(key="compare").click().run()
    assert_clean(at)
    assert "outside" not in warnings(at)


def test_outages_by_length_name_their_replications() -> None:
    """The mean outages per period by length say how many replications they pool, and follow
    the replications chosen."""
    at = run_app()
    at.switch_page("app_pages/availability.py").run()
    open_tab(at, "availability_tab", "Outages by length")
    assert_clean(at)
    captions = [c.value for c in at.caption if "by their length" in c.value]
    assert captions and "over 2 replications" in captions[0], captions
    labelled(at.number_input, "Replications").set_value(3).run()
    assert_clean(at)
    captions = [c.value for c in at.caption if "by their length" in c.value]
    assert captions and "over 3 replications" in captions[0], captions


def test_a_comparison_beyond_the_servers_budget_gives_a_message(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The baseline and every change picked are runs of one comparison: together they must fit
    the workbench's search budget, or the comparison is refused before it starts."""
    import simkit.app_model.run as run

    monkeypatch.setattr(run, "SEARCH_VISIT_BUDGET", 1000)
    at = run_app()
    at.switch_page("app_pages/impact.py").run()
    assert_clean(at)
    at.button(key="compare").click().run()
    assert_clean(at)
    assert "The comparison would simulate" in errors(at)
