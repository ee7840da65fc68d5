"""Round trip through a ServiceNow event-log export: simulate a known scenario, write it as an
incident audit export with the dirt of a real one, load it with the ``servicenow`` profile,
calibrate, and check that volumes, mix, routing and times come back within sampling error and
that the back-test matches within max(3 pp, t·SE) per target (t: Student's t on replications − 1).

Tolerances are 4 standard errors of the estimate from the sample sizes (a Poisson count for
volumes, binomial shares for the mix and routing, the coefficient of variation over √n for mean
times). The quick test uses an 8-week scenario; the slow one the bundled sample history, fitted
on its first quarter and back-tested out of sample on the second.
"""

from __future__ import annotations

import datetime as dt
import math
from pathlib import Path
from typing import Any

import pytest
from test_fit import small_scenario

from simkit.calibrate import load_history
from simkit.calibrate.backtest import backtest
from simkit.calibrate.export import SAMPLE_FILE, export_history, sample_dir
from simkit.calibrate.fit import calibrate, history_between, local_midnight
from simkit.calibrate.history import History
from simkit.scenario import Scenario, load_scenario


def _team(report: dict[str, Any], name: str) -> dict[str, Any]:
    return next(t for t in report["teams"] if t["team"] == name)


def _shares_close(fitted: dict[str, float], truth: dict[str, float], n: int) -> None:
    for key, p in truth.items():
        se = math.sqrt(p * (1 - p) / n)
        assert abs(fitted.get(key, 0.0) - p) <= 4 * se + 0.001, (key, fitted.get(key), p, n)


@pytest.fixture(scope="module")
def exported(tmp_path_factory: pytest.TempPathFactory) -> tuple[Scenario, History, Any]:
    truth = small_scenario(replications=10)
    path = tmp_path_factory.mktemp("roundtrip") / "incidents.csv.gz"
    summary = export_history(truth, path, seed=4)
    history = load_history(path, "servicenow", timezone=truth.timezone)
    return truth, history, summary


@pytest.fixture(scope="module")
def fitted(exported: tuple[Scenario, History, Any]) -> Any:
    truth, history, _ = exported
    return calibrate(history, scenario=truth)


def test_the_dirt_is_found_by_the_import(exported: tuple[Scenario, History, Any]) -> None:
    """The export's duplicated rows are removed, its two incidents opened after their
    resolution are taken out, and its incidents without a priority are kept without one — and
    the rest arrive: every incident but those two."""
    _, history, summary = exported
    quality = history.quality
    assert quality.removed_rows >= summary.dirt["duplicated_rows"] > 0
    assert history.tickets.num_rows >= summary.incidents - len(
        summary.dirt["opened_after_resolved"]
    )
    numbers = set(history.tickets["source_id"].to_pylist())
    assert not numbers & set(summary.dirt["opened_after_resolved"])
    assert set(summary.dirt["missing_priority"]) <= numbers


def test_volume_mix_and_routing_come_back(fitted: Any) -> None:
    """per_week within 4 Poisson standard errors of 400; priority shares and each team's routing
    shares within 4 binomial standard errors."""
    service = fitted.scenario.services["email"]
    report = fitted.report["services"][0]
    n = report["tickets_in_span"]
    weeks = n / service.demand.per_week
    assert abs(service.demand.per_week - 400) <= 4 * math.sqrt(400 * weeks) / weeks
    shares = {p: level.share for p, level in service.priorities.items()}
    _shares_close(shares, {"P1": 0.10, "P2": 0.30, "P3": 0.60}, n)
    for name, truth in {
        "desk": {"resolved": 0.70, "second": 0.25, "pause": 0.05},
        "second": {"resolved": 0.90, "desk": 0.10},
    }.items():
        routes = _team(fitted.report, name)["routes"]
        _shares_close(dict(fitted.scenario.teams[name].next or {}), truth, sum(routes.values()))


def test_times_come_back(fitted: Any) -> None:
    """Handling means (picked up → passed on) within 4 standard errors of the truth (P1 at the
    desk separately: 45 min against 20 min), and the awaiting-user pause within 4 standard
    errors of 6 h."""
    desk = fitted.scenario.teams["desk"]
    report = _team(fitted.report, "desk")
    assert report["method"] == "measured handling"
    n_p1 = report["handle"]["P1"]["n"]
    assert abs(desk.handle["P1"].mean - 0.75) <= 4 * 0.75 / math.sqrt(n_p1)
    pooled = 0.1 * 0.75 + 0.9 / 3  # the default pools every priority
    spread = math.sqrt(0.1 * 0.75**2 * 2 + 0.9 * (1 / 3) ** 2 * 2 - pooled**2)
    n_default = report["handle"]["default"]["n"]
    assert abs(desk.handle["default"].mean - pooled) <= 4 * spread / math.sqrt(n_default)
    second = fitted.scenario.teams["second"]
    n_second = _team(fitted.report, "second")["handle"]["default"]["n"]
    assert abs(second.handle["default"].mean - 1.0) <= 4 * 0.8 / math.sqrt(n_second)
    assert desk.pause is not None
    n_pause = report["pause"]["n"]
    assert abs(desk.pause.duration.mean - 6.0) <= 4 * 6.0 / math.sqrt(n_pause)


def test_the_back_test_matches_in_sample(
    exported: tuple[Scenario, History, Any], fitted: Any
) -> None:
    """The fitted scenario, simulated over the history's span, matches every target within
    max(3 pp, t·SE)."""
    _, history, _ = exported
    result = backtest(history, fitted.scenario, replications=10)
    assert result.document["rows"]
    for row in result.document["rows"]:
        assert row["within_tolerance"], row
    for volume in result.document["volume"]:
        n = volume["tickets_hist"]
        assert abs(volume["tickets_sim"]["mean"] - n) <= 4 * math.sqrt(n)


@pytest.mark.slow
def test_the_bundled_sample_round_trips_out_of_sample(tmp_path: Path) -> None:
    """The bundled sample, fitted on its first quarter, reproduces the second: every SLA target
    within max(3 pp, t·SE), and each service's volume within 4 standard errors of the fitted
    rate and the count (relative √(1/n_fit + 1/n_hist)) plus the growth a quarter cannot reveal
    (workplace grows 15% a year: 3.6% from one quarter's middle to the next). The profile is the
    scenario's calendar, so the Easter and May bank holidays are quiet in the simulation too."""
    truth = load_scenario(sample_dir() / "scenario.yaml")
    history = load_history(sample_dir() / SAMPLE_FILE, "servicenow", timezone=truth.timezone)
    cut = local_midnight(dt.date(2025, 4, 7), truth.timezone)
    fitted = calibrate(history_between(history, None, cut), scenario=truth)
    for name in ("payroll", "workplace"):
        assert isinstance(fitted.scenario.services[name].demand.profile, str)
    result = backtest(history, fitted.scenario, start=dt.date(2025, 4, 7), replications=20)
    for row in result.document["rows"]:
        assert row["within_tolerance"], row
    fitted_counts = {s["service"]: s["tickets_in_span"] for s in fitted.report["services"]}
    for volume in result.document["volume"]:
        n = volume["tickets_hist"]
        relative = 4 * math.sqrt(1 / n + 1 / fitted_counts[volume["service"]]) + (1.15**0.25 - 1)
        assert abs(volume["tickets_sim"]["mean"] - n) <= relative * n, volume["service"]


def test_the_bundled_sample_regenerates_byte_for_byte(tmp_path: Path) -> None:
    """`simkit sample` (export_history of calibration/sample/scenario.yaml with its seed) gives
    exactly the bundled file's bytes; the file is small enough to commit (< 5 MB) and holds
    the promised dirt."""
    bundled = (sample_dir() / SAMPLE_FILE).read_bytes()
    summary = export_history(load_scenario(sample_dir() / "scenario.yaml"), tmp_path / SAMPLE_FILE)
    assert (tmp_path / SAMPLE_FILE).read_bytes() == bundled
    assert len(bundled) < 5_000_000
    assert summary.dirt["duplicated_rows"] > 0
    assert summary.dirt["day_first_times"] > 0
    assert len(summary.dirt["opened_after_resolved"]) == 2
    assert len(summary.dirt["missing_priority"]) > 0
