"""The benefits report on a hand-seeded history, checked against figures computed by hand.

History (Europe/Oslo months; manual minutes per case from the definitions: NAV 6, vehicles 4,
invoices 3; robot minutes 0, so time saved = automated cases x manual minutes):

  nav-refund-offsetting   aug 1000 cases / 800 automated            -> 80.0 h
                          sep 1100 / 900 (+ one failed run, 0 cases) -> 90.0 h
                          oct 1200 / 1000                            -> 100.0 h   total 270 h = 36 days
  vehicle-data-collection sep 500 / 450                              -> 30.0 h    = 4 days
  invoice-attachment-upload aug 300/270 + 200/190 = 500 / 460        -> 23.0 h
  total 323.0 h = 43.0667 working days of 7.5 h; per month aug 103.0, sep 120.0, oct 100.0
Runs outside the window, still running, or of excluded processes do not count. The NAV
September run starts at 2026-08-31 22:30 UTC = 1 September 00:30 in Oslo: it is September's.
"""

from __future__ import annotations

import zipfile
from datetime import UTC, datetime
from pathlib import Path

import openpyxl
import pytest

from config.catalogue import load_catalogue
from workqueue.models import ProcessRun

NOW = datetime(2026, 11, 5, 9, 0, tzinfo=UTC)
ROOT = Path(__file__).resolve().parents[2]


def _run(process_id, started, cases, automated, exceptions=None, status="completed"):
    return ProcessRun(process_id=process_id, run_id=f"{process_id}-{started:%Y%m%d%H%M}-{cases}",
                      started_at=started, finished_at=started, status=status, cases_total=cases,
                      cases_automated=automated, exceptions=exceptions or {}, summary={})


def _md_row(md: str, month: str) -> dict[str, str]:
    """The trend table's row for `month`, by process id (the columns are the processes' Norwegian
    names; processes of the history only, the others had no runs)."""
    lines = md.splitlines()
    header = next(line for line in lines if line.startswith("| Måned |"))
    row = next(line for line in lines if line.startswith(f"| {month} |"))
    cells = dict(zip([c.strip() for c in header.strip("|").split("|")], [c.strip() for c in row.strip("|").split("|")],
                     strict=True))
    ids = {d.name: d.id for d in load_catalogue(ROOT / "config" / "processes").values()}
    return {ids.get(k, k): v for k, v in cells.items() if ids.get(k, k) in ("Sum", *{r.process_id for r in HISTORY})}


HISTORY = [
    _run("nav-refund-offsetting", datetime(2026, 7, 3, 5, tzinfo=UTC), 999, 999),  # July: outside
    _run("nav-refund-offsetting", datetime(2026, 8, 3, 5, tzinfo=UTC), 1000, 800,
         {"GRADE": 120, "PAYMENT_WITHOUT_CLAIM": 80}),
    _run("nav-refund-offsetting", datetime(2026, 8, 31, 22, 30, tzinfo=UTC), 1100, 900,
         {"GRADE": 150, "DUPLICATE": 50}),
    _run("nav-refund-offsetting", datetime(2026, 9, 4, 5, tzinfo=UTC), 0, 0, status="failed"),
    _run("nav-refund-offsetting", datetime(2026, 10, 3, 5, tzinfo=UTC), 1200, 1000, {"GRADE": 200}),
    _run("nav-refund-offsetting", datetime(2026, 10, 20, 5, tzinfo=UTC), 50, 50, status="running"),
    _run("vehicle-data-collection", datetime(2026, 9, 1, 4, tzinfo=UTC), 500, 450,
         {"NOT_FOUND": 30, "DEREGISTERED": 20}),
    _run("invoice-attachment-upload", datetime(2026, 8, 10, 6, tzinfo=UTC), 300, 270, {"VOUCHER_NOT_FOUND": 30}),
    _run("invoice-attachment-upload", datetime(2026, 8, 11, 6, tzinfo=UTC), 200, 190, {"VOUCHER_LOCKED": 10}),
    _run("benefits-report", datetime(2026, 9, 1, 4, tzinfo=UTC), 3, 3),  # excluded by the rules
]


@pytest.fixture
def seeded(ops_settings):
    from workqueue.store import WorkQueueStore

    store = WorkQueueStore.from_settings(ops_settings)
    with store.session() as s:
        for run in HISTORY:
            s.add(ProcessRun(**{c.name: getattr(run, c.name) for c in ProcessRun.__table__.columns
                                if c.name != "id"}))
    yield ops_settings, store
    store.close()


def _report(settings, store):
    from flows.benefits_report.steps import run_benefits_report
    from flows.runtime import finish_run, open_run

    ctx = open_run("benefits-report", settings=settings, store=store)
    result = run_benefits_report(ctx, months=3, until="2026-10", now=NOW)
    finish_run(ctx, result.summary)
    return result


def _table(ws, header_row=4):
    headers = [c.value for c in ws[header_row]]
    rows = []
    for row in ws.iter_rows(min_row=header_row + 1, values_only=True):
        if row[0] is None:
            break
        rows.append(dict(zip(headers, row, strict=False)))
    return rows


def test_figures_match_the_hand_computation(seeded):
    settings, store = seeded
    result = _report(settings, store)
    report = result.report
    assert [m.month for m in report.months] == [8, 9, 10]
    nav = report.totals("nav-refund-offsetting")
    assert (nav.runs, nav.failed_runs, nav.cases, nav.automated) == (4, 1, 3300, 2700)
    assert nav.hours_saved == pytest.approx(270.0)
    assert nav.working_days_saved == pytest.approx(36.0)
    assert nav.share_automated == pytest.approx(2700 / 3300)
    assert dict(nav.exceptions) == {"GRADE": 470, "PAYMENT_WITHOUT_CLAIM": 80, "DUPLICATE": 50}
    sep = report.figures("nav-refund-offsetting", report.months[1])
    assert (sep.runs, sep.failed_runs, sep.cases, sep.automated) == (2, 1, 1100, 900)
    assert report.totals("vehicle-data-collection").hours_saved == pytest.approx(30.0)
    assert report.totals("invoice-attachment-upload").hours_saved == pytest.approx(23.0)
    assert [round(report.month_hours(m), 6) for m in report.months] == [103.0, 120.0, 100.0]
    assert report.total_hours() == pytest.approx(323.0)
    from flows.registry import load_definition

    excluded = set(load_definition("benefits-report", settings)[1].exclude_processes)
    assert {p.id for p in report.processes} == set(load_catalogue(settings.paths.processes_dir)) - excluded
    figures = result.summary.to_dict()
    assert figures["hours_saved"] == 323.0
    assert figures["working_days_saved"] == pytest.approx(43.07)
    assert figures["per_process"]["nav-refund-offsetting"]["working_days_saved"] == 36.0


def test_excel_shows_the_figures_with_charts(seeded):
    settings, store = seeded
    result = _report(settings, store)
    path = result.summary.outputs["gevinstrapport (Excel)"]
    wb = openpyxl.load_workbook(path)
    assert wb.sheetnames == ["Oppsummering", "Per måned", "Avvik per kategori", "Trend"]
    ws = wb["Oppsummering"]
    assert ws["A1"].value == "Gevinstrapport august 2026 – oktober 2026"
    summary = {r["Prosess"]: r for r in _table(ws)}
    nav = summary["Automatisk utligning av sykepengerefusjon fra NAV"]
    assert (nav["Saker"], nav["Automatisk"], nav["Avvik"]) == (3300, 2700, 600)
    assert nav["Andel automatisk"] == pytest.approx(0.8182, abs=1e-4)
    assert nav["Timer spart"] == pytest.approx(270.0)
    assert nav["Arbeidsdager spart"] == pytest.approx(36.0)
    assert nav["Arbeidsdager spart per måned (snitt)"] == pytest.approx(12.0)
    assert nav["Manuelle minutter per sak"] == 6
    assert summary["Sum"]["Timer spart"] == pytest.approx(323.0)
    assert summary["Sum"]["Arbeidsdager spart"] == pytest.approx(323.0 / 7.5)
    assert ws.cell(row=5, column=5).number_format == "0.0%"

    months = _table(wb["Per måned"])
    nav_sep = next(r for r in months if r["Prosess"].startswith("Automatisk utligning") and r["Måned"] == "september 2026")
    assert (nav_sep["Kjøringer"], nav_sep["Feilede kjøringer"], nav_sep["Saker"], nav_sep["Automatisk"]) == (2, 1, 1100, 900)
    assert nav_sep["Timer spart"] == pytest.approx(90.0)
    assert nav_sep["Endring timer fra forrige måned"] == pytest.approx(10.0)
    assert len(months) == len({r["Prosess"] for r in months}) * 3  # every process in every month, zeros included
    assert len({r["Prosess"] for r in months}) == len(summary) - 1  # the processes of the report (less the Sum row)

    exceptions = _table(wb["Avvik per kategori"])
    grade_sep = [r for r in exceptions if r["Kategori"] == "GRADE" and r["Måned"] == "september 2026"]
    assert grade_sep[0]["Antall"] == 150
    assert grade_sep[0]["Betydning"].startswith("Gradert sykmelding")

    trend = _table(wb["Trend"])
    assert [r["Måned"] for r in trend] == ["august 2026", "september 2026", "oktober 2026"]
    assert [r["Sum"] for r in trend] == pytest.approx([103.0, 120.0, 100.0])
    with zipfile.ZipFile(path) as z:
        charts = [n for n in z.namelist() if n.startswith("xl/charts/chart")]
        assert len(charts) == 2
        assert "Timer spart per måned" in z.read("xl/charts/chart1.xml").decode("utf-8")

    md = result.markdown
    assert "| **Sum** | | | | | **323,0** | **43,1** | |" in md
    # Invoices had no run in September: "–" with the note, not 0,0 (a gap, not a month of no benefit).
    assert _md_row(md, "september 2026") == {"invoice-attachment-upload": "–", "nav-refund-offsetting": "90,0",
                                             "vehicle-data-collection": "30,0", "Sum": "120,0"}
    assert "Automatisk utligning av sykepengerefusjon fra NAV" in md.split("## Timer spart per måned")[1]
    assert "Tom celle (–): ingen kjøringer i måneden" in md
    trend_rows = {r["Måned"]: r for r in _table(wb["Trend"])}
    invoices = next(d.name for d in load_catalogue(ROOT / "config" / "processes").values()
                    if d.id == "invoice-attachment-upload")
    assert trend_rows["september 2026"][invoices] is None and trend_rows["august 2026"][invoices] == 23.0


def test_process_without_runs_in_the_last_month_opens_one_case(seeded):
    settings, store = seeded
    first = _report(settings, store)
    # Invoices ran in August, are scheduled every working day, and recorded nothing in October.
    # Vehicles run only in Jan/May/Sep: no run in October is expected.
    assert first.summary.exceptions == {"NO_RUNS": 1}
    [row] = first.exception_rows
    assert row["prosess"] == "invoice-attachment-upload" and row["måned"] == "2026-10"
    [case] = store.cases("benefits-report", category="NO_RUNS")
    assert case.reference == "invoice-attachment-upload/2026-10"
    assert case.org_unit == "Økonomiseksjonen"
    assert "oktober 2026" in case.message
    assert case.due_at is not None
    _report(settings, store)  # the next run does not open it again
    assert len(store.cases("benefits-report", category="NO_RUNS")) == 1


def test_current_month_is_partial_and_default_window(ops_settings):
    from flows.benefits_report.report import window

    months = window(None, 12, datetime(2026, 11, 23, tzinfo=UTC))
    assert len(months) == 12 and (months[0].year, months[0].month) == (2025, 12)
    assert (months[-1].year, months[-1].month) == (2026, 11)


def test_bad_month_is_a_clear_error():
    from connectors.periods import parse_month

    with pytest.raises(ValueError, match="expected YYYY-MM"):
        parse_month("okt 2026")


def test_cli_json(seeded):
    import json

    from typer.testing import CliRunner

    from flows.benefits_report.cli import app

    result = CliRunner().invoke(app, ["--months", "3", "--until", "2026-10", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["process_id"] == "benefits-report"
    assert data["months"] == ["2026-08", "2026-09", "2026-10"]
    assert data["hours_saved"] == 323.0


@pytest.mark.prefect
def test_flow_publishes_the_report_for_the_operator(seeded, prefect_harness):
    from prefect import get_client
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterFlowRunId, ArtifactFilterKey

    from flows.benefits_report.flow import benefits_report

    data = benefits_report(months=3, until="2026-10")
    assert data["hours_saved"] == 323.0
    _, store = seeded
    [run] = [r for r in store.runs("benefits-report") if r.flow_run_id]
    assert run.status == "completed" and run.summary["hours_saved"] == 323.0
    with get_client(sync_client=True) as client:
        arts = {a.key: a for a in client.read_artifacts(artifact_filter=ArtifactFilter(
            key=ArtifactFilterKey(any_=["benefits-report-gevinster", "benefits-report-summary"]),
            flow_run_id=ArtifactFilterFlowRunId(any_=[run.flow_run_id])))}
    assert _md_row(arts["benefits-report-gevinster"].data, "september 2026")["Sum"] == "120,0"
    assert "Gevinstrapport for robotiserte prosesser" in arts["benefits-report-summary"].data


def test_rpa_benefits_is_the_generated_command_and_the_flow_takes_the_deployments_months(seeded):
    """`rpa benefits`, `rpa run benefits-report` and the flow come from one declaration: the same
    output and exit codes; the flow's `months` is a whole number (the deployment passes 12)."""
    import inspect

    from typer.testing import CliRunner

    from flows.benefits_report.flow import benefits_report
    from rpa.ops_cli import app

    done = CliRunner().invoke(app, ["benefits", "--months", "3", "--until", "2026-10"])
    assert done.exit_code == 0, done.output
    assert "Timer spart: 323.0" in done.output and "## Timer spart per måned" in done.output
    refused = CliRunner().invoke(app, ["benefits", "--until", "okt"])
    assert refused.exit_code == 2
    assert inspect.signature(benefits_report.fn).parameters["months"].annotation == int | None
