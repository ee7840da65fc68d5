"""Charts of the reports: the verdict per proposed target for the negotiation brief and a
target's trend over the reporting periods for the service review pack.
"""

from __future__ import annotations

from typing import Any

import altair as alt

from simkit.report.charts_style import (
    _GOAL_COLOUR,
    _WIDTH,
    Rows,
    _data,
    _interval,
    _label_axis,
    _runs,
    _title,
)
from simkit.report.text import sla_label

__all__ = ["trend_chart", "verdict_chart"]

_STATUS_COLOURS = {
    "green": "#2f9e55",
    "amber": "#e0a100",
    "red": "#d64545",
    "grey": "#9aa5b1",
}
_VERDICT_COLOURS = {
    "achievable": "#2f9e55",
    "at risk": "#e0a100",
    "not achievable": "#d64545",
}


def verdict_chart(rows: Rows, *, confidence: float, replications: int | None = None) -> Any:
    """P(period meets goal) per proposed target with its 95% interval, coloured by verdict, and
    the confidence asked for as a red rule: a target is achievable when its whole interval lies
    right of the rule.

    ``rows`` are the ``sla`` rows of :func:`simkit.analysis.targets.achievable_targets`.
    """
    data = []
    for row in rows:
        p = _interval(row, "p_period_met")
        if p["mean"] is None:
            continue
        data.append(
            {
                "target": sla_label(dict(row)),
                "p": p["mean"],
                "lo": p["lo"] if p["lo"] is not None else p["mean"],
                "hi": p["hi"] if p["hi"] is not None else p["mean"],
                "verdict": row.get("verdict", ""),
            }
        )
    order = [d["target"] for d in data]
    colour = alt.Color(
        "verdict:N",
        title="verdict",
        scale=alt.Scale(domain=list(_VERDICT_COLOURS), range=list(_VERDICT_COLOURS.values())),
    )
    base = alt.Chart(_data(data)).encode(
        y=alt.Y("target:N", sort=order, title=None, axis=_label_axis())
    )
    scale = alt.Scale(domain=[0, 1])
    bars = base.mark_rule(strokeWidth=3, opacity=0.6).encode(
        x=alt.X(
            "lo:Q",
            title="P(period meets goal), 95% interval",
            axis=alt.Axis(format="%"),
            scale=scale,
        ),
        x2="hi:Q",
        color=colour,
    )
    points = base.mark_point(filled=True, size=70).encode(
        x="p:Q",
        color=colour,
        tooltip=[
            alt.Tooltip("target:N"),
            alt.Tooltip("p:Q", format=".0%", title="P(period meets goal)"),
            alt.Tooltip("lo:Q", format=".0%", title="95% lo"),
            alt.Tooltip("hi:Q", format=".0%", title="95% hi"),
            alt.Tooltip("verdict:N"),
        ],
    )
    rule = (
        alt.Chart(_data([{"confidence": confidence}]))
        .mark_rule(color=_GOAL_COLOUR, strokeDash=[4, 4])
        .encode(x="confidence:Q")
    )
    return alt.layer(bars, points, rule).properties(
        width=_WIDTH,
        title=_title(
            "How often each proposed target would be met",
            f"red: the {confidence:.0%} of periods asked for",
            _runs(replications),
        ),
    )


def trend_chart(
    rows: Rows,
    *,
    goal: float,
    title: str,
    value_format: str = ".0%",
    replications: int | None = None,
) -> Any:
    """One target over the reporting periods of a history: the measured value per period as
    points coloured red/amber/green, the goal as a red rule and, where rows carry
    ``expected``, the model's expectation as a grey line with the range of its runs as a band.

    ``rows``: ``period, value, status (green|amber|red|grey), full, tickets`` and optionally
    ``expected, expected_lo, expected_hi`` (fractions); partial periods are drawn hollow.
    """
    data = [dict(r) for r in rows]
    x = alt.X("period:O", title=None, sort=[d["period"] for d in data], axis=alt.Axis(labelAngle=0))
    y_axis = alt.Axis(format=value_format)
    layers = []
    expected = [d for d in data if d.get("expected") is not None]
    if expected:
        band_rows = [
            {
                **d,
                "expected_lo": d["expected_lo"]
                if d.get("expected_lo") is not None
                else d["expected"],
                "expected_hi": d["expected_hi"]
                if d.get("expected_hi") is not None
                else d["expected"],
            }
            for d in expected
        ]
        model = alt.Chart(_data(band_rows)).encode(x=x)
        layers.append(
            model.mark_area(opacity=0.18, color="#7f7f7f").encode(
                y=alt.Y("expected_lo:Q", axis=y_axis), y2="expected_hi:Q"
            )
        )
        layers.append(
            model.mark_line(color="#7f7f7f", strokeDash=[2, 2]).encode(
                y="expected:Q",
                tooltip=[
                    alt.Tooltip("period:O"),
                    alt.Tooltip("expected:Q", format=value_format, title="model"),
                    alt.Tooltip("expected_lo:Q", format=value_format, title="model range lo"),
                    alt.Tooltip("expected_hi:Q", format=value_format, title="model range hi"),
                ],
            )
        )
    measured = [d for d in data if d.get("value") is not None]
    base = alt.Chart(_data(measured)).encode(x=x)
    layers.append(
        base.mark_line(color="#334e68", opacity=0.6).encode(
            y=alt.Y("value:Q", title=None, axis=y_axis, scale=alt.Scale(zero=False))
        )
    )
    colour = alt.Color(
        "status:N",
        title="status",
        scale=alt.Scale(domain=list(_STATUS_COLOURS), range=list(_STATUS_COLOURS.values())),
        legend=None,
    )
    layers.append(
        base.mark_point(size=90, strokeWidth=2).encode(
            y="value:Q",
            color=colour,
            fill=alt.condition("datum.full", colour, alt.value("white")),
            tooltip=[
                alt.Tooltip("period:O"),
                alt.Tooltip("value:Q", format=value_format, title="measured"),
                alt.Tooltip("tickets:Q", format=",.0f"),
                alt.Tooltip("status:N"),
            ],
        )
    )
    layers.append(
        alt.Chart(_data([{"goal": goal}]))
        .mark_rule(color=_GOAL_COLOUR, strokeDash=[4, 4])
        .encode(y="goal:Q")
    )
    parts = ["red: goal · hollow: partial period"]
    if expected:
        parts.append("grey: the model's expectation")
        if replications:  # naming the replications: a line of its own (charts_style._title)
            parts.append(f"band: range of the {replications} simulated replications")
    return alt.layer(*layers).properties(width=_WIDTH, height=160, title=_title(title, *parts))
