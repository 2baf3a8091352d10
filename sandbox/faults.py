"""Fault knobs shared by the sandbox systems: latency, 5xx, rate limit, quota, slow pages.

Each system's app gets a FaultState (initialised from settings) and the middleware below;
tests and benchmarks change it at run time with ``PUT /_admin/faults`` (JSON of FaultSettings
fields) and read counters with ``GET /_admin/faults``.
"""

from __future__ import annotations

import asyncio
import random
import threading
import time
from collections import deque

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response

from config.settings import FaultSettings

ADMIN_PREFIX = "/_admin"


class FaultState:
    def __init__(self, settings: FaultSettings | None = None, seed: int = 0):
        self.settings = settings or FaultSettings()
        self.random = random.Random(seed)
        self.lock = threading.Lock()
        self.recent: deque[float] = deque()
        self.quota_used = 0
        self.requests = 0
        self.injected_errors = 0

    def update(self, **changes) -> None:
        with self.lock:
            self.settings = self.settings.model_copy(update=changes)
            if "daily_quota" in changes:
                self.quota_used = 0

    def should_fail(self) -> bool:
        with self.lock:
            fail = self.settings.error_rate > 0 and self.random.random() < self.settings.error_rate
            self.injected_errors += fail
            return fail

    def over_rate(self) -> bool:
        limit = self.settings.rate_limit_per_second
        if not limit:
            return False
        now = time.monotonic()
        with self.lock:
            while self.recent and now - self.recent[0] > 1.0:
                self.recent.popleft()
            if len(self.recent) >= limit:
                return True
            self.recent.append(now)
            return False

    def spend_quota(self) -> bool:
        """True while quota is left (call once per counted lookup)."""
        with self.lock:
            if self.settings.daily_quota is None:
                return True
            if self.quota_used >= self.settings.daily_quota:
                return False
            self.quota_used += 1
            return True


def install_faults(app: FastAPI, state: FaultState, *, paths: tuple[str, ...] = ("/",)) -> None:
    """Latency, injected 503s and a 429 rate limit on requests under `paths` (admin excluded)."""
    app.state.faults = state

    @app.middleware("http")
    async def _faults(request: Request, call_next):
        path = request.url.path
        if path.startswith(ADMIN_PREFIX) or not path.startswith(paths):
            return await call_next(request)
        state.requests += 1
        s = state.settings
        # A gateway counts the rate when a request arrives, before the service's own latency.
        if state.over_rate():
            return JSONResponse({"feilmelding": "For mange forespørsler"}, status_code=429,
                                headers={"Retry-After": "1"})
        if s.latency_ms:
            await asyncio.sleep(s.latency_ms / 1000)
        if state.should_fail():
            return Response("Service Unavailable (sandbox fault)", status_code=503)
        return await call_next(request)

    @app.get(f"{ADMIN_PREFIX}/faults")
    def get_faults() -> dict:
        return {"settings": state.settings.model_dump(), "requests": state.requests,
                "quota_used": state.quota_used, "injected_errors": state.injected_errors}

    @app.put(f"{ADMIN_PREFIX}/faults")
    def put_faults(changes: dict) -> dict:
        unknown = set(changes) - set(FaultSettings.model_fields)
        if unknown:
            return JSONResponse({"error": f"unknown fault knob(s): {sorted(unknown)}"}, status_code=400)
        state.update(**changes)
        return get_faults()
