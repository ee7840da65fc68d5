"""The data-quality report: what cleaning found and did, rule by rule, with examples.

Every row or ticket removed, every value repaired and every oddity kept is counted under a named
rule with up to five examples (row number, ticket, column, value); :class:`QualityLog` collects
the findings while an export is loaded and freezes them into a :class:`QualityReport`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pyarrow as pa

__all__ = [
    "MAX_EXAMPLES",
    "Action",
    "QualityLog",
    "QualityReport",
    "QualityRule",
    "examples_at",
    "outage_quality_summary",
    "quality_summary",
]

Action = Literal["removed", "repaired", "kept", "info"]
MAX_EXAMPLES = 5


@dataclass(frozen=True)
class QualityRule:
    """One cleaning rule's findings.

    Attributes
    ----------
    rule
        Stable identifier, e.g. ``duplicate_rows``.
    title
        What the rule found, in plain words.
    action
        ``removed`` (rows or tickets taken out), ``repaired`` (a value set or cleared),
        ``kept`` (kept as they are, e.g. tickets still open) or ``info``.
    count, unit
        How many, of what (``rows``, ``tickets``, ``values``).
    examples
        Up to five examples: ``row`` (1-based data row or event number), ``ticket``,
        ``column``, ``value``, ``detail`` where they apply.
    fix
        What the user can do about it, if anything.
    """

    rule: str
    title: str
    action: Action
    count: int
    unit: str
    examples: tuple[dict[str, Any], ...] = ()
    fix: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {
            "rule": self.rule,
            "title": self.title,
            "action": self.action,
            "count": self.count,
            "unit": self.unit,
            "examples": [dict(e) for e in self.examples],
            "fix": self.fix,
        }


@dataclass(frozen=True)
class QualityReport:
    """What cleaning found and did, rule by rule (see :class:`QualityRule`)."""

    source: str
    profile: str
    rows_read: int
    tickets: int
    rules: tuple[QualityRule, ...]
    notes: tuple[str, ...] = ()

    def rule(self, name: str) -> QualityRule | None:
        """The findings of rule ``name`` (``None`` when it found nothing)."""
        return next((r for r in self.rules if r.rule == name), None)

    def count(self, name: str) -> int:
        """How many items rule ``name`` found, over every column it was applied to."""
        return sum(r.count for r in self.rules if r.rule == name)

    @property
    def removed_rows(self) -> int:
        """Rows of the export taken out by the rules counting rows."""
        return sum(r.count for r in self.rules if r.action == "removed" and r.unit == "rows")

    @property
    def removed_tickets(self) -> int:
        """Whole tickets taken out after their rows were assembled."""
        return sum(r.count for r in self.rules if r.action == "removed" and r.unit == "tickets")

    def as_dict(self) -> dict[str, Any]:
        """The report as plain JSON-ready values."""
        return {
            "source": self.source,
            "profile": self.profile,
            "rows_read": self.rows_read,
            "tickets": self.tickets,
            "removed_rows": self.removed_rows,
            "removed_tickets": self.removed_tickets,
            "rules": [r.as_dict() for r in self.rules],
            "notes": list(self.notes),
        }

    def to_text(self) -> str:
        """The report as readable text, one paragraph per rule."""
        lines = [
            f"Data quality — {self.source} (profile {self.profile})",
            f"  {self.rows_read:,} rows read, {self.tickets:,} tickets loaded; "
            f"{self.removed_rows:,} rows and {self.removed_tickets:,} tickets removed",
        ]
        lines.extend(f"  note: {n}" for n in self.notes)
        if not self.rules:
            lines.append("  no problems found")
        for r in self.rules:
            lines.append(f"  [{r.action}] {r.title}: {r.count:,} {r.unit}  ({r.rule})")
            for example in r.examples:
                lines.append("      e.g. " + _example_text(example))
            if r.fix:
                lines.append(f"      fix: {r.fix}")
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.to_text()


def quality_summary(quality: Mapping[str, Any]) -> list[str]:
    """What cleaning did, in a few lines, from :meth:`QualityReport.as_dict`: the rows read,
    what was removed, then each rule with its count (the examples and fixes are in the full
    report: ``--json`` or ``--report``). Every command that loads a history prints it."""
    return [
        f"Data quality: {quality['rows_read']:,} rows, {quality['tickets']:,} tickets; "
        f"{quality['removed_rows']:,} rows and {quality['removed_tickets']:,} tickets removed",
        *_rule_lines(quality["rules"]),
    ]


def _rule_lines(rules: Sequence[Mapping[str, Any]]) -> list[str]:
    """One line per rule (as :meth:`QualityRule.as_dict` gives it): action, title, count."""
    return [f"  [{r['action']}] {r['title']}: {r['count']:,} {r['unit']}" for r in rules]


def outage_quality_summary(quality: Mapping[str, Any]) -> list[str]:
    """What reading an outage file did, in a few lines, from
    :meth:`simkit.calibrate.outages.OutageHistory.as_dict`: the outages kept, then each rule
    with its count (the examples and fixes are in the full report: ``--json`` or
    ``--report``). Every command that reads an outage file prints it."""
    return [
        f"Outage file {quality['source']}: {quality['outages']:,} outages kept",
        *_rule_lines(quality["rules"]),
    ]


def _example_text(example: dict[str, Any]) -> str:
    parts = []
    for key in ("row", "ticket", "column", "value", "detail"):
        if example.get(key) is not None:
            value = example[key]
            parts.append(f"{key} {value!r}" if key in ("value",) else f"{key} {value}")
    return ", ".join(parts)


@dataclass
class QualityLog:
    """Collects rule findings while an export is loaded; :meth:`report` freezes them."""

    rules: list[QualityRule] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def add(
        self,
        rule: str,
        title: str,
        action: Action,
        count: int,
        unit: str,
        examples: Sequence[dict[str, Any]] = (),
        fix: str = "",
    ) -> None:
        """Record a finding; a rule that found nothing is not recorded."""
        if count <= 0:
            return
        cleaned = tuple(
            {k: _plain(v) for k, v in e.items() if v is not None} for e in examples[:MAX_EXAMPLES]
        )
        self.rules.append(QualityRule(rule, title, action, int(count), unit, cleaned, fix))

    def note(self, text: str) -> None:
        self.notes.append(text)

    def report(self, *, source: str, profile: str, rows_read: int, tickets: int) -> QualityReport:
        return QualityReport(
            source=source,
            profile=profile,
            rows_read=rows_read,
            tickets=tickets,
            rules=tuple(self.rules),
            notes=tuple(self.notes),
        )


def _plain(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.datetime64):
        return str(value)
    return value


def examples_at(
    table: pa.Table, rows: np.ndarray, *, row_column: str, ticket_column: str | None, **extra: Any
) -> list[dict[str, Any]]:
    """Up to five examples for the given row positions of ``table``."""
    picked = np.asarray(rows, dtype=np.int64)[:MAX_EXAMPLES]
    if picked.size == 0:
        return []
    subset = table.take(pa.array(picked))
    numbers = subset[row_column].to_pylist()
    tickets = subset[ticket_column].to_pylist() if ticket_column else [None] * len(numbers)
    out = []
    for i, number in enumerate(numbers):
        example: dict[str, Any] = {"row": number, "ticket": tickets[i]}
        for key, value in extra.items():
            example[key] = value[i] if isinstance(value, list) else value
        out.append(example)
    return out
