"""The `rules` block of config/processes/retention.yaml."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class Rules(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    batch_size: int = Field(500, ge=1, le=5000, description="Cases or work items cleared per database transaction.")
    flag_unknown_processes: bool = Field(
        True, description="Open an UNKNOWN_PROCESS case for data of a process id not in the catalogue "
        "(its retention is unknown, so nothing of it is deleted).")
