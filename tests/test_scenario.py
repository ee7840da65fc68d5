"""Scenario format: examples validate, every broken file gets a precise message, the loader never
raises anything but InputError."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from simkit.errors import InputError
from simkit.resources import example_scenarios
from simkit.scenario import json_schema, load_scenario, merge_patch, parse_scenario

BASE: dict[str, Any] = {
    "name": "Minimal desk",
    "start": "2027-01-04",
    "timezone": "Europe/London",
    "horizon": "4w",
    "calendars": {
        "office": {
            "hours": {"mon-fri": "08:00-18:00"},
            "holidays": {"country": "GB", "subdivision": "ENG"},
        }
    },
    "services": {
        "payroll": {
            "entry": "desk",
            "demand": {"per_week": 100, "profile": "office"},
            "priorities": {
                "P1": {"share": "10%", "resolve": {"within": "4h", "goal": "95%"}},
                "P2": {
                    "share": "90%",
                    "resolve": {"within": "30h", "calendar": "office", "goal": "90%"},
                },
            },
        }
    },
    "teams": {
        "desk": {
            "roster": {"mon-fri 08:00-18:00": 3},
            "handle": {"default": {"exponential": {"mean": "20m"}}},
            "next": {"resolved": "80%", "apps": "20%"},
        },
        "apps": {
            "roster": {"mon-fri 08:00-18:00": 2},
            "handle": {"default": {"gamma": {"mean": "2h", "cv": 1}}},
        },
    },
}


def load_text(text: str) -> Any:
    return parse_scenario(text, file="broken.yaml")


def problems_of(data: Any) -> list[Any]:
    text = yaml.safe_dump(data, sort_keys=False) if not isinstance(data, str) else data
    with pytest.raises(InputError) as caught:
        load_text(text)
    return list(caught.value.problems)


def patched(patch: dict[str, Any]) -> dict[str, Any]:
    return merge_patch(BASE, patch)


def test_minimal_base_is_valid() -> None:
    """The base of the broken-file cases is itself valid."""
    scenario = load_text(yaml.safe_dump(BASE))
    assert scenario.priorities == ("P1", "P2")
    assert scenario.warmup == 336.0 and scenario.replications == 20 and scenario.seed == 0
    assert scenario.period == "month"


@pytest.mark.parametrize("path", example_scenarios(), ids=lambda p: p.name)
def test_every_example_validates(path: Path) -> None:
    """Every example in scenarios/ validates as shipped, changes included."""
    scenario = load_scenario(path)
    assert scenario.services and scenario.teams
    for name in scenario.changes:
        assert scenario.apply(name).applied_changes == (name,)


def test_examples_cover_the_issue() -> None:
    """The three examples: a corporate desk baseline, a proposed new service (SLR), an OLA/UC chain."""
    names = {p.stem for p in example_scenarios()}
    assert {"corporate_service_desk", "new_service_slr", "ola_uc_chain"} <= names
    desk = load_scenario(next(p for p in example_scenarios() if p.stem == "corporate_service_desk"))
    assert len(desk.priorities) == 4
    assert any(t.kind == "supplier" for t in desk.teams.values())
    assert desk.customers and desk.corporate and desk.components
    assert any(c.window for c in desk.changes.values()) and any(
        not c.window for c in desk.changes.values()
    )


# -- defaults and units ----------------------------------------------------------------------------


def test_durations_and_percentages() -> None:
    """3d is 72 h, 2w is 336 h, 95% and 0.95 are the same goal."""
    scenario = load_text(yaml.safe_dump(patched({"horizon": "3d", "warmup": "2w"})))
    assert scenario.horizon == 72.0 and scenario.warmup == 336.0
    other = load_text(
        yaml.safe_dump(
            patched({"services": {"payroll": {"priorities": {"P1": {"resolve": {"goal": 0.95}}}}}})
        )
    )
    first = load_text(yaml.safe_dump(BASE))
    assert (
        other.services["payroll"].priorities["P1"].resolve.goal  # type: ignore[union-attr]
        == first.services["payroll"].priorities["P1"].resolve.goal  # type: ignore[union-attr]
        == 0.95
    )
    assert first.services["payroll"].priorities["P1"].resolve.calendar == "24x7"  # type: ignore[union-attr]


def test_models_are_frozen() -> None:
    """A scenario cannot be changed in place; changes go through apply/with_patch."""
    scenario = load_text(yaml.safe_dump(BASE))
    with pytest.raises(Exception):  # noqa: B017 - pydantic's frozen-instance error
        scenario.name = "x"  # type: ignore[misc]


# -- broken files: each gives the precise message --------------------------------------------------

BROKEN: list[tuple[str, Any, str, str, str]] = [
    # (id, data or patch, expected path, message fragment, fix fragment)
    (
        "bare-95",
        {"services": {"payroll": {"priorities": {"P1": {"resolve": {"goal": 95}}}}}},
        "services.payroll.priorities.P1.resolve.goal",
        "ambiguous",
        "95%",
    ),
    ("typo-key", {"servces": {}}, "servces", "unknown key 'servces'", "did you mean 'services'"),
    # a typo is matched against the keys valid at its place, not every key of the format
    ("typo-top-level", {"teamz": {}}, "teamz", "unknown key 'teamz'", "did you mean 'teams'"),
    (
        "typo-team-key",
        {"teams": {"desk": {"shrinkag": "10%"}}},
        "teams.desk.shrinkag",
        "unknown key 'shrinkag'",
        "did you mean 'shrinkage'",
    ),
    (
        "missing-entry",
        {"services": {"payroll": {"entry": None}}},
        "services.payroll.entry",
        "missing required key 'entry'",
        "add entry",
    ),
    (
        "entry-undefined",
        {"services": {"payroll": {"entry": "helpdesk"}}},
        "services.payroll.entry",
        "entry team 'helpdesk' is not defined",
        "desk",
    ),
    (
        "next-undefined",
        {"teams": {"desk": {"next": {"resolved": "80%", "apps": None, "dba": "20%"}}}},
        "teams.desk.next.dba",
        "routing target 'dba'",
        "resolved, pause or one of",
    ),
    (
        "calendar-undefined",
        {"services": {"payroll": {"priorities": {"P2": {"resolve": {"calendar": "offce"}}}}}},
        "services.payroll.priorities.P2.resolve.calendar",
        "calendar 'offce' is not defined",
        "office",
    ),
    (
        "shares-sum",
        {"services": {"payroll": {"priorities": {"P2": {"share": "80%"}}}}},
        "services.payroll.priorities",
        "add up to 90%",
        "sum to 100%",
    ),
    (
        "routing-sum",
        {"teams": {"desk": {"next": {"resolved": "90%"}}}},
        "teams.desk.next",
        "routing adds up to 110%",
        "sum to 100%",
    ),
    (
        "never-resolved",
        {
            "teams": {
                "desk": {"next": {"resolved": "0%", "apps": "100%"}},
                "apps": {"next": {"desk": "100%"}},
            }
        },
        "teams.apps.next",
        "can never be resolved",
        "share to resolved",
    ),
    (
        "supplier-roster",
        {"teams": {"apps": {"kind": "supplier"}}},
        "teams.apps.roster",
        "a supplier has no roster",
        "remove roster",
    ),
    ("bad-duration", {"horizon": "4 weeks"}, "horizon", "unknown time unit 'weeks'", "s, m, h, d"),
    (
        "unknown-family",
        {"teams": {"apps": {"handle": {"default": {"lognorm": {"mean": "2h", "cv": 1}}}}}},
        "teams.apps.handle.default",
        "lognorm",
        "lognormal",
    ),
    ("bad-timezone", {"timezone": "Europe/Londres"}, "timezone", "not a time zone", "IANA"),
    # too long for a file name: the zone lookup fails with OSError, which must not escape
    ("long-timezone", {"timezone": "Europe/" + "x" * 300}, "timezone", "not a time zone", "IANA"),
    (
        "bad-day",
        {"teams": {"apps": {"roster": {"mon-fry 08:00-18:00": 2, "mon-fri 08:00-18:00": None}}}},
        "teams.apps.roster",
        "'fry'",
        "mon-fri",
    ),
    (
        "customer-priority",
        {
            "customers": {
                "fin": {
                    "services": {"payroll": "50%"},
                    "priorities": {"P9": {"resolve": {"within": "1h", "goal": "90%"}}},
                }
            }
        },
        "customers.fin.priorities.P9",
        "priority 'P9'",
        "P1",
    ),
    (
        "component-undefined",
        {"services": {"payroll": {"availability": {"target": "99.9%", "depends_on": ["web"]}}}},
        "services.payroll.availability.depends_on.0",
        "component 'web' is not defined",
        "components",
    ),
    (
        "repair-team",
        {
            "components": {
                "web": {
                    "fails": {"exponential": {"mean": "1000h"}},
                    "repair": {"team": "dba", "priority": "P1"},
                }
            }
        },
        "components.web.repair.team",
        "repair team 'dba'",
        "desk",
    ),
    (
        "needed-gt-count",
        {
            "components": {
                "web": {
                    "count": 2,
                    "needed": 3,
                    "fails": {"exponential": {"mean": "1000h"}},
                    "repair": {"fixed": {"value": "1h"}},
                }
            }
        },
        "components.web",
        "needed (3) exceeds count (2)",
        "at most count",
    ),
    (
        "window-order",
        {"changes": {"x": {"window": {"from": "2027-02-01", "until": "2027-01-01"}, "patch": {}}}},
        "changes.x.window",
        "until must be after",
        "exclusive",
    ),
    (
        "patch-breaks",
        {"changes": {"x": {"patch": {"teams": {"desk": {"next": {"resolved": "50%"}}}}}}},
        "changes.x.patch → teams.desk.next",
        "after change 'x': routing adds up to 70%",
        "sum to 100%",
    ),
    (
        "preempt-unknown",
        {"teams": {"apps": {"preempt": ["P0"]}}},
        "teams.apps.preempt.0",
        "priority 'P0'",
        "P1",
    ),
    (
        "handle-missing",
        {"teams": {"apps": {"handle": {"default": None, "P1": {"exponential": {"mean": "1h"}}}}}},
        "teams.apps.handle",
        "no handling time for ['P2']",
        "handle.default",
    ),
    (
        "pause-without-duration",
        {"teams": {"desk": {"next": {"resolved": "75%", "pause": "5%"}}}},
        "teams.desk.next.pause",
        "no pause duration",
        "pause: {duration",
    ),
    (
        "priority-order",
        {"priority_order": ["P1"]},
        "priority_order",
        "does not rank ['P2']",
        "every priority",
    ),
    (
        "shrinkage-100",
        {"teams": {"desk": {"shrinkage": "100%"}}},
        "teams.desk.shrinkage",
        "below 100%",
        "30%",
    ),
    ("period-literal", {"period": "monthly"}, "period", "'monthly' is not allowed", "'month'"),
    (
        "holiday-country",
        {"calendars": {"office": {"holidays": {"country": "XX"}}}},
        "calendars.office",
        "XX",
        "",
    ),
    (
        "negative-volume",
        {"services": {"payroll": {"demand": {"per_week": -5}}}},
        "services.payroll.demand.per_week",
        "must be greater than or equal to 0",
        "write a value at least 0",
    ),
]


@pytest.mark.parametrize("case", BROKEN, ids=[c[0] for c in BROKEN])
def test_broken_file_gives_precise_message(case: tuple[str, Any, str, str, str]) -> None:
    """Each broken file names the field path, what is wrong and the fix, with the file's line."""
    _, patch, path, message, fix = case
    problems = problems_of(patched(patch))
    match = [p for p in problems if p.path == path]
    assert match, f"no problem at {path}; got {[(p.path, p.message) for p in problems]}"
    assert any(message in p.message for p in match), [p.message for p in match]
    assert any(fix in p.fix for p in match), [p.fix for p in match]
    assert all(p.file == "broken.yaml" for p in problems)
    assert all(p.line is not None and p.line >= 1 for p in problems)


@pytest.mark.parametrize(
    ("patch", "path", "belongs", "here"),
    [
        (
            {"calendars": {"office": {"file": "hours.csv"}}},
            "calendars.office.file",
            "services.<service>.demand.profile",
            "hours, holidays, timezone",
        ),
        (
            {"teams": {"desk": {"share": "5%"}}},
            "teams.desk.share",
            "services.<service>.priorities.<priority>",
            "kind, roster, shrinkage",
        ),
        (
            {"services": {"payroll": {"availability": {"team": "apps"}}}},
            "services.payroll.availability.team",
            "components.<component>.repair",
            "target, calendar, depends_on",
        ),
    ],
    ids=["file-in-calendar", "share-in-team", "team-in-availability"],
)
def test_key_valid_elsewhere_says_where_it_belongs(
    patch: dict[str, Any], path: str, belongs: str, here: str
) -> None:
    """A key of the format written where it does not belong is never answered with "did you
    mean" itself: the fix says where the key belongs and which keys this place takes."""
    problems = problems_of(patched(patch))
    (problem,) = [p for p in problems if p.path == path]
    key = path.rsplit(".", 1)[-1]
    assert problem.message == f"unknown key {key!r}"
    assert f"did you mean {key!r}" not in problem.fix
    assert f"{key!r} belongs under {belongs}" in problem.fix
    assert f"the keys here are {here}" in problem.fix


@pytest.mark.parametrize("text", ["", "   \n\n", "# a scenario, one day\n"])
def test_empty_file_says_it_is_empty(text: str) -> None:
    """An empty or comment-only file says so, with what to write — not that it must be a
    mapping of keys."""
    (problem,) = problems_of(text)
    assert "empty" in problem.message and "mapping of keys" not in problem.message
    assert "name:" in problem.fix and "scenarios/" in problem.fix


def test_nul_byte_names_the_character_line_and_fix() -> None:
    """A NUL byte (a binary file, or text saved wrongly) names the character and its line, and
    says how to fix it — not a bare YAML reader error."""
    (problem,) = problems_of("name: x\nstart: 2027-01-04\x00\n")
    assert "NUL (U+0000)" in problem.message and problem.line == 2
    assert "UTF-8" in problem.fix


def test_yaml_trap_country_no() -> None:
    """``country: NO`` is read by YAML as false: the message says so and says to quote it."""
    text = yaml.safe_dump(BASE).replace("country: GB", "country: NO")
    problems = problems_of(text)
    (problem,) = [p for p in problems if p.path == "calendars.office.holidays.country"]
    assert "false" in problem.message and "quote it" in problem.fix
    assert (
        problem.line
        == text.splitlines().index(
            next(line for line in text.splitlines() if "country: NO" in line)
        )
        + 1
    )


def test_yaml_trap_unquoted_clock() -> None:
    """An unquoted ``12:30-18:00`` is fine, but ``12:30`` alone is read as the number 750:
    "quote it"."""
    text = yaml.safe_dump(BASE).replace("mon-fri: 08:00-18:00", "sat: 12:30")
    text = text.replace("mon-fri: '08:00-18:00'", "sat: 12:30")
    problems = problems_of(text)
    assert any("quote it" in p.fix and p.path.startswith("calendars.office") for p in problems), (
        problems
    )


def test_yaml_trap_base60_duration() -> None:
    """``within: 1:30`` would silently be 90 hours: it is refused with "quote it"."""
    text = yaml.safe_dump(BASE).replace("within: 4h", "within: 1:30")
    problems = problems_of(text)
    (problem,) = [p for p in problems if "base-60" in p.message]
    assert problem.path == "services.payroll.priorities.P1.resolve.within"
    assert "quote it" in problem.fix and problem.line is not None


def test_duplicate_key_is_reported() -> None:
    """A roster line written twice would silently lose the first: it is reported with both lines."""
    text = yaml.safe_dump(BASE).replace(
        "      mon-fri 08:00-18:00: 3\n",
        "      mon-fri 08:00-18:00: 3\n      mon-fri 08:00-18:00: 4\n",
    )
    problems = problems_of(text)
    assert any(
        "written twice" in p.message and p.path == "teams.desk.roster.mon-fri 08:00-18:00"
        for p in problems
    )


def test_impossible_date_is_input_error() -> None:
    """``start: 2027-02-30`` is an input error with its line, not a crash."""
    text = yaml.safe_dump(BASE).replace("start: '2027-01-04'", "start: 2027-02-30")
    problems = problems_of(text)
    assert problems[0].path == "start" and "not a real date" in problems[0].message


def test_numeric_subdivision_quote_it() -> None:
    """``subdivision: 02`` loses its leading zero as a number: "quote it"."""
    text = yaml.safe_dump(BASE).replace("subdivision: ENG", "subdivision: 02")
    problems = problems_of(text)
    (problem,) = [p for p in problems if p.path.endswith("subdivision")]
    assert "quote it" in problem.fix


def test_more_broken_values() -> None:
    """Dated maintenance windows, empty rosters, negative growth and windowed target changes."""
    data = patched(
        {
            "services": {
                "payroll": {
                    "demand": {"growth": -5},
                    "availability": {
                        "target": "99%",
                        "depends_on": ["db"],
                        "maintenance": [{"from": "banana", "until": "later"}],
                    },
                }
            },
            "components": {
                "db": {
                    "fails": {"exponential": {"mean": "1000h"}},
                    "repair": {"fixed": {"value": "1h"}},
                }
            },
            "teams": {"apps": {"roster": {"mon-fri 08:00-18:00": None}}},
        }
    )
    data["teams"]["apps"]["roster"] = {}
    data["changes"] = {
        "tight": {
            "window": {"from": "2027-01-11", "until": "2027-01-18"},
            "patch": {
                "services": {"payroll": {"priorities": {"P1": {"resolve": {"within": "2h"}}}}}
            },
        }
    }
    problems = {p.path: p for p in problems_of(data)}
    assert "-5" in problems["services.payroll.demand.growth"].message
    assert any(path.startswith("services.payroll.availability.maintenance") for path in problems)
    assert "no agents" in problems["teams.apps.roster"].message
    assert (
        "cannot change inside a window"
        in problems["changes.tight.patch.services.payroll.priorities.P1.resolve"].message
    )


def test_a_window_refuses_what_it_would_ignore() -> None:
    """Availability is simulated with the whole run's components and agreements: a windowed
    change to them, which would be accepted and do nothing, is refused with the way out."""
    windowed = {
        "window": {"from": "2027-02-01", "until": "2027-03-01"},
        "patch": {
            "components": {"db": {"fails": {"exponential": {"mean": "20h"}}}},
            "services": {"payroll": {"availability": {"target": "99%"}}},
        },
    }
    problems = {p.path: p for p in problems_of(patched({"changes": {"w": windowed}}))}
    assert "components cannot change" in problems["changes.w.patch.components"].message
    agreement = problems["changes.w.patch.services.payroll.availability"]
    assert "cannot change inside a window" in agreement.message
    assert "permanent" in agreement.fix


@pytest.mark.parametrize(("growth", "says"), [("-100%", "no demand"), ("150%", "not a growth")])
def test_growth_outside_its_range_is_refused(growth: str, says: str) -> None:
    """Growth lies in (-100%, 100%]: -100% would leave no demand (the run used to fail later
    with a misleading size message)."""
    data = patched({"services": {"payroll": {"demand": {"growth": growth}}}})
    (problem,) = [p for p in problems_of(data) if p.path.endswith("growth")]
    assert says in problem.message and problem.fix
    declining = patched({"services": {"payroll": {"demand": {"growth": "-99%"}}}})
    assert load_text(yaml.safe_dump(declining)).services["payroll"].demand.growth == -0.99


def test_profile_file(tmp_path: Path) -> None:
    """A profile file is read at validation, relative to the scenario; missing or misshapen
    files are problems; uploads may name none."""
    data = patched({"services": {"payroll": {"demand": {"profile": {"file": "weights.csv"}}}}})
    path = tmp_path / "s.yaml"
    path.write_text(yaml.safe_dump(data))
    with pytest.raises(InputError, match="cannot read the profile file"):
        load_scenario(path)
    (tmp_path / "weights.csv").write_text("\n".join(",".join(["1"] * 24) for _ in range(6)))
    with pytest.raises(InputError, match="7 rows"):
        load_scenario(path)
    (tmp_path / "weights.csv").write_text("\n".join(",".join([str(d + 1)] * 24) for d in range(7)))
    scenario = load_scenario(path)
    profile = scenario.services["payroll"].demand.profile
    assert isinstance(profile, tuple) and profile[6][0] == 7.0
    # a header of the hours (numbers themselves) and a label column are read as such
    header = "day," + ",".join(str(h) for h in range(24))
    days = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
    body = [f"{day}," + ",".join([str(d + 1)] * 24) for d, day in enumerate(days)]
    (tmp_path / "weights.csv").write_text("\n".join([header, *body]))
    labelled = load_scenario(path).services["payroll"].demand.profile
    assert labelled == profile
    with pytest.raises(InputError, match="may not name files"):
        parse_scenario(yaml.safe_dump(data), file="upload.yaml", allow_files=False)


@pytest.mark.parametrize(
    ("patch", "path", "said"),
    [
        ({"demand": {"per_week": ".nan"}}, "services.payroll.demand.per_week", "nan is not"),
        ({"demand": {"per_week": ".inf"}}, "services.payroll.demand.per_week", "inf is not"),
        (
            {"demand": {"per_week": 100, "profile": [[1] * 24] * 6 + [[1] * 13 + [".nan"] * 11]}},
            "services.payroll.demand.profile",
            "weight nan on sun 13:00",
        ),
        (
            {"demand": {"per_week": 100, "profile": [[".inf"] + [1] * 23] + [[1] * 24] * 6}},
            "services.payroll.demand.profile",
            "weight inf on mon 00:00",
        ),
    ],
)
def test_nan_and_infinity_are_refused_where_they_are(
    patch: dict[str, Any], path: str, said: str
) -> None:
    """`.nan` and `.inf` are refused as numbers, with the key (and a profile's day and hour):
    they passed validation and the run then failed, blaming the horizon."""
    data = patched({"services": {"payroll": patch}})
    text = yaml.safe_dump(data, sort_keys=False).replace("'.nan'", ".nan").replace("'.inf'", ".inf")
    (problem,) = problems_of(text)
    assert problem.path == path and said in problem.message, problem
    assert ".nan or .inf" in problem.fix


def test_a_short_profile_row_is_named(tmp_path: Path) -> None:
    """A profile file whose Sunday has 23 weights says so, not only that it needs 7 rows."""
    data = patched({"services": {"payroll": {"demand": {"profile": {"file": "weights.csv"}}}}})
    path = tmp_path / "s.yaml"
    path.write_text(yaml.safe_dump(data))
    rows = [",".join(["1"] * 24)] * 6 + [",".join(["1"] * 23)]
    (tmp_path / "weights.csv").write_text("\n".join(rows))
    with pytest.raises(InputError, match="sun has 23 weights"):
        load_scenario(path)


def test_a_profile_named_as_a_csv_file_is_that_file(tmp_path: Path) -> None:
    """``profile: weights.csv`` is ``profile: {file: weights.csv}`` (it was refused as neither
    'flat' nor a calendar); an upload may not name it either, and a missing one is said so."""
    data = patched({"services": {"payroll": {"demand": {"profile": "weights.csv"}}}})
    path = tmp_path / "s.yaml"
    path.write_text(yaml.safe_dump(data))
    with pytest.raises(InputError, match=r"cannot read the profile file weights\.csv"):
        load_scenario(path)
    (tmp_path / "weights.csv").write_text("\n".join(",".join([str(d + 1)] * 24) for d in range(7)))
    profile = load_scenario(path).services["payroll"].demand.profile
    assert isinstance(profile, tuple) and profile[6][0] == 7.0
    with pytest.raises(InputError, match="may not name files"):
        parse_scenario(yaml.safe_dump(data), file="upload.yaml", allow_files=False)


def test_yaml_syntax_error_has_line() -> None:
    """A YAML syntax error names its line and never raises a yaml exception."""
    text = "name: x\nservices:\n  a: [1, 2\nteams: {}\n"
    problems = problems_of(text)
    assert problems[0].line is not None and "YAML syntax error" in problems[0].message


def test_not_a_mapping() -> None:
    problems = problems_of("- just\n- a list\n")
    assert "mapping" in problems[0].message


def test_all_problems_reported_at_once() -> None:
    """Three independent mistakes give three problems in one run."""
    data = patched(
        {"horizon": "13 weeks", "period": "fortnight", "services": {"payroll": {"entry": "nobody"}}}
    )
    paths = {p.path for p in problems_of(data)}
    assert {"horizon", "period", "services.payroll.entry"} <= paths


def test_changes_apply_as_merge_patch() -> None:
    """A permanent change merges in; null deletes a key; a windowed change stays an overlay."""
    data = copy.deepcopy(BASE)
    data["changes"] = {
        "grow": {
            "patch": {
                "teams": {
                    "apps": {"roster": {"mon-fri 08:00-18:00": None, "mon-fri 07:00-19:00": 3}}
                }
            }
        },
        "peak": {
            "window": {"from": "2027-01-11", "until": "2027-01-18"},
            "patch": {"services": {"payroll": {"demand": {"per_week": 200}}}},
        },
    }
    scenario = load_text(yaml.safe_dump(data))
    grown = scenario.apply("grow")
    assert grown.teams["apps"].roster == {"mon-fri 07:00-19:00": 3}
    assert scenario.teams["apps"].roster == {"mon-fri 08:00-18:00": 2}
    peak = scenario.apply("peak")
    assert peak.services["payroll"].demand.per_week == 100
    (overlay,) = peak.overlays
    assert overlay.scenario.services["payroll"].demand.per_week == 200
    assert str(overlay.window.from_) == "2027-01-11"
    both = scenario.apply("peak", "grow")
    assert both.teams["apps"].roster == {"mon-fri 07:00-19:00": 3}
    assert both.overlays[0].scenario.teams["apps"].roster == {"mon-fri 07:00-19:00": 3}
    with pytest.raises(InputError, match="no change named 'gro'"):
        scenario.apply("gro")


def test_merge_patch_rfc7396() -> None:
    """The RFC 7396 examples: objects merge, null deletes, arrays replace."""
    target = {"a": "b", "c": {"d": "e", "f": "g"}, "l": [1, 2]}
    patch = {"a": "z", "c": {"f": None}, "l": [3]}
    assert merge_patch(target, patch) == {"a": "z", "c": {"d": "e"}, "l": [3]}
    assert target == {"a": "b", "c": {"d": "e", "f": "g"}, "l": [1, 2]}


def test_calendar_of_scenario() -> None:
    """scenario.calendar(name) gives the business calendar; 24x7 exists without being defined."""
    scenario = load_text(yaml.safe_dump(BASE))
    assert scenario.calendar("24x7").is_always
    assert scenario.calendar("office").timezone == "Europe/London"


def test_uploads_may_not_name_files(tmp_path: Path) -> None:
    """With allow_files=False (uploads), a scenario naming a file is refused with a message."""
    data = patched(
        {"teams": {"apps": {"handle": {"default": {"empirical": {"file": "/etc/passwd"}}}}}}
    )
    with pytest.raises(InputError) as caught:
        parse_scenario(yaml.safe_dump(data), file="upload.yaml", allow_files=False)
    assert any(p.path == "teams.apps.handle.default" for p in caught.value.problems)


def test_an_uploads_change_may_not_name_files(tmp_path: Path) -> None:
    """A change of an upload is checked as the upload is: naming a file there is refused too,
    before anything is read, and the message shows nothing of the file."""
    secret = tmp_path / "secret.csv"
    secret.write_text("duration\n1h\nTOP-SECRET\n")
    evil = {"handle": {"default": {"gamma": None, "empirical": {"file": str(secret)}}}}
    data = patched({})
    data["changes"] = {"evil": {"patch": {"teams": {"apps": evil}}}}
    with pytest.raises(InputError) as caught:
        parse_scenario(yaml.safe_dump(data), file="upload.yaml", allow_files=False)
    text = str(caught.value)
    assert "may not name files" in text and "changes.evil.patch" in text
    assert "TOP-SECRET" not in text
    # A relative file in a scenario without a folder is not looked for in the working directory.
    relative = {"handle": {"default": {"gamma": None, "empirical": {"file": "secret.csv"}}}}
    data["changes"] = {"rel": {"patch": {"teams": {"apps": relative}}}}
    with pytest.raises(InputError, match="no folder"):
        parse_scenario(yaml.safe_dump(data), file="inline.yaml")
    # From its folder, the change reads the file beside the scenario.
    (tmp_path / "secret.csv").write_text("duration\n1h\n2h\n")
    parse_scenario(yaml.safe_dump(data), file="inline.yaml", base_dir=tmp_path)


def test_missing_file_and_folder(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no such file"):
        load_scenario(tmp_path / "nope.yaml")
    with pytest.raises(InputError, match="folder"):
        load_scenario(tmp_path)


def test_json_schema_is_valid_json() -> None:
    """simkit schema writes a JSON Schema whose top level lists the scenario keys."""
    schema = json_schema()
    json.dumps(schema)
    assert {"name", "start", "services", "teams", "changes"} <= set(schema["properties"])  # type: ignore[arg-type]


def test_to_yaml_round_trip() -> None:
    scenario = load_text(yaml.safe_dump(BASE)).apply()
    again = load_text(scenario.to_yaml())
    assert again.model_dump() == scenario.model_dump()


# -- fuzz ------------------------------------------------------------------------------------------

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(10**6), 10**6),
    st.floats(allow_nan=True),
    st.text(max_size=12),
    st.sampled_from(
        [
            "95",
            "95%",
            "4h",
            "2w",
            "mon-fri 08:00-18:00",
            "08:00-18:00",
            "always",
            "office",
            "P1",
            "resolved",
            "desk",
            "-1h",
            "1e400h",
        ]
    ),
)
values = st.recursive(
    scalars,
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(
            st.text(max_size=8)
            | st.sampled_from(
                [
                    "services",
                    "teams",
                    "roster",
                    "handle",
                    "next",
                    "priorities",
                    "share",
                    "resolve",
                    "exponential",
                    "mean",
                    "calendar",
                    "window",
                    "patch",
                    "from",
                    "until",
                ]
            ),
            children,
            max_size=4,
        )
    ),
    max_leaves=12,
)


def _mutate(data: Any, path: list[Any], value: Any) -> Any:
    data = copy.deepcopy(data)
    node = data
    for key in path[:-1]:
        node = node[key]
    if value is _DELETE:
        node.pop(path[-1], None)
    else:
        node[path[-1]] = value
    return data


_DELETE = object()


def _paths(data: Any, prefix: list[Any]) -> list[list[Any]]:
    out = [prefix] if prefix else []
    if isinstance(data, dict):
        for key, value in data.items():
            out.extend(_paths(value, [*prefix, key]))
    return out


ALL_PATHS = _paths(BASE, [])


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(ALL_PATHS), st.one_of(values, st.just(_DELETE)))
def test_fuzz_mutated_scenarios_only_raise_input_error(path: list[Any], value: Any) -> None:
    """Any mutation of a valid scenario either validates or raises InputError — nothing else."""
    data = _mutate(BASE, path, value)
    try:
        text = yaml.safe_dump(data)
    except yaml.YAMLError:
        return
    try:
        load_text(text)
    except InputError as error:
        assert error.problems
        for problem in error.problems:
            assert problem.message


@settings(max_examples=100, deadline=None)
@given(st.one_of(values, st.binary(max_size=200).map(lambda b: b.decode("latin-1"))))
def test_fuzz_arbitrary_documents_only_raise_input_error(document: Any) -> None:
    """Arbitrary YAML documents and arbitrary text give InputError or a scenario, never a crash."""
    text = document if isinstance(document, str) else yaml.safe_dump(document)
    try:
        load_text(text)
    except InputError as error:
        assert error.problems


def test_cli_validate_reports_every_problem(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`simkit validate --json` prints the errors document and exits 2; valid files exit 0."""
    from simkit.cli import main

    bad = tmp_path / "bad.yaml"
    bad.write_text(
        yaml.safe_dump(patched({"horizon": "x", "services": {"payroll": {"entry": "nobody"}}}))
    )
    assert main(["validate", str(bad), "--json"]) == 2
    document = json.loads(capsys.readouterr().out)
    assert {e["path"] for e in document["errors"]} >= {"horizon", "services.payroll.entry"}
    assert set(document["errors"][0]) == {"file", "line", "path", "message", "fix"}
    for path in example_scenarios():
        assert main(["validate", str(path)]) == 0
    capsys.readouterr()
    assert main(["validate", str(bad)]) == 2
    err = capsys.readouterr().err
    assert "bad.yaml" in err and "horizon" in err and "Traceback" not in err


def test_cli_bad_flag_is_input_error(capsys: pytest.CaptureFixture[str]) -> None:
    from simkit.cli import main

    assert main(["validate", "--json", "--bogus", "x.yaml"]) == 2
    document = json.loads(capsys.readouterr().out)
    assert "bogus" in document["errors"][0]["message"]


def _alias_bomb(levels: int) -> str:
    lines = ['a0: &a0 ["x", "x", "x", "x", "x", "x", "x", "x", "x"]']
    for k in range(1, levels + 1):
        refs = ", ".join([f"*a{k - 1}"] * 9)
        lines.append(f"a{k}: &a{k} [{refs}]")
    return "\n".join(lines) + "\nname: bomb\n"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (_alias_bomb(9), "once its aliases"),  # 9**9 values from about 400 bytes
        ("a: &a [*a]\nname: x\n", "contains itself"),
        ("a: &a {b: *a}\nname: x\n", "contains itself"),
        ("a: " + "[" * 5000 + "]" * 5000 + "\nname: x\n", "nest"),
        ("a: " + "[" * 80 + "]" * 80 + "\nname: x\n", "nested more than"),
    ],
)
def test_yaml_that_would_tie_up_the_server_is_refused(text: str, expected: str) -> None:
    """Aliases that multiply, an alias inside itself and deep nesting are refused with a message
    naming the file, before the YAML is turned into values."""
    with pytest.raises(InputError, match=expected) as caught:
        parse_scenario(text, file="upload.yaml", allow_files=False)
    assert caught.value.problems[0].file == "upload.yaml"


def test_aliases_that_repeat_a_value_are_still_read() -> None:
    """Anchors and aliases used as intended (one roster for two teams) still work."""
    text = yaml.safe_dump(patched({}))
    text = text.replace(
        "roster:\n      mon-fri 08:00-18:00: 2", "roster: &two\n      mon-fri 08:00-18:00: 2"
    )
    text = text.replace("roster:\n      mon-fri 08:00-18:00: 3", "roster: *two")
    assert "&two" in text and "*two" in text
    scenario = parse_scenario(text, file="ok.yaml")
    assert scenario.teams["desk"].roster == scenario.teams["apps"].roster


@pytest.mark.parametrize(
    ("patch", "path", "expected"),
    [
        ({"horizon": "1e9h"}, "horizon", "longer than the 20 years"),
        ({"horizon": "365000d"}, "horizon", "longer than the 20 years"),
        ({"warmup": "1e9h"}, "warmup", "longer than the 20 years"),
        ({"drain": "8000d"}, "drain", "longer than the 20 years"),
        ({"start": "2199-12-01"}, "", "outside the years 1901–2199"),
    ],
)
def test_spans_beyond_what_can_be_simulated_are_refused(
    patch: dict[str, Any], path: str, expected: str
) -> None:
    """A horizon, warm-up or drain too long to simulate, or a run outside the years calendars
    cover, is a problem at its key, not an overflow or a calendar error at run time."""
    with pytest.raises(InputError, match=expected) as caught:
        parse_scenario(yaml.safe_dump(patched(patch)), file="long.yaml")
    assert [p.path for p in caught.value.problems] == [path]
    parse_scenario(yaml.safe_dump(patched({"horizon": "1040w"})), file="ok.yaml")  # 20 years


def test_too_many_services_are_refused_before_they_are_validated() -> None:
    """More services than a scenario may have is one problem at ``services``, found before the
    services themselves are validated (which would take seconds for thousands)."""
    data = patched({})
    one = data["services"]["payroll"]
    data["services"] = {f"s{k}": one for k in range(201)}
    with pytest.raises(InputError, match="201 services, more than the 200") as caught:
        parse_scenario(yaml.safe_dump(data), file="many.yaml", allow_files=False)
    assert [p.path for p in caught.value.problems] == ["services"]


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("x: {share: 10%, resolve:{within: 4h}}\n", {"share": "10%", "resolve": {"within": "4h"}}),
        ("x: [b:{c: 1}]\n", [{"b": {"c": 1}}]),
        ("x: {b:, c: 1}\n", {"b": None, "c": 1}),
    ],
)
def test_yaml_libyaml_refuses_is_still_read(text: str, value: Any) -> None:
    """Flow mappings written without a space after the colon are YAML PyYAML reads and LibYAML
    refuses: the reader falls back to PyYAML's, so they read as they always did."""
    from simkit.scenario.yamlsource import parse_yaml

    data, lines, problems = parse_yaml(text, file="flow.yaml")
    assert data == {"x": value} and not problems
    assert lines.line(("x",)) == 1


def test_a_start_beyond_the_calendar_is_a_problem_not_a_crash() -> None:
    """A start so late that the run's end overflows Python's dates is one problem at the start
    of the run, like any start outside the years calendars cover."""
    with pytest.raises(InputError, match="outside the years"):
        parse_scenario(yaml.safe_dump(patched({"start": "9999-12-31"})), file="late.yaml")


def test_the_command_line_takes_any_seed() -> None:
    """A seed above 2**53 (the app's limit, for a browser's number field) is valid in a file."""
    scenario = parse_scenario(yaml.safe_dump(patched({"seed": 2**64 - 1})), file="big.yaml")
    assert scenario.seed == 2**64 - 1


def test_priority_order_ranks_each_priority_once() -> None:
    problems = problems_of(patched({"priority_order": ["P1", "P2", "P2"]}))
    (problem,) = [p for p in problems if p.path == "priority_order"]
    assert "P2 more than once" in problem.message and problem.fix


def test_restore_with_a_repair_distribution_is_refused() -> None:
    """``restore`` is added after a repair through a team's queue; with a repair distribution
    it was accepted and ignored."""
    component = {
        "fails": {"exponential": {"mean": "2000h"}},
        "repair": {"exponential": {"mean": "2h"}},
        "restore": "10h",
    }
    problems = problems_of(patched({"components": {"db": component}}))
    (problem,) = [p for p in problems if "restore" in p.message]
    assert problem.path.startswith("components.db") and "drop restore" in problem.fix


def test_a_scenario_cannot_be_changed_in_place(root: Path) -> None:
    """Only a changed copy (``with_patch``) changes a scenario: its models refuse new values and
    its mappings refuse changes, so its YAML, fingerprint and cached figures always match it.
    Read-only mappings still pickle (to worker processes), copy and dump as plain dicts."""
    import pickle

    scenario = load_scenario(root / "scenarios" / "corporate_service_desk.yaml")
    line = next(iter(scenario.teams["apps"].roster or {}))
    attempts = [
        lambda: (scenario.teams["apps"].roster or {}).__setitem__(line, 9),
        lambda: scenario.teams.pop("apps"),
        lambda: scenario.services["payroll"].priorities.clear(),
        lambda: scenario.changes.update({}),
    ]
    for attempt in attempts:
        with pytest.raises(TypeError, match="with_patch"):
            attempt()
    with pytest.raises(Exception, match="frozen"):
        scenario.teams["apps"].shrinkage = 0.5  # type: ignore[misc]
    assert (scenario.teams["apps"].roster or {})[line] == 6
    for copied in (pickle.loads(pickle.dumps(scenario)), copy.deepcopy(scenario)):
        assert copied.fingerprint() == scenario.fingerprint()
        with pytest.raises(TypeError):
            copied.teams.clear()
    dumped = scenario.model_dump()
    assert type(dumped["teams"]) is dict and type(dumped["teams"]["apps"]["roster"]) is dict
    changed = scenario.with_patch({"teams": {"apps": {"roster": {line: 9}}}})
    assert (changed.teams["apps"].roster or {})[line] == 9
    assert changed.fingerprint() != scenario.fingerprint()
