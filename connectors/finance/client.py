"""REST client for the finance system (ERP): vouchers and their attachments.

One typed client with an injectable ``requests.Session``. The retry policy lives here:
429, 5xx, timeouts and connection errors are retried with exponential backoff (``Retry-After``
honoured); other 4xx are permanent and raised as business errors with the system's own code.
An upload is retried only when it carries an ``Idempotency-Key`` (then a repeat cannot attach
the document twice); without a key a failed upload is raised, and the caller verifies the
voucher's attachment list before trying again.

Authentication is OAuth2 client credentials. One ``TokenProvider`` may be shared by several
clients (one per worker thread): it caches the token until shortly before it expires and is
asked for a fresh one when the API answers 401 (tokens may expire early on the server side).
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

import requests
from pydantic import SecretStr

from config.settings import FinanceSettings
from connectors.finance.errors import (
    BUSINESS_ERRORS_BY_CODE,
    FinanceAuthError,
    FinanceBusinessError,
    FinanceError,
    FinanceUnavailable,
    VoucherNotFound,
)
from connectors.finance.models import Attachment, Upload, Voucher

TRANSIENT_STATUSES = frozenset({408, 429, 500, 502, 503, 504})


class RateLimiter(Protocol):
    def acquire(self) -> None: ...


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = 5
    backoff_seconds: float = 0.2
    backoff_factor: float = 2.0
    max_backoff_seconds: float = 5.0
    max_retry_after_seconds: float = 30.0  # a Retry-After longer than this is treated as "unavailable"

    def delay(self, attempt: int, retry_after: float | None = None) -> float:
        if retry_after is not None:
            return min(retry_after, self.max_retry_after_seconds)
        base = min(self.backoff_seconds * self.backoff_factor ** (attempt - 1), self.max_backoff_seconds)
        return base * random.uniform(0.8, 1.2)


def _retry_after(response: requests.Response) -> float | None:
    value = response.headers.get("Retry-After")
    if not value:
        return None
    try:
        return max(float(value), 0.0)
    except ValueError:
        return None  # an HTTP date: fall back to our own backoff


def _error_body(response: requests.Response) -> tuple[str, str]:
    try:
        body = response.json()
    except ValueError:
        return "", response.text[:300]
    if isinstance(body, dict):
        return str(body.get("error") or ""), str(body.get("message") or body.get("error_description") or "")
    return "", str(body)[:300]


class TokenProvider:
    """Client-credentials tokens, cached and shared between threads."""

    def __init__(self, token_url: str, client_id: str, client_secret: SecretStr, *,
                 timeout: float = 30.0, retry: RetryPolicy | None = None,
                 session: requests.Session | None = None, sleep: Callable[[float], None] = time.sleep,
                 refresh_margin_seconds: float = 30.0):
        self.token_url = token_url
        self.client_id = client_id
        self._secret = client_secret
        self.timeout = timeout
        self.retry = retry or RetryPolicy()
        self._session = session or requests.Session()
        self._sleep = sleep
        self._margin = refresh_margin_seconds
        self._lock = threading.Lock()
        self._token: str | None = None
        self._expires_at = 0.0
        self._failed: tuple[float, FinanceUnavailable] | None = None  # (until, error): don't pile on
        self.fetched = 0  # how many tokens were fetched (observability, tests)

    @classmethod
    def from_settings(cls, settings: FinanceSettings, **kwargs: Any) -> TokenProvider:
        return cls(settings.token_url, settings.client_id, settings.client_secret,
                   timeout=settings.timeout_seconds, **kwargs)

    def get(self) -> str:
        with self._lock:
            now = time.monotonic()
            if self._token and now < self._expires_at:
                return self._token
            if self._failed and now < self._failed[0]:
                # The token endpoint failed moments ago after all our retries: the threads that
                # queued behind that attempt fail fast instead of repeating it one by one.
                raise self._failed[1]
            try:
                return self._fetch()
            except FinanceUnavailable as exc:
                self._failed = (time.monotonic() + self.retry.max_backoff_seconds, exc)
                raise

    def invalidate(self, token: str) -> None:
        """The API refused `token`: forget it (unless another thread already replaced it)."""
        with self._lock:
            if self._token == token:
                self._token = None

    def _fetch(self) -> str:
        form = {"grant_type": "client_credentials", "client_id": self.client_id,
                "client_secret": self._secret.get_secret_value()}
        last: str = ""
        for attempt in range(1, self.retry.max_attempts + 1):
            try:
                response = self._session.post(self.token_url, data=form, timeout=self.timeout)
            except (requests.ConnectionError, requests.Timeout) as exc:
                last = f"{type(exc).__name__}"
                if attempt < self.retry.max_attempts:
                    self._sleep(self.retry.delay(attempt))
                continue
            if response.status_code in TRANSIENT_STATUSES:
                last = f"HTTP {response.status_code}"
                if attempt < self.retry.max_attempts:
                    self._sleep(self.retry.delay(attempt, _retry_after(response)))
                continue
            if response.status_code in (400, 401, 403):
                code, message = _error_body(response)
                raise FinanceAuthError(f"the finance system refused the client credentials of "
                                       f"{self.client_id!r}: {code or response.status_code} {message}".strip(),
                                       code=code or "invalid_client", status=response.status_code)
            if not response.ok:
                raise FinanceUnavailable(f"token endpoint answered HTTP {response.status_code}",
                                         status=response.status_code)
            try:
                body = response.json()
                token = str(body["access_token"])
                expires_in = float(body.get("expires_in") or 300)
            except (ValueError, KeyError, TypeError):
                raise FinanceUnavailable("token endpoint answered without an access_token") from None
            self._token = token
            self._expires_at = time.monotonic() + max(expires_in - self._margin, expires_in / 2)
            self.fetched += 1
            return token
        raise FinanceUnavailable(f"no token after {self.retry.max_attempts} attempts ({last})")


class FinanceClient:
    """Vouchers and attachments through the finance system's REST API."""

    door = "api"

    def __init__(self, settings: FinanceSettings | None = None, *, session: requests.Session | None = None,
                 tokens: TokenProvider | None = None, retry: RetryPolicy | None = None,
                 rate_limiter: RateLimiter | None = None, sleep: Callable[[float], None] = time.sleep):
        if settings is None:
            from config.settings import get_settings

            settings = get_settings().finance
        self.settings = settings
        self.base_url = settings.api_base_url.rstrip("/")
        self.timeout = settings.timeout_seconds
        if session is None:
            session = requests.Session()
            _settle_environment(session, self.base_url)
        self.session = session
        self.retry = retry or RetryPolicy()
        self.tokens = tokens or TokenProvider.from_settings(settings, retry=self.retry, session=self.session,
                                                             sleep=sleep)
        self.rate_limiter = rate_limiter
        self._sleep = sleep
        self.requests_sent = 0
        self.retries = 0

    def close(self) -> None:
        self.session.close()

    def __enter__(self) -> FinanceClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------------ vouchers

    def find_vouchers(self, voucher_number: str | None = None, supplier_org_no: str | None = None,
                      invoice_number: str | None = None) -> list[Voucher]:
        """Vouchers by number, or by supplier orgnr + invoice number (may be several)."""
        if voucher_number:
            params = {"voucherNumber": voucher_number}
        elif supplier_org_no and invoice_number:
            params = {"supplierOrgNo": supplier_org_no, "invoiceNumber": invoice_number}
        else:
            raise ValueError("find_vouchers needs a voucher number, or a supplier orgnr and an invoice number")
        body = self._json("GET", "/vouchers", params=params)
        return [Voucher.from_api(v) for v in body.get("items", [])]

    def get_voucher(self, voucher_number: str) -> Voucher:
        return Voucher.from_api(self._json("GET", f"/vouchers/{_segment(voucher_number)}"))

    # ------------------------------------------------------------------ attachments

    def list_attachments(self, voucher_number: str) -> list[Attachment]:
        body = self._json("GET", f"/vouchers/{_segment(voucher_number)}/attachments")
        return [Attachment.from_api(a, voucher_number) for a in body.get("items", [])]

    def attachments_by_sha256(self, sha256: str) -> list[Attachment]:
        """Every attachment with this content, on any voucher (voucher_number filled)."""
        body = self._json("GET", "/attachments", params={"sha256": sha256.lower()})
        return [Attachment.from_api(a) for a in body.get("items", [])]

    def attachments_uploaded(self, first_day: str, last_day: str) -> list[Attachment]:
        """Every attachment uploaded from `first_day` to `last_day` (ISO dates, both included), on
        any voucher, by people or clients (voucher_number, uploaded_at and uploaded_by filled)."""
        body = self._json("GET", "/attachments", params={"uploadedFrom": first_day, "uploadedTo": last_day})
        return [Attachment.from_api(a) for a in body.get("items", [])]

    def upload_attachment(self, voucher_number: str, upload: Upload,
                          idempotency_key: str | None = None) -> tuple[Attachment, bool]:
        """Attach a document. -> (attachment, created); created is False when the system
        recognised the idempotency key and returned the attachment made earlier."""
        headers = {"Idempotency-Key": idempotency_key} if idempotency_key else {}
        files = {"file": (upload.file_name, upload.content, upload.media_type)}
        data = {"documentType": upload.document_type, "comment": upload.comment}
        response = self._request("POST", f"/vouchers/{_segment(voucher_number)}/attachments",
                                 files=files, data=data, headers=headers, retry_unsafe=bool(idempotency_key))
        body = self._body(response)
        return Attachment.from_api(body, voucher_number), response.status_code == 201

    # ------------------------------------------------------------------ plumbing

    def _json(self, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        return self._body(self._request(method, path, **kwargs))

    def _body(self, response: requests.Response) -> dict[str, Any]:
        if response.status_code >= 400:
            raise self._error(response)
        try:
            body = response.json()
        except ValueError:
            raise FinanceUnavailable(f"{response.request.method} {response.url}: answer is not JSON "
                                     f"(HTTP {response.status_code})", status=response.status_code) from None
        if not isinstance(body, dict):
            raise FinanceUnavailable(f"{response.url}: unexpected JSON ({type(body).__name__})")
        return body

    def _error(self, response: requests.Response) -> FinanceError:
        code, message = _error_body(response)
        where = f"{response.request.method} {response.url}"
        text = f"{code or 'HTTP ' + str(response.status_code)}: {message or where}"
        if response.status_code == 401:
            return FinanceAuthError(text, code=code, status=401)
        if response.status_code in TRANSIENT_STATUSES or response.status_code >= 500:
            return FinanceUnavailable(text, code=code, status=response.status_code)
        cls = BUSINESS_ERRORS_BY_CODE.get(code)
        if cls is None:
            cls = VoucherNotFound if response.status_code == 404 else FinanceBusinessError
        return cls(text, code=code or str(response.status_code), status=response.status_code)

    def _request(self, method: str, path: str, *, params: dict[str, str] | None = None,
                 files: dict[str, Any] | None = None, data: dict[str, str] | None = None,
                 headers: dict[str, str] | None = None, retry_unsafe: bool = True) -> requests.Response:
        url = f"{self.base_url}{path}"
        safe = method in ("GET", "HEAD") or retry_unsafe
        refreshed = False
        attempt = 0
        last = ""
        while attempt < self.retry.max_attempts:
            attempt += 1
            token = self.tokens.get()
            if self.rate_limiter is not None:
                self.rate_limiter.acquire()
            self.requests_sent += 1
            try:
                response = self.session.request(
                    method, url, params=params, files=files, data=data, timeout=self.timeout,
                    headers={"Authorization": f"Bearer {token}", "Accept": "application/json", **(headers or {})})
            except (requests.ConnectionError, requests.Timeout) as exc:
                last = type(exc).__name__
                if not safe:
                    raise FinanceUnavailable(f"{method} {url}: {last} (not retried: the upload may "
                                             "have arrived; verify the attachment list)") from None
                self.retries += 1
                if attempt < self.retry.max_attempts:
                    self._sleep(self.retry.delay(attempt))
                continue
            if response.status_code == 401 and not refreshed:
                # Expired or revoked token: fetch a new one once, without counting an attempt.
                self.tokens.invalidate(token)
                refreshed = True
                attempt -= 1
                continue
            if response.status_code in TRANSIENT_STATUSES and safe:
                last = f"HTTP {response.status_code}"
                self.retries += 1
                if attempt < self.retry.max_attempts:
                    self._sleep(self.retry.delay(attempt, _retry_after(response)))
                continue
            return response
        raise FinanceUnavailable(f"{method} {url}: no usable answer after {self.retry.max_attempts} "
                                 f"attempts (last: {last})")


def _settle_environment(session: requests.Session, url: str) -> None:
    """Read proxy and CA-bundle settings from the environment once, not on every request
    (requests scans the whole environment per request when `trust_env` is on: ~0.6 ms each)."""
    import os

    session.proxies.update(requests.utils.get_environ_proxies(url))
    bundle = os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE")
    if bundle:
        session.verify = bundle
    session.trust_env = False


def _segment(value: str) -> str:
    """A voucher number as one URL path segment (never lets a value add path parts)."""
    from urllib.parse import quote

    return quote(str(value), safe="")
