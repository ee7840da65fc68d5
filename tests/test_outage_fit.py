"""Components fitted to an outage history (simkit.calibrate.outage_fit): the fitted MTBF and MTRS
recover a known truth within sampling error; planned, overlapping, still-open and out-of-span
outages are handled and reported; calibrate writes the components and the availability the
service depends on, and the command line takes the outage file."""

from __future__ import annotations

import datetime as dt
import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pytest

from simkit.calibrate import load_history, load_profile
from simkit.calibrate.fit import calibrate
from simkit.calibrate.outage_fit import fit_outages
from simkit.calibrate.outages import OutageHistory, load_outages
from simkit.engine.availability import OUTAGES_SCHEMA
from simkit.errors import InputError
from simkit.resources import calibration_dir, examples_dir
from simkit.scenario import load_scenario

HOUR_US = 3_600_000_000
START = dt.datetime(2025, 1, 1, tzinfo=dt.UTC)


def _us(when: dt.datetime) -> int:
    return int(when.timestamp() * 1_000_000)


def _history(rows: list[tuple[str, float, float | None, bool]]) -> OutageHistory:
    """Outages as (service, start hour, end hour or None, planned), hours from START."""
    base = _us(START)
    table = pa.table(
        {
            "service": [r[0] for r in rows],
            "component": ["recorded"] * len(rows),
            "start": pa.array(
                [base + int(r[1] * HOUR_US) for r in rows], pa.timestamp("us", "UTC")
            ),
            "end": pa.array(
                [None if r[2] is None else base + int(r[2] * HOUR_US) for r in rows],
                pa.timestamp("us", "UTC"),
            ),
            "planned": [r[3] for r in rows],
            "cause": ["recorded"] * len(rows),
            "replication": pa.array([0] * len(rows), pa.int32()),
        },
        schema=OUTAGES_SCHEMA,
    )
    return OutageHistory(outages=table, source="synthetic", rules=())


def test_fitted_mtbf_and_mtrs_recover_the_truth() -> None:
    """Two years of a service failing every 100 hours on average (exponential up times) and
    restored in lognormal times of mean 3 h (cv 0.5): the fitted up-time mean lies within 4
    standard errors (mean/√n) of 100 h and the restore mean within 4 SE (sd/√n) of 3 h."""
    rng = np.random.default_rng(21)
    span = 2 * 8766.0
    rows: list[tuple[str, float, float | None, bool]] = []
    t = 0.0
    while True:
        t += rng.exponential(100.0)
        if t >= span:
            break
        restore = rng.lognormal(math.log(3.0) - 0.5 * math.log1p(0.25), math.sqrt(math.log1p(0.25)))
        rows.append(("payroll", t, min(t + restore, span + 1000), False))
        t += restore
    (component,), report = fit_outages(
        _history(rows), _us(START), _us(START) + int(span * HOUR_US), ["payroll"]
    )
    n = len(rows)
    assert component.name == "payroll outages" and report["components"][0]["outages"] == n
    up = component.fails.distribution
    assert abs(up.mean - 100.0) < 4 * 100.0 / math.sqrt(n)
    restore_mean = component.repair.distribution.mean
    assert abs(restore_mean - 3.0) < 4 * 1.5 / math.sqrt(n)


def test_more_components_than_a_scenario_holds_is_refused() -> None:
    """An outage file naming 201 components is refused with the file and the column, not
    fitted into a scenario that cannot validate."""
    import dataclasses

    history = _history([("payroll", 10.0 + k, 11.0 + k, False) for k in range(201)])
    names = pa.array([f"server {k}" for k in range(201)])
    table = history.outages.set_column(
        history.outages.schema.get_field_index("component"), "component", names
    )
    history = dataclasses.replace(history, outages=table)
    with pytest.raises(InputError) as caught:
        fit_outages(history, _us(START), _us(START) + 1000 * HOUR_US, ["payroll"])
    problem = caught.value.problems[0]
    assert problem.file == "synthetic" and problem.path == "component"
    assert "201 components" in problem.message


def test_planned_overlapping_open_and_outside_outages() -> None:
    """A planned outage is maintenance, not a failure; two overlapping outages are one; one
    still down at the end is a censored restore; one before the span is left out, with counts."""
    rows: list[tuple[str, float, float | None, bool]] = [
        ("payroll", -50.0, -49.0, False),  # before the span
        ("payroll", 100.0, 102.0, False),
        ("payroll", 101.0, 104.0, False),  # overlaps the one before: one outage 100–104
        ("payroll", 300.0, 301.0, True),  # planned
        ("payroll", 500.0, 501.0, False),
        ("payroll", 990.0, None, False),  # still down at the end
        ("unknown", 200.0, 201.0, False),
    ]
    (component,), report = fit_outages(
        _history(rows), _us(START), _us(START) + 1000 * HOUR_US, ["payroll"]
    )
    fitted = report["components"][0]
    assert fitted["outages"] == 3 and fitted["merged"] == 1 and fitted["still_down"] == 1
    # up 0–100, 104–500, 501–990: MTBF = 985 h over 3 failures; restores 4 h and 1 h ended
    assert fitted["mtbf_h"] == pytest.approx((100 + 396 + 489) / 3)
    assert fitted["mtrs_h"] == pytest.approx((4 + 1 + 10) / 2)
    assert component.repair.report["n_censored"] == 1
    left = {item["reason"]: item["outages"] for item in report["left_out"]}
    assert left == {
        "outside the history's span": 1,
        "planned (maintenance, not failures)": 1,
        "of a service the history does not have": 1,
    }


def _sample_outages(path: Path) -> None:
    rng = np.random.default_rng(5)
    lines = ["start,end,planned"]
    t = dt.datetime(2025, 1, 7, tzinfo=dt.UTC)
    while t < dt.datetime(2025, 6, 20, tzinfo=dt.UTC):
        t += dt.timedelta(hours=float(rng.exponential(120.0)))
        end = t + dt.timedelta(hours=float(rng.exponential(2.0)))
        lines.append(f"{t:%Y-%m-%dT%H:%M}Z,{end:%Y-%m-%dT%H:%M}Z,no")
        t = end
    path.write_text("\n".join(lines) + "\n")


@pytest.fixture(scope="module")
def sample_history() -> Any:
    london = load_profile("servicenow").with_overrides(timezone="Europe/London")
    return load_history(calibration_dir() / "sample" / "servicenow_incidents.csv.gz", london)


def test_calibrate_makes_the_service_depend_on_its_fitted_component(
    tmp_path: Path, sample_history: Any
) -> None:
    """With the corporate desk's payroll availability target given, the fitted scenario's
    payroll depends on "payroll outages" with that target, and it simulates; without a target
    the component is written with a comment saying how to use it."""
    path = tmp_path / "outages.csv"
    _sample_outages(path)
    outages = load_outages(path, timezone="Europe/London", service="payroll")
    desk = load_scenario(examples_dir() / "corporate_service_desk.yaml")
    fitted = calibrate(sample_history, scenario=desk, outages=outages)
    availability = fitted.scenario.services["payroll"].availability
    assert availability is not None and availability.depends_on == ("payroll outages",)
    assert availability.target == desk.services["payroll"].availability.target  # type: ignore[union-attr]
    assert "payroll outages" in fitted.scenario.components
    assert fitted.report["outages"]["components"][0]["service"] == "payroll"
    bare = calibrate(sample_history, outages=outages)
    assert bare.scenario.services["payroll"].availability is None
    assert "add availability: {target: 99.9%, depends_on: [payroll outages]}" in bare.yaml


def test_calibrate_command_takes_an_outage_file(tmp_path: Path, capsys: Any) -> None:
    from simkit.cli import main

    path = tmp_path / "outages.csv"
    _sample_outages(path)
    sample = str(calibration_dir() / "sample" / "servicenow_incidents.csv.gz")
    args = ["calibrate", sample, "--profile", "servicenow", "--timezone", "Europe/London"]
    args += ["--outages", str(path), "--outage-service", "payroll", "--json"]
    assert main(args) == 0
    document = json.loads(capsys.readouterr().out)
    assert document["report"]["outages"]["components"][0]["component"] == "payroll outages"
    assert "payroll outages:" in document["yaml"]


def test_calibrate_reports_what_reading_the_outage_file_removed(
    tmp_path: Path, capsys: Any
) -> None:
    """Outage rows removed or repaired while the file is read (no start, an end no format
    reads, an end before the start, planned neither yes nor no) are counted in calibrate's
    report and its text, as the review counts them: never dropped silently."""
    from simkit.cli import main

    path = tmp_path / "outages.csv"
    _sample_outages(path)
    with path.open("a") as file:
        file.write(",2025-03-01T10:00Z,no\n")  # no start
        file.write("2025-03-02T10:00Z,garbage,no\n")  # an end no format reads
        file.write("2025-03-03T10:00Z,2025-03-03T09:00Z,no\n")  # ends before it starts
        file.write("2025-03-04T10:00Z,2025-03-04T11:00Z,maybe\n")  # planned: repaired
    sample = str(calibration_dir() / "sample" / "servicenow_incidents.csv.gz")
    args = ["calibrate", sample, "--profile", "servicenow", "--timezone", "Europe/London"]
    args += ["--outages", str(path), "--outage-service", "payroll"]
    assert main([*args, "--json"]) == 0
    quality = json.loads(capsys.readouterr().out)["report"]["outages"]["quality"]
    counts = {rule["rule"]: (rule["action"], rule["count"]) for rule in quality["rules"]}
    assert {k: counts.get(k) for k in ("missing_start", "unreadable_end", "negative_duration")} == {
        "missing_start": ("removed", 1),
        "unreadable_end": ("removed", 1),
        "negative_duration": ("removed", 1),
    }
    assert counts["unknown_planned"][1] == 1
    assert quality["outages"] == len(path.read_text().splitlines()) - 1 - 3
    assert main(args) == 0
    text = capsys.readouterr().out
    assert f"Outage file {path}: {quality['outages']:,} outages kept" in text
    assert "[removed] outages that end before they start: 1 rows" in text


def test_a_component_shared_by_two_services_is_one_component() -> None:
    """Outages of a component "db" recorded for payroll and for workplace are one component
    (the same outage recorded twice is one), which both services depend on; it made a fitted
    scenario with the key 'db' written twice."""
    base = _us(START)
    rows = [("payroll", 10.0, 12.0), ("workplace", 10.0, 12.0), ("workplace", 300.0, 301.0)]
    table = pa.table(
        {
            "service": [r[0] for r in rows],
            "component": ["db"] * len(rows),
            "start": pa.array(
                [base + int(r[1] * HOUR_US) for r in rows], pa.timestamp("us", "UTC")
            ),
            "end": pa.array([base + int(r[2] * HOUR_US) for r in rows], pa.timestamp("us", "UTC")),
            "planned": [False] * len(rows),
            "cause": ["crash"] * len(rows),
            "replication": pa.array([0] * len(rows), pa.int32()),
        },
        schema=OUTAGES_SCHEMA,
    )
    (component,), report = fit_outages(
        OutageHistory(table, "synthetic", ()), base, base + 1000 * HOUR_US, ["payroll", "workplace"]
    )
    assert component.name == "db" and component.services == ("payroll", "workplace")
    assert report["components"][0]["outages"] == 2  # 10–12 (twice) and 300–301


def test_an_outage_under_way_when_the_span_begins_is_no_up_time() -> None:
    """Down from 20 hours before the span until 5 hours into it: that is a restore, and the first
    up time runs from its end (hour 5) to the next outage (hour 105), not from the span's start;
    the failure before the span is not one the exposure saw."""
    rows: list[tuple[str, float, float | None, bool]] = [
        ("payroll", -20.0, 5.0, False),
        ("payroll", 105.0, 106.0, False),
    ]
    _, report = fit_outages(_history(rows), _us(START), _us(START) + 1000 * HOUR_US, ["payroll"])
    fitted = report["components"][0]
    assert fitted["outages"] == 2
    # up 5–105 (ended by the failure at 105) and 106–1000 (censored): one failure seen
    assert fitted["mtbf_h"] == pytest.approx(100 + 894)
    assert fitted["mtrs_h"] == pytest.approx((25 + 1) / 2)
