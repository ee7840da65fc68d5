"""Fitting a scenario from history (simkit.calibrate.fit): the fitted numbers recover a known
truth within sampling error, and whatever the history cannot identify is reported, not guessed.

The histories here are simulated by simkit itself (the tables the import side produces have the
same schema), so the truth is known. Tolerances are derived from the sample sizes (4 standard
errors); seeds are fixed only to make the tests repeatable.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest

from simkit.calibrate.fit import calibrate, history_between, history_span
from simkit.calibrate.history import History
from simkit.engine.compile import RunClock
from simkit.runner import simulate
from simkit.scenario import Scenario, parse_scenario

SMALL = """
name: fit test
start: 2026-01-05
timezone: Europe/London
horizon: 8w
warmup: 1w
drain: 0h
seed: 11
replications: 8
calendars:
  office: {hours: {mon-fri: "08:00-18:00"}}
services:
  email:
    entry: desk
    demand: {per_week: 400, profile: office}
    priorities:
      P1: {share: 10%, resolve: {within: 4h, goal: 80%}}
      P2: {share: 30%, resolve: {within: 8h, calendar: office, goal: 90%}}
      P3: {share: 60%, respond: {within: 1h, calendar: office, goal: 90%},
                       resolve: {within: 16h, calendar: office, goal: 90%}}
teams:
  desk:
    roster: {"mon-fri 08:00-18:00": 4}
    handle: {default: {lognormal: {mean: 20m, cv: 1.0}}, P1: {exponential: {mean: 45m}}}
    next: {resolved: 70%, second: 25%, pause: 5%}
    pause: {duration: {exponential: {mean: 6h}}}
  second:
    roster: {"mon-fri 09:00-17:00": 3}
    handle: {default: {gamma: {mean: 1h, cv: 0.8}}}
    next: {resolved: 90%, desk: 10%}
"""


def small_scenario(**patch: Any) -> Scenario:
    scenario = parse_scenario(SMALL)
    return scenario.with_patch(patch) if patch else scenario


def simulated_history(scenario: Scenario, seed: int = 1) -> History:
    """One replication of ``scenario`` as an export taken at the end of its horizon: tickets
    opened in the measured span, events after its end unknown."""
    results = simulate(scenario, replications=1, seed=seed)
    clock = RunClock(scenario)
    raw = History(
        tickets=results.tickets,
        visits=results.visits,
        pauses=results.pauses,
        observed_until=clock.instant(clock.end),
        timezone=scenario.timezone,
        source="simulated",
        profile="none",
        quality=None,  # type: ignore[arg-type]
    )
    return history_between(raw, clock.instant(clock.start), clock.instant(clock.horizon_end))


@pytest.fixture(scope="module")
def truth() -> Scenario:
    return small_scenario()


@pytest.fixture(scope="module")
def history(truth: Scenario) -> History:
    return simulated_history(truth)


@pytest.fixture(scope="module")
def fitted(history: History, truth: Scenario) -> Any:
    return calibrate(history, scenario=truth)


def _team(report: dict[str, Any], name: str) -> dict[str, Any]:
    return next(t for t in report["teams"] if t["team"] == name)


def test_weekly_volume_and_priority_mix_recover_the_truth(fitted: Any, history: History) -> None:
    """per_week lies within 4 Poisson standard errors of 400 and each priority share within 4
    binomial standard errors of its true share."""
    service = fitted.scenario.services["email"]
    n = fitted.report["services"][0]["tickets_in_span"]
    weeks = fitted.report["services"][0]["tickets_in_span"] / service.demand.per_week
    assert abs(service.demand.per_week - 400) <= 4 * math.sqrt(400 * weeks) / weeks
    for priority, share in {"P1": 0.10, "P2": 0.30, "P3": 0.60}.items():
        se = math.sqrt(share * (1 - share) / n)
        assert abs(service.priorities[priority].share - share) <= 4 * se + 0.001
    assert service.entry == "desk"


def test_profile_keeps_the_office_hours(history: History) -> None:
    """Arrivals only in office hours give a 7×24 profile that is zero outside them and roughly
    flat inside (each hour within 4 Poisson standard errors of the mean hour)."""
    fitted = calibrate(history)
    profile = np.asarray(fitted.scenario.services["email"].demand.profile)
    inside = np.zeros((7, 24), dtype=bool)
    inside[:5, 8:18] = True
    assert profile[~inside].sum() == 0
    weeks = 8
    rate = profile[inside]
    expected = rate.mean()
    se = math.sqrt(expected / weeks)  # tickets per hour-slot rate over ~8 occurrences
    assert np.all(np.abs(rate - expected) <= 4 * se + 0.05 * expected)


def test_profile_is_a_calendar_when_arrivals_fill_it_evenly(fitted: Any) -> None:
    """Given a scenario whose calendar 'office' holds every arrival at an even rate, the profile
    is that calendar (so its holidays, if any, get no tickets), with the evidence in a comment."""
    assert fitted.scenario.services["email"].demand.profile == "office"
    assert "fell in its open hours" in fitted.report["services"][0]["profile_note"]
    assert "profile: office" in fitted.yaml


def test_routing_and_pause_probability_recover_the_truth(fitted: Any) -> None:
    """Next-team shares of each team are within 4 binomial standard errors of the truth."""
    for name, truth in {
        "desk": {"resolved": 0.70, "second": 0.25, "pause": 0.05},
        "second": {"resolved": 0.90, "desk": 0.10},
    }.items():
        routes = _team(fitted.report, name)["routes"]
        n = sum(routes.values())
        shares = fitted.scenario.teams[name].next
        for route, p in truth.items():
            se = math.sqrt(p * (1 - p) / n)
            assert abs(shares[route] - p) <= 4 * se + 0.001, (name, route, shares[route], p)


def test_handling_times_recover_the_truth(fitted: Any) -> None:
    """Handling is measured from pick-up to hand-over: the fitted means lie within 4 standard
    errors of the true means, and P1 (45 min against 20 min) gets its own entry."""
    desk = fitted.scenario.teams["desk"]
    second = fitted.scenario.teams["second"]
    report = _team(fitted.report, "desk")
    assert report["method"] == "measured handling"
    n_default = report["handle"]["default"]["n"]
    assert "P1" in desk.handle
    n_p1 = report["handle"]["P1"]["n"]
    # the default pools every priority: 10% P1 at 45m, 90% at 20m
    pooled = 0.1 * 0.75 + 0.9 * (20 / 60)
    spread = math.sqrt(0.1 * 0.75**2 * 2 + 0.9 * (20 / 60) ** 2 * 2 - pooled**2)
    assert abs(desk.handle["default"].mean - pooled) <= 4 * spread / math.sqrt(n_default)
    assert abs(desk.handle["P1"].mean - 0.75) <= 4 * 0.75 / math.sqrt(n_p1)
    n_second = _team(fitted.report, "second")["handle"]["default"]["n"]
    assert abs(second.handle["default"].mean - 1.0) <= 4 * 0.8 / math.sqrt(n_second)
    assert abs(second.handle["default"].cv - 0.8) <= 0.15


def test_pause_duration_recovers_the_truth(fitted: Any) -> None:
    """The awaiting-user pause (exponential, mean 6 h) is fitted with censoring for pauses still
    running at the export: its mean lies within 4 standard errors."""
    pause = fitted.scenario.teams["desk"].pause
    assert pause is not None
    n = _team(fitted.report, "desk")["pause"]["n"]
    assert abs(pause.duration.mean - 6.0) <= 4 * 6.0 / math.sqrt(n)


def test_inferred_roster_gives_the_capacity(fitted: Any) -> None:
    """Agents on duty read off the concurrency of work: weekday office hours get about the true
    4 (desk) and 3 (second) agents, and the weekly agent-hours lie within 15% of the truth."""
    for name, agents, hours in (("desk", 4, range(8, 18)), ("second", 3, range(9, 17))):
        report = _team(fitted.report, name)
        by_hour = np.asarray(report["agents_by_hour"])
        busy_hours = by_hour[:5, list(hours)]
        assert abs(busy_hours.mean() - agents) <= 0.15 * agents, (name, busy_hours.mean())
        assert report["roster_source"] == "inferred"
    assumptions = " ".join(fitted.report["assumptions"])
    assert "roster inferred" in assumptions


def test_targets_are_copied_and_the_yaml_says_where_numbers_came_from(fitted: Any) -> None:
    """Targets of the given scenario are copied where names match, and the YAML carries
    comments on its fitted numbers."""
    level = fitted.scenario.services["email"].priorities["P3"]
    assert level.resolve is not None and level.resolve.within == 16
    assert level.respond is not None and level.respond.calendar == "office"
    assert "tickets over" in fitted.yaml
    assert "still open, censored" in fitted.yaml or "stretches" in fitted.yaml
    assert fitted.yaml.count("#") > 20


def test_backlog_is_reported_not_faked(fitted: Any, history: History) -> None:
    """Tickets open at the export time are reported as an optional starting state; without
    ``backlog=True`` the fitted scenario spans the history and holds no backlog."""
    open_now = int(pc.sum(pc.is_null(history.tickets["resolved_at"])).as_py())
    assert fitted.report["backlog"]["tickets"] == open_now
    assert open_now > 0
    assert "optional starting state" in fitted.report["backlog"]["note"]
    assert fitted.scenario.backlog == ()
    assert "backlog:" not in fitted.yaml


def test_backlog_option_starts_the_scenario_from_the_open_tickets(
    history: History, truth: Scenario
) -> None:
    """``backlog=True`` on an export taken at 14:30: the scenario starts at the next midnight,
    the run begins at the export (warm-up 9.5 h), and every open ticket not awaiting the user
    is in a backlog line of the team that last held it (its service's entry team if none has),
    with the mean age at the export; run, they are the only tickets opened before it."""
    export = dt.datetime(2026, 2, 25, 14, 30)  # London keeps UTC in winter
    cut = history_between(history, end=np.datetime64(export, "us"))
    fitted = calibrate(cut, scenario=truth, backlog=True)
    scenario = fitted.scenario
    assert scenario.start == dt.date(2026, 2, 26)
    assert scenario.warmup == pytest.approx(9.5)
    tickets, pauses = cut.tickets, cut.pauses
    open_rows = tickets.filter(pc.is_null(tickets["resolved_at"]))
    away = pauses.filter(
        pc.and_(pc.is_null(pauses["end"]), pc.not_equal(pauses["reason"], "reopen"))
    )
    waiting = pa.array(sorted(set(away["ticket_id"].to_pylist())), pa.int64())
    ready = open_rows.filter(pc.invert(pc.is_in(open_rows["ticket_id"], value_set=waiting)))
    assert ready.num_rows > 0
    assert sum(g.tickets for g in scenario.backlog) == ready.num_rows
    last_team: dict[int, str] = {}
    for ticket, team in zip(
        cut.visits["ticket_id"].to_pylist(), cut.visits["team"].to_pylist(), strict=True
    ):
        last_team[ticket] = team
    expected: dict[tuple[str, str], int] = {}
    for ticket, priority in zip(
        ready["ticket_id"].to_pylist(), ready["priority"].to_pylist(), strict=True
    ):
        key = (last_team.get(ticket, "desk"), priority)
        expected[key] = expected.get(key, 0) + 1
    got: dict[tuple[str, str], int] = {}
    for g in scenario.backlog:
        got[(g.team, g.priority)] = got.get((g.team, g.priority), 0) + g.tickets
    assert got == expected
    ages = [
        (export - t.replace(tzinfo=None)).total_seconds() / 3600
        for t in ready["opened_at"].to_pylist()
    ]
    lines_mean = sum(g.tickets * g.age for g in scenario.backlog) / len(ages)
    assert lines_mean == pytest.approx(sum(ages) / len(ages), rel=1e-3)
    starting = fitted.report["backlog"]["starting_state"]
    assert starting["tickets"] == ready.num_rows
    assert [n for n in starting["notes"] if "paused at the export" not in n] == []
    results = simulate(scenario.with_patch({"horizon": "1w"}), replications=1, seed=3)
    opened = [t.replace(tzinfo=None) for t in results.tickets["opened_at"].to_pylist()]
    assert sum(t < export for t in opened) == ready.num_rows  # the backlog only
    midnight = dt.datetime.combine(scenario.start, dt.time())
    assert any(export <= t < midnight for t in opened)  # the warm-up's own arrivals


def test_tickets_awaiting_the_user_at_the_export_are_left_out_of_the_backlog() -> None:
    """With long pauses many tickets open at the export await the user: they are counted in a
    note, not queued as ready work; every other open ticket is in the backlog."""
    paused = small_scenario(
        teams={
            "desk": {
                "next": {"resolved": "50%", "second": "20%", "pause": "30%"},
                "pause": {"duration": {"exponential": {"mean": "3d"}}},
            }
        }
    )
    history = simulated_history(paused)
    tickets, pauses = history.tickets, history.pauses
    open_ids = set(tickets.filter(pc.is_null(tickets["resolved_at"]))["ticket_id"].to_pylist())
    ongoing = pauses.filter(
        pc.and_(pc.is_null(pauses["end"]), pc.not_equal(pauses["reason"], "reopen"))
    )
    awaiting = open_ids & set(ongoing["ticket_id"].to_pylist())
    assert len(awaiting) >= 10
    fitted = calibrate(history, backlog=True)
    assert sum(g.tickets for g in fitted.scenario.backlog) == len(open_ids) - len(awaiting)
    # the lines' ages are those of the queued tickets, not of every open one
    export = history.observed_until.astype("datetime64[us]").astype(dt.datetime)
    ready = tickets.filter(
        pc.is_in(tickets["ticket_id"], value_set=pa.array(sorted(open_ids - awaiting), pa.int64()))
    )
    ages = [
        (export - t.replace(tzinfo=None)).total_seconds() / 3600
        for t in ready["opened_at"].to_pylist()
    ]
    backlog = fitted.scenario.backlog
    lines_mean = sum(g.tickets * g.age for g in backlog) / sum(g.tickets for g in backlog)
    assert lines_mean == pytest.approx(sum(ages) / len(ages), rel=1e-3)
    notes = fitted.report["backlog"]["starting_state"]["notes"]
    assert any(f"{len(awaiting):,} open tickets paused at the export" in n for n in notes), notes


def test_starting_state_places_what_it_can_and_says_what_it_cannot() -> None:
    """Tickets no team held wait at the entry team, as do those of a team the fit lacks (with
    a note); tickets without a priority are spread by the mix (or put in the one class of a
    service with none); tickets awaiting the user, or of a service or priority the fit lacks,
    are counted in notes — never dropped silently. "No team" and "no priority" are nulls, so
    a team named "unassigned" or a priority named "none" is one like any other."""
    from simkit.calibrate.starting import starting_state

    groups = [
        ("email", "P1", "desk", 2, 0, 10.0),
        ("email", "P1", "desk", 1, 0, 40.0),
        ("email", "P2", None, 3, 0, 5.0),
        ("email", "P2", "gone", 4, 0, 1.0),
        ("email", None, "desk", 5, 0, 1.0),
        ("email", "P9", "desk", 6, 0, 1.0),
        ("email", "P2", "desk", 8, 8, 1.0),
        ("fax", "P1", "desk", 7, 0, 1.0),
        ("chat", None, "desk", 9, 2, 1.0),
        ("post", "none", "unassigned", 10, 0, 2.0),  # a priority and a team of these names
    ]
    report = {
        "by": [
            {
                "service": s,
                "priority": p,
                "team": t,
                "tickets": n,
                "awaiting_user": w,
                "mean_age_h": a,
            }
            for s, p, t, n, w, a in groups
        ]
    }
    state = starting_state(
        report,
        export_at=np.datetime64("2027-03-31T17:00", "us"),
        history_start=dt.date(2026, 3, 31),
        zone="Europe/London",  # 18:00 local (BST): 6 h to midnight
        entries={"email": "triage", "chat": "triage", "post": "triage"},
        teams=["desk", "triage", "unassigned"],
        mixes={
            "email": {"P1": 30, "P2": 70},
            "chat": {"unprioritised": 12},
            "post": {"none": 1, "P1": 1},
        },
        unprioritised="unprioritised",
    )
    assert state.start == dt.date(2027, 4, 1)
    assert state.years_on == pytest.approx(366 / 365.25, abs=1e-3)
    lines = {(x["service"], x["team"], x["priority"]): x for x in state.lines}
    assert state.warmup_h == pytest.approx(6.0)  # the run begins at the export
    assert lines[("email", "desk", "P1")]["tickets"] == 3 + 2  # 30% of the 5 without
    assert lines[("email", "desk", "P2")]["tickets"] == 3  # 70% of them
    assert lines[("email", "triage", "P2")]["tickets"] == 7
    assert lines[("email", "triage", "P2")]["age_h"] == pytest.approx((3 * 5 + 4 * 1) / 7)
    assert lines[("chat", "desk", "unprioritised")]["tickets"] == 7
    assert lines[("post", "unassigned", "none")]["tickets"] == 10
    notes = " | ".join(state.notes)
    assert "5 open tickets without a priority are spread" in notes
    assert "6 open tickets of priority 'P9'" in notes
    assert "7 open tickets of service 'fax'" in notes
    assert "4 open tickets last held by 'gone'" in notes
    assert "10 open tickets paused at the export" in notes
    placed = sum(x["tickets"] for x in state.lines)
    assert placed + 6 + 7 + 10 == sum(g[3] for g in groups)


def _without_pickups(history: History) -> History:
    visits = history.visits
    index = visits.column_names.index("started_at")
    nulls = pa.nulls(visits.num_rows, visits.schema.field(index).type)
    return History(
        tickets=history.tickets,
        visits=visits.set_column(index, visits.schema.field(index), nulls),
        pauses=history.pauses,
        observed_until=history.observed_until,
        timezone=history.timezone,
        source=history.source,
        profile=history.profile,
        quality=history.quality,
    )


def test_without_pickup_times_a_team_is_a_delay_station_and_says_so(history: History) -> None:
    """With no started_at the handling time is not identifiable: the team becomes a delay
    station (enough agents that nobody waits, handling = observed stay) and the report says so."""
    fitted = calibrate(_without_pickups(history))
    report = _team(fitted.report, "desk")
    assert report["method"] == "delay station"
    assert any("delay station" in a and "desk" in a for a in fitted.report["assumptions"])
    stays = fitted.scenario.teams["desk"].handle["default"].mean
    assert stays > 20 / 60  # waiting included
    roster = fitted.scenario.teams["desk"].roster or {}
    assert sum(roster.values()) >= 10


def test_handling_fraction_with_given_agents(history: History) -> None:
    """With a roster given and --handling-fraction, handling is that share of the stay, and the
    assumption is written down."""
    plain = calibrate(_without_pickups(history))
    fitted = calibrate(_without_pickups(history), agents={"desk": 4}, handling_fraction=0.5)
    report = _team(fitted.report, "desk")
    assert report["method"] == "handling fraction"
    assert fitted.scenario.teams["desk"].roster == {"mon-sun 00:00-24:00": 4}
    ratio = (
        fitted.scenario.teams["desk"].handle["default"].mean
        / plain.scenario.teams["desk"].handle["default"].mean
    )
    assert ratio == pytest.approx(0.5, rel=0.02)
    assert any("--handling-fraction" in a or "handling-" in a for a in fitted.report["assumptions"])


def test_growth_is_detected_when_present() -> None:
    """A volume growing 40% a year over 28 weeks is found significant, and the estimate's 95%
    interval holds the truth."""
    scenario = small_scenario(horizon="28w", services={"email": {"demand": {"growth": "40%"}}})
    fitted = calibrate(simulated_history(scenario, seed=5))
    growth = fitted.report["services"][0]["growth"]
    assert growth["used"]
    assert growth["lo"] <= 0.4 <= growth["hi"]
    adopted = min(growth["estimate"], 1.0)  # a scenario's growth is at most 100% a year
    assert fitted.scenario.services["email"].demand.growth == pytest.approx(adopted, abs=0.001)
    # Started from the backlog, the scenario's volume moves along the trend to its new start.
    forward = calibrate(simulated_history(scenario, seed=5), backlog=True).scenario
    years = (forward.start - fitted.scenario.start).days / 365.25
    rate = fitted.scenario.services["email"].demand.per_week
    moved = forward.services["email"].demand.per_week
    assert moved == pytest.approx(rate * (1 + adopted) ** years, rel=2e-3)


def test_no_growth_is_not_adopted(history: History) -> None:
    """Without a trend in the data the test says so and growth stays 0%; over less than half a
    year no trend is adopted at all (seasons would pass for growth)."""
    fitted = calibrate(simulated_history(small_scenario(horizon="28w"), seed=6))
    growth = fitted.report["services"][0]["growth"]
    assert growth["tested"]
    assert not growth["used"]
    assert fitted.scenario.services["email"].demand.growth == 0
    assert "no significant trend" in growth["note"]
    short = calibrate(history).report["services"][0]["growth"]
    assert not short["used"] and "fewer than 175" in short["note"]


def test_holiday_effect_is_tested_and_reported() -> None:
    """Demand on an English office calendar stops on bank holidays: with --holidays GB/ENG the
    effect is significant (about −100%) and, as the arrivals fill their hours evenly, the
    profile becomes a calendar of those hours closed on the holidays; without a holiday list the
    quiet days are still pointed out."""
    scenario = small_scenario(
        start="2026-03-02",
        horizon="12w",
        calendars={
            "office": {
                "hours": {"mon-fri": "08:00-18:00"},
                "holidays": {"country": "GB", "subdivision": "ENG"},
            }
        },
    )
    fitted = calibrate(simulated_history(scenario, seed=3), holidays="GB/ENG")
    holidays = fitted.report["services"][0]["holidays"]
    assert holidays["tested"] and holidays["significant"]
    assert holidays["holidays_in_span"] >= 3  # Good Friday, Easter Monday, early May, late May
    assert holidays["effect"] < -0.9
    assert "stay quiet" in holidays["note"]
    assert fitted.scenario.services["email"].demand.profile == "email arrivals"
    arrivals = fitted.scenario.calendar("email arrivals")
    assert arrivals.holiday_country == "GB" and arrivals.open_hours_per_week == 50
    no_list = calibrate(simulated_history(scenario, seed=3))
    quiet = no_list.report["services"][0]["holidays"]
    assert "2026-04-03" in quiet.get("quiet_days", [])  # Good Friday flagged as a quiet day


def test_history_between_forgets_later_events(history: History) -> None:
    """Cutting a history at an instant keeps tickets opened before it and makes every later
    event unknown, exactly as an export taken then would show it."""
    start, _ = history_span(history)
    cut = start + np.timedelta64(21, "D")
    early = history_between(history, None, cut)
    opened = early.tickets["opened_at"].to_numpy(zero_copy_only=False).astype("datetime64[us]")
    assert (opened < cut).all()
    for table, column in (
        (early.tickets, "resolved_at"),
        (early.visits, "finished_at"),
        (early.pauses, "end"),
    ):
        values = table[column].to_numpy(zero_copy_only=False).astype("datetime64[us]")
        known = values[~np.isnat(values)]
        assert (known < cut).all()
    still_running = pc.equal(early.visits["outcome"], "open")
    assert pc.all(pc.or_(pc.invert(still_running), pc.is_null(early.visits["finished_at"]))).as_py()
    assert early.observed_until == cut


def test_a_history_of_less_than_a_week_is_refused(history: History) -> None:
    """Fitting needs at least a week of history; a shorter one fails with the fix."""
    from simkit.errors import InputError

    start, _ = history_span(history)
    short = history_between(history, None, start + np.timedelta64(3, "D"))
    with pytest.raises(InputError, match="at least a week"):
        calibrate(short)


def test_calibrate_command_writes_a_valid_scenario(tmp_path: Any, capsys: Any) -> None:
    """`simkit calibrate` on the bundled sample (first quarter) writes a scenario that loads, and
    with --json prints one document with the YAML and the report."""
    import json

    from simkit.calibrate.export import SAMPLE_FILE, sample_dir
    from simkit.cli import main
    from simkit.scenario import load_scenario

    out = tmp_path / "fitted.yaml"
    code = main(
        [
            "calibrate",
            str(sample_dir() / SAMPLE_FILE),
            "--profile",
            "servicenow",
            "--timezone",
            "Europe/London",
            "--until",
            "2025-04-07",
            "--scenario",
            str(sample_dir() / "scenario.yaml"),
            "--out",
            str(out),
            "--json",
        ]
    )
    document = json.loads(capsys.readouterr().out)
    assert code == 0
    assert document["written"] == str(out)
    assert document["report"]["span"]["until"].startswith("2025-04-06T23:00")
    scenario = load_scenario(out)
    assert set(scenario.services) == {"payroll", "workplace"}
    assert scenario.services["payroll"].priorities["P1"].resolve is not None


def test_calibrate_command_refuses_bad_input(capsys: Any) -> None:
    """A bad --agents value or a missing file exits 2 with the error as JSON."""
    import json

    from simkit.calibrate.export import SAMPLE_FILE, sample_dir
    from simkit.cli import main

    sample = str(sample_dir() / SAMPLE_FILE)
    code = main(["calibrate", sample, "--profile", "servicenow", "--agents", "desk", "--json"])
    assert code == 2
    assert "TEAM=N" in json.loads(capsys.readouterr().out)["errors"][0]["message"]
    code = main(["calibrate", "no-such-file.csv", "--profile", "servicenow", "--json"])
    assert code == 2
    assert json.loads(capsys.readouterr().out)["errors"]


def test_a_history_without_assignments_is_one_delay_station(history: History) -> None:
    """With only opened/resolved per ticket, the whole resolution is one stay at one team,
    modelled as a delay station — and the report says that is what it did."""
    bare = History(
        tickets=history.tickets,
        visits=history.visits.slice(0, 0),
        pauses=history.pauses.slice(0, 0),
        observed_until=history.observed_until,
        timezone=history.timezone,
        source=history.source,
        profile=history.profile,
        quality=history.quality,
    )
    fitted = calibrate(bare)
    assert set(fitted.scenario.teams) == {"resolver"}
    assert fitted.scenario.services["email"].entry == "resolver"
    assert _team(fitted.report, "resolver")["method"] == "delay station"
    assert any("no assignment records" in a for a in fitted.report["assumptions"])


def test_a_history_without_priorities_makes_one_class(history: History) -> None:
    """An export without priorities (no such column, or none filled in) still calibrates: each
    service's tickets form one class, and the report says so."""
    tickets = history.tickets
    index = tickets.column_names.index("priority")
    nulls = pa.nulls(tickets.num_rows, tickets.schema.field(index).type)
    fitted = calibrate(
        dataclasses.replace(
            history, tickets=tickets.set_column(index, tickets.schema.field(index), nulls)
        )
    )
    assert fitted.scenario.priority_order == ("unprioritised",)
    for service in fitted.scenario.services.values():
        assert set(service.priorities) == {"unprioritised"}
    assert any("none of its tickets has a priority" in a for a in fitted.report["assumptions"])


def test_given_agents_must_be_a_whole_number_of_one_or_more(history: History) -> None:
    """calibrate(agents={team: 0}) used to end in an internal error after the whole fit."""
    from simkit.errors import InputError

    for count in (0, -1, 2.5):
        with pytest.raises(InputError, match="agents must be a whole number"):
            calibrate(history, agents={"desk": count})  # type: ignore[dict-item]


def test_an_assumed_duration_is_commented_with_its_reason() -> None:
    """A duration assumed because nothing could be fitted (a team without a completed visit, a
    team without a pause duration) is written into the scenario with the reason."""
    from simkit.calibrate.durations import _fit_comment, _Fitted
    from simkit.distributions import Exponential

    assumed = _Fitted(Exponential(1.0), {"note": "no completed visit: 1 hour assumed"})
    assert _fit_comment(assumed, "stretches") == "no completed visit: 1 hour assumed"


@pytest.mark.slow
def test_an_export_without_its_state_column_still_calibrates(tmp_path: Any) -> None:
    """The bundled ServiceNow sample without its state column: no visit is seen to finish at
    the supplier, whose handling is then assumed — the calibration completes and says so."""
    import pyarrow.csv as pacsv

    from simkit.calibrate import load_history
    from simkit.resources import calibration_dir

    sample = calibration_dir() / "sample" / "servicenow_incidents.csv.gz"
    table = pacsv.read_csv(sample, convert_options=pacsv.ConvertOptions(strings_can_be_null=False))
    path = tmp_path / "no_state.csv"
    pacsv.write_csv(table.drop_columns(["incident_state"]), path)
    fitted = calibrate(load_history(path, "servicenow"))
    assert "no completed visit: 1 hour assumed" in fitted.yaml
    assert any("no completed visit" in a for a in fitted.report["assumptions"])


def test_a_supplier_s_time_is_fitted_in_its_calendar_hours() -> None:
    """A supplier named in the given scenario (office hours only) keeps its kind and calendar,
    and its handling is measured in that calendar's open hours: the fitted mean lies within 4
    standard errors of the true 4 business hours although the wall-clock stays are far longer."""
    scenario = small_scenario(
        teams={
            "desk": {"next": {"resolved": "60%", "second": "25%", "vendor": "10%", "pause": "5%"}},
            "vendor": {
                "kind": "supplier",
                "calendar": "office",
                "handle": {"default": {"lognormal": {"mean": "4h", "cv": 0.5}}},
            },
        }
    )
    fitted = calibrate(simulated_history(scenario, seed=8), scenario=scenario)
    vendor = fitted.scenario.teams["vendor"]
    assert vendor.kind == "supplier" and vendor.calendar == "office"
    n = _team(fitted.report, "vendor")["handle"]["default"]["n"]
    assert abs(vendor.handle["default"].mean - 4.0) <= 4 * 4.0 * 0.5 / math.sqrt(n)


def test_customer_and_corporate_targets_of_absent_priorities_are_left_out_and_said(
    history: History,
) -> None:
    """The given scenario's customer and corporate targets for a priority the history has no
    ticket of are left out of the fit — it would not validate with them — and the report and
    the YAML say which and why; targets of the priorities present are kept."""
    given = small_scenario(
        services={"email": {"priorities": {"P3": {"share": "50%"}, "P4": {"share": "10%"}}}},
        customers={
            "finance": {
                "services": {"email": "40%"},
                "priorities": {
                    "P1": {"resolve": {"within": "2h", "goal": "95%"}},
                    "P4": {"resolve": {"within": "5d", "goal": "95%"}},
                },
            },
            "hr": {
                "services": {"email": "20%"},
                "priorities": {"P4": {"resolve": {"within": "5d", "goal": "95%"}}},
            },
        },
        corporate={
            "priorities": {
                "P1": {"resolve": {"within": "8h", "goal": "99%"}},
                "P4": {"resolve": {"within": "10d", "goal": "95%"}},
            }
        },
    )
    fitted = calibrate(history, scenario=given)
    assert fitted.scenario.corporate is not None
    assert set(fitted.scenario.corporate.priorities) == {"P1"}
    assert set(fitted.scenario.customers["finance"].priorities) == {"P1"}
    assert not fitted.scenario.customers["hr"].priorities
    dropped = fitted.report["targets"]["dropped"]
    assert len(dropped) == 3, dropped
    assert all("P4" in line and "no ticket of that priority" in line for line in dropped)
    assert any(line.startswith("corporate level") for line in dropped)
    assert set(dropped) <= set(fitted.report["assumptions"])
    assert "Customer hr: targets for priority P4" in fitted.yaml


def test_corporate_level_of_only_absent_priorities_is_left_out(history: History) -> None:
    """A corporate level whose every target is for a priority the history lacks is left out
    whole, and said so."""
    given = small_scenario(
        services={"email": {"priorities": {"P3": {"share": "50%"}, "P4": {"share": "10%"}}}},
        corporate={"priorities": {"P4": {"resolve": {"within": "10d", "goal": "95%"}}}},
    )
    fitted = calibrate(history, scenario=given)
    assert fitted.scenario.corporate is None
    assert any("no corporate level remains" in line for line in fitted.report["targets"]["dropped"])


def _floored_to_the_minute(table: pa.Table) -> pa.Table:
    for i, field in enumerate(table.schema):
        if pa.types.is_timestamp(field.type):
            floored = pc.floor_temporal(table.column(i), unit="minute")
            table = table.set_column(i, field, floored)
    return table


def test_minute_stamped_short_handling_is_fitted_as_minute_readings() -> None:
    """An export stamped in whole minutes of a desk handling tickets in 3 minutes (exponential):
    every stretch reads as whole minutes, many as zero. Read as exact durations the fit was
    lognormal with a 99th percentile about a quarter too long; read as minute readings it lies
    within 4 standard errors (√2/√n, a two-parameter family) of the truth's."""
    truth = small_scenario(
        teams={
            "desk": {
                "handle": {
                    "default": {"lognormal": None, "exponential": {"mean": "3m"}},
                    "P1": None,
                }
            }
        }
    )
    exact = simulated_history(truth, seed=3)
    # the opening times keep their seconds: the clock of the work is read from the durations
    tickets = exact.tickets
    opened = tickets.column("opened_at")
    seconds = pc.add(
        pc.floor_temporal(opened, unit="minute"), pa.scalar(17_000_000, pa.duration("us"))
    )
    tickets = tickets.set_column(
        tickets.schema.get_field_index("opened_at"), "opened_at", seconds.cast(opened.type)
    )
    history = dataclasses.replace(
        exact,
        tickets=tickets,
        visits=_floored_to_the_minute(exact.visits),
        pauses=_floored_to_the_minute(exact.pauses),
    )
    fitted = calibrate(history, scenario=truth)
    report = _team(fitted.report, "desk")
    assert report["handle_detail"]["zero_durations"] > 0
    n = report["handle"]["default"]["n"]
    handle = fitted.scenario.teams["desk"].handle["default"]
    ratio = float(handle.quantile(0.99)) / (0.05 * math.log(100))
    assert abs(ratio - 1) < 4 * math.sqrt(2 / n)
    # measured against the distribution of minute readings, the fit is no "poor fit"
    assert report["handle"]["default"]["ks_statistic"] < 1.95 / math.sqrt(n)
    assert "poor fit" not in str(report["handle"]["default"].get("note"))


@pytest.mark.slow
def test_a_history_calibrates_again_against_its_own_fitted_scenario() -> None:
    """The workbench's "use as the session's scenario", then calibrate against it: fitted against
    the corporate desk (with its holidays) the scenario holds a calendar of the hours tickets
    arrive in ("workplace arrivals"); the new fit's own calendar takes another name rather than
    writing that key twice (it was a traceback)."""
    from simkit.calibrate import load_history, load_profile
    from simkit.resources import calibration_dir, examples_dir
    from simkit.scenario import load_scenario

    sample = calibration_dir() / "sample"
    london = load_profile("servicenow").with_overrides(timezone="Europe/London")
    history = load_history(sample / "servicenow_incidents.csv.gz", london)
    desk = load_scenario(examples_dir() / "corporate_service_desk.yaml")
    first = calibrate(history, scenario=desk)
    assert any(name.endswith(" arrivals") for name in first.scenario.calendars)
    again = calibrate(history, scenario=first.scenario)
    assert set(first.scenario.calendars) <= set(again.scenario.calendars)


def test_customer_shares_seen_and_copied_never_exceed_the_whole() -> None:
    """A customer seen in the history takes its observed share; one of the given scenario not
    seen keeps its share only within what the seen ones leave. In the sample finance and hr
    raise 90% of payroll's tickets: a given customer "legal" with 30% of payroll (never seen;
    finance has 40% in the given scenario) made 120%, a fitted scenario that did not validate
    (a traceback); it now gets the 10% left."""
    from simkit.calibrate import load_history, load_profile
    from simkit.resources import calibration_dir, examples_dir
    from simkit.scenario import load_scenario

    london = load_profile("servicenow").with_overrides(timezone="Europe/London")
    sample = calibration_dir() / "sample" / "servicenow_incidents.csv.gz"
    history = load_history(sample, london)
    desk = load_scenario(examples_dir() / "corporate_service_desk.yaml").with_patch(
        {
            "customers": {
                "finance": {"services": {"payroll": "40%"}},
                "legal": {"services": {"payroll": "30%"}},
            }
        }
    )
    fitted = calibrate(history, scenario=desk)
    customers = fitted.scenario.customers
    seen = float(customers["finance"].services["payroll"]) + float(
        customers["hr"].services["payroll"]
    )
    assert float(customers["legal"].services["payroll"]) == pytest.approx(1 - seen, abs=0.001)
    assert seen + float(customers["legal"].services["payroll"]) <= 1.0
