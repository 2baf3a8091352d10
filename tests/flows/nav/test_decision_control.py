"""Internal control when a run applies decisions: every pending decision is checked again against
the process's declared actions and the definition's approval limits. A decision written straight
into the store that is out of bounds, unapproved or stale posts nothing and opens a system case
naming why; `--json` reports decisions_applied and decisions_refused. A reviewer's retry is applied
exactly once."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import date
from pathlib import Path

from tests.fixtures.nav_flow import claim, line

PAID = date(2026, 5, 4)
NAV = "nav-refund-offsetting"
RPA = Path(sys.executable).with_name("rpa")


def _first_run(nav_run):
    report = nav_run.report("1001", [line(1, 50_776), line(2, 25_388), line(3, 50_776)], value_date=PAID)
    claims = nav_run.claims([claim("K1", 1, 50_776.0), claim("K2", 2, 50_776.0, income=50_000.0),
                             claim("K3", 3, 50_000.0, income=50_000.0)])
    nav_run.run(report_files=[report], claims_file=claims)
    return report, claims


def test_out_of_bounds_and_unapproved_decisions_post_nothing_and_open_a_system_case_each(nav_run):
    report, claims = _first_run(nav_run)
    grade = nav_run.cases("GRADE")[0]
    assert grade.evidence["data"]["nav_ore"] == 2_538_800
    # Out of bounds: more than NAV paid (the amount HR once typed by mistake).
    nav_run.store.decide(grade.id, "hr.kari", "approve_nav_amount", "Godkjent", {"amount": 99_999_999.0})
    outcome = nav_run.run(report_files=[report], claims_file=claims)
    assert len(nav_run.journal(outcome)) == 0
    figures = outcome.summary.figures
    assert figures["decisions_applied"] == 0
    [refused] = figures["decisions_refused"]
    assert refused["case_id"] == grade.id and "over grensen" in refused["reasons"][0]
    assert "25 388,00" in refused["reasons"][0]  # the bound named: what NAV paid
    fresh = nav_run.store.get_case(grade.id)
    assert fresh.status == "open" and fresh.decision is None and fresh.decision_applied_at is None
    [system] = nav_run.cases("DECISION_REFUSED")
    assert system.kind == "system" and f"sak {grade.id}" in system.message and "over grensen" in system.message
    trail = [e.action for e in nav_run.store.audit_trail(case_id=grade.id)]
    assert "case.decision_refused" in trail

    # Unapproved: within bounds, but other than NAV's amount -> needs an attestant; none approved it.
    nav_run.store.decide(grade.id, "hr.kari", "approve_nav_amount", "Litt mindre", {"amount": 20_000.0})
    outcome = nav_run.run(report_files=[report], claims_file=claims)
    assert len(nav_run.journal(outcome)) == 0
    [refused] = outcome.summary.figures["decisions_refused"]
    assert "krever godkjenning av en attestant" in refused["reasons"][0]
    assert len(nav_run.cases("DECISION_REFUSED")) == 2

    # The same decision, approved by a second person, is posted by the next run.
    nav_run.store.decide(grade.id, "hr.kari", "approve_nav_amount", "Litt mindre", {"amount": 20_000.0},
                         needs_approval=True)
    assert nav_run.store.get_case(grade.id).status == "pending_approval"
    assert nav_run.store.pending_decisions(NAV) == []  # waits; not refused, not applied
    nav_run.store.approve_decision(grade.id, "hr.atle", "Kontrollert")
    outcome = nav_run.run(report_files=[report], claims_file=claims)
    journal = nav_run.journal(outcome)
    assert list(journal.utbetalt_belop) == ["20000,00"]
    assert outcome.summary.figures["decisions_applied"] == 1


def test_a_decision_edited_in_the_database_is_stale_and_refused(nav_run):
    report, claims = _first_run(nav_run)
    grade = nav_run.cases("GRADE")[0]
    nav_run.store.decide(grade.id, "hr.kari", "approve_nav_amount", "Godkjent", {"amount": 25_388.0})
    from workqueue.models import ExceptionCase

    with nav_run.store.session() as s:  # someone changes the evidence after the decision
        row = s.get(ExceptionCase, grade.id)
        row.evidence = {**row.evidence, "data": {**row.evidence["data"], "nav_ore": 9_999_900}}
    outcome = nav_run.run(report_files=[report], claims_file=claims)
    assert len(nav_run.journal(outcome)) == 0
    [refused] = outcome.summary.figures["decisions_refused"]
    assert "endret etter at beslutningen ble tatt" in refused["reasons"][0]


def test_a_reviewers_retry_is_applied_exactly_once(nav_run):
    from workqueue.store import Backoff, NewItem

    item, _ = nav_run.store.add(NAV, NewItem("rapport:x"))
    nav_run.store.claim(NAV, limit=1)
    case = nav_run.store.system_exception(item.id, "503 fra NAV", Backoff(max_attempts=1))
    nav_run.store.decide(case.id, "drift.ola", "retry", "NAV er oppe igjen")  # what the review app stores
    assert nav_run.store.get_item(item.id).status == "failed"  # nothing executed by storing it

    from flows.nav_refund_offsetting.run import apply_decisions

    ctx = nav_run.ctx()
    first = apply_decisions(ctx)
    assert first.applied == 1 and first.requeued == ["rapport:x"] and first.refused == []
    assert nav_run.store.get_item(item.id).status == "new"
    requeues = [e for e in nav_run.store.audit_trail(item_id=item.id) if e.action == "item.requeued"]
    assert len(requeues) == 1
    assert nav_run.store.get_case(case.id).decision_applied_at is not None
    second = apply_decisions(nav_run.ctx())  # a later run: nothing pending, nothing raised
    assert second.applied == 0
    assert len([e for e in nav_run.store.audit_trail(item_id=item.id) if e.action == "item.requeued"]) == 1


def test_cli_json_reports_decisions_applied_and_refused(nav_run, tmp_path):
    data_dir = tmp_path / "cli-data"
    env = {**os.environ, "RPA_PATHS__DATA_DIR": str(data_dir)}
    report = nav_run.report("2001", [line(1, 50_776), line(2, 25_388)], value_date=PAID)
    claims = nav_run.claims([claim("K1", 1, 50_776.0), claim("K2", 2, 50_776.0, income=50_000.0)])
    args = [str(RPA), "run", NAV, "--report", str(report), "--claims", str(claims), "--json"]
    first = subprocess.run([*args, "--out", str(tmp_path / "u1")], capture_output=True, text=True, env=env,
                           timeout=180)
    assert first.returncode == 0, first.stderr
    from workqueue.store import WorkQueueStore

    store = WorkQueueStore(f"sqlite:///{data_dir / 'workqueue.db'}")
    try:
        grade = store.cases(NAV, category="GRADE")[0]
        store.decide(grade.id, "hr.kari", "approve_nav_amount", "feil", {"amount": -5.0})
    finally:
        store.close()
    second = subprocess.run([*args, "--out", str(tmp_path / "u2")], capture_output=True, text=True, env=env,
                            timeout=180)
    assert second.returncode == 0, second.stderr
    data = json.loads(second.stdout)
    assert data["decisions_applied"] == 0
    [refused] = data["decisions_refused"]
    assert refused["case_id"] == grade.id and refused["action"] == "approve_nav_amount"
    assert "kan ikke være" in refused["reasons"][0]
