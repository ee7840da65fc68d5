"""Running the workbench's scenario on a shared server: the size guard, the key of a run's
results, the run itself and re-measuring a run against edited targets.
"""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import MutableMapping
from concurrent.futures import Executor
from typing import Any

from simkit.errors import InputError
from simkit.runner import (
    DEFAULT_MAX_VISITS,
    Progress,
    ReplicationOutcome,
    Results,
    check_size,
    simulate,
)
from simkit.scenario import Scenario
from simkit.stops import RunStop

__all__ = [
    "DEFAULT_REPLICATIONS",
    "MAX_REPLICATIONS",
    "RUN_VISIT_BUDGET",
    "check_run",
    "check_search",
    "remeasure",
    "run_key",
    "simulate_run",
]

DEFAULT_REPLICATIONS = 10
"""Replications of a workbench run unless the user raises them."""
MAX_REPLICATIONS = 100
RUN_VISIT_BUDGET = 20_000_000
"""Most visits (over all replications) one workbench run may simulate on a shared server."""


def check_run(
    scenario: Scenario,
    replications: int,
    *,
    max_visits: int = DEFAULT_MAX_VISITS,
    budget: int = RUN_VISIT_BUDGET,
    command: str = "simkit simulate",
    what: str = "run",
) -> float:
    """Refuse a run too large for a shared server, before it starts. The fixes point to
    ``command`` on the command line (the workbench has no bound to raise); the messages call
    the run ``what``.

    Returns the expected visits per replication.

    Raises
    ------
    InputError
        When a replication would exceed ``max_visits`` (:func:`simkit.runner.check_size`), or
        the whole run ``budget`` visits, or ``replications`` is outside 1 … MAX_REPLICATIONS.
    """
    if not 1 <= replications <= MAX_REPLICATIONS:
        raise InputError.single(
            f"{replications} replications", f"choose 1 to {MAX_REPLICATIONS}", path="replications"
        )
    estimate = check_size(
        scenario,
        max_visits,
        raise_bound=f"run it from the command line with `{command} --max-visits N`",
    )
    if estimate * replications > budget:
        raise InputError.single(
            f"this {what} expects about {estimate * replications:,.0f} visits "
            f"({estimate:,.0f} per replication × {replications}), more than the "
            f"{budget:,} the workbench runs at once",
            f"lower the replications or the volume, or run it from the command line with "
            f"`{command}`",
            path="replications",
        )
    return estimate


SEARCH_VISIT_BUDGET = 10 * RUN_VISIT_BUDGET
"""Most visits one search (staffing options, the optimiser) may simulate on a shared server."""


def check_search(scenario: Scenario, replications: int, runs: int, what: str) -> float:
    """Refuse a search of ``runs`` runs (staffing options, the optimiser) too large for a shared
    server before it starts: each run must pass :func:`check_run`, and all of them together
    :data:`SEARCH_VISIT_BUDGET`. Returns the expected visits of the whole search.

    Raises
    ------
    InputError
        When one run, or the whole search, is too large.
    """
    per_replication = check_run(scenario, replications)
    total = per_replication * replications * runs
    if total > SEARCH_VISIT_BUDGET:
        raise InputError.single(
            f"{what} would simulate about {total:,.0f} visits ({runs} runs × {replications} "
            f"replications × {per_replication:,.0f}), more than the {SEARCH_VISIT_BUDGET:,} "
            "the workbench spends on one search",
            "lower the replications or the runs it may spend, or run it on the command line "
            "(`simkit optimize`, `simkit targets`)",
            path="replications",
        )
    return total


def run_key(scenario: Scenario, replications: int, seed: int) -> str:
    """A key for a run's results: the scenario's fingerprint (its settings and the windowed changes
    in force), where its files resolve, the replications and the seed — equal keys give equal
    numbers. The scenario's file name is part of it too: results and briefs carry the scenario,
    and one user's upload name must not reach another session through a shared cache."""
    digest = hashlib.sha256()
    parts = (
        scenario.fingerprint(),
        str(scenario.base_dir),
        str(scenario.source),
        str(replications),
        str(seed),
    )
    for part in parts:
        digest.update(part.encode("utf-8"))
        digest.update(b"\0")
    return digest.hexdigest()


def simulate_run(
    scenario: Scenario,
    *,
    replications: int,
    seed: int,
    executor: Executor | None = None,
    progress: Progress | None = None,
    in_flight: int | None = None,
    finished: MutableMapping[int, ReplicationOutcome] | None = None,
    stop: RunStop | None = None,
) -> Results:
    """:func:`check_run`, then :func:`simkit.runner.simulate` (``in_flight``, ``finished``,
    ``stop``: see there)."""
    check_run(scenario, replications)
    return simulate(
        scenario,
        replications=replications,
        seed=seed,
        executor=executor,
        progress=progress,
        in_flight=in_flight,
        finished=finished,
        stop=stop,
    )


_TARGET_KEYS = ("respond", "resolve")
"""The keys of a priority level that are targets (its ``share`` decides what is simulated)."""
_AGREEMENT_KEYS = ("target", "calendar", "exclude_maintenance", "credits", "monthly_fee")
"""The keys of a service's availability agreement that are measured (its ``depends_on`` and
``maintenance`` decide what is simulated)."""
_MEASURED_ONLY = ("name", "description", "replications", "seed", "period", "corporate", "changes")
"""Top-level keys that decide nothing of what is simulated (the changes in force do: overlays)."""


def _simulated_part(scenario: Scenario) -> Any:
    """What of ``scenario`` decides its run: its settings without the targets (SLA targets of
    services and customers, corporate targets, OLAs and UCs, availability targets and credits)
    and the windowed changes in force."""
    raw = scenario.raw
    for key in _MEASURED_ONLY:
        raw.pop(key, None)
    for service in raw.get("services", {}).values():
        for key in _AGREEMENT_KEYS:
            (service.get("availability") or {}).pop(key, None)
        for level in (service.get("priorities") or {}).values():
            for key in _TARGET_KEYS:
                level.pop(key, None)
    for customer in raw.get("customers", {}).values():
        customer.pop("priorities", None)
    for team in raw.get("teams", {}).values():
        team.pop("ola", None)
        team.pop("uc", None)
    windows = [(o.name, str(o.window.from_), str(o.window.until)) for o in scenario.overlays]
    return raw, windows


def remeasure(results: Results, scenario: Scenario) -> Results:
    """``results`` measured against the targets of ``scenario`` — which must differ from the
    scenario that was run in its targets only (as :attr:`EditedScenario.measured` does).

    Raises
    ------
    InputError
        When ``scenario`` differs from the scenario run in anything but its targets (its
        demand, teams, horizon or calendars …): its figures need a run of their own.
    """
    if scenario is results.scenario:
        return results
    if _simulated_part(scenario) != _simulated_part(results.scenario):
        raise InputError.single(
            f"scenario {scenario.name!r} differs from the scenario run ({results.scenario.name!r})"
            " in more than its targets, so the run cannot be measured against it",
            "simulate the scenario itself; only targets (SLA, OLA/UC, availability) may differ "
            "for a run to be measured again",
            path="scenario",
        )
    return dataclasses.replace(results, scenario=scenario)
