"""The NAV / Altinn stand-in: NAV's settlement-report REST API and an Altinn-like inbox.

One app on one port (settings.sandbox.nav_port):
  /api/rapport/v1 ...   NAV's oppgjørsrapport API (Bearer: a Maskinporten system-user token from
                        the Maskinporten stand-in; settings.nav.api_token only with Maskinporten off)
  /altinn/...           the inbox web UI (username + password + one-time code) the bot drives
  /_admin/faults        fault knobs at run time (sandbox.faults)
Both serve the same reports from <data_dir>/sandbox/nav/reports/ (see sandbox.nav.reports).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, RedirectResponse

from config.settings import FaultSettings, MaskinportenSettings, NavSettings, get_settings
from sandbox.faults import FaultState, install_faults
from sandbox.nav import altinn, api
from sandbox.nav.reports import ReportStore


def create_app(data_dir: Path, faults: FaultSettings | None = None, *,
               nav: NavSettings | None = None, maskinporten: MaskinportenSettings | None = None,
               clock: Callable[[], float] = time.time) -> FastAPI:
    """The stand-in serving `<data_dir>/sandbox/nav/`; credentials from `nav` (default: settings.nav).
    API tokens are verified against the Maskinporten stand-in's key in the same data folder unless
    `maskinporten` (default: settings.maskinporten) is off; `clock` checks their expiry."""
    nav = nav or get_settings().nav
    maskinporten = maskinporten or get_settings().maskinporten
    app = FastAPI(title="NAV / Altinn sandbox", docs_url=None, redoc_url=None, openapi_url=None)
    app.state.store = ReportStore(Path(data_dir))
    app.state.nav = nav
    app.state.data_dir = Path(data_dir)
    app.state.maskinporten_required = maskinporten.active
    app.state.clock = clock
    install_faults(app, FaultState(faults), paths=("/api", "/altinn"))

    @app.exception_handler(api.ApiError)
    async def _api_error(request: Request, exc: api.ApiError) -> JSONResponse:
        return JSONResponse({"feilmelding": exc.message, "status": exc.status},
                            status_code=exc.status, headers=exc.headers)

    @app.exception_handler(FileNotFoundError)
    async def _missing_file(request: Request, exc: FileNotFoundError) -> JSONResponse:
        # a report in index.json whose CSV is gone: a broken seed, answered like a server fault
        return JSONResponse({"feilmelding": f"Rapportfilen mangler: {Path(exc.filename or '').name}",
                             "status": 500}, status_code=500)

    @app.get("/", include_in_schema=False)
    def _root() -> RedirectResponse:
        return RedirectResponse("/altinn/", status_code=303)

    @app.get("/healthz", include_in_schema=False)
    def _health() -> dict:
        return {"status": "ok", "reports": len(app.state.store.all())}

    app.include_router(api.router)
    app.include_router(altinn.router)
    return app

