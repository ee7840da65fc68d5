"""Validation against a real queue: the "Anonymous Bank" call centre, February 1999.

The model is built from the log alone (arrivals per hour of week, handling times per hour of day,
patience by censored maximum likelihood, agents on the floor and their shrinkage; see
tests/callcenter_data.py) and its mean wait of answered calls and abandonment share per hour of
day, Sunday to Thursday, are compared with the records. docs/validation.md gives the method, the
figures and what does not match.

Criteria (docs/validation.md gives the figures behind each):

- per hour, agreement means |simulated − recorded| ≤ 2 combined standard errors, where the
  records' standard error treats the 20 working days as independent samples and the simulation's
  treats each simulated day as one;
- the mean wait agrees in at least 80% of the compared hours; abandonment, which the model
  over-predicts at the quiet ends of the day, in at least two thirds;
- over the whole day both figures are within 25% of the records — about the effect of a 10% error
  in capacity (docs/validation.md, variants table);
- a model fed the head count of agents seen per hour, without shrinkage, fails those criteria:
  they can tell a wrong capacity from a right one.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import yaml
from callcenter_data import (
    COLUMNS,
    LOG_FILE,
    Figures,
    Measured,
    QueueCalls,
    agents_seen,
    bank_scenario,
    compared_hours,
    figures,
    floor_from_log,
    measured_records,
    measured_simulation,
    queue_calls,
    read_call_log,
    z_scores,
)

from simkit.runner import Results, simulate
from simkit.scenario import parse_scenario

REPLICATIONS = 20
SEED = 1999
Z = 2.0
WAIT_HOURS_AGREEING = 0.8
ABANDONED_HOURS_AGREEING = 2 / 3
LEVEL_TOLERANCE = 0.25


@pytest.fixture(scope="module")
def calls(shared_data: Path) -> QueueCalls:
    return queue_calls(read_call_log(shared_data))


@pytest.fixture(scope="module")
def records(calls: QueueCalls) -> Figures:
    return figures(measured_records(calls))


def run(calls: QueueCalls, agents: np.ndarray, shrinkage: float) -> tuple[Results, Measured]:
    scenario = parse_scenario(
        yaml.safe_dump(
            bank_scenario(calls, agents, shrinkage, replications=REPLICATIONS, seed=SEED)
        ),
        file="callcenter",
    )
    results = simulate(scenario, replications=REPLICATIONS, seed=SEED)
    assert not results.failures, results.failures[0].detail
    return results, measured_simulation(results.visits, results.tickets, REPLICATIONS)


@pytest.fixture(scope="module")
def model(calls: QueueCalls) -> tuple[Results, Measured]:
    floor = floor_from_log(calls)
    return run(calls, floor.present, floor.shrinkage)


def agreeing_hours(records: Figures, simulated: Figures, hours: list[int]) -> tuple[float, float]:
    """Shares of ``hours`` whose mean wait, and abandonment, agree within ``Z`` standard errors."""
    wait = np.abs(z_scores(records.wait, simulated.wait, hours)) <= Z
    abandoned = np.abs(z_scores(records.abandoned, simulated.abandoned, hours)) <= Z
    return float(wait.mean()), float(abandoned.mean())


def level_errors(records: Figures, simulated: Figures) -> tuple[float, float]:
    """Relative errors of the whole-day mean wait and abandonment share."""
    return (
        simulated.wait_all[0] / records.wait_all[0] - 1.0,
        simulated.abandoned_all[0] / records.abandoned_all[0] - 1.0,
    )


def table(records: Figures, simulated: Figures, hours: list[int]) -> str:
    """The per-hour comparison, for failure messages."""
    zw = z_scores(records.wait, simulated.wait, hours)
    za = z_scores(records.abandoned, simulated.abandoned, hours)
    return "\n".join(
        f"{h:02d}h wait {records.wait.value[h]:5.1f} vs {simulated.wait.value[h]:5.1f} (z {w:+.1f})"
        f"  abandoned {records.abandoned.value[h]:.3f} vs {simulated.abandoned.value[h]:.3f}"
        f" (z {a:+.1f})"
        for h, w, a in zip(hours, zw, za, strict=True)
    )


HEADER = "\t".join(COLUMNS)


def write_log(folder: Path, *rows: str) -> Path:
    """A made-up log in the shape of the bank's (tabs, CRLF line ends)."""
    path = folder / LOG_FILE
    path.parent.mkdir(parents=True)
    path.write_bytes("\r\n".join([HEADER, *rows, ""]).encode("ascii"))
    return folder


def row(cells: str) -> str:
    """One made-up row, written with spaces here and tabs in the file."""
    return "\t".join(cells.split())


GOOD = "AA01 1 0 0 PS 990201 7:00:00 7:00:10 10 0:00:00 0:00:00 0 AGENT 7:00:10 7:02:10 120 ANNA"


def test_the_loader_keeps_queued_and_answered_calls_and_counts_what_it_drops(
    tmp_path: Path,
) -> None:
    """Answered calls and calls abandoned in the queue are kept; a phantom call and a caller who
    hung up in the voice menu are dropped and counted; a call leaving the menu just after
    midnight belongs to the next day."""
    folder = write_log(
        tmp_path,
        row(GOOD),
        row(
            "AA01 2 5 2 PS 990201 8:00:00 8:00:05 5 8:00:05 8:01:05 60 HANG 0:00:00 0:00:00 0 NO_SERVER"
        ),
        row(
            "AA01 3 0 0 NW 990201 9:00:00 9:00:20 20 0:00:00 0:00:00 0 HANG 0:00:00 0:00:00 0 NO_SERVER"
        ),
        row(
            "AA01 4 0 0 PS 990201 9:30:00 9:30:05 5 9:30:05 9:30:30 25 PHANTOM 9:30:30 9:30:40 10 NO_SERVER"
        ),
        row(
            "AA01 5 7 1 PS 990202 23:59:58 0:00:03 5 0:00:03 0:00:13 10 AGENT 0:00:13 0:01:13 60 BEN"
        ),
    )
    calls = queue_calls(read_call_log(folder))
    assert calls.arrival_s.tolist() == [7 * 3600 + 10, 8 * 3600 + 5, 2 * 86_400 + 3]
    assert calls.answered.tolist() == [True, False, True]
    assert calls.wait_s.tolist() == [0, 60, 10]
    assert calls.handle_s.tolist() == [120, 0, 60]
    assert calls.direct.tolist() == [True, False, False]
    assert sorted(calls.dropped.values()) == [1, 1]


@pytest.mark.parametrize(
    ("cell", "value", "message"),
    [
        (7, "7:0x:10", "vru_exit is not a time"),
        (5, "990230", "date is not YYMMDD"),
        (5, "990301", "date outside February 1999"),
        (12, "TRANSFER", "unknown outcome"),
        (15, "1.5", "ser_time is not a whole number"),
    ],
)
def test_the_loader_refuses_an_unreadable_row_with_its_line(
    tmp_path: Path, cell: int, value: str, message: str
) -> None:
    """A malformed time, date, outcome or number is refused, naming the line; nothing is
    dropped silently."""
    cells = GOOD.split()
    cells[cell] = value
    folder = write_log(tmp_path, row(GOOD), row(" ".join(cells)))
    with pytest.raises(ValueError, match=rf"line 3: {message}"):
        read_call_log(folder)


def test_every_row_of_the_log_is_kept_or_dropped_for_a_counted_reason(
    calls: QueueCalls, shared_data: Path
) -> None:
    """The calls kept plus the rows dropped by reason are exactly the rows of the file; the kept
    calls cover the whole month and every one has a non-negative wait."""
    text = (shared_data / LOG_FILE).read_text(encoding="ascii")
    rows = sum(1 for line in text.splitlines()[1:] if line.strip())
    assert calls.arrival_s.size + sum(calls.dropped.values()) == rows
    assert set(np.unique(calls.day).tolist()) == set(range(28))
    assert (calls.wait_s >= 0).all() and (calls.handle_s >= 0).all()


@pytest.mark.slow
def test_simulated_wait_and_abandonment_match_the_records_hour_by_hour(
    records: Figures, model: tuple[Results, Measured]
) -> None:
    """Sunday to Thursday, in the hours with at least 10 calls a day: the simulated mean wait of
    answered calls agrees with the records within 2 combined standard errors in at least 80% of
    the hours, and the abandonment share in at least two thirds."""
    simulated = figures(model[1])
    hours = compared_hours(records)
    assert len(hours) >= 15, hours
    wait, abandoned = agreeing_hours(records, simulated, hours)
    detail = table(records, simulated, hours)
    assert wait >= WAIT_HOURS_AGREEING, detail
    assert abandoned >= ABANDONED_HOURS_AGREEING, detail


@pytest.mark.slow
def test_whole_day_wait_and_abandonment_are_within_a_quarter_of_the_records(
    records: Figures, model: tuple[Results, Measured]
) -> None:
    """Over every hour of the working days, the simulated mean wait and abandonment share are
    each within 25% of the recorded ones."""
    simulated = figures(model[1])
    wait, abandoned = level_errors(records, simulated)
    shown = (
        f"wait {records.wait_all[0]:.1f} s vs {simulated.wait_all[0]:.1f} s, abandoned "
        f"{records.abandoned_all[0]:.3f} vs {simulated.abandoned_all[0]:.3f}"
    )
    assert abs(wait) <= LEVEL_TOLERANCE, shown
    assert abs(abandoned) <= LEVEL_TOLERANCE, shown


@pytest.mark.slow
def test_the_validation_reads_the_simulation_as_simkit_measures_it(
    model: tuple[Results, Measured],
) -> None:
    """The wait and abandonment read from the visits here are the team figures of simkit's own
    summary over the same measured span (one measurement path)."""
    results, measured = model
    (team,) = results.summary()["teams"]
    wait_h = measured.wait_s[measured.answered].mean() / 3600.0
    assert team["wait_h"]["mean"] == pytest.approx(wait_h, rel=1e-9)
    assert team["abandoned"] == pytest.approx((~measured.answered).mean(), rel=1e-12)


@pytest.mark.slow
def test_a_head_count_without_shrinkage_fails_the_validation(
    calls: QueueCalls, records: Figures
) -> None:
    """Fed the number of different agents seen each hour and no shrinkage, the model answers far
    too fast: the whole-day wait misses by more than 25% and under 80% of the hours agree — the
    criteria above have the power to reject a wrong capacity."""
    _, measured = run(calls, agents_seen(calls), 0.0)
    simulated = figures(measured)
    hours = compared_hours(records)
    wait_error, _ = level_errors(records, simulated)
    wait_share, _ = agreeing_hours(records, simulated, hours)
    assert wait_error < -LEVEL_TOLERANCE, table(records, simulated, hours)
    assert wait_share < WAIT_HOURS_AGREEING, table(records, simulated, hours)
