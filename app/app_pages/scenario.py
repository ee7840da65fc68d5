"""Scenario page: pick an example or upload a YAML scenario; see its services, teams, rosters and
targets. Every number comes from simkit."""

from __future__ import annotations

import streamlit as st
from app_support import current_scenario, scenario_picker

from simkit.scenario.describe import describe_scenario
from simkit.units import format_percent

st.title("Scenario")
st.caption("Test service levels before you agree them.")

scenario_picker()
scenario = current_scenario()
if scenario is None:
    st.stop()

summary = describe_scenario(scenario)
st.subheader(summary["scenario"])
if scenario.description:
    st.write(scenario.description)
cols = st.columns(4)
cols[0].metric("Measured span", summary["horizon"], help=f"from {summary['start']}")
cols[1].metric("Reporting period", summary["period"])
cols[2].metric("Replications", summary["replications"])
cols[3].metric("Time zone", summary["timezone"])

st.markdown("### Services and targets")
for service in summary["services"]:
    st.markdown(
        f"**{service['service']}** — {service['per_week']:g} tickets a week "
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
        use_container_width=True,
    )

st.markdown("### Teams and suppliers")
st.dataframe(
    [
        {
            "team": team["team"],
            "kind": team["kind"],
            "roster": "; ".join(f"{line}: {n}" for line, n in team["roster"].items())
            or f"works {team['calendar'] or '24x7'}",
            "agent-hours/week": (
                round(team["agent_hours_per_week"]) if team["agent_hours_per_week"] else None
            ),
            "shrinkage": format_percent(team["shrinkage"]),
            "next": ", ".join(f"{k} {format_percent(v)}" for k, v in team["next"].items()),
            "agreement": "; ".join(f"{m} {t}" for m, t in team["agreement"].items()) or "—",
        }
        for team in summary["teams"]
    ],
    hide_index=True,
    use_container_width=True,
)

if summary["changes"]:
    st.markdown("### Changes defined in the scenario")
    st.dataframe(
        [
            {
                "change": name,
                "description": change["description"] or "",
                "window": (
                    f"{change['window']['from']} → {change['window']['until']}"
                    if change["window"]
                    else "permanent"
                ),
            }
            for name, change in summary["changes"].items()
        ],
        hide_index=True,
        use_container_width=True,
    )

st.download_button(
    "Download scenario YAML",
    scenario.to_yaml(),
    file_name="scenario.yaml",
    mime="application/x-yaml",
)
