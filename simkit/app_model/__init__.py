"""The what-if workbench's model: slider values → a merge patch → a scenario, run and measured.

The Streamlit pages in ``app/`` only draw widgets and call these functions, so every number the
workbench shows comes from here and is testable without a browser.

- :func:`scenario_controls` lists what can be moved in a scenario (volume and growth per service,
  agents per team and roster line, handling-time multipliers, pause rates, SLA targets) with the
  scenario's own values as the starting point.
- A :class:`WhatIf` holds the slider values; :func:`edit_scenario` turns it into two validated
  scenarios: ``run`` (what is simulated) and ``measured`` (``run`` with the edited targets, which
  are measured but never change the simulation) — so moving a target re-measures a cached run
  instead of simulating again. Only values that differ from the scenario go into the patch: an
  untouched workbench is the scenario itself. :class:`Positions` holds where the Scenario page's
  sliders stand and makes the what-if of those positions or of a neighbouring one the same way,
  so that a run made ahead for the next step has the key of the run the slider gives there.
- :func:`check_run` is the guard a shared server needs: the visit guard of
  :func:`simkit.runner.check_size` plus a budget for the whole run (visits × replications);
  :func:`check_backtest` applies it to the Calibrate page's back-test.
- The ``*_rows``/``*_table`` functions turn results into plain rows for tables and charts; every
  figure keeps its interval or its replications.

The workbench's model is split by job: :mod:`~simkit.app_model.whatif` (controls, slider values,
patches), :mod:`~simkit.app_model.availability` (the availability sliders and figures),
:mod:`~simkit.app_model.run` (the run guard, run keys, running),
:mod:`~simkit.app_model.backtest` (the back-test's guard) and :mod:`~simkit.app_model.rows`
(rows for tables, charts and downloads); every public name is importable from here.
"""

from simkit.app_model.availability import (
    AvailabilityWhatIf,
    ComponentControl,
    availability_figures,
    availability_patch,
    component_controls,
    services_by_target,
)
from simkit.app_model.backtest import check_backtest
from simkit.app_model.rows import (
    DEFAULT_CONFIDENCE,
    estimate_table,
    flat_row,
    fmt_hours,
    handling_fit_rows,
    period_rows,
    profile_rows,
    queue_rows,
    result_tables,
    sla_table,
    table_bytes,
    target_identity,
    time_rows,
)
from simkit.app_model.run import (
    DEFAULT_REPLICATIONS,
    MAX_REPLICATIONS,
    RUN_VISIT_BUDGET,
    SEARCH_VISIT_BUDGET,
    check_run,
    check_search,
    remeasure,
    run_key,
    simulate_run,
)
from simkit.app_model.whatif import (
    MAX_PAUSE,
    STEP,
    Controls,
    EditedScenario,
    Positions,
    ServiceControl,
    TargetControl,
    TeamControl,
    WhatIf,
    edit_scenario,
    exact,
    scenario_controls,
    what_if_patch,
    window_reach,
    with_custom_change,
    yaml_text,
)

__all__ = [
    "DEFAULT_CONFIDENCE",
    "DEFAULT_REPLICATIONS",
    "MAX_PAUSE",
    "MAX_REPLICATIONS",
    "RUN_VISIT_BUDGET",
    "SEARCH_VISIT_BUDGET",
    "STEP",
    "AvailabilityWhatIf",
    "ComponentControl",
    "Controls",
    "EditedScenario",
    "Positions",
    "ServiceControl",
    "TargetControl",
    "TeamControl",
    "WhatIf",
    "availability_figures",
    "availability_patch",
    "check_backtest",
    "check_run",
    "check_search",
    "component_controls",
    "edit_scenario",
    "estimate_table",
    "exact",
    "flat_row",
    "fmt_hours",
    "handling_fit_rows",
    "period_rows",
    "profile_rows",
    "queue_rows",
    "remeasure",
    "result_tables",
    "run_key",
    "scenario_controls",
    "services_by_target",
    "simulate_run",
    "sla_table",
    "table_bytes",
    "target_identity",
    "time_rows",
    "what_if_patch",
    "window_reach",
    "with_custom_change",
    "yaml_text",
]
