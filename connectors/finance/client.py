"""REST client for the finance system (ERP): vouchers and their attachments.

One typed client over its own HTTP path (``Http``: urllib3 straight, one connection pool per
client). The retry policy lives here:
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

import json
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol
from urllib.parse import quote, urlencode

import requests.utils
import urllib3
from pydantic import SecretStr
from urllib3.exceptions import NewConnectionError, ProtocolError, ProxyError, SSLError
from urllib3.exceptions import TimeoutError as HttpTimeout

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
from connectors.http_retry import RetryPolicy as SharedRetryPolicy
from connectors.http_retry import parse_retry_after

TRANSIENT_STATUSES = frozenset({408, 429, 500, 502, 503, 504})
# No usable answer, maybe not even a request: the connection failed, was cut, or timed out.
CONNECTION_FAILURES = (HttpTimeout, NewConnectionError, ProtocolError, ProxyError, SSLError)


@dataclass(frozen=True)
class Reply:
    method: str
    url: str
    status: int
    headers: Any  # case-insensitive (urllib3's HTTPHeaderDict)
    data: bytes

    @property
    def ok(self) -> bool:
        return self.status < 400

    def json(self) -> Any:
        return json.loads(self.data)  # ValueError when it is not JSON

    @property
    def text(self) -> str:
        return self.data.decode("utf-8", "replace")


class Http:
    """The connector's HTTP path: urllib3 straight. `requests` prepared every call anew (merging
    the session's settings, cookies and hooks) and went through its adapter: a GET cost 0.6 ms of
    CPU there, 0.4 ms here with its JSON read (benchmarks/RESULTS.md, session 6). What `requests`
    would read from the environment is read once, for the system's address: the proxy
    (HTTP(S)_PROXY, ALL_PROXY, NO_PROXY; user and password in its URL) and the CA bundle
    (REQUESTS_CA_BUNDLE, CURL_CA_BUNDLE, else the certifi bundle `requests` uses). Redirects are
    not followed (the API answers where it is asked). Thread-safe; each thread's client has its
    own, so connections are not shared."""

    def __init__(self, url: str, timeout: float):
        self.timeout = urllib3.Timeout(connect=timeout, read=timeout)
        self.pool = _pool_manager(url)

    def request(self, method: str, url: str, *, body: bytes | None = None,
                headers: dict[str, str]) -> Reply:
        """One attempt; raises one of CONNECTION_FAILURES when no answer came."""
        r = self.pool.urlopen(method, url, body=body, headers={"Accept-Encoding": "gzip, deflate", **headers},
                              redirect=False, retries=False, timeout=self.timeout, preload_content=True)
        return Reply(method, url, r.status, r.headers, r.data)

    def close(self) -> None:
        self.pool.clear()


def _pool_manager(url: str) -> urllib3.PoolManager:
    proxy = requests.utils.select_proxy(url, requests.utils.get_environ_proxies(url))
    bundle = (os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE")
              or requests.utils.DEFAULT_CA_BUNDLE_PATH)
    tls = {"ca_cert_dir": bundle} if os.path.isdir(bundle) else {"ca_certs": bundle}
    if not proxy:
        return urllib3.PoolManager(**tls)
    user, password = requests.utils.get_auth_from_url(proxy)
    if proxy.lower().startswith("socks"):
        from urllib3.contrib.socks import SOCKSProxyManager  # needs PySocks, as in requests

        return SOCKSProxyManager(proxy, username=user or None, password=password or None, **tls)
    auth = urllib3.make_headers(proxy_basic_auth=f"{user}:{password}") if user else None
    return urllib3.ProxyManager(proxy, proxy_headers=auth, **tls)


class RateLimiter(Protocol):
    def acquire(self) -> None: ...


@dataclass(frozen=True)
class RetryPolicy(SharedRetryPolicy):
    """The finance system's defaults: five tries, a short jittered backoff, its Retry-After
    (seconds or an HTTP date) honoured up to 30 s."""

    max_attempts: int = 5
    backoff_seconds: float = 0.2
    max_backoff_seconds: float = 5.0
    max_retry_after_seconds: float | None = 30.0
    jitter: float = 0.2


def _retry_after(response: Reply) -> float | None:
    return parse_retry_after(response.headers.get("Retry-After"), None)


def _error_body(response: Reply) -> tuple[str, str]:
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
                 http: Http | None = None, sleep: Callable[[float], None] = time.sleep,
                 refresh_margin_seconds: float = 30.0):
        self.token_url = token_url
        self.client_id = client_id
        self._secret = client_secret
        self.timeout = timeout
        self.retry = retry or RetryPolicy()
        self._http = http or Http(token_url, timeout)
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
        form = urlencode({"grant_type": "client_credentials", "client_id": self.client_id,
                          "client_secret": self._secret.get_secret_value()}).encode()
        headers = {"Content-Type": "application/x-www-form-urlencoded", "Accept": "application/json"}
        last: str = ""
        for attempt in range(1, self.retry.max_attempts + 1):
            try:
                response = self._http.request("POST", self.token_url, body=form, headers=headers)
            except CONNECTION_FAILURES as exc:
                last = f"{type(exc).__name__}"
                if attempt < self.retry.max_attempts:
                    self._sleep(self.retry.delay(attempt))
                continue
            if response.status in TRANSIENT_STATUSES:
                last = f"HTTP {response.status}"
                if attempt < self.retry.max_attempts:
                    self._sleep(self.retry.delay(attempt, _retry_after(response)))
                continue
            if response.status in (400, 401, 403):
                code, message = _error_body(response)
                raise FinanceAuthError(f"the finance system refused the client credentials of "
                                       f"{self.client_id!r}: {code or response.status} {message}".strip(),
                                       code=code or "invalid_client", status=response.status)
            if not response.ok:
                raise FinanceUnavailable(f"token endpoint answered HTTP {response.status}", status=response.status)
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

    def __init__(self, settings: FinanceSettings | None = None, *, http: Http | None = None,
                 tokens: TokenProvider | None = None, retry: RetryPolicy | None = None,
                 rate_limiter: RateLimiter | None = None, sleep: Callable[[float], None] = time.sleep):
        if settings is None:
            from config.settings import get_settings

            settings = get_settings().finance
        self.settings = settings
        self.base_url = settings.api_base_url.rstrip("/")
        self.timeout = settings.timeout_seconds
        self.http = http or Http(self.base_url, self.timeout)
        self.retry = retry or RetryPolicy()
        self.tokens = tokens or TokenProvider.from_settings(settings, retry=self.retry, sleep=sleep)
        self.rate_limiter = rate_limiter
        self._sleep = sleep
        self.requests_sent = 0
        self.retries = 0

    def close(self) -> None:
        self.http.close()

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
        body, content_type = urllib3.encode_multipart_formdata([
            ("documentType", upload.document_type), ("comment", upload.comment),
            ("file", (upload.file_name, upload.content, upload.media_type))])
        headers = {"Content-Type": content_type}
        if idempotency_key:
            headers["Idempotency-Key"] = idempotency_key
        response = self._request("POST", f"/vouchers/{_segment(voucher_number)}/attachments",
                                 body=body, headers=headers, retry_unsafe=bool(idempotency_key))
        return Attachment.from_api(self._body(response), voucher_number), response.status == 201

    # ------------------------------------------------------------------ plumbing

    def _json(self, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        return self._body(self._request(method, path, **kwargs))

    def _body(self, response: Reply) -> dict[str, Any]:
        if response.status >= 400:
            raise self._error(response)
        try:
            body = response.json()
        except ValueError:
            raise FinanceUnavailable(f"{response.method} {response.url}: answer is not JSON "
                                     f"(HTTP {response.status})", status=response.status) from None
        if not isinstance(body, dict):
            raise FinanceUnavailable(f"{response.url}: unexpected JSON ({type(body).__name__})")
        return body

    def _error(self, response: Reply) -> FinanceError:
        code, message = _error_body(response)
        where = f"{response.method} {response.url}"
        text = f"{code or 'HTTP ' + str(response.status)}: {message or where}"
        if response.status == 401:
            return FinanceAuthError(text, code=code, status=401)
        if response.status in TRANSIENT_STATUSES or response.status >= 500:
            return FinanceUnavailable(text, code=code, status=response.status)
        cls = BUSINESS_ERRORS_BY_CODE.get(code)
        if cls is None:
            cls = VoucherNotFound if response.status == 404 else FinanceBusinessError
        return cls(text, code=code or str(response.status), status=response.status)

    def _request(self, method: str, path: str, *, params: dict[str, str] | None = None, body: bytes | None = None,
                 headers: dict[str, str] | None = None, retry_unsafe: bool = True) -> Reply:
        url = f"{self.base_url}{path}?{urlencode(params)}" if params else f"{self.base_url}{path}"
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
                response = self.http.request(method, url, body=body, headers={
                    "Authorization": f"Bearer {token}", "Accept": "application/json", **(headers or {})})
            except CONNECTION_FAILURES as exc:
                last = type(exc).__name__
                if not safe:
                    raise FinanceUnavailable(f"{method} {url}: {last} (not retried: the upload may "
                                             "have arrived; verify the attachment list)") from None
                self.retries += 1
                if attempt < self.retry.max_attempts:
                    self._sleep(self.retry.delay(attempt))
                continue
            if response.status == 401 and not refreshed:
                # Expired or revoked token: fetch a new one once, without counting an attempt.
                self.tokens.invalidate(token)
                refreshed = True
                attempt -= 1
                continue
            if response.status in TRANSIENT_STATUSES and safe:
                last = f"HTTP {response.status}"
                self.retries += 1
                if attempt < self.retry.max_attempts:
                    self._sleep(self.retry.delay(attempt, _retry_after(response)))
                continue
            return response
        raise FinanceUnavailable(f"{method} {url}: no usable answer after {self.retry.max_attempts} "
                                 f"attempts (last: {last})")


def _segment(value: str) -> str:
    """A voucher number as one URL path segment (never lets a value add path parts)."""
    return quote(str(value), safe="")
