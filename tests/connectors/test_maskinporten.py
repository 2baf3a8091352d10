"""The Maskinporten client against the Maskinporten stand-in over real HTTP: the JWT grant, the
Altinn system user, every refusal with its OAuth2 code and a message naming the setting, the token
cache (counted at the stand-in, time moved by an injected clock), retries, keys from PEM and
PKCS#12, and NAV's API used through it (the NAV run included)."""

from __future__ import annotations

import logging
import time
from datetime import UTC, datetime, timedelta

import jwt
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import NameOID
from pydantic import SecretStr

from config.settings import NAV_SCOPE, SANDBOX_MASKINPORTEN_CLIENT_ID, SANDBOX_MASKINPORTEN_KEY_ID
from connectors.maskinporten import (
    MaskinportenClient,
    MaskinportenConfigError,
    MaskinportenRefused,
    MaskinportenUnavailable,
    SigningKey,
    TokenCache,
    load_signing_key,
)
from connectors.nav.api import NavReportClient, NavTokenError
from sandbox.maskinporten.registry import new_rsa_key
from tests.fixtures.nav_sandbox import start_maskinporten

ORGNR = "974600013"


class Clock:
    """A clock tests move by hand (shared by client and stand-ins); starts at the real time."""

    def __init__(self) -> None:
        self.now = time.time()

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


class Sleeps(list):
    def __call__(self, seconds: float) -> None:
        self.append(seconds)


@pytest.fixture
def mp(tmp_path):
    sandbox = start_maskinporten(tmp_path / "mp-data")
    yield sandbox
    sandbox.server.stop()


def refused(client: MaskinportenClient, scope: str = NAV_SCOPE, orgnr: str | None = ORGNR) -> MaskinportenRefused:
    with pytest.raises(MaskinportenRefused) as err:
        client.token(scope, orgnr)
    return err.value


# -- a good grant ------------------------------------------------------------------------------------
def test_the_grant_has_exactly_the_documented_claims(mp):
    client = mp.client()
    grant = client.grant(NAV_SCOPE, ORGNR)
    header = jwt.get_unverified_header(grant)
    claims = jwt.decode(grant, options={"verify_signature": False})
    assert header == {"alg": "RS256", "typ": "JWT", "kid": SANDBOX_MASKINPORTEN_KEY_ID}
    assert set(claims) == {"aud", "iss", "scope", "iat", "exp", "jti", "authorization_details"}
    assert claims["aud"] == mp.settings.issuer == f"{mp.url}/"  # the issuer, not the token URL
    assert claims["iss"] == SANDBOX_MASKINPORTEN_CLIENT_ID and claims["scope"] == NAV_SCOPE
    assert claims["exp"] - claims["iat"] == 120
    assert claims["authorization_details"] == [{
        "type": "urn:altinn:systemuser",
        "systemuser_org": {"authority": "iso6523-actorid-upis", "ID": f"0192:{ORGNR}"}}]
    assert jwt.decode(client.grant(NAV_SCOPE), options={"verify_signature": False})["jti"] != claims["jti"]


def test_a_good_grant_gets_a_system_user_token(mp):
    client = mp.client()
    token = client.token(NAV_SCOPE, ORGNR).get_secret_value()
    claims = jwt.decode(token, options={"verify_signature": False})
    assert claims["iss"] == f"{mp.url}/" and claims["scope"] == NAV_SCOPE
    assert claims["client_id"] == SANDBOX_MASKINPORTEN_CLIENT_ID and claims["client_amr"] == "private_key_jwt"
    assert claims["consumer"] == {"authority": "iso6523-actorid-upis", "ID": f"0192:{ORGNR}"}
    (details,) = claims["authorization_details"]
    assert details["type"] == "urn:altinn:systemuser" and details["systemuser_org"]["ID"] == f"0192:{ORGNR}"
    assert len(details["systemuser_id"]) == 1 and details["system_id"]
    # signed by the stand-in's own key, published at /jwk
    import requests

    jwks = requests.get(f"{mp.url}/jwk", timeout=5).json()
    jwt.decode(token, jwt.PyJWK(jwks["keys"][0]).key, algorithms=["RS256"], options={"verify_aud": False})
    assert mp.stats()["tokens_issued"] == 1 and client.tokens_fetched == 1


# -- refusals ----------------------------------------------------------------------------------------
def test_a_wrong_key_is_refused_naming_the_key_file(mp):
    client = mp.client()
    client.key = SigningKey(new_rsa_key(), kid=SANDBOX_MASKINPORTEN_KEY_ID)  # not the registered key
    err = refused(client)
    assert err.code == "invalid_grant" and err.status == 400 and err.setting == "RPA_MASKINPORTEN__KEY_FILE"
    assert "signature is invalid" in str(err) and "Signaturen stemmer ikke" in str(err)
    assert mp.stats()["grants_refused"] == {"invalid_grant": 1}


def test_an_unknown_kid_is_refused_naming_the_key_id(mp):
    settings = mp.settings.model_copy(update={"key_id": "ukjent-nokkel"})
    client = MaskinportenClient.from_settings(settings, cache=TokenCache())
    err = refused(client)
    assert err.code == "invalid_client" and err.setting == "RPA_MASKINPORTEN__KEY_ID"
    assert "ukjent-nokkel" in str(err) and "Sjekk RPA_MASKINPORTEN__KEY_ID" in str(err)


def test_an_unknown_client_is_refused_naming_the_client_id(mp):
    settings = mp.settings.model_copy(update={"client_id": "ikke-registrert"})
    err = refused(MaskinportenClient.from_settings(settings, cache=TokenCache()))
    assert err.code == "invalid_client" and err.setting == "RPA_MASKINPORTEN__CLIENT_ID"


def test_an_expired_grant_is_refused_as_clock_skew(mp):
    slow = Clock()
    slow.advance(-600)  # this machine's clock is ten minutes behind
    err = refused(mp.client(clock=slow))
    assert err.code == "invalid_grant" and "expired" in str(err)
    assert "klokke" in str(err) and "NTP" in str(err)
    fast = Clock()
    fast.advance(600)
    err = refused(mp.client(clock=fast))
    assert "iat is in the future" in str(err)


def test_a_reused_jti_is_refused(mp):
    client = mp.client(jti=lambda: "samme-jti")
    client.token(NAV_SCOPE, ORGNR)
    client.invalidate(NAV_SCOPE, ORGNR)
    err = refused(client)
    assert err.code == "invalid_grant" and "jti has already been used" in str(err)
    assert "jti gjenbrukt" in str(err)


def test_a_scope_not_granted_is_refused_naming_the_scope_setting(mp):
    err = refused(mp.client(), scope="nav:helse/sykepenger.read")
    assert err.code == "invalid_scope" and err.setting == "RPA_MASKINPORTEN__NAV_SCOPE"
    assert "nav:helse/sykepenger.read" in str(err) and "Samarbeidsportalen" in str(err)


def test_a_system_user_for_another_orgnr_is_refused_naming_the_orgnr(mp):
    err = refused(mp.client(), orgnr="987654325")  # no system user of that organisation for this system
    assert err.code == "invalid_altinn_customer_configuration" and err.setting == "RPA_NAV__ORGNR"
    assert "0192:987654325" in str(err) and "systembrukeren i Altinn" in str(err)


def test_a_wrong_audience_is_refused_naming_the_issuer(mp):
    settings = mp.settings.model_copy(update={"issuer": "https://test.maskinporten.no/",
                                              "token_endpoint": f"{mp.url}/token"})
    err = refused(MaskinportenClient.from_settings(settings, cache=TokenCache()))
    assert err.code == "invalid_grant" and err.setting == "RPA_MASKINPORTEN__ISSUER"
    assert "Invalid JWT claim aud" in str(err)


def test_refusals_are_permanent_and_not_retried(mp):
    sleeps = Sleeps()
    client = mp.client(jti=lambda: "x", sleep=sleeps, max_attempts=4)
    client.token(NAV_SCOPE, ORGNR)
    client.invalidate(NAV_SCOPE, ORGNR)
    refused(client)
    assert sleeps == [] and mp.stats()["grants_refused"] == {"invalid_grant": 1}


# -- transient failures ------------------------------------------------------------------------------
def test_server_errors_are_retried_then_unavailable(mp):
    import requests

    requests.put(f"{mp.url}/_admin/faults", json={"error_rate": 1.0}, timeout=5).raise_for_status()
    sleeps = Sleeps()
    client = mp.client(sleep=sleeps, max_attempts=3, backoff_seconds=0.5)
    with pytest.raises(MaskinportenUnavailable) as err:
        client.token(NAV_SCOPE, ORGNR)
    assert err.value.transient and len(sleeps) == 2 and 0.45 <= sleeps[0] <= 0.55
    assert "HTTP 503" in str(err.value) and "etter 3 forsøk" in str(err.value)
    requests.put(f"{mp.url}/_admin/faults", json={"error_rate": 0}, timeout=5)
    assert client.token(NAV_SCOPE, ORGNR)  # a fresh grant (new jti) on every attempt


def test_timeouts_are_transient(mp):
    import requests

    requests.put(f"{mp.url}/_admin/faults", json={"latency_ms": 400}, timeout=5).raise_for_status()
    with pytest.raises(MaskinportenUnavailable, match="ReadTimeout"):
        mp.client(timeout=0.1, max_attempts=2, sleep=Sleeps()).token(NAV_SCOPE, ORGNR)


# -- the cache ---------------------------------------------------------------------------------------
def test_the_token_is_reused_until_near_expiry_then_refreshed(mp):
    clock = Clock()
    mp.app.state.clock = clock
    client = mp.client(clock=clock, refresh_margin_seconds=30)
    first = client.token(NAV_SCOPE, ORGNR)
    for _ in range(5):
        assert client.token(NAV_SCOPE, ORGNR) == first
    clock.advance(120 - 30 - 1)  # expires_in 120: still more than the margin left
    assert client.token(NAV_SCOPE, ORGNR) == first
    assert mp.stats()["tokens_issued"] == 1
    clock.advance(2)  # inside the margin: a new token
    second = client.token(NAV_SCOPE, ORGNR)
    assert second != first and mp.stats()["tokens_issued"] == 2
    assert client.token(NAV_SCOPE, ORGNR) == second
    # another scope or system user is another token
    assert client.token(NAV_SCOPE, None) != second and mp.stats()["tokens_issued"] == 3


def test_clients_built_twice_share_the_cache(mp):
    cache = TokenCache()
    a = MaskinportenClient.from_settings(mp.settings, cache=cache)
    b = MaskinportenClient.from_settings(mp.settings, cache=cache)
    assert a.token(NAV_SCOPE, ORGNR) == b.token(NAV_SCOPE, ORGNR)
    assert mp.stats()["tokens_issued"] == 1


# -- keys --------------------------------------------------------------------------------------------
def _pkcs12(tmp_path, key, password: bytes):
    name = x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "EKSEMPEL KOMMUNE"),
                      x509.NameAttribute(NameOID.SERIAL_NUMBER, ORGNR)])
    now = datetime.now(UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - timedelta(days=1))
            .not_valid_after(now + timedelta(days=30)).sign(key, hashes.SHA256()))
    data = pkcs12.serialize_key_and_certificates(b"virksomhetssertifikat", key, cert, None,
                                                 serialization.BestAvailableEncryption(password))
    path = tmp_path / "virksomhet.p12"
    path.write_bytes(data)
    return path


def test_a_virksomhetssertifikat_from_pkcs12_is_sent_as_x5c(mp, tmp_path):
    demo = serialization.load_pem_private_key(mp.settings.key_file.read_bytes(), None)
    p12 = _pkcs12(tmp_path, demo, b"hemmelig")  # the certificate's key is the one registered on the client
    settings = mp.settings.model_copy(update={"pkcs12_file": p12, "pkcs12_password": SecretStr("hemmelig")})
    client = MaskinportenClient.from_settings(settings, cache=TokenCache())
    header = jwt.get_unverified_header(client.grant(NAV_SCOPE, ORGNR))
    assert "kid" not in header and len(header["x5c"]) == 1
    token = client.token(NAV_SCOPE, ORGNR).get_secret_value()
    assert jwt.decode(token, options={"verify_signature": False})["client_amr"] == "virksomhetssertifikat"


def test_key_problems_name_the_setting_and_never_show_the_key(mp, tmp_path, caplog):
    with pytest.raises(MaskinportenConfigError) as err:
        load_signing_key(key_file=tmp_path / "finnes-ikke.pem", kid="k")
    assert err.value.setting == "RPA_MASKINPORTEN__KEY_FILE" and "rpa sandbox seed" in str(err.value)
    p12 = _pkcs12(tmp_path, new_rsa_key(), b"riktig")
    with pytest.raises(MaskinportenConfigError) as err:
        load_signing_key(pkcs12_file=p12, pkcs12_password=SecretStr("Xq7-galt-passord"))
    assert err.value.setting == "RPA_MASKINPORTEN__PKCS12_PASSWORD" and "Xq7-galt-passord" not in str(err.value)
    garbage = tmp_path / "tull.pem"
    garbage.write_text("ikke en nøkkel")
    with pytest.raises(MaskinportenConfigError, match="ikke en lesbar privat PEM-nøkkel"):
        load_signing_key(key_file=garbage, kid="k")

    caplog.set_level(logging.DEBUG)
    client = mp.client()
    token = client.token(NAV_SCOPE, ORGNR).get_secret_value()
    pem = mp.settings.key_file.read_text()
    body = "".join(pem.splitlines()[1:-1])
    assert token not in caplog.text and body[:40] not in caplog.text
    assert body[:40] not in repr(client) and body[:40] not in repr(client.key)
    assert "nytt token" in caplog.text  # what is logged: that a token was fetched, not the token


# -- NAV's API through Maskinporten ------------------------------------------------------------------
def test_the_nav_client_uses_one_token_for_many_calls_and_refreshes_it(nav_sandbox):
    clock = Clock()
    nav_sandbox.maskinporten.app.state.clock = clock
    nav_sandbox.app.state.clock = clock
    mp_client = nav_sandbox.maskinporten.client(clock=clock)
    client = NavReportClient.from_settings(nav_sandbox.settings(), maskinporten=mp_client, sleep=Sleeps())
    ids = [m.id for m in client.poll_new(ORGNR, 0)]
    assert len(ids) == 12
    assert len(client.poll_new(None, 0)) == 23  # the KF's reports too: delegated to the system user
    client.fetch_csv(ids[0])
    assert nav_sandbox.maskinporten.stats()["tokens_issued"] == 1
    clock.advance(300)  # the token expired long ago: the client asks for a new one before calling
    assert client.fetch_csv(ids[0]) == nav_sandbox.csv_bytes(ids[0])
    assert nav_sandbox.maskinporten.stats()["tokens_issued"] == 2


def test_a_refused_token_becomes_a_nav_system_error_naming_the_setting(nav_sandbox):
    settings = nav_sandbox.settings()
    settings.maskinporten = settings.maskinporten.model_copy(update={"key_id": "feil-kid"})
    client = NavReportClient.from_settings(settings, sleep=Sleeps())
    with pytest.raises(NavTokenError) as err:
        client.search(ORGNR, etter_id=0)
    assert err.value.setting == "RPA_MASKINPORTEN__KEY_ID" and not err.value.transient
    assert str(err.value).startswith("Fikk ikke token fra Maskinporten til NAVs API: ")
    missing = nav_sandbox.settings()
    missing.maskinporten = missing.maskinporten.model_copy(update={"key_file": nav_sandbox.data_dir / "borte.pem"})
    with pytest.raises(NavTokenError, match="Fant ikke nøkkelfilen"):
        NavReportClient.from_settings(missing).search(ORGNR)


def test_a_revoked_token_is_replaced_once(nav_sandbox):
    """The NAV side no longer trusts the cached token (Maskinporten rotated its key): one new token."""
    from sandbox.maskinporten import registry

    client = NavReportClient.from_settings(nav_sandbox.settings(), maskinporten=nav_sandbox.maskinporten.client())
    client.search(ORGNR, etter_id=0)
    (registry.folder(nav_sandbox.data_dir) / "issuer-key.pem").unlink()
    registry.ensure(nav_sandbox.data_dir)  # a new signing key: the cached token's signature is now unknown
    assert client.search(ORGNR, etter_id=0)
    assert nav_sandbox.maskinporten.stats()["tokens_issued"] == 2


def test_the_nav_run_with_source_api_uses_maskinporten(nav_sandbox, nav_run):
    from flows.nav_refund_offsetting.run import PROCESS_ID, FetchFailed, RunInputs, run_offsetting
    from flows.runtime import open_run
    from tests.fixtures.nav_flow import claim

    settings = nav_sandbox.settings(paths=nav_run.settings.paths)
    ctx = open_run(PROCESS_ID, settings=settings, store=nav_run.store, out_dir=nav_run.tmp / "out")
    outcome = run_offsetting(ctx, RunInputs(source="api", claims_file=nav_run.claims([claim("K1", 1, 1.0)])))
    assert len(outcome.summary.figures["reports"]) == 12  # every report of RPA_NAV__ORGNR
    assert nav_sandbox.maskinporten.stats()["grants_refused"] == {}

    # the same run with a scope the client was never granted: a system case that names the setting
    settings.maskinporten = settings.maskinporten.model_copy(update={"nav_scope": "nav:utbetaling/annet"})
    ctx = open_run(PROCESS_ID, settings=settings, store=nav_run.store, out_dir=nav_run.tmp / "out2")
    with pytest.raises(FetchFailed) as err:
        run_offsetting(ctx, RunInputs(source="api", claims_file=nav_run.claims([claim("K1", 1, 1.0)])))
    assert "Henting fra api feilet" in str(err.value) and "RPA_MASKINPORTEN__NAV_SCOPE" in str(err.value)
    case = nav_run.store.cases(PROCESS_ID, category="SYSTEM_ERROR")[0]
    assert case.kind == "system" and "invalid_scope" in case.message and "Traceback" not in case.message


def test_rpa_maskinporten_checks_the_set_up_without_printing_the_token(mp, monkeypatch):
    from typer.testing import CliRunner

    from config.settings import get_settings
    from rpa.maskinporten_cli import app

    monkeypatch.setenv("RPA_MASKINPORTEN__ISSUER", mp.settings.issuer)
    monkeypatch.setenv("RPA_MASKINPORTEN__KEY_FILE", str(mp.settings.key_file))
    get_settings.cache_clear()
    try:
        ok = CliRunner().invoke(app, [])
        assert ok.exit_code == 0, ok.output
        assert "OK: token for nav:utbetaling/oppgjorsrapporter, system user" in ok.output
        assert "(0192:974600013), valid" in ok.output and "eyJ" not in ok.output  # no JWT on screen
        refused = CliRunner().invoke(app, ["--orgnr", "987654325"])
        assert refused.exit_code == 1
        assert "Fant ingen systembruker" in refused.output and "RPA_NAV__ORGNR" in refused.output
    finally:
        get_settings.cache_clear()
