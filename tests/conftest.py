"""Shared fixtures."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import settings

# The property tests draw the same examples on every run ("fixed"), so that a run of the suite
# passes or fails the same way on any machine. `make fuzz` draws new examples ("fuzz"): run it
# to look for new failures, and add each one found as a plain regression case.
settings.register_profile("fixed", derandomize=True, database=None)
settings.register_profile("fuzz", derandomize=False)
settings.load_profile(os.environ.get("SIMKIT_HYPOTHESIS", "fixed"))

# The app, run in this process by AppTest, would freeze the objects alive at its first page
# (gc.freeze) and leave the suite's garbage collection changed for every later test.
os.environ.setdefault("SIMKIT_APP_FREEZE", "0")

ROOT = Path(__file__).resolve().parent.parent
SHARED_DATA = ROOT.parent / "shared" / "data"


@pytest.fixture(scope="session")
def root() -> Path:
    return ROOT


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The real public data beside the project; tests that need it skip where it is absent."""
    if not SHARED_DATA.is_dir():
        pytest.skip("../shared/data is absent (a user's fresh clone has none)")
    return SHARED_DATA


@pytest.fixture
def downloads(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, Any]]:
    """What each download button of an app page under ``AppTest`` would send, by file name."""
    from test_app import RecordingFiles

    RecordingFiles.files = {}
    monkeypatch.setattr("streamlit.testing.v1.app_test.MediaFileManager", RecordingFiles)
    yield RecordingFiles.files
