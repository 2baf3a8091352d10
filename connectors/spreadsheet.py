"""One small Excel writer for a process's summary sheet (or several sheets): a header row, data rows,
column widths, number formats.
Cells are written as values, never as formulas (openpyxl would take a text starting with `=` as one)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["write_sheet", "write_sheets", "Sheet", "AMOUNT", "PERCENT", "INTEGER"]


def write_sheet(path: Path, sheet: str, header: Sequence[str], rows: Iterable[Sequence[object]],
                widths: Sequence[float] = ()) -> Path:
    return write_sheets(path, [Sheet(sheet, header, rows, widths)])


@dataclass
class Sheet:
    """One sheet: a header row, data rows, column widths, and number formats per column (Excel
    shows them with the reader's separators: `# ##0,00` and `98,5 %` in a Norwegian Excel)."""

    title: str
    header: Sequence[str]
    rows: Iterable[Sequence[object]]
    widths: Sequence[float] = ()
    formats: dict[int, str] = field(default_factory=dict)  # column number (0-based) -> number format


AMOUNT = "#,##0.00"
PERCENT = "0.0%"
INTEGER = "#,##0"


def write_sheets(path: Path, sheets: Sequence[Sheet]) -> Path:
    from openpyxl import Workbook
    from openpyxl.utils import get_column_letter

    wb = Workbook()
    wb.remove(wb.active)
    for spec in sheets:
        ws = wb.create_sheet(spec.title[:31])
        ws.append(list(spec.header))
        for row in spec.rows:
            ws.append(list(row))
            for n, cell in enumerate(ws[ws.max_row]):
                if cell.data_type == "f":  # text that looks like a formula stays text
                    cell.data_type = "s"
                if n in spec.formats and isinstance(cell.value, int | float):
                    cell.number_format = spec.formats[n]
        for n, width in enumerate(spec.widths, start=1):
            ws.column_dimensions[get_column_letter(n)].width = width
        ws.freeze_panes = "A2"
    path.parent.mkdir(parents=True, exist_ok=True)
    wb.save(path)
    return path
