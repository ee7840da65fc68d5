"""Teams and suppliers as queues on one simpy clock — the hot path of a support run.

There is no simpy process or resource request per ticket. A team is a counter of busy agents,
the agents on duty (a roster step function) and one FIFO deque per priority rank. A ticket joining
a team either starts at once or waits; each start schedules one :class:`Due` event at the end of
handling, whose callback routes the ticket and lets the freed agent pull the next waiting one
(reusing the event). Waiting tickets that run out of patience are noticed when they reach the head
of their queue (their abandonment instant is known when they join, and nothing else depends on
them in between), so patience costs no events either. Roster changes cost none either, except
where more agents come on duty while tickets wait: a team reads its roster when it next acts.

Every instant is passed explicitly (``now``) and events are put on the clock at absolute times,
so arrivals need no events: the clock's loop (:meth:`Clock.run_until`, in
:mod:`simkit.engine._clock`) merges the pre-sampled arrivals with its agenda, admitting every
arrival due before the next scheduled event. A desk's parameters per regime are compiled by
:mod:`simkit.engine._rules`.
"""

from __future__ import annotations

import math
from bisect import bisect_right
from collections import deque
from collections.abc import Callable, Sequence
from heapq import heappush
from itertools import repeat
from typing import TYPE_CHECKING

import numpy as np
from simpy.events import NORMAL, Event

from simkit.engine._clock import Callback, Clock, Due, WorkTime
from simkit.engine._draws import (
    Draws,
    StreamFactory,
    choice_draws,
    no_draw,
    uniform_draws,
)
from simkit.engine._ledger import ABANDONED, OPEN, PAUSED, RESOLVED, ROUTED
from simkit.engine._rules import Rules, compile_rules, same_params
from simkit.engine.model import SupportModel, TeamModel
from simkit.streams import stream_name

if TYPE_CHECKING:
    from simkit.engine.support import Floor

__all__ = ["Callback", "Clock", "Desk", "Due", "Supplier", "Team", "WorkTime"]

INF = math.inf
NAN = math.nan


def _no_route() -> tuple[int, Desk]:
    raise AssertionError("routes are drawn through the rules of each regime")


class Desk:
    """A team or supplier: where a ticket is assigned, handled, then routed.

    Desks declare ``__slots__``: attribute reads on the hot path are then slot reads, and
    method lookups on ``self`` stay specialised (an instance with more than 30 attributes in a
    ``__dict__`` loses CPython's fast paths for both).
    """

    __slots__ = (
        "_next_route",
        "_route_chance",
        "agenda",
        "assigned",
        "at",
        "clock",
        "finish_callbacks",
        "finished",
        "floor",
        "handle",
        "index",
        "ledger",
        "model",
        "name",
        "only_resolves",
        "outcome",
        "rejoin_callbacks",
        "rules",
        "sequence",
        "spare",
        "started",
        "ticket_rank",
        "varies",
        "visit_desk",
        "visit_ticket",
    )

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
        self.agenda = floor.clock.agenda
        self.sequence = floor.clock.sequence
        self.spare = floor.clock.spare
        ledger = floor.ledger
        self.visit_ticket = ledger.visit_ticket
        self.visit_desk = ledger.visit_desk
        self.assigned = ledger.assigned
        self.started = ledger.started
        self.finished = ledger.finished
        self.outcome = ledger.outcome
        """The ledger's columns the hot path writes (the same lists)."""
        self.finish_callbacks: list[Callback] = [self._finish]
        self.rejoin_callbacks: list[Callback] = [self._rejoin]
        self.rules: list[Rules] = []
        self.handle: list[Draws] = []
        """Handling-time draws by priority rank, where the rules do not change."""
        self.varies = False
        self.only_resolves = False
        """Every handling resolves: unless a resolution has consequences, routing is skipped."""
        self._route_chance: Draws = no_draw
        """Where the rules change with the regime: uniform draws that pick a route (only drawn
        where a rule has several routes)."""
        self._next_route: Callable[[], tuple[int, Desk]] = _no_route
        """Where the rules do not change: the route of each handling in turn."""

    def compile(self, model: SupportModel, desks: Sequence[Desk], streams: StreamFactory) -> None:
        """Turn the per-regime parameters into :class:`Rules`, sharing equal draws."""
        team = self.model
        first = team.params[0]
        self.varies = any(not same_params(first, p) for p in team.params[1:])
        if self.varies and any(len(p.routes) > 1 for p in team.params):
            self._route_chance = uniform_draws(streams(stream_name("routing", team.name)))
        compiled = compile_rules(self, model, desks, streams, varies=self.varies)
        self.rules = compiled
        self.handle = compiled[0].handle
        self.only_resolves = not self.varies and compiled[0].only_route == (RESOLVED, self)
        if not self.varies:
            only = compiled[0].only_route
            self._next_route = (
                repeat(only).__next__
                if only is not None
                else choice_draws(
                    compiled[0].routes,
                    compiled[0].thresholds,
                    streams(stream_name("routing", team.name)),
                )
            )

    def rules_at(self, t: float) -> Rules:
        """The rules of the regime in force at ``t``."""
        if self.varies:
            return self.rules[self.floor.regime(t)]
        return self.rules[0]

    def join(self, ticket: int, now: float) -> None:
        """``ticket`` is assigned to this desk at ``now``: a new visit, not yet started."""
        row = len(self.visit_ticket)
        self.visit_ticket.append(ticket)
        self.visit_desk.append(self.index)
        self.assigned.append(now)
        self.started.append(NAN)
        self.finished.append(NAN)
        self.outcome.append(OPEN)
        self.assign(row, ticket, now)

    def assign(self, row: int, ticket: int, now: float) -> None:
        """The visit recorded in ``row`` brings ``ticket`` to this desk at ``now``."""
        raise NotImplementedError

    def close(self, end: float) -> None:
        """The run ends at ``end``: settle whatever is still waiting."""

    def _rejoin(self, event: Event) -> None:
        self.spare.append(event)  # type: ignore[arg-type]
        self.join(event.subject, self.clock._now)  # type: ignore[attr-defined]

    def _finish(self, event: Event) -> None:
        raise NotImplementedError

    def _route(self, row: int, now: float) -> None:
        """After handling ``row`` ends at ``now``: resolve, pause or pass the ticket on."""
        floor = self.floor
        ticket = self.visit_ticket[row]
        single = floor.single_handling
        if single and ticket in single:
            self.outcome[row] = RESOLVED
            floor.resolve(ticket, self, now)
            return
        if self.varies:
            rules = self.rules[floor.regime(now)]
            route = rules.only_route
            if route is None:
                chance = self._route_chance
                route = rules.routes[bisect_right(rules.thresholds, chance())]
        else:
            rules = self.rules[0]
            next_route = self._next_route  # a slot read and a call: cheaper than a method call
            route = next_route()
        code, target = route
        if code == RESOLVED:
            self.outcome[row] = RESOLVED
            if floor.follows_resolution:
                # Floor.resolve without the call where nothing follows: watchers are only
                # ever on single-handling tickets, which were settled above.
                reopen = floor.ticket_reopening[ticket]
                if reopen is not None:
                    floor.reopen(ticket, reopen, self, now)
        elif code == ROUTED:
            self.outcome[row] = ROUTED
            target.join(ticket, now)
        else:
            self.outcome[row] = PAUSED
            floor.pause(ticket, self, now, rules.pause())


class Team(Desk):
    """Agents on a roster working one priority-ranked FIFO queue."""

    __slots__ = (
        "_in_force",
        "_increases",
        "_next_change",
        "_waking",
        "abandons",
        "available",
        "busy",
        "deadline",
        "in_service",
        "preempting",
        "queues",
        "remaining",
        "roster_agents",
        "roster_times",
        "waiting",
    )

    kind = "team"

    def __init__(self, floor: Floor, index: int, model: TeamModel, priorities: int) -> None:
        super().__init__(floor, index, model)
        roster = model.roster
        if roster is None:
            raise ValueError(f'team "{model.name}" has no roster')
        self.roster_times: list[float] = np.asarray(roster.times, float).tolist()
        self.roster_agents: list[int] = np.asarray(roster.agents).astype(int).tolist()
        self.available = self.roster_agents[0]
        """Agents on duty as of the last roster change taken up (see :meth:`_roster_to`)."""
        self._in_force = 0
        self._next_change = self.roster_times[1] if len(self.roster_times) > 1 else INF
        rises = np.flatnonzero(np.diff(roster.agents) > 0) + 1
        increases = np.asarray(roster.times, float)[rises]
        self._increases: list[float] = increases[increases < floor.end].tolist()
        """Instants at which more agents come on duty: free agents may then take waiting tickets."""
        self._waking = False
        """Whether a wake-up is on the clock for the next increase, or no increase is left
        (one of the two holds while tickets wait)."""
        self.busy = 0
        self.queues: list[deque[int]] = [deque() for _ in range(priorities)]
        self.waiting = 0
        self.deadline: dict[int, float] = {}
        """Waiting visit -> the instant it abandons (only where the team has a patience)."""
        self.remaining: dict[int, float] = {}
        """Preempted visit -> handling time still to do."""
        self.in_service: dict[int, tuple[int, float, float, Event]] = {}
        """Visit -> (rank, start of this stretch, end of handling, its event); preempting teams."""
        self.preempting = False
        self.abandons = False

    def compile(self, model: SupportModel, desks: Sequence[Desk], streams: StreamFactory) -> None:
        super().compile(model, desks, streams)
        self.preempting = any(r.preempt for r in self.rules)
        self.abandons = any(r.patience is not None for r in self.rules)

    def _roster_to(self, now: float) -> None:
        """Take up the roster changes up to ``now``.

        Roster changes are not events: the roster is read when the team next acts, and the clock
        only wakes the team at an increase while tickets wait (fewer agents never start work).
        """
        i = bisect_right(self.roster_times, now, self._in_force + 1) - 1
        self._in_force = i
        self.available = self.roster_agents[i]
        self._next_change = self.roster_times[i + 1] if i + 1 < len(self.roster_times) else INF

    def _wake_at_next_increase(self, now: float) -> None:
        k = bisect_right(self._increases, now)
        self._waking = True
        if k < len(self._increases):
            self.floor.wake(self, self._increases[k])

    def wake(self, now: float) -> None:
        """More agents come on duty at ``now``: they take waiting tickets."""
        self._waking = False
        self._roster_to(now)
        if self.waiting:
            if self.busy < self.available:
                self._pull(now)
            if self.waiting:
                self._wake_at_next_increase(now)

    def assign(self, row: int, ticket: int, now: float) -> None:
        if now >= self._next_change:
            self._roster_to(now)
        rank = self.ticket_rank[ticket]
        if self.busy < self.available:
            self.started[row] = now
            handle = self.rules[self.floor.regime(now)].handle if self.varies else self.handle
            # What _begin does, written in line: most arrivals start at once.
            self.busy += 1
            due = now + handle[rank]()
            spare = self.spare
            if spare:
                event = spare.pop()
                event.callbacks = self.finish_callbacks
                event.subject = row
            else:
                event = Due(self.finish_callbacks, row)
            heappush(self.agenda, (due, NORMAL, next(self.sequence), event))
            if self.preempting:
                self.in_service[row] = (rank, now, due, event)
            return
        if self.preempting and self.available > 0:
            rules = self.rules_at(now)
            if rank in rules.preempt and self._preempt(row, rank, now):
                return
        if self.abandons and ticket not in self.floor.single_handling:
            # A single-handling ticket is an incident the model opens (a component's repair):
            # it waits until handled — nobody is on a phone line, and its unit stays down.
            patience = self.rules_at(now).patience
            if patience is not None:
                self.deadline[row] = now + patience()
        self.queues[rank].append(row)
        self.waiting += 1
        if not self._waking:
            self._wake_at_next_increase(now)

    def _begin(self, row: int, rank: int, now: float, handling: float) -> None:
        """Handling of ``row`` starts at ``now`` and takes ``handling`` hours."""
        self.busy += 1
        due = now + handling
        spare = self.spare
        if spare:
            event = spare.pop()
            event.callbacks = self.finish_callbacks
            event.subject = row
        else:
            event = Due(self.finish_callbacks, row)
        heappush(self.agenda, (due, NORMAL, next(self.sequence), event))
        if self.preempting:
            self.in_service[row] = (rank, now, due, event)

    def _finish(self, event: Event) -> None:
        """Handling of ``event.subject`` ends now: the agent takes the next waiting tickets
        (:meth:`_pull`), then the ticket is routed (:meth:`Desk._route`).

        Both are written in line: this runs once per handling, where a call costs more than
        the work it does. The copies must stay in step with the methods they mirror.
        """
        row: int = event.subject  # type: ignore[attr-defined]
        now: float = self.clock._now
        self.spare.append(event)  # type: ignore[arg-type]
        self.busy -= 1
        if self.preempting:
            del self.in_service[row]
        self.finished[row] = now
        if now >= self._next_change:
            self._roster_to(now)
        if self.waiting and self.busy < self.available:
            # What _pull does, written in line.
            queues = self.queues
            deadline = self.deadline
            remaining = self.remaining
            while self.waiting and self.busy < self.available:
                rank = 0
                while not queues[rank]:
                    rank += 1
                waiting_row = queues[rank].popleft()
                self.waiting -= 1
                if deadline:
                    gives_up = deadline.pop(waiting_row, INF)
                    if gives_up < now:
                        self.finished[waiting_row] = gives_up
                        self.outcome[waiting_row] = ABANDONED
                        continue
                if remaining and waiting_row in remaining:
                    handling = remaining.pop(waiting_row)
                    self.ledger.resumed[waiting_row] = now
                else:
                    self.started[waiting_row] = now
                    handle = (
                        self.rules[self.floor.regime(now)].handle if self.varies else self.handle
                    )
                    handling = handle[rank]()
                self.busy += 1
                due = now + handling
                spare = self.spare
                if spare:
                    begun = spare.pop()
                    begun.callbacks = self.finish_callbacks
                    begun.subject = waiting_row
                else:
                    begun = Due(self.finish_callbacks, waiting_row)
                heappush(self.agenda, (due, NORMAL, next(self.sequence), begun))
                if self.preempting:
                    self.in_service[waiting_row] = (rank, now, due, begun)
        floor = self.floor
        if self.only_resolves and not floor.follows_resolution:
            self.outcome[row] = RESOLVED
            return
        # What Desk._route does, written in line.
        ticket = self.visit_ticket[row]
        single = floor.single_handling
        if single and ticket in single:
            self.outcome[row] = RESOLVED
            floor.resolve(ticket, self, now)
            return
        if self.varies:
            rules = self.rules[floor.regime(now)]
            route = rules.only_route
            if route is None:
                chance = self._route_chance
                route = rules.routes[bisect_right(rules.thresholds, chance())]
        else:
            rules = self.rules[0]
            next_route = self._next_route
            route = next_route()
        code, target = route
        if code == RESOLVED:
            self.outcome[row] = RESOLVED
            if floor.follows_resolution:
                reopen = floor.ticket_reopening[ticket]
                if reopen is not None and ticket not in floor.reopened:
                    # What Floor.reopen decides, written in line: most resolutions stay so.
                    probability, after = reopen.rules[floor.regime(now) if reopen.varies else 0]
                    if after is not None and reopen.chance() < probability:
                        floor.reopen_after(ticket, after, self, now)
        elif code == ROUTED:
            self.outcome[row] = ROUTED
            # What Desk.join does, written in line (the ledger's lists are every desk's).
            visit_ticket = self.visit_ticket
            routed_row = len(visit_ticket)
            visit_ticket.append(ticket)
            self.visit_desk.append(target.index)
            self.assigned.append(now)
            self.started.append(NAN)
            self.finished.append(NAN)
            self.outcome.append(OPEN)
            target.assign(routed_row, ticket, now)
        else:
            self.outcome[row] = PAUSED
            floor.pause(ticket, self, now, rules.pause())

    def _pull(self, now: float) -> None:
        """Free agents take waiting tickets: highest rank first, then first come (at a roster
        increase; after a handling, :meth:`_finish` does this in line)."""
        queues = self.queues
        deadline = self.deadline
        remaining = self.remaining
        while self.waiting and self.busy < self.available:
            rank = 0
            while not queues[rank]:
                rank += 1
            row = queues[rank].popleft()
            self.waiting -= 1
            if deadline:
                gives_up = deadline.pop(row, INF)
                if gives_up < now:
                    self.finished[row] = gives_up
                    self.outcome[row] = ABANDONED
                    continue
            if remaining and row in remaining:
                handling = remaining.pop(row)
                self.ledger.resumed[row] = now
            else:
                self.started[row] = now
                handle = self.rules[self.floor.regime(now)].handle if self.varies else self.handle
                handling = handle[rank]()
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
        if not self._waking:
            self._wake_at_next_increase(now)
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

    __slots__ = ("work",)

    kind = "supplier"

    def __init__(self, floor: Floor, index: int, model: TeamModel) -> None:
        super().__init__(floor, index, model)
        if model.work_intervals is None:
            raise ValueError(f'supplier "{model.name}" has no work intervals')
        self.work = WorkTime(model.work_intervals)

    def assign(self, row: int, ticket: int, now: float) -> None:
        self.started[row] = now
        handle = self.rules[self.floor.regime(now)].handle if self.varies else self.handle
        done = self.work.after(now, handle[self.ticket_rank[ticket]]())
        if done < self.floor.end:
            self.clock.at(self.clock.due(self.finish_callbacks, row), done)

    def _finish(self, event: Event) -> None:
        row: int = event.subject  # type: ignore[attr-defined]
        now: float = self.clock._now
        self.spare.append(event)  # type: ignore[arg-type]
        self.finished[row] = now
        self._route(row, now)
