"""Charts of calibration: fitted handling times against the observed, a demand profile as a
heat map, and the back-test of the model against history.
"""

from __future__ import annotations

from typing import Any

import altair as alt

from simkit.report.charts_style import _WIDTH, Rows, _data, _interval, _label_axis, _title
from simkit.report.text import sla_label

__all__ = ["backtest_chart", "fit_chart", "profile_chart"]


def fit_chart(rows: Rows, *, title: str = "Handling time: observed against the fitted") -> Any:
    """Goodness of fit: the observed distribution (quantiles, solid) and each fitted
    candidate's CDF at the same times (dashed, labelled with its KS distance). ``rows`` from
    :func:`simkit.app_model.handling_fit_rows`."""
    observed = [r for r in rows if str(r["curve"]).startswith("observed")]
    first = observed[0]["curve"] if observed else "observed"
    labels = [first, *dict.fromkeys(str(r["curve"]) for r in rows if r["curve"] != first)]
    palette = ["#000000", "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b"]
    chart = (
        alt.Chart(_data(rows))
        .mark_line()
        .encode(
            x=alt.X("hours:Q", title="hours in hand", scale=alt.Scale(type="sqrt")),
            y=alt.Y("share:Q", title="share of visits within", axis=alt.Axis(format="%")),
            color=alt.Color(
                "curve:N",
                title=None,
                scale=alt.Scale(domain=labels, range=palette[: len(labels)]),
                sort=labels,
                legend=alt.Legend(orient="bottom", direction="vertical", labelLimit=400),
            ),
            strokeDash=alt.condition(
                f"datum.curve == '{first}'", alt.value([1, 0]), alt.value([5, 3])
            ),
            tooltip=[
                alt.Tooltip("curve:N"),
                alt.Tooltip("hours:Q", format=".2f"),
                alt.Tooltip("share:Q", format=".1%"),
            ],
        )
    )
    return chart.properties(width=_WIDTH, height=420, title=_title(title))


def profile_chart(rows: Rows, *, title: str = "Arrivals by hour of the week") -> Any:
    """A 7×24 heat map of a demand profile. ``rows``: ``day, hour, weight``."""
    days = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
    return (
        alt.Chart(_data(rows))
        .mark_rect()
        .encode(
            x=alt.X("hour:O", title="local hour"),
            y=alt.Y("day:N", sort=days, title=None),
            color=alt.Color("weight:Q", title="tickets / h", scale=alt.Scale(scheme="blues")),
            tooltip=[
                alt.Tooltip("day:N"),
                alt.Tooltip("hour:O"),
                alt.Tooltip("weight:Q", format=".2f"),
            ],
        )
        .properties(width=_WIDTH, title=_title(title))
    )


def backtest_chart(rows: Rows, *, replications: int | None = None) -> Any:
    """Back-test: historical compliance (black) against the simulated mean and interval per
    target. ``rows``: back-test rows (``compliance_hist``, ``compliance_sim {mean, lo, hi}``);
    ``replications``, named in the subtitle. A mean without an interval has no bar."""
    data = []
    for r in rows:
        sim = _interval(r, "compliance_sim")
        if sim["mean"] is None:
            continue
        data.append(
            {
                "target": sla_label(dict(r)),
                "history": r.get("compliance_hist"),
                "simulated": sim["mean"],
                "lo": sim["lo"],
                "hi": sim["hi"],
                "within": "within tolerance" if r.get("within_tolerance") else "outside tolerance",
            }
        )
    order = [str(d["target"]) for d in data]
    base = alt.Chart(_data(data)).encode(
        y=alt.Y("target:N", sort=order, title=None, axis=_label_axis())
    )
    bars = (
        alt.Chart(_data([d for d in data if d["lo"] is not None and d["hi"] is not None]))
        .mark_rule(strokeWidth=3, opacity=0.6)
        .encode(
            y=alt.Y("target:N", sort=order, title=None, axis=_label_axis()),
            x=alt.X(
                "lo:Q", title="compliance", axis=alt.Axis(format="%"), scale=alt.Scale(zero=False)
            ),
            x2="hi:Q",
        )
    )
    simulated = base.mark_point(filled=True, size=70).encode(
        x="simulated:Q",
        color=alt.Color("within:N", title=None),
        tooltip=[
            alt.Tooltip("target:N"),
            alt.Tooltip("history:Q", format=".1%"),
            alt.Tooltip("simulated:Q", format=".1%"),
            alt.Tooltip("lo:Q", format=".1%", title="95% lo"),
            alt.Tooltip("hi:Q", format=".1%", title="95% hi"),
        ],
    )
    history = base.mark_tick(color="black", thickness=2, size=18).encode(x="history:Q")
    return alt.layer(bars, simulated, history).properties(
        width=_WIDTH,
        title=_title(
            "Back-test: simulated against history",
            "black tick: history · dot: simulated mean, bar: its 95% interval",
            f"{replications} replications" if replications else "",
        ),
    )
