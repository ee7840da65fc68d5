"""Mapping profiles: how the columns and values of one kind of ticket export become simkit's
tickets, visits and pauses.

A profile is a small YAML file in ``calibration/`` (``servicenow``, ``jira``, ``bpic2013``,
``bpic2014``, ``helpdesk``, ``generic``) or anywhere else, validated like a scenario: every
problem is reported with its line and the fix. It names the export's columns (a list gives
alternatives, matched case-insensitively), the time zone and date formats, the missing-value
markers, how raw priorities become ``P1``…, and which states are pauses, pickups, resolutions,
cancellations, reopenings or bookkeeping to ignore. See ``docs/calibration.md``.
"""

from __future__ import annotations

import difflib
import re
import zoneinfo
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Literal

import numpy as np
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    ValidationError,
    field_validator,
    model_validator,
)

from simkit.calendar_spec import known_zone
from simkit.calibrate.clean import ISO, format_pattern
from simkit.errors import InputError, Problem, SpecError
from simkit.scenario.types import spec_error
from simkit.scenario.yamlsource import parse_yaml

__all__ = [
    "COLUMN_FIELDS",
    "Columns",
    "Priorities",
    "Profile",
    "StateClass",
    "StateSet",
    "States",
    "load_profile",
    "missing_column_problem",
    "profile_names",
    "resolve_column",
    "resolve_columns",
]

MAX_PROFILE_BYTES = 200_000

ColumnRef = str | list[str]
COLUMN_FIELDS = (
    "ticket",
    "opened_at",
    "first_response_at",
    "resolved_at",
    "closed_at",
    "event_at",
    "sequence",
    "state",
    "team",
    "priority",
    "service",
    "customer",
    "reopen_count",
)
"""The simkit fields a profile maps export columns to."""

TIME_FIELDS = ("opened_at", "first_response_at", "resolved_at", "closed_at", "event_at")

_CONFIG = ConfigDict(extra="forbid", frozen=True)


class StateSet(BaseModel):
    """Values of a state/activity column that form one class: exact ``values`` (compared
    case-insensitively, spaces trimmed) or a regular expression ``pattern`` (searched,
    case-insensitive). A plain list is shorthand for ``values``."""

    model_config = _CONFIG
    values: tuple[str, ...] = ()
    pattern: str | None = None

    @model_validator(mode="before")
    @classmethod
    def _shorthand(cls, data: Any) -> Any:
        if isinstance(data, str):
            return {"values": [data]}
        if isinstance(data, list | tuple):
            return {"values": list(data)}
        return data

    @field_validator("pattern")
    @classmethod
    def _compiles(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                re.compile(value)
            except re.error as error:
                raise ValueError(f"not a valid regular expression: {error}") from None
        return value

    def matches(self, names: Sequence[str]) -> np.ndarray:
        """Which of ``names`` belong to the set."""
        wanted = {v.strip().casefold() for v in self.values}
        regex = re.compile(self.pattern, re.IGNORECASE) if self.pattern else None
        return np.array(
            [n.strip().casefold() in wanted or bool(regex and regex.search(n)) for n in names],
            dtype=bool,
        )


class StateClass:
    """Codes of the state classes, in the order of precedence when a value is in two sets."""

    WORK = 0
    STARTED = 1
    PAUSE = 2
    RESOLVED = 3
    CANCELLED = 4
    REOPEN = 5
    IGNORE = 6


class States(BaseModel):
    """Which values of the ``state`` column mean what.

    Anything not listed is work in progress with the current team. ``started`` marks the pickup
    (first response, a visit's start); ``pause`` stops the SLA clock until the next event;
    ``resolved`` ends the ticket (a later working event reopens it, or only a ``reopen`` event
    when that set is given); ``cancelled`` withdraws it (not measured); ``ignore`` is
    bookkeeping that changes nothing (quality flags, CI links).
    """

    model_config = _CONFIG
    started: StateSet = StateSet()
    pause: StateSet = StateSet()
    resolved: StateSet = StateSet()
    cancelled: StateSet = StateSet()
    reopen: StateSet = StateSet()
    ignore: StateSet = StateSet()

    def classify(self, names: Sequence[str]) -> np.ndarray:
        """The :class:`StateClass` code of each state name."""
        codes = np.full(len(names), StateClass.WORK, dtype=np.int8)
        for code, states in (
            (StateClass.STARTED, self.started),
            (StateClass.IGNORE, self.ignore),
            (StateClass.REOPEN, self.reopen),
            (StateClass.PAUSE, self.pause),
            (StateClass.CANCELLED, self.cancelled),
            (StateClass.RESOLVED, self.resolved),
        ):
            codes[states.matches(names)] = code
        return codes


class Priorities(BaseModel):
    """Raw priority values → scenario priority names.

    ``map`` is tried first (case-insensitive), then ``pattern`` — a regular expression whose
    first group is put into ``template`` at ``{1}`` (``"1 - Critical"`` with pattern
    ``^\\s*(\\d+)`` and template ``P{1}`` gives ``P1``). A missing value becomes ``default``
    when given. Values matched by neither are kept as they are and reported.
    """

    model_config = _CONFIG
    map: dict[str, str] = Field(default_factory=dict)
    pattern: str | None = None
    template: str = "P{1}"
    default: str | None = None

    @field_validator("map", mode="before")
    @classmethod
    def _stringify(cls, value: Any) -> Any:
        if isinstance(value, Mapping):
            return {str(k): str(v) for k, v in value.items()}
        return value

    @field_validator("pattern")
    @classmethod
    def _one_group(cls, value: str | None) -> str | None:
        if value is None:
            return value
        try:
            compiled = re.compile(value)
        except re.error as error:
            raise ValueError(f"not a valid regular expression: {error}") from None
        if compiled.groups < 1:
            raise ValueError("the pattern needs one group in parentheses, e.g. ^\\s*(\\d+)")
        return value

    @field_validator("template")
    @classmethod
    def _placeholder(cls, value: str) -> str:
        if value.count("{1}") != 1:
            raise ValueError("the template must contain {1} once, e.g. P{1}")
        return value

    @property
    def maps_values(self) -> bool:
        """Whether the profile says how values map (else values are kept as they are)."""
        return bool(self.map) or self.pattern is not None

    def lookup(self, names: Sequence[str]) -> list[str | None]:
        """The mapped name of each raw value (``None`` where neither map nor pattern fits)."""
        table = {k.strip().casefold(): v for k, v in self.map.items()}
        regex = re.compile(self.pattern) if self.pattern else None
        prefix, _, suffix = self.template.partition("{1}")
        out: list[str | None] = []
        for name in names:
            found = table.get(name.strip().casefold())
            if found is None and regex is not None:
                match = regex.search(name)
                if match and match.group(1) is not None:
                    found = f"{prefix}{match.group(1)}{suffix}"
            out.append(found)
        return out


class Columns(BaseModel):
    """Export columns for simkit's fields. A list names alternatives: the first present wins."""

    model_config = _CONFIG
    ticket: ColumnRef
    opened_at: ColumnRef | None = None
    first_response_at: ColumnRef | None = None
    resolved_at: ColumnRef | None = None
    closed_at: ColumnRef | None = None
    event_at: ColumnRef | None = None
    sequence: ColumnRef | None = None
    state: ColumnRef | None = None
    team: ColumnRef | None = None
    priority: ColumnRef | None = None
    service: ColumnRef | None = None
    customer: ColumnRef | None = None
    reopen_count: ColumnRef | None = None


class CsvOptions(BaseModel):
    """CSV settings; ``None`` means sniffed from the file."""

    model_config = _CONFIG
    delimiter: str | None = None
    encoding: str | None = None

    @field_validator("delimiter")
    @classmethod
    def _one_character(cls, value: str | None) -> str | None:
        if value is not None:
            value = "\t" if value in ("\\t", "tab") else value
            if len(value) != 1:
                raise ValueError("the delimiter is one character, e.g. ',' ';' or tab")
        return value


class RowFilter(BaseModel):
    """Keep only the rows whose ``column`` holds one of ``keep`` (the others are counted)."""

    model_config = _CONFIG
    column: ColumnRef
    keep: tuple[str, ...] = Field(min_length=1)
    reason: str = ""


class Profile(BaseModel):
    """A validated mapping profile (see the module docstring and ``docs/calibration.md``)."""

    model_config = _CONFIG
    name: str
    description: str = ""
    layout: Literal["flat", "events", "auto"] = "auto"
    timezone: str = "UTC"
    date_format: tuple[str, ...] = (ISO,)
    offsets: Literal["honour", "ignore"] = "honour"
    missing: tuple[str, ...] = ("", "?", "NULL", "null", "N/A", "n/a", "#N/B", "#MULTIVALUE")
    csv: CsvOptions = CsvOptions()
    columns: Columns
    filter: tuple[RowFilter, ...] = ()
    order_by: tuple[Literal["event_at", "sequence"], ...] = ("event_at", "sequence")
    priorities: Priorities = Priorities()
    states: States = States()
    suppliers: StateSet = StateSet()
    service: str = "default"
    unassigned: str = "unassigned"
    keep: tuple[str, ...] = ()
    _named: frozenset[str] = PrivateAttr(default=frozenset())
    """Fields whose column was named by an override (:meth:`with_overrides`): unlike a
    profile's own columns, which an export may lack, each must be found in the export."""

    @property
    def named_columns(self) -> frozenset[str]:
        """The fields whose column a command-line or page override named."""
        return self._named

    @field_validator("date_format", mode="before")
    @classmethod
    def _formats(cls, value: Any) -> Any:
        return [value] if isinstance(value, str) else value

    @field_validator("date_format")
    @classmethod
    def _strptime(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        if not value:
            raise ValueError("name at least one date format, e.g. '%d/%m/%Y %H:%M' or iso")
        for fmt in value:
            if fmt != ISO and "%" not in fmt:
                raise ValueError(
                    f"{fmt!r} is not a date format: write strptime codes such as "
                    "'%d/%m/%Y %H:%M', or iso"
                )
            format_pattern(fmt)
        return value

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        return check_timezone(value)

    @field_validator("missing", "keep", mode="before")
    @classmethod
    def _strings(cls, value: Any) -> Any:
        if isinstance(value, list | tuple):
            return [str(v) for v in value]
        return value

    def with_overrides(
        self,
        *,
        timezone: str | None = None,
        date_format: str | Sequence[str] | None = None,
        columns: Mapping[str, str] | None = None,
        service: str | None = None,
        delimiter: str | None = None,
    ) -> Profile:
        """A copy with command-line overrides applied (validated like the file)."""
        data = self.model_dump()
        if timezone is not None:
            data["timezone"] = timezone
        if date_format is not None:
            data["date_format"] = [date_format] if isinstance(date_format, str) else date_format
        if service is not None:
            data["service"] = service
        if delimiter is not None:
            data["csv"] = {**data["csv"], "delimiter": delimiter}
        for field_name, column in (columns or {}).items():
            if field_name not in COLUMN_FIELDS:
                close = difflib.get_close_matches(field_name, COLUMN_FIELDS, n=1)
                raise InputError.single(
                    f"unknown field {field_name!r} in a column override",
                    f"did you mean {close[0]!r}?"
                    if close
                    else f"use one of {', '.join(COLUMN_FIELDS)}",
                    path="--column",
                )
            data["columns"][field_name] = column or None
        result = _validated(data, file=None, lines=None, context="command-line override")
        given = {name for name, column in (columns or {}).items() if column}
        cleared = {name for name, column in (columns or {}).items() if not column}
        result._named = frozenset((self._named - cleared) | given)
        return result


def check_timezone(value: str) -> str:
    """``value`` if it names an IANA time zone."""
    if known_zone(value) is None:
        close = difflib.get_close_matches(value, sorted(zoneinfo.available_timezones()), n=1)
        raise spec_error(
            SpecError(
                f"unknown time zone {value!r}",
                f"did you mean {close[0]}?"
                if close
                else "use an IANA name such as Europe/London or UTC",
            )
        )
    return value


# -- loading ----------------------------------------------------------------------------------


def _problems(
    error: ValidationError, file: str | None, lines: Any, context: str | None
) -> list[Problem]:
    out: list[Problem] = []
    for item in error.errors():
        loc = tuple(
            p
            for p in item["loc"]
            if not (isinstance(p, str) and ("[" in p or p in ("str", "list[str]")))
        )
        path = ".".join(str(p) for p in loc)
        kind = item["type"]
        if kind == "extra_forbidden":
            key = str(loc[-1]) if loc else ""
            known = _known_keys(loc[:-1])
            close = difflib.get_close_matches(key, known, n=1, cutoff=0.6)
            message, fix = (
                f"unknown key {key!r}",
                (f"did you mean {close[0]!r}?" if close else f"use one of: {', '.join(known)}"),
            )
        elif kind == "missing":
            message, fix = f"missing required key {loc[-1]!r}", "add it (see docs/calibration.md)"
        elif kind == "simkit_spec":
            ctx = item.get("ctx") or {}
            message, fix = str(ctx.get("message", item["msg"])), str(ctx.get("fix", ""))
        elif kind == "literal_error":
            message = f"{item.get('input')!r} is not allowed here"
            fix = item["msg"].replace("Input should be", "use")
        else:
            message = item["msg"].removeprefix("Value error, ")
            fix = "see docs/calibration.md"
        if context:
            message = f"{context}: {message}"
        line = lines.line(loc) if lines is not None else None
        out.append(Problem(file=file, line=line, path=path, message=message, fix=fix))
    return out


def _known_keys(parent: tuple[Any, ...]) -> list[str]:
    model: type[BaseModel] = Profile
    for part in parent:
        if isinstance(part, int):
            continue
        info = model.model_fields.get(str(part))
        annotation = getattr(info, "annotation", None) if info else None
        candidates = [
            a for a in getattr(annotation, "__args__", (annotation,)) if isinstance(a, type)
        ]
        inner = next((a for a in candidates if issubclass(a, BaseModel)), None)
        if inner is None:
            return []
        model = inner
    return list(model.model_fields)


def _validated(data: Any, *, file: str | None, lines: Any, context: str | None = None) -> Profile:
    if not isinstance(data, Mapping):
        raise InputError.single(
            "a profile is a YAML mapping (name:, columns: …)",
            "see the profiles in calibration/ for examples",
            file=file,
        )
    try:
        return Profile.model_validate(data)
    except ValidationError as error:
        raise InputError(_problems(error, file, lines, context)) from None


def profile_names() -> list[str]:
    """Names of the bundled profiles in ``calibration/``."""
    from simkit.resources import calibration_dir

    try:
        folder = calibration_dir()
    except FileNotFoundError:
        return []
    return sorted(p.stem for p in folder.glob("*.yaml"))


def load_profile(name_or_path: str | Path) -> Profile:
    """A bundled profile by name (``servicenow``) or a profile YAML file by path.

    Raises
    ------
    simkit.errors.InputError
        Unknown name, unreadable file, or every problem of an invalid profile with its line.
    """
    text_name = str(name_or_path)
    path = Path(name_or_path)
    looks_like_path = path.suffix.lower() in (".yaml", ".yml") or path.exists() or "/" in text_name
    if not looks_like_path:
        from simkit.resources import calibration_dir

        names = profile_names()
        if text_name not in names:
            close = difflib.get_close_matches(text_name, names, n=1)
            raise InputError.single(
                f"no profile named {text_name!r}",
                (f"did you mean {close[0]!r}? " if close else "")
                + f"bundled profiles: {', '.join(names)}; or pass a profile .yaml file",
                path="--profile",
            )
        path = calibration_dir() / f"{text_name}.yaml"
    file = str(path)
    if not path.is_file():
        raise InputError.single(f"no such profile file: {file}", "check the path", file=file)
    raw = path.read_bytes()
    if len(raw) > MAX_PROFILE_BYTES:
        raise InputError.single(
            f"the profile is {len(raw):,} bytes; a profile is a short YAML file",
            "check that this is the profile and not the export",
            file=file,
        )
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise InputError.single(
            "the profile is not UTF-8 text", "save it as UTF-8", file=file
        ) from None
    data, lines, traps = parse_yaml(text, file=file)
    if traps:
        raise InputError(traps)
    return _validated(data, file=file, lines=lines)


# -- applying ---------------------------------------------------------------------------------


def _normal(name: str) -> str:
    return " ".join(name.replace("_", " ").split()).casefold()


def resolve_column(ref: ColumnRef | None, available: Sequence[str]) -> str | None:
    """The export column ``ref`` names (alternatives in order; case, spaces and underscores
    ignored), or ``None`` when none is present."""
    if ref is None:
        return None
    by_normal: dict[str, str] = {}
    for name in available:
        by_normal.setdefault(_normal(name), name)
    for candidate in [ref] if isinstance(ref, str) else ref:
        found = by_normal.get(_normal(candidate))
        if found is not None:
            return found
    return None


def resolve_columns(profile: Profile, available: Sequence[str]) -> dict[str, str]:
    """The export column for each mapped field; fields whose columns are absent are left out."""
    resolved: dict[str, str] = {}
    for field_name in COLUMN_FIELDS:
        found = resolve_column(getattr(profile.columns, field_name), available)
        if found is not None:
            resolved[field_name] = found
    return resolved


def missing_column_problem(
    field_name: str,
    ref: ColumnRef,
    available: Sequence[str],
    *,
    file: str | None,
    delimiter: str | None,
    taken: Sequence[str] = (),
) -> Problem:
    """A problem naming the column a field needs and the closest columns present (other than
    the ``taken`` ones, already mapped to other fields)."""
    wanted = [ref] if isinstance(ref, str) else list(ref)
    free = [a for a in available if a not in set(taken)]
    close = difflib.get_close_matches(wanted[0], free, n=3, cutoff=0.6)
    shown = ", ".join(repr(a) for a in list(available)[:12])
    more = f" … ({len(available)} columns)" if len(available) > 12 else ""
    message = f"column {' or '.join(repr(w) for w in wanted)} ({field_name}) not found; " + (
        f"the export has {shown}{more}" if available else "the export has no columns"
    )
    if len(available) == 1 and delimiter is not None:
        other = next((d for d in ";\t|," if d != delimiter and d in available[0]), None)
        if other is not None:
            fix = (
                f"the header is one column: the file seems to use {other!r} as delimiter — "
                f"pass --delimiter {other!r} (or set csv.delimiter in the profile)"
            )
            return Problem(file=file, line=1, path=field_name, message=message, fix=fix)
    fix = (
        f"did you mean {close[0]!r}? " if close else ""
    ) + f"name the column with --column {field_name}=NAME or in the profile's columns.{field_name}"
    return Problem(file=file, line=1, path=field_name, message=message, fix=fix)
