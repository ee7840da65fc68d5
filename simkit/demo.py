"""``simkit demo``: the whole pipeline, headless, on the bundled examples and the bundled sample
history — validate and simulate every example, what can be promised, whether the OLAs underpin
the SLA, what a change does, then import, review, calibrate and back-test the sample history, and
write the negotiation brief and the review pack. Everything it writes goes to one folder."""

from __future__ import annotations

import datetime as dt
import functools
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from simkit.errors import InputError
from simkit.resources import calibration_dir, example_scenarios
from simkit.scenario import Scenario, load_scenario
from simkit.scenario.describe import describe_scenario
from simkit.units import format_percent

__all__ = ["DEMO_REPLICATIONS", "run_demo"]

DEMO_REPLICATIONS = 5
SAMPLE = ("sample", "servicenow_incidents.csv.gz")


def run_demo(*, json_output: bool = False, out: Path | None = None) -> int:
    """Run the pipeline; write its files into ``out`` (default ``demo-output``). Exit code."""
    out = out or Path("demo-output")
    out.mkdir(parents=True, exist_ok=True)
    say: Callable[[str], None] = (lambda _: None) if json_output else print
    document: dict[str, Any] = {"out": str(out), "steps": []}
    failed = 0

    def step(name: str, action: Callable[[], Any]) -> Any:
        nonlocal failed
        say(f"\n== {name}")
        try:
            result = action()
        except InputError as error:
            failed += 1
            document["steps"].append({"step": name, "errors": error.as_json()["errors"]})
            print(error.describe(), file=sys.stderr)
            return None
        document["steps"].append({"step": name, "ok": True})
        return result

    scenarios: dict[str, Scenario] = {}
    for path in example_scenarios():
        scenario = step(f"validate {path.name}", functools.partial(load_scenario, path))
        if scenario is not None:
            scenarios[path.stem] = scenario
            _simulate(scenario, out / path.stem, say, json_output, document)

    desk = scenarios.get("corporate_service_desk")
    slr = scenarios.get("new_service_slr")
    chain = scenarios.get("ola_uc_chain")
    if slr is not None:
        step("what can we promise? (simkit targets)", lambda: _targets(slr, say, document))
    if chain is not None:
        step(
            "do the OLAs and UCs underpin the SLA? (simkit ola)", lambda: _ola(chain, say, document)
        )
    if desk is not None:
        step("what does this change do? (simkit impact)", lambda: _impact(desk, say, document))
        step(
            "service review of the sample history (simkit review)",
            lambda: _review(desk, out, say, document),
        )
    step("calibrate and back-test the sample history", lambda: _calibrate(out, say, document))
    step(
        "the next quarter from the open backlog (simkit calibrate --backlog)",
        lambda: _forward(out, say, document),
    )
    if desk is not None:
        step(
            "negotiation brief and review pack (simkit report)",
            lambda: _reports(desk, out, say, document),
        )
    (out / "demo.json").write_text(json.dumps(document, indent=2, default=str))
    if json_output:
        print(json.dumps(document, indent=2, default=str))
    else:
        print(f"\nfiles written to {out}/")
    return 2 if failed else 0


def _simulate(
    scenario: Scenario,
    folder: Path,
    say: Callable[[str], None],
    quiet: bool,
    document: dict[str, Any],
) -> None:
    from simkit.report.text import print_simulation
    from simkit.runner import simulate

    summary = describe_scenario(scenario)
    results = simulate(scenario, replications=DEMO_REPLICATIONS)
    simulated = results.summary()
    results.write(folder)
    document.setdefault("scenarios", []).append({**summary, "simulation": simulated})
    if not quiet:
        _print_summary(summary)
        print_simulation(simulated)
    say(f"tables written to {folder}/")


def _targets(scenario: Scenario, say: Callable[[str], None], document: dict[str, Any]) -> None:
    from simkit.analysis.targets import achievable_targets

    result = achievable_targets(scenario, replications=DEMO_REPLICATIONS, options=False)
    document["targets"] = result
    for row in result["sla"]:
        achievable = row["achievable_within_h"]
        shown = "—" if achievable is None else f"{achievable:.1f}h"
        say(
            f"  {row['service']} {row['priority']} {row['metric']}: proposed "
            f"{row['proposed_within_h']:g}h, achievable {shown} at {format_percent(row['goal'])} "
            f"in {format_percent(row['confidence'])} of periods — {row['verdict']}"
        )


def _ola(scenario: Scenario, say: Callable[[str], None], document: dict[str, Any]) -> None:
    from simkit.analysis.ola import ola_alignment

    result = ola_alignment(scenario, replications=DEMO_REPLICATIONS)
    document["ola"] = result
    for row in result["sla"]:
        gaps = ", ".join(row["gaps"]) or "none"
        say(
            f"  {row['service']} {row['priority']} {row['metric']} within {row['within_h']:g}h: "
            f"{'underpinned' if row['underpinned'] else 'NOT underpinned'} (gaps: {gaps})"
        )


def _impact(scenario: Scenario, say: Callable[[str], None], document: dict[str, Any]) -> None:
    from simkit.analysis.impact import change_impact

    names = [n for n in ("hire_apps", "month_end_cover") if n in scenario.changes]
    result = change_impact(scenario, names, replications=DEMO_REPLICATIONS)
    document["impact"] = {"changes": result["changes"]}
    for change in result["changes"]:
        say(f"  change {change['name']}:")
        for row in change["rows"][:6]:
            say(f"    {row['service']} {row['priority']} {row['metric']}: {row['verdict']}")


def _sample_history() -> Any:
    from simkit.calibrate import load_history

    return load_history(calibration_dir().joinpath(*SAMPLE), "servicenow", timezone="Europe/London")


def _review(
    scenario: Scenario, out: Path, say: Callable[[str], None], document: dict[str, Any]
) -> None:
    from simkit.calibrate.review import review

    history = _sample_history()
    result = review(history, scenario)
    document["review"] = {k: result[k] for k in ("span", "sla", "quality")}
    quality = result["quality"]
    say(
        f"  {quality['rows_read']:,} rows, {quality['tickets']:,} tickets; "
        f"{quality['removed_rows']:,} rows removed, each with its reason"
    )
    for row in result["sla"][:8]:
        say(
            f"  {row['service']} {row['priority']} {row['metric']}: "
            f"{format_percent(round(row['compliance']['mean'] or 0, 3))} within target"
        )


def _calibrate(out: Path, say: Callable[[str], None], document: dict[str, Any]) -> None:
    from simkit.calibrate.backtest import backtest
    from simkit.calibrate.fit import calibrate, history_between, local_midnight

    history = _sample_history()
    truth = load_scenario(calibration_dir() / "sample" / "scenario.yaml")
    cut = local_midnight(dt.date(2025, 4, 7), "Europe/London")
    fitted = calibrate(
        history_between(history, end=cut),
        scenario=truth,
        timezone="Europe/London",
        holidays="GB/ENG",
        name="Calibrated from the sample history",
    )
    (out / "calibrated.yaml").write_text(fitted.yaml, encoding="utf-8")
    say(f"  fitted scenario written to {out / 'calibrated.yaml'} (first quarter of the history)")
    result = backtest(
        history, fitted.scenario, start=dt.date(2025, 4, 7), replications=DEMO_REPLICATIONS
    )
    document["backtest"] = result.document
    for row in result.rows[:8]:
        sim = row["compliance_sim"]["mean"]
        say(
            f"  {row['service']} {row['priority']} {row['metric']}: history "
            f"{format_percent(round(row['compliance_hist'], 3))}, simulated "
            f"{format_percent(round(sim, 3)) if sim is not None else '—'}"
        )


def _forward(out: Path, say: Callable[[str], None], document: dict[str, Any]) -> None:
    """The sample history fitted to look forward: the run begins at the export with the
    tickets then open in the queues, and the next 13 weeks are simulated."""
    from simkit.calibrate.fit import calibrate
    from simkit.report.text import fmt_interval
    from simkit.runner import simulate

    truth = load_scenario(calibration_dir() / "sample" / "scenario.yaml")
    fitted = calibrate(
        _sample_history(),
        scenario=truth,
        timezone="Europe/London",
        name="The sample desk from its open backlog",
        backlog=True,
    )
    forward = fitted.scenario.with_patch({"horizon": "13w"})
    (out / "forward.yaml").write_text(forward.to_yaml(), encoding="utf-8")
    starting = fitted.report["backlog"]["starting_state"]
    say(
        f"  starts {starting['start']} with {starting['tickets']:,} open tickets in the queues "
        f"(scenario written to {out / 'forward.yaml'})"
    )
    for note in starting["notes"]:
        say(f"  - {note}")
    summary = simulate(forward, replications=DEMO_REPLICATIONS).summary()
    document["forward"] = {"starting_state": starting, "sla": summary["sla"]}
    for row in summary["sla"][:6]:
        say(
            f"  {row['service']} {row['priority']} {row['metric']}: "
            f"{fmt_interval(row['compliance'])} within target "
            f"({summary['replications']} replications)"
        )


def _reports(
    scenario: Scenario, out: Path, say: Callable[[str], None], document: dict[str, Any]
) -> None:
    try:
        from simkit.report.brief import write_demo_reports
    except ImportError:
        say("  (the report module is not part of this build)")
        return
    written = write_demo_reports(out)
    document["reports"] = [str(p) for p in written]
    for path in written:
        say(f"  wrote {path}")


def _print_summary(summary: dict[str, Any]) -> None:
    print(f"   {summary['scenario']}  ({summary['file']})")
    print(
        f"   from {summary['start']} for {summary['horizon']} ({summary['timezone']}), "
        f"periods: {summary['period']}, {summary['replications']} replications, seed {summary['seed']}"
        f" — the demo runs {DEMO_REPLICATIONS}"
    )
    for service in summary["services"]:
        print(
            f"   service {service['service']}: {service['per_week']:g} tickets/week → {service['entry']}"
        )
    for team in summary["teams"]:
        if team["kind"] == "supplier":
            print(f"   supplier {team['team']}: works {team['calendar'] or '24x7'}")
        else:
            print(
                f"   team {team['team']}: {team['agent_hours_per_week']:.0f} agent-hours/week, "
                f"peak {team['peak_agents']} agents, shrinkage {format_percent(team['shrinkage'])}"
            )
