"""The workbench's state across pages and scenarios, driven headless with AppTest: what a page
keeps when the user moves elsewhere, and what the Scenario page's what-if means on the other
pages."""

from __future__ import annotations

from pathlib import Path

import pytest

pytest.importorskip("streamlit")
import yaml
from streamlit.testing.v1 import AppTest
from test_app import (  # light_runs: test_app's autouse fixture, serial runs of 2 replications
    DESK,
    assert_clean,
    labelled,
    light_runs,  # noqa: F401
    open_tab,
    run_app,
    upload,
)


def pick_example(at: AppTest, stem: str) -> AppTest:
    """Choose the bundled example whose option names ``stem`` (its file name, spaced)."""
    choice = at.selectbox(key="example_choice")
    (option,) = [o for o in choice.options if stem.replace("_", " ") in o]
    return choice.set_value(option).run()


def test_the_per_period_chart_starts_from_the_new_scenarios_targets() -> None:
    """After another scenario is picked, the per-period chart shows that scenario's targets by
    default — not the previous scenario's choice, which names none of them (an empty chart)."""
    at = open_tab(run_app(), "results_tab", "Per period")
    for stem in ("new_service_slr", "corporate_service_desk"):
        pick_example(at, stem)
        open_tab(at, "results_tab", "Per period")
        assert_clean(at)
        (chosen,) = [m for m in at.multiselect if m.label == "Targets"]
        assert chosen.value, stem
        assert set(chosen.value) <= set(chosen.options)


def test_a_what_if_move_keeps_the_other_pages_controls() -> None:
    """The other pages keep their controls per scenario as chosen: a what-if move on the
    Scenario page does not put them back to their defaults."""
    at = run_app()
    at.switch_page("app_pages/targets.py").run()
    labelled(at.slider, "Confidence").set_value(95).run()
    at.switch_page("app_pages/scenario.py").run()
    labelled(at.slider, "Volume change").set_value(5).run()
    at.switch_page("app_pages/targets.py").run()
    assert_clean(at)
    assert at.toggle(key="use_what_if").value is True
    assert labelled(at.slider, "Confidence").value == 95


def test_the_what_if_of_each_scenario_is_kept() -> None:
    """A what-if made on one scenario is still offered on the other pages after another
    scenario was picked and this one picked again there."""
    at = run_app()
    labelled(at.slider, "Volume change").set_value(20).run()
    pick_example(at, "new_service_slr")
    at.switch_page("app_pages/targets.py").run()
    pick_example(at, "corporate_service_desk")
    assert_clean(at)
    assert at.toggle(key="use_what_if").value is True
    assert any("with the what-if changes" in c.value for c in at.caption)


def test_an_invalid_what_if_is_not_replaced_by_an_earlier_one() -> None:
    """Sliders that make no valid scenario: the other pages say so and use the scenario as
    chosen, not the last valid position the user has since left."""
    at = run_app()
    labelled(at.slider, "Volume change").set_value(20).run()
    open_tab(at, "what_if_tab", "Targets")
    labelled(at.number_input, "payroll P1 resolve: within").set_value(0.0).run()
    assert at.error
    # the page names what to change (the control here is a box; moving a slider back would
    # not restore it)
    assert any("change what each problem below names" in e.value for e in at.error)
    at.switch_page("app_pages/targets.py").run()
    assert_clean(at)
    assert any("make no valid scenario" in w.value for w in at.warning)
    assert not any("with the what-if changes" in c.value for c in at.caption)
    assert not [t for t in at.toggle if t.key == "use_what_if"]


def test_a_scenario_without_sla_targets_says_why_there_is_no_table(tmp_path: Path) -> None:
    """The Scenario page explains a missing SLA table instead of drawing an empty one."""
    document = yaml.safe_load(DESK.read_text(encoding="utf-8"))
    for service in document["services"].values():
        for level in service["priorities"].values():
            level.pop("respond", None)
            level.pop("resolve", None)
    document.pop("corporate", None)
    for customer in (document.get("customers") or {}).values():
        customer.pop("priorities", None)
    at = upload(run_app(), "no_targets.yaml", yaml.safe_dump(document).encode("utf-8"))
    assert_clean(at)
    assert not at.error, [e.value for e in at.error]
    assert any("no SLA target" in i.value for i in at.info)
    assert not [f for f in at.dataframe if "verdict" in f.value.columns]


def test_removing_an_upload_goes_back_to_the_scenario_picked_before() -> None:
    """An upload replaces the picked example while it is in the uploader; removed, the example
    picked before it is in force again, not the first in the list."""
    at = pick_example(run_app(), "new_service_slr")
    before = at.selectbox(key="example_choice").value
    upload(at, "mine.yaml", DESK.read_bytes())
    assert at.selectbox(key="example_choice").value == "uploaded: mine.yaml"
    at.file_uploader(key="upload").clear().run()
    assert_clean(at)
    assert at.selectbox(key="example_choice").value == before


def test_the_change_builder_starts_from_the_working_scenarios_staffing() -> None:
    """The Change impact builder's agent sliders are head-counts of the working scenario: a
    what-if's staffing must not carry into them once the what-if is switched off (the change
    built there would include it silently)."""
    at = open_tab(run_app(), "what_if_tab", "Staff")
    labelled(at.slider, "apps: mon-fri 08:00-18:00").set_value(9).run()
    at.switch_page("app_pages/impact.py").run()
    labelled(at.toggle, "…and a change built here").set_value(True).run()
    assert labelled(at.slider, "mon-fri 08:00-18:00").value == 9  # the what-if, in use
    at.toggle(key="use_what_if").set_value(False).run()
    assert_clean(at)
    assert labelled(at.slider, "mon-fri 08:00-18:00").value == 6  # the scenario as chosen
