"""The finance system's web door (Norwegian), the path the Playwright bot drives.

  GET/POST /login                      Brukernavn + Passord -> session cookie
  GET      /bilag?bilagsnummer=…       search by voucher number, or orgnr + fakturanummer,
  GET      /bilag?sjekksum=…           or attachments by content (SHA-256) across all vouchers
  GET      /bilag/{nr}                 voucher fields, status, attachment list, upload form
  POST     /bilag/{nr}/vedlegg         upload (fil, dokumenttype, kommentar, csrf)
  GET      /bilag/{nr}/vedlegg/{id}    download an attachment
  POST     /logg-ut                    log out
Sessions live in memory behind an HttpOnly cookie. A session idle longer than
FaultSettings.session_idle_seconds (default FinanceConfig.default_session_idle_seconds) is gone:
the next request is sent to /login?utlopt=1 ("Økten er utløpt"). Fault knobs read per request:
slow_page_ms, session_idle_seconds, alternate_layout (renamed buttons, upload form moved above
the attachment list, different element ids).
"""

from __future__ import annotations

import asyncio
import hmac
import re
import secrets
import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates

from sandbox.finance.api import content_response
from sandbox.finance.store import Attachment, FinanceStore, Voucher
from sandbox.finance.upload import UploadError, drain, handle_upload
from sandbox.sessions import SessionTable

COOKIE = "okonomi_sesjon"
DOCUMENT_TYPES = ("Underbilag", "Kvittering", "Timeliste", "Kontrakt", "Følgeseddel", "Dokumentasjon",
                  "Korrespondanse")
SHA256_HEX = re.compile(r"[0-9a-f]{64}")
STATUS_TEXT = {"open": "Åpen", "posted": "Bokført", "locked": "Låst"}
BUTTONS = {
    False: {"login": "Logg inn", "search": "Søk", "upload": "Last opp", "logout": "Logg ut"},
    True: {"login": "Logg på", "search": "Finn bilag", "upload": "Send inn", "logout": "Logg av"},
}

templates = Jinja2Templates(directory=str(Path(__file__).parent / "templates"))
router = APIRouter(include_in_schema=False)


# --- Norwegian formats (dd.mm.åååå, 1 234,50) ---------------------------------------------------------

def format_amount(value: float) -> str:
    whole, frac = f"{abs(value):,.2f}".split(".")
    return ("-" if value < 0 else "") + whole.replace(",", " ") + "," + frac


def format_date(iso: str) -> str:
    return f"{iso[8:10]}.{iso[5:7]}.{iso[0:4]}"


def format_timestamp(iso: str) -> str:
    moment = datetime.fromisoformat(iso)
    return moment.strftime("%d.%m.%Y kl. %H:%M")


def format_bytes(n: int) -> str:
    return f"{n:,}".replace(",", " ") + " byte"


def status_text(voucher: Voucher) -> str:
    text = STATUS_TEXT.get(voucher.status, voucher.status)
    return f"{text} (perioden er stengt)" if voucher.status != "locked" and voucher.period_closed else text


templates.env.filters.update(amount=format_amount, date=format_date, timestamp=format_timestamp,
                             bytes=format_bytes, status=status_text)


# --- sessions -----------------------------------------------------------------------------------------

@dataclass
class Session:
    user: str
    csrf: str = field(default_factory=lambda: secrets.token_urlsafe(24))
    last_seen: float = field(default_factory=time.monotonic)


class Sessions(SessionTable[Session]):
    def __init__(self) -> None:
        super().__init__(Session, unknown_is_expired=True)  # a forgotten cookie: "Økten er utløpt"


class LoginRequired(Exception):
    def __init__(self, expired: bool):
        super().__init__("login required")
        self.expired = expired


async def login_redirect(request: Request, exc: LoginRequired) -> RedirectResponse:
    await drain(request)  # an upload posted into an expired session: read it, then send to login
    response = RedirectResponse("/login?utlopt=1" if exc.expired else "/login", status_code=303)
    if exc.expired:
        response.delete_cookie(COOKIE, path="/")
    return response


def _store(request: Request) -> FinanceStore:
    return request.app.state.store


def _idle_seconds(request: Request) -> float:
    configured = request.app.state.faults.settings.session_idle_seconds
    return float(configured) if configured else request.app.state.config.default_session_idle_seconds


def _session(request: Request) -> Session:
    session, expired = request.app.state.sessions.get(request.cookies.get(COOKIE), _idle_seconds(request))
    if session is None:
        raise LoginRequired(expired)
    return session


async def _page(request: Request, name: str, context: dict, status_code: int = 200) -> HTMLResponse:
    faults = request.app.state.faults.settings
    if faults.slow_page_ms:
        await asyncio.sleep(faults.slow_page_ms / 1000)
    alternate = bool(faults.alternate_layout)
    context = {"alt": alternate, "buttons": BUTTONS[alternate], **context}
    response = templates.TemplateResponse(request, name, context, status_code=status_code)
    response.headers["Cache-Control"] = "no-store"
    return response


# --- routes -------------------------------------------------------------------------------------------

@router.get("/")
async def root() -> RedirectResponse:
    return RedirectResponse("/bilag", status_code=303)


@router.get("/login")
async def login_form(request: Request, utlopt: int = 0, logget_ut: int = 0) -> HTMLResponse:
    message = None
    if utlopt:
        message = ("alert", "Økten er utløpt. Logg inn på nytt.")
    elif logget_ut:
        message = ("status", "Du er logget ut.")
    return await _page(request, "login.html", {"user": None, "message": message, "username": ""})


@router.post("/login")
async def login(request: Request) -> Response:
    form = await request.form()
    username = str(form.get("brukernavn") or "").strip()
    password = str(form.get("passord") or "")
    settings = request.app.state.finance
    ok = hmac.compare_digest(username.encode(), settings.web_username.encode()) and \
        hmac.compare_digest(password.encode(), settings.web_password.get_secret_value().encode())
    if not ok:
        return await _page(request, "login.html", {
            "user": None, "username": username,
            "message": ("alert", "Feil brukernavn eller passord.")}, status_code=200)
    token = request.app.state.sessions.new(username)
    response = RedirectResponse("/bilag", status_code=303)
    response.set_cookie(COOKIE, token, httponly=True, samesite="lax", path="/")
    return response


@router.post("/logg-ut")
async def logout(request: Request) -> RedirectResponse:
    request.app.state.sessions.drop(request.cookies.get(COOKIE))
    response = RedirectResponse("/login?logget_ut=1", status_code=303)
    response.delete_cookie(COOKIE, path="/")
    return response


@router.get("/bilag")
async def search(request: Request, bilagsnummer: str = "", orgnr: str = "", fakturanummer: str = "",
                 sjekksum: str = "") -> HTMLResponse:
    session = _session(request)
    bilagsnummer, orgnr, fakturanummer = bilagsnummer.strip(), orgnr.strip(), fakturanummer.strip()
    checksum = sjekksum.strip().lower()
    searched = bool(bilagsnummer or orgnr or fakturanummer or checksum)
    message = None
    results: list[Voucher] = []
    found: list[Attachment] = []
    if checksum:
        if SHA256_HEX.fullmatch(checksum):
            found = _store(request).attachments.by_sha256(checksum)
        else:
            message = ("alert", "Sjekksummen må være en SHA-256: 64 tegn, bare 0–9 og a–f.")
    elif bilagsnummer or (orgnr and fakturanummer):
        results = _store(request).search(bilagsnummer or None, orgnr or None, fakturanummer or None)
    elif searched:
        message = ("alert", "Fyll ut bilagsnummer, både leverandørens orgnr og fakturanummer, eller en sjekksum.")
    return await _page(request, "search.html", {
        "user": session.user, "active": "bilag", "searched": searched, "results": results, "found": found,
        "by_checksum": bool(checksum), "message": message,
        "q": {"bilagsnummer": bilagsnummer, "orgnr": orgnr, "fakturanummer": fakturanummer, "sjekksum": sjekksum}})


async def _voucher_page(request: Request, session: Session, voucher_number: str, *, message=None,
                        status_code: int = 200) -> HTMLResponse:
    store = _store(request)
    voucher = store.vouchers.get(voucher_number)
    if voucher is None:
        return await _page(request, "not_found.html", {"user": session.user, "active": "bilag",
                                                       "voucher_number": voucher_number}, status_code=404)
    return await _page(request, "voucher.html", {
        "user": session.user, "active": "bilag", "voucher": voucher,
        "attachments": store.attachments.for_voucher(voucher.voucher_number),
        "document_types": DOCUMENT_TYPES, "csrf": session.csrf, "message": message,
        "max_mb": request.app.state.config.max_upload_bytes / (1024 * 1024)}, status_code=status_code)


@router.get("/bilag/{voucher_number}")
async def voucher_page(request: Request, voucher_number: str, lastet_opp: str = "") -> HTMLResponse:
    session = _session(request)
    message = None
    if lastet_opp:
        attachment = _store(request).attachments.get(lastet_opp)
        if attachment is not None and attachment.voucher_number == voucher_number:
            message = ("status", f"Vedlegget er lastet opp: {attachment.file_name}")
    return await _voucher_page(request, session, voucher_number, message=message)


@router.post("/bilag/{voucher_number}/vedlegg")
async def upload(request: Request, voucher_number: str) -> Response:
    session = _session(request)

    def check_csrf(fields: dict[str, str]) -> None:
        if not hmac.compare_digest(fields.get("csrf", "").encode(), session.csrf.encode()):
            raise UploadError(400, "INVALID_REQUEST", "Skjemaet er utløpt. Last siden på nytt og prøv igjen.")

    try:
        attachment, _ = await handle_upload(
            request, _store(request), voucher_number, max_bytes=request.app.state.config.max_upload_bytes,
            uploaded_by=session.user, channel="web", file_field="fil", document_type_field="dokumenttype",
            comment_field="kommentar", check_fields=check_csrf)
    except UploadError as exc:
        return await _voucher_page(request, session, voucher_number, status_code=exc.status,
                                   message=("alert", f"Opplastingen ble avvist: {exc.message}"))
    return RedirectResponse(f"/bilag/{voucher_number}?lastet_opp={attachment.id}", status_code=303)


@router.get("/bilag/{voucher_number}/vedlegg/{attachment_id}")
async def download(request: Request, voucher_number: str, attachment_id: str) -> Response:
    session = _session(request)
    store = _store(request)
    attachment = store.attachments.get(attachment_id)
    if attachment is None or attachment.voucher_number != voucher_number:
        return await _page(request, "not_found.html", {"user": session.user, "active": "bilag",
                                                       "voucher_number": voucher_number}, status_code=404)
    return content_response(store, attachment)
