"""Altinn inbox bot: fetch NAV's settlement reports (oppgjørsrapporter) as CSV attachments.

The portal path for when the NAV report API is not available to the municipality: log in with
username, password and a one-time code (TOTP from the authenticator secret), walk every page
of the inbox, open each settlement-report message and download its CSV attachment.

    with AltinnInbox(settings, evidence_dir=...) as inbox:
        for message in inbox.list_reports(seen_ids):
            path = inbox.download(message)

Locators are accessible names (roles and labels) matched by patterns, grouped at the top, so a
renamed button ("Logg inn" -> "Fortsett") or a list shown as cards instead of a table does not
break the bot. No sleeps: every step waits on the page state it needs. On any failure a
screenshot and a Playwright trace are saved to the evidence folder and AltinnBotError carries
their paths (they become the case's evidence).
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urljoin

import pyotp

from config.settings import Settings, get_settings

# -- locators: accessible names, grouped here so a changed page is a one-line fix ---------------
USERNAME_FIELD = re.compile(r"brukernavn", re.I)  # textbox
PASSWORD_FIELD = re.compile(r"^\s*passord", re.I)  # label (password inputs have no role)
LOGIN_BUTTON = re.compile(r"^\s*(logg inn|fortsett)\s*$", re.I)  # exact: not "Logg inn med ID-porten"
CODE_FIELD = re.compile(r"engangskode|kode fra autentiseringsappen", re.I)  # textbox
CODE_BUTTON = re.compile(r"^\s*(bekreft|fortsett|send inn)\s*$", re.I)
INBOX_HEADING = re.compile(r"^\s*innboks\s*$", re.I)  # h1
MESSAGE_LINK = re.compile(r"oppgjørsrapport arbeidsgiver", re.I)  # the message title, also the h1 inside
NEXT_PAGE = re.compile(r"\bneste\b", re.I)
CSV_LINK = re.compile(r"\bcsv\b", re.I)
LOGOUT = re.compile(r"^\s*logg ut\b", re.I)  # a button, or a link in the other layout
# -- what is read from the text of a message row/card --------------------------------------------
DATE_TEXT = re.compile(r"(?<!\d)(\d{2})\.(\d{2})\.(\d{4})(?!\d)")
ORGNR_TEXT = re.compile(r"(?<!\d)(\d{3}) ?(\d{3}) ?(\d{3})(?!\d)")
UNREAD_TEXT = re.compile(r"\bulest\b", re.I)
REPORT_ID_IN_HREF = re.compile(r"(\d+)/?(?:[?#].*)?$")

MAX_PAGES = 1000  # a loop guard: the sandbox holds at most a few dozen pages


class AltinnBotError(RuntimeError):
    """The bot could not finish a step; `screenshot` and `trace` are the evidence (may be None)."""

    def __init__(self, message: str, *, step: str, screenshot: Path | None = None, trace: Path | None = None):
        super().__init__(message)
        self.message, self.step, self.screenshot, self.trace = message, step, screenshot, trace

    @property
    def evidence(self) -> list[Path]:
        return [p for p in (self.screenshot, self.trace) if p is not None]

    def __str__(self) -> str:
        saved = ", ".join(str(p) for p in self.evidence)
        return f"{self.message} (bevis: {saved})" if saved else self.message


@dataclass(frozen=True)
class InboxMessage:
    report_id: str
    title: str
    received: date | None
    orgnr: str | None
    unread: bool
    url: str


class _IssuedSecret(pyotp.TOTP):
    # the secret is whatever Altinn issued: its length is not the bot's to refuse
    min_secret_length_bits = 0


def one_time_code(secret_b32: str, at: float | None = None, digits: int = 6, step: int = 30) -> str:
    """RFC 6238 TOTP (HMAC-SHA1) from a base32 secret, as an authenticator app shows it."""
    generator = _IssuedSecret(secret_b32.replace(" ", ""), digits=digits, interval=step)
    return generator.at(time.time() if at is None else at)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else exc.__class__.__name__


class AltinnInbox:
    """Page object for the Altinn inbox; a context manager that logs in and out."""

    def __init__(self, settings: Settings | None = None, *, evidence_dir: Path | None = None,
                 download_dir: Path | None = None):
        self.settings = settings or get_settings()
        self.nav = self.settings.nav
        data_dir = self.settings.paths.data_dir
        self.evidence_dir = Path(evidence_dir or data_dir / "evidence" / "altinn-inbox")
        self.download_dir = Path(download_dir or data_dir / "downloads" / "altinn-inbox")
        self.start_url = self.nav.altinn_url.rstrip("/") + "/"
        self._pw: Any = None
        self._browser: Any = None
        self._context: Any = None
        self._tracing = False
        self.page: Any = None

    # -- lifecycle ---------------------------------------------------------------------------
    def __enter__(self) -> AltinnInbox:
        from playwright.sync_api import sync_playwright

        browser = self.settings.browser
        self._pw = sync_playwright().start()
        try:
            with self._step("oppstart", "Kunne ikke starte nettleseren"):
                self._browser = self._pw.chromium.launch(**browser.launch_options())
                self._context = self._browser.new_context(accept_downloads=True, locale="nb-NO",
                                                          timezone_id="Europe/Oslo")
                self._context.set_default_timeout(browser.timeout_ms)
                self._context.set_default_navigation_timeout(browser.timeout_ms)
                self._start_tracing()
                self.page = self._context.new_page()
            with self._step("innlogging", "Innlogging i Altinn feilet"):
                self._login()
        except BaseException:
            self._close()
            raise
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        try:
            if exc_type is None:
                with self._step("utlogging", "Utlogging fra Altinn feilet"):
                    self._logout()
            else:
                self._logout_quietly()  # do not leave a session open after a failure
        finally:
            self._close()

    def _close(self) -> None:
        for action in (self._stop_tracing_discard, lambda: self._context and self._context.close(),
                       lambda: self._browser and self._browser.close(), lambda: self._pw and self._pw.stop()):
            with suppress(Exception):  # closing must never hide the real error
                action()
        self._pw = self._browser = self._context = self.page = None

    # -- evidence ----------------------------------------------------------------------------
    def _start_tracing(self) -> None:
        if self.settings.browser.trace_on_failure and not self._tracing:
            self._context.tracing.start(screenshots=True, snapshots=True)
            self._tracing = True

    def _stop_tracing_discard(self) -> None:
        if self._tracing:
            self._tracing = False
            self._context.tracing.stop()

    def _save_evidence(self, step: str) -> tuple[Path | None, Path | None]:
        if not self.settings.browser.trace_on_failure:
            return None, None
        self.evidence_dir.mkdir(parents=True, exist_ok=True)
        stem = f"altinn-{step}-{datetime.now():%Y%m%d-%H%M%S-%f}"
        screenshot: Path | None = self.evidence_dir / f"{stem}.png"
        trace: Path | None = self.evidence_dir / f"{stem}-trace.zip"
        try:
            self.page.screenshot(path=str(screenshot), full_page=True, timeout=5000)
        except Exception:  # noqa: BLE001 - a page that cannot be drawn still has a trace
            screenshot = None
        try:
            if self._tracing:
                self._tracing = False
                self._context.tracing.stop(path=str(trace))
                self._start_tracing()  # later steps stay traced
            else:
                trace = None
        except Exception:  # noqa: BLE001
            trace = None
        return screenshot, trace

    def _fail(self, step: str, message: str) -> AltinnBotError:
        screenshot, trace = (None, None) if self.page is None else self._save_evidence(step)
        return AltinnBotError(message, step=step, screenshot=screenshot, trace=trace)

    @contextmanager
    def _step(self, step: str, what: str) -> Iterator[None]:
        """Any failure inside becomes AltinnBotError with a screenshot and a trace."""
        try:
            yield
        except AltinnBotError:
            raise
        except Exception as exc:  # noqa: BLE001 - Playwright errors, timeouts, I/O
            raise self._fail(step, f"{what}: {_first_line(exc)}") from exc

    # -- log in / out ------------------------------------------------------------------------
    def _login(self) -> None:
        page = self.page
        self._open(self.start_url)
        page.get_by_role("textbox", name=USERNAME_FIELD).fill(self.nav.altinn_username)
        page.get_by_label(PASSWORD_FIELD).fill(self.nav.altinn_password.get_secret_value())
        page.get_by_role("button", name=LOGIN_BUTTON).click()
        self._wait_for(page.get_by_role("textbox", name=CODE_FIELD), "innlogging",
                       "Innlogging i Altinn ble avvist")
        code = one_time_code(self.nav.altinn_otp_secret.get_secret_value())
        page.get_by_role("textbox", name=CODE_FIELD).fill(code)
        page.get_by_role("button", name=CODE_BUTTON).click()
        self._wait_for(self._inbox_heading(), "innlogging", "Engangskoden ble avvist")

    def _wait_for(self, wanted, step: str, rejected: str) -> None:
        """Wait for `wanted` or an error message (role=alert); the latter becomes AltinnBotError."""
        alert = self.page.get_by_role("alert")
        wanted.or_(alert).first.wait_for()
        if alert.count() and not wanted.count():
            raise self._fail(step, f"{rejected}: {alert.first.inner_text().strip()}")

    def _logout(self) -> None:
        page = self.page
        control = page.get_by_role("button", name=LOGOUT).or_(page.get_by_role("link", name=LOGOUT))
        if control.count() == 0:
            self._goto(self.start_url)
        control.first.click()
        page.get_by_label(PASSWORD_FIELD).wait_for()  # back on the log-in page: logged out

    def _logout_quietly(self) -> None:
        if self.page is None:
            return
        try:
            self.page.set_default_timeout(3000)
            self._logout()
        except Exception:  # noqa: BLE001 - best effort after a failure
            pass

    def _on_login_page(self) -> bool:
        return self.page.get_by_label(PASSWORD_FIELD).count() > 0

    def _open(self, url: str) -> None:
        """page.goto that turns an HTTP error page (503, 429, ...) into an error at once."""
        response = self.page.goto(url)
        if response is not None and response.status >= 400 and not self._on_login_page():
            raise RuntimeError(f"Altinn svarte HTTP {response.status} på {url}")

    def _goto(self, url: str) -> None:
        """Open `url`; log in again once if the session expired on the way."""
        self._open(url)
        if self._on_login_page():
            self._login()
            self._open(url)

    # -- inbox -------------------------------------------------------------------------------
    def _inbox_heading(self):
        return self.page.get_by_role("heading", name=INBOX_HEADING, level=1)

    def _message_items(self):
        page = self.page
        link = page.get_by_role("link", name=MESSAGE_LINK)
        # a table row in one layout, a card (list item) in the other
        return page.get_by_role("row").or_(page.get_by_role("listitem")).filter(has=link)

    def _read_item(self, item) -> InboxMessage:
        link = item.get_by_role("link", name=MESSAGE_LINK)
        href = link.get_attribute("href") or ""
        found = REPORT_ID_IN_HREF.search(href)
        if not found:
            raise self._fail("innboks", f"Fant ikke rapport-ID i lenken til meldingen ({href!r})")
        text = item.inner_text()
        day = DATE_TEXT.search(text)
        org = ORGNR_TEXT.search(text)
        return InboxMessage(
            report_id=found.group(1),
            title=link.inner_text().strip(),
            received=date(int(day.group(3)), int(day.group(2)), int(day.group(1))) if day else None,
            orgnr="".join(org.groups()) if org else None,
            unread=bool(UNREAD_TEXT.search(text)),
            url=urljoin(self.page.url, href),
        )

    def list_reports(self, seen_ids: Iterable[str] | None = None) -> list[InboxMessage]:
        """Every settlement-report message on every inbox page, except the ids in `seen_ids`."""
        seen = {str(s) for s in seen_ids or ()}
        found: list[InboxMessage] = []
        with self._step("innboks", "Kunne ikke lese innboksen i Altinn"):
            url = self.start_url
            visited: set[str] = set()
            for _ in range(MAX_PAGES):
                self._goto(url)
                self._inbox_heading().wait_for()
                visited.add(self.page.url)
                for item in self._message_items().all():
                    message = self._read_item(item)
                    if message.report_id not in seen:
                        found.append(message)
                next_link = self.page.get_by_role("link", name=NEXT_PAGE)
                if next_link.count() == 0:
                    return found
                url = urljoin(self.page.url, next_link.first.get_attribute("href") or "")
                if url in visited:
                    raise self._fail("innboks", "Sidenavigeringen i innboksen går i ring")
            raise self._fail("innboks", f"Innboksen har flere enn {MAX_PAGES} sider")
        return found  # pragma: no cover - the loop returns or raises

    def download(self, message: InboxMessage, target_dir: Path | None = None) -> Path:
        """Download the message's CSV attachment to <target_dir>/<report id>_<file name>."""
        target = Path(target_dir or self.download_dir)
        with self._step("nedlasting", f"Kunne ikke laste ned rapport {message.report_id} fra Altinn"):
            target.mkdir(parents=True, exist_ok=True)
            self._goto(message.url)
            self.page.get_by_role("heading", name=MESSAGE_LINK, level=1).wait_for()
            with self.page.expect_download() as info:
                self.page.get_by_role("link", name=CSV_LINK).click()
            download = info.value
            failure = download.failure()
            if failure:
                raise self._fail("nedlasting", f"Nedlastingen av rapport {message.report_id} feilet: {failure}")
            path = target / f"{message.report_id}_{download.suggested_filename}"
            download.save_as(str(path))
            return path


def fetch_new_reports(settings: Settings | None, target_dir: Path, seen_ids: Iterable[str] | None = None,
                      *, evidence_dir: Path | None = None) -> list[tuple[str, Path]]:
    """Log in, download every report not in `seen_ids` (ascending report id), log out."""
    with AltinnInbox(settings, evidence_dir=evidence_dir, download_dir=target_dir) as inbox:
        messages = sorted(inbox.list_reports(seen_ids), key=lambda m: int(m.report_id))
        return [(m.report_id, inbox.download(m)) for m in messages]
