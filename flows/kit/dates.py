"""Dates from whatever a table, a payload or numpy gives, and shown the Norwegian way.

    to_date("2026-04-30") / to_date(np.datetime64(...)) / to_date(NaT)  -> date | None
    dato(date(2026, 4, 30))                                             -> "30.04.2026"
    periode(fra, til)                                                   -> "01.04.2026–30.04.2026"
"""

from __future__ import annotations

from datetime import date
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["DASH", "dato", "periode", "to_date"]

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
    """dd.mm.yyyy; empty for no date; anything else as text."""
    if value is None:
        return ""
    if isinstance(value, (np.datetime64, pd.Timestamp)):
        if pd.isna(value):
            return ""
        value = pd.Timestamp(value).date()
    if isinstance(value, date):
        return value.strftime("%d.%m.%Y")
    return str(value)


def periode(fra: Any, til: Any) -> str:
    a, b = dato(fra), dato(til)
    if not a and not b:
        return "(ingen periode)"
    return f"{a}{DASH}{b}"
