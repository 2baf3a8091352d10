"""The alert texts (Norwegian, for process owners). Ids, categories, times and links only: no
personal data, no case references (they may be built from personal data)."""

from __future__ import annotations

from datetime import datetime
from urllib.parse import quote
from zoneinfo import ZoneInfo

from config.process_definition import ProcessDefinition
from config.settings import Settings
from connectors.identifiers import mask_fnrs_in_text
from connectors.norwegian import fmt_datetime
from connectors.notify import Alert
from flows.sla_monitor.checks import Problem

OSLO = ZoneInfo("Europe/Oslo")
FOOTER = ("\n\nDenne meldingen er sendt automatisk av robotplattformen (prosess sla-monitor). "
          "Hvert avvik varsles én gang.")


def when(value: datetime | None) -> str:
    return fmt_datetime(value) or "ukjent"


def overdue_by(due: datetime, now: datetime) -> str:
    hours = max((now - due).total_seconds() / 3600, 0)
    if hours >= 48:
        return f"{hours / 24:.0f} døgn over fristen"
    return f"{hours:.0f} t over fristen" if hours >= 1 else "under 1 t over fristen"


def queue_url(settings: Settings, process_id: str) -> str:
    return f"{settings.review.public_url.rstrip('/')}/saker?prosess={quote(process_id)}"


def flow_run_url(settings: Settings, flow_run_id: str) -> str:
    return f"{settings.prefect.ui_url.rstrip('/')}/runs/flow-run/{flow_run_id}"


def compose(problem: Problem, definition: ProcessDefinition, settings: Settings, now: datetime,
            max_cases_listed: int = 20) -> Alert:
    d = definition
    greeting = f"Hei {d.owner.name},\n\n"
    owner = [d.owner.email]
    operator = [settings.alerts.operator_email] if settings.alerts.operator_email else []
    if problem.kind == "case_sla":
        n = len(problem.cases)
        lines = []
        for c in problem.cases[:max_cases_listed]:
            meaning = _meaning(d, c["category"])
            lines.append(f"- Sak {c['id']}: {c['category']} ({meaning}), {c['org_unit'] or 'ingen enhet'}, "
                         f"frist {when(c['due_at'])}, {overdue_by(c['due_at'], now)}")
        if n > max_cases_listed:
            lines.append(f"- … og {n - max_cases_listed} saker til")
        total = problem.details.get("overdue_total", n)
        body = (greeting + f"{n} {'avvikssak' if n == 1 else 'avvikssaker'} i prosessen «{d.name}» har passert "
                "fristen (SLA) og er fortsatt åpne:\n\n" + "\n".join(lines)
                + (f"\n\nTotalt {total} saker over fristen i prosessen." if total != n else "")
                + f"\n\nÅpne avvikskøen: {queue_url(settings, d.id)}" + FOOTER)
        subject = f"[RPA] {n} {'avvikssak' if n == 1 else 'avvikssaker'} over fristen: {d.name}"
        return _alert(problem, subject, body, owner, {"case_ids": [c["id"] for c in problem.cases]})
    if problem.kind in ("run_failed", "run_late"):
        det = problem.details
        url = flow_run_url(settings, det["flow_run_id"])
        if problem.kind == "run_late":
            subject = f"[RPA] Planlagt kjøring har ikke startet: {d.name}"
            body = (greeting + f"Kjøringen av «{d.name}» som skulle starte {when(problem.at)} har ikke startet "
                    f"(tilstand i Prefect: {det['state']}). Ingen worker har plukket den opp: sjekk at "
                    f"`prefect worker start --pool {det.get('work_pool') or settings.prefect.work_pool}` "
                    "eller `rpa serve` kjører.\n\n"
                    f"Kjøring: {det['flow_run_name']}\nPrefect: {url}" + FOOTER)
        else:
            subject = f"[RPA] Kjøringen feilet ({det['state']}): {d.name}"
            message = mask_fnrs_in_text(det.get("message") or "ingen melding")
            body = (greeting + f"Kjøringen av «{d.name}» (planlagt {when(problem.at)}, startet "
                    f"{when(det.get('start_time'))}) endte som {det['state']}.\n\n"
                    f"Melding: {message}\n\nKjøring: {det['flow_run_name']}\nPrefect: {url}" + FOOTER)
        return _alert(problem, subject, body, owner + operator,
                      {"flow_run_id": det["flow_run_id"], "state": det["state"], "prefect_url": url},
                      severity="error" if problem.kind == "run_failed" else "warning")
    if problem.kind == "run_missing":
        det = problem.details
        subject = f"[RPA] Planlagt kjøring mangler: {d.name}"
        body = (greeting + f"Etter planen ({det['cron']}, {det['timezone']}) skulle «{d.name}» ha kjørt "
                f"{when(problem.at)}, men ingen kjøring er registrert. Forrige kjøring startet "
                f"{when(det.get('last_run_started'))}.\n\nSjekk at Prefect-serveren og en worker "
                f"(eller `rpa serve`) kjører, og at planen ikke er satt på pause.\n"
                f"Prefect: {settings.prefect.ui_url}" + FOOTER)
        return _alert(problem, subject, body, owner + operator, {"expected_start": problem.at.isoformat()},
                      severity="error")
    raise ValueError(f"unknown problem kind {problem.kind!r}")


def _meaning(d: ProcessDefinition, code: str) -> str:
    try:
        return d.category(code).meaning
    except KeyError:
        return "ukjent kategori"


def _alert(problem: Problem, subject: str, body: str, recipients: list[str], details: dict,
           severity: str = "warning") -> Alert:
    return Alert(kind=problem.kind, process_id=problem.process_id, subject=subject, body=body,
                 recipients=list(dict.fromkeys(recipients)), key=problem.key,
                 details={**details, "at": problem.at.isoformat()}, severity=severity)
