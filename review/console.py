"""«Mine prosesser»: the process owner's console (owners: their processes; admins: all).

    GET  /prosesser                      one card per process: purpose, owner, schedule in words and
                                         the next five run times, last runs, open cases, benefits
    GET  /prosesser/{id}                 the schedule and «Kjør nå»: pause/resume, run now, the
                                         deployment's latest runs in Prefect
    POST /prosesser/{id}/plan            pause or resume the schedule (comment required)
    POST /prosesser/{id}/kjor-na         run now: first a confirmation page (parameters, comment),
                                         then the run (comment required)
    GET  /prosesser/{id}/kjor-na         the confirmation page (Post/Redirect/Get)
    GET  /prosesser/{id}/definisjon      the definition in words and its version history

Every figure comes from the computation the rest of the runner uses: benefits from
workqueue.benefits (through review.queries.benefits), open cases from review.queries.overview,
versions from workqueue.figures. Prefect is reached through connectors.prefect_deployments on the
process's deployment (named after the process id); every action is written to the audit trail.
Reviewers and attestants get 403; a process outside an owner's scope is a 404, by URL and by POST.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from fastapi import APIRouter, FastAPI, Form, HTTPException, Request
from fastapi.responses import RedirectResponse

from config.catalogue_page import _flatten, _rule_meanings
from config.process_definition import ProcessDefinition
from config.schedule_text import schedule_words
from config.schedule_times import next_runs
from connectors.identifiers import mask_fnrs_in_text
from connectors.norwegian import fmt_int, fmt_number
from connectors.prefect_deployments import Deployment, DeploymentClient, FlowRun, PrefectUnavailable
from review import queries
from review.formatting import OSLO
from workqueue.benefits import Figures
from workqueue.figures import version_history, version_label
from workqueue.models import ProcessRun
from workqueue.store import utcnow

log = logging.getLogger("rpa.review")

CONSOLE_ROLES = frozenset({"owner", "admin"})
MAX_COMMENT = 2000
LAST_RUNS = 5

RUN_STATUS_LABELS = {"running": "Kjører", "completed": "Fullført", "paused": "Stoppet av kvote (fortsetter)",
                     "failed": "Feilet", "stopped": "Stoppet", "abandoned": "Avbrutt"}
PREFECT_STATE_LABELS = {"SCHEDULED": "Planlagt", "PENDING": "Venter", "RUNNING": "Kjører",
                        "COMPLETED": "Fullført", "FAILED": "Feilet", "CANCELLED": "Avbrutt",
                        "CANCELLING": "Avbrytes", "CRASHED": "Krasjet", "PAUSED": "Pauset"}
KIND_WORDS = {"business": "Forretningsavvik: en person avgjør; prøves aldri på nytt",
              "system": "Teknisk feil: prøves på nytt, så til drift"}
CLASSIFICATION_WORDS = {"none": "ingen personopplysninger", "internal": "ingen personopplysninger, kun intern bruk",
                        "personal": "personopplysninger", "sensitive": "særlige kategorier av personopplysninger "
                                                                      "(f.eks. helse)"}


class ConsoleError(ValueError):
    def __init__(self, message: str, field: str = "comment"):
        super().__init__(message)
        self.field = field


def clean_comment(comment: str | None, what: str) -> str:
    text = (comment or "").strip()
    if not text:
        raise ConsoleError(f"Skriv en kommentar: hvorfor vil du {what}?")
    if len(text) > MAX_COMMENT:
        raise ConsoleError(f"Kommentaren er {len(text)} tegn; grensen er {MAX_COMMENT} tegn.")
    return mask_fnrs_in_text(text)


# ---------------------------------------------------------------------------- figures

@dataclass
class RunLine:
    run: ProcessRun
    status: str
    figures: Figures
    version: str
    exceptions: list[tuple[str, int]] = field(default_factory=list)  # (the category's meaning, count)


@dataclass
class Card:
    definition: ProcessDefinition
    schedule: str
    timezone: str
    active: bool | None  # None: Prefect did not answer (the definition's flag is shown instead)
    deployed: bool
    next_runs: list[datetime]
    runs: list[RunLine]
    open_cases: int
    breached: int
    month: queries.BenefitRow | None
    year: queries.BenefitRow | None
    prefect_error: str = ""
    deployment: Deployment | None = None
    flow_runs: list[FlowRun] = field(default_factory=list)


def _run_line(run: ProcessRun, definition: ProcessDefinition) -> RunLine:
    figures = Figures()
    figures.add_run(run)  # the benefits computation's own reading of a run
    d = (run.summary or {}).get("definition") or {}
    meanings = {c.code: c.meaning for c in definition.exception_categories}
    exceptions = sorted((meanings.get(code, code), n) for code, n in figures.exceptions.items())
    return RunLine(run, RUN_STATUS_LABELS.get(run.status, run.status), figures,
                   version_label(d.get("version"), d.get("since")), exceptions)


def _year_start(now: datetime) -> datetime:
    return now.astimezone(OSLO).replace(month=1, day=1, hour=0, minute=0, second=0, microsecond=0)


def build_card(st: Any, d: ProcessDefinition, open_by_process: dict[str, tuple[int, int]],
               client: DeploymentClient | None, now: datetime, with_flow_runs: bool = False) -> Card:
    """One process's card; `client` None: Prefect is not asked (the schedule as the definition has it)."""
    runs = st.store.runs(d.id)
    rows = queries.benefits(st.reader, [d.id], {d.id: d}, since=_year_start(now))
    month_key = f"{now.astimezone(OSLO):%m.%Y}"
    month = next((r for r in rows if r.month == month_key), None)
    year = queries.benefit_totals(rows).get(d.id)
    cron, tz, active, deployed, error, deployment, flow_runs = d.schedule.cron, d.schedule.timezone, None, False, "", None, []
    if client is not None:
        try:
            deployment = client.deployment(d.id)
            if deployment is not None:
                deployed, active = True, deployment.schedule_active
                s = next((s for s in deployment.schedules if s.cron), None)
                if s is not None:
                    cron, tz = s.cron, s.timezone or tz
                if with_flow_runs:
                    flow_runs = client.flow_runs(deployment)
        except PrefectUnavailable as exc:
            error = str(exc)
    open_cases, breached = open_by_process.get(d.id, (0, 0))
    shown_active = active if active is not None else d.schedule.active
    return Card(d, schedule_words(cron), tz, active, deployed,
                next_runs(cron, tz, now) if shown_active else [],
                [_run_line(r, d) for r in reversed(runs[-LAST_RUNS:])], open_cases, breached, month, year, error,
                deployment, flow_runs)


# ---------------------------------------------------------------------------- definition in words

def _value_words(value: Any) -> str:
    if isinstance(value, bool):
        return "ja" if value else "nei"
    if isinstance(value, list):
        return ", ".join(_value_words(v) for v in value) if value else "(ingen)"
    if isinstance(value, int):
        return fmt_int(value)
    if isinstance(value, float):  # as many decimals as the rule has: 0.5 -> '0,5', 2500.0 -> '2 500'
        return fmt_number(value, decimals=len(f"{value:f}".rstrip("0").partition(".")[2]))
    return str(value)


def rule_rows(d: ProcessDefinition) -> list[tuple[str, str, str]]:
    """(rule, value, meaning) for every rule of the definition: the catalogue page's reading."""
    meanings = _rule_meanings(d)
    return [(key, _value_words(value), meanings.get(key.split(".")[0], "")) for key, value in _flatten(d.rules or {})]


# ---------------------------------------------------------------------------- routes

def register(app: FastAPI, forms: APIRouter, st: Any, client_factory: Any = None) -> None:
    """GET pages on `app`, POSTs on `forms` (CSRF-checked). `client_factory()` -> DeploymentClient."""
    from review.app import _principal, redirect, render

    def client() -> DeploymentClient:
        return (client_factory or (lambda: DeploymentClient.from_settings(st.settings)))()

    def _console_user(request: Request):
        p = _principal(request)
        if p.role not in CONSOLE_ROLES:
            raise HTTPException(403)
        return p

    def _owned(request: Request, process_id: str):
        p = _console_user(request)
        scope = st.scope(p)
        d = st.catalogue.get(process_id)
        if d is None or (scope.processes is not None and process_id not in scope.processes):
            raise HTTPException(404)
        return p, scope, d

    def _open_by_process(scope) -> dict[str, tuple[int, int]]:
        out: dict[str, tuple[int, int]] = {}
        for r in queries.overview(st.reader, scope, utcnow(), st.catalogue):
            total, breached = out.get(r.process_id, (0, 0))
            out[r.process_id] = (total + r.total, breached + r.breached)
        return out

    @app.get("/prosesser")
    def my_processes(request: Request):
        p = _console_user(request)
        scope = st.scope(p)
        ids = sorted(pid for pid in st.catalogue if scope.processes is None or pid in scope.processes)
        now, opened, c = utcnow(), _open_by_process(scope), client()
        cards, error = [], ""
        for pid in ids:
            cards.append(build_card(st, st.catalogue[pid], opened, None if error else c, now))
            error = error or cards[-1].prefect_error  # Prefect did not answer: not asked again for this page
        return render(request, "console.html", {"active_nav": "prosesser", "cards": cards, "prefect_error": error})

    @app.get("/prosesser/{process_id}")
    def control(request: Request, process_id: str):
        p, scope, d = _owned(request, process_id)
        form, errors = st.take_draft(p.session_id, ("prosess", process_id))
        card = build_card(st, d, _open_by_process(scope), client(), utcnow(), with_flow_runs=True)
        return render(request, "console_process.html", {
            "active_nav": "prosesser", "card": card, "d": d, "form": form, "errors": errors,
            "status_labels": PREFECT_STATE_LABELS})

    def _refused(p, process_id: str, form: dict[str, str], exc: ConsoleError | PrefectUnavailable):
        field_name = exc.field if isinstance(exc, ConsoleError) else "general"
        st.keep_draft(p.session_id, ("prosess", process_id), form, {field_name: str(exc)})
        return RedirectResponse(f"/prosesser/{process_id}#feil", status_code=303)

    @forms.post("/prosesser/{process_id}/plan")
    def schedule_action(request: Request, process_id: str, handling: str = Form(""), comment: str = Form("")):
        p, _scope, d = _owned(request, process_id)
        form = {"handling": handling, "comment": comment}
        try:
            if handling not in ("pause", "gjenoppta"):
                raise ConsoleError("Velg «Sett på pause» eller «Start planen igjen».", field="general")
            clean = clean_comment(comment, "sette planen på pause" if handling == "pause" else "starte planen igjen")
            c = client()
            deployment = c.deployment(d.id)
            if deployment is None:
                raise PrefectUnavailable("Prosessen er ikke satt opp i Prefect ennå (`rpa deploy`).")
            after = c.set_schedule_active(deployment, handling == "gjenoppta")
        except (ConsoleError, PrefectUnavailable) as exc:
            return _refused(p, process_id, form, exc)
        action = "schedule.resumed" if handling == "gjenoppta" else "schedule.paused"
        st.store.audit(p.username, action, d.id, details={"comment": clean, "deployment": deployment.id,
                                                          "active": after.schedule_active})
        log.info("%s: schedule %s by %s", d.id, handling, p.username)
        msg = ("Planen er startet igjen. Neste kjøring: se listen under." if handling == "gjenoppta"
               else "Planen er satt på pause. Roboten kjører ikke av seg selv før planen startes igjen.")
        return redirect(request, f"/prosesser/{d.id}", ("ok", msg))

    @forms.post("/prosesser/{process_id}/kjor-na")
    def run_now(request: Request, process_id: str, comment: str = Form(""), bekreft: str = Form("")):
        p, _scope, d = _owned(request, process_id)
        form = {"comment": comment}
        try:
            clean = clean_comment(comment, "kjøre prosessen nå")
            if bekreft != "ja":
                st.keep_draft(p.session_id, ("kjor-na", process_id), form, {})
                return RedirectResponse(f"/prosesser/{d.id}/kjor-na", status_code=303)
            c = client()
            deployment = c.deployment(d.id)
            if deployment is None:
                raise PrefectUnavailable("Prosessen er ikke satt opp i Prefect ennå (`rpa deploy`).")
            run = c.run_now(deployment, tags=[f"bestilt-av:{p.username}"])
        except (ConsoleError, PrefectUnavailable) as exc:
            return _refused(p, process_id, form, exc)
        st.store.audit(p.username, "run.requested", d.id, details={
            "comment": clean, "deployment": deployment.id, "flow_run": run.id, "flow_run_name": run.name,
            "parameters": deployment.parameters})
        log.info("%s: run %s requested by %s", d.id, run.name, p.username)
        return redirect(request, f"/prosesser/{d.id}",
                        ("ok", f"Kjøringen «{run.name}» er bestilt. Den starter når en arbeider er ledig."))

    @app.get("/prosesser/{process_id}/kjor-na")
    def confirm_run(request: Request, process_id: str):
        p, _scope, d = _owned(request, process_id)
        form, _ = st.take_draft(p.session_id, ("kjor-na", process_id))
        if not form:  # reached again by Back: the form is used up
            return RedirectResponse(f"/prosesser/{d.id}", status_code=303)
        try:
            deployment = client().deployment(d.id)
        except PrefectUnavailable as exc:
            return _refused(p, process_id, form, exc)
        parameters = deployment.parameters if deployment is not None else dict(d.parameters)
        return render(request, "console_run.html", {"active_nav": "prosesser", "d": d, "form": form,
                                                    "parameters": parameters, "deployed": deployment is not None})

    @app.get("/prosesser/{process_id}/definisjon")
    def definition(request: Request, process_id: str):
        _p, _scope, d = _owned(request, process_id)
        history = list(reversed(version_history(st.store, d.id)))
        return render(request, "console_definition.html", {
            "active_nav": "prosesser", "d": d, "rules": rule_rows(d), "history": history,
            "schedule": schedule_words(d.schedule.cron), "kinds": KIND_WORDS,
            "classification": CLASSIFICATION_WORDS.get(str(d.personal_data.classification.value), ""),
            "run_status": RUN_STATUS_LABELS, "yaml_path": f"config/processes/{d.id}.yaml"})

