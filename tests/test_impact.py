"""Change impact: paired differences with common random numbers, windows, plans, the CLI."""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml
from scipy import stats as scipy_stats

from simkit.analysis.impact import change_impact, effect_words, fmt_row_delta
from simkit.errors import InputError
from simkit.runner import simulate
from simkit.scenario import Scenario, parse_scenario
from simkit.stats import Interval

ROSTER = "mon-sun 00:00-24:00"
DESK: dict[str, Any] = {
    "name": "Two-agent desk",
    "start": "2027-01-04",
    "horizon": "4w",
    "warmup": "1w",
    "drain": "1w",
    "replications": 6,
    "seed": 11,
    "period": "week",
    "services": {
        "payroll": {
            "entry": "desk",
            "demand": {"per_week": 450},
            "priorities": {
                "P1": {"share": "50%", "resolve": {"within": "1h", "goal": "90%"}},
                "P2": {"share": "50%", "resolve": {"within": "8h", "goal": "90%"}},
            },
        }
    },
    "teams": {
        "desk": {
            "roster": {ROSTER: 2},
            "handle": {"default": {"exponential": {"mean": "30m"}}},
            "ola": {"resolve": {"within": "1h", "goal": "80%"}},
        }
    },
    "changes": {
        "same_roster": {"patch": {"teams": {"desk": {"roster": {ROSTER: 2}}}}},
        "same_in_window": {
            "window": {"from": "2027-01-20", "until": "2027-01-27"},
            "patch": {
                "services": {"payroll": {"demand": {"per_week": 450}}},
                "teams": {"desk": {"handle": {"default": {"exponential": {"mean": "30m"}}}}},
            },
        },
        "hire": {
            "description": "one more agent",
            "patch": {"teams": {"desk": {"roster": {ROSTER: 3}}}},
        },
        "cover": {
            "window": {"from": "2027-01-25", "until": "2027-02-01"},
            "patch": {"teams": {"desk": {"roster": {ROSTER: 3}}}},
        },
        "peak": {
            "window": {"from": "2027-01-25", "until": "2027-02-01"},
            "patch": {
                "services": {"payroll": {"demand": {"per_week": 600}}},
                "teams": {"desk": {"roster": {ROSTER: 3}}},
            },
        },
    },
}
WINDOW_FROM = dt.date(2027, 1, 25)


def desk(**overrides: Any) -> Scenario:
    return parse_scenario(yaml.safe_dump({**DESK, **overrides}), file="desk.yaml")


def _rows(entry: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {row["label"]: row for row in entry["rows"]}


ZERO = {"mean": 0.0, "lo": 0.0, "hi": 0.0}


def test_noop_change_is_exactly_zero() -> None:
    """A change that sets values to what they already are — a named patch, permanent or inside
    a window starting mid-week, or --set of the same value — gives differences of exactly zero in
    every row and every period."""
    document = change_impact(
        desk(),
        ["same_roster", "same_in_window"],
        sets=["services.payroll.demand.per_week=450", "teams.desk.shrinkage=0%"],
    )
    assert [c["name"] for c in document["changes"]] == [
        "same_roster",
        "same_in_window",
        "services.payroll.demand.per_week",
        "teams.desk.shrinkage",
    ]
    for entry in document["changes"]:
        assert len(entry["rows"]) == 3
        for row in entry["rows"]:
            assert row["compliance_delta"] == ZERO
            assert row["p_period_met_delta"] == ZERO
            assert row["effect"] == "none" and "identical" in row["verdict"]
        assert entry["periods"]
        for period in entry["periods"]:
            assert period["compliance_delta"] == ZERO
        assert entry["change_document"]["sla"] == document["baseline"]["sla"]


def test_one_more_agent_improves_with_interval_excluding_zero() -> None:
    """A third agent on the only (bottleneck) team improves the tight targets: the paired
    interval lies above zero, and the verdict says so in words."""
    document = change_impact(desk(), ["hire"])
    (entry,) = document["changes"]
    assert entry["name"] == "hire" and entry["description"] == "one more agent"
    assert entry["window"] is None
    rows = _rows(entry)
    for label in ("payroll P1 resolve", "desk OLA resolve"):
        delta = rows[label]["compliance_delta"]
        assert delta["lo"] > 0, (label, delta)
        assert rows[label]["effect"] == "improves"
        assert rows[label]["verdict"].startswith("improves compliance by ")
    ola = rows["desk OLA resolve"]
    assert ola["kind"] == "ola" and ola["team"] == "desk" and ola["service"] is None
    assert ola["slr"]["baseline"] == "not achievable" and ola["slr"]["flips"]
    assert "goes from not achievable to" in ola["verdict"]


def test_paired_interval_is_narrower_than_independent_runs() -> None:
    """Common random numbers make the paired interval of the difference narrower than the two
    runs' own intervals combined as if independent (for targets whose compliance intervals are
    not clipped at 100%)."""
    document = change_impact(desk(), ["hire"])
    rows = _rows(document["changes"][0])
    for label in ("payroll P1 resolve", "desk OLA resolve"):
        row = rows[label]
        paired = row["compliance_delta"]
        halves = [
            (row[f"{run}_compliance"]["hi"] - row[f"{run}_compliance"]["lo"]) / 2
            for run in ("baseline", "change")
        ]
        assert paired["hi"] - paired["lo"] < 2 * float(np.hypot(*halves)), label


def _ended_before(label: str, day: dt.date) -> bool:
    """Whether the ISO week ``2027-W03`` ends on or before ``day``."""
    year, week = label.split("-W")
    return dt.date.fromisocalendar(int(year), int(week), 7) < day


def _period_key(row: dict[str, Any]) -> tuple[Any, ...]:
    return (row["period"], row["level"], row["service"], row["customer"], row["priority"])


def _check_window(name: str) -> None:
    document = change_impact(desk(), [name])
    (entry,) = document["changes"]
    assert entry["window"] == {"from": "2027-01-25", "until": "2027-02-01"}
    baseline = {(*_period_key(r), r["metric"]): r for r in document["baseline"]["periods"]}
    changed = {(*_period_key(r), r["metric"]): r for r in entry["change_document"]["periods"]}
    before = [key for key in baseline if _ended_before(key[0], WINDOW_FROM)]
    assert len(before) == 3 * 2  # W01–W03 for two SLA targets
    for key in before:
        b, c = baseline[key], changed[key]
        assert (b["compliance"], b["tickets"], b["p_met"]) == (
            c["compliance"],
            c["tickets"],
            c["p_met"],
        ), key
    deltas = {(r["period"], r["label"]): r["compliance_delta"] for r in entry["periods"]}
    for (period, label), delta in deltas.items():
        if _ended_before(period, WINDOW_FROM):
            assert delta == ZERO, (period, label)
    assert any(delta != ZERO for (period, _), delta in deltas.items() if period == "2027-W04"), (
        "the window itself must change something, or this test proves nothing"
    )


def test_windowed_staffing_leaves_earlier_periods_identical() -> None:
    """Extra cover in one week changes nothing in the periods that end before the week starts
    (same compliance, tickets and P(met) per period), and changes the week itself."""
    _check_window("cover")


def test_windowed_demand_leaves_earlier_periods_identical() -> None:
    """A peak (more demand and more cover in one week) changes nothing in the periods that end
    before the week starts."""
    _check_window("peak")


def test_together_is_one_plan_with_a_period_table() -> None:
    """--together runs every change at once as one plan: its figures are those of the scenario
    with all the changes applied (same seed), shown period by period with baseline, plan and
    their paired difference."""
    scenario = desk()
    document = change_impact(scenario, ["hire", "cover"], together=True, replications=4)
    (plan,) = document["changes"]
    assert plan["name"] == "hire + cover"
    assert [p["name"] for p in plan["plan"]] == ["hire", "cover"]
    direct = simulate(scenario.apply("hire", "cover"), replications=4).summary()
    assert plan["change_document"]["sla"] == direct["sla"]
    full = {r["period"] for r in plan["periods"] if r["full"]}
    assert full == {"2027-W01", "2027-W02", "2027-W03", "2027-W04"}
    labels = {r["label"] for r in plan["periods"]}
    assert labels == {"payroll P1 resolve", "payroll P2 resolve"}
    by_key = {
        (*_period_key(r), r["metric"]): r["compliance"] for r in document["baseline"]["periods"]
    }
    for row in plan["periods"]:
        key = (row["period"], "service", "payroll", None, row["priority"], row["metric"])
        assert row["baseline_compliance"] == by_key[key]
        assert 0 <= row["replications"] <= 4  # the pairs the period's difference is over
        if row["full"]:
            # every replication measures every full week: the paired mean is the difference
            difference = row["change_compliance"]["mean"] - row["baseline_compliance"]["mean"]
            assert row["compliance_delta"]["mean"] == pytest.approx(difference, abs=1e-12)


def test_unknown_changes_are_all_listed() -> None:
    """Unknown change names raise one InputError naming each of them, before anything runs."""
    with pytest.raises(InputError) as caught:
        change_impact(desk(), ["hrie", "nope"])
    paths = [p.path for p in caught.value.problems]
    assert paths == ["changes.hrie", "changes.nope"]
    assert "did you mean 'hire'" in caught.value.problems[0].fix
    with pytest.raises(InputError):
        change_impact(desk(), [])
    with pytest.raises(InputError):
        change_impact(desk(), [], sets=["no equals sign"])
    # one name given as a string is one name, not its letters
    with pytest.raises(InputError) as caught:
        change_impact(desk(), "nope")
    assert [p.path for p in caught.value.problems] == ["changes.nope"]


def test_failed_replications_are_left_out_of_the_pairs(monkeypatch: pytest.MonkeyPatch) -> None:
    """A replication that fails is dropped from the pairs; a no-op change is still exactly
    zero."""
    import simkit.runner as runner

    real = runner.simulate_support

    def flaky(model: Any, streams: Any, replication: int = 0) -> Any:
        if replication == 1:
            raise RuntimeError("boom")
        return real(model, streams, replication)

    monkeypatch.setattr(runner, "simulate_support", flaky)
    document = change_impact(desk(), ["same_roster", "hire"], replications=4)
    assert document["baseline"]["replications"] == 3
    same, hire = document["changes"]
    assert all(row["compliance_delta"] == ZERO for row in same["rows"])
    assert _rows(hire)["desk OLA resolve"]["compliance_delta"]["lo"] > 0


def _with_availability() -> Scenario:
    data = {
        **DESK,
        "services": {
            "payroll": {
                **DESK["services"]["payroll"],
                "availability": {"target": "99.5%", "depends_on": ["app"]},
            }
        },
        "components": {
            "app": {
                "fails": {"exponential": {"mean": "100h"}},
                "repair": {"exponential": {"mean": "1h"}},
            }
        },
        "changes": {
            "same_app": {
                "patch": {"components": {"app": {"fails": {"exponential": {"mean": "100h"}}}}}
            },
            "fast_repair": {
                "patch": {"components": {"app": {"repair": {"exponential": {"mean": "15m"}}}}}
            },
        },
    }
    return parse_scenario(yaml.safe_dump(data))


def test_availability_is_paired_too() -> None:
    """Availability rows are paired per replication like the SLAs: a no-op change is exactly
    zero, a four times faster repair improves availability (interval above zero) and touches no
    ticket."""
    document = change_impact(_with_availability(), ["same_app", "fast_repair"])
    same, fast = (_rows(entry) for entry in document["changes"])
    row = same["payroll availability"]
    assert row["kind"] == "availability" and row["metric"] == "availability"
    assert row["compliance_delta"] == ZERO and row["p_period_met_delta"] == ZERO
    faster = fast["payroll availability"]
    assert faster["compliance_delta"]["lo"] > 0 and faster["effect"] == "improves"
    assert faster["verdict"].startswith("improves availability by ")
    assert faster["baseline_compliance"] == document["baseline"]["availability"][0]["availability"]
    for label in ("payroll P1 resolve", "desk OLA resolve"):
        assert fast[label]["compliance_delta"] == ZERO


def test_per_replication_figures_match_the_summary() -> None:
    """The per-replication figures that are paired average to the summary's own figures, for
    every kind of target (one measurement path)."""
    from simkit.analysis.impact import run_figures

    figures = run_figures(simulate(_with_availability(), replications=4))
    assert {key[0] for key in figures.targets} == {"sla", "ola", "availability"}
    for key, target in figures.targets.items():
        figure = "availability" if key[0] == "availability" else "compliance"
        assert np.nanmean(target.compliance) == pytest.approx(target.row[figure]["mean"], abs=1e-12)
        judged = target.share_met[np.isfinite(target.share_met)]
        if key[0] != "availability" or judged.size:
            # every replication judges the same number of full periods here
            assert judged.mean() == pytest.approx(target.row["p_period_met"]["mean"], abs=1e-12)


def test_effect_words() -> None:
    """The interval, not the point estimate, decides the effect; the words carry the interval
    in percentage points."""
    assert effect_words(Interval(0.031, 0.019, 0.043)) == (
        "improves",
        "improves compliance by 3.1 pp [1.9–4.3]",
    )
    assert effect_words(Interval(-0.02, -0.035, -0.005)) == (
        "worsens",
        "worsens compliance by 2.0 pp [0.5–3.5]",
    )
    effect, words = effect_words(Interval(0.01, -0.004, 0.024))
    assert effect == "none" and words.startswith("no detectable effect")
    assert effect_words(Interval(0.0, 0.0, 0.0))[0] == "none"
    assert effect_words(Interval(None, None, None))[0] == "unknown"
    assert effect_words(Interval(0.01, None, None))[0] == "unknown"
    assert "0.03" in effect_words(Interval(0.0004, 0.0003, 0.0005))[1]


@pytest.mark.parametrize(
    ("mean", "lo", "hi", "what"),
    [
        (0.0004, 0.0002, 0.0006, "compliance"),  # shown as +0.0 [+0.0, +0.1] beside 'improves'
        (0.024, 0.0004, 0.047, "compliance"),  # a lower end shown as +0.0 beside 'improves'
        (-0.031, -0.043, -0.019, "compliance"),
        (0.001, -0.0025, 0.0045, "compliance"),
        (0.0012, 0.0007, 0.0017, "availability"),  # +0.1 [+0.1, +0.2] beside 0.12 [0.07–0.17]
        (0.0004, None, None, "compliance"),  # no interval: +0.04 beside '+0.0 pp'
    ],
)
def test_the_difference_is_shown_with_the_digits_of_its_words(
    mean: float, lo: float | None, hi: float | None, what: str
) -> None:
    """A row's figure (the CLI table and the Change impact page, both through fmt_row_delta)
    and its words give the same numbers: a lower end of 0.04 pp is not shown as +0.0 beside
    'improves', nor an availability difference of 0.12 pp as +0.1."""
    effect, words = effect_words(Interval(mean, lo, hi), what)
    figure = fmt_row_delta({"kind": what, "compliance_delta": {"mean": mean, "lo": lo, "hi": hi}})
    spaced = figure.replace("[", " ").replace("]", " ").replace(",", " ")
    numbers = [n.lstrip("+−") for n in spaced.split()]
    shown = [n for n in numbers if n[:1].isdigit()]
    assert len(shown) == (1 if lo is None else 3), figure
    assert set(shown) <= set(re.findall(r"\d+\.\d+", words)), (figure, words)
    if effect == "improves":
        assert not figure.split("[")[1].startswith("+0.0,"), figure


def test_replications_that_tie_give_no_interval_until_a_sign_test_would_hold() -> None:
    """Two replications that both moved by exactly −1/3 have a t-interval of no width, which
    claimed a certain "worsens … [33.3–33.3]": below six such replications there is no interval
    and the effect is unknown; from six on, all moving the same way is significant (2 × 0.5⁶ <
    5%); outcomes identical in every replication are still exactly no effect."""
    from simkit.analysis.impact_paired import SAME_SIGN_RUNS, paired

    assert SAME_SIGN_RUNS == 6 and 2 * 0.5**6 < 0.05 < 2 * 0.5**5
    two = paired(np.array([1 / 3, 1 / 3]), np.array([2 / 3, 2 / 3]))
    assert two.mean == pytest.approx(-1 / 3) and two.lo is None and two.hi is None
    effect, words = effect_words(two, "P(period meets goal)")
    assert effect == "unknown" and "run more replications" in words
    rounded = paired(np.array([0.7, 0.8, 0.9]), np.array([0.4, 0.5, 0.6]))  # 0.3 ± rounding
    assert rounded.lo is None and rounded.hi is None
    six = paired(np.full(6, 1 / 3), np.full(6, 2 / 3))
    assert effect_words(six)[0] == "worsens"
    same = paired(np.full(3, 0.5), np.full(3, 0.5))
    assert effect_words(same)[0] == "none"


def test_paired_interval_is_the_t_interval_of_differences() -> None:
    """The compliance difference is the Student-t interval of the per-replication differences
    (checked against scipy on the runs' own per-replication figures)."""
    from simkit.analysis.impact import run_figures

    scenario = desk()
    base = run_figures(simulate(scenario, replications=5))
    hire = run_figures(simulate(scenario.apply("hire"), replications=5))
    key = next(k for k in base.targets if k[0] == "ola")
    differences = hire.targets[key].compliance - base.targets[key].compliance
    mean = differences.mean()
    half = scipy_stats.t.ppf(0.975, 4) * differences.std(ddof=1) / np.sqrt(5)
    document = change_impact(scenario, ["hire"], replications=5)
    delta = _rows(document["changes"][0])["desk OLA resolve"]["compliance_delta"]
    assert delta["mean"] == pytest.approx(mean, abs=1e-12)
    assert delta["lo"] == pytest.approx(mean - half, abs=1e-12)
    assert delta["hi"] == pytest.approx(mean + half, abs=1e-12)


# -- the command line ------------------------------------------------------------------------------


def _write(tmp_path: Path) -> Path:
    path = tmp_path / "desk.yaml"
    path.write_text(yaml.safe_dump(DESK))
    return path


def test_cli_json_shape(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """`simkit impact --json` prints {"baseline", "changes": [{"name", "rows"}]} with the
    contract's row keys; --set adds an ad-hoc change named after its path."""
    from simkit.cli import main

    path = _write(tmp_path)
    argv = ["impact", str(path), "--change", "hire", "--set", "teams.desk.shrinkage=10%"]
    code = main([*argv, "--json", "--replications", "3"])
    assert code == 0
    document = json.loads(capsys.readouterr().out)
    assert {"baseline", "changes"} <= set(document)
    assert document["baseline"]["replications"] == 3
    assert {"sla", "ola", "teams", "periods", "availability"} <= set(document["baseline"])
    assert [c["name"] for c in document["changes"]] == ["hire", "teams.desk.shrinkage"]
    for change in document["changes"]:
        assert {"name", "rows", "change_document"} <= set(change)
        for row in change["rows"]:
            assert {
                "service",
                "priority",
                "metric",
                "compliance_delta",
                "p_period_met_delta",
                "verdict",
            } <= set(row)
            for figure in ("compliance_delta", "p_period_met_delta"):
                assert set(row[figure]) == {"mean", "lo", "hi"}
            assert isinstance(row["verdict"], str) and row["verdict"]


def test_cli_together_and_text(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Without --json people get tables with deltas in percentage points and verdicts in
    words; --together prints the plan period by period."""
    from simkit.cli import main

    path = _write(tmp_path)
    argv = ["impact", str(path), "--change", "hire", "--change", "cover", "--together"]
    assert main([*argv, "--replications", "3"]) == 0
    out = capsys.readouterr().out
    assert "Service Improvement Plan: hire + cover" in out
    assert "period by period" in out and "2027-W02" in out
    assert " pp" in out and "improves" in out


def test_cli_unknown_change_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """An unknown change name exits 2 with the errors document."""
    from simkit.cli import main

    path = _write(tmp_path)
    assert main(["impact", str(path), "--change", "nope", "--json"]) == 2
    errors = json.loads(capsys.readouterr().out)["errors"]
    assert errors[0]["path"] == "changes.nope"
    assert {"file", "line", "path", "message", "fix"} <= set(errors[0])
    assert main(["impact", str(path), "--change", "hire", "--confidence", "80", "--json"]) == 2
    assert json.loads(capsys.readouterr().out)["errors"][0]["path"] == "--confidence"


def test_same_numbers_on_a_process_pool_and_progress_over_all_runs() -> None:
    """The comparison is the same serially and on a process pool, and progress counts the
    replications of every run (baseline and changes) towards one total."""
    from concurrent.futures import ProcessPoolExecutor

    calls: list[tuple[int, int]] = []
    serial = change_impact(
        desk(), ["hire", "cover"], replications=2, progress=lambda d, t: calls.append((d, t))
    )
    assert calls[-1] == (6, 6) and [d for d, _ in calls] == list(range(1, 7))
    with ProcessPoolExecutor(max_workers=2) as pool:
        pooled = change_impact(desk(), ["hire", "cover"], replications=2, executor=pool)
    assert json.dumps(serial, sort_keys=True) == json.dumps(pooled, sort_keys=True)


def test_a_fractional_replication_count_is_refused() -> None:
    """2.9 replications is not 2, here as in simulate."""
    with pytest.raises(InputError, match="whole number"):
        change_impact(desk(), ["hire"], replications=2.9)
