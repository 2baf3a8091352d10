"""The one Excel writer, read back with openpyxl: Norwegian number formats, the header row, the
formula-injection guard, the key/value section, sum rows, charts and images."""

from __future__ import annotations

import zipfile
from datetime import date, datetime
from io import BytesIO

import pytest
from openpyxl import load_workbook

from connectors.spreadsheet import (
    DATE,
    DATE_TIME,
    INTEGER,
    KRONER,
    ORE,
    PERCENT,
    WRAPPED,
    Cell,
    Chart,
    Column,
    Gap,
    Image,
    Sheet,
    Table,
    Text,
    Title,
    Total,
    pairs,
    workbook_bytes,
    write_sheet,
    write_workbook,
)

COLUMNS = [Column("Navn", 20), Column("Beløp", 14, KRONER), Column("Beløp (øre)", 14, ORE), Column("Antall", 10, INTEGER),
           Column("Andel", 10, PERCENT), Column("Dato", 12, DATE), Column("Tid", 16, DATE_TIME),
           Column("Forklaring", 60, WRAPPED)]


def _book(sheets):
    return load_workbook(BytesIO(workbook_bytes(sheets)))


def test_typed_columns_are_written_as_numbers_and_dates_in_norwegian_formats():
    rows = [["Ola", 1234.5, 123450, 1200, 0.869, date(2026, 4, 1), datetime(2026, 4, 1, 13, 5), "lang tekst"],
            ["Kari", None, float("nan"), 0, 0.0, None, None, ""]]
    ws = _book([Sheet("Liste", [Table(COLUMNS, rows, freeze=True, autofilter=True)])])["Liste"]
    assert [c.value for c in ws[1]] == [c.title for c in COLUMNS]
    assert all(c.font.b for c in ws[1])
    name, kroner, ore, count, share, day, moment, text = ws[2]
    assert (kroner.value, kroner.number_format) == (1234.5, "#,##0.00")
    assert (ore.value, ore.number_format) == (1234.5, "#,##0.00")  # øre shown in kroner
    assert (count.value, count.number_format) == (1200, "#,##0")
    assert (share.value, share.number_format) == (0.869, "0.0 %")
    assert (day.value, day.number_format) == (datetime(2026, 4, 1), "dd.mm.yyyy")
    assert (moment.value, moment.number_format) == (datetime(2026, 4, 1, 13, 5), "dd.mm.yyyy hh:mm")
    assert text.alignment.wrap_text and name.data_type == "s"
    assert [c.value for c in ws[3]] == ["Kari", None, None, 0, 0, None, None, None]  # None, NaN, "": empty cells
    assert ws.freeze_panes == "A2" and ws.auto_filter.ref == "A1:H3"
    assert ws.column_dimensions["A"].width == pytest.approx(20, abs=1) and \
        ws.column_dimensions["H"].width == pytest.approx(60, abs=1)


@pytest.mark.parametrize("evil", ['=HYPERLINK("http://x","klikk")', "+SUM(A1:A9)", "-1+2", "@faktura.pdf",
                                  "\tfane", "\rlinje"])
def test_text_a_spreadsheet_would_run_is_written_as_plain_text(evil):
    wb = _book([Sheet("Ark", [Title(evil), Text(evil), Table([Column(evil)], [[evil], [Cell(evil, bold=True)]]),
                              pairs([(evil, evil)])])])
    texts = [c for row in wb["Ark"].iter_rows() for c in row if c.value is not None]
    assert len(texts) == 7
    stored = "'" + evil.replace("\r", "_x000D_")  # how the file keeps a carriage return (Excel reads it back)
    assert all(c.value == stored and c.data_type == "s" for c in texts)


def test_a_number_written_as_text_stays_as_it_is():
    ws = _book([Sheet("Ark", [Table([Column("Beløp")], [["-1 234,50"], ["+47 22 00 00 00"]])])])["Ark"]
    assert [ws["A2"].value, ws["A3"].value] == ["-1 234,50", "+47 22 00 00 00"]


def test_key_value_section_title_text_gaps_and_sum_rows():
    summary = [Title("Sammendrag"), pairs([("Kjøring", "r1", "Regler: versjon 7"), ("Dato", date(2026, 5, 4)),
                                           ("Linjer", 12345), ("Andel", Cell(0.5, PERCENT))], INTEGER),
               Gap(), Table([Column("Utfall"), Column("Beløp", kind=ORE)], [["Eksakt", 100], Total(["Sum", 100])]),
               Text("Merknader", bold=True)]
    ws = _book([Sheet("Sammendrag", summary, widths=(34, 16))])["Sammendrag"]
    assert ws["A1"].value == "Sammendrag" and ws["A1"].font.b and ws["A1"].font.sz == 14
    assert [ws["A2"].value, ws["B2"].value, ws["C2"].value] == ["Kjøring", "r1", "Regler: versjon 7"]
    assert (ws["B3"].value, ws["B3"].number_format) == (datetime(2026, 5, 4), "dd.mm.yyyy")  # a date stays a date
    assert (ws["B4"].value, ws["B4"].number_format) == (12345, "#,##0")
    assert (ws["B5"].value, ws["B5"].number_format) == (0.5, "0.0 %")
    assert ws["A6"].value is None and ws["A7"].value == "Utfall" and ws["A7"].font.b  # the gap, then the header
    assert ws["A9"].value == "Sum" and ws["A9"].font.b and ws["B9"].font.b and ws["B9"].border.top.style == "thin"
    assert (ws["B9"].value, ws["B9"].number_format) == (1, "#,##0.00")
    assert ws["A10"].value == "Merknader" and ws["A10"].font.b
    assert ws.column_dimensions["A"].width == pytest.approx(34, abs=1)


def test_alert_cells_are_dark_red_and_frozen_columns_and_images():
    png = (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89"
           b"\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\x00\x00\x00\x00IEND\xaeB`\x82")
    sheet = Sheet("Ark", [Table([Column("Rad"), Column("Avvik")], [[1, Cell("Mangler", alert=True)], [2, "OK"]],
                                freeze=True, frozen_columns=1)], images=[Image(png, 0, 4, "figur.png")])
    ws = _book([sheet])["Ark"]
    assert ws["B2"].font.color.rgb == "FF9C0006" and not (ws["B3"].font.color and ws["B3"].font.color.rgb == "FF9C0006")
    assert ws.freeze_panes == "B2" and len(ws._images) == 1


def test_a_chart_draws_the_table_beside_it(tmp_path):
    rows = [["august 2026", 10.0, 2.0], ["september 2026", 12.5, None]]
    path = write_workbook(tmp_path / "ut" / "trend.xlsx", [Sheet("Trend", [
        Title("Timer"), Table([Column("Måned"), Column("NAV"), Column("Faktura")], rows,
                              chart=Chart("Timer spart per måned", (1, 2), stacked=True, y_format="#,##0"))])])
    with zipfile.ZipFile(path) as z:
        chart = z.read("xl/charts/chart1.xml").decode("utf-8")
    assert "Timer spart per måned" in chart and "Trend!$B$2" in chart and "Trend!$C$3:$C$4" in chart
    assert "Trend!$A$3:$A$4" in chart and 'grouping val="stacked"' in chart


def test_write_sheet_is_one_plain_sheet(tmp_path):
    path = write_sheet(tmp_path / "a.xlsx", "Tjenestebevis", ["Bestilling", "Fil"], [["B1", "=fil.pdf"]], (14, 30))
    ws = load_workbook(path)["Tjenestebevis"]
    assert [c.value for c in ws[1]] == ["Bestilling", "Fil"] and ws["B2"].value == "'=fil.pdf"
    assert ws.freeze_panes == "A2"


def test_sheet_names_longer_than_excel_allows_are_cut():
    wb = _book([Sheet("Et veldig langt arknavn som Excel ikke tåler", [Text("x")])])
    assert wb.sheetnames == ["Et veldig langt arknavn som Exc"]


def test_numpy_and_pandas_values_are_written_as_what_they_are():
    import numpy as np
    import pandas as pd

    rows = [[np.int64(3), np.float64(25000), pd.Timestamp("2026-01-02"), np.bool_(True)],
            [np.int32(4), np.nan, pd.NaT, False], [None, np.int64(5), np.datetime64("2026-01-03"), None]]
    ws = _book([Sheet("Ark", [Table([Column("Antall"), Column("Beløp", kind=ORE), Column("Dato", kind=DATE),
                                     Column("Ja/nei")], rows)])])["Ark"]
    assert [[c.value for c in row] for row in ws.iter_rows(min_row=2)] == [
        [3, 250, datetime(2026, 1, 2), "Ja"], [4, None, None, "Nei"], [None, 0.05, datetime(2026, 1, 3), None]]
