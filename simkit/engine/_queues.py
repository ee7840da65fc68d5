"""Teams and suppliers as queues on one simpy clock — the hot path of a support run.

There is no simpy process or resource request per ticket. A team is a counter of busy agents,
the agents on duty (a roster step function driven by a chain of events), and one FIFO deque per
priority rank. A ticket joining a team either starts at once or waits; each start schedules one
:class:`Due` event at the end of handling, whose callback routes the ticket and lets the freed
agent pull the next waiting one. Waiting tickets that run out of patience are noticed when they
reach the head of their queue (their abandonment instant is known when they join, and nothing
else depends on them in between), so patience costs no events either.

Every instant is passed explicitly (``now``) and events are put on the clock at absolute times,
so arrivals can be admitted in runs: the arrival event admits every pre-sampled arrival due
before the next scheduled event.
"""

from __future__ import annotations

import math
from bisect import bisect_left, bisect_right
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from heapq import heappush

import numpy as np
import simpy
from simpy.events import NORMAL, URGENT, Event, EventPriority

from simkit.distributions import Distribution
from simkit.engine._draws import Draws, distribution_draws, uniform_draws
from simkit.engine._ledger import (
    ABANDONED,
    AWAITING_USER,
    PAUSED,
    REOPEN,
    RESOLVED,
    ROUTED,
    Ledger,
)
from simkit.engine.model import PAUSE, ServiceModel, SupportModel, TeamModel, TeamParams
from simkit.engine.model import RESOLVED as RESOLVED_ROUTE

__all__ = ["Clock", "Desk", "Due", "Floor", "Supplier", "Team", "WorkTime"]

NAN = math.nan
INF = math.inf

Callback = Callable[[Event], None]
StreamFactory = Callable[[str], np.random.Generator]


class Due(Event):
    """An engine occurrence at a known instant; its callbacks act on ``subject``.

    Created already triggered. Events of one kind share one callbacks list, which simpy only
    reads; clearing an event's ``callbacks`` before it is processed cancels it.
    """

    _ok = True
    _value = None

    def __init__(self, callbacks: list[Callback], subject: int) -> None:
        self.callbacks = callbacks
        self.subject = subject


class Clock(simpy.Environment):
    """A simpy environment that also schedules events at absolute instants."""

    def __init__(self) -> None:
        super().__init__()
        self.agenda = self._queue
        """The scheduled events, a heap: ``agenda[0][0]`` is the instant of the next one."""

    def at(self, event: Event, instant: float, priority: EventPriority = NORMAL) -> None:
        """Schedule ``event`` at ``instant`` (not before now) with ``priority``."""
        heappush(self._queue, (instant, priority, next(self._eid), event))


class WorkTime:
    """Open working time of a supplier: sorted disjoint intervals with prefix sums."""

    def __init__(self, intervals: np.ndarray) -> None:
        spans = np.asarray(intervals, dtype=np.float64).reshape(-1, 2)
        lengths = spans[:, 1] - spans[:, 0]
        self.starts_np = spans[:, 0].copy()
        self.ends_np = spans[:, 1].copy()
        self.before_np = np.concatenate([[0.0], np.cumsum(lengths)[:-1]])
        self.starts: list[float] = self.starts_np.tolist()
        self.ends: list[float] = self.ends_np.tolist()
        self.before: list[float] = self.before_np.tolist()
        self.through: list[float] = (self.before_np + lengths).tolist()

    def elapsed(self, t: float) -> float:
        """Open time in ``[0, t)``."""
        i = bisect_right(self.starts, t) - 1
        if i < 0:
            return 0.0
        return self.before[i] + min(t, self.ends[i]) - self.starts[i]

    def elapsed_many(self, t: np.ndarray) -> np.ndarray:
        """:meth:`elapsed` for an array of instants."""
        if self.starts_np.size == 0:
            return np.zeros_like(t)
        i = np.searchsorted(self.starts_np, t, side="right") - 1
        j = np.maximum(i, 0)
        done = self.before_np[j] + np.minimum(t, self.ends_np[j]) - self.starts_np[j]
        return np.where(i < 0, 0.0, done)

    def after(self, t: float, work: float) -> float:
        """The instant at which ``work`` hours of open time have passed since ``t``."""
        target = self.elapsed(t) + work
        i = bisect_left(self.through, target)
        if i == len(self.through):
            return INF
        return max(t, self.starts[i] + (target - self.before[i]))


@dataclass(eq=False)
class _Rules:
    """A desk's parameters in one regime, ready for the hot path."""

    handle: list[Draws]
    """By priority rank."""
    thresholds: list[float]
    """Cumulative route probabilities but the last: ``bisect_right`` picks the route."""
    routes: list[tuple[int, Desk | None]]
    """``(RESOLVED | PAUSED | ROUTED, target)`` aligned with the thresholds."""
    only_route: tuple[int, Desk | None] | None
    pause: Draws | None
    patience: Draws | None
    preempt: frozenset[int]


def _same(a: object, b: object) -> bool:
    """Equal values (identity where a value cannot say whether it is equal)."""
    if a is b:
        return True
    try:
        return bool(a == b)
    except (TypeError, ValueError):
        return False


def _same_params(a: TeamParams, b: TeamParams) -> bool:
    return a is b or (
        a.handle.keys() == b.handle.keys()
        and all(_same(a.handle[p], b.handle[p]) for p in a.handle)
        and a.routes == b.routes
        and np.array_equal(a.route_probs, b.route_probs)
        and _same(a.pause, b.pause)
        and _same(a.patience, b.patience)
        and a.preempt == b.preempt
    )


class _DrawsCache:
    """One :class:`Draws` per distinct distribution of one purpose; the first regime to use a
    distribution names its stream (``name``, then ``name/<regime>`` for later ones)."""

    def __init__(self, name: str, streams: StreamFactory) -> None:
        self._name = name
        self._streams = streams
        self._known: list[tuple[Distribution, Draws]] = []

    def get(self, dist: Distribution | None, regime: int) -> Draws | None:
        return None if dist is None else self.require(dist, regime)

    def require(self, dist: Distribution, regime: int) -> Draws:
        for known, draws in self._known:
            if _same(known, dist):
                return draws
        name = self._name if not self._known else f"{self._name}/{regime}"
        draws = distribution_draws(dist, self._streams(name))
        self._known.append((dist, draws))
        return draws


@dataclass(eq=False)
class _Reopen:
    """A service's reopening, per regime: ``(probability, delay draws)``."""

    rules: list[tuple[float, Draws | None]]
    chance: Draws
    varies: bool

    @classmethod
    def of(cls, service: ServiceModel, streams: StreamFactory) -> _Reopen | None:
        if all(p.reopen_probability <= 0.0 or p.reopen_after is None for p in service.params):
            return None
        delays = _DrawsCache(f"reopen/{service.name}/after", streams)
        rules: list[tuple[float, Draws | None]] = []
        for k, params in enumerate(service.params):
            after = delays.get(params.reopen_after, k) if params.reopen_probability > 0 else None
            rules.append((float(params.reopen_probability), after))
        return cls(
            rules=rules,
            chance=uniform_draws(streams(f"reopen/{service.name}")),
            varies=any(rule != rules[0] for rule in rules[1:]),
        )


class Floor:
    """What every desk of a run shares: the clock, the ledger, ticket attributes, reopening."""

    def __init__(self, model: SupportModel, streams: StreamFactory) -> None:
        self.clock = Clock()
        self.ledger = Ledger()
        self.end = float(model.end)
        self.regime_starts: list[float] = np.asarray(model.regime_starts, float).tolist()
        self.ticket_rank: list[int] = []
        self.ticket_service: list[int] = []
        """Service index; indices past the model's services are labels of outside tickets."""
        self.single_handling: set[int] = set()
        """Tickets resolved after one handling whatever the routing (incidents)."""
        self.on_resolved: dict[int, Callable[[int, float], None]] = {}
        """Ticket -> called with (ticket, instant) when it is resolved; set ``follows_resolution``."""
        self.reopened: set[int] = set()
        self._reopen = [_Reopen.of(model.services[s], streams) for s in range(len(model.services))]
        self.follows_resolution = any(r is not None for r in self._reopen)
        """Whether anything happens on resolution (a reopen, a watcher); else skip the call."""

    def regime(self, t: float) -> int:
        """Index of the regime in force at ``t``."""
        return bisect_right(self.regime_starts, t) - 1

    def resolve(self, ticket: int, desk: Desk, now: float) -> None:
        """``ticket`` was resolved by ``desk`` at ``now``: notify, and maybe schedule a reopen."""
        if self.on_resolved:
            notify = self.on_resolved.pop(ticket, None)
            if notify is not None:
                notify(ticket, now)
        service = self.ticket_service[ticket]
        if service >= len(self._reopen):
            return
        reopen = self._reopen[service]
        if reopen is None or ticket in self.reopened:
            return
        probability, after = reopen.rules[self.regime(now) if reopen.varies else 0]
        if after is None or reopen.chance() >= probability:
            return
        back = now + after()
        if back >= self.end:
            return
        self.reopened.add(ticket)
        self.ledger.pause(ticket, now, back, REOPEN)
        self.clock.at(Due(desk.rejoin_callbacks, ticket), back)

    def pause(self, ticket: int, desk: Desk, now: float, duration: float) -> None:
        """``ticket`` awaits the user for ``duration`` and then rejoins ``desk``."""
        back = now + duration
        if back >= self.end:
            self.ledger.pause(ticket, now, NAN, AWAITING_USER)
            return
        self.ledger.pause(ticket, now, back, AWAITING_USER)
        self.clock.at(Due(desk.rejoin_callbacks, ticket), back)


class Desk:
    """A team or supplier: where a ticket is assigned, handled, then routed."""

    kind = "team"

    def __init__(self, floor: Floor, index: int, model: TeamModel) -> None:
        self.floor = floor
        self.index = index
        self.name = model.name
        self.model = model
        self.clock = floor.clock
        self.ledger = floor.ledger
        self.ticket_rank = floor.ticket_rank
        self.at = floor.clock.at
        self.finish_callbacks: list[Callback] = [self._finish]
        self.rejoin_callbacks: list[Callback] = [self._rejoin]
        self.rules: list[_Rules] = []
        self.varies = False
        self.only_resolves = False
        """Every handling resolves: unless a resolution has consequences, routing is skipped."""
        self._route_chance: Draws | None = None

    def compile(self, model: SupportModel, desks: Sequence[Desk], streams: StreamFactory) -> None:
        """Turn the per-regime parameters into :class:`_Rules`, sharing equal draws."""
        team = self.model
        by_name = {d.name: d for d in desks}
        handle = [
            _DrawsCache(f"handle/{team.name}/{priority}", streams) for priority in model.priorities
        ]
        pauses = _DrawsCache(f"pause/{team.name}", streams)
        patience = _DrawsCache(f"patience/{team.name}", streams)
        if any(len(p.routes) > 1 for p in team.params):
            self._route_chance = uniform_draws(streams(f"routing/{team.name}"))
        first = team.params[0]
        self.varies = any(not _same_params(first, p) for p in team.params[1:])
        compiled: list[_Rules] = []
        for k, params in enumerate(team.params if self.varies else team.params[:1]):
            draws = [
                handle[rank].require(params.handle[priority], k)
                for rank, priority in enumerate(model.priorities)
            ]
            routes: list[tuple[int, Desk | None]] = []
            probs: list[float] = []
            for route, prob in zip(params.routes, params.route_probs.tolist(), strict=True):
                if prob <= 0.0:
                    continue
                if route == RESOLVED_ROUTE:
                    routes.append((RESOLVED, None))
                elif route == PAUSE:
                    if params.pause is None:
                        raise ValueError(f'team "{team.name}" routes to pause without a pause')
                    routes.append((PAUSED, None))
                elif route in by_name:
                    routes.append((ROUTED, by_name[route]))
                else:
                    raise ValueError(f'team "{team.name}" routes to unknown "{route}"')
                probs.append(prob)
            if not routes:
                routes, probs = [(RESOLVED, None)], [1.0]
            cumulative = np.cumsum(probs) / sum(probs)
            compiled.append(
                _Rules(
                    handle=draws,
                    thresholds=cumulative[:-1].tolist(),
                    routes=routes,
                    only_route=routes[0] if len(routes) == 1 else None,
                    pause=pauses.get(params.pause, k),
                    patience=patience.get(params.patience, k),
                    preempt=frozenset(
                        rank for rank, p in enumerate(model.priorities) if p in params.preempt
                    ),
                )
            )
        self.rules = compiled
        self.only_resolves = not self.varies and compiled[0].only_route == (RESOLVED, None)

    def rules_at(self, t: float) -> _Rules:
        """The rules of the regime in force at ``t``."""
        if self.varies:
            return self.rules[self.floor.regime(t)]
        return self.rules[0]

    def join(self, ticket: int, now: float) -> None:
        """``ticket`` is assigned to this desk at ``now``."""
        self.assign(self.ledger.open_visit(ticket, self.index, now), ticket, now)

    def assign(self, row: int, ticket: int, now: float) -> None:
        """The visit recorded in ``row`` brings ``ticket`` to this desk at ``now``."""
        raise NotImplementedError

    def close(self, end: float) -> None:
        """The run ends at ``end``: settle whatever is still waiting."""

    def _rejoin(self, event: Event) -> None:
        self.join(event.subject, self.clock.now)  # type: ignore[attr-defined]

    def _finish(self, event: Event) -> None:
        raise NotImplementedError

    def _route(self, row: int, now: float) -> None:
        """After handling ``row`` ends at ``now``: resolve, pause or pass the ticket on."""
        ledger = self.ledger
        floor = self.floor
        single = floor.single_handling
        if single and ledger.visit_ticket[row] in single:
            ledger.outcome[row] = RESOLVED
            floor.resolve(ledger.visit_ticket[row], self, now)
            return
        rules = self.rules[floor.regime(now)] if self.varies else self.rules[0]
        route = rules.only_route
        if route is None:
            chance = self._route_chance
            assert chance is not None
            route = rules.routes[bisect_right(rules.thresholds, chance())]
        code, target = route
        if code == RESOLVED:
            ledger.outcome[row] = RESOLVED
            if floor.follows_resolution:
                floor.resolve(ledger.visit_ticket[row], self, now)
        elif code == ROUTED:
            assert target is not None
            ledger.outcome[row] = ROUTED
            target.join(ledger.visit_ticket[row], now)
        else:
            assert rules.pause is not None
            ledger.outcome[row] = PAUSED
            floor.pause(ledger.visit_ticket[row], self, now, rules.pause())


class Team(Desk):
    """Agents on a roster working one priority-ranked FIFO queue."""

    kind = "team"

    def __init__(self, floor: Floor, index: int, model: TeamModel, priorities: int) -> None:
        super().__init__(floor, index, model)
        roster = model.roster
        if roster is None:
            raise ValueError(f'team "{model.name}" has no roster')
        self.roster_times: list[float] = np.asarray(roster.times, float).tolist()
        self.roster_agents: list[int] = np.asarray(roster.agents).astype(int).tolist()
        self.available = self.roster_agents[0]
        self.busy = 0
        self.queues: list[deque[int]] = [deque() for _ in range(priorities)]
        self.waiting = 0
        self.deadline: dict[int, float] = {}
        """Waiting visit -> the instant it abandons (only where the team has a patience)."""
        self.remaining: dict[int, float] = {}
        """Preempted visit -> handling time still to do."""
        self.in_service: dict[int, tuple[int, float, float, Due]] = {}
        """Visit -> (rank, start of this stretch, end of handling, its event); preempting teams."""
        self.preempting = False
        self.abandons = False
        self._roster_callbacks: list[Callback] = [self._roster_change]

    def compile(self, model: SupportModel, desks: Sequence[Desk], streams: StreamFactory) -> None:
        super().compile(model, desks, streams)
        self.preempting = any(r.preempt for r in self.rules)
        self.abandons = any(r.patience is not None for r in self.rules)

    def open(self) -> None:
        """Put the first roster change on the clock."""
        self._next_roster_change(1)

    def _next_roster_change(self, i: int) -> None:
        if i < len(self.roster_times) and self.roster_times[i] < self.floor.end:
            self.clock.at(Due(self._roster_callbacks, i), self.roster_times[i], URGENT)

    def _roster_change(self, event: Event) -> None:
        i: int = event.subject  # type: ignore[attr-defined]
        self.available = self.roster_agents[i]
        self._next_roster_change(i + 1)
        if self.waiting and self.busy < self.available:
            self._pull(self.clock.now)

    def assign(self, row: int, ticket: int, now: float) -> None:
        rank = self.ticket_rank[ticket]
        if self.busy < self.available:
            self.ledger.started[row] = now
            rules = self.rules[self.floor.regime(now)] if self.varies else self.rules[0]
            self._begin(row, rank, now, rules.handle[rank]())
            return
        if self.preempting and self.available > 0:
            rules = self.rules_at(now)
            if rank in rules.preempt and self._preempt(row, rank, now):
                return
        if self.abandons:
            patience = self.rules_at(now).patience
            if patience is not None:
                self.deadline[row] = now + patience()
        self.queues[rank].append(row)
        self.waiting += 1

    def _begin(self, row: int, rank: int, now: float, handling: float) -> None:
        self.busy += 1
        due = now + handling
        event = Due(self.finish_callbacks, row)
        self.at(event, due)
        if self.preempting:
            self.in_service[row] = (rank, now, due, event)

    def _finish(self, event: Event) -> None:
        row: int = event.subject  # type: ignore[attr-defined]
        now: float = self.clock.now
        self.busy -= 1
        if self.preempting:
            del self.in_service[row]
        ledger = self.ledger
        ledger.finished[row] = now
        if self.waiting and self.busy < self.available:
            self._pull(now)
        if self.only_resolves and not self.floor.follows_resolution:
            ledger.outcome[row] = RESOLVED
        else:
            self._route(row, now)

    def _pull(self, now: float) -> None:
        """Free agents take waiting tickets: highest rank first, then first come."""
        queues = self.queues
        deadline = self.deadline
        remaining = self.remaining
        ledger = self.ledger
        while self.waiting and self.busy < self.available:
            rank = 0
            while not queues[rank]:
                rank += 1
            row = queues[rank].popleft()
            self.waiting -= 1
            if deadline:
                gives_up = deadline.pop(row, INF)
                if gives_up < now:
                    ledger.finished[row] = gives_up
                    ledger.outcome[row] = ABANDONED
                    continue
            if remaining and row in remaining:
                handling = remaining.pop(row)
                ledger.resumed[row] = now
            else:
                ledger.started[row] = now
                rules = self.rules[self.floor.regime(now)] if self.varies else self.rules[0]
                handling = rules.handle[rank]()
            self._begin(row, rank, now, handling)

    def _preempt(self, row: int, rank: int, now: float) -> bool:
        """Interrupt the lowest-ranked ticket in service below ``rank`` for ``row``."""
        victim = -1
        worst = (rank, INF)
        for other, (other_rank, since, _, _) in self.in_service.items():
            if other_rank > rank and (other_rank, since) > worst:
                victim, worst = other, (other_rank, since)
        if victim < 0:
            return False
        victim_rank, since, due, event = self.in_service.pop(victim)
        event.callbacks = []
        self.remaining[victim] = due - now
        self.ledger.interrupted(self.index, since, now)
        self.ledger.resumed.pop(victim, None)
        self.queues[victim_rank].appendleft(victim)
        self.waiting += 1
        self.busy -= 1
        self.ledger.started[row] = now
        self._begin(row, rank, now, self.rules_at(now).handle[rank]())
        return True

    def close(self, end: float) -> None:
        ledger = self.ledger
        for queue in self.queues:
            for row in queue:
                gives_up = self.deadline.get(row, INF)
                if gives_up < end:
                    ledger.finished[row] = gives_up
                    ledger.outcome[row] = ABANDONED
                elif row in self.remaining:
                    ledger.suspended.add(row)


class Supplier(Desk):
    """A supplier: every ticket starts at once; handling time runs only in its open hours."""

    kind = "supplier"

    def __init__(self, floor: Floor, index: int, model: TeamModel) -> None:
        super().__init__(floor, index, model)
        if model.work_intervals is None:
            raise ValueError(f'supplier "{model.name}" has no work intervals')
        self.work = WorkTime(model.work_intervals)

    def assign(self, row: int, ticket: int, now: float) -> None:
        self.ledger.started[row] = now
        rules = self.rules[self.floor.regime(now)] if self.varies else self.rules[0]
        done = self.work.after(now, rules.handle[self.ticket_rank[ticket]]())
        if done < self.floor.end:
            self.clock.at(Due(self.finish_callbacks, row), done)

    def _finish(self, event: Event) -> None:
        row: int = event.subject  # type: ignore[attr-defined]
        now: float = self.clock.now
        self.ledger.finished[row] = now
        self._route(row, now)
