"""The Calibrate page's back-test on a shared server: the size guard of the whole back-test,
sized on the scenario as the back-test simulates it (moved onto the history's span).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from simkit.app_model import run
from simkit.scenario import Scenario

if TYPE_CHECKING:
    from simkit.calibrate.history import History

__all__ = ["check_backtest"]


def check_backtest(history: History, scenario: Scenario, replications: int) -> float:
    """Refuse a back-test too large for a shared server, before it starts: the scenario as the
    back-test simulates it (:func:`simkit.calibrate.backtest.backtest_scenario`) must pass
    :func:`~simkit.app_model.run.check_run` — each replication the visit limit, and all
    ``replications`` together the run's budget (:data:`~simkit.app_model.run.RUN_VISIT_BUDGET`,
    read when called). Returns the expected visits per replication.

    Raises
    ------
    InputError
        When a replication, or the whole back-test, is too large (or the span is empty).
    """
    # imported here: only the Calibrate page needs the calibration package
    from simkit.calibrate.backtest import backtest_scenario

    moved = backtest_scenario(history, scenario)
    return run.check_run(
        moved,
        replications,
        budget=run.RUN_VISIT_BUDGET,
        command="simkit backtest",
        what="back-test",
    )
