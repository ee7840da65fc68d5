"""simkit front end: ``streamlit run app/streamlit_app.py`` (or ``make app``)."""

from __future__ import annotations

import sys
from pathlib import Path

import streamlit as st

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))

st.set_page_config(page_title="simkit — test service levels before you agree them", layout="wide")

pages = [
    st.Page(str(HERE / "app_pages" / "scenario.py"), title="Scenario", icon="🗂️", default=True),
]
st.navigation(pages).run()
