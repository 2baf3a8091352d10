"""What the Maskinporten stand-in knows, kept as files under <data_dir>/sandbox/maskinporten/:

  clients.json            registered clients: client_id, name, orgnr (owner), scopes, system_id
  jwks/<client_id>.json   each client's registered public keys (JWKS; what Samarbeidsportalen holds)
  systemusers.json        Altinn system users: id, orgnr, system_id, the client that may use it and
                          `acts_for` (client organisations delegated to it, as for an accounting firm)
  issuer-key.pem          the stand-in's own signing key (0600)
  issuer-jwks.json        its public half: what /jwk serves and what the NAV stand-in verifies with
  demo-client-key.pem     the demo client's private key (0600): the runner's default key file

`ensure(data_dir)` creates whatever is missing and keeps what exists, so a running stand-in and a
configured runner stay valid across `rpa sandbox seed`. `verify_access_token` is how an API
stand-in (NAV) checks a token the way a real API checks Maskinporten's tokens.
"""

from __future__ import annotations

import json
import os
import threading
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from config.settings import (
    NAV_SCOPE,
    SANDBOX_MASKINPORTEN_CLIENT_ID,
    SANDBOX_MASKINPORTEN_KEY_FILE,
    SANDBOX_MASKINPORTEN_KEY_ID,
)
from connectors.maskinporten import ORG_PREFIX, SYSTEMUSER_TYPE, public_jwk

DEMO_ORGNR = "974600013"  # the seeded municipality (sandbox.nav.seed.ORGNR)
DEMO_SYSTEM_ID = f"{DEMO_ORGNR}_rpa-robot"
ISSUER_KID = "sandbox-maskinporten-1"
ALGORITHMS = ["RS256", "RS384", "RS512"]
_lock = threading.Lock()


def folder(data_dir: Path) -> Path:
    return Path(data_dir) / "sandbox" / "maskinporten"


def demo_key_path(data_dir: Path) -> Path:
    return Path(data_dir) / SANDBOX_MASKINPORTEN_KEY_FILE


def new_rsa_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def write_private_key(path: Path, key: rsa.RSAPrivateKey) -> Path:
    """PEM, owner-only (0600) from the first byte: the file is never readable by others."""
    path.parent.mkdir(parents=True, exist_ok=True)
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption())
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(pem)
    os.chmod(tmp, 0o600)
    tmp.replace(path)
    return path


def _read_key(path: Path) -> rsa.RSAPrivateKey | None:
    try:
        key = serialization.load_pem_private_key(path.read_bytes(), None)
    except (OSError, ValueError, TypeError):
        return None
    return key if isinstance(key, rsa.RSAPrivateKey) else None


def _write_json(path: Path, data: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(data, ensure_ascii=False, indent=1), encoding="utf-8")
    tmp.replace(path)


def _read_json(path: Path, default: Any) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return default


# -- registration -----------------------------------------------------------------------------------
def register_client(data_dir: Path, client_id: str, *, public_keys: list[dict[str, Any]], scopes: list[str],
                    orgnr: str = DEMO_ORGNR, name: str = "", system_id: str | None = None) -> None:
    """Add or replace a client and its JWKS (as Digdir's self-service does)."""
    base = folder(data_dir)
    with _lock:
        clients = [c for c in _read_json(base / "clients.json", {"clients": []})["clients"]
                   if c["client_id"] != client_id]
        clients.append({"client_id": client_id, "name": name or client_id, "orgnr": orgnr, "scopes": scopes,
                        "system_id": system_id or f"{orgnr}_{client_id[:8]}"})
        _write_json(base / "clients.json", {"clients": clients})
        _write_json(base / "jwks" / f"{client_id}.json", {"keys": public_keys})


def register_systemuser(data_dir: Path, orgnr: str, *, client_id: str = SANDBOX_MASKINPORTEN_CLIENT_ID,
                        system_id: str = DEMO_SYSTEM_ID, acts_for: list[str] | None = None,
                        systemuser_id: str | None = None) -> dict[str, Any]:
    """Add or replace organisation `orgnr`'s system user for `system_id` (what the municipality
    approves in Altinn); `acts_for` are further organisations delegated to it."""
    base = folder(data_dir)
    with _lock:
        users = [u for u in _read_json(base / "systemusers.json", []) if
                 not (u["orgnr"] == orgnr and u["system_id"] == system_id)]
        user = {"id": systemuser_id or str(uuid.uuid5(uuid.NAMESPACE_URL, f"systemuser:{orgnr}:{system_id}")),
                "orgnr": orgnr, "system_id": system_id, "client_id": client_id, "acts_for": list(acts_for or [])}
        users.append(user)
        _write_json(base / "systemusers.json", users)
    return user


def ensure(data_dir: Path) -> dict[str, Path]:
    """The stand-in's keys and the demo registration; existing valid keys are kept."""
    base = folder(data_dir)
    base.mkdir(parents=True, exist_ok=True)
    issuer_path = base / "issuer-key.pem"
    issuer_key = _read_key(issuer_path)
    if issuer_key is None:
        issuer_key = new_rsa_key()
        write_private_key(issuer_path, issuer_key)
    _write_json(base / "issuer-jwks.json", {"keys": [public_jwk(issuer_key, ISSUER_KID)]})
    demo_path = demo_key_path(data_dir)
    demo_key = _read_key(demo_path)
    if demo_key is None:
        demo_key = new_rsa_key()
        write_private_key(demo_path, demo_key)
    clients = _read_json(base / "clients.json", {"clients": []})["clients"]
    if not any(c["client_id"] == SANDBOX_MASKINPORTEN_CLIENT_ID for c in clients) or \
            not (base / "jwks" / f"{SANDBOX_MASKINPORTEN_CLIENT_ID}.json").exists() or \
            public_jwk(demo_key, SANDBOX_MASKINPORTEN_KEY_ID) not in jwks_of(data_dir, SANDBOX_MASKINPORTEN_CLIENT_ID):
        register_client(data_dir, SANDBOX_MASKINPORTEN_CLIENT_ID, name="Eksempel kommune – RPA-robot (sandkasse)",
                        public_keys=[public_jwk(demo_key, SANDBOX_MASKINPORTEN_KEY_ID)], scopes=[NAV_SCOPE],
                        orgnr=DEMO_ORGNR, system_id=DEMO_SYSTEM_ID)
    if find_systemuser(data_dir, SANDBOX_MASKINPORTEN_CLIENT_ID, DEMO_ORGNR) is None:
        register_systemuser(data_dir, DEMO_ORGNR)
    return {"clients": base / "clients.json", "systemusers": base / "systemusers.json",
            "issuer_jwks": base / "issuer-jwks.json", "demo_client_key": demo_path}


# -- look-ups -----------------------------------------------------------------------------------------
def client(data_dir: Path, client_id: str) -> dict[str, Any] | None:
    clients = _read_json(folder(data_dir) / "clients.json", {"clients": []})["clients"]
    return next((c for c in clients if c["client_id"] == client_id), None)


def jwks_of(data_dir: Path, client_id: str) -> list[dict[str, Any]]:
    if "/" in client_id or "\\" in client_id or client_id.startswith("."):
        return []
    return _read_json(folder(data_dir) / "jwks" / f"{client_id}.json", {"keys": []}).get("keys", [])


def find_systemuser(data_dir: Path, client_id: str, orgnr: str) -> dict[str, Any] | None:
    """The system user organisation `orgnr` created for the system this client belongs to."""
    for user in _read_json(folder(data_dir) / "systemusers.json", []):
        if user["orgnr"] == orgnr and user["client_id"] == client_id:
            return user
    return None


def systemuser_orgs(data_dir: Path, systemuser_id: str) -> set[str]:
    """Organisations the system user may act for: its own and those delegated to it."""
    for user in _read_json(folder(data_dir) / "systemusers.json", []):
        if user["id"] == systemuser_id:
            return {user["orgnr"], *user.get("acts_for", [])}
    return set()


def issuer_key(data_dir: Path) -> rsa.RSAPrivateKey:
    key = _read_key(folder(data_dir) / "issuer-key.pem")
    if key is None:
        ensure(data_dir)
        key = _read_key(folder(data_dir) / "issuer-key.pem")
    assert key is not None
    return key


# -- verifying an access token (the API side) ----------------------------------------------------------
class TokenRejected(Exception):
    """Why an access token is not accepted; `error` is RFC 6750's code for WWW-Authenticate."""

    def __init__(self, reason: str, error: str = "invalid_token", status: int = 401):
        super().__init__(reason)
        self.reason, self.error, self.status = reason, error, status


@dataclass(frozen=True)
class SystemUserToken:
    client_id: str
    scope: set[str]
    systemuser_id: str
    systemuser_orgnr: str
    system_id: str


def verify_access_token(data_dir: Path, token: str, *, scope: str, now: float, leeway: float = 5) -> SystemUserToken:
    """Signature (the stand-in's issuer key), expiry, scope and the system user, or TokenRejected."""
    keys = _read_json(folder(data_dir) / "issuer-jwks.json", {"keys": []}).get("keys", [])
    try:
        header = jwt.get_unverified_header(token)
    except jwt.PyJWTError:
        raise TokenRejected("The access token is not a JWT") from None
    jwk = next((k for k in keys if k.get("kid") == header.get("kid")), None)
    if jwk is None:
        raise TokenRejected("The access token is not signed by a known Maskinporten key")
    try:
        claims = jwt.decode(token, jwt.PyJWK(jwk).key, algorithms=ALGORITHMS,
                            options={"verify_exp": False, "verify_iat": False, "verify_aud": False,
                                     "verify_nbf": False})
    except jwt.PyJWTError:
        raise TokenRejected("The access token signature is invalid") from None
    exp = claims.get("exp")
    if not isinstance(exp, (int, float)) or now > exp + leeway:
        raise TokenRejected("The access token expired")
    scopes = set(str(claims.get("scope", "")).split())
    if scope not in scopes:
        raise TokenRejected(f"The access token lacks scope {scope}", error="insufficient_scope", status=403)
    details = claims.get("authorization_details") or []
    found = next((d for d in details if isinstance(d, dict) and d.get("type") == SYSTEMUSER_TYPE), None)
    if not found:
        raise TokenRejected("The access token carries no Altinn system user", error="insufficient_scope", status=403)
    org = str((found.get("systemuser_org") or {}).get("ID", ""))
    ids = found.get("systemuser_id") or []
    if not org.startswith(f"{ORG_PREFIX}:") or not ids:
        raise TokenRejected("The access token's system user is incomplete", status=401)
    return SystemUserToken(str(claims.get("client_id", "")), scopes, str(ids[0]), org.split(":", 1)[1],
                           str(found.get("system_id", "")))
