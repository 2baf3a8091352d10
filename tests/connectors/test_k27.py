"""The K27 settlement-report parser: layout, encodings, bad lines named by file, line, field."""

from __future__ import annotations

from datetime import date

import pandas as pd
import pytest

from connectors.nav.k27 import (
    LINE_WIDTH,
    K27FormatError,
    K27Line,
    format_line,
    parse_k27,
    read_k27,
    to_bytes,
)
from tests.fixtures.nav_flow import ACCOUNT, BNR_A, ORGNR, fnr

DOC_EXAMPLE = ("8020;974600013;933001547;4;{fnr};20250801;02470305404;HANSEN KARI              ;20250831;"
               "0000507760 ;0000000000 ;20260315")


def k27(n: int = 1, **kw) -> K27Line:
    base = dict(orgnr=ORGNR, bnr=BNR_A, code="4", fnr=fnr(n), fra=date(2026, 4, 1), konto=ACCOUNT,
                navn="SØRENSEN ÅSE", til=date(2026, 4, 30), amount_ore=5_077_60, maksdato=date(2027, 1, 4))
    base.update(kw)
    return K27Line(**base)


def test_the_documented_example_line_reads_field_by_field():
    text = DOC_EXAMPLE.format(fnr=fnr(1))
    assert len(text) == LINE_WIDTH == 127
    report = parse_k27(to_bytes([text]), "k27.csv")
    row = report.lines.iloc[0]
    assert report.invalid == [] and report.line_count == 1
    assert (row.nav_unit, row.orgnr, row.bnr, row.code) == (8020, 974600013, 933001547, "4")
    assert f"{row.fnr:011d}" == fnr(1)
    assert row.fra.date() == date(2025, 8, 1) and row.til.date() == date(2025, 8, 31)
    assert row.navn == "HANSEN KARI"
    assert row.amount_ore == 507760  # øre: 5 077,60 kr
    assert row.maksdato.date() == date(2026, 3, 15)
    assert report.total_ore == 507760
    assert report.encoding == "ascii"


def test_negative_amounts_zero_dates_and_25_character_names():
    lines = [k27(1, navn="FJELLHEIMSTRØMSLI-ÆRLIGHET MARIA KRISTINE"),
             k27(2, code="A", fra=None, til=None, maksdato=None, amount_ore=-1_154_00, navn="BRÅTEN ØYVIND")]
    data = to_bytes(lines)
    assert data.count(b"\r\n") == 2 and "Ø".encode("iso-8859-1") in data  # ISO-8859-1, CRLF
    report = parse_k27(data, "k27.csv")
    first, second = report.lines.iloc[0], report.lines.iloc[1]
    assert first.navn == "FJELLHEIMSTRØMSLI-ÆRLIGHE"  # truncated to 25 characters, æøå intact
    assert second.amount_ore == -115400 and second.code == "A"
    assert pd.isna(second.fra) and pd.isna(second.til) and pd.isna(second.maksdato)
    assert report.total_ore == 507760 - 115400


def test_a_bad_line_names_file_line_field_and_reason_and_the_rest_goes_on():
    bad_fnr = fnr(3)[:10] + str((int(fnr(3)[10]) + 1) % 10)
    lines = [format_line(k27(1)),
             format_line(k27(2)).replace("20260430", "20260431"),       # 31 April
             format_line(k27(3)).replace(fnr(3), bad_fnr),              # check digit
             format_line(k27(4)).replace(";0000507760 ;", ";00005O7760 ;"),  # letter O in the amount
             format_line(k27(5, bnr="973100008")),                      # bedriftsnummer check digit
             format_line(k27(6))]
    report = parse_k27(to_bytes(lines), "1001.csv")
    assert list(report.lines["line_no"]) == [1, 6]
    found = {i.line_no: i for i in report.invalid}
    assert set(found) == {2, 3, 4, 5}
    assert found[2].field == "felt 9 (til-dato)" and "ugyldig dato" in found[2].reason
    assert found[3].field == "felt 5 (fnr)" and "kontrollsiffer" in found[3].reason
    assert found[4].field == "felt 10 (beløp)" and found[4].amount_ore is None
    assert found[5].field == "felt 3 (bedriftsnummer)"
    assert found[3].message.startswith("1001.csv, linje 3, felt 5 (fnr):")
    assert bad_fnr not in found[3].message  # never an fnr in clear in a message
    assert found[2].amount_ore == 507760  # the money still counts towards the bank total
    assert not report.total_complete


def test_a_utf8_file_is_recognised_and_read_without_mojibake():
    data = to_bytes([k27(1, navn="ØDEGÅRD SÆTHER"), k27(2)], encoding="utf-8")
    report = parse_k27(data, "lagret-som-utf8.csv")
    assert report.encoding == "utf-8"
    assert list(report.lines["navn"]) == ["ØDEGÅRD SÆTHER", "SØRENSEN ÅSE"]
    assert report.invalid == []
    assert any("UTF-8" in w for w in report.warnings)


def test_a_truncated_file_is_refused_as_a_whole_naming_the_cut_line():
    """A cut transfer must not pass for a settlement: the lines after the cut were paid too."""
    data = to_bytes([k27(1), k27(2), k27(3)])
    cut = data[: len(data) - 70]  # the transfer stopped inside line 3
    with pytest.raises(K27FormatError) as err:
        parse_k27(cut, "avkortet.csv")
    assert err.value.file == "avkortet.csv"
    assert "Siste linje (3)" in err.value.reason and "avkortet" in err.value.reason


def test_a_complete_last_line_without_a_final_newline_is_only_a_warning():
    report = parse_k27(to_bytes([k27(1), k27(2)])[:-2], "uten-linjeskift.csv")
    assert report.invalid == [] and len(report.lines) == 2
    assert any("mangler linjeskift" in w for w in report.warnings)


@pytest.mark.parametrize(("data", "expected"), [
    (b"", "tom (0 byte)"),
    (b" \r\n\r\n", "bare blanke tegn"),
    (to_bytes([k27(1), k27(2)]).decode("iso-8859-1").encode("utf-16"), "UTF-16"),
    (to_bytes([k27(1), k27(2)]).decode("iso-8859-1").encode("utf-16-le"), "UTF-16"),
    (to_bytes([k27(1), k27(2)]).decode("iso-8859-1").encode("utf-32"), "UTF-32"),
    (to_bytes([k27(1), k27(2)]).replace(b"\r\n", b"\r"), "bare CR"),
    (b"\x00\x01binary" * 40, "binære data"),
])
def test_a_report_that_cannot_be_read_whole_is_refused_before_any_line(data, expected):
    with pytest.raises(K27FormatError) as err:
        parse_k27(data, "rapport.csv")
    assert expected in err.value.reason


def test_a_report_with_most_lines_invalid_is_refused():
    lines = [format_line(k27(i)).replace("20260430", "20260431") if i % 3 else format_line(k27(i))
             for i in range(1, 13)]
    with pytest.raises(K27FormatError) as err:
        parse_k27(to_bytes(lines), "mest-feil.csv")
    assert "8 av 12 linjer er ugyldige" in err.value.reason


def test_a_short_unpadded_name_still_parses_on_the_per_line_path():
    text = format_line(k27(1, navn="LUND OLA")).replace("LUND OLA                 ", "LUND OLA")
    assert len(text) < LINE_WIDTH
    report = parse_k27(to_bytes([text, k27(2)]), "x.csv")
    assert report.invalid == []
    assert list(report.lines["navn"]) == ["LUND OLA", "SØRENSEN ÅSE"]
    assert list(report.lines["line_no"]) == [1, 2]


def test_a_file_that_is_not_k27_is_refused_as_a_whole(tmp_path):
    path = tmp_path / "refusjonskrav.csv"
    path.write_text("krav_id;fnr;belop\n" + "\n".join(f"K{i};123;100,00" for i in range(10)), encoding="utf-8")
    with pytest.raises(K27FormatError) as err:
        read_k27(path)
    assert "refusjonskrav.csv" in str(err.value) and "ikke ut som en oppgjørsrapport" in str(err.value)


def test_round_trip_of_many_lines_is_exact():
    lines = [k27(i, amount_ore=(-1) ** i * (1000 + i * 37)) for i in range(1, 400)]
    report = parse_k27(to_bytes(lines), "mange.csv")
    assert len(report.lines) == 399 and report.invalid == []
    assert report.lines["amount_ore"].tolist() == [ln.amount_ore for ln in lines]
    assert [f"{v:011d}" for v in report.lines["fnr"]] == [ln.fnr for ln in lines]
    assert len(report.sha256) == 64
