"""HR's refund claims, the employee register and the bank credits: Excel or CSV, mapped columns,
and errors that name the file, row, column and value; nothing is ever half-imported."""

from __future__ import annotations

from datetime import date

import numpy as np
import pytest

from connectors.nav.bank import read_bank_credits
from connectors.nav.hr_claims import CLAIM_COLUMNS, CLAIM_REQUIRED, read_claims, read_employees
from connectors.nav.tables import InputFileError
from tests.fixtures.nav_flow import (
    BNR_A,
    BNR_B,
    CLAIM_HEADER,
    bank_csv,
    claim,
    employees_csv,
    fnr,
    write_claims_csv,
    write_claims_xlsx,
)


def _definition_columns():
    from flows.registry import catalogue

    spec = catalogue()["nav-refund-offsetting"].input("refund-claims")
    return spec.columns, spec.required_columns


def test_excel_export_with_the_default_template(tmp_path):
    rows = [claim("K1", 1, 50_776.0, income=50_000.0, grade=100),
            claim("K2", 2, 12_345.5, code="H", fra=date(2026, 5, 1), til=date(2026, 5, 31)),
            claim("K3", 3, 40_000.0, income=50_000.0, refund=40_000.0, grade=0.5)]
    columns, required = _definition_columns()
    claims = read_claims(write_claims_xlsx(tmp_path / "krav.xlsx", rows), columns, required)
    assert list(claims["krav_id"]) == ["K1", "K2", "K3"]
    assert [f"{v:011d}" for v in claims["fnr"]] == [fnr(1), fnr(2), fnr(3)]
    assert list(claims["code"]) == ["4", "H", "4"]
    assert list(claims["amount_ore"]) == [5_077_600, 1_234_550, 4_000_000]
    assert claims["fra"].iloc[1].date() == date(2026, 5, 1)
    assert claims["inntekt_ore"].iloc[0] == 5_000_000 and np.isnan(claims["inntekt_ore"].iloc[1])
    assert claims["grad"].iloc[2] == 50  # 0,5 means 50 %
    assert claims["forste_fravaersdag"].iloc[0].date() == date(2026, 1, 5)
    assert list(claims["row_no"]) == [2, 3, 4]  # as Excel numbers the rows


def test_csv_export_with_semicolons_decimal_comma_and_norwegian_dates(tmp_path):
    path = tmp_path / "krav.csv"
    path.write_text(
        "krav_id;fnr;bedriftsnummer;ytelse;fra_dato;til_dato;krav_belop;org_enhet;grad\n"
        f"K1;{fnr(1)};{BNR_A};4;01.04.2026;30.04.2026;50 776,00;Åsen sykehjem;50 %\n"
        f"K2;{fnr(2)[1:] if fnr(2).startswith('0') else fnr(2)};{BNR_B};sykepenger;2026-04-01;2026-04-15;1.234,50;"
        "Rådhuset;\n", encoding="cp1252")
    claims = read_claims(path)
    assert list(claims["amount_ore"]) == [5_077_600, 123_450]
    assert list(claims["code"]) == ["4", "4"]  # 'sykepenger' is code 4
    assert claims["til"].iloc[1].date() == date(2026, 4, 15)
    assert list(claims["org_enhet"]) == ["Åsen sykehjem", "Rådhuset"]  # cp1252 read, æøå intact
    assert claims["grad"].iloc[0] == 50 and np.isnan(claims["grad"].iloc[1])


def test_an_fnr_that_excel_stored_as_a_number_gets_its_leading_zero_back(tmp_path):
    person = next(n for n in range(1, 400) if fnr(n).startswith("0"))
    path = tmp_path / "krav.xlsx"
    row = claim("K1", person, 100.0)
    row["fnr"] = int(fnr(person))  # a number cell: 01417012345 -> 1417012345
    write_claims_xlsx(path, [row])
    assert f"{read_claims(path)['fnr'].iloc[0]:011d}" == fnr(person)


def test_columns_are_mapped_by_the_process_definition(tmp_path):
    header = ["Kravnummer", "Fødselsnummer", "Virksomhet", "Ytelseskode", "Fra", "Til", "Beløp", "Enhet"]
    mapping = dict(zip(CLAIM_REQUIRED, header, strict=True))
    row = claim("K9", 4, 777.0)
    renamed = {mapping[k]: v for k, v in row.items() if k in mapping}
    path = write_claims_xlsx(tmp_path / "eget-oppsett.xlsx", [renamed], header=header)
    claims = read_claims(path, mapping, CLAIM_REQUIRED)
    assert claims["krav_id"].iloc[0] == "K9" and claims["amount_ore"].iloc[0] == 77_700


def test_a_missing_column_is_named_and_nothing_is_imported(tmp_path):
    header = [h for h in CLAIM_HEADER if h not in ("krav_belop", "fra_dato")]
    path = write_claims_xlsx(tmp_path / "krav.xlsx", [claim("K1", 1, 10.0)], header=header)
    with pytest.raises(InputFileError) as err:
        read_claims(path, CLAIM_COLUMNS, CLAIM_REQUIRED)
    text = str(err.value)
    assert text.startswith("krav.xlsx: ")
    assert "mangler kolonne(r): fra_dato, krav_belop" in text
    assert "Kolonner i filen: krav_id, fnr" in text


def test_bad_cells_are_listed_with_row_column_and_value_and_the_fnr_masked(tmp_path):
    rows = [claim("K1", 1, 10.0), claim("K2", 2, 10.0), claim("K1", 3, 10.0)]
    rows[1]["fra_dato"] = "31.02.2026"
    rows[1]["krav_belop"] = "ti kroner"
    bad_fnr = fnr(2)[:10] + str((int(fnr(2)[10]) + 1) % 10)
    rows[1]["fnr"] = bad_fnr
    path = write_claims_csv(tmp_path / "krav.csv", rows)
    with pytest.raises(InputFileError) as err:
        read_claims(path)
    problems = err.value.problems
    assert "rad 3, kolonne fra_dato: ugyldig dato (bruk dd.mm.åååå eller åååå-mm-dd) («31.02.2026»)" in problems
    assert "rad 3, kolonne krav_belop: ugyldig beløp («ti kroner»)" in problems
    assert "rad 4, kolonne krav_id: krav-id finnes flere ganger i filen («K1»)" in problems
    assert any(p.startswith("rad 3, kolonne fnr: ugyldig fødselsnummer") for p in problems)
    assert bad_fnr not in str(err.value)


@pytest.mark.parametrize("content, reason", [
    (None, "finnes ikke"),
    (b"PK\x03\x04 not really a workbook", "kan ikke leses som Excel-fil"),
    (b"", "er tom"),
])
def test_an_unreadable_file_is_a_clear_error(tmp_path, content, reason):
    path = tmp_path / ("krav.xlsx" if content is not None and content else "krav.csv")
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(InputFileError) as err:
        read_claims(path)
    assert reason in str(err.value)


def test_employee_register_and_bank_credits(tmp_path):
    employees = read_employees(employees_csv(tmp_path / "ansatte.csv", [(1, BNR_A, "Helse"), (1, BNR_B, "Skole")]))
    assert list(employees["bnr"]) == [int(BNR_A), int(BNR_B)]
    assert list(employees["org_enhet"]) == ["Helse", "Skole"]
    bank = read_bank_credits(bank_csv(tmp_path / "bank.csv", [(date(2026, 5, 4), 5_077_600)]))
    assert bank["belop_ore"].iloc[0] == 5_077_600
    assert bank["valutadato"].iloc[0].date() == date(2026, 5, 4)
    path = tmp_path / "bank2.csv"
    path.write_text("valutadato;belop\n04.05.2026;1,00\n", encoding="utf-8")
    with pytest.raises(InputFileError, match="bankfilen mangler kolonne"):
        read_bank_credits(path)
