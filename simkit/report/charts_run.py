"""Charts of simulated runs: compliance per target and per period, times against a target,
queues over the week, availability, and the paired difference a change makes.
"""

from __future__ import annotations

from typing import Any

import altair as alt

from simkit.report.charts_style import (
    _GOAL_COLOUR,
    _PERCENT,
    _WIDTH,
    Rows,
    _data,
    _interval,
    _label_axis,
    _runs,
    _title,
)
from simkit.report.text import sla_label

__all__ = [
    "availability_chart",
    "availability_histogram",
    "compliance_chart",
    "impact_chart",
    "period_chart",
    "queue_chart",
    "time_chart",
]


def compliance_chart(
    sla_rows: Rows, *, replications: int | None = None, estimates: Rows | None = None
) -> Any:
    """Compliance per SLA target with its interval, the goal as a red tick and, given quick
    estimate rows, the estimate as a hollow diamond.

    ``sla_rows`` are the ``sla`` rows of a simulate document.
    """
    quick = {
        (r["level"], r["service"], r["customer"], r["priority"], r["metric"]): r["p_within"]
        for r in estimates or ()
    }
    rows = []
    for row in sla_rows:
        compliance = _interval(row, "compliance")
        key = (row["level"], row["service"], row["customer"], row["priority"], row["metric"])
        rows.append(
            {
                "target": sla_label(dict(row)),
                "compliance": compliance["mean"],
                "lo": compliance["lo"] if compliance["lo"] is not None else compliance["mean"],
                "hi": compliance["hi"] if compliance["hi"] is not None else compliance["mean"],
                "goal": row["goal"],
                "estimate": quick.get(key),
            }
        )
    order = [r["target"] for r in rows]
    base = alt.Chart(_data(rows)).encode(
        y=alt.Y("target:N", sort=order, title=None, axis=_label_axis()),
    )
    scale = alt.Scale(zero=False, clamp=True)
    bars = base.mark_rule(strokeWidth=3, opacity=0.6).encode(
        x=alt.X(
            "lo:Q", title="compliance (mean, 95% interval)", axis=alt.Axis(format="%"), scale=scale
        ),
        x2="hi:Q",
    )
    points = base.mark_point(filled=True, size=70).encode(
        x="compliance:Q",
        tooltip=[
            alt.Tooltip("target:N"),
            alt.Tooltip("compliance:Q", format=_PERCENT),
            alt.Tooltip("lo:Q", format=_PERCENT, title="95% lo"),
            alt.Tooltip("hi:Q", format=_PERCENT, title="95% hi"),
            alt.Tooltip("goal:Q", format=_PERCENT),
        ],
    )
    goals = base.mark_tick(color=_GOAL_COLOUR, thickness=2, size=18).encode(x="goal:Q")
    layers = [bars, points, goals]
    if quick:
        layers.append(
            base.transform_filter("datum.estimate != null")
            .mark_point(shape="diamond", filled=False, size=70, color="#7f7f7f")
            .encode(x="estimate:Q", tooltip=[alt.Tooltip("estimate:Q", format=_PERCENT)])
        )
    return alt.layer(*layers).properties(
        width=_WIDTH,
        title=_title(
            "Compliance per target",
            "red: goal · grey ◇: quick estimate" if quick else "red: goal",
            _runs(replications),
        ),
    )


def period_chart(rows: Rows, *, replications: int | None = None) -> Any:
    """Compliance per reporting period for each target, with intervals and dashed goals.

    ``rows`` from :func:`simkit.app_model.period_rows`; partial periods are drawn hollow (the
    subtitle says so where there are any), and a figure without an interval (one replication)
    without an error bar rather than one of no width, which would look exact.
    """
    data = [
        {**r, "kind": "full period" if r["full"] else "partial period"}
        for r in rows
        if r["compliance"] is not None
    ]
    base = alt.Chart(_data(data)).encode(
        x=alt.X("period:O", title=None),
        color=alt.Color("target:N", title="target"),
    )
    with_interval = [r for r in data if r["lo"] is not None and r["hi"] is not None]
    partial = "hollow: partial period (not counted in periods met)"
    line = base.mark_line(point=False, opacity=0.7).encode(
        y=alt.Y(
            "compliance:Q",
            title="compliance",
            axis=alt.Axis(format="%"),
            scale=alt.Scale(zero=False),
        ),
    )
    points = base.mark_point(size=60).encode(
        y="compliance:Q",
        fill=alt.condition("datum.full", alt.Color("target:N"), alt.value("white")),
        tooltip=[
            alt.Tooltip("target:N"),
            alt.Tooltip("period:O"),
            alt.Tooltip("compliance:Q", format=_PERCENT),
            alt.Tooltip("lo:Q", format=_PERCENT, title="95% lo"),
            alt.Tooltip("hi:Q", format=_PERCENT, title="95% hi"),
            alt.Tooltip("p_met:Q", format=".0%", title="share of runs meeting the goal"),
            alt.Tooltip("tickets:Q", format=".0f", title="tickets per run"),
            alt.Tooltip("kind:N", title="period"),
        ],
    )
    band = (
        alt.Chart(_data(with_interval))
        .mark_errorbar(ticks=True)
        .encode(
            x=alt.X("period:O", title=None),
            color=alt.Color("target:N", title="target"),
            y=alt.Y("lo:Q", title="compliance"),
            y2="hi:Q",
        )
    )
    goal = base.mark_line(strokeDash=[4, 4], opacity=0.6).encode(y="goal:Q")
    return alt.layer(band, line, points, goal).properties(
        width=_WIDTH,
        title=_title(
            "Compliance per period",
            "dashed: goal",
            partial if any(not r["full"] for r in data) else "",
            _runs(replications),
        ),
    )


def time_chart(rows: Rows) -> Any:
    """The distribution of one target's measured times (quantile curve) with the target time
    as a red rule and the goal as a red point on it.

    ``rows`` from :func:`simkit.app_model.time_rows`.
    """
    if not rows:
        return alt.Chart(_data([])).mark_text()
    first = rows[0]
    curve = (
        alt.Chart(_data([r for r in rows if r["hours"] is not None]))
        .mark_line(interpolate="step-after")
        .encode(
            x=alt.X("hours:Q", title="business hours to stop the clock"),
            y=alt.Y(
                "share:Q",
                title="share of tickets within",
                axis=alt.Axis(format="%"),
                scale=alt.Scale(domain=[0, 1]),
            ),
            tooltip=[alt.Tooltip("share:Q", format=".0%"), alt.Tooltip("hours:Q", format=".2f")],
        )
    )
    marker = _data([{"within_h": first["within_h"], "goal": first["goal"]}])
    rule = alt.Chart(marker).mark_rule(color=_GOAL_COLOUR, strokeDash=[4, 4]).encode(x="within_h:Q")
    goal = (
        alt.Chart(marker)
        .mark_point(color=_GOAL_COLOUR, size=90, filled=True)
        .encode(
            x="within_h:Q",
            y="goal:Q",
            tooltip=[
                alt.Tooltip("within_h:Q", format=".2f", title="target (h)"),
                alt.Tooltip("goal:Q", format=".0%"),
            ],
        )
    )
    return alt.layer(curve, rule, goal).properties(
        width=_WIDTH,
        title=_title(
            f"{first['target']}: times against the target",
            "red: the target and its goal",
            f"pooled over {first['replications']} replications",
        ),
    )


_MEASURES = {
    "waiting": ("tickets waiting", ".1f"),
    "busy": ("agents busy", ".1f"),
    "utilization": ("utilisation (busy / on duty)", ".0%"),
}


def queue_chart(rows: Rows, measure: str = "waiting") -> Any:
    """``waiting``, ``busy`` or ``utilization`` per team over the local hours of the week.

    ``rows`` from :func:`simkit.app_model.queue_rows`; utilisation draws 100% as a red rule.
    """
    if measure not in _MEASURES:
        raise ValueError(f"measure must be one of {', '.join(_MEASURES)}, got {measure!r}")
    title, fmt = _MEASURES[measure]
    data = [r for r in rows if r.get(measure) is not None]
    replications = rows[0].get("replications") if rows else None
    axis = alt.Axis(
        values=[day * 24 for day in range(7)],
        labelExpr=("['Mon','Tue','Wed','Thu','Fri','Sat','Sun'][floor(datum.value / 24)]"),
    )
    line = (
        alt.Chart(_data(data))
        .mark_line(interpolate="step-after")
        .encode(
            x=alt.X(
                "slot:Q",
                title="hour of the week (local time)",
                axis=axis,
                scale=alt.Scale(domain=[0, 168]),
            ),
            y=alt.Y(
                f"{measure}:Q",
                title=title,
                axis=alt.Axis(format="%") if measure == "utilization" else alt.Axis(),
            ),
            color=alt.Color("team:N"),
            tooltip=[
                alt.Tooltip("team:N"),
                alt.Tooltip("label:N", title="hour"),
                alt.Tooltip(f"{measure}:Q", format=fmt),
                alt.Tooltip("agents:Q", format=".1f", title="agents on duty"),
            ],
        )
    )
    layers = [line]
    if measure == "utilization":
        layers.append(
            alt.Chart(_data([{"one": 1.0}]))
            .mark_rule(color=_GOAL_COLOUR, strokeDash=[4, 4])
            .encode(y="one:Q")
        )
    return alt.layer(*layers).properties(
        width=_WIDTH,
        title=_title(
            f"{title[0].upper()}{title[1:]} over the week",
            "mean of the weeks measured",
            f"{replications} replications" if replications else "",
        ),
    )


def availability_chart(
    rows: Rows, *, target: float | None = None, replications: int | None = None
) -> Any:
    """Availability per period (mean with its interval) per service, the target as a red rule.

    ``rows`` from :func:`simkit.measure.availability_period_rows`.
    """
    data = []
    for r in rows:
        value = _interval(r, "availability")
        if value["mean"] is None:
            continue
        data.append(
            {
                "service": r["service"],
                "period": r["period"],
                "availability": value["mean"],
                "lo": value["lo"] if value["lo"] is not None else value["mean"],
                "hi": value["hi"] if value["hi"] is not None else value["mean"],
                "p_met": r.get("p_met"),
                "full": r.get("full", True),
            }
        )
    base = alt.Chart(_data(data)).encode(
        x=alt.X("period:O", title=None), color=alt.Color("service:N")
    )
    points = base.mark_point(filled=True, size=70).encode(
        y=alt.Y(
            "availability:Q",
            title="availability",
            axis=alt.Axis(format=".2%"),
            scale=alt.Scale(zero=False),
        ),
        tooltip=[
            alt.Tooltip("service:N"),
            alt.Tooltip("period:O"),
            alt.Tooltip("availability:Q", format=".3%"),
            alt.Tooltip("lo:Q", format=".3%", title="95% lo"),
            alt.Tooltip("hi:Q", format=".3%", title="95% hi"),
            alt.Tooltip("p_met:Q", format=".0%", title="share of runs meeting the target"),
        ],
    )
    bars = base.mark_errorbar(ticks=True).encode(
        y=alt.Y("lo:Q", title="availability", axis=alt.Axis(format=".2%")), y2="hi:Q"
    )
    layers = [bars, points]
    if target is not None:
        layers.append(
            alt.Chart(_data([{"target": target}]))
            .mark_rule(color=_GOAL_COLOUR, strokeDash=[4, 4])
            .encode(y="target:Q")
        )
    return alt.layer(*layers).properties(
        width=_WIDTH,
        title=_title("Availability per period", "red: target", _runs(replications)),
    )


def availability_histogram(rows: Rows, *, target: float | None = None) -> Any:
    """The distribution of availability over (replication, full period) pairs, the target as a
    red rule: how often a month falls short, and by how much.

    ``rows``: ``availability`` per replication and period (from
    :func:`simkit.measure.availability_outcomes`), with ``service``.
    """
    data = [
        {"service": r["service"], "availability": r["availability"], "credit": r.get("credit")}
        for r in rows
        if r.get("availability") is not None
    ]
    bars = (
        alt.Chart(_data(data))
        .mark_bar(opacity=0.8)
        .encode(
            x=alt.X(
                "availability:Q",
                bin=alt.Bin(maxbins=30),
                axis=alt.Axis(format=".2%"),
                title="availability in a period",
            ),
            y=alt.Y("count():Q", title="periods (replications × periods)"),
            color=alt.Color("service:N"),
            tooltip=[alt.Tooltip("count():Q", title="periods")],
        )
    )
    layers = [bars]
    if target is not None:
        layers.append(
            alt.Chart(_data([{"target": target}]))
            .mark_rule(color=_GOAL_COLOUR, size=2)
            .encode(x="target:Q")
        )
    return alt.layer(*layers).properties(
        width=_WIDTH,
        title=_title(
            "Availability in each simulated period",
            f"{len(data)} periods (replications × periods) · red: target",
        ),
    )


def impact_chart(
    rows: Rows, *, what: str = "compliance_delta", replications: int | None = None
) -> Any:
    """A forest plot of a change's paired differences (change − baseline) per target, with
    95% intervals and zero as a rule.

    ``rows``: change-impact rows with ``label`` and ``what`` as ``{mean, lo, hi}`` fractions.
    """
    data = []
    for r in rows:
        delta = _interval(r, what)
        if delta["mean"] is None:
            continue
        data.append(
            {
                "target": r.get("label") or sla_label(dict(r)),
                "delta": delta["mean"],
                "lo": delta["lo"] if delta["lo"] is not None else delta["mean"],
                "hi": delta["hi"] if delta["hi"] is not None else delta["mean"],
                "change": r.get("change", ""),
            }
        )
    order = list(dict.fromkeys(d["target"] for d in data))
    base = alt.Chart(_data(data)).encode(
        y=alt.Y("target:N", sort=order, title=None, axis=_label_axis())
    )
    color = (
        alt.Color("change:N", title="change")
        if any(d["change"] for d in data)
        else (alt.value("#1f77b4"))
    )
    bars = base.mark_rule(strokeWidth=3, opacity=0.6).encode(
        x=alt.X(
            "lo:Q",
            title="difference, change − baseline (percentage points)",
            axis=alt.Axis(format="+%"),
        ),
        x2="hi:Q",
        color=color,
    )
    points = base.mark_point(filled=True, size=70).encode(
        x="delta:Q",
        color=color,
        tooltip=[
            alt.Tooltip("target:N"),
            alt.Tooltip("change:N"),
            alt.Tooltip("delta:Q", format="+.1%"),
            alt.Tooltip("lo:Q", format="+.1%", title="95% lo"),
            alt.Tooltip("hi:Q", format="+.1%", title="95% hi"),
        ],
    )
    zero = alt.Chart(_data([{"zero": 0.0}])).mark_rule(color="#7f7f7f").encode(x="zero:Q")
    return alt.layer(zero, bars, points).properties(
        width=_WIDTH,
        title=_title("Paired difference per target, change − baseline", _runs(replications)),
    )
