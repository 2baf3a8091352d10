"""A tolerant table reader driven by a definition's input (`columns`, `required_columns`), for
processes that handle rows one by one: each row as our field names -> the cell as text, with the
row number as the user sees it (header = row 1). A file that cannot be used as a whole (missing,
unreadable, not the declared format, a required column absent, no rows) raises InputFileError; a
bad cell is the process's to judge per row (usually a case naming the row and column).

Bulk readers (a million rows) use the vectorised helpers in connectors.nav.tables instead.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from connectors.nav.tables import EXCEL_SUFFIXES, InputFileError, map_columns, read_table

__all__ = ["InputFileError", "Row", "read_rows", "parse_date", "parse_whole_number"]


@dataclass(frozen=True)
class Row:
    number: int                 # as Excel numbers it (header = 1)
    cells: dict[str, str]       # our field name -> stripped text ("" when empty or unmapped)

    def get(self, name: str) -> str:
        return self.cells.get(name, "")

    def as_date(self, name: str, problems: list[str], required: bool = True) -> date | None:
        """The cell as a date; an unreadable (or, if required, empty) cell is named in `problems`."""
        value = parse_date(self.get(name))
        if value is None and (required or self.get(name)):
            problems.append(f"{name} «{self.get(name)}» er ikke en dato (dd.mm.åååå)")
        return value

    def as_number(self, name: str, problems: list[str]) -> float | None:
        """The cell as a number (decimal comma, a trailing % or kr allowed), else named in `problems`."""
        text = self.get(name).replace("\u00a0", "").replace(" ", "").replace(",", ".").rstrip("%").removesuffix("kr")
        try:
            return float(text)
        except ValueError:
            problems.append(f"{name} «{self.get(name)}» er ikke et tall")
            return None


def read_rows(path: Path | str, spec: Any, label: str) -> list[Row]:
    """Rows of the file for the definition's input `spec`; InputFileError if unusable as a whole.
    Headers match without regard to case, spaces, `_-.` and æøå spelled ae/oe/aa; an input
    declared `format: xlsx` must be an Excel file; empty rows are skipped (the others keep their
    numbers)."""
    path = Path(path)
    if getattr(spec, "format", None) == "xlsx" and path.suffix.lower() not in EXCEL_SUFFIXES:
        raise InputFileError(path, [f"{label} må være en Excel-fil (.xlsx), ikke {path.suffix or 'uten endelse'}"])
    df = read_table(path, label)
    headers = {_fold(c): c for c in df.columns}
    columns = {name: headers.get(_fold(header), header) for name, header in spec.columns.items()}
    found = map_columns(df, path, columns, spec.required_columns, label)
    if df.empty:
        raise InputFileError(path, [f"{label} har overskrifter, men ingen rader; eksporter filen på nytt"])
    return [Row(int(index) + 2, {name: str(rec[header]).strip() for name, header in found.items()})
            for index, rec in zip(df.index, df.to_dict("records"), strict=True)]


def _fold(header: object) -> str:
    text = str(header).strip().lower()
    for letter, spelled in (("æ", "ae"), ("ø", "oe"), ("å", "aa")):
        text = text.replace(letter, spelled)
    return re.sub(r"[\s_\-.]+", "", text)


def parse_date(text: str) -> date | None:
    """dd.mm.åååå, åååå-mm-dd (an Excel date cell arrives so) or an Excel serial day number; None
    when the text is none of them (the caller names the cell)."""
    text = (text or "").strip()
    for fmt in ("%d.%m.%Y", "%Y-%m-%d"):
        try:
            return datetime.strptime(text[:10], fmt).date()
        except ValueError:
            pass
    if text.isdigit() and 20000 < int(text) < 80000:
        return date(1899, 12, 30) + timedelta(days=int(text))
    return None


def parse_whole_number(text: str, unit: str = "") -> int | None:
    """A count as people type it, `unit` after it or not: '45000', '45 000 km', '45.000' (dots
    between thousands), '45000,7' -> 45000; '' -> None; ValueError otherwise."""
    value = re.sub(r"[\s\u00a0]", "", text.lower().removesuffix(unit.lower()))
    if re.fullmatch(r"\d{1,3}(\.\d{3})+", value):  # thousands separated by dots
        value = value.replace(".", "")
    if not re.fullmatch(r"\d+([.,]\d+)?", value or "0"):
        raise ValueError(text)
    return int(float(value.replace(",", "."))) if value else None
