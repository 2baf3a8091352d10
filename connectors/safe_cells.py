"""The one place that makes a CSV or Excel cell safe to open in a spreadsheet.

A text cell that starts with `=`, `+`, `-`, `@`, a tab or a carriage return is run as a formula
by Excel and LibreOffice when the CSV is opened (CSV/formula injection: `=HYPERLINK(…)` in a
claim id, a file named `@SUM(…).pdf`). Every writer of the project passes its text cells through
here: such a cell gets a leading apostrophe (what Excel itself uses to mark text), unless it is a
real number the project wrote (`-1 234,50`). Excel files are written with xlsxwriter set never to
turn a string into a formula, URL or number (`workbook`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_NUMBER = re.compile(r"[-+]?\d[\d \u00a0]*(?:[.,]\d+)?%?")
_RISKY_REGEX = r"^[=+\-@\t\r]"
_NUMBER_REGEX = r"^[-+]?[0-9][0-9 ]*([.,][0-9]+)?%?$"
XLSX_OPTIONS = {"strings_to_formulas": False, "strings_to_urls": False, "strings_to_numbers": False}


def is_risky(text: str) -> bool:
    """True when a spreadsheet would run this text as a formula."""
    return bool(text) and text.startswith(FORMULA_START) and not _NUMBER.fullmatch(text)


def safe_cell(value: Any) -> Any:
    """The value, with text a spreadsheet would run as a formula turned into plain text."""
    if isinstance(value, str) and is_risky(value):
        return "'" + value
    return value


def safe_row(values: Iterable[Any]) -> list[Any]:
    return [safe_cell(v) for v in values]


def safe_frame(frame):
    """A pandas frame with every text column made safe (numbers untouched); a copy."""
    import pandas as pd
    import pyarrow as pa
    import pyarrow.compute as pc

    out = frame.copy()
    for column in out.columns:
        series = out[column]
        if not (pd.api.types.is_object_dtype(series.dtype) or pd.api.types.is_string_dtype(series.dtype)):
            continue
        try:  # a quick vectorized look first: most columns hold nothing risky
            arr = pa.array(series, from_pandas=True)
            if pa.types.is_string(arr.type) and not pc.any(pc.match_substring_regex(arr, _RISKY_REGEX)).as_py():
                continue
        except (pa.ArrowInvalid, pa.ArrowTypeError):
            pass
        out[column] = series.map(safe_cell)
    return out


def safe_arrow(array):
    """An Arrow string array made safe, vectorized (1M journal rows)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if isinstance(array, pa.ChunkedArray):
        array = array.combine_chunks()
    if not pa.types.is_string(array.type) and not pa.types.is_large_string(array.type):
        return array
    risky = pc.and_(pc.match_substring_regex(array, _RISKY_REGEX),
                    pc.invert(pc.match_substring_regex(array, _NUMBER_REGEX)))
    if not pc.any(risky).as_py():
        return array
    return pc.if_else(risky, pc.binary_join_element_wise("'", array, ""), array)


def safe_table(table):
    """An Arrow table with every string column made safe."""
    import pyarrow as pa

    return pa.table({name: safe_arrow(table.column(name)) for name in table.column_names})


def workbook(target, options: dict[str, Any] | None = None):
    """An xlsxwriter Workbook that writes every string as a string (never a formula, URL or number)."""
    import xlsxwriter

    return xlsxwriter.Workbook(target, {**(options or {}), **XLSX_OPTIONS})


__all__ = ["FORMULA_START", "is_risky", "safe_cell", "safe_row", "safe_frame", "safe_arrow", "safe_table",
           "workbook", "XLSX_OPTIONS"]
