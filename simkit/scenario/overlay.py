"""Change overlays: RFC 7396 JSON Merge Patch on the scenario's data."""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

import yaml

from simkit.errors import InputError

__all__ = ["merge_patch", "parse_set", "patch_for", "set_path"]


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
