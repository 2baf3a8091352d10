"""Every outcome of the issue, each with a hand-made case run end to end on files.

Numbers: 2025 G (6G/260 = 3 004 kr/day), first absence day 05.01.2026, April 2026 = 22 weekdays;
50 000 kr/month -> 2 308 kr/day -> 50 776 kr for April.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date

import pytest

from connectors.identifiers import FNR_PATTERN
from connectors.nav.k27 import format_line
from tests.fixtures.nav_flow import BNR_A, BNR_B, MAKS, bank_csv, claim, employees_csv, fnr, line

MAY = (date(2026, 5, 1), date(2026, 5, 31))
MARCH = (date(2026, 3, 1), date(2026, 3, 31))
PAID = date(2026, 5, 4)  # value date of the April settlement


@dataclass
class Case:
    lines: list
    claims: list[dict]
    expected: dict[int, str]                       # line number in report 1001 -> outcome
    employees: list[tuple[int, str, str]] | None = None
    bank: list[tuple[date, int]] | None = None
    expected_claims: dict[str, str] = field(default_factory=dict)
    earlier: list | None = None                    # report 1000 (March), processed in the same run


CASES = {
    "EXACT": Case([line(1, 50_776)], [claim("K1", 1, 50_776.0)], {1: "EXACT"}),
    "ROUNDING": Case([line(1, 50_776)], [claim("K1", 1, 50_769.23)], {1: "ROUNDING"}),
    "WEEKDAYS": Case([line(1, 50_776)], [claim("K1", 1, 50_000.0, income=50_000.0)], {1: "WEEKDAYS"}),
    "WEEKDAYS_monthly_claim_without_income": Case([line(1, 50_776)], [claim("K1", 1, 50_000.0)], {1: "WEEKDAYS"}),
    "CAP_6G": Case([line(1, 66_088)], [claim("K1", 1, 80_000.0, income=80_000.0)], {1: "CAP_6G"}),
    "GRADE": Case([line(1, 25_388)], [claim("K1", 1, 50_776.0, income=50_000.0, grade=100)], {1: "GRADE"}),
    "GRADE_fewer_days": Case([line(1, 18 * 2_308)], [claim("K1", 1, 50_776.0, income=50_000.0)], {1: "GRADE"}),
    "PARTIAL_REFUND": Case([line(1, 40_612)], [claim("K1", 1, 50_000.0, income=50_000.0, refund=40_000.0)],
                           {1: "PARTIAL_REFUND"}),
    "SEVERAL_EMPLOYERS": Case([line(1, 39_644, bnr=BNR_A), line(1, 26_422, bnr=BNR_B)],
                              [claim("K1", 1, 45_000.0, income=45_000.0, bnr=BNR_A),
                               claim("K2", 1, 30_000.0, income=30_000.0, bnr=BNR_B)],
                              {1: "SEVERAL_EMPLOYERS", 2: "SEVERAL_EMPLOYERS"}),
    "SPLIT_POSITIONS": Case([line(1, 50_776)], [claim("K1", 1, 30_470.0, income=30_000.0),
                                                claim("K2", 1, 20_306.0, income=20_000.0)], {1: "SPLIT_POSITIONS"}),
    "PERIOD_SHIFT": Case([line(1, 39_236, fra=date(2026, 4, 8))], [claim("K1", 1, 50_776.0)], {1: "PERIOD_SHIFT"}),
    "CLAIM_UNPAID_PENDING": Case([line(2, 50_776)], [claim("K1", 1, 50_776.0), claim("K2", 2, 50_776.0)],
                                 {1: "EXACT"}, expected_claims={"K1": "CLAIM_UNPAID_PENDING"}),
    "CLAIM_UNPAID_FINAL": Case([line(2, 50_776)], [claim("K1", 1, 50_776.0, fra=date(2026, 1, 1),
                                                         til=date(2026, 1, 31)), claim("K2", 2, 50_776.0)],
                               {1: "EXACT"}, expected_claims={"K1": "CLAIM_UNPAID_FINAL"}),
    "PAYMENT_WITHOUT_CLAIM": Case([line(1, 50_776)], [claim("K2", 2, 1.0)], {1: "PAYMENT_WITHOUT_CLAIM"},
                                  employees=[(1, BNR_A, "Helse og velferd")]),
    "HOLIDAY_PAY": Case([line(1, 4_709, code="H", fra=MAY[0], til=MAY[1])], [claim("K2", 2, 1.0)],
                        {1: "HOLIDAY_PAY"}, employees=[(1, BNR_A, "Helse og velferd")]),
    "HOLIDAY_PAY_claimed_is_offset": Case([line(1, 4_709, code="H", fra=MAY[0], til=MAY[1])],
                                          [claim("K1", 1, 4_709.0, code="H", fra=MAY[0], til=MAY[1])], {1: "EXACT"}),
    "NEGATIVE_LINE": Case([line(1, -2_000, code="A", fra=None, til=None, maksdato=None)], [claim("K2", 2, 1.0)],
                          {1: "NEGATIVE_LINE"}, employees=[(1, BNR_A, "Helse og velferd")]),
    "NEGATIVE_LINE_netted_is_offset": Case([line(1, 52_776), line(1, -2_000, code="A", fra=None, til=None,
                                                                   maksdato=None)],
                                           [claim("K1", 1, 50_776.0)], {1: "EXACT", 2: "EXACT"}),
    "DUPLICATE": Case([line(1, 50_776), line(1, 50_776)], [claim("K1", 1, 50_776.0)], {1: "EXACT", 2: "DUPLICATE"}),
    "UNKNOWN_EMPLOYEE": Case([line(9, 50_776)], [claim("K1", 1, 50_776.0)], {1: "UNKNOWN_EMPLOYEE"},
                             employees=[(1, BNR_A, "Helse og velferd")], expected_claims={"K1": "CLAIM_UNPAID_PENDING"}),
    "UNKNOWN_EMPLOYEE_wrong_bnr": Case([line(1, 50_776, bnr=BNR_B)], [claim("K1", 1, 50_776.0)],
                                       {1: "UNKNOWN_EMPLOYEE"}, employees=[(1, BNR_A, "Helse og velferd")]),
    "WRONG_BENEFIT_CODE": Case([line(1, 50_776, code="7")], [claim("K1", 1, 50_776.0)], {1: "WRONG_BENEFIT_CODE"}),
    "BANK_TOTAL_MISMATCH": Case([line(1, 50_776)], [claim("K1", 1, 50_776.0)], {1: "BANK_TOTAL_MISMATCH"},
                                bank=[(PAID, 4_000_000)]),
    "MAKSDATO_CHANGED": Case([line(1, 50_776, maksdato=date(2026, 12, 1))],
                             [claim("K0", 1, 50_776.0, fra=MARCH[0], til=MARCH[1]), claim("K1", 1, 50_776.0)],
                             {1: "MAKSDATO_CHANGED"},
                             earlier=[line(1, 50_776, fra=MARCH[0], til=MARCH[1], maksdato=MAKS)]),
    "INVALID_LINE": Case([format_line(line(1, 50_776)).replace(fnr(1), fnr(1)[:10] + str((int(fnr(1)[10]) + 1) % 10)),
                          line(2, 50_776)], [claim("K2", 2, 50_776.0)], {1: "INVALID_LINE", 2: "EXACT"}),
    "AMOUNT_DIFFERENCE": Case([line(1, 50_000.55)], [claim("K1", 1, 50_776.0)], {1: "AMOUNT_DIFFERENCE"}),
    # Issue #21's rules (see test_rules.py for the messages and journals in full).
    "MAKSDATO_REACHED": Case([line(1, 14 * 2_308, maksdato=date(2026, 4, 20))],
                             [claim("K1", 1, 50_776.0, income=50_000.0)], {1: "MAKSDATO_REACHED"}),
    "ROUNDING_per_weekday": Case([line(1, 65 * 2_308, til=date(2026, 6, 30))],
                                 [claim("K1", 1, 65 * 2_308 - 65.0, til=date(2026, 6, 30))], {1: "ROUNDING"}),
    "HOLIDAY_PAY_candidate_other_earning_year": Case(
        [line(1, 4_709, code="H", fra=MAY[0], til=MAY[1])],
        [claim("K1", 1, 4_709.0, code="H", fra=date(2025, 5, 1), til=date(2025, 5, 31))], {1: "HOLIDAY_PAY"},
        expected_claims={"K1": "HOLIDAY_PAY"}),
    "PERIOD_SHIFT_candidate_other_period": Case([line(1, 50_776)], [claim("K1", 1, 50_776.0, fra=MARCH[0],
                                                                          til=MARCH[1])],
                                                {1: "PERIOD_SHIFT"}, expected_claims={"K1": "PERIOD_SHIFT"}),
    "REVERSAL": Case([line(1, -20_000, code="A", fra=None, til=None, maksdato=None)],
                     [claim("K0", 1, 50_776.0, fra=MARCH[0], til=MARCH[1])], {1: "REVERSAL"},
                     earlier=[line(1, 50_776, fra=MARCH[0], til=MARCH[1])]),
    "CLAIM_ROW_INVALID": Case([line(1, 50_776), line(2, 50_776)],
                              [dict(claim("K1", 1, 50_776.0), krav_belop="ti kroner"), claim("K2", 2, 50_776.0)],
                              {1: "CLAIM_ROW_INVALID", 2: "EXACT"}),
    "one_claim_over_two_lines": Case([line(1, 25_388, til=date(2026, 4, 15)), line(1, 25_388, fra=date(2026, 4, 16))],
                                     [claim("K1", 1, 50_776.0)], {1: "EXACT", 2: "EXACT"}),
}
OFFSETS = {"EXACT", "ROUNDING", "WEEKDAYS", "CAP_6G"}


@pytest.mark.parametrize("name", list(CASES))
def test_hand_made_case(nav_run, name):
    case = CASES[name]
    reports = []
    if case.earlier:
        reports.append(nav_run.report("1000", case.earlier, value_date=date(2026, 4, 1)))
    reports.append(nav_run.report("1001", case.lines, value_date=PAID))
    inputs = {"report_files": reports, "claims_file": nav_run.claims(case.claims)}
    if case.employees:
        inputs["employees_file"] = employees_csv(nav_run.tmp / "ansatte.csv", case.employees)
    if case.bank:
        inputs["bank_file"] = bank_csv(nav_run.tmp / "bank.csv", case.bank)
    outcome = nav_run.run(**inputs)
    lines = nav_run.outcomes(outcome)
    got = {int(r.linje): r.utfall for r in lines[lines.rapport_id == "1001"].itertuples()}
    assert got == case.expected, name

    cases = nav_run.cases()
    by_category = {}
    for c in cases:
        by_category.setdefault(c.category, []).append(c)
    for outcome_code in set(case.expected.values()) - OFFSETS:
        assert outcome_code in by_category, f"{name}: no {outcome_code} case"
    for krav, code in case.expected_claims.items():
        assert any(krav in c.evidence["data"]["claim_ids"] for c in by_category.get(code, [])), (name, krav, code)
    for c in cases:  # what staff see: Norwegian text, evidence side by side, never an fnr in clear
        assert not FNR_PATTERN.search(c.message), c.message
        assert not re.search(r"\d{11}", c.search_text)
        sections = c.evidence["sections"]
        assert sections[0]["title"] in ("Sammenligning", "Forklaring")
        rendered = str(sections)
        assert not FNR_PATTERN.search(rendered.replace(".", "")), rendered
        assert c.org_unit and c.due_at is not None

    journal = nav_run.journal(outcome)
    offset_claims = set(journal["krav_id"]) - {"K0"}  # K0: the earlier report's claim
    offset_lines = [n for n, o in case.expected.items() if o in OFFSETS]
    assert bool(offset_claims) == bool(offset_lines), name
    assert outcome.summary.automated == len(offset_lines) + (1 if case.earlier else 0)


def test_the_explanation_says_why(nav_run):
    report = nav_run.report("1001", [line(1, 50_776), line(2, 66_088), line(3, 25_388)], value_date=PAID)
    claims = nav_run.claims([claim("K1", 1, 50_000.0, income=50_000.0), claim("K2", 2, 80_000.0, income=80_000.0),
                             claim("K3", 3, 50_776.0, income=50_000.0)])
    outcome = nav_run.run(report_files=[report], claims_file=claims)
    from openpyxl import load_workbook

    book = load_workbook(outcome.summary.outputs["utligning"])
    rows = list(book["Utlignet"].iter_rows(values_only=True))
    assert rows[0][:4] == ("Rapport", "Linje", "Krav-ID", "Fødselsnr.")
    texts = {r[2]: r[13] for r in rows[1:]}
    assert texts["K1"] == ("NAV betaler per virkedag: 22 virkedager × 2\u00a0308,00\u00a0kr = 50\u00a0776,00\u00a0kr; kravet er regnet per "
                           "måned (50\u00a0000,00\u00a0kr). Differanse 776,00\u00a0kr.")
    assert "6G" in texts["K2"] and "3\u00a0004,00\u00a0kr" in texts["K2"] and "G = 130\u00a0160,00\u00a0kr" in texts["K2"]
    grade = nav_run.cases("GRADE")[0]
    assert grade.message.startswith("Gradering/søknad (rapport 1001, linje 3): NAV har betalt 50 % gradert")
    table = grade.evidence["sections"][0]
    assert table["columns"] == ["Felt", "NAV-rapport", "Refusjonskrav", "Robotens beregning"]
    rows = {r[0]: r[1:] for r in table["rows"]}
    assert rows["Beløp"] == ["25 388,00", "50 776,00", "50 776,00"]
    # The robot's column computes at ONE grade (the claim's, 100 %) beside its 100 % amount; the 50 %
    # NAV paid at is NAV's, read from the amount; one difference per row.
    assert rows["Grad"] == ["50 % (utledet av beløpet)", "", "100 %"]
    assert rows["Differanse: utbetalt mot kravet"] == ["\u221225 388,00", "", ""]
    assert rows["Differanse: utbetalt mot robotens beregning"] == ["", "", "\u221225 388,00"]
    per_grade = grade.evidence["sections"][1]
    assert per_grade["title"] == "Robotens beregning per grad"
    assert per_grade["rows"] == [["100 % (kravets grad)", "22", "2\u00a0308,00\u00a0kr", "50 776,00"],
                                 ["50 % (graden NAV har betalt etter)", "22", "1\u00a0154,00\u00a0kr", "25 388,00"]]
    assert grade.evidence["fnr"] == fnr(3)  # clear only in evidence["fnr"]
    assert grade.amount == 25_388.0 and grade.org_unit == "Helse og velferd"
