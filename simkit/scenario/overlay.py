"""Change overlays: RFC 7396 JSON Merge Patch on the scenario's data."""

from __future__ import annotations

import copy
import difflib
from collections.abc import Mapping
from typing import Any

import yaml

from simkit.errors import InputError

__all__ = ["check_set_path", "merge_patch", "parse_set", "patch_for", "set_path"]


def merge_patch(target: Any, patch: Any) -> Any:
    """Apply ``patch`` to ``target`` as RFC 7396 defines: mappings merge key by key, ``None``
    deletes a key, anything else replaces the whole value. Neither argument is modified."""
    if not isinstance(patch, Mapping):
        return copy.deepcopy(patch)
    result: dict[Any, Any] = dict(copy.deepcopy(target)) if isinstance(target, Mapping) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = merge_patch(result.get(key), value)
    return result


def set_path(data: Mapping[str, Any], path: str, value: Any) -> dict[str, Any]:
    """A copy of ``data`` with the dotted ``path`` (``teams.apps.roster``) set to ``value``.

    Used by ``--set path=value`` and by the app's sliders; expressed as a merge patch so that it
    follows exactly the same rules as named changes.
    """
    return dict(merge_patch(data, patch_for(path, value)))


def patch_for(path: str, value: Any) -> dict[str, Any]:
    """The merge patch that sets the dotted ``path`` to ``value``."""
    keys = [k for k in path.split(".") if k]
    if not keys:
        raise ValueError("empty path")
    patch: Any = value
    for key in reversed(keys):
        patch = {key: patch}
    return dict(patch)


_NAMED = {
    "services": "service",
    "teams": "team",
    "components": "component",
    "calendars": "calendar",
    "customers": "customer",
}


def check_set_path(scenario: Any, path: str) -> None:
    """Refuse a ``--set`` inside a service, team, component, calendar or customer the scenario
    does not have (``teams.dsk.shrinkage``): merged as a new, incomplete entry, it was reported
    as a missing key of that entry. Setting a whole entry (``teams.new={…}``) adds one."""
    keys = [k for k in path.split(".") if k]
    if len(keys) < 3 or keys[0] not in _NAMED:
        return
    names = [str(name) for name in getattr(scenario, keys[0], {}) or {}]
    if keys[1] in names:
        return
    close = difflib.get_close_matches(keys[1], names, n=1)
    raise InputError.single(
        f"{path}: the scenario has no {_NAMED[keys[0]]} {keys[1]!r}",
        (f"did you mean {close[0]!r}? " if close else "")
        + f"its {keys[0]}: {', '.join(names) or 'none'}",
        path="--set",
    )


def parse_set(item: str | tuple[str, Any]) -> tuple[str, Any]:
    """``'teams.apps.shrinkage=25%'`` → ``('teams.apps.shrinkage', '25%')``; the value is read as
    YAML (``5`` is a number, ``{a: 1}`` a mapping). A ``(path, value)`` pair passes through."""
    if isinstance(item, tuple):
        path, value = item
        return str(path).strip(), value
    path, sep, text = item.partition("=")
    if not sep or not path.strip():
        raise InputError.single(
            f"--set {item!r} is not PATH=VALUE",
            "e.g. --set teams.apps.shrinkage=25%",
            path="--set",
        )
    try:
        value = yaml.safe_load(text)
    except yaml.YAMLError:
        value = text
    return path.strip(), value
