"""The one spreadsheet writer: Excel workbooks declared as sheets of blocks (title, text, tables,
key/value pairs), and CSV for Excel; Norwegian formats, every text cell through the
formula-injection guard.

A sheet is its blocks stacked top to bottom. A table's columns say how their values are shown
(`Kind`): money in kroner or øre as `#,##0.00`, whole numbers `#,##0`, shares `0.0 %`, dates
`dd.mm.yyyy`. The file stores these locale-neutral codes; Excel shows the reader's separators
(`1 234,50`, `86,9 %` and 01.04.2026 in a Norwegian Excel). Dates are real Excel dates. A text that
a spreadsheet would run as a formula (`=HYPERLINK(…)`) is written as text with a leading
apostrophe (connectors.safe_cells), and xlsxwriter never turns a string into a formula, URL or number.
"""

from __future__ import annotations

import io
import numbers
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time
from pathlib import Path
from typing import Any

import numpy as np

from connectors.safe_cells import safe_cell, workbook

__all__ = ["Kind", "TEXT", "WRAPPED", "INTEGER", "DECIMAL", "KRONER", "ORE", "PERCENT", "DATE", "DATE_TIME",
           "Column", "Cell", "Bold", "Total", "Title", "Text", "Gap", "Table", "Chart", "Image", "Sheet", "pairs",
           "frame_rows", "write_workbook", "workbook_bytes", "write_sheet", "write_csv", "write_frame_csv", "date_texts",
           "arrow_date_texts", "arrow_amount_texts", "arrow_repeat", "csv_field"]


@dataclass(frozen=True, eq=False)  # compared by identity: a cheap key for the formats made once
class Kind:
    """How a column's values are written: the number format, wrapped text, and a divisor (øre -> kroner)."""

    number_format: str = ""
    wrap: bool = False
    divisor: int = 1


TEXT = Kind()                     # text as text, a number as a plain number
WRAPPED = Kind(wrap=True)         # long explanations: wrapped, top-aligned
INTEGER = Kind("#,##0")
DECIMAL = Kind("#,##0.0")
KRONER = Kind("#,##0.00")
ORE = Kind("#,##0.00", divisor=100)  # amounts kept in øre, shown in kroner
PERCENT = Kind("0.0 %")           # a share 0..1
DATE = Kind("dd.mm.yyyy")
DATE_TIME = Kind("dd.mm.yyyy hh:mm")


@dataclass(frozen=True)
class Column:
    title: str
    width: float | None = None
    kind: Kind = TEXT


@dataclass(frozen=True)
class Cell:
    """One value written otherwise than its column says: another kind, bold, or dark red (look here)."""

    value: Any
    kind: Kind | None = None
    bold: bool = False
    alert: bool = False


@dataclass(frozen=True)
class Bold:
    """A row in bold (a key figure)."""

    values: Sequence[Any]


@dataclass(frozen=True)
class Total(Bold):
    """A sum row: bold, with a line above."""


@dataclass(frozen=True)
class Title:
    text: str


@dataclass(frozen=True)
class Text:
    text: str
    bold: bool = False


@dataclass(frozen=True)
class Gap:
    rows: int = 1


@dataclass(frozen=True)
class Chart:
    """An Excel chart of a table's columns `series` (first, last), its first column the categories;
    placed beside the table, at `column` (default: one column right of it)."""

    title: str
    series: tuple[int, int]
    type: str = "column"          # column, bar, line
    stacked: bool = False
    markers: bool = False
    y_title: str = ""
    y_format: str = ""
    y_max: float | None = None
    column: int | None = None


@dataclass
class Table:
    """A header row (bold, shaded, wrapped) and data rows; rows are value sequences, or Bold/Total.
    `freeze` keeps the header (and `frozen_columns` columns) in view; `autofilter` adds the filter."""

    columns: Sequence[Column]
    rows: Iterable[Sequence[Any] | Bold]
    header: bool = True
    freeze: bool = False
    frozen_columns: int = 0
    autofilter: bool = False
    chart: Chart | None = None


def pairs(rows: Iterable[Sequence[Any] | Bold], kind: Kind = TEXT, header: Sequence[str] = (),
          widths: Sequence[float | None] = (None, None)) -> Table:
    """A key/value section: a label, its value (and any notes beside it), values shown as `kind`."""
    titles = list(header) or ["", ""]
    return Table([Column(titles[0], widths[0]), Column(titles[1], widths[1], kind)], rows, header=bool(header))


def frame_rows(frame, keys: Sequence[str]) -> Iterable[tuple]:
    """A pandas frame's columns `keys` as table rows (a column the frame lacks stays empty); read
    column by column, much faster than row by row."""
    return zip(*(frame[key].tolist() if key in frame else [None] * len(frame) for key in keys), strict=True)


@dataclass(frozen=True)
class Image:
    data: bytes
    row: int
    column: int
    name: str = "bilde.png"


@dataclass
class Sheet:
    """A sheet's blocks, top to bottom; widths per column from A (else the tables' column widths)."""

    name: str
    blocks: Sequence[Title | Text | Gap | Table]
    widths: Sequence[float] = ()
    images: Sequence[Image] = ()


def write_workbook(path: Path, sheets: Sequence[Sheet]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    _write(str(path), sheets, {})
    return path


def workbook_bytes(sheets: Sequence[Sheet]) -> bytes:
    buf = io.BytesIO()
    _write(buf, sheets, {"in_memory": True})
    return buf.getvalue()


def write_sheet(path: Path, sheet: str, header: Sequence[str], rows: Iterable[Sequence[object]],
                widths: Sequence[float] = ()) -> Path:
    """One plain sheet: a header row kept in view, and the rows."""
    columns = [Column(title, widths[n] if n < len(widths) else None) for n, title in enumerate(header)]
    return write_workbook(path, [Sheet(sheet, [Table(columns, rows, freeze=True)])])


# ------------------------------------------------------------------------------- the writing

class _Formats:
    """xlsxwriter formats, made once per look."""

    def __init__(self, book):
        self.book, self.made = book, {}

    def get(self, kind: Kind = TEXT, bold: bool = False, alert: bool = False, line_above: bool = False,
            role: str = "") -> Any:
        key = (kind, bold, alert, line_above, role)
        if key not in self.made:
            spec: dict[str, Any] = {"num_format": kind.number_format} if kind.number_format else {}
            spec.update({"text_wrap": True, "valign": "top"} if kind.wrap else {})
            spec.update({"bold": True} if bold else {})
            spec.update({"font_color": "#9C0006"} if alert else {})
            spec.update({"top": 1} if line_above else {})
            spec.update({"title": {"bold": True, "font_size": 14},
                         "header": {"bold": True, "bg_color": "#DDE6F0", "border": 1, "text_wrap": True,
                                    "valign": "top"}}.get(role, {}))
            self.made[key] = self.book.add_format(spec) if spec else None
        return self.made[key]


def _write(target, sheets: Sequence[Sheet], options: dict[str, Any]) -> None:
    book = workbook(target, {**options, "remove_timezone": True})
    formats = _Formats(book)
    try:
        for sheet in sheets:
            ws = book.add_worksheet(sheet.name[:31])
            widths: dict[int, float] = {}
            row = 0
            for block in sheet.blocks:
                if isinstance(block, Gap):
                    row += block.rows
                elif isinstance(block, Title):
                    ws.write_string(row, 0, safe_cell(block.text), formats.get(role="title"))
                    row += 1
                elif isinstance(block, Text):
                    ws.write_string(row, 0, safe_cell(block.text), formats.get(bold=block.bold))
                    row += 1
                else:
                    for n, column in enumerate(block.columns):
                        if column.width is not None:
                            widths.setdefault(n, column.width)
                    row = _table(book, ws, sheet.name[:31], row, block, formats)
            widths.update(enumerate(sheet.widths))
            for n, width in widths.items():
                ws.set_column(n, n, width)
            for image in sheet.images:
                ws.insert_image(image.row, image.column, image.name,
                                {"image_data": io.BytesIO(image.data), "object_position": 3})
    finally:
        book.close()


def _table(book, ws, name: str, top: int, table: Table, formats: _Formats) -> int:
    """Write the table from row `top`; returns the first row after it."""
    columns = list(table.columns)
    row = top
    if table.header:
        for n, column in enumerate(columns):
            ws.write(row, n, safe_cell(column.title) or None, formats.get(role="header"))
        row += 1
    first = row
    kinds = [column.kind for column in columns]
    text_formats = [formats.get(WRAPPED if kind.wrap else TEXT) for kind in kinds]
    for values in table.rows:
        bold, total = isinstance(values, Bold), isinstance(values, Total)
        for n, value in enumerate(values.values if bold else values):
            if type(value) is str and value and not bold:  # the common case, quickly: a list holds 100 000 cells
                ws.write_string(row, n, safe_cell(value), text_formats[n] if n < len(kinds) else None)
            else:
                _cell(ws, row, n, value, kinds[n] if n < len(kinds) else TEXT, bold, total, formats)
        row += 1
    if table.freeze:
        ws.freeze_panes(first, table.frozen_columns)
    if table.autofilter:
        ws.autofilter(top, 0, max(row - 1, top + 1), len(columns) - 1)
    if table.chart:
        _chart(book, ws, name, top, first, row - 1, len(columns), table.chart)
    return row


def _cell(ws, r: int, c: int, value: Any, kind: Kind, bold: bool, total: bool, formats: _Formats) -> None:
    alert = False
    if isinstance(value, Cell):
        kind, bold, alert, value = value.kind or kind, bold or value.bold, value.alert, value.value
    if hasattr(value, "to_pydatetime"):  # pandas' Timestamp
        value = value.to_pydatetime()
    elif isinstance(value, np.datetime64):
        value = value.astype("datetime64[us]").item()  # None for NaT
    elif isinstance(value, bool | np.bool_):
        value = "Ja" if value else "Nei"
    if isinstance(value, date) and not isinstance(value, datetime):
        value = datetime.combine(value, time())
    if value is None or value != value or value == "":  # None, NaN, NaT: an empty cell
        if bold or total:
            ws.write_blank(r, c, None, formats.get(kind, bold, alert, total))
    elif isinstance(value, datetime):
        ws.write_datetime(r, c, value, formats.get(kind if kind in (DATE, DATE_TIME) else DATE, bold, alert, total))
    elif isinstance(value, numbers.Real):
        ws.write_number(r, c, float(value) / kind.divisor if kind.divisor != 1 else value,
                        formats.get(kind, bold, alert, total))
    else:
        ws.write_string(r, c, safe_cell(str(value)), formats.get(WRAPPED if kind.wrap else TEXT, bold, alert, total))


def _chart(book, ws, name: str, header: int, first: int, last: int, width: int, spec: Chart) -> None:
    chart = book.add_chart({"type": spec.type, **({"subtype": "stacked"} if spec.stacked else {})})
    for col in range(spec.series[0], spec.series[1] + 1):
        chart.add_series({"name": [name, header, col], "categories": [name, first, 0, last, 0],
                          "values": [name, first, col, last, col],
                          **({"marker": {"type": "circle"}} if spec.markers else {})})
    chart.set_title({"name": spec.title})
    axis: dict[str, Any] = {"name": spec.y_title} if spec.y_title else {}
    axis.update({"num_format": spec.y_format} if spec.y_format else {})
    axis.update({"min": 0, "max": spec.y_max} if spec.y_max is not None else {})
    chart.set_y_axis(axis)
    chart.set_legend({"position": "bottom"})
    chart.set_size({"width": 820, "height": 380})
    ws.insert_chart(header, width + 1 if spec.column is None else spec.column, chart)


# --------------------------------------------------------------- Norwegian CSV, opened in Excel
# Column-wise (Arrow, no Python string per row): a journal may hold a million rows.

def write_csv(path: Path, table) -> int:
    """An Arrow table of text columns as CSV for Excel and ledgers: `;`, CRLF, UTF-8 with BOM (so
    Excel shows æøå), unquoted (fields made clean with `csv_field`), every cell through the
    formula-injection guard. Returns the rows written."""
    import pyarrow.csv as pacsv

    from connectors.safe_cells import safe_table

    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as f:
        f.write(("\ufeff" + ";".join(table.column_names) + "\r\n").encode("utf-8"))
        if table.num_rows:
            pacsv.write_csv(safe_table(table), f, pacsv.WriteOptions(include_header=False, delimiter=";",
                                                                     eol="\r\n", quoting_style="none"))
    return table.num_rows


def write_frame_csv(path: Path, frame) -> None:
    """A pandas frame as CSV for Excel: `;`, decimal comma with two decimals, CRLF, UTF-8 with BOM."""
    from connectors.safe_cells import safe_frame

    path.parent.mkdir(parents=True, exist_ok=True)
    safe_frame(frame).to_csv(path, sep=";", index=False, decimal=",", float_format="%.2f", encoding="utf-8-sig",
                             lineterminator="\r\n")


def date_texts(values):
    """dd.mm.åååå for a date column, "" for a missing date (a numpy array of str)."""
    import numpy as np

    index, texts = _distinct_dates(values)
    return np.array(texts, dtype=object)[index]


def arrow_date_texts(values):
    """dd.mm.åååå for a date column, as Arrow strings."""
    return _decoded(*_distinct_dates(values))


def arrow_amount_texts(ore):
    """'-1234,50': an øre column as plain decimal-comma kroner (no thousands separator: ledgers read
    it), as Arrow strings."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    ore = np.asarray(ore, dtype=np.int64)
    kroner = pc.cast(pa.array(np.abs(ore) // 100), pa.string())
    cents = pc.utf8_lpad(pc.cast(pa.array(np.abs(ore) % 100), pa.string()), 2, "0")
    sign = pa.array(np.where(ore < 0, "-", ""))
    return pc.binary_join_element_wise(sign, kroner, ",", cents, "")


def arrow_repeat(value: str, n: int):
    """One text n times, as Arrow strings."""
    import numpy as np

    return _decoded(np.zeros(n, dtype=np.int32), [value])


def csv_field(values):
    """Arrow strings with no `;`, quote or line break inside a field: the CSV is written unquoted."""
    import pyarrow as pa
    import pyarrow.compute as pc

    values = values if isinstance(values, pa.Array | pa.ChunkedArray) else pa.array(values, type=pa.string())
    return pc.replace_substring_regex(pc.cast(values, pa.string()), r'[;"\r\n]', " ")


def _distinct_dates(values):
    """Each distinct date formatted once (periods repeat a lot), "" last for a missing date; and
    each row's index into those texts."""
    import numpy as np
    import pandas as pd

    codes, uniques = pd.factorize(np.asarray(values, dtype="datetime64[D]"), use_na_sentinel=True)
    texts = [pd.Timestamp(u).strftime("%d.%m.%Y") for u in uniques] + [""]
    return np.where(codes < 0, len(uniques), codes), texts


def _decoded(index, texts: list[str]):
    """texts[index] as plain Arrow strings, through a dictionary (no Python string per row)."""
    import numpy as np
    import pyarrow as pa

    return pa.DictionaryArray.from_arrays(pa.array(np.asarray(index, dtype=np.int32)),
                                          pa.array(texts, type=pa.string())).cast(pa.string())
