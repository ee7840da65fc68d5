"""The workbench's model (simkit.app_model): slider values → patch → scenario, the run guard,
and the rows behind the app's tables, charts and downloads."""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import io
import math
from typing import Any

import numpy as np
import pyarrow.parquet as pq
import pytest

from simkit import app_model as model
from simkit.analysis.verdict import verdict
from simkit.errors import InputError
from simkit.runner import Results
from simkit.scenario import Scenario, load_scenario, parse_scenario

REPLICATIONS = 3


@pytest.fixture(scope="module")
def desk(root) -> Scenario:  # type: ignore[no-untyped-def]
    return load_scenario(root / "scenarios" / "corporate_service_desk.yaml")


@pytest.fixture(scope="module")
def run(desk: Scenario) -> Results:
    return model.simulate_run(desk, replications=REPLICATIONS, seed=5)


def test_untouched_workbench_is_the_scenario(desk: Scenario) -> None:
    """Sliders left at the scenario's own values make an empty patch and the same scenario,
    so an untouched workbench shares its cached run with every session."""
    controls = model.scenario_controls(desk)
    what_if = model.WhatIf(
        growth={s.service: s.growth for s in controls.services},
        agents={t.team: dict(t.roster) for t in controls.teams if t.roster},
        handle={t.team: 1.0 for t in controls.teams},
        pause={t.team: t.pause for t in controls.teams if t.pause is not None},
        targets={t.key: (t.within_h, t.goal) for t in controls.targets},
    )
    assert model.what_if_patch(desk, what_if) == {}
    edited = model.edit_scenario(desk, what_if)
    assert edited.run is desk and edited.measured is desk and edited.patch == {}


def test_controls_list_what_the_scenario_has(desk: Scenario) -> None:
    """Controls carry every service, roster line, pause rate and SLA target of the scenario."""
    controls = model.scenario_controls(desk)
    assert [s.service for s in controls.services] == list(desk.services)
    desk_team = next(t for t in controls.teams if t.team == "service_desk")
    assert dict(desk_team.roster) == desk.teams["service_desk"].roster
    assert desk_team.pause == pytest.approx(0.05)
    vendor = next(t for t in controls.teams if t.team == "vendor_x")
    assert vendor.roster == () and vendor.pause is None
    levels = {t.level for t in controls.targets}
    assert levels == {"service", "customer", "corporate"}
    assert all(t.within_h > 0 and 0 < t.goal <= 1 for t in controls.targets)


def test_volume_scales_every_service(desk: Scenario) -> None:
    """A volume change of +20% multiplies every service's tickets per week by 1.2."""
    edited = model.edit_scenario(desk, model.WhatIf(volume=0.2))
    for name, service in desk.services.items():
        assert edited.run.services[name].demand.per_week == pytest.approx(
            1.2 * service.demand.per_week
        )


def test_staffing_and_handling_patch(desk: Scenario) -> None:
    """Agents go on the named roster line only; a handling multiplier scales every
    distribution's mean (and keeps its shape) through Distribution.scaled."""
    line = "mon-fri 08:00-18:00"
    edited = model.edit_scenario(
        desk, model.WhatIf(agents={"apps": {line: 9}}, handle={"infra": 1.5})
    )
    assert edited.run.teams["apps"].roster == {line: 9}
    assert edited.run.teams["service_desk"].roster == desk.teams["service_desk"].roster
    for priority, before in desk.teams["infra"].handle.items():
        after = edited.run.teams["infra"].handle[priority]
        assert after.family == before.family
        assert after.mean == pytest.approx(1.5 * before.mean, rel=1e-3)
        assert after.cv == pytest.approx(before.cv, rel=1e-3)


def test_pause_rate_rescales_the_other_routes(desk: Scenario) -> None:
    """Setting the pause share keeps routing at 100% and the other routes in proportion."""
    before = dict(desk.teams["service_desk"].next or {})
    edited = model.edit_scenario(desk, model.WhatIf(pause={"service_desk": 0.2}))
    after = dict(edited.run.teams["service_desk"].next or {})
    assert after["pause"] == pytest.approx(0.2)
    assert sum(after.values()) == pytest.approx(1.0, abs=1e-5)
    assert after["apps"] / after["resolved"] == pytest.approx(
        before["apps"] / before["resolved"], rel=1e-4
    )
    removed = model.edit_scenario(desk, model.WhatIf(pause={"service_desk": 0.0}))
    assert "pause" not in (removed.run.teams["service_desk"].next or {})


def test_impossible_slider_values_are_input_errors(desk: Scenario) -> None:
    """Values no scenario can hold fail as InputError naming the field, never a traceback."""
    cases = [
        model.WhatIf(volume=-1.0),
        model.WhatIf(agents={"apps": {"sun 01:00-02:00": 3}}),
        model.WhatIf(handle={"apps": 0.0}),
        model.WhatIf(pause={"vendor_x": 0.1}),
        model.WhatIf(pause={"service_desk": 1.5}),
        model.WhatIf(targets={"services.payroll.priorities.P1.resolve": (0.0, 0.9)}),
        model.WhatIf(targets={"no.such.target": (1.0, 0.9)}),
    ]
    for what_if in cases:
        with pytest.raises(InputError) as caught:
            model.edit_scenario(desk, what_if)
        assert caught.value.problems and caught.value.problems[0].message


def test_slider_values_are_never_cut_or_dropped_silently(desk: Scenario) -> None:
    """A value the sliders cannot give — a fraction of an agent or of a unit, a growth for a
    service or agents for a team the scenario does not have — is refused by name rather than
    truncated or ignored; a whole number of another numeric type is taken."""
    line = next(iter(desk.teams["apps"].roster or {}))
    refused = [
        (model.WhatIf(agents={"apps": {line: 2.5}}), "not a whole number"),
        (model.WhatIf(agents={"apps": {line: -1}}), "0 or more"),
        (model.WhatIf(agents={"nosuch": {line: 1}}), "no team 'nosuch'"),
        (model.WhatIf(growth={"nosuch": 0.1}), "no service 'nosuch'"),
        (model.WhatIf(growth={"payroll": math.nan}), "growth of nan"),
    ]
    for what_if, message in refused:
        with pytest.raises(InputError, match=message):
            model.edit_scenario(desk, what_if)
    with pytest.raises(InputError, match="not a whole number"):
        model.availability_patch(desk, model.AvailabilityWhatIf(count={"web": 2.5}))
    taken = model.edit_scenario(desk, model.WhatIf(agents={"apps": {line: np.int64(7)}}))
    assert (taken.run.teams["apps"].roster or {})[line] == 7
    whole_float = model.availability_patch(desk, model.AvailabilityWhatIf(count={"web": 3.0}))
    assert whole_float == {"components": {"web": {"count": 3}}}


def test_every_ticket_paused_is_refused_with_the_reason(desk: Scenario) -> None:
    """A pause rate of 100% leaves tickets no way to be resolved: the edit is refused before
    anything runs, in the slider's terms (a pause rate, choose below 100%) rather than as the
    scenario's routing check on ``teams.<team>.next``."""
    with pytest.raises(InputError) as caught:
        model.edit_scenario(desk, model.WhatIf(pause={"service_desk": 1.0}))
    problem = caught.value.problems[0]
    assert (
        "pause rate of 100%" in problem.message and "no ticket is ever resolved" in problem.message
    )
    assert "below 100%" in problem.fix
    assert "never be resolved" not in str(caught.value)
    assert 0 < model.MAX_PAUSE < 100 and model.MAX_PAUSE % model.STEP["pause"] == 0


def test_run_budget_guards_the_server(desk: Scenario) -> None:
    """A run whose visits over all replications exceed the budget is refused; so are
    replication counts outside 1 … MAX_REPLICATIONS."""
    estimate = model.check_run(desk, 2)
    assert estimate > 0
    with pytest.raises(InputError, match="lower the replications"):
        model.check_run(desk, 10, budget=int(estimate * 5))
    with pytest.raises(InputError):
        model.check_run(desk, model.MAX_REPLICATIONS + 1)


def test_a_replication_too_large_is_refused_with_a_fix_for_the_workbench(desk: Scenario) -> None:
    """The per-replication bound's fix names no flag a web user cannot give: it points to the
    command line instead of telling them to raise ``--max-visits``."""
    with pytest.raises(InputError) as caught:
        model.check_run(desk, 2, max_visits=1000)
    fix = caught.value.problems[0].fix
    assert "shorten the horizon" in fix
    assert "raise the bound" not in fix and "simkit simulate --max-visits" in fix


def test_targets_are_measured_not_simulated(desk: Scenario, run: Results) -> None:
    """A target change leaves the run scenario alone (same run key) and re-measures the same
    tables: a looser target has at least the compliance of the stricter one in every run."""
    key = "services.payroll.priorities.P1.resolve"
    edited = model.edit_scenario(desk, model.WhatIf(targets={key: (8.0, 0.9)}))
    assert edited.run is desk
    assert model.run_key(edited.run, 3, 5) == model.run_key(desk, 3, 5)
    assert model.run_key(edited.measured, 3, 5) != model.run_key(desk, 3, 5)
    before = {
        r["priority"] + r["metric"]: r
        for r in run.summary()["sla"]
        if r["level"] == "service" and r["service"] == "payroll"
    }
    after_doc = model.remeasure(run, edited.measured).summary()
    after = {
        r["priority"] + r["metric"]: r
        for r in after_doc["sla"]
        if r["level"] == "service" and r["service"] == "payroll"
    }
    assert after["P1resolve"]["within_h"] == 8.0 and after["P1resolve"]["goal"] == 0.9
    assert after["P1resolve"]["compliance"]["mean"] >= before["P1resolve"]["compliance"]["mean"]
    assert after["P2resolve"] == before["P2resolve"]
    assert run.summary() is not after_doc


def test_run_key_follows_content_replications_and_seed(desk: Scenario) -> None:
    """Equal content, file, replications and seed give one key; any difference another. The
    file name counts: results carry their scenario, and a shared cache must not hand one
    user's upload name to another session."""
    text = desk.to_yaml().encode()
    same = parse_scenario(text, file=desk.source, base_dir=desk.base_dir)
    assert model.run_key(same, 10, 1) == model.run_key(desk, 10, 1)
    alice = parse_scenario(text, file="alice-confidential.yaml", allow_files=False)
    bob = parse_scenario(text, file="bob.yaml", allow_files=False)
    assert model.run_key(alice, 10, 1) != model.run_key(bob, 10, 1)
    assert (
        len({model.run_key(desk, 10, 1), model.run_key(desk, 11, 1), model.run_key(desk, 10, 2)})
        == 3
    )


@pytest.mark.parametrize(
    "patch",
    [
        {"seed": 2028},  # an integer
        {"start": "2027-01-08"},  # a date
        {"services": {"payroll": {"demand": {"per_week": 450.5}}}},  # a number
        {"warmup": "3w"},  # a text
        {"name": "Corporate service desk — copy"},  # a text that changes no figure
    ],
)
def test_run_key_tells_every_setting_apart(desk: Scenario, patch: dict[str, Any]) -> None:
    """One setting changed, of any type, changes the key; the same change made twice gives the
    same key, and a scenario read back from its own YAML keeps it."""
    changed = desk.with_patch(patch)
    assert model.run_key(changed, 5, 1) != model.run_key(desk, 5, 1)
    assert model.run_key(desk.with_patch(patch), 5, 1) == model.run_key(changed, 5, 1)
    again = parse_scenario(changed.to_yaml().encode(), file=desk.source, base_dir=desk.base_dir)
    assert model.run_key(again, 5, 1) == model.run_key(changed, 5, 1)


def test_run_key_tells_windowed_changes_apart(desk: Scenario) -> None:
    """A windowed change keeps the scenario's YAML (it stays under ``changes``) but changes its
    numbers: the run key must differ from the base scenario's, and from the same change over
    another window; applying the same change again gives the same key."""
    base = desk
    dated = base.apply("month_end_cover")
    assert dated.overlays and dated.to_yaml() == base.to_yaml()
    keys = {model.run_key(base, 5, 1), model.run_key(dated, 5, 1)}
    change = base.changes["month_end_cover"]
    other = base.with_patch(
        change.patch,
        window=change.window.model_copy(
            update={"until": change.window.until + dt.timedelta(days=7)}
        ),
        name="month_end_cover",
    )
    keys.add(model.run_key(other, 5, 1))
    assert len(keys) == 3
    assert model.run_key(base.apply("month_end_cover"), 5, 1) == model.run_key(dated, 5, 1)


def test_sla_table_verdicts_follow_the_interval(run: Results) -> None:
    """Each row's verdict is analysis.verdict on its P(period met) interval, and the estimate
    column is filled when a quick estimate is given."""
    from simkit.analysis.quick import quick_estimate

    document = run.summary()
    rows = model.sla_table(document, confidence=0.8, estimate=quick_estimate(run.scenario))
    assert len(rows) == len(document["sla"])
    for row, source in zip(rows, document["sla"], strict=True):
        p = source["p_period_met"]
        assert row["verdict"] == verdict(p["lo"], p["hi"], 0.8)
        assert row["compliance"].startswith(f"{source['compliance']['mean'] * 100:.1f}%")
        assert row["estimate"].startswith("≈")


def test_period_rows_carry_intervals_and_goals(run: Results) -> None:
    """Period rows keep the interval, the goal of their target and whether the period is full."""
    rows = model.period_rows(run.summary())
    assert rows
    for row in rows:
        assert row["goal"] is not None and 0 < row["goal"] <= 1
        if row["compliance"] is not None and row["lo"] is not None:
            assert row["lo"] <= row["compliance"] <= row["hi"]
    assert {r["full"] for r in rows} <= {True, False}


def test_time_rows_agree_with_compliance(run: Results) -> None:
    """The quantile curve of a target's times crosses its target time at the pooled share of
    tickets within it (to the curve's 1% resolution)."""
    document = run.summary()
    index = next(i for i, r in enumerate(document["sla"]) if r["metric"] == "respond")
    rows = model.time_rows(run, index)
    hours = np.array([r["hours"] if r["hours"] is not None else np.inf for r in rows])
    assert np.all(np.diff(hours) >= 0)
    within = rows[0]["within_h"]
    share_within = max(
        (r["share"] for r in rows if r["hours"] is not None and r["hours"] <= within), default=0.0
    )
    row = document["sla"][index]
    pooled = row["compliance"]["mean"]
    spread = 3 * (row["compliance"]["hi"] - row["compliance"]["lo"]) + 0.02
    assert abs(share_within - pooled) <= spread


def test_queue_rows_cover_the_week(run: Results) -> None:
    """Queue rows: 168 hours per team with waiting, busy and utilisation against the quick
    estimate's agents on duty."""
    from simkit.analysis.quick import quick_estimate

    rows = model.queue_rows(run, quick_estimate(run.scenario))
    teams = [n for n, t in run.scenario.teams.items() if t.kind == "team"]
    assert len(rows) == 168 * len(teams)
    for row in rows:
        assert row["waiting"] >= 0 and row["busy"] >= 0
        if row["agents"]:
            assert row["utilization"] == pytest.approx(row["busy"] / row["agents"])
    assert all(r["replications"] == REPLICATIONS for r in rows)


def test_downloads_are_valid_files(run: Results) -> None:
    """Parquet downloads read back with every row; CSV downloads parse with intervals spread
    into _mean/_lo/_hi columns."""
    tables = model.result_tables(run)
    tickets = pq.read_table(io.BytesIO(model.table_bytes(tables["tickets"], "parquet")))
    assert tickets.num_rows == run.tickets.num_rows
    assert tickets.schema.names == run.tickets.schema.names
    text = model.table_bytes(run.summary()["sla"], "csv").decode("utf-8")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert len(rows) == len(run.summary()["sla"])
    assert {"compliance_mean", "compliance_lo", "compliance_hi", "quantiles_h_90"} <= set(rows[0])
    parquet = pq.read_table(io.BytesIO(model.table_bytes(run.summary()["sla"], "parquet")))
    assert "compliance_mean" in parquet.schema.names
    with pytest.raises(ValueError):
        model.table_bytes(run.tickets, "xlsx")  # type: ignore[arg-type]


def test_edited_yaml_reloads_as_the_same_scenario(desk: Scenario) -> None:
    """The edited scenario's YAML (the download) validates as an upload and holds the edits."""
    key = "services.payroll.priorities.P1.resolve"
    edited = model.edit_scenario(desk, model.WhatIf(volume=0.1, targets={key: (6.0, 0.9)})).measured
    again = parse_scenario(edited.to_yaml().encode(), file="edited.yaml", allow_files=False)
    assert again.services["payroll"].demand.per_week == pytest.approx(495)
    resolve = again.services["payroll"].priorities["P1"].resolve
    assert resolve is not None and resolve.within == 6.0 and resolve.goal == 0.9


def test_custom_change_is_a_named_change(desk: Scenario) -> None:
    """A change built with sliders becomes a named change, permanent or dated, that applies
    like the file's own; an empty patch or a taken name is refused."""
    patch = model.what_if_patch(desk, model.WhatIf(volume=0.3))
    window = (dt.date(2027, 2, 1), dt.date(2027, 2, 15))
    built = model.with_custom_change(desk, patch, name="mine", window=window)
    assert built.changes["mine"].window is not None
    assert built.services == desk.services
    assert built.applied_changes == desk.applied_changes  # defined, not applied
    applied = built.apply("mine")
    assert applied.overlays and applied.overlays[-1].window.from_ == window[0]
    assert applied.applied_changes == (*desk.applied_changes, "mine")
    with pytest.raises(InputError):
        model.with_custom_change(desk, {}, name="mine2")
    with pytest.raises(InputError):
        model.with_custom_change(desk, patch, name="hire_apps")


def test_availability_patch_and_figures(desk: Scenario, run: Results) -> None:
    """Redundancy and failure sliders patch the components; needed above count is refused by
    validation; the figures give one outcome per replication and full period."""
    patch = model.availability_patch(
        desk, model.AvailabilityWhatIf(count={"web": 3}, fails={"db": 2.0})
    )
    edited = desk.with_patch(patch)
    assert edited.components["web"].count == 3
    assert edited.components["db"].fails.mean == pytest.approx(
        2 * desk.components["db"].fails.mean, rel=1e-3
    )
    assert model.availability_patch(desk, model.AvailabilityWhatIf(count={"web": 2})) == {}
    with pytest.raises(InputError):
        desk.with_patch(model.availability_patch(desk, model.AvailabilityWhatIf(needed={"web": 3})))
    figures = model.availability_figures(run)
    assert len(figures["targets"]) == 1
    full = {r["period"] for r in figures["periods"] if r["full"]}
    assert len(figures["outcomes"]) == REPLICATIONS * len(full)
    for row in figures["credits"]:
        assert row["share_of_periods"] is None or 0 <= row["share_of_periods"] <= 1
    assert all(
        0 <= r["availability"] <= 1 and not math.isnan(r["credit"]) for r in figures["outcomes"]
    )


def test_handling_fit_rows_follow_the_fitted_cdf() -> None:
    """For exponential times in hand, the fitted exponential's CDF at each observed quantile
    is within the Dvoretzky–Kiefer–Wolfowitz 99.9% band (√(ln(2/0.001)/2n)) of the share."""
    import datetime as dt

    import pyarrow as pa

    from simkit.engine._tables import VISITS_SCHEMA

    n = 2000
    rng = np.random.default_rng(7)
    hours = rng.exponential(1.0, n)
    start = dt.datetime(2027, 1, 4, tzinfo=dt.UTC)
    visits = pa.Table.from_pylist(
        [
            {
                "ticket_id": i,
                "team": "desk",
                "kind": "team",
                "seq": 0,
                "assigned_at": start,
                "started_at": start,
                "finished_at": start + dt.timedelta(hours=float(h)),
                "outcome": "resolved",
                "replication": 0,
            }
            for i, h in enumerate(hours)
        ],
        schema=VISITS_SCHEMA,
    )
    fitted = {
        "candidates": [
            {
                "spec": {"exponential": {"mean": f"{hours.mean():.4f}h"}},
                "description": "exponential",
                "ks_statistic": 0.01,
            }
        ]
    }
    rows = model.handling_fit_rows(visits, fitted, "desk")
    observed = [r for r in rows if r["curve"].startswith("observed")]
    curve = [r for r in rows if r["curve"].startswith("exponential")]
    assert len(observed) == len(curve) == 99
    band = math.sqrt(math.log(2 / 0.001) / (2 * n))
    for seen, fit in zip(observed, curve, strict=True):
        assert seen["hours"] == fit["hours"]
        assert abs(fit["share"] - seen["share"]) <= band + 1 / n
    assert model.handling_fit_rows(visits, fitted, "nobody") == []


def test_a_search_too_large_for_the_server_is_refused(desk: Scenario) -> None:
    """Each run of a search may pass the run guard while all of them together are far more
    than a shared server should spend: the search is refused before it starts, with the runs,
    replications and visits behind the figure."""
    per_replication = model.check_run(desk, 10)
    runs = int(model.SEARCH_VISIT_BUDGET / (per_replication * 10)) + 1
    assert model.check_search(desk, 10, runs - 1, "The optimiser") <= model.SEARCH_VISIT_BUDGET
    with pytest.raises(InputError, match=rf"The optimiser would simulate .* \({runs} runs × 10"):
        model.check_search(desk, 10, runs, "The optimiser")


def _positions(desk: Scenario, **values: Any) -> model.Positions:
    """The Scenario page's slider positions at the scenario's own values, with ``values``."""
    controls = model.scenario_controls(desk)
    at: dict[str, Any] = {"volume": 0}
    ranges: dict[str, tuple[Any, Any]] = {"volume": (-50, 100)}
    for service in controls.services:
        at[f"growth:{service.service}"] = round(service.growth * 100)
        ranges[f"growth:{service.service}"] = (-20, 50)
    for team in controls.teams:
        for line, n in team.roster:
            at[f"agents:{team.team}:{line}"] = n
            ranges[f"agents:{team.team}:{line}"] = (0, max(10, 3 * n))
        at[f"handle:{team.team}"] = 1.0
        ranges[f"handle:{team.team}"] = (0.5, 2.0)
        if team.pause is not None:
            at[f"pause:{team.team}"] = round(team.pause * 100)
            ranges[f"pause:{team.team}"] = (0, 100)
    return model.Positions(controls, {**at, **values}, ranges, {})


def test_positions_at_the_scenarios_values_change_nothing(desk: Scenario) -> None:
    """Sliders at the scenario's own values (growth and pause rates rounded to the slider's
    whole percent) make the scenario itself: an empty patch, the same run key."""
    edited = model.edit_scenario(desk, _positions(desk).what_if())
    assert edited.patch == {}
    assert model.run_key(edited.run, 5, 1) == model.run_key(desk, 5, 1)


@pytest.mark.parametrize(
    ("axis", "value", "direction", "expected"),
    [
        ("volume", 0, 1, [5, -5, 10]),
        ("volume", 0, -1, [-5, 5, -10]),
        ("volume", 100, 1, [95]),  # the top of the slider: only back
        ("volume", 95, 1, [100, 90]),
        ("handle:service_desk", 1.0, 1, [1.05, 0.95, 1.1]),
        ("handle:service_desk", 0.5, -1, [0.55]),
    ],
)
def test_neighbours_are_one_step_either_side_inside_the_range(
    desk: Scenario, axis: str, value: Any, direction: int, expected: list[Any]
) -> None:
    """The positions made ahead: one step in the direction of the last move, one back, two on —
    never past the slider's ends, and at exactly the values the slider gives there."""
    positions = _positions(desk, **{axis: value})
    neighbours = positions.neighbours(axis, direction)
    assert [n[axis] for n in neighbours] == expected
    assert all(set(n) == {axis} for n in neighbours)


def test_neighbours_then_move_the_other_sliders_on_the_screen(desk: Scenario) -> None:
    """After the slider last moved (one step on, one back), each other slider on the screen one
    step up; then the slider last moved two steps on; then the others one step down. A slider
    not on the screen is never moved, nor one at the end of its range."""
    positions = dataclasses.replace(
        _positions(desk, volume=10, **{"growth:payroll": 50}),
        shown=("volume", "growth:payroll", "growth:workplace"),
    )
    growth = positions.values["growth:workplace"]
    assert positions.neighbours("volume", -1) == [
        {"volume": 5},
        {"volume": 15},
        {"growth:workplace": growth + 1},  # payroll stands at the top of its range
        {"volume": 0},
        {"growth:payroll": 49},
        {"growth:workplace": growth - 1},
    ]


@pytest.mark.parametrize(
    ("axis", "start", "moved"),
    [
        ("volume", 0, 5),
        ("volume", 15, 20),
        ("handle:service_desk", 1.05, 1.1),
        ("agents:apps:mon-fri 08:00-18:00", 6, 7),
        ("growth:payroll", 5, 6),
    ],
)
def test_a_neighbour_is_the_run_the_slider_gives_there(
    desk: Scenario, axis: str, start: Any, moved: Any
) -> None:
    """A run made ahead for a neighbouring position has the run key of the position itself, so
    that the move finds it: the what-if made from the positions with one axis moved is the
    what-if of the sliders standing there."""
    here = _positions(desk, **{axis: start})
    (step_on, *_) = here.neighbours(axis, 1)
    assert step_on == {axis: moved}
    ahead = model.edit_scenario(desk, here.what_if(step_on))
    there = model.edit_scenario(desk, _positions(desk, **{axis: moved}).what_if())
    assert ahead.patch and ahead.patch == there.patch
    assert model.run_key(ahead.run, 20, 7) == model.run_key(there.run, 20, 7)


@pytest.mark.parametrize(
    ("since", "until", "reach"),
    [
        ((2027, 2, 1), (2027, 2, 8), "measured"),
        ((2026, 12, 31), (2027, 1, 2), "measured"),  # across the start of the measured span
        ((2026, 12, 20), (2027, 1, 1), "unmeasured"),  # the warm-up only (two weeks before)
        ((2027, 4, 1), (2027, 4, 8), "unmeasured"),  # the drain only (90 days from 1 January)
        ((2027, 3, 31), (2027, 4, 1), "measured"),  # the last measured day
        ((2026, 11, 1), (2026, 12, 1), "none"),  # before the warm-up starts
        ((2028, 1, 1), (2028, 2, 1), "none"),
    ],
)
def test_window_reach_places_a_dated_change_on_the_runs_clock(
    desk: Scenario, since: tuple[int, int, int], until: tuple[int, int, int], reach: str
) -> None:
    """The baseline measures 90 days from 1 January 2027 after a two-week warm-up and before a
    two-week drain: a dated change acts where its local dates fall on that clock."""
    window = (dt.date(*since), dt.date(*until))
    assert model.window_reach(desk, window) == reach


def test_a_run_is_measured_again_only_against_other_targets(desk: Scenario, run: Results) -> None:
    """Re-measuring a run against a scenario that differs in its targets is taken; against one
    that differs in what is simulated (demand, staffing, horizon, maintenance) it is refused,
    as its figures would be the old run's under the new scenario's name."""
    key = "services.payroll.priorities.P1.resolve"
    targets = model.edit_scenario(run.scenario, model.WhatIf(targets={key: (8.0, 0.9)}))
    assert model.remeasure(run, targets.measured).scenario is targets.measured
    ola = run.scenario.with_patch({"teams": {"apps": {"ola": {"resolve": {"within": "9h"}}}}})
    assert model.remeasure(run, ola).scenario is ola
    line = next(iter(desk.teams["apps"].roster or {}))
    simulated_differently = [
        model.edit_scenario(run.scenario, model.WhatIf(volume=0.1)).measured,
        model.edit_scenario(run.scenario, model.WhatIf(agents={"apps": {line: 9}})).measured,
        run.scenario.with_patch({"horizon": "6w"}),
        run.scenario.with_patch({"services": {"payroll": {"availability": {"maintenance": None}}}}),
    ]
    for other in simulated_differently:
        with pytest.raises(InputError, match="more than its targets"):
            model.remeasure(run, other)
