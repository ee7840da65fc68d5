"""The availability model: components that fail and are repaired, services that depend on them,
maintenance windows and change-induced outages — in the same simpy run as the support model, so a
repair that goes through a team's queue waits behind that team's other tickets.

A component has ``count`` units of which ``needed`` must be up. Each unit fails after a ``fails``
draw and is repaired either after a ``repair`` draw (independently of every other unit) or through
a team: an incident of the given priority opens in that team's queue (one handling, no routing) and
the unit is down until the incident is resolved plus ``restore``. The component is down while fewer
than ``needed`` units are up, or during an outage caused by a failed change. A service is down
while any component it depends on is down (series). Maintenance windows are planned outages.

The result is the ``outages`` table of the design contract: one row per interval in which a
service is down because of one component (rows of one service may overlap; the measurement merges
them), plus one planned row per maintenance window.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
from simpy.events import Event

from simkit.distributions import Distribution
from simkit.engine._queues import Callback, Due
from simkit.engine.compile import PerScenario, RunClock, _weekly_to_run
from simkit.engine.support import SupportRun
from simkit.scenario import Scenario
from simkit.scenario.models import MaintenanceWindow, TeamRepair, parse_local_datetime
from simkit.streams import Streams, stream_name
from simkit.timespec import MINUTES_PER_WEEK, parse_weekly_pattern, weekly_intervals

__all__ = [
    "OUTAGES_SCHEMA",
    "AvailabilityModel",
    "AvailabilityRun",
    "ComponentModel",
    "ServiceAvailabilityModel",
    "compile_availability",
    "expected_events",
    "incident_label",
]

HOURS_PER_MONTH = 365.25 * 24 / 12
_TS = pa.timestamp("us", tz="UTC")
OUTAGES_SCHEMA = pa.schema(
    [
        ("service", pa.string()),
        ("component", pa.string()),
        ("start", _TS),
        ("end", _TS),
        ("planned", pa.bool_()),
        ("cause", pa.string()),
        ("replication", pa.int32()),
    ]
)


def incident_label(component: str) -> str:
    """The ``service`` value of a component's repair incidents in the tickets table."""
    return f"component:{component}"


@dataclass(frozen=True, eq=False)
class ComponentModel:
    name: str
    count: int
    needed: int
    fails: Distribution
    repair: Distribution | None
    """Independent repair time per unit; ``None`` when repairs go through ``repair_team``."""
    repair_team: str | None
    repair_priority: str | None
    restore: float
    """Hours from the incident's resolution until the unit is back (team repairs)."""
    changes_per_hour: float
    change_failure: float
    change_outage: Distribution | None


@dataclass(frozen=True, eq=False)
class ServiceAvailabilityModel:
    service: str
    components: tuple[str, ...]
    maintenance: np.ndarray
    """``(n, 2)`` run-hour intervals of planned maintenance."""


@dataclass(frozen=True, eq=False)
class AvailabilityModel:
    origin: np.datetime64
    end: float
    components: tuple[ComponentModel, ...]
    services: tuple[ServiceAvailabilityModel, ...]

    @property
    def empty(self) -> bool:
        return not self.services


def expected_events(model: AvailabilityModel) -> float:
    """Expected outage events per replication (failures, their repairs, change outages and
    maintenance windows), for the size guard: each costs the run about what a visit does."""
    total = 0.0
    for component in model.components:
        cycle = component.fails.mean + (
            component.repair.mean if component.repair is not None else component.restore
        )
        failures = math.inf if cycle <= 0 else component.count * model.end / cycle
        total += 2.0 * failures  # a failure and the unit's return
        total += component.changes_per_hour * model.end * (1.0 + component.change_failure)
    total += sum(2.0 * len(service.maintenance) for service in model.services)
    return total


def maintenance_hours(
    spec: str | tuple[str | MaintenanceWindow, ...] | None, clock: RunClock
) -> np.ndarray:
    """Maintenance windows (weekly patterns and dated windows, local time) as run-hour intervals."""
    items: list[str | MaintenanceWindow] = [spec] if isinstance(spec, str) else list(spec or ())
    pieces: list[tuple[float, float]] = []
    for item in items:
        if isinstance(item, str):
            days, clock_range = parse_weekly_pattern(item)
            level = np.zeros(MINUTES_PER_WEEK + 1, dtype=np.int64)
            for a, b in weekly_intervals(days, clock_range):
                level[a] += 1
                level[b] -= 1
            on = np.cumsum(level)[:MINUTES_PER_WEEK]
            change = np.flatnonzero(np.diff(on, prepend=-1))
            times, values = _weekly_to_run(clock, change, on[change])
            bounds = np.concatenate([times, [clock.end]])
            for k in np.flatnonzero(values > 0):
                pieces.append((float(bounds[k]), float(bounds[k + 1])))
        else:
            begin = parse_local_datetime(item.from_).replace(tzinfo=clock.zone)
            finish = parse_local_datetime(item.until).replace(tzinfo=clock.zone)
            pieces.append((clock.hours_of(begin), clock.hours_of(finish)))
    spans = np.asarray(sorted(pieces), dtype=np.float64).reshape(-1, 2)
    spans = np.clip(spans, 0.0, clock.end)
    return _merge_spans(spans[spans[:, 1] > spans[:, 0]])


def _merge_spans(spans: np.ndarray) -> np.ndarray:
    if len(spans) == 0:
        return spans.reshape(0, 2)
    spans = spans[np.argsort(spans[:, 0], kind="stable")]
    running_end = np.maximum.accumulate(spans[:, 1])
    new = np.concatenate([[True], spans[1:, 0] > running_end[:-1]])
    group = np.cumsum(new) - 1
    starts = spans[new, 0]
    ends = np.zeros(len(starts))
    np.maximum.at(ends, group, spans[:, 1])
    return np.column_stack([starts, ends])


def compile_availability(scenario: Scenario) -> AvailabilityModel:
    """The availability model of ``scenario`` (empty when no service names components)."""
    return _compiled(scenario)


def _compile(scenario: Scenario) -> AvailabilityModel:
    clock = RunClock(scenario)
    components = []
    for name, spec in scenario.components.items():
        team_repair = spec.repair if isinstance(spec.repair, TeamRepair) else None
        changes = spec.changes
        components.append(
            ComponentModel(
                name=name,
                count=spec.count,
                needed=spec.needed,
                fails=spec.fails,
                repair=None if team_repair is not None else spec.repair,  # type: ignore[arg-type]
                repair_team=team_repair.team if team_repair else None,
                repair_priority=team_repair.priority if team_repair else None,
                restore=spec.restore or 0.0,
                changes_per_hour=(changes.per_month / HOURS_PER_MONTH) if changes else 0.0,
                change_failure=changes.failure_rate if changes else 0.0,
                change_outage=changes.outage if changes else None,
            )
        )
    services = []
    for name, service in scenario.services.items():
        availability = service.availability
        if availability is None:
            continue
        services.append(
            ServiceAvailabilityModel(
                service=name,
                components=tuple(availability.depends_on),
                maintenance=maintenance_hours(availability.maintenance, clock),
            )
        )
    return AvailabilityModel(
        origin=clock.origin, end=clock.end, components=tuple(components), services=tuple(services)
    )


_compiled = PerScenario(_compile)


def _renewal(
    fails: Distribution,
    repair: Distribution,
    end: float,
    rng_up: np.random.Generator,
    rng_down: np.random.Generator,
) -> np.ndarray:
    """Down intervals of one unit that alternates up (``fails``) and down (``repair``) from 0."""
    chunk = max(16, int(2 * end / max(fails.mean + repair.mean, 1e-9)) + 16)
    ups: list[np.ndarray] = []
    downs: list[np.ndarray] = []
    total = 0.0
    while total < end:
        up = fails.sample(rng_up, chunk)
        down = repair.sample(rng_down, chunk)
        ups.append(up)
        downs.append(down)
        total += float(up.sum() + down.sum())
    up_all = np.concatenate(ups)
    down_all = np.concatenate(downs)
    cycle_end = np.cumsum(up_all + down_all)
    start = cycle_end - down_all
    keep = start < end
    return np.column_stack([start[keep], np.minimum(cycle_end[keep], end)])


def _component_down(unit_down: list[np.ndarray], count: int, needed: int) -> np.ndarray:
    """Intervals in which more than ``count − needed`` units are down at once."""
    spans = [d for d in unit_down if len(d)]
    if not spans:
        return np.zeros((0, 2))
    allowed = count - needed
    starts = np.concatenate([d[:, 0] for d in spans])
    ends = np.concatenate([d[:, 1] for d in spans])
    times = np.concatenate([starts, ends])
    step = np.concatenate([np.ones(len(starts), np.int64), -np.ones(len(ends), np.int64)])
    order = np.lexsort((step, times))  # at equal times, ends (-1) before starts (+1)
    times, step = times[order], step[order]
    level = np.cumsum(step)
    down = level > allowed
    edges = np.diff(np.concatenate([[False], down]).astype(np.int8))
    begin = times[edges == 1]
    finish = times[np.flatnonzero(edges == -1)]
    if len(finish) < len(begin):
        finish = np.concatenate([finish, [np.inf]])
    spans_out = np.column_stack([begin, finish])
    return spans_out[spans_out[:, 1] > spans_out[:, 0]]


class _TeamRepairs:
    """Units of one component repaired through a team's queue, on the support run's clock."""

    def __init__(
        self, component: ComponentModel, run: SupportRun, streams: Streams, end: float
    ) -> None:
        self.component = component
        self.run = run
        self.end = end
        self.rngs = [
            streams(stream_name("failures", component.name, unit))
            for unit in range(component.count)
        ]
        self.down_since: list[float | None] = [None] * component.count
        self.down: list[list[tuple[float, float]]] = [[] for _ in range(component.count)]
        self._fail_callbacks: list[Callback] = [self._fail]
        self._back_callbacks: list[Callback] = [self._back]
        clock = run.floor.clock
        for unit in range(component.count):
            first = float(component.fails.sample(self.rngs[unit], 1)[0])
            if first < end:
                clock.at(Due(self._fail_callbacks, unit), first)

    def _fail(self, event: Event) -> None:
        unit = int(event.subject)  # type: ignore[attr-defined]
        now = float(self.run.floor.clock.now)
        self.down_since[unit] = now
        component = self.component
        assert component.repair_team is not None and component.repair_priority is not None

        def resolved(_ticket: int, instant: float, unit: int = unit) -> None:
            self.run.floor.clock.at(Due(self._back_callbacks, unit), instant + component.restore)

        self.run.open_ticket(
            now,
            component.repair_team,
            component.repair_priority,
            incident_label(component.name),
            on_resolved=resolved,
        )

    def _back(self, event: Event) -> None:
        unit = int(event.subject)  # type: ignore[attr-defined]
        now = float(self.run.floor.clock.now)
        since = self.down_since[unit]
        if since is not None:
            self.down[unit].append((since, now))
        self.down_since[unit] = None
        following = now + float(self.component.fails.sample(self.rngs[unit], 1)[0])
        if following < self.end:
            self.run.floor.clock.at(Due(self._fail_callbacks, unit), following)

    def any_down(self) -> bool:
        """Whether a unit is down now (its outage could still be one the span measures)."""
        return any(since is not None for since in self.down_since)

    def unit_down(self) -> list[np.ndarray]:
        out = []
        for unit in range(self.component.count):
            spans = list(self.down[unit])
            since = self.down_since[unit]
            if since is not None:
                spans.append((since, np.inf))  # still down when the run ends
            out.append(np.asarray(spans, dtype=np.float64).reshape(-1, 2))
        return out


class AvailabilityRun:
    """The availability side of one replication, attached to a :class:`SupportRun` before it runs."""

    def __init__(self, model: AvailabilityModel, run: SupportRun, streams: Streams) -> None:
        self.model = model
        self.run = run
        self.streams = streams
        self._team: dict[str, _TeamRepairs] = {}
        for component in model.components:
            if component.repair_team is not None:
                self._team[component.name] = _TeamRepairs(component, run, streams, model.end)
        if self._team:
            # An outage that began in the measured span must end before the run may.
            repairs = list(self._team.values())
            run.keep_running_while(lambda: any(r.any_down() for r in repairs))

    def _component_down(self, component: ComponentModel) -> tuple[np.ndarray, np.ndarray]:
        """Down intervals of the component, and whether each was caused by a change."""
        end = self.model.end
        if component.name in self._team:
            units = self._team[component.name].unit_down()
        else:
            assert component.repair is not None
            units = [
                _renewal(
                    component.fails,
                    component.repair,
                    end,
                    self.streams(stream_name("failures", component.name, unit)),
                    self.streams(stream_name("repair", component.name, unit)),
                )
                for unit in range(component.count)
            ]
        failures = _component_down(units, component.count, component.needed)
        changes = np.zeros((0, 2))
        if component.changes_per_hour > 0 and component.change_outage is not None:
            rng = self.streams(stream_name("changes", component.name))
            n = int(rng.poisson(component.changes_per_hour * end))
            at = np.sort(rng.uniform(0.0, end, n))
            failed = at[rng.random(n) < component.change_failure]
            duration = component.change_outage.sample(rng, len(failed))
            changes = np.column_stack([failed, failed + duration])
        spans = np.concatenate([failures, changes])
        caused_by_change = np.concatenate(
            [np.zeros(len(failures), bool), np.ones(len(changes), bool)]
        )
        return spans, caused_by_change

    def outages(self, replication: int) -> pa.Table:
        """The outage rows of the replication (call after the support run has run)."""
        model = self.model
        down = {c.name: self._component_down(c) for c in model.components}
        service_col: list[np.ndarray] = []
        component_col: list[np.ndarray] = []
        start_col: list[np.ndarray] = []
        end_col: list[np.ndarray] = []
        planned_col: list[np.ndarray] = []
        cause_col: list[np.ndarray] = []
        for service in model.services:
            for name in service.components:
                spans, by_change = down[name]
                n = len(spans)
                service_col.append(np.full(n, service.service, dtype=object))
                component_col.append(np.full(n, name, dtype=object))
                start_col.append(spans[:, 0])
                end_col.append(spans[:, 1])
                planned_col.append(np.zeros(n, bool))
                cause_col.append(np.where(by_change, "change", "failure").astype(object))
            m = len(service.maintenance)
            service_col.append(np.full(m, service.service, dtype=object))
            component_col.append(np.full(m, "maintenance", dtype=object))
            start_col.append(service.maintenance[:, 0])
            end_col.append(service.maintenance[:, 1])
            planned_col.append(np.ones(m, bool))
            cause_col.append(np.full(m, "maintenance", dtype=object))
        if not service_col:
            return OUTAGES_SCHEMA.empty_table()
        starts = np.concatenate(start_col)
        ends = np.concatenate(end_col)
        keep = starts < model.end
        ends = np.minimum(ends, model.end)
        return pa.table(
            {
                "service": pa.array(np.concatenate(service_col)[keep], pa.string()),
                "component": pa.array(np.concatenate(component_col)[keep], pa.string()),
                "start": _instants(model.origin, starts[keep]),
                "end": _instants(model.origin, ends[keep], open_at=model.end),
                "planned": pa.array(np.concatenate(planned_col)[keep], pa.bool_()),
                "cause": pa.array(np.concatenate(cause_col)[keep], pa.string()),
                "replication": pa.array(np.full(int(keep.sum()), replication, np.int32)),
            },
            schema=OUTAGES_SCHEMA,
        )


def _instants(origin: np.datetime64, hours: np.ndarray, open_at: float | None = None) -> pa.Array:
    """Run hours as UTC timestamps; an interval still open at the end of the run (``open_at``)
    has a null end."""
    micros = np.round(np.asarray(hours, np.float64) * 3_600_000_000).astype(np.int64)
    values = origin.astype("datetime64[us]") + micros.astype("timedelta64[us]")
    mask = None
    if open_at is not None:
        mask = np.asarray(hours, np.float64) >= open_at
    return pa.array(values, type=_TS, mask=mask)
