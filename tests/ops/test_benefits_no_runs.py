"""Months without runs are «ingen kjøringer» in the benefits report: not 0 % automated, and not
part of the average working days saved per month."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path
from types import SimpleNamespace

import openpyxl

from config.catalogue import load_catalogue
from flows.benefits_report.report import NO_RUNS, compute, markdown, write_excel

ROOT = Path(__file__).resolve().parents[2]


def test_months_without_runs_say_so_and_are_not_averaged(tmp_path):
    definitions = [d for d in load_catalogue(ROOT / "config" / "processes").values()
                   if d.id == "nav-refund-offsetting"]
    months = [date(2026, m, 1) for m in range(1, 13)]
    run = SimpleNamespace(process_id="nav-refund-offsetting", started_at=datetime(2026, 12, 3, 6, tzinfo=UTC),
                          status="completed", cases_total=100, cases_automated=80, exceptions={"GRADE": 20})
    report = compute([run], definitions, months=months, now=datetime(2027, 1, 5, tzinfo=UTC))
    assert report.months_with_runs("nav-refund-offsetting") == 1
    total_days = report.totals("nav-refund-offsetting").working_days_saved
    assert report.days_per_month("nav-refund-offsetting") == total_days  # one month with runs, not twelve

    path = write_excel(report, tmp_path / "gevinst.xlsx")
    wb = openpyxl.load_workbook(path)
    ws = wb["Per måned"]
    header = [c.value for c in ws[4]]
    rows = [dict(zip(header, r, strict=False)) for r in ws.iter_rows(min_row=5, values_only=True) if r[0]]
    by_month = {r["Måned"]: r for r in rows}
    assert by_month["januar 2026"]["Andel automatisk"] == NO_RUNS
    assert by_month["desember 2026"]["Andel automatisk"] == 0.8
    summary = wb["Oppsummering"]
    sheader = [c.value for c in summary[4]]
    nav = dict(zip(sheader, next(summary.iter_rows(min_row=5, max_row=5, values_only=True)), strict=False))
    assert abs(nav["Arbeidsdager spart per måned (snitt)"] - total_days) < 1e-9
    assert "| 0,0 % |" not in markdown(report)
