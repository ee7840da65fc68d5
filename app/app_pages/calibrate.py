"""Calibrate page: a ticket export (CSV, Parquet, XES) or the bundled sample → data-quality
report → fitted arrivals and distributions with goodness of fit → service review per period →
back-test → use as the session's scenario."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path
from typing import Any

import pyarrow.compute as pc
import streamlit as st
from app_support import (
    KeptUpload,
    cached,
    executor,
    kept,
    kept_default,
    kept_upload,
    options_key,
    private_copy,
    remember,
    shortened,
    show_problems,
    table_height,
    use_calibrated,
    with_progress,
    working_scenario,
)
from outage_upload import outage_records, page_problems

from simkit import app_model as model
from simkit.calibrate import History, load_history
from simkit.calibrate.backtest import TOLERANCE, backtest
from simkit.calibrate.export import sample_dir
from simkit.calibrate.fit import Calibration, calibrate
from simkit.calibrate.outages import OutageHistory
from simkit.calibrate.profiles import COLUMN_FIELDS, load_profile, profile_names
from simkit.calibrate.review import review
from simkit.errors import InputError, Problem
from simkit.report import charts
from simkit.report.text import fmt_interval, fmt_pct, sla_label
from simkit.scenario import Scenario, load_scenario

MAX_EXPORT_BYTES = 50 * 1024**2
"""Largest export upload (the uploader's limit too)."""
MAX_DECOMPRESSED_BYTES = 500 * 1024**2
"""Largest export once decompressed."""
SUFFIXES = (".csv", ".tsv", ".txt", ".parquet", ".xes", ".gz", ".xz", ".bz2")
SAMPLE = "servicenow_incidents.csv.gz"
EXPANDER = "Time zone, date format, columns"
"""The expander holding the page's overrides of the profile."""
LABELS = {"timezone": "Time zone of the export's clock times", "date_format": "Date format"}
"""Override → its text box on this page."""
UPLOADER = "history_upload"
"""The export uploader's key."""
EXPORT = "calibrate:export"
"""Session key of the export uploaded last (:class:`_Export`), this session's only: the uploader
forgets its file when the page is not shown, and cannot be given it back."""
TARGETS = ("the sample's scenario", "the session's scenario")
"""Whose targets the history is measured against."""
_IN_EXPANDER = f"under “{EXPANDER}” (right)"
_DELIMITER = (
    "this page finds the delimiter itself and cannot override it: save the export as "
    "comma-separated CSV, or calibrate it with `simkit calibrate --delimiter` on the command line"
)
REWORDED: tuple[tuple[re.Pattern[str], str], ...] = (
    (
        re.compile(
            r"(?:add columns\.\w+ to the profile or )?(?:pass|name the column with) "
            r"--column (\w+)=NAME(?: or in the profile's columns\.\w+)?"
        ),
        rf"type the export's column name in the box “\1” {_IN_EXPANDER}",
    ),
    (
        re.compile(r"--timezone overrides it"),
        f"set “{LABELS['timezone']}” {_IN_EXPANDER}",
    ),
    (
        re.compile(r"pass --date-format if"),
        f"set “{LABELS['date_format']}” {_IN_EXPANDER} if",
    ),
    (
        re.compile(r"pass --delimiter (\S+) \(or set csv\.delimiter in the profile\)"),
        _DELIMITER.replace("--delimiter", r"--delimiter \1"),
    ),
    (re.compile(r"pass --delimiter if it is wrong"), _DELIMITER),
    (re.compile(r"\(the profile's csv settings, or --delimiter\)"), f"({_DELIMITER})"),
    (
        re.compile(r"raise the limit \(--max-bytes / max_bytes=\) if the file is genuine, or "),
        f"this page reads at most {MAX_DECOMPRESSED_BYTES // 1024**2} MB once decompressed "
        "(`simkit calibrate --max-bytes` on the command line reads more); ",
    ),
)
"""Fixes that name a command-line flag, reworded in terms of this page's own controls (the
library's messages are written for the command line)."""

st.title("Calibrate")
st.caption(
    "From your own ticket history to a scenario: check the data, fit arrivals, handling and "
    "routing, review the service as it was, and back-test the model before trusting it."
)


@st.cache_resource(show_spinner=False)
def _sample(profile: str, overrides: tuple[tuple[str, str], ...]) -> History:
    """The bundled sample: its clock times are its scenario's local time (London), read so
    unless the page's time-zone box says otherwise (as ServiceNow writes the exporting user's
    zone, which no profile can know)."""
    chosen = dict(overrides)
    if not chosen.get("timezone"):
        chosen["timezone"] = load_scenario(sample_dir() / "scenario.yaml").timezone
    return _load(sample_dir() / SAMPLE, profile, chosen)


def _load(path: Path, profile: str, overrides: dict[str, str]) -> History:
    columns = {k[7:]: v for k, v in overrides.items() if k.startswith("column:") and v}
    chosen = load_profile(profile)
    if columns or overrides.get("timezone") or overrides.get("date_format"):
        chosen = chosen.with_overrides(
            timezone=overrides.get("timezone") or None,
            date_format=overrides.get("date_format") or None,
            columns=columns or None,
        )
    return load_history(path, chosen, max_bytes=MAX_DECOMPRESSED_BYTES)


def for_page(text: str) -> str:
    """A fix or message with command-line flags reworded as this page's controls."""
    for pattern, replacement in REWORDED:
        text = pattern.sub(replacement, text)
    return text


def _page_problem(problem: Problem, name: str, folder: str | None) -> Problem:
    """A problem as this page shows it: the upload's name instead of the server's temporary
    file, and fixes in terms of the page's controls rather than command-line flags."""
    file = problem.file
    if folder is not None and (file is None or file.startswith(folder)):
        file = name
    message, fix, path = problem.message, for_page(problem.fix), problem.path
    if message.startswith("command-line override: "):
        message = message.removeprefix("command-line override: ")
        label = LABELS.get(path) or (
            f"the column box “{path.removeprefix('columns.')}”"
            if path.startswith("columns.")
            else ""
        )
        if label:
            path = label
            where = f"“{label}” {_IN_EXPANDER}, or clear it to use the profile's"
            # a fix of its own (a time zone's: the likely name) is said for the box
            generic = fix == "see docs/calibration.md"
            fix = f"correct {where}" if generic else f"{fix} Correct {where}"
    elif path == "--column":
        path = "columns"
        fix += f" (the column boxes {_IN_EXPANDER})"
    message = shortened(message)
    return Problem(file=file, line=problem.line, path=path, message=message, fix=fix)


def page_error(error: InputError, name: str, folder: str | None = None) -> InputError:
    """``error`` with each problem as :func:`_page_problem` words it."""
    return InputError(_page_problem(p, name, folder) for p in error.problems)


def _uploaded(name: str, data: bytes, profile: str, overrides: dict[str, str]) -> History:
    """Parse an uploaded export from a private temporary folder, removed at once."""
    if len(data) > MAX_EXPORT_BYTES:
        raise InputError.single(
            f"{name} is {len(data):,} bytes; an export upload may have at most "
            f"{MAX_EXPORT_BYTES:,}",
            "export fewer months, or calibrate it with `simkit calibrate` on the command line",
            file=name,
        )
    with private_copy(data, name, SUFFIXES, "export") as path:
        folder = str(path.parent)
        try:
            history = _load(path, profile, overrides)
        except InputError as error:
            raise page_error(error, name, folder) from None
    # the report, the fitted scenario's name and later messages name the upload, not the
    # server's temporary file
    return dataclasses.replace(
        history, source=name, quality=dataclasses.replace(history.quality, source=name)
    )


def _forget_export() -> None:
    """Drop the kept export and what was read from it (the button *Forget this upload*)."""
    for key in (EXPORT, "history", "history_key"):
        st.session_state.pop(key, None)


def _uploader_changed() -> None:
    """The uploader's callback. Streamlit calls it only for a change the user made to the
    widget while the page is shown: an upload, or a file removed with × — then the kept export
    goes too. After a page switch the uploader is a new widget, empty without any change, so no
    call is made and the kept export stays in use; that is how the two cases are told apart."""
    if st.session_state.get(UPLOADER) is None:
        _forget_export()


def _export(upload: Any) -> KeptUpload | None:
    """The export to read: the uploader's file, kept for the session (replacing one kept
    before) when it is within the upload bound; or, when the uploader is empty, the one kept."""
    return kept_upload(upload, EXPORT, MAX_EXPORT_BYTES, _forget_export)


def _kept_choice(key: str, options: list[str], default: str) -> str:
    """A widget key (see :func:`kept`) whose kept value is one of ``options``: another
    history, or another team, may lack the name chosen before; then ``default`` is chosen."""
    kept(key, default)
    if st.session_state[key] not in options:
        st.session_state[key] = default
    return key


def _kept_index(key: str, options: list[str], default: str) -> int:
    """The index to draw a choice in a tab with (:func:`app_support.kept_default`): the kept
    value where it is one of ``options``, else ``default`` (another history, or another team,
    may lack the name chosen before)."""
    value = kept_default(key, default)
    if value not in options:
        st.session_state.pop(key, None)  # the widget's value, no longer one of its options
        value = default
    return options.index(value)


def source() -> tuple[History, Scenario | None, str, str] | None:
    """The history (sample or upload) and the scenario whose targets it is measured against."""
    left, right = st.columns(2, gap="large")
    with left:
        key = "calibrate:source"
        origin = st.radio(
            "History",
            ["bundled sample (a ServiceNow export)", "upload an export"],
            key=kept(key, "bundled sample (a ServiceNow export)"),
        )
        remember(key, origin)
        sample = origin.startswith("bundled")
        export = None
        if not sample:
            upload = st.file_uploader(
                "CSV (any delimiter, optionally .gz/.xz/.bz2), Parquet or XES",
                type=["csv", "tsv", "txt", "gz", "xz", "bz2", "parquet", "xes"],
                max_upload_size=MAX_EXPORT_BYTES // 1024**2,
                key=UPLOADER,
                on_change=_uploader_changed,
            )
            export = _export(upload)
            if upload is None and export is not None:
                st.info(f"Using the export uploaded earlier: **{export.name}**")
                st.button("Forget this upload", key="forget_upload", on_click=_forget_export)
        names = profile_names()
        key = "calibrate:profile"
        profile = st.selectbox(
            "Mapping profile",
            names,
            key=kept(key, "servicenow" if "servicenow" in names else names[0]),
            help="How the export's columns and states map to simkit's tables (calibration/).",
        )
        remember(key, profile)
    with right:
        overrides: dict[str, str] = {}
        with st.expander("Time zone, date format, columns"):
            key = "calibrate:tz"
            typed = st.text_input(
                LABELS["timezone"],
                key=kept(key, ""),
                placeholder="the sample's: Europe/London" if sample else "as the profile",
            )
            remember(key, typed)
            overrides["timezone"] = typed.strip()
            key = "calibrate:fmt"
            typed = st.text_input(
                LABELS["date_format"],
                key=kept(key, ""),
                placeholder="iso, or e.g. %d/%m/%Y %H:%M",
            )
            remember(key, typed)
            overrides["date_format"] = typed.strip()
            st.caption(
                "Map columns: the export's column name for each field (blank: the profile's)."
            )
            for field in COLUMN_FIELDS:
                key = f"calibrate:column:{field}"
                typed = st.text_input(field, key=kept(key, ""))
                remember(key, typed)
                if typed.strip():
                    overrides[f"column:{field}"] = typed.strip()
        # one choice per kind of history, so that each starts at its own default
        key = "calibrate:targets:" + ("sample" if sample else "upload")
        targets_from = st.selectbox(
            "Targets to measure against",
            TARGETS,
            key=_kept_choice(key, list(TARGETS), TARGETS[0] if sample else TARGETS[1]),
            help="Its SLA/OLA targets, calendars and reporting period are copied into the fit.",
        )
        remember(key, targets_from)
    shown = SAMPLE if sample else (export.name if export is not None else "")
    try:
        settings = f"{profile}:{sorted(overrides.items())}"
        if sample:
            history = _sample(profile, tuple(sorted(overrides.items())))
            label = f"sample: {SAMPLE}"
            identity = f"sample:{settings}"
        elif export is None:
            st.info("Upload an export, or use the bundled sample.")
            return None
        else:
            # the upload's name is part of the key: the history, its fit and review carry it,
            # and the shared cache must not show one user's file name to another
            digest, name = export.digest, export.name
            loaded = (digest, name, profile, tuple(sorted(overrides.items())))
            if st.session_state.get("history_key") != loaded:
                st.session_state["history"] = _uploaded(name, export.data, profile, overrides)
                st.session_state["history_key"] = loaded
            history = st.session_state["history"]
            label = f"uploaded: {name}"
            identity = f"upload:{digest}:{name!r}:{settings}"
    except InputError as error:
        st.session_state.pop("history_key", None)
        what = "The bundled sample" if sample else "The export"
        show_problems(page_error(error, shown), f"{what} {shown} cannot be read with this profile:")
        return None
    if targets_from == TARGETS[0]:
        scenario: Scenario | None = cached(
            ("sample scenario",), lambda: load_scenario(sample_dir() / "scenario.yaml")
        )
    else:
        scenario = working_scenario()
    return history, scenario, label, identity


def quality(history: History) -> None:
    report = history.quality
    st.markdown(
        f"**{report.rows_read:,} rows read → {report.tickets:,} tickets**; "
        f"{report.removed_rows:,} rows and {report.removed_tickets:,} tickets removed."
    )
    rows = report.as_dict()["rules"]
    st.dataframe(
        [
            {
                "finding": rule["title"],
                "action": rule["action"],
                "count": f"{rule['count']:,} {rule['unit']}",
                "fix": for_page(rule["fix"]),
                "examples": "; ".join(
                    f"row {e.get('row')} {e.get('ticket', '')} {e.get('value', '')}".strip()
                    for e in rule["examples"][:3]
                ),
            }
            for rule in rows
        ],
        hide_index=True,
        height=table_height(len(rows)),
        key="quality_table",
    )
    for note in report.notes:
        st.caption(note)


def fitted(history: History, calibration: Calibration) -> None:
    report = calibration.report
    st.caption(
        f"{report['tickets']:,} tickets, {report['visits']:,} visits from "
        f"{report['span']['from'][:10]} to {report['span']['until'][:10]} ({report['timezone']})"
    )
    services = report["services"]
    st.dataframe(
        [
            {
                "service": s["service"],
                "tickets / week": round(s["per_week"], 1),
                "first line": s["entry"],
                "growth": (
                    fmt_pct(s["growth"]["per_year"]) if s["growth"].get("used") else "not used"
                ),
                "note": s["growth"].get("note") or "",
            }
            for s in services
        ],
        hide_index=True,
    )
    names = [s["service"] for s in services]
    left, right = st.columns(2, gap="large")
    with left:
        key = "calibrate:service"
        service = st.selectbox(
            "Arrivals of", names, index=_kept_index(key, names, names[0]), key=key
        )
        remember(key, service)
        chosen = services[names.index(service)]
        st.altair_chart(
            charts.profile_chart(
                model.profile_rows(chosen["hourly_rate"]),
                title=f"{service}: tickets per hour of the week",
            ),
            width="stretch",
        )
    teams = [t for t in report["teams"] if t.get("handle")]
    with right:
        team_names = [t["team"] for t in teams]
        if team_names:
            key = "calibrate:team"
            team = st.selectbox(
                "Handling of",
                team_names,
                index=_kept_index(key, team_names, team_names[0]),
                key=key,
            )
            remember(key, team)
            entry = teams[team_names.index(team)]
            fits = entry["handle"]
            key = "calibrate:fit_priority"
            priority = st.selectbox(
                "Priority",
                list(fits),
                index=_kept_index(key, list(fits), next(iter(fits))),
                key=key,
            )
            remember(key, priority)
            rows = model.handling_fit_rows(history.visits, fits[priority], team)
            if rows:
                st.caption(
                    "Solid: the observed time in hand; dashed: each fitted family (KS distance)."
                )
                st.altair_chart(
                    charts.fit_chart(rows, title=f"{team} ({priority}): time in hand"),
                    width="stretch",
                )
    st.dataframe(
        [
            {
                "team": t["team"],
                "kind": t["kind"],
                "visits": t["visits"],
                "agent-hours / week": round(t.get("agent_hours_per_week") or 0),
                "roster": t.get("roster_source", ""),
                "handling": "; ".join(
                    f"{p}: {f['best_family']} (n={f['n']:,})" for p, f in t["handle"].items()
                ),
            }
            for t in teams
        ],
        hide_index=True,
    )
    fitted_outages = report.get("outages")
    if fitted_outages:
        st.markdown(f"**Components fitted to the outage records** ({fitted_outages['source']})")
        st.dataframe(
            [
                {
                    "component": c["component"],
                    "services": ", ".join(c["services"]),
                    "outages": c["outages"],
                    "MTBF": model.fmt_hours(c["mtbf_h"]),
                    "MTRS": model.fmt_hours(c["mtrs_h"]),
                    "still down at the export": c["still_down"],
                }
                for c in fitted_outages["components"]
            ],
            hide_index=True,
        )
        left_out = ", ".join(
            f"{row['outages']:,} {row['reason']}" for row in fitted_outages["left_out"]
        )
        st.caption(
            fitted_outages["note"][0].upper()
            + fitted_outages["note"][1:]
            + "."
            + (f" Left out: {left_out}." if left_out else "")
            + (
                f" No outage for: {', '.join(fitted_outages['without_outages'])}."
                if fitted_outages["without_outages"]
                else ""
            )
        )
    if report["assumptions"]:
        with st.expander(f"Assumptions ({len(report['assumptions'])})"):
            for line in report["assumptions"]:
                st.markdown(f"- {line}")


def _names(document: dict[str, Any], side: str) -> list[str]:
    """The names one side lacks, per kind, as the review's ``mapping`` reports them (``side``:
    ``unmatched_scenario``, the scenario's names the history has nothing for, or
    ``unmatched_history``, the history's names no target of the scenario measures)."""
    found = []
    for kind, matched in (document.get("mapping") or {}).items():
        names = matched.get(side) or []
        if names:
            label = str(kind)
            if len(names) > 1:
                label = label[:-1] + "ies" if label.endswith("y") else label + "s"
            found.append(f"{label} {', '.join(f'`{n}`' for n in names)}")
    return found


def _mismatch(document: dict[str, Any]) -> str | None:
    """A warning when targets of the scenario measured nothing in the history: its rows then
    say nothing about the service as it was (0 tickets, no compliance)."""
    lacking = _names(document, "unmatched_scenario")
    empty = [sla_label(row) for row in document["sla"] if not row["tickets"]]
    if not lacking and not empty:
        return None
    lines = []
    if lacking:
        lines.append(
            f"**The history has nothing for some names of {document['scenario']}:** "
            + "; ".join(lacking)
            + ". The targets on them measure no tickets here."
        )
    if empty:
        more = f" and {len(empty) - 10} more" if len(empty) > 10 else ""
        lines.append(
            f"**{len(empty)} of {len(document['sla'])} SLA targets measured no tickets** "
            f"({', '.join(empty[:10])}{more}): their rows say nothing about the service as it "
            "was."
        )
    lines.append(
        "Measure against a scenario named as the history is: the sample's scenario for the "
        "sample, or a scenario calibrated from this history."
    )
    return "\n\n".join(lines)


def service_review(document: dict[str, Any]) -> None:
    st.caption(
        f"The history measured against the targets of {document['scenario']} — the same "
        "measurement as the simulation's."
    )
    if not document["sla"]:
        st.info(
            f"{document['scenario']} has no SLA targets, so there are none to measure the "
            "history against: choose a scenario with targets under “Targets to measure "
            "against” (the sample's scenario, or a session's scenario that has some)."
        )
        return
    warning = _mismatch(document)
    if warning is not None:
        st.warning(warning)
    unmeasured = _names(document, "unmatched_history")
    if unmeasured:
        st.caption(
            "Not measured — the history's names that no target of the scenario covers: "
            + "; ".join(unmeasured)
            + "."
        )
    st.dataframe(
        [
            {
                "SLA": sla_label(row),
                "tickets": int(row["tickets"]),
                "compliance": fmt_pct(row["compliance"]["mean"]),
                "periods met": fmt_pct(row["p_period_met"]["mean"], 0),
                "p90": model.fmt_hours(row["quantiles_h"].get("90")),
            }
            for row in document["sla"]
        ],
        hide_index=True,
        height=table_height(len(document["sla"])),
    )
    rows = model.period_rows(document)
    labels = list(dict.fromkeys(r["target"] for r in rows))
    # kept for the session; the key changes with the targets, so a kept choice always fits
    key = options_key("review_targets", labels)
    shown = st.multiselect(
        "Targets per period", labels, default=kept_default(key, labels[:3]), key=key
    )
    remember(key, shown)
    st.altair_chart(charts.period_chart([r for r in rows if r["target"] in shown]), width="stretch")
    availability = document.get("availability") or []
    if availability:
        st.markdown("**Availability** — measured on the outage records")
        st.dataframe(
            [
                {
                    "service": row["service"],
                    "target": fmt_pct(row["target"], 2),
                    "availability": fmt_pct(row["availability"]["mean"], 2),
                    "periods met": fmt_pct(row["p_period_met"]["mean"], 0),
                    "outages per period": round(row["outages_per_period"], 1),
                    "MTBF": model.fmt_hours(row["mtbf_h"]),
                    "MTRS": model.fmt_hours(row["mtrs_h"]),
                }
                for row in availability
            ],
            hide_index=True,
        )


def back_test(history: History, calibration: Calibration, identity: str) -> None:
    st.caption(
        "The fitted scenario simulated over the history's span and measured the same way: "
        "does the model reproduce the past?"
    )
    key = "calibrate:backtest_replications"
    replications = st.number_input("Replications", 2, 50, value=kept_default(key, 10), key=key)
    remember(key, replications)
    wanted = f"backtest:{identity}:{replications}"
    if st.button("Run the back-test", key="run_backtest"):
        st.session_state[wanted] = True
    if not st.session_state.get(wanted):
        return
    try:
        # the whole back-test (every replication over the history's span) must fit the
        # server's run budget, like any run of the workbench
        model.check_backtest(history, calibration.scenario, int(replications))
        result = with_progress(
            "Back-test",
            ("backtest", identity, model.run_key(calibration.scenario, int(replications), 0)),
            lambda progress: backtest(
                history,
                calibration.scenario,
                replications=int(replications),
                executor=executor(),
                progress=progress,
            ),
        )
    except InputError as error:
        show_problems(error, "The back-test cannot run:")
        return
    rows = result.rows
    done = int(result.document.get("replications", replications))  # those that succeeded
    st.altair_chart(charts.backtest_chart(rows, replications=done), width="stretch")
    st.caption(
        f"{done} replications. Within tolerance: the history lies within "
        f"{TOLERANCE * 100:.0f} percentage points of the simulated mean, or within the "
        "replications' spread times Student's t where that is wider — a model that is right "
        "misses it for at most 1 target in 20."
    )
    st.dataframe(
        [
            {
                "SLA": sla_label(r),
                "history": fmt_pct(r["compliance_hist"]),
                "simulated": fmt_interval(r["compliance_sim"]),
                "difference": f"{(r['difference'] or 0) * 100:+.1f} pp",
                "within tolerance": "yes" if r["within_tolerance"] else "no",
            }
            for r in rows
        ],
        hide_index=True,
        height=table_height(len(rows)),
        key="backtest_table",
    )


def calibrated(
    history: History,
    scenario: Scenario | None,
    identity: str,
    outages: OutageHistory | None,
    outage_id: str | None,
    *,
    backlog: bool = False,
) -> Calibration:
    """The history fitted (cached by content: the history's identity, the scenario whose
    targets it copies, the outage records and whether it starts from the open backlog)."""
    return cached(
        ("calibration", identity, scenario.to_yaml() if scenario else None, outage_id, backlog),
        lambda: calibrate(history, scenario=scenario, outages=outages, backlog=backlog),
    )


def use(
    history: History,
    scenario: Scenario | None,
    identity: str,
    calibration: Calibration,
    outages: OutageHistory | None,
    outage_id: str | None,
) -> None:
    open_now = calibration.report["backlog"]["tickets"]
    key = "calibrate:backlog"
    forward = st.toggle(
        f"Start from the open backlog ({open_now:,} tickets open at the export time)",
        value=kept_default(key, False),
        key=key,
        disabled=open_now == 0,
        help="On: the scenario starts at the first midnight after the export with those tickets in "
        "the queues of the teams that last held them when the run begins, at the export (their "
        "SLA is not measured). Off: it spans the history, for comparing with what happened.",
    )
    remember(key, forward)
    if forward and open_now:
        try:
            calibration = calibrated(history, scenario, identity, outages, outage_id, backlog=True)
        except InputError as error:
            show_problems(page_error(error, history.source), "The backlog cannot be the start:")
            return
        starting = calibration.report["backlog"].get("starting_state") or {}
        st.info(
            f"Starts {starting.get('start')} with {starting.get('tickets', 0):,} open tickets "
            f"in {len(starting.get('lines', []))} backlog lines."
            + "".join(f"\n- {note}" for note in starting.get("notes", []))
        )
    st.caption("The fitted scenario; every number says where it came from.")
    st.button(
        "Use as the session's scenario",
        type="primary",
        key="use_calibrated",
        on_click=use_calibrated,
        args=(calibration.scenario,),
        help="Every page then works on it; pick an example in the sidebar to go back.",
    )
    st.download_button(
        "Fitted scenario (YAML)",
        calibration.yaml,
        file_name=f"{re.sub(r'[^a-z0-9]+', '-', calibration.scenario.name.lower())}.yaml",
        mime="application/x-yaml",
        on_click="ignore",
        key="download_calibrated",
    )
    st.code(calibration.yaml, language="yaml")


chosen = source()
if chosen is None:
    st.stop()
assert chosen is not None
history, scenario, label, identity = chosen
history_services = pc.unique(history.tickets.column("service")).drop_null().to_pylist()
outages, outage_id = outage_records(
    scenario.timezone if scenario is not None else history.timezone,
    [str(s) for s in history_services],
)
if outages is not None:
    try:
        calibrated(history, scenario, identity, outages, outage_id)
    except InputError as error:  # a fit the outage records make impossible: without them
        show_problems(
            page_problems(error, outages.source),
            f"The outage records {outages.source} cannot be fitted; fitted without them:",
        )
        outages, outage_id = None, None
try:
    calibration = calibrated(history, scenario, identity, outages, outage_id)
    document = (
        cached(
            ("review", identity, scenario.to_yaml(), outage_id),
            lambda: review(history, scenario, outages=outages),
        )
        if scenario is not None
        else None
    )
except InputError as error:
    show_problems(page_error(error, history.source), f"The history ({label}) cannot be calibrated:")
    st.stop()
st.success(
    f"Fitted: {calibration.scenario.name} — {len(calibration.scenario.services)} services, "
    f"{len(calibration.scenario.teams)} teams ({label}; clock times read in time zone "
    f"{history.timezone})."
)
dropped = calibration.report["targets"].get("dropped") or []
if dropped:
    st.warning(
        "\n".join(
            [
                f"**Targets of {scenario.name if scenario else 'the scenario'} left out of "
                "the fit:**",
                "",
                *(f"- {line}" for line in dropped),
            ]
        )
    )
tabs = st.tabs(["Data quality", "Fitted", "Service review", "Back-test", "Use as scenario"])
with tabs[0]:
    quality(history)
with tabs[1]:
    fitted(history, calibration)
with tabs[2]:
    if document is not None:
        service_review(document)
    else:
        st.info("Choose a scenario with targets to review the history against.")
with tabs[3]:
    back_test(history, calibration, f"{identity}:{outage_id}")
with tabs[4]:
    use(history, scenario, identity, calibration, outages, outage_id)
