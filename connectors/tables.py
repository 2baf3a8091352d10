"""A tolerant table reader driven by a definition's input (`columns`, `required_columns`), for
processes that handle rows one by one: each row as our field names -> the cell as text, with the
row number as the user sees it (header = row 1). A file that cannot be used as a whole (missing,
unreadable, a required column absent, no rows) raises InputFileError; a bad cell is the process's
to judge per row (usually a case naming the row and column).

Bulk readers (a million rows) use the vectorised helpers in connectors.nav.tables instead.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from connectors.nav.tables import InputFileError, map_columns, read_table

__all__ = ["InputFileError", "Row", "read_rows", "parse_date"]


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
    """Rows of the file for the definition's input `spec`; InputFileError if unusable as a whole."""
    path = Path(path)
    df = read_table(path, label)
    found = map_columns(df, path, spec.columns, spec.required_columns, label)
    if df.empty:
        raise InputFileError(path, [f"{label} har ingen rader: ingenting å behandle"])
    return [Row(n + 2, {name: str(rec[header]).strip() for name, header in found.items()})
            for n, rec in enumerate(df.to_dict("records"))]


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
