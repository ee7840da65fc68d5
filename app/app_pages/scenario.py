"""Scenario page: the what-if workbench. Move volume, growth, staffing, handling times, pause
rates and targets; see the quick estimate at once and the simulated SLA table when it is ready.
Every number comes from simkit (simkit.app_model); this page only draws."""

from __future__ import annotations

import functools
import math
from collections.abc import Hashable
from typing import Any

import instant_estimate
import streamlit as st
from app_support import (
    ahead_limit,
    anticipate,
    anticipating,
    cached,
    current_scenario,
    default_replications,
    executor,
    kept_widget,
    moved_on,
    no_tickets_notice,
    options_key,
    remember_edit,
    remember_invalid_edit,
    run_ahead,
    run_cache_key,
    scenario_id,
    shared_cache,
    show_problems,
    simulated,
    starting_run,
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
from simkit.scenario.models import MAX_SEED
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
        + (
            f" · starts with {sum(g['tickets'] for g in summary['backlog']):,} open tickets "
            "(backlog: their SLA is not measured)"
            if summary["backlog"]
            else ""
        )
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
        if summary["backlog"]:
            st.markdown(
                "**Backlog** — open when the run begins; their SLA and their visit to this "
                "team are not measured, their later visits are"
            )
            st.dataframe(summary["backlog"], hide_index=True)


describe(scenario)


WHAT_IF_TABS = ["Demand", "Staff", "Handling", "Targets", "Run"]
NO_SLA_TABLE = (
    "This scenario has no SLA target, so there is no SLA table: the queues and teams below "
    "still show how the desk runs. Add a `respond:` or `resolve:` target to a priority under "
    "`services:`, e.g. `P1: {share: 100%, resolve: {within: 4h, goal: 95%}}` (see "
    "docs/scenario-format.md, section 5), or pick an example with targets."
)
RESULT_TABS = [
    "Per period",
    "Times against targets",
    "Queues & utilisation",
    "Teams & OLAs",
    "Downloads",
]


def widget_row(shown: bool | None, columns: int) -> list[Any]:
    """The columns of one row of widgets, made only where the widgets are drawn (in a closed
    tab :func:`kept_widget` draws nothing, so the row is never used)."""
    return list(st.columns(columns)) if shown is not False else [st] * columns


def spanning(low: float, high: float, value: float, step: float = 1) -> tuple[Any, Any]:
    """A widget's range ``low … high`` widened to hold ``value`` (the scenario's own value, which
    may lie outside the usual range), the widened end on a whole ``step``."""
    if value < low:
        low = type(low)(math.floor(value / step) * step)
    if value > high:
        high = type(high)(math.ceil(value / step) * step)
    return low, high


def sliders(
    scenario: Scenario, sid: str
) -> tuple[model.Positions, int, int, float, dict[str, str]]:
    """Draw the sliders of the open tab; return their positions, replications, seed,
    confidence and the labels of the simulated axes' sliders (by axis).

    Only the open tab's widgets are drawn; a closed tab's stand at their kept values. Each
    slider change redraws this part of the page, in the browser too, and fewer widgets leave
    more of the server (and of the browser's machine) to the simulation.
    """
    controls = model.scenario_controls(scenario)
    demand, staffing, handling, targets, run = st.tabs(
        WHAT_IF_TABS, key="what_if_tab", on_change="rerun"
    )
    values: dict[str, Any] = {}
    ranges: dict[str, tuple[Any, Any]] = {"volume": (-50, 100)}
    shown: list[str] = []
    """The simulated axes whose sliders are drawn, in order (the runs made ahead move them)."""
    labels: dict[str, str] = {}

    def label(axis: str, text: str) -> str:
        labels[axis] = text
        return text

    with demand:
        if demand.open is not False:
            shown += ["volume", *(f"growth:{s.service}" for s in controls.services)]
        values["volume"] = kept_widget(
            demand.open,
            f"{sid}:volume",
            0,
            lambda key: st.slider(
                label("volume", "Volume change, every service"),
                *ranges["volume"],
                step=model.STEP["volume"],
                format="%+d%%",
                key=key,
                help="Tickets per week of every service, relative to the scenario.",
            ),
        )
        for service in controls.services:
            default = round(service.growth * 100)
            low, high = ranges[f"growth:{service.service}"] = spanning(-20, 50, default)
            values[f"growth:{service.service}"] = kept_widget(
                demand.open,
                f"{sid}:growth:{service.service}",
                default,
                lambda key, service=service, low=low, high=high: st.slider(
                    label(
                        f"growth:{service.service}",
                        f"Growth per year — {service.service} "
                        f"({service.per_week:g} tickets a week)",
                    ),
                    low,
                    high,
                    step=model.STEP["growth"],
                    format="%d%%",
                    key=key,
                ),
            )
        if controls.backlog:
            ranges["backlog"] = (0, 300)
            if demand.open is not False:
                shown.append("backlog")
            values["backlog"] = kept_widget(
                demand.open,
                f"{sid}:backlog",
                100,
                lambda key: st.slider(
                    label(
                        "backlog",
                        f"Open tickets at the start — % of the scenario's {controls.backlog:,}",
                    ),
                    *ranges["backlog"],
                    step=model.STEP["backlog"],
                    format="%d%%",
                    key=key,
                    help="The backlog: tickets already open when the run begins, in the queues "
                    "of their teams. Their own SLA is not measured; the tickets behind them "
                    "wait for them.",
                ),
            )
    with staffing:
        for team in controls.teams:
            if not team.roster:
                continue
            if staffing.open is not False:
                st.markdown(f"**{team.team}** — shrinkage {fmt_pct(team.shrinkage, 0)}")
            for line, n in team.roster:
                axis = f"agents:{team.team}:{line}"
                ranges[axis] = spanning(0, max(10, 3 * n), n)
                if staffing.open is not False:
                    shown.append(axis)
                values[axis] = kept_widget(
                    staffing.open,
                    f"{sid}:{axis}",
                    n,
                    lambda key, team=team, line=line, axis=axis: st.slider(
                        label(axis, f"{team.team}: {line}"),
                        *ranges[axis],
                        step=model.STEP["agents"],
                        key=key,
                        help="Agents rostered on this line (lines stack).",
                    ),
                )
    with handling:
        for team in controls.teams:
            ranges[f"handle:{team.team}"] = (0.5, 2.0)
            if handling.open is not False:
                shown.append(f"handle:{team.team}")
                if team.pause is not None:
                    shown.append(f"pause:{team.team}")
            values[f"handle:{team.team}"] = kept_widget(
                handling.open,
                f"{sid}:handle:{team.team}",
                1.0,
                lambda key, team=team: st.slider(
                    label(f"handle:{team.team}", f"Handling time × — {team.team}"),
                    *ranges[f"handle:{team.team}"],
                    step=model.STEP["handle"],
                    format="×%.2f",
                    key=key,
                    help=f"Scales every handling-time distribution: {team.handle}",
                ),
            )
            if team.pause is not None:
                default = round(team.pause * 100)
                ranges[f"pause:{team.team}"] = spanning(0, model.MAX_PAUSE, default)
                values[f"pause:{team.team}"] = kept_widget(
                    handling.open,
                    f"{sid}:pause:{team.team}",
                    default,
                    lambda key, team=team: st.slider(
                        label(
                            f"pause:{team.team}",
                            f"Pause rate — {team.team} (share of handlings awaiting the user)",
                        ),
                        *ranges[f"pause:{team.team}"],
                        step=model.STEP["pause"],
                        format="%d%%",
                        key=key,
                        help=f"Up to {model.MAX_PAUSE}%: at 100% no ticket would ever be resolved.",
                    ),
                )
    with targets:
        if targets.open is not False:
            st.caption(
                "Targets are measured, not simulated: changing one re-measures the same run."
            )
        chosen: dict[str, tuple[float, float]] = {}
        for target in controls.targets:
            left, right = widget_row(targets.open, 2)
            within = kept_widget(
                targets.open,
                f"{sid}:within:{target.key}",
                float(target.within_h),
                lambda key, left=left, target=target: left.number_input(
                    f"{target.label}: within (hours, {target.calendar})",
                    min_value=0.0,
                    step=0.25,
                    key=key,
                ),
            )
            default = round(target.goal * 100, 1)
            low, high = spanning(50.0, 100.0, default, 0.5)
            goal = kept_widget(
                targets.open,
                f"{sid}:goal:{target.key}",
                default,
                lambda key, right=right, target=target, low=low, high=high: right.slider(
                    f"{target.label}: goal",
                    low,
                    high,
                    step=0.5,
                    format="%.1f%%",
                    key=key,
                ),
            )
            chosen[target.key] = (
                float(within),
                model.exact(float(goal) / 100, default / 100, target.goal),
            )
    with run:
        left, middle, right = widget_row(run.open, 3)
        replications = kept_widget(
            run.open,
            f"{sid}:replications",
            default_replications(),
            lambda key: left.number_input(
                "Replications",
                min_value=2,
                max_value=model.MAX_REPLICATIONS,
                key=key,
                help="More replications give narrower intervals and take longer.",
            ),
        )
        seed = kept_widget(
            run.open,
            f"{sid}:seed",
            int(scenario.seed),
            lambda key: middle.number_input("Seed", min_value=0, max_value=MAX_SEED, key=key),
        )
        confidence = kept_widget(
            run.open,
            f"{sid}:confidence",
            80,
            lambda key: right.slider(
                "Confidence for verdicts",
                50,
                99,
                format="%d%%",
                key=key,
                help="The share of reporting periods a promise must hold in.",
            ),
        )
    positions = model.Positions(controls, values, ranges, chosen, tuple(shown))
    return positions, int(replications), int(seed), confidence / 100, labels


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
        if options:  # one or two agents more per team, each a run of its own
            runs = 2 * len(edited.measured.teams) + 2
            model.check_search(edited.measured, replications, runs, "The brief's options")
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
        positions, replications, seed, confidence, labels = sliders(scenario, sid)
    with results_column:
        try:
            edited = model.edit_scenario(scenario, positions.what_if())
        except InputError as error:
            remember_invalid_edit(scenario, error)
            show_problems(
                error,
                "These what-if values (sliders and boxes) do not make a valid scenario; "
                "change what each problem below names:",
            )
            return
        starting_run(run_cache_key(edited.run, replications, seed))
        remember_edit(scenario, edited.measured, edited.patch)
        if edited.patch:
            # Drawn only when opened: the browser's highlighter costs it about 0.5 s of processor
            # time the first time it shows code, time the simulation needs.
            patch_shown = st.expander(
                "The change, as a patch on the scenario", key="patch_expander", on_change="rerun"
            )
            if patch_shown.open is not False:
                with patch_shown:
                    st.code(model.yaml_text(edited.patch), language="yaml")
        estimate = quick(edited.measured)
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
        # The quick estimate, until the simulated table replaces it; drawn by the browser at
        # once when a slider moves to a position one step away (app/instant_estimate.py).
        instant_slot, heading = st.empty(), st.empty()
        with st.container(key=instant_estimate.TABLE_KEY):  # where the browser sees the table come
            table_slot = st.empty()
        context = instant_estimate.context_of(model.run_key(scenario, 0, 0), positions)
        here = instant_estimate.position_key(context, positions, {})
        shown_labels = [labels[axis] for axis in positions.shown]
        with instant_slot:
            instant_estimate.show(
                context,
                shown_labels,
                here,
                {here: instant_estimate.entry(estimate, "here")},
                drawn=True,
            )
        # The simulated table's heading goes out now, so that when the run ends the table is
        # the first thing sent (below).
        with heading.container():
            table_heading(replications, seed, confidence, scenario.period)
        try:
            results = simulated(edited.run, replications, seed)
        except InputError as error:
            heading.empty()
            show_problems(error, "This scenario is not simulated:")
            return
        except Exception:
            heading.empty()  # no table comes under it: Streamlit's error box stands alone
            raise
        moved_on()  # a newer position waits: its run, not this table, is what the user wants
        measured = shared_cache("measured").get_or_compute(
            measured_key(edited, replications, seed), lambda: measured_sla(results, edited)
        )
        # the SLA table first; the OLA, team and availability figures after it is shown
        head = measured.sla_summary()
        if head["failures"]:
            st.warning(
                f"{len(head['failures'])} replications failed and are left out: "
                + "; ".join(f["error"] for f in head["failures"][:3])
            )
        if not head["sla"]:
            table_slot.info(NO_SLA_TABLE)
        else:
            sla_table(head, estimate, table_slot, confidence)
        notice = no_tickets_notice(
            results,
            "Every SLA target shows 0 tickets and “at risk” because nothing could be "
            "measured, not because a target is missed.",
        )
        if notice or head["replications"] != replications:
            with heading.container():
                if notice:
                    st.warning(notice)
                table_heading(head["replications"], seed, confidence, scenario.period)
        # Nothing more is sent until the next positions' estimates are worked out: each message
        # makes the browser redraw the page, and one that comes before the table is on the
        # screen holds the table back (docs/app.md, "How fast a slider answers"). The browser
        # takes the quick estimate away as it draws the table (app/instant_estimate.js); the
        # message below does so where it cannot.
        nearby = neighbour_edits(scenario, positions, last_moved(sid, positions))
        ready = next_estimates(positions, nearby, context)
        with instant_slot:  # the estimate gives way to the simulated table; the estimates of
            # the next positions wait in the browser
            instant_estimate.show(context, shown_labels, here, ready, drawn=False)
        if head["sla"]:
            st.altair_chart(
                charts.compliance_chart(
                    head["sla"], replications=head["replications"], estimates=estimate["sla"]
                ),
                width="stretch",
            )
    moved_on()  # likewise before the figures below the table
    # Only the open tab is made (its figures, its chart in the browser); the OLA and team
    # figures are measured when their tab is opened.
    periods, times, queues, teams, files = st.tabs(
        RESULT_TABS, key="results_tab", on_change="rerun"
    )
    labels = [sla_label(sla) for sla in head["sla"]]
    if periods.open is not False:
        with periods:
            period_tab(head, labels)
    if times.open is not False:
        with times:
            times_tab(measured, labels, model.run_key(edited.measured, replications, seed))
    if queues.open is not False:
        with queues:
            queues_tab(results, estimate, model.run_key(edited.run, replications, seed))
    if teams.open is not False:
        with teams:
            teams_tab(measured.summary(), seed)
    if files.open is not False:
        with files:
            downloads(edited, measured, head)
            brief(edited, replications, seed, confidence)
    make_ahead(nearby, replications, seed, results)


def table_heading(replications: int, seed: int, confidence: float, period: str) -> None:
    """The simulated SLA table's heading and the caption that reads its columns."""
    st.markdown(f"#### Simulated SLA table — {replications} replications, seed {seed}")
    st.caption(
        "Compliance and P(period met): mean [95% interval]; verdict at "
        f"{confidence:.0%} of {period}s, from the interval; "
        "estimate: the quick estimate, for comparison."
    )


def sla_table(
    head: dict[str, Any], estimate: dict[str, Any], table_slot: Any, confidence: float
) -> None:
    """The simulated SLA table, in place of the quick estimate."""
    table = model.sla_table(head, confidence=confidence, estimate=estimate)
    table_slot.dataframe(
        table,
        hide_index=True,
        height=table_height(len(table)),
        column_order=[  # the verdict where a narrow screen shows it
            "SLA",
            "target",
            "verdict",
            "compliance",
            "P(period met)",
            "tickets",
            "p90",
            "estimate",
        ],
        key="sla_table",
    )


def measured_key(
    edited: model.EditedScenario, replications: int, seed: int
) -> tuple[str, Hashable, str]:
    """Where the run measured against the edited targets is kept: with its run's key, so that
    it is dropped with the run (:func:`app_support.shared_cache`)."""
    run = run_cache_key(edited.run, replications, seed)
    return ("measured", run, model.run_key(edited.measured, replications, seed))


def measured_sla(results: Results, edited: model.EditedScenario) -> Results:
    """The run measured against the edited targets, its SLA part measured: one per key, so
    that its SLA part and its whole summary are measured once."""
    measured = model.remeasure(results, edited.measured)
    measured.sla_summary()
    return measured


def last_moved(sid: str, positions: model.Positions) -> tuple[str, int]:
    """The slider moved last and which way (the volume slider, up, at first), noted in the
    session from one position to the next."""
    previous = st.session_state.get(f"{sid}:positions")
    st.session_state[f"{sid}:positions"] = positions.values
    moved: tuple[str, int] = st.session_state.get(f"{sid}:moved", ("volume", 1))
    if previous is not None:
        changed = [a for a, v in positions.values.items() if previous.get(a, v) != v]
        if len(changed) == 1:
            axis = changed[0]
            moved = (axis, 1 if positions.values[axis] > previous[axis] else -1)
    st.session_state[f"{sid}:moved"] = moved
    return moved


def quick(measured: Scenario) -> dict[str, Any]:
    """The quick estimate of ``measured``, cached by content: a position worked out for the
    browser ahead (:func:`next_estimates`) is not worked out again when a slider reaches it."""
    return cached(("quick", model.run_key(measured, 0, 0)), lambda: quick_estimate(measured))


def neighbour_edits(
    scenario: Scenario, positions: model.Positions, moved: tuple[str, int]
) -> list[tuple[dict[str, Any], model.EditedScenario]]:
    """The positions a user is likely to pick next (:meth:`simkit.app_model.Positions.neighbours`
    of the slider ``moved`` last), each with its edited scenario, most likely first: what the
    runs made ahead and the estimates sent ahead are made of. A position that makes no valid
    scenario is left out (the page says so when a slider gets there)."""
    out = []
    for neighbour in positions.neighbours(*moved):
        moved_on()  # a newer position waits: it comes first
        try:
            out.append((neighbour, model.edit_scenario(scenario, positions.what_if(neighbour))))
        except InputError:
            continue
    return out


def next_estimates(
    positions: model.Positions,
    nearby: list[tuple[dict[str, Any], model.EditedScenario]],
    context: str,
) -> dict[str, dict[str, Any]]:
    """The quick estimates of the positions ``nearby`` (:func:`neighbour_edits`) that a slider
    on the screen reaches, by position key, for the browser to draw the moment a slider gets
    there (app/instant_estimate.py). A few milliseconds each, cached by content."""
    out = {}
    for neighbour, edited in nearby:
        if not neighbour.keys() <= set(positions.shown):
            continue  # the slider last moved is in another tab: no key here can reach it
        estimate = quick(edited.measured)
        ((axis, value),) = neighbour.items()
        key = instant_estimate.position_key(context, positions, neighbour)
        out[key] = instant_estimate.entry(estimate, f"{axis}={value}")
    return out


def make_ahead(
    nearby: list[tuple[dict[str, Any], model.EditedScenario]],
    replications: int,
    seed: int,
    shown: Results,
) -> None:
    """Runs, and SLA tables, for the positions a user is likely to pick next (``nearby``,
    :func:`neighbour_edits`: one step either side of the slider last moved — the volume slider
    at first — then of the other sliders on the screen), made while the workers are idle, so
    that the next move finds its table ready (docs/app.md, "How fast a slider answers").
    ``shown``: the run on the screen."""
    if not anticipating():
        return
    limit = ahead_limit(shown)
    measured, runs = shared_cache("measured"), shared_cache("runs")
    jobs, new = [], 0
    for _, edited in nearby:
        if new >= limit or len(jobs) >= 2 * limit:
            break  # as many as will be made

        def then(results: Results, edited: model.EditedScenario = edited) -> Results:
            return measured.get_or_compute(
                measured_key(edited, replications, seed), lambda: measured_sla(results, edited)
            )

        job = run_ahead(edited.run, replications, seed, then)
        new += not runs.holds(job.key)
        jobs.append(job)
    anticipate(jobs, limit)


def period_tab(head: dict[str, Any], labels: list[str]) -> None:
    """Compliance per reporting period of the chosen targets."""
    if not labels:
        st.info("No SLA target: nothing is measured per period.")
        return
    rows = model.period_rows(head)
    default = [label for label in labels if not label.startswith("corporate")][:4]
    shown = st.multiselect(
        "Targets", labels, default=default, key=options_key("period_targets", labels)
    )
    st.altair_chart(
        charts.period_chart(
            [r for r in rows if r["target"] in shown], replications=head["replications"]
        ),
        width="stretch",
    )


def times_tab(measured: Results, labels: list[str], key: str) -> None:
    """The distribution of one target's measured times against the target."""
    if not labels:
        st.info("No SLA target: there are no times to set against one.")
        return
    label = st.selectbox("Target", labels, key="time_target")
    index = labels.index(label)
    rows = cached(("times", key, index), lambda: model.time_rows(measured, index))
    if rows:
        st.altair_chart(charts.time_chart(rows), width="stretch")
    else:
        st.info("No ticket of this target was measured.")


def queues_tab(results: Results, estimate: dict[str, Any], key: str) -> None:
    """Tickets waiting, utilisation or agents busy over the week, per team."""
    rows = cached(("queues", key), lambda: model.queue_rows(results, estimate))
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


def teams_tab(document: dict[str, Any], seed: int) -> None:
    """Per team utilisation and waits; the OLAs and underpinning contracts."""
    replications = document["replications"]
    st.markdown(f"**Teams** — {replications} replications, seed {seed}")
    st.caption(
        f"Point values over the {replications} replications, without an interval: utilisation "
        "is the mean over the replications of busy / available agent-hours; the waits and the "
        "abandoned share pool every visit of every replication."
    )
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


workbench(scenario)
