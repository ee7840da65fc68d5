"""The charts of simkit, defined once: the workbench shows them and the HTML reports embed them.

Every function takes plain rows (lists of dicts, as the analyses and :mod:`simkit.app_model`
return them) and gives an :class:`altair.Chart` (Vega-Lite); nothing here computes a figure.
Every chart of a simulated figure draws its 95% interval and says how many replications it
rests on; an estimate is marked as one.

The charts live in :mod:`~simkit.report.charts_run` (simulated runs),
:mod:`~simkit.report.charts_calibration` (calibration) and :mod:`~simkit.report.charts_reports`
(the brief and the review pack), with their common look in :mod:`~simkit.report.charts_style`;
this module is the one place to import them from.
"""

from __future__ import annotations

from simkit.report.charts_calibration import backtest_chart, fit_chart, profile_chart
from simkit.report.charts_reports import trend_chart, verdict_chart
from simkit.report.charts_run import (
    availability_chart,
    availability_histogram,
    compliance_chart,
    impact_chart,
    period_chart,
    queue_chart,
    time_chart,
)
from simkit.report.charts_style import Rows as Rows

__all__ = [
    "availability_chart",
    "availability_histogram",
    "backtest_chart",
    "compliance_chart",
    "fit_chart",
    "impact_chart",
    "period_chart",
    "profile_chart",
    "queue_chart",
    "time_chart",
    "trend_chart",
    "verdict_chart",
]
