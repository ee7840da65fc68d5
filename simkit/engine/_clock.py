"""The clock of a support run: a simpy environment that schedules at absolute instants and
runs with the arrivals merged into its loop, the :class:`Due` events of the engine, and the open
working time of suppliers (:class:`WorkTime`).
"""

from __future__ import annotations

import math
from bisect import bisect_left, bisect_right
from collections.abc import Callable, Sequence
from heapq import heappop, heappush

import numpy as np
import simpy
from simpy.core import StopSimulation
from simpy.events import NORMAL, URGENT, Event, EventPriority

__all__ = ["Callback", "Clock", "Due", "WorkTime"]

INF = math.inf

Callback = Callable[[Event], None]


class Due(Event):
    """An engine occurrence at a known instant; its callbacks act on ``subject``.

    Created already triggered. Events of one kind share one callbacks list, which simpy only
    reads; clearing an event's ``callbacks`` before it is processed cancels it. Once processed,
    an event may go back on the clock with its callbacks and subject set anew (see
    :meth:`Clock.due`). ``_ok`` is set on the instance, where simpy's loop reads it fastest.
    """

    _value = None

    def __init__(self, callbacks: list[Callback], subject: int) -> None:
        self.callbacks = callbacks
        self.subject = subject
        self._ok = True


class Clock(simpy.Environment):
    """A simpy environment that also schedules events at absolute instants.

    On the hot path the engine does what :meth:`at` does without the call: it pushes
    ``(instant, priority, next(sequence), event)`` onto ``agenda``, and reads the current instant
    as ``_now`` rather than through the ``now`` property.
    """

    def __init__(self) -> None:
        super().__init__()
        self.agenda = self._queue
        """The scheduled events, a heap: ``agenda[0][0]`` is the instant of the next one."""
        self.sequence = self._eid
        """Numbers scheduled events in order: the tie-break between events at one instant."""
        self.spare: list[Due] = []
        """Processed events, free to go back on the clock: a callback that is done with its
        event puts it here, which costs far less than making a new one (:meth:`due`)."""

    def run_until(
        self,
        end: float,
        arrival_times: Sequence[float] = (),
        admit: Sequence[Callable[[int, int, float], None]] = (),
        first_arrival: int = 0,
    ) -> int:
        """Process events until ``end``, as simpy's ``run(until=end)`` does, with arrivals, and
        return how many arrivals were admitted. A callback may end the run sooner by raising
        :class:`simpy.core.StopSimulation`.

        Arrival ``i``, at ``arrival_times[i]`` (sorted), is admitted by ``admit[i](i, i,
        instant)``. The arrivals are one stream merged with the agenda, in the order an arrival
        event on the agenda would give: the next one stands for an event numbered
        ``first_arrival`` (a number of ``sequence`` taken when the first was due to be
        scheduled), and every later one due before the next scheduled event is admitted with
        it; the first one that is not gets the next number then. No arrival costs an event.
        """
        queue = self._queue
        sequence = self._eid
        stop = Event(self)
        stop._ok = True
        stop._value = None
        stop.callbacks = [StopSimulation.callback]
        heappush(queue, (end, URGENT, next(sequence), stop))
        n = len(arrival_times)
        i = 0
        # The next arrival as the agenda entry it stands for; (INF,) sorts after every entry.
        arrival: tuple[float, ...] = (arrival_times[0], NORMAL, first_arrival) if n else (INF,)
        due = arrival[0]
        try:
            while True:
                head = queue[0]
                if due <= head[0] and arrival < head:
                    self._now = due
                    admit[i](i, i, due)
                    i += 1
                    while i < n:
                        due = arrival_times[i]
                        if due >= queue[0][0]:
                            arrival = (due, NORMAL, next(sequence))
                            break
                        admit[i](i, i, due)
                        i += 1
                    else:
                        arrival = (INF,)
                        due = INF
                    continue
                # What simpy's step does, written in line: this loop runs for every event.
                self._now, _, _, event = heappop(queue)
                callbacks, event.callbacks = event.callbacks, None  # type: ignore[assignment]
                for callback in callbacks:
                    callback(event)
                if not event._ok and not hasattr(event, "_defused"):
                    failure = event._value
                    exc = type(failure)(*failure.args)
                    exc.__cause__ = failure
                    raise exc
        except StopSimulation:
            return i

    def at(self, event: Event, instant: float, priority: EventPriority = NORMAL) -> None:
        """Schedule ``event`` at ``instant`` (not before now) with ``priority``."""
        heappush(self._queue, (instant, priority, next(self._eid), event))

    def due(self, callbacks: list[Callback], subject: int) -> Due:
        """A :class:`Due` event acting on ``subject`` — a spare one where there is one."""
        spare = self.spare
        if spare:
            event = spare.pop()
            event.callbacks = callbacks
            event.subject = subject
            return event
        return Due(callbacks, subject)


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
