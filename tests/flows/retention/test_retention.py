"""The retention process with the clock moved forward (`as_of`), no sleeps: a real NAV run and
seeded invoice and vehicle files, then retention past each process's `retention_days`. What a
process owner and an auditor see: the files gone, closed cases without personal data (no valid
fnr left in their rows), open cases untouched, audit events kept, the dry run changing nothing."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from connectors.identifiers import FNR_PATTERN, valid_fnr
from flows.retention import steps
from rpa.deployments import PROJECT_ROOT
from tests.fixtures.nav_flow import claim, line
from workqueue.models import AuditEvent, ExceptionCase, WorkItem
from workqueue.retention import PURGED_MESSAGE
from workqueue.store import NewCase

NAV = "nav-refund-offsetting"
INV = "invoice-attachment-upload"
VEH = "vehicle-data-collection"
PAID = datetime(2026, 5, 4).date()


def fnrs(value) -> list[str]:
    text = json.dumps(value, ensure_ascii=False, default=str)
    return [m.group(0) for m in FNR_PATTERN.finditer(text) if valid_fnr(m.group(0))]


def tree(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def db_rows(store) -> list:
    with store.session() as s:
        return ([(c.id, c.status, c.message, c.evidence, c.search_text, c.decision) for c in s.scalars(
                    select(ExceptionCase).order_by(ExceptionCase.id))]
                + [(i.id, i.payload, i.result, i.last_error) for i in s.scalars(select(WorkItem).order_by(WorkItem.id))]
                + [(e.id, e.action, e.details) for e in s.scalars(select(AuditEvent).order_by(AuditEvent.id))])


def nav_offsetting(nav_run, run_name="run-1"):
    """A real NAV run whose outputs land in the data folder (output/<id>/<run>)."""
    from flows.nav_refund_offsetting.run import RunInputs, run_offsetting

    report = nav_run.report("1001", [line(1, 50_776), line(2, 25_388), line(3, 50_776), line(4, 12_000)],
                            value_date=PAID)
    claims = nav_run.claims([claim("K1", 1, 50_776.0), claim("K2", 2, 50_776.0, income=50_000.0),
                             claim("K3", 3, 50_000.0, income=50_000.0)])
    ctx = nav_run.ctx(out_dir=nav_run.data_dir / "output" / NAV / run_name)
    outcome = run_offsetting(ctx, RunInputs(report_files=[report], claims_file=claims))
    nav_run.store.finish_run(ctx.run_id, "completed", outcome.summary.cases_total, outcome.summary.automated,
                             outcome.summary.exceptions)
    return report, claims, outcome


def seed_invoice_files(settings, store):
    """The invoice robot's archive, quarantine and notes, as its workspace writes them; one
    quarantined file still has an open case."""
    data = settings.paths.data_dir
    day = "2026-12-02"
    archive = data / "archive" / INV / day
    quarantine = data / "quarantine" / INV / day
    notes = data / "work" / INV / "quarantine-index"
    for folder in (archive, quarantine, notes):
        folder.mkdir(parents=True, exist_ok=True)
    (archive / "12345_kvittering.pdf").write_bytes(b"%PDF-1.4 arkivert")
    (archive / "12345_kvittering.pdf.kvittering.json").write_text("{}", encoding="utf-8")
    waiting = quarantine / "ukjent bilag.pdf"
    waiting.write_bytes(b"%PDF-1.4 venter")
    (quarantine / "ukjent bilag.pdf.grunn.json").write_text("{}", encoding="utf-8")
    stale = quarantine / "gammel.pdf"
    stale.write_bytes(b"%PDF-1.4 avgjort")
    (quarantine / "gammel.pdf.grunn.json").write_text("{}", encoding="utf-8")
    (notes / "a.json").write_text(json.dumps({"reference": "fil:ukjent", "file": str(waiting),
                                              "grunn": f"{waiting}.grunn.json"}), encoding="utf-8")
    (notes / "b.json").write_text(json.dumps({"reference": "fil:gammel", "file": str(stale),
                                              "grunn": f"{stale}.grunn.json"}), encoding="utf-8")
    store.open_case(INV, "fil:ukjent", NewCase("UNKNOWN_TARGET", "Fant ikke bilaget for ukjent bilag.pdf"))
    return archive, quarantine, notes


def seed_vehicle_output(settings, store):
    run = settings.paths.data_dir / "output" / VEH / "20261202-060000-abcdef"
    run.mkdir(parents=True)
    (run / "klimarapport.xlsx").write_bytes(b"PK\x03\x04 rapport")
    case = store.open_case(VEH, "AB12345", NewCase("NOT_FOUND", "Kjennemerket AB12345 finnes ikke",
                                                  evidence={"data": {"plate": "AB12345"}}))
    store.decide(case.id, "flåte", "handled_manually", "Bilen er solgt")
    store.mark_decision_applied(case.id, "robot")
    return run, case


def decide_nav_cases(store):
    cases = store.cases(NAV)
    assert len(cases) >= 2, [c.category for c in cases]
    closed, still_open = cases[0], cases[1]
    store.decide(closed.id, "hr-1", "handled_manually", f"Ringte den ansatte, fnr {fnrs(closed.evidence)[0]}")
    store.mark_decision_applied(closed.id, "robot:nav-refund-offsetting")
    store.audit("hr-1", "fnr.revealed", NAV, case_id=closed.id, details={"reason": "kontroll"})
    return closed, still_open


def test_nav_data_leaves_after_its_retention_open_cases_stay(nav_run):
    store, settings = nav_run.store, nav_run.settings
    report, claims, first = nav_offsetting(nav_run)
    closed, still_open = decide_nav_cases(store)
    assert fnrs(store.get_case(closed.id).evidence), "the NAV case holds the clear fnr before retention"
    seed_invoice_files(settings, store)
    archived = list((settings.paths.data_dir / "archive" / NAV).rglob("*.csv"))
    assert len(archived) == 1
    open_before = db_rows(store)

    # 300 days on: nothing of NAV is due yet (kept 395 days).
    soon = datetime.now(UTC) + timedelta(days=300)
    plan = steps.dry_run(settings, as_of=soon, store=store)
    assert all(p.counts()["files"] == 0 and p.counts()["cases"] == 0 for p in plan.processes)

    # 396 days on: the dry run lists NAV's run folder, archived report and closed case; changes nothing.
    later = datetime.now(UTC) + timedelta(days=396)
    files_before = tree(settings.paths.data_dir)
    plan = steps.dry_run(settings, as_of=later, store=store)
    listed = plan.to_dict()
    nav = next(p for p in listed["processes"] if p["process"] == NAV)
    assert nav["folders"] == 1 and nav["cases"] == 1 and nav["items"] == 1
    assert f"output/{NAV}/run-1" in nav["paths"] and any(p.startswith(f"archive/{NAV}/rapporter/") for p in nav["paths"])
    assert next(p for p in listed["processes"] if p["process"] == INV)["files"] == 0  # kept 3650 days
    assert not fnrs(listed)
    assert tree(settings.paths.data_dir) == files_before and db_rows(store) == open_before

    result = steps.run_and_finish(as_of=later, settings=settings, store=store, allow_future=True)
    figures = result.summary.figures
    assert figures["per_process"][NAV]["saker_renset"] == 1 and figures["files_deleted"] >= 2
    assert not (settings.paths.data_dir / "output" / NAV / "run-1").exists()
    assert not archived[0].exists()
    assert (settings.paths.data_dir / "archive" / INV).exists()  # invoices are kept 10 years
    report_md = Path(result.summary.outputs["slettelogg (Markdown)"])
    assert report_md.exists() and "| nav-refund-offsetting | 395 |" in report_md.read_text(encoding="utf-8")

    # The closed case: evidence replaced by the marker, no valid fnr left in its rows.
    case = store.get_case(closed.id)
    assert case.evidence["grunn"] == "oppbevaringstid" and case.message == PURGED_MESSAGE
    assert case.status == "resolved" and case.decision["action"] == "handled_manually"
    events = store.audit_trail(case_id=closed.id)
    assert {"case.opened", "case.decided", "fnr.revealed"} <= {e.action for e in events}
    assert not fnrs([case.reference, case.org_unit, case.evidence, case.message, case.search_text, case.decision,
                     [e.details for e in events]])
    item = store.get_item(case.item_id) if case.item_id else store.items(NAV)[0]
    assert not fnrs([item.payload, item.result])
    assert "maksdato" not in (item.result or {}) and "offset_fps" not in (item.result or {})
    # The open case is untouched; the run's row and the figures stay.
    assert store.get_case(still_open.id).evidence == next(r[3] for r in open_before if r[0] == still_open.id)
    assert fnrs(store.get_case(still_open.id).evidence)
    assert [r.status for r in store.runs(NAV)] == ["completed"]
    assert any(e.action == "retention.purged" for e in store.audit_trail())

    # NAV still knows the report: the same file again is "already offset", nothing twice.
    from flows.nav_refund_offsetting.run import RunInputs, run_offsetting

    again = run_offsetting(nav_run.ctx(), RunInputs(report_files=[report], claims_file=claims))
    assert again.summary.figures["already_offset"] == ["1001"] and again.summary.figures["offset"] == 0


def test_invoice_and_vehicle_files_past_retention_quarantine_of_an_open_case_stays(nav_run):
    store, settings = nav_run.store, nav_run.settings
    archive, quarantine, notes = seed_invoice_files(settings, store)
    vehicle_run, vehicle_case = seed_vehicle_output(settings, store)
    unknown = settings.paths.data_dir / "output" / "old-process" / "run-0"
    unknown.mkdir(parents=True)
    (unknown / "rapport.csv").write_text("x", encoding="utf-8")
    # A run still going: its folder stays whatever its age.
    store.start_run(VEH, "20261202-070000-running")
    running = settings.paths.data_dir / "output" / VEH / "20261202-070000-running"
    running.mkdir(parents=True)
    (running / "delvis.xlsx").write_bytes(b"PK")

    ten_years = datetime.now(UTC) + timedelta(days=3651)
    result = steps.run_and_finish(as_of=ten_years, settings=settings, store=store, allow_future=True)
    assert not (archive / "12345_kvittering.pdf").exists() and not archive.exists()
    assert not (quarantine / "gammel.pdf").exists() and not (notes / "b.json").exists()
    assert (quarantine / "ukjent bilag.pdf").exists() and (quarantine / "ukjent bilag.pdf.grunn.json").exists()
    assert (notes / "a.json").exists()
    assert not vehicle_run.exists() and running.exists()
    # Vehicles hold no personal data: their closed case stays readable.
    assert store.get_case(vehicle_case.id).message == "Kjennemerket AB12345 finnes ikke"
    # Data of a process not in the catalogue is kept and reported once.
    assert unknown.exists() and result.plan.unknown == ["old-process"]
    assert result.summary.exceptions == {"UNKNOWN_PROCESS": 1}
    steps.run_and_finish(as_of=ten_years, settings=settings, store=store, allow_future=True)
    [case] = store.cases("retention", category="UNKNOWN_PROCESS")
    assert "old-process" in case.message and "ingenting av den er slettet" in case.message
    assert result.summary.figures["per_process"][INV]["beholdt_i_bruk"] >= 2


def test_a_future_date_deletes_nothing_without_dry_run(nav_run):
    with pytest.raises(ValueError, match="ligger fram i tid"):
        steps.run_and_finish(as_of=datetime.now(UTC) + timedelta(days=30), settings=nav_run.settings,
                             store=nav_run.store)
    assert [r.status for r in nav_run.store.runs("retention")] == ["failed"]
    assert steps.parse_as_of("31.12.2027") == steps.parse_as_of("2027-12-31")
    with pytest.raises(ValueError, match="er ikke en dato"):
        steps.parse_as_of("neste år")


def test_cli_dry_run_lists_and_refuses_a_future_date(ops_settings):
    from typer.testing import CliRunner

    from rpa.ops_cli import app as ops_app

    data = ops_settings.paths.data_dir
    out = data / "output" / "sla-monitor" / "20250101-000000-aaaaaa"
    out.mkdir(parents=True)
    (out / "varsler.json").write_text("[]", encoding="utf-8")
    old = datetime(2025, 1, 1).timestamp()
    os.utime(out / "varsler.json", (old, old))
    os.utime(out, (old, old))

    listed = CliRunner().invoke(ops_app, ["retention", "--dry-run", "--as-of", "2026-03-01", "--json"])
    assert listed.exit_code == 0, listed.output
    rows = {p["process"]: p for p in json.loads(listed.output)["processes"]}
    assert rows["sla-monitor"]["paths"] == ["output/sla-monitor/20250101-000000-aaaaaa"]
    assert rows["sla-monitor"]["folders"] == 1 and out.exists()
    refused = CliRunner().invoke(ops_app, ["retention", "--as-of", "2099-01-01"])
    assert refused.exit_code == 2 and "ligger fram i tid" in refused.output

    # `rpa run retention` is mounted like every process (a real `rpa` process).
    env = {**os.environ, "RPA_PATHS__DATA_DIR": str(data)}
    env.pop("RPA_DATABASE__URL", None)
    text = subprocess.run([sys.executable, "-m", "rpa", "run", "retention", "--dry-run", "--as-of", "01.03.2026"],
                          cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert text.returncode == 0, text.stderr
    assert "Tørrkjøring" in text.stdout and "output/sla-monitor/20250101-000000-aaaaaa" in text.stdout
    assert out.exists()

    done = CliRunner().invoke(ops_app, ["retention", "--json"])
    assert done.exit_code == 0, done.output
    assert json.loads(done.output)["folders_deleted"] == 1 and not out.exists()


@pytest.mark.prefect
def test_flow_through_prefect_dry_run_then_removes(ops_settings, prefect_harness):
    from prefect import get_client
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterFlowRunId, ArtifactFilterKey

    from flows.retention.flow import retention
    from workqueue.store import WorkQueueStore

    out = ops_settings.paths.data_dir / "output" / "benefits-report" / "20140101-060000-aaaaaa"
    out.mkdir(parents=True)
    (out / "gevinstrapport.md").write_text("# Gevinster", encoding="utf-8")
    old = datetime(2014, 1, 1).timestamp()
    for path in (out / "gevinstrapport.md", out):
        os.utime(path, (old, old))

    plan = retention(dry_run=True)
    assert {p["process"]: p["folders"] for p in plan["processes"]}["benefits-report"] == 1 and out.exists()
    data = retention()
    assert data["folders_deleted"] == 1 and data["per_process"]["benefits-report"]["mapper_slettet"] == 1
    assert not out.exists()
    store = WorkQueueStore.from_settings(ops_settings)
    [run] = store.runs("retention")
    assert run.status == "completed" and run.flow_run_id
    store.close()
    with get_client(sync_client=True) as client:
        [art] = client.read_artifacts(artifact_filter=ArtifactFilter(
            key=ArtifactFilterKey(any_=["retention-sletting"]), flow_run_id=ArtifactFilterFlowRunId(any_=[run.flow_run_id])))
    assert "benefits-report" in json.dumps(art.data, ensure_ascii=False)


def test_the_case_page_of_a_cleared_case_says_so_and_shows_no_person(review_env):
    from tests.fixtures.review import FNR_A
    from workqueue import retention as db

    env = review_env
    case = env.nav_case()
    env.store.decide(case.id, "kari", "handled_manually", "Avklart med Kari Hansen på telefon")
    env.store.mark_decision_applied(case.id, "robot:nav-refund-offsetting")
    as_of = datetime.now(UTC) + timedelta(days=396)
    from flows.registry import catalogue

    keep = steps.keep_keys(catalogue()[NAV])
    assert db.purge(env.store, NAV, as_of - timedelta(days=395), as_of, keep=keep).cases == 1
    html = env.client("kari").get(f"/saker/{case.id}").text
    assert "Slettet etter oppbevaringstid" in html and "fordi oppbevaringstiden" in html
    for gone in ("Kari Hansen", "HANSEN KARI", "Hansen Kari", FNR_A, FNR_A[:6] + "*****", "på telefon"):
        assert gone not in html, gone
    assert "Behandlet manuelt" in html  # the decision's action stays
