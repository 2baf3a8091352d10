"""The SLA monitor's run: find problems, alert each once, record what was sent.
Plain functions on a RunContext (CLI, tests and benchmarks run it without Prefect)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from connectors.notify import Alert, DeliveryReport, Notifier
from flows.kit import RunContext, RunSummary, get_logger
from flows.kit.cases import open_once
from flows.kit.prefect_api import reach_api
from flows.sla_monitor import checks
from flows.sla_monitor.messages import compose
from flows.sla_monitor.rules import Rules

PROCESS_ID = "sla-monitor"
NOT_DELIVERED = "ALERT_NOT_DELIVERED"
NO_CHANNEL = "NO_ALERT_CHANNEL"


@dataclass
class SlaResult:
    summary: RunSummary
    alerts: list[Alert]
    reports: list[DeliveryReport] = field(default_factory=list)
    rows: list[dict[str, Any]] = field(default_factory=list)
    prefect_note: str = ""


def run_sla_monitor(ctx: RunContext, dry_run: bool = False, now: datetime | None = None,
                    notifier: Notifier | None = None, check_prefect: bool = True) -> SlaResult:
    from flows.registry import catalogue

    rules: Rules = ctx.rules or Rules()
    log = get_logger()
    now = now or datetime.now(UTC)
    defs = {pid: d for pid, d in catalogue(ctx.settings).items() if pid not in set(rules.exclude_processes)}
    store = ctx.store

    problems, overdue_total = checks.case_problems(store, now, defs)
    run_problems: list[checks.Problem] = []
    note = ""
    if check_prefect:
        api = reach_api(ctx.settings)
        if api is None:
            note = "Prefect-serveren svarer ikke: feilede og forsinkede kjøringer er ikke sjekket."
        else:
            try:
                with api:
                    run_problems = checks.prefect_run_problems(
                        defs, now - timedelta(hours=rules.lookback_hours), now,
                        timedelta(minutes=rules.late_run_grace_minutes))
            except Exception as exc:  # noqa: BLE001 - the other checks still run
                note = f"Prefect-API-et feilet: {exc.__class__.__name__}: {exc}"[:300]
        if note:
            log.warning(note)
    already = checks.sent_keys(store, now - timedelta(days=400))  # missed tertial runs stay relevant for months
    missed = checks.missed_run_problems(store, defs.values(), now, timedelta(minutes=rules.missed_run_grace_minutes),
                                        run_problems)
    problems += [p for p in run_problems + missed if p.key not in already]
    alerts = [compose(p, defs[p.process_id], ctx.settings, now, rules.max_cases_listed) for p in problems]

    figures = {"overdue_cases": overdue_total,
               "failed_runs": sum(p.kind == "run_failed" for p in run_problems),
               "late_runs": sum(p.kind == "run_late" for p in run_problems),
               "missed_runs": len(missed), "alerts": len(alerts), "alerts_sent": 0,
               "dry_run": dry_run, "prefect_checked": check_prefect and not note, "note": note}
    result = SlaResult(RunSummary(ctx.process_id, ctx.run_id, len(alerts), 0, {}, figures=figures), alerts,
                       prefect_note=note)
    if dry_run or not alerts:
        result.rows = [_row(a, "tørrkjøring" if dry_run else "") for a in alerts]
        return result

    notifier = notifier or Notifier.from_settings(ctx.settings)
    if not notifier.channels:
        open_once(ctx, "config/alert-channel", NO_CHANNEL,
                  f"{len(alerts)} varsler kunne ikke sendes: verken SMTP (RPA_ALERTS__SMTP_HOST) eller webhook "
                  "(RPA_ALERTS__WEBHOOK_URL) er satt opp.")
        result.summary.exceptions = {NO_CHANNEL: len(alerts)}
        result.rows = [_row(a, "ingen kanal") for a in alerts]
        log.warning("%d alerts not sent: no alert channel configured", len(alerts))
        return result

    failed = 0
    for alert, problem in zip(alerts, problems, strict=True):
        report = notifier.send(alert)
        result.reports.append(report)
        if report.delivered:
            _record_sent(ctx, alert, problem, report)
        if report.failed:
            failed += 1
            open_once(ctx, f"alert/{alert.key}"[:128], NOT_DELIVERED,
                      f"Varselet «{alert.subject}» ble ikke levert: "
                      + "; ".join(f"{ch}: {err}" for ch, err in report.failed.items()),
                      evidence={"key": alert.key, "kanaler": report.failed, "levert": report.delivered})
        result.rows.append(_row(alert, "sendt" if report.ok else
                                "delvis sendt" if report.delivered else "ikke levert"))
    delivered = sum(bool(r.delivered) for r in result.reports)
    result.summary.automated = delivered
    result.summary.figures["alerts_sent"] = delivered
    if failed:
        result.summary.exceptions = {NOT_DELIVERED: failed}
    log.info("SLA monitor: %d alerts, %d delivered, %d with a failed channel", len(alerts), delivered, failed)
    return result


def _row(alert: Alert, status: str) -> dict[str, Any]:
    return {"prosess": alert.process_id, "type": alert.kind, "emne": alert.subject,
            "mottakere": ", ".join(alert.recipients), "status": status}


def _record_sent(ctx: RunContext, alert: Alert, problem: checks.Problem, report: DeliveryReport) -> None:
    """An audit event per alert (per case for case alerts: it shows in the case's history)."""
    details = {"key": alert.key, "kind": alert.kind, "channels": report.delivered,
               "recipients": alert.recipients, "run_id": ctx.run_id}
    if problem.cases:
        for case in problem.cases:
            ctx.store.audit(checks.ACTOR, checks.ALERT_ACTION, alert.process_id, case_id=case["id"],
                            details={**details, "key": f"case:{case['id']}"})
    else:
        ctx.store.audit(checks.ACTOR, checks.ALERT_ACTION, alert.process_id, details=details)


def run_summary(ctx: RunContext, params, step) -> RunSummary:
    """What the kit's declaration runs: the alerts, one row each in the Prefect table and the
    console (a dry run also shows the text it would send)."""
    result = step("finn-og-varsle", run_sla_monitor, ctx, params.dry_run)
    summary = result.summary
    summary.table = result.rows
    summary.figures["alert_list"] = [{**row, "tekst": alert.body} if params.dry_run else row
                                     for alert, row in zip(result.alerts, result.rows, strict=False)]
    return summary
