"""Importing ticket exports: ServiceNow (flat and event log), Jira, generic, XES; compression,
encodings, Parquet; profiles and their overrides. Fixtures are written here, not copied."""

from __future__ import annotations

import bz2
import gzip
import lzma
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from simkit.calibrate import History, load_history
from simkit.calibrate.profiles import load_profile, profile_names
from simkit.engine._tables import PAUSES_SCHEMA, TICKETS_SCHEMA, VISITS_SCHEMA
from simkit.errors import InputError

SN_FLAT = """\
number,opened_at,priority,state,assignment_group,resolved_at,closed_at,category,sys_updated_on
INC0010001,2/3/2016 09:00,1 - Critical,Closed,Service Desk,2/3/2016 11:30,7/3/2016 12:00,Network,7/3/2016 12:00
INC0010002,2/3/2016 10:15,3 - Moderate,Resolved,Apps,4/3/2016 16:00,?,Software,4/3/2016 16:00
INC0010003,3/3/2016 14:00,4 - Low,In Progress,Apps,?,?,Software,3/3/2016 15:00
INC0010004,3/3/2016 15:00,2 - High,Closed,?,?,5/3/2016 08:00,Hardware,5/3/2016 08:00
INC0010005,4/3/2016 08:00,3 - Moderate,Canceled,Service Desk,?,?,Software,4/3/2016 09:00
"""

SN_EVENTS = """\
number,incident_state,active,reassignment_count,reopen_count,sys_mod_count,opened_at,sys_updated_at,priority,assignment_group,resolved_at,closed_at
INC0000045,New,true,0,0,0,29/2/2016 01:16,29/2/2016 01:16,2 - High,?,?,?
INC0000045,Active,true,0,0,1,29/2/2016 01:16,29/2/2016 01:30,2 - High,Group 56,?,?
INC0000045,Awaiting User Info,true,0,0,2,29/2/2016 01:16,29/2/2016 05:00,2 - High,Group 56,?,?
INC0000045,Active,true,1,0,3,29/2/2016 01:16,29/2/2016 09:00,2 - High,Group 70,?,?
INC0000045,Resolved,true,1,0,4,29/2/2016 01:16,29/2/2016 11:29,2 - High,Group 70,29/2/2016 11:29,?
INC0000045,Active,true,1,1,5,29/2/2016 01:16,1/3/2016 10:00,2 - High,Group 70,?,?
INC0000045,Resolved,true,1,1,6,29/2/2016 01:16,1/3/2016 12:00,2 - High,Group 70,1/3/2016 12:00,?
INC0000045,Closed,false,1,1,7,29/2/2016 01:16,6/3/2016 12:00,2 - High,Group 70,1/3/2016 12:00,6/3/2016 12:00
INC0000047,Active,true,0,0,1,1/3/2016 10:00,1/3/2016 10:20,1 - Critical,Group 24,?,?
INC0000047,New,true,0,0,0,1/3/2016 10:00,1/3/2016 10:00,1 - Critical,Group 24,?,?
INC0000050,New,true,0,0,0,2/3/2016 08:00,2/3/2016 08:00,4 - Low,Group 24,?,?
INC0000050,Canceled,false,0,0,1,2/3/2016 08:00,2/3/2016 09:00,4 - Low,Group 24,?,?
"""

JIRA = """\
Summary,Issue key,Issue id,Issue Type,Status,Priority,Resolution,Assignee,Created,Updated,Resolved
Printer jams,SD-101,10101,Incident,Done,High,Done,alice,12/Mar/21 3:15 PM,12/Mar/21 5:00 PM,12/Mar/21 4:45 PM
"VPN, again",SD-102,10102,Incident,In Progress,Highest,,bob,13/Mar/21 9:05 AM,13/Mar/21 9:30 AM,
Laptop,SD-103,10103,Service request,Won't Do,Low,Won't Do,alice,14/Mar/21 11:00 AM,15/Mar/21 8:00 AM,
"""


def write(tmp_path: Path, name: str, text: str | bytes) -> Path:
    path = tmp_path / name
    if isinstance(text, str):
        path.write_text(text, encoding="utf-8")
    else:
        path.write_bytes(text)
    return path


def instant(text: str) -> np.datetime64:
    return np.datetime64(text, "us")


def column(table: pa.Table, name: str) -> list[object]:
    return table[name].to_pylist()


def micros(table: pa.Table, name: str) -> np.ndarray:
    values = table[name].cast(pa.int64()).fill_null(np.iinfo(np.int64).min)
    return np.asarray(values.to_numpy()).view("datetime64[us]")


def assert_engine_schemas(history: History) -> None:
    for table, schema in (
        (history.tickets, TICKETS_SCHEMA),
        (history.visits, VISITS_SCHEMA),
        (history.pauses, PAUSES_SCHEMA),
    ):
        assert table.schema.names[: len(schema)] == schema.names
        for field in schema:
            assert table.schema.field(field.name).type == field.type, field.name
    assert set(column(history.tickets, "replication")) <= {0}


def test_every_bundled_profile_is_valid() -> None:
    """Each profile in calibration/ loads and names a ticket column."""
    names = profile_names()
    assert {"servicenow", "jira", "bpic2013", "bpic2014", "helpdesk", "generic"} <= set(names)
    for name in names:
        assert load_profile(name).columns.ticket


def test_servicenow_flat_export(tmp_path: Path) -> None:
    """A flat ServiceNow export gives one ticket and one visit per row: day-first dates, '?' as
    missing, '2 - High' as P2, closed_at standing in for a missing resolved_at, a cancelled
    ticket abandoned and an open one open."""
    history = load_history(write(tmp_path, "incident.csv", SN_FLAT), "servicenow")
    assert_engine_schemas(history)
    t = history.tickets
    assert column(t, "source_id") == [f"INC001000{i}" for i in range(1, 6)]
    assert column(t, "priority") == ["P1", "P3", "P4", "P2", "P3"]
    assert column(t, "ticket_id") == [0, 1, 2, 3, 4]
    resolved = micros(t, "resolved_at")
    assert resolved[0] == instant("2016-03-02T11:30")
    assert resolved[1] == instant("2016-03-04T16:00")
    assert np.isnat(resolved[2]) and np.isnat(resolved[4])
    assert resolved[3] == instant("2016-03-05T08:00")  # closed_at used
    assert column(t, "abandoned") == [False, False, False, False, True]
    assert column(t, "category")[0] == "Network"
    v = history.visits
    assert column(v, "team") == ["Service Desk", "Apps", "Apps", "unassigned", "Service Desk"]
    assert column(v, "outcome") == ["resolved", "resolved", "open", "resolved", "abandoned"]
    assert history.pauses.num_rows == 0
    q = history.quality
    assert q.count("closed_at_used") == 1
    assert q.count("still_open") == 1
    assert q.count("cancelled") == 1
    assert q.count("no_team") == 1
    assert history.observed_until == instant("2016-03-07T12:00")
    assert "event log" not in " ".join(q.notes)
    # no response column and no pick-up state in one row per ticket: said, not silent
    assert any("no ticket in the export has a first response time" in n for n in q.notes)


def test_servicenow_event_log(tmp_path: Path) -> None:
    """The audit form (one row per update, sys_mod_count order, rows out of order in the file)
    becomes visits per assignment group, an 'Awaiting User Info' pause, the gap between a
    resolution and its reopening as a pause, and the final resolution time."""
    history = load_history(write(tmp_path, "incident_log.csv", SN_EVENTS), "servicenow")
    assert_engine_schemas(history)
    t = history.tickets
    assert column(t, "source_id") == ["INC0000045", "INC0000047", "INC0000050"]
    assert column(t, "priority") == ["P2", "P1", "P4"]
    assert micros(t, "opened_at")[0] == instant("2016-02-29T01:16")
    assert micros(t, "first_response_at")[0] == instant("2016-02-29T01:30")
    assert micros(t, "resolved_at")[0] == instant("2016-03-01T12:00")
    assert column(t, "reopened") == [True, False, False]
    assert column(t, "abandoned") == [False, False, True]
    assert micros(t, "first_response_at")[1] == instant("2016-03-01T10:20")
    assert np.isnat(micros(t, "resolved_at")[1])

    v = history.visits.filter(pc.equal(history.visits["ticket_id"], 0))
    assert column(v, "team") == ["Group 56", "Group 70", "Group 70"]
    assert column(v, "seq") == [0, 1, 2]
    assert column(v, "outcome") == ["paused", "resolved", "resolved"]
    assert list(micros(v, "assigned_at")) == [
        instant("2016-02-29T01:16"),
        instant("2016-02-29T09:00"),
        instant("2016-03-01T10:00"),
    ]
    assert list(micros(v, "finished_at")) == [
        instant("2016-02-29T05:00"),
        instant("2016-02-29T11:29"),
        instant("2016-03-01T12:00"),
    ]
    p = history.pauses
    assert column(p, "reason") == ["Awaiting User Info", "reopen"]
    assert list(micros(p, "start")) == [instant("2016-02-29T05:00"), instant("2016-02-29T11:29")]
    assert list(micros(p, "end")) == [instant("2016-02-29T09:00"), instant("2016-03-01T10:00")]
    cancelled = history.visits.filter(pc.equal(history.visits["ticket_id"], 2))
    assert column(cancelled, "outcome") == ["abandoned"]
    assert history.quality.count("still_open") == 1


def test_jira_export(tmp_path: Path) -> None:
    """Jira's issue CSV: 12-hour dates with month names, Highest/High/Low as P1/P2/P4, a quoted
    comma inside a summary, 'Won't Do' as cancelled."""
    history = load_history(write(tmp_path, "jira.csv", JIRA), "jira")
    t = history.tickets
    assert column(t, "source_id") == ["SD-101", "SD-102", "SD-103"]
    assert column(t, "priority") == ["P2", "P1", "P4"]
    assert micros(t, "opened_at")[0] == instant("2021-03-12T15:15")
    assert micros(t, "resolved_at")[0] == instant("2021-03-12T16:45")
    assert column(t, "abandoned") == [False, False, True]
    assert column(history.visits, "team") == ["alice", "bob", "alice"]


def test_timezone_of_local_times(tmp_path: Path) -> None:
    """Local clock times are read in the profile's zone, or the --timezone override (winter:
    London = UTC, Amsterdam = UTC+1)."""
    path = write(tmp_path, "incident.csv", SN_FLAT)
    london = load_history(path, "servicenow", timezone="Europe/London")
    amsterdam = load_history(path, "servicenow", timezone="Europe/Amsterdam")
    assert micros(london.tickets, "opened_at")[0] == instant("2016-03-02T09:00")
    assert micros(amsterdam.tickets, "opened_at")[0] == instant("2016-03-02T08:00")
    assert amsterdam.timezone == "Europe/Amsterdam"


def test_date_format_override(tmp_path: Path) -> None:
    """--date-format replaces the profile's formats: month-first dates read as such."""
    text = "ticket,opened_at,resolved_at\nA,03/04/2024 10:00,03/05/2024 10:00\n"
    path = write(tmp_path, "us.csv", text)
    history = load_history(path, "generic", date_format="%m/%d/%Y %H:%M")
    assert micros(history.tickets, "opened_at")[0] == instant("2024-03-04T10:00")
    assert micros(history.tickets, "resolved_at")[0] == instant("2024-03-05T10:00")


def test_generic_profile_with_named_columns(tmp_path: Path) -> None:
    """The generic profile takes the user's column names (a semicolon file, sniffed)."""
    text = "Ref;Created On;Solved On;Sev;Queue\nX1;2024-05-01 08:00;2024-05-01 12:00;P2;Desk\n"
    path = write(tmp_path, "export.csv", text)
    profile = load_profile("generic").with_overrides(
        columns={
            "ticket": "Ref",
            "opened_at": "Created On",
            "resolved_at": "Solved On",
            "priority": "Sev",
            "team": "Queue",
        }
    )
    history = load_history(path, profile, service="payroll")
    assert column(history.tickets, "service") == ["payroll"]
    assert column(history.tickets, "priority") == ["P2"]
    assert column(history.visits, "team") == ["Desk"]
    assert micros(history.tickets, "resolved_at")[0] == instant("2024-05-01T12:00")


@pytest.mark.parametrize("packer", ["gzip", "xz", "bz2"])
def test_compressed_csv_recognised_by_content(tmp_path: Path, packer: str) -> None:
    """gzip, xz and bzip2 files are recognised by their magic bytes, whatever their name."""
    data = SN_FLAT.encode()
    packed = {"gzip": gzip.compress, "xz": lzma.compress, "bz2": bz2.compress}[packer](data)
    history = load_history(write(tmp_path, "export.dat", packed), "servicenow")
    assert history.tickets.num_rows == 5
    assert any(packer in n for n in history.quality.notes)


def test_latin1_and_utf16_text(tmp_path: Path) -> None:
    """Latin-1 text (not UTF-8) is read as Latin-1 and said so; UTF-16 (Excel's 'Unicode
    text') is read too."""
    text = "ticket;opened_at;team\nT1;2024-01-02 09:00;Équipe Réseau\n"
    latin = load_history(write(tmp_path, "latin.csv", text.encode("latin-1")), "generic")
    assert column(latin.visits, "team") == ["Équipe Réseau"]
    assert any("Latin-1" in n for n in latin.quality.notes)
    wide = load_history(write(tmp_path, "wide.csv", text.encode("utf-16")), "generic")
    assert column(wide.visits, "team") == ["Équipe Réseau"]


def test_parquet_export(tmp_path: Path) -> None:
    """A Parquet export keeps its native types: timestamps with a zone are used as they are,
    integers become strings where a name is expected."""
    table = pa.table(
        {
            "number": pa.array([101, 102], pa.int64()),
            "opened_at": pa.array(
                np.array(["2024-02-01T09:00", "2024-02-01T10:00"], "datetime64[us]")
            ).cast(pa.timestamp("us", "UTC")),
            "resolved_at": pa.array(np.array(["2024-02-01T11:00", "NaT"], "datetime64[us]")).cast(
                pa.timestamp("us", "UTC")
            ),
            "priority": ["1 - Critical", "3 - Moderate"],
        }
    )
    path = tmp_path / "tickets.parquet"
    pq.write_table(table, path)
    history = load_history(path, "servicenow", timezone="Europe/Paris")
    assert column(history.tickets, "source_id") == ["101", "102"]
    assert micros(history.tickets, "opened_at")[0] == instant("2024-02-01T09:00")
    assert column(history.tickets, "priority") == ["P1", "P3"]


XES = """<?xml version="1.0" encoding="UTF-8" ?>
<log xes.version="1.0" xmlns="http://www.xes-standard.org/">
  <global scope="event"><string key="org:group" value="UNKNOWN"/></global>
  <trace>
    <string key="concept:name" value="IM1"/>
    <event><string key="concept:name" value="Open"/><string key="Assignment Group" value="TEAM1"/>
      <string key="lifecycle:transition" value="complete"/>
      <date key="time:timestamp" value="2014-01-06T09:00:00.000+10:00"/></event>
    <event><string key="concept:name" value="Operator Update"/><string key="Assignment Group" value="TEAM1"/>
      <string key="lifecycle:transition" value="complete"/>
      <date key="time:timestamp" value="2014-01-06T09:30:00.000+00:00"/></event>
    <event><string key="concept:name" value="Reassignment"/><string key="Assignment Group" value="TEAM2"/>
      <string key="lifecycle:transition" value="complete"/>
      <date key="time:timestamp" value="2014-01-06T10:00:00.000+00:00"/></event>
    <event><string key="concept:name" value="Closed"/><string key="Assignment Group" value="TEAM2"/>
      <string key="lifecycle:transition" value="complete"/>
      <date key="time:timestamp" value="2014-01-06T15:00:00.000+00:00"/></event>
    <event><string key="concept:name" value="Caused By CI"/><string key="Assignment Group" value="TEAM2"/>
      <string key="lifecycle:transition" value="complete"/>
      <date key="time:timestamp" value="2014-01-07T08:00:00.000+00:00"/></event>
  </trace>
</log>
"""


def test_xes_offsets_ignored_as_the_bpic2014_profile_says(tmp_path: Path) -> None:
    """BPIC 2014 times are labelled +00:00 / +10:00 but are Dutch local time: the profile
    ignores the offsets (09:00 in Amsterdam in January is 08:00 UTC); bookkeeping after the
    closure is not a reopening."""
    path = write(tmp_path, "log.xes.gz", gzip.compress(XES.encode()))
    history = load_history(path, "bpic2014")
    t = history.tickets
    assert micros(t, "opened_at")[0] == instant("2014-01-06T08:00")
    assert micros(t, "first_response_at")[0] == instant("2014-01-06T08:30")
    assert micros(t, "resolved_at")[0] == instant("2014-01-06T14:00")
    assert column(t, "reopened") == [False]
    assert column(history.visits, "team") == ["TEAM1", "TEAM2"]
    assert column(history.visits, "outcome") == ["routed", "resolved"]
    assert history.observed_until == instant("2014-01-07T07:00")


def test_xes_offsets_honoured_by_default(tmp_path: Path) -> None:
    """With offsets honoured (a generic profile), +10:00 means ten hours ahead of UTC."""
    path = write(tmp_path, "log.xes", XES)
    profile = load_profile("bpic2014").with_overrides(timezone="UTC")
    honour = profile.model_copy(update={"offsets": "honour"})
    history = load_history(path, honour)
    assert micros(history.tickets, "opened_at")[0] == instant("2014-01-05T23:00")


def test_unknown_profile_name_lists_the_bundled_ones() -> None:
    """An unknown profile name fails with the bundled names and a close match."""
    with pytest.raises(InputError) as caught:
        load_profile("servicenw")
    problem = caught.value.problems[0]
    assert "servicenow" in problem.fix and "did you mean" in problem.fix


def test_profile_file_problems_have_lines(tmp_path: Path) -> None:
    """A profile file is validated like a scenario: unknown keys (with a suggestion), a bad
    regular expression and an unknown time zone, each with its line."""
    text = (
        "name: mine\n"
        "timezone: Europe/Londn\n"
        "columns:\n"
        "  ticket: id\n"
        "  opend_at: created\n"
        "priorities:\n"
        "  pattern: '(unclosed'\n"
    )
    path = write(tmp_path, "mine.yaml", text)
    with pytest.raises(InputError) as caught:
        load_profile(path)
    problems = {p.path: p for p in caught.value.problems}
    assert problems["timezone"].line == 2 and "Europe/Londn" in problems["timezone"].message
    assert problems["timezone"].fix.startswith("did you mean Europe/London?")
    assert problems["columns.opend_at"].line == 5
    assert "opened_at" in problems["columns.opend_at"].fix
    assert problems["priorities.pattern"].line == 7


def test_column_override_of_unknown_field() -> None:
    """Naming a column for a field simkit does not know fails with the fields it knows."""
    with pytest.raises(InputError) as caught:
        load_profile("generic").with_overrides(columns={"opend_at": "Created"})
    assert "opened_at" in caught.value.problems[0].fix


@pytest.mark.parametrize("value", ["Mars/Olympus", "Europe/" + "x" * 300, ""])
def test_unknown_time_zones_are_refused_with_a_message(value: str) -> None:
    """A profile's time zone that names none — misspelt, empty, or too long for a file name —
    is refused with the same message, never an OS error."""
    from simkit.calibrate.profiles import check_timezone

    with pytest.raises(ValueError, match="unknown time zone"):
        check_timezone(value)
