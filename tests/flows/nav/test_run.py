"""A run as HR and finance see it: idempotency, duplicates, odd files, decisions applied next run,
the Excel report and the offset journal."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from openpyxl import load_workbook

from connectors.nav.k27 import format_line
from connectors.nav.tables import InputFileError
from tests.fixtures.nav_flow import BNR_A, bank_csv, claim, fnr, line, write_claims_xlsx

PAID = date(2026, 5, 4)


def _basic(nav_run, name="1001", lines=None, claims=None):
    report = nav_run.report(name, lines or [line(1, 50_776), line(2, 25_388), line(3, 50_776)], value_date=PAID)
    claims_path = nav_run.claims(claims or [claim("K1", 1, 50_776.0), claim("K2", 2, 50_776.0, income=50_000.0),
                                            claim("K3", 3, 50_000.0, income=50_000.0)])
    return report, claims_path


def test_the_same_report_twice_is_already_offset_and_nothing_is_offset_twice(nav_run):
    report, claims = _basic(nav_run)
    first = nav_run.run(report_files=[report], claims_file=claims)
    assert first.summary.figures["offset"] == 2 and len(nav_run.journal(first)) == 2
    cases_before = len(nav_run.cases())
    again = nav_run.run(report_files=[report], claims_file=claims)
    figures = again.summary.figures
    assert figures["lines"] == 0 and figures["offset"] == 0
    assert figures["already_offset"] == ["1001"]
    assert "Rapport 1001 er allerede utlignet" in figures["message"]
    assert len(nav_run.journal(again)) == 0
    assert len(nav_run.cases()) == cases_before
    sheet = load_workbook(again.summary.outputs["utligning"])["Sammendrag"]
    assert any(str(c.value).startswith("Rapport 1001 er allerede utlignet") for row in sheet.iter_rows() for c in row)


def test_the_same_content_under_a_second_id_is_a_duplicate_report(nav_run):
    report, claims = _basic(nav_run)
    copy = nav_run.report("1002", [line(1, 50_776), line(2, 25_388), line(3, 50_776)], value_date=PAID)
    assert copy.read_bytes() == report.read_bytes()
    outcome = nav_run.run(report_files=[report, copy], claims_file=claims)
    lines = nav_run.outcomes(outcome)
    assert set(lines[lines.rapport_id == "1002"].utfall) == {"DUPLICATE"}
    assert len(nav_run.journal(outcome)) == 2  # 1001 offset once, 1002 not at all
    dup = nav_run.cases("DUPLICATE")
    assert len(dup) == 1 and dup[0].item_id is not None
    assert "samme innhold som rapport 1001" in dup[0].message
    # Fed again on a later day (the other channel delivered it again): still nothing twice.
    later = nav_run.run(report_files=[copy], claims_file=claims)
    assert later.summary.figures["already_offset"] == ["1002"] and len(nav_run.journal(later)) == 0


def test_a_line_already_offset_in_an_earlier_run_is_a_duplicate(nav_run):
    report, claims = _basic(nav_run)
    nav_run.run(report_files=[report], claims_file=claims)
    extra = nav_run.report("1003", [line(1, 50_776), line(4, 100)], value_date=date(2026, 5, 15))
    outcome = nav_run.run(report_files=[extra], claims_file=claims)
    got = dict(zip(nav_run.outcomes(outcome).linje, nav_run.outcomes(outcome).utfall, strict=True))
    assert got["1"] == "DUPLICATE"
    assert "allerede er utlignet i en tidligere kjøring" in nav_run.cases("DUPLICATE")[0].message


def test_a_utf8_report_is_read_with_its_names_intact(nav_run):
    report = nav_run.report("1001", [line(1, 50_776, name="ØDEGÅRD ÆSE")], encoding="utf-8", value_date=PAID)
    outcome = nav_run.run(report_files=[report], claims_file=nav_run.claims([claim("K1", 1, 50_776.0)]))
    assert outcome.summary.figures["offset"] == 1
    rows = list(load_workbook(outcome.summary.outputs["utligning"])["Utlignet"].iter_rows(values_only=True))
    assert rows[1][4] == "ØDEGÅRD ÆSE"
    notes = [c.value for row in load_workbook(outcome.summary.outputs["utligning"])["Sammendrag"].iter_rows()
             for c in row if c.value]
    assert any("UTF-8" in str(v) for v in notes)


def test_a_truncated_report_is_refused_whole_and_ages_no_claim(nav_run):
    """The lines after the cut were paid too: a cut report must not settle or age anything."""
    report, claims = _basic(nav_run)
    data = report.read_bytes()
    report.write_bytes(data[:-80])
    outcome = nav_run.run(report_files=[report], claims_file=claims, as_of=date(2026, 12, 1))
    assert outcome.summary.figures["lines"] == 0 and outcome.summary.figures["journal_rows"] == 0
    assert outcome.summary.exceptions == {"REPORT_REFUSED": 1}
    assert [c.category for c in nav_run.cases()] == ["REPORT_REFUSED"]  # no CLAIM_UNPAID_*
    refused = nav_run.cases("REPORT_REFUSED")[0]
    assert "Siste linje (3)" in refused.message and "avkortet" in refused.message
    assert outcome.summary.figures["refused_reports"] == [refused.message]


def test_a_claims_file_with_a_missing_column_stops_the_run_before_anything_is_offset(nav_run):
    report, _ = _basic(nav_run)
    header = ["krav_id", "fnr", "bedriftsnummer", "ytelse", "fra_dato", "krav_belop", "org_enhet"]
    bad = write_claims_xlsx(nav_run.tmp / "krav.xlsx", [claim("K1", 1, 50_776.0)], header=header)
    with pytest.raises(InputFileError, match="mangler kolonne\\(r\\): til_dato"):
        nav_run.run(report_files=[report], claims_file=bad)
    assert nav_run.cases() == []
    items = nav_run.store.items("nav-refund-offsetting")
    assert [i.status for i in items] == ["new"]  # released: the next run with a good file takes it
    good = nav_run.claims([claim("K1", 1, 50_776.0)])
    outcome = nav_run.run(report_files=[report], claims_file=good)
    assert outcome.summary.figures["lines"] == 3


def test_an_approved_amount_is_offset_on_the_next_run(nav_run):
    report, claims = _basic(nav_run)
    nav_run.run(report_files=[report], claims_file=claims)
    grade = nav_run.cases("GRADE")[0]
    nav_run.store.decide(grade.id, "hr.kari", "approve_nav_amount", "Gradert 50 %, godkjent", {"amount": "25 388,00"})
    outcome = nav_run.run(report_files=[report], claims_file=claims)
    journal = nav_run.journal(outcome)
    assert list(journal.bilagstype) == ["GODKJENT"]
    row = journal.iloc[0]
    assert (row.krav_id, row.utbetalt_belop, row.krav_belop, row.differanse) == ("K2", "25388,00", "50776,00",
                                                                                 "-25388,00")
    assert outcome.summary.figures["decisions_applied"] == 1
    assert nav_run.store.get_case(grade.id).decision_applied_at is not None
    # Applied once: a third run books nothing.
    assert len(nav_run.journal(nav_run.run(report_files=[report], claims_file=claims))) == 0


def test_a_write_off_of_an_unpaid_claim_is_booked_and_the_claim_is_no_longer_aged(nav_run):
    report = nav_run.report("1001", [line(2, 50_776)], value_date=PAID)
    claims = nav_run.claims([claim("K1", 1, 50_776.0, fra=date(2026, 1, 1), til=date(2026, 1, 31)),
                             claim("K2", 2, 50_776.0)])
    nav_run.run(report_files=[report], claims_file=claims)
    final = nav_run.cases("CLAIM_UNPAID_FINAL")[0]
    # 50 776 kr written off: above the write-off limit, so an attestant approves it first.
    nav_run.store.decide(final.id, "hr.kari", "write_off", "Avslått av NAV", {"amount": 50_776.0},
                         needs_approval=True)
    nav_run.store.approve_decision(final.id, "hr.atle", "Kontrollert mot NAVs avslag")
    later = nav_run.report("1002", [line(3, 100)], value_date=date(2026, 6, 1))
    outcome = nav_run.run(report_files=[later], claims_file=claims)
    journal = nav_run.journal(outcome)
    assert list(journal.bilagstype) == ["AVSKRIVNING"] and journal.iloc[0].differanse == "-50776,00"
    assert journal.iloc[0].differansekonto == "7830"
    assert len(nav_run.cases("CLAIM_UNPAID_FINAL")) == 1  # not opened again


def test_a_pending_claim_turns_final_after_the_deadline_and_the_waiting_case_closes(nav_run):
    report = nav_run.report("1001", [line(2, 50_776)], value_date=PAID)
    claims = nav_run.claims([claim("K1", 1, 50_776.0), claim("K2", 2, 50_776.0)])
    nav_run.run(report_files=[report], claims_file=claims)
    pending = nav_run.cases("CLAIM_UNPAID_PENDING")
    assert [c.evidence["data"]["claim_ids"] for c in pending] == [["K1"]]
    again = nav_run.report("1002", [line(3, 100)], value_date=date(2026, 6, 1))
    nav_run.run(report_files=[again], claims_file=claims)
    assert len(nav_run.cases("CLAIM_UNPAID_PENDING")) == 1  # no second waiting case
    late = nav_run.report("1003", [line(4, 100)], value_date=date(2026, 8, 3))
    nav_run.run(report_files=[late], claims_file=claims)
    final = nav_run.cases("CLAIM_UNPAID_FINAL")
    assert [c.evidence["data"]["claim_ids"] for c in final] == [["K1"]]
    assert nav_run.store.get_case(pending[0].id).status == "dismissed"


def test_a_waiting_claim_case_closes_when_nav_pays(nav_run):
    claims = nav_run.claims([claim("K1", 1, 50_776.0), claim("K2", 2, 50_776.0)])
    nav_run.run(report_files=[nav_run.report("1001", [line(2, 50_776)], value_date=PAID)], claims_file=claims)
    pending = nav_run.cases("CLAIM_UNPAID_PENDING")[0]
    outcome = nav_run.run(report_files=[nav_run.report("1002", [line(1, 50_776)], value_date=date(2026, 5, 15))],
                          claims_file=claims)
    assert outcome.summary.figures["offset"] == 1
    closed = nav_run.store.get_case(pending.id)
    assert closed.status == "resolved" and "Utbetaling mottatt" in closed.decision["comment"]


def test_a_bank_mismatch_holds_the_report_until_finance_decides(nav_run):
    report, claims = _basic(nav_run)
    bank = bank_csv(nav_run.tmp / "bank.csv", [(PAID, 10_000_000)])
    first = nav_run.run(report_files=[report], claims_file=claims, bank_file=bank)
    assert first.summary.figures["offset"] == 0
    assert set(nav_run.outcomes(first).utfall) == {"BANK_TOTAL_MISMATCH"}
    held = nav_run.cases("BANK_TOTAL_MISMATCH")
    assert len(held) == 1 and len(nav_run.cases()) == 1  # one case for the report, not one per line
    assert "Innbetalt 100\u00a0000,00\u00a0kr, rapporten summerer til 126\u00a0940,00\u00a0kr" in held[0].message
    assert not nav_run.cases("CLAIM_UNPAID_PENDING")  # the held lines' claims are not 'unpaid'
    nav_run.store.decide(held[0].id, "okonomi.per", "handled_manually", "Motregning av NAV, avklart")
    second = nav_run.run(claims_file=claims, bank_file=bank, report_files=[report])
    assert second.summary.figures["offset"] == 2
    assert len(nav_run.journal(second)) == 2


def test_excel_and_journal_are_norwegian_and_excel_friendly(nav_run):
    report, claims = _basic(nav_run)
    outcome = nav_run.run(report_files=[report], claims_file=claims)
    book = load_workbook(outcome.summary.outputs["utligning"])
    assert book.sheetnames == ["Sammendrag", "Utlignet", "Avvik"]
    summary = {r[0]: r[1] for r in book["Sammendrag"].iter_rows(values_only=True) if r[0]}
    assert summary["Linjer i alt"] == 3 and summary["Utlignet automatisk"] == 2
    assert abs(summary["Andel utlignet automatisk"] - 2 / 3) < 1e-9
    ws = book["Utlignet"]
    assert ws["J2"].number_format == "#,##0.00" and ws["H2"].number_format == "dd.mm.yyyy"
    assert ws["D2"].value == fnr(1)[:6] + "*****"
    avvik = list(book["Avvik"].iter_rows(values_only=True))
    assert avvik[0][:10] == ("Kategori", "Forklaring", "Fødselsnr.", "Navn", "Bedriftsnr.", "Periode", "Beløp NAV",
                             "Beløp krav", "Forventet", "Differanse")
    assert avvik[1][0] == "Gradering/søknad" and avvik[1][2] == fnr(2)[:6] + "*****" and avvik[1][4] == BNR_A
    assert avvik[1][5] == "01.04.2026–30.04.2026" and avvik[1][6:10] == (25_388.0, 50_776.0, 50_776.0, -25_388.0)
    raw = Path(outcome.summary.outputs["utligningsbilag"]).read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf") and b"\r\n" in raw  # BOM so Excel shows æøå
    journal = nav_run.journal(outcome)
    assert list(journal.columns)[:4] == ["bilagsdato", "bilagstype", "krav_id", "rapport_id"]
    row = journal[journal.krav_id == "K3"].iloc[0]
    assert (row.bilagsdato, row.periode_fra, row.krav_belop, row.utbetalt_belop, row.differanse, row.begrunnelse) == \
        ("04.05.2026", "01.04.2026", "50000,00", "50776,00", "776,00", "Virkedager")
    assert row.differansekonto == "5800" and row.linjer == "1001:3"


def test_a_file_that_is_not_a_k27_report_becomes_one_case(nav_run):
    junk = nav_run.tmp / "rapporter" / "feil.csv"
    junk.parent.mkdir(parents=True, exist_ok=True)
    junk.write_text("\n".join(["a;b;c"] * 10), encoding="utf-8")
    good = nav_run.report("1001", [line(1, 50_776)], value_date=PAID)
    outcome = nav_run.run(report_files=[junk, good], claims_file=nav_run.claims([claim("K1", 1, 50_776.0)]))
    assert outcome.summary.figures["offset"] == 1
    cases = nav_run.cases("REPORT_REFUSED")
    assert len(cases) == 1 and "feil.csv" in cases[0].message and "K27" in cases[0].message
    assert not nav_run.cases("INVALID_LINE") and not nav_run.cases("CLAIM_UNPAID_PENDING")


def test_no_fnr_in_logs(nav_run, caplog):
    report, claims = _basic(nav_run, lines=[format_line(line(1, 50_776)).replace(fnr(1), fnr(1)[:10] + "0"
                                                                                 if fnr(1)[10] != "0" else fnr(1)[:10] + "1")])
    with caplog.at_level("DEBUG"):
        nav_run.run(report_files=[report], claims_file=claims)
    assert fnr(1)[:10] not in caplog.text
