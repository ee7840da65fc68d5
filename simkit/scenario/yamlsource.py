"""YAML through PyYAML's safe loader, remembering the line of every key so that problems point at
the line a user has to change, and catching YAML's traps before they turn into wrong numbers:
``1:30`` read as the base-60 number 90, a key written twice (the first silently lost), and dates
that do not exist (``2027-02-30``)."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import yaml

from simkit.errors import InputError, Problem

__all__ = ["Lines", "parse_yaml"]

Path_ = tuple[str | int, ...]
_INT_TAG = "tag:yaml.org,2002:int"
_FLOAT_TAG = "tag:yaml.org,2002:float"
_TIMESTAMP_TAG = "tag:yaml.org,2002:timestamp"
_DATE_ONLY = re.compile(r"^\d{4}-\d{1,2}-\d{1,2}$")


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


def _dotted(path: Path_) -> str:
    return ".".join(str(p) for p in path)


def _valid_timestamp(text: str) -> bool:
    try:
        if _DATE_ONLY.match(text):
            dt.date.fromisoformat("-".join(f"{int(p):02d}" for p in text.split("-")))
        else:
            yaml.safe_load(text)
    except (ValueError, yaml.YAMLError):
        return False
    return True


_LIBYAML_LOADER: Any = getattr(yaml, "CSafeLoader", None)
"""PyYAML's safe loader on LibYAML, where PyYAML was built with it: it reads a file several
times faster (values are still made by the same safe constructor)."""


def _compose(text: str) -> Any:
    """The YAML's node tree: through LibYAML when it has no objection, else through PyYAML's
    own reader, which decides what is valid and words the error. (LibYAML refuses a few things
    PyYAML reads, such as ``key:{a: 1}`` without a space.)"""
    if _LIBYAML_LOADER is not None:
        try:
            return yaml.compose(text, Loader=_LIBYAML_LOADER)
        except (yaml.YAMLError, UnicodeError):
            pass
    return yaml.compose(text, Loader=yaml.SafeLoader)


MAX_NODES = 200_000
"""Most values a scenario's YAML may hold once its aliases are expanded. A scenario holds a few
thousand; a few hundred bytes of aliases that repeat each other expand to billions."""

MAX_DEPTH = 64
"""Deepest nesting of mappings and lists a scenario's YAML may have (a scenario needs about 8)."""


class _Walk:
    def __init__(self, file: str | None) -> None:
        self.file = file
        self.table: dict[Path_, int] = {}
        self.problems: list[Problem] = []
        self.fatal = False
        self.nodes = 0
        self.open: set[int] = set()
        """The mappings and lists being walked (by id): one met again inside itself is an alias
        of itself."""

    def problem(self, path: Path_, line: int, message: str, fix: str) -> None:
        self.problems.append(Problem(self.file, line, _dotted(path), message, fix))

    def refused(self, line: int, message: str, fix: str) -> InputError:
        """The YAML refused before it is read into values: too large, too deep or circular."""
        return InputError.single(message, fix, file=self.file, line=line)

    def walk(self, node: yaml.Node, path: Path_) -> None:
        line = node.start_mark.line + 1
        self.nodes += 1
        if self.nodes > MAX_NODES:
            raise self.refused(
                line,
                f"the YAML holds more than {MAX_NODES:,} values once its aliases (*name) are "
                "expanded",
                "write the values out, or use fewer aliases that repeat other aliases",
            )
        if len(path) > MAX_DEPTH:
            raise self.refused(
                line,
                f"the YAML is nested more than {MAX_DEPTH} levels deep",
                "a scenario needs only a few levels: check the indentation and brackets",
            )
        self.table.setdefault(path, line)
        if isinstance(node, yaml.MappingNode | yaml.SequenceNode):
            if id(node) in self.open:
                raise self.refused(
                    line,
                    f"{_dotted(path) or 'the document'} contains itself through an alias (*name)",
                    "an alias may only repeat a value defined before it, outside itself",
                )
            self.open.add(id(node))
            try:
                self._collection(node, path)
            finally:
                self.open.discard(id(node))
        elif isinstance(node, yaml.ScalarNode) and not node.style:  # plain: None, or "" (LibYAML)
            if node.tag in (_INT_TAG, _FLOAT_TAG) and ":" in node.value:
                self.problem(
                    path,
                    line,
                    f"{node.value} is read by YAML as a base-60 number, not as a time",
                    f'quote it ("{node.value}"); write durations as 1.5h or 90m',
                )
            elif node.tag == _TIMESTAMP_TAG and not _valid_timestamp(node.value):
                self.fatal = True
                self.problem(
                    path,
                    line,
                    f"{node.value} is not a real date",
                    "write an existing date as YYYY-MM-DD, e.g. 2027-01-04",
                )

    def _collection(self, node: yaml.MappingNode | yaml.SequenceNode, path: Path_) -> None:
        if isinstance(node, yaml.MappingNode):
            seen: dict[str, int] = {}
            for key_node, value_node in node.value:
                key = (
                    key_node.value if isinstance(key_node, yaml.ScalarNode) else str(key_node.value)
                )
                key_line = key_node.start_mark.line + 1
                child = (*path, key)
                if key in seen:
                    self.problem(
                        child,
                        key_line,
                        f"the key {key!r} is written twice (also on line {seen[key]})",
                        "YAML keeps only the last one: remove or merge the duplicate",
                    )
                seen[key] = key_line
                self.walk(value_node, child)
                self.table[child] = key_line
        else:
            for index, item in enumerate(node.value):
                self.walk(item, (*path, index))


def _character(character: object) -> str:
    """A character as a user can look for it: ``NUL (U+0000)``."""
    if isinstance(character, int):
        code = character
    elif isinstance(character, str) and len(character) == 1:
        code = ord(character)
    else:
        return repr(character)
    names = {0: "NUL", 0x7F: "DEL", 0xFFFE: "a byte-order mark read backwards", 0xFFFF: "U+FFFF"}
    name = names.get(code) or ("a control character" if code < 0x20 else repr(chr(code)))
    return f"{name} (U+{code:04X})"


def parse_yaml(text: str, *, file: str | None) -> tuple[Any, Lines, list[Problem]]:
    """Parse ``text`` with the safe loader. Returns the data, the line table and the traps found.

    Raises
    ------
    InputError
        On a YAML syntax error (with its line) or a date that does not exist.
    """
    try:
        node = _compose(text)
    except RecursionError:
        raise InputError.single(
            "the YAML is nested too deeply to read",
            "a scenario needs only a few levels: check the brackets and indentation",
            file=file,
        ) from None
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
    except yaml.reader.ReaderError as error:
        position = max(0, min(int(error.position), len(text)))
        line = text.count("\n", 0, position) + 1
        raise InputError.single(
            f"the file holds a character YAML does not allow: {_character(error.character)}",
            "save the scenario as plain UTF-8 text; remove the character (an editor may show it "
            "as a box or ^@), or export the file again if it came from another program",
            file=file,
            line=line,
        ) from None
    except yaml.YAMLError as error:
        raise InputError.single(
            f"YAML error: {error}",
            "check the file is a YAML scenario (see scenarios/ for examples)",
            file=file,
        ) from None
    walk = _Walk(file)
    if node is not None:
        walk.walk(node, ())
    if walk.fatal:
        raise InputError(walk.problems)
    try:
        # The values from the nodes already composed (what safe_load does, without reading
        # the text a second time).
        data = None if node is None else yaml.SafeLoader("").construct_document(node)
    except (yaml.YAMLError, ValueError, TypeError, OverflowError) as error:
        raise InputError.single(
            f"YAML error: {error}", "check the values on that line", file=file
        ) from None
    return data, Lines(walk.table), walk.problems
