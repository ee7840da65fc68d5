"""The measurement targets of a scenario: SLA targets at the three ITIL levels (service,
customer, corporate) and the teams' OLAs and suppliers' UCs, as :mod:`simkit.measure` values."""

from __future__ import annotations

import numpy as np

from simkit.measure import MeasureSpec, OlaTarget, SlaTarget, SmallSample
from simkit.measure.availability import AvailabilityTarget
from simkit.scenario.models import PriorityTargets, ServiceLevelTarget
from simkit.scenario.scenario import Scenario

__all__ = ["availability_targets", "measure_spec", "ola_targets", "sla_targets"]


def _small(target: ServiceLevelTarget) -> SmallSample | None:
    rule = target.small_sample
    return SmallSample(rule.below, rule.max_breaches) if rule else None


def _levels(
    scenario: Scenario,
    level: str,
    service: str | None,
    customer: str | None,
    priority: str,
    targets: PriorityTargets,
) -> list[SlaTarget]:
    out = []
    for metric, target in (("respond", targets.respond), ("resolve", targets.resolve)):
        if target is None:
            continue
        out.append(
            SlaTarget(
                level=level,  # type: ignore[arg-type]
                service=service,
                customer=customer,
                priority=priority,
                metric=metric,  # type: ignore[arg-type]
                within_h=target.within,
                calendar_name=target.calendar,
                calendar=scenario.calendar(target.calendar),
                goal=target.goal,
                small_sample=_small(target),
            )
        )
    return out


def sla_targets(scenario: Scenario) -> tuple[SlaTarget, ...]:
    """Every SLA target: per service and priority, per customer (for each service the customer
    uses that has the priority), and corporate (over every service)."""
    out: list[SlaTarget] = []
    for sname, service in scenario.services.items():
        for priority, level in service.priorities.items():
            out.extend(_levels(scenario, "service", sname, None, priority, level))
    for cname, customer in scenario.customers.items():
        for sname in customer.services:
            used = scenario.services.get(sname)
            if used is None:
                continue
            for priority, targets in customer.priorities.items():
                if priority in used.priorities:
                    out.extend(_levels(scenario, "customer", sname, cname, priority, targets))
    if scenario.corporate is not None:
        for priority, targets in scenario.corporate.priorities.items():
            out.extend(_levels(scenario, "corporate", None, None, priority, targets))
    return tuple(out)


def ola_targets(scenario: Scenario) -> tuple[OlaTarget, ...]:
    """Every team OLA and supplier UC, per visit."""
    out: list[OlaTarget] = []
    for tname, team in scenario.teams.items():
        agreement = team.ola if team.kind == "team" else team.uc
        if agreement is None:
            continue
        for metric, target in (("respond", agreement.respond), ("resolve", agreement.resolve)):
            if target is None:
                continue
            out.append(
                OlaTarget(
                    team=tname,
                    kind="ola" if team.kind == "team" else "uc",
                    metric=metric,  # type: ignore[arg-type]
                    within_h=target.within,
                    calendar_name=target.calendar,
                    calendar=scenario.calendar(target.calendar),
                    goal=target.goal,
                    small_sample=_small(target),
                )
            )
    return tuple(out)


def measure_spec(
    scenario: Scenario,
    *,
    start: np.datetime64,
    horizon_end: np.datetime64,
    observed_until: np.datetime64,
    replications: int,
) -> MeasureSpec:
    """What to measure for ``scenario`` over the given span."""
    return MeasureSpec(
        timezone=scenario.timezone,
        period=scenario.period,
        start=start,
        horizon_end=horizon_end,
        observed_until=observed_until,
        sla=sla_targets(scenario),
        ola=ola_targets(scenario),
        replications=replications,
    )


def availability_targets(
    scenario: Scenario, *, span: tuple[np.datetime64, np.datetime64] | None = None
) -> tuple[AvailabilityTarget, ...]:
    """Every service's availability target, with its maintenance windows expanded over the
    scenario's run — or over ``span`` (UTC instants), e.g. the span of an outage history."""
    from simkit.engine.availability import maintenance_hours
    from simkit.engine.compile import RunClock

    if span is not None:
        scenario = _covering(scenario, span)
    clock = RunClock(scenario)
    out = []
    for name, service in scenario.services.items():
        spec = service.availability
        if spec is None:
            continue
        hours = maintenance_hours(spec.maintenance, clock)
        windows = None
        if len(hours):
            micros = np.round(hours * 3_600_000_000).astype(np.int64)
            windows = clock.origin + micros.astype("timedelta64[us]")
        out.append(
            AvailabilityTarget(
                service=name,
                target=spec.target,
                calendar_name=spec.calendar,
                calendar=scenario.calendar(spec.calendar),
                exclude_maintenance=spec.exclude_maintenance,
                maintenance=windows,
                credits=tuple((c.below, c.credit) for c in spec.credits),
                monthly_fee=spec.monthly_fee,
            )
        )
    return tuple(out)


def _covering(scenario: Scenario, span: tuple[np.datetime64, np.datetime64]) -> Scenario:
    """The scenario with its run moved to cover ``span`` (a day either side)."""
    import datetime as dt
    import zoneinfo

    zone = zoneinfo.ZoneInfo(scenario.timezone)

    def local_day(instant: np.datetime64) -> dt.date:
        moment: dt.datetime = instant.astype("datetime64[us]").astype(dt.datetime)
        local: dt.date = moment.replace(tzinfo=dt.UTC).astimezone(zone).date()
        return local

    first = local_day(span[0]) - dt.timedelta(days=1)
    days = (local_day(span[1]) - first).days + 2
    patch = {"start": first.isoformat(), "horizon": f"{days}d", "warmup": "0h", "drain": "0h"}
    return scenario.with_patch(patch, name="measured span")
