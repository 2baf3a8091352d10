"""The `rules` block of config/processes/tjenestebevis.yaml."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class Rules(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    requests_input: str = Field("requests", description="The input holding HR's requests (Bestillinger).")
    employment_input: str = Field("employment", description="The input holding employment records.")
    max_total_percent: float = Field(100, gt=0, le=300, description="Total stillingsprosent on one day above "
                                                                    "which the records go to HR.")
    duplicate_window_days: int = Field(30, ge=0, le=365, description="A second request from the same person "
                                                                     "within this many days is a duplicate.")
    issuing_unit: str = Field(min_length=2, description="The unit named as issuer in the letter.")
    place: str = Field(min_length=2, description="Place written before the date in the letter.")
    municipality: str = Field("", description="The municipality in the letterhead (default: settings).")
