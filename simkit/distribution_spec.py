"""Parsing a scenario-file distribution such as ``{lognormal: {mean: 25m, cv: 1.2}}`` into a
:class:`~simkit.distributions.Distribution` (:func:`from_spec`), with the fix for every mistake.

Import :func:`from_spec` from :mod:`simkit.distributions`.
"""

from __future__ import annotations

import difflib
import math
import os
import re
import string
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from simkit.distribution_families import (
    _EXAMPLES,
    _FORMS,
    FAMILIES,
    Distribution,
    Empirical,
    Exponential,
    Fixed,
    FloatArray,
    Gamma,
    Lognormal,
    Uniform,
    Weibull,
    _check_positive,
    _show,
)
from simkit.errors import SpecError
from simkit.units import parse_duration

__all__ = ["from_spec"]


def _closest(name: str, options: Iterable[str]) -> str:
    options = list(options)
    prefixed = [o for o in options if name and o.startswith(name.lower())]
    close = prefixed or difflib.get_close_matches(name.lower(), options, n=1, cutoff=0.5)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _accepted(family: str) -> str:
    return " or ".join("{" + ", ".join(form) + "}" for form in _FORMS[family])


def _choose_form(family: str, params: Mapping[Any, Any]) -> tuple[str, ...]:
    keys = {str(k) for k in params}
    known = {name for form in _FORMS[family] for name in form}
    fix = f"{family} takes {_accepted(family)}, e.g. {_EXAMPLES[family]}"
    unknown = sorted(keys - known)
    if unknown:
        name = unknown[0]
        raise SpecError(f"{family} has no parameter {name!r}{_closest(name, sorted(known))}", fix)
    for form in _FORMS[family]:
        if keys == set(form):
            return form
    partial = [form for form in _FORMS[family] if keys <= set(form)]
    if partial:
        missing = [", ".join(p for p in form if p not in keys) for form in partial]
        raise SpecError(f"{family} is missing {' or '.join(missing)}", fix)
    raise SpecError(f"{family} cannot combine {', '.join(sorted(keys))}", "give one set: " + fix)


def _duration(family: str, name: str, value: Any, *, positive: bool = False) -> float:
    """A time parameter in hours; ``positive`` refuses zero as well as negative times."""
    if (isinstance(value, int | float) and not isinstance(value, bool) and value < 0) or (
        isinstance(value, str) and value.strip().startswith("-")
    ):
        if positive:
            _check_positive(family, name, -1.0, time=True, shown=value)
        raise SpecError(
            f"{family} {name} cannot be negative, got {_show(value)}",
            f"write a time of zero or more such as '25m', e.g. {_EXAMPLES[family]}",
        )
    try:
        hours = parse_duration(value)
    except SpecError as error:
        fix = error.fix or f"write a time such as '25m', e.g. {_EXAMPLES[family]}"
        raise SpecError(f"{family} {name}: {error.message}", fix) from None
    if positive:
        _check_positive(family, name, hours, time=True, shown=value)
    return hours


def _number(family: str, name: str, value: Any) -> float:
    number: float | None = None
    if isinstance(value, int | float) and not isinstance(value, bool):
        number = float(value)
    elif isinstance(value, str):
        try:
            number = float(value.strip())
        except ValueError:
            number = None
    if number is None or not math.isfinite(number):
        hint = " (a plain number, no time unit)" if isinstance(value, str) else ""
        raise SpecError(
            f"{family} {name} must be a number{hint}, got {_show(value)}",
            f"e.g. {_EXAMPLES[family]}",
        )
    return number


def _positive_duration(family: str, name: str, value: Any) -> float:
    return _duration(family, name, value, positive=True)


def _positive_number(family: str, name: str, value: Any) -> float:
    number = _number(family, name, value)
    _check_positive(family, name, number, time=False, shown=value)
    return number


def _cell_hours(cell: str) -> float:
    """A CSV cell in hours: a plain number or a duration string such as ``25m``."""
    try:
        return float(cell)
    except ValueError:
        return parse_duration(cell)


def _column_hours(cells: npt.NDArray[np.str_]) -> FloatArray | None:
    """Hours from plain numbers and duration strings in bulk; ``None`` if any cell is malformed."""
    cells = np.strings.strip(np.strings.strip(cells, "\"'"))
    numbers = np.strings.rstrip(cells, string.ascii_letters)
    units = np.strings.lower(np.strings.slice(cells, np.strings.str_len(numbers), None))
    try:
        values = np.strings.strip(numbers).astype(np.float64)
        names, which = np.unique(units, return_inverse=True)
        per_unit = np.array([parse_duration(f"1{name}") if name else 1.0 for name in names])
    except (ValueError, SpecError):
        return None
    return np.asarray(values * per_unit[which], dtype=np.float64)


def _read_column(path: Path, shown: str) -> tuple[float, ...]:
    """The durations in a one-column CSV file (hours or duration strings, optional header)."""
    fix = "the path is relative to the scenario file; the file has one column of durations"
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise SpecError(f"empirical file {shown!r} not found (looked for {path})", fix) from None
    except (OSError, UnicodeDecodeError) as error:
        reason = error.strerror if isinstance(error, OSError) and error.strerror else str(error)
        raise SpecError(f"empirical file {shown!r} cannot be read: {reason}", fix) from None
    separator = re.search(r"[,;\t]", text)
    if separator is not None:
        n = text.count("\n", 0, separator.start()) + 1
        line = text.splitlines()[n - 1].strip()
        raise SpecError(
            f"empirical file {shown!r} line {n} has more than one column: {_show(line)}",
            "keep one column of durations (hours or strings like '25m')",
        )
    lines = [line.strip() for line in text.splitlines()]
    cells = [(n, line) for n, line in enumerate(lines, start=1) if line]
    if cells:
        try:
            _cell_hours(cells[0][1].strip("\"'"))
        except SpecError:
            cells = cells[1:]
    if not cells:
        raise SpecError(f"empirical file {shown!r} holds no durations", fix)
    try:
        hours: FloatArray | None = np.array([cell for _, cell in cells], dtype=np.float64)
    except ValueError:
        hours = _column_hours(np.array([cell for _, cell in cells]))
    if hours is None:
        hours = np.empty(len(cells), dtype=np.float64)
        for i, (n, cell) in enumerate(cells):
            try:
                hours[i] = _cell_hours(cell.strip("\"'").strip())
            except SpecError as error:
                raise SpecError(
                    f"empirical file {shown!r} line {n}: {error.message}",
                    error.fix or "write hours or durations such as '25m'",
                ) from None
    bad = np.flatnonzero(~np.isfinite(hours) | (hours < 0))
    if bad.size:
        n, cell = cells[int(bad[0])]
        raise SpecError(
            f"empirical file {shown!r} line {n}: {cell!r} is not a duration of zero or more",
            "write hours or durations such as '25m'",
        )
    return tuple(hours.tolist())


def _empirical(
    form: tuple[str, ...], params: Mapping[str, Any], base_dir: Path | None, allow_files: bool
) -> Empirical:
    if form == ("values",):
        raw = params["values"]
        if isinstance(raw, str | bytes | Mapping) or not isinstance(raw, Sequence):
            raise SpecError(
                f"empirical values must be a list of durations, got {_show(raw)}",
                "e.g. values: [10m, 25m, 2h]",
            )
        numeric = all(isinstance(v, int | float) and not isinstance(v, bool) for v in raw)
        if numeric and raw:
            array = np.asarray(raw, dtype=np.float64)
            if np.isfinite(array).all() and (array >= 0).all():
                return Empirical(tuple(array.tolist()))  # plain hours: no per-value parsing
        values = tuple(_duration("empirical", f"values[{i}]", v) for i, v in enumerate(raw))
        return Empirical(values)
    raw_file = params["file"]
    if not isinstance(raw_file, str | os.PathLike) or not str(raw_file).strip():
        raise SpecError(
            f"empirical file must be a path, got {_show(raw_file)}", "e.g. file: handling.csv"
        )
    shown = os.fspath(raw_file)
    if not allow_files:
        raise SpecError(
            f"empirical file {shown!r} cannot be read: an uploaded scenario may not name files",
            "list the durations instead, e.g. {empirical: {values: [10m, 25m, 2h]}}",
        )
    path = Path(shown).expanduser()
    if not path.is_absolute():
        if base_dir is None:
            raise SpecError(
                f"empirical file {shown!r} is a relative path, and this scenario has no folder "
                "to read it from",
                "give the file's absolute path, or load the scenario from its file",
            )
        path = base_dir / path
    return Empirical(_read_column(path, shown), file=shown)


def _build(family: str, form: tuple[str, ...], p: Mapping[str, Any]) -> Distribution:
    if family == "exponential":
        return Exponential(_positive_duration(family, "mean", p["mean"]))
    if family in ("lognormal", "gamma") and form == ("mean", "cv"):
        mean_h = _positive_duration(family, "mean", p["mean"])
        cv = _positive_number(family, "cv", p["cv"])
        return Lognormal(mean_h, cv) if family == "lognormal" else Gamma(mean_h, cv)
    if family == "lognormal":
        return Lognormal.from_log(
            _number(family, "mu", p["mu"]), _number(family, "sigma", p["sigma"])
        )
    if family == "gamma":
        shape = _positive_number(family, "shape", p["shape"])
        return Gamma.from_shape_scale(shape, _positive_duration(family, "scale", p["scale"]))
    if family == "weibull":
        shape = _positive_number(family, "shape", p["shape"])
        if form == ("shape", "scale"):
            return Weibull.from_shape_scale(shape, _positive_duration(family, "scale", p["scale"]))
        return Weibull(shape, _positive_duration(family, "mean", p["mean"]))
    if family == "fixed":
        return Fixed(_positive_duration(family, "value", p["value"]))
    low = _duration(family, "low", p["low"])
    high = _duration(family, "high", p["high"])
    if high < low:
        raise SpecError(
            f"uniform low ({_show(p['low'])}) is above high ({_show(p['high'])})",
            "swap them: low is the shortest time, high the longest",
        )
    return Uniform(low, high)


def from_spec(spec: Any, *, base_dir: Path | None = None, allow_files: bool = True) -> Distribution:
    """Parse a scenario-file distribution such as ``{"lognormal": {"mean": "25m", "cv": 1.2}}``.

    Parameters
    ----------
    spec
        A mapping with exactly one family key (see :data:`FAMILIES`) whose value maps parameter
        names to values; times take units (``"25m"``, ``"3h"``, ``"1d"``) or are numbers of hours.
    base_dir
        Directory that a relative ``empirical.file`` path is resolved against (the scenario file's
        directory); the current directory when ``None``.
    allow_files
        Whether ``empirical.file`` may be read. ``False`` for uploaded scenarios, which must not
        read files on the server.

    Returns
    -------
    Distribution
        The frozen distribution, in hours.

    Raises
    ------
    SpecError
        When the spec is malformed: not a mapping, no or several families, an unknown family or
        parameter, a missing parameter, a non-positive mean, value, shape or cv, ``low > high``,
        empty values, or an unreadable or forbidden file. The message names the problem and the
        fix says which parameter sets the family accepts.
    """
    families = ", ".join(FAMILIES)
    if not isinstance(spec, Mapping):
        raise SpecError(
            f"a distribution must be a mapping with one family, got {_show(spec)}",
            f"write e.g. {_EXAMPLES['lognormal']}; families: {families}",
        )
    keys = [str(k) for k in spec]
    parameter_names = {name for forms in _FORMS.values() for form in forms for name in form}
    if keys and all(k in parameter_names for k in keys):
        verb = "is a parameter" if len(keys) == 1 else "are parameters"
        raise SpecError(
            f"{', '.join(repr(k) for k in keys)} {verb}, not a family",
            f"put the family around them, e.g. {_EXAMPLES['lognormal']}; families: {families}",
        )
    if len(keys) != 1:
        got = "no family" if not keys else f"{len(keys)} families ({', '.join(keys)})"
        raise SpecError(
            f"a distribution names exactly one family, got {got}",
            f"keep one of: {families}, e.g. {_EXAMPLES['lognormal']}",
        )
    family = keys[0]
    if family not in _FORMS:
        raise SpecError(
            f"unknown distribution family {family!r}{_closest(family, FAMILIES)}",
            f"use one of: {families}",
        )
    params = next(iter(spec.values()))
    if not isinstance(params, Mapping):
        raise SpecError(
            f"{family} parameters must be a mapping, got {_show(params)}",
            f"{family} takes {_accepted(family)}, e.g. {_EXAMPLES[family]}",
        )
    form = _choose_form(family, params)
    named = {str(k): v for k, v in params.items()}
    if family == "empirical":
        return _empirical(form, named, base_dir, allow_files)
    return _build(family, form, named)
