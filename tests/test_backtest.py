"""The back-test (simkit.calibrate.backtest): a scenario simulated over a history's span and
measured by the same path as the history; the true model of a simulated history matches it
within max(3 pp, t·SE) per target (t: Student's t on replications − 1), in sample and out
of sample."""

from __future__ import annotations

import datetime as dt
import json
import math
from typing import Any

import numpy as np
import pytest
from test_fit import simulated_history, small_scenario

from simkit.calibrate.backtest import TOLERANCE, backtest
from simkit.calibrate.fit import calibrate, history_between, local_midnight
from simkit.calibrate.history import History
from simkit.measure import QUANTILES
from simkit.scenario import Scenario

ROW_KEYS = {
    "service",
    "priority",
    "metric",
    "tickets_hist",
    "compliance_hist",
    "compliance_sim",
    "quantiles_h_hist",
    "quantiles_h_sim",
}


@pytest.fixture(scope="module")
def truth() -> Scenario:
    return small_scenario()


@pytest.fixture(scope="module")
def history(truth: Scenario) -> History:
    return simulated_history(truth, seed=21)


@pytest.fixture(scope="module")
def in_sample(history: History, truth: Scenario) -> Any:
    return backtest(history, truth, replications=8)


def test_rows_follow_the_contract(in_sample: Any) -> None:
    """Every SLA target of the scenario has a row with the contract's keys, compliance as
    {mean, lo, hi} and quantiles under the usual keys; the document is plain JSON."""
    rows = in_sample.document["rows"]
    assert len(rows) == 4  # P1, P2 resolve; P3 respond and resolve
    for row in rows:
        assert set(row) >= ROW_KEYS
        assert set(row["compliance_sim"]) == {"mean", "lo", "hi"}
        assert set(row["quantiles_h_hist"]) == set(QUANTILES) == set(row["quantiles_h_sim"])
        assert 0 <= row["compliance_hist"] <= 1
    json.dumps(in_sample.document, allow_nan=False)


def test_the_true_model_matches_its_own_history(in_sample: Any) -> None:
    """Simulating the scenario that produced the history reproduces every target within
    max(3 pp, 3 SE) — the report's t·SE flag fails one row in twenty by chance alone, so
    the four rows tested together get 3 SE — and the volume within 4 standard errors."""
    for row in in_sample.document["rows"]:
        assert abs(row["difference"]) <= max(TOLERANCE, 3 * row["se"]), row
    for volume in in_sample.document["volume"]:
        n = volume["tickets_hist"]
        assert abs(volume["tickets_sim"]["mean"] - n) <= 4 * math.sqrt(n)
        assert volume["weekly"]


def test_the_span_is_the_history_s(in_sample: Any, history: History) -> None:
    """The scenario is moved onto the history: start at its first day, the drain reaching the
    export time so that open tickets are open on both sides."""
    moved = in_sample.scenario
    assert moved.start == dt.date(2026, 1, 5)
    end = local_midnight(moved.start, moved.timezone) + np.timedelta64(
        round((moved.horizon + moved.drain) * 3600e6), "us"
    )
    assert abs(end - history.observed_until) <= np.timedelta64(1, "s")
    open_rows = [r for r in in_sample.document["rows"] if r["open_hist"]]
    assert open_rows and all(r["open_sim"] > 0 for r in open_rows)


def test_probes_compare_times_without_targets(in_sample: Any) -> None:
    """Probes put the history's own 80th percentile as a 24x7 target: 80% in the history by
    construction, and the simulation is compared with it."""
    probes = in_sample.document["probes"]
    assert {(p["priority"], p["metric"]) for p in probes} >= {("P3", "resolve"), ("P3", "respond")}
    for probe in probes:
        assert probe["compliance_hist"] >= 0.8
        assert probe["goal"] == 0.8


def test_growth_is_carried_to_a_later_start(history: History) -> None:
    """Moving a scenario with growth to a later start scales per_week by (1 + g)^years, so the
    simulated volume continues the trend instead of restarting it."""
    grown = small_scenario(start="2025-07-07", services={"email": {"demand": {"growth": "20%"}}})
    result = backtest(history, grown, replications=2)
    years = (dt.date(2026, 1, 5) - dt.date(2025, 7, 7)).days / 365.25
    assert result.scenario.services["email"].demand.per_week == pytest.approx(
        400 * 1.2**years, rel=1e-4
    )


def test_a_backlog_is_not_carried_to_the_history_s_span(history: History) -> None:
    """A scenario's backlog is its queue at its own start: the back-test, on the history's span,
    starts without it."""
    line = {"team": "desk", "service": "email", "priority": "P3", "tickets": 50, "age": "1d"}
    forward = small_scenario(backlog=[line], warmup="0h")
    assert forward.backlog and forward.warmup == 0
    result = backtest(history, forward, replications=1)
    assert result.scenario.backlog == ()
    assert result.scenario.warmup == 336.0  # warms up from empty queues, as by default


def test_out_of_sample_fit_matches_the_later_weeks(history: History, truth: Scenario) -> None:
    """Fitted on the first four weeks, the scenario reproduces the last four: every target within
    max(3 pp, 3 SE) (3 SE as above: four rows at once)."""
    cut = local_midnight(dt.date(2026, 2, 2), truth.timezone)
    fitted = calibrate(history_between(history, None, cut), scenario=truth)
    result = backtest(history, fitted.scenario, start=dt.date(2026, 2, 2), replications=8)
    assert result.document["span"]["from"].startswith("2026-02-02")
    for row in result.document["rows"]:
        assert abs(row["difference"]) <= max(TOLERANCE, 3 * row["se"]), row


def test_an_empty_span_is_refused(history: History, truth: Scenario) -> None:
    """A span that ends before it starts fails with the fix."""
    from simkit.errors import InputError

    with pytest.raises(InputError, match="span is empty"):
        backtest(history, truth, start=dt.date(2026, 3, 1), until=dt.date(2026, 2, 1))


def test_backtest_command_prints_the_contract(tmp_path: Any, capsys: Any) -> None:
    """`simkit backtest HISTORY --profile NAME --scenario S --json` prints rows under "rows"
    with the contract's keys; --from moves the span."""
    from simkit.calibrate.export import SAMPLE_FILE, sample_dir
    from simkit.cli import main

    code = main(
        [
            "backtest",
            str(sample_dir() / SAMPLE_FILE),
            "--profile",
            "servicenow",
            "--timezone",
            "Europe/London",
            "--scenario",
            str(sample_dir() / "scenario.yaml"),
            "--from",
            "2025-04-07",
            "--replications",
            "3",
            "--json",
        ]
    )
    document = json.loads(capsys.readouterr().out)
    assert code == 0
    assert document["span"]["from"].startswith("2025-04-06T23:00")
    assert document["replications"] == 3
    assert document["rows"] and all(set(r) >= ROW_KEYS for r in document["rows"])


def test_the_readable_backtest_counts_every_target_and_says_what_cleaning_did(
    capsys: Any,
) -> None:
    """The summary line counts the OLA/UC rows too (a missed OLA used to vanish behind "9 of 9
    targets"), and the readable back-test, like the calibration, ends with what cleaning did."""
    from simkit.calibrate.export import SAMPLE_FILE, sample_dir
    from simkit.cli import main

    sample = str(sample_dir() / SAMPLE_FILE)
    common = ["--profile", "servicenow", "--timezone", "Europe/London"]
    scenario = ["--scenario", str(sample_dir() / "scenario.yaml"), "--replications", "3"]
    assert main(["backtest", sample, *common, *scenario, "--json"]) == 0
    document = json.loads(capsys.readouterr().out)
    assert document["quality"]["rows_read"] > 0
    ola = [r for r in document["ola"] if r["within_tolerance"] is not None]
    met = sum(1 for r in ola if r["within_tolerance"])
    assert ola and document["summary"]["ola_compared"] == len(ola)
    assert main(["backtest", sample, *common, *scenario]) == 0
    text = capsys.readouterr().out
    assert f"{met} of {len(ola)} OLA/UC targets" in text
    # t as each row uses it: from the replications that measured the target (2 d.f. with all 3)
    assert "for the replications that measured the target (4.30 with all 3: 2 d.f.)" in text
    assert f"Data quality: {document['quality']['rows_read']:,} rows" in text
    assert main(["calibrate", sample, *common]) == 0
    assert "Data quality: " in capsys.readouterr().out
