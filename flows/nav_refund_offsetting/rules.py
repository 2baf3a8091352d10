"""The `rules` block of nav-refund-offsetting.yaml, and how NAV computes a refund.

NAV's computation (ftrl. ch. 8; navikt/helse-spleis), applied per claim where HR's export
carries the income data:

    day rate  = min(min(refund per month, monthly income) x 12, 6G) / 260 x grade,
                rounded to whole kroner
    refund    = day rate x weekdays (Mon-Fri) in the paid period

with the G in force on the first absence day (G changes on 1 May). A claim is rarely equal
to the payment by design: 22 weekdays x 2 308 = 50 776 for a 50 000/month claim. Knowing why
is what lets a difference be offset with an explanation instead of being flagged.
"""

from __future__ import annotations

from datetime import date

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

# Grunnbeløpet (G), valid from 1 May each year.
G_TABLE: list[tuple[date, int]] = [
    (date(2020, 5, 1), 101_351),
    (date(2021, 5, 1), 106_399),
    (date(2022, 5, 1), 111_477),
    (date(2023, 5, 1), 118_620),
    (date(2024, 5, 1), 124_028),
    (date(2025, 5, 1), 130_160),
    (date(2026, 5, 1), 136_549),
]
YEAR_DAYS = 260  # weekdays in a year, as NAV counts


class GValue(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    fra: date = Field(description="First day this G applies (1 May).")
    g: int = Field(gt=50_000, description="Grunnbeløpet in kroner.")


class LedgerRules(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    claim_account: str = Field("1573", description="Open-item account of refund claims (receivable from NAV).")
    bank_account: str = Field("1920", description="Bank account NAV's credit is booked on.")
    difference_account: str = Field("5800", description="Account for differences offset with an explanation.")
    write_off_account: str = Field("7830", description="Account for claims written off by HR.")


class Rules(BaseModel):
    """Business rules of NAV refund offsetting (validated when the definition is loaded)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    tolerance_days: int = Field(3, ge=0, le=31, description="Days a period may differ and still match.")
    tolerance_nok: float = Field(50, ge=0, description="Kroner an amount may differ and still match (rounding).")
    rounding_per_weekday: float = Field(
        1.0, ge=0, le=10, description="Kroner a claim may differ per weekday of the paid period and still be "
        "ROUNDING (NAV rounds the day rate to whole kroner); the tolerance is the larger of this x weekdays "
        "and tolerance_nok.")
    open_ended_claims: bool = Field(
        False, description="A claim without til_dato (an ongoing absence) is read as open to the end of the "
        "report's period; when false such a row is a claim-row case.")
    claim_unpaid_final_after_days: int = Field(
        90, ge=1, description="Days after the claim period's end before an unpaid claim is final.")
    min_grade: int = Field(20, ge=0, le=100, description="Below this grade (%) NAV pays nothing.")
    holiday_pay_codes: list[str] = Field(default_factory=lambda: list("FHIJKM"),
                                         description="Benefit codes of holiday-pay lines (matched separately).")
    recovery_codes: list[str] = Field(default_factory=lambda: ["A"],
                                      description="Codes of recovery lines (trekk/tilbakebetaling).")
    check_maksdato: bool = Field(True, description="A changed maksdato stops an automatic offset.")
    default_org_unit: str = Field("Lønnsseksjonen", description="Unit for cases with no claim or employee.")
    api_first_poll_from: date | None = Field(
        None, description="First API poll: only reports valued on/after this date (default: all visible).")
    archive_after_processing: bool = Field(True, description="Mark a report archived at NAV once processed.")
    folder_pattern: str = Field("*.csv", description="Report files in the folder source.")
    max_invalid_line_share: float = Field(
        0.5, gt=0, le=1, description="A report (10+ lines) with a larger share of invalid lines is refused as a "
        "whole: one case, nothing settled or aged on it.")
    claim_id_pattern: str = Field(
        r"[A-Za-z0-9][A-Za-z0-9._/-]{0,39}", description="Regular expression (whole value) a claim id must match "
        "at intake: it goes into the ledger import, so a value like '=1+1' is refused, never rewritten.")
    org_unit_pattern: str = Field(
        r"[0-9A-Za-zÆØÅæøåÄÖÜäöüÉé][0-9A-Za-zÆØÅæøåÄÖÜäöüÉé .,()&/'-]{0,79}",
        description="Regular expression (whole value) an org unit must match at intake (it goes into the ledger "
        "import).")
    g_values: list[GValue] = Field(default_factory=lambda: [GValue(fra=d, g=g) for d, g in G_TABLE],
                                   description="Grunnbeløpet history (add next year's G here).")
    ledger: LedgerRules = Field(default_factory=LedgerRules, description="Accounts in the offset journal.")

    @field_validator("claim_id_pattern", "org_unit_pattern")
    @classmethod
    def _pattern(cls, value: str) -> str:
        import re

        try:
            re.compile(value)
        except re.error as exc:
            raise ValueError(f"not a valid regular expression: {exc}") from None
        return value

    @field_validator("holiday_pay_codes", "recovery_codes")
    @classmethod
    def _codes(cls, value: list[str]) -> list[str]:
        from connectors.nav.k27 import BENEFIT_CODES

        unknown = [c for c in value if c not in BENEFIT_CODES]
        if unknown:
            raise ValueError(f"unknown benefit code(s) {unknown}; known: {', '.join(BENEFIT_CODES)}")
        return value

    @model_validator(mode="after")
    def _g_sorted(self) -> Rules:
        dates = [v.fra for v in self.g_values]
        if dates != sorted(dates) or len(set(dates)) != len(dates):
            raise ValueError("g_values must be in ascending order of `fra`, one per date")
        return self

    @property
    def tolerance_ore(self) -> int:
        return int(round(self.tolerance_nok * 100))

    def g_arrays(self) -> tuple[np.ndarray, np.ndarray]:
        return (np.array([v.fra for v in self.g_values], dtype="datetime64[D]"),
                np.array([v.g for v in self.g_values], dtype=np.int64))


def g_at(rules: Rules, days: np.ndarray) -> np.ndarray:
    """The G in force on each date (datetime64); the first G for earlier dates."""
    starts, values = rules.g_arrays()
    idx = np.searchsorted(starts, days.astype("datetime64[D]"), side="right") - 1
    return values[np.clip(idx, 0, len(values) - 1)]


def weekdays(fra: np.ndarray, til: np.ndarray) -> np.ndarray:
    """Weekdays Mon-Fri from `fra` to `til` inclusive (public holidays on weekdays count: NAV pays them)."""
    fra = fra.astype("datetime64[D]")
    til = til.astype("datetime64[D]")
    ok = ~np.isnat(fra) & ~np.isnat(til)
    out = np.zeros(len(fra), dtype=np.int64)
    if ok.any():
        out[ok] = np.busday_count(fra[ok], til[ok] + np.timedelta64(1, "D"))
    return out


def round_half_up(numerator: np.ndarray, denominator: int | np.ndarray) -> np.ndarray:
    """Integer division rounded half up (NAV's rounding), exact in int64."""
    return (2 * numerator + denominator) // (2 * denominator)


def day_rate_kr(basis_monthly_ore: np.ndarray, g: np.ndarray, grade_pct: np.ndarray) -> np.ndarray:
    """NAV's day rate in whole kroner: min(basis x 12, 6G) / 260 x grade, rounded.

    basis_monthly_ore: min(refund per month, monthly income) in øre (int64)."""
    annual_ore = np.minimum(basis_monthly_ore * 12, g * 6 * 100)
    grade = np.rint(grade_pct * 100).astype(np.int64)  # grade in 1/100 percent, exact integers
    return round_half_up(annual_ore * grade, YEAR_DAYS * 100 * 100 * 100)


def cap_day_kr(g: np.ndarray) -> np.ndarray:
    """6G per day in kroner (3 004 with the 2025 G)."""
    return round_half_up(g * 6, np.int64(YEAR_DAYS))
