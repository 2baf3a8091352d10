"""The `rules` block of config/processes/vehicle-data-collection.yaml."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class Rules(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    fleet_input: str = Field("fleet-list", description="The input (from `inputs`) holding the fleet list.")
    cache_max_age_hours: float = Field(
        24, ge=0, description="Reuse a registry answer younger than this instead of spending quota (0: never).")
    quota_max_wait_seconds: float = Field(
        120, ge=0, description="A 422/429 Retry-After up to this long is waited out inside the run (every "
                               "lookup thread pauses); a longer one defers the remaining vehicles to that time "
                               "and ends the run 'paused'.")
    max_short_waits: int = Field(
        20, ge=0, description="Short quota waits per run before the run defers instead (a registry that keeps "
                              "refusing is not waited on forever).")
    rate_safety_margin: float = Field(
        0.95, gt=0, le=1, description="Share of the definition's requests_per_second actually used, so jitter "
                                      "never trips the registry's own limit.")
    claim_batch: int = Field(200, ge=1, le=5000, description="Work items claimed per store round trip.")
    max_retry_wait_seconds: float = Field(
        60, ge=0, description="Wait inside the run for items whose retry backoff ends within this time; later "
                              "ones are left for the next run.")
    allow_personalized_plates: bool = Field(
        False, description="Accept personalized plates (2-7 letters/digits); off, since in a fleet list an odd "
                           "short string is far more often a typo.")
    eu_control_grace_days: int = Field(
        0, ge=0, description="Days after the EU-control deadline before a vehicle is flagged EU_CONTROL_OVERDUE.")
    odometer_from_web: bool = Field(
        False, description="Read the odometer history from the web page (bot) for vehicles the fleet list has no "
                           "kilometerstand for. Slow by design (politely rate-limited).")
    web_min_interval_seconds: float = Field(
        2.0, ge=0, description="At least this long between two page loads on vegvesen.no (the bot path).")
    baseline_file: str | None = Field(
        "input/vehicle-data-collection/forrige-klimarapport.json",
        description="The last figures reported before the robot (JSON: period, total, by_unit, by_weight), "
                    "shown as 'previous' until the robot has a completed run of an earlier tertial. "
                    "Relative to the data folder; a missing file is fine.")
    odometer_max_age_days: int = Field(
        30, ge=0, description="Reuse an odometer history read from the web page within this many days.")
