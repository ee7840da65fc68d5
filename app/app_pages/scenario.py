"""Scenario page: the what-if workbench. Move volume, growth, staffing, handling times, pause
rates and targets; see the quick estimate at once and the simulated SLA table when it is ready.
Every number comes from simkit (simkit.app_model); this page only draws."""

from __future__ import annotations

import functools
from typing import Any

import streamlit as st
from app_support import (
    cached,
    current_scenario,
    default_replications,
    executor,
    kept,
    remember,
    remember_edit,
    scenario_id,
    show_problems,
    simulated,
    table_height,
    with_progress,
)

from simkit import app_model as model
from simkit.analysis.quick import quick_estimate
from simkit.errors import InputError
from simkit.report import charts
from simkit.report.brief import brief_document, render_brief
from simkit.report.text import fmt_interval, fmt_pct, sla_label
from simkit.runner import Results
from simkit.scenario import Scenario
from simkit.scenario.describe import describe_scenario
from simkit.units import format_duration, format_percent

st.title("Scenario")
st.caption(
    "Test service levels before you agree them: move a slider and see what happens to each SLA."
)

scenario = current_scenario()
if scenario is None:
    st.stop()
assert scenario is not None


def describe(scenario: Scenario) -> None:
    summary = describe_scenario(scenario)
    st.subheader(summary["scenario"])
    if scenario.description:
        st.write(scenario.description)
    st.caption(
        f"{st.session_state.get('scenario_origin', '')} · measured span {summary['horizon']} "
        f"from {summary['start']} · reported per {summary['period']} · {summary['timezone']} · "
        f"{summary['replications']} replications in the file"
    )
    with st.expander("Services, teams and targets in the scenario"):
        st.markdown("**Services and targets**")
        for service in summary["services"]:
            st.markdown(
                f"*{service['service']}* — {service['per_week']:g} tickets a week "
                f"({service['profile']} profile), first line: `{service['entry']}`"
            )
            st.dataframe(
                [
                    {
                        "priority": row["priority"],
                        "share": format_percent(row["share"]),
                        "respond": row["respond"] or "—",
                        "resolve": row["resolve"] or "—",
                    }
                    for row in service["priorities"]
                ],
                hide_index=True,
            )
        st.markdown("**Teams and suppliers**")
        st.dataframe(
            [
                {
                    "team": team["team"],
                    "kind": team["kind"],
                    "roster": "; ".join(f"{line}: {n}" for line, n in team["roster"].items())
                    or f"works {team['calendar'] or '24x7'}",
                    "agent-hours/week": (
                        round(team["agent_hours_per_week"])
                        if team["agent_hours_per_week"]
                        else None
                    ),
                    "shrinkage": format_percent(team["shrinkage"]),
                    "next": ", ".join(f"{k} {format_percent(v)}" for k, v in team["next"].items()),
                    "agreement": "; ".join(f"{m} {t}" for m, t in team["agreement"].items()) or "—",
                }
                for team in summary["teams"]
            ],
            hide_index=True,
        )


describe(scenario)


def sliders(scenario: Scenario, sid: str) -> tuple[model.WhatIf, int, int, float]:
    """Draw the sliders; return the what-if, replications, seed and confidence."""
    controls = model.scenario_controls(scenario)
    demand, staffing, handling, targets, run = st.tabs(
        ["Demand", "Staff", "Handling", "Targets", "Run"]
    )
    with demand:
        key = f"{sid}:volume"
        volume = st.slider(
            "Volume change, every service",
            -50,
            100,
            step=5,
            format="%+d%%",
            key=kept(key, 0),
            help="Tickets per week of every service, relative to the scenario.",
        )
        remember(key, volume)
        growth = {}
        for service in controls.services:
            key = f"{sid}:growth:{service.service}"
            value = st.slider(
                f"Growth per year — {service.service} ({service.per_week:g} tickets a week)",
                -20,
                50,
                step=1,
                format="%d%%",
                key=kept(key, round(service.growth * 100)),
            )
            remember(key, value)
            growth[service.service] = value / 100
    with staffing:
        agents: dict[str, dict[str, int]] = {}
        for team in controls.teams:
            if not team.roster:
                continue
            st.markdown(f"**{team.team}** — shrinkage {fmt_pct(team.shrinkage, 0)}")
            agents[team.team] = {}
            for line, n in team.roster:
                key = f"{sid}:agents:{team.team}:{line}"
                value = st.slider(
                    f"{team.team}: {line}",
                    0,
                    max(10, 3 * n),
                    key=kept(key, n),
                    help="Agents rostered on this line (lines stack).",
                )
                remember(key, value)
                agents[team.team][line] = int(value)
    with handling:
        handle: dict[str, float] = {}
        pause: dict[str, float] = {}
        for team in controls.teams:
            key = f"{sid}:handle:{team.team}"
            factor = st.slider(
                f"Handling time × — {team.team}",
                0.5,
                2.0,
                step=0.05,
                format="×%.2f",
                key=kept(key, 1.0),
                help=f"Scales every handling-time distribution: {team.handle}",
            )
            remember(key, factor)
            handle[team.team] = float(factor)
            if team.pause is not None:
                key = f"{sid}:pause:{team.team}"
                value = st.slider(
                    f"Pause rate — {team.team} (share of handlings awaiting the user)",
                    0,
                    100,
                    format="%d%%",
                    key=kept(key, round(team.pause * 100)),
                )
                remember(key, value)
                pause[team.team] = value / 100
    with targets:
        st.caption("Targets are measured, not simulated: changing one re-measures the same run.")
        chosen: dict[str, tuple[float, float]] = {}
        for target in controls.targets:
            left, right = st.columns(2)
            key = f"{sid}:within:{target.key}"
            within = left.number_input(
                f"{target.label}: within (hours, {target.calendar})",
                min_value=0.0,
                step=0.25,
                key=kept(key, float(target.within_h)),
            )
            remember(key, within)
            key = f"{sid}:goal:{target.key}"
            goal = right.slider(
                f"{target.label}: goal",
                50.0,
                100.0,
                step=0.5,
                format="%.1f%%",
                key=kept(key, round(target.goal * 100, 1)),
            )
            remember(key, goal)
            chosen[target.key] = (float(within), float(goal) / 100)
    with run:
        left, middle, right = st.columns(3)
        key = f"{sid}:replications"
        replications = left.number_input(
            "Replications",
            min_value=2,
            max_value=model.MAX_REPLICATIONS,
            key=kept(key, default_replications()),
            help="More replications give narrower intervals and take longer.",
        )
        remember(key, replications)
        key = f"{sid}:seed"
        seed = middle.number_input("Seed", min_value=0, key=kept(key, int(scenario.seed)))
        remember(key, seed)
        key = f"{sid}:confidence"
        confidence = right.slider(
            "Confidence for verdicts",
            50,
            99,
            format="%d%%",
            key=kept(key, 80),
            help="The share of reporting periods a promise must hold in.",
        )
        remember(key, confidence)
    what_if = model.WhatIf(
        volume=volume / 100,
        growth=growth,
        agents=agents,
        handle=handle,
        pause=pause,
        targets=chosen,
    )
    return what_if, int(replications), int(seed), confidence / 100


def brief(edited: model.EditedScenario, replications: int, seed: int, confidence: float) -> None:
    """The negotiation brief of the scenario as edited, made on request (it runs the targets,
    OLA and availability analyses)."""
    st.markdown("**Negotiation brief** — targets, options, OLAs and availability in one page")
    options = st.checkbox("with the staffing options (more runs)", value=False, key="brief_options")
    key = ("brief", model.run_key(edited.measured, replications, seed), confidence, options)
    wanted = "brief:" + "|".join(str(part) for part in key)
    if st.button("Make the negotiation brief", key="make_brief"):
        st.session_state[wanted] = True
    if not st.session_state.get(wanted):
        return
    try:
        html = with_progress(
            "Negotiation brief",
            key,
            lambda progress: render_brief(
                brief_document(
                    edited.measured,
                    confidence=confidence,
                    replications=replications,
                    seed=seed,
                    executor=executor(),
                    progress=progress,
                    options=options,
                ),
                format="html",
            ),
        )
    except InputError as error:
        show_problems(error, "The brief cannot be made:")
        return
    st.download_button(
        "Negotiation brief (HTML)",
        html,
        file_name="brief.html",
        mime="text/html",
        on_click="ignore",
        key="download_brief",
    )


def downloads(edited: model.EditedScenario, results: Results, document: dict[str, Any]) -> None:
    st.download_button(
        "Scenario as edited (YAML)",
        edited.measured.to_yaml(),
        file_name="scenario.yaml",
        mime="application/x-yaml",
        on_click="ignore",
        key="download_yaml",
    )
    cols = st.columns(2)
    cols[0].download_button(
        "SLA table (CSV)",
        model.table_bytes(document["sla"], "csv"),
        file_name="sla.csv",
        mime="text/csv",
        on_click="ignore",
        key="download_sla_csv",
    )
    cols[1].download_button(
        "Compliance per period (CSV)",
        model.table_bytes(document["periods"], "csv"),
        file_name="periods.csv",
        mime="text/csv",
        on_click="ignore",
        key="download_periods_csv",
    )
    st.caption("Result tables, one row per simulated ticket, visit, pause or outage:")
    parquet_columns = st.columns(4)
    tables = model.result_tables(results).items()
    for col, (name, table) in zip(parquet_columns, tables, strict=True):
        col.download_button(
            f"{name} (Parquet)",
            functools.partial(model.table_bytes, table, "parquet"),
            file_name=f"{name}.parquet",
            mime="application/vnd.apache.parquet",
            on_click="ignore",
            key=f"download_{name}",
        )


@st.fragment
def workbench(scenario: Scenario) -> None:
    """Sliders and results: a slider change re-runs only this part of the page."""
    sid = scenario_id(scenario)
    controls_column, results_column = st.columns([1, 2], gap="large")
    with controls_column:
        st.markdown("#### What if…")
        what_if, replications, seed, confidence = sliders(scenario, sid)
    with results_column:
        try:
            edited = model.edit_scenario(scenario, what_if)
        except InputError as error:
            show_problems(error, "These slider values do not make a valid scenario:")
            return
        remember_edit(scenario, edited.measured, edited.patch)
        if edited.patch:
            with st.expander("The change, as a patch on the scenario"):
                st.code(model.yaml_text(edited.patch), language="yaml")
        estimate = quick_estimate(edited.measured)
        overloaded = [
            f"{team['team']} {len(team['overloaded_hours'])} h (from {team['overloaded_hours'][0]})"
            for team in estimate["teams"]
            if team["overloaded_hours"]
        ]
        if overloaded:
            st.warning(
                "Quick estimate: more work than agents in some hours of the week — "
                + "; ".join(overloaded)
                + ". Queues build there and clear later, if they can."
            )
        heading, table_slot = st.empty(), st.empty()
        with heading.container():
            st.markdown("#### Quick estimate — instant, from queueing formulas")
            st.caption(
                "An ESTIMATE (Erlang C per hour of the week), not the simulation: the simulated "
                "table replaces it when ready."
            )
        table_slot.dataframe(
            model.estimate_table(estimate),
            hide_index=True,
            height=table_height(len(estimate["sla"])),
            column_order=[
                "SLA",
                "target",
                "within target (estimate)",
                "meets goal?",
                "mean (estimate)",
                "tickets in overloaded hours",
            ],
            key="estimate_table",
        )
        try:
            results = simulated(edited.run, replications, seed)
        except InputError as error:
            show_problems(error, "This scenario is not simulated:")
            return
        measured_key = model.run_key(edited.measured, replications, seed)
        # one measured run per key, so that its SLA part and its whole summary are measured once
        measured = cached(
            ("measured", measured_key), lambda: model.remeasure(results, edited.measured)
        )
        # the SLA table first; the OLA, team and availability figures after it is shown
        head = measured.sla_summary()
        if head["failures"]:
            st.warning(
                f"{len(head['failures'])} replications failed and are left out: "
                + "; ".join(f["error"] for f in head["failures"][:3])
            )
        with heading.container():
            st.markdown(
                f"#### Simulated SLA table — {head['replications']} replications, seed {seed}"
            )
            st.caption(
                "Compliance and P(period met): mean [95% interval]; verdict at "
                f"{confidence:.0%} of {scenario.period}s, from the interval; "
                "estimate: the quick estimate, for comparison."
            )
        table = model.sla_table(head, confidence=confidence, estimate=estimate)
        table_slot.dataframe(
            table,
            hide_index=True,
            height=table_height(len(table)),
            column_order=[
                "SLA",
                "target",
                "tickets",
                "compliance",
                "P(period met)",
                "verdict",
                "p90",
                "estimate",
            ],
            key="sla_table",
        )
        st.altair_chart(
            charts.compliance_chart(
                head["sla"], replications=head["replications"], estimates=estimate["sla"]
            ),
            width="stretch",
        )
        document = measured.summary()
    periods, times, queues, teams, files = st.tabs(
        ["Per period", "Times against targets", "Queues & utilisation", "Teams & OLAs", "Downloads"]
    )
    labels = [sla_label(row) for row in document["sla"]]
    with periods:
        rows = model.period_rows(document)
        default = [label for label in labels if not label.startswith("corporate")][:4]
        shown = st.multiselect("Targets", labels, default=default, key="period_targets")
        st.altair_chart(
            charts.period_chart(
                [r for r in rows if r["target"] in shown],
                replications=document["replications"],
            ),
            width="stretch",
        )
    with times:
        if labels:
            label = st.selectbox("Target", labels, key="time_target")
            index = labels.index(label)
            rows = cached(
                ("times", model.run_key(edited.measured, replications, seed), index),
                lambda: model.time_rows(measured, index),
            )
            if rows:
                st.altair_chart(charts.time_chart(rows), width="stretch")
            else:
                st.info("No ticket of this target was measured.")
    with queues:
        rows = cached(
            ("queues", model.run_key(edited.run, replications, seed)),
            lambda: model.queue_rows(results, estimate),
        )
        measure = st.radio(
            "Show",
            ["waiting", "utilization", "busy"],
            format_func={
                "waiting": "tickets waiting",
                "utilization": "utilisation",
                "busy": "agents busy",
            }.get,
            horizontal=True,
            key="queue_measure",
        )
        st.altair_chart(charts.queue_chart(rows, measure), width="stretch")
    with teams:
        st.dataframe(
            [
                {
                    "team": row["team"],
                    "utilisation": fmt_pct(row["utilization"]),
                    "mean wait": model.fmt_hours(row["wait_h"]["mean"]),
                    "90% wait": model.fmt_hours(row["wait_h"]["90"]),
                    "abandoned": fmt_pct(row["abandoned"]),
                }
                for row in document["teams"]
            ],
            hide_index=True,
        )
        if document["ola"]:
            st.markdown("**OLAs and underpinning contracts** (per visit)")
            st.dataframe(
                [
                    {
                        "agreement": f"{row['team']} {row['kind'].upper()} {row['metric']}",
                        "target": f"{fmt_pct(row['goal'], 0)} within "
                        f"{format_duration(row['within_h'])} ({row['calendar']})",
                        "visits": round(row["tickets"], 1),
                        "compliance": fmt_interval(row["compliance"]),
                        "P(period met)": fmt_interval(row["p_period_met"], 0),
                    }
                    for row in document["ola"]
                ],
                hide_index=True,
            )
    with files:
        downloads(edited, measured, document)
        brief(edited, replications, seed, confidence)


workbench(scenario)
