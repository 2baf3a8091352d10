"""Tjenestebevis beside the other processes, read where a person reads it (issue #15): its row in
the benefits workbook, the SLA alert HR gets when one of its cases passes its SLA, and its row in
the demo's result table. One run of `rpa run tjenestebevis` on the seeded HR exports feeds all
three, through the shared code only (no edit for this process)."""

from __future__ import annotations

import json
import uuid
from datetime import timedelta

import openpyxl
import pytest
from sqlalchemy import update
from typer.testing import CliRunner

from connectors.identifiers import FNR_PATTERN
from workqueue.models import ExceptionCase, ProcessRun
from workqueue.store import WorkQueueStore, utcnow

PID = "tjenestebevis"
NAME = "Utstedelse av tjenestebevis"  # the definition's name: what the workbook and the alert say


@pytest.fixture
def ran(ops_settings, tmp_path):
    """One run on the seeded exports, in a data folder (and store) of the test's own."""
    from flows.tjenestebevis.cli import app
    from sandbox.hr.seed import seed

    written = seed(ops_settings.paths.data_dir, seed=7)
    result = CliRunner().invoke(app, ["--requests", str(written["requests"]), "--employment",
                                      str(written["employment"]), "--out", str(tmp_path / "ut"), "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["issued"] and data["exceptions"], data  # both letters and cases to see
    store = WorkQueueStore.from_settings(ops_settings)
    yield ops_settings, store, data
    store.close()


def test_its_row_in_the_benefits_workbook(ran):
    from flows.benefits_report.steps import run_benefits_report
    from flows.runtime import finish_run, open_run

    settings, store, data = ran
    ctx = open_run("benefits-report", settings=settings, store=store)
    result = run_benefits_report(ctx, months=1)
    finish_run(ctx, result.summary)
    wb = openpyxl.load_workbook(result.summary.outputs["gevinstrapport (Excel)"])
    ws = wb["Oppsummering"]
    headers = [c.value for c in ws[4]]
    rows = {r[0]: dict(zip(headers, r, strict=False)) for r in ws.iter_rows(min_row=5, values_only=True) if r[0]}
    row = rows[NAME]
    cases, to_hr = data["requests"], sum(data["exceptions"].values())
    automated = cases - to_hr  # letters issued, and requests repeated with the letter already sent
    assert automated > data["issued"], "the seed has a repeated request: it needs no person"
    assert (row["Saker"], row["Automatisk"], row["Avvik"]) == (cases, automated, to_hr)
    assert row["Manuelle minutter per sak"] == 20  # the definition's baseline: 20 minutes per certificate
    assert row["Timer spart"] == pytest.approx(automated * 20 / 60)
    assert row["Andel automatisk"] == pytest.approx(automated / cases, abs=1e-4)


def test_the_sla_alert_hr_gets_for_a_case_past_its_sla(ran, smtp_server, webhook_receiver, monkeypatch):
    from config.settings import get_settings
    from flows.runtime import finish_run, open_run
    from flows.sla_monitor.steps import run_sla_monitor

    _settings, store, _data = ran
    monkeypatch.setenv("RPA_ALERTS__SMTP_HOST", smtp_server.host)
    monkeypatch.setenv("RPA_ALERTS__SMTP_PORT", str(smtp_server.port))
    monkeypatch.setenv("RPA_ALERTS__WEBHOOK_URL", webhook_receiver.url)
    get_settings.cache_clear()
    settings = get_settings()
    case = next(c for c in store.cases(PID) if c.category == "INCONSISTENT_RECORDS")
    with store.session() as s:  # 72 h SLA, opened three and a half days ago
        s.execute(update(ExceptionCase).where(ExceptionCase.id == case.id).values(due_at=utcnow() - timedelta(hours=12)))
    ctx = open_run("sla-monitor", settings=settings, store=store)
    result = run_sla_monitor(ctx, check_prefect=False)
    finish_run(ctx, result.summary)

    [msg] = smtp_server.wait_for(1)
    assert msg["To"] == "hr-tjenestebevis@kommune.example"  # the definition's owner
    assert msg["Subject"] == f"[RPA] 1 avvikssak over fristen: {NAME}"
    body = msg.get_content()
    assert f"- Sak {case.id}: INCONSISTENT_RECORDS (Arbeidsforholdene henger ikke sammen" in body, body
    assert "12 t over fristen" in body and f"/saker?prosess={PID}" in body
    person = (case.evidence or {}).get("data", {}).get("navn")
    assert person and person not in body, "no name in an e-mail"
    assert not FNR_PATTERN.search(body.replace(" ", ""))
    [payload] = webhook_receiver.received
    assert payload["kind"] == "case_sla" and payload["details"]["case_ids"] == [case.id]


def test_its_row_in_the_demo_table(ran):
    from rpa.demo import Demo, DemoResult, RunOutcome

    settings, store, data = ran
    flow_run_id = str(uuid.uuid4())  # the demo finds a run by its Prefect flow run
    with store.session() as s:
        s.execute(update(ProcessRun).where(ProcessRun.process_id == PID).values(flow_run_id=flow_run_id))
    lines: list[str] = []
    demo = Demo(settings, echo=lines.append)
    outcome = RunOutcome(PID, flow_run_id, state="COMPLETED", state_name="Fullført med avvik")
    demo.collect(store, [outcome])
    demo.print_result(DemoResult([outcome], {}, None, None, []))

    cases, automated = data["requests"], data["requests"] - sum(data["exceptions"].values())
    [row] = [line for line in lines if line.startswith(f"{PID} ")]
    assert row.split() == [PID, "Completed", "Fullført", "med", "avvik", str(cases), str(automated),
                           f"{automated / cases:.1%}"], row
    assert any(line.strip().startswith(f"{PID}") and "tjenestebevis.xlsx" in line for line in lines), lines
