"""The simulated half of the OLA alignment: SLA outcomes joined with their visits' OLA/UC
outcomes, and the agreements the measured visit times recommend.

The join gives P(SLA met | OLAs met), the watermelon share and the tight share; the
recommendation shares the SLA's ``within`` out over the teams on the listed paths
(:mod:`simkit.analysis.ola` states both).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from simkit.analysis.ola_static import Step, _Chains, _check_path, _PathCheck, start_grid
from simkit.calendar import Calendar
from simkit.measure import MeasureSpec, OlaTarget, SlaTarget, ola_outcomes
from simkit.measure.clock import TOLERANCE_H, instants
from simkit.measure.sla import STATUSES
from simkit.runner import Results
from simkit.scenario import Scenario
from simkit.stats import clustered_wilson_interval

__all__ = ["recommended_patch"]

_FLOOR_SHARE = 0.01
_US_PER_HOUR = 3_600_000_000
Row = dict[str, Any]


def _ints(table: pa.Table, name: str) -> np.ndarray:
    return np.asarray(table[name].to_numpy(zero_copy_only=False)).astype(np.int64)


_MET, _BREACHED = 0, 1


def _statuses(table: pa.Table) -> np.ndarray:
    """Status codes: 0 met, 1 breached, 2 open."""
    codes = pc.fill_null(pc.index_in(table["status"], value_set=pa.array(STATUSES)), 2)
    return np.asarray(codes.to_numpy(zero_copy_only=False)).astype(np.int8)


def _team_codes(column: pa.ChunkedArray) -> tuple[np.ndarray, dict[str, int]]:
    """Integer codes of a string column and the code of each name."""
    encoded = pc.dictionary_encode(column).combine_chunks()
    names = encoded.dictionary.to_pylist()
    codes = np.asarray(encoded.indices.to_numpy(zero_copy_only=False)).astype(np.int64)
    return codes, {str(name): i for i, name in enumerate(names)}


@dataclass
class _RunData:
    """The tables of a run, keyed once for every target."""

    results: Results
    spec: MeasureSpec
    visit_spec: MeasureSpec
    stride: int
    visit_key: np.ndarray
    visit_team: np.ndarray
    team_code: dict[str, int]
    visit_first: np.ndarray
    assigned: np.ndarray
    started: np.ndarray
    finished: np.ndarray
    ola_cache: dict[int, tuple[np.ndarray, np.ndarray, np.ndarray]]
    hours_cache: dict[tuple[Calendar, str], np.ndarray]

    @classmethod
    def of(cls, results: Results) -> _RunData:
        spec = results.measure_spec()
        until = spec.observed_until + np.timedelta64(1, "us")
        visit_spec = dataclasses.replace(spec, horizon_end=max(until, spec.horizon_end))
        tickets, visits = results.tickets, results.visits
        stride = int(_ints(tickets, "ticket_id").max()) + 1 if tickets.num_rows else 1
        team, team_code = _team_codes(visits["team"])
        return cls(
            results=results,
            spec=spec,
            visit_spec=visit_spec,
            stride=stride,
            visit_key=_ints(visits, "replication") * stride + _ints(visits, "ticket_id"),
            visit_team=team,
            team_code=team_code,
            visit_first=_ints(visits, "seq") == 0,
            assigned=instants(visits["assigned_at"], "visits.assigned_at"),
            started=instants(visits["started_at"], "visits.started_at"),
            finished=instants(visits["finished_at"], "visits.finished_at"),
            ola_cache={},
            hours_cache={},
        )

    def ola(self, index: int, target: OlaTarget) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Key, status and first-visit flag of every measured visit of one OLA/UC target."""
        if index not in self.ola_cache:
            out = ola_outcomes(self.results.visits, target, self.visit_spec, self.results.tickets)
            key = _ints(out, "replication") * self.stride + _ints(out, "ticket_id")
            self.ola_cache[index] = (key, _statuses(out), _ints(out, "seq") == 0)
        return self.ola_cache[index]

    def visit_hours(self, calendar: Calendar, metric: str) -> np.ndarray:
        """Each visit's time on ``calendar`` (respond: to pickup; resolve: to the end of the
        visit); ``inf`` for a visit not over when the run ended."""
        key = (calendar, metric)
        if key not in self.hours_cache:
            stop = self.started if metric == "respond" else self.finished
            stop = np.where(np.isnat(stop), self.finished, stop) if metric == "respond" else stop
            late = np.isnat(stop) | (stop > self.spec.observed_until)
            hours = np.asarray(
                calendar.elapsed(self.assigned, np.where(late, self.assigned, stop)),
                dtype=np.float64,
            )
            hours[late] = np.inf
            self.hours_cache[key] = hours
        return self.hours_cache[key]


@dataclass(frozen=True)
class _Joined:
    keys: np.ndarray
    """Sorted keys of the target's measured tickets."""
    replication: np.ndarray
    """The replication of each (its cluster: the tickets of one run are not independent)."""
    sla_met: np.ndarray
    ola_met: np.ndarray
    ola_breached: np.ndarray
    per_team: list[Row]


def _index_of(sorted_keys: np.ndarray, keys: np.ndarray) -> np.ndarray:
    """Position of each key in ``sorted_keys``, −1 where absent."""
    if sorted_keys.size == 0:
        return np.full(keys.size, -1, dtype=np.int64)
    pos = np.minimum(np.searchsorted(sorted_keys, keys), sorted_keys.size - 1)
    return np.where(sorted_keys[pos] == keys, pos, -1)


def _join(
    data: _RunData,
    target: SlaTarget,
    outcomes: pa.Table,
    olas: Sequence[tuple[int, OlaTarget]],
) -> _Joined:
    status = _statuses(outcomes)
    measured = status <= _BREACHED
    keys = (_ints(outcomes, "replication") * data.stride + _ints(outcomes, "ticket_id"))[measured]
    order = np.argsort(keys, kind="stable")
    keys = keys[order]
    sla_met = (status[measured] == _MET)[order]
    met = np.zeros(keys.size, dtype=np.int64)
    breached = np.zeros(keys.size, dtype=np.int64)
    per_team: list[Row] = []
    for index, ola in olas:
        visit_key, visit_status, first = data.ola(index, ola)
        owner = _index_of(keys, visit_key)
        mine = owner >= 0
        if target.metric == "respond":
            mine &= first
        late = mine & (visit_status == _BREACHED)
        ok = mine & (visit_status == _MET)
        met += np.bincount(owner[ok], minlength=keys.size)
        breached += np.bincount(owner[late], minlength=keys.size)
        per_team.append(
            {
                "team": ola.team,
                "kind": ola.kind,
                "visits": int(ok.sum() + late.sum()),
                "breached": int(late.sum()),
                "breached_sla_met": int(sla_met[owner[late]].sum()),
            }
        )
    return _Joined(
        keys, keys // data.stride, sla_met, (met > 0) & (breached == 0), breached, per_team
    )


def _share(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def _simulated(joined: _Joined, replications: int) -> Row:
    n_met = int(joined.ola_met.sum())
    breaches = int((~joined.sla_met).sum())
    ola_breaches = int(joined.ola_breached.sum())
    both = int((joined.sla_met & joined.ola_met).sum())
    melon = int((~joined.sla_met & joined.ola_met).sum())
    tight = int(joined.ola_breached[joined.sla_met].sum())
    # Without a single visit measured against an OLA or UC, no breach can be a watermelon: the
    # share is not 0%, it is not defined.
    melons_from = breaches if any(team["visits"] for team in joined.per_team) else 0
    runs = int(joined.replication.max()) + 1 if joined.replication.size else 0

    def per_run(flags: np.ndarray) -> np.ndarray:
        return np.bincount(joined.replication[flags], minlength=runs)

    melons = per_run(~joined.sla_met & joined.ola_met)
    breached_runs = per_run(~joined.sla_met) if melons_from else np.zeros(runs, np.int64)
    return {
        "p_met_when_olas_met": _share(both, n_met),
        "p_met_when_olas_met_interval": clustered_wilson_interval(
            per_run(joined.sla_met & joined.ola_met), per_run(joined.ola_met)
        ).as_dict(),
        "watermelon_share": _share(melon, melons_from),
        "watermelon_share_interval": clustered_wilson_interval(melons, breached_runs).as_dict(),
        "tight_share": _share(tight, ola_breaches),
        "tickets": joined.keys.size / replications,
        "share_olas_met": _share(n_met, joined.keys.size),
        "counts": {
            "tickets": int(joined.keys.size),
            "olas_met": n_met,
            "sla_breaches": breaches,
            "ola_breaches": ola_breaches,
            "replications": replications,
        },
        "teams": joined.per_team,
    }


def _recommend(
    data: _RunData,
    scenario: Scenario,
    target: SlaTarget,
    checks: Sequence[_PathCheck],
    keys: np.ndarray,
) -> tuple[list[Row], bool]:
    paths = [c.path for c in checks]
    if not paths or keys.size == 0:
        return [], False
    k = max(len(p.teams) for p in paths)
    goal = 1.0 - (1.0 - target.goal) / k
    floor = _FLOOR_SHARE * target.within_h / k
    hours = data.visit_hours(target.calendar, target.metric)
    mine = _index_of(keys, data.visit_key) >= 0
    if target.metric == "respond":
        mine &= data.visit_first
    teams = list(dict.fromkeys(t for p in paths for t in p.teams))
    quantile: dict[str, float] = {}
    times: dict[str, np.ndarray] = {}
    for team in teams:
        values = hours[mine & (data.visit_team == data.team_code.get(team, -1))]
        times[team] = values
        q = float(np.quantile(values, goal, method="inverted_cdf")) if values.size else math.inf
        quantile[team] = max(q, floor)
    sums = [sum(quantile[t] for t in p.teams) for p in paths]
    finite = [s for s in sums if math.isfinite(s)]
    scale = target.within_h / max(finite) if finite else math.nan
    goal_out = min(1.0, math.ceil(goal * 1000 - 1e-9) / 1000)
    rows: list[Row] = []
    recommended: dict[tuple[str, str], Step] = {}
    for team in teams:
        spec = scenario.teams[team]
        within = scale * quantile[team]
        if math.isfinite(within):
            within = math.floor(within * 3600 + 1e-9) / 3600
            if within <= 0:
                within = 1 / 3600
            recommended[(team, target.metric)] = (within, target.calendar)
        values = times[team]
        rows.append(
            {
                "team": team,
                "kind": "uc" if spec.kind == "supplier" else "ola",
                "metric": target.metric,
                "within_h": within if math.isfinite(within) else None,
                "calendar": target.calendar_name,
                "goal": goal_out,
                "quantile_h": quantile[team] if math.isfinite(quantile[team]) else None,
                "compliance_now": (
                    float(np.mean(values <= within + TOLERANCE_H))
                    if values.size and math.isfinite(within)
                    else None
                ),
            }
        )
    fits = False
    if len(recommended) == len(teams):
        chains = _Chains(target.calendar, start_grid(scenario))
        fits = all(_check_path(p, target, recommended, chains).fits for p in paths)
    return rows, fits


def recommended_patch(row: Mapping[str, Any]) -> dict[str, Any]:
    """The merge patch that writes a row's ``recommended`` agreements into the scenario.

    Use it with :meth:`simkit.scenario.Scenario.with_patch`. Each team's OLA (a supplier's UC)
    for the row's metric is replaced; its other agreement is kept. Teams without a
    recommendation (``within_h`` null) are left alone.
    """
    teams: dict[str, Any] = {}
    for rec in row.get("recommended", []):
        if rec.get("within_h") is None:
            continue
        seconds = round(float(rec["within_h"]) * 3600)
        agreement = {
            "within": f"{seconds}s",
            "calendar": rec["calendar"],
            "goal": float(rec["goal"]),
        }
        teams.setdefault(rec["team"], {}).setdefault(rec["kind"], {})[rec["metric"]] = agreement
    return {"teams": teams} if teams else {}
