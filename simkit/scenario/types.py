"""Annotated field types of the scenario format: durations, percentages, distributions, names.

Each parser raises :class:`simkit.errors.SpecError`; :func:`spec_validator` turns that into a
pydantic error that keeps the fix, so ``simkit validate`` can print it next to the message.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

from pydantic import BeforeValidator, ValidationInfo, WithJsonSchema
from pydantic_core import PydanticCustomError

from simkit import distributions
from simkit.errors import SpecError
from simkit.units import parse_duration, parse_fraction

__all__ = [
    "Code",
    "Duration",
    "Fraction",
    "Growth",
    "LocalDate",
    "Name",
    "PositiveDuration",
    "SpecDistribution",
    "spec_error",
]


def spec_error(error: SpecError) -> PydanticCustomError:
    return PydanticCustomError(
        "simkit_spec", "{message}", {"message": error.message, "fix": error.fix}
    )


def spec_validator(parse: Callable[[Any], Any]) -> BeforeValidator:
    def validate(value: Any) -> Any:
        try:
            return parse(value)
        except SpecError as error:
            raise spec_error(error) from None

    return BeforeValidator(validate)


_DURATION_SCHEMA = {
    "anyOf": [
        {
            "type": "string",
            "pattern": (
                r"^\s*[0-9]*\.?[0-9]+([eE][-+]?[0-9]+)?\s*"
                r"([sS]|[sS][eE][cC]|[mM]|[mM][iI][nN]|[hH]|[hH][rR]|[dD]|[wW])\s*$"
            ),
        },
        {"type": "number", "minimum": 0},
    ],
    "description": "A duration: '30m', '4h', '1.5h', '3d' (= 72 h), '2w', or a number of hours.",
}
_FRACTION_SCHEMA = {
    "anyOf": [
        {"type": "string", "pattern": r"^\s*[0-9]*\.?[0-9]+\s*%\s*$"},
        {"type": "number", "minimum": 0, "maximum": 1},
    ],
    "description": "A percentage: '95%' or a fraction 0.95 (a bare 95 is refused).",
}

Duration = Annotated[float, spec_validator(parse_duration), WithJsonSchema(_DURATION_SCHEMA)]
PositiveDuration = Annotated[
    float,
    spec_validator(lambda v: parse_duration(v, allow_zero=False)),
    WithJsonSchema(_DURATION_SCHEMA),
]
Fraction = Annotated[float, spec_validator(parse_fraction), WithJsonSchema(_FRACTION_SCHEMA)]


def _parse_growth(value: Any) -> float:
    """Growth per year: a percentage from -100% (excluded: no demand at all) to 100%."""
    try:
        if isinstance(value, str) and value.strip().startswith("-"):
            growth = -parse_fraction(value.strip()[1:])
        elif isinstance(value, int | float) and not isinstance(value, bool) and value < 0:
            growth = -parse_fraction(-value)
        else:
            growth = parse_fraction(value)
    except SpecError:
        raise SpecError(
            f"{value!r} is not a growth rate",
            "write a yearly percentage from -100% to 100%, such as 5% or -3%, or 0.05",
        ) from None
    if growth <= -1.0:
        raise SpecError(
            f"a growth of {value!r} a year leaves no demand at all",
            "write a decline above -100%, e.g. -50%",
        )
    return growth


Growth = Annotated[
    float,
    spec_validator(_parse_growth),
    WithJsonSchema(
        {"type": ["string", "number"], "description": "Growth per year: '5%' or '-3%'."}
    ),
]


def _parse_date(value: Any) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value.strip())
        except ValueError:
            pass
    raise SpecError(f"{value!r} is not a date", "write dates as YYYY-MM-DD, e.g. 2027-01-04")


LocalDate = Annotated[
    dt.date,
    spec_validator(_parse_date),
    WithJsonSchema({"type": "string", "format": "date", "description": "A local date YYYY-MM-DD."}),
]


def _parse_name(value: Any) -> str:
    if isinstance(value, bool):
        raise SpecError(
            f"this name was read as {str(value).lower()} (YAML reads yes/no/on/off/NO unquoted as "
            "true/false)",
            'quote it, e.g. "NO"',
        )
    if isinstance(value, int | float):
        return str(value)
    if not isinstance(value, str) or not value.strip():
        raise SpecError(f"expected a name, got {value!r}", "write a non-empty name")
    return value


Name = Annotated[str, spec_validator(_parse_name), WithJsonSchema({"type": "string"})]


def _parse_code(value: Any) -> str:
    """A code such as a country (``NO``) or subdivision (``02``): YAML turns unquoted ones into
    booleans or numbers, which lose the code."""
    if isinstance(value, bool):
        raise SpecError(
            f"this code was read as {str(value).lower()} (YAML reads NO, yes, on, off unquoted as "
            "true/false)",
            'quote it, e.g. country: "NO"',
        )
    if isinstance(value, int | float):
        raise SpecError(
            f"this code was read as the number {value} (leading zeros and letters are lost)",
            'quote it, e.g. subdivision: "02"',
        )
    if not isinstance(value, str) or not value.strip():
        raise SpecError(
            f"expected a code such as GB or ENG, got {value!r}", "write the code in quotes"
        )
    return value


Code = Annotated[str, spec_validator(_parse_code), WithJsonSchema({"type": "string"})]


def _parse_distribution(value: Any, info: ValidationInfo) -> distributions.Distribution:
    if isinstance(value, distributions.Distribution):
        return value
    context = info.context or {}
    base_dir = context.get("base_dir")
    try:
        return distributions.from_spec(
            value,
            base_dir=Path(base_dir) if base_dir is not None else None,
            allow_files=bool(context.get("allow_files", True)),
        )
    except SpecError as error:
        raise spec_error(error) from None


_DISTRIBUTION_SCHEMA = {
    "type": "object",
    "description": (
        "One family: exponential {mean}, lognormal {mean, cv} or {mu, sigma}, gamma {mean, cv} or "
        "{shape, scale}, weibull {shape, scale} or {shape, mean}, fixed {value}, uniform {low, "
        "high}, empirical {values | file}. Times take units ('25m', '3h')."
    ),
    "minProperties": 1,
    "maxProperties": 1,
    "propertyNames": {
        "enum": ["exponential", "lognormal", "gamma", "weibull", "fixed", "uniform", "empirical"]
    },
}

SpecDistribution = Annotated[
    distributions.Distribution,
    BeforeValidator(_parse_distribution),
    WithJsonSchema(_DISTRIBUTION_SCHEMA),
]
