"""The two doors into the finance system, behind one small interface.

A door opens one session per worker thread (an API client with its own HTTP connection pool, or
a logged-in browser context); the flow's item logic only calls the four methods below, so both
doors give the same result and the same receipts. The process definition's `source` picks the
door (`api` or `web`); `rpa run … --via` overrides it for one run.
"""

from __future__ import annotations

from typing import Protocol

from config.settings import Settings
from connectors.finance import Attachment, FinanceClient, TokenProvider, Upload, Voucher
from connectors.finance.client import RetryPolicy
from connectors.finance.readback import ReadBack
from connectors.ratelimit import RateLimiter
from flows.invoice_attachment_upload.model import Target

DOORS = ("api", "web")


class DoorSession:
    """What the item logic calls on a door's session; the API's keeps the defaults (no evidence, no trace)."""

    door: str

    def find_vouchers(self, target: Target) -> list[Voucher]: ...

    def attachments(self, voucher_number: str) -> list[Attachment]: ...

    def attachments_by_sha256(self, sha256: str) -> list[Attachment] | None:
        """Where a document is attached on any voucher; None when the door cannot search by content."""

    def upload(self, voucher_number: str, upload: Upload, idempotency_key: str) -> list[Attachment]:
        """Attach, then read back the voucher's attachments (the verification; the API door reads
        those uploaded that day when several threads read back at once)."""

    def evidence(self) -> list[tuple[str, str, bytes]]:
        """Files that show what went wrong (screenshot, trace) after a failure; may be empty."""
        return []

    def begin_item(self) -> None:
        """A work item starts (the web door starts a trace chunk)."""

    def end_item(self) -> None:
        """The work item went well (the web door drops its trace chunk)."""

    def close(self) -> None: ...


class Door(Protocol):
    name: str
    concurrency: int

    def open_session(self) -> DoorSession: ...

    def close(self) -> None: ...


class ApiSession(DoorSession):
    door = "api"

    def __init__(self, client: FinanceClient, read_back: ReadBack):
        self.client, self.read_back = client, read_back

    def find_vouchers(self, target: Target) -> list[Voucher]:
        return self.client.find_vouchers(target.voucher_number or None, target.supplier_org_no or None,
                                         target.invoice_number or None)

    def attachments(self, voucher_number: str) -> list[Attachment]:
        return self.client.list_attachments(voucher_number)

    def attachments_by_sha256(self, sha256: str) -> list[Attachment] | None:
        return self.client.attachments_by_sha256(sha256)

    def upload(self, voucher_number: str, upload: Upload, idempotency_key: str) -> list[Attachment]:
        attachment, _ = self.client.upload_attachment(voucher_number, upload, idempotency_key=idempotency_key)
        return self.read_back.listed(self.client, voucher_number, attachment)

    def close(self) -> None:
        self.client.close()


class ApiDoor:
    """REST API: one client per thread, one shared token cache, rate limiter and read-back."""

    name = "api"

    def __init__(self, settings: Settings, concurrency: int = 8, requests_per_second: float | None = None,
                 retry: RetryPolicy | None = None):
        self.settings = settings
        self.concurrency = concurrency
        self.retry = retry or RetryPolicy()
        self.tokens = TokenProvider.from_settings(settings.finance, retry=self.retry)
        self.limiter = RateLimiter(requests_per_second) if requests_per_second else None
        self.read_back = ReadBack(concurrency)

    def open_session(self) -> ApiSession:
        return ApiSession(FinanceClient(self.settings.finance, tokens=self.tokens, retry=self.retry,
                                        rate_limiter=self.limiter), self.read_back)

    def close(self) -> None:
        pass


class WebSession(DoorSession):
    """A voucher number opens the voucher page straight away (its fields, status and attachment
    list in one page load); supplier + invoice number go through the search form. The list read
    with the page is used for the check that follows at once, without loading the page again."""

    door = "web"

    def __init__(self, bot):
        self.bot = bot
        self._page_list: tuple[str, list[Attachment]] | None = None

    def find_vouchers(self, target: Target) -> list[Voucher]:
        from connectors.finance import VoucherNotFound

        self._page_list = None
        if target.voucher_number:
            try:
                voucher, listed = self.bot.voucher(target.voucher_number)
            except VoucherNotFound:
                return []
            self._page_list = (voucher.voucher_number, listed)
            return [voucher]
        return self.bot.search(supplier_org_no=target.supplier_org_no or None,
                               invoice_number=target.invoice_number or None)

    def attachments(self, voucher_number: str) -> list[Attachment]:
        cached, self._page_list = self._page_list, None
        if cached and cached[0] == voucher_number:
            return cached[1]
        return self.bot.attachments(voucher_number)

    def attachments_by_sha256(self, sha256: str) -> list[Attachment] | None:
        return self.bot.attachments_by_sha256(sha256)

    def upload(self, voucher_number: str, upload: Upload, idempotency_key: str) -> list[Attachment]:
        self._page_list = None
        return self.bot.upload(voucher_number, upload)

    def evidence(self) -> list[tuple[str, str, bytes]]:
        return self.bot.failure_evidence()

    def begin_item(self) -> None:
        self.bot.begin_item()

    def end_item(self) -> None:
        self.bot.end_item()

    def close(self) -> None:
        self.bot.close()


class WebDoor:
    """The web UI through Playwright: parallel browser contexts, one per worker thread, each with
    its own login (sync Playwright objects belong to the thread that made them)."""

    name = "web"

    def __init__(self, settings: Settings, contexts: int = 4, evidence_dir=None):
        self.settings = settings
        self.concurrency = contexts
        self.evidence_dir = evidence_dir

    def open_session(self) -> WebSession:
        from bots.finance_web import FinanceWeb

        return WebSession(FinanceWeb.start(self.settings, evidence_dir=self.evidence_dir))

    def close(self) -> None:
        pass


def open_door(name: str, settings: Settings, *, concurrency: int, requests_per_second: float | None = None,
              evidence_dir=None) -> Door:
    if name == "api":
        return ApiDoor(settings, concurrency=concurrency, requests_per_second=requests_per_second)
    if name == "web":
        return WebDoor(settings, contexts=concurrency, evidence_dir=evidence_dir)
    raise ValueError(f"unknown door {name!r}; use one of {', '.join(DOORS)}")
