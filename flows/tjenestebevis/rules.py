"""The `rules` block of config/processes/tjenestebevis.yaml (inputs: `requests`, `employment`). The
letter's municipality and place are the installation's (settings.municipality); its issuing unit
is the definition's owner.org_unit."""

from pydantic import BaseModel, ConfigDict, Field


class Rules(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    max_total_percent: float = Field(100, gt=0, le=300, description="Total stillingsprosent on a day above which HR looks.")
    duplicate_window_days: int = Field(30, ge=0, le=365, description="Same person again within these days: a duplicate.")
