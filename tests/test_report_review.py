"""The service review pack: colours by the documented rule, every section for every example,
the model's expectation measured the way simulations are, and availability against target."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from test_report import assert_self_contained

from simkit.calibrate import History, load_history
from simkit.calibrate.outages import load_outages
from simkit.calibrate.review import review, verdict
from simkit.errors import InputError
from simkit.report.brief import write_demo_reports
from simkit.report.review_pack import (
    AMBER_MARGIN,
    REVIEW_SECTIONS,
    availability_status,
    expected_performance,
    history_availability,
    rag_status,
    render_review_pack,
    review_span_scenario,
    write_review_pack,
)
from simkit.resources import calibration_dir, example_scenarios
from simkit.runner import simulate
from simkit.scenario import Scenario, load_scenario, parse_scenario

SAMPLE = calibration_dir() / "sample"
SCENARIOS = [*example_scenarios(), SAMPLE / "scenario.yaml"]
REPLICATIONS = 2


@pytest.fixture(scope="module")
def history() -> History:
    return load_history(SAMPLE / "servicenow_incidents.csv.gz", "servicenow")


@pytest.fixture(scope="module")
def sample() -> Scenario:
    return load_scenario(SAMPLE / "scenario.yaml")


@pytest.fixture(scope="module")
def measured(history: History, sample: Scenario) -> dict[str, Any]:
    return review(history, sample)


@pytest.fixture(scope="module")
def expected(measured: dict[str, Any], sample: Scenario) -> dict[str, Any]:
    return expected_performance(measured, sample, replications=REPLICATIONS)


# -- colours -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("compliance", "goal", "met", "tickets", "status"),
    [
        (0.95, 0.90, None, 100, "green"),
        (0.92, 0.90, None, 100, "green"),
        (0.919, 0.90, None, 100, "amber"),
        (0.90, 0.90, None, 100, "amber"),
        (0.899, 0.90, None, 100, "red"),
        (0.95, 0.90, False, 100, "red"),
        (0.85, 0.90, True, 20, "amber"),
        (None, 0.90, None, 0, "grey"),
        (1.0, 0.90, True, 0, "grey"),
    ],
)
def test_rag_status_follows_the_documented_rule(
    compliance: float | None, goal: float, met: bool | None, tickets: float, status: str
) -> None:
    """Green: met with more than 2 points to spare; amber: met within 2 points or only through
    the small-sample rule; red: missed by the contract's rule; grey: nothing measured."""
    assert rag_status(compliance, goal, met, tickets) == status


def test_availability_status_reads_the_downtime_allowance() -> None:
    """Below target is red; using more than 80% of the allowed downtime is amber."""
    target = 0.995
    assert availability_status(0.9949, target) == "red"
    assert availability_status(1 - 0.0045, target) == "amber"
    assert availability_status(1 - 0.0039, target) == "green"
    assert availability_status(None, target) == "grey"


def test_pack_colours_agree_with_the_measured_review(measured: dict[str, Any]) -> None:
    """A target missed over the span in the review is red in the pack, a met one green or
    amber."""
    page = render_review_pack(measured, charts=False)
    table = page[page.index('<section id="compliance">') : page.index('<section id="trends">')]
    for row in measured["sla"]:
        share = f"{row['compliance']['mean'] * 100:.1f}%"
        tickets = f'<span class="sub">{row["tickets"]:,.0f} tickets</span>'
        badges = {
            "red": f'<span class="badge rag-red">✗ {share}</span>{tickets}',
            "amber": f'<span class="badge rag-amber">! {share}</span>{tickets}',
            "green": f'<span class="badge rag-green">✓ {share}</span>{tickets}',
        }
        shown = {colour for colour, badge in badges.items() if badge in table}
        assert shown == ({"red"} if verdict(row) == "missed" else shown & {"amber", "green"})
        assert len(shown) == 1


def _hand_review(periods: list[dict[str, Any]], goal: float = 0.9) -> dict[str, Any]:
    """A minimal review document for one service target."""
    target = {
        "level": "service",
        "service": "web",
        "customer": None,
        "priority": "P1",
        "metric": "resolve",
        "within_h": 4.0,
        "calendar": "24x7",
        "goal": goal,
        "tickets": float(sum(p["tickets"] for p in periods)),
        "open": 0.0,
        "compliance": {"mean": 0.9, "lo": None, "hi": None},
        "p_period_met": {"mean": 0.5, "lo": None, "hi": None},
        "mean_h": 1.0,
        "quantiles_h": {"50": 1.0, "80": 2.0, "90": 3.0, "95": 4.0},
    }
    identity = {k: target[k] for k in ("level", "service", "customer", "priority", "metric")}
    return {
        "scenario": "availability check",
        "source": "hand.csv",
        "profile": "generic",
        "sla": [target],
        "ola": [],
        "teams": [],
        "periods": [{**identity, **p} for p in periods],
        "span": {
            "start": "2027-01-01T00:00+00:00",
            "end": "2027-03-01T00:00+00:00",
            "observed_until": "2027-03-01T00:00+00:00",
            "first_opened": "2027-01-01T00:10+00:00",
            "timezone": "UTC",
            "period": "month",
            "full_periods": 2,
            "partial_periods": 0,
        },
        "mapping": {},
        "quality": {"rows_read": 0, "tickets": 0, "removed_rows": 0, "removed_tickets": 0},
        "breaches": [],
    }


def test_a_period_met_only_by_the_small_sample_rule_is_amber() -> None:
    """A thin period below its goal but within the small-sample allowance shows amber, a
    missed one red, each with its ticket count."""
    document = _hand_review(
        [
            {
                "period": "2027-01",
                "compliance": {"mean": 0.8, "lo": None, "hi": None},
                "p_met": 1.0,
                "tickets": 10.0,
                "full": True,
            },
            {
                "period": "2027-02",
                "compliance": {"mean": 0.85, "lo": None, "hi": None},
                "p_met": 0.0,
                "tickets": 60.0,
                "full": True,
            },
        ]
    )
    page = render_review_pack(document, charts=False)
    assert '<span class="badge rag-amber">! 80.0%</span><span class="sub">10 tickets</span>' in page
    assert '<span class="badge rag-red">✗ 85.0%</span><span class="sub">60 tickets</span>' in page
    assert "1 of 2" in page
    assert f"within {AMBER_MARGIN * 100:g} percentage points" in page


# -- every example ---------------------------------------------------------------------------------


@pytest.mark.parametrize("path", SCENARIOS, ids=[p.name for p in SCENARIOS])
def test_every_example_review_pack_renders_with_every_section(history: History, path: Path) -> None:
    """The sample history reviewed against every example scenario (names matched or not), with
    the model's expectation, gives one self-contained page with all nine sections."""
    scenario = load_scenario(path)
    document = review(history, scenario)
    model = expected_performance(document, scenario, replications=REPLICATIONS)
    json.dumps(model, allow_nan=False)
    page = render_review_pack(document, expected=model)
    links = assert_self_contained(page)
    for section, title in REVIEW_SECTIONS:
        assert section in links.ids
        assert any(title in h for h in links.headings)
    positions = [page.index(f'<section id="{s}">') for s, _ in REVIEW_SECTIONS]
    assert positions == sorted(positions)
    assert f"{REPLICATIONS} simulated runs" in page


def test_breaches_are_listed_worst_first(measured: dict[str, Any]) -> None:
    """The pack lists every breach of the review, service level targets first, each table
    worst first."""
    page = render_review_pack(measured, charts=False)
    section = page[page.index('<section id="breaches">') : page.index('<section id="ola">')]
    tickets = [str(b["ticket"]) for b in measured["breaches"]]
    assert all(t in section for t in tickets)
    for kind in ("sla", "ola"):
        chosen = [b for b in measured["breaches"] if (b["kind"] == "sla") == (kind == "sla")]
        ratios = [b["times_target"] for b in chosen]
        assert ratios == sorted(ratios, reverse=True)
        order = [section.index(f">{b['ticket']}<") for b in chosen]
        assert order == sorted(order)


# -- the model's expectation -----------------------------------------------------------------------


def test_expectation_is_measured_like_a_simulation(
    measured: dict[str, Any], expected: dict[str, Any], sample: Scenario
) -> None:
    """The expectation's compliance per target is the simulate document's, over the review's
    span, and its periods are the review's periods."""
    moved = review_span_scenario(measured, sample)
    document = simulate(moved, replications=REPLICATIONS).summary()
    for mine, theirs in zip(expected["sla"], document["sla"], strict=True):
        assert mine["compliance"]["mean"] == pytest.approx(theirs["compliance"]["mean"], abs=1e-12)
        assert mine["p_period_met"] == pytest.approx(theirs["p_period_met"])
    assert {p["period"] for p in expected["periods"]} == {p["period"] for p in measured["periods"]}
    assert moved.drain == 0.0


def test_the_expectation_leaves_a_backlog_out(measured: dict[str, Any], sample: Scenario) -> None:
    """A scenario's backlog is its queue at its own start: moved onto the review's span it is
    left out, and the run warms up as by default instead of starting empty."""
    line = {"team": "service_desk", "service": "payroll", "priority": "P3", "tickets": 40}
    forward = sample.with_patch({"backlog": [line], "warmup": "0h"})
    moved = review_span_scenario(measured, forward)
    assert moved.backlog == () and moved.warmup == 336.0
    assert review_span_scenario(measured, sample).warmup == sample.warmup


def test_expected_range_brackets_the_runs(expected: dict[str, Any]) -> None:
    """The range of the runs lies within [0, 1] and contains their mean."""
    for row in expected["sla"] + expected["periods"]:
        band, mean = row["range"], row["compliance"]["mean"]
        if mean is None:
            continue
        assert 0.0 <= band["lo"] <= mean + 1e-12 <= band["hi"] + 2e-12 <= 1.0 + 2e-12


def test_the_range_of_twenty_runs_ends_at_the_extreme_runs() -> None:
    """With 20 runs the range ends at the lowest and the highest run — runs' own values,
    as the pack's note says — so a history equal to the lowest run is in line with the model
    (interpolated ends put it "worse")."""
    import numpy as np

    from simkit.report.review_data import _range

    runs = np.linspace(0.9840, 0.9990, 20)
    assert _range(runs) == {"lo": runs.min(), "hi": runs.max(), "outside": 2 / 21}
    # symmetric: the k-th lowest and the k-th highest run, k = ⌊2.5% (R + 1)⌋ and at least 1,
    # so that a history of the model falls outside with a chance 2k / (R + 1) ≤ 5% from 39 runs
    for count, k in ((39, 1), (80, 2), (100, 2), (200, 5)):
        runs = np.linspace(0.0, 1.0, count)
        band = _range(runs)
        assert band == {"lo": runs[k - 1], "hi": runs[-k], "outside": 2 * k / (count + 1)}
        assert band["outside"] <= 0.05, count


def test_a_history_of_the_model_falls_outside_the_range_as_often_as_it_says() -> None:
    """Draw R runs and one more value (the history) from the same distribution: the history
    falls outside the range in the stated share of 20,000 trials (within 4 standard errors) —
    9.5% with 20 runs, not the 5% a "middle 95%" promised."""
    import numpy as np

    from simkit.report.review_data import _range

    rng = np.random.default_rng(11)
    trials = 20_000
    for runs in (20, 100):
        draws = rng.normal(size=(trials, runs + 1))
        outside = 0
        for row in draws:
            band = _range(row[:runs])
            outside += not band["lo"] <= row[runs] <= band["hi"]
        stated = band["outside"]
        assert stated is not None
        assert abs(outside / trials - stated) < 4 * np.sqrt(stated * (1 - stated) / trials)


def test_expectation_needs_the_review_time_zone(measured: dict[str, Any]) -> None:
    """A scenario in another time zone than the review is refused with the reason."""
    other = load_scenario(SAMPLE / "scenario.yaml").with_patch({"timezone": "Europe/Paris"})
    with pytest.raises(InputError, match="Europe/Paris"):
        review_span_scenario(measured, other)


def test_pack_without_a_model_says_so(measured: dict[str, Any], tmp_path: Path) -> None:
    """``replications=0`` skips the simulation; the pack says no expectation was computed."""
    written = write_review_pack(measured, tmp_path / "review.html", scenario=None, replications=0)
    page = written[0].read_text(encoding="utf-8")
    assert "No simulation of the scenario was run" in page
    assert "No availability was measured" in page


# -- availability ----------------------------------------------------------------------------------

_AVAILABILITY_SCENARIO = """
name: availability check
start: 2027-01-01
timezone: UTC
horizon: 59d
warmup: 0h
period: month
services:
  web:
    entry: desk
    demand: {per_week: 1}
    priorities: {P1: {share: 100%, resolve: {within: 4h, goal: 90%}}}
    availability: {target: 99.5%, depends_on: [server]}
teams:
  desk: {roster: {"mon-sun 00:00-24:00": 1}, handle: {default: {exponential: {mean: 1h}}}}
components:
  server: {fails: {exponential: {mean: 100000h}}, repair: {exponential: {mean: 1h}}}
"""


def test_outage_history_is_measured_per_month_against_target(tmp_path: Path) -> None:
    """January down 7.44 h of 744 (99.0%: red) and February 3.024 h of 672 (99.55%, 90% of the
    allowance used: amber), read from a CSV outage history."""
    csv = tmp_path / "outages.csv"
    csv.write_text(
        "service,component,start,end,planned,cause\n"
        "web,server,2027-01-10T00:00:00Z,2027-01-10T07:26:24Z,false,failure\n"
        "web,server,2027-02-10T00:00:00Z,2027-02-10T03:01:26.4Z,false,failure\n",
        encoding="utf-8",
    )
    outages = load_outages(csv, timezone="UTC").outages
    assert outages.column_names[-1] == "replication"
    scenario = parse_scenario(_AVAILABILITY_SCENARIO)
    document = _hand_review([])
    found = history_availability(outages, document, scenario)
    by_period = {r["period"]: r["availability"]["mean"] for r in found["periods"]}
    assert by_period["2027-01"] == pytest.approx(1 - 7.44 / 744, abs=1e-9)
    assert by_period["2027-02"] == pytest.approx(1 - 3.024 / 672, abs=1e-9)
    page = render_review_pack(document, availability=found, charts=False)
    section = page[page.index('<section id="availability">') : page.index('<section id="model">')]
    assert "rag-red" in section and "rag-amber" in section and "99.000%" in section


def test_outage_history_needs_its_columns(tmp_path: Path) -> None:
    """An outage history without ``start`` is refused, naming the column."""
    csv = tmp_path / "outages.csv"
    csv.write_text(
        "service,component,began,planned,cause\nweb,x,2027-01-01,no,y\n", encoding="utf-8"
    )
    with pytest.raises(InputError, match="start"):
        load_outages(csv, timezone="UTC")


def test_model_availability_is_shown_without_an_outage_history() -> None:
    """A scenario with an availability target gives the model's availability per month even
    without an outage history."""
    scenario = parse_scenario(_AVAILABILITY_SCENARIO)
    document = _hand_review([])
    model = expected_performance(document, scenario, replications=REPLICATIONS)
    assert {r["period"] for r in model["availability_periods"]} == {"2027-01", "2027-02"}
    page = render_review_pack(document, expected=model, charts=False)
    section = page[page.index('<section id="availability">') : page.index('<section id="model">')]
    assert "model only" in section


# -- the demo --------------------------------------------------------------------------------------


def test_demo_writes_both_documents(tmp_path: Path) -> None:
    """``write_demo_reports`` writes the brief and the review pack, both self-contained."""
    written = write_demo_reports(tmp_path, replications=REPLICATIONS)
    assert [p.name for p in written] == ["brief.html", "review.html"]
    for path in written:
        assert_self_contained(path.read_text(encoding="utf-8"))


def test_the_summary_names_missed_agreements_too(measured: dict[str, Any]) -> None:
    """ "In short" lists every missed target: a missed OLA (section 6) as well as the SLAs."""
    missed = [r for r in measured["ola"] if r["compliance"]["mean"] < r["goal"]]
    assert missed, "the sample's service desk misses its response OLA"
    page = render_review_pack(measured)
    summary = page[page.index('id="summary"') : page.index('id="colours"')]
    for row in missed:
        assert f"{row['team']} OLA {row['metric']}" in summary
