"""Availability page: components, redundancy, failures, repairs and maintenance; the availability
of each service per period, its distribution over simulated months and the expected credits."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import streamlit as st
from app_support import (
    cached,
    controls_id,
    kept,
    remember,
    replications_control,
    show_problems,
    simulated,
    working_scenario,
)

from simkit import app_model as model
from simkit.errors import InputError
from simkit.report import charts
from simkit.report.text import fmt_interval, fmt_pct
from simkit.scenario import Scenario
from simkit.scenario.models import MaintenanceWindow
from simkit.units import format_percent

st.title("Availability")
st.caption(
    "Components, redundancy and maintenance → the availability of each service per period, "
    "how often a period falls short, and the service credits it costs."
)

scenario = working_scenario()
if scenario is None:
    st.stop()
assert scenario is not None

if not scenario.components or not any(s.availability for s in scenario.services.values()):
    st.info(
        "This scenario has no availability target: add `components:` and an `availability:` "
        "block to a service (see docs/scenario-format.md), or pick the corporate service desk "
        "or the HR portal example."
    )
    st.stop()


def _hours(value: float | None) -> str:
    return model.fmt_hours(value)


def maintenance_text(maintenance: str | tuple[str | MaintenanceWindow, ...] | None) -> str:
    """A service's maintenance windows as the scenario gives them, in words."""
    items = [maintenance] if isinstance(maintenance, str) else list(maintenance or ())
    return "; ".join(
        item if isinstance(item, str) else f"{item.from_} until {item.until}" for item in items
    )


def per_target(
    groups: list[tuple[float, tuple[str, ...]]],
    rows: list[dict[str, Any]],
    chart: Callable[[list[dict[str, Any]], float], Any],
) -> None:
    """One chart per availability target (:func:`simkit.app_model.services_by_target`), each
    of the rows of its services with their target marked; saying whose target it is when the
    services' targets differ."""
    for target, services in groups:
        if len(groups) > 1:
            st.caption(
                f"Marked in red: the target {format_percent(target)} of {', '.join(services)}."
            )
        shown = [row for row in rows if row["service"] in services]
        st.altair_chart(chart(shown, target), width="stretch")


def component_table(
    slot: Any, controls: Sequence[model.ComponentControl], *, what_if: bool
) -> None:
    """The components, with the what-if's units, failures and repairs where ``what_if``."""
    with slot.container():
        st.markdown("#### Components" + (" — with the what-if below" if what_if else ""))
        st.dataframe(
            [
                {
                    "component": c.component,
                    "units": f"{c.needed} of {c.count} needed",
                    "time to failure (per unit)": c.fails,
                    "repair": c.repair,
                    "services": ", ".join(c.services) or "—",
                }
                for c in controls
            ],
            hide_index=True,
        )


@st.fragment
def availability(scenario: Scenario) -> None:
    sid = controls_id(scenario)
    controls = model.component_controls(scenario)
    components = st.empty()  # the components as the run below has them (the what-if applied)
    summary = st.container()
    left, right = st.columns([1, 2], gap="large")
    with left:
        st.markdown("#### What if…")
        count: dict[str, int] = {}
        needed: dict[str, int] = {}
        fails: dict[str, float] = {}
        repair: dict[str, float] = {}
        for c in controls:
            with st.expander(c.component, expanded=len(controls) <= 2):
                key = f"{sid}:count:{c.component}"
                count[c.component] = int(
                    st.slider(
                        f"{c.component}: units", 1, max(6, c.count + 3), key=kept(key, c.count)
                    )
                )
                remember(key, count[c.component])
                key = f"{sid}:needed:{c.component}"
                needed[c.component] = int(
                    st.slider(
                        f"{c.component}: units needed up",
                        1,
                        max(6, c.count + 3),
                        key=kept(key, c.needed),
                        help="The service is down when fewer units than this are up.",
                    )
                )
                remember(key, needed[c.component])
                key = f"{sid}:fails:{c.component}"
                fails[c.component] = float(
                    st.slider(
                        f"{c.component}: time to failure ×",
                        0.25,
                        4.0,
                        step=0.25,
                        format="×%.2f",
                        key=kept(key, 1.0),
                        help="2 = each unit fails half as often.",
                    )
                )
                remember(key, fails[c.component])
                if not c.repair_by_team:
                    key = f"{sid}:repair:{c.component}"
                    repair[c.component] = float(
                        st.slider(
                            f"{c.component}: repair time ×",
                            0.25,
                            4.0,
                            step=0.25,
                            format="×%.2f",
                            key=kept(key, 1.0),
                        )
                    )
                    remember(key, repair[c.component])
                else:
                    st.caption("Repaired through the team's queue: staff it on the Scenario page.")
        exclude: dict[str, bool] = {}
        for name, service in scenario.services.items():
            if service.availability is None or not service.availability.maintenance:
                continue
            key = f"{sid}:exclude:{name}"
            exclude[name] = st.toggle(
                f"{name}: maintenance windows are excluded from agreed service time",
                key=kept(key, service.availability.exclude_maintenance),
                help="The windows: "
                + maintenance_text(service.availability.maintenance)
                + " (local time; edit them under `availability: maintenance:` in the scenario).",
            )
            remember(key, exclude[name])
        replications, seed = replications_control(f"{sid}:availability", scenario)
    with right:
        try:
            patch = model.availability_patch(
                scenario,
                model.AvailabilityWhatIf(
                    count=count,
                    needed=needed,
                    fails=fails,
                    repair=repair,
                    exclude_maintenance=exclude,
                ),
            )
            edited = scenario.with_patch(patch, name="availability what-if") if patch else scenario
        except InputError as error:
            component_table(components, controls, what_if=False)
            show_problems(error, "These values do not make a valid scenario:")
            return
        component_table(components, model.component_controls(edited), what_if=bool(patch))
        try:
            results = simulated(edited, replications, seed)
        except InputError as error:
            show_problems(error, "This scenario is not simulated:")
            return
        figures = cached(
            ("availability", model.run_key(edited, replications, seed)),
            lambda: model.availability_figures(results),
        )
        with summary:
            st.markdown(f"#### Availability — {results.succeeded} replications, seed {seed}")
            st.caption(
                "Availability and P(period met): mean [95% interval]; outages, MTBF and MTRS "
                "count unplanned outages; credit in the fee's currency."
            )
        summary.dataframe(
            [
                {
                    "service": row["service"],
                    "target": format_percent(row["target"]),
                    "availability": fmt_interval(row["availability"], 3),
                    "P(period met)": fmt_interval(row["p_period_met"], 0),
                    "outages / period": (
                        f"{row['outages_per_period']:.2f}"
                        if row["outages_per_period"] is not None
                        else "—"
                    ),
                    "MTBF": _hours(row["mtbf_h"]),
                    "MTRS": _hours(row["mtrs_h"]),
                    "expected credit / period": (
                        f"{row['expected_credit']:,.0f}"
                        if row["expected_credit"] is not None
                        else "—"
                    ),
                }
                for row in figures["targets"]
            ],
            hide_index=True,
            key="availability_table",
        )
        # one chart per availability target, so that each service's own target is marked
        groups = model.services_by_target(figures)
        per_target(
            groups,
            figures["periods"],
            lambda rows, target: charts.availability_chart(
                rows, target=target, replications=results.succeeded
            ),
        )
    # Only the open tab is drawn: a slider move redraws one of them, not three.
    hist, credits, bands = st.tabs(
        ["Distribution over periods", "Credits", "Outages by length"],
        key="availability_tab",
        on_change="rerun",
    )
    if hist.open is not False:
        with hist:
            per_target(
                groups,
                figures["outcomes"],
                lambda rows, target: charts.availability_histogram(rows, target=target),
            )
    if credits.open is not False:
        with credits:
            credit_table(figures)
    if bands.open is not False:
        with bands:
            bands_table(figures, results.succeeded)


def credit_table(figures: dict[str, Any]) -> None:
    """The share of periods in each service-credit tier."""
    if not figures["credits"]:
        st.info("No credit tiers are defined (availability.credits).")
        return
    st.dataframe(
        [
            {
                "service": row["service"],
                "tier": f"below {format_percent(row['below'])}: "
                f"{format_percent(row['credit'])} of the fee",
                "share of periods": fmt_pct(row["share_of_periods"]),
                "periods simulated": row["periods"],
            }
            for row in figures["credits"]
        ],
        hide_index=True,
    )


def bands_table(figures: dict[str, Any], replications: int) -> None:
    """Unplanned outages per period by their length, with the replications they pool."""
    st.dataframe(
        [
            {
                "service": row["service"],
                **{k: "—" if v is None else f"{v:.2f}" for k, v in row["bands"].items()},
            }
            for row in figures["targets"]
            if row["bands"]
        ],
        hide_index=True,
    )
    st.caption(
        "Mean unplanned outages per full period, by their length in agreed time — mean over "
        f"{replications} replication{'' if replications == 1 else 's'} (all their full "
        "periods pooled; no interval)."
    )


availability(scenario)
