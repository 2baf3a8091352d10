"""The shared row reader (connectors.tables.read_rows): headers matched tolerantly, the declared
format enforced, rows numbered as the user sees them."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from openpyxl import Workbook

from connectors.tables import InputFileError, parse_whole_number, read_rows

SPEC = SimpleNamespace(format="xlsx", columns={"plate": "kjennemerke", "unit": "virksomhet"},
                       required_columns=["plate"])


def _xlsx(path, rows):
    wb = Workbook()
    for row in rows:
        wb.active.append(row)
    wb.save(path)
    return path


def test_headers_match_without_case_spaces_or_aeoeaa_and_rows_keep_their_numbers(tmp_path):
    path = _xlsx(tmp_path / "liste.xlsx", [["Kjenne merke", "VIRKSOMHET"], ["EK 39085", "Bydel Alna"],
                                           [None, None], ["AB 12345", "Bymiljøetaten"]])
    rows = read_rows(path, SPEC, "listen")
    assert [(r.number, r.get("plate"), r.get("unit")) for r in rows] == [
        (2, "EK 39085", "Bydel Alna"), (4, "AB 12345", "Bymiljøetaten")]


def test_an_input_declared_xlsx_refuses_another_format(tmp_path):
    path = tmp_path / "liste.csv"
    path.write_text("kjennemerke;virksomhet\nEK39085;Bydel Alna\n", encoding="utf-8")
    with pytest.raises(InputFileError, match="listen må være en Excel-fil"):
        read_rows(path, SPEC, "listen")
    assert [r.get("plate") for r in read_rows(path, SimpleNamespace(**{**vars(SPEC), "format": "csv"}), "listen")] \
        == ["EK39085"]


def test_headers_and_no_rows_is_refused_as_a_whole(tmp_path):
    with pytest.raises(InputFileError, match="har overskrifter, men ingen rader"):
        read_rows(_xlsx(tmp_path / "tom.xlsx", [["kjennemerke", "virksomhet"]]), SPEC, "listen")


@pytest.mark.parametrize(("text", "expected"), [("45000", 45000), ("45 000 km", 45000), ("45.000", 45000),
                                                ("45000,7", 45000), ("45\u00a0000 KM", 45000), ("", None)])
def test_a_whole_number_as_people_type_it(text, expected):
    assert parse_whole_number(text, "km") == expected


@pytest.mark.parametrize("text", ["ca. 45000", "45 000 mil", "-5"])
def test_a_text_that_is_no_whole_number_is_refused(text):
    with pytest.raises(ValueError):
        parse_whole_number(text, "km")
