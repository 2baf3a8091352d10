"""NAV's settlement-report API (sokos-oppgjorsrapporter), authenticated as an Altinn system user.

    POST /api/rapport/v1                search (orgnr, aar | fraDato/tilDato, etterId, rapportTyper)
    GET  /api/rapport/v1/{id}/innhold   Accept: text/csv  -> the K27 bytes (ISO-8859-1)
    PUT  /api/rapport/v1/{id}/arkiver   mark archived (we do this once a report is processed)

Retry policy (DESIGN.md): 4xx are permanent (a business error: wrong id, no access), 429, 5xx,
timeouts and connection errors are transient (a system error) and are retried with exponential
backoff, honouring Retry-After; after the last attempt NavApiUnavailable is raised and the
flow turns it into a system exception. The client never logs the token.

Auth: a Maskinporten token for the municipality's Altinn system user (connectors.maskinporten),
fetched and cached by a TokenSource; a 401 drops the cached token and the call is tried once more
with a new one. Failing to get a token is NavTokenError (a system error whose message names the
setting to fix). A static token (settings.nav.api_token) is only the sandbox's fallback with
Maskinporten turned off.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass
from datetime import date
from typing import Any, Protocol

import requests
from pydantic import SecretStr

from connectors.http_retry import RetryPolicy, parse_retry_after

PREFIX = "/api/rapport/v1"
REPORT_TYPE = "ref-arbg"
log = logging.getLogger("rpa.connectors.nav")


class NavApiError(Exception):
    """Base class of the NAV report API's errors."""

    def __init__(self, message: str, status: int | None = None):
        super().__init__(message)
        self.status = status


class NavApiBusinessError(NavApiError):
    """A 4xx answer: retrying will not help (bad request, unknown report, no access)."""


class NavAuthError(NavApiBusinessError):
    """401/403: the token is wrong or the system user lacks the right."""


class NavReportNotFound(NavApiBusinessError):
    """404: no such report (or not visible to this system user)."""


class NavApiUnavailable(NavApiError):
    """Transient failures (429, 5xx, timeouts) on every attempt: a system error."""


class NavTokenError(NavApiError):
    """No access token from Maskinporten (refused, unreachable, or our key/settings unusable): a
    system error for the operators; `setting` names what to fix, `transient` whether a retry may help."""

    def __init__(self, message: str, *, setting: str | None = None, transient: bool = False,
                 status: int | None = None):
        super().__init__(message, status)
        self.setting, self.transient = setting, transient


class TokenProvider(Protocol):
    def token(self) -> SecretStr: ...
    def invalidate(self) -> None: ...


class StaticToken:
    """A fixed bearer token (the sandbox's fallback when Maskinporten is off)."""

    def __init__(self, value: SecretStr | str):
        self._value = value if isinstance(value, SecretStr) else SecretStr(value)

    def token(self) -> SecretStr:
        return self._value

    def invalidate(self) -> None:
        pass


@dataclass(frozen=True)
class ReportMeta:
    id: str
    orgnr: str
    org_navn: str
    type: str
    dato_valutert: date | None
    bankkonto: str
    opprettet: str | None
    arkivert: bool

    @classmethod
    def from_json(cls, raw: dict[str, Any]) -> ReportMeta:
        archived = raw.get("arkivert")
        value_date = raw.get("datoValutert")
        return cls(
            id=str(raw["id"]),
            orgnr=str(raw.get("orgnr") or raw.get("orgNr") or ""),
            org_navn=str(raw.get("orgNavn") or ""),
            type=str(raw.get("type") or REPORT_TYPE),
            dato_valutert=date.fromisoformat(value_date) if value_date else None,
            bankkonto=str(raw.get("bankkonto") or ""),
            opprettet=raw.get("opprettet"),
            # NAV answers a timestamp or null; the seed's index writes a boolean.
            arkivert=bool(archived) and archived != "false",
        )

    def to_payload(self) -> dict[str, Any]:
        data = asdict(self)
        data["dato_valutert"] = self.dato_valutert.isoformat() if self.dato_valutert else None
        return data


def _message(response: requests.Response) -> str:
    try:
        body = response.json()
        if isinstance(body, dict):
            return str(body.get("feilmelding") or body.get("message") or body.get("detail") or body)
        return str(body)
    except ValueError:
        return response.text[:300] or response.reason or ""


class NavReportClient:
    """Typed client with an injectable requests.Session and its own retry policy."""

    def __init__(self, base_url: str, token: SecretStr | str | TokenProvider, *, session: requests.Session | None = None,
                 timeout: float = 30.0, max_attempts: int = 4, backoff_seconds: float = 0.5,
                 backoff_factor: float = 2.0, max_backoff_seconds: float = 30.0,
                 requests_per_second: float | None = None, sleep: Callable[[float], None] = time.sleep):
        self.base_url = base_url.rstrip("/")
        self._auth: TokenProvider = StaticToken(token) if isinstance(token, (str, SecretStr)) else token
        self.refreshable = not isinstance(self._auth, StaticToken)
        self.session = session or requests.Session()
        self.timeout = timeout
        # a Retry-After is honoured up to the backoff cap; our own backoff is jittered +-10 %
        self.retry = RetryPolicy(max_attempts=max(1, max_attempts), backoff_seconds=backoff_seconds,
                                 backoff_factor=backoff_factor, max_backoff_seconds=max_backoff_seconds, jitter=0.1)
        self.min_interval = 1.0 / requests_per_second if requests_per_second else 0.0
        self._sleep = sleep
        self._last_request = 0.0
        self._lock = threading.Lock()
        self.attempts_made = 0  # for tests and the run summary

    @classmethod
    def from_settings(cls, settings, *, maskinporten: Any = None, **kwargs: Any) -> NavReportClient:
        """The client the settings describe: Maskinporten system-user tokens for settings.nav.orgnr
        when settings.maskinporten is active, else the static sandbox token. `maskinporten` may
        be a ready MaskinportenClient (tests inject clocks and sessions through it)."""
        nav = settings.nav
        kwargs.setdefault("timeout", nav.timeout_seconds)
        mp = settings.maskinporten
        if maskinporten is None and not mp.active:
            return cls(nav.api_base_url, nav.api_token, **kwargs)
        from connectors.maskinporten import MaskinportenClient, MaskinportenError

        if maskinporten is None:
            try:
                maskinporten = MaskinportenClient.from_settings(mp, data_dir=settings.paths.data_dir)
            except MaskinportenError as exc:
                return cls(nav.api_base_url, _Unusable(exc), **kwargs)
        return cls(nav.api_base_url, maskinporten.source(mp.nav_scope, nav.orgnr), **kwargs)

    # -- plumbing ---------------------------------------------------------------------------
    def _throttle(self) -> None:
        if not self.min_interval:
            return
        with self._lock:
            wait = self._last_request + self.min_interval - time.monotonic()
            if wait > 0:
                self._sleep(wait)
            self._last_request = time.monotonic()

    def _bearer(self) -> str:
        from connectors.maskinporten import MaskinportenError

        try:
            return f"Bearer {self._auth.token().get_secret_value()}"
        except MaskinportenError as exc:
            raise NavTokenError(f"Fikk ikke token fra Maskinporten til NAVs API: {exc}", setting=exc.setting,
                                transient=exc.transient, status=exc.status) from None

    def _request(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        url = f"{self.base_url}{PREFIX}{path}"
        extra_headers = kwargs.pop("headers", {})
        last = ""
        renewed = False
        attempt = 0
        while attempt < self.retry.max_attempts:
            attempt += 1
            self._throttle()
            self.attempts_made += 1
            headers = {"Authorization": self._bearer(), **extra_headers}
            try:
                response = self.session.request(method, url, headers=headers, timeout=self.timeout, **kwargs)
            except (requests.Timeout, requests.ConnectionError) as exc:
                last = f"{exc.__class__.__name__} mot {method} {PREFIX}{path}"
                wait = self.retry.delay(attempt)
            else:
                status = response.status_code
                if status < 400:
                    return response
                if status == 429 or status >= 500:
                    last = f"HTTP {status} fra NAV på {method} {PREFIX}{path}: {_message(response)}"
                    wait = self.retry.delay(attempt, parse_retry_after(response.headers.get("Retry-After"), None))
                else:
                    text = f"HTTP {status} fra NAV på {method} {PREFIX}{path}: {_message(response)}"
                    if status == 401 and self.refreshable and not renewed:
                        # the cached token was revoked or outlived the server's key: one new token
                        renewed = True
                        attempt -= 1
                        self._auth.invalidate()
                        continue
                    if status in (401, 403):
                        raise NavAuthError(text, status)
                    if status == 404:
                        raise NavReportNotFound(text, status)
                    raise NavApiBusinessError(text, status)
            if attempt < self.retry.max_attempts:
                log.info("NAV API: %s; forsøk %d av %d, venter %.1f s", last, attempt, self.retry.max_attempts, wait)
                self._sleep(wait)
        raise NavApiUnavailable(f"{last} (etter {self.retry.max_attempts} forsøk)")

    # -- endpoints --------------------------------------------------------------------------
    def search(self, orgnr: str | None = None, *, etter_id: int | str | None = None, aar: int | None = None,
               fra_dato: date | None = None, til_dato: date | None = None,
               rapport_typer: Iterable[str] = (REPORT_TYPE,), inkluder_arkiverte: bool = False) -> list[ReportMeta]:
        body: dict[str, Any] = {"rapportTyper": list(rapport_typer), "inkluderArkiverte": inkluder_arkiverte}
        if orgnr:
            body["orgnr"] = orgnr
        if etter_id is not None:
            body["etterId"] = int(etter_id)
        if aar is not None:
            body["aar"] = aar
        if fra_dato is not None:
            body["fraDato"] = fra_dato.isoformat()
        if til_dato is not None:
            body["tilDato"] = til_dato.isoformat()
        response = self._request("POST", "", json=body, headers={"Accept": "application/json"})
        data = response.json()
        if not isinstance(data, list):
            raise NavApiBusinessError(f"uventet svar fra søket: {type(data).__name__}, ikke en liste")
        return sorted((ReportMeta.from_json(r) for r in data), key=lambda m: int(m.id) if m.id.isdigit() else 0)

    def poll_new(self, orgnr: str | None, etter_id: int | str | None = 0, max_rounds: int = 100) -> list[ReportMeta]:
        """Every report after `etter_id`: repeat the search from the highest id seen until empty
        (the API may cap a page), so nothing published meanwhile is missed."""
        cursor = int(etter_id or 0)
        found: list[ReportMeta] = []
        for _ in range(max_rounds):
            page = [m for m in self.search(orgnr, etter_id=cursor) if m.id.isdigit() and int(m.id) > cursor]
            if not page:
                break
            found.extend(page)
            cursor = max(int(m.id) for m in page)
        return found

    def fetch_csv(self, report_id: str) -> bytes:
        response = self._request("GET", f"/{report_id}/innhold", headers={"Accept": "text/csv"})
        return response.content

    def archive(self, report_id: str, arkivert: bool = True) -> None:
        self._request("PUT", f"/{report_id}/arkiver", params={"arkivert": str(arkivert).lower()})


class _Unusable:
    """Stands in for a token source whose settings are unusable: the error surfaces on first use,
    as a NavTokenError inside the flow's fetch step (a system case), not at construction."""

    def __init__(self, error: Exception):
        self._error = error

    def token(self) -> SecretStr:
        raise self._error

    def invalidate(self) -> None:
        pass
