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


def test_a_bad_outage_date_format_is_refused_with_its_field(tmp_path: Path) -> None:
    """A date format simkit cannot read is an input error on date_format, not a ValueError."""
    path = tmp_path / "o.csv"
    path.write_text("start,end\n2025-01-01 00:00,2025-01-01 01:00\n")
    for fmt in ("%d/%m %H:%M", "abc", "%s"):
        with pytest.raises(InputError) as caught:
            load_outages(path, timezone="UTC", service="x", date_formats=(fmt,))
        assert caught.value.problems[0].path == "date_format", fmt


def test_outage_text_that_is_not_utf8_is_refused(tmp_path: Path) -> None:
    """A Parquet outage file whose text column holds invalid UTF-8: an input error naming the
    file, not an Arrow exception."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    raw = pa.array([b"2025-01-01 00:00", b"\xff\xfe 01:00"], pa.binary()).cast(
        pa.string(), safe=False
    )
    path = tmp_path / "o.parquet"
    pq.write_table(pa.table({"start": raw, "end": raw, "service": ["x", "x"]}), path)
    with pytest.raises(InputError) as caught:
        load_outages(path, timezone="UTC")
    assert (caught.value.problems[0].file or "").endswith("o.parquet")


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


def test_month_first_dates_are_read_month_first_throughout(tmp_path: Path) -> None:
    """US dates whose first days are all 12 or less (9/6/2005) are not read day-first until a
    day above 12 turns up (9/13/2005): one format reads the whole column, so it reads them all.
    Real LANL outage times read that way lost 10 valid rows as 'ending before they start'."""
    path = tmp_path / "us.csv"
    path.write_text(
        "start,end\n9/6/2005 9:13,9/6/2005 10:13\n9/13/2005 9:00,9/13/2005 11:00\n"
        "10/1/2005 23:00,10/2/2005 1:00\n"
    )
    history = load_outages(path, timezone="UTC", service="payroll")
    starts = [t.strftime("%Y-%m-%d %H:%M") for t in history.outages.column("start").to_pylist()]
    assert starts == ["2005-09-06 09:13", "2005-09-13 09:00", "2005-10-01 23:00"]
    assert history.rules == ()


def test_mixed_date_formats_that_no_one_format_reads_are_reported(tmp_path: Path) -> None:
    path = tmp_path / "mixed.csv"
    path.write_text("start,end\n2005-09-06 09:13,\n13/09/2005 09:00,\n")
    history = load_outages(path, timezone="UTC", service="payroll")
    rules = {rule.rule: rule for rule in history.rules}
    assert rules["mixed_formats_start"].action == "info" and rules["mixed_formats_start"].count == 1


def test_an_unreadable_end_removes_the_row_rather_than_keep_it_down(tmp_path: Path) -> None:
    """An end no format reads is reported and its row removed, once: kept, it became an outage
    still running at the export time (a one-hour outage read as seven weeks)."""
    path = tmp_path / "end.csv"
    path.write_text(
        "start,end\n2025-03-12 10:00,12 March 2025 11:00\nnot a date,also not\n"
        "2025-03-13 10:00,2025-03-13 11:00\n"
    )
    history = load_outages(path, timezone="UTC", service="payroll")
    rules = {rule.rule: rule.count for rule in history.rules}
    assert rules == {"unreadable_start": 1, "unreadable_end": 1}
    assert history.outages.num_rows == 1
    assert history.outages.column("end").null_count == 0


def test_outages_of_services_without_a_target_are_counted_in_the_review(tmp_path: Path) -> None:
    """Rows whose service no availability target measures are reported under unknown_service,
    with the scenario's names in the fix — not dropped silently."""
    path = tmp_path / "services.csv"
    path.write_text(
        "service,start,end\npayroll,2025-02-04 10:00,2025-02-04 12:00\n"
        "payroll-app,2025-02-05 10:00,2025-02-05 20:00\nPayroll,2025-02-06 10:00,2025-02-06 11:00\n"
    )
    scenario = load_scenario(examples_dir() / "corporate_service_desk.yaml")
    history = load_history(
        calibration_dir() / "sample" / "servicenow_incidents.csv.gz", "servicenow"
    )
    outages = load_outages(path, timezone="Europe/London")
    document = review(history, scenario, outages=outages)
    rules = {r["rule"]: r for r in document["outage_quality"]["rules"]}
    unknown = rules["unknown_service"]
    assert unknown["count"] == 2
    assert {e["value"] for e in unknown["examples"]} == {"payroll-app", "Payroll"}
    assert "payroll" in unknown["fix"]
