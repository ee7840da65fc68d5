"""The Altair charts (simkit.report.charts): valid Vega-Lite from plain rows, intervals drawn,
replications named."""

from __future__ import annotations

import json

import pytest

pytest.importorskip("altair")

from simkit import app_model as model
from simkit.analysis.quick import quick_estimate
from simkit.report import charts
from simkit.runner import Results, simulate
from simkit.scenario import load_scenario


@pytest.fixture(scope="module")
def run(root) -> Results:  # type: ignore[no-untyped-def]
    scenario = load_scenario(root / "scenarios" / "corporate_service_desk.yaml")
    return simulate(scenario, replications=2, seed=1)


def spec(chart: object) -> dict[str, object]:
    """The chart as Vega-Lite JSON (altair validates it against the schema)."""
    document = chart.to_dict()  # type: ignore[attr-defined]
    json.dumps(document)
    return document  # type: ignore[no-any-return]


def _text(document: dict[str, object]) -> str:
    return json.dumps(document)


def test_every_chart_is_valid_vega_lite(run: Results) -> None:
    """Each chart renders to schema-valid Vega-Lite from the rows the app passes it, and each
    title names the replications behind the figures."""
    document = run.summary()
    estimate = quick_estimate(run.scenario)
    figures = model.availability_figures(run)
    built = {
        "compliance": charts.compliance_chart(
            document["sla"], replications=2, estimates=estimate["sla"]
        ),
        "period": charts.period_chart(model.period_rows(document), replications=2),
        "time": charts.time_chart(model.time_rows(run, 0)),
        "queue": charts.queue_chart(model.queue_rows(run, estimate), "utilization"),
        "availability": charts.availability_chart(figures["periods"], target=0.999, replications=2),
        "histogram": charts.availability_histogram(figures["outcomes"], target=0.999),
    }
    for name, chart in built.items():
        document = spec(chart)
        text = _text(document)
        assert "layer" in text, name
        if name != "histogram":
            assert "2 replications" in text, name
            # on a short line of its own, which a narrow chart does not cut
            subtitle = document["title"]["subtitle"]  # type: ignore[index]
            lines = [subtitle] if isinstance(subtitle, str) else subtitle
            own = [line for line in lines if "2 replications" in line]
            assert own and len(own[0]) <= 40, (name, lines)


def test_intervals_are_drawn(run: Results) -> None:
    """The compliance chart draws the interval from lo to hi and the goal of each target."""
    document = run.summary()
    chart = spec(charts.compliance_chart(document["sla"], replications=2))
    values = chart.get("datasets", {})
    rows = next(iter(values.values())) if values else chart["data"]["values"]  # type: ignore[index]
    first = rows[0]
    sla = document["sla"][0]
    assert first["lo"] == sla["compliance"]["lo"] and first["hi"] == sla["compliance"]["hi"]
    assert first["goal"] == sla["goal"]


def test_impact_chart_and_empty_rows() -> None:
    """The impact chart plots paired differences with their intervals; charts of no rows are
    still valid."""
    rows = [
        {
            "label": "payroll P1 resolve",
            "compliance_delta": {"mean": 0.02, "lo": 0.01, "hi": 0.03},
            "change": "hire",
        },
        {"label": "payroll P2 resolve", "compliance_delta": {"mean": None, "lo": None, "hi": None}},
    ]
    text = _text(spec(charts.impact_chart(rows, replications=5)))
    assert "payroll P1 resolve" in text and "payroll P2 resolve" not in text
    spec(charts.time_chart([]))
    spec(charts.period_chart([]))
    spec(charts.queue_chart([], "waiting"))
    with pytest.raises(ValueError):
        charts.queue_chart([], "nonsense")


def test_calibration_charts() -> None:
    """The goodness-of-fit, arrival-profile and back-test charts are valid Vega-Lite; the
    observed curve is drawn first (in black) and candidates carry their KS distance."""
    rows = [
        {"hours": h, "share": q, "curve": "observed (3 visits)"}
        for h, q in ((0.1, 0.1), (0.5, 0.5), (2.0, 0.9))
    ] + [
        {"hours": h, "share": q, "curve": "exponential, mean 1h (KS 0.050)"}
        for h, q in ((0.1, 0.095), (0.5, 0.39), (2.0, 0.86))
    ]
    document = spec(charts.fit_chart(rows))
    text = _text(document)
    assert "#000000" in text and "KS 0.050" in text
    profile = model.profile_rows([[1.0] * 24 for _ in range(7)])
    assert len(profile) == 168
    spec(charts.profile_chart(profile))
    backtest_rows = [
        {
            "level": "service",
            "service": "payroll",
            "customer": None,
            "priority": "P1",
            "metric": "resolve",
            "compliance_hist": 0.9,
            "compliance_sim": {"mean": 0.92, "lo": 0.9, "hi": 0.94},
            "within_tolerance": True,
        }
    ]
    assert "payroll P1 resolve" in _text(spec(charts.backtest_chart(backtest_rows)))
    # the replications are named; a mean without an interval gets no bar
    bare = [{**backtest_rows[0], "compliance_sim": {"mean": 0.92, "lo": None, "hi": None}}]
    document = spec(charts.backtest_chart(backtest_rows + bare, replications=7))
    assert "7 replications" in document["title"]["subtitle"]  # type: ignore[index]
    bars = document["layer"][0]  # type: ignore[index]
    assert bars["mark"]["type"] == "rule" and len(bars["data"]["values"]) == 1  # type: ignore[index]


def test_subtitles_without_replications_end_without_a_separator(run: Results) -> None:
    """A chart drawn without a replication count (the Calibrate page's history per period)
    has a subtitle of its own parts only, no dangling " · "."""
    document = run.summary()
    made = {
        "period": charts.period_chart(model.period_rows(document)),
        "compliance": charts.compliance_chart(document["sla"]),
    }
    for name, chart in made.items():
        subtitle = spec(chart)["title"]["subtitle"]  # type: ignore[index]
        assert subtitle and not subtitle.rstrip().endswith("·"), (name, subtitle)
        assert "replications" not in subtitle, (name, subtitle)
    rows = model.period_rows(document)
    full = [r for r in rows if r["full"]]
    assert len(full) < len(rows), "the run has no partial period"
    period = spec(charts.period_chart(full))["title"]["subtitle"]  # type: ignore[index]
    assert period == "dashed: goal"
    with_runs = spec(charts.period_chart(full, replications=2))
    # the replications on a line of their own: a narrow chart cuts a long line short
    assert with_runs["title"]["subtitle"] == ["dashed: goal", "2 replications, 95% intervals"]  # type: ignore[index]
    # partial periods, drawn hollow, are said to be so
    partial = spec(charts.period_chart(rows, replications=2))["title"]["subtitle"]  # type: ignore[index]
    assert partial == [
        "dashed: goal · hollow: partial period (not counted in periods met)",
        "2 replications, 95% intervals",
    ]


def test_a_period_figure_without_an_interval_has_no_error_bar(run: Results) -> None:
    """One replication gives no interval: the figure is drawn as a point, not with an error bar
    of no width that would look exact."""
    rows = model.period_rows(run.summary())
    bare = [{**r, "lo": None, "hi": None} for r in rows[:3]] + rows[3:]
    document = spec(charts.period_chart(bare, replications=2))
    band = document["layer"][0]  # type: ignore[index]
    assert band["mark"]["type"] == "errorbar"  # type: ignore[index]
    values = band["data"]["values"]  # type: ignore[index]
    drawn = [r for r in bare if r["compliance"] is not None]
    assert len(values) == len([r for r in drawn if r["lo"] is not None and r["hi"] is not None])
    assert len(values) < len(drawn)
    assert all(v["lo"] is not None and v["hi"] is not None for v in values)
