"""The exception-queue web app for HR and finance staff (FastAPI + Jinja2, server-rendered).

Pages (Norwegian paths, as staff see them in links):
  /            Oversikt: open cases per process and category, oldest, SLA breaches
  /saker       the queue: filter, search, sort, page, bulk actions; /saker/eksport.xlsx
  /saker/{id}  one case: evidence side by side, attachments, history, decisions
  /logg        audit trail (owners: their processes; admins: everything)
  /gevinst     benefits per process and month (owners, admins)
  /prosesser   «Mine prosesser»: schedule, «Kjør nå», definition and versions (owners, admins; review/console.py)
  /brukere     user management (admins)
  /login, /helse   the only pages without a session (plus /static for the style sheet)

Safety: a middleware refuses every other path without a valid session (new routes are
protected by default); every POST route sits behind a CSRF check; every case read goes through
the principal's Scope (review.auth), so a case outside it is a 404 wherever it is reached.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import re
import time
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Depends, FastAPI, Form, HTTPException, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import func, select, text
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException

from config.catalogue import load_catalogue
from config.process_definition import ProcessDefinition
from config.settings import Settings, get_settings
from connectors.identifiers import FnrScrubFilter, mask_fnr, mask_fnrs_in_text, valid_fnr
from review import auth, console, decision_routes, decisions, queries
from review.export import workbook
from review.formatting import (
    AUDIT_LABELS,
    KIND_LABELS,
    ROLE_LABELS,
    STATUS_LABELS,
    age_days,
    age_text,
    fmt_amount,
    fmt_bytes,
    fmt_date,
    fmt_datetime,
    fmt_hours,
    fmt_int,
    fmt_kr,
    fmt_number,
    fmt_ore,
    fmt_percent,
    parse_amount,
    to_oslo,
)
from workqueue.figures import case_definition
from workqueue.models import ExceptionCase
from workqueue.store import WorkQueueStore, utcnow

HERE = Path(__file__).resolve().parent
PUBLIC_PATHS = frozenset({"/login", "/helse"})
PUBLIC_PREFIXES = ("/static/",)
FLASH_COOKIE = "rpa_flash"
LOGIN_ERROR_COOKIE = "rpa_login_feil"
DRAFT_SECONDS = 30 * 60
TEXT_PREVIEW_BYTES = 20_000
INLINE_TYPES = frozenset({"image/png", "image/jpeg", "image/gif", "image/webp", "application/pdf"})
TEXT_TYPES = ("text/", "application/xml", "application/json")

RESOLVED_BY_LABELS = {"hr": "HR / lønn", "finance": "Økonomi", "fleet": "Bilpark", "operator": "Drift (IT)",
                      "owner": "Prosesseier"}

CSP = ("default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; form-action 'self'; "
       "frame-ancestors 'none'; base-uri 'none'; object-src 'none'")

log = logging.getLogger("review")
log.addFilter(FnrScrubFilter())


def uvicorn_log_config() -> dict[str, Any]:
    """uvicorn's own logging set-up with the fnr scrubber on every handler."""
    import copy

    from uvicorn.config import LOGGING_CONFIG

    config = copy.deepcopy(LOGGING_CONFIG)
    config.setdefault("filters", {})["scrub_fnr"] = {"()": FnrScrubFilter}
    for handler in config.get("handlers", {}).values():
        handler.setdefault("filters", []).append("scrub_fnr")
    return config


@dataclass
class ReviewState:
    settings: Settings
    store: WorkQueueStore
    reader: queries.Reader
    catalogue: dict[str, ProcessDefinition]
    templates: Jinja2Templates
    login_csrf: auth.LoginCsrf
    flash_signer: URLSafeSerializer
    cookie_name: str
    # A refused form (what was typed + the errors), kept for the GET the refusal redirects to
    # (POST-redirect-GET: Back never lands on a resubmission page). Keyed by session and case.
    drafts: dict[tuple[str, int], tuple[float, dict[str, str], dict[str, str]]] = field(default_factory=dict)

    def keep_draft(self, session_id: str, case_id: int, form: dict[str, str], errors: dict[str, str]) -> None:
        now = time.monotonic()
        for key in [k for k, v in self.drafts.items() if now - v[0] > DRAFT_SECONDS]:
            self.drafts.pop(key, None)
        if len(self.drafts) > 1000:
            self.drafts.pop(next(iter(self.drafts)))
        self.drafts[(session_id, case_id)] = (now, form, errors)

    def take_draft(self, session_id: str, case_id: int) -> tuple[dict[str, str], dict[str, str]]:
        hit = self.drafts.pop((session_id, case_id), None)
        if hit is None or time.monotonic() - hit[0] > DRAFT_SECONDS:
            return {}, {}
        return hit[1], hit[2]

    def scope(self, p: auth.Principal) -> auth.Scope:
        return auth.scope_for(p, self.catalogue)

    def full_name(self, username: str | None) -> str:
        """A user's full name as staff read it (the user name when none is registered)."""
        return dict(queries.usernames(self.reader)).get(username or "", username or "")

    def process_name(self, process_id: str) -> str:
        d = self.catalogue.get(process_id)
        return d.name if d else process_id


def safe_next(url: str | None, default: str = "/", prefix: str = "/") -> str:
    """Only local paths: no scheme, no //host, no backslash tricks, no header splitting."""
    if not url or not url.startswith(prefix) or url.startswith("//") or any(c in url for c in "\\\r\n\t"):
        return default
    return url


def _principal(request: Request) -> auth.Principal:
    p = getattr(request.state, "principal", None)
    if p is None:  # pragma: no cover - the middleware never lets this happen
        raise HTTPException(401)
    return p


def _state(request: Request) -> ReviewState:
    return request.app.state.review


async def require_csrf(request: Request) -> None:
    form = await request.form()
    if not auth.csrf_ok(_principal(request), form.get("csrf_token")):  # type: ignore[arg-type]
        raise HTTPException(403, "csrf")


# ---------------------------------------------------------------------------- rendering

def _flashes(request: Request) -> list[tuple[str, str]]:
    raw = request.cookies.get(FLASH_COOKIE)
    if not raw:
        return []
    try:
        data = _state(request).flash_signer.loads(raw)
    except BadSignature:
        return []
    return [(str(level), str(msg)) for level, msg in data][:5]


def render(request: Request, name: str, context: dict[str, Any], status_code: int = 200) -> HTMLResponse:
    st = _state(request)
    p = getattr(request.state, "principal", None)
    flashes = _flashes(request)
    names = dict(queries.usernames(st.reader)) if p else {}
    ctx = {"user": p, "csrf": p.csrf_token if p else "", "flashes": flashes, "names": names,
           "name_of": lambda u: names.get(u, u) if u else "",
           "role_label": ROLE_LABELS.get(p.role, p.role) if p else "", "process_name": st.process_name,
           "now": utcnow(), **context}
    response = st.templates.TemplateResponse(request, name, ctx, status_code=status_code)
    if flashes:
        response.delete_cookie(FLASH_COOKIE, path="/")
    return response


def redirect(request: Request, url: str, *messages: tuple[str, str]) -> RedirectResponse:
    response = RedirectResponse(url, status_code=303)
    if messages:
        st = _state(request)
        response.set_cookie(FLASH_COOKIE, st.flash_signer.dumps(list(messages)), httponly=True,
                            secure=st.settings.review.secure_cookies, samesite="lax", path="/", max_age=120)
    return response


def error_page(request: Request, status: int, title: str, text_: str) -> HTMLResponse:
    return render(request, "error.html", {"title": title, "text": text_}, status_code=status)


ERRORS = {
    403: ("Ingen tilgang", "Du har ikke tilgang til denne siden. Kontakt en administrator hvis du mener du "
                           "skal ha det."),
    404: ("Fant ikke siden", "Siden eller saken finnes ikke, eller du har ikke tilgang til den."),
    405: ("Fant ikke siden", "Denne adressen kan ikke brukes slik."),
}


# A money cell as a flow wrote it: "1 234,50", "-50,00", "2 308 kr", "kr 838,32" (never a bare count).
MONEY_CELL = re.compile(r"^(kr\s)?[-\u2212]?\d{1,3}([ \u00a0]\d{3})*(,\d{2}(\s?kr)?|\s?kr)$")


def _cell(value: str) -> str:
    """A table cell of a case's evidence as staff read it: fnr masked, money in the one currency
    style (fmt_kr: «1 234,50 kr»)."""
    text_ = mask_fnrs_in_text(value)
    if MONEY_CELL.match(text_.strip()):
        amount = parse_amount(text_)
        if amount is not None:
            return fmt_kr(amount)
    return text_


def _templates() -> Jinja2Templates:
    t = Jinja2Templates(directory=str(HERE / "templates"))
    env = t.env
    env.filters.update(kr=fmt_amount, tall=fmt_number, valuta=fmt_kr, varighet=fmt_hours, dato=fmt_date, tid=fmt_datetime, heltall=fmt_int, prosent=fmt_percent,
                       mask=lambda v: mask_fnrs_in_text("" if v is None else str(v)),
                       status=lambda v: STATUS_LABELS.get(v, v), art=lambda v: KIND_LABELS.get(v, v),
                       hendelse=lambda v: AUDIT_LABELS.get(v, v), rolle=lambda v: ROLE_LABELS.get(v, v),
                       alder=age_text, storrelse=fmt_bytes)
    env.tests["amountlike"] = lambda v: bool(MONEY_CELL.match(str(v or "").strip()))  # right-aligned
    env.globals.update(audit_summary=_audit_summary, fmt_ore=fmt_ore, age_days=age_days, to_oslo=to_oslo, urlencode=urlencode, action_spec=decisions.spec,
                       STATUS_LABELS=STATUS_LABELS, RESOLVED_BY_LABELS=RESOLVED_BY_LABELS)
    return t


# ---------------------------------------------------------------------------- app

def create_app(settings: Settings | None = None, store: WorkQueueStore | None = None) -> FastAPI:
    settings = settings or get_settings()
    store = store or WorkQueueStore.from_settings(settings)
    secret = settings.review.session_secret.get_secret_value()
    state = ReviewState(
        settings=settings, store=store, reader=queries.Reader(store),
        catalogue=load_catalogue(settings.paths.processes_dir),
        templates=_templates(), login_csrf=auth.LoginCsrf(secret),
        flash_signer=URLSafeSerializer(secret, salt="review-flash"),
        cookie_name="__Host-rpa_session" if settings.review.secure_cookies else "rpa_session")

    app = FastAPI(title="Avvikskø", docs_url=None, redoc_url=None, openapi_url=None)
    app.state.review = state
    app.mount("/static", StaticFiles(directory=str(HERE / "static")), name="static")

    @app.middleware("http")
    async def guard(request: Request, call_next):
        started = time.perf_counter()
        path = request.url.path
        if path in PUBLIC_PATHS or path.startswith(PUBLIC_PREFIXES):
            request.state.principal = None
            response = await call_next(request)
        else:
            token = request.cookies.get(state.cookie_name)
            principal = await run_in_threadpool(auth.load_session, store, state.reader.engine, token,
                                                settings.review.session_minutes)
            if principal is None:
                target = path + (f"?{request.url.query}" if request.url.query else "")
                url = "/login" if request.method != "GET" or target == "/" else \
                    "/login?" + urlencode({"neste": mask_fnrs_in_text(target)})
                response = RedirectResponse(url, status_code=303)
                if token:
                    response.delete_cookie(state.cookie_name, path="/")
            else:
                request.state.principal = principal
                response = await call_next(request)
        response.headers.setdefault("Content-Security-Policy", CSP)
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["X-Frame-Options"] = "DENY"
        response.headers["Referrer-Policy"] = "same-origin"
        if not path.startswith(PUBLIC_PREFIXES):
            response.headers["Cache-Control"] = "no-store"
        if settings.review.secure_cookies:
            response.headers["Strict-Transport-Security"] = "max-age=31536000"
        # The server's own time for the request (the benchmark reads it; browsers show it).
        response.headers["Server-Timing"] = f"app;dur={(time.perf_counter() - started) * 1000:.1f}"
        return response

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException):
        if exc.status_code == 403 and exc.detail == "csrf":
            return error_page(request, 403, "Skjemaet ble avvist",
                              "Skjemaet kunne ikke sendes (sikkerhetskontroll). Gå tilbake, last siden på nytt "
                              "og prøv igjen.")
        title, body = ERRORS.get(exc.status_code, ("Noe gikk galt", "Prøv igjen litt senere."))
        return error_page(request, exc.status_code, title, body)

    _public_routes(app, state)
    _page_routes(app, state)
    form_routes = APIRouter(dependencies=[Depends(require_csrf)])
    _form_routes(form_routes, state)
    decision_routes.register(form_routes, state, pages=app)
    __import__("review.shadow_routes").shadow_routes.register(app, state)  # /skygge: the owners' agreement page
    console.register(app, form_routes, state)  # «Mine prosesser» (owners, admins)
    app.include_router(form_routes)
    return app


# ---------------------------------------------------------------------------- public

def _public_routes(app: FastAPI, st: ReviewState) -> None:
    rs = st.settings.review

    def login_page(request: Request, error: str = "", username: str = "", next_url: str = "/",
                   status_code: int = 200) -> HTMLResponse:
        # Keep the browser's nonce when it has one: a second login tab (or a favicon request that
        # bounced to /login) must not invalidate the form already on screen.
        nonce = request.cookies.get(auth.LoginCsrf.COOKIE) or ""
        if not (16 <= len(nonce) <= 64 and nonce.replace("-", "").replace("_", "").isalnum()):
            nonce = auth.LoginCsrf.new_nonce()
        response = render(request, "login.html", {"error": error, "username": username, "next": next_url,
                                                  "login_token": st.login_csrf.token_for(nonce),
                                                  "max_failed": rs.max_failed_logins},
                          status_code=status_code)
        response.set_cookie(auth.LoginCsrf.COOKIE, nonce, httponly=True, secure=rs.secure_cookies,
                            samesite="lax", path="/login", max_age=auth.LoginCsrf.MAX_AGE)
        return response

    @app.get("/login", response_class=HTMLResponse)
    def login_form(request: Request, neste: str = ""):
        if auth.load_session(st.store, st.reader.engine, request.cookies.get(st.cookie_name), rs.session_minutes):
            return RedirectResponse(safe_next(neste), status_code=303)
        error, username = "", ""
        with contextlib.suppress(BadSignature, TypeError, ValueError):
            error, username = (str(x)[:400] for x in
                               st.flash_signer.loads(request.cookies.get(LOGIN_ERROR_COOKIE) or "", salt="login"))
        response = login_page(request, error, username[:64], next_url=safe_next(neste))
        if request.cookies.get(LOGIN_ERROR_COOKIE):
            response.delete_cookie(LOGIN_ERROR_COOKIE, path="/login")
        return response

    def refused(error: str, username: str, next_url: str) -> RedirectResponse:
        """POST-redirect-GET for a refused log-in: the message (and the user name typed) go to the
        GET page in a short-lived signed cookie, so Back never lands on a resubmission page."""
        url = "/login" + (f"?{urlencode({'neste': next_url})}" if next_url != "/" else "")
        response = RedirectResponse(url, status_code=303)
        response.set_cookie(LOGIN_ERROR_COOKIE, st.flash_signer.dumps([error, username], salt="login"),
                            httponly=True, secure=rs.secure_cookies, samesite="lax", path="/login", max_age=120)
        return response

    @app.post("/login", response_class=HTMLResponse)
    def login(request: Request, username: str = Form(""), password: str = Form(""),
              csrf_token: str = Form(""), neste: str = Form("/")):
        next_url = safe_next(neste)
        username = username.strip()[:64]
        if not st.login_csrf.valid(request.cookies.get(auth.LoginCsrf.COOKIE), csrf_token):
            return refused("Innloggingssiden var utløpt. Prøv igjen.", username, next_url)
        if not username or not password:
            return refused("Skriv brukernavn og passord.", username, next_url)
        result = auth.authenticate(st.store, username, password, rs.max_failed_logins)
        if result.locked:
            log.warning("login refused: account %r is locked", username)
            return refused("Kontoen er låst etter for mange feil passord. Be en administrator om å låse den opp.",
                           username, next_url)
        if not result.ok or result.user_id is None:
            return refused("Feil brukernavn eller passord.", username, next_url)
        auth.purge_expired_sessions(st.store, rs.session_minutes)  # housekeeping: idle sessions of anyone
        token = auth.create_session(st.store, result.user_id)
        response = RedirectResponse(next_url, status_code=303)
        response.set_cookie(st.cookie_name, token, httponly=True, secure=rs.secure_cookies, samesite="lax",
                            path="/")
        response.delete_cookie(auth.LoginCsrf.COOKIE, path="/login")
        return response

    @app.get("/helse")
    def health():
        with st.reader.engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        return JSONResponse({"status": "ok"})


# ---------------------------------------------------------------------------- pages (GET)

def _process_choices(st: ReviewState, scope: auth.Scope) -> list[tuple[str, str]]:
    ids = sorted(st.catalogue) if scope.processes is None else sorted(p for p in scope.processes)
    return [(pid, st.process_name(pid)) for pid in ids]


def _category_choices(st: ReviewState, scope: auth.Scope, process: str) -> list[tuple[str, list[tuple[str, str]]]]:
    groups = []
    for pid, name in _process_choices(st, scope):
        if process and pid != process:
            continue
        d = st.catalogue.get(pid)
        if d:
            groups.append((name, [(c.code, c.meaning) for c in d.exception_categories]))
    return groups


def _selection(st: ReviewState, f: queries.QueueFilter, names: dict[str, str] | None = None) -> list[tuple[str, str]]:
    """The filter in words, as the queue showed it (no codes)."""
    names = names or {}
    out = [("Status", queries.STATUS_FILTERS[f.status][0])]
    if f.process:
        out.append(("Prosess", st.process_name(f.process)))
    if f.category:
        cats = [decisions.category_of(st.catalogue.get(pid), f.category) for pid in
                ([f.process] if f.process else sorted(st.catalogue))]
        out.append(("Kategori", next((c.meaning for c in cats if c is not None), f.category)))
    assignee = {"meg": "Mine saker", "ingen": "Ingen (ikke tatt)"}.get(f.assignee, names.get(f.assignee, f.assignee))
    search = f"fødselsnummer {f.q}" if f.fnr_hash else f.q
    for label, value in (("Org.enhet", "Uten org.enhet" if f.org_unit == "-" else f.org_unit),
                         ("Saksbehandler", assignee), ("Søk", search)):
        if value:
            out.append((label, value))
    if f.age:
        out.append(("Alder", queries.AGE_CHOICES[f.age]))
    if f.sla:
        out.append(("Frist", queries.SLA_CHOICES[f.sla]))
    out.append(("Sortert etter", f"{queries.SORTS[f.sort][0]} ({'synkende' if f.direction == 'desc' else 'stigende'})"))
    return out


def _case_context(st: ReviewState, p: auth.Principal, case: ExceptionCase, back: str,
                  revealed: bool = False) -> dict[str, Any]:
    d = st.catalogue.get(case.process_id)
    cat = decisions.category_of(d, case.category)
    evidence = case.evidence or {}
    fnr = evidence.get("fnr") if isinstance(evidence.get("fnr"), str) else None
    attachments = queries.attachments_meta(st.reader, case.id)
    previews = {}
    for a in attachments:
        if a.media_type.startswith(TEXT_TYPES) and a.size <= 5_000_000:
            att = queries.attachment(st.reader, case.id, a.id)
            if att is not None:
                raw = att.content[:TEXT_PREVIEW_BYTES]
                previews[a.id] = mask_fnrs_in_text(raw.decode("utf-8", errors="replace"))
    sections = []
    what_to_do = ""
    for sec in evidence.get("sections") or []:
        if not isinstance(sec, dict):
            continue
        text_ = mask_fnrs_in_text(str(sec["text"])) if sec.get("text") is not None else None
        if text_ and "Hva du gjør:" in text_:  # the flow's own advice gets its own panel
            text_, _, advice = text_.partition("Hva du gjør:")
            what_to_do = what_to_do or advice.strip()
            text_ = text_.strip() or None
        columns = [COLUMN_LABELS.get(str(c), mask_fnrs_in_text(str(c))) for c in sec.get("columns") or []]
        rows = _one_difference_per_row(
            [[_cell("" if v is None else str(v)) for v in row]
             for row in sec.get("rows") or [] if isinstance(row, list | tuple)], columns)
        if text_ and not rows and text_.strip() in case.message:  # says again what «Hva roboten fant» says
            text_ = None
        if not text_ and not rows:
            continue
        sections.append({
            "title": mask_fnrs_in_text(str(sec.get("title") or "")), "text": text_,
            "columns": columns, "rows": rows,
        })
    data = evidence.get("data") if isinstance(evidence.get("data"), dict) else {}
    technical = [_technical(k, v) for k, v in data.items() if k != "fnr"]
    active = case.status in queries.ACTIVE
    offered = decisions.offers(st.store, d, case) if active else []
    now = utcnow()
    due = case.due_at
    breached = active and due is not None and (due if due.tzinfo else due.replace(tzinfo=now.tzinfo)) < now
    return {
        "case": case, "definition": d, "category": cat, "sections": sections, "technical": technical,
        "rules_version": getattr(case_definition(st.store, case), "label", ""),
        "fnr_masked": mask_fnr(fnr) if fnr else "", "fnr_clear": fnr if (revealed and fnr) else "",
        "fnr_valid": bool(fnr and valid_fnr(fnr)),
        "attachments": attachments, "previews": previews, "inline_types": INLINE_TYPES,
        "history": queries.case_history(st.reader, case),
        "assignable": queries.assignable_users(st.reader, case, st.catalogue) if active else [],
        "actions": offered, "active": active, "breached": breached,
        "may_approve": p.role in decision_routes.APPROVER_ROLES and case.decided_by != p.username,
        "approval_reasons": _approval_reasons(d, case),
        "claimed_by_other": bool(case.assignee and case.assignee != p.username),
        "mine": case.assignee == p.username, "back": back, "form": {}, "errors": {},
        "what_to_do": what_to_do or _what_to_do([o.code for o in offered]), "money": _money(data),
        "subject": queries.subject_of(evidence),
    }


def _approval_reasons(d: ProcessDefinition | None, case: ExceptionCase) -> list[str]:
    if case.status != "pending_approval" or d is None:
        return []
    spec = decisions.spec(str((case.decision or {}).get("action", "")))
    return decision_routes.wa.approval_reasons(d.controls.approval, spec, case.decision or {},
                                               decisions.case_data(case))


# Column headers the flows write, in the words the case page uses: «Beregnet» is the robot's own
# computation, not NAV's.
COLUMN_LABELS = {"Beregnet": "Robotens beregning", "Forventet": "Robotens beregning"}


def _one_difference_per_row(rows: list[list[str]], columns: list[str]) -> list[list[str]]:
    """A «Differanse» row holding two differences (against the claim and against the robot's
    computation) becomes two rows, each saying which difference it is."""
    out = []
    for row in rows:
        filled = [i for i, v in enumerate(row[1:], start=1) if v]
        if row and row[0] == "Differanse" and len(filled) > 1 and len(columns) == len(row):
            for i in filled:
                single = [""] * len(row)
                single[0] = ("Differanse: utbetalt mot robotens beregning" if columns[i] == "Robotens beregning"
                             else "Differanse: utbetalt mot kravet" if i == 1 else f"Differanse ({columns[i]})")
                single[i] = row[i]
                out.append(single)
        else:
            out.append(row)
    return out


TECHNICAL_LABELS = {"report_id": "Rapport-ID", "line_nos": "Linjenummer", "linjer": "Linjer", "lines": "Linjer",
                    "nav_ore": "NAV har betalt", "claim_ore": "Kravet", "expected_ore": "Robotens beregning",
                    "claim_ids": "Krav-ID", "claims": "Krav", "code": "Ytelseskode", "fra": "Fra", "til": "Til",
                    "run_id": "Kjøring", "category": "Kategori", "detail": "Detalj", "fps": "Fingeravtrykk",
                    "nav_amount": "NAV har betalt", "claim_amount": "Kravet", "filename": "Fil",
                    "invoice_number": "Fakturanummer", "candidates": "Mulige bilag", "plate": "Kjennemerke",
                    "url": "Adresse", "status": "HTTP-status", "source": "Kilde", "kind": "Type"}


def _plain(key: str, value: Any) -> str:
    """A technical value in words: øre as kroner (keys ending in _ore), lists and objects as lines."""
    if isinstance(value, bool):
        return "ja" if value else "nei"
    if key.endswith("_ore") and isinstance(value, int | float):
        return fmt_ore(int(value))
    if key in ("nav_amount", "claim_amount", "amount") and isinstance(value, int | float):
        return fmt_kr(value)
    if isinstance(value, dict):
        return "; ".join(f"{TECHNICAL_LABELS.get(str(k), str(k))}: {_plain(str(k), v)}" for k, v in value.items())
    if isinstance(value, list | tuple):
        return " · ".join(_plain(key, v) for v in value)
    return "" if value is None else str(value)


def _technical(key: Any, value: Any) -> tuple[str, str]:
    k = str(key)
    return (mask_fnrs_in_text(TECHNICAL_LABELS.get(k, k)), mask_fnrs_in_text(_plain(k, value))[:1000])


MONEY_FACTS = (("nav_ore", "nav_amount", "NAV har betalt"), ("claim_ore", "claim_amount", "Refusjonskravet (HR)"),
               ("expected_ore", "expected_amount", "Robotens beregning"))


def _money(data: dict[str, Any]) -> list[tuple[str, str]]:
    """What NAV paid, what was claimed and what the robot computed, each labelled as such."""
    out = []
    for ore_key, kr_key, label in MONEY_FACTS:
        with contextlib.suppress(TypeError, ValueError):
            if data.get(ore_key) is not None:
                out.append((label, fmt_ore(int(data[ore_key]))))
            elif data.get(kr_key) is not None:
                out.append((label, fmt_kr(float(data[kr_key]))))
    return out if len(out) > 1 else []


def _what_to_do(allowed: list[str]) -> str:
    """What the reviewer does, when the flow gave no advice of its own: from the category's actions."""
    if not allowed:
        return ""
    labels = [f"«{decisions.spec(a).label}»" for a in allowed]
    choices = ", ".join(labels[:-1]) + f" eller {labels[-1]}" if len(labels) > 1 else labels[0]
    return (f"Sammenlign opplysningene nedenfor med fagsystemet. Velg deretter {choices}, og skriv i "
            "kommentaren hva du fant.")


def _back(request: Request, value: str | None) -> str:
    return safe_next(value, "/saker", prefix="/saker")


def _page_routes(app: FastAPI, st: ReviewState) -> None:
    @app.get("/", response_class=HTMLResponse)
    def overview(request: Request):
        p = _principal(request)
        scope = st.scope(p)
        now = utcnow()
        rows = queries.overview(st.reader, scope, now, st.catalogue)
        by_process: dict[str, list[queries.OverviewRow]] = {}
        for pid, _name in _process_choices(st, scope):
            by_process[pid] = []
        for r in rows:
            by_process.setdefault(r.process_id, []).append(r)
        with st.reader.engine.connect() as conn:
            mine = conn.execute(select(func.count()).select_from(ExceptionCase).where(
                queries.scope_clause(scope), ExceptionCase.assignee == p.username,
                ExceptionCase.status.in_(queries.ACTIVE))).scalar_one()
        resolved = queries.resolved_recently(st.reader, scope, now - timedelta(days=7))
        return render(request, "overview.html", {
            "active_nav": "oversikt", "by_process": by_process, "catalogue": st.catalogue, "mine": mine,
            "resolved": resolved, "total_open": sum(r.total for r in rows),
            "total_breached": sum(r.breached for r in rows)})

    @app.get("/saker", response_class=HTMLResponse)
    def queue_page(request: Request):
        p = _principal(request)
        scope = st.scope(p)
        f = queries.QueueFilter.from_params(request.query_params)
        typed = (request.query_params.get("sok") or "").strip()
        digits = re.sub(r"[\s.]", "", typed)
        if not p.may_reveal_fnr and f.fnr_hash:  # owners oversee a process, not single persons
            f = dataclasses.replace(f, fnr_hash="")
        if f.fnr_in_search and not f.fnr_hash and digits.isdigit() and valid_fnr(digits) and p.may_reveal_fnr:
            # A full fnr: search by its keyed hash, and move the number out of the address bar
            # (history, bookmarks, Referer) at once: the URL keeps only the masked form and the hash.
            params = f.params(page=1)
            params.update({"sok": mask_fnr(digits), "fnrsok": st.store.fnr_hash(digits) or ""})
            return RedirectResponse("/saker?" + urlencode(params), status_code=303)
        now = utcnow()
        page = queries.queue(st.reader, scope, f, p.username, now)
        here = "/saker" + (f"?{urlencode(f.params(page=page.page))}" if f.params(page=page.page) else "")
        return render(request, "queue.html", {
            "active_nav": "saker", "f": f, "page": page, "now": now, "here": here,
            "process_choices": _process_choices(st, scope), "category_choices": _category_choices(st, scope, f.process),
            "unit_choices": queries.org_unit_choices(st.reader, scope), "user_choices": queries.usernames(st.reader),
            "status_choices": [(k, v[0]) for k, v in queries.STATUS_FILTERS.items()],
            "age_choices": queries.AGE_CHOICES, "sla_choices": queries.SLA_CHOICES, "sorts": queries.SORTS,
            "per_page_choices": queries.PER_PAGE_CHOICES,
            "category_meaning": lambda pid, code: (decisions.category_of(st.catalogue.get(pid), code).meaning
                                                   if decisions.category_of(st.catalogue.get(pid), code) else ""),
            "export_url": "/saker/eksport.xlsx" + (f"?{urlencode(f.params(page=1))}" if f.params(page=1) else "")})

    @app.get("/saker/eksport.xlsx")
    def export(request: Request):
        p = _principal(request)
        scope = st.scope(p)
        f = queries.QueueFilter.from_params(request.query_params)
        now = utcnow()
        rows = queries.export_rows(st.reader, scope, f, p.username, now)
        ids = [r.id for r in rows]
        names = dict(queries.usernames(st.reader))
        body = workbook(rows, st.catalogue, now, _selection(st, f, names) + [("Eksportert av", p.display_name)],
                        subjects=queries.subjects(st.reader, ids), names=names,
                        attestations=queries.attestations(st.reader, ids))
        st.store.audit(p.username, "cases.exported", details={"rows": len(rows), "filter": f.params(page=1)})
        log.info("%s exported %d cases", p.username, len(rows))
        local = to_oslo(now)
        filename = f"avvik-{local:%Y-%m-%d}.xlsx" if local else "avvik.xlsx"
        return Response(body, media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                        headers={"Content-Disposition": f'attachment; filename="{filename}"'})

    @app.get("/saker/{case_id:int}", response_class=HTMLResponse)
    def case_page(request: Request, case_id: int, tilbake: str = ""):
        p = _principal(request)
        case = queries.get_case(st.reader, st.scope(p), case_id)
        if case is None:
            raise HTTPException(404)
        st.store.audit(p.username, "case.viewed", case.process_id, case_id=case.id)
        ctx = _case_context(st, p, case, _back(request, tilbake))
        form, errors = st.take_draft(p.session_id, case.id)
        if errors:
            ctx.update(form=form, errors=errors)
        return render(request, "case.html", {"active_nav": "saker", **ctx})

    @app.get("/saker/{case_id:int}/vedlegg/{attachment_id:int}")
    def download(request: Request, case_id: int, attachment_id: int, vis: int = 0):
        p = _principal(request)
        case = queries.get_case(st.reader, st.scope(p), case_id)
        att = queries.attachment(st.reader, case_id, attachment_id) if case is not None else None
        if case is None or att is None:
            raise HTTPException(404)
        inline = bool(vis) and att.media_type in INLINE_TYPES
        if not (inline and att.media_type.startswith("image/")):  # screenshots on the case page: the view is logged
            st.store.audit(p.username, "attachment.downloaded", case.process_id, case_id=case.id,
                           details={"attachment_id": att.id, "filename": mask_fnrs_in_text(att.filename)})
        # The file name a browser saves under: masked (names like brev-<fnr>.pdf happen), '*' -> 'x'.
        name = mask_fnrs_in_text(att.filename).replace("*", "x")
        ascii_name = "".join(c if c.isascii() and c.isprintable() and c not in '"\\;' else "_" for c in name)
        disposition = "inline" if inline else "attachment"
        media_type = att.media_type if inline else (att.media_type or "application/octet-stream")
        return Response(att.content, media_type=media_type, headers={
            "Content-Disposition": f"{disposition}; filename=\"{ascii_name}\"; "
                                   f"filename*=UTF-8''{quote(name, safe='')}",
            "Content-Security-Policy": "default-src 'none'; img-src 'self'; sandbox"})

    @app.get("/logg", response_class=HTMLResponse)
    def audit_trail(request: Request):
        p = _principal(request)
        if not p.may_read_audit:
            raise HTTPException(403)
        scope = st.scope(p)
        f = queries.AuditFilter.from_params(request.query_params)
        page = queries.audit_page(st.reader, p, scope, f)
        return render(request, "audit.html", {
            "active_nav": "logg", "f": f, "page": page, "actions": AUDIT_LABELS,
            "process_choices": _process_choices(st, scope), "summary": _audit_summary})

    @app.get("/gevinst", response_class=HTMLResponse)
    def benefits(request: Request):
        p = _principal(request)
        if not p.may_read_benefits:
            raise HTTPException(403)
        scope = st.scope(p)
        rows = queries.benefits(st.reader, scope.processes, st.catalogue)
        totals = queries.benefit_totals(rows)
        now = utcnow()
        open_rows = queries.overview(st.reader, scope, now, st.catalogue)
        open_by_process: dict[str, tuple[int, int]] = {}
        for r in open_rows:
            total, breached = open_by_process.get(r.process_id, (0, 0))
            open_by_process[r.process_id] = (total + r.total, breached + r.breached)
        return render(request, "benefits.html", {
            "active_nav": "gevinst", "rows": rows, "totals": totals, "catalogue": st.catalogue,
            "processes": _process_choices(st, scope), "open_by_process": open_by_process})

    @app.get("/brukere", response_class=HTMLResponse)
    def users_page(request: Request):
        p = _principal(request)
        if not p.is_admin:
            raise HTTPException(403)
        return _users_page(request, st)


def _users_page(request: Request, st: ReviewState, error: str = "", form: dict | None = None,
                status_code: int = 200) -> HTMLResponse:
    return render(request, "users.html", {
        "active_nav": "brukere", "users": auth.list_users(st.store), "roles": auth.ROLES, "error": error,
        "form": form or {}, "process_choices": sorted((pid, d.name) for pid, d in st.catalogue.items()),
        "min_password": auth.MIN_PASSWORD_LENGTH}, status_code=status_code)


DETAIL_LABELS = {"category": "kategori", "reason": "årsak", "comment": "kommentar", "username": "bruker",
                 "role": "rolle", "filename": "fil", "error": "feil", "attempt": "forsøk", "attempts": "forsøk",
                 "failed_logins": "feil passord på rad", "assignee": "saksbehandler", "action": "handling",
                 "reasons": "årsak", "decided_by": "besluttet av"}
REASON_LABELS = {"wrong password": "feil passord", "unknown user": "ukjent bruker", "locked": "kontoen er låst"}


def _audit_summary(event, names: dict[str, str] | None = None) -> str:
    names = names or {}
    d = event.details or {}
    parts = []
    if event.action == "case.decided":
        parts.append(decisions.spec(str(d.get("action", ""))).label)
        if d.get("amount") is not None:
            with contextlib.suppress(TypeError, ValueError):
                parts.append(f"beløp {fmt_kr(float(d['amount']))}")
        if d.get("voucher_number"):
            parts.append(f"bilag {d['voucher_number']}")
        if d.get("comment"):
            parts.append(f"«{d['comment']}»")
    elif event.action in ("case.assigned", "case.claimed"):
        if d.get("assignee"):
            parts.append(f"til {names.get(d['assignee'], d['assignee'])}")
        if d.get("comment"):
            parts.append(f"«{d['comment']}»")
    elif event.action == "cases.exported":
        parts.append(f"{d.get('rows', 0)} saker")
    else:
        for k, v in d.items():
            if k == "action" and isinstance(v, str):
                parts.append(decisions.spec(v).label)
            elif k == "category" and isinstance(v, str):
                continue  # the case page names its category in its heading
            elif k in DETAIL_LABELS:
                if isinstance(v, list):
                    v = "; ".join(str(x) for x in v)
                parts.append(f"{DETAIL_LABELS[k]}: {REASON_LABELS.get(v, v) if isinstance(v, str) else v}")
    return mask_fnrs_in_text(" · ".join(str(x) for x in parts))[:400]


# ---------------------------------------------------------------------------- forms (POST, CSRF)

def _form_routes(r: APIRouter, st: ReviewState) -> None:
    @r.post("/logout")
    def logout(request: Request):
        p = _principal(request)
        auth.end_session(st.store, p.session_id)
        st.store.audit(p.username, "user.logout")
        response = redirect(request, "/login", ("ok", "Du er logget ut."))
        response.delete_cookie(st.cookie_name, path="/")
        return response

    @r.post("/saker/handling")
    def bulk(request: Request, ids: list[str] = Form(default=[]), action: str = Form(""),
             comment: str = Form(""), tilbake: str = Form("/saker"), bekreft: str = Form(""),
             kontroll: str = Form("")):
        p = _principal(request)
        back = _back(request, tilbake)
        wanted = decision_routes.parse_ids(ids, queries.MAX_BULK)
        if not wanted:
            return redirect(request, back, ("error", "Velg minst én sak i listen."))
        if action == "beslutning":  # the next step offers only the decisions that fit every selected case
            return RedirectResponse(decision_routes.selected_url(wanted, back), status_code=303)
        cases = queries.visible_cases(st.reader, st.scope(p), wanted)
        done, skipped = 0, []
        if action == "claim":
            for c in cases:
                ok, _holder = queries.claim(st.store, c.id, p.username)
                done += ok
                if not ok:
                    skipped.append(c.id)
            return redirect(request, back, *_bulk_messages(done, skipped, "tatt", len(wanted) - len(cases)))
        if action == "release":
            for c in cases:
                ok = queries.release(st.store, c.id, p.username)
                done += ok
                if not ok:
                    skipped.append(c.id)
            return redirect(request, back, *_bulk_messages(done, skipped, "lagt tilbake", len(wanted) - len(cases)))
        return decision_routes.bulk(request, st, p, cases, wanted, action, comment, back,
                                    confirmed=bekreft == "ja", kontroll=kontroll)

    def _visible(request: Request, case_id: int) -> tuple[auth.Principal, ExceptionCase]:
        p = _principal(request)
        case = queries.get_case(st.reader, st.scope(p), case_id)
        if case is None:
            raise HTTPException(404)
        return p, case

    def _case_url(case_id: int, back: str) -> str:
        return f"/saker/{case_id}?{urlencode({'tilbake': back})}" if back != "/saker" else f"/saker/{case_id}"

    @r.post("/saker/{case_id:int}/ta")
    def claim(request: Request, case_id: int, tilbake: str = Form("/saker")):
        p, case = _visible(request, case_id)
        back = _back(request, tilbake)
        ok, holder = queries.claim(st.store, case.id, p.username)
        if ok:
            return redirect(request, _case_url(case.id, back), ("ok", "Du har tatt saken. Andre ser at du jobber med den."))
        if case.status not in queries.ACTIVE:
            return redirect(request, _case_url(case.id, back), ("error", "Saken er allerede avsluttet."))
        return redirect(request, _case_url(case.id, back),
                        ("error", f"Saken er allerede tatt av {st.full_name(holder)}."))

    @r.post("/saker/{case_id:int}/legg-tilbake")
    def release(request: Request, case_id: int, tilbake: str = Form("/saker")):
        p, case = _visible(request, case_id)
        back = _back(request, tilbake)
        ok = queries.release(st.store, case.id, p.username, force=p.is_admin)
        msg = ("ok", "Saken er lagt tilbake i køen.") if ok else ("error", "Saken var ikke tatt av deg.")
        return redirect(request, _case_url(case.id, back), msg)

    def _refused(p: auth.Principal, case: ExceptionCase, back: str, form: dict[str, str], field_: str,
                 message: str) -> RedirectResponse:
        """POST-redirect-GET for a refused form on the case page: the error summary on top names the
        problem and links to its field; what was typed is kept."""
        st.keep_draft(p.session_id, case.id, form, {field_: message})
        return RedirectResponse(_case_url(case.id, back) + "#feil", status_code=303)

    @r.post("/saker/{case_id:int}/tildel")
    def assign(request: Request, case_id: int, assignee: str = Form(""), comment: str = Form(""),
               tilbake: str = Form("/saker")):
        p, case = _visible(request, case_id)
        back = _back(request, tilbake)
        form = {"skjema": "tildel", "assignee": assignee[:64], "assign_comment": comment}
        allowed = {u.username for u in queries.assignable_users(st.reader, case, st.catalogue)}
        if assignee not in allowed:
            return _refused(p, case, back, form, "assignee", "Velg en saksbehandler som har tilgang til saken.")
        try:
            clean = decisions.clean_comment(comment)
        except decisions.DecisionError as exc:
            return _refused(p, case, back, form, "assign_comment", str(exc))
        if not queries.reassign(st.store, case.id, assignee, p.username, clean):
            return redirect(request, _case_url(case.id, back), ("error", "Saken er allerede avsluttet."))
        return redirect(request, _case_url(case.id, back), ("ok", f"Saken er tildelt {st.full_name(assignee)}."))

    @r.post("/saker/{case_id:int}/gjenapne")
    def reopen(request: Request, case_id: int, comment: str = Form(""), tilbake: str = Form("/saker")):
        p, case = _visible(request, case_id)
        back = _back(request, tilbake)
        if case.status in queries.ACTIVE or case.decision_applied_at is not None:
            return redirect(request, _case_url(case.id, back),
                            ("error", "Beslutningen er allerede utført av roboten og kan ikke angres her."))
        try:
            clean = decisions.clean_comment(comment)
        except decisions.DecisionError as exc:
            return _refused(p, case, back, {"skjema": "gjenapne", "reopen_comment": comment}, "reopen_comment",
                            str(exc))
        st.store.reopen(case.id, p.username, clean)
        return redirect(request, _case_url(case.id, back), ("ok", "Beslutningen er angret; saken er åpen igjen."))

    @r.post("/saker/{case_id:int}/vis-fnr", response_class=HTMLResponse)
    def reveal(request: Request, case_id: int, tilbake: str = Form("/saker")):
        p, case = _visible(request, case_id)
        back = _back(request, tilbake)
        if not p.may_reveal_fnr:
            st.store.audit(p.username, "fnr.reveal_refused", case.process_id, case_id=case.id)
            raise HTTPException(403)
        if not (case.evidence or {}).get("fnr"):
            return redirect(request, _case_url(case.id, back), ("error", "Saken har ikke noe fødselsnummer."))
        st.store.audit(p.username, "fnr.revealed", case.process_id, case_id=case.id)
        log.info("fnr of case %s revealed to %s", case.id, p.username)
        ctx = _case_context(st, p, case, back, revealed=True)
        return render(request, "case.html", {"active_nav": "saker", **ctx})

    # ------------------------------------------------------------------ users (admin)

    def _admin(request: Request) -> auth.Principal:
        p = _principal(request)
        if not p.is_admin:
            raise HTTPException(403)
        return p

    @r.post("/brukere", response_class=HTMLResponse)
    def add_user(request: Request, username: str = Form(""), full_name: str = Form(""), role: str = Form(""),
                 org_units: str = Form(""), processes: list[str] = Form(default=[]), password: str = Form("")):
        p = _admin(request)
        try:
            auth.add_user(st.store, username, role, password, org_units=[org_units], processes=processes,
                          full_name=full_name, actor=p.username, known_processes=st.catalogue)
        except auth.UserError as exc:
            form = {"username": username, "full_name": full_name, "role": role, "org_units": org_units,
                    "processes": processes}
            return _users_page(request, st, str(exc), form, status_code=400)
        return redirect(request, "/brukere", ("ok", f"Brukeren {username.strip().lower()} er opprettet."))

    @r.post("/brukere/{username}/endre")
    def update_user(request: Request, username: str, role: str = Form(""), full_name: str = Form(""),
                    org_units: str = Form(""), processes: list[str] = Form(default=[])):
        p = _admin(request)
        try:
            auth.update_user(st.store, username, role=role, org_units=[org_units], processes=processes,
                             full_name=full_name, actor=p.username, known_processes=st.catalogue)
        except auth.UserError as exc:
            return redirect(request, "/brukere", ("error", str(exc)))
        return redirect(request, "/brukere", ("ok", f"Brukeren {username} er endret."))

    @r.post("/brukere/{username}/las-opp")
    def unlock(request: Request, username: str):
        p = _admin(request)
        try:
            auth.unlock_user(st.store, username, p.username)
        except auth.UserError as exc:
            return redirect(request, "/brukere", ("error", str(exc)))
        return redirect(request, "/brukere", ("ok", f"Brukeren {username} er låst opp."))

    @r.post("/brukere/{username}/passord")
    def new_password(request: Request, username: str, password: str = Form("")):
        p = _admin(request)
        try:
            auth.set_password(st.store, username, password, p.username)
        except auth.UserError as exc:
            return redirect(request, "/brukere", ("error", str(exc)))
        return redirect(request, "/brukere", ("ok", f"Nytt passord er satt for {username}."))


def _bulk_messages(done: int, skipped: list[int], verb: str, missing: int) -> list[tuple[str, str]]:
    msgs = []
    if done:
        msgs.append(("ok", f"{done} {'sak' if done == 1 else 'saker'} {verb}."))
    if skipped or missing:
        msgs.append(("error", f"{len(skipped) + missing} saker ble hoppet over (tatt av andre, avsluttet eller "
                              "uten tilgang)."))
    return msgs
