"""`simkit demo`: the whole pipeline on the bundled data, headless."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from simkit.demo import run_demo


@pytest.mark.slow
def test_demo_runs_the_whole_pipeline(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Every step succeeds and writes its files: tables per example, the calibrated scenario,
    the brief and the review pack."""
    assert run_demo(out=tmp_path) == 0
    printed = capsys.readouterr().out
    for heading in (
        "what can we promise",
        "underpin the SLA",
        "what does this change do",
        "service review",
        "calibrate and back-test",
        "from the open backlog",
        "review pack",
    ):
        assert heading in printed, heading
    document = json.loads((tmp_path / "demo.json").read_text())
    assert all(step.get("ok") for step in document["steps"]), document["steps"]
    for name in (
        "brief.html",
        "review.html",
        "calibrated.yaml",
        "forward.yaml",
        "corporate_service_desk/tickets.parquet",
    ):
        assert (tmp_path / name).is_file(), name
    assert "<svg" in (tmp_path / "brief.html").read_text()
