"""Calibrating from awkward input: names YAML cannot print as they are, an event log without
its state or team column, and a --from past the last ticket. Each gives a fitted scenario that
loads, a quality report that says what is missing, or an InputError naming the file, the field
and the fix — never an internal error. The exports are written here, small and synthetic."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from simkit.calibrate import load_history
from simkit.calibrate.fit import calibrate
from simkit.calibrate.scenario_yaml import _key, _Yaml
from simkit.cli import main
from simkit.errors import InputError

AWKWARD = [
    "desk\x92s",  # a Windows-1252 apostrophe read as Latin-1: a C1 control character
    "line\x85next",  # NEL
    "para\u2028graph",  # LINE SEPARATOR
    "tab\there",
    'say "hi"',
    "it's",
    "back\\slash",
    "rocket 🚀",
    "bom\ufeff",
    "nul\x00",
    "del\x7f",
    "new\nline",
    "trailing ",
    "yes",
    "",
]


def _flat_export(path: Path, teams: list[str], days: int = 21) -> Path:
    """A flat export (generic profile): a ticket every two office hours for ``days`` days,
    spread over ``teams`` in turn, each resolved after an hour and a half."""
    lines = ["ticket,opened_at,resolved_at,priority,team"]
    start = dt.datetime(2024, 1, 8)
    n = 0
    for day in range(days):
        for hour in range(8, 18, 2):
            opened = start + dt.timedelta(days=day, hours=hour)
            resolved = opened + dt.timedelta(minutes=90)
            team = teams[n % len(teams)].replace('"', '""')
            lines.append(
                f'T{n},{opened:%Y-%m-%d %H:%M},{resolved:%Y-%m-%d %H:%M},P{1 + n % 3},"{team}"'
            )
            n += 1
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


HELPDESK_HEADER = "Case ID,Activity,Complete Timestamp,seriousness_2,customer,workgroup"


def _helpdesk_log(path: Path, days: int = 21, header: str = HELPDESK_HEADER) -> Path:
    """An event log shaped like the help-desk export (helpdesk profile): each ticket is
    assigned, taken in charge, resolved and closed by the first group; every third ticket is
    passed to a second group on the way and comes back. ``header`` may rename columns."""
    lines = [header]
    start = dt.datetime(2012, 10, 1)
    n = 0

    def at(moment: dt.datetime) -> str:
        return moment.strftime("%Y/%m/%d %H:%M:%S.000")

    for day in range(days):
        for hour in range(9, 17, 2):
            t = start + dt.timedelta(days=day, hours=hour)
            case, level = f"Case {n}", f"Value {1 + n % 2}"
            group = "Value 1"
            events = [("Assign seriousness", t), ("Take in charge ticket", t)]
            events = [(a, m + dt.timedelta(minutes=5 * i)) for i, (a, m) in enumerate(events)]
            rows = [(a, m, group) for a, m in events]
            if n % 3 == 0:
                rows.append(("Take in charge ticket", t + dt.timedelta(minutes=40), "Value 2"))
                rows.append(("Take in charge ticket", t + dt.timedelta(minutes=60), group))
            rows.append(("Resolve ticket", t + dt.timedelta(minutes=75), group))
            rows.append(("Closed", t + dt.timedelta(minutes=80), group))
            for activity, moment, team in rows:
                lines.append(f"{case},{activity},{at(moment)},{level},Value 1,{team}")
            n += 1
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _cli_json(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, Any]:
    code = main(list(argv))
    return code, json.loads(capsys.readouterr().out)


# -- 1. names YAML cannot print as they are ---------------------------------------------------
@pytest.mark.parametrize("name", AWKWARD)
def test_every_name_reads_back_exactly_from_the_fitted_yaml(name: str) -> None:
    """A name quoted for the fitted scenario reads back through yaml.safe_load as exactly the
    same string, as a key and as a value — C1 controls, NEL, U+2028, tabs, quotes, emoji."""
    text = f"{_key(name)}: {_key(name)}\n"
    assert yaml.safe_load(text) == {name: name}, text


def test_comments_quoting_names_cannot_break_the_yaml() -> None:
    """A comment holding a name with a line break or a C1 control stays one comment line."""
    out = _Yaml()
    out.comment("team desk\x92s and line\x85next and para\u2028graph")
    out.line(0, "a: 1", "from team new\nline\x92")
    assert yaml.safe_load(out.text()) == {"a": 1}
    assert len(out.text().splitlines()) == 2


def test_team_names_yaml_cannot_print_give_a_valid_fitted_scenario(tmp_path: Path) -> None:
    """Team names with a C1 control character, NEL, U+2028, a tab, quotes and an emoji (as an
    export read in the wrong encoding holds them) are fitted, written and read back unchanged."""
    teams = ["desk\x92s", "line\x85next", "para\u2028graph", "tab\there", 'say "hi"', "🚀 ops"]
    history = load_history(_flat_export(tmp_path / "flat.csv", teams), "generic")
    fitted = calibrate(history, agents=dict.fromkeys(teams, 2))  # named: none is pooled
    assert set(fitted.scenario.teams) == set(teams)
    reread = yaml.safe_load(fitted.yaml)
    assert set(reread["teams"]) == set(teams)


# -- 2. an event log without its state column ---------------------------------------------------
def test_the_helpdesk_like_log_calibrates_with_its_columns(tmp_path: Path) -> None:
    """The synthetic log the next tests damage is a valid help-desk export as written."""
    history = load_history(_helpdesk_log(tmp_path / "log.csv"), "helpdesk")
    fitted = calibrate(history, agents={"Value 1": 2, "Value 2": 2})
    assert set(fitted.scenario.teams) == {"Value 1", "Value 2"}


def test_a_missing_state_column_is_bad_input_naming_the_column(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The state column renamed (Activity → Action): no ticket of the event log is ever seen
    resolved. `simkit calibrate` exits 2 naming the file, the column the profile expected, the
    close header and the --column option — not an internal error about unresolvable teams."""
    header = HELPDESK_HEADER.replace("Activity", "Action")
    path = _helpdesk_log(tmp_path / "no_activity.csv", header=header)
    code, document = _cli_json(capsys, "calibrate", str(path), "--profile", "helpdesk", "--json")
    assert code == 2, document
    (error,) = document["errors"]
    assert error["file"] == "no_activity.csv"
    assert error["path"] == "state"
    assert "never" in error["message"] and "resolved" in error["message"]
    assert "'Activity'" in error["message"]
    assert "internal error" not in error["message"]
    assert "'Action'" in error["fix"] and "--column state=" in error["fix"]


def test_a_missing_state_column_is_in_the_quality_report(tmp_path: Path) -> None:
    """Loading such a log already says that no ticket can be seen resolved, and why."""
    header = HELPDESK_HEADER.replace("Activity", "Action")
    history = load_history(_helpdesk_log(tmp_path / "log.csv", header=header), "helpdesk")
    rule = history.quality.rule("no_state")
    assert rule is not None and rule.count == history.tickets.num_rows
    assert "'Activity'" in rule.title and "--column state=" in rule.fix


def test_teams_that_only_pass_tickets_to_each_other_are_bad_input(tmp_path: Path) -> None:
    """Tickets that bounce between two groups and are never resolved there: the fitted routing
    could not resolve them, which the history causes — an InputError naming the teams."""
    path = _helpdesk_log(tmp_path / "log.csv")
    lines = path.read_text(encoding="utf-8").splitlines()
    start = dt.datetime(2012, 10, 1, 8)
    for n in range(30):  # opened before office hours, bounced Value 3 → 4 → 3, still open
        t = start + dt.timedelta(days=n % 20, minutes=n)
        for k, group in enumerate(["Value 3", "Value 4", "Value 3"]):
            moment = (t + dt.timedelta(minutes=10 * k)).strftime("%Y/%m/%d %H:%M:%S.000")
            lines.append(f"Bounce {n},Take in charge ticket,{moment},Value 1,Value 1,{group}")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    history = load_history(path, "helpdesk")
    agents = {f"Value {i}": 2 for i in range(1, 5)}
    with pytest.raises(InputError) as caught:
        calibrate(history, agents=agents)
    problems = caught.value.problems
    assert {p.file for p in problems} == {"log.csv"}
    assert any("'Value 3'" in p.message for p in problems)
    assert any("'Value 4'" in p.message for p in problems)
    assert all("states.resolved" in p.fix for p in problems)


# -- 3. an event log without its team column ------------------------------------------------------
def test_a_missing_team_column_of_an_event_log_is_reported(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The team column renamed (workgroup → assignment group): every ticket goes to the
    unassigned team, and the quality report says so — count, the column expected and the
    --column fix — as it does for a flat export."""
    header = HELPDESK_HEADER.replace("workgroup", "assignment group")
    path = _helpdesk_log(tmp_path / "no_group.csv", header=header)
    history = load_history(path, "helpdesk")
    rule = history.quality.rule("no_team")
    assert rule is not None
    assert rule.count == history.tickets.num_rows
    assert "'workgroup'" in rule.title
    assert "--column team=" in rule.fix
    code, document = _cli_json(capsys, "calibrate", str(path), "--profile", "helpdesk", "--json")
    assert code == 0
    rules = {r["rule"]: r for r in document["report"]["quality"]["rules"]}
    assert rules["no_team"]["count"] == history.tickets.num_rows


def test_a_missing_team_column_of_a_flat_export_names_the_fix(tmp_path: Path) -> None:
    """A flat export without its team column: the same report and fix."""
    path = _flat_export(tmp_path / "flat.csv", ["desk"])
    text = path.read_text(encoding="utf-8").replace(",team\n", ",squad\n", 1)
    path.write_text(text, encoding="utf-8")
    history = load_history(path, "generic")
    rule = history.quality.rule("no_team")
    assert rule is not None and rule.count == history.tickets.num_rows
    assert "--column team=" in rule.fix


# -- 4. --from after the last ticket --------------------------------------------------------------
def test_from_after_the_last_ticket_says_so(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """--from after the last ticket names the option and the last ticket's date, not a profile
    that fails to map the opening time."""
    path = _flat_export(tmp_path / "flat.csv", ["desk"])  # tickets 2024-01-08 … 2024-01-28
    code, document = _cli_json(
        capsys, "calibrate", str(path), "--profile", "generic", "--from", "2030-01-01", "--json"
    )
    assert code == 2
    (error,) = document["errors"]
    assert error["path"] == "--from" and error["file"] == "flat.csv"
    assert "after the last ticket" in error["message"]
    assert "2030-01-01" in error["message"] and "2024-01-28" in error["message"]
    assert "opened column" not in error["fix"]


def test_until_before_the_first_ticket_says_so(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """--until on or before the first ticket names the option and the first ticket's date."""
    path = _flat_export(tmp_path / "flat.csv", ["desk"])
    code, document = _cli_json(
        capsys, "calibrate", str(path), "--profile", "generic", "--until", "2023-06-01", "--json"
    )
    assert code == 2
    (error,) = document["errors"]
    assert error["path"] == "--until" and "2024-01-08" in error["message"]


def test_tickets_outside_from_and_until_are_counted(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The tickets --from and --until leave out are counted in the quality report (info: the
    user chose the span), so that the tickets read and the tickets calibrated add up."""
    path = _flat_export(tmp_path / "flat.csv", ["desk"])  # 5 a day, 2024-01-08 … 2024-01-28
    args = ["calibrate", str(path), "--profile", "generic", "--from", "2024-01-10"]
    code, document = _cli_json(capsys, *args, "--until", "2024-01-27", "--json")
    assert code == 0
    report = document["report"]
    (rule,) = [r for r in report["quality"]["rules"] if r["rule"] == "outside_span"]
    assert rule["action"] == "info" and rule["unit"] == "tickets"
    assert rule["count"] == 5 * (2 + 2)  # 8-9 January and 27-28 January
    assert report["tickets"] + rule["count"] == report["quality"]["tickets"] == 5 * 21
    assert "before 2024-01-10" in rule["title"] and "from 2024-01-27" in rule["title"]
    assert {e["value"][:10] for e in rule["examples"]} <= {"2024-01-08", "2024-01-09"}
    assert main(args) == 0
    assert "outside the span chosen (left out): 10 tickets" in capsys.readouterr().out


def test_a_mistyped_early_year_is_removed_and_said(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Two tickets whose opening year was mistyped (1900, and ten years early) are removed and
    reported with their times: kept, they started the span there — the fit failed on a
    horizon of a century, or spread the tickets over ten years."""
    path = _flat_export(tmp_path / "flat.csv", ["desk"])  # 5 a day, 2024-01-08 … 2024-01-28
    lines = path.read_text(encoding="utf-8").splitlines()
    lines[1] = lines[1].replace("2024-01-08 08:00,", "1900-01-08 08:00,", 1)
    lines[2] = lines[2].replace("2024-01-08 10:00,", "2014-01-08 10:00,", 1)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    code, document = _cli_json(capsys, "calibrate", str(path), "--profile", "generic", "--json")
    assert code == 0, document
    report = document["report"]
    (rule,) = [r for r in report["quality"]["rules"] if r["rule"] == "early_timestamps"]
    assert rule["action"] == "removed" and rule["count"] == 2 and rule["unit"] == "tickets"
    assert {e["value"][:4] for e in rule["examples"]} == {"1900", "2014"}
    assert report["tickets"] == 5 * 21 - 2
    (service,) = report["services"]
    assert service["per_week"] == pytest.approx((5 * 21 - 2) / 3, rel=0.1)
    # more than five before the gap are a quiet first part, not typos: none is removed
    quiet = _flat_export(tmp_path / "quiet.csv", ["desk"]).read_text().splitlines()
    quiet = [x.replace("2024-01-", "2022-01-", 1) if k <= 6 else x for k, x in enumerate(quiet)]
    (tmp_path / "quiet.csv").write_text("\n".join(quiet) + "\n", encoding="utf-8")
    history = load_history(tmp_path / "quiet.csv", "generic")
    assert history.quality.rule("early_timestamps") is None
    assert history.tickets.num_rows == 5 * 21
    # nor is an old ticket of a long export, opened before the others by less than they span
    long = _flat_export(tmp_path / "long.csv", ["desk"], days=500).read_text().splitlines()
    long[1] = long[1].replace("2024-01-08 08:00,", "2022-10-08 08:00,", 1)  # 457 days early
    (tmp_path / "long.csv").write_text("\n".join(long) + "\n", encoding="utf-8")
    history = load_history(tmp_path / "long.csv", "generic")
    assert history.quality.rule("early_timestamps") is None
    assert history.tickets.num_rows == 5 * 500
    # a typo before that genuine old ticket is still one
    long[2] = long[2].replace("2024-01-08 10:00,", "1900-01-08 10:00,", 1)
    (tmp_path / "long.csv").write_text("\n".join(long) + "\n", encoding="utf-8")
    history = load_history(tmp_path / "long.csv", "generic")
    rule = history.quality.rule("early_timestamps")
    assert rule is not None and rule.count == 1 and rule.examples[0]["value"][:4] == "1900"
    # and in an export of three tickets, the one of 1900 is
    tiny = _flat_export(tmp_path / "tiny.csv", ["desk"], days=1).read_text().splitlines()[:4]
    tiny[1] = tiny[1].replace("2024-01-08 08:00,", "1900-01-08 08:00,", 1)
    (tmp_path / "tiny.csv").write_text("\n".join(tiny) + "\n", encoding="utf-8")
    history = load_history(tmp_path / "tiny.csv", "generic")
    assert history.quality.count("early_timestamps") == 1 and history.tickets.num_rows == 2


def test_a_log_never_resolved_that_still_fits_says_so(tmp_path: Path) -> None:
    """Without its state column a log whose tickets stay with one group still gives a valid
    scenario; the assumptions say that no ticket was resolved, why, and how to fix it."""
    header = HELPDESK_HEADER.replace("Activity", "Action")
    path = _helpdesk_log(tmp_path / "log.csv", header=header)
    lines = path.read_text(encoding="utf-8").splitlines()
    path.write_text("\n".join(x for x in lines if "Value 2" not in x.split(",")[-1]) + "\n")
    fitted = calibrate(load_history(path, "helpdesk"), agents={"Value 1": 2})
    (note,) = [a for a in fitted.report["assumptions"] if "ever resolved" in a]
    assert "'Activity'" in note and "--column state=" in note


def test_a_time_column_mapped_to_a_column_of_other_values_is_refused() -> None:
    """The opening time mapped to the priority column: no format reads its values, and rather
    than fit the four tickets whose other columns stood in, the load stops and names the column,
    the field, example values and how to map it (the fit of those four was a traceback)."""
    from simkit.calibrate import load_profile
    from simkit.resources import calibration_dir

    wrong = load_profile("servicenow").with_overrides(columns={"opened_at": "priority"})
    sample = calibration_dir() / "sample" / "servicenow_incidents.csv.gz"
    with pytest.raises(InputError) as caught:
        load_history(sample, wrong)
    problem = caught.value.problems[0]
    assert problem.path == "priority" and problem.file == str(sample)
    assert "'priority' (read as opened_at)" in problem.message
    assert "'3 - Moderate'" in problem.message and "placeholder" not in problem.message
    assert "--column opened_at=NAME" in problem.fix


def test_a_placeholder_for_no_time_is_named_with_the_fix(tmp_path: Path) -> None:
    """Resolution and closing times written as '-' where there is none (the profile reads only
    '', '?', 'NULL' as empty): the refusal names the placeholder with its count and says to add
    it to the profile's missing: list, rather than to map another column."""
    import pyarrow as pa
    import pyarrow.csv as pacsv

    from simkit.resources import calibration_dir

    sample = calibration_dir() / "sample" / "servicenow_incidents.csv.gz"
    table = pacsv.read_csv(
        sample,
        convert_options=pacsv.ConvertOptions(
            strings_can_be_null=False,
            column_types={"resolved_at": pa.string(), "closed_at": pa.string()},
        ),
    )
    for column in ("resolved_at", "closed_at"):
        values = ["-" if v == "?" else v for v in table[column].to_pylist()]
        table = table.set_column(table.column_names.index(column), column, pa.array(values))
    path = tmp_path / "dashes.csv"
    pacsv.write_csv(table, path)
    with pytest.raises(InputError) as caught:
        load_history(path, "servicenow")
    problem = caught.value.problems[0]
    assert "most are '-' (" in problem.message
    assert "missing: list" in problem.fix
