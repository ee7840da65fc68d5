"""The Targets and OLA / UC pages, driven headless with streamlit's AppTest: an optimiser that
cannot search shows its reason only (no empty roster, no cost), a scenario without any OLA or UC
says so instead of a 0% watermelon share, and the availability table names the replications
behind its figures. Runs use 2 replications in the page's own thread."""

from __future__ import annotations

from pathlib import Path

import pytest

pytest.importorskip("streamlit")
import yaml
from streamlit.testing.v1 import AppTest
from test_app import (
    assert_clean,
    errors,
    labelled,
    light_runs,  # noqa: F401 (an autouse fixture)
)
from test_app_pages import SHORT, on_page, table

ROOT = Path(__file__).resolve().parent.parent
NEW_SERVICE = ROOT / "scenarios" / "new_service_slr.yaml"


def _captions(at: AppTest) -> list[str]:
    return [c.value for c in at.caption]


# 1. Targets: an optimiser that cannot search


def test_optimiser_that_cannot_search_shows_only_its_reason() -> None:
    """At 2 replications no roster can show the confidence asked for: the optimiser says so
    and runs nothing — no empty roster table, no cost of 0, no "confirmed: None"."""
    at = on_page("targets")
    tables = len(at.dataframe)
    at.button(key="run_optimiser").click().run()
    assert_clean(at)
    assert not at.error, errors(at)
    assert not at.success
    assert any("replications" in w.value for w in at.warning), [w.value for w in at.warning]
    assert len(at.dataframe) == tables, [list(f.value.columns) for f in at.dataframe]
    shown = _captions(at)
    assert not [c for c in shown if "cost per month" in c or "None" in c], shown
    assert not [c for c in shown if c.startswith("0 runs")], shown


def test_optimiser_with_nothing_reachable_shows_no_roster() -> None:
    """A target no staffing can meet (resolved within a minute, handling takes an hour): the
    optimiser says so and names it, with no empty roster table and no cost of 0."""
    scenario = SHORT.replace(b"within: 2h", b"within: 1m")
    at = on_page("targets", scenario)
    labelled(at.slider, "Confidence").set_value(50).run()
    tables = len(at.dataframe)
    at.button(key="run_optimiser").click().run()
    assert_clean(at)
    assert not at.error, errors(at)
    assert at.warning and "ample staffing" in at.warning[0].value, [w.value for w in at.warning]
    assert any("Not reachable by staffing" in i.value for i in at.info)
    assert len(at.dataframe) == tables, [list(f.value.columns) for f in at.dataframe]
    assert not [c for c in _captions(at) if "cost per month" in c or "None" in c]


def test_optimiser_that_finds_a_roster_names_its_replications() -> None:
    """The roster found comes with its cost, its confirmation and the replications and runs
    behind it."""
    at = on_page("targets", SHORT)
    # 4 replications: the spread of 2 gives P(period met) an interval on one degree of freedom
    labelled(at.number_input, "Replications").set_value(4).run()
    labelled(at.slider, "Confidence").set_value(50).run()
    at.button(key="run_optimiser").click().run()
    assert_clean(at)
    assert at.success, [w.value for w in at.warning]
    assert table(at, "team", "line", "agents") is not None
    (caption,) = [c for c in _captions(at) if "cost per month" in c]
    assert "4 replications" in caption and "confirmed with fresh seeds: True" in caption


# 2. OLA / UC: a scenario with no OLA or UC


def _without_agreements() -> bytes:
    document = yaml.safe_load(NEW_SERVICE.read_text(encoding="utf-8"))
    for team in document["teams"].values():
        team.pop("ola", None)
        team.pop("uc", None)
    text = yaml.safe_dump(document, allow_unicode=True, sort_keys=False)
    assert "ola:" not in text and "uc:" not in text
    return text.encode("utf-8")


def test_ola_page_without_agreements_says_so() -> None:
    """No team has an OLA and no supplier a UC: the watermelon share is "—" (not 0%, which
    reads as "no problem"), and the page says there is nothing to check and how to add one."""
    at = on_page("ola", _without_agreements(), "no-olas.yaml")
    assert not at.error, errors(at)
    shown = table(at, "SLA", "watermelon share", "P(SLA met | OLAs met)")
    assert shown is not None and len(shown) >= 1
    assert set(shown["watermelon share"]) == {"—"}, list(shown["watermelon share"])
    assert set(shown["P(SLA met | OLAs met)"]) == {"—"}
    message = "\n".join(i.value for i in at.info)
    assert "no OLA or UC" in message, message
    assert "ola:" in message and "uc:" in message and "scenario-format.md" in message
    assert not [m.value for m in at.markdown if m.value.startswith("What the page says")]


def test_ola_page_with_agreements_shows_the_watermelon_share() -> None:
    """The example with OLAs and UCs shows simulated watermelon shares and no such note."""
    at = on_page("ola")
    assert not at.error, errors(at)
    shown = table(at, "SLA", "watermelon share")
    assert any(v != "—" for v in shown["watermelon share"]), list(shown["watermelon share"])
    assert not [i.value for i in at.info if "no OLA or UC" in i.value]


def test_ola_paths_say_where_their_worst_case_comes_from() -> None:
    """On the supplier chain the P2 path through the carrier does not fit: the table names the
    local start of its worst case and the holiday (St Patrick's Day) that closes the carrier's
    calendar but not the others on the path (the OLA command prints the holidays too)."""
    chain = (ROOT / "scenarios" / "ola_uc_chain.yaml").read_bytes()
    at = on_page("ola", chain, name="ola_uc_chain.yaml")
    assert not at.error, errors(at)
    target = at.selectbox(key="ola_target")
    label = next(o for o in target.options if "P2" in o and "resolve" in o)
    target.set_value(label).run()
    assert_clean(at)
    paths = table(at, "path", "worst case starts", "holidays on the path")
    assert paths is not None
    carrier = paths[paths["path"].str.endswith("carrier")].iloc[0]
    assert carrier["fits"] == "no"
    assert carrier["worst case starts"].startswith("Tue 2027-03-16 08:00")
    assert "2027-03-17 (carrier closed)" in carrier["holidays on the path"]
    direct = paths[paths["path"] == "service_desk"].iloc[0]
    assert direct["holidays on the path"] == "—"


def test_recommendations_far_from_what_teams_do_now_are_said_to_be() -> None:
    """The finance customer's 2 h P1 resolve, shared along its paths, leaves the teams minutes:
    the recommendations that fewer than half of a team's handlings meet now are named in a
    warning, with that share (the table's "compliance now"); those the team meets are not."""
    at = on_page("ola")
    target = at.selectbox(key="ola_target")
    target.set_value(next(o for o in target.options if o.startswith("finance"))).run()
    assert_clean(at)
    shown = table(at, "team", "agreement", "compliance now")
    assert shown is not None
    now = {r["team"]: float(r["compliance now"].rstrip("%")) / 100 for _, r in shown.iterrows()}
    far = {team for team, share in now.items() if share < 0.5}
    assert far and far != set(now), now  # some far, some not: both sides are checked
    warned = [w.value for w in at.warning if w.value.startswith("Far from what the teams do now")]
    assert bool(far) == bool(warned), (now, warned)
    for team, share in now.items():
        assert (f"{team}'s handlings" in " ".join(warned)) == (team in far), (team, share)


def _no_volume() -> bytes:
    """The bundled desk scenario with every service's volume at 0 per week."""
    text = (ROOT / "scenarios" / "corporate_service_desk.yaml").read_text(encoding="utf-8")
    document = yaml.safe_load(text)
    for service in document["services"].values():
        service["demand"]["per_week"] = 0
    return yaml.safe_dump(document, allow_unicode=True, sort_keys=False).encode("utf-8")


def test_ola_page_with_no_tickets_says_so_instead_of_an_empty_table() -> None:
    """Every service at 0 tickets a week: the page says no tickets arrive, and the target's
    recommendations say why there are none — no table without columns."""
    at = on_page("ola", _no_volume(), "no-volume.yaml")
    assert not at.error, errors(at)
    warnings = "\n".join(w.value for w in at.warning)
    assert "No tickets arrive" in warnings and "per_week" in warnings, warnings
    assert all(len(f.value.columns) for f in at.dataframe), [
        list(f.value.columns) for f in at.dataframe
    ]
    assert any("No agreement to recommend" in i.value for i in at.info)


# 3. Targets: the availability table names its replications


def test_availability_table_names_its_replications() -> None:
    """The availability figures are simulated: the table's heading or caption states the
    replications behind them, as the SLR table's heading does."""
    at = on_page("targets")
    assert not at.error, errors(at)
    assert table(at, "service", "achievable", "availability") is not None
    texts = [m.value for m in at.markdown] + _captions(at)
    about = [t for t in texts if "availability" in t.lower()]
    assert any("2 replications" in t for t in about), about
    # the page's module-level text constants are not written onto it (streamlit's magic)
    assert not [m.value for m in at.markdown if m.value.startswith("What the page says")]


def test_an_open_upper_end_of_an_achievable_target_is_explained() -> None:
    """An achievable target's interval may end in "…" (an upper end beyond the runs); where it
    does, the caption above the table says what that means."""
    at = on_page("targets")
    assert not at.error, errors(at)
    assert table(at, "achievable target [95%]") is not None
    assert any("upper end shown as … lies beyond" in c for c in _captions(at)), _captions(at)


def test_targets_page_with_no_tickets_says_so() -> None:
    """Every service at 0 tickets a week: the Targets page says no tickets arrive (as the
    Scenario and OLA pages do), and each SLR's words say no ticket was measured in any full
    period — full periods were measured — rather than that none was."""
    at = on_page("targets", _no_volume(), "no-volume.yaml")
    assert not at.error, errors(at)
    warnings = "\n".join(w.value for w in at.warning)
    assert "No tickets arrive" in warnings and "per_week" in warnings, warnings
    slr = table(at, "achievable target [95%]")
    assert slr is not None and len(slr)
    words = " ".join(str(v) for v in slr.to_numpy().ravel())
    assert "no ticket was measured in any full" in words, words
    assert "no full" not in words.replace("in any full", ""), words
