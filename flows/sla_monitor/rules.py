"""The `rules` block of config/processes/sla-monitor.yaml."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class Rules(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    lookback_hours: float = Field(48, gt=0, le=24 * 31, description="Failed/late runs younger than this are reported.")
    late_run_grace_minutes: float = Field(
        10, ge=0, description="A run Prefect marks Late is reported once its start is this many minutes overdue.")
    missed_run_grace_minutes: float = Field(
        60, gt=0, description="A scheduled start with no recorded run after this long counts as missed.")
    max_cases_listed: int = Field(20, ge=1, le=500, description="Cases listed by id in one alert; the rest are counted.")
    exclude_processes: list[str] = Field(default_factory=list, description="Process ids not watched.")
