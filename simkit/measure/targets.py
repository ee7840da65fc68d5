"""What is measured: SLA, OLA and UC targets and the measured span.

Plain frozen values built by whoever compiles a scenario (or a history review); the measurement
functions read nothing else. A target's ``calendar`` is the compiled business calendar its clock
runs on, ``calendar_name`` the name the user gave it (reported back in every row).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

import numpy as np

from simkit.measure.periods import PERIOD_KINDS, PeriodKind

if TYPE_CHECKING:
    from simkit.calendar import Calendar

__all__ = [
    "Level",
    "MeasureSpec",
    "Metric",
    "OlaKind",
    "OlaTarget",
    "SlaTarget",
    "SmallSample",
]

Level = Literal["service", "customer", "corporate"]
Metric = Literal["respond", "resolve"]
OlaKind = Literal["ola", "uc"]


@dataclass(frozen=True)
class SmallSample:
    """The contract rule for thin periods: a period with fewer than ``below`` measured tickets
    also meets the target when it has at most ``max_breaches`` breaches (a relief: a thin period
    that meets the goal is met)."""

    below: int
    max_breaches: int

    def __post_init__(self) -> None:
        if self.below < 1 or self.max_breaches < 0:
            raise ValueError(
                "small_sample needs below >= 1 and max_breaches >= 0, "
                f"got below={self.below}, max_breaches={self.max_breaches}"
            )


def _check_common(metric: str, within_h: float, goal: float) -> None:
    if metric not in ("respond", "resolve"):
        raise ValueError(f"metric must be 'respond' or 'resolve', got {metric!r}")
    if not within_h > 0 or not np.isfinite(within_h):
        raise ValueError(f"within_h must be a positive number of hours, got {within_h!r}")
    if not 0.0 <= goal <= 1.0:
        raise ValueError(f"goal must be a fraction between 0 and 1, got {goal!r}")


@dataclass(frozen=True)
class SlaTarget:
    """One service-level target: ``goal`` of the selected tickets ``metric`` within ``within_h``
    business hours of ``calendar``.

    ``service=None`` selects every service (the corporate level), ``customer=None`` every
    customer.
    """

    level: Level
    service: str | None
    customer: str | None
    priority: str
    metric: Metric
    within_h: float
    calendar_name: str
    calendar: Calendar
    goal: float
    small_sample: SmallSample | None = None

    def __post_init__(self) -> None:
        if self.level not in ("service", "customer", "corporate"):
            raise ValueError(f"level must be service, customer or corporate, got {self.level!r}")
        _check_common(self.metric, self.within_h, self.goal)


@dataclass(frozen=True)
class OlaTarget:
    """An internal team's OLA (``kind="ola"``) or a supplier's UC (``kind="uc"``), measured per
    visit: respond = assigned → started, resolve = assigned → finished.

    ``priority=None`` measures visits of every priority.
    """

    team: str
    kind: OlaKind
    metric: Metric
    within_h: float
    calendar_name: str
    calendar: Calendar
    goal: float
    small_sample: SmallSample | None = None
    priority: str | None = None

    def __post_init__(self) -> None:
        if self.kind not in ("ola", "uc"):
            raise ValueError(f"kind must be 'ola' or 'uc', got {self.kind!r}")
        _check_common(self.metric, self.within_h, self.goal)


def _as_instant(value: object, name: str) -> np.datetime64:
    instant: np.datetime64 = np.asarray(value).astype("datetime64[us]").reshape(1)[0]
    if np.isnat(instant):
        raise ValueError(f"{name} must be an instant, got NaT")
    return instant


@dataclass(frozen=True)
class MeasureSpec:
    """The measured span and the targets measured over it.

    Attributes
    ----------
    timezone
        IANA time zone whose local calendar defines the reporting periods.
    period
        ``"week"`` (ISO), ``"month"`` or ``"quarter"``.
    start
        UTC instant of the first measured moment (local midnight of the scenario's start date).
    horizon_end
        End of the measured span: tickets opened in ``[start, horizon_end)`` are measured.
    observed_until
        The "now" of the data (end of the run, or the export time of a history): events after
        it are unknown, tickets still open then are breached or ``open``.
    sla, ola
        The targets.
    replications
        Number of replications; replication ids in the tables are ``0 … replications − 1``
        (history is replication 0 of 1).
    """

    timezone: str
    period: PeriodKind
    start: np.datetime64
    horizon_end: np.datetime64
    observed_until: np.datetime64
    sla: tuple[SlaTarget, ...] = ()
    ola: tuple[OlaTarget, ...] = ()
    replications: int = 1

    def __post_init__(self) -> None:
        for name in ("start", "horizon_end", "observed_until"):
            object.__setattr__(self, name, _as_instant(getattr(self, name), name))
        if self.period not in PERIOD_KINDS:
            raise ValueError(f"period must be one of week, month, quarter, got {self.period!r}")
        if not self.start < self.horizon_end:
            raise ValueError("horizon_end must be after start")
        if self.replications < 1:
            raise ValueError(f"replications must be at least 1, got {self.replications}")
        object.__setattr__(self, "sla", tuple(self.sla))
        object.__setattr__(self, "ola", tuple(self.ola))
