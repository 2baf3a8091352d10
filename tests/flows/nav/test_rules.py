"""The five rules of issue #21, each with a hand-made month as HR's payroll team would see it:
the category, the Norwegian message HR acts on, and the journal.

Numbers as in test_categories: 50 000/month -> 2 308 kr/day; April 2026 has 22 weekdays
(01.04 is a Wednesday; 01.04-20.04 has 14), April-June 2026 has 65.
"""

from __future__ import annotations

from datetime import date

import pytest

from connectors.nav.hr_claims import read_claims_rows
from tests.fixtures.nav_flow import claim, fnr, line, write_claims_xlsx

PAID = date(2026, 5, 4)



def attested(nav_run, case_id: int, action: str, comment: str, values: dict | None = None) -> None:
    """A decision as the review app stores one above the four-eyes limits: the form as prefilled
    (the declared defaults) unless `values` says otherwise, decided by one person, approved by an
    attestant (another). Below the limits the attestation changes nothing."""
    from flows.nav_refund_offsetting.actions import ACTIONS
    from workqueue.actions import default_value

    if values is None:
        data = nav_run.store.get_case(case_id).evidence["data"]
        values = {f.name: float(v) for f in ACTIONS[action].fields if (v := default_value(f, data)) is not None}
    nav_run.store.decide(case_id, "hr.kari", action, comment, values, needs_approval=True)
    nav_run.store.approve_decision(case_id, "hr.atle", "Kontrollert")

def _by_line(nav_run, outcome, report="1001") -> dict[int, str]:
    lines = nav_run.outcomes(outcome)
    return {int(r.linje): r.utfall for r in lines[lines.rapport_id == report].itertuples()}


# ------------------------------------------------------------------ 1. maksdato inside the period

@pytest.mark.parametrize("line_til", [date(2026, 4, 30), date(2026, 4, 20)], ids=["whole_month", "to_maksdato"])
def test_maksdato_inside_the_period_says_sick_pay_ended_and_what_to_do(nav_run, line_til):
    maks = date(2026, 4, 20)
    report = nav_run.report("1001", [line(1, 14 * 2_308, til=line_til, maksdato=maks)], value_date=PAID)
    claims = nav_run.claims([claim("K1", 1, 50_776.0, income=50_000.0)])
    outcome = nav_run.run(report_files=[report], claims_file=claims)
    assert _by_line(nav_run, outcome) == {1: "MAKSDATO_REACHED"}
    assert not nav_run.cases("GRADE") and not nav_run.cases("PERIOD_SHIFT")
    case = nav_run.cases("MAKSDATO_REACHED")[0]
    assert case.message.startswith("Maksdato nådd i perioden (rapport 1001, linje 1): Sykepengene stanset ved "
                                   "maksdato 20.04.2026")
    for words in ("De 8 virkedagene etter maksdato (21.04.2026–30.04.2026) refunderes ikke",
                  "kontroller tellingen av 248 dager", "varsle den ansatte", "avskriv resten av kravet"):
        assert words in case.message, words
    assert case.evidence["data"]["maksdato"]["days_after"] == 8
    amounts = next(r for r in case.evidence["sections"][0]["rows"] if r[0] == "Beløp")
    assert amounts == ["Beløp", "32 312,00", "50 776,00", "32 312,00"]  # NAV's computation: 14 × 2 308
    assert len(nav_run.journal(outcome)) == 0  # nothing offset by itself

    # HR writes the rest off: the next run books NAV's amount and the write-off.
    attested(nav_run, case.id, "write_off", "Maksdato nådd, den ansatte er varslet")
    later = nav_run.run(report_files=[nav_run.report("1002", [line(2, 100)], value_date=date(2026, 6, 1))],
                        claims_file=claims)
    row = nav_run.journal(later).iloc[0]
    assert (row.bilagstype, row.krav_id, row.utbetalt_belop, row.differanse, row.differansekonto) == \
        ("AVSKRIVNING", "K1", "32312,00", "-18464,00", "7830")


# ------------------------------------------------------------------ 2. holiday pay vs a nearly matching claim

def test_holiday_pay_and_a_claim_of_another_earning_year_are_one_case_and_the_claim_is_not_aged(nav_run):
    may = (date(2026, 5, 1), date(2026, 5, 31))
    report = nav_run.report("1001", [line(1, 4_709, code="H", fra=may[0], til=may[1])], value_date=date(2026, 6, 1))
    claims = nav_run.claims([claim("K1", 1, 4_709.0, code="H", fra=date(2025, 5, 1), til=date(2025, 5, 31))])
    outcome = nav_run.run(report_files=[report], claims_file=claims)
    assert _by_line(nav_run, outcome) == {1: "HOLIDAY_PAY"}
    cases = nav_run.cases()
    assert [c.category for c in cases] == ["HOLIDAY_PAY"]  # one case, no CLAIM_UNPAID_FINAL for K1
    case = cases[0]
    assert case.evidence["data"]["claim_ids"] == ["K1"]
    assert "samme person, ytelse og beløp som krav K1 (01.05.2025–31.05.2025)" in case.message
    assert "perioden/opptjeningsåret er ulik" in case.message and "skal ikke avskrives" in case.message
    table = case.evidence["sections"][0]["rows"]
    assert next(r for r in table if r[0] == "Periode")[1:3] == ["01.05.2026–31.05.2026", "01.05.2025–31.05.2025"]
    assert len(nav_run.journal(outcome)) == 0

    # Months later K1 is still not aged (the case holds it); HR approves: booked against K1.
    attested(nav_run, case.id, "approve_nav_amount", "Samme feriepenger, feil opptjeningsår")
    later = nav_run.run(report_files=[nav_run.report("1002", [line(2, 100)], value_date=date(2026, 10, 1))],
                        claims_file=claims)
    assert not [c for c in nav_run.cases() if c.category.startswith("CLAIM_UNPAID")]
    row = nav_run.journal(later).iloc[0]
    assert (row.bilagstype, row.krav_id, row.utbetalt_belop, row.differanse) == ("GODKJENT", "K1", "4709,00", "0,00")


# ------------------------------------------------------------------ 3. corrections across reports

@pytest.mark.parametrize("same_run", [False, True], ids=["earlier_run", "same_run"])
def test_a_negative_line_reversing_an_earlier_offset_is_linked_and_the_reversal_is_booked_when_confirmed(
        nav_run, same_run):
    claims = nav_run.claims([claim("K1", 1, 50_776.0), claim("K2", 2, 50_776.0)])
    first = nav_run.report("1001", [line(2, 50_776), line(1, 50_776)], value_date=PAID)
    correction = nav_run.report("1002", [line(1, -20_000, code="A", fra=None, til=None, maksdato=None)],
                                value_date=date(2026, 5, 15))
    if same_run:
        outcome = nav_run.run(report_files=[first, correction], claims_file=claims)
    else:
        nav_run.run(report_files=[first], claims_file=claims)
        outcome = nav_run.run(report_files=[correction], claims_file=claims)
    assert _by_line(nav_run, outcome, "1002") == {1: "REVERSAL"}
    assert not nav_run.cases("NEGATIVE_LINE")
    case = nav_run.cases("REVERSAL")[0]
    assert case.message.startswith("Reversering av tidligere utligning (rapport 1002, linje 1): Negativ linje "
                                   "(\u221220\u00a0000,00\u00a0kr) reverserer utligningen av krav K1 (rapport 1001, linje 2, "
                                   "utlignet 50\u00a0776,00\u00a0kr)")
    assert "Bekreft reverseringen" in case.message
    reversal = case.evidence["data"]["reversal"]
    assert {k: reversal[k] for k in ("claim_id", "report_id", "line_no", "offset_amount", "proposed_amount")} == \
        {"claim_id": "K1", "report_id": "1001", "line_no": 2, "offset_amount": 50_776.0, "proposed_amount": 20_000.0}
    assert reversal["posting"] == [{"konto": "1573", "debet": 20_000.0}, {"konto": "1920", "kredit": 20_000.0}]
    assert any(s["title"] == "Foreslått reversering" for s in case.evidence["sections"])

    # Above the earlier offset: refused by the run's re-check (the declared bound), nothing booked,
    # the case open again and the operators told why.
    attested(nav_run, case.id, "confirm_reversal", "For mye", {"amount": "60 000,00"})
    refused = nav_run.run(report_files=[nav_run.report("1003", [line(3, 100)], value_date=date(2026, 6, 1))],
                          claims_file=claims)
    assert len(nav_run.journal(refused)) == 0
    assert nav_run.store.get_case(case.id).decision_applied_at is None
    assert len(nav_run.cases("DECISION_REFUSED")) == 1


def test_a_confirmed_reversal_writes_the_reversal_row(nav_run):
    claims = nav_run.claims([claim("K1", 1, 50_776.0)])
    nav_run.run(report_files=[nav_run.report("1001", [line(1, 50_776)], value_date=PAID)], claims_file=claims)
    nav_run.run(report_files=[nav_run.report("1002", [line(1, -50_776)], value_date=date(2026, 5, 15))],
                claims_file=claims)
    case = nav_run.cases("REVERSAL")[0]
    assert "utlignet 50\u00a0776,00\u00a0kr" in case.message
    attested(nav_run, case.id, "confirm_reversal", "NAV har trukket tilbake hele april")
    outcome = nav_run.run(report_files=[nav_run.report("1003", [line(3, 100)], value_date=date(2026, 6, 1))],
                          claims_file=claims)
    journal = nav_run.journal(outcome)
    assert len(journal) == 1
    row = journal.iloc[0]
    assert (row.bilagstype, row.krav_id, row.rapport_id, row.linjer) == ("REVERSERING", "K1", "1002",
                                                                         "1002:1 (reverserer 1001:1)")
    assert (row.krav_belop, row.utbetalt_belop, row.differanse, row.kravkonto, row.bankkonto) == \
        ("-50776,00", "-50776,00", "0,00", "1573", "1920")


# ------------------------------------------------------------------ 4. rounding per weekday

def test_rounding_tolerance_is_per_weekday(nav_run):
    spring = dict(fra=date(2026, 4, 1), til=date(2026, 6, 30))  # 65 weekdays
    report = nav_run.report("1001", [line(1, 65 * 2_308, **spring), line(2, 65 * 2_308, **spring)],
                            value_date=date(2026, 7, 1))
    claims = nav_run.claims([claim("K1", 1, 65 * 2_308 - 65.0, **spring), claim("K2", 2, 65 * 2_308 - 66.0, **spring)])
    outcome = nav_run.run(report_files=[report], claims_file=claims)
    assert _by_line(nav_run, outcome) == {1: "ROUNDING", 2: "AMOUNT_DIFFERENCE"}
    from openpyxl import load_workbook

    rows = list(load_workbook(outcome.summary.outputs["utligning"])["Utlignet"].iter_rows(values_only=True))
    text = {r[2]: r[13] for r in rows[1:]}["K1"]
    assert text == ("Differansen på 65,00\u00a0kr er innenfor avrundingen: 65 virkedager × inntil 1,00\u00a0kr = 65,00\u00a0kr "
                    "(NAV runder dagsatsen til hele kroner).")
    row = nav_run.journal(outcome).iloc[0]
    assert (row.bilagstype, row.krav_id, row.differanse, row.begrunnelse) == ("UTLIGNING", "K1", "65,00", "Avrunding")
    assert "Differanse på 66,00\u00a0kr" in nav_run.cases("AMOUNT_DIFFERENCE")[0].message


# ------------------------------------------------------------------ 5. one bad claim row

def test_one_bad_claim_row_holds_only_that_person_and_the_month_proceeds(nav_run):
    march = dict(fra=date(2026, 3, 1), til=date(2026, 3, 31))
    rows = [claim("K1", 1, 50_776.0),
            claim("K2", 2, 50_776.0),                    # open-ended: no til_dato
            claim("K3", 3, 50_776.0, **march),           # bad amount
            claim("K4", 3, 50_776.0),                    # person 3's April claim: held with the April line
            claim("K5", 4, 50_776.0), claim("K5", 4, 25_388.0, **march),  # one krav_id on two rows
            claim("K6", 3, 50_776.0, fra=date(2026, 1, 1), til=date(2026, 1, 31))]  # would be final: held, not aged
    rows[1]["til_dato"] = None
    rows[2]["krav_belop"] = "ti kroner"
    claims = write_claims_xlsx(nav_run.tmp / "refusjonskrav.xlsx", rows)
    report = nav_run.report("1001", [line(1, 50_776), line(2, 50_776), line(3, 50_776), line(4, 50_776)],
                            value_date=PAID)
    outcome = nav_run.run(report_files=[report], claims_file=claims)
    assert _by_line(nav_run, outcome) == {1: "EXACT", 2: "EXACT", 3: "CLAIM_ROW_INVALID", 4: "CLAIM_ROW_INVALID"}
    assert sorted(nav_run.journal(outcome).krav_id) == ["K1", "K2"]
    assert not [c for c in nav_run.cases() if c.category.startswith("CLAIM_UNPAID")]  # K6 is held, not aged

    held = {c.evidence["data"]["krav_id"]: c for c in nav_run.cases("CLAIM_ROW_INVALID")}
    assert set(held) == {"K3", "K5"} and len(nav_run.cases()) == 2
    bad = held["K3"]
    assert bad.message.startswith("Rad 4 i refusjonskrav.xlsx (krav K3) kan ikke leses: rad 4, kolonne krav_belop: "
                                  "ugyldig beløp («ti kroner»)")
    assert "Personens 1 linje(r) i rapporten (50\u00a0776,00\u00a0kr) og 2 andre krav er holdt tilbake" in bad.message
    assert "Rett raden i HR-systemet" in bad.message
    data = bad.evidence["data"]
    assert data["linjer"] == "1001:3" and data["claim_ids"] == ["K4"] and data["held_claim_ids"] == ["K4", "K6"]
    assert fnr(3) not in bad.message and fnr(3) not in str(bad.evidence["sections"])
    dup = held["K5"]
    assert dup.message.startswith("Krav-ID «K5» finnes på radene 6, 7 i refusjonskrav.xlsx")
    assert dup.evidence["data"]["rows"] == [6, 7] and dup.evidence["data"]["linjer"] == "1001:4"

    # HR settles the held line from the case: booked against the readable claim.
    bad_id = bad.id
    attested(nav_run, bad_id, "approve_nav_amount", "Beløpet rettet i HR")
    later = nav_run.run(report_files=[nav_run.report("1002", [line(9, 100)], value_date=date(2026, 6, 1))],
                        claims_file=claims)
    row = nav_run.journal(later).iloc[0]
    assert (row.bilagstype, row.krav_id, row.utbetalt_belop) == ("GODKJENT", "K4", "50776,00")
    # The same bad row, still open and holding nothing new, is not opened again.
    assert {c.evidence["data"]["krav_id"] for c in nav_run.cases("CLAIM_ROW_INVALID")} == {"K3", "K5"}
    assert len(nav_run.cases("CLAIM_ROW_INVALID")) == 3  # K3 decided -> a new case for the still-bad row


def test_open_ended_claims_only_when_the_definition_allows_them(tmp_path):
    rows = [claim("K1", 1, 100.0), claim("K2", 2, 100.0)]
    rows[1]["til_dato"] = None
    path = write_claims_xlsx(tmp_path / "krav.xlsx", rows)
    allowed = read_claims_rows(path, allow_open_end=True)
    assert list(allowed.claims["krav_id"]) == ["K1", "K2"] and not allowed.issues
    assert list(allowed.claims["open_ended"]) == [False, True]
    refused = read_claims_rows(path, allow_open_end=False)
    assert list(refused.claims["krav_id"]) == ["K1"]
    assert refused.issues[0].rows == [3] and refused.issues[0].problems == ["rad 3, kolonne til_dato: mangler dato"]
    assert refused.issues[0].fnrs == [int(fnr(2))]
