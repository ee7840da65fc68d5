"""pydantic's validation errors as problems a user can act on: the path in the file (without
pydantic's union and validator tags), what is wrong and how to fix it, one problem per path.
"""

from __future__ import annotations

import difflib
import types
from collections.abc import Iterator, Mapping, Sequence
from functools import cache
from typing import Annotated, Any, Union, get_args, get_origin

from pydantic import BaseModel

from simkit.scenario.models import (
    AvailabilitySpec,
    CalendarHours,
    Change,
    Component,
    Customer,
    Demand,
    ScenarioModel,
    Service,
    ServiceLevelTarget,
    Team,
    Window,
)

__all__ = ["pick_problems"]


_KNOWN_KEYS = sorted(
    {
        (field.alias or key)
        for model in (
            ScenarioModel,
            Service,
            Team,
            Demand,
            Component,
            Customer,
            Change,
            AvailabilitySpec,
            CalendarHours,
            ServiceLevelTarget,
            Window,
        )
        for key, field in model.model_fields.items()
    }
    | {
        "share",
        "respond",
        "resolve",
        "country",
        "subdivision",
        "dates",
        "duration",
        "probability",
        "after",
        "below",
        "credit",
        "max_breaches",
        "team",
        "priority",
        "per_month",
        "failure_rate",
        "outage",
        "file",
        "from",
        "until",
        "target",
        "depends_on",
        "maintenance",
        "exclude_maintenance",
        "credits",
        "monthly_fee",
    }
)


_PLACEHOLDERS = {
    "calendars": "<calendar>",
    "services": "<service>",
    "teams": "<team>",
    "priorities": "<priority>",
    "customers": "<customer>",
    "components": "<component>",
    "changes": "<change>",
}
"""How a generic path names the entries of a mapping (``teams.<team>.roster``)."""


def _branches(annotation: Any) -> Iterator[Any]:
    """The types an annotation allows, with ``Annotated`` and unions (``X | None``) unwrapped."""
    origin = get_origin(annotation)
    if origin is Annotated:
        yield from _branches(get_args(annotation)[0])
    elif origin is Union or origin is types.UnionType:
        for arg in get_args(annotation):
            yield from _branches(arg)
    else:
        yield annotation


def _is_model(annotation: Any) -> bool:
    return isinstance(annotation, type) and issubclass(annotation, BaseModel)


def _field_key(model: type[BaseModel], name: str) -> str:
    return model.model_fields[name].alias or name


def _children(annotation: Any, part: str | int) -> Iterator[Any]:
    """The types that the entry ``part`` of a value of ``annotation`` may have."""
    for branch in _branches(annotation):
        if _is_model(branch):
            for name, info in branch.model_fields.items():
                if part == _field_key(branch, name):
                    yield info.annotation
        elif get_origin(branch) is dict and len(get_args(branch)) == 2:
            yield get_args(branch)[1]
        elif get_origin(branch) in (list, tuple) and isinstance(part, int):
            args = [a for a in get_args(branch) if a is not Ellipsis]
            if len(args) == 1:
                yield args[0]
            elif 0 <= part < len(args):
                yield args[part]


def _models_at(path: Sequence[str | int]) -> list[type[BaseModel]]:
    """The scenario models a mapping at ``path`` (from the file's top) may be validated as;
    empty where the schema does not say (inside a change's patch, say)."""
    found: list[Any] = [ScenarioModel]
    for part in path:
        found = [child for annotation in found for child in _children(annotation, part)]
    models: dict[type[BaseModel], None] = {}
    for annotation in found:
        models.update({b: None for b in _branches(annotation) if _is_model(b)})
    return list(models)


@cache
def _key_places() -> dict[str, tuple[str, ...]]:
    """Each key of a scenario model → the generic paths of the mappings that take it
    (``share`` → ``services.<service>.priorities.<priority>``), found by walking the schema."""
    places: dict[str, dict[str, None]] = {}

    def walk(annotation: Any, where: str, depth: int) -> None:
        if depth > 12:
            return
        for branch in _branches(annotation):
            if _is_model(branch):
                for name, info in branch.model_fields.items():
                    key = _field_key(branch, name)
                    places.setdefault(key, {})[where or "the top level"] = None
                    walk(info.annotation, f"{where}.{key}" if where else key, depth + 1)
            elif get_origin(branch) is dict and len(get_args(branch)) == 2:
                last = where.rsplit(".", 1)[-1]
                walk(get_args(branch)[1], f"{where}.{_PLACEHOLDERS.get(last, '<name>')}", depth)
            elif get_origin(branch) in (list, tuple):
                for arg in get_args(branch):
                    if arg is not Ellipsis:
                        walk(arg, f"{where}[n]", depth)

    walk(ScenarioModel, "", 0)
    return {key: tuple(where) for key, where in places.items()}


def _unknown_key_fix(key: str, parent: Sequence[str | int]) -> str:
    """How to mend an unknown ``key`` in the mapping at ``parent``: the closest key valid at
    that place (never ``key`` itself), else where ``key`` belongs and the keys the place takes."""
    models = _models_at(parent)
    here = list(dict.fromkeys(_field_key(m, name) for m in models for name in m.model_fields))
    candidates = [k for k in (here or _KNOWN_KEYS) if k != key]
    close = difflib.get_close_matches(key, candidates, n=1, cutoff=0.7)
    if close:
        return f"did you mean {close[0]!r}?"
    parts = ["remove it"]
    elsewhere = _key_places().get(key, ())
    if elsewhere:
        shown = " or ".join(elsewhere[:3]) + (" …" if len(elsewhere) > 3 else "")
        parts.append(f"{key!r} belongs under {shown}")
    if here:
        parts.append(f"the keys here are {', '.join(here)}")
    return "; ".join(parts) + " (see docs/scenario-format.md)"


def _clean_path(loc: Sequence[str | int], data: Any) -> tuple[str | int, ...]:
    """Drop pydantic's union/validator tags from ``loc`` by following the data itself."""
    path: list[str | int] = []
    node = data
    for part in loc:
        if isinstance(node, Mapping) and part in node:
            path.append(part)
            node = node[part]
        elif isinstance(node, list | tuple) and isinstance(part, int) and 0 <= part < len(node):
            path.append(part)
            node = node[part]
        elif (
            isinstance(node, Mapping)
            and isinstance(part, str)
            and part.isidentifier()
            and (part[0].islower() or part == "from_")
            and not part.startswith(
                (
                    "function",
                    "tuple",
                    "dict",
                    "list",
                    "literal",
                    "str",
                    "int",
                    "float",
                    "bool",
                    "union",
                    "nullable",
                    "lax",
                )
            )
        ):
            path.append("from" if part == "from_" else part)
            node = None
    return tuple(path)


def _describe(error: Mapping[str, Any], path: tuple[str | int, ...]) -> tuple[str, str]:
    kind = error["type"]
    ctx = error.get("ctx") or {}
    value = error.get("input")
    key = str(path[-1]) if path else ""
    if kind == "simkit_spec":
        return str(ctx.get("message", error["msg"])), str(ctx.get("fix", ""))
    if kind == "extra_forbidden":
        return f"unknown key {key!r}", _unknown_key_fix(key, path[:-1])
    if kind == "missing":
        return f"missing required key {key!r}", f"add {key}: (see docs/scenario-format.md)"
    if kind in ("string_type",) and isinstance(value, bool):
        return (
            f"read as {str(value).lower()}: YAML reads yes/no/on/off unquoted as true/false",
            "quote it",
        )
    if kind in ("string_type",) and isinstance(value, int | float):
        return (
            f"read as the number {value} (YAML reads unquoted 12:30 as a number)",
            "quote it",
        )
    if kind in ("int_parsing", "int_type", "int_from_float"):
        return f"expected a whole number, got {value!r}", "write a whole number such as 4"
    if kind == "finite_number":
        return f"{value!r} is not a finite number", "write a number such as 450 (not .nan or .inf)"
    if kind in ("float_parsing", "float_type"):
        return f"expected a number, got {value!r}", "write a number such as 450"
    if kind in ("greater_than", "greater_than_equal", "less_than_equal", "less_than"):
        bound = next(iter(ctx.values()), None)
        wanted = {
            "greater_than": "greater than",
            "greater_than_equal": "at least",
            "less_than_equal": "at most",
            "less_than": "less than",
        }[kind]
        shown = f"{bound:g}" if isinstance(bound, int | float) else bound
        fix = f"write a value {wanted} {shown}" if bound is not None else "change the value"
        return error["msg"].replace("Input should be", "must be"), fix
    if kind == "literal_error":
        return f"{value!r} is not allowed here", error["msg"].replace("Input should be", "use")
    if kind == "too_short":
        return "must not be empty", "add at least one entry"
    if kind in ("dict_type", "model_type", "model_attributes_type"):
        return f"expected a mapping (key: value lines), got {type(value).__name__}", (
            "indent the entries under this key"
        )
    if kind in ("tuple_type", "list_type"):
        return f"expected a list, got {type(value).__name__}", "write [a, b] or '- a' lines"
    if kind == "bool_type" or kind == "bool_parsing":
        return f"expected true or false, got {value!r}", "write true or false"
    return error["msg"], ""


_BRANCH_NOISE = (
    "dict_type",
    "tuple_type",
    "list_type",
    "string_type",
    "model_type",
    "literal_error",
    "model_attributes_type",
    "float_type",
    "int_type",
    "bool_type",
)


def pick_problems(
    errors: list[dict[str, Any]], data: Any
) -> list[tuple[tuple[str | int, ...], str, str]]:
    """One problem per path: pydantic reports one error per union branch; keep the best."""
    best: dict[tuple[str | int, ...], tuple[int, dict[str, Any]]] = {}
    for error in errors:
        path = _clean_path(error["loc"], data)
        score = (
            3
            if error["type"] == "simkit_spec"
            else 2
            if error["type"] in ("extra_forbidden", "missing")
            else 0
            if error["type"]
            in (
                "dict_type",
                "tuple_type",
                "list_type",
                "model_type",
                "literal_error",
                "string_type",
                "float_type",
            )
            else 1
        )
        score = score * 100 + len(error["loc"])
        if path not in best or score > best[path][0]:
            best[path] = (score, error)
    # a branch-type error at a parent is noise when a child has a precise error
    paths = list(best)
    out = []
    for path, (_, error) in best.items():
        if error["type"] in _BRANCH_NOISE and any(
            p != path and p[: len(path)] == path for p in paths
        ):
            continue
        message, fix = _describe(error, path)
        out.append((path, message, fix))
    return out
