"""The layout of a ServiceNow incident export: its columns, priority labels and states, and the
update rows of simulated incidents written as those columns (:mod:`simkit.calibrate.export`
shows which engine event becomes which row).
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

__all__ = [
    "AWAIT",
    "CANCEL",
    "CLOSE",
    "COLUMNS",
    "OPEN",
    "PICKUP",
    "PRIORITY_LABELS",
    "REASSIGN",
    "REOPEN",
    "RESOLVE",
    "RESUME",
]

COLUMNS = (
    "number",
    "incident_state",
    "active",
    "reassignment_count",
    "reopen_count",
    "sys_mod_count",
    "caller_id",
    "opened_by",
    "opened_at",
    "sys_created_by",
    "sys_created_at",
    "sys_updated_by",
    "sys_updated_at",
    "contact_type",
    "location",
    "category",
    "subcategory",
    "business_service",
    "company",
    "impact",
    "urgency",
    "priority",
    "assignment_group",
    "assigned_to",
    "knowledge",
    "notify",
    "problem_id",
    "vendor",
    "close_code",
    "resolved_by",
    "resolved_at",
    "closed_at",
)
PRIORITY_LABELS = {
    "P1": "1 - Critical",
    "P2": "2 - High",
    "P3": "3 - Moderate",
    "P4": "4 - Low",
    "P5": "5 - Planning",
}
_IMPACT = {
    "P1": ("1 - High", "1 - High"),
    "P2": ("1 - High", "2 - Medium"),
    "P3": ("2 - Medium", "2 - Medium"),
}
_LOW = ("3 - Low", "3 - Low")
OPEN, REASSIGN, PICKUP, AWAIT, RESUME, RESOLVE, REOPEN, CANCEL, CLOSE = range(9)
_STATE = (
    "New",
    "New",
    "Active",
    "Awaiting User Info",
    "Active",
    "Resolved",
    "Active",
    "Canceled",
    "Closed",
)
_US_PER_S = 1_000_000
_US_PER_H = 3_600_000_000
_CATEGORIES = (
    ("Software", "Email"),
    ("Software", "Payroll application"),
    ("Software", "Office suite"),
    ("Hardware", "Laptop"),
    ("Hardware", "Printer"),
    ("Network", "VPN"),
    ("Network", "Wi-Fi"),
    ("Inquiry / Help", "How to"),
    ("Access", "Password reset"),
    ("Access", "New account"),
)
_LOCATIONS = ("London", "Manchester", "Leeds", "Bristol", "Glasgow", "Remote")
_CONTACT = ("Self-service", "Email", "Phone", "Walk-in", "Chat")


def _us(column: pa.ChunkedArray | pa.Array) -> np.ndarray:
    values = np.asarray(column.to_numpy(zero_copy_only=False)).astype("datetime64[us]")
    out = values.astype(np.int64)
    return np.where(np.isnat(values), np.iinfo(np.int64).max, out)


def _local_text(us: np.ndarray, timezone: str) -> np.ndarray:
    """Local ``YYYY-MM-DD HH:MM:SS`` strings of UTC instants (whole seconds)."""
    seconds = us // _US_PER_S
    utc = pa.array(seconds, pa.timestamp("s", tz="UTC")).cast(pa.timestamp("s", tz=timezone))
    local = pc.local_timestamp(utc)
    text = pc.strftime(local, format="%Y-%m-%d %H:%M:%S")
    return np.asarray(text.to_numpy(zero_copy_only=False), dtype=object)


def _forward(setter: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Each row's value from the latest setter row at or before it (rows in ticket order, each
    ticket starting with a setter)."""
    index = np.where(setter, np.arange(setter.size), 0)
    index = np.maximum.accumulate(index)
    out: np.ndarray = values[index]
    return out


def _table(
    ticket: np.ndarray,
    time: np.ndarray,
    kind: np.ndarray,
    team: np.ndarray,
    agent: np.ndarray,
    chosen: pa.Table,
    timezone: str,
    rng: np.random.Generator,
    first_number: int,
) -> pa.Table:
    rows = ticket.size
    n = chosen.num_rows
    starts = np.r_[True, ticket[1:] != ticket[:-1]] if rows else np.zeros(0, bool)
    row_index = np.arange(rows)
    group_start = np.maximum.accumulate(np.where(starts, row_index, 0))
    mod_count = row_index - group_start

    def per_ticket_cumsum(flag: np.ndarray) -> np.ndarray:
        total = np.cumsum(flag)
        counts: np.ndarray = total - (total - flag)[group_start]
        return counts

    reassignments = per_ticket_cumsum((kind == REASSIGN).astype(np.int64))
    reopens = per_ticket_cumsum((kind == REOPEN).astype(np.int64))
    group = _forward(np.isin(kind, (OPEN, REASSIGN)), team)
    assigned = _forward(np.isin(kind, (OPEN, REASSIGN, PICKUP)), agent)
    stamp = _local_text(time, timezone)
    resolved_at = _forward(
        np.isin(kind, (OPEN, RESOLVE, REOPEN)), np.where(kind == RESOLVE, stamp, "?")
    )
    resolved_by = _forward(
        np.isin(kind, (OPEN, RESOLVE, REOPEN)), np.where(kind == RESOLVE, assigned, "?")
    )
    closed_at = np.where(kind == CLOSE, stamp, "?")
    state = np.asarray(_STATE, dtype=object)[kind]
    active = np.where(np.isin(kind, (RESOLVE, CLOSE, CANCEL)), "false", "true")

    opened = _local_text(_us(chosen["opened_at"]), timezone)
    priority = np.asarray(chosen["priority"].to_numpy(zero_copy_only=False), dtype=object)
    service = np.asarray(chosen["service"].to_numpy(zero_copy_only=False), dtype=object)
    customer = (
        np.asarray(
            pc.fill_null(chosen["customer"], "?").to_numpy(zero_copy_only=False), dtype=object
        )
        if "customer" in chosen.column_names
        else np.full(n, "?", dtype=object)
    )
    labels = np.asarray([PRIORITY_LABELS.get(p, p) for p in priority.tolist()], dtype=object)
    impact = np.asarray([_IMPACT.get(p, _LOW)[0] for p in priority.tolist()], dtype=object)
    urgency = np.asarray([_IMPACT.get(p, _LOW)[1] for p in priority.tolist()], dtype=object)
    numbers = np.asarray([f"INC{first_number + k:07d}" for k in range(n)], dtype=object)
    callers = np.asarray(
        [f"Caller {k}" for k in rng.integers(1, 4000, size=n).tolist()], dtype=object
    )
    openers = np.asarray(
        [f"Service Desk Agent {k:02d}" for k in rng.integers(1, 13, size=n).tolist()], dtype=object
    )
    category_pick = rng.integers(0, len(_CATEGORIES), size=n)
    category = np.asarray([_CATEGORIES[k][0] for k in category_pick.tolist()], dtype=object)
    subcategory = np.asarray([_CATEGORIES[k][1] for k in category_pick.tolist()], dtype=object)
    location = np.asarray(_LOCATIONS, dtype=object)[rng.integers(0, len(_LOCATIONS), size=n)]
    contact = np.asarray(_CONTACT, dtype=object)[rng.integers(0, len(_CONTACT), size=n)]
    knowledge = np.where(rng.random(n) < 0.15, "true", "false").astype(object)

    def each(values: np.ndarray) -> pa.Array:
        return pa.array(values[ticket].tolist(), pa.string())

    def plain(values: np.ndarray) -> pa.Array:
        return pa.array([str(v) for v in values.tolist()], pa.string())

    updated_by = np.where(assigned == "?", "system", assigned)
    columns: dict[str, pa.Array] = {
        "number": each(numbers),
        "incident_state": plain(state),
        "active": plain(active),
        "reassignment_count": plain(reassignments),
        "reopen_count": plain(reopens),
        "sys_mod_count": plain(mod_count),
        "caller_id": each(callers),
        "opened_by": each(openers),
        "opened_at": each(opened),
        "sys_created_by": each(openers),
        "sys_created_at": each(opened),
        "sys_updated_by": plain(updated_by),
        "sys_updated_at": plain(stamp),
        "contact_type": each(contact),
        "location": each(location),
        "category": each(category),
        "subcategory": each(subcategory),
        "business_service": each(service),
        "company": each(customer),
        "impact": each(impact),
        "urgency": each(urgency),
        "priority": each(labels),
        "assignment_group": plain(group),
        "assigned_to": plain(assigned),
        "knowledge": each(knowledge),
        "notify": pa.array(["Do Not Notify"] * rows, pa.string()),
        "problem_id": pa.array(["?"] * rows, pa.string()),
        "vendor": plain(np.where(group == "vendor_x", "Vendor X Ltd", "?")),
        "close_code": plain(np.where(np.isin(kind, (RESOLVE, CLOSE)), "Solved (Permanently)", "?")),
        "resolved_by": plain(resolved_by),
        "resolved_at": plain(resolved_at),
        "closed_at": plain(closed_at),
    }
    return pa.table({name: columns[name] for name in COLUMNS})
