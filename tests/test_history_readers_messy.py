"""Messy CSV exports: an unclosed quote, Windows-1252 text, unreadable (Excel serial) dates,
row numbers around skipped rows and a truncated last line. Each either loads with the issue
reported or is refused with an InputError naming the file, the line or column and the fix —
never a silent loss of rows."""

from __future__ import annotations

from pathlib import Path

import pytest

from simkit.calibrate import load_history
from simkit.errors import InputError

HEADER = "ticket,opened_at,resolved_at,priority,team\n"


def row(i: int, team: str = "desk") -> str:
    return f"T{i},2024-01-08 09:00,2024-01-08 11:00,P1,{team}\n"


def write(tmp_path: Path, name: str, data: str | bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data.encode("utf-8") if isinstance(data, str) else data)
    return path


def refused(path: Path, profile: str = "generic") -> InputError:
    with pytest.raises(InputError) as caught:
        load_history(path, profile)
    return caught.value


# -- 1. an unclosed quote ------------------------------------------------------------------------
def test_unclosed_quote_swallowing_the_rest_of_the_file_is_refused(tmp_path: Path) -> None:
    """A quote opened and never closed makes the rest of the file one value: refused, naming
    the line where it opens and how many lines it swallowed, not one skipped row."""
    rows = [row(i) for i in range(1, 101)]
    rows[89] = 'T90,2024-01-08 09:00,"2024-01-08 11:00,P1,desk\n'  # data row 90 = line 91
    path = write(tmp_path, "open.csv", HEADER + "".join(rows))
    error = refused(path)
    problem = error.problems[0]
    assert problem.file == str(path) and problem.line == 91
    assert "quote" in problem.message and "the next 10 lines" in problem.message
    assert "end of the file" in problem.message
    assert "close the quote" in problem.fix and "line 91" in problem.fix


def test_unclosed_quote_in_the_last_column_is_refused(tmp_path: Path) -> None:
    """The quote opens in the last column: the row has the right number of fields, the rows
    after it hide in its value — still refused, naming the column."""
    rows = [row(i) for i in range(1, 41)]
    rows[19] = 'T20,2024-01-08 09:00,2024-01-08 11:00,P1,"desk\n'
    error = refused(write(tmp_path, "last.csv", HEADER + "".join(rows)))
    problem = error.problems[0]
    assert problem.line == 21 and problem.path == "team"
    assert "the next 20 lines" in problem.message


def test_unclosed_quote_line_counts_earlier_multiline_values(tmp_path: Path) -> None:
    """A legitimate value over three lines earlier in the file moves the line named for the
    unclosed quote by two."""
    rows = [row(i) for i in range(1, 41)]
    rows[2] = 'T3,2024-01-08 09:00,2024-01-08 11:00,P1,"desk\nsecond line\nthird, line"\n'
    rows[29] = 'T30,2024-01-08 09:00,"2024-01-08 11:00,P1,desk\n'
    error = refused(write(tmp_path, "multi.csv", HEADER + "".join(rows)))
    assert error.problems[0].line == 33  # data row 30 = line 31, plus two lines in row 3


def test_quoted_values_over_several_lines_still_load(tmp_path: Path) -> None:
    """Multi-line quoted values (ticket notes) are no unclosed quote: the file loads."""
    rows = [row(i) for i in range(1, 21)]
    rows[4] = 'T5,2024-01-08 09:00,2024-01-08 11:00,P1,"desk\nfloor 2, room 3"\n'
    history = load_history(write(tmp_path, "notes.csv", HEADER + "".join(rows)), "generic")
    assert history.tickets.num_rows == 20
    assert history.quality.count("malformed_rows") == 0


def test_notes_that_look_a_little_like_rows_still_load(tmp_path: Path) -> None:
    """A note with one line as full of commas as a row ("cable, toner, drum, all fine"), and a
    short row whose quoted value spans two lines, are no unclosed quote: the file loads, the
    short row reported as malformed like any other (both were refused)."""
    rows = [row(i) for i in range(1, 21)]
    rows[4] = (
        'T5,2024-01-08 09:00,2024-01-08 11:00,P1,"desk\n'
        'Checked printer, cable, toner, drum, all fine."\n'
    )
    rows[9] = 'T10,2024-01-08 09:00,"two\nlines"\n'
    history = load_history(write(tmp_path, "commas.csv", HEADER + "".join(rows)), "generic")
    assert history.tickets.num_rows == 19
    assert history.quality.count("malformed_rows") == 1


def test_unclosed_quote_beyond_the_first_block_is_refused(tmp_path: Path) -> None:
    """In a file larger than a read block the swallowed rest (over 4 MB, read again with larger
    blocks) is refused too, not counted as one malformed row."""
    body = [row(i) for i in range(1, 120_001)]
    body[100] = 'T101,2024-01-08 09:00,"2024-01-08 11:00,P1,desk\n'
    error = refused(write(tmp_path, "large.csv", HEADER + "".join(body)))
    problem = error.problems[0]
    assert problem.line == 102 and "the next 119,899 lines" in problem.message


# -- 2. Windows-1252 -----------------------------------------------------------------------------
CP1252_TEAMS = ["L’équipe", "Café – Support €", "“Quoted” desk"]


def cp1252_file(rows_before: int) -> bytes:
    plain = "".join(row(i) for i in range(1, rows_before + 1)).encode()
    special = "".join(row(90_000 + i, team) for i, team in enumerate(CP1252_TEAMS))
    return (
        HEADER.encode() + plain + special.encode("cp1252") + row(99_999, "x\x81y").encode("latin-1")
    )


@pytest.mark.parametrize("rows_before", [0, 5_000], ids=["in-the-sample", "after-the-sample"])
def test_windows_1252_text_arrives_intact(tmp_path: Path, rows_before: int) -> None:
    """Text that is not UTF-8 is read as Windows-1252 (’ – € “ ” intact, not C1 controls),
    both when the first lines show it and when it appears only later; the five bytes
    Windows-1252 leaves undefined read as Latin-1."""
    path = write(tmp_path, "cp1252.csv", cp1252_file(rows_before))
    history = load_history(path, "generic")
    teams = set(history.visits["team"].to_pylist())
    assert set(CP1252_TEAMS) <= teams and "x\x81y" in teams
    assert any("Windows-1252" in note for note in history.quality.notes)


# -- 3. unreadable timestamps --------------------------------------------------------------------
def test_every_timestamp_unreadable_names_the_column_and_examples(tmp_path: Path) -> None:
    """When no row has a readable time, the error names the column, shows example values and
    says to pass --date-format."""
    text = HEADER + "".join(f"T{i},{i:02d}.01.2024 um 9 Uhr,,P1,desk\n" for i in range(1, 9))
    problem = refused(write(tmp_path, "german.csv", text)).problems[0]
    assert "'opened_at'" in problem.message and problem.path == "opened_at"
    assert "'01.01.2024 um 9 Uhr'" in problem.message
    assert "'02.01.2024 um 9 Uhr'" in problem.message
    assert "--date-format" in problem.fix


def test_excel_serial_dates_are_recognised(tmp_path: Path) -> None:
    """Excel serial day numbers (41191.618252) are named as such, with how to export dates."""
    text = HEADER + "".join(f"T{i},{41191 + i}.618252,,P1,desk\n" for i in range(1, 6))
    problem = refused(write(tmp_path, "serial.csv", text)).problems[0]
    assert "Excel serial date" in problem.message and "'41192.618252'" in problem.message
    assert "2012-10-10 14:50" in problem.message  # what the first one means
    assert "Excel" in problem.fix and "date" in problem.fix


# -- 4. row numbers ------------------------------------------------------------------------------
def test_row_numbers_are_data_rows_around_skipped_rows(tmp_path: Path) -> None:
    """Every example in the quality report counts data rows (header excluded, skipped rows
    included): a malformed row before a duplicate does not shift the duplicate's number."""
    text = (
        HEADER
        + row(1)
        + "T2,2024-01-08 09:00,2024-01-08 11:00,P1,desk,extra\n"  # data row 2: malformed
        + row(3)
        + row(1)  # data row 4: a duplicate of row 1
        + "".join(row(i) for i in range(5, 41))
    )
    history = load_history(write(tmp_path, "rows.csv", text), "generic")
    malformed = history.quality.rule("malformed_rows")
    duplicates = history.quality.rule("duplicate_rows")
    assert malformed is not None and duplicates is not None
    assert malformed.examples[0]["row"] == 2
    assert duplicates.examples[0]["row"] == 4
    assert history.quality.rows_read == 40


# -- 5. a truncated last line --------------------------------------------------------------------
def test_truncated_last_line_says_the_file_looks_truncated(tmp_path: Path) -> None:
    """A last line cut short is skipped and reported as a truncated file, not as a delimiter
    problem."""
    text = HEADER + "".join(row(i) for i in range(1, 40)) + "T40,2024-01-08 09:00,2024-01"
    history = load_history(write(tmp_path, "cut.csv", text), "generic")
    rule = history.quality.rule("malformed_rows")
    assert rule is not None and rule.count == 1 and rule.examples[0]["row"] == 40
    assert "truncated" in rule.fix and "delimiter inside" not in rule.fix


def _sample_with(tmp_path: Path, change: dict[str, str], rows_of: str) -> Path:
    """The bundled sample with ``change`` (column → value) written into the rows of ticket
    ``rows_of`` ("middle": one row in the middle of the file)."""
    import pyarrow as pa
    import pyarrow.csv as pacsv

    from simkit.resources import calibration_dir

    times = ["opened_at", "sys_created_at", "sys_updated_at", "resolved_at", "closed_at"]
    table = pacsv.read_csv(
        calibration_dir() / "sample" / "servicenow_incidents.csv.gz",
        convert_options=pacsv.ConvertOptions(
            strings_can_be_null=False, column_types=dict.fromkeys(times, pa.string())
        ),
    )
    numbers = table["number"].to_pylist()
    chosen = (
        [len(numbers) // 2]
        if rows_of == "middle"
        else [i for i, n in enumerate(numbers) if n == rows_of]
    )
    for column, value in change.items():
        values = table[column].to_pylist()
        for i in chosen:
            values[i] = value
        table = table.set_column(table.column_names.index(column), column, pa.array(values))
    path = tmp_path / "changed.csv"
    pacsv.write_csv(table, path)
    return path


def test_a_mistyped_year_does_not_move_the_export_time(tmp_path: Path) -> None:
    """One update stamped 2061 instead of 2025: the export time stays the sample's, and the
    quality report names the row, the ticket and the value (it made 540 monthly periods)."""
    expected = load_history(
        Path(__file__).parents[1] / "calibration" / "sample" / "servicenow_incidents.csv.gz",
        "servicenow",
    ).observed_until
    path = _sample_with(tmp_path, {"sys_updated_at": "2061-03-01 10:00:00"}, "middle")
    history = load_history(path, "servicenow")
    assert history.observed_until == expected
    (late,) = [r for r in history.quality.rules if r.rule == "late_timestamps"]
    assert late.count == 1 and late.examples[0]["value"] == "2061-03-01 10:00:00"


def test_a_ticket_removed_by_cleaning_does_not_move_the_export_time(tmp_path: Path) -> None:
    """A ticket opened (by a clock error) months after its own resolution and after every other
    stamp is removed by cleaning; its opening no longer sets the export time."""
    expected = load_history(
        Path(__file__).parents[1] / "calibration" / "sample" / "servicenow_incidents.csv.gz",
        "servicenow",
    ).observed_until
    changed = {"opened_at": "01/09/2025 10:00:00", "sys_created_at": "01/09/2025 10:00:00"}
    history = load_history(_sample_with(tmp_path, changed, "INC0010001"), "servicenow")
    assert "INC0010001" not in history.tickets["source_id"].to_pylist()
    assert history.observed_until == expected


def test_a_ticket_updated_months_after_the_others_is_no_typo(tmp_path: Path) -> None:
    """An export of tickets opened in a range, one of them updated 76 days after every other:
    that update is the export time, and nothing is reported as a typo (a year mistyped lies
    300 days or more beyond)."""
    path = _sample_with(tmp_path, {"sys_updated_at": "2025-09-20 10:00:00"}, "middle")
    history = load_history(path, "servicenow")
    assert history.quality.count("late_timestamps") == 0
    assert str(history.observed_until).startswith("2025-09-20T")


def test_a_row_set_aside_as_a_repeated_ticket_does_not_move_the_export_time(
    tmp_path: Path,
) -> None:
    """A flat export repeating a ticket number keeps the ticket's latest row; the earlier row,
    set aside, no longer sets the export time with its own (later) closing time."""
    header = "number,opened_at,priority,incident_state,assignment_group,resolved_at,closed_at"
    rows = [
        "INC1,2025-01-06 09:00:00,3 - Moderate,Closed,desk,2025-01-06 12:00:00,"
        "2025-04-01 12:00:00,2025-01-06 13:00:00",  # set aside: updated before the next
        "INC1,2025-01-06 09:00:00,3 - Moderate,Closed,desk,2025-01-06 12:00:00,"
        "2025-01-07 12:00:00,2025-01-07 12:00:00",
        "INC2,2025-01-08 09:00:00,3 - Moderate,Closed,desk,2025-01-08 11:00:00,"
        "2025-01-09 11:00:00,2025-01-09 11:00:00",
    ]
    path = tmp_path / "flat.csv"
    path.write_text("\n".join([header + ",sys_updated_at", *rows]) + "\n", encoding="utf-8")
    history = load_history(path, "servicenow")
    assert history.quality.count("duplicate_tickets") == 1
    assert history.tickets["source_id"].to_pylist() == ["INC1", "INC2"]
    assert str(history.observed_until).startswith("2025-01-09T11:00")
