"""The `rules` block of config/processes/tjenestebevis.yaml (inputs: `requests`, `employment`)."""

from pydantic import BaseModel, ConfigDict, Field


class Rules(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    max_total_percent: float = Field(100, gt=0, le=300, description="Total stillingsprosent on a day above which HR looks.")
    duplicate_window_days: int = Field(30, ge=0, le=365, description="Same person again within these days: a duplicate.")
    municipality: str = Field(min_length=2, description="The municipality in the letterhead and the text.")
    issuing_unit: str = Field(min_length=2, description="The unit named as issuer in the letter.")
    place: str = Field(min_length=2, description="Place written before the date in the letter.")
