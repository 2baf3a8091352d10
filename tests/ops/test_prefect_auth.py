"""The local Prefect server is not open: its API and its UI want the `user:password` log-in
(Prefect's basic auth; the UI behind rpa/prefect_asgi.py), generated at the first start and kept
for later commands on the same data folder."""

from __future__ import annotations

import base64
import stat

import httpx
import pytest
from pydantic import SecretStr

from config.settings import Settings
from rpa.prefect_server import PrefectServer, auth_file, client_settings, prefect_env, read_auth_string


def _basic(login: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(login.encode()).decode()}


@pytest.mark.slow
def test_anonymous_requests_are_refused_and_the_stored_log_in_works(ops_settings, monkeypatch):
    from prefect import get_client
    from prefect.exceptions import PrefectHTTPStatusError

    from sandbox.server import free_port

    for name in ("PREFECT_API_AUTH_STRING", "PREFECT_SERVER_API_AUTH_STRING", "RPA_PREFECT__AUTH_STRING"):
        monkeypatch.delenv(name, raising=False)
    port = free_port()
    api = f"http://127.0.0.1:{port}/api"
    server = PrefectServer.from_settings(ops_settings, api_url=api)
    # Generated for this first start, kept readable by the owner only, under the Prefect home.
    assert server.auth_generated
    stored = auth_file(ops_settings)
    assert stored == server.auth_file and stored.parent == ops_settings.prefect_home
    assert stat.S_IMODE(stored.stat().st_mode) == 0o600
    login = stored.read_text().strip()
    user, _, password = login.partition(":")
    assert user == "admin" and len(password) >= 20
    assert login == server.auth_string

    server.start(timeout=400)  # a loaded 2-core machine can take minutes
    try:
        # Probes stay open; everything else wants the log-in.
        assert httpx.get(f"{api}/health", timeout=10).status_code == 200
        anonymous = httpx.post(f"{api}/flows/filter", json={}, timeout=10)
        assert anonymous.status_code == 401
        assert anonymous.json() == {"exception_message": "Unauthorized"}
        wrong = httpx.post(f"{api}/flows/filter", json={}, headers=_basic("admin:gjett"), timeout=10)
        assert wrong.status_code == 401
        assert httpx.get(f"{api}/deployments/count", timeout=10).status_code in (401, 405)
        ok = httpx.post(f"{api}/flows/filter", json={}, headers=_basic(login), timeout=10)
        assert ok.status_code == 200 and ok.json() == []
        # The UI is closed too: no page or script without the log-in (the browser asks for it) ...
        ui = f"http://127.0.0.1:{port}"
        for path in ("/", "/dashboard", "/ui-settings"):
            refused = httpx.get(ui + path, timeout=10)
            assert refused.status_code == 401, path
            assert refused.headers["www-authenticate"].startswith("Basic ")
        assert httpx.get(ui + "/", headers=_basic("admin:gjett"), timeout=10).status_code == 401
        # ... and with it, the UI is served and learns the API wants the same log-in.
        assert httpx.get(ui + "/", headers=_basic(login), timeout=10).status_code == 200
        assert httpx.get(ui + "/ui-settings", headers=_basic(login), timeout=10).json()["auth"] == "BASIC"
        _operator_opens_the_ui(ops_settings, ui, user, password)
        # The review app's deployment client finds the stored log-in too (connectors/prefect_api.py).
        from connectors.prefect_deployments import DeploymentClient, PrefectUnavailable

        monkeypatch.setenv("PREFECT_API_URL", api)
        assert DeploymentClient.from_settings(ops_settings).deployment("nav-refund-offsetting") is None
        with pytest.raises(PrefectUnavailable, match="avviste pålogging"):
            DeploymentClient(api).deployment("nav-refund-offsetting")

        # A Prefect client without the log-in is refused ...
        from prefect.settings import PREFECT_API_AUTH_STRING, PREFECT_API_URL, temporary_settings

        with temporary_settings(updates={PREFECT_API_URL: api}, set_defaults={PREFECT_API_AUTH_STRING: None}), \
                pytest.raises(PrefectHTTPStatusError) as refused, get_client(sync_client=True) as client:
            client.read_flows()
        assert refused.value.response.status_code == 401
        # ... and `rpa deploy`/`serve`/the demo (client_settings) find the stored one by themselves.
        with client_settings(api), get_client(sync_client=True) as client:
            assert client.read_flows() == []
    finally:
        server.stop()

    # Later commands on the same data folder reuse it: a restart, and a worker's environment.
    again = PrefectServer.from_settings(ops_settings, api_url=api)
    assert not again.auth_generated and again.auth_string == login
    assert prefect_env(ops_settings, base={})["PREFECT_API_AUTH_STRING"] == login
    assert "PREFECT_SERVER_API_AUTH_STRING" not in prefect_env(ops_settings, base={})
    assert login not in server.log_file.read_text(errors="replace")


def _operator_opens_the_ui(settings, ui: str, user: str, password: str) -> None:
    """In Chromium, as README says: the browser's log-in box takes the user name and the password
    (the two halves of the string); then Prefect's dashboard shows, its API calls logged in."""
    from playwright.sync_api import expect, sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(**settings.browser.launch_options())
        try:
            page = browser.new_context(http_credentials={"username": user, "password": password}).new_page()
            page.goto(f"{ui}/dashboard")
            expect(page.get_by_text("Deployments").first).to_be_visible(timeout=60_000)
            expect(page.get_by_text("Run a task or flow to get started")).to_be_visible(timeout=60_000)
        finally:
            browser.close()


def test_the_ui_guard_lets_the_api_and_websockets_through_and_wants_the_log_in_elsewhere():
    from starlette.applications import Starlette
    from starlette.responses import PlainTextResponse
    from starlette.routing import Route

    from rpa.prefect_asgi import UiLogin
    from tests.fixtures.review import starlette_test_client

    inner = Starlette(routes=[Route("/{path:path}", lambda request: PlainTextResponse("ok"))])
    client = starlette_test_client()(UiLogin(inner, "admin:hemmelig"))
    assert client.get("/api/flows").status_code == 200  # Prefect's own check answers there
    assert client.get("/api").status_code == 200
    assert client.get("/apix").status_code == 401
    refused = client.get("/")
    assert refused.status_code == 401 and refused.headers["www-authenticate"].startswith('Basic realm="Prefect')
    assert "hemmelig" not in refused.text
    assert client.get("/", headers=_basic("admin:feil")).status_code == 401
    assert client.get("/", headers={"Authorization": "Bearer admin:hemmelig"}).status_code == 401
    assert client.get("/", headers={"Authorization": "Basic ???"}).status_code == 401
    assert client.get("/dashboard", headers=_basic("admin:hemmelig")).text == "ok"


def test_a_configured_log_in_wins_and_nothing_is_written(tmp_path):
    settings = Settings(paths={"data_dir": tmp_path}, prefect={"auth_string": SecretStr("drift:hemmelig-passord")})
    server = PrefectServer.from_settings(settings, api_url="http://127.0.0.1:9/api")
    assert not server.auth_generated
    assert server.env["PREFECT_SERVER_API_AUTH_STRING"] == "drift:hemmelig-passord"
    assert server.env["PREFECT_API_AUTH_STRING"] == "drift:hemmelig-passord"
    assert not auth_file(settings).exists()
    assert "hemmelig" not in repr(settings) and "hemmelig" not in str(settings.redacted())


def test_no_server_started_means_no_log_in(tmp_path):
    settings = Settings(paths={"data_dir": tmp_path})
    assert read_auth_string(settings) is None
    assert "PREFECT_API_AUTH_STRING" not in prefect_env(settings, base={})
