"""SLA, OLA and UC measurement — one path for history and simulation.

Historical and simulated tickets share one table schema, and this package measures both the same
way: :func:`sla_outcomes` and :func:`ola_outcomes` give the outcome of every measured ticket or
visit of one target, :func:`summarize` the figures over replications that every command reports
(also in two halves, :func:`summarize_sla` and :func:`summarize_teams`, so that a page can show
the SLA table first), :func:`period_table` / :func:`period_of` the reporting periods.
"""

from simkit.measure.availability import (
    AVAILABILITY_OUTCOME_SCHEMA,
    BANDS,
    AvailabilityTarget,
    availability_outcomes,
    availability_period_rows,
    availability_rows,
)
from simkit.measure.periods import Period, period_of, period_table
from simkit.measure.sla import (
    OLA_OUTCOME_SCHEMA,
    SLA_OUTCOME_SCHEMA,
    ola_outcomes,
    sla_outcomes,
    ticket_pauses,
)
from simkit.measure.summary import (
    QUANTILES,
    TargetFigures,
    period_meets,
    summarize,
    summarize_sla,
    summarize_teams,
    target_figures,
)
from simkit.measure.targets import MeasureSpec, OlaTarget, SlaTarget, SmallSample

__all__ = [
    "AVAILABILITY_OUTCOME_SCHEMA",
    "BANDS",
    "OLA_OUTCOME_SCHEMA",
    "QUANTILES",
    "SLA_OUTCOME_SCHEMA",
    "AvailabilityTarget",
    "MeasureSpec",
    "OlaTarget",
    "Period",
    "SlaTarget",
    "SmallSample",
    "TargetFigures",
    "availability_outcomes",
    "availability_period_rows",
    "availability_rows",
    "ola_outcomes",
    "period_meets",
    "period_of",
    "period_table",
    "sla_outcomes",
    "summarize",
    "summarize_sla",
    "summarize_teams",
    "target_figures",
    "ticket_pauses",
]
