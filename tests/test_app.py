"""The front end, driven headless with streamlit's AppTest."""

from __future__ import annotations

from pathlib import Path

import pytest

pytest.importorskip("streamlit")
from streamlit.testing.v1 import AppTest

APP = str(Path(__file__).resolve().parent.parent / "app" / "streamlit_app.py")


def run_app() -> AppTest:
    at = AppTest.from_file(APP, default_timeout=60)
    at.run()
    return at


def test_scenario_page_shows_example() -> None:
    """The app opens on the Scenario page with the first example's services, teams and targets."""
    at = run_app()
    assert not at.exception, at.exception
    text = " ".join(m.value for m in at.markdown)
    assert "Services and targets" in text and "Teams and suppliers" in text
    assert at.dataframe, "no tables shown"


def test_every_example_loads() -> None:
    """Each bundled example can be chosen and shows without exceptions."""
    at = run_app()
    options = at.selectbox(key="example_choice").options
    assert len(options) >= 3
    for option in options:
        at.selectbox(key="example_choice").set_value(option).run()
        assert not at.exception, (option, at.exception)
        assert at.subheader, option
