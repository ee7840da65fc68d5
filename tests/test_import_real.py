"""The real public ticket logs in ../shared/data load with plausible counts (skipped where the
folder is absent). Nothing from them is copied into the project."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest

from simkit.calibrate import History, load_history


def counts(table: pa.Table, name: str) -> dict[str, int]:
    return {r["values"]: r["counts"] for r in pc.value_counts(table[name]).to_pylist()}


def check_consistent(history: History) -> None:
    """Invariants every loaded history keeps."""
    t = history.tickets
    opened = t["opened_at"].cast(pa.int64()).to_numpy()
    resolved = t["resolved_at"].cast(pa.int64()).fill_null(np.iinfo(np.int64).max).to_numpy()
    assert (resolved >= opened).all()
    assert t["ticket_id"].to_pylist() == list(range(t.num_rows))
    assert np.all(np.diff(opened) >= 0), "tickets are numbered in opening order"
    assert pc.count_distinct(t["source_id"]).as_py() == t.num_rows
    v = history.visits
    assigned = v["assigned_at"].cast(pa.int64()).to_numpy()
    finished = v["finished_at"].cast(pa.int64()).fill_null(np.iinfo(np.int64).max).to_numpy()
    assert (finished >= assigned).all()
    limit = history.observed_until.astype(np.int64)
    assert opened.max() <= limit


def test_helpdesk_event_log(shared_data: Path) -> None:
    """The Italian help desk log: 21,348 events, 4,580 tickets, 2010–2014, four workgroups."""
    history = load_history(shared_data / "helpdesk_italian_sw_company" / "finale.csv", "helpdesk")
    check_consistent(history)
    q = history.quality
    assert q.rows_read == 21_348
    assert history.tickets.num_rows == 4_580
    assert q.removed_tickets == 0
    assert q.count("duplicate_rows") > 0
    assert set(counts(history.tickets, "priority")) <= {"S1", "S2", "S3", "S4"}
    assert set(counts(history.visits, "team")) == {"Value 1", "Value 2", "Value 3", "Value 4"}
    assert q.count("still_open") < 0.01 * history.tickets.num_rows
    assert history.pauses.num_rows > 1_000  # the 'Wait' activity
    assert str(history.observed_until) == "2014-01-03T12:20:58.000000"  # 13:20:58 in Rome
    assert str(history.first_opened)[:10] == "2010-01-13"


def test_bpic2013_volvo(shared_data: Path) -> None:
    """BPIC 2013: 65,533 events, 7,554 incidents, about 650 support groups, impact as
    priority, 'Wait - User' as pauses."""
    history = load_history(
        shared_data / "bpic2013_volvo_it" / "bpi_challenge_2013_incidents.xes.gz", "bpic2013"
    )
    check_consistent(history)
    assert history.quality.rows_read == 65_533
    assert history.tickets.num_rows == 7_554
    priorities = counts(history.tickets, "priority")
    assert set(priorities) == {"P1", "P2", "P3", "P4"}
    assert priorities["P3"] > priorities["P2"] > priorities["P1"]
    teams = pc.count_distinct(history.visits["team"]).as_py()
    assert 600 <= teams <= 649
    reasons = counts(history.pauses, "reason")
    assert reasons["Wait - User"] > 3_000
    opened = history.tickets["opened_at"].cast(pa.int64()).to_numpy().view("datetime64[us]")
    spring = (opened >= np.datetime64("2012-04-01")) & (opened < np.datetime64("2012-06-01"))
    assert spring.mean() > 0.9  # 96% of the cases opened April–May 2012


@pytest.mark.slow
@pytest.mark.parametrize(
    ("name", "tickets"),
    [
        ("test_BPI_2014_Incident_Activity.xes.gz", 9_323),
        ("val_BPI_2014_Incident_Activity.xes.gz", None),
    ],
)
def test_bpic2014_rabobank(shared_data: Path, name: str, tickets: int | None) -> None:
    """BPIC 2014 incident activity: start/complete pairs reduced to one event each, the
    '+00:00' clock times read as Dutch local time, Assignment Group per activity."""
    history = load_history(shared_data / "bpic2014_rabobank_itil" / name, "bpic2014")
    check_consistent(history)
    q = history.quality
    assert q.count("filtered_rows") == q.rows_read // 2
    if tickets is not None:
        assert history.tickets.num_rows == tickets
    else:
        assert 6_000 < history.tickets.num_rows < 9_000
    assert pc.count_distinct(history.visits["team"]).as_py() > 100
    assert counts(history.tickets, "priority") == {"unprioritised": history.tickets.num_rows}
    if tickets is not None:
        row = history.tickets.filter(pc.equal(history.tickets["source_id"], "IM0014984"))
        opened = row["opened_at"].cast(pa.int64()).to_numpy().view("datetime64[us]")[0]
        assert opened == np.datetime64("2013-11-19T11:19:43", "us")  # 12:19:43 CET
