"""OAuth2 client credentials (RFC 6749 §4.4) and bearer tokens (RFC 6750) for the finance API.

Tokens are signed (itsdangerous) with the client secret and carry their own expiry, so they stay
valid across a server restart the way a real identity provider's tokens do. The lifetime is a
knob (FinanceConfig.token_ttl_seconds, PUT /_admin/config); POST /_admin/tokens/revoke makes every
token issued so far invalid (a client must then fetch a new one on its 401).
"""

from __future__ import annotations

import base64
import binascii
import hmac
import time
from dataclasses import dataclass
from urllib.parse import unquote_plus

from itsdangerous import BadSignature, URLSafeSerializer
from starlette.requests import Request
from starlette.responses import JSONResponse

REALM = "okonomi"
NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}


@dataclass
class FinanceConfig:
    """Sandbox knobs that are not fault knobs (set with PUT /_admin/config)."""

    token_ttl_seconds: int = 3600
    max_upload_bytes: int = 10 * 1024 * 1024
    default_session_idle_seconds: float = 1800.0

    def to_json(self) -> dict:
        return {"token_ttl_seconds": self.token_ttl_seconds, "max_upload_bytes": self.max_upload_bytes,
                "default_session_idle_seconds": self.default_session_idle_seconds}


class ApiError(Exception):
    def __init__(self, status: int, code: str, message: str, headers: dict[str, str] | None = None):
        super().__init__(message)
        self.status, self.code, self.message, self.headers = status, code, message, headers or {}

    def response(self) -> JSONResponse:
        return JSONResponse({"error": self.code, "message": self.message}, status_code=self.status,
                            headers=self.headers)


class TokenIssuer:
    def __init__(self, client_id: str, client_secret: str, config: FinanceConfig):
        self.client_id = client_id
        self._secret = client_secret
        self.config = config
        self._serializer = URLSafeSerializer(client_secret, salt="finance-sandbox-access-token")
        self.revoked_before = 0.0

    def credentials_ok(self, client_id: str, client_secret: str) -> bool:
        return hmac.compare_digest(client_id.encode(), self.client_id.encode()) and \
            hmac.compare_digest(client_secret.encode(), self._secret.encode())

    def issue(self) -> dict:
        now = time.time()
        ttl = int(self.config.token_ttl_seconds)
        token = self._serializer.dumps({"sub": self.client_id, "iat": now, "exp": now + ttl})
        return {"access_token": token, "token_type": "Bearer", "expires_in": ttl, "scope": "vouchers attachments"}

    def revoke_all(self) -> None:
        self.revoked_before = time.time()

    def subject(self, request: Request) -> str:
        """The client id behind a valid bearer token, else ApiError 401 with WWW-Authenticate."""
        header = request.headers.get("authorization", "")
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise ApiError(401, "UNAUTHORIZED", "Mangler tilgangstoken (Authorization: Bearer …).",
                           {"WWW-Authenticate": f'Bearer realm="{REALM}"'})
        try:
            claims = self._serializer.loads(token.strip())
        except BadSignature:
            raise self._invalid("Tilgangstokenet er ugyldig.") from None
        if not isinstance(claims, dict) or claims.get("exp", 0) < time.time():
            raise self._invalid("Tilgangstokenet er utløpt.")
        if claims.get("iat", 0) <= self.revoked_before:
            raise self._invalid("Tilgangstokenet er trukket tilbake.")
        return str(claims.get("sub", ""))

    @staticmethod
    def _invalid(message: str) -> ApiError:
        description = {"Tilgangstokenet er utløpt.": "The access token expired"}.get(message, "Invalid access token")
        return ApiError(401, "INVALID_TOKEN", message, {
            "WWW-Authenticate": f'Bearer realm="{REALM}", error="invalid_token", error_description="{description}"'})


def basic_credentials(request: Request) -> tuple[str, str] | None:
    """client_id and client_secret from HTTP Basic (form-urlencoded inside, RFC 6749 §2.3.1)."""
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        decoded = base64.b64decode(value.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None
    client_id, sep, secret = decoded.partition(":")
    return (unquote_plus(client_id), unquote_plus(secret)) if sep else None


def oauth_error(status: int, error: str, description: str, *, basic_challenge: bool = False) -> JSONResponse:
    headers = dict(NO_STORE)
    if basic_challenge:
        headers["WWW-Authenticate"] = f'Basic realm="{REALM}"'
    return JSONResponse({"error": error, "error_description": description}, status_code=status, headers=headers)
