"""A vehicle from Statens vegvesen, by the Kjøretøyopplysninger API or by the page 'Sjekk
kjøretøyopplysninger' (the bot), with the lookup cache in front and one shared pacer: what the
threads of a lookup loop call. A cache hit costs neither quota nor a slot; every request first
takes a slot from the pacer, so the registry's limit is the only bound. A 422/429 with a short
Retry-After pauses every thread and the same request is tried again. A longer one (the quota
spent for the day) or a refused key shuts the source for every thread: `refusal` says why (a
refused key outranks a quota; of two quotas, the later reset), and every fetch after it raises
Cancelled.
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path
from typing import Any

from config.settings import Settings
from connectors.ratelimit import RateLimiter
from connectors.vegvesen.cache import LookupCache
from connectors.vegvesen.client import VegvesenClient
from connectors.vegvesen.errors import AuthenticationFailed, InvalidIdentifier, QuotaExceeded, VehicleNotFound
from connectors.vegvesen.parser import Vehicle, parse_response
from connectors.vegvesen.plates import Identifier


class Cancelled(Exception):
    """The caller stopped while this lookup waited for its slot."""


class Source:
    """What both sources share: the cache, the pacer, the short quota waits, the shut-down and the
    counts (`requests`: lookups that reached the registry, refusals by quota or key excluded)."""

    name = ""
    workers = 1

    def __init__(self, cache: LookupCache, max_age_seconds: float, limiter: RateLimiter, *,
                 max_wait: float = 0.0, max_waits: int = 0, log: logging.Logger | logging.LoggerAdapter | None = None):
        self.cache, self.max_age, self.limiter = cache, max_age_seconds, limiter
        self.max_wait, self.max_waits = max_wait, max_waits
        self.log = log or logging.getLogger(__name__)
        self.requests = self.cache_hits = 0
        self.stop = threading.Event()  # set: no thread starts another lookup
        self.refusal: QuotaExceeded | AuthenticationFailed | None = None
        self._lock = threading.Lock()

    def fetch(self, ident: Identifier) -> tuple[Vehicle, bool]:
        """(the vehicle, whether it came from the cache); raises connectors.vegvesen.errors
        (QuotaExceeded when its Retry-After is too long to wait out), Cancelled once `stop` is set."""
        if self.stop.is_set():
            raise Cancelled
        cached = self.cache.get(self.name, ident.value, self.max_age)
        if cached is not None:
            self._count(cache_hits=1)
            return self._vehicle(cached), True
        while True:
            if not self.limiter.acquire(self.stop):
                raise Cancelled
            try:
                vehicle, body = self._ask(ident)
            except QuotaExceeded as exc:
                if self._waited(exc):
                    continue
                self._shut(exc)
                raise
            except AuthenticationFailed as exc:
                self._shut(exc)
                raise
            except Exception:
                self._count(requests=1)
                raise
            self._count(requests=1)
            self.cache.put(self.name, ident.value, body)
            return vehicle, False

    def _count(self, requests: int = 0, cache_hits: int = 0) -> None:
        with self._lock:
            self.requests += requests
            self.cache_hits += cache_hits
            if requests and self.requests % 25 == 0:
                self.limiter.speed_up()

    def _shut(self, exc: QuotaExceeded | AuthenticationFailed) -> None:
        with self._lock:
            if (self.refusal is None or isinstance(exc, AuthenticationFailed)
                    or isinstance(self.refusal, QuotaExceeded) and exc.resume_at > self.refusal.resume_at):
                self.refusal = exc
        self.stop.set()

    def _waited(self, exc: QuotaExceeded) -> bool:
        """A short Retry-After is waited out by every thread; False: the caller defers instead."""
        paused = self.limiter.refused(exc.retry_after, too_fast=exc.status == 429, max_wait=self.max_wait,
                                      max_waits=self.max_waits)
        if paused:
            self.log.info("Statens vegvesen ba oss vente %.0f s (HTTP %s); alle oppslag venter", paused, exc.status)
        return paused is not None

    def _ask(self, ident: Identifier) -> tuple[Vehicle, Any]:
        """(the vehicle, what the cache keeps of the answer)."""
        raise NotImplementedError

    def _vehicle(self, cached: Any) -> Vehicle:
        raise NotImplementedError

    def close(self) -> None:
        pass


class ApiSource(Source):
    """The API: `workers` concurrent lookups on the client's kept-alive connections."""

    name = "api"

    def __init__(self, client: VegvesenClient, cache: LookupCache, max_age_seconds: float, limiter: RateLimiter,
                 workers: int, **waits: Any):
        super().__init__(cache, max_age_seconds, limiter, **waits)
        self.client, self.workers = client, workers

    def _ask(self, ident: Identifier) -> tuple[Vehicle, Any]:
        body = self.client.lookup(ident).body
        return parse_response(body), body

    def _vehicle(self, cached: Any) -> Vehicle:
        return parse_response(cached)

    def close(self) -> None:
        self.client.close()


class WebSource(Source):
    """The web page through the bot: one thread, one browser page, opened lazily in that thread
    and closed there too (`close` is the loop's `on_thread_exit`)."""

    name = "web"

    def __init__(self, settings: Settings, cache: LookupCache, max_age_seconds: float, limiter: RateLimiter,
                 evidence_dir: Path, **waits: Any):
        super().__init__(cache, max_age_seconds, limiter, **waits)
        self.settings, self.evidence_dir = settings, evidence_dir
        self._bot = None

    def _ask(self, ident: Identifier) -> tuple[Vehicle, Any]:
        from bots.vegvesen_web import VegvesenWeb, WebVehicleNotFound

        if self._bot is None:  # the shared pacer paces the page loads; the bot's own pacing is off
            self._bot = VegvesenWeb(self.settings, evidence_dir=self.evidence_dir, min_interval_seconds=0).__enter__()
        try:
            found = self._bot.lookup(ident.value)
        except WebVehicleNotFound as exc:
            if exc.invalid:
                raise InvalidIdentifier(exc.message, message_no=exc.message) from None
            raise VehicleNotFound(ident.display, "nettside", exc.message) from None
        return found.to_vehicle(), found.to_dict()

    def _vehicle(self, cached: Any) -> Vehicle:
        from bots.vegvesen_web import WebVehicle

        return WebVehicle.from_dict(cached).to_vehicle()

    def close(self) -> None:
        if self._bot is not None:
            self._bot.__exit__(None, None, None)
            self._bot = None


def open_source(kind: str, settings: Settings, cache: LookupCache, max_age_seconds: float, *,
                requests_per_second: float, workers: int, safety_margin: float, web_interval_seconds: float,
                evidence_dir: Path, **waits: Any) -> ApiSource | WebSource:
    """The source `kind` (api | web) with its pacer: the API at a margin under its limit, and
    never more than the limit in any one second by the actual send times (a 20 ms guard for the
    network); the web page at one load per `web_interval_seconds`. `waits`: `max_wait` (the
    longest Retry-After waited out), `max_waits` (short waits per run), `log`."""
    if kind == "web":
        rate = 1.0 / web_interval_seconds if web_interval_seconds > 0 else 1000.0
        return WebSource(settings, cache, max_age_seconds, RateLimiter(rate), evidence_dir, **waits)
    limiter = RateLimiter(requests_per_second * safety_margin, window=(int(requests_per_second), 0.02))
    client = VegvesenClient.from_settings(settings, pool_size=workers)
    return ApiSource(client, cache, max_age_seconds, limiter, workers, **waits)
