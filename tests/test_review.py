"""The service review: a history measured against a scenario's targets with the same
summarize() as simulations — exact compliance on a hand-made history, pauses stopping the clock,
name matching, worst breaches, the command line, JSON and HTML."""

from __future__ import annotations

import io
import json
from contextlib import redirect_stdout
from pathlib import Path
from typing import Any

import pytest

from simkit.calibrate import load_history
from simkit.calibrate.review import NameMap, parse_map_option, review, review_text
from simkit.cli import main
from simkit.errors import InputError
from simkit.report.review_pack import render_review_pack
from simkit.scenario import load_scenario

SCENARIO = """\
name: Review test
start: 2024-01-08
timezone: UTC
horizon: 4w
period: week
priority_order: [P1, P2]
calendars:
  24x7: always
services:
  desk:
    entry: service_desk
    demand: {per_week: 10}
    priorities:
      P1: {share: 50%, resolve: {within: 4h, calendar: 24x7, goal: 90%}}
      P2: {share: 50%, resolve: {within: 8h, calendar: 24x7, goal: 80%}}
teams:
  service_desk:
    roster: {"mon-sun 00:00-24:00": 2}
    handle: {default: {exponential: {mean: 30m}}}
    ola: {resolve: {within: 4h, calendar: 24x7, goal: 50%}}
"""

# P1 takes 2h, 6h, 3h (week 2), 1h, 5h (week 3): 3 of 5 within 4h.
# P2 takes 7h, 24h (week 2) and one opened on 17 January is still open two days later: 1 of 3.
HISTORY = """\
ticket,opened_at,resolved_at,priority,team
A1,2024-01-08 09:00,2024-01-08 11:00,P1,Service Desk
A2,2024-01-09 09:00,2024-01-09 15:00,P1,Service Desk
A3,2024-01-10 09:00,2024-01-10 12:00,P1,Service Desk
A4,2024-01-15 09:00,2024-01-15 10:00,P1,Service Desk
A5,2024-01-16 09:00,2024-01-16 14:00,P1,Service Desk
B1,2024-01-08 10:00,2024-01-08 17:00,P2,Service Desk
B2,2024-01-09 10:00,2024-01-10 10:00,P2,Service Desk
B3,2024-01-17 08:00,,P2,Service Desk
C1,2024-01-18 08:00,2024-01-19 09:00,P9,Service Desk
"""


@pytest.fixture
def files(tmp_path: Path) -> tuple[Path, Path]:
    scenario = tmp_path / "scenario.yaml"
    scenario.write_text(SCENARIO, encoding="utf-8")
    history = tmp_path / "history.csv"
    history.write_text(HISTORY, encoding="utf-8")
    return scenario, history


def sla_row(document: dict, priority: str) -> dict:
    return next(r for r in document["sla"] if r["priority"] == priority)


def period_rows(document: dict, priority: str) -> dict[str, dict]:
    return {r["period"]: r for r in document["periods"] if r["priority"] == priority}


def test_exact_compliance_on_a_known_history(files: tuple[Path, Path]) -> None:
    """Compliance, open tickets and per-week figures are exactly those of the table above; the
    span runs from the first ticket's midnight to the export time (the last timestamp), so the
    second week is partial and only the first counts towards periods met."""
    scenario, path = files
    document = review(load_history(path, "generic"), load_scenario(scenario))
    p1, p2 = sla_row(document, "P1"), sla_row(document, "P2")
    assert p1["tickets"] == 5 and p1["compliance"]["mean"] == pytest.approx(3 / 5)
    assert p2["tickets"] == 3 and p2["compliance"]["mean"] == pytest.approx(1 / 3)
    assert p1["open"] == 0 and p2["open"] == 0  # the open P2 ticket is already breached
    assert p1["compliance"]["lo"] is None  # one replication: no interval
    weeks = period_rows(document, "P1")
    assert weeks["2024-W02"]["compliance"]["mean"] == pytest.approx(2 / 3)
    assert weeks["2024-W03"]["compliance"]["mean"] == pytest.approx(1 / 2)
    assert weeks["2024-W02"]["full"] and not weeks["2024-W03"]["full"]
    assert period_rows(document, "P2")["2024-W03"]["tickets"] == 1  # breached while open
    assert p1["p_period_met"]["mean"] == 0.0  # 2 of 3 < 90% in the one full week
    assert p1["quantiles_h"]["50"] == pytest.approx(3.0)
    span = document["span"]
    assert span["start"].startswith("2024-01-08T00:00")
    assert span["observed_until"].startswith("2024-01-19T09:00")
    assert (span["full_periods"], span["partial_periods"]) == (1, 1)
    ola = document["ola"][0]
    assert ola["team"] == "service_desk" and ola["tickets"] == 9
    assert ola["compliance"]["mean"] == pytest.approx(3 / 9)  # 2h, 3h, 1h of nine visits


def test_names_matched_and_unmatched_reported(files: tuple[Path, Path]) -> None:
    """'Service Desk' matches service_desk ignoring case and spacing, the only service on each
    side pair up, and the history's P9 (no scenario target) is reported as not measured."""
    scenario, path = files
    document = review(load_history(path, "generic"), load_scenario(scenario))
    mapping = document["mapping"]
    assert mapping["team"]["matched"] == [
        {"history": "Service Desk", "scenario": "service_desk",
         "how": "same name (case and spacing ignored)"}
    ]  # fmt: skip
    assert mapping["service"]["matched"][0]["how"] == "the only service on each side"
    assert mapping["priority"]["unmatched_history"] == ["P9"]
    assert mapping["priority"]["unmatched_scenario"] == []


def test_explicit_mapping(files: tuple[Path, Path]) -> None:
    """--map priority:P9=P1 measures the P9 ticket as P1 (it took 25h: a sixth P1 breach)."""
    scenario, path = files
    names = parse_map_option(["priority:P9=P1"])
    document = review(load_history(path, "generic"), load_scenario(scenario), names=names)
    p1 = sla_row(document, "P1")
    assert p1["tickets"] == 6 and p1["compliance"]["mean"] == pytest.approx(3 / 6)


def test_bad_mapping_options() -> None:
    """Malformed --map options and maps to names the scenario lacks are input errors."""
    with pytest.raises(InputError) as caught:
        parse_map_option(["priority=P1", "colour:red=blue"])
    assert len(caught.value.problems) == 2


def test_map_to_unknown_scenario_name(files: tuple[Path, Path]) -> None:
    """Mapping to a name the scenario does not have lists the names it has."""
    scenario, path = files
    with pytest.raises(InputError) as caught:
        review(
            load_history(path, "generic"),
            load_scenario(scenario),
            names=NameMap(team={"Service Desk": "helpdesk"}),
        )
    assert "service_desk" in caught.value.problems[0].fix


def test_map_from_a_name_the_history_lacks(files: tuple[Path, Path]) -> None:
    """Mapping a name the history does not hold (a typo, or a standing --map on a month without
    that name) is reported with the review, not used and not silently dropped."""
    scenario, path = files
    document = review(
        load_history(path, "generic"),
        load_scenario(scenario),
        names=NameMap(priority={"Z9": "P1"}),
    )
    assert document["mapping"]["priority"]["unused_maps"] == ["Z9=P1"]
    assert "--map priority:Z9=P1" in review_text(document)


def test_worst_breaches_first(files: tuple[Path, Path]) -> None:
    """Breaches are listed by time taken relative to the target: the open B3's visit (49h
    against the 4h OLA), C1's visit (25h), B3 against its 8h SLA (49h), then B2's visit (24h)."""
    scenario, path = files
    document = review(load_history(path, "generic"), load_scenario(scenario), breaches=4)
    listed = [(b["kind"], b["ticket"], b["open"]) for b in document["breaches"]]
    assert listed == [
        ("ola", "B3", True),
        ("ola", "C1", False),
        ("sla", "B3", True),
        ("ola", "B2", False),
    ]
    ratios = [b["times_target"] for b in document["breaches"]]
    assert ratios == pytest.approx([49 / 4, 25 / 4, 49 / 8, 24 / 4])
    assert document["breaches"][2]["priority"] == "P2"


def test_pauses_stop_the_clock(tmp_path: Path) -> None:
    """An 'Awaiting User Info' stretch of four hours does not count: opened 01:00, paused
    05:00–09:00, resolved 11:00 measures 6h, inside a 7h target."""
    log = (
        "number,incident_state,sys_mod_count,opened_at,sys_updated_at,priority,assignment_group\n"
        "INC1,New,0,2024-01-08 01:00:00,2024-01-08 01:00:00,2 - High,Service Desk\n"
        "INC1,Active,1,2024-01-08 01:00:00,2024-01-08 02:00:00,2 - High,Service Desk\n"
        "INC1,Awaiting User Info,2,2024-01-08 01:00:00,2024-01-08 05:00:00,2 - High,Service Desk\n"
        "INC1,Active,3,2024-01-08 01:00:00,2024-01-08 09:00:00,2 - High,Service Desk\n"
        "INC1,Resolved,4,2024-01-08 01:00:00,2024-01-08 11:00:00,2 - High,Service Desk\n"
    )
    history_path = tmp_path / "log.csv"
    history_path.write_text(log, encoding="utf-8")
    scenario_path = tmp_path / "scenario.yaml"
    scenario_path.write_text(SCENARIO.replace("within: 8h", "within: 7h"), encoding="utf-8")
    document = review(load_history(history_path, "servicenow"), load_scenario(scenario_path))
    p2 = sla_row(document, "P2")
    assert p2["tickets"] == 1 and p2["mean_h"] == pytest.approx(6.0)
    assert p2["compliance"]["mean"] == 1.0


def test_from_until_restricts_the_span(files: tuple[Path, Path]) -> None:
    """--from/--until measure only tickets opened in [from, until) (local dates)."""
    import datetime as dt

    scenario, path = files
    document = review(
        load_history(path, "generic"),
        load_scenario(scenario),
        start=dt.date(2024, 1, 15),
        until=dt.date(2024, 1, 22),
    )
    p1 = sla_row(document, "P1")
    assert p1["tickets"] == 2 and p1["compliance"]["mean"] == pytest.approx(1 / 2)
    with pytest.raises(InputError):
        review(
            load_history(path, "generic"),
            load_scenario(scenario),
            start=dt.date(2024, 2, 1),
            until=dt.date(2024, 1, 1),
        )


def review_command(files: tuple[Path, Path], out: Path, *more: str) -> tuple[int, Any]:
    """`simkit review HISTORY --profile generic --scenario S --out OUT --json …`: its exit code
    and the JSON document it printed."""
    scenario, path = files
    buffer = io.StringIO()
    with redirect_stdout(buffer):
        code = main(
            [
                *("review", str(path), "--profile", "generic", "--scenario", str(scenario)),
                *("--out", str(out), "--json", *more),
            ]
        )
    return code, json.loads(buffer.getvalue())


def test_command_line_json_and_html(files: tuple[Path, Path], tmp_path: Path) -> None:
    """`simkit review --json --out review.html` prints the document (summarize's sla, ola,
    teams, periods plus quality, breaches and span) and writes a self-contained page with an
    inline SVG chart."""
    scenario, _ = files
    out = tmp_path / "review.html"
    code, document = review_command(files, out, "--map", "priority:P9=P2")
    assert code == 0
    assert {"sla", "ola", "teams", "periods", "quality", "breaches", "span"} <= set(document)
    assert sla_row(document, "P2")["tickets"] == 4
    page = out.read_text(encoding="utf-8")
    assert page.startswith("<!doctype html>") and "<svg" in page and "<script" not in page
    assert "B3" in page
    # the model's expectation the page shows is printed too, so that the page can be checked
    model = document["model"]
    assert model["replications"] == load_scenario(scenario).replications
    assert {"compliance", "range", "p_period_met"} <= set(model["sla"][0])
    low = f"{model['sla'][0]['range']['lo']:.1%}"
    assert low in page


def test_text_and_html_of_a_review(files: tuple[Path, Path]) -> None:
    """The plain-text and HTML forms name every target and escape names."""
    scenario, path = files
    document = review(load_history(path, "generic"), load_scenario(scenario))
    text = review_text(document)
    assert "desk P1 resolve" in text and "missed" in text
    document["scenario"] = "<b>bold</b>"
    assert "&lt;b&gt;bold&lt;/b&gt;" in render_review_pack(document, charts=False)


def test_command_line_tables(files: tuple[Path, Path]) -> None:
    """Without --json the review prints tables and the names it could not match."""
    scenario, path = files
    buffer = io.StringIO()
    with redirect_stdout(buffer):
        code = main(["review", str(path), "--profile", "generic", "--scenario", str(scenario)])
    assert code == 0
    printed = buffer.getvalue()
    assert "SLA targets" in printed and "P9" in printed


def test_command_line_counts_what_reading_the_outage_file_removed(
    files: tuple[Path, Path], tmp_path: Path
) -> None:
    """The outage file's rows removed while reading it are counted in the printed review, not
    only in its --json document."""
    scenario, path = files
    outages = tmp_path / "outages.csv"
    outages.write_text(
        "service,start,end\ndesk,2024-01-09 10:00,2024-01-09 11:00\n"
        "desk,,2024-01-10 11:00\ndesk,2024-01-11 10:00,2024-01-11 09:00\n",
        encoding="utf-8",
    )
    buffer = io.StringIO()
    with redirect_stdout(buffer):
        args = ["review", str(path), "--profile", "generic", "--scenario", str(scenario)]
        code = main([*args, "--outages", str(outages)])
    assert code == 0
    printed = " ".join(buffer.getvalue().split())  # the console may wrap long lines
    assert f"Outage file {outages}: 1 outages kept" in printed
    assert "[removed] outages without a start: 1 rows" in printed
    assert "[removed] outages that end before they start: 1 rows" in printed


def test_the_pack_is_not_written_under_a_name_of_another_format(
    files: tuple[Path, Path], tmp_path: Path
) -> None:
    """As for the brief: `--out review.txt` would be HTML under a text name."""
    out = tmp_path / "review.txt"
    code, document = review_command(files, out)
    assert code == 2 and not out.exists()
    assert ".html or .md" in document["errors"][0]["fix"]
