"""Frozen pydantic models for every key of the scenario format (see docs/scenario-format.md).

The models check each value on its own (types, units, ranges, day and time patterns); the
cross-references between sections (entry teams, routing targets, calendars, priorities …) are
checked in :mod:`simkit.scenario.checks` so that every problem is reported at once.
"""

from __future__ import annotations

import datetime as dt
import math
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    AllowInfNan,
    BaseModel,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
    model_validator,
)

from simkit.calendar import FIRST_YEAR, LAST_YEAR
from simkit.calendar_spec import known_zone
from simkit.errors import SpecError
from simkit.scenario.types import (
    Code,
    Duration,
    Fraction,
    Growth,
    LocalDate,
    Name,
    PositiveDuration,
    SpecDistribution,
    spec_error,
)
from simkit.timespec import DAY_NAMES, parse_clock_range, parse_days, parse_weekly_pattern

__all__ = [
    "AvailabilitySpec",
    "BacklogGroup",
    "CalendarHours",
    "Change",
    "ChangeOutages",
    "Component",
    "Corporate",
    "Credit",
    "Customer",
    "Demand",
    "HolidaySpec",
    "MaintenanceWindow",
    "PauseSpec",
    "PriorityLevel",
    "PriorityTargets",
    "Reopen",
    "ScenarioModel",
    "Service",
    "ServiceLevelTarget",
    "SmallSample",
    "Team",
    "TeamRepair",
    "TeamTargets",
    "Window",
]


class _Model(BaseModel):
    model_config = ConfigDict(
        frozen=True,
        extra="forbid",
        arbitrary_types_allowed=True,
        populate_by_name=True,
        allow_inf_nan=False,  # `.nan` / `.inf` in YAML: refused, not carried into a run
    )


class SmallSample(_Model):
    """Contract rule for thin periods: fewer than ``below`` tickets meet the target with at most
    ``max_breaches`` breaches."""

    below: int = Field(gt=0)
    max_breaches: int = Field(ge=0)


class ServiceLevelTarget(_Model):
    """``{within: 4h, calendar: office, goal: 95%}``: ``goal`` of tickets within ``within``
    business hours of ``calendar``."""

    within: PositiveDuration
    calendar: Name = "24x7"
    goal: Fraction
    small_sample: SmallSample | None = None


class PriorityTargets(_Model):
    """The response and resolution targets of one priority."""

    respond: ServiceLevelTarget | None = None
    resolve: ServiceLevelTarget | None = None


class PriorityLevel(PriorityTargets):
    """A priority of a service: its share of the tickets and its targets."""

    share: Fraction


class HolidaySpec(_Model):
    """Public holidays of a country (and subdivision) from the ``holidays`` library, plus dates."""

    country: Code | None = None
    subdivision: Code | None = None
    dates: tuple[LocalDate, ...] = ()


def parse_local_datetime(value: Any) -> dt.datetime:
    """``"2027-02-06 22:00"`` (local time) → a naive datetime."""
    if isinstance(value, dt.datetime):
        return value.replace(tzinfo=None)
    if isinstance(value, str):
        try:
            return dt.datetime.fromisoformat(value.strip()).replace(tzinfo=None)
        except ValueError:
            pass
    raise SpecError(
        f"{value!r} is not a local date and time",
        'write "YYYY-MM-DD HH:MM", e.g. "2027-02-06 22:00"',
    )


def _check_day_range(key: str) -> str:
    try:
        parse_days(key)
    except SpecError as error:
        raise spec_error(error) from None
    return key


def _check_clock(value: Any) -> Any:
    try:
        for text in value if isinstance(value, list | tuple) else [value]:
            parse_clock_range(text)
    except SpecError as error:
        raise spec_error(error) from None
    return value


class CalendarHours(_Model):
    """Weekly open hours in local time, holidays and an optional own time zone."""

    hours: dict[Annotated[str, Field(min_length=1)], str | tuple[str, ...]]
    holidays: HolidaySpec | tuple[LocalDate, ...] | None = None
    timezone: str | None = None

    @field_validator("hours", mode="before")
    @classmethod
    def _hours(cls, value: Any) -> Any:
        if not isinstance(value, dict):
            return value
        if not value:
            raise spec_error(
                SpecError("a calendar needs open hours", 'e.g. hours: {mon-fri: "08:00-18:00"}')
            )
        for key, clock in value.items():
            _check_day_range(str(key))
            _check_clock(clock)
        return value

    @field_validator("timezone")
    @classmethod
    def _timezone(cls, value: str | None) -> str | None:
        return _check_timezone(value) if value is not None else None


def _check_timezone(value: str) -> str:
    if known_zone(value) is None:
        raise spec_error(
            SpecError(
                f"{value!r} is not a time zone", "use an IANA name such as Europe/London or UTC"
            )
        )
    return value


# The weights may read .nan or .inf here: the profile's own check names the day and the hour
ProfileMatrix = tuple[tuple[Annotated[float, AllowInfNan(True)], ...], ...]


class ProfileFile(_Model):
    file: str


class Demand(_Model):
    """Tickets per week, their spread over the week (profile) and growth per year.

    A profile ``{file: weights.csv}`` (or just ``weights.csv``: a name ending in ``.csv``) is read
    when the scenario is validated (relative to the scenario file) and held as its 7x24 matrix;
    scenarios that arrive as uploads may name no file.
    """

    per_week: float = Field(ge=0)
    profile: Name | ProfileMatrix | ProfileFile = "flat"
    growth: Growth = 0.0

    @field_validator("profile")
    @classmethod
    def _profile(cls, value: Any, info: ValidationInfo) -> Any:
        if isinstance(value, str) and value.strip().lower().endswith(".csv"):
            value = ProfileFile(file=value.strip())
        if isinstance(value, ProfileFile):
            context = info.context or {}
            if not context.get("allow_files", True) or context.get("base_dir") is None:
                raise spec_error(
                    SpecError(
                        "this scenario may not name files (it arrived as an upload)",
                        "give the profile as a 7x24 matrix in the scenario",
                    )
                )
            value = read_profile_csv(Path(context["base_dir"]) / value.file)
        if isinstance(value, tuple):
            short = [
                f"{day} has {len(row)}"
                for day, row in zip(DAY_NAMES, value, strict=False)
                if len(row) != 24
            ]
            if len(value) != 7 or short:
                found = f"found {len(value)} rows" if len(value) != 7 else "; ".join(short)
                raise spec_error(
                    SpecError(
                        f"a profile matrix needs 7 rows (mon…sun) of 24 hourly weights: {found}",
                        "give 7 lists of 24 non-negative numbers, or 'flat', or a calendar name",
                    )
                )
            for day, row in zip(DAY_NAMES, value, strict=True):
                for hour, weight in enumerate(row):
                    if not (math.isfinite(weight) and weight >= 0):
                        raise spec_error(
                            SpecError(
                                f"profile weight {weight!r} on {day} {hour:02d}:00: weights "
                                "must be finite numbers of 0 or more",
                                "give each hour a weight of 0 or more (not .nan or .inf)",
                            )
                        )
            if not any(w > 0 for row in value for w in row):
                raise spec_error(
                    SpecError(
                        "profile weights must not be all zero",
                        "give at least one hour a weight above 0",
                    )
                )
        return value


def read_profile_csv(path: Path) -> ProfileMatrix:
    """A 7x24 weights file: one row per weekday (mon…sun), 24 comma-separated hourly weights; a
    header row and a leading label column are allowed."""
    import csv

    try:
        with path.open(newline="", encoding="utf-8-sig") as handle:
            rows = [r for r in csv.reader(handle) if r and any(c.strip() for c in r)]
    except OSError as error:
        raise spec_error(
            SpecError(
                f"cannot read the profile file {path.name}: {error.strerror}",
                "check the path (relative to the scenario file)",
            )
        ) from None
    numeric: list[tuple[float, ...]] = []
    hours = (tuple(float(h) for h in range(24)), tuple(float(h) for h in range(1, 25)))
    for index, row in enumerate(rows):
        try:
            values = tuple(float(c) for c in row[-24:])
        except ValueError:
            continue  # a header row
        if index == 0 and values in hours:
            continue  # a header row of the hours, 0…23 or 1…24
        numeric.append(values)
    short = [
        f"{DAY_NAMES[k] if k < len(DAY_NAMES) else f'row {k + 1}'} has {len(r)}"
        for k, r in enumerate(numeric)
        if len(r) != 24
    ]
    if len(numeric) != 7 or short:
        found = f"found {len(numeric)} numeric rows" + (
            f" ({'; '.join(short)} weights)" if short else ""
        )
        raise spec_error(
            SpecError(
                f"the profile file {path.name} needs 7 rows (mon…sun) of 24 hourly weights, "
                + found,
                "write one row per weekday with 24 comma-separated numbers",
            )
        )
    return tuple(numeric)


class Reopen(_Model):
    probability: Fraction
    after: SpecDistribution


class Credit(_Model):
    below: Fraction
    credit: Fraction


class MaintenanceWindow(_Model):
    """A dated maintenance window in local time: ``{from: 2027-02-06 22:00, until: …}``."""

    from_: str = Field(alias="from")
    until: str

    @model_validator(mode="after")
    def _window(self) -> MaintenanceWindow:
        begin, end = parse_local_datetime(self.from_), parse_local_datetime(self.until)
        if end <= begin:
            raise spec_error(
                SpecError("a maintenance window must end after it starts", "check from and until")
            )
        return self

    @field_validator("from_", "until", mode="before")
    @classmethod
    def _instant(cls, value: Any) -> Any:
        try:
            parse_local_datetime(value)
        except SpecError as error:
            raise spec_error(error) from None
        return str(value)


class AvailabilitySpec(_Model):
    target: Fraction
    calendar: Name = "24x7"
    depends_on: tuple[Name, ...] = Field(min_length=1)
    maintenance: str | tuple[str | MaintenanceWindow, ...] | None = None
    exclude_maintenance: bool = True
    credits: tuple[Credit, ...] = ()
    monthly_fee: float | None = Field(default=None, ge=0)

    @field_validator("maintenance")
    @classmethod
    def _maintenance(cls, value: Any) -> Any:
        items = [value] if isinstance(value, str) else list(value or ())
        for item in items:
            if isinstance(item, str):
                try:
                    parse_weekly_pattern(item)
                except SpecError as error:
                    raise spec_error(error) from None
        return value


class Service(_Model):
    entry: Name
    demand: Demand
    priorities: dict[Name, PriorityLevel] = Field(min_length=1)
    reopen: Reopen | None = None
    availability: AvailabilitySpec | None = None
    description: str | None = None


class PauseSpec(_Model):
    duration: SpecDistribution


class TeamTargets(_Model):
    """OLA (team) or UC (supplier) targets, per visit: respond = assigned → started,
    resolve = assigned → finished."""

    respond: ServiceLevelTarget | None = None
    resolve: ServiceLevelTarget | None = None


class Team(_Model):
    """A resolver team (``kind: team``, with a roster) or a supplier (``kind: supplier``, no
    roster: every ticket starts at once and its handling runs in the supplier's calendar hours)."""

    kind: Literal["team", "supplier"] = "team"
    roster: dict[str, Annotated[int, Field(ge=0)]] | None = None
    shrinkage: Fraction = 0.0
    cost_per_agent_hour: float | None = Field(default=None, ge=0)
    handle: dict[Name, SpecDistribution] = Field(min_length=1)
    next: dict[Name, Fraction] | None = None
    pause: PauseSpec | None = None
    patience: SpecDistribution | None = None
    preempt: tuple[Name, ...] = ()
    calendar: Name | None = None
    ola: TeamTargets | None = None
    uc: TeamTargets | None = None
    description: str | None = None

    @field_validator("roster", mode="before")
    @classmethod
    def _roster(cls, value: Any) -> Any:
        if isinstance(value, dict):
            for key in value:
                try:
                    parse_weekly_pattern(key)
                except SpecError as error:
                    raise spec_error(error) from None
        return value

    @field_validator("shrinkage")
    @classmethod
    def _shrinkage(cls, value: float) -> float:
        if value >= 1:
            raise spec_error(SpecError("shrinkage must be below 100%", "e.g. shrinkage: 30%"))
        return value


class Customer(_Model):
    """A customer of the customer-based SLA structure: its share of each service's tickets and
    its own targets per priority."""

    services: dict[Name, Fraction] = Field(min_length=1)
    priorities: dict[Name, PriorityTargets] = {}


class Corporate(_Model):
    """The corporate level of a multi-level SLA: targets over every ticket of every service."""

    priorities: dict[Name, PriorityTargets] = Field(min_length=1)


class TeamRepair(_Model):
    """Repair through a team's queue: an incident of ``priority`` opened at ``team``."""

    team: Name
    priority: Name


class ChangeOutages(_Model):
    """Change-induced outages: ``per_month`` changes, each failing with ``failure_rate``."""

    per_month: float = Field(ge=0)
    failure_rate: Fraction
    outage: SpecDistribution


class Component(_Model):
    count: int = Field(default=1, ge=1)
    needed: int = Field(default=1, ge=1)
    fails: SpecDistribution
    repair: TeamRepair | SpecDistribution
    restore: Duration | None = None
    changes: ChangeOutages | None = None

    @field_validator("repair", mode="before")
    @classmethod
    def _repair(cls, value: Any) -> Any:
        if isinstance(value, dict) and ("team" in value or "priority" in value):
            return TeamRepair.model_validate(value)
        return value

    @model_validator(mode="after")
    def _restore(self) -> Component:
        if self.restore is not None and not isinstance(self.repair, TeamRepair):
            raise spec_error(
                SpecError(
                    "restore applies only to a repair through a team's queue "
                    "(repair: {team, priority}); a repair given as a distribution already "
                    "includes the time to restore service",
                    "drop restore, or add it to the repair distribution's mean",
                )
            )
        return self

    @model_validator(mode="after")
    def _needed(self) -> Component:
        if self.needed > self.count:
            raise spec_error(
                SpecError(
                    f"needed ({self.needed}) exceeds count ({self.count})",
                    "needed is how many of the count units must be up; make it at most count",
                )
            )
        return self


class Window(_Model):
    """``from`` (inclusive) – ``until`` (exclusive), local dates."""

    from_: LocalDate = Field(alias="from")
    until: LocalDate

    @model_validator(mode="after")
    def _order(self) -> Window:
        if self.until <= self.from_:
            raise spec_error(
                SpecError(
                    "a window's until must be after its from",
                    "until is exclusive: the day after the last day",
                )
            )
        return self


MAX_BACKLOG_TICKETS = 1_000_000
"""Most tickets one backlog line may hold (the run's size guard bounds the whole run)."""


class BacklogGroup(_Model):
    """Tickets already open when the run begins: ``tickets`` of ``service`` at ``priority``,
    waiting in ``team``'s queue (a supplier starts them at once), open for ``age`` when the run
    begins. They load the queues and take agents' time. Opened before the run, their SLA is
    never measured, nor their visit to ``team`` (assigned before it); visits they make later
    count like any visit (docs/scenario-format.md, "backlog")."""

    team: Name
    service: Name
    priority: Name
    tickets: int = Field(ge=1, le=MAX_BACKLOG_TICKETS)
    age: Duration = 0.0


class Change(_Model):
    """A named overlay: an RFC 7396 merge patch, optionally only inside ``window``."""

    patch: dict[str, Any]
    window: Window | None = None
    description: str | None = None


MAX_SPAN_YEARS = 20
MAX_SPAN_H = MAX_SPAN_YEARS * 8760.0
"""Longest horizon, warm-up or drain: rare failures need years, a support queue weeks, and a
back-test's drain covers the history after its span."""
MAX_SEED = 2**53 - 1
"""Largest seed the app takes: the largest whole number a browser's number field carries
unchanged (the command line takes any seed)."""
FIRST_RUN_YEAR, LAST_RUN_YEAR = FIRST_YEAR + 1, LAST_YEAR - 1
"""Years a run may touch: calendars cover FIRST_YEAR–LAST_YEAR and read a year either side of
an instant (its local year may differ)."""


class ScenarioModel(_Model):
    """The whole scenario file."""

    name: Name
    description: str | None = None
    start: LocalDate
    timezone: str = "UTC"
    horizon: PositiveDuration
    warmup: Duration = 336.0
    drain: Duration = 336.0
    replications: int = Field(default=20, ge=1, le=100_000)
    seed: int = Field(default=0, ge=0)
    period: Literal["week", "month", "quarter"] = "month"
    priority_order: tuple[Name, ...] | None = None
    calendars: dict[Name, Literal["always"] | CalendarHours] = {}
    services: dict[Name, Service] = Field(min_length=1)
    teams: dict[Name, Team] = Field(min_length=1)
    customers: dict[Name, Customer] = {}
    corporate: Corporate | None = None
    components: dict[Name, Component] = {}
    changes: dict[Name, Change] = {}
    backlog: tuple[BacklogGroup, ...] = ()

    @field_validator("timezone")
    @classmethod
    def _timezone(cls, value: str) -> str:
        return _check_timezone(value)

    @field_validator("horizon", "warmup", "drain")
    @classmethod
    def _span(cls, value: float, info: ValidationInfo) -> float:
        if value > MAX_SPAN_H:
            raise spec_error(
                SpecError(
                    f"a {info.field_name} of {value:,.0f} hours is longer than the "
                    f"{MAX_SPAN_YEARS} years a scenario may simulate",
                    "e.g. horizon: 13w, warmup: 2w; for rare events raise the replications "
                    "rather than the horizon",
                )
            )
        return value

    @model_validator(mode="after")
    def _inside_calendar_years(self) -> ScenarioModel:
        begin = dt.datetime.combine(self.start, dt.time())
        try:
            first = begin - dt.timedelta(hours=self.warmup)
            last = begin + dt.timedelta(hours=self.horizon + self.drain)
        except OverflowError:  # beyond year 9999: outside the years in any case
            first = last = begin.replace(year=dt.MAXYEAR)
        if first.year < FIRST_RUN_YEAR or last.year > LAST_RUN_YEAR:
            raise spec_error(
                SpecError(
                    f"the run, warm-up and drain included, spans {first:%Y-%m-%d} to "
                    f"{last:%Y-%m-%d}, outside the years {FIRST_RUN_YEAR}–{LAST_RUN_YEAR} that "
                    "calendars and public holidays cover",
                    "start the scenario in the years it is about, e.g. start: 2027-01-04",
                )
            )
        return self
