"""Helpers for large tables: rows as plain values, and joins and group firsts without a Python loop.

`Columns(frame, dates=…, floats=…)` keeps each column once as a numpy array (text as str, dates as
datetime64[D]); `row(i)` gives one row as a dict of plain values (int, float, str, date or None):
what case evidence, explanations and JSON take, without a per-row DataFrame lookup.
`join(left, right)`: every equal pair of two int64 key arrays; `group_first(keys, n)`: each
group's first row.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np
import pandas as pd

from flows.kit.dates import to_date

__all__ = ["Columns", "group_first", "join", "plain"]


def plain(value: Any) -> Any:
    """numpy scalars as Python values (a datetime64 as a date, NaT as None)."""
    if isinstance(value, np.datetime64):
        return to_date(value)
    return value.item() if isinstance(value, np.generic) else value


class Columns:
    """The frame's columns (`names`, default all) as arrays: `text` as str, `dates` as
    datetime64[D], `floats` as float, the others as they are."""

    def __init__(self, frame: pd.DataFrame, names: Iterable[str] | None = None, *, text: Iterable[str] = (),
                 dates: Iterable[str] = (), floats: Iterable[str] = ()):
        text, dates, floats = set(text), set(dates), set(floats)
        self.names = list(frame.columns if names is None else names)
        self.arrays: dict[str, np.ndarray] = {}
        for name in self.names:
            column = frame[name]
            if name in text:
                self.arrays[name] = column.astype(str).to_numpy()
            elif name in dates:
                self.arrays[name] = column.to_numpy("datetime64[D]")
            elif name in floats:
                self.arrays[name] = column.to_numpy(float)
            else:
                self.arrays[name] = column.to_numpy()

    def __getitem__(self, name: str) -> np.ndarray:
        return self.arrays[name]

    def row(self, i: int, names: Iterable[str] | None = None) -> dict[str, Any]:
        return {n: plain(self.arrays[n][i]) for n in (self.names if names is None else names)}


def join(left: np.ndarray, right: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Inner equi-join of two int64 key arrays: (positions in left, positions in right) of
    every equal pair. Sort-based (one argsort, two searchsorted), no hash table, no frame."""
    if not len(left) or not len(right):
        return np.array([], np.int64), np.array([], np.int64)
    order = np.argsort(right, kind="stable")
    ordered = right[order]
    # Sorted queries: numpy's binary search then starts where the previous one ended, which
    # keeps it in cache (random-order queries into 1M keys cost several times more).
    lorder = np.argsort(left, kind="stable")
    queries = left[lorder]
    lo = np.searchsorted(ordered, queries, side="left")
    hi = np.searchsorted(ordered, queries, side="right")
    count = hi - lo
    total = int(count.sum())
    li = np.repeat(lorder, count)
    step = np.arange(total, dtype=np.int64) - np.repeat(np.cumsum(count) - count, count)
    ri = order[np.repeat(lo, count) + step]
    return li, ri


def group_first(keys: np.ndarray, n: int) -> np.ndarray:
    """For each group 0..n-1 the smallest row index holding it (-1 if none)."""
    out = np.full(n, np.iinfo(np.int64).max, dtype=np.int64)
    np.minimum.at(out, keys, np.arange(len(keys)))
    return np.where(out == np.iinfo(np.int64).max, -1, out)
