"""The workbench's availability sliders: components as the scenario has them, the merge patch
of the slider values, and the availability figures of a run.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np

from simkit.app_model.rows import Row
from simkit.app_model.whatif import Patch, _nest, _slider_problem, _whole
from simkit.measure import availability_outcomes, availability_period_rows
from simkit.runner import Results
from simkit.scenario import Scenario
from simkit.scenario.models import TeamRepair
from simkit.scenario.targets import availability_targets
from simkit.units import format_duration

__all__ = [
    "AvailabilityWhatIf",
    "ComponentControl",
    "availability_figures",
    "availability_patch",
    "component_controls",
    "services_by_target",
]


@dataclass(frozen=True)
class ComponentControl:
    """A component as the scenario has it: redundancy, failures and repairs."""

    component: str
    count: int
    needed: int
    fails: str
    repair: str
    repair_by_team: bool
    services: tuple[str, ...]


def component_controls(scenario: Scenario) -> tuple[ComponentControl, ...]:
    """The components of ``scenario`` with the services that depend on them."""
    out = []
    for name, component in scenario.components.items():
        repair = component.repair
        by_team = isinstance(repair, TeamRepair)
        out.append(
            ComponentControl(
                component=name,
                count=int(component.count),
                needed=int(component.needed),
                fails=component.fails.describe(),
                repair=(
                    f"incident {repair.priority} at {repair.team}"
                    if isinstance(repair, TeamRepair)
                    else repair.describe()
                )
                + (
                    f", then {format_duration(component.restore)} restore"
                    if component.restore
                    else ""
                ),
                repair_by_team=by_team,
                services=tuple(
                    s
                    for s, service in scenario.services.items()
                    if service.availability is not None and name in service.availability.depends_on
                ),
            )
        )
    return tuple(out)


@dataclass(frozen=True)
class AvailabilityWhatIf:
    """Availability slider values; anything left out keeps the scenario's value.

    ``fails`` multiplies every unit's time to failure (2.0 = fails half as often), ``repair``
    a repair-time distribution (components repaired through a team's queue are left alone),
    ``exclude_maintenance`` sets a service's rule for its maintenance windows.
    """

    count: Mapping[str, int] = field(default_factory=dict)
    needed: Mapping[str, int] = field(default_factory=dict)
    fails: Mapping[str, float] = field(default_factory=dict)
    repair: Mapping[str, float] = field(default_factory=dict)
    exclude_maintenance: Mapping[str, bool] = field(default_factory=dict)


def availability_patch(scenario: Scenario, what_if: AvailabilityWhatIf) -> Patch:
    """The merge patch of the availability sliders (only what differs from ``scenario``).

    Raises
    ------
    InputError
        For an unknown component or service, or a multiplier that is not greater than zero.
        (``needed`` above ``count`` is reported by the scenario's own validation.)
    """
    patch: Patch = {}
    for kind, values in (("count", what_if.count), ("needed", what_if.needed)):
        for name, value in values.items():
            component = scenario.components.get(name)
            if component is None:
                raise _slider_problem(f"there is no component {name!r}", "", f"components.{name}")
            whole = _whole(value, f"{name} {kind}", f"components.{name}.{kind}")
            if whole != getattr(component, kind):
                _nest(patch, ("components", name, kind), whole)
    factors: tuple[tuple[str, Mapping[str, float]], ...] = (
        ("fails", what_if.fails),
        ("repair", what_if.repair),
    )
    for kind, multipliers in factors:
        for name, factor in multipliers.items():
            component = scenario.components.get(name)
            if component is None:
                raise _slider_problem(f"there is no component {name!r}", "", f"components.{name}")
            if not math.isfinite(factor) or factor <= 0:
                raise _slider_problem(
                    f"{name}: {kind} × {factor:g}",
                    "use a multiplier greater than 0",
                    f"components.{name}.{kind}",
                )
            distribution = getattr(component, kind)
            if factor != 1.0 and not isinstance(distribution, TeamRepair):
                _nest(patch, ("components", name, kind), distribution.scaled(factor).to_spec())
    for name, exclude in what_if.exclude_maintenance.items():
        service = scenario.services.get(name)
        if service is None or service.availability is None:
            raise _slider_problem(
                f"service {name!r} has no availability target", "", f"services.{name}"
            )
        if bool(exclude) != service.availability.exclude_maintenance:
            _nest(patch, ("services", name, "availability", "exclude_maintenance"), bool(exclude))
    return patch


def availability_figures(results: Results) -> dict[str, list[Row]]:
    """Availability of a run for the workbench.

    Returns
    -------
    dict
        ``targets``: the ``availability`` rows of the simulate document; ``periods``: per
        service and period (:func:`simkit.measure.availability_period_rows`); ``outcomes``: per
        service, replication and *full* period ``availability`` and ``credit`` (share of the
        fee); ``credits``: per service and credit tier the share of full periods earning it.
    """
    targets = availability_targets(results.scenario)
    spec = results.measure_spec()
    outcomes: list[Row] = []
    credits: list[Row] = []
    for target in targets:
        table = availability_outcomes(results.outages, target, spec)
        full = np.asarray(table["full"].to_numpy(zero_copy_only=False), dtype=bool)
        values = np.asarray(table["availability"].to_numpy(zero_copy_only=False), dtype=np.float64)[
            full
        ]
        credit = np.asarray(table["credit"].to_numpy(zero_copy_only=False), dtype=np.float64)[full]
        replication = np.asarray(table["replication"].to_numpy(zero_copy_only=False))[full]
        period = np.asarray(table["period"].to_numpy(zero_copy_only=False), dtype=object)[full]
        defined = ~np.isnan(values)
        outcomes.extend(
            {
                "service": target.service,
                "replication": int(r),
                "period": str(p),
                "availability": float(v),
                "credit": float(c),
                "target": target.target,
            }
            for r, p, v, c in zip(
                replication[defined], period[defined], values[defined], credit[defined], strict=True
            )
        )
        judged = int(defined.sum())
        for below, share in target.credits:
            earned = int(np.sum(np.isclose(credit[defined], share)))
            credits.append(
                {
                    "service": target.service,
                    "below": below,
                    "credit": share,
                    "periods": judged,
                    "share_of_periods": earned / judged if judged else None,
                }
            )
    return {
        "targets": results.summary()["availability"],
        "periods": availability_period_rows(results.outages, targets, spec),
        "outcomes": outcomes,
        "credits": credits,
    }


def services_by_target(figures: Mapping[str, list[Row]]) -> list[tuple[float, tuple[str, ...]]]:
    """The services of :func:`availability_figures` grouped by their availability target, in
    the order they come: a chart per group marks every service's own target (one group when
    all services share one target, as they usually do)."""
    groups: dict[float, list[str]] = {}
    for row in figures["targets"]:
        groups.setdefault(float(row["target"]), []).append(str(row["service"]))
    return [(target, tuple(services)) for target, services in groups.items()]
