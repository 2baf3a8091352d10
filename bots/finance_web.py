"""Page object for the finance system's web UI (Norwegian): the door where no API is offered.

    with FinanceWeb.start(settings) as web:          # own browser, context, login
        vouchers = web.search(voucher_number="26000123")
        listed = web.attachments("26000123")
        listed = web.upload("26000123", Upload(...))  # confirms, then reads the list back

It returns the same models as the REST connector (connectors.finance) and raises the same
errors, so the flow does not care which door it uses. What it does for robustness:
- locators by role and label (the alternate layout renames buttons and moves the upload form);
- an expired session (idle timeout: /login?utlopt=1) is met by logging in again and redoing the
  step; an upload that met the login page is only repeated after the attachment list shows it
  did not arrive;
- 5xx pages are retried a few times with backoff, then raised as FinanceUnavailable;
- no sleeps: every step waits on the navigation or the element it needs;
- a Playwright trace chunk per item, kept (with a screenshot) only when the item fails.
"""

from __future__ import annotations

import contextlib
import hashlib
import re
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlencode, urlsplit

from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from config.settings import Settings
from connectors.finance.errors import (
    FileTooLarge,
    FileTypeNotAllowed,
    FinanceAuthError,
    FinanceBusinessError,
    FinanceUnavailable,
    SessionExpired,
    VoucherLocked,
    VoucherNotFound,
)
from connectors.finance.models import Attachment, Upload, Voucher

T = TypeVar("T")

# ---------------------------------------------------------------------------- locators (one place)
LOGIN_PATH = "/login"
SEARCH_PATH = "/bilag"
USERNAME_LABEL = "Brukernavn"
PASSWORD_LABEL = "Passord"
LOGIN_BUTTON = re.compile(r"^\s*(Logg inn|Logg på)\s*$")
LOGOUT_BUTTON = re.compile(r"^\s*(Logg ut|Logg av)\s*$")
SEARCH_BUTTON = re.compile(r"^\s*(Søk|Finn bilag)\s*$")
UPLOAD_BUTTON = re.compile(r"^\s*(Last opp|Send inn)\s*$")
VOUCHER_FIELD = re.compile(r"^\s*Bilagsnummer\s*$")
ORGNR_FIELD = re.compile(r"orgnr|organisasjonsnummer", re.I)
INVOICE_FIELD = re.compile(r"^\s*Fakturanummer\s*$")
CONTENT_FIELD = re.compile(r"SHA-256|sjekksum", re.I)  # a search by content, where the UI has one
FILE_FIELD = re.compile(r"^\s*Velg fil")
DOCTYPE_FIELD = re.compile(r"^\s*Dokumenttype\s*$")
COMMENT_FIELD = re.compile(r"^\s*Kommentar\s*$")
RESULTS_HEADER = re.compile(r"^\s*Bilagsnr")
ATTACHMENTS_HEADER = "SHA-256"
DETAILS_REGION = "Bilagsopplysninger"  # aria-label of the voucher's field list
CONFIRMATION = re.compile(r"Vedlegget er lastet opp")
REFUSED = re.compile(r"Opplastingen ble avvist")
LOGIN_FAILED = re.compile(r"Feil brukernavn eller passord")

UPLOAD_BLOCKED = re.compile(r"Opplasting er ikke mulig")
NOT_FOUND_HEADING = re.compile(r"^Fant ikke bilag")
STATUS_FROM_TEXT = {"åpen": "open", "bokført": "posted", "låst": "locked"}

# One round trip reads what a step needs from a server-rendered page: tables (by their header
# texts), the voucher's fields, status/alert/note messages, the upload form's options.
_STATE_JS = """() => {
  const text = (el) => el ? el.textContent.trim() : '';
  const tables = [...document.querySelectorAll('table')].map(t => {
    const heads = [...t.querySelectorAll('thead th')].map(text);
    const rows = [...t.querySelectorAll('tbody tr')].map(tr => {
      const cells = {};
      [...tr.cells].forEach((td, i) => { cells[heads[i] || String(i)] = text(td); });
      const bytes = tr.querySelector('[data-bytes]');
      const badge = tr.querySelector('.badge');
      return {cells, id: tr.dataset.attachmentId || '', bytes: bytes ? bytes.dataset.bytes : null,
              badge: badge ? badge.className : ''};
    });
    return {heads, rows};
  });
  const details = {};
  const region = document.querySelector('[aria-label="__REGION__"]');
  if (region) {
    region.querySelectorAll('dt').forEach(dt => {
      if (dt.nextElementSibling) details[text(dt)] = text(dt.nextElementSibling);
    });
    const badge = region.querySelector('.badge');
    details['__badge'] = badge ? badge.className : '';
  }
  const all = (sel) => [...document.querySelectorAll(sel)].map(text);
  return {h1: text(document.querySelector('h1')), tables, details,
          statuses: all('[role=status]'), alerts: all('[role=alert]'), notes: all('[role=note]'),
          file_input: !!document.querySelector('input[type=file]'),
          options: [...document.querySelectorAll('form select option')].map(text)};
}""".replace("__REGION__", DETAILS_REGION)


def _transient_browser_error(exc: Exception) -> bool:
    """A timeout or a network error (the server restarting, a dropped connection): worth a retry.
    Anything else (a locator that no longer matches: the page changed) is raised as it is."""
    return isinstance(exc, PlaywrightTimeout) or "net::ERR_" in str(exc)


def _iso_date(text: str) -> str:
    m = re.fullmatch(r"(\d{2})\.(\d{2})\.(\d{4})", text.strip())
    return f"{m.group(3)}-{m.group(2)}-{m.group(1)}" if m else text.strip()


def _iso_timestamp(text: str) -> str:
    m = re.fullmatch(r"(\d{2})\.(\d{2})\.(\d{4}) kl\. (\d{2}):(\d{2})", text.strip())
    return f"{m.group(3)}-{m.group(2)}-{m.group(1)}T{m.group(4)}:{m.group(5)}" if m else text.strip()


def _amount(text: str) -> tuple[float | None, str]:
    """'1 234,50 NOK' -> (1234.5, 'NOK')."""
    m = re.match(r"\s*(-?[\d\s\u00a0\u202f]+(?:,\d+)?)\s*([A-Z]{3})?", text)
    if not m:
        return None, "NOK"
    number = re.sub(r"[\s\u00a0\u202f]", "", m.group(1)).replace(",", ".")
    try:
        return float(number), m.group(2) or "NOK"
    except ValueError:
        return None, m.group(2) or "NOK"


def _status(badge_class: str, text: str) -> tuple[str, bool]:
    """(status, period closed) from the status badge's class and text."""
    status = next((s for s in ("open", "posted", "locked") if s in badge_class.split()), "")
    if not status:
        status = STATUS_FROM_TEXT.get(text.split("(")[0].strip().lower(), "open")
    return status, "stengt" in text.lower()


class FinanceWeb:
    """One browser context logged in to the finance system's web UI."""

    door = "web"

    def __init__(self, page, settings: Settings, *, evidence_dir: Path | None = None,
                 owner: tuple[Any, Any] | None = None, sleep: Callable[[float], None] = time.sleep):
        self.page = page
        self.context = page.context
        self.settings = settings
        self.base_url = settings.finance.web_base_url.rstrip("/")
        self.evidence_dir = evidence_dir
        self._owner = owner  # (playwright, browser) when this object started them
        self._sleep = sleep
        self._tracing = False
        self._chunk = False
        self.logins = 0
        self.relogins = 0
        self.retries = 0
        self.max_attempts = 5  # per step, for 5xx pages and timeouts
        self.max_relogins = 3  # per step, for expired sessions
        # Where the search page's checksum search sends its query, (form action, field name);
        # False when the UI has none; None until the page was looked at.
        self._content_search: tuple[str, str] | bool | None = None
        self._search_tab = None  # a second tab for checksum searches: the voucher page stays open
        self._items = 0
        self.recycle_page_every = 25

    # ------------------------------------------------------------------ lifecycle

    @classmethod
    def start(cls, settings: Settings, *, evidence_dir: Path | None = None, login: bool = True) -> FinanceWeb:
        """Start Playwright, Chromium and one browser context in this thread (sync Playwright
        belongs to the thread that started it), then log in. Parallel work means one FinanceWeb
        per thread. (One Chromium shared over CDP by several threads' contexts was measured:
        ~50 % more CPU per file for ~15 % less memory, so each context has its own browser.)"""
        from playwright.sync_api import sync_playwright

        pw = sync_playwright().start()
        browser = None
        try:
            browser = pw.chromium.launch(**settings.browser.launch_options())
            context = browser.new_context(locale="nb-NO", timezone_id="Europe/Oslo", accept_downloads=False)
            context.set_default_timeout(settings.browser.timeout_ms)
            page = context.new_page()
            web = cls(page, settings, evidence_dir=evidence_dir, owner=(pw, browser))
            if settings.browser.trace_on_failure:
                # DOM snapshots only: screencast frames would double the cost per step, and a
                # full-page screenshot is taken on failure anyway.
                context.tracing.start(screenshots=False, snapshots=True, sources=False)
                web._tracing = True
            if login:
                web.login_retrying()
            return web
        except BaseException:
            if browser is not None:
                browser.close()
            pw.stop()
            raise

    def __enter__(self) -> FinanceWeb:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        try:
            if not self.page.is_closed() and self._logged_in():
                self.logout()
        except Exception:  # noqa: BLE001 - closing after a failure must not raise a second error
            pass
        if self._owner is not None:
            pw, browser = self._owner
            self._owner = None
            try:
                self.context.close()
                browser.close()
            finally:
                pw.stop()

    # ------------------------------------------------------------------ login

    def login(self) -> None:
        page = self.page
        self._goto(LOGIN_PATH, allow_login_page=True)
        page.get_by_label(USERNAME_LABEL, exact=True).fill(self.settings.finance.web_username)
        page.get_by_label(PASSWORD_LABEL, exact=True).fill(self.settings.finance.web_password.get_secret_value())
        response = self._submit(page.get_by_role("button", name=LOGIN_BUTTON))
        if self._on_login_page():
            if page.get_by_text(LOGIN_FAILED).count():
                raise FinanceAuthError(f"the web UI refused user {self.settings.finance.web_username!r}",
                                       code="LOGIN_FAILED", status=response.status if response else None)
            raise FinanceUnavailable("login did not complete (still on the login page)")
        self.logins += 1

    def logout(self) -> None:
        button = self.page.get_by_role("button", name=LOGOUT_BUTTON)
        if button.count():
            self._submit(button)

    def _logged_in(self) -> bool:
        return self.page.get_by_role("button", name=LOGOUT_BUTTON).count() > 0

    def _on_login_page(self) -> bool:
        return urlsplit(self.page.url).path.rstrip("/") == LOGIN_PATH

    # ------------------------------------------------------------------ navigation with recovery

    def _check(self, response, what: str) -> None:
        status = response.status if response is not None else 200
        if status >= 500 or status in (408, 429):
            raise FinanceUnavailable(f"{what}: HTTP {status}", status=status)

    def _goto(self, path: str, *, allow_login_page: bool = False):
        response = self.page.goto(f"{self.base_url}{path}", wait_until="domcontentloaded")
        self._check(response, f"GET {path}")
        if not allow_login_page and self._on_login_page():
            raise SessionExpired("redirected to the login page")
        return response

    def _submit(self, button):
        with self.page.expect_navigation(wait_until="domcontentloaded") as nav:
            button.click()
        response = nav.value
        self._check(response, "form submit")
        return response

    def _step(self, what: str, action: Callable[[], T]) -> T:
        """Run `action`; on an expired session log in again, on a 5xx page back off; then redo.
        The two have their own budgets: a session that expires twice in one step is not a
        reason to give up on a system that answers."""
        last: Exception | None = None
        failures = relogins = 0
        while True:
            try:
                result = action()
                if self._on_login_page():
                    raise SessionExpired(f"{what}: the session expired")
                return result
            except SessionExpired as exc:
                last = exc
                relogins += 1
                self.relogins += 1
                if relogins > self.max_relogins:
                    raise SessionExpired(f"{what}: the session expired {relogins} times in a row ({last})") from None
                self._relogin()
            except (FinanceUnavailable, PlaywrightError) as exc:
                if isinstance(exc, PlaywrightError) and not _transient_browser_error(exc):
                    raise
                last = exc
                failures += 1
                self.retries += 1
                if failures >= self.max_attempts:
                    raise FinanceUnavailable(f"{what}: no success after {failures} attempts ({last})") from None
                self._sleep(min(0.2 * 2 ** (failures - 1), 3.0))  # retry backoff, not a UI wait

    def login_retrying(self, attempts: int = 6) -> None:
        """Log in, backing off on 5xx pages (a wrong password is raised at once)."""
        last: Exception | None = None
        for attempt in range(1, attempts + 1):
            try:
                self.login()
                return
            except FinanceUnavailable as exc:
                last = exc
                if attempt < attempts:
                    self._sleep(min(0.2 * 2 ** (attempt - 1), 3.0))
        raise FinanceUnavailable(f"could not log in after {attempts} attempts ({last})")

    def _relogin(self) -> None:
        self.login_retrying()

    # ------------------------------------------------------------------ reading pages

    def _state(self) -> dict[str, Any]:
        return self.page.evaluate(_STATE_JS)

    @staticmethod
    def _table(state: dict[str, Any], header: str | re.Pattern[str]) -> list[dict[str, Any]]:
        """Rows of the first table with a column header matching `header`."""
        for table in state["tables"]:
            if any((header.search(h) if isinstance(header, re.Pattern) else h == header) for h in table["heads"]):
                return table["rows"]
        return []

    @staticmethod
    def _voucher_from_row(row: dict[str, Any]) -> Voucher:
        c = row["cells"]
        amount, currency = _amount(c.get("Beløp", ""))
        status, closed = _status(row.get("badge", ""), c.get("Status", ""))
        return Voucher(voucher_number=c.get("Bilagsnr", ""), supplier_name=c.get("Leverandør", ""),
                       supplier_org_no=c.get("Orgnr", ""), invoice_number=c.get("Fakturanr", ""),
                       amount=amount, currency=currency, voucher_date=_iso_date(c.get("Bilagsdato", "")),
                       period=c.get("Periode", ""), status=status, period_closed=closed)

    @staticmethod
    def _voucher_from_details(details: dict[str, str], voucher_number: str) -> Voucher:
        amount, currency = _amount(details.get("Beløp", ""))
        status, closed = _status(details.get("__badge", ""), details.get("Status", ""))
        return Voucher(voucher_number=details.get("Bilagsnummer", voucher_number),
                       supplier_name=details.get("Leverandør", ""),
                       supplier_org_no=details.get("Organisasjonsnummer", ""),
                       invoice_number=details.get("Fakturanummer", ""), amount=amount, currency=currency,
                       voucher_date=_iso_date(details.get("Bilagsdato", "")), period=details.get("Periode", ""),
                       status=status, period_closed=closed)

    def _attachments_from(self, state: dict[str, Any], voucher_number: str) -> list[Attachment]:
        out = []
        for row in self._table(state, ATTACHMENTS_HEADER):
            c = row["cells"]
            voucher = voucher_number or next((v for k, v in c.items() if k.lower().startswith("bilag")), "")
            size = int(row["bytes"]) if row.get("bytes") else int(re.sub(r"\D", "", c.get("Størrelse", "")) or 0)
            out.append(Attachment(
                id=row.get("id") or "", file_name=c.get("Filnavn", ""), size=size,
                sha256=c.get("SHA-256", "").lower(), document_type=c.get("Dokumenttype", ""),
                comment=c.get("Kommentar", ""), uploaded_at=_iso_timestamp(c.get("Lastet opp", "")),
                uploaded_by=c.get("Lastet opp av", ""), voucher_number=voucher))
        return out

    # ------------------------------------------------------------------ search and open

    def search(self, voucher_number: str | None = None, supplier_org_no: str | None = None,
               invoice_number: str | None = None) -> list[Voucher]:
        """Vouchers by number, or by supplier orgnr + invoice number, from the search page."""
        if not voucher_number and not (supplier_org_no and invoice_number):
            raise ValueError("search needs a voucher number, or a supplier orgnr and an invoice number")

        def run() -> list[Voucher]:
            page = self.page
            self._goto(SEARCH_PATH)  # a fresh, empty form: fill only what we search by
            if voucher_number:
                page.get_by_label(VOUCHER_FIELD).fill(voucher_number)
            else:
                page.get_by_label(ORGNR_FIELD).fill(supplier_org_no or "")
                page.get_by_label(INVOICE_FIELD).fill(invoice_number or "")
            self._submit(page.get_by_role("button", name=SEARCH_BUTTON))
            if self._on_login_page():
                raise SessionExpired("search: the session expired")
            return [self._voucher_from_row(r) for r in self._table(self._state(), RESULTS_HEADER)]

        return self._step("search", run)

    def _open(self, voucher_number: str) -> dict[str, Any]:
        """Open the voucher page (following the search result's link when it is on screen);
        returns what the page shows."""
        page = self.page
        if urlsplit(page.url).path.rstrip("/") == SEARCH_PATH:
            link = page.get_by_role("link", name=voucher_number, exact=True)
            if link.count() == 1:
                self._submit(link)
            else:
                self._goto(f"/bilag/{voucher_number}")
        else:
            self._goto(f"/bilag/{voucher_number}")
        if self._on_login_page():
            raise SessionExpired("open voucher: the session expired")
        state = self._state()
        if NOT_FOUND_HEADING.search(state["h1"]):
            raise VoucherNotFound(f"Fant ikke bilag {voucher_number}.", code="VOUCHER_NOT_FOUND", status=404)
        if voucher_number not in state["h1"]:
            raise FinanceUnavailable(f"open voucher {voucher_number}: unexpected page {page.url} "
                                     f"(heading {state['h1']!r})")
        return state

    def voucher(self, voucher_number: str) -> tuple[Voucher, list[Attachment]]:
        """The voucher page: its fields and its attachment list (one page load)."""

        def run() -> tuple[Voucher, list[Attachment]]:
            state = self._open(voucher_number)
            return (self._voucher_from_details(state["details"], voucher_number),
                    self._attachments_from(state, voucher_number))

        return self._step("open voucher", run)

    def attachments(self, voucher_number: str) -> list[Attachment]:
        return self.voucher(voucher_number)[1]

    def attachments_by_sha256(self, sha256: str) -> list[Attachment] | None:
        """Attachments with this content on any voucher, when the search page offers a search by
        checksum (a field labelled SHA-256 or Sjekksum); None when it does not (the caller then
        reads the voucher's own list and cannot see the document on other vouchers).
        The search runs in a second tab, so the voucher page open in the first stays there for
        the upload that follows (a page load saved per document)."""
        if self._content_search is None:
            self._content_search = self._step("probe search page", self._probe_content_search)
        if not self._content_search:
            return None
        action, field = self._content_search

        def run() -> list[Attachment]:
            main, self.page = self.page, self._searching_tab()
            try:
                self._goto(f"{action}?{urlencode({field: sha256})}")
                return [a for a in self._attachments_from(self._state(), "") if a.sha256 == sha256.lower()]
            finally:
                self.page = main

        return self._step("content search", run)

    def _probe_content_search(self) -> tuple[str, str] | bool:
        """Read once from the search form where its checksum field sends the query; later
        searches load the result page straight away (one page load instead of two)."""
        self._goto(SEARCH_PATH)
        field = self.page.get_by_label(CONTENT_FIELD)
        if field.count() != 1 or not field.get_attribute("name"):
            return False
        action = field.evaluate("f => new URL(f.form ? f.form.action : location.href).pathname")
        return action, str(field.get_attribute("name"))

    def _searching_tab(self):
        if self._search_tab is None or self._search_tab.is_closed():
            self._search_tab = self.context.new_page()
            self.page.bring_to_front()  # a new tab takes the focus; a tab behind it submits forms far slower
        return self._search_tab

    # ------------------------------------------------------------------ upload

    def upload(self, voucher_number: str, upload: Upload) -> list[Attachment]:
        """Attach through the upload form, check the confirmation, read the list back.
        After an expired session or a 5xx answer the list is read first: the form is only sent
        again when the document is not on the voucher (no duplicate from a retry)."""
        sha = hashlib.sha256(upload.content).hexdigest()
        sent = False
        first = True

        def run() -> list[Attachment]:
            nonlocal sent, first
            page = self.page
            on_voucher = urlsplit(page.url).path.rstrip("/") == f"/bilag/{voucher_number}"
            reuse = first and not sent and on_voucher  # the page the caller just read: no reload
            first = False
            state = self._state() if reuse else self._open(voucher_number)
            if sent:
                listed = self._attachments_from(state, voucher_number)
                if any(a.sha256 == sha for a in listed):
                    return listed  # the earlier submit did arrive
            if any(UPLOAD_BLOCKED.search(n) for n in state["notes"]):  # the page says so: locked
                raise VoucherLocked(f"Bilag {voucher_number} tar ikke imot vedlegg (låst eller stengt periode).",
                                    code="VOUCHER_LOCKED", status=409)
            if not state["file_input"]:  # not the page we expect (an error page): load it again
                raise FinanceUnavailable(f"upload to {voucher_number}: no upload form on {page.url} "
                                         f"(heading {state['h1']!r})")
            page.get_by_label(FILE_FIELD).set_input_files(
                {"name": upload.file_name, "mimeType": upload.media_type, "buffer": upload.content})
            self._choose_document_type(upload.document_type, state["options"])
            if upload.comment:
                page.get_by_label(COMMENT_FIELD).fill(upload.comment)
            sent = True
            response = self._submit(page.get_by_role("button", name=UPLOAD_BUTTON))
            if self._on_login_page():
                raise SessionExpired("upload: the session expired")
            after = self._state()
            status = response.status if response is not None else 200
            if status >= 400 or any(REFUSED.search(a) for a in after["alerts"]):
                self._refused(status, voucher_number, after["alerts"])
            if not any(CONFIRMATION.search(m) for m in after["statuses"]):
                raise FinanceUnavailable(f"upload to {voucher_number}: no confirmation on the page")
            return self._attachments_from(after, voucher_number)

        return self._step("upload", run)

    def _choose_document_type(self, wanted: str, options: list[str]) -> None:
        match = next((o for o in options if o.casefold() == (wanted or "").casefold()), None)
        if match is None:
            raise FinanceBusinessError(f"Dokumenttypen {wanted!r} finnes ikke i skjemaet "
                                       f"(valg: {', '.join(options)}).", code="INVALID_DOCUMENT_TYPE", status=400)
        self.page.get_by_label(DOCTYPE_FIELD).select_option(label=match)

    def _refused(self, status: int, voucher_number: str, alerts: list[str]) -> None:
        text = next((a for a in alerts if a), f"HTTP {status}")
        cls = {404: VoucherNotFound, 409: VoucherLocked, 413: FileTooLarge, 415: FileTypeNotAllowed}.get(status)
        code = {404: "VOUCHER_NOT_FOUND", 409: "VOUCHER_LOCKED", 413: "FILE_TOO_LARGE",
                415: "FILE_TYPE_NOT_ALLOWED"}.get(status, "INVALID_REQUEST")
        if cls is None and "Skjemaet er utløpt" in text:
            raise SessionExpired(f"upload to {voucher_number}: the form expired ({text})")
        raise (cls or FinanceBusinessError)(text, code=code, status=status)

    # ------------------------------------------------------------------ evidence

    def begin_item(self) -> None:
        """A fresh trace chunk per work item: kept only if the item fails."""
        if self._tracing:
            if self._chunk:
                self.context.tracing.stop_chunk()
            self.context.tracing.start_chunk()
            self._chunk = True

    def end_item(self) -> None:
        if self._tracing and self._chunk:
            self.context.tracing.stop_chunk()
            self._chunk = False
        self._items += 1
        if self._items % self.recycle_page_every == 0:
            self._recycle_page()

    def _recycle_page(self) -> None:
        """A fresh tab in the same context (same login): Chromium keeps every uploaded file of a
        tab's history in memory (~3 MB per 200 KB upload); a new tab every few dozen uploads keeps
        a long run flat."""
        fresh = self.context.new_page()
        old, self.page = self.page, fresh
        old.close()
        if self._search_tab is not None:
            self._search_tab.close()
            self._search_tab = None

    def failure_evidence(self) -> list[tuple[str, str, bytes]]:
        """Screenshot and trace of the failed step, as case attachments (also saved to evidence_dir)."""
        files: list[tuple[str, str, bytes]] = []
        stamp = time.strftime("%Y%m%d-%H%M%S")
        with contextlib.suppress(Exception):  # a dead page has no screenshot; the trace may still help
            files.append((f"skjermbilde-{stamp}.png", "image/png", self.page.screenshot(full_page=True)))
        if self._tracing and self._chunk:
            folder = self.evidence_dir or Path(tempfile.gettempdir())
            folder.mkdir(parents=True, exist_ok=True)
            path = folder / f"sporing-{stamp}-{id(self):x}.zip"
            try:
                self.context.tracing.stop_chunk(path=str(path))
                self._chunk = False
                files.append((path.name, "application/zip", path.read_bytes()))
            except Exception:  # noqa: BLE001
                pass
        if self.evidence_dir:
            for name, _, data in files:
                if name.endswith(".png"):
                    (self.evidence_dir / name).write_bytes(data)
        return files

