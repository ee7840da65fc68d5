"""Per-ticket SLA and per-visit OLA outcomes on hand-built tables with exact expected values.

The dates are in January 2027: Friday the 8th, Monday the 11th, and so on. The office calendar
is open 08:00–17:00 on weekdays, in UTC unless a test says otherwise.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pyarrow as pa
import pytest

from simkit.calendar import Calendar
from simkit.measure import (
    MeasureSpec,
    OlaTarget,
    SlaTarget,
    ola_outcomes,
    sla_outcomes,
    ticket_pauses,
)
from simkit.measure.clock import ItemPauses, attach_pauses, breach_instants, net_hours

TS = pa.timestamp("us", "UTC")
OFFICE = Calendar.from_spec({"hours": {"mon-fri": "08:00-17:00"}}, "UTC")
ALWAYS = Calendar.from_spec("always", "UTC")


def utc(text: str) -> np.datetime64:
    return np.datetime64(text, "us")


def instants(values: list[str | None]) -> pa.Array:
    return pa.array(np.array([v or "NaT" for v in values], dtype="datetime64[us]"), TS)


def tickets_table(*rows: dict[str, Any]) -> pa.Table:
    """Tickets with defaults: service ``desk``, priority ``P3``, replication 0, ids 1, 2, …"""
    full = [
        {
            "ticket_id": i + 1,
            "service": "desk",
            "customer": None,
            "priority": "P3",
            "first_response_at": None,
            "resolved_at": None,
            "reopened": False,
            "abandoned": False,
            "replication": 0,
            **row,
        }
        for i, row in enumerate(rows)
    ]
    column = {name: [r[name] for r in full] for name in full[0]}
    return pa.table(
        {
            "ticket_id": pa.array(column["ticket_id"], pa.int64()),
            "service": pa.array(column["service"], pa.string()),
            "customer": pa.array(column["customer"], pa.string()),
            "priority": pa.array(column["priority"], pa.string()),
            "opened_at": instants(column["opened_at"]),
            "first_response_at": instants(column["first_response_at"]),
            "resolved_at": instants(column["resolved_at"]),
            "reopened": pa.array(column["reopened"], pa.bool_()),
            "abandoned": pa.array(column["abandoned"], pa.bool_()),
            "replication": pa.array(column["replication"], pa.int32()),
            "source_state": pa.array(["x"] * len(full)),
        }
    )


def pauses_table(*rows: tuple[int, str, str | None] | tuple[int, str, str | None, int]) -> pa.Table:
    """Pauses as ``(ticket_id, start, end[, replication])``."""
    return pa.table(
        {
            "ticket_id": pa.array([r[0] for r in rows], pa.int64()),
            "start": instants([r[1] for r in rows]),
            "end": instants([r[2] for r in rows]),
            "reason": pa.array(["awaiting user"] * len(rows)),
            "replication": pa.array([r[3] if len(r) > 3 else 0 for r in rows], pa.int32()),
        }
    )


def target(
    metric: str = "resolve",
    within_h: float = 24.0,
    calendar: Calendar = OFFICE,
    **fields: Any,
) -> SlaTarget:
    base: dict[str, Any] = {
        "level": "service",
        "service": "desk",
        "customer": None,
        "priority": "P3",
        "metric": metric,
        "within_h": within_h,
        "calendar_name": "office",
        "calendar": calendar,
        "goal": 0.9,
        "small_sample": None,
    }
    return SlaTarget(**{**base, **fields})


def spec(observed_until: str = "2027-02-15", **fields: Any) -> MeasureSpec:
    base: dict[str, Any] = {
        "timezone": "UTC",
        "period": "week",
        "start": utc("2027-01-04"),
        "horizon_end": utc("2027-02-01"),
        "observed_until": utc(observed_until),
    }
    return MeasureSpec(**{**base, **fields})


def outcome(table: pa.Table) -> list[dict[str, Any]]:
    """Rows as plain values, instants as ISO text."""
    rows: list[dict[str, Any]] = table.to_pylist()
    for row in rows:
        if row["stop_at"] is not None:
            row["stop_at"] = row["stop_at"].strftime("%Y-%m-%dT%H:%M")
    return rows


def test_servicenow_example_response_over_a_weekend() -> None:
    """Opened Friday 21:00, responded Monday 09:30 on 08:00–17:00 weekdays → 1.5 business hours."""
    tickets = tickets_table(
        {"opened_at": "2027-01-08T21:00", "first_response_at": "2027-01-11T09:30"}
    )
    result = outcome(sla_outcomes(tickets, None, target("respond", 2.0), spec()))
    assert result == [
        {
            "replication": 0,
            "ticket_id": 1,
            "time_h": 1.5,
            "status": "met",
            "stop_at": "2027-01-11T09:30",
            "period": "2027-W02",
        }
    ]


def test_servicenow_example_breach_instant_of_an_open_ticket() -> None:
    """A 24 h target started Monday 08:00 breaches Wednesday 14:00: still unresolved at the end
    of the observation, the ticket is breached (time +inf) in the period of that instant."""
    tickets = tickets_table({"opened_at": "2027-01-11T08:00"})
    result = outcome(sla_outcomes(tickets, None, target(), spec("2027-01-20")))
    assert result[0]["status"] == "breached"
    assert result[0]["time_h"] == np.inf
    assert result[0]["stop_at"] == "2027-01-13T14:00"
    assert result[0]["period"] == "2027-W02"


def test_open_ticket_before_its_breach_instant_is_open_not_measured() -> None:
    """Observed on Wednesday 13:00, an hour before its breach, the ticket is ``open``: no time,
    no stop, no period."""
    tickets = tickets_table({"opened_at": "2027-01-11T08:00"})
    result = outcome(sla_outcomes(tickets, None, target(), spec("2027-01-13T13:00")))
    assert result == [
        {
            "replication": 0,
            "ticket_id": 1,
            "time_h": None,
            "status": "open",
            "stop_at": None,
            "period": None,
        }
    ]


def test_breach_of_an_open_ticket_is_counted_in_the_period_of_its_breach_instant() -> None:
    """Opened Thursday 14 January 08:00 (week 2), 24 business hours run out on Monday 18 January
    14:00, so the breach belongs to week 3."""
    tickets = tickets_table({"opened_at": "2027-01-14T08:00"})
    result = outcome(sla_outcomes(tickets, None, target(), spec("2027-01-25")))
    assert (result[0]["stop_at"], result[0]["period"]) == ("2027-01-18T14:00", "2027-W03")


def test_resolved_late_is_breached_in_the_period_it_was_resolved() -> None:
    """Opened Friday 8 January 09:00, resolved Tuesday 19 January 10:00: 8 + 5·9 + 9 + 2 = 64 h."""
    tickets = tickets_table(
        {"opened_at": "2027-01-08T09:00", "resolved_at": "2027-01-19T10:00"},
        {"opened_at": "2027-01-08T09:00", "resolved_at": "2027-01-11T09:00"},
    )
    result = outcome(sla_outcomes(tickets, None, target(), spec()))
    assert [(r["time_h"], r["status"], r["period"]) for r in result] == [
        (64.0, "breached", "2027-W03"),
        (9.0, "met", "2027-W02"),
    ]


def test_a_pause_over_the_weekend_costs_only_its_business_part() -> None:
    """Open Friday 09:00 → resolved Monday 12:00 is 8 + 4 = 12 business hours; the pause from
    Friday 16:00 to Monday 10:00 holds 1 + 2 = 3 of them, leaving 9."""
    tickets = tickets_table({"opened_at": "2027-01-08T09:00", "resolved_at": "2027-01-11T12:00"})
    pauses = pauses_table((1, "2027-01-08T16:00", "2027-01-11T10:00"))
    result = outcome(sla_outcomes(tickets, pauses, target(), spec()))
    assert result[0]["time_h"] == 9.0


def test_the_reopen_gap_is_not_counted() -> None:
    """On 24x7: opened Monday 08:00, first resolved 12:00, reopened Tuesday 12:00, finally
    resolved Tuesday 14:00 → 30 h elapsed minus the 24 h reopen gap = 6 h."""
    tickets = tickets_table(
        {"opened_at": "2027-01-11T08:00", "resolved_at": "2027-01-12T14:00", "reopened": True}
    )
    pauses = pauses_table((1, "2027-01-11T12:00", "2027-01-12T12:00"))
    result = outcome(sla_outcomes(tickets, pauses, target(within_h=8.0, calendar=ALWAYS), spec()))
    assert (result[0]["time_h"], result[0]["status"]) == (6.0, "met")


def test_pauses_outside_the_clock_or_of_other_tickets_do_not_count() -> None:
    """Only the part of a pause between opening and the clock stop counts; pauses of another
    ticket, or of the same ticket id in another replication, belong to that ticket."""
    tickets = tickets_table(
        {"opened_at": "2027-01-11T08:00", "first_response_at": "2027-01-11T10:00"},
        {
            "ticket_id": 1,
            "opened_at": "2027-01-11T08:00",
            "first_response_at": "2027-01-11T10:00",
            "replication": 1,
        },
    )
    pauses = pauses_table(
        (1, "2027-01-11T09:30", "2027-01-11T12:00"),  # half an hour before the response
        (1, "2027-01-11T07:00", "2027-01-11T07:30"),  # before opening
        (7, "2027-01-11T08:00", "2027-01-11T10:00"),  # another ticket
        (1, "2027-01-11T08:00", "2027-01-11T09:00", 1),  # the ticket of replication 1
    )
    result = sla_outcomes(tickets, pauses, target("respond", 4.0), spec(replications=2))
    assert result["time_h"].to_pylist() == [1.5, 1.0]


def test_overlapping_pauses_are_not_subtracted_twice() -> None:
    """Pauses 09:00–11:00 and 10:00–12:00 stop the clock for 3 hours, not 4."""
    tickets = tickets_table({"opened_at": "2027-01-11T08:00", "resolved_at": "2027-01-11T16:00"})
    pauses = pauses_table(
        (1, "2027-01-11T10:00", "2027-01-11T12:00"), (1, "2027-01-11T09:00", "2027-01-11T11:00")
    )
    result = sla_outcomes(tickets, pauses, target(within_h=5.0), spec())
    assert result["time_h"].to_pylist() == [5.0]
    assert result["status"].to_pylist() == ["met"]


def test_breach_instant_is_pushed_back_by_earlier_pauses_only() -> None:
    """4 h on 24x7 from Monday 08:00: a pause 09:00–11:00 moves the breach to 14:00; a pause
    starting after the clock ran out (13:00) does not move it from 12:00; a pause starting exactly
    as the clock runs out does not either; pauses 09:00–10:00 and 11:00–12:00 move it to 14:00,
    and a later one (16:00) does not."""
    tickets = tickets_table(
        {"opened_at": "2027-01-11T08:00"},
        {"opened_at": "2027-01-11T08:00"},
        {"opened_at": "2027-01-11T08:00"},
        {"opened_at": "2027-01-11T08:00"},
    )
    pauses = pauses_table(
        (1, "2027-01-11T09:00", "2027-01-11T11:00"),
        (2, "2027-01-11T13:00", "2027-01-11T15:00"),
        (3, "2027-01-11T12:00", "2027-01-11T15:00"),
        (4, "2027-01-11T09:00", "2027-01-11T10:00"),
        (4, "2027-01-11T11:00", "2027-01-11T12:00"),
        (4, "2027-01-11T16:00", "2027-01-11T17:00"),
    )
    result = outcome(sla_outcomes(tickets, pauses, target(within_h=4.0, calendar=ALWAYS), spec()))
    assert [r["stop_at"] for r in result] == [
        "2027-01-11T14:00",
        "2027-01-11T12:00",
        "2027-01-11T12:00",
        "2027-01-11T14:00",
    ]
    assert all(r["status"] == "breached" for r in result)


def test_a_ticket_still_paused_keeps_its_clock_stopped() -> None:
    """Paused since 09:00 Monday with no end, one hour into a 4 h target, the ticket is still
    ``open`` days later."""
    tickets = tickets_table({"opened_at": "2027-01-11T08:00"})
    pauses = pauses_table((1, "2027-01-11T09:00", None))
    result = sla_outcomes(tickets, pauses, target(within_h=4.0, calendar=ALWAYS), spec())
    assert result["status"].to_pylist() == ["open"]


def test_events_after_the_observation_are_not_known_yet() -> None:
    """A resolution recorded after ``observed_until`` is treated as not happened."""
    tickets = tickets_table({"opened_at": "2027-01-11T08:00", "resolved_at": "2027-01-11T20:00"})
    at_noon = sla_outcomes(
        tickets, None, target(within_h=8.0, calendar=ALWAYS), spec("2027-01-11T12:00")
    )
    assert at_noon["status"].to_pylist() == ["open"]
    late = sla_outcomes(
        tickets, None, target(within_h=8.0, calendar=ALWAYS), spec("2027-01-11T18:00")
    )
    assert outcome(late)[0]["stop_at"] == "2027-01-11T16:00"


def test_warm_up_abandoned_and_late_tickets_are_not_measured() -> None:
    """Only tickets opened in [start, horizon_end) that were not abandoned are measured."""
    tickets = tickets_table(
        {"opened_at": "2027-01-03T23:59", "resolved_at": "2027-01-04T09:00"},  # warm-up
        {"opened_at": "2027-01-04T00:00", "resolved_at": "2027-01-04T09:00"},
        {"opened_at": "2027-01-05T10:00", "abandoned": True},
        {"opened_at": "2027-01-31T23:59", "resolved_at": "2027-02-01T09:00"},
        {"opened_at": "2027-02-01T00:00", "resolved_at": "2027-02-01T09:00"},  # after horizon
    )
    result = sla_outcomes(tickets, None, target(), spec())
    assert result["ticket_id"].to_pylist() == [2, 4]
    assert result["period"].to_pylist() == ["2027-W01", "2027-W05"]


def test_selection_by_service_customer_priority_and_corporate_level() -> None:
    """A service target takes its service and priority; a customer target also its customer; the
    corporate level takes every service."""
    tickets = tickets_table(
        {"opened_at": "2027-01-11T08:00", "customer": "finance"},
        {"opened_at": "2027-01-11T08:00", "customer": "hr"},
        {"opened_at": "2027-01-11T08:00", "priority": "P1"},
        {"opened_at": "2027-01-11T08:00", "service": "payroll"},
    )
    s = spec()

    def ids(t: SlaTarget) -> list[int]:
        selected: list[int] = sla_outcomes(tickets, None, t, s)["ticket_id"].to_pylist()
        return selected

    assert ids(target()) == [1, 2]
    assert ids(target(level="customer", customer="finance")) == [1]
    assert ids(target(level="corporate", service=None)) == [1, 2, 4]
    assert ids(target(priority="P1")) == [3]


def test_response_falls_back_to_resolution_when_not_recorded() -> None:
    """A resolved ticket without a recorded response was responded to by its resolution."""
    tickets = tickets_table({"opened_at": "2027-01-11T08:00", "resolved_at": "2027-01-11T10:00"})
    result = sla_outcomes(tickets, None, target("respond", 1.0), spec())
    assert (result["time_h"].to_pylist(), result["status"].to_pylist()) == ([2.0], ["breached"])


def test_on_the_target_itself_is_met() -> None:
    """A clock reading exactly the target meets it."""
    tickets = tickets_table({"opened_at": "2027-01-11T08:00", "resolved_at": "2027-01-12T08:00"})
    result = sla_outcomes(tickets, None, target(within_h=9.0), spec())
    assert result["status"].to_pylist() == ["met"]


def test_calendar_in_local_time_after_the_clock_change() -> None:
    """An 08:00–17:00 London office in BST opens at 07:00 UTC: a ticket opened at 06:30 UTC and
    resolved 08:00 UTC on Monday 5 April 2027 took one business hour."""
    london = Calendar.from_spec({"hours": {"mon-fri": "08:00-17:00"}}, "Europe/London")
    tickets = tickets_table({"opened_at": "2027-04-05T06:30", "resolved_at": "2027-04-05T08:00"})
    s = spec(
        "2027-05-15",
        timezone="Europe/London",
        start=utc("2027-04-04T23:00"),
        horizon_end=utc("2027-05-01"),
    )
    result = sla_outcomes(tickets, None, target(calendar=london), s)
    assert result["time_h"].to_pylist() == [1.0]
    assert result["period"].to_pylist() == ["2027-W14"]


def test_pauses_attached_once_give_the_same_outcomes() -> None:
    """Pauses joined to the whole tickets table once (for many targets) measure the same."""
    tickets = tickets_table(
        {"opened_at": "2027-01-08T09:00", "resolved_at": "2027-01-11T12:00"},
        {"opened_at": "2027-01-11T09:00", "priority": "P1"},
        {"opened_at": "2027-01-11T09:00"},
    )
    pauses = pauses_table(
        (1, "2027-01-08T16:00", "2027-01-11T10:00"), (3, "2027-01-11T10:00", None)
    )
    s = spec("2027-01-20")
    attached = ticket_pauses(tickets, pauses, s)
    assert sla_outcomes(tickets, attached, target(), s).equals(
        sla_outcomes(tickets, pauses, target(), s)
    )
    assert sla_outcomes(tickets, attached, target(), s)["time_h"].to_pylist() == [9.0, None]


def test_empty_selection_gives_an_empty_table_with_the_schema() -> None:
    """No matching ticket: zero rows, same columns."""
    tickets = tickets_table({"opened_at": "2027-01-11T08:00"})
    result = sla_outcomes(tickets, None, target(priority="P9"), spec())
    assert result.num_rows == 0
    assert result.column_names == [
        "replication",
        "ticket_id",
        "time_h",
        "status",
        "stop_at",
        "period",
    ]


# ---------------------------------------------------------------------- OLA / UC


def visits_table(*rows: dict[str, Any]) -> pa.Table:
    full = [
        {
            "ticket_id": 1,
            "team": "desk",
            "kind": "team",
            "seq": i,
            "started_at": None,
            "finished_at": None,
            "outcome": "open",
            "replication": 0,
            **row,
        }
        for i, row in enumerate(rows)
    ]
    column = {name: [r[name] for r in full] for name in full[0]}
    return pa.table(
        {
            "ticket_id": pa.array(column["ticket_id"], pa.int64()),
            "team": pa.array(column["team"], pa.string()),
            "kind": pa.array(column["kind"], pa.string()),
            "seq": pa.array(column["seq"], pa.int32()),
            "assigned_at": instants(column["assigned_at"]),
            "started_at": instants(column["started_at"]),
            "finished_at": instants(column["finished_at"]),
            "outcome": pa.array(column["outcome"], pa.string()),
            "replication": pa.array(column["replication"], pa.int32()),
        }
    )


def ola(metric: str = "respond", within_h: float = 1.0, **fields: Any) -> OlaTarget:
    base: dict[str, Any] = {
        "team": "desk",
        "kind": "ola",
        "metric": metric,
        "within_h": within_h,
        "calendar_name": "office",
        "calendar": OFFICE,
        "goal": 0.95,
        "small_sample": None,
    }
    return OlaTarget(**{**base, **fields})


def test_ola_respond_and_resolve_per_visit() -> None:
    """respond = assigned → started and resolve = assigned → finished on the OLA calendar;
    visits to other teams and abandoned visits are not measured."""
    visits = visits_table(
        {
            "assigned_at": "2027-01-08T16:00",
            "started_at": "2027-01-11T08:30",
            "finished_at": "2027-01-11T12:00",
            "outcome": "routed",
        },
        {"team": "apps", "assigned_at": "2027-01-11T12:00", "started_at": "2027-01-11T13:00"},
        {
            "assigned_at": "2027-01-11T13:00",
            "outcome": "abandoned",
            "finished_at": "2027-01-11T13:30",
        },
        {
            "assigned_at": "2027-01-12T09:00",
            "started_at": "2027-01-12T09:45",
            "finished_at": "2027-01-12T16:00",
            "outcome": "resolved",
        },
    )
    respond = ola_outcomes(visits, ola("respond", 1.0), spec())
    assert respond["seq"].to_pylist() == [0, 3]
    assert respond["time_h"].to_pylist() == [1.5, 0.75]
    assert respond["status"].to_pylist() == ["breached", "met"]
    resolve = ola_outcomes(visits, ola("resolve", 4.0), spec())
    assert resolve["time_h"].to_pylist() == [5.0, 7.0]


def test_ola_open_visits_are_censored_like_tickets() -> None:
    """A visit waiting since Monday 08:00 with a 4 h respond target is breached at 12:00 when
    observed later, and open when observed at 11:00."""
    visits = visits_table({"assigned_at": "2027-01-11T08:00"})
    late = outcome(ola_outcomes(visits, ola("respond", 4.0), spec("2027-01-11T15:00")))
    assert (late[0]["status"], late[0]["stop_at"]) == ("breached", "2027-01-11T12:00")
    early = ola_outcomes(visits, ola("respond", 4.0), spec("2027-01-11T11:00"))
    assert early["status"].to_pylist() == ["open"]


def test_ola_for_one_priority_looks_up_the_ticket() -> None:
    """A target for P1 measures the visits of P1 tickets, found through the tickets table."""
    visits = visits_table(
        {"ticket_id": 1, "assigned_at": "2027-01-11T08:00", "started_at": "2027-01-11T08:10"},
        {"ticket_id": 2, "assigned_at": "2027-01-11T08:00", "started_at": "2027-01-11T08:20"},
    )
    tickets = tickets_table(
        {"opened_at": "2027-01-11T08:00", "priority": "P1"},
        {"opened_at": "2027-01-11T08:00", "priority": "P2"},
    )
    result = ola_outcomes(visits, ola(priority="P1"), spec(), tickets)
    assert result["ticket_id"].to_pylist() == [1]
    with pytest.raises(ValueError, match="tickets"):
        ola_outcomes(visits, ola(priority="P1"), spec())


# ---------------------------------------------------------------------- vectorised clock


def reference_net(
    calendar: Calendar,
    begin: np.datetime64,
    t: np.datetime64,
    pauses: list[tuple[np.datetime64, np.datetime64]],
) -> float:
    """Net business hours at ``t``, pause by pause, with the union of the pauses taken by a
    sweep over their sorted ends."""
    stopped = 0.0
    covered_until = begin
    for start, end in sorted(pauses):
        s = max(start, covered_until, begin)
        e = min(end, t)
        if e > s:
            stopped += calendar.elapsed(s, e)
        covered_until = max(covered_until, min(end, t))
    return calendar.elapsed(begin, t) - stopped


def test_vectorised_clock_matches_a_ticket_by_ticket_reference() -> None:
    """Random tickets and overlapping pauses: net times agree with a per-ticket sweep, and each
    breach instant is the earliest instant at which the reference clock reaches the target."""
    rng = np.random.default_rng(7)
    n = 60
    base = utc("2027-01-04")
    hour = np.timedelta64(3_600_000_000, "us")
    begin = base + (rng.uniform(0, 300, n) * hour).astype("timedelta64[us]")
    stop = begin + (rng.uniform(0, 200, n) * hour).astype("timedelta64[us]")
    count = rng.integers(0, 5, n)
    owner = np.repeat(np.arange(n), count)
    p_start = begin[owner] + (rng.uniform(-10, 150, owner.size) * hour).astype("timedelta64[us]")
    p_end = p_start + (rng.uniform(0, 40, owner.size) * hour).astype("timedelta64[us]")
    pauses = pa.table(
        {
            "ticket_id": pa.array(owner, pa.int64()),
            "start": pa.array(p_start, TS),
            "end": pa.array(p_end, TS),
            "replication": pa.array(np.zeros(owner.size, np.int32)),
        }
    )
    now = utc("2028-01-01")
    item_pauses = attach_pauses(np.zeros(n, np.int32), np.arange(n), pauses, now)
    within = 20.0
    for calendar in (OFFICE, ALWAYS):
        net = net_hours(calendar, begin, stop, item_pauses)
        breach = breach_instants(calendar, begin, within, item_pauses)
        for i in range(n):
            mine = [(p_start[k], p_end[k]) for k in np.flatnonzero(owner == i)]
            assert net[i] == pytest.approx(
                reference_net(calendar, begin[i], stop[i], mine), abs=1e-9
            )
            assert reference_net(calendar, begin[i], breach[i], mine) == pytest.approx(
                within, abs=1e-9
            )
            earlier = breach[i] - np.timedelta64(1, "s")
            assert reference_net(calendar, begin[i], earlier, mine) < within


def test_empty_pauses_and_subsets() -> None:
    """No pauses: the clock is plain business time; a subset renumbers its items."""
    begin = np.array([utc("2027-01-11T08:00"), utc("2027-01-11T09:00")])
    assert list(net_hours(OFFICE, begin, begin + np.timedelta64(2, "h"), ItemPauses.none())) == [
        2.0,
        2.0,
    ]
    pauses = ItemPauses(
        np.array([0, 1]),
        np.array([utc("2027-01-11T08:00"), utc("2027-01-11T09:00")]),
        np.array([utc("2027-01-11T08:30"), utc("2027-01-11T10:00")]),
    )
    kept = pauses.subset(np.array([False, True]))
    assert list(kept.owner) == [0] and kept.start[0] == utc("2027-01-11T09:00")


def test_one_hundred_thousand_tickets_are_measured_in_one_pass() -> None:
    """Vectorised over tickets and pauses: 100 000 tickets with 50 000 pauses are measured
    without a Python loop over rows (no timing assertion; a loop would take minutes)."""
    rng = np.random.default_rng(3)
    n = 100_000
    hour = np.timedelta64(3_600_000_000, "us")
    opened = utc("2027-01-04") + (rng.uniform(0, 24 * 27, n) * hour).astype("timedelta64[us]")
    resolved = opened + (rng.exponential(12.0, n) * hour).astype("timedelta64[us]")
    resolved[rng.random(n) < 0.05] = np.datetime64("NaT")
    tickets = pa.table(
        {
            "ticket_id": pa.array(np.arange(n), pa.int64()),
            "service": pa.array(np.where(rng.random(n) < 0.5, "desk", "payroll")),
            "customer": pa.nulls(n, pa.string()),
            "priority": pa.array(np.full(n, "P3")),
            "opened_at": pa.array(opened, TS),
            "first_response_at": pa.nulls(n, TS),
            "resolved_at": pa.array(resolved, TS),
            "abandoned": pa.array(np.zeros(n, bool)),
            "replication": pa.array(np.zeros(n, np.int32)),
        }
    )
    owner = rng.choice(n, n // 2)
    start = opened[owner] + (rng.uniform(0, 5, owner.size) * hour).astype("timedelta64[us]")
    pauses = pa.table(
        {
            "ticket_id": pa.array(owner, pa.int64()),
            "start": pa.array(start, TS),
            "end": pa.array(
                start + (rng.uniform(0, 10, owner.size) * hour).astype("timedelta64[us]"), TS
            ),
            "replication": pa.array(np.zeros(owner.size, np.int32)),
        }
    )
    result = sla_outcomes(tickets, pauses, target(level="corporate", service=None), spec())
    assert result.num_rows == n
    times = result["time_h"].to_numpy(zero_copy_only=False)
    measured = result["status"].to_numpy(zero_copy_only=False) != "open"
    assert np.all(times[measured] >= 0.0)
