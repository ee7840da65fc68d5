"""The Scenario page given an uploaded scenario whose own values lie outside the usual ranges
of its sliders (a growth of 80%, a goal of 40%, a seed beyond what the browser's numbers hold),
or between their steps (a growth of 2.5%); and the replications behind the team figures.
Driven headless with streamlit's AppTest."""

from __future__ import annotations

import pytest

pytest.importorskip("streamlit")
import yaml
from streamlit.testing.v1 import AppTest
from test_app import DESK, assert_clean, errors, labelled, open_tab, run_app, sla_table, upload

P4 = "P4: {share: 50%, resolve: {within: 50h, calendar: office, goal: 85%}}"
LARGEST_SEED = 2**53 - 1


@pytest.fixture(autouse=True)
def light_runs(monkeypatch: pytest.MonkeyPatch) -> None:
    """Serial runs of 2 replications: light enough for a test suite."""
    monkeypatch.setenv("SIMKIT_APP_WORKERS", "0")
    monkeypatch.setenv("SIMKIT_APP_REPLICATIONS", "2")


def desk(old: str, new: str) -> bytes:
    """The bundled desk scenario with ``old`` replaced by ``new`` (which must be there)."""
    text = DESK.read_text(encoding="utf-8")
    assert old in text, old
    return text.replace(old, new).encode()


def patched(at: AppTest) -> bool:
    """Whether the workbench shows a change to the scenario (its patch expander)."""
    return any(e.label.startswith("The change") for e in at.expander)


def clean_page(at: AppTest) -> None:
    assert_clean(at)
    assert not at.error, errors(at)
    assert sla_table(at)


@pytest.mark.parametrize(
    ("old", "new", "tab", "label", "value"),
    [
        ("growth: 5%}", "growth: 80%}", "Demand", "Growth per year — payroll", 80),
        ("growth: 5%}", "growth: -50%}", "Demand", "Growth per year — payroll", -50),
        (P4, P4.replace("goal: 85%", "goal: 40%"), "Targets", "payroll P4 resolve: goal", 40.0),
    ],
    ids=["growth-80", "growth-minus-50", "goal-40"],
)
def test_scenario_values_outside_the_ranges_start_the_sliders(
    old: str, new: str, tab: str, label: str, value: float
) -> None:
    """An uploaded scenario whose value lies outside a slider's usual range opens the page, and
    the slider's tab, without an exception: the slider's range is widened to hold the value, it
    starts there, and the untouched workbench changes nothing. The slider can still be moved
    (into the usual range and back)."""
    at = run_app()
    upload(at, "wide.yaml", desk(old, new))
    clean_page(at)
    open_tab(at, "what_if_tab", tab)
    clean_page(at)
    slider = labelled(at.slider, label)
    assert slider.value == value
    assert slider.min <= value <= slider.max
    assert not patched(at), "the untouched workbench changes nothing"
    moved = 10 if isinstance(value, int) else 90.0
    labelled(at.slider, label).set_value(moved).run()
    clean_page(at)
    assert patched(at)
    labelled(at.slider, label).set_value(value).run()
    clean_page(at)
    assert not patched(at)


def test_values_between_the_slider_steps_are_kept_exactly() -> None:
    """A growth of 2.5% and a pause rate of 2.5% (between the whole-percent steps of their
    sliders) and a goal of 85.25% are simulated and measured as the scenario has them: the
    untouched workbench makes no patch, whichever tab is open."""
    at = run_app()
    text = desk("growth: 5%}", "growth: 2.5%}").decode().replace(P4, P4.replace("85%", "85.25%"))
    old_next = "next: {resolved: 60%, apps: 20%, infra: 10%, vendor_x: 5%, pause: 5%}"
    assert old_next in text
    text = text.replace(
        old_next, old_next.replace("60%", "62.5%").replace("pause: 5%", "pause: 2.5%")
    )
    upload(at, "steps.yaml", text.encode())
    clean_page(at)
    assert not patched(at), "a value rounded to its slider's step"
    for tab in ("Handling", "Targets"):
        open_tab(at, "what_if_tab", tab)
        clean_page(at)
        assert not patched(at), f"{tab}: a value rounded to its slider's step"
    # moving the slider does change the scenario, to the slider's value
    open_tab(at, "what_if_tab", "Demand")
    labelled(at.slider, "Growth per year — payroll").set_value(10).run()
    clean_page(at)
    at.session_state["patch_expander"] = True
    at.run()
    patch = yaml.safe_load(at.code[0].value)
    assert patch["services"]["payroll"]["demand"]["growth"] == pytest.approx(0.10)


def test_seed_beyond_the_browsers_numbers_is_refused_with_a_message() -> None:
    """A scenario seed above 2**53 − 1, which a browser's number field would round, is refused
    at the upload with a message naming the seed; the page stays usable."""
    big = LARGEST_SEED + 2
    at = run_app()
    upload(at, "bigseed.yaml", desk("seed: 2027", f"seed: {big}"))
    assert_clean(at)
    shown = "\n".join(e.value for e in at.error)
    assert "bigseed.yaml" in shown and "seed" in shown, shown
    upload(at, "fine.yaml", desk("seed: 2027", f"seed: {LARGEST_SEED}"))
    clean_page(at)
    open_tab(at, "what_if_tab", "Run")
    assert labelled(at.number_input, "Seed").value == LARGEST_SEED


def test_team_figures_name_their_replications() -> None:
    """The team table (utilisation, waits, abandoned: point values) says how many replications
    it pools, and follows the replications chosen."""
    at = run_app()
    open_tab(at, "results_tab", "Teams & OLAs")
    clean_page(at)

    def named() -> str:
        """The headings and captions drawn in the Teams & OLAs tab."""
        tab = next(t for t in at.tabs if t.label == "Teams & OLAs")
        return "\n".join([m.value for m in tab.markdown] + [c.value for c in tab.caption])

    assert "2 replications" in named(), named()
    open_tab(at, "what_if_tab", "Run")
    labelled(at.number_input, "Replications").set_value(3).run()
    clean_page(at)
    assert "3 replications" in named(), named()


@pytest.mark.parametrize("page", ["targets", "impact", "availability", "ola"])
def test_every_seed_field_holds_only_what_a_browser_keeps(page: str) -> None:
    """Each page's Seed field stops at 2**53 − 1: a larger number typed in a browser would be
    rounded, and the run would not use the seed the user sees."""
    at = run_app()
    at.switch_page(f"app_pages/{page}.py").run()
    assert_clean(at)
    assert labelled(at.number_input, "Seed").max == LARGEST_SEED


def test_no_volume_anywhere_says_no_tickets_arrive() -> None:
    """Every service at 0 tickets a week: the SLA table shows 0 tickets and "at risk", and a
    notice says no tickets arrive and how to fix it; the page stays usable (the sliders move)."""
    text = DESK.read_text(encoding="utf-8")
    document = yaml.safe_load(text)
    for service in document["services"].values():
        service["demand"]["per_week"] = 0
    at = upload(run_app(), "no-volume.yaml", yaml.safe_dump(document, sort_keys=False).encode())
    clean_page(at)
    notice = "\n".join(w.value for w in at.warning)
    assert "No tickets arrive" in notice and "volume above 0" in notice, notice
    labelled(at.slider, "Volume change").set_value(50).run()
    clean_page(at)
    assert "No tickets arrive" in "\n".join(w.value for w in at.warning)


def test_no_volume_with_a_backlog_still_says_no_tickets_arrive() -> None:
    """Only a backlog and no arrivals: the backlog's tickets are worked, not measured, so the
    notice still says nothing arrives — and that the backlog's SLA is not measured."""
    document = yaml.safe_load(DESK.read_text(encoding="utf-8"))
    for service in document["services"].values():
        service["demand"]["per_week"] = 0
    document["warmup"] = "0h"
    document["backlog"] = [
        {"team": "apps", "service": "payroll", "priority": "P3", "tickets": 20, "age": "1d"}
    ]
    at = upload(run_app(), "backlog-only.yaml", yaml.safe_dump(document, sort_keys=False).encode())
    clean_page(at)
    notice = "\n".join(w.value for w in at.warning)
    assert "No tickets arrive" in notice and "backlog's tickets are worked" in notice, notice


def test_a_scenario_with_tickets_has_no_no_tickets_notice() -> None:
    """The bundled desk scenario: no notice about tickets not arriving."""
    at = run_app()
    clean_page(at)
    assert not [w.value for w in at.warning if "No tickets arrive" in w.value]
