"""Dates from whatever a table, a payload or numpy gives, and shown the Norwegian way.

    to_date("2026-04-30") / to_date(np.datetime64(...)) / to_date(NaT)  -> date | None
    dato(date(2026, 4, 30))                                             -> "30.04.2026"
    periode(fra, til)                                                   -> "01.04.2026–30.04.2026"
    aware(run.started_at)                                               -> the same instant, UTC-aware
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import numpy as np
import pandas as pd

from connectors.norwegian import fmt_date

__all__ = ["DASH", "aware", "dato", "periode", "to_date"]

DASH = "–"


def to_date(value: Any) -> date | None:
    """A numpy/pandas date (NaT -> None), an ISO text or a date -> date."""
    if value is None:
        return None
    if isinstance(value, str):
        return date.fromisoformat(value) if value else None
    if isinstance(value, np.datetime64) and np.isnat(value):
        return None
    return pd.Timestamp(value).date()


def dato(value: Any) -> str:
    """dd.mm.åååå (connectors.norwegian.fmt_date); empty for no date; anything else as text.
    A numpy/pandas date is a calendar day from a table, taken as it is (not moved to Oslo time)."""
    if value is None:
        return ""
    if isinstance(value, (np.datetime64, pd.Timestamp)):
        if pd.isna(value):
            return ""
        value = pd.Timestamp(value).date()
    return fmt_date(value) if isinstance(value, date) else str(value)


def periode(fra: Any, til: Any) -> str:
    a, b = dato(fra), dato(til)
    if not a and not b:
        return "(ingen periode)"
    return f"{a}{DASH}{b}"


def aware(value: datetime | None) -> datetime | None:
    """A time from the store, UTC-aware (SQLite hands back naive datetimes; the store writes UTC)."""
    if value is None:
        return None
    return value if value.tzinfo else value.replace(tzinfo=UTC)
