"""simkit — test service levels before you agree them.

The public API::

    scenario = simkit.load_scenario("scenarios/corporate_service_desk.yaml")
    results = simkit.simulate(scenario, replications=20, seed=1)
    results.summary()          # the document `simkit simulate --json` prints
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from simkit.errors import InputError, Problem, SimkitError, SpecError
from simkit.scenario import Scenario, load_scenario, parse_scenario

if TYPE_CHECKING:
    from simkit.calendar import Calendar
    from simkit.runner import Results, simulate

__version__ = "0.1.0"
__all__ = [
    "Calendar",
    "InputError",
    "Problem",
    "Results",
    "Scenario",
    "SimkitError",
    "SpecError",
    "load_scenario",
    "parse_scenario",
    "simulate",
]


def __getattr__(name: str) -> Any:
    if name == "Calendar":
        from simkit.calendar import Calendar

        return Calendar
    if name in ("simulate", "Results"):
        from simkit import runner

        return getattr(runner, name)
    raise AttributeError(f"module 'simkit' has no attribute {name!r}")
