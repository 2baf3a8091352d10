"""The process definition: the contract a process is described by before it is automated.

One YAML file per process under ``config/processes/``. The generic part is validated here;
the ``rules`` block belongs to the process and is validated by the flow package's own model
(``flows.registry``), so adding a process needs no change in this module.
"""

from __future__ import annotations

import re
from datetime import datetime
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from cronsim import CronSim, CronSimError
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

SLUG = r"^[a-z][a-z0-9]*(-[a-z0-9]+)*$"
CODE = r"^[A-Z][A-Z0-9]*(_[A-Z0-9]+)*$"


class Strict(BaseModel):
    """Unknown keys are errors: a typo in a definition must not pass silently."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class Owner(Strict):
    name: str = Field(min_length=2, description="Process owner (a person or role).")
    email: str = Field(pattern=r"^[^@\s]+@[^@\s]+\.[a-z]{2,}$", description="Where SLA alerts and the benefits report go.")
    org_unit: str = Field(min_length=2, description="Organisation unit that owns the process.")


class Access(StrEnum):
    api = "api"
    portal = "portal"
    file = "file"


class System(Strict):
    id: str = Field(pattern=SLUG, description="Short id, referenced by inputs and rate limits.")
    name: str = Field(min_length=2)
    access: list[Access] = Field(min_length=1, description="How the robot reaches the system.")


class Schedule(Strict):
    cron: str = Field(description="Five-field cron expression.")
    timezone: str = Field("Europe/Oslo", description="IANA time zone the cron is read in.")
    active: bool = True

    @field_validator("cron")
    @classmethod
    def _cron(cls, value: str) -> str:
        if len(value.split()) != 5:
            raise ValueError(f"cron needs 5 fields (minute hour day month weekday), got {value!r}")
        try:
            CronSim(value, datetime(2026, 1, 1))
        except CronSimError as exc:
            raise ValueError(f"invalid cron expression {value!r}: {exc}") from None
        return value

    @field_validator("timezone")
    @classmethod
    def _timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value!r} (use an IANA name such as Europe/Oslo)") from None
        return value


class InputFormat(StrEnum):
    k27_csv = "k27-csv"
    xlsx = "xlsx"
    csv = "csv"
    xlsx_or_csv = "xlsx-or-csv"
    json = "json"
    folder = "folder"
    ehf_xml = "ehf-xml"


class Input(Strict):
    id: str = Field(pattern=SLUG)
    description: str = Field(min_length=3)
    system: str = Field(pattern=SLUG, description="The system (from `systems`) the input comes from.")
    format: InputFormat
    path: str | None = Field(None, description="File or folder; relative paths are under the data folder.")
    encoding: str | None = Field(None, description="Text encoding, e.g. iso-8859-1.")
    columns: dict[str, str] = Field(
        default_factory=dict, description="Our field name -> the column header in the file."
    )
    required_columns: list[str] = Field(default_factory=list, description="Fields that must be mapped.")

    @field_validator("encoding")
    @classmethod
    def _encoding(cls, value: str | None) -> str | None:
        if value is not None:
            import codecs

            try:
                codecs.lookup(value)
            except LookupError:
                raise ValueError(f"unknown text encoding {value!r}") from None
        return value

    @model_validator(mode="after")
    def _required_mapped(self) -> Input:
        problems = [f"required_columns: {c!r} has no mapping in `columns` (add `{c}: <column header>`)"
                    for c in self.required_columns if c not in self.columns]
        problems += [f"columns.{k}: the column header is empty" for k, v in self.columns.items() if not v.strip()]
        if problems:
            raise ValueError("\n".join(problems))
        return self


class ResolvedBy(StrEnum):
    hr = "hr"
    finance = "finance"
    fleet = "fleet"
    operator = "operator"
    owner = "owner"


class ExceptionKind(StrEnum):
    business = "business"
    system = "system"


class ExceptionCategory(Strict):
    code: str = Field(pattern=CODE, description="UPPER_SNAKE code used in the queue and reports.")
    meaning: str = Field(min_length=5, description="What it means, in Norwegian (shown to staff).")
    kind: ExceptionKind = ExceptionKind.business
    resolved_by: ResolvedBy
    sla_hours: float = Field(gt=0, description="Hours a case may stay open before it breaches SLA.")
    actions: list[str] = Field(
        default_factory=lambda: ["handled_manually", "dismiss"],
        description="Decisions a reviewer may take on a case of this category.",
    )


class RetryPolicy(Strict):
    max_attempts: int = Field(3, ge=1, le=10, description="Attempts per item before escalation.")
    backoff_seconds: float = Field(30, ge=0, description="Wait before the first retry.")
    backoff_factor: float = Field(2.0, ge=1, description="Multiplier per further retry.")
    max_backoff_seconds: float = Field(3600, gt=0)
    stop_after_consecutive_system_errors: int = Field(
        10, ge=1, description="Stop the run when the target system looks down (don't hammer it)."
    )
    lease_seconds: float = Field(600, gt=0, description="How long a claimed item is held before it counts as abandoned.")

    @model_validator(mode="after")
    def _max_covers_base(self) -> RetryPolicy:
        if self.max_backoff_seconds < self.backoff_seconds:
            raise ValueError(f"max_backoff_seconds: {self.max_backoff_seconds:g} is smaller than "
                             f"backoff_seconds ({self.backoff_seconds:g})")
        return self


class Baseline(Strict):
    manual_minutes_per_case: float = Field(gt=0, description="Minutes a person spends per case by hand.")
    robot_minutes_per_case: float = Field(0, ge=0, description="Minutes of human time left per automated case.")
    source: str = Field(min_length=3, description="Where the manual baseline comes from (measurement, estimate).")


class Classification(StrEnum):
    none = "none"
    internal = "internal"
    personal = "personal"
    sensitive = "sensitive"  # special categories (health): sick leave is health data


class PersonalData(Strict):
    classification: Classification
    fields: list[str] = Field(default_factory=list, description="Personal-data fields handled (fnr, navn …).")
    retention_days: int = Field(gt=0, le=3650, description="Days outputs and cases are kept.")
    legal_basis: str = Field(min_length=3)

    @model_validator(mode="after")
    def _fields_when_personal(self) -> PersonalData:
        if self.classification in (Classification.personal, Classification.sensitive) and not self.fields:
            raise ValueError(f"fields: classification {self.classification.value!r} needs the personal-data "
                             "fields listed (e.g. fnr, navn)")
        return self


class RateLimit(Strict):
    system: str = Field(pattern=SLUG)
    requests_per_second: float = Field(gt=0)
    concurrency: int = Field(4, ge=1, le=64, description="Requests in flight at once.")
    daily_quota: int | None = Field(None, gt=0)


class ApprovalRule(Strict):
    """Four-eyes (attestasjon): a decision matching this rule waits for a second person."""

    action: str = Field(description="A declared action code of the process, or '*' for every action.")
    above: float | None = Field(None, ge=0, description="Approval when the decision's amount (kr, absolute) "
                                                        "is above this.")
    when_changed: str = Field("", description="Approval when this field differs from its proposed value "
                                              "(e.g. `amount`: an offset other than NAV's amount).")
    reason: str = Field(min_length=5, description="Why, in Norwegian (shown to the reviewer and the attestant).")

    @model_validator(mode="after")
    def _has_condition(self) -> ApprovalRule:
        if self.above is None and not self.when_changed:
            raise ValueError("an approval rule needs `above` or `when_changed`")
        return self


class Controls(Strict):
    """Internal control on decisions (see docs/review.md): which need an attestant."""

    approval: list[ApprovalRule] = Field(default_factory=list)


class Mode(StrEnum):
    """shadow: the process runs beside the people, records what it would do and writes nothing
    outside the store (docs/shadow.md); live: it acts."""

    shadow = "shadow"
    live = "live"


class ShadowPolicy(Strict):
    """How a process in shadow is judged against the people's own outcome, and when it may go live."""

    human_outcome: str | None = Field(None, description="The input (from `inputs`) holding the people's outcome "
                                                          "for a period: what the robot is compared with.")
    min_cases: int = Field(300, ge=1, description="Promotion: compared cases at least.")
    min_runs: int = Field(2, ge=1, description="Promotion: shadow runs at least.")
    min_agreement: float = Field(0.98, gt=0, le=1, description="Promotion: share of what the robot would do "
                                                               "automatically that the people did the same way.")
    max_unsigned_money_disagreements: int = Field(0, ge=0, description="Promotion: disagreements in money the "
                                                                        "owner has not signed off, at most.")


class ProcessDefinition(Strict):
    id: str = Field(pattern=SLUG, max_length=64)
    version: int = Field(1, ge=1)
    name: str = Field(min_length=3, description="Name in Norwegian, as staff know the process.")
    purpose: str = Field(min_length=20)
    owner: Owner
    systems: list[System] = Field(min_length=1)
    schedule: Schedule
    source: str = Field(description="Where the main input is fetched from; one of `sources`.")
    sources: list[str] = Field(min_length=1, description="The doors this process supports.")
    inputs: list[Input] = Field(min_length=1)
    rules: dict[str, Any] = Field(default_factory=dict, description="Business rules; validated by the flow's model.")
    exception_categories: list[ExceptionCategory] = Field(min_length=1)
    controls: Controls = Field(default_factory=Controls, description="Approval limits on reviewers' decisions.")
    retry: RetryPolicy = Field(default_factory=RetryPolicy)
    baseline: Baseline
    personal_data: PersonalData
    rate_limits: list[RateLimit] = Field(default_factory=list)
    parameters: dict[str, Any] = Field(default_factory=dict, description="Default flow-run parameters (ids, paths; never personal data).")
    tags: list[str] = Field(default_factory=list)
    mode: Mode = Field(Mode.live, description="shadow: compute and record what it would do, write nothing outside "
                                              "the store; live: act (see docs/shadow.md).")
    shadow: ShadowPolicy = Field(default_factory=ShadowPolicy, description="The people's outcome to compare with "
                                                                          "and the promotion thresholds.")

    @model_validator(mode="after")
    def _consistent(self) -> ProcessDefinition:
        """Cross-field checks, all reported at once, each naming its field path."""
        system_ids = [s.id for s in self.systems]
        problems = [*_repeated("systems", "id", system_ids),
                    *_repeated("inputs", "id", [i.id for i in self.inputs]),
                    *_repeated("exception_categories", "code", [c.code for c in self.exception_categories]),
                    *_repeated("rate_limits", "system", [r.system for r in self.rate_limits])]
        refs = [*((f"inputs.{n}.system", i.system) for n, i in enumerate(self.inputs)),
                *((f"rate_limits.{n}.system", r.system) for n, r in enumerate(self.rate_limits))]
        problems += [f"{where}: unknown system {ref!r} (known: {', '.join(system_ids)})"
                     for where, ref in refs if ref not in system_ids]
        if self.shadow.human_outcome and self.shadow.human_outcome not in [i.id for i in self.inputs]:
            problems.append(f"shadow.human_outcome: unknown input {self.shadow.human_outcome!r}")
        if self.source not in self.sources:
            problems.append(f"source: {self.source!r} is not one of `sources` ({', '.join(self.sources)})")
        if problems:
            raise ValueError("\n".join(problems))
        return self

    def category(self, code: str) -> ExceptionCategory:
        for c in self.exception_categories:
            if c.code == code:
                return c
        raise KeyError(f"{self.id}: no exception category {code!r}")

    def input(self, input_id: str) -> Input:
        for i in self.inputs:
            if i.id == input_id:
                return i
        raise KeyError(f"{self.id}: no input {input_id!r}")

    def rate_limit(self, system: str) -> RateLimit | None:
        return next((r for r in self.rate_limits if r.system == system), None)

    @property
    def compared_system(self) -> str | None:
        """Shadow mode: the system whose records the people keep (that of `shadow.human_outcome`)."""
        return self.input(self.shadow.human_outcome).system if self.shadow.human_outcome else None

    @property
    def flow_package(self) -> str:
        """The flow package by convention: flows.<id with underscores>."""
        return "flows." + self.id.replace("-", "_")


def _repeated(where: str, key: str, values: list[str]) -> list[str]:
    """'exception_categories.3.code: 'GRADE' is used twice (also at exception_categories.0.code)'."""
    first: dict[str, int] = {}
    problems = []
    for n, value in enumerate(values):
        if value in first:
            problems.append(f"{where}.{n}.{key}: {value!r} must be unique (also at {where}.{first[value]}.{key})")
        else:
            first[value] = n
    return problems


def id_from_filename(name: str) -> str | None:
    stem = re.sub(r"\.ya?ml$", "", name)
    return stem if re.match(SLUG, stem) else None


