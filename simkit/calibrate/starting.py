"""The open backlog at the export time as the fitted scenario's starting state (``calibrate
--backlog``): the scenario then looks forward from the export rather than back over the history.

- ``start`` becomes the first local midnight at or after the export time, ``warmup`` 0: the
  backlog *is* the queue at the start (the few hours from the export to that midnight are not
  simulated; the ages count them).
- Each group of open tickets (service × priority × the team that last held it) becomes a
  ``backlog`` line with its count and mean age at the new start. A ticket no team has held yet
  waits at its service's entry team; a team the fitted scenario does not have (pooled into
  another) hands its tickets to the service's entry team too, and the report says so. Tickets
  without a priority, or of a service the fit left out, cannot be placed and are counted in the
  report, never dropped silently.
- A demand trend is fitted at the history's first day: each service's ``per_week`` moves along
  it to the new start.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from simkit.calibrate.span import HOURS_PER_YEAR, US_PER_HOUR, _local_date, local_midnight

__all__ = ["StartingState", "starting_state"]


@dataclass(frozen=True)
class StartingState:
    """What ``calibrate --backlog`` changes in the fitted scenario."""

    start: dt.date
    """The new ``start``: the first local midnight at or after the export time."""
    years_on: float
    """Years from the history's first day to ``start`` (each trend moves on by these)."""
    lines: list[dict[str, Any]]
    """``backlog`` lines: team, service, priority, tickets, age_h (at ``start``)."""
    notes: list[str] = field(default_factory=list)
    """What could not be placed as it was, and where it went (for the report)."""

    def report(self) -> dict[str, Any]:
        return {
            "start": self.start.isoformat(),
            "tickets": sum(int(line["tickets"]) for line in self.lines),
            "lines": self.lines,
            "notes": self.notes,
        }


def starting_state(
    backlog: Mapping[str, Any],
    *,
    export_at: np.datetime64,
    history_start: dt.date,
    zone: str,
    entries: Mapping[str, str],
    teams: Sequence[str],
    priorities: Mapping[str, Sequence[str]],
) -> StartingState:
    """The starting state from the backlog report (:func:`simkit.calibrate.report._backlog`).

    ``entries``: each fitted service's entry team; ``teams``: the fitted teams' names;
    ``priorities``: each fitted service's priorities."""
    day = _local_date(export_at, zone)
    midnight = local_midnight(day, zone)
    if midnight < export_at:
        day += dt.timedelta(days=1)
        midnight = local_midnight(day, zone)
    gap_h = float((midnight - export_at).astype("timedelta64[us]").astype(np.int64)) / US_PER_HOUR
    first = local_midnight(history_start, zone)
    years_on = float((midnight - first).astype("timedelta64[us]").astype(np.int64))
    years_on /= US_PER_HOUR * HOURS_PER_YEAR
    merged: dict[tuple[str, str, str], list[float]] = {}
    unplaced: dict[str, int] = {}
    moved: dict[str, int] = {}
    for group in backlog.get("by", []):
        service, priority, team = str(group["service"]), str(group["priority"]), str(group["team"])
        count = int(group["tickets"])
        reason = None
        if service not in entries:
            reason = f"of service {service!r}, which the fitted scenario does not have"
        elif priority == "none":
            reason = "without a priority"
        elif priority not in priorities.get(service, ()):
            reason = f"of priority {priority!r}, which service {service!r} does not have"
        if reason is not None:
            unplaced[reason] = unplaced.get(reason, 0) + count
            continue
        if team not in teams:
            if team != "unassigned":
                moved[team] = moved.get(team, 0) + count
            team = entries[service]
        ages = merged.setdefault((team, service, priority), [0.0, 0.0])
        ages[0] += count
        ages[1] += count * (float(group["mean_age_h"]) + gap_h)
    lines = [
        {
            "team": team,
            "service": service,
            "priority": priority,
            "tickets": int(count),
            "age_h": total_age / count,
        }
        for (team, service, priority), (count, total_age) in merged.items()
    ]
    notes = [
        f"{count:,} open tickets {reason} are not in the backlog"
        for reason, count in unplaced.items()
    ]
    notes += [
        f"{count:,} open tickets last held by {team!r}, which the fitted scenario does not have, "
        "wait at their service's entry team"
        for team, count in moved.items()
    ]
    return StartingState(start=day, years_on=years_on, lines=lines, notes=notes)
