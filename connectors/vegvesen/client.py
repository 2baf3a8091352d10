"""VegvesenClient: one typed client for the Kjøretøyopplysninger single-lookup API.

    GET {base}/enkeltoppslag/kjoretoydata?kjennemerke=EK39085   (or ?understellsnummer=VIN)
    SVV-Authorization: Apikey <key>
    Accept: application/json

The retry policy lives here: 5xx, timeouts and connection errors are retried a few times with
backoff (honouring Retry-After on 503) and then raised as TransientError; 422/429 are raised at
once as QuotaExceeded with the server's Retry-After, because pausing is the caller's decision for
the whole lookup loop, not this one request's; 401/403 raise AuthenticationFailed; every form of
"not found" raises VehicleNotFound. The session is injectable (tests, proxies) and is safe to
share between the threads of a lookup pool (GET only, no cookies).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import requests
from pydantic import SecretStr
from requests.adapters import HTTPAdapter

from connectors.http_retry import RetryPolicy, parse_retry_after
from connectors.vegvesen.errors import (
    AuthenticationFailed,
    InvalidIdentifier,
    QuotaExceeded,
    TransientError,
    UnexpectedResponse,
    VehicleNotFound,
)
from connectors.vegvesen.plates import Identifier, PlateError, normalize_identifier

LOOKUP_PATH = "/enkeltoppslag/kjoretoydata"
OSLO = ZoneInfo("Europe/Oslo")
log = logging.getLogger(__name__)


def seconds_to_oslo_midnight(now: datetime | None = None) -> float:
    """The registry's quota resets after midnight Norwegian time."""
    now = (now or datetime.now(UTC)).astimezone(OSLO)
    midnight = datetime.combine(now.date() + timedelta(days=1), datetime.min.time(), tzinfo=OSLO)
    return max((midnight - now).total_seconds(), 1.0)


@dataclass
class LookupResult:
    """The raw answer of a found vehicle (the parser turns it into a Vehicle)."""

    identifier: Identifier
    body: dict[str, Any]
    status: int
    elapsed: float


class VegvesenClient:
    def __init__(self, base_url: str, api_key: SecretStr | str, *, session: requests.Session | None = None,
                 timeout: float = 15.0, retry: RetryPolicy | None = None, pool_size: int = 16,
                 sleep: Callable[[float], None] = time.sleep):
        self.base_url = base_url.rstrip("/")
        self._key = api_key if isinstance(api_key, SecretStr) else SecretStr(api_key)
        self.timeout = timeout
        self.retry = retry or RetryPolicy()
        self._sleep = sleep
        self._own_session = session is None
        self.session = session or requests.Session()
        if self._own_session:
            # One connection per concurrent lookup, kept alive.
            adapter = HTTPAdapter(pool_connections=1, pool_maxsize=pool_size)
            self.session.mount("http://", adapter)
            self.session.mount("https://", adapter)

    @classmethod
    def from_settings(cls, settings=None, **kwargs: Any) -> VegvesenClient:
        from config.settings import get_settings

        vv = (settings or get_settings()).vegvesen
        return cls(vv.api_base_url, vv.api_key, timeout=vv.timeout_seconds, **kwargs)

    def close(self) -> None:
        if self._own_session:
            self.session.close()

    def __enter__(self) -> VegvesenClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:  # never the key
        return f"VegvesenClient({self.base_url!r})"

    # ------------------------------------------------------------------ lookups

    def lookup(self, identifier: Identifier | str) -> LookupResult:
        """Look one vehicle up by plate or VIN; raises the errors of connectors.vegvesen.errors."""
        if isinstance(identifier, str):
            try:
                identifier = normalize_identifier(identifier)
            except PlateError as exc:
                raise InvalidIdentifier(str(exc), message_no=exc.reason) from None
        params = {identifier.by: identifier.value}
        headers = {"Accept": "application/json"}
        if self._key.get_secret_value():  # no key configured: send none (the registry answers 401)
            headers["SVV-Authorization"] = f"Apikey {self._key.get_secret_value()}"
        url = self.base_url + LOOKUP_PATH
        attempt = 0
        while True:
            attempt += 1
            started = time.monotonic()
            try:
                response = self.session.get(url, params=params, headers=headers, timeout=self.timeout)
            except (requests.Timeout, requests.ConnectionError) as exc:
                if attempt >= self.retry.max_attempts:
                    raise TransientError(f"{identifier.value}: {exc.__class__.__name__} after {attempt} attempts "
                                         f"({exc})", message_no="Statens vegvesen svarte ikke (tidsavbrudd "
                                         "eller nettverksfeil)") from None
                self._sleep(self.retry.delay(attempt))
                continue
            elapsed = time.monotonic() - started
            status = response.status_code
            if status >= 500:
                if attempt >= self.retry.max_attempts:
                    raise TransientError(f"{identifier.value}: HTTP {status} after {attempt} attempts",
                                         status=status,
                                         message_no=f"Statens vegvesen svarte med feil (HTTP {status})")
                self._sleep(self.retry.delay(attempt, parse_retry_after(response.headers.get("Retry-After"), None)))
                continue
            return self._interpret(identifier, response, elapsed)

    def _interpret(self, identifier: Identifier, response: requests.Response, elapsed: float) -> LookupResult:
        status = response.status_code
        shown = identifier.display
        if status in (401, 403):
            raise AuthenticationFailed(status, _detail(response))
        if status in (422, 429):
            default = seconds_to_oslo_midnight() if status == 422 else 1.0
            wait = parse_retry_after(response.headers.get("Retry-After"), default)
            raise QuotaExceeded(status, wait, datetime.now(UTC) + timedelta(seconds=wait), _detail(response))
        if status == 204:
            raise VehicleNotFound(shown, "204", status=204)
        if status == 404:
            raise VehicleNotFound(shown, "404", _detail(response) or None, status=404)
        if status == 400:
            detail = _detail(response)
            raise InvalidIdentifier(f"{identifier.value}: HTTP 400 {detail}", status=400,
                                    message_no=f"Statens vegvesen avviste kjennemerket {shown} som ugyldig"
                                               f"{': ' + detail if detail else ''}")
        if status != 200:
            raise UnexpectedResponse(f"{identifier.value}: unexpected HTTP {status}: {_detail(response)}",
                                     status=status, message_no=f"Uventet svar fra Statens vegvesen (HTTP {status})")
        try:
            body = response.json()
        except ValueError:
            raise UnexpectedResponse(f"{identifier.value}: HTTP 200 without JSON "
                                     f"({response.headers.get('Content-Type')})", status=200,
                                     message_no="Statens vegvesen svarte uten gyldig JSON") from None
        if not isinstance(body, dict):
            raise UnexpectedResponse(f"{identifier.value}: HTTP 200 with a JSON {type(body).__name__}",
                                     status=200, message_no="Uventet svar fra Statens vegvesen")
        vehicles = body.get("kjoretoydataListe") or []
        if not vehicles:
            if body.get("feilmelding"):
                raise VehicleNotFound(shown, "feilmelding", str(body["feilmelding"]), status=200)
            raise VehicleNotFound(shown, "tom liste", status=200)
        return LookupResult(identifier, body, status, elapsed)


def _detail(response: requests.Response) -> str:
    """The registry's own words (feilmelding) when there are any, short."""
    try:
        body = response.json()
    except ValueError:
        return response.text[:200].strip()
    if isinstance(body, dict):
        return str(body.get("feilmelding") or body.get("melding") or body.get("message") or "")[:300]
    return ""
