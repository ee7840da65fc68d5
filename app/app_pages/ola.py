"""OLA / UC page: do the teams' OLAs and the suppliers' UCs underpin each SLA? Routing paths and
their chained agreements, gaps, the watermelon share from simulation, and recommendations."""

from __future__ import annotations

import datetime as dt
from typing import Any

import streamlit as st
from app_support import (
    cached,
    controls_id,
    no_tickets_notice,
    replications_control,
    show_problems,
    simulated,
    table_height,
    working_scenario,
)

from simkit import app_model as model
from simkit.analysis.ola import ola_alignment, recommended_patch
from simkit.errors import InputError
from simkit.report.text import fmt_interval, fmt_pct, sla_label
from simkit.scenario import Scenario
from simkit.scenario.targets import ola_targets
from simkit.units import format_duration

st.title("OLA / UC")
st.caption(
    "Do the OLAs and UCs underpin the SLA? Met as agreed, do they deliver it — and where not, "
    "what would each team and supplier have to promise instead?"
)

scenario = working_scenario()
if scenario is None:
    st.stop()
assert scenario is not None


def _local_start(instant: str) -> str:
    """``2027-03-16T08:00:00+00:00`` → ``Tue 2027-03-16 08:00 (UTC+00:00)``: the wall-clock
    time as the check writes it, already in the scenario's time zone, with its offset (the
    repeated hour of an autumn clock change is then told apart)."""
    try:
        moment = dt.datetime.fromisoformat(instant)
    except ValueError:
        return instant
    offset = moment.strftime("%z")
    shown = f" (UTC{offset[:3]}:{offset[3:]})" if offset else ""
    return moment.strftime("%a %Y-%m-%d %H:%M") + shown


def _worst_starts(path: dict[str, Any]) -> str:
    """Each segment's worst start (segments split by pauses and reopenings, numbered where
    there are several); "—" where the agreements do not add up (a visit without one)."""
    starts = [_local_start(w) for w in path.get("worst_starts") or []]
    if path.get("ola_sum_h") is None or not starts:
        return "—"
    if len(starts) == 1:
        return starts[0]
    return "; ".join(f"segment {k}: {s}" for k, s in enumerate(starts, 1))


def _holidays(rows: list[dict[str, Any]], shown: int = 3) -> str:
    """The first ``shown`` holiday dates that close an agreement on a path, with its names."""
    if not rows:
        return "—"
    text = "; ".join(
        f"{r['date']} ({', '.join(r['agreements_closed'])} closed)" for r in rows[:shown]
    )
    return text + (f"; {len(rows) - shown} more" if len(rows) > shown else "")


def _hours(value: float | None) -> str:
    return model.fmt_hours(value)


def _yes(value: bool | None) -> str:
    return "—" if value is None else ("yes" if value else "no")


# What the page says for a scenario whose teams and suppliers have no agreement (a comment, not
# a string: streamlit's magic would write a bare string onto the page).
NO_AGREEMENTS = (
    "This scenario has no OLA or UC to check: no team has an `ola:` block and no supplier a "
    "`uc:` block, so no ticket can meet or breach one and there is no watermelon share. Add an "
    "`ola:` under a team or a `uc:` under a supplier, e.g. "
    "`ola: {resolve: {within: 4h, goal: 90%}}` (see docs/scenario-format.md, section 6, "
    '"ola and uc"), or download the scenario with the recommended agreements below.'
)


NO_RECOMMENDATION = (
    "No agreement to recommend for this target: none of its tickets was simulated, so no team's "
    "times were measured to base one on. A service with tickets (a volume above 0 per week), "
    "or more replications, gives one."
)

# A recommended agreement that fewer than this share of a team's handlings meet now is said to
# be far from what the team does (the SLA's time shared along its paths can leave each team
# minutes). A comment, not a docstring: Streamlit would write a bare string onto the page.
STRETCH = 0.5


def _measured(row: dict[str, Any]) -> bool:
    """Whether any of the target's tickets was measured against an OLA or UC (met or breached):
    without one, the watermelon share has nothing to count and is no figure."""
    counts = row.get("counts") or {}
    return bool(counts.get("olas_met") or counts.get("ola_breaches"))


def _summary_row(row: dict[str, Any]) -> dict[str, Any]:
    measured = _measured(row)
    return {
        "SLA": sla_label(row),
        "target": f"{fmt_pct(row['goal'], 0)} within {format_duration(row['within_h'])} "
        f"({row['calendar']})",
        "OLAs add up (static)": _yes(row["underpinned"]),
        "gaps": ", ".join(row["gaps"]) or "—",
        "P(SLA met | OLAs met)": fmt_interval(row.get("p_met_when_olas_met_interval")),
        "watermelon share": (
            fmt_interval(row.get("watermelon_share_interval")) if measured else "—"
        ),
        "OLA breaches with SLA met": fmt_pct(row.get("tight_share")) if measured else "—",
        "recommendation fits": _yes(row["recommended_fits"]),
    }


@st.fragment
def alignment(scenario: Scenario) -> None:
    sid = controls_id(scenario)
    with st.expander("Run settings"):
        replications, seed = replications_control(f"{sid}:ola", scenario)
    try:
        results = simulated(scenario, replications, seed)
        document = cached(
            ("ola", model.run_key(scenario, replications, seed)),
            lambda: ola_alignment(scenario, results=results),
        )
    except InputError as error:
        show_problems(error, "This scenario cannot be assessed:")
        return
    if not document["sla"]:
        st.info(
            "This scenario has no SLA target to trace through the OLAs and UCs: add a "
            "`respond:` or `resolve:` target to a priority under `services:`, e.g. "
            "`P1: {share: 100%, resolve: {within: 4h, goal: 95%}}` (see docs/scenario-format.md, "
            "section 5), or pick an example with targets."
        )
        return
    st.markdown(
        f"#### Alignment per SLA target — {document['replications']} replications, "
        f"seed {document['seed']}"
    )
    st.caption(
        "Static: along each routing path carrying at least "
        f"{fmt_pct(document['min_path_share'], 0)} of the tickets, the agreements chained from "
        "the worst start over the measured span, holidays included. Watermelon share: SLA "
        "breaches on tickets that met every OLA (the OLAs are too loose). Intervals: 95%, "
        "Wilson's on the replications' effective number of tickets."
    )
    notice = no_tickets_notice(
        results,
        "The simulated columns show “—” and no agreement can be recommended: no ticket was "
        "traced through the teams.",
    )
    if notice:
        st.warning(notice)
    if not ola_targets(scenario):
        st.info(NO_AGREEMENTS)
    st.dataframe(
        [_summary_row(r) for r in document["sla"]],
        hide_index=True,
        height=table_height(len(document["sla"])),
        key="ola_table",
    )
    labels = [sla_label(r) for r in document["sla"]]
    label = st.selectbox("Paths and recommendations for", labels, key="ola_target")
    row = document["sla"][labels.index(label)]
    paths, recommendations = st.columns(2, gap="large")
    with paths:
        st.markdown("**Routing paths**")
        if not row["paths"]:
            st.info(
                "No routing path carries at least "
                f"{fmt_pct(document['min_path_share'], 0)} of this target's tickets: none is "
                "listed, and no agreement is recommended along one."
            )
        else:
            st.dataframe(
                [
                    {
                        "path": " → ".join(p["teams"]),
                        "share": fmt_pct(p["share"]),
                        "agreements add up to": _hours(p["ola_sum_h"]),
                        "fits": _yes(p["fits"]),
                        "no agreement": ", ".join(p["missing"]) or "—",
                        "worst case starts": _worst_starts(p),
                        "holidays on the path": _holidays(p.get("holidays_differ") or []),
                    }
                    for p in row["paths"]
                ],
                hide_index=True,
                # the path first and wide enough to tell one from another
                column_config={"path": st.column_config.TextColumn(width="medium", pinned=True)},
            )
            st.caption(
                "Worst case: the sum of the agreements from the start (scenario time) at which "
                "they take longest, holidays included. Holidays on the path: dates on which a "
                "holiday closes an agreement on it but not every calendar on it — a ticket "
                "started then waits for it."
            )
        if row.get("other_share"):
            st.caption(f"Paths not listed carry {fmt_pct(row['other_share'])} of the tickets.")
    with recommendations:
        st.markdown("**Recommendations**")
        if not row["recommended"] and row["paths"]:
            st.info(NO_RECOMMENDATION)
        elif not row["recommended"]:
            st.info("No agreement to recommend: no routing path is listed for this target.")
        else:
            st.dataframe(
                [
                    {
                        "team": r["team"],
                        "agreement": f"{r['kind'].upper()} {r['metric']}",
                        "within": _hours(r["within_h"]),
                        "goal": fmt_pct(r["goal"]),
                        "calendar": r["calendar"],
                        "compliance now": fmt_pct(r.get("compliance_now")),
                    }
                    for r in row["recommended"]
                ],
                hide_index=True,
            )
            far = [
                r
                for r in row["recommended"]
                if r.get("compliance_now") is not None and r["compliance_now"] < STRETCH
            ]
            if far:
                st.warning(
                    "Far from what the teams do now: "
                    + "; ".join(
                        f"{r['team']}'s handlings meet the recommended {_hours(r['within_h'])} "
                        f"in {fmt_pct(r['compliance_now'])} of cases"
                        for r in far
                    )
                    + ". The SLA's time is shared along its paths, so a tight SLA leaves each "
                    "team little of it: check the SLA or the routing before agreeing these."
                )
        patch = recommended_patch(row)
        if patch:
            try:
                recommended = scenario.with_patch(patch, name="recommended OLAs")
            except InputError as error:
                show_problems(error, "The recommendation does not make a valid scenario:")
                return
            st.download_button(
                "Scenario with these agreements (YAML)",
                recommended.to_yaml(),
                file_name="scenario-recommended-olas.yaml",
                mime="application/x-yaml",
                on_click="ignore",
                key="download_ola_yaml",
            )
    st.download_button(
        "Alignment table (CSV)",
        model.table_bytes([_summary_row(r) for r in document["sla"]], "csv"),
        file_name="ola-alignment.csv",
        mime="text/csv",
        on_click="ignore",
        key="download_ola_csv",
    )


alignment(scenario)
