"""The open backlog at the export time as the fitted scenario's starting state (``calibrate
--backlog``): the scenario then looks forward from the export rather than back over the history.

- ``start`` becomes the first local midnight at or after the export time, and ``warmup`` the
  time from the export to it (0 when the export was taken at midnight): the run begins at the
  export instant with the backlog in the queues, and the tickets that open before midnight are
  simulated but, as any warm-up's, not measured.
- Each group of open tickets (service × priority × the team that last held it) becomes a
  ``backlog`` line with its count and mean age at the export. A ticket no team has held yet
  waits at its service's entry team (so would one of a team the fitted scenario lacks, with a
  note; calibration pools small teams before this, so their tickets wait at the pool). Tickets
  without a priority are spread over their service's priorities by its mix, as the fitted
  arrivals are (all of them in the one class of a service with no priorities at all). Tickets
  paused at the export (the profile's pause states: awaiting the user, a supplier, on hold) are
  left out — when they would come back cannot be told — and
  so are tickets of a service or priority the fit lacks; the report counts each, nothing is
  dropped silently.
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
    warmup_h: float
    """Hours from the export time to ``start``: the run begins at the export."""
    years_on: float
    """Years from the history's first day to ``start`` (each trend moves on by these)."""
    lines: list[dict[str, Any]]
    """``backlog`` lines: team, service, priority, tickets, age_h (at the export time, where
    the run begins)."""
    notes: list[str] = field(default_factory=list)
    """What could not be placed as it was, and where it went (for the report)."""

    def report(self) -> dict[str, Any]:
        return {
            "start": self.start.isoformat(),
            "warmup_h": self.warmup_h,
            "tickets": sum(int(line["tickets"]) for line in self.lines),
            "lines": self.lines,
            "notes": self.notes,
        }


def _spread(count: int, mix: Mapping[str, int]) -> dict[str, int]:
    """``count`` tickets over the priorities of ``mix`` in its proportions (largest remainder)."""
    total = sum(mix.values())
    raw = {p: count * n / total for p, n in mix.items() if n > 0}
    shares = {p: int(v) for p, v in raw.items()}
    for p in sorted(raw, key=lambda p: raw[p] - shares[p], reverse=True)[
        : count - sum(shares.values())
    ]:
        shares[p] += 1
    return {p: n for p, n in shares.items() if n}


def starting_state(
    backlog: Mapping[str, Any],
    *,
    export_at: np.datetime64,
    history_start: dt.date,
    zone: str,
    entries: Mapping[str, str],
    teams: Sequence[str],
    mixes: Mapping[str, Mapping[str, int]],
    unprioritised: str,
) -> StartingState:
    """The starting state from the backlog report (:func:`simkit.calibrate.report._backlog`).

    ``entries``: each fitted service's entry team; ``teams``: the fitted teams' names;
    ``mixes``: each fitted service's tickets per priority (its fitted mix), ``unprioritised``
    the class of a service none of whose tickets has a priority."""
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
    spread = awaiting = 0
    for group in backlog.get("by", []):
        service = str(group["service"])
        priority: str | None = group["priority"]  # None: the ticket has no priority
        team: str | None = group["team"]  # None: no team has held it yet
        paused = int(group.get("awaiting_user", 0))
        awaiting += paused
        count = int(group["tickets"]) - paused
        if count <= 0:
            continue
        mix = mixes.get(service)
        if mix is None:
            reason = f"of service {service!r}, which the fitted scenario does not have"
            unplaced[reason] = unplaced.get(reason, 0) + count
            continue
        if priority is None:
            if set(mix) == {unprioritised}:
                placed = {unprioritised: count}
            else:
                placed = _spread(count, mix)
                spread += count
        elif priority in mix:
            placed = {priority: count}
        else:
            reason = f"of priority {priority!r}, which service {service!r} does not have"
            unplaced[reason] = unplaced.get(reason, 0) + count
            continue
        if team is None or team not in teams:
            if team is not None:
                moved[team] = moved.get(team, 0) + count
            team = entries[service]
        age = group.get("ready_mean_age_h")
        age = float(group["mean_age_h"] if age is None else age)
        for chosen, n in placed.items():
            ages = merged.setdefault((team, service, chosen), [0.0, 0.0])
            ages[0] += n
            ages[1] += n * age
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
    if awaiting:
        notes.append(
            f"{awaiting:,} open tickets paused at the export time (awaiting the user, a "
            "supplier or on hold: the profile's pause states) are not in the backlog: when they "
            "would come back cannot be told"
        )
    if spread:
        notes.append(
            f"{spread:,} open tickets without a priority are spread over their service's "
            "priorities by its mix, as the fitted arrivals are"
        )
    notes += [
        f"{count:,} open tickets last held by {team!r}, which the fitted scenario does not have, "
        "wait at their service's entry team"
        for team, count in moved.items()
    ]
    return StartingState(start=day, warmup_h=gap_h, years_on=years_on, lines=lines, notes=notes)
