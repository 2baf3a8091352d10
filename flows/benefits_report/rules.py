"""The `rules` block of config/processes/benefits-report.yaml."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class Rules(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    months: int = Field(12, ge=1, le=60, description="Months in the report, the newest last.")
    hours_per_working_day: float = Field(7.5, gt=0, le=24, description="Hours in a working day (time saved in days).")
    exclude_processes: list[str] = Field(
        default_factory=list, description="Process ids left out (the platform's own housekeeping flows).")
    flag_processes_without_runs: bool = Field(
        True, description="Open a NO_RUNS case for a scheduled process with no run in the newest month.")
    timezone: str = Field("Europe/Oslo", description="Time zone that decides which month a run belongs to.")
