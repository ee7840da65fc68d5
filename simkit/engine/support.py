"""The support-queue simulation: one replication of a :class:`SupportModel` → Arrow tables.

Arrivals, priorities and customers are sampled up front, in bulk, per service; teams and
suppliers (:mod:`simkit.engine._queues`) then work the tickets on one simpy clock, sharing a
:class:`Floor` (the clock, the ledger, reopening and pauses, roster wake-ups) and recording visits
and pauses as columns (:mod:`simkit.engine._ledger`) that become the ``tickets``, ``visits``,
``pauses`` and ``team_stats`` tables of the design contract at the end.
"""

from __future__ import annotations

import math
from bisect import bisect_left, bisect_right
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cmp_to_key, partial

import numpy as np
import pyarrow as pa
from simpy.core import StopSimulation
from simpy.events import URGENT, Event

from simkit.engine._draws import Draws, Reopening, StreamFactory
from simkit.engine._ledger import AWAITING_USER, OPEN, REOPEN, Ledger
from simkit.engine._queues import Callback, Clock, Desk, Due, Supplier, Team
from simkit.engine._tables import (
    PAUSES_SCHEMA,
    TEAM_STATS_SCHEMA,
    TICKETS_SCHEMA,
    VISITS_SCHEMA,
    TicketColumns,
    pauses_table,
    team_stats_table,
    tickets_and_visits,
)
from simkit.engine.model import SupportModel
from simkit.streams import Streams, stream_name

__all__ = [
    "PAUSES_SCHEMA",
    "TEAM_STATS_SCHEMA",
    "TICKETS_SCHEMA",
    "VISITS_SCHEMA",
    "SupportRecords",
    "simulate_support",
]

NAN = math.nan

END_WHEN_SETTLED = True
"""Whether runs end their drain once nothing measured can change any more (:meth:`SupportRun.run`);
off, every run goes on until ``model.end``. Both give the same measured figures."""

SETTLED_CHECK_EVERY_H = 6.0
"""How often, in run hours, the drain checks whether the run can end (:meth:`SupportRun.run`)."""

BACKLOG_OPENED_BEFORE_H = 1 / 3600
"""A backlog ticket given no age counts as opened this long (a second) before the run begins:
opened before it, its SLA is never measured, even where the run begins at the measured span."""


@dataclass(frozen=True, eq=False)
class SupportRecords:
    """The tables of one replication of a support model (schemas: ``*_SCHEMA``)."""

    tickets: pa.Table
    visits: pa.Table
    pauses: pa.Table
    team_stats: pa.Table

    def __reduce__(self) -> tuple[Callable[..., SupportRecords], tuple[bytes, ...]]:
        """Pickled (from a worker process) as Arrow IPC streams, which are cheaper to write than
        pickled tables and are read back without a copy."""
        tables = (self.tickets, self.visits, self.pauses, self.team_stats)
        return (_records_from_ipc, tuple(_ipc_stream(table) for table in tables))


def _ipc_stream(table: pa.Table) -> bytes:
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    stream: bytes = sink.getvalue().to_pybytes()
    return stream


def _records_from_ipc(*streams: bytes) -> SupportRecords:
    tickets, visits, pauses, team_stats = (pa.ipc.open_stream(s).read_all() for s in streams)
    return SupportRecords(tickets, visits, pauses, team_stats)


def simulate_support(model: SupportModel, streams: Streams, replication: int = 0) -> SupportRecords:
    """Simulate one replication of ``model`` from ``model.origin`` until ``model.end``, or until
    nothing measured can change any more (:meth:`SupportRun.run`).

    Parameters
    ----------
    model
        The compiled support model.
    streams
        The replication's random streams; the same streams give identical tables.
    replication
        Written into the ``replication`` column of every table.

    Returns
    -------
    SupportRecords
        Every ticket opened during the run (warm-up included; in the drain, those opened until
        the run ended), every visit, every pause, and each team's busy and rostered agent-hours
        inside ``[model.start, model.horizon_end)``.
    """
    return SupportRun(model, streams, replication).run()


@dataclass(frozen=True, eq=False)
class _Arrivals:
    """Tickets known before the run starts, sorted by the instant they open."""

    times: np.ndarray
    desk: np.ndarray
    service: np.ndarray
    customer: np.ndarray
    rank: np.ndarray
    single_handling: np.ndarray
    opened: np.ndarray | None = None
    """When each ticket opened, where it differs from the instant it joins its first queue (a
    backlog's tickets: opened before the run, joining at its beginning); ``None``: the same."""

    @property
    def opened_at(self) -> np.ndarray:
        return self.times if self.opened is None else self.opened

    @staticmethod
    def concat(parts: Sequence[_Arrivals]) -> _Arrivals:
        times = np.concatenate([p.times for p in parts])
        order = np.argsort(times, kind="stable")

        def pick(column: str) -> np.ndarray:
            return np.concatenate([getattr(p, column) for p in parts])[order]

        return _Arrivals(
            times=times[order],
            desk=pick("desk"),
            service=pick("service"),
            customer=pick("customer"),
            rank=pick("rank"),
            single_handling=pick("single_handling"),
            opened=(
                None
                if all(p.opened is None for p in parts)
                else np.concatenate([p.opened_at for p in parts])[order]
            ),
        )


def _categorical(u: np.ndarray, probs: np.ndarray) -> np.ndarray:
    """Category indices for uniforms ``u`` under probabilities ``probs``."""
    cumulative = np.cumsum(np.asarray(probs, dtype=np.float64))
    picked = np.searchsorted(cumulative / cumulative[-1], u, side="right")
    return np.minimum(picked, cumulative.size - 1)


def _service_arrivals(
    model: SupportModel, s: int, desk: int, customer_offset: int, streams: Streams
) -> _Arrivals:
    """Non-homogeneous Poisson arrivals of service ``s`` over ``[0, model.end)``."""
    service = model.services[s]
    rates = np.asarray(service.hourly_rate, dtype=np.float64)
    # Separate streams for counts, positions within the hour, priorities and customers: each
    # ticket's draws then depend only on the tickets before it, so a change that starts later
    # (a windowed overlay) leaves every earlier ticket exactly as it was.
    counts = streams(stream_name("arrivals", service.name)).poisson(rates)
    hours = np.repeat(np.arange(rates.size, dtype=np.float64), counts)
    times = np.sort(
        hours + streams(stream_name("arrivals", service.name, "within-hour")).random(hours.size)
    )
    times = times[times < model.end]
    n = times.size
    priority_u = streams(stream_name("mix", service.name)).random(n)
    customer_u = streams(stream_name("mix", service.name, "customer")).random(n)
    regime = np.searchsorted(model.regime_starts, times, side="right") - 1
    rank = np.zeros(n, dtype=np.int64)
    customer = np.zeros(n, dtype=np.int64)
    for k in np.unique(regime):
        here = regime == k
        params = service.params[int(k)]
        rank[here] = _categorical(priority_u[here], params.priority_probs)
        if service.customers:
            customer[here] = _categorical(customer_u[here], params.customer_probs)
    return _Arrivals(
        times=times,
        desk=np.full(n, desk, dtype=np.int64),
        service=np.full(n, s, dtype=np.int64),
        customer=customer + customer_offset if service.customers else np.zeros(n, np.int64),
        rank=rank,
        single_handling=np.zeros(n, dtype=bool),
    )


class Floor:
    """What every desk of a run shares: the clock, the ledger, ticket attributes, reopening,
    and the wake-ups of teams at roster increases."""

    def __init__(self, model: SupportModel, streams: StreamFactory) -> None:
        self.clock = Clock()
        self.ledger = Ledger()
        self.end = float(model.end)
        self.regime_starts: list[float] = np.asarray(model.regime_starts, float).tolist()
        self.ticket_rank: list[int] = []
        self.ticket_reopening: list[Reopening | None] = []
        """Each ticket's reopening (its service's; None where it cannot reopen)."""
        self.single_handling: set[int] = set()
        """Tickets resolved after one handling whatever the routing (incidents)."""
        self.on_resolved: dict[int, Callable[[int, float], None]] = {}
        """Ticket -> called with (ticket, instant) when it is resolved; set ``follows_resolution``."""
        self.reopened: set[int] = set()
        self._reopen = [
            Reopening.of(model.services[s], streams) for s in range(len(model.services))
        ]
        self.follows_resolution = any(r is not None for r in self._reopen)
        """Whether anything happens on resolution (a reopen, a watcher); else skip the call."""
        self._wakeups: dict[float, list[Team]] = {}
        """Instant -> teams to wake then (:meth:`wake`); one event per instant."""
        self._wake_callbacks: list[Callback] = [self._wake]
        self._roster_orders: dict[tuple[int, int, int, int], int] = {}
        """``(team, change, other team, change)`` -> order of the previous changes, once known."""

    def regime(self, t: float) -> int:
        """Index of the regime in force at ``t``."""
        return bisect_right(self.regime_starts, t) - 1

    def wake(self, team: Team, instant: float) -> None:
        """Have ``team`` take up its roster increase at ``instant``, before anything else then."""
        teams = self._wakeups.get(instant)
        if teams is None:
            self._wakeups[instant] = [team]
            self.clock.at(self.clock.due(self._wake_callbacks, 0), instant, URGENT)
        else:
            teams.append(team)

    def _wake(self, event: Event) -> None:
        now: float = self.clock._now
        teams = self._wakeups.pop(now)
        self.clock.spare.append(event)  # type: ignore[arg-type]
        if len(teams) > 1:
            teams.sort(key=cmp_to_key(partial(self._roster_order, now)))
        for team in teams:
            team.wake(now)

    def _roster_order(self, instant: float, a: Team, b: Team) -> int:
        """Negative when ``a`` takes up its roster change at ``instant`` before ``b`` does.

        The order is that of a chain of roster events per team, each change put on the clock
        when the team's previous one takes effect (the first ones when the run opens, in team
        order): the earlier previous change goes first, ties going further back. Teams act
        independently at a roster change, but the order of the work they start decides the
        order of hand-offs that end at one instant.
        """
        i = bisect_left(a.roster_times, instant)
        j = bisect_left(b.roster_times, instant)
        path: list[tuple[int, int, int, int]] = []
        while True:
            i -= 1
            j -= 1
            known = self._roster_orders.get((a.index, i, b.index, j))
            if known is not None:
                order = known
                break
            if i == 0 or j == 0:
                order = (a.index - b.index) if i == j else (-1 if i == 0 else 1)
                break
            ta, tb = a.roster_times[i], b.roster_times[j]
            if ta != tb:
                order = -1 if ta < tb else 1
                break
            path.append((a.index, i, b.index, j))
        for key in path:
            self._roster_orders[key] = order
        return order

    def reopening_of(self, service: int) -> Reopening | None:
        """The reopening of service index ``service`` (None past the model's services: labels
        of outside tickets)."""
        return self._reopen[service] if service < len(self._reopen) else None

    def resolve(self, ticket: int, desk: Desk, now: float) -> None:
        """``ticket`` was resolved by ``desk`` at ``now``: notify, and maybe schedule a reopen."""
        if self.on_resolved:
            notify = self.on_resolved.pop(ticket, None)
            if notify is not None:
                notify(ticket, now)
        reopen = self.ticket_reopening[ticket]
        if reopen is not None:
            self.reopen(ticket, reopen, desk, now)

    def reopen(self, ticket: int, reopen: Reopening, desk: Desk, now: float) -> None:
        """Maybe reopen ``ticket``, just resolved by ``desk`` at ``now``, under ``reopen``: it
        then comes back to ``desk`` (and is never reopened again)."""
        if ticket in self.reopened:
            return
        probability, after = reopen.rules[self.regime(now) if reopen.varies else 0]
        if after is None or reopen.chance() >= probability:
            return
        self.reopen_after(ticket, after, desk, now)

    def reopen_after(self, ticket: int, after: Draws, desk: Desk, now: float) -> None:
        """``ticket``, just resolved by ``desk`` at ``now``, reopens: it comes back to ``desk``
        after a delay drawn from ``after`` unless the run is over by then."""
        back = now + after()
        if back >= self.end:
            return
        self.reopened.add(ticket)
        self.ledger.pause(ticket, now, back, REOPEN)
        self.clock.at(self.clock.due(desk.rejoin_callbacks, ticket), back)

    def pause(self, ticket: int, desk: Desk, now: float, duration: float) -> None:
        """``ticket`` awaits the user for ``duration`` and then rejoins ``desk``."""
        back = now + duration
        if back >= self.end:
            self.ledger.pause(ticket, now, NAN, AWAITING_USER)
            return
        self.ledger.pause(ticket, now, back, AWAITING_USER)
        self.clock.at(self.clock.due(desk.rejoin_callbacks, ticket), back)


class SupportRun:
    """One replication of a support model; engine-internal (use :func:`simulate_support`).

    Besides the services' own demand it takes tickets generated elsewhere (component-failure
    incidents): :meth:`add_tickets` before :meth:`run`, or :meth:`open_ticket` from inside the run.
    """

    def __init__(
        self,
        model: SupportModel,
        streams: Streams,
        replication: int = 0,
        *,
        end_when_settled: bool | None = None,
    ) -> None:
        self.model = model
        self.streams = streams
        self.replication = replication
        self.end_when_settled = END_WHEN_SETTLED if end_when_settled is None else end_when_settled
        """Whether the drain ends once nothing measured can change any more (see :meth:`run`)."""
        self._busy: list[Callable[[], bool]] = []
        """Whether something outside the queues still has to finish before the run may end."""
        self.floor = Floor(model, streams)
        n_priorities = len(model.priorities)
        self.desks: list[Desk] = [
            Supplier(self.floor, i, team)
            if team.kind == "supplier"
            else Team(self.floor, i, team, n_priorities)
            for i, team in enumerate(model.teams)
        ]
        for desk in self.desks:
            desk.compile(model, self.desks, streams)
        self._desk_by_name = {d.name: d for d in self.desks}
        self.service_names: list[str] = [s.name for s in model.services]
        self.customer_names: list[str] = [""]
        self._customer_offsets: list[int] = []
        for service in model.services:
            self._customer_offsets.append(len(self.customer_names))
            self.customer_names.extend(service.customers)
        self._extra: list[_Arrivals] = []
        self._late_opened: list[float] = []
        self._late_service: list[int] = []
        self._arrival_times: list[float] = []
        self._arrival_desks: list[Callable[[int, int, float], None]] = []
        """The ``assign`` of each arrival's entry desk."""
        self._running = False
        self._n_arrivals = 0
        self._settled_before = 0
        """Arrivals ``0 … _settled_before−1`` open before the end of the measured span."""
        self._reserved_seen = 0
        self._visit_seen = 0
        self._pause_seen = 0
        self._pause_until = -math.inf
        self._check_callbacks: list[Callback] = [self._check_settled]
        self.ended = math.nan
        """The run hour at which the run ended (``model.end``, or sooner; see :meth:`run`)."""

    def keep_running_while(self, busy: Callable[[], bool]) -> None:
        """Do not end the drain early while ``busy()`` is true (e.g. a component still down)."""
        self._busy.append(busy)

    def _label(self, label: str) -> int:
        if label not in self.service_names:
            self.service_names.append(label)
        return self.service_names.index(label)

    def _rank(self, priority: str) -> int:
        if priority not in self.model.priorities:
            raise ValueError(
                f'unknown priority "{priority}"; the model has {self.model.priorities}'
            )
        return self.model.priorities.index(priority)

    def _entry(self, team: str | None, label: str) -> Desk:
        if team is None:
            entries = [s.entry for s in self.model.services if s.name == label]
            if not entries:
                raise ValueError(f'"{label}" is not a service of the model: name the team')
            team = entries[0]
        if team not in self._desk_by_name:
            raise ValueError(f'unknown team "{team}"')
        return self._desk_by_name[team]

    def add_tickets(
        self,
        times: np.ndarray,
        priority: str,
        label: str,
        team: str | None = None,
        single_handling: bool = False,
    ) -> None:
        """Tickets opening at run hours ``times`` in ``team``'s queue (default: the entry team of
        the service named ``label``). With ``single_handling`` each is resolved after one handling
        and never abandons (an incident the model opens, not a caller); otherwise it is routed
        (and, for a service's ticket, reopened) like any other."""
        at = np.sort(np.asarray(times, dtype=np.float64))
        at = at[at < self.model.end]
        n = at.size
        self._extra.append(
            _Arrivals(
                times=at,
                desk=np.full(n, self._entry(team, label).index, dtype=np.int64),
                service=np.full(n, self._label(label), dtype=np.int64),
                customer=np.zeros(n, dtype=np.int64),
                rank=np.full(n, self._rank(priority), dtype=np.int64),
                single_handling=np.full(n, single_handling),
            )
        )

    def open_ticket(
        self,
        now: float,
        team: str,
        priority: str,
        label: str,
        on_resolved: Callable[[int, float], None] | None = None,
    ) -> int:
        """During the run (from a clock callback at ``now``): open a single-handling ticket in
        ``team``'s queue; ``on_resolved(ticket, instant)`` is called when it is resolved."""
        if not self._running:
            raise RuntimeError("open_ticket is for use during run(); use add_tickets before it.")
        desk, rank, service = self._entry(team, label), self._rank(priority), self._label(label)
        floor = self.floor
        ticket = len(floor.ticket_rank)
        floor.ticket_rank.append(rank)
        floor.ticket_reopening.append(floor.reopening_of(service))
        floor.single_handling.add(ticket)
        self._late_opened.append(now)
        self._late_service.append(service)
        if on_resolved is not None:
            floor.on_resolved[ticket] = on_resolved
            floor.follows_resolution = True
        desk.join(ticket, now)
        return ticket

    def run(self) -> SupportRecords:
        """Simulate until ``model.end`` and build the tables.

        The drain (from the end of the measured span to ``model.end``) ends sooner once every
        ticket opened before the end of the span is settled — no visit of it still open, no
        pause or reopening of it still to end — and nothing registered with
        :meth:`keep_running_while` is busy: what happens after that instant changes no
        measured figure. It is checked every :data:`SETTLED_CHECK_EVERY_H` hours of the drain.
        The tables then hold the tickets opened until that instant (``ended``).
        """
        model = self.model
        floor = self.floor
        parts = [self._backlog()]
        parts += [
            _service_arrivals(
                model,
                s,
                self._desk_by_name[service.entry].index,
                self._customer_offsets[s],
                self.streams,
            )
            for s, service in enumerate(model.services)
        ]
        arrivals = _Arrivals.concat(parts + self._extra)
        floor.ticket_rank.extend(arrivals.rank.tolist())
        reopenings = np.empty(len(self.service_names), dtype=object)
        reopenings[:] = [floor.reopening_of(s) for s in range(len(self.service_names))]
        floor.ticket_reopening.extend(reopenings[arrivals.service].tolist())
        floor.single_handling.update(np.flatnonzero(arrivals.single_handling).tolist())
        # A backlog ticket's first visit counts as assigned when the ticket opened (its team has
        # held it since before the run), so that no OLA measures it either.
        floor.ledger.reserve_first_visits(arrivals.desk, arrivals.opened_at)
        self._arrival_times = arrivals.times.tolist()
        assigners = np.empty(len(self.desks), dtype=object)
        assigners[:] = [d.assign for d in self.desks]
        self._arrival_desks = assigners[arrivals.desk].tolist()
        self._n_arrivals = n = len(self._arrival_times)
        horizon_end = float(model.horizon_end)
        self._settled_before = bisect_left(self._arrival_times, horizon_end)
        if self.end_when_settled and horizon_end < float(model.end):
            floor.clock.at(Due(self._check_callbacks, 0), horizon_end)
        # The number an arrival event scheduled here would take (see Clock.run_until).
        first_arrival = next(floor.clock.sequence)
        self._running = True
        admitted = floor.clock.run_until(
            float(model.end), self._arrival_times, self._arrival_desks, first_arrival
        )
        self._running = False
        self.ended = float(floor.clock.now)
        for desk in self.desks:
            desk.close(self.ended)
        if admitted < n:
            arrivals = self._forget_unarrived(arrivals, admitted)
        return self._records(arrivals)

    def _backlog(self) -> _Arrivals:
        """The tickets open when the run begins (the model's ``backlog``), in the order a queue
        takes them — highest priority first, then oldest: they join their team's queues at run
        hour 0, before any arrival then, so that free agents start the first of them, and count
        as opened ``age`` before it — at least a moment before, so that they are never
        measured."""
        groups = sorted(self.model.backlog, key=lambda g: (self._rank(g.priority), -g.age))
        counts = [g.tickets for g in groups]
        n = sum(counts)

        def each(values: list[float] | list[int], dtype: type) -> np.ndarray:
            return np.repeat(np.asarray(values, dtype=dtype), counts)

        return _Arrivals(
            times=np.zeros(n),
            desk=each([self._entry(g.team, g.service).index for g in groups], np.int64),
            service=each([self._label(g.service) for g in groups], np.int64),
            customer=np.zeros(n, dtype=np.int64),
            rank=each([self._rank(g.priority) for g in groups], np.int64),
            single_handling=np.zeros(n, dtype=bool),
            opened=each([-max(g.age, BACKLOG_OPENED_BEFORE_H) for g in groups], np.float64),
        )

    def _watched(self, tickets: np.ndarray) -> np.ndarray:
        """Which of ``tickets`` opened before the end of the measured span."""
        late = tickets >= self._n_arrivals
        watched = tickets < self._settled_before
        if late.any():
            opened = np.asarray(self._late_opened, dtype=np.float64)
            watched[late] = opened[tickets[late] - self._n_arrivals] < self.model.horizon_end
        return watched

    def _check_settled(self, event: Event) -> None:
        """End the run now if nothing measured can change any more; else look again later."""
        now: float = self.floor.clock._now
        if self._settled(now):
            raise StopSimulation(None)
        following = now + SETTLED_CHECK_EVERY_H
        if following < float(self.model.end):
            self.floor.clock.at(Due(self._check_callbacks, 0), following)

    def _settled(self, now: float) -> bool:
        """Whether every ticket opened before the end of the measured span is settled at
        ``now``. Each check resumes where the last one stopped: a closed visit stays closed,
        and a ticket settled before the check cannot get a new visit."""
        ledger = self.floor.ledger
        # The first visits of the span's tickets, in ticket order: the first one still open.
        try:
            self._reserved_seen = ledger.outcome.index(
                OPEN, self._reserved_seen, self._settled_before
            )
            return False
        except ValueError:
            self._reserved_seen = self._settled_before
        # Later visits, in the order they were opened: those still open, of the span's tickets.
        first = max(self._visit_seen, self._n_arrivals)
        outcome = np.asarray(ledger.outcome[first:], dtype=np.int8)
        open_rows = np.flatnonzero(outcome == OPEN)
        if open_rows.size:
            tickets = np.asarray(ledger.visit_ticket[first:], dtype=np.int64)[open_rows]
            watched = np.flatnonzero(self._watched(tickets))
            if watched.size:
                self._visit_seen = first + int(open_rows[watched[0]])
                return False
        self._visit_seen = first + outcome.size
        # Pauses and reopenings: each brings its ticket back at its end (NaN: after the run).
        ends = np.asarray(ledger.pause_end[self._pause_seen :], dtype=np.float64)
        if ends.size:
            who = np.asarray(ledger.pause_ticket[self._pause_seen :], dtype=np.int64)
            mine = ends[self._watched(who) & ~np.isnan(ends)]
            if mine.size:
                self._pause_until = max(self._pause_until, float(mine.max()))
            self._pause_seen += ends.size
        if self._pause_until >= now:
            return False
        return not any(busy() for busy in self._busy)

    def _forget_unarrived(self, arrivals: _Arrivals, admitted: int) -> _Arrivals:
        """The run ended before arrivals ``admitted …`` opened: they, their reserved first
        visits, and their numbers go (later tickets are renumbered)."""
        count = self._n_arrivals - admitted
        floor = self.floor
        floor.ledger.forget_unarrived(admitted, count)
        del floor.ticket_rank[admitted : self._n_arrivals]
        del floor.ticket_reopening[admitted : self._n_arrivals]
        end = self._n_arrivals
        floor.reopened = {t - count if t >= end else t for t in floor.reopened}
        return _Arrivals(
            times=arrivals.times[:admitted],
            desk=arrivals.desk[:admitted],
            service=arrivals.service[:admitted],
            customer=arrivals.customer[:admitted],
            rank=arrivals.rank[:admitted],
            single_handling=arrivals.single_handling[:admitted],
            opened=None if arrivals.opened is None else arrivals.opened[:admitted],
        )

    def _records(self, arrivals: _Arrivals) -> SupportRecords:
        model = self.model
        floor = self.floor
        late = len(self._late_opened)
        tickets = TicketColumns(
            opened=np.concatenate([arrivals.opened_at, np.asarray(self._late_opened, np.float64)]),
            service=np.concatenate([arrivals.service, np.asarray(self._late_service, np.int64)]),
            customer=np.concatenate([arrivals.customer, np.zeros(late, np.int64)]),
            rank=np.concatenate(
                [arrivals.rank, np.asarray(floor.ticket_rank[arrivals.rank.size :], np.int64)]
            ),
            service_names=self.service_names,
            customer_names=self.customer_names,
            priorities=model.priorities,
        )
        ticket_table, visit_table = tickets_and_visits(
            floor.ledger, tickets, self.desks, floor.reopened, model.origin, self.replication
        )
        return SupportRecords(
            tickets=ticket_table,
            visits=visit_table,
            pauses=pauses_table(floor.ledger, model.origin, self.replication),
            team_stats=team_stats_table(
                floor.ledger,
                self.desks,
                (float(model.start), float(model.horizon_end)),
                self.ended,
                self.replication,
            ),
        )
