"""Shared helpers of the app pages: scenario choice and upload, kept per session."""

from __future__ import annotations

import streamlit as st

from simkit.errors import InputError
from simkit.resources import example_scenarios
from simkit.scenario import Scenario, load_scenario, parse_scenario

MAX_UPLOAD_BYTES = 1_000_000


@st.cache_resource(show_spinner=False)
def _example(path: str) -> Scenario:
    return load_scenario(path)


def scenario_picker() -> None:
    """Sidebar: choose a bundled example or upload a scenario; the choice is per session."""
    examples = {p.stem.replace("_", " "): str(p) for p in example_scenarios()}
    with st.sidebar:
        st.header("Scenario")
        choice = st.selectbox("Example", list(examples), key="example_choice")
        upload = st.file_uploader(
            "…or upload a scenario (YAML)", type=["yaml", "yml"], key="upload"
        )
    st.session_state.pop("scenario_error", None)
    if upload is not None:
        data = upload.getvalue()
        if len(data) > MAX_UPLOAD_BYTES:
            st.session_state["scenario_error"] = (
                f"{upload.name} is {len(data):,} bytes; scenarios are limited to "
                f"{MAX_UPLOAD_BYTES:,} bytes."
            )
            st.session_state["scenario"] = None
            return
        try:
            st.session_state["scenario"] = parse_scenario(data, file=upload.name, allow_files=False)
        except InputError as error:
            st.session_state["scenario_error"] = error.describe()
            st.session_state["scenario"] = None
        return
    st.session_state["scenario"] = _example(examples[choice])


def current_scenario() -> Scenario | None:
    """The session's scenario, or ``None`` after showing why there is none."""
    error = st.session_state.get("scenario_error")
    if error:
        st.error("The uploaded scenario cannot be used:")
        st.code(error, language=None)
        return None
    scenario: Scenario | None = st.session_state.get("scenario")
    return scenario
