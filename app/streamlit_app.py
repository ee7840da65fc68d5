"""simkit front end: ``streamlit run app/streamlit_app.py`` (or ``make app`` / ``simkit app``).

The entry point draws what every page shares — the scenario picker in the sidebar, kept per
session — and hands over to the page chosen in the navigation.

The app's worker processes are spawned, and a spawned process runs its parent's main module —
this file, under the name ``__mp_main__`` — before its first task: there, nothing is drawn.
"""

from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main() -> None:
    import streamlit as st

    if str(HERE) not in sys.path:
        sys.path.insert(0, str(HERE))
    from app_support import executor, freeze_loaded_objects, quiet_motion, scenario_picker

    st.set_page_config(
        page_title="simkit — test service levels before you agree them", layout="wide"
    )
    quiet_motion()
    pages_dir = HERE / "app_pages"
    pages = [
        st.Page(pages_dir / "scenario.py", title="Scenario", icon=":material/tune:", default=True),
        st.Page(pages_dir / "availability.py", title="Availability", icon=":material/power:"),
        st.Page(pages_dir / "targets.py", title="Targets", icon=":material/target:"),
        st.Page(pages_dir / "impact.py", title="Change impact", icon=":material/compare_arrows:"),
        st.Page(pages_dir / "ola.py", title="OLA / UC", icon=":material/link:"),
        st.Page(pages_dir / "calibrate.py", title="Calibrate", icon=":material/history:"),
    ]
    navigation = st.navigation(pages)
    executor()  # the workers start, and import the engine, while the first page is drawn
    scenario_picker()
    navigation.run()
    freeze_loaded_objects()  # once, after the first page has imported what it uses


if __name__ != "__mp_main__":
    main()
