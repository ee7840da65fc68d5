"""Figures over replications: the sla / ola / teams / periods rows of the JSON contract."""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from simkit.calendar import Calendar
from simkit.measure import (
    MeasureSpec,
    OlaTarget,
    SlaTarget,
    SmallSample,
    period_meets,
    summarize,
)
from simkit.stats import clustered_wilson_interval, mean_interval

TS = pa.timestamp("us", "UTC")
ALWAYS = Calendar.from_spec("always", "UTC")
HOUR = np.timedelta64(3_600_000_000, "us")
MONDAY = np.datetime64("2027-01-04T00:00", "us")  # start of ISO week 2027-W01

SLA_KEYS = {
    "level", "service", "customer", "priority", "metric", "within_h", "calendar", "goal",
    "tickets", "open", "compliance", "p_period_met", "mean_h", "quantiles_h",
}  # fmt: skip
OLA_KEYS = {
    "team", "kind", "priority", "metric", "within_h", "calendar", "goal", "tickets", "open",
    "compliance", "p_period_met", "mean_h", "quantiles_h",
}  # fmt: skip
TEAM_KEYS = {"team", "utilization", "wait_h", "abandoned"}
PERIOD_KEYS = {
    "period", "level", "service", "customer", "priority", "metric", "compliance", "p_met",
    "tickets", "full",
}  # fmt: skip


def tickets_table(
    replication: list[int],
    opened_h: list[float],
    resolve_h: list[float | None],
    priority: list[str] | None = None,
) -> pa.Table:
    """Tickets opened ``opened_h`` hours after Monday 4 January 2027 and resolved ``resolve_h``
    hours later (``None``: still open)."""
    n = len(replication)
    opened = MONDAY + (np.array(opened_h) * HOUR).astype("timedelta64[us]")
    resolved = np.array(
        [o + np.timedelta64(int(h * 3_600_000_000), "us") if h is not None else np.datetime64("NaT")
         for o, h in zip(opened, resolve_h, strict=True)],
        dtype="datetime64[us]",
    )  # fmt: skip
    return pa.table(
        {
            "ticket_id": pa.array(np.arange(n), pa.int64()),
            "service": pa.array(["desk"] * n),
            "customer": pa.nulls(n, pa.string()),
            "priority": pa.array(priority or ["P3"] * n),
            "opened_at": pa.array(opened, TS),
            "first_response_at": pa.nulls(n, TS),
            "resolved_at": pa.array(resolved, TS),
            "reopened": pa.array([False] * n),
            "abandoned": pa.array([False] * n),
            "replication": pa.array(replication, pa.int32()),
        }
    )


def visits_table(rows: list[tuple[str, int, float, float | None, str]]) -> pa.Table:
    """Visits ``(team, replication, assigned_h, wait_h or None, outcome)``."""
    n = len(rows)
    assigned = MONDAY + (np.array([r[2] for r in rows]) * HOUR).astype("timedelta64[us]")
    started = np.array(
        [a + np.timedelta64(int(r[3] * 3_600_000_000), "us") if r[3] is not None
         else np.datetime64("NaT") for a, r in zip(assigned, rows, strict=True)],
        dtype="datetime64[us]",
    )  # fmt: skip
    return pa.table(
        {
            "ticket_id": pa.array(np.arange(n), pa.int64()),
            "team": pa.array([r[0] for r in rows]),
            "kind": pa.array(["team"] * n),
            "seq": pa.array(np.zeros(n, np.int32)),
            "assigned_at": pa.array(assigned, TS),
            "started_at": pa.array(started, TS),
            "finished_at": pa.array(started, TS),
            "outcome": pa.array([r[4] for r in rows]),
            "replication": pa.array([r[1] for r in rows], pa.int32()),
        }
    )


def sla(within_h: float = 4.0, goal: float = 0.9, **fields: Any) -> SlaTarget:
    base: dict[str, Any] = {
        "level": "service",
        "service": "desk",
        "customer": None,
        "priority": "P3",
        "metric": "resolve",
        "within_h": within_h,
        "calendar_name": "24x7",
        "calendar": ALWAYS,
        "goal": goal,
        "small_sample": None,
    }
    return SlaTarget(**{**base, **fields})


def spec(
    weeks: int = 2,
    replications: int = 1,
    targets: tuple[SlaTarget, ...] = (),
    ola: tuple[OlaTarget, ...] = (),
) -> MeasureSpec:
    """Weekly periods from Monday 4 January 2027, observed until the end of the horizon."""
    end = MONDAY + np.timedelta64(7 * weeks, "D")
    return MeasureSpec("UTC", "week", MONDAY, end, end, targets, ola, replications)


def empty_visits() -> pa.Table:
    return visits_table([])


def test_rows_have_exactly_the_contract_keys_and_are_json() -> None:
    """Every row carries the documented keys, plain JSON values, no NaN."""
    target = sla()
    ola = OlaTarget("desk", "ola", "respond", 1.0, "24x7", ALWAYS, 0.9)
    tickets = tickets_table([0, 0, 1], [1.0, 2.0, 3.0], [1.0, None, 9.0])
    visits = visits_table([("desk", 0, 1.0, 0.5, "resolved"), ("vendor", 1, 2.0, 0.0, "resolved")])
    team_stats = pa.table(
        {
            "team": ["desk", "desk", "vendor", "vendor"],
            "busy_h": [40.0, 60.0, 5.0, 7.0],
            "available_h": pa.array([100.0, 100.0, None, None], pa.float64()),
            "replication": pa.array([0, 1, 0, 1], pa.int32()),
        }
    )
    result = summarize(tickets, visits, None, team_stats, spec(2, 2, (target,), (ola,)))
    assert set(result) == {"sla", "ola", "teams", "periods"}
    assert set(result["sla"][0]) == SLA_KEYS
    assert set(result["ola"][0]) == OLA_KEYS
    assert all(set(row) == TEAM_KEYS for row in result["teams"])
    assert all(set(row) == PERIOD_KEYS for row in result["periods"])
    for row in [*result["sla"], *result["ola"]]:
        assert set(row["compliance"]) == {"mean", "lo", "hi"}
        assert set(row["p_period_met"]) == {"mean", "lo", "hi"}
        assert set(row["quantiles_h"]) == {"50", "80", "90", "95"}
    assert json.loads(json.dumps(result, allow_nan=False)) == result


def test_compliance_is_met_over_measured_per_replication_then_averaged() -> None:
    """Replication 0: 3 of 4 met; replication 1: 1 of 2 met (an open ticket is not measured);
    replication 2 measured nothing and is left out of the mean; tickets and open are means over
    all three replications."""
    tickets = tickets_table(
        [0, 0, 0, 0, 1, 1, 1],
        [1, 2, 3, 4, 1, 2, 334],  # the last one is 2 h old at the end
        [1.0, 2.0, 3.0, 5.0, 1.0, 6.0, None],
    )
    row = summarize(tickets, empty_visits(), None, None, spec(2, 3, (sla(),)))["sla"][0]
    assert row["compliance"] == mean_interval([0.75, 0.5], bounds=(0.0, 1.0)).as_dict()
    assert row["tickets"] == pytest.approx(6 / 3)
    assert row["open"] == pytest.approx(1 / 3)
    assert row["mean_h"] == pytest.approx(18.0 / 6)


def test_one_replication_has_no_compliance_interval() -> None:
    """History (one replication): a mean, lo and hi are null."""
    tickets = tickets_table([0, 0], [1, 2], [1.0, 5.0])
    row = summarize(tickets, empty_visits(), None, None, spec(2, 1, (sla(),)))["sla"][0]
    assert row["compliance"] == {"mean": 0.5, "lo": None, "hi": None}


def test_quantiles_are_inverted_cdf_and_infinite_ones_are_null() -> None:
    """Times 1, 2, 3, 5 h: the 50% quantile is 2 (the smallest time with F ≥ 0.5) and the 80%,
    90% and 95% quantiles are 5. With a ticket breached while open (+∞) in place of the 5 h one,
    those become null while the mean stays over the finite times."""
    closed = tickets_table([0, 0, 0, 0], [1, 2, 3, 4], [1.0, 2.0, 3.0, 5.0])
    row = summarize(closed, empty_visits(), None, None, spec(2, 1, (sla(),)))["sla"][0]
    assert row["quantiles_h"] == {"50": 2.0, "80": 5.0, "90": 5.0, "95": 5.0}
    breached_open = tickets_table([0, 0, 0, 0], [1, 2, 3, 4], [1.0, 2.0, 3.0, None])
    row = summarize(breached_open, empty_visits(), None, None, spec(2, 1, (sla(),)))["sla"][0]
    assert row["quantiles_h"] == {"50": 2.0, "80": None, "90": None, "95": None}
    assert row["mean_h"] == pytest.approx(2.0)
    assert row["open"] == 0.0 and row["tickets"] == 4.0


def test_p_period_met_counts_full_periods_only_with_a_clustered_wilson_interval() -> None:
    """Measured from Wednesday: week 1 is partial and excluded. Replication 0 meets weeks 2 and
    3, replication 1 meets week 2 only: 3 of 4 (replication, full period) pairs."""
    start = MONDAY + np.timedelta64(2, "D")
    end = MONDAY + np.timedelta64(21, "D")
    target = sla(goal=1.0)
    s = MeasureSpec("UTC", "week", start, end, end, (target,), (), 2)
    tickets = tickets_table(
        [0, 0, 0, 1, 1, 1],
        [60, 200, 400, 60, 200, 400],  # weeks 1, 2 and 3
        [9.0, 1.0, 1.0, 1.0, 1.0, 9.0],
    )
    result = summarize(tickets, empty_visits(), None, None, s)
    # clustered by replication: 2 of 2 and 1 of 2 (the periods of one run are not independent)
    assert result["sla"][0]["p_period_met"] == clustered_wilson_interval([2, 1], [2, 2]).as_dict()
    assert result["sla"][0]["p_period_met"]["mean"] == 0.75
    periods = result["periods"]
    assert [(p["period"], p["full"], p["p_met"], p["tickets"]) for p in periods] == [
        ("2027-W01", False, 0.5, 1.0),
        ("2027-W02", True, 1.0, 1.0),
        ("2027-W03", True, 0.5, 1.0),
    ]
    assert periods[0]["compliance"] == mean_interval([0.0, 1.0], bounds=(0.0, 1.0)).as_dict()


def test_small_sample_rule_lets_a_thin_period_meet_with_few_breaches() -> None:
    """10 tickets, 2 breached: 80% misses a 95% goal, but with {below: 40, max_breaches: 2} the
    period meets it; 3 breaches do not; a period of 40 tickets is judged on its share."""
    rule = SmallSample(below=40, max_breaches=2)
    meets, defined = period_meets(
        np.array([10, 10, 40, 40, 0]), np.array([8, 7, 38, 37, 0]), 0.95, rule
    )
    assert list(meets) == [True, False, True, False, True]
    assert list(defined) == [True, True, True, True, True]
    meets, defined = period_meets(np.array([10, 40, 0]), np.array([8, 38, 0]), 0.95, None)
    assert list(meets) == [False, True, False]
    assert list(defined) == [True, True, False]


def test_small_sample_rule_is_a_relief_never_a_hurdle() -> None:
    """A thin period that meets the goal is met whatever its breaches: 35 tickets with 3
    breaches is 91.4% of a 90% goal, met with the rule {below: 40, max_breaches: 2} as without
    it ("deemed met if no more than 2 breach" only adds a way to meet)."""
    rule = SmallSample(below=40, max_breaches=2)
    measured, met = np.array([35, 35, 10]), np.array([32, 31, 8])
    plain, _ = period_meets(measured, met, 0.9, None)
    ruled, _ = period_meets(measured, met, 0.9, rule)
    assert list(plain) == [True, False, False]
    assert list(ruled) == [True, False, True]
    assert all(ruled >= plain)


def test_small_sample_rule_in_the_summary() -> None:
    """Five tickets with one breach in a full week meet a 95% goal only under the rule."""
    tickets = tickets_table([0] * 5, [1, 2, 3, 4, 5], [1.0, 1.0, 1.0, 1.0, 9.0])
    plain = sla(goal=0.95)
    ruled = sla(goal=0.95, small_sample=SmallSample(40, 2))
    rows = summarize(tickets, empty_visits(), None, None, spec(1, 1, (plain, ruled)))["sla"]
    assert rows[0]["p_period_met"]["mean"] == 0.0
    assert rows[1]["p_period_met"]["mean"] == 1.0


def test_goal_exactly_reached_meets_the_period() -> None:
    """19 of 20 met is 95%: a 95% goal is met despite floating-point division."""
    meets, _ = period_meets(np.array([20, 100]), np.array([19, 95]), 0.95, None)
    assert list(meets) == [True, True]


def test_periods_after_the_horizon_are_reported_only_when_they_hold_tickets() -> None:
    """A ticket opened on the last day and resolved the following week makes a partial period
    after the horizon; an empty week after the horizon is not reported."""
    end = MONDAY + np.timedelta64(7, "D")
    observed = MONDAY + np.timedelta64(28, "D")
    s = MeasureSpec("UTC", "week", MONDAY, end, observed, (sla(within_h=48.0),), (), 1)
    tickets = tickets_table([0, 0], [10, 160], [1.0, 20.0])
    periods = summarize(tickets, empty_visits(), None, None, s)["periods"]
    assert [(p["period"], p["full"], p["tickets"]) for p in periods] == [
        ("2027-W01", True, 1.0),
        ("2027-W02", False, 1.0),
    ]


def test_ola_rows_carry_team_kind_and_priority() -> None:
    """An UC row names the supplier and the kind; priority null means every priority."""
    uc = OlaTarget("vendor", "uc", "respond", 1.0, "24x7", ALWAYS, 0.9)
    visits = visits_table(
        [("vendor", 0, 1.0, 0.5, "resolved"), ("vendor", 0, 2.0, 2.0, "resolved")]
    )
    tickets = tickets_table([0, 0], [1, 2], [1.0, 1.0])
    row = summarize(tickets, visits, None, None, spec(1, 1, (), (uc,)))["ola"][0]
    assert (row["team"], row["kind"], row["priority"]) == ("vendor", "uc", None)
    assert row["compliance"]["mean"] == 0.5
    assert row["quantiles_h"]["50"] == 0.5


def test_team_rows_utilization_wait_and_abandoned() -> None:
    """Utilisation is busy / available per replication, averaged (0.4 and 0.6 → 0.5), null for a
    supplier; the wait is assigned → started over started visits; abandoned is the share of the
    team's visits that abandoned."""
    visits = visits_table(
        [
            ("desk", 0, 1.0, 0.5, "resolved"),
            ("desk", 0, 2.0, 1.5, "routed"),
            ("desk", 1, 3.0, 1.0, "resolved"),
            ("desk", 1, 4.0, None, "abandoned"),
            ("vendor", 0, 5.0, 0.0, "resolved"),
            ("desk", 0, -5.0, 9.0, "resolved"),  # warm-up: not counted
        ]
    )
    team_stats = pa.table(
        {
            "team": ["desk", "desk", "vendor", "vendor"],
            "busy_h": [40.0, 60.0, 5.0, 7.0],
            "available_h": pa.array([100.0, 100.0, None, None], pa.float64()),
            "replication": pa.array([0, 1, 0, 1], pa.int32()),
        }
    )
    tickets = tickets_table([0], [1], [1.0])
    teams = summarize(tickets, visits, None, team_stats, spec(1, 2))["teams"]
    assert teams == [
        {"team": "desk", "utilization": 0.5, "wait_h": {"mean": 1.0, "90": 1.5}, "abandoned": 0.25},
        {
            "team": "vendor",
            "utilization": None,
            "wait_h": {"mean": 0.0, "90": 0.0},
            "abandoned": 0.0,
        },
    ]
    without_stats = summarize(tickets, visits, None, None, spec(1, 2))["teams"]
    assert [t["utilization"] for t in without_stats] == [None, None]


def test_replication_ids_must_lie_in_range() -> None:
    """A table with replication 5 for a run of 2 replications is refused with the reason."""
    tickets = tickets_table([5], [1], [1.0])
    with pytest.raises(ValueError, match="replication ids"):
        summarize(tickets, empty_visits(), None, None, spec(1, 2, (sla(),)))


def test_no_ticket_at_all_gives_null_figures() -> None:
    """Nothing measured: counts are zero, every other figure is null."""
    tickets = tickets_table([0], [1], [1.0], priority=["P1"])
    row = summarize(tickets, empty_visits(), None, None, spec(1, 1, (sla(),)))["sla"][0]
    assert row["tickets"] == 0.0 and row["open"] == 0.0
    assert row["compliance"] == {"mean": None, "lo": None, "hi": None}
    assert row["p_period_met"] == {"mean": None, "lo": None, "hi": None}
    assert row["mean_h"] is None and row["quantiles_h"]["50"] is None


def test_period_meets_defines_nothing_without_any_item() -> None:
    """The rule lives in ``period_meets``, which every analysis shares (targets, impact, the
    review's model): with no item in any period nothing is defined, rule or not; one item
    anywhere brings the rule back for the empty periods."""
    rule = SmallSample(below=40, max_breaches=2)
    empty = np.zeros((3, 4), dtype=np.int64)
    meets, defined = period_meets(empty, empty, 0.95, rule)
    assert not defined.any() and not meets.any()
    one = empty.copy()
    one[0, 0] = 1
    meets, defined = period_meets(one, one, 0.95, rule)
    assert defined.all() and meets.all()


def test_no_ticket_at_all_has_no_period_figure_even_under_a_small_sample_rule() -> None:
    """A small-sample rule makes an empty period met, but a target that measured nothing in
    any period has no evidence: no P(period met), not 100%."""
    tickets = tickets_table([0], [1], [1.0], priority=["P1"])
    ruled = sla(small_sample=SmallSample(40, 2))
    row = summarize(tickets, empty_visits(), None, None, spec(1, 1, (ruled,)))["sla"][0]
    assert row["tickets"] == 0.0
    assert row["p_period_met"] == {"mean": None, "lo": None, "hi": None}


@settings(max_examples=30, deadline=None)
@given(
    st.integers(1, 4).flatmap(
        lambda reps: st.lists(
            st.tuples(
                st.integers(0, reps - 1),
                st.floats(0.0, 13 * 24.0),
                st.one_of(st.none(), st.floats(0.0, 30.0)),
            ),
            max_size=40,
        ).map(lambda rows: (reps, rows))
    )
)
def test_figures_are_fractions_with_ordered_bounds(case: tuple[int, list[Any]]) -> None:
    """Whatever the tickets, compliance and p_period_met lie in [0, 1] with lo <= mean <= hi,
    and the document is valid JSON."""
    replications, rows = case
    tickets = tickets_table(
        [r[0] for r in rows] or [0],
        [r[1] for r in rows] or [1.0],
        [r[2] for r in rows] or [None],
    )
    result = summarize(tickets, empty_visits(), None, None, spec(2, replications, (sla(),)))
    json.dumps(result, allow_nan=False)
    row = result["sla"][0]
    for figure in (row["compliance"], row["p_period_met"]):
        if figure["mean"] is not None:
            assert 0.0 <= figure["mean"] <= 1.0
        if figure["lo"] is not None:
            assert 0.0 <= figure["lo"] <= figure["mean"] <= figure["hi"] <= 1.0
