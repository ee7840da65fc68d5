"""Exact behaviour of the support engine on tiny hand-built models with fixed times."""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest
from simpy.events import Event, EventPriority

import simkit.engine.support
from simkit.distributions import Distribution, Exponential, Fixed
from simkit.engine._queues import Clock, Due
from simkit.engine.model import (
    Roster,
    ServiceModel,
    ServiceParams,
    SupportModel,
    TeamModel,
    TeamParams,
)
from simkit.engine.support import SupportRecords, SupportRun, simulate_support
from simkit.streams import Streams

ORIGIN = np.datetime64("2027-01-04T00:00", "us")
PRIORITIES = ("P1", "P2", "P3")


def params(
    handle: float | Distribution | Mapping[str, float] = 1.0,
    routes: Mapping[str, float] | None = None,
    **extra: Any,
) -> TeamParams:
    """Team parameters; a number means fixed handling for every priority."""
    if isinstance(handle, Mapping):
        by_priority = {p: Fixed(float(handle[p])) for p in PRIORITIES}
    else:
        dist = handle if isinstance(handle, Distribution) else Fixed(float(handle))
        by_priority = {p: dist for p in PRIORITIES}
    routes = routes or {"resolved": 1.0}
    return TeamParams(
        handle=by_priority,
        routes=tuple(routes),
        route_probs=np.array(list(routes.values())),
        **extra,
    )


def team(
    name: str = "desk",
    agents: int | tuple[Sequence[float], Sequence[int]] = 1,
    *regime_params: TeamParams,
) -> TeamModel:
    times, counts = ([0.0], [agents]) if isinstance(agents, int) else agents
    roster = Roster(times=np.array(times, dtype=float), agents=np.array(counts, dtype=np.int64))
    return TeamModel(name, "team", roster, None, regime_params or (params(),))


def supplier(
    name: str, intervals: Sequence[tuple[float, float]], *regime_params: TeamParams
) -> TeamModel:
    work = np.array(intervals, dtype=float)
    return TeamModel(name, "supplier", None, work, regime_params or (params(),))


def service(
    name: str = "payroll",
    entry: str = "desk",
    hours: float = 100.0,
    rate: float = 0.0,
    customers: tuple[str, ...] = ("",),
    *regime_params: ServiceParams,
) -> ServiceModel:
    default = ServiceParams(
        priority_probs=np.array([0.0, 0.0, 1.0]),
        customer_probs=np.ones(len(customers)) / len(customers),
    )
    return ServiceModel(
        name=name,
        entry=entry,
        hourly_rate=np.full(math.ceil(hours), rate),
        customers=customers,
        params=regime_params or (default,),
    )


def model(
    teams: Sequence[TeamModel],
    services: Sequence[ServiceModel] | None = None,
    hours: float = 100.0,
    start: float = 0.0,
    regime_starts: Sequence[float] = (0.0,),
) -> SupportModel:
    return SupportModel(
        origin=ORIGIN,
        start=start,
        horizon_end=hours,
        end=hours,
        priorities=PRIORITIES,
        teams=tuple(teams),
        services=tuple(services or (service(entry=teams[0].name, hours=hours),)),
        regime_starts=np.array(regime_starts, dtype=float),
    )


def streams(seed: int = 0) -> Streams:
    return Streams(np.random.SeedSequence(seed))


def run_with(m: SupportModel, arrivals: Sequence[tuple[float, str]], **kw: Any) -> SupportRecords:
    """Run ``m`` with tickets opening at exact instants ``[(hour, priority), …]``."""
    run = SupportRun(m, streams())
    for hour, priority in arrivals:
        run.add_tickets(np.array([hour]), priority=priority, label=m.services[0].name, **kw)
    return run.run()


def hours(column: pa.ChunkedArray) -> list[float | None]:
    """Timestamps back to run hours (None for null)."""
    base = ORIGIN.astype(np.int64)
    return [
        None if v is None else round((v - base) / 3.6e9, 9)
        for v in column.cast(pa.int64()).to_pylist()
    ]


def visit_rows(records: SupportRecords) -> list[tuple[Any, ...]]:
    """(ticket, team, seq, assigned, started, finished, outcome), sorted by ticket and seq."""
    v = records.visits
    rows = zip(
        v["ticket_id"].to_pylist(),
        v["team"].to_pylist(),
        v["seq"].to_pylist(),
        hours(v["assigned_at"]),
        hours(v["started_at"]),
        hours(v["finished_at"]),
        v["outcome"].to_pylist(),
        strict=True,
    )
    return sorted(rows, key=lambda r: (r[0], r[2]))


def column(table: pa.Table, name: str) -> list[Any]:
    if pa.types.is_timestamp(table.schema.field(name).type):
        return hours(table[name])
    return table[name].to_pylist()


INSTANT = pa.timestamp("us", tz="UTC")


def test_tables_have_exactly_the_contract_schemas() -> None:
    """tickets, visits, pauses and team_stats carry exactly the agreed columns and types."""
    m = model(
        [
            team(
                "desk",
                2,
                params(0.5, {"resolved": 0.6, "vendor": 0.2, "pause": 0.2}, pause=Fixed(1.0)),
            ),
            supplier("vendor", [(0.0, 1000.0)]),
        ],
        services=[
            service(
                "payroll",
                "desk",
                100.0,
                2.0,
                ("", "finance"),
                ServiceParams(np.array([0.2, 0.3, 0.5]), np.array([0.5, 0.5]), 0.5, Fixed(2.0)),
            )
        ],
    )
    records = simulate_support(m, streams(), replication=3)
    assert records.tickets.schema == pa.schema(
        [
            ("ticket_id", pa.int64()),
            ("service", pa.string()),
            ("customer", pa.string()),
            ("priority", pa.string()),
            ("opened_at", INSTANT),
            ("first_response_at", INSTANT),
            ("resolved_at", INSTANT),
            ("reopened", pa.bool_()),
            ("abandoned", pa.bool_()),
            ("replication", pa.int32()),
        ]
    )
    assert records.visits.schema == pa.schema(
        [
            ("ticket_id", pa.int64()),
            ("team", pa.string()),
            ("kind", pa.string()),
            ("seq", pa.int32()),
            ("assigned_at", INSTANT),
            ("started_at", INSTANT),
            ("finished_at", INSTANT),
            ("outcome", pa.string()),
            ("replication", pa.int32()),
        ]
    )
    assert records.pauses.schema == pa.schema(
        [
            ("ticket_id", pa.int64()),
            ("start", INSTANT),
            ("end", INSTANT),
            ("reason", pa.string()),
            ("replication", pa.int32()),
        ]
    )
    assert records.team_stats.schema == pa.schema(
        [
            ("team", pa.string()),
            ("busy_h", pa.float64()),
            ("available_h", pa.float64()),
            ("replication", pa.int32()),
        ]
    )
    for table in (records.tickets, records.visits, records.pauses, records.team_stats):
        assert table.num_rows > 0
        assert set(column(table, "replication")) == {3}
    assert set(column(records.visits, "kind")) == {"team", "supplier"}
    assert set(column(records.pauses, "reason")) == {"awaiting user", "reopen"}
    assert set(column(records.tickets, "customer")) == {None, "finance"}
    assert column(records.team_stats, "available_h") == [200.0, None]


def test_fifo_within_a_priority() -> None:
    """One agent serves tickets of one priority in the order they joined the queue."""
    records = run_with(model([team()]), [(0.0, "P3"), (0.2, "P3"), (0.1, "P3")])
    assert visit_rows(records) == [
        (0, "desk", 0, 0.0, 0.0, 1.0, "resolved"),
        (1, "desk", 0, 0.1, 1.0, 2.0, "resolved"),
        (2, "desk", 0, 0.2, 2.0, 3.0, "resolved"),
    ]
    assert column(records.tickets, "first_response_at") == [0.0, 1.0, 2.0]
    assert column(records.tickets, "resolved_at") == [1.0, 2.0, 3.0]


def test_higher_priority_is_served_first_without_interrupting() -> None:
    """A waiting P1 goes before an earlier P2, but does not interrupt a ticket in hand."""
    records = run_with(model([team()]), [(0.0, "P3"), (0.1, "P2"), (0.2, "P1")])
    assert [(r[0], r[4], r[5]) for r in visit_rows(records)] == [
        (0, 0.0, 1.0),
        (1, 2.0, 3.0),
        (2, 1.0, 2.0),
    ]


def test_preemptive_resume() -> None:
    """A preempting P1 interrupts the ticket in hand, which later resumes its remaining time."""
    desk = team("desk", 1, params({"P1": 1.0, "P2": 2.0, "P3": 2.0}, preempt=frozenset({"P1"})))
    records = run_with(model([desk]), [(0.0, "P2"), (0.5, "P1"), (0.6, "P3")])
    assert visit_rows(records) == [
        (0, "desk", 0, 0.0, 0.0, 3.0, "resolved"),
        (1, "desk", 0, 0.5, 0.5, 1.5, "resolved"),
        (2, "desk", 0, 0.6, 3.0, 5.0, "resolved"),
    ]
    assert column(records.team_stats, "busy_h") == [pytest.approx(5.0)]


def test_preemption_interrupts_the_lowest_rank_latest_started() -> None:
    """Among lower-ranked tickets in hand, the lowest rank is interrupted, the latest started."""
    desk = team("desk", 3, params({"P1": 1.0, "P2": 4.0, "P3": 4.0}, preempt=frozenset({"P1"})))
    records = run_with(
        model([desk]), [(0.0, "P3"), (0.1, "P3"), (0.2, "P2"), (0.5, "P1"), (0.7, "P1")]
    )
    # 0.5: the P1 interrupts the P3 started at 0.1 (3.6 h left); 0.7: the next P1 interrupts
    # the other P3 (3.3 h left), which goes to the head of the P3 queue and resumes first.
    assert [(r[4], r[5]) for r in visit_rows(records)] == [
        (0.0, 1.5 + 3.3),
        (0.1, 1.7 + 3.6),
        (0.2, 4.2),
        (0.5, 1.5),
        (0.7, 1.7),
    ]


def test_equal_rank_is_never_preempted() -> None:
    """A preempting P1 that finds only P1s in hand waits its turn."""
    desk = team("desk", 1, params(1.0, preempt=frozenset({"P1"})))
    records = run_with(model([desk]), [(0.0, "P1"), (0.5, "P1")])
    assert [(r[4], r[5]) for r in visit_rows(records)] == [(0.0, 1.0), (1.0, 2.0)]


def test_agents_going_off_duty_finish_the_ticket_in_hand() -> None:
    """A roster drop never interrupts; nothing starts while nobody is on duty."""
    desk = team("desk", ([0.0, 2.0, 5.0], [1, 0, 1]))
    records = run_with(model([desk], hours=20.0), [(1.5, "P3"), (1.8, "P3"), (3.0, "P1")])
    assert [(r[4], r[5]) for r in visit_rows(records)] == [(1.5, 2.5), (6.0, 7.0), (5.0, 6.0)]
    assert column(records.team_stats, "available_h") == [2.0 + 15.0]
    assert column(records.team_stats, "busy_h") == [pytest.approx(3.0)]


def test_a_roster_increase_starts_waiting_tickets_at_once() -> None:
    """Agents coming on duty take waiting tickets the moment they arrive."""
    desk = team("desk", ([0.0, 1.0], [1, 3]), params(2.0))
    records = run_with(model([desk]), [(0.1, "P3"), (0.2, "P3"), (0.3, "P3")])
    assert [r[4] for r in visit_rows(records)] == [0.1, 1.0, 1.0]


def test_pause_returns_to_the_same_team_and_regimes_switch_routing() -> None:
    """Routing to pause writes an 'awaiting user' row; the ticket then rejoins the same team as
    a new visit; the regime at the end of handling decides the route."""
    pausing = params(1.0, {"pause": 1.0}, pause=Fixed(1.5))
    resolving = params(1.0)
    svc = ServiceParams(np.array([0.0, 0.0, 1.0]), np.array([1.0]))
    m = model(
        [team("desk", 1, pausing, resolving)],
        services=[service("payroll", "desk", 100.0, 0.0, ("",), svc, svc)],
        regime_starts=(0.0, 2.0),
    )
    records = run_with(m, [(0.0, "P3")])
    assert visit_rows(records) == [
        (0, "desk", 0, 0.0, 0.0, 1.0, "paused"),
        (0, "desk", 1, 2.5, 2.5, 3.5, "resolved"),
    ]
    assert column(records.pauses, "start") == [1.0]
    assert column(records.pauses, "end") == [2.5]
    assert column(records.pauses, "reason") == ["awaiting user"]
    assert column(records.tickets, "resolved_at") == [3.5]
    assert column(records.tickets, "first_response_at") == [0.0]


def test_handling_time_comes_from_the_regime_at_the_start() -> None:
    """Handling drawn at the start of handling uses that regime's distribution."""
    svc = ServiceParams(np.array([0.0, 0.0, 1.0]), np.array([1.0]))
    m = model(
        [team("desk", 1, params(1.0), params(3.0))],
        services=[service("payroll", "desk", 100.0, 0.0, ("",), svc, svc)],
        regime_starts=(0.0, 10.0),
    )
    records = run_with(m, [(5.0, "P3"), (9.5, "P3"), (12.0, "P3")])
    assert [(r[4], r[5]) for r in visit_rows(records)] == [(5.0, 6.0), (9.5, 10.5), (12.0, 15.0)]


def test_priority_mix_follows_the_regime_at_arrival() -> None:
    """Poisson arrivals take their priority from the service parameters of their regime."""
    only_p1 = ServiceParams(np.array([1.0, 0.0, 0.0]), np.array([1.0]))
    only_p3 = ServiceParams(np.array([0.0, 0.0, 1.0]), np.array([1.0]))
    m = model(
        [team("desk", 50, params(0.1), params(0.1))],
        services=[service("payroll", "desk", 100.0, 5.0, ("",), only_p1, only_p3)],
        regime_starts=(0.0, 40.0),
    )
    records = simulate_support(m, streams())
    opened = np.array(column(records.tickets, "opened_at"))
    priority = np.array(column(records.tickets, "priority"))
    assert 300 < opened.size < 700
    assert set(priority[opened < 40.0]) == {"P1"}
    assert set(priority[opened >= 40.0]) == {"P3"}
    assert np.all(np.diff(opened) >= 0)
    assert opened.max() < 100.0


def test_supplier_work_runs_only_inside_its_intervals() -> None:
    """A supplier starts every ticket at once; handling time accrues only in open intervals."""
    m = model(
        [
            team("desk", 1, params(0.5, {"vendor": 1.0})),
            supplier("vendor", [(0.0, 1.0), (3.0, 4.0), (6.0, 10.0), (20.0, 100.0)], params(2.5)),
        ]
    )
    records = run_with(m, [(0.0, "P3"), (0.1, "P3")])
    assert visit_rows(records) == [
        (0, "desk", 0, 0.0, 0.0, 0.5, "routed"),
        (0, "vendor", 1, 0.5, 0.5, 7.0, "resolved"),
        (1, "desk", 0, 0.1, 0.5, 1.0, "routed"),
        (1, "vendor", 1, 1.0, 1.0, 7.5, "resolved"),
    ]
    assert column(records.tickets, "resolved_at") == [7.0, 7.5]
    assert column(records.team_stats, "busy_h") == [pytest.approx(1.0), pytest.approx(5.0)]
    assert column(records.team_stats, "available_h") == [100.0, None]


def test_reopen_rejoins_the_resolving_team_once() -> None:
    """A reopened ticket gets a 'reopen' pause from resolution to reopening, returns to the team
    that resolved it, and reopens at most once; resolved_at is the final resolution."""
    svc = ServiceParams(np.array([0.0, 0.0, 1.0]), np.array([1.0]), 1.0, Fixed(2.0))
    m = model(
        [team("desk", 1, params(1.0, {"tier2": 1.0})), team("tier2", 1, params(1.0))],
        services=[service("payroll", "desk", 100.0, 0.0, ("",), svc)],
    )
    records = run_with(m, [(0.0, "P3")])
    assert visit_rows(records) == [
        (0, "desk", 0, 0.0, 0.0, 1.0, "routed"),
        (0, "tier2", 1, 1.0, 1.0, 2.0, "resolved"),
        (0, "tier2", 2, 4.0, 4.0, 5.0, "resolved"),
    ]
    assert column(records.pauses, "reason") == ["reopen"]
    assert (column(records.pauses, "start"), column(records.pauses, "end")) == ([2.0], [4.0])
    assert column(records.tickets, "reopened") == [True]
    assert column(records.tickets, "resolved_at") == [5.0]


def test_reopening_after_the_run_end_does_not_happen() -> None:
    """A reopening due after the end of the run leaves the ticket resolved, not reopened."""
    svc = ServiceParams(np.array([0.0, 0.0, 1.0]), np.array([1.0]), 1.0, Fixed(2.0))
    m = model([team()], services=[service("payroll", "desk", 3.0, 0.0, ("",), svc)], hours=3.0)
    records = run_with(m, [(0.5, "P3")])
    assert column(records.tickets, "reopened") == [False]
    assert column(records.tickets, "resolved_at") == [1.5]
    assert records.pauses.num_rows == 0


def test_waiting_tickets_abandon_after_their_patience() -> None:
    """A ticket not started within its patience leaves: visit 'abandoned', ticket abandoned."""
    desk = team("desk", 1, params(1.0, {"tier2": 1.0}, patience=Fixed(0.5)))
    m = model([desk, team("tier2", 0)], hours=5.0)
    records = run_with(m, [(0.0, "P3"), (0.1, "P3"), (0.8, "P3"), (1.2, "P3"), (2.0, "P3")])
    rows = visit_rows(records)
    desk_rows = [r for r in rows if r[1] == "desk"]
    assert desk_rows == [
        (0, "desk", 0, 0.0, 0.0, 1.0, "routed"),
        (1, "desk", 0, 0.1, None, 0.6, "abandoned"),
        (2, "desk", 0, 0.8, 1.0, 2.0, "routed"),
        (3, "desk", 0, 1.2, None, 1.7, "abandoned"),
        (4, "desk", 0, 2.0, 2.0, 3.0, "routed"),
    ]
    assert column(records.tickets, "abandoned") == [False, True, False, True, False]
    assert column(records.tickets, "first_response_at") == [0.0, None, 1.0, None, 2.0]
    tier2 = [r for r in rows if r[1] == "tier2"]
    assert all(r[4] is None and r[5] is None and r[6] == "open" for r in tier2)


def test_whatever_is_in_progress_at_the_end_stays_open() -> None:
    """At the end of the run: handling in progress, waiting tickets and pauses stay open."""
    desk = team("desk", 1, params(2.0, {"pause": 1.0}, pause=Fixed(5.0)))
    records = run_with(model([desk], hours=3.0), [(0.0, "P3"), (0.5, "P3"), (1.0, "P3")])
    assert visit_rows(records) == [
        (0, "desk", 0, 0.0, 0.0, 2.0, "paused"),
        (1, "desk", 0, 0.5, 2.0, None, "open"),
        (2, "desk", 0, 1.0, None, None, "open"),
    ]
    assert column(records.pauses, "end") == [None]
    assert column(records.tickets, "resolved_at") == [None, None, None]


def test_outside_tickets_take_one_handling() -> None:
    """Tickets added from outside with single handling are resolved after one handling,
    whatever the team's routing, and appear under their label."""
    m = model([team("desk", 1, params(1.0, {"tier2": 1.0})), team("tier2", 1)])
    run = SupportRun(m, streams())
    run.add_tickets(np.array([1.0, 0.0]), "P1", "incident:web", team="desk", single_handling=True)
    records = run.run()
    assert visit_rows(records) == [
        (0, "desk", 0, 0.0, 0.0, 1.0, "resolved"),
        (1, "desk", 0, 1.0, 1.0, 2.0, "resolved"),
    ]
    assert column(records.tickets, "service") == ["incident:web", "incident:web"]
    assert column(records.tickets, "customer") == [None, None]


def test_tickets_opened_during_the_run_notify_their_resolution() -> None:
    """open_ticket, called from the clock, queues a ticket now and reports its resolution."""
    m = model([team("desk", 1, params(2.0))])
    run = SupportRun(m, streams())
    resolved: list[tuple[int, float]] = []

    def failure(_: object) -> None:
        run.open_ticket(
            run.floor.clock.now, "desk", "P2", "incident:db", lambda t, at: resolved.append((t, at))
        )

    run.floor.clock.timeout(3.0).callbacks.append(failure)
    records = run.run()
    assert resolved == [(0, 5.0)]
    assert column(records.tickets, "opened_at") == [3.0]
    assert column(records.tickets, "resolved_at") == [5.0]


def test_same_streams_give_identical_tables() -> None:
    """Two runs with the same streams are identical; another seed gives other numbers."""
    m = model(
        [
            team(
                "desk",
                ([0.0, 8.0, 18.0], [1, 3, 1]),
                params(
                    Exponential(0.5),
                    {"resolved": 0.6, "vendor": 0.2, "pause": 0.2},
                    pause=Exponential(2.0),
                    patience=Exponential(3.0),
                    preempt=frozenset({"P1"}),
                ),
            ),
            supplier(
                "vendor", [(0.0, 10.0), (30.0, 60.0), (70.0, 200.0)], params(Exponential(4.0))
            ),
        ],
        services=[
            service(
                "payroll",
                "desk",
                100.0,
                2.0,
                ("", "finance"),
                ServiceParams(
                    np.array([0.1, 0.3, 0.6]), np.array([0.3, 0.7]), 0.2, Exponential(5.0)
                ),
            )
        ],
    )
    first, again, other = (simulate_support(m, streams(s)) for s in (5, 5, 6))
    for name in ("tickets", "visits", "pauses", "team_stats"):
        assert getattr(first, name).equals(getattr(again, name))
    assert not first.visits.equals(other.visits)


def test_warm_up_tickets_are_in_the_tables() -> None:
    """Tickets opened before the measured start are recorded too; team stats cover the window."""
    m = model(
        [team("desk", 2, params(0.2))],
        services=[service("payroll", "desk", 30.0, 3.0)],
        hours=30.0,
        start=10.0,
    )
    records = simulate_support(m, streams())
    opened = np.array(column(records.tickets, "opened_at"))
    assert (opened < 10.0).sum() > 0 and (opened >= 10.0).sum() > 0
    assert column(records.team_stats, "available_h") == [40.0]


def test_queue_discipline_holds_under_random_load() -> None:
    """With random arrivals and handling: no ticket starts while a higher-ranked or an earlier
    same-ranked ticket is waiting at the same team."""
    m = model(
        [team("desk", 3, params(Exponential(1.0)))],
        services=[
            service(
                "payroll",
                "desk",
                400.0,
                2.7,
                ("",),
                ServiceParams(np.array([0.2, 0.3, 0.5]), np.array([1.0])),
            )
        ],
        hours=400.0,
    )
    records = simulate_support(m, streams(11))
    ranks = {p: k for k, p in enumerate(PRIORITIES)}
    rank = np.array([ranks[p] for p in column(records.tickets, "priority")])
    v = records.visits
    assigned = np.array(column(v, "assigned_at"), dtype=float)
    started = np.array([np.nan if s is None else s for s in column(v, "started_at")])
    r = rank[np.array(column(v, "ticket_id"))]
    done = ~np.isnan(started)
    s, a, k = started[done], assigned[done], r[done]
    waiting = (a[None, :] <= s[:, None]) & (started[done][None, :] > s[:, None])
    jumped = waiting & (
        (k[None, :] < k[:, None]) | ((k[None, :] == k[:, None]) & (a[None, :] < a[:, None]))
    )
    assert done.sum() > 800
    assert not jumped.any()


def test_adding_a_team_leaves_other_teams_numbers_unchanged() -> None:
    """Streams are keyed by name: a new service and team do not shift an existing one's draws."""
    payroll = service(
        "payroll",
        "desk",
        200.0,
        1.5,
        ("",),
        ServiceParams(np.array([0.2, 0.3, 0.5]), np.array([1.0])),
    )
    desk = team(
        "desk", 2, params(Exponential(1.0), {"resolved": 0.7, "pause": 0.3}, pause=Fixed(2.0))
    )
    alone = model([desk], services=[payroll], hours=200.0)
    hr = service("hr", "hr_team", 200.0, 3.0)
    together = model(
        [desk, team("hr_team", 1, params(Exponential(0.2)))], services=[payroll, hr], hours=200.0
    )

    def payroll_tickets(records: SupportRecords) -> list[tuple[Any, ...]]:
        t = records.tickets
        rows = zip(
            column(t, "service"),
            column(t, "priority"),
            column(t, "opened_at"),
            column(t, "first_response_at"),
            column(t, "resolved_at"),
            strict=True,
        )
        return [r for r in rows if r[0] == "payroll"]

    first = payroll_tickets(simulate_support(alone, streams(3)))
    second = payroll_tickets(simulate_support(together, streams(3)))
    assert len(first) > 200
    assert first == second


@pytest.mark.parametrize(
    ("desk_a_roster", "desk_b_roster", "first"),
    [
        # The team whose previous roster change came earlier takes up its increase first,
        # whatever the team order.
        ([0.0, 3.0, 5.0], [0.0, 2.0, 5.0], "b"),
        ([0.0, 2.0, 5.0], [0.0, 3.0, 5.0], "a"),
        # Previous changes at one instant: the team whose chain reaches the run start first
        # goes first; chains of equal length fall back on the team order.
        ([0.0, 1.0, 2.0, 5.0], [0.0, 2.0, 5.0], "b"),
        ([0.0, 2.0, 5.0], [0.0, 2.0, 5.0], "a"),
    ],
)
def test_roster_increases_at_one_instant_follow_the_roster_order(
    desk_a_roster: list[float], desk_b_roster: list[float], first: str
) -> None:
    """Two teams whose agents come on duty at the same instant while tickets wait take them up
    in the order of their roster changes (``Floor._roster_order``); that order decides which
    hand-off, ending at one instant, reaches a shared third team first."""
    handoff = params(1.0, {"c": 1.0})
    desk_a = team("a", (desk_a_roster, [0] * (len(desk_a_roster) - 1) + [1]), handoff)
    desk_b = team("b", (desk_b_roster, [0] * (len(desk_b_roster) - 1) + [1]), handoff)
    m = model([desk_a, desk_b, team("c", 1)], hours=20.0)
    run = SupportRun(m, streams())
    run.add_tickets(np.array([1.0]), "P3", m.services[0].name, team="a")
    run.add_tickets(np.array([1.0]), "P3", m.services[0].name, team="b")
    rows = visit_rows(run.run())
    c_start = {"a": (7.0, 6.0)[first == "a"], "b": (7.0, 6.0)[first == "b"]}
    assert rows == [
        (0, "a", 0, 1.0, 5.0, 6.0, "routed"),
        (0, "c", 1, 6.0, c_start["a"], c_start["a"] + 1.0, "resolved"),
        (1, "b", 0, 1.0, 5.0, 6.0, "routed"),
        (1, "c", 1, 6.0, c_start["b"], c_start["b"] + 1.0, "resolved"),
    ]


def _arrival_trace(
    times: list[float],
    delays: list[float],
    follow: list[float],
    scheduled: list[tuple[float, int]],
    end: float,
    merged: bool,
) -> list[tuple[str, int, float]]:
    """What happens on a clock where arrival ``i`` (at ``times[i]``) schedules its handling
    ``delays[i]`` later, which may schedule a follow-up ``follow[i]`` later (none if negative),
    around events ``scheduled`` before the run as ``(instant, priority)``: arrivals merged by
    ``Clock.run_until`` or, for reference, a chain of arrival events run by simpy's own loop."""
    clock = Clock()
    trace: list[tuple[str, int, float]] = []

    def handled(event: Event) -> None:
        subject: int = event.subject  # type: ignore[attr-defined]
        trace.append(("event", subject, clock.now))
        if subject < 1000 and follow[subject] >= 0.0:
            clock.at(Due(callbacks, subject + 1000), clock.now + follow[subject])

    callbacks: list[Callable[[Event], None]] = [handled]

    def admit(row: int, ticket: int, now: float) -> None:
        trace.append(("arrival", ticket, now))
        clock.at(Due(callbacks, ticket), now + delays[ticket])

    for j, (instant, priority) in enumerate(scheduled):
        clock.at(Due(callbacks, 2000 + j), instant, EventPriority(priority))
    if merged:
        clock.run_until(end, times, [admit] * len(times), next(clock.sequence))
        return trace

    def arrive(event: Event) -> None:
        i: int = event.subject  # type: ignore[attr-defined]
        admit(i, i, times[i])
        if i + 1 < len(times):
            clock.at(Due(arrive_callbacks, i + 1), times[i + 1])

    arrive_callbacks: list[Callable[[Event], None]] = [arrive]
    clock.at(Due(arrive_callbacks, 0), times[0])
    clock.run(until=end)
    return trace


def test_arrivals_merged_into_the_clock_keep_the_order_of_arrival_events() -> None:
    """Clock.run_until admits every arrival exactly where a chain of arrival events (each put on
    the clock when the one before is processed) would be, ties with other events included."""
    rng = np.random.default_rng(7)
    for _ in range(200):
        n = int(rng.integers(1, 30))
        times = np.sort(rng.integers(0, 50, n) * 0.5).tolist()
        delays = (rng.integers(0, 4, n) * 0.5).tolist()
        follow = (rng.integers(-2, 3, n) * 0.5).tolist()
        scheduled = [
            (float(rng.integers(0, 50) * 0.5), int(rng.integers(0, 2)))
            for _ in range(int(rng.integers(0, 8)))
        ]
        end = float(rng.integers(1, 26))
        merged = _arrival_trace(times, delays, follow, scheduled, end, merged=True)
        assert merged == _arrival_trace(times, delays, follow, scheduled, end, merged=False)
        assert [t for kind, _, t in merged if kind == "arrival"] == [t for t in times if t < end]


def test_waiting_tickets_are_taken_alike_at_a_roster_increase_and_at_a_finish() -> None:
    """Whether agents come on duty or finish a ticket, they take the highest-ranked earliest
    waiting ticket, passing over those whose patience has run out."""
    desk = team("desk", ((0.0, 2.0), (0, 1)), params(1.0, patience=Fixed(1.5)))
    records = run_with(
        model([desk], hours=10.0),
        [(0.0, "P3"), (1.0, "P3"), (1.2, "P3"), (1.4, "P3"), (2.5, "P3")],
    )
    assert visit_rows(records) == [
        (0, "desk", 0, 0.0, None, 1.5, "abandoned"),
        (1, "desk", 0, 1.0, 2.0, 3.0, "resolved"),
        (2, "desk", 0, 1.2, None, 2.7, "abandoned"),
        (3, "desk", 0, 1.4, None, 2.9, "abandoned"),
        (4, "desk", 0, 2.5, 3.0, 4.0, "resolved"),
    ]


def test_suppliers_and_teams_route_and_reopen_alike() -> None:
    """A ticket handed on by a supplier or by a team joins the next desk as a new visit at the
    end of handling; one resolved by either reopens back to the desk that resolved it."""
    svc = ServiceParams(np.array([0.0, 0.0, 1.0]), np.array([1.0]), 1.0, Fixed(2.0))
    m = model(
        [
            team("desk", 1, params(1.0, {"vendor": 1.0})),
            supplier("vendor", [(0.0, 100.0)], params(2.0, {"tier2": 1.0})),
            team("tier2", 1, params(0.5, {"resolved": 1.0})),
        ],
        services=[service("payroll", "desk", 100.0, 0.0, ("",), svc)],
    )
    records = run_with(m, [(0.0, "P3")])
    assert visit_rows(records) == [
        (0, "desk", 0, 0.0, 0.0, 1.0, "routed"),
        (0, "vendor", 1, 1.0, 1.0, 3.0, "routed"),
        (0, "tier2", 2, 3.0, 3.0, 3.5, "resolved"),
        (0, "tier2", 3, 5.5, 5.5, 6.0, "resolved"),
    ]
    supplier_first = model(
        [
            supplier("vendor", [(0.0, 100.0)], params(2.0, {"desk": 1.0})),
            team("desk", 1, params(1.0, {"resolved": 1.0})),
        ],
        services=[service("payroll", "vendor", 100.0, 0.0, ("",), svc)],
    )
    records = run_with(supplier_first, [(0.0, "P3")])
    assert visit_rows(records)[:2] == [
        (0, "vendor", 0, 0.0, 0.0, 2.0, "routed"),
        (0, "desk", 1, 2.0, 2.0, 3.0, "resolved"),
    ]
    resolved_by_supplier = model(
        [supplier("vendor", [(0.0, 100.0)], params(2.0))],
        services=[service("payroll", "vendor", 100.0, 0.0, ("",), svc)],
    )
    records = run_with(resolved_by_supplier, [(0.0, "P3")])
    assert visit_rows(records) == [
        (0, "vendor", 0, 0.0, 0.0, 2.0, "resolved"),
        (0, "vendor", 1, 4.0, 4.0, 6.0, "resolved"),
    ]
    assert column(records.pauses, "reason") == ["reopen"]


# The drain ends once nothing measured can change any more ------------------------------------


def _run(
    m: SupportModel, settled: bool, seed: int = 5, arrivals: Sequence[float] = ()
) -> tuple[SupportRun, SupportRecords]:
    run = SupportRun(m, streams(seed), end_when_settled=settled)
    for hour in arrivals:
        run.add_tickets(np.array([hour]), priority="P3", label=m.services[0].name)
    return run, run.run()


def _opened_before(records: SupportRecords, instant: float) -> dict[str, pa.Table]:
    """The rows of the tickets opened before ``instant``: their tickets, visits and pauses."""
    opened = np.array(column(records.tickets, "opened_at"))
    ids = np.array(column(records.tickets, "ticket_id"))[opened < instant]
    kept = pa.array(ids)
    return {
        "tickets": records.tickets.filter(pc.is_in(records.tickets["ticket_id"], kept)),
        "visits": records.visits.filter(pc.is_in(records.visits["ticket_id"], kept)),
        "pauses": records.pauses.filter(pc.is_in(records.pauses["ticket_id"], kept)),
    }


def test_the_drain_ends_once_every_ticket_of_the_span_is_settled() -> None:
    """With routing, pauses, reopening, patience, preemption and a supplier, the run stops in
    the drain once every ticket opened before the end of the span is settled, and their rows
    and the team figures are those of the run that went on to the end."""
    m = model(
        [
            team(
                "desk",
                ([0.0, 8.0, 18.0, 24.0, 32.0, 42.0, 48.0], [2, 4, 2, 2, 4, 2, 2]),
                params(
                    Exponential(0.4),
                    {"resolved": 0.6, "vendor": 0.2, "pause": 0.2},
                    pause=Exponential(2.0),
                    patience=Exponential(6.0),
                    preempt=frozenset({"P1"}),
                ),
            ),
            supplier(
                "vendor", [(0.0, 10.0), (30.0, 60.0), (70.0, 400.0)], params(Exponential(4.0))
            ),
        ],
        services=[
            service(
                "payroll",
                "desk",
                400.0,
                2.0,
                ("", "finance"),
                ServiceParams(
                    np.array([0.1, 0.3, 0.6]), np.array([0.3, 0.7]), 0.2, Exponential(5.0)
                ),
            )
        ],
        hours=400.0,
        start=10.0,
    )
    m = dataclasses.replace(m, horizon_end=100.0)
    for seed in range(5):
        (early, ours), (full, theirs) = _run(m, True, seed), _run(m, False, seed)
        assert 100.0 <= early.ended < 400.0 and full.ended == 400.0
        for name, table in _opened_before(ours, 100.0).items():
            assert table.equals(_opened_before(theirs, 100.0)[name]), name
        assert ours.team_stats.equals(theirs.team_stats)
        # the tickets that never opened are gone, and the rest numbered without a gap
        n = ours.tickets.num_rows
        assert column(ours.tickets, "ticket_id") == list(range(n))
        assert n < theirs.tickets.num_rows
        assert max(column(ours.tickets, "opened_at")) <= early.ended
        assert set(column(ours.visits, "ticket_id")) <= set(range(n))


def test_a_reopening_still_to_come_keeps_the_run_going() -> None:
    """A ticket of the span resolved and due to reopen in the drain holds the run until it is
    resolved again; a ticket due to open after that is not in the tables."""
    svc = ServiceParams(np.array([0.0, 0.0, 1.0]), np.array([1.0]), 1.0, Fixed(30.0))
    m = model([team()], services=[service("payroll", "desk", 200.0, 0.0, ("",), svc)], hours=200.0)
    m = dataclasses.replace(m, horizon_end=100.5)
    early, ours = _run(m, True, arrivals=[99.0, 101.0, 190.0])
    _, theirs = _run(m, False, arrivals=[99.0, 101.0, 190.0])
    step = simkit.engine.support.SETTLED_CHECK_EVERY_H
    checks = 100.5 + step * np.arange(20)
    assert early.ended == checks[checks > 131.0][0]  # the first check after the second resolution
    for records in (ours, theirs):
        assert column(records.tickets, "resolved_at")[0] == 131.0
    assert column(ours.tickets, "opened_at") == [99.0, 101.0]
    assert column(theirs.tickets, "opened_at") == [99.0, 101.0, 190.0]


def test_a_first_visit_still_in_hand_keeps_the_run_going() -> None:
    """A ticket of the span still in its first handling, with nothing else to wait for, holds
    the run until that handling ends."""
    m = dataclasses.replace(model([team("desk", 1, params(40.0))], hours=200.0), horizon_end=100.5)
    early, records = _run(m, True, arrivals=[99.0])
    checks = 100.5 + simkit.engine.support.SETTLED_CHECK_EVERY_H * np.arange(20)
    assert early.ended == checks[checks > 139.0][0]
    assert column(records.tickets, "resolved_at") == [139.0]


def test_a_pause_ending_after_the_run_does_not_hold_it() -> None:
    """A ticket of the span awaiting its user past the end of the run stays paused either way:
    it does not keep the drain going."""
    desk = team("desk", 1, params(1.0, {"pause": 1.0}, pause=Fixed(500.0)))
    m = dataclasses.replace(model([desk], hours=200.0), horizon_end=50.0)
    early, records = _run(m, True, arrivals=[10.0])
    assert early.ended == 50.0
    assert column(records.pauses, "end") == [None]


def test_something_busy_outside_the_queues_keeps_the_run_going() -> None:
    """What registers with keep_running_while (a component still down) holds the run."""
    m = dataclasses.replace(model([team()], hours=200.0), horizon_end=50.0)
    run = SupportRun(m, streams(), end_when_settled=True)
    run.keep_running_while(lambda: run.floor.clock.now < 80.0)
    run.run()
    step = simkit.engine.support.SETTLED_CHECK_EVERY_H
    checks = 50.0 + step * np.arange(40)
    assert run.ended == checks[checks >= 80.0][0]
