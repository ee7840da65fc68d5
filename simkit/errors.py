"""Errors that carry what a user needs to fix bad input.

Every entry point (scenario file, history file, CLI flag, upload, slider) reports problems as
:class:`Problem` records — file, line where known, field path, message and fix — collected into one
:class:`InputError`, so a user sees *every* problem at once and never a traceback.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass

__all__ = ["InputError", "Problem", "SimkitError", "SpecError"]


class SimkitError(Exception):
    """Base class of every error simkit raises on purpose."""


class SpecError(ValueError):
    """A single value is malformed: ``message`` says what is wrong, ``fix`` how to mend it.

    Raised by the small parsers (durations, percentages, day ranges, distributions) and turned into
    a :class:`Problem` with file, line and field path by whoever called them.
    """

    def __init__(self, message: str, fix: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.fix = fix

    def __str__(self) -> str:
        return f"{self.message} — {self.fix}" if self.fix else self.message


@dataclass(frozen=True)
class Problem:
    """One problem in one input: where it is, what is wrong, how to fix it."""

    file: str | None
    line: int | None
    path: str
    message: str
    fix: str

    def as_dict(self) -> dict[str, object]:
        return asdict(self)

    def __str__(self) -> str:
        where = self.file or "<input>"
        if self.line is not None:
            where += f":{self.line}"
        field = f" {self.path}:" if self.path else ""
        fix = f"\n    fix: {self.fix}" if self.fix else ""
        return f"{where}:{field} {self.message}{fix}"


class InputError(SimkitError):
    """Bad input: one or more :class:`Problem` records. Exit code 2 on the command line."""

    def __init__(self, problems: Iterable[Problem]) -> None:
        self.problems: Sequence[Problem] = tuple(problems)
        super().__init__(self.describe())

    @classmethod
    def single(
        cls,
        message: str,
        fix: str = "",
        *,
        file: str | None = None,
        line: int | None = None,
        path: str = "",
    ) -> InputError:
        return cls([Problem(file=file, line=line, path=path, message=message, fix=fix)])

    def describe(self) -> str:
        n = len(self.problems)
        head = f"{n} problem{'s' if n != 1 else ''} found:"
        return "\n".join([head, *(f"  {p}" for p in self.problems)])

    def as_json(self) -> dict[str, list[dict[str, object]]]:
        return {"errors": [p.as_dict() for p in self.problems]}
