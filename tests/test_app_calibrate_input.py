"""The Calibrate page on awkward uploads, driven headless with streamlit's AppTest: a message
naming the upload and worded in the page's own controls, never a traceback; targets the history
cannot hold are left out of the fit and said so."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("streamlit")
import pyarrow as pa
import pyarrow.csv as pv
import pyarrow.parquet as pq
from streamlit.testing.v1 import AppTest

from simkit.errors import InputError

ROOT = Path(__file__).resolve().parent.parent
APP = str(ROOT / "app" / "streamlit_app.py")
SAMPLE = ROOT / "calibration" / "sample" / "servicenow_incidents.csv.gz"
EXPANDER = "Time zone, date format, columns"


@pytest.fixture(autouse=True)
def light_runs(monkeypatch: pytest.MonkeyPatch) -> None:
    """Serial runs of 2 replications: light enough for a test suite."""
    monkeypatch.setenv("SIMKIT_APP_WORKERS", "0")
    monkeypatch.setenv("SIMKIT_APP_REPLICATIONS", "2")


@pytest.fixture(scope="module")
def sample() -> pa.Table:
    """The bundled ServiceNow sample as a table of strings."""
    names = pv.read_csv(SAMPLE).column_names
    options = pv.ConvertOptions(column_types=dict.fromkeys(names, pa.string()))
    return pv.read_csv(SAMPLE, convert_options=options)


def calibrate_page() -> AppTest:
    at = AppTest.from_file(APP, default_timeout=180)
    at.run()
    at.switch_page("app_pages/calibrate.py").run()
    return at


def upload(at: AppTest, name: str, data: bytes) -> AppTest:
    radio = next(r for r in at.radio if r.label == "History")
    radio.set_value("upload an export").run()
    at.file_uploader(key="history_upload").set_value((name, data, "application/octet-stream"))
    return at.run()


def errors(at: AppTest) -> str:
    return "\n".join(e.value for e in at.error)


def assert_clean(at: AppTest) -> None:
    assert not at.exception, [e.value for e in at.exception]


def replaced(table: pa.Table, name: str, values: Any) -> pa.Table:
    return table.set_column(table.column_names.index(name), name, values)


def as_parquet(table: pa.Table) -> bytes:
    buffer = io.BytesIO()
    pq.write_table(table, buffer)
    return buffer.getvalue()


def as_csv(table: pa.Table) -> bytes:
    buffer = io.BytesIO()
    pv.write_csv(table, buffer)
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("column", "values", "kind"),
    [
        ("priority", lambda n: pa.array([{"a": 1}] * n), "struct<a: int64>"),
        ("opened_at", lambda n: pa.array([[1, 2]] * n, pa.list_(pa.int64())), "list<"),
    ],
)
def test_parquet_with_a_nested_column_gives_a_message(
    sample: pa.Table, column: str, values: Any, kind: str
) -> None:
    """A Parquet upload whose priority is a struct (or opened_at a list) is refused with a
    message naming the upload, the column and its type — not an Arrow cast traceback."""
    data = as_parquet(replaced(sample, column, values(sample.num_rows)))
    at = upload(calibrate_page(), "nested_export.parquet", data)
    assert_clean(at)
    text = errors(at)
    assert "nested_export.parquet" in text
    assert f"'{column}'" in text and kind in text
    assert "expected" in text


def test_priorities_unlike_the_scenario_s_leave_its_targets_out_and_say_so(
    sample: pa.Table,
) -> None:
    """An export whose priorities are all "Urgent", measured against the corporate desk
    (customer and corporate targets for P1, P4), is fitted without those targets, and the page
    says which targets were left out and why."""
    data = as_csv(replaced(sample, "priority", pa.array(["Urgent"] * sample.num_rows)))
    at = calibrate_page()
    at = upload(at, "urgent_export.csv", data)
    assert_clean(at)
    assert not at.error, errors(at)
    # an upload is measured against the session's scenario unless the user picks the sample's
    # (the page was first drawn with the sample, whose default is the sample's scenario)
    (targets,) = [s for s in at.selectbox if s.label == "Targets to measure against"]
    assert targets.value == "the session's scenario"
    assert any("urgent_export.csv" in s.value for s in at.success)
    warning = "\n".join(w.value for w in at.warning)
    assert "left out" in warning
    assert "corporate level" in warning and "customer finance" in warning
    assert "Urgent" in warning


def test_missing_column_message_names_the_upload_and_the_page_s_controls() -> None:
    """An upload lacking the ticket column: the message names the upload, and its fix points
    at the page's column boxes, not at a command-line flag."""
    at = upload(calibrate_page(), "my_tickets.csv", b"id,when\n1,2024-01-08 09:00\n")
    assert_clean(at)
    text = errors(at)
    assert "my_tickets.csv" in text
    assert EXPANDER in text and "“ticket”" in text
    assert "--column" not in text


def test_bad_override_is_worded_as_the_page_s_field(sample: pa.Table) -> None:
    """An unknown time zone or date format typed on the page: the message names the page's
    field and the upload, with no 'command-line override' and no pointer to the docs."""
    at = upload(calibrate_page(), "zone_export.csv", as_csv(sample.slice(0, 200)))
    at.text_input(key="calibrate:tz").set_value("Mars/Olympus").run()
    assert_clean(at)
    text = errors(at)
    assert "zone_export.csv" in text and "Mars/Olympus" in text
    assert "Time zone of the export's clock times" in text and EXPANDER in text
    assert "IANA name such as Europe/London" in text  # no likely name: the general advice
    at.text_input(key="calibrate:tz").set_value("Europe/Londn").run()
    text = errors(at)
    assert "did you mean Europe/London? Correct “Time zone" in text, text
    assert "command-line" not in text and "docs/calibration.md" not in text
    at.text_input(key="calibrate:tz").set_value("").run()
    at.text_input(key="calibrate:fmt").set_value("%d").run()
    assert_clean(at)
    text = errors(at)
    assert "Date format" in text and EXPANDER in text
    assert "command-line" not in text and "docs/calibration.md" not in text


def test_quality_fixes_name_the_page_s_fields_not_flags(sample: pa.Table) -> None:
    """The data-quality table's fixes (timestamps no format reads) name the page's fields,
    not --date-format / --timezone."""
    dates = sample["opened_at"].to_pylist()
    dates[:5] = ["not a date"] * 5
    at = upload(
        calibrate_page(), "dates.csv", as_csv(replaced(sample, "opened_at", pa.array(dates)))
    )
    assert_clean(at)
    fixes = [
        fix
        for frame in at.dataframe
        if "fix" in frame.value.columns
        for fix in frame.value["fix"].tolist()
    ]
    assert any("Date format" in fix for fix in fixes), fixes
    assert not any("--date-format" in fix or "--timezone" in fix for fix in fixes), fixes


def test_not_gzip_upload_says_so() -> None:
    """A .gz upload that is not gzip: the message says so first, naming the upload."""
    at = upload(calibrate_page(), "export.csv.gz", b"this is not gzip\n")
    assert_clean(at)
    text = errors(at)
    assert "export.csv.gz" in text and "not gzip-compressed" in text


def test_an_upload_s_name_stays_in_its_session(sample: pa.Table) -> None:
    """Two sessions upload the same export under different names: each fit is named after its
    own upload, although the fits are cached by content and shared between sessions."""
    data = as_csv(sample)
    alice = upload(calibrate_page(), "alice-confidential.csv", data)
    assert_clean(alice)
    assert any("alice-confidential.csv" in s.value for s in alice.success)
    bob = upload(calibrate_page(), "bob.csv", data)
    assert_clean(bob)
    fitted = "\n".join(s.value for s in bob.success)
    assert "bob.csv" in fitted and "alice" not in fitted, fitted


@pytest.mark.parametrize(
    ("name", "data", "expected"),
    [
        ("export.parquet", b"hello world this is not parquet\n", "named .parquet but is not"),
        ("export.xes", b"this is not xml <<<\n", "named .xes but is not"),
        ("export.xes", b"<log/>", "holds no events"),
    ],
)
def test_not_parquet_or_xes_upload_says_so(name: str, data: bytes, expected: str) -> None:
    """A .parquet / .xes upload that is not one (or an XES log with no events): the message
    says so first, naming the upload — not 'column … not found; the export has …'."""
    at = upload(calibrate_page(), name, data)
    assert_clean(at)
    text = errors(at)
    assert name in text and expected in text
    assert text.index(expected) < text.find("not found") or "not found" not in text


# Outage records: components fitted beside the history


def outage_csv(rows: list[tuple[str, str, str]]) -> bytes:
    lines = ["start,end,service"] + [",".join(row) for row in rows]
    return ("\n".join(lines) + "\n").encode("utf-8")


def test_outage_records_become_fitted_components() -> None:
    """Outage records uploaded beside the bundled sample: payroll's unplanned outages become a
    component with MTBF and MTRS in the Fitted tab and in the fitted YAML; the sample's
    scenario gives payroll its availability target, which now depends on the component."""
    rows = [
        (f"2025-0{m}-1{d} 10:00", f"2025-0{m}-1{d} 12:00", "payroll")
        for m in range(1, 6)
        for d in (2, 6)
    ]
    at = calibrate_page()
    at.file_uploader(key="outage_upload").set_value(
        ("outages.csv", outage_csv(rows), "text/csv")
    ).run()
    assert_clean(at)
    assert not at.error, errors(at)
    assert any("10 outages read from outages.csv" in c.value for c in at.caption)
    frames = [f.value for f in at.dataframe if "MTBF" in f.value.columns]
    assert frames, "no components table"
    components = frames[0]
    assert list(components["outages"]) == [10]
    assert list(components["MTRS"]) == ["2.0h"]
    yaml_text = at.code[-1].value
    assert "components:" in yaml_text and "MTRS 2.00 h" in yaml_text
    # measured against the session's scenario (the desk: payroll at 99.9%), the service review
    # measures payroll's availability on the records: 10 outages of 2 h
    targets = next(s for s in at.selectbox if s.label == "Targets to measure against")
    targets.set_value("the session's scenario").run()
    assert_clean(at)
    assert not at.error, errors(at)
    reviewed = [f.value for f in at.dataframe if "availability" in f.value.columns]
    assert reviewed, "no availability review"
    payroll = reviewed[0].set_index("service").loc["payroll"]
    assert payroll["target"] == "99.90%" and payroll["MTRS"] == "2.0h"


def test_unreadable_outage_records_are_said_so_and_the_fit_goes_on() -> None:
    """A file without a start column: the message names the upload and its columns, and the
    history is still fitted (without components)."""
    at = calibrate_page()
    at.file_uploader(key="outage_upload").set_value(
        ("my_outages.csv", b"began,ended\n2025-01-02 10:00,2025-01-02 11:00\n", "text/csv")
    ).run()
    assert_clean(at)
    message = errors(at)
    assert "my_outages.csv" in message and "no column 'start'" in message
    assert "began, ended" in message
    assert "fitted without them" in message
    assert any("Fitted:" in s.value for s in at.success)
    assert not [f for f in at.dataframe if "MTBF" in f.value.columns]


def test_a_binary_outage_upload_is_worded_for_outage_records() -> None:
    """A binary file uploaded as outage records: the message speaks of an outage file (the
    readers' words are for ticket exports, and name XES, which this uploader does not take)."""
    at = calibrate_page()
    at.file_uploader(key="outage_upload").set_value(
        ("binary.csv", bytes(range(256)) * 8, "text/csv")
    ).run()
    assert_clean(at)
    message = errors(at)
    assert "binary.csv" in message and "binary" in message
    assert "outage file" in message and "save the outage records as CSV (or Parquet)" in message
    assert "ticket" not in message and "XES" not in message
    assert any("Fitted:" in s.value for s in at.success)


def test_outage_records_without_a_service_name_one_in_the_page() -> None:
    """A file without a service column, beside a history of two services: the fix points at
    the page's box, not a command-line flag; filling the box reads it."""
    at = calibrate_page()
    data = b"start,end\n2025-02-03 10:00,2025-02-03 11:00\n2025-03-03 10:00,2025-03-03 12:00\n"
    at.file_uploader(key="outage_upload").set_value(("plain.csv", data, "text/csv")).run()
    assert_clean(at)
    message = errors(at)
    assert "Service of every outage" in message and "--outage-service" not in message
    at.text_input(key="calibrate:outage_service").set_value("payroll").run()
    assert_clean(at)
    assert not at.error, errors(at)
    assert any("2 outages read from plain.csv" in c.value for c in at.caption)


def test_an_outage_date_format_typo_is_said_in_the_page() -> None:
    """A date format simkit cannot read: the message names the page's box, the fit goes on."""
    at = calibrate_page()
    at.text_input(key="calibrate:outage_format").set_value("%d/%m %H:%M").run()
    at.file_uploader(key="outage_upload").set_value(
        (
            "outages.csv",
            outage_csv([("2025-02-03 10:00", "2025-02-03 11:00", "payroll")]),
            "text/csv",
        )
    ).run()
    assert_clean(at)
    message = errors(at)
    assert "outages.csv" in message and "needs a year" in message
    assert any("Fitted:" in s.value for s in at.success)


def test_outage_records_the_fit_cannot_take_are_said_so_and_left_out() -> None:
    """201 named components (a scenario holds at most 200): said so in the page, and the history
    is fitted without the records rather than the page failing."""
    rows = [
        f"2025-02-{1 + k % 27:02d} 10:00,2025-02-{1 + k % 27:02d} 10:30,payroll,server {k}"
        for k in range(201)
    ]
    data = ("start,end,service,component\n" + "\n".join(rows) + "\n").encode()
    at = calibrate_page()
    at.file_uploader(key="outage_upload").set_value(("servers.csv", data, "text/csv")).run()
    assert_clean(at)
    message = errors(at)
    assert "201 components" in message and "fitted without them" in message
    assert any("Fitted:" in s.value for s in at.success)
    assert not [f for f in at.dataframe if "MTBF" in f.value.columns]


def test_the_outage_boxes_are_kept_with_the_file_across_pages() -> None:
    """The service named for a file without a service column is kept, like the file, when the
    user visits another page and comes back: the records are still read, not refused."""
    at = calibrate_page()
    data = b"start,end\n2025-02-03 10:00,2025-02-03 11:00\n2025-03-03 10:00,2025-03-03 12:00\n"
    at.text_input(key="calibrate:outage_service").set_value("payroll").run()
    at.file_uploader(key="outage_upload").set_value(("plain.csv", data, "text/csv")).run()
    assert not at.error, errors(at)
    at.switch_page("app_pages/ola.py").run()
    at.switch_page("app_pages/calibrate.py").run()
    assert_clean(at)
    assert not at.error, errors(at)
    assert any("2 outages read from plain.csv" in c.value for c in at.caption)
    assert any("uploaded earlier" in i.value for i in at.info)


def test_what_reading_the_outages_set_aside_is_shown() -> None:
    """Rows whose times no format reads are removed and listed with examples; with none left,
    the page warns that it fits without outage records."""
    at = calibrate_page()
    data = outage_csv(
        [("soon", "later", "payroll"), ("2025-02-03 10:00", "2025-02-03 11:00", "payroll")]
    )
    at.file_uploader(key="outage_upload").set_value(("some.csv", data, "text/csv")).run()
    assert_clean(at)
    captions = " ".join(c.value for c in at.caption)
    assert "start times no format could read: 1 rows (removed)" in captions
    assert "'soon'" in captions and "Date format of the outage records" in captions
    at.file_uploader(key="outage_upload").set_value(
        ("none.csv", outage_csv([("soon", "later", "payroll")]), "text/csv")
    ).run()
    assert_clean(at)
    assert any("No outage could be read from none.csv" in w.value for w in at.warning)


def test_outage_messages_speak_of_outage_records_and_this_page_s_limit() -> None:
    """The readers' messages are written for ticket exports and the command line: on this page
    an outage file's size refusal names the page's own limit, not --max-bytes."""
    import sys

    from simkit.errors import Problem

    if str(ROOT / "app") not in sys.path:  # as the app's entry point puts it (app_support)
        sys.path.insert(0, str(ROOT / "app"))
    import outage_upload

    too_large = Problem(
        file="/tmp/simkit-outages-x/outages.csv.gz",
        line=None,
        path="",
        message="the export is too large: decompressed, it is more than the limit of 100.0 MB",
        fix="raise the limit (--max-bytes / max_bytes=) if the file is genuine, or export a "
        "shorter period",
    )
    error = outage_upload.page_problems(
        InputError([too_large]), "big.csv.gz", "/tmp/simkit-outages-x"
    )
    (problem,) = error.problems
    assert problem.file == "big.csv.gz"
    assert "the outage file is too large" in problem.message
    assert "--max-bytes" not in problem.fix and "100 MB" in problem.fix
