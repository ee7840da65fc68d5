"""Where the bundled example scenarios, calibration profiles and the app live — in a source
checkout (``scenarios/`` beside the package) or inside an installed wheel (``simkit/_data``)."""

from __future__ import annotations

from pathlib import Path

__all__ = ["app_dir", "calibration_dir", "example_scenarios", "examples_dir"]

_PACKAGE = Path(__file__).resolve().parent


def _bundled(name: str) -> Path:
    for candidate in (_PACKAGE / "_data" / name, _PACKAGE.parent / name):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError(f"the bundled folder {name!r} is missing from this installation")


def examples_dir() -> Path:
    return _bundled("scenarios")


def calibration_dir() -> Path:
    return _bundled("calibration")


def app_dir() -> Path:
    return _bundled("app")


def example_scenarios() -> list[Path]:
    """Every example scenario file, sorted by name."""
    return sorted(examples_dir().glob("*.yaml"))
