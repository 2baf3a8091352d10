"""One small Excel writer for a process's summary sheet: a header row, data rows, column widths.
Cells are written as values, never as formulas (openpyxl would take a text starting with `=` as one)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path

__all__ = ["write_sheet"]


def write_sheet(path: Path, sheet: str, header: Sequence[str], rows: Iterable[Sequence[object]],
                widths: Sequence[float] = ()) -> Path:
    from openpyxl import Workbook
    from openpyxl.utils import get_column_letter

    wb = Workbook()
    ws = wb.active
    ws.title = sheet
    ws.append(list(header))
    for row in rows:
        ws.append(list(row))
        for cell in ws[ws.max_row]:
            if cell.data_type == "f":  # text that looks like a formula stays text
                cell.data_type = "s"
    for n, width in enumerate(widths, start=1):
        ws.column_dimensions[get_column_letter(n)].width = width
    ws.freeze_panes = "A2"
    path.parent.mkdir(parents=True, exist_ok=True)
    wb.save(path)
    return path
