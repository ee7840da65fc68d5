"""Targets page: what can we promise? The SLR table (achievable targets and verdicts), the
staffing options that would change a verdict, and the optimiser's cheapest roster."""

from __future__ import annotations

from typing import Any

import streamlit as st
from app_support import (
    cached,
    controls_id,
    executor,
    kept,
    kept_default,
    no_tickets_notice,
    remember,
    replications_control,
    show_problems,
    simulated,
    table_height,
    with_progress,
    working_scenario,
)

from simkit import app_model as model
from simkit.analysis.optimize import optimize_staffing
from simkit.analysis.targets import achievable_targets, achievable_text
from simkit.errors import InputError
from simkit.report.text import fmt_interval, fmt_pct, sla_label
from simkit.scenario import Scenario
from simkit.units import format_duration, format_percent

st.title("Targets")
st.caption(
    "What can we promise? For each proposed target: the target that holds in the chosen share "
    "of reporting periods, the verdict, and what staffing would change it."
)

scenario = working_scenario()
if scenario is None:
    st.stop()
assert scenario is not None


# What the page says for a scenario without SLA targets (as the OLA / UC page does); a comment,
# not a string: streamlit's magic would write a bare string onto the page.
NO_SLA_TARGETS = (
    "This scenario has no SLA target: there are no service level requirements to assess and "
    "no staffing to search for. Add a `respond:` or `resolve:` target to a priority under "
    "`services:`, e.g. `P1: {share: 100%, resolve: {within: 4h, goal: 95%}}` (see "
    "docs/scenario-format.md, section 5), or pick an example with targets."
)


def _hours(value: float | None) -> str:
    return model.fmt_hours(value)


def _verdict_rows(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [
        {
            "SLR": sla_label(row),
            "proposed": f"{fmt_pct(row['goal'], 0)} within "
            f"{format_duration(row['proposed_within_h'])} ({row['calendar']})",
            "achievable target [95%]": achievable_text(row, _hours),
            "compliance at proposed": fmt_pct(row["achievable_goal"]),
            "P(period met)": fmt_interval(row["p_period_met"], 0),
            "verdict": row["verdict"],
            "in words": row["words"] + (f" — {row['note']}" if row.get("note") else ""),
        }
        for row in rows
    ]


def _optimiser_answer(answer: dict[str, Any]) -> None:
    """The optimiser's answer: its message, and the roster it reached with its cost only when
    there is one (a search that could not start or found nothing to change shows no empty
    table and no cost of 0)."""
    (st.success if answer["found"] else st.warning)(answer["message"])
    if answer["unreachable"]:
        st.info("Not reachable by staffing: " + ", ".join(answer["unreachable"]))
    searched = answer["confirmed"] is not None  # a roster was reached and re-run on fresh seeds
    stopped = not answer["found"] and answer["confirmed"] is None
    if answer["changes"]:
        st.markdown(
            "**Roster change**"
            + (" — where the search stopped, not a roster that meets every SLR" if stopped else "")
        )
        st.dataframe(
            [
                {
                    "team": c["team"],
                    "line": c["line"],
                    "agents": f"{c['agents_before']} → {c['agents_after']}",
                    "cost / month": f"{c['cost_per_month']:,.0f}",
                }
                for c in answer["changes"]
            ],
            hide_index=True,
            key="optimiser_table",
        )
    elif not searched:
        return  # nothing was changed and nothing confirmed: the message says why
    parts = [
        f"{answer['runs']} of {answer['budget_runs']} simulation runs used, "
        f"{answer['replications']} replications each, seed {answer['seed']}"
    ]
    if answer["changes"]:
        parts.append(f"cost per month {answer['cost_per_month']:,.0f} ({answer['cost_unit']})")
    else:
        parts.append("no roster change needed")
    if searched:
        parts.append(
            f"confirmed with fresh seeds: {answer['confirmed']} "
            f"(seed {answer['confirmation_seed']})"
        )
    st.caption("; ".join(parts))


@st.fragment
def targets(scenario: Scenario) -> None:
    sid = controls_id(scenario)
    left, right = st.columns([1, 3], gap="large")
    with left:
        key = f"{sid}:targets:confidence"
        confidence = st.slider(
            "Confidence: share of periods a promise must hold in",
            50,
            99,
            format="%d%%",
            key=kept(key, 80),
        )
        remember(key, confidence)
        replications, seed = replications_control(f"{sid}:targets", scenario)
    share = confidence / 100
    with right:
        try:
            results = simulated(scenario, replications, seed)
            run = model.run_key(scenario, replications, seed)
            document = cached(
                ("targets", run, share),
                lambda: achievable_targets(
                    scenario, confidence=share, results=results, options=False
                ),
            )
        except InputError as error:
            show_problems(error, "This scenario cannot be assessed:")
            return
        notice = no_tickets_notice(
            results,
            "Every SLA target reads “at risk” because no ticket could be measured, not because "
            "a target is missed, and has no achievable target.",
        )
        if notice:
            st.warning(notice)
        if not document["sla"]:
            st.info(NO_SLA_TARGETS)
        else:
            st.markdown(
                f"#### Service level requirements — {document['replications']} replications, "
                f"seed {seed}, confidence {confidence}%"
            )
            st.caption(
                "Achievable target: the time met in the chosen share of periods, with its 95% "
                "interval (an upper end shown as … lies beyond the longest time the runs "
                "measured: more replications narrow it); verdict from the 95% interval of "
                "P(period met)."
            )
            st.dataframe(
                _verdict_rows(document["sla"]),
                hide_index=True,
                height=table_height(len(document["sla"])),
                key="slr_table",
            )
        if document["availability"]:
            st.markdown(
                f"#### Availability — {document['replications']} replications, "
                f"seed {seed}, confidence {confidence}%"
            )
            st.caption(
                f"Achievable: the highest availability reached in at least {confidence}% of "
                f"the full periods of all {document['replications']} replications (a quantile "
                "of the periods, without an interval); availability: the mean with its 95% "
                "interval; verdict from the 95% interval of P(period met)."
            )
            st.dataframe(
                [
                    {
                        "service": row["service"],
                        "target": format_percent(row["target"]),
                        "achievable": fmt_pct(row["achievable"], 3),
                        "availability": fmt_interval(row["availability"], 3),
                        "P(period met)": fmt_interval(row["p_period_met"], 0),
                        "verdict": row["verdict"],
                    }
                    for row in document["availability"]
                ],
                hide_index=True,
                key="availability_table",
            )
    if not document["sla"]:
        return  # the staffing options and the optimiser work towards SLA targets
    options_tab, optimiser_tab = st.tabs(["Staffing options", "Optimiser"])
    with options_tab:
        st.caption(
            "One or two agents more on the busiest line of the team that holds each target's "
            "tickets longest; every option runs with the same seed, which pairs the runs only "
            "while tickets flow one way: compare options through their intervals (… as in "
            "the table above)."
        )
        wanted = f"options:{run}:{share}"
        if st.button("Run the staffing options", key="run_options"):
            st.session_state[wanted] = True
        if st.session_state.get(wanted):
            try:
                # one or two agents more per team, each a run of its own
                model.check_search(
                    scenario, replications, 2 * len(scenario.teams) + 1, "The staffing options"
                )
                options = with_progress(
                    "Staffing options",
                    ("options", run, share),
                    lambda progress: achievable_targets(
                        scenario,
                        confidence=share,
                        results=results,
                        executor=executor(),
                        progress=progress,
                        options=True,
                    ),
                )
            except InputError as error:
                show_problems(error, "The options cannot be run:")
                return
            labels = [sla_label(row) for row in options["sla"]]
            st.caption(
                f"Each option: {options['replications']} replications, seed {seed}, confidence "
                f"{confidence}%; intervals 95%."
            )
            st.dataframe(
                [
                    {
                        "SLR": labels[row["target_index"]],
                        "team": row["team"] or "—",
                        "agents added": row["agents"],
                        "on line": row["line"] or "—",
                        "achievable target [95%]": achievable_text(row, _hours),
                        "P(period met)": fmt_interval(row["p_period_met"], 0),
                        "verdict": row["verdict"],
                        "added cost / month": (
                            f"{row['added_cost_per_month']:,.0f}"
                            if row["added_cost_per_month"] is not None
                            else "—"
                        ),
                        "note": row.get("note") or "",
                    }
                    for row in options["options"]
                ],
                hide_index=True,
                key="options_table",
            )
    with optimiser_tab:
        st.caption(
            "The cheapest roster change that makes every SLR achievable: a quick-estimate "
            "start, refined by simulation, confirmed with fresh seeds."
        )
        key = f"{sid}:budget"
        budget = st.slider(
            "Simulation runs it may spend", 5, 60, value=kept_default(key, 20), key=key
        )
        remember(key, budget)
        wanted = f"optimise:{run}:{share}:{budget}"
        if st.button("Find the cheapest roster", key="run_optimiser"):
            st.session_state[wanted] = True
        if st.session_state.get(wanted):
            try:
                model.check_search(scenario, replications, budget + 1, "The optimiser")
                answer = with_progress(
                    "Searching rosters",
                    ("optimise", run, share, budget),
                    lambda progress: optimize_staffing(
                        scenario,
                        confidence=share,
                        budget_runs=budget,
                        replications=replications,
                        seed=seed,
                        executor=executor(),
                        progress=progress,
                    ),
                )
            except InputError as error:
                show_problems(error, "The optimiser cannot run:")
                return
            _optimiser_answer(answer)


targets(scenario)
