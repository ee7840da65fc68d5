"""Change impact page: each change (or a plan of them) against the baseline, paired replication
by replication. Pick the scenario's changes or build one with sliders, permanent or dated."""

from __future__ import annotations

import datetime as dt
from typing import Any

import streamlit as st
from app_support import (
    controls_id,
    executor,
    kept,
    remember,
    replications_control,
    scenario_id,
    show_problems,
    table_height,
    with_progress,
    working_scenario,
)

from simkit import app_model as model
from simkit.analysis.impact import change_impact, fmt_row_delta
from simkit.errors import InputError
from simkit.report import charts
from simkit.report.text import fmt_interval
from simkit.scenario import Scenario

st.title("Change impact")
st.caption(
    "What does this change do to our service levels? Baseline and change run with the same "
    "random numbers, so each difference is paired and its interval is narrow."
)

scenario = working_scenario()
if scenario is None:
    st.stop()
assert scenario is not None

CUSTOM = "built_here"


def _digits(row: dict[str, Any]) -> int:
    return 3 if row.get("kind") == "availability" else 1


def builder(
    scenario: Scenario, sid: str
) -> tuple[dict[str, Any], tuple[dt.date, dt.date] | None, bool]:
    """Sliders for a change of one's own: volume, staffing and handling; permanent or dated.
    Returns the patch, its window (``None``: permanent) and whether the change is complete:
    ``False`` while "dated" is on and the window does not yet hold both its dates."""
    controls = model.scenario_controls(scenario)
    key = f"{sid}:impact:volume"
    volume = st.slider("Volume change", -50, 100, step=5, format="%+d%%", key=kept(key, 0))
    remember(key, volume)
    agents: dict[str, dict[str, int]] = {}
    handle: dict[str, float] = {}
    for team in controls.teams:
        with st.expander(team.team):
            for line, n in team.roster:
                key = f"{sid}:impact:agents:{team.team}:{line}"
                value = st.slider(line, 0, max(10, 3 * n), key=kept(key, n))
                remember(key, value)
                agents.setdefault(team.team, {})[line] = int(value)
            key = f"{sid}:impact:handle:{team.team}"
            factor = st.slider(
                "handling time ×", 0.5, 2.0, step=0.05, format="×%.2f", key=kept(key, 1.0)
            )
            remember(key, factor)
            handle[team.team] = float(factor)
    patch = model.what_if_patch(
        scenario, model.WhatIf(volume=volume / 100, agents=agents, handle=handle)
    )
    key = f"{sid}:impact:dated"
    dated = st.toggle("Only for a while (dated)", key=kept(key, False))
    remember(key, dated)
    window = None
    complete = True
    if dated:
        start = scenario.start
        key = f"{sid}:impact:window"
        chosen = st.date_input(
            "From (first day) – until (the day after the last)",
            key=kept(key, (start + dt.timedelta(days=21), start + dt.timedelta(days=28))),
            format="YYYY-MM-DD",
        )
        remember(key, chosen)
        if isinstance(chosen, (tuple, list)) and len(chosen) == 2:
            window = (chosen[0], chosen[1])
        else:
            complete = False
    return patch, window, complete


def window_warning(scenario: Scenario, window: tuple[dt.date, dt.date]) -> str | None:
    """A warning when ``window`` (from inclusive, until exclusive) misses the measured span
    (:func:`simkit.app_model.window_reach`): outside the whole run, the change does nothing."""
    if window[1] <= window[0]:
        return None  # an empty window: the scenario's own message says so
    reach = model.window_reach(scenario, window)
    if reach == "measured":
        return None
    start = dt.datetime.combine(scenario.start, dt.time())
    end = start + dt.timedelta(hours=scenario.horizon)
    measured = f"{start:%Y-%m-%d %H:%M} until {end:%Y-%m-%d %H:%M}"
    shown = f"{window[0]:%Y-%m-%d} until {window[1]:%Y-%m-%d}"
    if reach == "none":
        return (
            f"The dated change's window ({shown}) lies outside the simulated span: it has no "
            f"effect. The figures measure {measured}; move the window inside."
        )
    return (
        f"The dated change's window ({shown}) lies outside the measured span ({measured}): it "
        "touches only the warm-up or the drain around it, so expect little or no effect. Move "
        "the window inside."
    )


@st.fragment
def impact(scenario: Scenario) -> None:
    sid = controls_id(scenario)
    left, right = st.columns([1, 2], gap="large")
    with left:
        named = list(scenario.changes)
        key = f"{sid}:impact:changes"
        chosen = st.multiselect(
            "Changes defined in the scenario",
            named,
            key=kept(key, named[:1]),
            format_func=lambda n: f"{n} — {scenario.changes[n].description or ''}".rstrip(" —"),
        )
        remember(key, chosen)
        key = f"{sid}:impact:build"
        build = st.toggle("…and a change built here", key=kept(key, not named))
        remember(key, build)
        patch: dict[str, Any] = {}
        window = None
        complete = True
        if build:
            # The builder's sliders start from the working scenario's own staffing (absolute
            # head-counts): kept under that scenario, or a what-if's staffing would slip into
            # the change built here.
            patch, window, complete = builder(scenario, scenario_id(scenario))
        key = f"{sid}:impact:together"
        together = st.toggle(
            "Together, as one plan", key=kept(key, False), help="All changes at once."
        )
        remember(key, together)
        replications, seed = replications_control(f"{sid}:impact", scenario)
        compare = st.button("Compare with the baseline", type="primary", key="compare")
    with right:
        if not complete:
            st.warning(
                "The dated change's window is not complete: pick the end date of the window "
                "(the day after the last day of the change), or both dates if none is "
                "picked — or turn **Only for a while (dated)** off for a permanent change. "
                "Nothing is compared until then."
            )
            return
        if window is not None:
            warning = window_warning(scenario, window)
            if warning:
                st.warning(warning)
        if build and not patch:
            # the builder as it opens: nothing to compare yet, and nothing wrong either
            st.info(
                "Move a slider to build a change — the volume, the agents on a roster line or "
                "a team's handling time — then compare it with the baseline"
                + (" (or turn **…and a change built here** off)." if named else ".")
            )
            return
        try:
            base = scenario
            names = list(chosen)
            if build:
                base = model.with_custom_change(
                    scenario,
                    patch,
                    name=CUSTOM,
                    window=window,
                    description="built on the Change impact page",
                )
                names.append(CUSTOM)
            if not names:
                st.info("Pick a change, or build one, then compare.")
                return
            for name in names:
                model.check_run(base.apply(name), replications)
            if together:
                model.check_run(base.apply(*names), replications)
            # the baseline and each change (or all of them together) are runs of one comparison
            runs = 2 if together else len(names) + 1
            model.check_search(base, replications, runs, "The comparison")
        except InputError as error:
            show_problems(error, "This change cannot be compared:")
            return
        run = (
            "impact",
            model.run_key(base, replications, seed),
            tuple(names),
            together,
        )
        wanted = "impact:" + "|".join(str(part) for part in run)
        if compare:
            st.session_state[wanted] = True
        if not st.session_state.get(wanted):
            st.info(
                f"{runs} runs of {replications} replications"
                + (" (the baseline and the plan)" if together else "")
                + ": press **Compare with the baseline**."
            )
            return
        try:
            document = with_progress(
                "Baseline and changes",
                run,
                lambda progress: change_impact(
                    base,
                    names,
                    together=together,
                    replications=replications,
                    seed=seed,
                    executor=executor(),
                    progress=progress,
                ),
            )
        except InputError as error:
            show_problems(error, "This change cannot be compared:")
            return
        st.markdown(
            f"#### Paired differences — {document['replications']} replications, seed "
            f"{document['seed']}"
        )
        rows = []
        for entry in document["changes"]:
            for row in entry["rows"]:
                rows.append({**row, "change": entry["name"]})
        st.altair_chart(
            charts.impact_chart(
                [r for r in rows if r["kind"] == "sla"], replications=document["replications"]
            ),
            width="stretch",
        )
    for entry in document["changes"]:
        window_text = (
            f" — from {entry['window']['from']} until {entry['window']['until']}"
            if entry.get("window")
            else ""
        )
        st.markdown(f"**{entry['name']}**{window_text}")
        st.dataframe(
            [
                {
                    "target": row["label"],
                    "baseline": fmt_interval(row["baseline_compliance"], _digits(row)),
                    "with the change": fmt_interval(row["change_compliance"], _digits(row)),
                    "difference": fmt_row_delta(row),
                    "effect": row["effect"],
                    "in words": row["verdict"],
                }
                for row in entry["rows"]
            ],
            hide_index=True,
            height=table_height(len(entry["rows"])),
        )
        if entry.get("window") or together:
            with st.expander("Per period"):
                st.dataframe(
                    [
                        {
                            "period": row["period"] + ("" if row["full"] else " (partial)"),
                            "target": row["label"],
                            "baseline": fmt_interval(row["baseline_compliance"]),
                            "with the change": fmt_interval(row["change_compliance"]),
                            "difference": fmt_row_delta(row),
                            "replications": row["replications"],
                        }
                        for row in entry["periods"]
                    ],
                    hide_index=True,
                )


impact(scenario)
