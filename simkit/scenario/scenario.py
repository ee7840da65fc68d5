"""The :class:`Scenario`: a validated, frozen scenario with its source, calendars and changes."""

from __future__ import annotations

import copy
import datetime as dt
import difflib
import functools
import hashlib
import json
import zoneinfo
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import yaml
from pydantic import BaseModel, PrivateAttr, ValidationError

from simkit.calendar_spec import known_zone
from simkit.errors import InputError, Problem, SpecError
from simkit.scenario.checks import (
    BUILTIN_CALENDARS,
    cross_check,
    natural_key,
)
from simkit.scenario.models import (
    CalendarHours,
    ScenarioModel,
    Window,
)
from simkit.scenario.overlay import merge_patch
from simkit.scenario.pydantic_errors import pick_problems
from simkit.scenario.yamlsource import Lines, parse_yaml

_T = TypeVar("_T")

if TYPE_CHECKING:
    from simkit.calendar import Calendar

__all__ = ["Overlay", "Scenario", "load_scenario", "parse_scenario", "scenario_problems"]

MAX_SCENARIO_BYTES = 2_000_000


_IN_PLACE = (
    "a scenario cannot be changed in place: its YAML, fingerprint and cached figures would no "
    "longer match it; make a changed copy with scenario.with_patch({...})"
)


class ReadOnlyDict(dict[Any, Any]):
    """The mappings of a validated scenario (teams, rosters, priorities …): a ``dict`` that
    refuses changes, as the scenario's frozen models refuse new attribute values."""

    __slots__ = ()

    def _refuse(self, *args: Any, **kwargs: Any) -> Any:
        raise TypeError(_IN_PLACE)

    __setitem__ = __delitem__ = __ior__ = _refuse
    clear = pop = popitem = setdefault = update = _refuse

    def __reduce__(self) -> tuple[Any, ...]:
        return (ReadOnlyDict, (dict(self),))


def _freeze(value: Any) -> Any:
    """``value`` with every mapping inside it read-only (models: in place, once validated)."""
    if isinstance(value, BaseModel):
        for name, field_value in value.__dict__.items():
            frozen = _freeze(field_value)
            if frozen is not field_value:
                object.__setattr__(value, name, frozen)
        return value
    if isinstance(value, dict) and not isinstance(value, ReadOnlyDict):
        return ReadOnlyDict({key: _freeze(item) for key, item in value.items()})
    if isinstance(value, tuple):
        items = tuple(_freeze(item) for item in value)
        return value if all(a is b for a, b in zip(items, value, strict=True)) else items
    if isinstance(value, list):
        return tuple(_freeze(item) for item in value)
    return value


@dataclass(frozen=True)
class Overlay:
    """A windowed change in force: ``scenario`` holds inside ``window``, the baseline outside."""

    name: str
    window: Window
    scenario: Scenario
    patch: Mapping[str, Any]


class Scenario(ScenarioModel):
    """A validated scenario. Build it with :func:`load_scenario` or :func:`parse_scenario`."""

    _raw: dict[str, Any] = PrivateAttr(default_factory=dict)
    _file: str | None = PrivateAttr(default=None)
    _base_dir: Path | None = PrivateAttr(default=None)
    _allow_files: bool = PrivateAttr(default=True)
    _overlays: tuple[Overlay, ...] = PrivateAttr(default=())
    _applied: tuple[str, ...] = PrivateAttr(default=())
    _yaml: str | None = PrivateAttr(default=None)
    _derived: dict[str, Any] = PrivateAttr(default_factory=dict)

    # -- provenance -------------------------------------------------------------------------
    @property
    def source(self) -> str | None:
        """The file the scenario came from (``None`` for an upload or a built value)."""
        return self._file

    @property
    def base_dir(self) -> Path | None:
        """Files the scenario names resolve relative to this folder."""
        return self._base_dir

    @property
    def raw(self) -> dict[str, Any]:
        """A deep copy of the scenario data as written (with permanent changes merged in)."""
        return copy.deepcopy(self._raw)

    @property
    def overlays(self) -> tuple[Overlay, ...]:
        """Windowed changes in force, in the order they were applied."""
        return self._overlays

    @property
    def applied_changes(self) -> tuple[str, ...]:
        """Names of the changes applied to the scenario as loaded."""
        return self._applied

    # -- derived values ---------------------------------------------------------------------
    @property
    def priorities(self) -> tuple[str, ...]:
        """Every priority, highest rank first: ``priority_order``, else natural sort of names."""
        if self.priority_order is not None:
            return tuple(self.priority_order)
        names = {p for s in self.services.values() for p in s.priorities}
        return tuple(sorted(names, key=natural_key))

    def calendar(self, name: str) -> Calendar:
        """The business calendar ``name`` (``24x7``/``always`` exist unless redefined)."""
        return _build_calendar(self, name)

    @property
    def calendar_names(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys([*self.calendars, *BUILTIN_CALENDARS]))

    # -- changes ----------------------------------------------------------------------------
    def apply(self, *names: str) -> Scenario:
        """The scenario with the named changes applied: a permanent change is merged in; a
        windowed one holds inside its window only (see :attr:`overlays`)."""
        scenario = self
        for name in names:
            if name not in self.changes:
                known = ", ".join(self.changes) or "none defined"
                close = difflib.get_close_matches(name, list(self.changes), n=1)
                hint = f"did you mean {close[0]!r}? " if close else ""
                raise InputError.single(
                    f"there is no change named {name!r}",
                    f"{hint}changes in this scenario: {known}",
                    file=self._file,
                    path=f"changes.{name}",
                )
            change = self.changes[name]
            scenario = scenario.with_patch(change.patch, window=change.window, name=name)
        return scenario

    def with_patch(
        self, patch: Mapping[str, Any], *, window: Window | None = None, name: str = "custom"
    ) -> Scenario:
        """The scenario with a merge patch applied, permanently or inside ``window``, and
        ``name`` added to :attr:`applied_changes` — unless the patch only defines changes
        (``{"changes": …}``), which changes no figure until one of them is applied."""
        if window is None:
            return self.with_patch_everywhere(patch, [{}] * len(self._overlays), name=name)
        patched = self._validated_patch(patch, name)
        result = self.model_copy()
        result._raw = self._raw
        result._file, result._base_dir = self._file, self._base_dir
        result._allow_files = self._allow_files
        result._overlays = (*self._overlays, Overlay(name, window, patched, patch))
        result._applied = (*self._applied, name)
        result._derived = {}  # a windowed change has figures of its own
        return result

    def with_patch_everywhere(
        self,
        patch: Mapping[str, Any],
        inside: Sequence[Mapping[str, Any]],
        *,
        name: str = "custom",
    ) -> Scenario:
        """:meth:`with_patch` (permanent), with each windowed change in force also setting, inside
        its window, what ``inside[k]`` sets — a patch made, like ``patch``, from the scenario
        inside the window of ``overlays[k]``.

        A relative move ("volume +10%", "one more agent on this line") written as a patch holds
        absolute values taken from the scenario outside every window; a windowed change that sets
        the same values (``per_week: 585`` from March) would set them back inside its window.
        With the same move made from the scenario inside each window, it holds there too.
        """
        if len(inside) != len(self._overlays):
            raise ValueError(f"{len(self._overlays)} windowed changes, {len(inside)} patches")
        patched = self._validated_patch(patch, name)
        defines_only = set(patch) == {"changes"}
        patched._applied = self._applied if defines_only else (*self._applied, name)
        # Inside a window the engine runs the patched scenario with the window's patch over it
        # (``merge_patch(o.patch, extra)``): the overlay's scenario is that, so that what is read
        # from it (the values a later move starts from) is what runs there.
        patches = [
            merge_patch(o.patch, extra) for o, extra in zip(self._overlays, inside, strict=True)
        ]
        patched._overlays = tuple(
            Overlay(o.name, o.window, patched.with_patch(window_patch, name=o.name), window_patch)
            for o, window_patch in zip(self._overlays, patches, strict=True)
        )
        return patched

    def _validated_patch(self, patch: Mapping[str, Any], name: str) -> Scenario:
        """This scenario's settings with ``patch`` merged in, validated (no windowed change)."""
        return _validated(
            merge_patch(self._raw, patch),
            file=self._file,
            base_dir=self._base_dir,
            allow_files=self._allow_files,
            lines=None,
            context=f"change {name!r}",
        )

    def to_yaml(self) -> str:
        """The scenario as YAML (permanent changes merged in; windowed ones stay under changes)."""
        if self._yaml is None:  # a scenario never changes: written once
            self._yaml = yaml.safe_dump(_plain(self._raw), sort_keys=False, allow_unicode=True)
        return self._yaml

    def _settings_text(self) -> str:
        """The settings as compact JSON, a value JSON has no type for (a date) as its type and
        text: what :meth:`fingerprint` digests. It is written in well under a millisecond,
        where the YAML takes about 15 ms, and the workbench takes a fingerprint of every
        scenario a slider makes, twice."""
        return json.dumps(
            _plain(self._raw), ensure_ascii=False, separators=(",", ":"), default=_typed_text
        )

    def derived(self, name: str, compute: Callable[[], _T]) -> _T:
        """A figure that depends on this scenario alone (``name`` says which), computed by
        ``compute`` once per scenario object: a scenario never changes."""
        if name not in self._derived:
            self._derived[name] = compute()
        value: _T = self._derived[name]
        return value

    def fingerprint(self) -> str:
        """A digest of everything that decides the scenario's numbers: its settings (what
        :meth:`to_yaml` writes) and the windowed changes in force (name, window and the scenario
        inside the window), in order. Equal fingerprints, equal scenarios; files it names are
        identified by name only."""
        digest = hashlib.sha256(self.derived("settings_text", self._settings_text).encode("utf-8"))
        for overlay in self._overlays:
            window = overlay.window
            for part in (overlay.name, str(window.from_), str(window.until)):
                digest.update(b"\0" + part.encode("utf-8"))
            digest.update(b"\0" + overlay.scenario.fingerprint().encode("ascii"))
        return digest.hexdigest()


def _typed_text(value: Any) -> str:
    return f"{type(value).__name__}:{value}"


def _plain(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


@functools.lru_cache(maxsize=256)
def _calendar_cached(spec_key: str, timezone: str) -> Calendar:
    import json

    from simkit.calendar import Calendar

    spec = json.loads(spec_key)
    return Calendar.from_spec(spec, timezone)


def _calendar_spec(scenario: ScenarioModel, name: str) -> Any:
    if name in scenario.calendars:
        spec = scenario.calendars[name]
        if isinstance(spec, CalendarHours):
            return spec.model_dump(mode="json", exclude_none=True)
        return spec
    if name in BUILTIN_CALENDARS:
        return "always"
    raise KeyError(name)


def _build_calendar(scenario: ScenarioModel, name: str) -> Calendar:
    import json

    try:
        spec = _calendar_spec(scenario, name)
    except KeyError:
        raise InputError.single(
            f"calendar {name!r} is not defined",
            f"define it under calendars: ({', '.join(scenario.calendars)})",
        ) from None
    calendar = _calendar_cached(json.dumps(spec, sort_keys=True, default=str), scenario.timezone)
    return calendar


# -- validation ---------------------------------------------------------------------------------


def _calendar_problems(
    data: Mapping[str, Any], flagged: set[tuple[str | int, ...]]
) -> list[tuple[tuple[str | int, ...], str, str]]:
    """Build each calendar whose fields passed validation: unknown holiday countries or
    subdivisions only show up there, and are reported with everything else."""
    from simkit.calendar import Calendar

    timezone = data.get("timezone", "UTC")
    if known_zone(str(timezone)) is None:
        timezone = "UTC"  # the bad zone is reported once, at timezone
    out: list[tuple[tuple[str | int, ...], str, str]] = []
    calendars = data.get("calendars")
    if not isinstance(calendars, Mapping):
        return out
    for name, spec in calendars.items():
        path = ("calendars", name)
        if any(p[: len(path)] == path for p in flagged):
            continue
        try:
            Calendar.from_spec(spec, timezone if isinstance(timezone, str) else "UTC")
        except SpecError as error:
            out.append((path, error.message, error.fix))
        except Exception:
            continue
    return out


def _dotted(path: Sequence[str | int]) -> str:
    return ".".join(str(p) for p in path)


MAX_ENTRIES = {
    "services": 200,
    "teams": 200,
    "customers": 200,
    "components": 200,
    "calendars": 100,
    "changes": 100,
}
"""Most entries under each top-level key: far above what a service desk models, and low enough
that validating, estimating and simulating a scenario stays quick on a shared server."""


def _too_many(data: Mapping[str, Any]) -> list[tuple[tuple[str | int, ...], str, str]]:
    """A problem per top-level key with more entries than :data:`MAX_ENTRIES` allows (checked
    before anything else, so that an oversized scenario is refused at once)."""
    return [
        (
            (key,),
            f"{len(data[key]):,} {key}, more than the {most} a scenario may have",
            f"model the {key} that matter for the agreement, or group similar ones",
        )
        for key, most in MAX_ENTRIES.items()
        if isinstance(data.get(key), Mapping) and len(data[key]) > most
    ]


def scenario_problems(
    data: Any,
    *,
    file: str | None = None,
    lines: Lines | None = None,
    base_dir: Path | None = None,
    allow_files: bool = True,
    context: str | None = None,
    path_prefix: tuple[str | int, ...] = (),
) -> tuple[list[Problem], Scenario | None]:
    """Every problem in ``data`` and, when there are none, the validated :class:`Scenario`."""
    found: list[tuple[tuple[str | int, ...], str, str]] = []
    scenario: Scenario | None = None
    if data is None and not path_prefix:
        found.append(
            (
                (),
                "the scenario file is empty: it holds no keys (only blank lines or comments)",
                "write the scenario's keys — name:, start:, horizon:, services:, teams: … — "
                "starting from one of the examples in scenarios/",
            )
        )
    elif not isinstance(data, Mapping):
        found.append(
            (
                (),
                "a scenario file must be a mapping of keys (name:, start:, services: …)",
                "see scenarios/ for examples",
            )
        )
    elif too_many := _too_many(data):
        found.extend(too_many)
    else:
        try:
            scenario = Scenario.model_validate(
                data, context={"base_dir": base_dir, "allow_files": allow_files}
            )
        except ValidationError as error:
            found.extend(pick_problems([dict(e) for e in error.errors()], data))
        found.extend(cross_check(data))
        found.extend(_calendar_problems(data, {path for path, _, _ in found}))
    problems = []
    seen = set()
    for path, message, fix in found:
        full = (*path_prefix, *path)
        if context:
            message = f"{context}: {message}"
        key = (full, message)
        if key in seen:
            continue
        seen.add(key)
        line = lines.line(full) if lines is not None else None
        problems.append(Problem(file=file, line=line, path=_dotted(path), message=message, fix=fix))
    if problems:
        problems.sort(key=lambda p: (p.line is None, p.line or 0))
        return problems, None
    assert scenario is not None
    return problems, _freeze(scenario)


def _validated(
    data: Any,
    *,
    file: str | None,
    base_dir: Path | None,
    allow_files: bool,
    lines: Lines | None,
    context: str | None = None,
) -> Scenario:
    problems, scenario = scenario_problems(
        data, file=file, lines=lines, base_dir=base_dir, allow_files=allow_files, context=context
    )
    if scenario is None:
        raise InputError(problems)
    scenario._raw = copy.deepcopy(dict(data))
    scenario._file, scenario._base_dir, scenario._allow_files = file, base_dir, allow_files
    return scenario


def parse_scenario(
    text: str | bytes,
    *,
    file: str | None = None,
    base_dir: Path | None = None,
    allow_files: bool = True,
) -> Scenario:
    """Validate scenario YAML text; raise :class:`InputError` listing every problem.

    ``allow_files=False`` refuses any file the scenario names (for uploads to a shared server).
    """
    if isinstance(text, bytes):
        if len(text) > MAX_SCENARIO_BYTES:
            raise InputError.single(
                f"the scenario is {len(text):,} bytes, more than the {MAX_SCENARIO_BYTES:,} allowed",
                "a scenario is a short YAML file; put large data in calibration files",
                file=file,
            )
        try:
            text = text.decode("utf-8")
        except UnicodeDecodeError:
            raise InputError.single(
                "the scenario is not UTF-8 text", "save the file as UTF-8 YAML", file=file
            ) from None
    if len(text) > MAX_SCENARIO_BYTES:
        raise InputError.single(
            f"the scenario is {len(text):,} characters, more than the {MAX_SCENARIO_BYTES:,} allowed",
            "a scenario is a short YAML file",
            file=file,
        )
    data, lines, traps = parse_yaml(text, file=file)
    problems, scenario = scenario_problems(
        data, file=file, lines=lines, base_dir=base_dir, allow_files=allow_files
    )
    if traps:
        problems = sorted([*traps, *problems], key=lambda p: (p.line is None, p.line or 0))
    if scenario is not None and not traps:
        problems.extend(
            _change_problems(
                scenario, data, file=file, lines=lines, base_dir=base_dir, allow_files=allow_files
            )
        )
    if problems or scenario is None:
        raise InputError(problems)
    scenario._raw = copy.deepcopy(data)
    scenario._file, scenario._base_dir, scenario._allow_files = file, base_dir, allow_files
    return scenario


def _change_problems(
    scenario: Scenario,
    data: Mapping[str, Any],
    *,
    file: str | None,
    lines: Lines,
    base_dir: Path | None,
    allow_files: bool,
) -> list[Problem]:
    """Each change, applied, must give a valid scenario: report its problems at the patch
    (a change of an uploaded scenario may no more name a file than the scenario itself)."""
    problems: list[Problem] = []
    base = {k: v for k, v in data.items()}
    for name, change in scenario.changes.items():
        patched = merge_patch(base, change.patch)
        inner, _ = scenario_problems(
            patched,
            file=file,
            lines=None,
            base_dir=base_dir,
            allow_files=allow_files,
            context=f"after change {name!r}",
        )
        for problem in inner:
            where = ("changes", name, "patch", *problem.path.split("."))
            problems.append(
                Problem(
                    file=file,
                    line=lines.line(where),
                    path=f"changes.{name}.patch → {problem.path}",
                    message=problem.message,
                    fix=problem.fix,
                )
            )
    return problems


def load_scenario(path: str | Path, *, allow_files: bool = True) -> Scenario:
    """Load and validate a scenario file; raise :class:`InputError` listing every problem."""
    path = Path(path)
    name = str(path)
    if not path.exists():
        raise InputError.single(f"no such file: {name}", "check the path", file=name)
    if path.is_dir():
        raise InputError.single(
            f"{name} is a folder, not a scenario file", "name a .yaml file", file=name
        )
    data = path.read_bytes()
    return parse_scenario(data, file=name, base_dir=path.resolve().parent, allow_files=allow_files)


def local_midnight_utc(day: dt.date, timezone: str) -> dt.datetime:
    """The UTC instant of local midnight at the start of ``day``."""

    local = dt.datetime.combine(day, dt.time(0), tzinfo=zoneinfo.ZoneInfo(timezone))
    return local.astimezone(dt.UTC)
