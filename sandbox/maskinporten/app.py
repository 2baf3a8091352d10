"""The Maskinporten stand-in (own port, settings.sandbox.maskinporten_port, default 8704).

  POST /token                                 JWT bearer grant -> signed access token (JSON)
  GET  /.well-known/oauth-authorization-server  issuer, token_endpoint, jwks_uri
  GET  /jwk                                   the stand-in's public keys (what APIs verify tokens with)
  GET  /_admin/stats                          tokens issued and grants refused (for tests)
  /_admin/faults                              fault knobs (sandbox.faults)

The issuer identifier is this server's own base URL (``http://127.0.0.1:8704/``): the grant's
`aud` must be exactly that. A grant is checked like Maskinporten checks it: header alg RS256/384/512
with `kid` (a key registered on the client) or `x5c` (a certificate whose key is registered);
signature; only documented claims; `aud`; `exp` at most 120 s after `iat`; `iat`/`exp` against the
clock with a few seconds' skew; `jti` never seen before; every scope granted to the client; for
`authorization_details` of type urn:altinn:systemuser, a system user of that organisation for this
client's system. Refusals are OAuth2 JSON (`error`, `error_description`) with Maskinporten's codes.
"""

from __future__ import annotations

import base64
import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import jwt
from cryptography import x509
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from config.settings import FaultSettings
from connectors.maskinporten import GRANT_TYPE, MAX_GRANT_LIFETIME, ORG_AUTHORITY, ORG_PREFIX, SYSTEMUSER_TYPE
from sandbox.faults import FaultState, install_faults
from sandbox.maskinporten import registry

ALLOWED_CLAIMS = {"aud", "iss", "iat", "exp", "jti", "scope", "resource", "authorization_details"}
SKEW_SECONDS = 10
TOKEN_LIFETIME = 120  # Maskinporten's default expires_in


class GrantRefused(Exception):
    def __init__(self, error: str, description: str, status: int = 400):
        super().__init__(description)
        self.error, self.description, self.status = error, description, status


class Counters:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.issued: dict[str, int] = {}
        self.refused: dict[str, int] = {}
        self.seen_jti: dict[str, float] = {}  # jti -> when it may be forgotten

    def use_jti(self, jti: str, until: float, now: float) -> bool:
        """False when the jti was used before (a replayed grant)."""
        with self.lock:
            for old in [j for j, t in self.seen_jti.items() if t < now]:
                del self.seen_jti[old]
            if jti in self.seen_jti:
                return False
            self.seen_jti[jti] = until
            return True

    def count(self, table: dict[str, int], key: str) -> None:
        with self.lock:
            table[key] = table.get(key, 0) + 1


def _public_numbers(key: Any) -> Any:
    return key.public_numbers() if hasattr(key, "public_numbers") else None


def _signing_key(data_dir: Path, client: dict[str, Any], header: dict[str, Any]) -> tuple[Any, str]:
    """The registered public key the grant claims to be signed with, and the client_amr."""
    keys = registry.jwks_of(data_dir, client["client_id"])
    if header.get("x5c"):
        try:
            cert = x509.load_der_x509_certificate(base64.b64decode(header["x5c"][0]))
        except (ValueError, TypeError, IndexError):
            raise GrantRefused("invalid_grant", "Invalid assertion. x5c is not a valid certificate chain") from None
        wanted = _public_numbers(cert.public_key())
        for jwk in keys:
            candidate = jwt.PyJWK(jwk).key
            if _public_numbers(candidate) == wanted:
                return candidate, "virksomhetssertifikat"
        raise GrantRefused("invalid_client", "Client authentication failed. The certificate in x5c is not "
                                             "registered for this client")
    kid = header.get("kid")
    if not kid:
        raise GrantRefused("invalid_grant", "Invalid assertion. The JWT header must contain kid or x5c")
    jwk = next((k for k in keys if k.get("kid") == kid), None)
    if jwk is None:
        raise GrantRefused("invalid_client", f"Client authentication failed. Unknown key id (kid) '{kid}' "
                                             "for this client")
    return jwt.PyJWK(jwk).key, "private_key_jwt"


def check_grant(data_dir: Path, assertion: str, issuer: str, now: float, counters: Counters) -> dict[str, Any]:
    """The access-token claims for a valid grant, or GrantRefused."""
    try:
        header = jwt.get_unverified_header(assertion)
        unverified = jwt.decode(assertion, options={"verify_signature": False})
    except jwt.PyJWTError:
        raise GrantRefused("invalid_grant", "Invalid assertion. The grant is not a valid JWT") from None
    if header.get("alg") not in registry.ALGORITHMS:
        raise GrantRefused("invalid_grant", f"Invalid assertion. Unsupported alg {header.get('alg')!r} "
                                            "(RS256, RS384 or RS512)")
    client_id = str(unverified.get("iss") or "")
    client = registry.client(data_dir, client_id) if client_id else None
    if client is None:
        raise GrantRefused("invalid_client", f"Invalid client: unknown client_id '{client_id[:60]}'")
    key, amr = _signing_key(data_dir, client, header)
    try:
        claims = jwt.decode(assertion, key, algorithms=[header["alg"]],
                            options={"verify_exp": False, "verify_iat": False, "verify_aud": False,
                                     "verify_nbf": False})
    except jwt.InvalidSignatureError:
        raise GrantRefused("invalid_grant", "Invalid assertion. Client authentication failed. "
                                            "The JWT signature is invalid") from None
    except jwt.PyJWTError:
        raise GrantRefused("invalid_grant", "Invalid assertion. The grant could not be verified") from None
    unknown = sorted(set(claims) - ALLOWED_CLAIMS)
    if unknown:
        raise GrantRefused("invalid_grant", f"Invalid assertion. Unknown claim(s): {', '.join(unknown)}")
    if claims.get("aud") != issuer:
        raise GrantRefused("invalid_grant", "Invalid assertion. Client authentication failed. "
                                            "Invalid JWT claim aud")
    iat, exp, jti = claims.get("iat"), claims.get("exp"), claims.get("jti")
    if not isinstance(iat, (int, float)) or not isinstance(exp, (int, float)) or not jti:
        raise GrantRefused("invalid_grant", "Invalid assertion. iat, exp and jti are required")
    if exp - iat > MAX_GRANT_LIFETIME:
        raise GrantRefused("invalid_grant", f"Invalid assertion. exp may be at most {MAX_GRANT_LIFETIME} "
                                            "seconds after iat")
    if iat > now + SKEW_SECONDS:
        raise GrantRefused("invalid_grant", "Invalid assertion. iat is in the future (clock skew)")
    if exp < now - SKEW_SECONDS:
        raise GrantRefused("invalid_grant", "Invalid assertion. The JWT has expired (exp is in the past)")
    if not counters.use_jti(str(jti), exp + SKEW_SECONDS, now):
        raise GrantRefused("invalid_grant", "Invalid assertion. The jti has already been used")
    scopes = str(claims.get("scope") or "").split()
    if not scopes:
        raise GrantRefused("invalid_scope", "No scope requested")
    denied = [s for s in scopes if s not in client["scopes"]]
    if denied:
        raise GrantRefused("invalid_scope", f"Scope not allowed for client: {' '.join(denied)}")
    token: dict[str, Any] = {
        "iss": issuer, "client_amr": amr, "token_type": "Bearer", "scope": " ".join(scopes),
        "client_id": client_id, "consumer": {"authority": ORG_AUTHORITY, "ID": f"{ORG_PREFIX}:{client['orgnr']}"},
        "iat": int(now), "exp": int(now) + TOKEN_LIFETIME, "jti": str(uuid.uuid4()),
    }
    if claims.get("resource"):
        token["aud"] = claims["resource"]
    details = claims.get("authorization_details")
    if details is not None:
        token["authorization_details"] = [_systemuser(data_dir, client, details)]
    return token


def _systemuser(data_dir: Path, client: dict[str, Any], details: Any) -> dict[str, Any]:
    if not isinstance(details, list) or len(details) != 1 or not isinstance(details[0], dict) \
            or details[0].get("type") != SYSTEMUSER_TYPE:
        raise GrantRefused("invalid_authorization_details",
                           f"authorization_details must be one object of type {SYSTEMUSER_TYPE}")
    org = details[0].get("systemuser_org") or {}
    ident = str(org.get("ID") or org.get("id") or "")
    prefix, _, orgnr = ident.partition(":")
    if org.get("authority") != ORG_AUTHORITY or prefix != ORG_PREFIX or len(orgnr) != 9 or not orgnr.isdigit():
        raise GrantRefused("invalid_authorization_details",
                           f"systemuser_org must be {{authority: {ORG_AUTHORITY}, ID: {ORG_PREFIX}:<orgnr>}}")
    user = registry.find_systemuser(data_dir, client["client_id"], orgnr)
    if user is None:
        raise GrantRefused("invalid_altinn_customer_configuration",
                           f"MP-303: No system user found for systemuser_org {ident} and the system of this client")
    return {"type": SYSTEMUSER_TYPE, "systemuser_id": [user["id"]],
            "systemuser_org": {"authority": ORG_AUTHORITY, "ID": ident}, "system_id": user["system_id"]}


def create_app(data_dir: Path, faults: FaultSettings | None = None, *, clock: Callable[[], float] = time.time,
               token_lifetime: int = TOKEN_LIFETIME) -> FastAPI:
    """The stand-in serving `<data_dir>/sandbox/maskinporten/` (created when missing)."""
    data_dir = Path(data_dir)
    registry.ensure(data_dir)
    app = FastAPI(title="Maskinporten sandbox", docs_url=None, redoc_url=None, openapi_url=None)
    app.state.data_dir = data_dir
    app.state.clock = clock  # tests move time by replacing this
    app.state.token_lifetime = token_lifetime
    app.state.counters = Counters()
    install_faults(app, FaultState(faults), paths=("/token",))

    def issuer_of(request: Request) -> str:
        return str(request.base_url)

    @app.get("/.well-known/oauth-authorization-server")
    def _metadata(request: Request) -> dict:
        issuer = issuer_of(request)
        return {"issuer": issuer, "token_endpoint": f"{issuer}token", "jwks_uri": f"{issuer}jwk",
                "token_endpoint_auth_methods_supported": ["private_key_jwt"],
                "grant_types_supported": [GRANT_TYPE],
                "authorization_details_types_supported": [SYSTEMUSER_TYPE]}

    @app.get("/jwk")
    def _jwk() -> dict:
        return registry._read_json(registry.folder(data_dir) / "issuer-jwks.json", {"keys": []})

    @app.get("/healthz", include_in_schema=False)
    def _health() -> dict:
        return {"status": "ok"}

    @app.get("/_admin/stats")
    def _stats() -> dict:
        c = app.state.counters
        with c.lock:
            return {"tokens_issued": sum(c.issued.values()), "issued_per_client": dict(c.issued),
                    "grants_refused": dict(c.refused)}

    @app.post("/token")
    async def _token(request: Request) -> JSONResponse:
        counters: Counters = app.state.counters
        headers = {"Cache-Control": "no-store", "Pragma": "no-cache"}
        try:
            if not request.headers.get("content-type", "").startswith("application/x-www-form-urlencoded"):
                raise GrantRefused("invalid_request", "Content-Type must be application/x-www-form-urlencoded")
            form = await request.form()
            grant_type, assertion = form.get("grant_type"), form.get("assertion")
            if grant_type != GRANT_TYPE:
                raise GrantRefused("unsupported_grant_type", f"grant_type must be {GRANT_TYPE}")
            if not isinstance(assertion, str) or not assertion:
                raise GrantRefused("invalid_request", "assertion is missing")
            now = app.state.clock()
            claims = check_grant(data_dir, assertion, issuer_of(request), now, counters)
        except GrantRefused as exc:
            counters.count(counters.refused, exc.error)
            return JSONResponse({"error": exc.error, "error_description": exc.description}, status_code=exc.status,
                                headers=headers)
        claims["exp"] = claims["iat"] + app.state.token_lifetime
        key = registry.issuer_key(data_dir)
        token = jwt.encode(claims, key, algorithm="RS256", headers={"kid": registry.ISSUER_KID})
        counters.count(counters.issued, claims["client_id"])
        return JSONResponse({"access_token": token, "token_type": "Bearer",
                             "expires_in": app.state.token_lifetime, "scope": claims["scope"]}, headers=headers)

    return app

