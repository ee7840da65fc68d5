"""Outage history: loading with a quality report, and availability per period in the review,
measured as simulated availability is."""

from __future__ import annotations

from pathlib import Path

import pytest

from simkit.calibrate import load_history
from simkit.calibrate.outages import load_outages
from simkit.calibrate.review import review
from simkit.errors import InputError
from simkit.resources import calibration_dir, examples_dir
from simkit.scenario import load_scenario

OUTAGES = """start,end,planned,cause
2025-02-04 10:00,2025-02-04 12:00,no,db crash
2025-02-09 02:30,2025-02-09 03:30,yes,patching in the window
,2025-02-10 09:00,no,no start
2025-02-12 09:00,2025-02-12 08:00,no,ends before it starts
2025-02-20 09:00,2025-02-20 09:30,maybe,odd planned value
"""


def test_load_outages_reports_what_it_sets_aside(tmp_path: Path) -> None:
    path = tmp_path / "outages.csv"
    path.write_text(OUTAGES)
    history = load_outages(path, timezone="Europe/London", service="payroll")
    assert history.outages.num_rows == 3
    rules = {rule.rule: rule.count for rule in history.rules}
    assert rules == {"missing_start": 1, "negative_duration": 1, "unknown_planned": 1}
    assert history.outages.column("planned").to_pylist() == [False, True, False]


def test_outage_file_without_start_or_service(tmp_path: Path) -> None:
    path = tmp_path / "o.csv"
    path.write_text("began,ended\n2025-01-01 00:00,2025-01-01 01:00\n")
    with pytest.raises(InputError, match="no column 'start'"):
        load_outages(path, timezone="UTC", service="x")
    with pytest.raises(InputError, match="no service column"):
        load_outages(path, timezone="UTC", columns={"start": "began", "end": "ended"})


def test_review_shows_availability_per_period(tmp_path: Path) -> None:
    """February 2025 on 24x7 with the Sunday 02:00–04:00 window excluded: agreed time is 672 h
    less 4 × 2 h; the 2-hour crash and the 30-minute outage are down, the outage inside the
    window is not."""
    path = tmp_path / "outages.csv"
    path.write_text(OUTAGES)
    scenario = load_scenario(examples_dir() / "corporate_service_desk.yaml")
    history = load_history(
        calibration_dir() / "sample" / "servicenow_incidents.csv.gz", "servicenow"
    )
    outages = load_outages(path, timezone="Europe/London", service="payroll")
    document = review(history, scenario, outages=outages)
    (february,) = [r for r in document["availability_periods"] if r["period"] == "2025-02"]
    agreed = 28 * 24 - 4 * 2
    assert february["availability"]["mean"] == pytest.approx(1 - 2.5 / agreed)
    assert february["p_met"] == 0.0  # 99.62% is below the 99.9% target
    (row,) = document["availability"]
    assert row["service"] == "payroll" and row["availability"]["lo"] is None
