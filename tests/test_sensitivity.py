"""Sensitivity: the tornado's inputs, its ordering, agreement with M/M/c theory, the CLI."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml
from scipy import stats as scipy_stats

from simkit.analysis.queueing import mm_c_wait_cdf
from simkit.analysis.sensitivity import sensitivity, sensitivity_inputs
from simkit.errors import InputError
from simkit.scenario import Scenario, parse_scenario

ROSTER = "mon-sun 00:00-24:00"
TORNADO: dict[str, Any] = {
    "name": "Loaded desk beside an idle one",
    "start": "2027-01-04",
    "horizon": "3w",
    "warmup": "1w",
    "drain": "1w",
    "replications": 6,
    "seed": 5,
    "period": "week",
    "services": {
        "payroll": {
            "entry": "desk",
            "demand": {"per_week": 600},
            "priorities": {"P1": {"share": "100%", "resolve": {"within": "3h", "goal": "80%"}}},
        },
        "facilities": {
            "entry": "idle",
            "demand": {"per_week": 20},
            "priorities": {"P1": {"share": "100%", "resolve": {"within": "8h", "goal": "80%"}}},
        },
    },
    "teams": {
        "desk": {
            "roster": {ROSTER: 10},
            "handle": {"default": {"exponential": {"mean": "2h"}}},
            "next": {"resolved": "90%", "pause": "10%"},
            "pause": {"duration": {"exponential": {"mean": "1h"}}},
        },
        "idle": {
            "roster": {ROSTER: 3},
            "handle": {"default": {"exponential": {"mean": "1h"}}},
            "ola": {"resolve": {"within": "2h", "goal": "90%"}},
        },
    },
}


def tornado(**overrides: Any) -> Scenario:
    return parse_scenario(yaml.safe_dump({**TORNADO, **overrides}), file="tornado.yaml")


def _rows_of(document: dict[str, Any], label: str) -> list[dict[str, Any]]:
    return [r for r in document["rows"] if r["label"] == label]


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    return sensitivity(tornado())


def test_volume_moves_a_loaded_target_both_ways(document: dict[str, Any]) -> None:
    """On a loaded team, +10% volume worsens compliance and −10% improves it, both with paired
    intervals that exclude zero."""
    (volume,) = [r for r in _rows_of(document, "payroll P1 resolve") if r["input"] == "volume"]
    assert volume["high"]["hi"] < 0 < volume["low"]["lo"]
    assert volume["swing"] == pytest.approx(abs(volume["high"]["mean"] - volume["low"]["mean"]))
    assert volume["low_factor"] == pytest.approx(0.9) and volume["high_factor"] == 1.1


def test_swing_orders_the_bottleneck_above_an_irrelevant_input(document: dict[str, Any]) -> None:
    """Rows are sorted by swing per target; the bottleneck's volume, staffing and handling time
    come before the idle team's handling time, which payroll's tickets never meet (its swing is
    exactly zero)."""
    rows = _rows_of(document, "payroll P1 resolve")
    swings = [r["swing"] for r in rows]
    assert swings == sorted(swings, reverse=True)
    order = [r["input"] for r in rows]
    irrelevant = order.index("handling time (idle)")
    for name in ("volume", "staffing (desk)", "handling time (desk)"):
        assert order.index(name) < irrelevant, order
    (idle,) = [r for r in rows if r["input"] == "handling time (idle)"]
    assert idle["swing"] == 0.0 and idle["low"] == {"mean": 0.0, "lo": 0.0, "hi": 0.0}
    staffing = next(r for r in rows if r["input"] == "staffing (desk)")
    assert staffing["low"]["hi"] < 0 < staffing["high"]["lo"]


def test_every_target_and_skipped_inputs(document: dict[str, Any]) -> None:
    """Every SLA and OLA target gets a row per input; inputs that cannot move are skipped with
    the reason (3 agents × 10% rounds to no whole agent; no supplier)."""
    labels = {r["label"] for r in document["rows"]}
    assert labels == {"payroll P1 resolve", "facilities P1 resolve", "idle OLA resolve"}
    names = [i["input"] for i in document["inputs"]]
    assert names == [
        "volume",
        "handling time (desk)",
        "handling time (idle)",
        "staffing (desk)",
        "pause rate",
    ]
    for label in labels:
        assert sorted(r["input"] for r in _rows_of(document, label)) == sorted(names)
    skipped = {s["input"] for s in document["skipped"]}
    assert skipped == {"staffing (idle)", "supplier time"}
    json.dumps(document, allow_nan=False)


def test_inputs_as_patches() -> None:
    """The inputs move what they say: demand and handling means by ±step, roster lines by whole
    agents (halves up, towards the change), the pause share by ±step with the rest of the
    routing rescaled to the same total, suppliers' times by ±step."""
    data = {
        **TORNADO,
        "teams": {
            **TORNADO["teams"],
            "desk": {
                **TORNADO["teams"]["desk"],
                "roster": {"mon-fri 08:00-18:00": 5, "sat 09:00-13:00": 12, "sun 10:00-12:00": 3},
                "next": {"resolved": "70%", "vendor": "20%", "pause": "10%"},
            },
            "vendor": {
                "kind": "supplier",
                "handle": {"default": {"lognormal": {"mean": "6h", "cv": 0.7}}},
            },
        },
    }
    scenario = parse_scenario(yaml.safe_dump(data))
    inputs, skipped = sensitivity_inputs(scenario, 0.10)
    by_name = {i.name: i for i in inputs}
    assert set(by_name) == {
        "volume",
        "handling time (desk)",
        "handling time (idle)",
        "staffing (desk)",
        "pause rate",
        "supplier time",
    }
    assert [s["input"] for s in skipped] == ["staffing (idle)"]

    def moved(name: str, side: str) -> Scenario:
        return scenario.with_patch(getattr(by_name[name], side))

    assert moved("volume", "high").services["payroll"].demand.per_week == pytest.approx(660)
    assert moved("volume", "low").services["facilities"].demand.per_week == pytest.approx(18)
    for team, name in (("desk", "handling time (desk)"), ("vendor", "supplier time")):
        before = scenario.teams[team].handle["default"]
        after = moved(name, "high").teams[team].handle["default"]
        assert after.mean == pytest.approx(1.1 * before.mean, rel=1e-4)
        assert after.cv == pytest.approx(before.cv, rel=1e-6)
        assert type(after) is type(before)
    low_roster = moved("staffing (desk)", "low").teams["desk"].roster
    high_roster = moved("staffing (desk)", "high").teams["desk"].roster
    assert low_roster == {"mon-fri 08:00-18:00": 4, "sat 09:00-13:00": 11, "sun 10:00-12:00": 3}
    assert high_roster == {"mon-fri 08:00-18:00": 6, "sat 09:00-13:00": 13, "sun 10:00-12:00": 3}
    hours = 50 * 5 + 4 * 12 + 2 * 3
    assert by_name["staffing (desk)"].low_factor == pytest.approx((50 * 4 + 4 * 11 + 6) / hours)
    routing = moved("pause rate", "high").teams["desk"].next
    assert routing is not None
    assert routing["pause"] == pytest.approx(0.11)
    assert sum(routing.values()) == pytest.approx(1.0)
    assert routing["resolved"] / routing["vendor"] == pytest.approx(70 / 20)


def test_bad_step_and_unknown_target() -> None:
    """A step outside (0, 100%) and a target the scenario does not have are input errors."""
    for step in (0.0, 1.0, -0.1):
        with pytest.raises(InputError):
            sensitivity_inputs(tornado(), step)
    with pytest.raises(InputError) as caught:
        sensitivity(tornado(), targets=["payroll P9 resolve"], replications=2)
    assert "payroll P1 resolve" in caught.value.problems[0].fix


def test_targets_filter_rows() -> None:
    """``targets`` keeps only the rows of the named targets."""
    document = sensitivity(tornado(), targets=["idle OLA resolve"], replications=2)
    assert {r["label"] for r in document["rows"]} == {"idle OLA resolve"}


# -- agreement with theory ------------------------------------------------------------------------

AGENTS, HANDLE_H, LOAD, WITHIN_H = 10, 0.5, 0.8, 1.0


def _mmc_compliance(agents: int, arrival_rate: float, handle_h: float) -> float:
    """P(wait + handling ≤ WITHIN_H) in an M/M/c FIFO queue (wait and handling independent)."""
    rate = 1.0 / handle_h
    b = np.linspace(0.0, WITHIN_H, 20_001)
    density = rate * np.exp(-rate * b) * mm_c_wait_cdf(WITHIN_H - b, agents, arrival_rate, rate)
    return float(np.trapezoid(density, b))


@pytest.mark.slow
def test_tornado_matches_mmc_theory() -> None:
    """On a 24x7 M/M/10 desk the paired differences for ±10% volume, ±10% handling time and
    ±1 agent match the Erlang-C sojourn distribution within 4 standard errors (derived from each
    paired interval), as does the baseline compliance."""
    arrival_rate = LOAD * AGENTS / HANDLE_H
    data = {
        "name": "M/M/10",
        "start": "2027-01-04",
        "horizon": "6w",
        "warmup": "2w",
        "drain": "2w",
        "replications": 20,
        "seed": 2027,
        "period": "month",
        "services": {
            "svc": {
                "entry": "desk",
                "demand": {"per_week": arrival_rate * 168},
                "priorities": {
                    "P1": {"share": "100%", "resolve": {"within": f"{WITHIN_H}h", "goal": "80%"}}
                },
            }
        },
        "teams": {
            "desk": {
                "roster": {ROSTER: AGENTS},
                "handle": {"default": {"exponential": {"mean": f"{HANDLE_H}h"}}},
            }
        },
    }
    n = data["replications"]
    document = sensitivity(parse_scenario(yaml.safe_dump(data)))
    t = scipy_stats.t.ppf(0.975, n - 1)
    base = _mmc_compliance(AGENTS, arrival_rate, HANDLE_H)
    compliance = document["baseline"]["sla"][0]["compliance"]
    assert abs(compliance["mean"] - base) <= 4 * (compliance["hi"] - compliance["lo"]) / 2 / t
    theory = {
        "volume": [_mmc_compliance(AGENTS, f * arrival_rate, HANDLE_H) - base for f in (0.9, 1.1)],
        "handling time (desk)": [
            _mmc_compliance(AGENTS, arrival_rate, f * HANDLE_H) - base for f in (0.9, 1.1)
        ],
        "staffing (desk)": [
            _mmc_compliance(c, arrival_rate, HANDLE_H) - base for c in (AGENTS - 1, AGENTS + 1)
        ],
    }
    rows = {r["input"]: r for r in document["rows"]}
    assert set(rows) == set(theory)
    for name, (low, high) in theory.items():
        for side, expected in (("low", low), ("high", high)):
            delta = rows[name][side]
            standard_error = (delta["hi"] - delta["lo"]) / 2 / t
            assert abs(delta["mean"] - expected) <= 4 * standard_error, (
                name,
                side,
                delta,
                expected,
            )


# -- the command line ------------------------------------------------------------------------------


def test_cli_json_and_text(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """`simkit sensitivity --json` prints rows with input, low/high {mean, lo, hi} and swing;
    without --json a tornado table per target; a bad --step exits 2."""
    from simkit.cli import main

    path = tmp_path / "tornado.yaml"
    path.write_text(yaml.safe_dump(TORNADO))
    assert main(["sensitivity", str(path), "--json", "--replications", "2", "--step", "20%"]) == 0
    document = json.loads(capsys.readouterr().out)
    assert document["step"] == pytest.approx(0.2) and document["replications"] == 2
    assert {"baseline", "rows", "inputs", "skipped"} <= set(document)
    for row in document["rows"]:
        assert {"service", "priority", "metric", "input", "low", "high", "swing"} <= set(row)
        assert set(row["low"]) == set(row["high"]) == {"mean", "lo", "hi"}
    assert main(["sensitivity", str(path), "--replications", "2"]) == 0
    out = capsys.readouterr().out
    assert "payroll P1 resolve" in out and "swing" in out and "staffing (desk)" in out
    assert main(["sensitivity", str(path), "--json", "--step", "10"]) == 2
    assert json.loads(capsys.readouterr().out)["errors"][0]["path"] == "--step"


def test_inputs_move_inside_a_windowed_change_that_sets_them_too() -> None:
    """growth_spurt sets payroll's per_week to 585 from March: volume ±10% must move that too,
    not only the 450 outside the window (the window's own patch used to set it back, so March
    did not move while the input was reported as ±10%). The same holds for an option's added
    agents (targets)."""
    from simkit.analysis.sensitivity import sensitivity_inputs
    from simkit.analysis.targets import RosterLine, _with_agents
    from simkit.engine.compile import RunClock
    from simkit.engine.compile import _regimes as regimes
    from simkit.resources import examples_dir
    from simkit.scenario import load_scenario

    scenario = load_scenario(examples_dir() / "corporate_service_desk.yaml").apply("growth_spurt")
    inputs, _ = sensitivity_inputs(scenario, 0.1)
    volume = next(item for item in inputs if item.kind == "volume")
    inside = [
        next(i for i in sensitivity_inputs(o.scenario, 0.1)[0] if i.kind == "volume").high
        for o in scenario.overlays
    ]
    moved = scenario.with_patch_everywhere(volume.high, inside, name="volume +10%")
    _, phases = regimes(moved, RunClock(moved))
    per_week = sorted({p.services["payroll"].demand.per_week for p in phases})
    assert per_week == pytest.approx([450 * 1.1, 585 * 1.1])
    cover = scenario.apply("month_end_cover")  # 6 agents on the early line for one week
    line, agents = (
        "mon-fri 07:00-15:00",
        (scenario.teams["service_desk"].roster or {})["mon-fri 07:00-15:00"],
    )
    options = _with_agents(cover, "service_desk", RosterLine(line, agents, 40.0), 2)
    _, phases = regimes(options, RunClock(options))
    assert sorted({(p.teams["service_desk"].roster or {})[line] for p in phases}) == sorted(
        {agents + 2, 6 + 2}
    )
    late = "mon-fri 11:00-19:00"  # the window drops this line: the option does not bring it back
    assert any(late not in (p.teams["service_desk"].roster or {}) for p in phases)


def test_staffing_candidates_and_what_if_moves_hold_inside_a_windowed_change() -> None:
    """month_end_cover puts 6 agents on the early line for one week: a staffing candidate with
    one more agent there, or the workbench's "+1 agent" and "volume +10%" on a scenario with
    growth_spurt and the cover applied, must add to what the window has (7, 643.5), not be set
    back by it (6, 585). A candidate that takes agents never takes a team's last one in a window."""
    from simkit.analysis.staffing_lines import _patched, staffed_lines
    from simkit.app_model import WhatIf, edit_scenario
    from simkit.engine.compile import RunClock
    from simkit.engine.compile import _regimes as regimes
    from simkit.resources import examples_dir
    from simkit.scenario import load_scenario
    from simkit.scenario.models import Window

    base = load_scenario(examples_dir() / "corporate_service_desk.yaml")
    scenario = base.apply("growth_spurt", "month_end_cover")
    early = "mon-fri 07:00-15:00"
    outside = (scenario.teams["service_desk"].roster or {})[early]

    def early_agents(s: Scenario) -> list[int]:
        _, phases = regimes(s, RunClock(s))
        return sorted({(p.teams["service_desk"].roster or {})[early] for p in phases})

    lines, _, _ = staffed_lines(scenario)
    index = next(i for i, x in enumerate(lines) if (x.team, x.line) == ("service_desk", early))
    roster = tuple(x.agents for x in lines)
    more = tuple(n + 1 if i == index else n for i, n in enumerate(roster))
    assert early_agents(_patched(scenario, lines, more)) == sorted({outside + 1, 6 + 1})
    apps = "mon-fri 08:00-18:00"  # 6 agents; a window leaves 1: three fewer leaves that one
    thin = base.with_patch(
        {"teams": {"apps": {"roster": {apps: 1}}}},
        window=Window.model_validate({"from": "2027-02-01", "until": "2027-02-08"}),
        name="thin",
    )
    lines, _, _ = staffed_lines(thin)
    three_fewer = tuple(
        x.agents - 3 if (x.team, x.line) == ("apps", apps) else x.agents for x in lines
    )
    candidate = _patched(thin, lines, three_fewer)
    _, phases = regimes(candidate, RunClock(candidate))
    assert sorted({(p.teams["apps"].roster or {})[apps] for p in phases}) == [1, 3]

    edited = edit_scenario(
        scenario, WhatIf(volume=0.1, agents={"service_desk": {early: outside + 1}})
    ).run
    assert early_agents(edited) == sorted({outside + 1, 6 + 1})
    _, phases = regimes(edited, RunClock(edited))
    per_week = sorted({p.services["payroll"].demand.per_week for p in phases})
    assert per_week == pytest.approx([450 * 1.1, 585 * 1.1])


def test_an_overlay_s_scenario_is_what_the_engine_runs_inside_its_window() -> None:
    """After a permanent move, ``overlay.scenario`` is the moved scenario with the window's patch
    over it — the regime the engine runs there — so a later move made from it starts from what
    runs. A window that drops infra's day line keeps it dropped through a what-if edit and then
    a staffing candidate (it came back with 5 agents: the overlay's scenario still had the old
    base with the edit over the window)."""
    from simkit.analysis.staffing_lines import _patched, staffed_lines
    from simkit.app_model import WhatIf, edit_scenario
    from simkit.engine.compile import RunClock
    from simkit.engine.compile import _regimes as regimes
    from simkit.resources import examples_dir
    from simkit.scenario import load_scenario
    from simkit.scenario.models import Window

    base = load_scenario(examples_dir() / "corporate_service_desk.yaml")
    day = "mon-fri 08:00-18:00"
    window = Window.model_validate({"from": "2027-02-01", "until": "2027-02-08"})
    drop = base.with_patch(
        {"teams": {"infra": {"roster": {day: None}}}}, window=window, name="drop"
    )
    edited = edit_scenario(drop, WhatIf(agents={"infra": {day: 4}})).run
    lines, _, _ = staffed_lines(edited)
    more = tuple(x.agents + ((x.team, x.line) == ("infra", day)) for x in lines)
    candidate = _patched(edited, lines, more)
    for moved in (edited, candidate):
        inside = moved.with_patch(moved.overlays[0].patch)
        assert moved.overlays[0].scenario.teams["infra"].roster == inside.teams["infra"].roster
        _, phases = regimes(moved, RunClock(moved))
        rosters = [dict(p.teams["infra"].roster or {}) for p in phases]
        assert {day: None}.keys().isdisjoint(rosters[1])  # dropped inside the window
    assert sorted({r.get(day) for r in rosters} - {None}) == [5]
