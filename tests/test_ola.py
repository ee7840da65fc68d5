"""OLA/UC alignment: routing paths, chained agreements on the SLA's calendar, the simulated
watermelon effect, recommended agreements and the ``simkit ola`` command."""

from __future__ import annotations

import copy
import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml

from simkit.analysis.ola import (
    MIN_PATH_SHARE,
    StartWindows,
    ola_alignment,
    recommended_patch,
    routing_paths,
    start_grid,
    start_windows,
    static_alignment,
    worst_case_hours,
)
from simkit.cli import main
from simkit.scenario import Scenario, parse_scenario

ALWAYS = "mon-sun 00:00-24:00"
OFFICE_GAP_H = 62.0
"""The longest closed stretch of a Monday–Friday 08:00–18:00 calendar: Friday 18:00 to Monday
08:00."""

CHAIN: dict[str, Any] = {
    "name": "Desk and carrier",
    "start": "2027-01-04",
    "horizon": "2w",
    "warmup": "1w",
    "drain": "1w",
    "replications": 2,
    "seed": 3,
    "period": "week",
    "calendars": {"office": {"hours": {"mon-fri": "08:00-18:00"}}},
    "services": {
        "network": {
            "entry": "desk",
            "demand": {"per_week": 60},
            "priorities": {"P1": {"share": "100%", "resolve": {"within": "8h", "goal": "90%"}}},
        }
    },
    "teams": {
        "desk": {
            "roster": {ALWAYS: 10},
            "handle": {"default": {"exponential": {"mean": "5m"}}},
            "next": {"resolved": "50%", "carrier": "50%"},
            "ola": {"resolve": {"within": "1h", "goal": "90%"}},
        },
        "carrier": {
            "kind": "supplier",
            "calendar": "24x7",
            "handle": {"default": {"exponential": {"mean": "20m"}}},
            "uc": {"resolve": {"within": "12h", "goal": "90%"}},
        },
    },
}


def scenario(data: dict[str, Any], **changes: Any) -> Scenario:
    """The scenario ``data`` with dotted-path ``changes`` (``teams__carrier__uc=…``)."""
    merged = copy.deepcopy(data)
    for path, value in changes.items():
        node = merged
        keys = path.split("__")
        for key in keys[:-1]:
            node = node.setdefault(key, {})
        node[keys[-1]] = value
    return parse_scenario(yaml.safe_dump(merged), file="test.yaml")


def _only(rows: list[dict[str, Any]], metric: str = "resolve") -> dict[str, Any]:
    chosen = [r for r in rows if r["metric"] == metric]
    assert len(chosen) == 1
    return chosen[0]


# -- routing paths --------------------------------------------------------------------------------


def test_paths_follow_the_routing_shares_through_a_ping_pong_loop() -> None:
    """desk ⇄ tier2 ping-pong: each extra round trip multiplies the share by 0.4 × 0.5, paths
    below 1% are not listed, and the listed ones plus ``other_share`` make 1."""
    data = copy.deepcopy(CHAIN)
    data["teams"]["desk"]["next"] = {"resolved": "60%", "tier2": "40%"}
    data["teams"]["tier2"] = {
        "roster": {ALWAYS: 2},
        "handle": {"default": {"exponential": {"mean": "30m"}}},
        "next": {"resolved": "50%", "desk": "50%"},
    }
    del data["teams"]["carrier"]
    paths, other = routing_paths(scenario(data), "network")
    expected: dict[tuple[str, ...], float] = {}
    prefix: tuple[str, ...] = ("desk",)
    reach = 1.0
    while True:
        done = reach * 0.6
        if done < MIN_PATH_SHARE:
            break
        expected[prefix] = done
        reach_t2 = reach * 0.4
        if reach_t2 * 0.5 >= MIN_PATH_SHARE:
            expected[(*prefix, "tier2")] = reach_t2 * 0.5
        prefix = (*prefix, "tier2", "desk")
        reach = reach_t2 * 0.5
    found = {p.teams: p.share for p in paths}
    assert found.keys() == expected.keys()
    for teams, share in expected.items():
        assert found[teams] == pytest.approx(share)
    assert other == pytest.approx(1.0 - sum(expected.values()))


def test_a_pause_and_a_reopen_are_a_second_visit_after_a_break() -> None:
    """A reopen sends a resolved ticket back to the team once: a second visit of the same team
    after a break in the SLA clock, with the reopen probability."""
    data = copy.deepcopy(CHAIN)
    data["teams"]["desk"]["next"] = {"resolved": "100%"}
    data["services"]["network"]["reopen"] = {
        "probability": "10%",
        "after": {"exponential": {"mean": "1d"}},
    }
    paths, other = routing_paths(scenario(data), "network")
    found = {(p.teams, p.breaks): p.share for p in paths}
    assert found == {
        (("desk",), ()): pytest.approx(0.9),
        (("desk", "desk"), (1,)): pytest.approx(0.1),
    }
    assert other == pytest.approx(0.0)


def test_corporate_paths_mix_the_services_by_their_volume_of_the_priority() -> None:
    """A corporate target covers every service with the priority, each weighted by its tickets
    of that priority per week."""
    data = copy.deepcopy(CHAIN)
    data["teams"]["desk"]["next"] = {"resolved": "100%"}
    data["teams"]["desk_b"] = copy.deepcopy(data["teams"]["desk"])
    data["services"]["branch"] = {
        "entry": "desk_b",
        "demand": {"per_week": 180},
        "priorities": {"P1": {"share": "100%"}},
    }
    data["corporate"] = {"priorities": {"P1": {"resolve": {"within": "8h", "goal": "90%"}}}}
    rows = static_alignment(scenario(data))
    corporate = next(r for r in rows if r["level"] == "corporate")
    shares = {tuple(p["teams"]): p["share"] for p in corporate["paths"]}
    assert shares == {("desk_b",): pytest.approx(0.75), ("desk",): pytest.approx(0.25)}


# -- chaining agreements --------------------------------------------------------------------------


def test_an_office_hours_agreement_on_a_24x7_sla_costs_the_longest_closed_stretch() -> None:
    """Chained on a 24x7 SLA, 1h (24x7) then 6h (office hours) is at worst 1 + 62 + 6 hours:
    the 6 office hours straddle the weekend."""
    s = scenario(CHAIN)
    office, always = s.calendar("office"), s.calendar("24x7")
    worst, parts = worst_case_hours([[(1.0, always), (6.0, office)]], always, start_grid(s))
    assert worst == pytest.approx(1.0 + OFFICE_GAP_H + 6.0)
    assert parts[0] == pytest.approx(1.0)
    assert sum(parts) == pytest.approx(worst)


def test_agreements_on_the_slas_own_calendar_simply_add_up() -> None:
    """On the SLA's own calendar chained agreements add exactly, whatever the start."""
    s = scenario(CHAIN)
    office = s.calendar("office")
    worst, _ = worst_case_hours([[(1.5, office), (6.0, office)]], office, start_grid(s))
    assert worst == pytest.approx(7.5)


def test_a_break_lets_each_segment_take_its_own_worst_start() -> None:
    """A pause between two visits stops the SLA clock for an unknown time: the worst cases of
    the two segments add."""
    s = scenario(CHAIN)
    office, always = s.calendar("office"), s.calendar("24x7")
    one, _ = worst_case_hours([[(6.0, office)]], always, start_grid(s))
    two, _ = worst_case_hours([[(6.0, office)], [(6.0, office)]], always, start_grid(s))
    assert one == pytest.approx(OFFICE_GAP_H + 6.0)
    assert two == pytest.approx(2 * one)


def test_start_instants_follow_the_demand_profile() -> None:
    """Tickets arriving only in office hours start the chain only in office hours."""
    s = scenario(CHAIN, services__network__demand={"per_week": 60, "profile": "office"})
    grid = start_grid(s, ["network"])
    assert grid.size == 5 * 10 * 4
    assert np.all(s.calendar("office").is_open(grid))


# -- the static check -----------------------------------------------------------------------------


def test_a_supplier_uc_longer_than_the_sla_breaks_it_and_is_named() -> None:
    """The carrier's 12h UC cannot underpin an 8h SLA: the path through it does not fit and the
    carrier is the gap; the desk-only path fits."""
    row = _only(static_alignment(scenario(CHAIN)))
    assert row["underpinned"] is False
    assert row["gaps"] == ["carrier"]
    paths = {tuple(p["teams"]): p for p in row["paths"]}
    assert paths[("desk",)]["fits"] is True
    assert paths[("desk", "carrier")]["fits"] is False
    assert paths[("desk", "carrier")]["ola_sum_h"] == pytest.approx(13.0)


def test_agreements_whose_sum_fits_underpin_the_sla() -> None:
    """1h + 5h fits within 8h on every path."""
    s = scenario(CHAIN, teams__carrier__uc={"resolve": {"within": "5h", "goal": "90%"}})
    row = _only(static_alignment(s))
    assert row["underpinned"] is True
    assert row["gaps"] == []
    assert max(p["ola_sum_h"] for p in row["paths"]) == pytest.approx(6.0)


def test_a_team_without_an_agreement_leaves_its_paths_unbounded() -> None:
    """Without a UC the carrier's path has no bound: it is a gap, its sum is null."""
    data = copy.deepcopy(CHAIN)
    del data["teams"]["carrier"]["uc"]
    row = _only(static_alignment(scenario(data)))
    assert row["underpinned"] is False
    assert row["gaps"] == ["carrier"]
    carrier = next(p for p in row["paths"] if "carrier" in p["teams"])
    assert carrier["ola_sum_h"] is None and carrier["missing"] == ["carrier"]


def test_a_response_target_rests_on_the_entry_teams_respond_ola_only() -> None:
    """For respond only the entry team's respond OLA counts; without it the desk is the gap."""
    data = copy.deepcopy(CHAIN)
    data["services"]["network"]["priorities"]["P1"]["respond"] = {"within": "15m", "goal": "95%"}
    row = _only(static_alignment(scenario(data)), "respond")
    assert row["underpinned"] is False and row["gaps"] == ["desk"]
    data["teams"]["desk"]["ola"]["respond"] = {"within": "10m", "goal": "95%"}
    row = _only(static_alignment(scenario(data)), "respond")
    assert row["underpinned"] is True
    assert row["paths"] == [
        {
            "teams": ["desk"],
            "share": 1.0,
            "ola_sum_h": pytest.approx(10 / 60),
            "fits": True,
            "missing": [],
            "pauses": 0,
            "worst_starts": ["2027-01-04T00:00:00+00:00"],
            "holidays_differ": [],
        }
    ]


HOLIDAY: dict[str, Any] = {
    **copy.deepcopy(CHAIN),
    "replications": 4,
    "calendars": {
        "office": {"hours": {"mon-fri": "08:00-18:00"}},
        "carrier_hours": {"hours": {"mon-fri": "08:00-18:00"}, "holidays": ["2027-01-13"]},
    },
}
HOLIDAY["services"]["network"]["priorities"]["P1"]["resolve"] = {
    "within": "8h",
    "calendar": "office",
    "goal": "90%",
}
HOLIDAY["teams"]["carrier"].update(
    calendar="carrier_hours",
    handle={"default": {"exponential": {"mean": "2h"}}},
    uc={"resolve": {"within": "6h", "calendar": "carrier_hours", "goal": "90%"}},
)
"""An 8-office-hour SLA over the desk (1h, 24x7) and a carrier (6h of its own hours, the
office's hours too) that takes Wednesday 13 January off — in the second week of the run, outside
the first Monday-to-Sunday week."""


def test_a_supplier_holiday_the_sla_calendar_works_through_breaks_the_chain() -> None:
    """Handed to the carrier on Tuesday 12 January at 12:00, its 6 hours end at the 18:00
    closing, and a finish at any time before it reopens on Thursday 08:00 still meets the UC:
    6 + 10 office hours (Wednesday is a working day for the SLA), 17 with the desk's hour. Not
    underpinned, the carrier is the gap and the holiday is named. With the same holiday on the
    office calendar, or on the office calendar alone (the SLA's clock stops, the carrier's runs),
    the agreements add up to 1 + 6 hours as on every other day and underpin the SLA."""
    row = _only(static_alignment(scenario(HOLIDAY)))
    assert row["underpinned"] is False
    assert row["gaps"] == ["carrier"]
    carrier = {tuple(p["teams"]): p for p in row["paths"]}[("desk", "carrier")]
    assert carrier["fits"] is False
    assert carrier["ola_sum_h"] == pytest.approx(17.0)
    assert carrier["worst_starts"] == ["2027-01-12T11:00:00+00:00"]
    assert carrier["holidays_differ"] == [
        {"date": "2027-01-13", "agreements_closed": ["carrier"], "sla_closed": False}
    ]
    for same in (
        {"calendars__office__holidays": ["2027-01-13"]},
        {"calendars__office__holidays": ["2027-01-13"], "calendars__carrier_hours__holidays": []},
    ):
        row = _only(static_alignment(scenario(HOLIDAY, **same)))
        assert row["underpinned"] is True and row["gaps"] == []
        assert max(p["ola_sum_h"] for p in row["paths"]) == pytest.approx(7.0)


def test_the_worst_case_over_the_measured_span_is_exact() -> None:
    """Odd opening minutes, two time zones across the spring clock changes (two weeks apart in
    America and Europe) and a holiday: the worst case over every start instant of the windows
    is at least the total at every minute of them, and within a minute of the largest."""
    data = copy.deepcopy(CHAIN)
    data.update(start="2027-03-08", horizon="3w")
    data["calendars"] = {
        "office": {"hours": {"mon-fri": "08:10-17:50"}, "holidays": ["2027-03-17"]},
        "vendor": {"hours": {"mon-fri": "09:05-16:35"}, "timezone": "America/New_York"},
    }
    s = scenario(data)
    office, vendor, always = s.calendar("office"), s.calendar("vendor"), s.calendar("24x7")
    windows = start_windows(s, ["network"])
    minutes = np.arange(windows.lo[0], windows.hi[-1], np.timedelta64(1, "m"))
    for segment, sla in (
        ([(0.75, always), (5.5, vendor), (2.2, office)], office),
        ([(1.25, office), (3.0, vendor)], always),
        ([(6.0, vendor)], office),
    ):
        exact, parts = worst_case_hours([segment], sla, windows)
        sampled, _ = worst_case_hours([segment], sla, minutes)
        assert sampled <= exact + 1e-9
        assert exact <= sampled + 1 / 60 + 1e-9
        assert sum(parts) == pytest.approx(exact)


def test_start_windows_are_the_hours_tickets_open_in_over_the_measured_span() -> None:
    """An office-hours demand profile opens tickets in the office hours of the measured span
    only (two weeks: ten days of ten hours); a flat one at any instant of it."""
    s = scenario(CHAIN, services__network__demand={"per_week": 60, "profile": "office"})
    windows = start_windows(s, ["network"])
    assert isinstance(windows, StartWindows)
    hours = (windows.hi - windows.lo) / np.timedelta64(1, "h")
    assert hours.tolist() == [10.0] * 10
    assert np.all(s.calendar("office").is_open(windows.lo))
    flat = start_windows(scenario(CHAIN), ["network"])
    assert flat.lo.tolist() == [np.datetime64("2027-01-04T00:00", "us").item()]
    assert flat.hi.tolist() == [np.datetime64("2027-01-18T00:00", "us").item()]


# -- simulation -----------------------------------------------------------------------------------


def test_fitting_agreements_mean_every_ticket_meeting_them_meets_the_sla() -> None:
    """When every path fits on the SLA's calendar, a ticket that met all its agreements met the
    SLA: P(SLA met | OLAs met) is 1 and no breach is a watermelon."""
    s = scenario(CHAIN, teams__carrier__uc={"resolve": {"within": "5h", "goal": "90%"}})
    row = _only(ola_alignment(s)["sla"])
    assert row["underpinned"] is True
    assert row["counts"]["olas_met"] > 0
    assert row["p_met_when_olas_met"] == 1.0
    assert row["watermelon_share"] in (None, 0.0)


def test_simulation_agrees_with_the_static_verdict_when_holidays_differ() -> None:
    """With the carrier off on a day the SLA's calendar works, tickets that meet the desk's OLA
    and the carrier's UC breach the SLA: P(SLA met | OLAs met) < 1 and some breaches are
    watermelons, as the static check says. With the same holiday on both calendars none is."""
    row = _only(ola_alignment(scenario(HOLIDAY))["sla"])
    assert row["underpinned"] is False
    assert row["p_met_when_olas_met"] < 1.0
    assert row["watermelon_share"] > 0.0
    assert _agree(row)
    same = scenario(HOLIDAY, calendars__office__holidays=["2027-01-13"])
    row = _only(ola_alignment(same)["sla"])
    assert row["underpinned"] is True
    assert row["counts"]["olas_met"] > 0
    assert row["p_met_when_olas_met"] == 1.0
    assert row["watermelon_share"] in (None, 0.0)
    assert _agree(row)


SLOW: dict[str, Any] = {
    "name": "Slow chain, loose OLAs",
    "start": "2027-01-04",
    "horizon": "4w",
    "warmup": "1w",
    "drain": "1w",
    "replications": 3,
    "seed": 21,
    "period": "week",
    "services": {
        "apps": {
            "entry": "desk",
            "demand": {"per_week": 100},
            "priorities": {"P1": {"share": "100%", "resolve": {"within": "4h", "goal": "90%"}}},
        }
    },
    "teams": {
        "desk": {
            "roster": {ALWAYS: 40},
            "handle": {"default": {"exponential": {"mean": "2h"}}},
            "next": {"tier2": "100%"},
            "ola": {"resolve": {"within": "8h", "goal": "90%"}},
        },
        "tier2": {
            "roster": {ALWAYS: 40},
            "handle": {"default": {"exponential": {"mean": "3h"}}},
            "ola": {"resolve": {"within": "8h", "goal": "90%"}},
        },
    },
}
"""Two teams with agents to spare (no queue): a ticket takes X + Y hours, X ~ Exp(mean 2),
Y ~ Exp(mean 3); the SLA wants 4h, each OLA allows 8h."""


def _slow_theory() -> tuple[float, float]:
    """Watermelon share and P(SLA met | OLAs met) of the slow chain, in closed form."""
    a, b, sla, ola = 2.0, 3.0, 4.0, 8.0
    within_sla = 1.0 - (b * math.exp(-sla / b) - a * math.exp(-sla / a)) / (b - a)
    both_olas = (1.0 - math.exp(-ola / a)) * (1.0 - math.exp(-ola / b))
    watermelon = (both_olas - within_sla) / (1.0 - within_sla)
    return watermelon, within_sla / both_olas


def _agree(row: dict[str, Any]) -> bool:
    """The static verdict and the simulation agree: underpinned ⇔ P(SLA met | OLAs met) is 1
    within what the tickets on unlisted paths and the sample size allow (4 standard errors of a
    rate of at most ``other_share``)."""
    n = row["counts"]["olas_met"]
    rate = max(row["other_share"], 1.0 / n)
    tolerance = row["other_share"] + 4.0 * math.sqrt(rate * (1.0 - rate) / n)
    holds = row["p_met_when_olas_met"] >= 1.0 - tolerance
    return bool(row["underpinned"]) == holds


def test_loose_olas_on_a_slow_chain_show_a_watermelon_share_as_theory_predicts() -> None:
    """With each OLA at 8h and the SLA at 4h most SLA breaches meet every OLA; the watermelon
    share and P(SLA met | OLAs met) match the closed form within 4 standard errors."""
    row = _only(ola_alignment(scenario(SLOW))["sla"])
    watermelon, p_met = _slow_theory()
    counts = row["counts"]
    se_melon = math.sqrt(watermelon * (1 - watermelon) / counts["sla_breaches"])
    se_met = math.sqrt(p_met * (1 - p_met) / counts["olas_met"])
    assert watermelon > 0.75
    assert row["watermelon_share"] == pytest.approx(watermelon, abs=4 * se_melon)
    assert row["p_met_when_olas_met"] == pytest.approx(p_met, abs=4 * se_met)
    assert row["underpinned"] is False and row["gaps"] == ["desk", "tier2"]
    assert _agree(row)


def test_without_any_agreement_there_is_no_watermelon_share() -> None:
    """With no OLA or UC on the way, no SLA breach can meet every agreement: the watermelon
    share is undefined (null), not 0%, which would read as "no problem"."""
    loose = scenario(SLOW, teams__desk__ola=None, teams__tier2__ola=None)
    row = _only(ola_alignment(loose)["sla"])
    assert row["counts"]["sla_breaches"] > 0
    assert row["watermelon_share"] is None
    assert row["watermelon_share_interval"]["mean"] is None


def test_recommended_agreements_written_back_make_static_and_simulation_agree() -> None:
    """The recommended OLAs, on the SLA's calendar, fit every path; written back into the
    scenario, the static check says underpinned and the simulation finds that tickets meeting
    them meet the SLA."""
    first = _only(ola_alignment(scenario(SLOW))["sla"])
    recs = {r["team"]: r for r in first["recommended"]}
    assert set(recs) == {"desk", "tier2"}
    assert first["recommended_fits"] is True
    assert sum(r["within_h"] for r in recs.values()) == pytest.approx(4.0, abs=2 / 3600)
    assert recs["desk"]["goal"] == pytest.approx(0.95)
    assert recs["tier2"]["within_h"] > recs["desk"]["within_h"]
    patched = scenario(SLOW).with_patch(recommended_patch(first), name="recommended")
    second = _only(ola_alignment(patched)["sla"])
    assert second["underpinned"] is True
    assert _agree(second)
    assert _agree(first)


def test_recommendations_allocate_in_proportion_to_the_goal_quantile() -> None:
    """Each team's share of the SLA follows its time at the OLA goal's quantile; for
    exponential handling without queueing that quantile is ``−mean × ln(1 − goal)``."""
    row = _only(ola_alignment(scenario(SLOW))["sla"])
    recs = {r["team"]: r for r in row["recommended"]}
    goal = recs["desk"]["goal"]
    n = row["counts"]["tickets"]
    for team, mean in (("desk", 2.0), ("tier2", 3.0)):
        theory = -mean * math.log(1.0 - goal)
        density = math.exp(-theory / mean) / mean
        se = math.sqrt(goal * (1 - goal) / n) / density
        assert recs[team]["quantile_h"] == pytest.approx(theory, abs=4 * se)


# -- the command ----------------------------------------------------------------------------------


def _write(tmp_path: Path, data: dict[str, Any]) -> Path:
    path = tmp_path / "scenario.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    return path


def test_the_ola_command_prints_json_rows_under_sla(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """``simkit ola --json`` prints one document whose ``sla`` rows carry the contract keys."""
    path = _write(tmp_path, CHAIN)
    assert main(["ola", str(path), "--json", "--replications", "1"]) == 0
    document = json.loads(capsys.readouterr().out)
    row = document["sla"][0]
    for key in (
        "service",
        "priority",
        "metric",
        "within_h",
        "underpinned",
        "gaps",
        "paths",
        "p_met_when_olas_met",
        "watermelon_share",
        "recommended",
    ):
        assert key in row
    assert set(row["paths"][0]) >= {"teams", "share", "ola_sum_h", "fits"}
    assert set(row["recommended"][0]) >= {"team", "within_h", "goal"}


def test_the_ola_command_prints_a_readable_table(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Without --json the command prints the alignment table, the failing paths and the
    recommendations."""
    path = _write(tmp_path, CHAIN)
    assert main(["ola", str(path), "--replications", "1"]) == 0
    out = capsys.readouterr().out
    assert "underpinned" in out and "carrier" in out and "13h" in out


@pytest.mark.slow
@pytest.mark.parametrize(
    "example", sorted((Path(__file__).parent.parent / "scenarios").glob("*.yaml")), ids=str
)
def test_every_example_runs_through_the_ola_command(
    example: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Every example scenario gives a JSON document with a row per SLA target, and a table."""
    assert main(["ola", str(example), "--json", "--replications", "2"]) == 0
    document = json.loads(capsys.readouterr().out)
    assert document["sla"] and all(isinstance(r["underpinned"], bool) for r in document["sla"])
    assert main(["ola", str(example), "--replications", "2"]) == 0
    assert "Do the agreements underpin the SLA?" in capsys.readouterr().out
