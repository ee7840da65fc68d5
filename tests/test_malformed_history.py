"""Malformed exports: every one fails with a clear InputError naming the file (and the row or
column where known) — or loads cleanly with the issue counted in the quality report. Never a
traceback."""

from __future__ import annotations

import gzip
import io
import json
import zipfile
from contextlib import redirect_stdout
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from simkit.calibrate import load_history
from simkit.calibrate.outages import load_outages
from simkit.calibrate.profiles import load_profile
from simkit.cli import main
from simkit.errors import InputError

GOOD = (
    "ticket,opened_at,resolved_at,priority,team\n"
    "T1,2024-01-08 09:00,2024-01-08 11:00,P1,desk\n"
    "T2,2024-01-08 10:00,2024-01-09 10:00,P2,apps\n"
    "T3,2024-01-09 08:30,,P3,desk\n"
)


def write(tmp_path: Path, name: str, data: str | bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data.encode("utf-8") if isinstance(data, str) else data)
    return path


def refused(path: Path, profile: object = "generic", **options: object) -> InputError:
    with pytest.raises(InputError) as caught:
        load_history(path, profile, **options)  # type: ignore[arg-type]
    error = caught.value
    assert error.problems, "an InputError lists its problems"
    assert all(p.message for p in error.problems)
    return error


def test_empty_file(tmp_path: Path) -> None:
    """An empty file is refused as empty."""
    error = refused(write(tmp_path, "empty.csv", b""))
    assert "empty" in error.problems[0].message
    assert error.problems[0].file.endswith("empty.csv")


def test_header_only(tmp_path: Path) -> None:
    """A header without rows is refused, saying so."""
    error = refused(write(tmp_path, "header.csv", GOOD.splitlines()[0] + "\n"))
    assert "header but no rows" in error.problems[0].message


def test_binary_garbage(tmp_path: Path) -> None:
    """Random bytes are refused as binary, not parsed."""
    noise = bytes(range(256)) * 64
    error = refused(write(tmp_path, "noise.csv", noise))
    assert "binary" in error.problems[0].message


def test_zip_archive_or_xlsx(tmp_path: Path) -> None:
    """A zip archive (an .xlsx is one) is refused with the fix: save as CSV."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("tickets.csv", GOOD)
    error = refused(write(tmp_path, "tickets.xlsx", buffer.getvalue()))
    assert "zip" in error.problems[0].message and "CSV" in error.problems[0].fix


def test_gzip_bomb_refused_while_streaming(tmp_path: Path) -> None:
    """A gzip bomb — 1 GiB of CSV text packed into a few MB — is refused once the decompressed
    size passes the limit, without being unpacked."""
    block = b"T9,2024-01-08 09:00,2024-01-08 11:00,P1,desk\n" * (64 * 1024 * 1024 // 45)
    member = gzip.compress(GOOD.encode() + block, compresslevel=9)
    path = tmp_path / "bomb.csv.gz"
    with open(path, "wb") as handle:
        for _ in range(16):  # sixteen gzip members: about 1 GiB once decompressed
            handle.write(member)
    assert path.stat().st_size < 16 * 1024 * 1024
    error = refused(path, max_bytes=8 * 1024 * 1024)
    assert "too large" in error.problems[0].message
    assert "decompressed" in error.problems[0].message


def test_parquet_bomb_refused_while_decoding(tmp_path: Path) -> None:
    """A small Parquet file whose dictionary-encoded columns decode to far more than the limit
    (2 million copies of one value, a few kB stored) is refused once the decoded rows pass it —
    the stored sizes of its row groups are under the limit."""
    n = 2_000_000
    one = pa.array(["2024-01-08 09:00"]).take(pa.array([0] * n))
    path = tmp_path / "bomb.parquet"
    pq.write_table(pa.table({"opened_at": one, "ticket": one}), path, use_dictionary=True)
    assert path.stat().st_size < 100_000
    error = refused(path, max_bytes=8 * 1024 * 1024)
    assert "too large" in error.problems[0].message


def test_zeros_bomb_refused(tmp_path: Path) -> None:
    """A gzip of zeros is refused after reading its first block (binary, not a CSV)."""
    path = tmp_path / "zeros.gz"
    with gzip.open(path, "wb", compresslevel=1) as handle:
        chunk = bytes(1024 * 1024)
        for _ in range(64):
            handle.write(chunk)
    error = refused(path, max_bytes=1024 * 1024)
    assert "binary" in error.problems[0].message or "too large" in error.problems[0].message


def test_uncompressed_over_the_limit(tmp_path: Path) -> None:
    """A plain file larger than the limit is refused before reading, naming the limit."""
    error = refused(write(tmp_path, "big.csv", GOOD * 50), max_bytes=100)
    assert "too large" in error.problems[0].message and "100 bytes" in error.problems[0].message


def test_truncated_gzip(tmp_path: Path) -> None:
    """A gzip cut short is refused as truncated."""
    packed = gzip.compress((GOOD * 2000).encode())
    error = refused(write(tmp_path, "cut.csv.gz", packed[: len(packed) // 2]))
    assert "truncated" in error.problems[0].message


def test_wrong_delimiter(tmp_path: Path) -> None:
    """A semicolon file read with a comma delimiter names the missing column and suggests the
    right delimiter."""
    path = write(tmp_path, "semi.csv", GOOD.replace(",", ";"))
    profile = load_profile("generic").with_overrides(delimiter=",")
    error = refused(path, profile)
    problem = error.problems[0]
    assert problem.path == "ticket" and problem.line == 1
    assert "';'" in problem.fix


def test_missing_required_column(tmp_path: Path) -> None:
    """A flat export without an opened-at column names the field, the columns it has and how
    to name it."""
    text = "ticket,start time,resolved_at\nT1,2024-01-08 09:00,2024-01-08 10:00\n"
    error = refused(write(tmp_path, "nocol.csv", text))
    problem = error.problems[0]
    assert problem.path == "opened_at"
    assert "'start time'" in problem.message
    assert "--column opened_at=" in problem.fix


def test_a_column_named_by_an_override_must_be_in_the_export(tmp_path: Path) -> None:
    """A profile may map columns an export lacks (the field is then left out), but a column the
    user named (``--column team=…``, the Calibrate page's mapping) must be there: a typo would
    otherwise drop the field silently, e.g. put every ticket in one team."""
    path = write(tmp_path, "good.csv", GOOD)
    profile = load_profile("generic").with_overrides(columns={"team": "teem", "priority": "prio"})
    error = refused(path, profile)
    assert [p.path for p in error.problems] == ["priority", "team"]
    assert "'teem'" in error.problems[1].message and "'team'" in error.problems[1].message
    assert "did you mean 'team'?" in error.problems[1].fix
    # Named again as present, or the override cleared, the export loads.
    load_history(path, profile.with_overrides(columns={"team": "team", "priority": ""}))


def test_missing_ticket_column(tmp_path: Path) -> None:
    """Without the ticket number column the error lists what the export has."""
    text = "Reference,opened_at\nR1,2024-01-08 09:00\n"
    error = refused(write(tmp_path, "noticket.csv", text))
    assert error.problems[0].path == "ticket"
    assert "Reference" in error.problems[0].message


def test_mixed_date_formats_reported(tmp_path: Path) -> None:
    """Day-first and ISO dates in one column both load; the mix is reported with counts."""
    text = (
        "number,opened_at,resolved_at,priority\n"
        "I1,2016-03-01 09:00:00,2016-03-01 10:00:00,1 - Critical\n"
        "I2,2/3/2016 09:00,2/3/2016 12:00,2 - High\n"
        "I3,2016-03-03 09:00:00,2016-03-03 10:00:00,2 - High\n"
    )
    history = load_history(write(tmp_path, "mixed.csv", text), "servicenow")
    assert history.tickets.num_rows == 3
    rule = history.quality.rule("mixed_date_formats")
    assert rule is not None and rule.action == "info" and rule.count == 1
    assert history.quality.count("mixed_date_formats") == 2  # opened_at and resolved_at
    assert "iso" in rule.title and "%d/%m/%Y %H:%M" in rule.title


def test_resolved_before_opened_removed(tmp_path: Path) -> None:
    """A ticket resolved before it was opened is removed and counted with its number."""
    text = GOOD + "T4,2024-01-10 12:00,2024-01-10 09:00,P1,desk\n"
    history = load_history(write(tmp_path, "negative.csv", text), "generic")
    assert history.tickets["source_id"].to_pylist() == ["T1", "T2", "T3"]
    rule = history.quality.rule("negative_durations")
    assert rule is not None and rule.count == 1 and rule.action == "removed"
    assert rule.examples[0]["ticket"] == "T4" and rule.examples[0]["row"] == 4


def test_duplicated_rows_removed(tmp_path: Path) -> None:
    """Rows repeated exactly are removed (the first copy kept) and counted."""
    lines = GOOD.splitlines()
    text = "\n".join([*lines, lines[1], lines[2], lines[1]]) + "\n"
    history = load_history(write(tmp_path, "dups.csv", text), "generic")
    assert history.tickets.num_rows == 3
    assert history.quality.count("duplicate_rows") == 3
    assert history.quality.removed_rows == 3


def test_question_marks_everywhere(tmp_path: Path) -> None:
    """An export where every value is '?' has no usable rows: refused, saying which rules
    removed them."""
    text = "ticket,opened_at,resolved_at\n" + "?,?,?\n" * 5
    error = refused(write(tmp_path, "unknown.csv", text))
    assert "no usable rows" in error.problems[0].message
    assert "ticket number" in error.problems[0].message


def test_question_marks_in_some_values(tmp_path: Path) -> None:
    """'?' in optional values is missing, not an error; a missing opening time removes the
    row and is counted."""
    text = GOOD + "T4,?,?,?,?\n"
    history = load_history(write(tmp_path, "some.csv", text), "generic")
    assert history.tickets.num_rows == 3
    assert history.quality.count("missing_timestamps") == 1


def test_unreadable_and_impossible_dates(tmp_path: Path) -> None:
    """Values no format reads ('yesterday') and dates that do not exist (31 February) remove
    their rows, with row, column and value in the examples."""
    text = GOOD + "T4,yesterday,,P1,desk\nT5,2024-02-31 09:00,,P1,desk\n"
    history = load_history(write(tmp_path, "dates.csv", text), "generic")
    assert history.tickets.num_rows == 3
    rule = history.quality.rule("unreadable_timestamps")
    assert rule is not None and rule.count == 2
    assert {e["value"] for e in rule.examples} == {"yesterday", "2024-02-31 09:00"}
    assert {e["row"] for e in rule.examples} == {4, 5}
    assert all(e["column"] == "opened_at" for e in rule.examples)


def test_a_date_in_a_year_out_of_range_is_said_to_be_one(tmp_path: Path) -> None:
    """A valid date of the year 2999 (or 1850) is a mistyped year, not a format no one reads:
    its row is removed under its own rule, whose fix is about the year, not --date-format. A
    row whose other time no format reads is counted once, as unreadable; 29 February 2999 (not
    a leap year) does not exist, so it is unreadable too."""
    text = GOOD + (
        "T4,2024-01-10 09:00,2999-01-10 10:00,P1,desk\n"
        "T5,1850-01-11 09:00,,P1,desk\n"
        "T6,yesterday,2999-01-12 10:00,P1,desk\n"
        "T7,2024-01-12 09:00,2999-02-29 10:00,P1,desk\n"
    )
    history = load_history(write(tmp_path, "years.csv", text), "generic")
    assert history.tickets.num_rows == 3
    years = history.quality.rule("timestamps_out_of_range")
    assert years is not None and years.count == 2 and years.action == "removed"
    assert {e["value"] for e in years.examples} == {"2999-01-10 10:00", "1850-01-11 09:00"}
    assert "mistyped year" in years.fix and "--date-format" not in years.fix
    unreadable = history.quality.rule("unreadable_timestamps")
    assert unreadable is not None and unreadable.count == 2
    assert {e["row"] for e in unreadable.examples} == {6, 7}


def test_a_column_mixing_offsets_and_local_times_is_noted(tmp_path: Path) -> None:
    """Some opening times write their UTC offset and others do not: those are read in the
    profile's time zone, and the report says how many, with examples; a column where every
    value has an offset, or none has, says nothing."""
    text = GOOD + "T4,2024-01-10T09:00+02:00,,P1,desk\nT5,2024-01-10T10:00Z,,P1,desk\n"
    history = load_history(write(tmp_path, "mixed.csv", text), "generic")
    rule = history.quality.rule("mixed_offsets")
    assert rule is not None and rule.action == "info" and rule.count == 3
    assert "beside 2 with one" in rule.title and "'opened_at'" in rule.title
    assert {e["value"] for e in rule.examples} == {
        "2024-01-08 09:00",
        "2024-01-08 10:00",
        "2024-01-09 08:30",
    }
    assert history.tickets.num_rows == 5  # nothing removed
    plain = load_history(write(tmp_path, "plain.csv", GOOD), "generic")
    assert plain.quality.rule("mixed_offsets") is None


def test_latin1_after_the_first_block(tmp_path: Path) -> None:
    """Latin-1 bytes far into a file that starts as plain ASCII are read as Latin-1."""
    rows = "".join(f"T{i},2024-01-08 09:00,2024-01-08 10:00,P1,desk\n" for i in range(5, 20000))
    text = GOOD.encode() + rows.encode() + "T99,2024-01-08 09:00,,P1,Équipe\n".encode("latin-1")
    history = load_history(write(tmp_path, "late.csv", text), "generic")
    assert "Équipe" in history.visits["team"].to_pylist()
    assert any("Latin-1" in n for n in history.quality.notes)


def test_a_few_rows_with_too_many_fields(tmp_path: Path) -> None:
    """A few rows with an unquoted delimiter are skipped and reported with their line."""
    body = "".join(f"T{i},2024-01-08 09:00,2024-01-08 10:00,P1,desk\n" for i in range(10, 60))
    text = GOOD + body + "T99,2024-01-08 09:00,2024-01-08 10:00,P1,desk, with comma\n"
    history = load_history(write(tmp_path, "extra.csv", text), "generic")
    rule = history.quality.rule("malformed_rows")
    assert rule is not None and rule.count == 1
    assert rule.examples[0]["row"] == 54  # the data row: 3 + 50 rows, then it (header not counted)


def test_many_rows_with_the_wrong_field_count(tmp_path: Path) -> None:
    """When many rows have the wrong number of fields the file is refused, naming a line."""
    text = GOOD + "T4,2024-01-08 09:00\n" * 5
    error = refused(write(tmp_path, "short.csv", text))
    assert error.problems[0].line == 5
    assert "delimiter" in error.problems[0].fix


def test_unknown_priorities_kept_and_reported(tmp_path: Path) -> None:
    """Priorities the profile cannot map are kept as written and reported with their counts."""
    text = (
        "number,opened_at,priority\n"
        "I1,2016-03-01 09:00:00,1 - Critical\n"
        "I2,2016-03-01 10:00:00,Urgent\n"
        "I3,2016-03-01 11:00:00,Urgent\n"
    )
    history = load_history(write(tmp_path, "prio.csv", text), "servicenow")
    assert history.tickets["priority"].to_pylist() == ["P1", "Urgent", "Urgent"]
    rule = history.quality.rule("unknown_priorities")
    assert rule is not None and rule.count == 2 and rule.examples[0]["value"] == "Urgent"


def test_truncated_xes(tmp_path: Path) -> None:
    """An XES log cut in the middle is refused as not well-formed, with the line."""
    text = (
        '<?xml version="1.0"?>\n<log>\n<trace><string key="concept:name" value="A"/>\n'
        '<event><date key="time:timestamp" value="2024-01-08T09:00:00+01:00"/>\n'
    )
    error = refused(write(tmp_path, "cut.xes", text), "bpic2013")
    assert "XES" in error.problems[0].message and error.problems[0].line is not None


def test_xml_that_is_not_xes(tmp_path: Path) -> None:
    """XML whose root is not <log> is refused."""
    text = '<?xml version="1.0"?>\n<tickets><ticket id="1"/></tickets>\n'
    error = refused(write(tmp_path, "other.xml", text), "bpic2013")
    assert "not <log>" in error.problems[0].message


def test_xes_events_outside_traces_counted(tmp_path: Path) -> None:
    """Events directly under <log> name no ticket: they are not read, and counted."""
    text = (
        '<?xml version="1.0"?>\n<log>\n'
        '<event><string key="concept:name" value="stray"/></event>\n'
        '<trace><string key="concept:name" value="A"/>\n'
        '<event><string key="lifecycle:transition" value="In Progress"/>'
        '<date key="time:timestamp" value="2024-01-08T09:00:00+01:00"/></event>\n'
        "</trace>\n</log>\n"
    )
    history = load_history(write(tmp_path, "stray.xes", text), "bpic2013")
    assert history.tickets["source_id"].to_pylist() == ["A"]
    assert history.quality.count("events_outside_traces") == 1
    assert history.quality.rows_read == 2


def test_row_longer_than_a_read_block(tmp_path: Path) -> None:
    """A value of several megabytes (a pasted log in a description) is read, not refused."""
    text = "ticket,opened_at,note\nT1,2024-01-08 09:00," + "x" * (6 * 1024 * 1024) + "\n"
    history = load_history(write(tmp_path, "long.csv", text), "generic")
    assert history.tickets.num_rows == 1


def test_dst_ambiguous_times_reported(tmp_path: Path) -> None:
    """A local time that occurs twice when the clocks go back is read as the first and
    reported."""
    text = "ticket,opened_at,resolved_at\nT1,2023-10-29 02:30,2023-10-29 05:00\n"
    history = load_history(write(tmp_path, "dst.csv", text), "generic", timezone="Europe/Berlin")
    assert history.quality.count("dst_ambiguous_times") == 1


def test_no_such_file_and_folder(tmp_path: Path) -> None:
    """A missing file and a folder are refused by name."""
    assert "no such file" in refused(tmp_path / "absent.csv").problems[0].message
    assert "folder" in refused(tmp_path).problems[0].message


def test_unsupported_date_format_code(tmp_path: Path) -> None:
    """A date format with a code simkit does not read says which codes it reads."""
    error = refused(write(tmp_path, "good.csv", GOOD), date_format="%Y-%m-%d %H:%M %Z")
    assert "%Z" in error.problems[0].message


@pytest.mark.parametrize(
    ("name", "data", "words"),
    [
        ("empty.csv", b"", "empty"),
        ("noise.bin", bytes(range(256)) * 16, "binary"),
        ("header.csv", b"ticket,opened_at\n", "no rows"),
    ],
)
def test_command_line_reports_errors_as_json(
    tmp_path: Path, root: Path, name: str, data: bytes, words: str
) -> None:
    """`simkit review --json` on a malformed export exits 2 with the errors document."""
    path = write(tmp_path, name, data)
    scenario = root / "scenarios" / "corporate_service_desk.yaml"
    out = io.StringIO()
    with redirect_stdout(out):
        code = main(
            ["review", str(path), "--profile", "generic", "--scenario", str(scenario), "--json"]
        )
    assert code == 2
    document = json.loads(out.getvalue())
    assert words in document["errors"][0]["message"]
    assert document["errors"][0]["file"].endswith(name)


def parquet(tmp_path: Path, name: str, **columns: pa.Array | list[object]) -> Path:
    """A Parquet export of the GOOD tickets with some columns replaced."""
    data: dict[str, pa.Array | list[object]] = {
        "ticket": ["T1", "T2", "T3"],
        "opened_at": ["2024-01-08 09:00", "2024-01-08 10:00", "2024-01-09 08:30"],
        "resolved_at": ["2024-01-08 11:00", "2024-01-09 10:00", None],
        "priority": ["P1", "P2", "P3"],
        "team": ["desk", "apps", "desk"],
    }
    data.update(columns)
    path = tmp_path / name
    pq.write_table(pa.table(data), path)
    return path


@pytest.mark.parametrize(
    ("field", "values", "kind", "expected"),
    [
        ("priority", pa.array([{"a": 1}, {"a": 2}, {"a": 3}]), "struct<a: int64>", "text"),
        ("opened_at", pa.array([[1], [2], [3]], pa.list_(pa.int64())), "list<", "a timestamp"),
        ("team", pa.array([{"x": "y"}] * 3, pa.map_(pa.string(), pa.string())), "map<", "text"),
    ],
)
def test_parquet_column_of_nested_values(
    tmp_path: Path, field: str, values: pa.Array, kind: str, expected: str
) -> None:
    """A Parquet column of lists, structs or maps holds no single value per row: refused with
    the file, the column, its type and the type expected — not a cast error."""
    error = refused(parquet(tmp_path, "nested.parquet", **{field: values}))
    problem = error.problems[0]
    assert problem.file is not None and problem.file.endswith("nested.parquet")
    assert problem.path == field
    assert repr(field) in problem.message and kind in problem.message
    assert f"expected {expected}" in problem.message
    assert "string" in problem.fix


def test_parquet_nested_column_in_an_outage_file(tmp_path: Path) -> None:
    """An outage history in Parquet with a nested column is refused the same way."""
    path = tmp_path / "outages.parquet"
    pq.write_table(
        pa.table({"start": ["2024-01-08 09:00"], "service": pa.array([["payroll"]])}), path
    )
    with pytest.raises(InputError) as caught:
        load_outages(path, timezone="UTC")
    problem = caught.value.problems[0]
    assert problem.path == "service" and "list<" in problem.message


def test_parquet_ticket_numbers_that_are_fractions(tmp_path: Path) -> None:
    """A ticket column of fractional numbers (1.5) is refused with examples, not merged into
    one ticket."""
    path = parquet(tmp_path, "floats.parquet", ticket=[1.5, 1.5, 2.25])
    problem = refused(path).problems[0]
    assert problem.path == "ticket" and "fractional" in problem.message
    assert "1.5 (row 1)" in problem.message and "3 of 3 rows" in problem.message


def test_parquet_ticket_numbers_that_are_whole_floats(tmp_path: Path) -> None:
    """Whole numbers stored as floats are fine ticket numbers."""
    history = load_history(parquet(tmp_path, "whole.parquet", ticket=[1.0, 2.0, 3.0]), "generic")
    assert history.tickets.num_rows == 3


def test_named_gz_but_not_gzip(tmp_path: Path) -> None:
    """A .gz file that is not gzip is read as what it is; when it then lacks the columns,
    the first problem says the file is not the gzip export it is named as."""
    error = refused(write(tmp_path, "tickets.csv.gz", b"not gzip data\n"))
    first = error.problems[0]
    assert "named .gz but is not gzip-compressed" in first.message
    assert "gunzip -t" in first.fix
    assert any(p.path == "ticket" for p in error.problems[1:])


def test_named_gz_plain_csv_is_read_and_noted(tmp_path: Path) -> None:
    """A plain CSV export named .gz (a browser that unpacked the download) is read, with a
    note saying it was not compressed."""
    history = load_history(write(tmp_path, "tickets.csv.gz", GOOD), "generic")
    assert history.tickets.num_rows == 3
    assert any("not gzip-compressed" in n for n in history.quality.notes)


@pytest.mark.parametrize(
    ("name", "data", "claimed", "expected"),
    [
        ("tickets.parquet", b"hello world this is not parquet\n", ".parquet", "not Parquet"),
        ("log.xes", b"this is not xml <<<\n", ".xes", "not XES"),
        ("log.xes.gz", gzip.compress(b"this is not xml <<<\n"), ".xes", "not XES"),
    ],
    ids=["parquet", "xes", "xes-gz"],
)
def test_named_parquet_or_xes_but_not(
    tmp_path: Path, name: str, data: bytes, claimed: str, expected: str
) -> None:
    """A .parquet / .xes file whose content is not that format is read as what it is, like a
    .gz that is not gzip; when it then lacks the columns, the first problem says the file is not
    the export it is named as — not just that a column is missing from 'hello world …'."""
    error = refused(write(tmp_path, name, data))
    first = error.problems[0]
    assert f"named {claimed} but is not" in first.message and expected in first.message
    assert "probably not the" in first.message and first.fix
    assert any(p.path == "ticket" for p in error.problems[1:])


def test_named_parquet_plain_csv_is_read_and_noted(tmp_path: Path) -> None:
    """A CSV export named .parquet is read as CSV, with a note saying so."""
    history = load_history(write(tmp_path, "tickets.parquet", GOOD), "generic")
    assert history.tickets.num_rows == 3
    assert any("named .parquet but is not Parquet" in n for n in history.quality.notes)


@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("arrow.parquet", b"ARROW1\x00\x00" + bytes(range(256)) * 4),
        ("x.xes", bytes(range(256)) * 4),
    ],
)
def test_named_parquet_or_xes_but_other_binary(tmp_path: Path, name: str, data: bytes) -> None:
    """A binary file that is not the format its name claims says so, not only 'binary'."""
    problem = refused(write(tmp_path, name, data)).problems[0]
    assert f"named {Path(name).suffix} but is not" in problem.message
    assert "binary" in problem.message


def test_parquet_cut_short(tmp_path: Path) -> None:
    """A Parquet file that begins with PAR1 but lacks its footer is refused as truncated."""
    data = parquet(tmp_path, "whole.parquet", ticket=[1.0, 2.0, 3.0]).read_bytes()
    problem = refused(write(tmp_path, "cut.parquet", data[: len(data) // 2])).problems[0]
    assert "truncated" in problem.message and "PAR1" in problem.message


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("<log/>", "no <trace> and no <event>"),
        ('<?xml version="1.0"?>\n<log xes.version="1.0"></log>\n', "no <trace> and no <event>"),
        ('<log><trace><string key="concept:name" value="A"/></trace></log>', "hold no <event>"),
        ('<log><event><string key="concept:name" value="e"/></event></log>', "outside any"),
    ],
)
def test_xes_log_without_events(tmp_path: Path, text: str, expected: str) -> None:
    """An XES log with no event in any trace says the log holds no events — not that a column
    is missing from an empty list of columns."""
    error = refused(write(tmp_path, "empty_log.xes", text), "bpic2013")
    assert len(error.problems) == 1
    problem = error.problems[0]
    assert "holds no events" in problem.message and expected in problem.message
    assert "the export has" not in problem.message and problem.fix
