"""docs/cli.md is the parser's own account of the commands: regenerated, it must not change."""

from __future__ import annotations

from scripts import cli_reference


def test_the_cli_reference_matches_the_parser() -> None:
    """Run ``scripts/cli_reference.py`` after changing a command or flag."""
    assert cli_reference.main(["--check"]) == 0


def test_the_cli_reference_names_every_command_and_flag() -> None:
    text = cli_reference.reference()
    for command in ("simulate", "targets", "calibrate", "review", "report", "app"):
        assert f"## simkit {command}\n" in text
    assert "`--max-visits` `MAX_VISITS`" in text and "`--json`" in text
