"""The Statens vegvesen stand-in, one app on one port (settings.sandbox.vegvesen_port):

  GET /enkeltoppslag/kjoretoydata?kjennemerke=EK39085 | ?understellsnummer=VIN
        SVV-Authorization: Apikey <settings.vegvesen.api_key>
        200 {"kjoretoydataListe": [V]}; 401 no key, 403 wrong key; 400 malformed plate;
        not found as 204, 404, 200 with an empty list or 200 with a feilmelding (`not_found`);
        422 + Retry-After once the daily quota (faults.daily_quota) is spent
  GET /kjoretoy[?registreringsnummer=EK39085]   the human page 'Sjekk kjøretøyopplysninger'
  GET|PUT /_admin/faults      latency, 503s, 429 rate limit (counted on arrival), quota, slow pages,
                              alternate layout
  GET|PUT /_admin/vegvesen    not_found form, the quota's Retry-After, "fail the next N requests"
  POST /_admin/vegvesen/reload   re-read the register after re-seeding

The register is read once from <data_dir>/sandbox/vegvesen/kjoretoyregister.json and every answer
is pre-serialized, so a lookup is a dict read (>= 500 lookups/s on this machine, see
benchmarks/bench_vegvesen_sandbox.py).
"""

from __future__ import annotations

import asyncio
import math
import re
import threading
import time
import zlib
from pathlib import Path
from typing import Literal

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from jinja2 import Environment, FileSystemLoader, select_autoescape
from pydantic import BaseModel, Field

from config.settings import FaultSettings, VegvesenSettings, get_settings
from connectors.vegvesen.client import seconds_to_oslo_midnight
from sandbox.faults import ADMIN_PREFIX, FaultState, install_faults
from sandbox.vegvesen.registry import Register, web_sections

LOOKUP_PATH = "/enkeltoppslag/kjoretoydata"
WEB_PATH = "/kjoretoy"
NotFoundForm = Literal["204", "404", "empty", "feilmelding", "mixed"]
_PLATE = re.compile(r"^[A-ZÆØÅ0-9]{2,7}$")
_VIN = re.compile(r"^[A-HJ-NPR-Z0-9]{17}$")
_TEMPLATES = Environment(loader=FileSystemLoader(Path(__file__).parent / "templates"),
                         autoescape=select_autoescape(["html"]))


class RegistryKnobs(BaseModel):
    """Knobs of this stand-in beyond the shared fault settings (PUT /_admin/vegvesen)."""

    not_found: NotFoundForm = Field("mixed", description="How an unknown plate is answered; 'mixed' picks "
                                                         "one of the four forms per plate (stable).")
    quota_retry_after_seconds: float | None = Field(
        None, description="Seconds until the spent quota resets (and the Retry-After sent); "
                          "None: after midnight Norwegian time, as the real registry.")
    fail_next: int = Field(0, ge=0, description="Answer the next N lookups with `fail_status`.")
    fail_status: int = Field(503, ge=500, le=599)


class GatewayFaultState(FaultState):
    """The shared fault state, but the rate limit is counted when a request *arrives*, as an API
    gateway counts it, not after the simulated processing latency (where the timer's wake-up
    jitter on a busy machine would make the registry's clock disagree with any client's)."""

    def over_rate(self) -> bool:  # the shared middleware's check, after the latency: not here
        return False

    def over_rate_at_arrival(self) -> bool:
        return FaultState.over_rate(self)


class ArrivalRateLimit:
    """Pure ASGI middleware (outermost): 429 + Retry-After for requests over the limit, at once."""

    def __init__(self, app, state: GatewayFaultState, paths: tuple[str, ...]):
        self.app, self.state, self.paths = app, state, paths

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] == "http" and scope["path"].startswith(self.paths) and self.state.over_rate_at_arrival():
            self.state.requests += 1
            response = JSONResponse({"feilmelding": "For mange forespørsler"}, status_code=429,
                                    headers={"Retry-After": "1"})
            await response(scope, receive, send)
            return
        await self.app(scope, receive, send)


class RegistryState:
    def __init__(self, data_dir: Path, knobs: RegistryKnobs):
        self.data_dir = data_dir
        self.knobs = knobs
        self.register = Register.load(data_dir)
        self.lock = threading.Lock()
        self.quota_reset_at: float | None = None  # monotonic
        self.lookups = 0
        self.not_found = 0

    def take_failure(self) -> int | None:
        with self.lock:
            if self.knobs.fail_next > 0:
                self.knobs = self.knobs.model_copy(update={"fail_next": self.knobs.fail_next - 1})
                return self.knobs.fail_status
        return None


def _not_found_form(knobs: RegistryKnobs, key: str) -> str:
    if knobs.not_found != "mixed":
        return knobs.not_found
    return ("204", "404", "empty", "feilmelding")[zlib.crc32(key.encode()) % 4]


def _error(status: int, message: str, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse({"feilmelding": message}, status_code=status, headers=headers)


def create_app(data_dir: Path, faults: FaultSettings | None = None, *, vegvesen: VegvesenSettings | None = None,
               knobs: RegistryKnobs | None = None) -> FastAPI:
    """The stand-in serving `<data_dir>/sandbox/vegvesen/`; the API key from `vegvesen` (default: settings)."""
    vegvesen = vegvesen or get_settings().vegvesen
    expected_key = vegvesen.api_key.get_secret_value()
    app = FastAPI(title="Statens vegvesen sandbox", docs_url=None, redoc_url=None, openapi_url=None)
    state = RegistryState(Path(data_dir), knobs or RegistryKnobs())
    faults_state = GatewayFaultState(faults)
    app.state.registry = state
    install_faults(app, faults_state, paths=(LOOKUP_PATH, WEB_PATH))
    app.add_middleware(ArrivalRateLimit, state=faults_state, paths=(LOOKUP_PATH, WEB_PATH))

    def quota_left() -> tuple[bool, float]:
        """Spend one lookup of the daily quota; (allowed, seconds until it resets)."""
        if faults_state.settings.daily_quota is None:
            return True, 0.0
        now = time.monotonic()
        with state.lock:
            if state.quota_reset_at is not None and now >= state.quota_reset_at:
                with faults_state.lock:
                    faults_state.quota_used = 0
                state.quota_reset_at = None
        if faults_state.spend_quota():
            return True, 0.0
        with state.lock:
            if state.quota_reset_at is None:
                wait = state.knobs.quota_retry_after_seconds
                state.quota_reset_at = now + (seconds_to_oslo_midnight() if wait is None else wait)
            return False, max(state.quota_reset_at - now, 0.0)

    @app.get(LOOKUP_PATH)
    async def lookup(request: Request) -> Response:
        auth = request.headers.get("svv-authorization")
        if not auth:
            return _error(401, "Mangler SVV-Authorization (Apikey)")
        scheme, _, key = auth.partition(" ")
        if scheme.lower() != "apikey" or key.strip() != expected_key:
            return _error(403, "Ugyldig API-nøkkel")
        failure = state.take_failure()
        if failure:
            return _error(failure, "Intern feil (sandbox)")
        params = request.query_params
        plate = re.sub(r"\s+", "", params.get("kjennemerke", "")).upper()
        vin = re.sub(r"\s+", "", params.get("understellsnummer", "")).upper()
        if not plate and not vin:
            return _error(400, "Oppgi kjennemerke eller understellsnummer")
        if plate and not _PLATE.match(plate):
            return _error(400, f"Ugyldig kjennemerke: {plate}")
        if vin and not plate and not _VIN.match(vin):
            return _error(400, f"Ugyldig understellsnummer: {vin}")
        allowed, wait = quota_left()
        if not allowed:
            return _error(422, "Antall kjoretoy i respons overstiger kvote",
                          headers={"Retry-After": str(max(1, math.ceil(wait - 1e-6)))})
        state.lookups += 1
        key = plate or state.register.by_vin.get(vin, vin)
        body = state.register.answers.get(key)
        if body is not None:
            return Response(body, media_type="application/json")
        state.not_found += 1
        form = _not_found_form(state.knobs, plate or vin)
        if form == "204":
            return Response(status_code=204)
        if form == "404":
            return _error(404, "Kjøretøy ikke funnet")
        if form == "empty":
            return JSONResponse({"kjoretoydataListe": []})
        return JSONResponse({"feilmelding": "Ingen kjoretoy funnet", "kjoretoydataListe": []})

    @app.get(WEB_PATH, response_class=HTMLResponse)
    async def web_page(request: Request, registreringsnummer: str = "") -> HTMLResponse:
        s = faults_state.settings
        if s.slow_page_ms:
            await asyncio.sleep(s.slow_page_ms / 1000)
        query = registreringsnummer.strip()
        key = re.sub(r"[\s\-]+", "", query).upper()
        spec, message, status = None, None, 200
        if query:
            if not (_PLATE.match(key) or _VIN.match(key)):
                message, status = f"«{query}» er ikke et gyldig registreringsnummer.", 400
            else:
                plate = state.register.by_vin.get(key, key)
                spec = state.register.specs.get(plate)
                if spec is None:
                    message, status = f"Vi fant ikke noe kjøretøy med registreringsnummer {query.upper()}.", 404
        html = _TEMPLATES.get_template("kjoretoy.html").render(
            action=str(request.url.path), query=query, message=message, alternate=s.alternate_layout,
            plate=spec.spaced_plate if spec else "", sections=web_sections(spec, s.alternate_layout) if spec else None)
        return HTMLResponse(html, status_code=status)

    @app.get(f"{ADMIN_PREFIX}/vegvesen")
    def get_knobs() -> dict:
        return {"knobs": state.knobs.model_dump(), "vehicles": len(state.register), "lookups": state.lookups,
                "not_found": state.not_found, "quota_used": faults_state.quota_used}

    @app.put(f"{ADMIN_PREFIX}/vegvesen")
    def put_knobs(changes: dict) -> dict:
        unknown = set(changes) - set(RegistryKnobs.model_fields)
        if unknown:
            return JSONResponse({"error": f"unknown knob(s): {sorted(unknown)}"}, status_code=400)
        with state.lock:
            state.knobs = RegistryKnobs.model_validate(state.knobs.model_dump() | changes)
            if "quota_retry_after_seconds" in changes:
                state.quota_reset_at = None
        return get_knobs()

    @app.post(f"{ADMIN_PREFIX}/vegvesen/reload")
    def reload() -> dict:
        state.register = Register.load(state.data_dir)
        return get_knobs()

    @app.get("/", include_in_schema=False)
    def root() -> RedirectResponse:
        return RedirectResponse(WEB_PATH, status_code=303)

    @app.get("/healthz", include_in_schema=False)
    def health() -> dict:
        return {"status": "ok", "vehicles": len(state.register)}

    return app
