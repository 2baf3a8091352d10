"""Maskinporten (Digdir's OAuth2 server) client: JWT grants with an Altinn system user.

    grant   = a JWT we sign (RFC 7523): header alg RS256 + kid (a key registered on the client in
              Digdir's self-service) or x5c (the virksomhetssertifikat's chain, from PKCS#12);
              body aud = the issuer, iss = client id, scope, iat, exp (<= 120 s), a unique jti,
              and authorization_details [{type: urn:altinn:systemuser,
              systemuser_org: {authority: iso6523-actorid-upis, ID: 0192:<orgnr>}}]
    POST <token endpoint>   grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer&assertion=<grant>
    answer  = {access_token, token_type, expires_in, scope}; kept until shortly before it expires.

Retry policy (like every connector here): 5xx, 429, timeouts and connection errors are transient and
retried with backoff, then MaskinportenUnavailable; a 4xx is permanent (MaskinportenRefused) and its
OAuth2 error (invalid_client, invalid_grant, invalid_scope, ...) becomes a message in Norwegian that
names the setting to fix, with Maskinporten's own English description quoted. Neither the key, the
grant nor the access token is ever logged or put in a message.
"""

from __future__ import annotations

import base64
import hashlib
import logging
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jwt
import requests
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from pydantic import SecretStr

from connectors.http_retry import RetryPolicy

__all__ = [
    "GRANT_TYPE", "SYSTEMUSER_TYPE", "ORG_AUTHORITY", "MAX_GRANT_LIFETIME",
    "MaskinportenError", "MaskinportenConfigError", "MaskinportenRefused", "MaskinportenUnavailable",
    "SigningKey", "load_signing_key", "AccessToken", "TokenCache", "MaskinportenClient", "TokenSource",
    "systemuser_details", "public_jwk", "certificate_chain", "SHARED_CACHE",
]

GRANT_TYPE = "urn:ietf:params:oauth:grant-type:jwt-bearer"
SYSTEMUSER_TYPE = "urn:altinn:systemuser"
ORG_AUTHORITY = "iso6523-actorid-upis"
ORG_PREFIX = "0192"  # ICD of the Norwegian organisation number (Enhetsregisteret)
MAX_GRANT_LIFETIME = 120  # seconds; Maskinporten refuses grants that live longer
ENV = "RPA_MASKINPORTEN__"
log = logging.getLogger("rpa.connectors.maskinporten")


# -- errors ------------------------------------------------------------------------------------------
class MaskinportenError(Exception):
    """Base class: a token could not be had. `setting` names what the operator should check."""

    def __init__(self, message: str, *, code: str | None = None, status: int | None = None,
                 setting: str | None = None, transient: bool = False):
        super().__init__(message)
        self.code, self.status, self.setting, self.transient = code, status, setting, transient


class MaskinportenConfigError(MaskinportenError):
    """Our own configuration is unusable (no key file, wrong PKCS#12 password, no client id)."""


class MaskinportenRefused(MaskinportenError):
    """Maskinporten answered 4xx: permanent until a setting (or a registration) is fixed."""


class MaskinportenUnavailable(MaskinportenError):
    """5xx, 429, timeouts or connection errors on every attempt: transient."""

    def __init__(self, message: str, **kwargs: Any):
        kwargs.setdefault("transient", True)
        super().__init__(message, **kwargs)


# -- keys --------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class SigningKey:
    """The private key the grant is signed with, and how Maskinporten finds its public half."""

    private_key: rsa.RSAPrivateKey = field(repr=False)
    kid: str | None = None
    x5c: tuple[str, ...] = ()  # base64 DER, leaf first (RFC 7517 4.7)

    @property
    def thumbprint(self) -> str:
        """SHA-256 of the public key: tells keys apart in the token cache without revealing them."""
        der = self.private_key.public_key().public_bytes(serialization.Encoding.DER,
                                                         serialization.PublicFormat.SubjectPublicKeyInfo)
        return hashlib.sha256(der).hexdigest()[:16]

    def header(self) -> dict[str, Any]:
        if self.x5c:
            return {"x5c": list(self.x5c)}
        return {"kid": self.kid}


def _secret(value: SecretStr | str | None) -> bytes | None:
    if value is None:
        return None
    raw = value.get_secret_value() if isinstance(value, SecretStr) else value
    return raw.encode() if raw else None


def load_signing_key(*, key_file: Path | None = None, kid: str | None = None, pkcs12_file: Path | None = None,
                     pkcs12_password: SecretStr | str | None = None, key_password: SecretStr | str | None = None,
                     use_x5c: bool | None = None) -> SigningKey:
    """The key from a PEM file (with `kid`), or from a PKCS#12 file (x5c, or kid when one is given).

    Raises MaskinportenConfigError naming the setting; the message never carries key material."""
    if pkcs12_file:
        path = Path(pkcs12_file)
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise MaskinportenConfigError(
                f"Fant ikke PKCS#12-filen {path} ({exc.strerror}). Sjekk {ENV}PKCS12_FILE.",
                setting=f"{ENV}PKCS12_FILE") from None
        try:
            key, cert, chain = pkcs12.load_key_and_certificates(data, _secret(pkcs12_password))
        except ValueError:
            raise MaskinportenConfigError(
                f"Kunne ikke åpne PKCS#12-filen {path.name}: feil passord eller ødelagt fil. "
                f"Sjekk {ENV}PKCS12_PASSWORD og {ENV}PKCS12_FILE.", setting=f"{ENV}PKCS12_PASSWORD") from None
        if not isinstance(key, rsa.RSAPrivateKey) or cert is None:
            raise MaskinportenConfigError(
                f"PKCS#12-filen {path.name} har ingen RSA-nøkkel med sertifikat (Maskinporten krever RS256). "
                f"Sjekk {ENV}PKCS12_FILE.", setting=f"{ENV}PKCS12_FILE")
        certs = [cert, *(chain or [])]
        x5c = tuple(base64.b64encode(c.public_bytes(serialization.Encoding.DER)).decode() for c in certs)
        if use_x5c is False and not kid:
            raise MaskinportenConfigError(f"{ENV}KEY_ID mangler (kreves når x5c ikke brukes).",
                                          setting=f"{ENV}KEY_ID")
        if use_x5c is None:
            use_x5c = not kid
        return SigningKey(key, kid=kid, x5c=x5c if use_x5c else ())
    if not key_file:
        raise MaskinportenConfigError(
            f"Ingen nøkkel for Maskinporten: sett {ENV}KEY_FILE (PEM) eller {ENV}PKCS12_FILE.",
            setting=f"{ENV}KEY_FILE")
    path = Path(key_file)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise MaskinportenConfigError(
            f"Fant ikke nøkkelfilen {path} ({exc.strerror}). Sjekk {ENV}KEY_FILE "
            "(i sandkassen: kjør `rpa sandbox seed`).", setting=f"{ENV}KEY_FILE") from None
    try:
        key = serialization.load_pem_private_key(data, _secret(key_password))
    except (ValueError, TypeError):
        raise MaskinportenConfigError(
            f"Nøkkelfilen {path.name} er ikke en lesbar privat PEM-nøkkel (eller passordet er feil). "
            f"Sjekk {ENV}KEY_FILE og {ENV}KEY_PASSWORD.", setting=f"{ENV}KEY_FILE") from None
    if not isinstance(key, rsa.RSAPrivateKey):
        raise MaskinportenConfigError(f"Nøkkelen i {path.name} er ikke RSA (Maskinporten krever RS256/384/512). "
                                      f"Sjekk {ENV}KEY_FILE.", setting=f"{ENV}KEY_FILE")
    if not kid:
        raise MaskinportenConfigError(
            f"{ENV}KEY_ID mangler: oppgi nøkkel-id-en (kid) nøkkelen er registrert med på klienten i "
            "Samarbeidsportalen.", setting=f"{ENV}KEY_ID")
    return SigningKey(key, kid=kid)


def certificate_chain(key: SigningKey) -> list[x509.Certificate]:
    """The x5c chain as certificates (for tests and diagnostics)."""
    return [x509.load_der_x509_certificate(base64.b64decode(c)) for c in key.x5c]


def public_jwk(key: rsa.RSAPrivateKey | rsa.RSAPublicKey, kid: str, alg: str = "RS256") -> dict[str, Any]:
    """The public key as a JWK (what is registered on the client in Digdir's self-service)."""
    public = key.public_key() if isinstance(key, rsa.RSAPrivateKey) else key
    jwk = jwt.algorithms.RSAAlgorithm.to_jwk(public, as_dict=True)
    return {**jwk, "kid": kid, "alg": alg, "use": "sig"}


def systemuser_details(orgnr: str) -> list[dict[str, Any]]:
    """authorization_details asking for the system user of organisation `orgnr`."""
    return [{"type": SYSTEMUSER_TYPE, "systemuser_org": {"authority": ORG_AUTHORITY, "ID": f"{ORG_PREFIX}:{orgnr}"}}]


# -- tokens ------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class AccessToken:
    value: SecretStr
    expires_at: float  # on the client's clock
    scope: str
    obtained_at: float

    def fresh(self, now: float, margin: float) -> bool:
        return now < self.expires_at - margin


class TokenCache:
    """Tokens by (token endpoint, client, key, scope, orgnr); shared by every client in the process,
    so a run that builds its API client twice asks Maskinporten once."""

    def __init__(self) -> None:
        self._tokens: dict[tuple, AccessToken] = {}
        self._lock = threading.Lock()

    def get(self, key: tuple) -> AccessToken | None:
        with self._lock:
            return self._tokens.get(key)

    def put(self, key: tuple, token: AccessToken) -> None:
        with self._lock:
            self._tokens[key] = token

    def drop(self, key: tuple) -> None:
        with self._lock:
            self._tokens.pop(key, None)

    def clear(self) -> None:
        with self._lock:
            self._tokens.clear()


SHARED_CACHE = TokenCache()


def _hint(code: str, description: str, x5c: bool = False) -> tuple[str, str | None]:
    """(Norwegian explanation, setting to fix) for one of Maskinporten's OAuth2 errors."""
    text = description.lower()
    if code == "invalid_scope":
        return (f"Klienten har ikke fått tilgang til scopet. Sjekk {ENV}NAV_SCOPE, og at scopet er lagt til på "
                "klienten i Samarbeidsportalen (og at API-eieren har gitt virksomheten tilgang).",
                f"{ENV}NAV_SCOPE")
    if code == "invalid_altinn_customer_configuration" or "system user" in text or "systemuser" in text:
        return ("Fant ingen systembruker for organisasjonsnummeret. Sjekk RPA_NAV__ORGNR, og at kommunen har "
                "opprettet systembrukeren i Altinn og godkjent tilgangen for systemet.", "RPA_NAV__ORGNR")
    if "expired key" in text or "expired certificate" in text:
        setting = f"{ENV}PKCS12_FILE" if x5c else f"{ENV}KEY_FILE"
        return (f"Nøkkelen eller sertifikatet på klienten er utløpt. Lag en ny og registrer den i "
                f"Samarbeidsportalen; sjekk {setting} og {ENV}KEY_ID.", setting)
    if x5c and ("x5c" in text or "certificate" in text or "signature" in text or "signed" in text):
        return (f"Maskinporten godtar ikke virksomhetssertifikatet. Sjekk {ENV}PKCS12_FILE (i testmiljøet et "
                "testsertifikat; produksjonssertifikater virker ikke der) og at det er knyttet til klienten.",
                f"{ENV}PKCS12_FILE")
    if code == "invalid_client" or "kid" in text or "unknown client" in text:
        if "kid" in text or "key" in text:
            return (f"Maskinporten kjenner ikke nøkkelen. Sjekk {ENV}KEY_ID mot nøkkel-id-en som er registrert "
                    "på klienten i Samarbeidsportalen.", f"{ENV}KEY_ID")
        return (f"Maskinporten kjenner ikke klienten. Sjekk {ENV}CLIENT_ID (integrasjonens id i "
                "Samarbeidsportalen) og at den hører til riktig miljø (test eller produksjon).", f"{ENV}CLIENT_ID")
    if "aud" in text:
        return (f"Feil mottaker (aud) i grant-en. Sjekk {ENV}ISSUER: test https://test.maskinporten.no/, "
                "produksjon https://maskinporten.no/.", f"{ENV}ISSUER")
    if "jti" in text:
        return ("Grant-en er brukt før (jti gjenbrukt). Hver forespørsel skal ha en ny jti; kjør på nytt.", None)
    if any(word in text for word in ("expired", "iat", "exp ", "exp.", "clock", "future", "lifetime")):
        return ("Grant-en ble avvist på tid (utløpt eller utstedt i fremtiden). Sjekk at maskinens klokke går "
                "riktig (NTP); Maskinporten tåler bare noen sekunders avvik.", None)
    if "signature" in text or "signed" in text or "certificate" in text:
        return (f"Signaturen stemmer ikke med nøkkelen som er registrert på klienten. Sjekk at {ENV}KEY_FILE "
                f"(eller {ENV}PKCS12_FILE) hører til {ENV}KEY_ID.", f"{ENV}KEY_FILE")
    return (f"Maskinporten avviste forespørselen. Sjekk {ENV}CLIENT_ID, {ENV}KEY_ID og {ENV}ISSUER.", None)


class MaskinportenClient:
    """One Maskinporten client (client id + key) with its retry policy and token cache."""

    def __init__(self, *, issuer: str, client_id: str, key: SigningKey, token_endpoint: str | None = None,
                 session: requests.Session | None = None, timeout: float = 10.0, max_attempts: int = 3,
                 backoff_seconds: float = 0.5, backoff_factor: float = 2.0, max_backoff_seconds: float = 10.0,
                 grant_lifetime: int = MAX_GRANT_LIFETIME, refresh_margin_seconds: float = 30.0,
                 algorithm: str = "RS256", clock: Callable[[], float] = time.time,
                 sleep: Callable[[float], None] = time.sleep, jti: Callable[[], str] | None = None,
                 cache: TokenCache | None = None):
        if not client_id:
            raise MaskinportenConfigError(f"{ENV}CLIENT_ID mangler.", setting=f"{ENV}CLIENT_ID")
        if not issuer:
            raise MaskinportenConfigError(f"{ENV}ISSUER mangler.", setting=f"{ENV}ISSUER")
        if not 0 < grant_lifetime <= MAX_GRANT_LIFETIME:
            raise MaskinportenConfigError(f"Grant-levetid må være 1–{MAX_GRANT_LIFETIME} sekunder, "
                                          f"fikk {grant_lifetime}.")
        self.issuer = issuer
        self.token_endpoint = token_endpoint or issuer.rstrip("/") + "/token"
        self.client_id = client_id
        self.key = key
        self.session = session or requests.Session()
        self.timeout = timeout
        self.retry = RetryPolicy(max_attempts=max(1, max_attempts), backoff_seconds=backoff_seconds,
                                 backoff_factor=backoff_factor, max_backoff_seconds=max_backoff_seconds, jitter=0.1)
        self.grant_lifetime = grant_lifetime
        self.refresh_margin = refresh_margin_seconds
        self.algorithm = algorithm
        self._clock, self._sleep = clock, sleep
        self._jti = jti or (lambda: str(uuid.uuid4()))
        self.cache = cache if cache is not None else SHARED_CACHE
        self._fetch_lock = threading.Lock()
        self.tokens_fetched = 0  # answers from Maskinporten (for tests and the run summary)

    def __repr__(self) -> str:  # never the key
        return f"MaskinportenClient(issuer={self.issuer!r}, client_id={self.client_id!r}, kid={self.key.kid!r})"

    @classmethod
    def from_settings(cls, mp, *, data_dir: Path | None = None, **kwargs: Any) -> MaskinportenClient:
        """From a MaskinportenSettings group (config.settings); `data_dir` resolves the sandbox key path."""
        key = load_signing_key(key_file=mp.resolved_key_file(data_dir), kid=mp.key_id, pkcs12_file=mp.pkcs12_file,
                               pkcs12_password=mp.pkcs12_password, key_password=mp.key_password,
                               use_x5c=mp.use_x5c)
        kwargs.setdefault("timeout", mp.timeout_seconds)
        kwargs.setdefault("refresh_margin_seconds", mp.refresh_margin_seconds)
        return cls(issuer=mp.issuer, client_id=mp.client_id, key=key, token_endpoint=mp.token_endpoint, **kwargs)

    # -- the grant ---------------------------------------------------------------------------------
    def grant(self, scope: str, orgnr: str | None = None) -> str:
        """A signed JWT grant for `scope`, as the system user of `orgnr` when given."""
        now = int(self._clock())
        claims: dict[str, Any] = {"aud": self.issuer, "iss": self.client_id, "scope": scope,
                                  "iat": now, "exp": now + self.grant_lifetime, "jti": self._jti()}
        if orgnr:
            claims["authorization_details"] = systemuser_details(orgnr)
        return jwt.encode(claims, self.key.private_key, algorithm=self.algorithm, headers=self.key.header())

    # -- tokens ------------------------------------------------------------------------------------
    def _cache_key(self, scope: str, orgnr: str | None) -> tuple:
        return (self.token_endpoint, self.client_id, self.key.thumbprint, " ".join(sorted(scope.split())), orgnr)

    def token(self, scope: str, orgnr: str | None = None) -> SecretStr:
        """A valid access token: the cached one until `refresh_margin` seconds before it expires."""
        return self.access_token(scope, orgnr).value

    def access_token(self, scope: str, orgnr: str | None = None) -> AccessToken:
        """The token with its expiry and granted scope (cached like `token`)."""
        key = self._cache_key(scope, orgnr)
        cached = self.cache.get(key)
        if cached and cached.fresh(self._clock(), self.refresh_margin):
            return cached
        with self._fetch_lock:
            cached = self.cache.get(key)
            if cached and cached.fresh(self._clock(), self.refresh_margin):
                return cached
            token = self._fetch(scope, orgnr)
            self.cache.put(key, token)
            return token

    def invalidate(self, scope: str, orgnr: str | None = None) -> None:
        """Forget the cached token (the API said 401: it was revoked or the server restarted)."""
        self.cache.drop(self._cache_key(scope, orgnr))

    def source(self, scope: str, orgnr: str | None = None) -> TokenSource:
        return TokenSource(self, scope, orgnr)

    def _fetch(self, scope: str, orgnr: str | None) -> AccessToken:
        last = ""
        for attempt in range(1, self.retry.max_attempts + 1):
            sent_at = self._clock()
            body = {"grant_type": GRANT_TYPE, "assertion": self.grant(scope, orgnr)}  # a fresh jti every attempt
            try:
                response = self.session.post(self.token_endpoint, data=body, timeout=self.timeout,
                                             headers={"Accept": "application/json"})
            except (requests.Timeout, requests.ConnectionError) as exc:
                last = f"{exc.__class__.__name__} mot {self.token_endpoint}"
            else:
                status = response.status_code
                if status == 200:
                    return self._parse(response, scope, sent_at)
                error, description = _oauth_error(response)
                if status == 429 or status >= 500:
                    last = f"HTTP {status} fra Maskinporten ({error or response.reason})"
                else:
                    raise self._refused(status, error, description)
            if attempt < self.retry.max_attempts:
                wait = self.retry.delay(attempt)
                log.info("Maskinporten: %s; forsøk %d av %d, venter %.1f s", last, attempt, self.retry.max_attempts,
                         wait)
                self._sleep(wait)
        raise MaskinportenUnavailable(
            f"Maskinporten svarer ikke: {last} (etter {self.retry.max_attempts} forsøk). Prøv igjen senere; "
            f"sjekk {ENV}TOKEN_ENDPOINT om feilen vedvarer.", setting=f"{ENV}TOKEN_ENDPOINT")

    def _parse(self, response: requests.Response, scope: str, sent_at: float) -> AccessToken:
        try:
            body = response.json()
            value = str(body["access_token"])
            expires_in = float(body.get("expires_in") or 0)
        except (ValueError, KeyError, TypeError):
            raise MaskinportenUnavailable("Maskinporten svarte 200 uten et gyldig access_token.",
                                          status=200) from None
        self.tokens_fetched += 1
        granted = str(body.get("scope") or scope)
        log.info("Maskinporten: nytt token for %s (gyldig %d s)", granted, int(expires_in))
        return AccessToken(SecretStr(value), sent_at + expires_in, granted, sent_at)

    def _refused(self, status: int, error: str, description: str) -> MaskinportenRefused:
        explanation, setting = _hint(error, description, x5c=bool(self.key.x5c))
        quoted = f"{error}: {description}" if description else (error or f"HTTP {status}")
        return MaskinportenRefused(f"Maskinporten avviste token-forespørselen ({quoted}). {explanation}",
                                   code=error or None, status=status, setting=setting)


def _oauth_error(response: requests.Response) -> tuple[str, str]:
    try:
        body = response.json()
    except ValueError:
        return "", (response.text or "")[:200]
    if not isinstance(body, dict):
        return "", str(body)[:200]
    return str(body.get("error") or ""), str(body.get("error_description") or "")[:300]


@dataclass
class TokenSource:
    """A token for one scope and system user, as an API client needs it (token(), invalidate())."""

    client: MaskinportenClient
    scope: str
    orgnr: str | None = None

    def token(self) -> SecretStr:
        return self.client.token(self.scope, self.orgnr)

    def invalidate(self) -> None:
        self.client.invalidate(self.scope, self.orgnr)

