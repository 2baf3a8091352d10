"""The finance-system (ERP) stand-in: a REST API and a Norwegian web UI over one record.

One app on one port (settings.sandbox.finance_port):
  /oauth/token, /api/...     REST door (sandbox.finance.api), OAuth2 client credentials
  /login, /bilag/...         web door (sandbox.finance.web), the bot path
  /_admin/attachments        every attachment with its voucher: the ground truth for counting
                             duplicates and losses
  /_admin/config             knobs that are not faults (token lifetime, upload size limit)
  /_admin/tokens/revoke      invalidate every bearer token issued so far
  /_admin/faults             fault knobs (sandbox.faults)
State lives under <data_dir>/sandbox/finance/ (sandbox.finance.store) and survives restarts.
"""

from __future__ import annotations

from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.requests import ClientDisconnect

from config.settings import FaultSettings, FinanceSettings, get_settings
from sandbox.faults import ADMIN_PREFIX, FaultState, install_faults
from sandbox.finance import api, web
from sandbox.finance.auth import ApiError, FinanceConfig, TokenIssuer
from sandbox.finance.store import FinanceStore
from sandbox.finance.upload import drain


def create_app(data_dir: Path, faults: FaultSettings | None = None, *, finance: FinanceSettings | None = None,
               config: FinanceConfig | None = None) -> FastAPI:
    """The stand-in serving `<data_dir>/sandbox/finance/`; credentials from `finance`
    (default: settings.finance), knobs from `config` (default: FinanceConfig())."""
    finance = finance or get_settings().finance
    config = config or FinanceConfig()
    store = FinanceStore(Path(data_dir))

    @asynccontextmanager
    async def lifespan(_app: FastAPI):
        yield
        store.close()

    app = FastAPI(title="Økonomisystemet (sandbox)", docs_url=None, redoc_url=None, openapi_url=None,
                  lifespan=lifespan)
    app.state.store = store
    app.state.finance = finance
    app.state.config = config
    app.state.tokens = TokenIssuer(finance.client_id, finance.client_secret.get_secret_value(), config)
    app.state.sessions = web.Sessions()
    install_faults(app, FaultState(faults), paths=("/api", "/oauth", "/login", "/logg-ut", "/bilag"))

    @app.exception_handler(ApiError)
    async def _api_error(request: Request, exc: ApiError) -> JSONResponse:
        await drain(request)  # e.g. a 401 on an upload: answer on a healthy connection
        return exc.response()

    @app.exception_handler(web.LoginRequired)
    async def _login_required(request: Request, exc: web.LoginRequired) -> Response:
        return await web.login_redirect(request, exc)

    @app.exception_handler(ClientDisconnect)
    async def _client_left(request: Request, exc: ClientDisconnect) -> Response:
        return Response(status_code=400)  # nobody is listening; nothing was recorded

    @app.get("/healthz", include_in_schema=False)
    def _health() -> dict:
        return {"status": "ok", "vouchers": len(store.vouchers.all())}

    @app.get(f"{ADMIN_PREFIX}/attachments", include_in_schema=False)
    def _all_attachments(voucherNumber: str | None = None) -> dict:
        rows = store.attachments.for_voucher(voucherNumber) if voucherNumber else store.attachments.all()
        return {"count": len(rows), "items": [a.to_json(admin=True) for a in rows]}

    @app.get(f"{ADMIN_PREFIX}/config", include_in_schema=False)
    def _get_config() -> dict:
        return config.to_json()

    @app.put(f"{ADMIN_PREFIX}/config", include_in_schema=False)
    def _put_config(changes: dict) -> Response:
        known = set(config.to_json())
        unknown = set(changes) - known
        if unknown:
            return JSONResponse({"error": f"unknown setting(s): {sorted(unknown)}"}, status_code=400)
        for key, value in changes.items():
            setattr(config, key, type(getattr(config, key))(value))
        return JSONResponse(config.to_json())

    @app.post(f"{ADMIN_PREFIX}/tokens/revoke", include_in_schema=False)
    def _revoke() -> dict:
        app.state.tokens.revoke_all()
        return {"revoked": True}

    app.include_router(api.oauth)
    app.include_router(api.router)
    app.include_router(web.router)
    app.mount("/static", StaticFiles(directory=Path(__file__).parent / "static"), name="static")
    return app


def app_from_settings() -> FastAPI:
    """The app for `uvicorn --factory sandbox.finance.app:app_from_settings` (a server process of its
    own, as `rpa sandbox up` runs it): data folder and fault knobs from the settings."""
    settings = get_settings()
    return create_app(settings.paths.data_dir, settings.sandbox.finance_faults)
