"""The Maskinporten stand-in over real HTTP (what it checks in a grant, how it answers) and the NAV
stand-in's side: only a valid, unexpired token with NAV's scope and a system user for the orgnr."""

from __future__ import annotations

import os
import stat
import time
import uuid

import jwt
import pytest
import requests

from config.settings import NAV_SCOPE, SANDBOX_MASKINPORTEN_CLIENT_ID, SANDBOX_MASKINPORTEN_KEY_ID
from sandbox.maskinporten import registry
from tests.fixtures.nav_sandbox import start_maskinporten

GRANT = "urn:ietf:params:oauth:grant-type:jwt-bearer"


@pytest.fixture
def mp(tmp_path):
    sandbox = start_maskinporten(tmp_path / "mp-data")
    yield sandbox
    sandbox.server.stop()


def demo_key(mp):
    from cryptography.hazmat.primitives import serialization

    return serialization.load_pem_private_key(mp.settings.key_file.read_bytes(), None)


def grant(mp, **overrides) -> str:
    now = int(time.time())
    claims = {"aud": f"{mp.url}/", "iss": SANDBOX_MASKINPORTEN_CLIENT_ID, "scope": NAV_SCOPE, "iat": now,
              "exp": now + 100, "jti": str(uuid.uuid4())}
    headers = overrides.pop("_headers", {"kid": SANDBOX_MASKINPORTEN_KEY_ID})
    claims.update(overrides)
    return jwt.encode({k: v for k, v in claims.items() if v is not None}, demo_key(mp), algorithm="RS256",
                      headers=headers)


def post(mp, assertion: str, grant_type: str = GRANT) -> requests.Response:
    return requests.post(f"{mp.url}/token", data={"grant_type": grant_type, "assertion": assertion}, timeout=10)


# -- seed --------------------------------------------------------------------------------------------
def test_seed_writes_owner_only_keys_and_the_registration_and_keeps_them(tmp_path):
    from config.settings import PathSettings, Settings
    from sandbox.cli import seed_all

    settings = Settings(paths=PathSettings(data_dir=tmp_path))
    written = seed_all(settings, systems=("maskinporten",))
    key = written["maskinporten.demo_client_key"]
    assert key == tmp_path / "sandbox" / "maskinporten" / "demo-client-key.pem"
    assert settings.maskinporten.resolved_key_file(tmp_path) == key  # the runner's default key file
    for private in (key, tmp_path / "sandbox" / "maskinporten" / "issuer-key.pem"):
        assert stat.S_IMODE(os.stat(private).st_mode) == 0o600
    jwks = registry.jwks_of(tmp_path, SANDBOX_MASKINPORTEN_CLIENT_ID)
    assert [k["kid"] for k in jwks] == [SANDBOX_MASKINPORTEN_KEY_ID] and "d" not in jwks[0]  # public only
    assert registry.client(tmp_path, SANDBOX_MASKINPORTEN_CLIENT_ID)["scopes"] == [NAV_SCOPE]
    assert registry.find_systemuser(tmp_path, SANDBOX_MASKINPORTEN_CLIENT_ID, "974600013")
    before = key.read_bytes()
    seed_all(settings, systems=("maskinporten",))
    assert key.read_bytes() == before  # a second seed keeps the keys a running sandbox uses


# -- the token endpoint ------------------------------------------------------------------------------
def test_metadata_and_jwks(mp):
    meta = requests.get(f"{mp.url}/.well-known/oauth-authorization-server", timeout=5).json()
    assert meta["issuer"] == f"{mp.url}/" and meta["token_endpoint"] == f"{mp.url}/token"
    keys = requests.get(meta["jwks_uri"], timeout=5).json()["keys"]
    assert keys and all("d" not in k for k in keys)


def test_a_good_grant_answers_like_maskinporten(mp):
    reply = post(mp, grant(mp))
    assert reply.status_code == 200 and reply.headers["Cache-Control"] == "no-store"
    body = reply.json()
    assert set(body) == {"access_token", "token_type", "expires_in", "scope"}
    assert body["token_type"] == "Bearer" and body["expires_in"] == 120 and body["scope"] == NAV_SCOPE
    assert "authorization_details" not in jwt.decode(body["access_token"], options={"verify_signature": False})


@pytest.mark.parametrize(("make", "error", "text"), [
    (lambda mp: grant(mp, aud=f"{mp.url}/token"), "invalid_grant", "Invalid JWT claim aud"),
    (lambda mp: grant(mp, exp=int(time.time()) + 300), "invalid_grant", "at most 120 seconds"),
    (lambda mp: grant(mp, iat=int(time.time()) - 400, exp=int(time.time()) - 300), "invalid_grant", "expired"),
    (lambda mp: grant(mp, iat=int(time.time()) + 60, exp=int(time.time()) + 120), "invalid_grant", "future"),
    (lambda mp: grant(mp, sub="noe"), "invalid_grant", "Unknown claim(s): sub"),
    (lambda mp: grant(mp, jti=None), "invalid_grant", "jti are required"),
    (lambda mp: grant(mp, _headers={}), "invalid_grant", "kid or x5c"),
    (lambda mp: grant(mp, _headers={"kid": "annen"}), "invalid_client", "Unknown key id (kid) 'annen'"),
    (lambda mp: grant(mp, iss="ukjent-klient"), "invalid_client", "unknown client_id"),
    (lambda mp: grant(mp, scope="skatt:noe"), "invalid_scope", "Scope not allowed for client: skatt:noe"),
    (lambda mp: grant(mp, authorization_details=[{"type": "urn:altinn:systemuser", "systemuser_org": {
        "authority": "iso6523-actorid-upis", "ID": "0192:987654325"}}]),
     "invalid_altinn_customer_configuration", "No system user found for systemuser_org 0192:987654325"),
    (lambda mp: grant(mp, authorization_details=[{"type": "urn:altinn:systemuser", "systemuser_org": {
        "authority": "iso6523-actorid-upis", "ID": "974600013"}}]), "invalid_authorization_details", "0192:"),
    (lambda mp: "ikke.en.jwt", "invalid_grant", "not a valid JWT"),
])
def test_bad_grants_are_refused_with_maskinportens_codes(mp, make, error, text):
    reply = post(mp, make(mp))
    assert reply.status_code == 400
    body = reply.json()
    assert body["error"] == error and text in body["error_description"]
    assert mp.stats()["tokens_issued"] == 0


def test_a_grant_signed_with_another_key_is_refused(mp):
    now = int(time.time())
    forged = jwt.encode({"aud": f"{mp.url}/", "iss": SANDBOX_MASKINPORTEN_CLIENT_ID, "scope": NAV_SCOPE, "iat": now,
                         "exp": now + 60, "jti": "a"}, registry.new_rsa_key(), algorithm="RS256",
                        headers={"kid": SANDBOX_MASKINPORTEN_KEY_ID})
    assert post(mp, forged).json() == {"error": "invalid_grant", "error_description":
                                       "Invalid assertion. Client authentication failed. The JWT signature is invalid"}


def test_a_replayed_grant_and_a_wrong_request_are_refused(mp):
    once = grant(mp)
    assert post(mp, once).status_code == 200
    assert post(mp, once).json()["error_description"] == "Invalid assertion. The jti has already been used"
    assert post(mp, grant(mp), grant_type="client_credentials").json()["error"] == "unsupported_grant_type"
    as_json = requests.post(f"{mp.url}/token", json={"grant_type": GRANT, "assertion": grant(mp)}, timeout=10)
    assert as_json.status_code == 400 and as_json.json()["error"] == "invalid_request"
    assert mp.stats()["tokens_issued"] == 1


# -- the NAV stand-in's side -------------------------------------------------------------------------
def token_for(sb, **claims) -> str:
    """An access token signed by the Maskinporten stand-in's key, with claims changed."""
    good = jwt.decode(sb.token, options={"verify_signature": False})
    good.update(claims)
    return jwt.encode({k: v for k, v in good.items() if v is not None}, registry.issuer_key(sb.data_dir),
                      algorithm="RS256", headers={"kid": registry.ISSUER_KID})


def nav_search(sb, token: str, body: dict | None = None) -> requests.Response:
    return requests.post(sb.api_url, json=body or {"etterId": 0}, headers={"Authorization": f"Bearer {token}"},
                         timeout=10)


def test_nav_accepts_a_system_user_token_for_its_organisations(nav_sandbox):
    assert len(nav_search(nav_sandbox, nav_sandbox.token).json()) == 23
    own = nav_search(nav_sandbox, nav_sandbox.token, {"etterId": 0, "orgnr": "974600013"}).json()
    assert {r["orgnr"] for r in own} == {"974600013"}


def test_nav_refuses_tokens_that_are_expired_forged_or_lack_scope_or_system_user(nav_sandbox):
    refusals = {
        "expired": token_for(nav_sandbox, exp=int(time.time()) - 60),
        "other scope": token_for(nav_sandbox, scope="nav:annet"),
        "no system user": token_for(nav_sandbox, authorization_details=None),
        "forged": jwt.encode(jwt.decode(nav_sandbox.token, options={"verify_signature": False}),
                             registry.new_rsa_key(), algorithm="RS256", headers={"kid": registry.ISSUER_KID}),
        "static": nav_sandbox.nav.api_token.get_secret_value(),  # only with Maskinporten off
    }
    for name, token in refusals.items():
        reply = nav_search(nav_sandbox, token)
        assert reply.status_code in (401, 403), name
        header = reply.headers["WWW-Authenticate"]
        assert 'error="invalid_token"' in header or 'error="insufficient_scope"' in header, name
    assert nav_search(nav_sandbox, token_for(nav_sandbox, scope="nav:annet")).status_code == 403
    assert "expired" in nav_search(nav_sandbox, refusals["expired"]).headers["WWW-Authenticate"]


def test_nav_checks_expiry_on_its_own_clock(nav_sandbox):
    token = nav_sandbox.token
    assert nav_search(nav_sandbox, token).status_code == 200
    nav_sandbox.app.state.clock = lambda: time.time() + 200  # minutes later: the token has expired
    assert nav_search(nav_sandbox, token).status_code == 401


def test_a_system_user_for_another_orgnr_sees_nothing_of_it(tmp_path):
    from tests.fixtures.nav_sandbox import ORGS, start_nav_sandbox

    sb = start_nav_sandbox(tmp_path / "d")
    try:
        registry.register_systemuser(sb.data_dir, ORGS[0][0], acts_for=[])  # the delegation withdrawn
        token = sb.token
        reply = nav_search(sb, token, {"etterId": 0, "orgnr": ORGS[1][0]})
        assert reply.status_code == 403
        assert reply.json()["feilmelding"] == f"Systembrukeren har ikke tilgang til organisasjonsnummer {ORGS[1][0]}"
        assert {r["orgnr"] for r in nav_search(sb, token).json()} == {ORGS[0][0]}
        other = requests.get(f"{sb.api_url}/1002/innhold", headers={"Authorization": f"Bearer {token}",
                                                                    "Accept": "text/csv"}, timeout=10)
        assert other.status_code == 403  # report 1002 belongs to the other organisation
    finally:
        sb.server.stop()


def test_the_static_token_works_only_with_maskinporten_off(tmp_path):
    from config.settings import MaskinportenSettings, NavSettings
    from sandbox.nav.app import create_app
    from sandbox.server import start_in_thread
    from tests.fixtures.nav_sandbox import sample_reports, write_reports

    write_reports(tmp_path, sample_reports(3))
    nav = NavSettings()
    server = start_in_thread(create_app(tmp_path, nav=nav, maskinporten=MaskinportenSettings(enabled=False)))
    try:
        reply = requests.post(f"{server.url}/api/rapport/v1", json={"etterId": 0}, timeout=10,
                              headers={"Authorization": f"Bearer {nav.api_token.get_secret_value()}"})
        assert reply.status_code == 200 and len(reply.json()) == 3
    finally:
        server.stop()
