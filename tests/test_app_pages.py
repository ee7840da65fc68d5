"""The analysis pages beyond their happy first view, driven headless with streamlit's AppTest:
the back-test's size guard, the Change impact builder (its prompt, its sliders, the runs it
announces), the Targets page without SLA targets and its optimiser's answer, the availability
sliders and each service's target on the charts, the OLA and Calibrate downloads, and an
uploaded scenario too large to run. Runs use 2 replications in the page's own thread."""

from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("streamlit")
import yaml
from streamlit.testing.v1 import AppTest
from test_app import (
    _bytes,
    assert_clean,
    errors,
    labelled,
    run_app,
    sla_table,
    upload,
)
from test_app_pages_input import NO_TARGETS, infos, light_runs  # noqa: F401 (an autouse fixture)

from simkit import app_model as model
from simkit.calibrate import History, load_history
from simkit.calibrate.backtest import backtest, backtest_scenario
from simkit.calibrate.export import sample_dir
from simkit.calibrate.fit import Calibration, calibrate
from simkit.calibrate.profiles import load_profile
from simkit.scenario import load_scenario, parse_scenario

SAMPLE = Path(sample_dir()) / "servicenow_incidents.csv.gz"


SHORT = b"""\
name: short of one agent
start: 2027-01-04
horizon: 84d
period: week
seed: 11
services:
  s:
    entry: t
    demand: {per_week: 200}
    priorities: {P1: {share: 100%, resolve: {within: 2h, goal: 80%}}}
teams:
  t:
    roster: {"mon-sun 00:00-24:00": 2}
    cost_per_agent_hour: 40
    handle: {default: {exponential: {mean: 1h}}}
"""
"""One team of two agents, 60% busy, no named changes: a third agent makes its target."""

OUTAGES = b"""\
name: availability drill
start: 2027-01-04
horizon: 56d
period: week
seed: 7
services:
  a:
    entry: t
    demand: {per_week: 20}
    priorities: {P1: {share: 100%, resolve: {within: 8h, goal: 90%}}}
    availability: {target: 99.5%, depends_on: [db], maintenance: "sun 02:00-06:00",
                   exclude_maintenance: true}
  b:
    entry: t
    demand: {per_week: 20}
    priorities: {P1: {share: 100%, resolve: {within: 8h, goal: 90%}}}
    availability: {target: 98%, depends_on: [web]}
teams:
  t: {roster: {"mon-fri 08:00-18:00": 2}, handle: {default: {exponential: {mean: 1h}}}}
components:
  db: {fails: {exponential: {mean: 100h}}, repair: {exponential: {mean: 5h}}}
  web: {count: 3, needed: 1, fails: {exponential: {mean: 100h}},
        repair: {exponential: {mean: 5h}}}
"""
"""Two services with different availability targets; components failing every few days."""

TOO_LARGE = b"""\
name: too large
start: 2027-01-04
horizon: 28d
services:
  s:
    entry: t
    demand: {per_week: 30000000}
    priorities: {P1: {share: 100%, resolve: {within: 4h, goal: 90%}}}
    availability: {target: 99.5%, depends_on: [db]}
teams:
  t: {roster: {"mon-fri 08:00-18:00": 2}, handle: {default: {exponential: {mean: 1h}}}}
components:
  db: {fails: {exponential: {mean: 100h}}, repair: {exponential: {mean: 5h}}}
"""


def on_page(page: str, scenario: bytes | None = None, name: str = "mine.yaml") -> AppTest:
    """The app on ``page``, with ``scenario`` uploaded first if given."""
    at = run_app()
    if scenario is not None:
        upload(at, name, scenario)
        assert_clean(at)
    at.switch_page(f"app_pages/{page}.py").run()
    assert_clean(at)
    return at


def table(at: AppTest, *columns: str) -> Any:
    """The first table holding ``columns`` (a pandas frame), or ``None``."""
    for frame in at.dataframe:
        if set(columns) <= set(frame.value.columns):
            return frame.value
    return None


def mean(text: str) -> float:
    """The leading number of a figure as the pages write it ("97.3% [95.1, 98.8]",
    "−12.4 pp [−15.0 to −9.8]", "4.2 h")."""
    found = re.match(r"\s*([+−-]?[\d.,]+)", text)
    assert found, text
    return float(found.group(1).replace("−", "-").replace(",", ""))


# 1. The back-test's size guard


@pytest.fixture(scope="module")
def fitted() -> tuple[History, Calibration]:
    """The bundled sample fitted as the Calibrate page fits it (against the sample's
    scenario)."""
    history = load_history(SAMPLE, load_profile("servicenow"))
    scenario = load_scenario(Path(sample_dir()) / "scenario.yaml")
    return history, calibrate(history, scenario=scenario)


def test_backtest_scenario_is_the_one_the_backtest_runs(
    fitted: tuple[History, Calibration],
) -> None:
    """The guard sizes the very scenario the back-test simulates (moved onto the history's
    span), not the fitted one."""
    history, calibration = fitted
    moved = backtest_scenario(history, calibration.scenario)
    ran = backtest(history, calibration.scenario, replications=2)
    assert moved.fingerprint() == ran.scenario.fingerprint()


def test_a_backtest_replication_too_large_points_to_the_backtest_command(
    monkeypatch: pytest.MonkeyPatch, fitted: tuple[History, Calibration]
) -> None:
    """A back-test whose replications are each over the visit limit names the command that runs
    it with a higher limit — not `simkit simulate`, nor a flag the page does not have."""
    import simkit.app_model.run as run
    from simkit.errors import InputError
    from simkit.runner import check_size

    history, calibration = fitted
    monkeypatch.setattr(
        run, "check_size", lambda scenario, limit, **fix: check_size(scenario, 1000, **fix)
    )
    with pytest.raises(InputError) as caught:
        model.check_backtest(history, calibration.scenario, 2)
    fix = caught.value.problems[0].fix
    assert "`simkit backtest --max-visits N`" in fix and "simulate" not in fix


def test_backtest_beyond_the_run_budget_is_refused_in_the_page(
    monkeypatch: pytest.MonkeyPatch, fitted: tuple[History, Calibration]
) -> None:
    """The back-test's replications × its expected visits must fit the workbench's run budget:
    over it, the page says so (with the replications to lower) instead of simulating; within
    it, the back-test runs."""
    import simkit.app_model.run as run

    history, calibration = fitted
    per_replication = model.check_backtest(history, calibration.scenario, 1)
    monkeypatch.setattr(run, "RUN_VISIT_BUDGET", int(5 * per_replication))
    at = on_page("calibrate")
    labelled(at.number_input, "Replications").set_value(10).run()
    at.button(key="run_backtest").click().run()
    assert_clean(at)
    message = errors(at)
    assert "The back-test cannot run" in message
    assert "back-test expects" in message and "replications" in message
    assert table(at, "within tolerance") is None
    labelled(at.number_input, "Replications").set_value(2).run()
    at.button(key="run_backtest").click().run()
    assert_clean(at)
    assert not at.error, errors(at)
    assert table(at, "within tolerance") is not None


# 2. Change impact: the builder's prompt, the runs it announces, its sliders


def test_builder_without_named_changes_prompts_instead_of_an_error() -> None:
    """A scenario with no named changes opens the builder: the page asks for a slider move (a
    neutral prompt, not an error) and compares once something is changed."""
    at = on_page("impact", SHORT)
    assert not at.error, errors(at)
    assert "Move a slider" in infos(at)
    labelled(at.slider, "Volume change").set_value(20).run()
    assert_clean(at)
    assert not at.error, errors(at)
    assert "Move a slider" not in infos(at)
    at.button(key="compare").click().run()
    assert_clean(at)
    assert table(at, "difference") is not None


@pytest.mark.parametrize("together", [False, True])
def test_the_runs_announced_are_the_runs_made(
    monkeypatch: pytest.MonkeyPatch, together: bool
) -> None:
    """The page says how many runs a comparison makes before it starts: the baseline and each
    change, or the baseline and the plan when the changes go together — as many as it makes."""
    import simkit.analysis.impact as impact

    made: list[int] = []
    simulate_all = impact.simulate_all

    def counted(scenarios: list[Any], **kwargs: Any) -> Any:
        made.append(len(scenarios))
        return simulate_all(scenarios, **kwargs)

    monkeypatch.setattr(impact, "simulate_all", counted)
    at = on_page("impact")
    labelled(at.multiselect, "Changes defined").set_value(["hire_apps", "late_shift"]).run()
    labelled(at.toggle, "Together").set_value(together).run()
    assert_clean(at)
    announced = re.search(r"(\d+) runs of", infos(at))
    assert announced, infos(at)
    assert int(announced.group(1)) == (2 if together else 3)
    at.button(key="compare").click().run()
    assert_clean(at)
    assert not at.error, errors(at)
    assert made == [int(announced.group(1))]


def _difference(at: AppTest) -> float:
    """The paired difference (pp) of the built change on the resolve target."""
    at.button(key="compare").click().run()
    assert_clean(at)
    assert not at.error, errors(at)
    frame = table(at, "target", "difference")
    assert frame is not None, "no comparison"
    (row,) = [r for _, r in frame.iterrows() if "resolve" in r["target"]]
    return mean(row["difference"])


def test_builder_staffing_and_handling_change_the_paired_differences() -> None:
    """In the builder, one agent fewer or twice the handling time make the target's paired
    difference clearly negative; half the handling time makes it better than both."""
    at = on_page("impact", SHORT)
    line = labelled(at.slider, "mon-sun 00:00-24:00")
    line.set_value(line.value - 1).run()
    fewer_agents = _difference(at)
    line = labelled(at.slider, "mon-sun 00:00-24:00")
    line.set_value(line.value + 1).run()
    labelled(at.slider, "handling time").set_value(2.0).run()
    slower = _difference(at)
    labelled(at.slider, "handling time").set_value(0.5).run()
    faster = _difference(at)
    assert fewer_agents < -5 and slower < -5, (fewer_agents, slower)
    assert faster > max(fewer_agents, slower) and faster >= 0, (faster, fewer_agents, slower)


# 3. Targets: no SLA targets; the optimiser's answer


def test_targets_page_without_sla_targets_says_so() -> None:
    """A scenario with no SLA target gets a message on the Targets page saying there is nothing
    to assess and how to add a target — no empty tables, no staffing search to start."""
    at = on_page("targets", NO_TARGETS, "notargets.yaml")
    assert not at.error, errors(at)
    message = infos(at)
    assert "no SLA target" in message and "resolve:" in message
    assert table(at, "SLR") is None
    assert not [b for b in at.button if b.key in ("run_options", "run_optimiser")]


def test_the_optimiser_finds_a_roster_and_shows_it() -> None:
    """A team one agent short of its target: the optimiser finds a roster, says so, and shows
    the agents it adds and its cost."""
    at = on_page("targets", SHORT)
    # 4 replications: the spread of 2 gives P(period met) an interval on one degree of freedom
    labelled(at.number_input, "Replications").set_value(4).run()
    labelled(at.slider, "Confidence").set_value(50).run()
    assert any(r == "not achievable" for r in table(at, "SLR", "verdict")["verdict"])
    at.button(key="run_optimiser").click().run()
    assert_clean(at)
    assert not at.error, errors(at)
    assert at.success, [w.value for w in at.warning]
    assert "achievable" in at.success[0].value
    changes = table(at, "team", "line", "agents")
    assert changes is not None and len(changes) >= 1
    for agents in changes["agents"]:
        before, after = (int(n) for n in agents.split(" → "))
        assert after > before
    assert any("confirmed with fresh seeds: True" in c.value for c in at.caption)


# 4. and 5. Availability: each service's target on the charts; the sliders


def _charts(at: AppTest) -> list[dict[str, Any]]:
    return [json.loads(chart.proto.spec) for chart in at.get("vega_lite_chart")]


def _marked(spec: dict[str, Any]) -> tuple[set[str], set[float]]:
    """The services a chart draws and the targets it marks (rule layers' ``target``)."""
    services: set[str] = set()
    targets: set[float] = set()
    for layer in spec.get("layer", []):
        data = layer.get("data", {})
        values = data.get("values") or spec.get("datasets", {}).get(data.get("name"), [])
        for value in values:
            if "service" in value:
                services.add(value["service"])
            if set(value) == {"target"}:
                targets.add(float(value["target"]))
    return services, targets


def test_availability_charts_mark_each_service_s_target() -> None:
    """Two services with different targets: each chart that draws a service marks that
    service's own target, and no other."""
    at = on_page("availability", OUTAGES)
    assert not at.error, errors(at)
    own = {"a": 0.995, "b": 0.98}
    seen: set[str] = set()
    for spec in _charts(at):
        services, targets = _marked(spec)
        if not services:
            continue
        seen |= services
        assert targets == {own[s] for s in services}, (services, targets)
    assert seen == set(own)


def availability(at: AppTest, service: str) -> dict[str, float]:
    """The availability table's figures of ``service``: availability (%), outages per period
    and MTRS (hours; 0 when there was no outage)."""
    frame = table(at, "service", "availability", "MTRS")
    assert frame is not None, "no availability table"
    (row,) = [r for _, r in frame.iterrows() if r["service"] == service]
    return {
        "availability": mean(row["availability"]),
        "outages": mean(row["outages / period"]),
        "mtrs": 0.0 if row["MTRS"] == "—" else mean(row["MTRS"]),
    }


@pytest.mark.parametrize(
    ("widget", "label", "value", "service", "figure", "direction"),
    [
        ("slider", "db: units", 3, "a", "availability", +1),  # redundancy: 1 of 3 needed
        ("slider", "web: units needed up", 3, "b", "availability", -1),  # all 3 needed
        ("slider", "db: repair time", 4.0, "a", "mtrs", +1),  # repairs four times as long
        ("slider", "db: repair time", 4.0, "a", "availability", -1),
        ("toggle", "a: maintenance windows", False, "a", "availability", -1),  # counted now
    ],
)
def test_availability_controls_move_their_figures(
    widget: str, label: str, value: Any, service: str, figure: str, direction: int
) -> None:
    """Units, units needed, repair time and the maintenance rule each move the figure they
    should, the way they should."""
    at = on_page("availability", OUTAGES)
    assert not at.error, errors(at)
    before = availability(at, service)[figure]
    labelled(getattr(at, widget), label).set_value(value).run()
    assert_clean(at)
    assert not at.error, errors(at)
    after = availability(at, service)[figure]
    assert (after - before) * direction > 0, (before, after)


# 5. Downloads on the OLA / UC and Calibrate pages


def test_ola_downloads_are_valid_files(downloads: dict[str, Any]) -> None:
    """The OLA page's downloads: the scenario with the recommended agreements parses as an
    upload and holds them; the alignment table is CSV with a row per SLA target."""
    at = on_page("ola")
    assert not at.error, errors(at)
    shown = table(at, "SLA", "watermelon share")
    rows = list(csv.DictReader(io.StringIO(_bytes(downloads["ola-alignment.csv"]).decode())))
    assert [r["SLA"] for r in rows] == list(shown["SLA"])
    assert "watermelon share" in rows[0]
    text = _bytes(downloads["scenario-recommended-olas.yaml"]).decode("utf-8")
    assert isinstance(yaml.safe_load(text), dict)
    recommended = parse_scenario(text.encode("utf-8"), allow_files=False)
    original = load_scenario(
        Path(__file__).resolve().parent.parent / "scenarios" / "corporate_service_desk.yaml"
    )
    assert set(recommended.teams) == set(original.teams)
    advised = table(at, "team", "agreement", "within")
    assert advised is not None and len(advised) >= 1
    assert recommended.to_yaml() != original.to_yaml()


def test_calibrate_download_is_the_fitted_scenario(downloads: dict[str, Any]) -> None:
    """The Calibrate page's download is the fitted scenario as YAML, valid as an upload, with
    the services the page says it fitted."""
    at = on_page("calibrate")
    assert not at.error, errors(at)
    (name,) = [n for n in downloads if n.endswith(".yaml")]
    text = _bytes(downloads[name]).decode("utf-8")
    document = yaml.safe_load(text)
    assert isinstance(document, dict) and document["services"]
    scenario = parse_scenario(text.encode("utf-8"), allow_files=False)
    fitted = table(at, "service", "tickets / week")
    assert set(scenario.services) == set(fitted["service"])
    assert any(scenario.name in s.value for s in at.success)


def test_calibrate_can_start_the_scenario_from_the_open_backlog(
    downloads: dict[str, Any],
) -> None:
    """The backlog toggle makes the fitted scenario start from the tickets open at the export
    time: the YAML shown and downloaded then holds them, the run beginning at the export."""
    at = on_page("calibrate")
    assert not at.error, errors(at)
    toggle = at.toggle(key="calibrate:backlog")
    assert not toggle.value and "backlog:" not in at.code[-1].value
    toggle.set_value(True).run()
    assert_clean(at)
    assert not at.error, errors(at)
    shown = at.code[-1].value
    scenario = parse_scenario(shown.encode("utf-8"), allow_files=False)
    assert scenario.backlog and 0 <= scenario.warmup < 24  # the run begins at the export
    assert any("backlog lines" in i.value for i in at.info)


def test_a_scenario_with_a_backlog_says_so_and_simulates_it() -> None:
    """An uploaded scenario that starts with 300 open tickets on two agents (150 agent-hours of
    work) says so beside its span, lists the backlog, and its first weeks are late for the new
    tickets queued behind it: compliance falls against the same scenario without it."""
    backlog = SHORT.replace(b"seed: 11\n", b"seed: 11\nwarmup: 0h\n") + (
        b"backlog:\n  - {team: t, service: s, priority: P1, tickets: 300, age: 2d}\n"
    )
    at = on_page("scenario", backlog)
    assert not at.error, errors(at)
    assert any("starts with 300 open tickets" in c.value for c in at.caption)
    assert table(at, "team", "service", "priority", "tickets", "age") is not None
    late = mean(next(iter(sla_table(at).values())))
    empty = on_page("scenario", SHORT.replace(b"seed: 11\n", b"seed: 11\nwarmup: 0h\n"))
    assert late < mean(next(iter(sla_table(empty).values()))) - 5
    # the backlog slider: none open at the start is the scenario without a backlog, number for
    # number (the same seed draws the same arrivals and handling)
    labelled(at.slider, "Open tickets at the start").set_value(0).run()
    assert_clean(at)
    assert sla_table(at) == sla_table(empty)
    labelled(at.slider, "Open tickets at the start").set_value(200).run()
    assert_clean(at)
    assert mean(next(iter(sla_table(at).values()))) < late


# 5. An uploaded scenario too large to run


def test_an_upload_too_large_to_run_is_refused_in_every_page() -> None:
    """30 million tickets a week: every page that would simulate it says it is too large, with
    the estimate, instead of a traceback or a run."""
    at = run_app()
    upload(at, "huge.yaml", TOO_LARGE)
    assert_clean(at)
    assert "visits per replication" in errors(at)
    # the Scenario page sends the simulated table's heading before its run: a refused run
    # takes it away again
    assert not [m.value for m in at.markdown if "Simulated SLA table" in m.value]
    for page in ("availability", "targets", "ola"):
        at.switch_page(f"app_pages/{page}.py").run()
        assert_clean(at)
        assert "visits per replication" in errors(at), page
    at.switch_page("app_pages/impact.py").run()
    labelled(at.slider, "Volume change").set_value(10).run()
    assert_clean(at)
    assert "visits per replication" in errors(at)
    assert table(at, "difference") is None


def test_the_maintenance_toggle_says_which_windows_it_excludes() -> None:
    """The toggle names the service's maintenance windows as the scenario gives them, weekly
    or dated, so a user knows what is excluded from agreed service time."""
    at = on_page("availability", OUTAGES)
    assert "sun 02:00-06:00" in labelled(at.toggle, "a: maintenance windows").help
    dated = OUTAGES.replace(
        b'maintenance: "sun 02:00-06:00"',
        b'maintenance: [{from: "2027-01-09 22:00", until: "2027-01-10 02:00"}]',
    )
    assert dated != OUTAGES
    at = on_page("availability", dated)
    assert "2027-01-09 22:00 until 2027-01-10 02:00" in labelled(at.toggle, "a: maint").help
