"""YAML through ``yaml.safe_load``, remembering the line of every key so that problems point at
the line a user has to change."""

from __future__ import annotations

from typing import Any

import yaml

from simkit.errors import InputError

__all__ = ["Lines", "parse_yaml"]

Path_ = tuple[str | int, ...]


class Lines:
    """Maps a field path to the 1-based line of the YAML node that holds it."""

    def __init__(self, table: dict[Path_, int]) -> None:
        self._table = table

    def line(self, path: Path_) -> int | None:
        """The line of ``path`` or, when that key is absent, of its nearest present parent."""
        parts = tuple(path)
        while parts:
            if parts in self._table:
                return self._table[parts]
            parts = parts[:-1]
        return self._table.get((), None)


def _walk(node: yaml.Node, path: Path_, table: dict[Path_, int]) -> None:
    table.setdefault(path, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            key = key_node.value if isinstance(key_node, yaml.ScalarNode) else str(key_node.value)
            child = (*path, key)
            table[child] = key_node.start_mark.line + 1
            _walk(value_node, child, table)
            table[child] = key_node.start_mark.line + 1
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            _walk(item, (*path, index), table)


def parse_yaml(text: str, *, file: str | None) -> tuple[Any, Lines]:
    """Parse ``text`` with the safe loader; a YAML syntax error becomes an :class:`InputError`
    with its line."""
    try:
        data = yaml.safe_load(text)
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        line = mark.line + 1 if mark is not None else None
        problem = error.problem or "the file is not valid YAML"
        raise InputError.single(
            f"YAML syntax error: {problem}",
            "check indentation and quoting on that line (quote values containing ': ' or '#')",
            file=file,
            line=line,
        ) from None
    except yaml.YAMLError as error:
        raise InputError.single(f"YAML error: {error}", "", file=file) from None
    table: dict[Path_, int] = {}
    if node is not None:
        _walk(node, (), table)
    return data, Lines(table)
