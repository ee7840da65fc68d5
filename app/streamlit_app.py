"""simkit front end: ``streamlit run app/streamlit_app.py`` (or ``make app`` / ``simkit app``).

The entry point draws what every page shares — the scenario picker in the sidebar, kept per
session — and hands over to the page chosen in the navigation.
"""

from __future__ import annotations

import sys
from pathlib import Path

import streamlit as st

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))

from app_support import scenario_picker  # noqa: E402

st.set_page_config(page_title="simkit — test service levels before you agree them", layout="wide")

PAGES = HERE / "app_pages"
pages = [
    st.Page(PAGES / "scenario.py", title="Scenario", icon=":material/tune:", default=True),
    st.Page(PAGES / "availability.py", title="Availability", icon=":material/power:"),
    st.Page(PAGES / "targets.py", title="Targets", icon=":material/target:"),
    st.Page(PAGES / "impact.py", title="Change impact", icon=":material/compare_arrows:"),
    st.Page(PAGES / "ola.py", title="OLA / UC", icon=":material/link:"),
    st.Page(PAGES / "calibrate.py", title="Calibrate", icon=":material/history:"),
]
navigation = st.navigation(pages)
scenario_picker()
navigation.run()
