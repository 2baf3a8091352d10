"""SLA monitor: overdue cases and missed runs reach the owner through a real local SMTP server
and a webhook receiver, each problem once; failed deliveries become operator cases."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import update

from workqueue.models import ExceptionCase, ProcessRun
from workqueue.store import NewCase, WorkQueueStore, utcnow


@pytest.fixture
def alerting(ops_settings, smtp_server, webhook_receiver, monkeypatch):
    from config.settings import get_settings

    monkeypatch.setenv("RPA_ALERTS__SMTP_HOST", smtp_server.host)
    monkeypatch.setenv("RPA_ALERTS__SMTP_PORT", str(smtp_server.port))
    monkeypatch.setenv("RPA_ALERTS__WEBHOOK_URL", webhook_receiver.url)
    monkeypatch.setenv("RPA_ALERTS__MAIL_FROM", "robot@kommune.example")
    monkeypatch.setenv("RPA_ALERTS__OPERATOR_EMAIL", "drift@kommune.example")
    get_settings.cache_clear()
    settings = get_settings()
    store = WorkQueueStore.from_settings(settings)
    yield settings, store, smtp_server, webhook_receiver
    store.close()
    get_settings.cache_clear()


def _case(store, process_id, category, hours_overdue, org_unit="Bydel Frogner", reference=None):
    case = store.open_case(process_id, reference or f"ref-{category}-{hours_overdue}",
                           NewCase(category, "Avvik 01018012345", sla_hours=24, org_unit=org_unit))
    with store.session() as s:
        s.execute(update(ExceptionCase).where(ExceptionCase.id == case.id)
                  .values(due_at=utcnow() - timedelta(hours=hours_overdue)))
    return case.id


def _monitor(settings, store, **kw):
    from flows.runtime import finish_run, open_run
    from flows.sla_monitor.steps import run_sla_monitor

    ctx = open_run("sla-monitor", settings=settings, store=store)
    result = run_sla_monitor(ctx, check_prefect=kw.pop("check_prefect", False), **kw)
    finish_run(ctx, result.summary)
    return result


def test_overdue_cases_reach_the_owner_once(alerting):
    settings, store, smtp, hook = alerting
    late = _case(store, "nav-refund-offsetting", "GRADE", 50)
    later = _case(store, "nav-refund-offsetting", "DUPLICATE", 3)
    _case(store, "nav-refund-offsetting", "GRADE", -10)  # not due yet
    done = _case(store, "nav-refund-offsetting", "GRADE", 80)
    store.decide(done, "hr", "dismiss", "ok")  # closed: no alert

    result = _monitor(settings, store)
    assert result.summary.cases_total == 1 and result.summary.automated == 1
    assert result.summary.figures["overdue_cases"] == 2
    [msg] = smtp.wait_for(1)
    assert msg["To"] == "refusjon@kommune.example"
    assert msg["Subject"] == ("[RPA] 2 avvikssaker over fristen: Automatisk utligning av sykepengerefusjon "
                              "fra NAV")
    body = msg.get_content()
    assert f"- Sak {late}: GRADE (Gradert sykmelding" in body
    assert "2 døgn over fristen" in body
    assert f"- Sak {later}: DUPLICATE" in body and "3 t over fristen" in body
    assert "Bydel Frogner" in body
    assert "/saker?prosess=nav-refund-offsetting" in body
    assert "01018012345" not in body and f"Sak {done}" not in body
    [payload] = hook.received
    assert payload["kind"] == "case_sla" and payload["details"]["case_ids"] == [late, later]

    # The case's history shows the alert; the next run sends nothing new.
    trail = [e.action for e in store.audit_trail(case_id=late)]
    assert "alert.sent" in trail
    again = _monitor(settings, store)
    assert again.alerts == [] and len(smtp.messages) == 1 and len(hook.received) == 1

    # A case that becomes overdue later is alerted on its own.
    newer = _case(store, "nav-refund-offsetting", "GRADE", 1, reference="ref-new")
    third = _monitor(settings, store)
    assert len(third.alerts) == 1 and third.alerts[0].details["case_ids"] == [newer]
    assert smtp.wait_for(2)[1]["Subject"].startswith("[RPA] 1 avvikssak over fristen")


def test_missed_scheduled_run_is_alerted_to_owner_and_operator(alerting):
    settings, store, smtp, _hook = alerting
    # NAV runs 07:00 on the 3rd (Europe/Oslo). It ran in October, not in November.
    with store.session() as s:
        s.add(ProcessRun(process_id="nav-refund-offsetting", run_id="oct", status="completed",
                         started_at=datetime(2026, 10, 3, 5, 0, tzinfo=UTC), cases_total=1, cases_automated=1,
                         exceptions={}, summary={}))
    now = datetime(2026, 11, 3, 8, 30, tzinfo=UTC)  # 09:30 in Oslo: 2.5 h after the planned start
    result = _monitor(settings, store, now=now)
    [alert] = [a for a in result.alerts if a.kind == "run_missing"]
    assert alert.key == "missed:nav-refund-offsetting:2026-11-03T06:00:00+00:00"
    [msg] = smtp.wait_for(1)
    assert msg["Subject"] == "[RPA] Planlagt kjøring mangler: Automatisk utligning av sykepengerefusjon fra NAV"
    assert msg["To"] == "refusjon@kommune.example, drift@kommune.example"
    assert "skulle «Automatisk utligning av sykepengerefusjon fra NAV» ha kjørt 03.11.2026 kl. 07:00" in msg.get_content()
    assert _monitor(settings, store, now=now + timedelta(minutes=15)).alerts == []  # once

    # Within the grace period nothing is missing yet; a process never run is not "missing".
    with store.session() as s:
        s.add(ProcessRun(process_id="nav-refund-offsetting", run_id="dec", status="completed",
                         started_at=datetime(2026, 12, 3, 6, 0, 30, tzinfo=UTC), cases_total=1,
                         cases_automated=1, exceptions={}, summary={}))
    quiet = _monitor(settings, store, now=datetime(2026, 12, 3, 6, 30, tzinfo=UTC))
    assert [a for a in quiet.alerts if a.kind == "run_missing"] == []


def test_failed_delivery_opens_an_operator_case_and_is_retried(alerting):
    settings, store, smtp, hook = alerting
    smtp.refuse.add("refusjon@kommune.example")
    hook.script = [400]
    case_id = _case(store, "nav-refund-offsetting", "GRADE", 5)

    first = _monitor(settings, store)
    assert first.summary.automated == 0 and first.summary.exceptions == {"ALERT_NOT_DELIVERED": 1}
    [op_case] = store.cases("sla-monitor", category="ALERT_NOT_DELIVERED")
    assert op_case.kind == "system"
    assert "email" in op_case.message and "HTTP 400" in op_case.message
    assert "alert.sent" not in [e.action for e in store.audit_trail(case_id=case_id)]

    smtp.refuse.clear()  # the mailbox is fixed; the next run delivers
    second = _monitor(settings, store)
    assert second.summary.automated == 1
    assert len(smtp.wait_for(1)) == 1
    assert len(store.cases("sla-monitor", category="ALERT_NOT_DELIVERED")) == 1  # not opened twice


def test_without_any_channel_one_operator_case(ops_settings):
    store = WorkQueueStore.from_settings(ops_settings)
    _case(store, "vehicle-data-collection", "NOT_FOUND", 2)
    result = _monitor(ops_settings, store)
    assert result.summary.exceptions == {"NO_ALERT_CHANNEL": 1}
    _monitor(ops_settings, store)
    [case] = store.cases("sla-monitor", category="NO_ALERT_CHANNEL")
    assert "RPA_ALERTS__SMTP_HOST" in case.message
    store.close()


def test_dry_run_sends_nothing(alerting):
    settings, store, smtp, hook = alerting
    _case(store, "nav-refund-offsetting", "GRADE", 5)
    result = _monitor(settings, store, dry_run=True)
    assert len(result.alerts) == 1 and result.rows[0]["status"] == "tørrkjøring"
    assert smtp.messages == [] and hook.received == []


@pytest.mark.prefect
def test_failed_and_late_runs_in_prefect_are_alerted(alerting, prefect_harness):
    """Runs of a catalogue deployment that Prefect has as Failed or Late, seen through the API,
    alerted from inside the sla-monitor flow with artifacts for the operator."""
    from prefect import get_client
    from prefect.states import Failed, Late, Scheduled

    settings, store, smtp, hook = alerting
    with get_client(sync_client=True) as client:
        flow_id = client.create_flow_from_name("sla-test-flow")
        deployment_id = client.create_deployment(flow_id=flow_id, name="invoice-attachment-upload",
                                                 tags=["rpa", "invoice-attachment-upload"],
                                                 entrypoint="nowhere.py:flow")
        failed = client.create_flow_run_from_deployment(deployment_id)
        client.set_flow_run_state(failed.id, Failed(message="Feil for 01018012345"), force=True)
        past = datetime.now(UTC) - timedelta(minutes=30)
        late = client.create_flow_run_from_deployment(deployment_id, state=Scheduled(scheduled_time=past))
        client.set_flow_run_state(late.id, Late(scheduled_time=past), force=True)

    from flows.sla_monitor.flow import sla_monitor

    data = sla_monitor()
    assert data["failed_runs"] >= 1 and data["late_runs"] >= 1, data
    by_run = {m["X-RPA-Alert-Key"]: m for m in smtp.wait_for(2)}
    failed_mail = by_run[f"run:{failed.id}:FAILED"]
    assert failed_mail["Subject"] == "[RPA] Kjøringen feilet (Failed): Opplasting av underbilag i økonomisystemet"
    assert failed_mail["To"] == "regnskap@kommune.example, drift@kommune.example"
    body = failed_mail.get_content()
    assert "Feil for 010180*****" in body and "01018012345" not in body
    assert f"/runs/flow-run/{failed.id}" in body
    late_mail = by_run[f"run:{late.id}:LATE"]
    assert late_mail["Subject"].startswith("[RPA] Planlagt kjøring har ikke startet")

    [run] = [r for r in store.runs("sla-monitor") if r.flow_run_id]
    with get_client(sync_client=True) as client:
        from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterFlowRunId, ArtifactFilterKey

        arts = client.read_artifacts(artifact_filter=ArtifactFilter(
            key=ArtifactFilterKey(any_=["sla-monitor-summary", "sla-monitor-exceptions"]),
            flow_run_id=ArtifactFilterFlowRunId(any_=[run.flow_run_id])))
    by_key = {a.key: a for a in arts}
    assert "Varsling om fristbrudd" in by_key["sla-monitor-summary"].data
    table = str(by_key["sla-monitor-exceptions"].data)  # one row per alert, with its delivery status
    assert "run_failed" in table and "sendt" in table and "01018012345" not in table

    # The next run does not alert the same runs again.
    sla_monitor()
    keys = [m["X-RPA-Alert-Key"] for m in smtp.messages]
    assert keys.count(f"run:{failed.id}:FAILED") == 1 and keys.count(f"run:{late.id}:LATE") == 1


def test_rpa_alerts_dry_run_is_the_generated_command(alerting):
    """`rpa alerts --dry-run` and `rpa run sla-monitor --dry-run` are the declaration's command:
    `dry_run` is a flag, and nothing is sent."""
    import inspect

    from typer.testing import CliRunner

    from flows.sla_monitor.flow import sla_monitor
    from rpa.ops_cli import app

    settings, store, smtp, hook = alerting
    result = CliRunner().invoke(app, ["alerts", "--dry-run"])
    assert result.exit_code == 0, result.output
    assert store.runs("sla-monitor")[-1].summary["dry_run"] is True
    assert inspect.signature(sla_monitor.fn).parameters["dry_run"].default is False
