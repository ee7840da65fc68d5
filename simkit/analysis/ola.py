"""Do the OLAs and UCs underpin the SLA? Static alignment, simulated alignment, recommendations.

For every SLA target (service, customer and corporate levels) three answers:

**Static.** The routing paths that carry at least :data:`MIN_PATH_SHARE` of the target's tickets
— sequences of visits from the entry team through ``next`` until resolved, with their
probabilities from the routing shares (``pause`` and a reopen bring the ticket back to the same
team: a new visit, not a team of its own). Paths are enumerated depth first; a branch is
abandoned once its probability falls below a tenth of :data:`MIN_PATH_SHARE` or it reaches
:data:`MAX_PATH_VISITS` visits (what is not listed is ``other_share``). Along each path the
agreements are *chained*: from a start instant, each visit's deadline is its OLA/UC ``within``
added on its own calendar (:meth:`simkit.calendar.Calendar.add`) — the *latest* instant the
visit still meets it, so a deadline at a closing moves on to the next opening — the next visit
starting there, and the total is measured on the SLA's calendar
(:meth:`~simkit.calendar.Calendar.elapsed`). ``ola_sum_h`` is the worst total over every instant
at which the target's tickets can open in the measured span (``start`` to the end of the
``horizon``, on the run hours in which its services receive tickets by their demand profile):
the actual dates, so the calendars' holidays and clock changes count. The worst case is exact:
the total is piecewise linear in the start and changes slope or jumps only where the start or a
deadline crosses an opening or a closing of a calendar involved, so it is evaluated at those
instants (each walked back through the chain) and just before them. A pause or a reopen splits
the chain: the SLA clock stops there for an arbitrary time, so the segment after it takes its
own worst start, anywhere from the start of the measured span to the end of the run, and the
worst cases add. ``worst_starts`` gives each segment's worst start, ``holidays_differ`` the dates
on which a holiday closes an agreement on the path but not all of the path's calendars. A path
*fits* when the sum is at most the SLA's ``within``; a team without an agreement for the metric
leaves the path unbounded (``ola_sum_h`` null, not fitting). For ``respond`` only the entry
team's respond OLA counts. ``gaps`` names the teams and suppliers that break it: those without
an agreement on a listed path, and on a path whose agreements add up to too much, the fewest
agreements — largest first — whose removal would make it fit.

**Simulated.** Each measured ticket of the target is joined with the OLA/UC outcomes of its
visits (resolve agreements for a resolution target; the first visit's respond agreement for a
response target), measured on every visit of the ticket whatever its assignment time. A visit to
a team without an agreement, or still running and not yet late when the run ends, counts neither
as met nor as breached; a ticket *met its OLAs* when at least one visit was measured and none
breached. ``p_met_when_olas_met`` = P(SLA met | OLAs met); ``watermelon_share`` = the share of SLA
breaches on tickets that met their OLAs (the OLAs are too loose); ``tight_share`` = the share of
OLA/UC breaches on tickets whose SLA was met (the OLAs are tighter than the SLA needs). Counts are
pooled over replications; their Wilson intervals are clustered by replication (the tickets of
one run are not independent).

**Recommended.** Per team on the listed paths, the time each visit takes on the SLA's calendar
is measured on the target's tickets. With *k* the most visits on a listed path, each agreement
gets the goal ``1 − (1 − g)/k`` (so that a ticket meets all *k* of them with probability at
least *g* whatever their dependence), and the SLA's ``within`` is shared out in proportion to
each team's time at that quantile, scaled so that the longest listed path adds up to
``within`` exactly (a team counts at least 1% of ``within``/*k*, so every target is positive).
The recommendations are written on the SLA's own calendar, rounded down to whole seconds, and
checked with the static method (``recommended_fits``).

The parts: :mod:`~simkit.analysis.ola_paths` (routing paths), :mod:`~simkit.analysis.ola_static`
(the static check) and :mod:`~simkit.analysis.ola_simulated` (the simulated join and the
recommendations); this module assembles the document.
"""

from __future__ import annotations

from concurrent.futures import Executor
from typing import Any

from simkit.analysis.ola_paths import MAX_PATH_VISITS, MIN_PATH_SHARE, RoutingPath, routing_paths
from simkit.analysis.ola_simulated import _join, _recommend, _RunData, _simulated, recommended_patch
from simkit.analysis.ola_static import (
    GRID_MINUTES,
    StartWindows,
    _static,
    _static_row,
    resume_windows,
    start_grid,
    start_windows,
    static_alignment,
    worst_case_hours,
)
from simkit.analysis.ola_static import Agreements as Agreements
from simkit.analysis.ola_static import Step as Step
from simkit.measure import sla_outcomes, ticket_pauses
from simkit.runner import Progress, Results, simulate
from simkit.scenario import Scenario
from simkit.scenario.targets import ola_targets, sla_targets

__all__ = [
    "GRID_MINUTES",
    "MAX_PATH_VISITS",
    "MIN_PATH_SHARE",
    "RoutingPath",
    "StartWindows",
    "ola_alignment",
    "recommended_patch",
    "resume_windows",
    "routing_paths",
    "start_grid",
    "start_windows",
    "static_alignment",
    "worst_case_hours",
]

Row = dict[str, Any]


def ola_alignment(
    scenario: Scenario,
    *,
    replications: int | None = None,
    seed: int | None = None,
    executor: Executor | None = None,
    progress: Progress | None = None,
    results: Results | None = None,
) -> dict[str, Any]:
    """Whether the OLAs and UCs underpin each SLA target, statically and in simulation, and
    what each team and supplier would have to promise instead (see the module docstring).

    Parameters
    ----------
    scenario
        The scenario with its SLA targets and the teams' OLAs and suppliers' UCs.
    replications, seed, executor, progress
        As for :func:`simkit.runner.simulate`; ignored when ``results`` is given.
    results
        A finished run of ``scenario`` to reuse instead of simulating it.

    Returns
    -------
    dict
        ``{"scenario", "replications", "seed", "changes", "min_path_share", "grid_minutes",
        "sla", "failures"}``. ``sla`` rows: ``service, priority, metric, within_h, underpinned,
        gaps, paths [{teams, share, ola_sum_h, fits, missing, pauses, worst_starts,
        holidays_differ}], p_met_when_olas_met, watermelon_share, recommended [{team, within_h,
        goal, kind, metric, calendar, quantile_h, compliance_now}]`` plus ``level, customer,
        calendar, goal, other_share, tight_share, share_olas_met, tickets, counts, teams,
        recommended_fits`` and the Wilson intervals of the two shares. Durations are business
        hours on the SLA's calendar; figures without data are ``None``.
    """
    if results is None:
        results = simulate(
            scenario, replications=replications, seed=seed, executor=executor, progress=progress
        )
    scenario = results.scenario
    measured = results.succeeded > 0 and results.tickets.num_rows > 0
    data = _RunData.of(results) if measured else None
    all_olas = list(enumerate(ola_targets(scenario)))
    tickets = results.service_tickets()
    attached = ticket_pauses(tickets, results.pauses, data.spec) if data is not None else None
    rows: list[Row] = []
    for target in sla_targets(scenario):
        checks, other = _static(scenario, target)
        row = _static_row(target, checks, other)
        simulated: Row = {
            "p_met_when_olas_met": None,
            "watermelon_share": None,
            "tight_share": None,
        }
        recommended: list[Row] = []
        fits = False
        if data is not None:
            outcomes = sla_outcomes(tickets, attached, target, data.spec)
            olas = [
                (i, o)
                for i, o in all_olas
                if o.metric == target.metric and o.priority in (None, target.priority)
            ]
            joined = _join(data, target, outcomes, olas)
            simulated = _simulated(joined, results.succeeded)
            recommended, fits = _recommend(data, scenario, target, checks, joined.keys)
        rows.append({**row, **simulated, "recommended": recommended, "recommended_fits": fits})
    return {
        "scenario": scenario.name,
        "replications": results.succeeded,
        "seed": results.seed,
        "changes": list(scenario.applied_changes),
        "min_path_share": MIN_PATH_SHARE,
        "grid_minutes": GRID_MINUTES,
        "sla": rows,
        "failures": [{"replication": f.replication, "error": f.error} for f in results.failures],
    }
