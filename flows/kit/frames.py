"""A large table's rows as plain Python values, for the few rows a run explains or opens a case for.

`Columns(frame, dates=…, floats=…)` keeps each column once as a numpy array (text as str, dates as
datetime64[D]); `row(i)` gives one row as a dict of plain values (int, float, str, date or None):
what case evidence, explanations and JSON take, without a per-row DataFrame lookup.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["Columns", "plain", "to_date"]


def to_date(value: Any) -> date | None:
    """A numpy/pandas date (NaT -> None), an ISO text or a date -> date."""
    if value is None:
        return None
    if isinstance(value, str):
        return date.fromisoformat(value) if value else None
    if isinstance(value, np.datetime64) and np.isnat(value):
        return None
    return pd.Timestamp(value).date()


def plain(value: Any) -> Any:
    """numpy scalars as Python values (a datetime64 as a date, NaT as None)."""
    if isinstance(value, np.datetime64):
        return to_date(value)
    return value.item() if isinstance(value, np.generic) else value


class Columns:
    def __init__(self, frame: pd.DataFrame, names: Iterable[str] | None = None, *, text: Iterable[str] = (),
                 dates: Iterable[str] = (), floats: Iterable[str] = ()):
        kinds = {**{n: str for n in text}, **{n: "datetime64[D]" for n in dates}, **{n: float for n in floats}}
        self.names = list(names) if names is not None else list(frame.columns)
        self.arrays = {n: (frame[n].astype(str).to_numpy() if kinds.get(n) is str else
                           frame[n].to_numpy(kinds[n]) if n in kinds else frame[n].to_numpy()) for n in self.names}

    def __getitem__(self, name: str) -> np.ndarray:
        return self.arrays[name]

    def row(self, i: int, names: Iterable[str] | None = None) -> dict[str, Any]:
        return {n: plain(self.arrays[n][i]) for n in (self.names if names is None else names)}
