"""``simkit demo``: the whole pipeline, headless, on the bundled examples."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from simkit.errors import InputError
from simkit.resources import example_scenarios
from simkit.scenario import load_scenario
from simkit.scenario.describe import describe_scenario
from simkit.units import format_percent

__all__ = ["run_demo"]


DEMO_REPLICATIONS = 5


def run_demo(*, json_output: bool = False, out: Path | None = None) -> int:
    """Validate, summarise and simulate every example scenario (a few replications each).
    Returns the exit code."""
    from simkit.report.text import print_simulation
    from simkit.runner import simulate

    documents: list[dict[str, Any]] = []
    failed = 0
    for path in example_scenarios():
        try:
            scenario = load_scenario(path)
        except InputError as error:
            failed += 1
            documents.append({"file": str(path), "errors": error.as_json()["errors"]})
            if not json_output:
                print(error.describe(), file=sys.stderr)
            continue
        summary = describe_scenario(scenario)
        results = simulate(scenario, replications=DEMO_REPLICATIONS)
        simulated = results.summary()
        documents.append({**summary, "simulation": simulated})
        if not json_output:
            _print_summary(summary)
            print_simulation(simulated)
        if out is not None:
            results.write(out / path.stem)
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
        (out / "scenarios.json").write_text(json.dumps(documents, indent=2, default=str))
    if json_output:
        print(json.dumps({"scenarios": documents}, indent=2, default=str))
    return 2 if failed else 0


def _print_summary(summary: dict[str, Any]) -> None:
    print(f"\n== {summary['scenario']}  ({summary['file']})")
    print(
        f"   from {summary['start']} for {summary['horizon']} ({summary['timezone']}), "
        f"periods: {summary['period']}, {summary['replications']} replications, seed {summary['seed']}"
    )
    for service in summary["services"]:
        print(
            f"   service {service['service']}: {service['per_week']:g} tickets/week → {service['entry']}"
        )
        for row in service["priorities"]:
            targets = "; ".join(
                f"{m} {row[m]}" for m in ("respond", "resolve") if row[m] is not None
            )
            print(f"     {row['priority']:<4} {format_percent(row['share']):>6}  {targets}")
    for team in summary["teams"]:
        if team["kind"] == "supplier":
            print(f"   supplier {team['team']}: works {team['calendar'] or '24x7'}")
        else:
            print(
                f"   team {team['team']}: {team['agent_hours_per_week']:.0f} agent-hours/week, "
                f"peak {team['peak_agents']} agents, shrinkage {format_percent(team['shrinkage'])}"
            )
    if summary["changes"]:
        print(f"   changes: {', '.join(summary['changes'])}")
