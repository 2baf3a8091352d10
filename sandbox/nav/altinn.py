"""The Altinn-like inbox: log in (username + password), one-time code, messages, attachments.

  GET/POST /altinn/logg-inn           username + password
  GET/POST /altinn/engangskode        6-digit TOTP (RFC 6238) from settings.nav.altinn_otp_secret
  GET      /altinn/innboks?side=N     the messages, newest first, 10 per page
  GET      /altinn/melding/{id}       one message (marks it read) with its attachments
  GET      /altinn/melding/{id}/vedlegg/{csv|pdf}   the attachment (Content-Disposition)
  POST|GET /altinn/logg-ut
Sessions live in memory behind an HttpOnly cookie; every page but the log-in pages redirects
to the log-in when there is no (or an expired) session. Fault knobs read per request:
slow_page_ms, session_idle_seconds, alternate_layout (renamed buttons and links, the message
list as cards instead of a table, a decoy log-in button).
"""

from __future__ import annotations

import asyncio
import hmac
import math
import time
from dataclasses import dataclass, field
from pathlib import Path

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates

from sandbox.nav import totp
from sandbox.nav.api import CSV_TYPE
from sandbox.nav.k27 import format_account, format_nok, summary_lines, total_ore
from sandbox.nav.pdf import simple_pdf
from sandbox.nav.reports import Report, ReportStore
from sandbox.sessions import SessionTable

PREFIX = "/altinn"
PAGE_SIZE = 10
COOKIE = "altinn_sesjon"
MAX_CODE_ATTEMPTS = 3
MESSAGE_TITLE = "Oppgjørsrapport arbeidsgiver – refusjoner fra Nav"

templates = Jinja2Templates(directory=str(Path(__file__).parent / "templates"))
router = APIRouter(prefix=PREFIX, include_in_schema=False)


@dataclass
class Session:
    user: str
    stage: str  # "code" (password given, waiting for the one-time code) | "in"
    last_seen: float = field(default_factory=time.monotonic)
    code_attempts: int = 0


class Sessions(SessionTable[Session]):
    def __init__(self) -> None:
        super().__init__(lambda user: Session(user, "code"), unknown_is_expired=False, token_bytes=24)


def _sessions(request: Request) -> Sessions:
    app = request.app
    if not hasattr(app.state, "altinn_sessions"):
        app.state.altinn_sessions = Sessions()
    return app.state.altinn_sessions


def _store(request: Request) -> ReportStore:
    return request.app.state.store


def _alternate(request: Request) -> bool:
    return bool(request.app.state.faults.settings.alternate_layout)


def _session(request: Request) -> tuple[Session | None, bool]:
    idle = request.app.state.faults.settings.session_idle_seconds
    return _sessions(request).get(request.cookies.get(COOKIE), idle)


async def _render(request: Request, template: str, status_code: int = 200, **context) -> HTMLResponse:
    delay = request.app.state.faults.settings.slow_page_ms
    if delay:  # the slow_page_ms knob: pages (not the API) take this long to render
        await asyncio.sleep(delay / 1000)
    context.setdefault("user", None)
    context.update(alternate=_alternate(request), title_text=MESSAGE_TITLE)
    response = templates.TemplateResponse(request, template, context, status_code=status_code)
    response.headers["Cache-Control"] = "no-store"
    return response


def _to_login(request: Request, reason: str | None = None) -> RedirectResponse:
    response = RedirectResponse(f"{PREFIX}/logg-inn" + (f"?melding={reason}" if reason else ""), 303)
    response.delete_cookie(COOKIE, path=PREFIX)
    return response


def _logged_in(request: Request) -> Session | RedirectResponse:
    session, expired = _session(request)
    if session is None or session.stage != "in":
        return _to_login(request, "utlopt" if expired else None)
    return session


LOGIN_NOTICES = {
    "utlopt": "Økten din er utløpt fordi du har vært inaktiv. Logg inn på nytt.",
    "utlogget": "Du er nå logget ut.",
    "forsok": "For mange feil engangskoder. Logg inn på nytt.",
}


# -- log-in ------------------------------------------------------------------------------------
@router.get("", response_model=None)
@router.get("/", response_model=None)
def start(request: Request) -> RedirectResponse:
    session, _ = _session(request)
    target = "innboks" if session and session.stage == "in" else "logg-inn"
    return RedirectResponse(f"{PREFIX}/{target}", 303)


@router.get("/logg-inn")
async def login_page(request: Request, melding: str | None = None) -> HTMLResponse:
    return await _render(request, "login.html", notice=LOGIN_NOTICES.get(melding or ""))


@router.post("/logg-inn", response_model=None)
async def login(request: Request, brukernavn: str = Form(""), passord: str = Form("")) -> Response:
    nav = request.app.state.nav
    user_ok = hmac.compare_digest(brukernavn.strip().encode(), nav.altinn_username.encode())
    password_ok = hmac.compare_digest(passord.encode(), nav.altinn_password.get_secret_value().encode())
    if not (user_ok and password_ok):
        return await _render(request, "login.html", status_code=401, username=brukernavn,
                             error="Feil brukernavn eller passord. Prøv igjen.")
    _sessions(request).drop(request.cookies.get(COOKIE))
    response = RedirectResponse(f"{PREFIX}/engangskode", 303)
    response.set_cookie(COOKIE, _sessions(request).new(brukernavn.strip()), httponly=True,
                        samesite="lax", path=PREFIX)
    return response


@router.get("/engangskode", response_model=None)
async def code_page(request: Request) -> Response:
    session, expired = _session(request)
    if session is None:
        return _to_login(request, "utlopt" if expired else None)
    if session.stage == "in":
        return RedirectResponse(f"{PREFIX}/innboks", 303)
    return await _render(request, "code.html")


@router.post("/engangskode", response_model=None)
async def verify_code(request: Request, engangskode: str = Form("")) -> Response:
    session, expired = _session(request)
    if session is None:
        return _to_login(request, "utlopt" if expired else None)
    secret = request.app.state.nav.altinn_otp_secret.get_secret_value()
    if totp.verify(secret, engangskode):
        session.stage = "in"
        return RedirectResponse(f"{PREFIX}/innboks", 303)
    session.code_attempts += 1
    if session.code_attempts >= MAX_CODE_ATTEMPTS:
        _sessions(request).drop(request.cookies.get(COOKIE))
        return _to_login(request, "forsok")
    left = MAX_CODE_ATTEMPTS - session.code_attempts
    return await _render(request, "code.html", status_code=401,
                         error=f"Feil engangskode. Du har {left} forsøk igjen.")


@router.post("/logg-ut", response_model=None)
@router.get("/logg-ut", response_model=None)
def logout(request: Request) -> RedirectResponse:
    _sessions(request).drop(request.cookies.get(COOKIE))
    return _to_login(request, "utlogget")


# -- inbox -------------------------------------------------------------------------------------
@dataclass(frozen=True)
class MessageRow:
    id: int
    org_navn: str
    orgnr: str
    received: str  # dd.mm.åååå
    received_iso: str
    read: bool


def _orgnr_spaced(orgnr: str) -> str:
    return f"{orgnr[:3]} {orgnr[3:6]} {orgnr[6:]}" if len(orgnr) == 9 else orgnr


def _newest_first(store: ReportStore) -> list[Report]:
    return sorted(store.all(), key=lambda r: (r.opprettet, r.id), reverse=True)


@router.get("/innboks", response_model=None)
async def inbox(request: Request, side: int = 1) -> Response:
    session = _logged_in(request)
    if isinstance(session, RedirectResponse):
        return session
    store = _store(request)
    reports = _newest_first(store)
    pages = max(1, math.ceil(len(reports) / PAGE_SIZE))
    page = min(max(side, 1), pages)
    shown = reports[(page - 1) * PAGE_SIZE: page * PAGE_SIZE]
    rows = [MessageRow(r.id, r.org_navn, r.orgnr, f"{r.opprettet:%d.%m.%Y}", r.opprettet.date().isoformat(),
                       store.is_read(r)) for r in shown]
    unread = sum(not store.is_read(r) for r in reports)
    return await _render(request, "inbox.html", user=session.user, rows=rows, page=page, pages=pages,
                         total=len(reports), unread=unread, spaced=_orgnr_spaced)


@router.get("/melding/{report_id}", response_model=None)
async def message(request: Request, report_id: str) -> Response:
    session = _logged_in(request)
    if isinstance(session, RedirectResponse):
        return session
    store = _store(request)
    report = store.get(report_id)
    if report is None:
        return await _render(request, "not_found.html", status_code=404, user=session.user)
    store.mark_read(report)
    content = store.content(report)
    count, total = total_ore(content)
    return await _render(
        request, "message.html", user=session.user, report=report, line_count=count,
        total=format_nok(total), account=format_account(report.bankkonto), csv_size=len(content),
        received=f"{report.opprettet:%d.%m.%Y}", value_date=f"{report.dato_valutert:%d.%m.%Y}",
        csv_name=f"{report.filename}.csv", pdf_name=f"{report.filename}.pdf", spaced=_orgnr_spaced)


@router.get("/melding/{report_id}/vedlegg/{variant}", response_model=None)
async def attachment(request: Request, report_id: str, variant: str) -> Response:
    session = _logged_in(request)
    if isinstance(session, RedirectResponse):
        return session
    store = _store(request)
    report = store.get(report_id)
    if report is None or variant not in ("csv", "pdf"):
        return await _render(request, "not_found.html", status_code=404, user=session.user)
    content = store.content(report)
    if variant == "csv":
        return Response(content, media_type=CSV_TYPE, headers={
            "Content-Disposition": f'attachment; filename="{report.filename}.csv"'})
    return Response(simple_pdf(summary_lines(report, content)), media_type="application/pdf",
                    headers={"Content-Disposition": f'attachment; filename="{report.filename}.pdf"'})
