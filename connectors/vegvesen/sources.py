"""A vehicle from Statens vegvesen, by the Kjøretøyopplysninger API or by the page 'Sjekk
kjøretøyopplysninger' (the bot), with the lookup cache in front and one shared pacer: what the
threads of a lookup loop call. A cache hit costs neither quota nor a slot; every request first
takes a slot from the pacer, so the registry's limit is the only bound.
"""

from __future__ import annotations

import threading
from pathlib import Path

from config.settings import Settings
from connectors.ratelimit import RateLimiter
from connectors.vegvesen.cache import LookupCache
from connectors.vegvesen.client import VegvesenClient
from connectors.vegvesen.errors import InvalidIdentifier, VehicleNotFound
from connectors.vegvesen.parser import Vehicle, parse_response
from connectors.vegvesen.plates import Identifier


class Cancelled(Exception):
    """The caller stopped while this lookup waited for its slot."""


class ApiSource:
    """The API: `workers` concurrent lookups on the client's kept-alive connections."""

    name = "api"

    def __init__(self, client: VegvesenClient, cache: LookupCache, max_age_seconds: float, limiter: RateLimiter,
                 workers: int):
        self.client, self.cache, self.max_age, self.limiter, self.workers = (
            client, cache, max_age_seconds, limiter, workers)

    def fetch(self, ident: Identifier, stop: threading.Event) -> tuple[Vehicle, bool]:
        """(the vehicle, whether it came from the cache); raises connectors.vegvesen.errors."""
        body = self.cache.get("api", ident.value, self.max_age)
        if body is not None:
            return parse_response(body), True
        if not self.limiter.acquire(stop):
            raise Cancelled
        result = self.client.lookup(ident)
        vehicle = parse_response(result.body)
        self.cache.put("api", ident.value, result.body)
        return vehicle, False

    def close(self) -> None:
        self.client.close()


class WebSource:
    """The web page through the bot: one thread, one browser page, opened lazily in that thread
    and closed there too (`close` is the loop's `on_thread_exit`)."""

    name = "web"
    workers = 1

    def __init__(self, settings: Settings, cache: LookupCache, max_age_seconds: float, limiter: RateLimiter,
                 evidence_dir: Path):
        self.settings, self.cache, self.max_age, self.limiter, self.evidence_dir = (
            settings, cache, max_age_seconds, limiter, evidence_dir)
        self._bot = None

    def fetch(self, ident: Identifier, stop: threading.Event) -> tuple[Vehicle, bool]:
        from bots.vegvesen_web import VegvesenWeb, WebVehicle, WebVehicleNotFound

        cached = self.cache.get("web", ident.value, self.max_age)
        if cached is not None:
            return WebVehicle.from_dict(cached).to_vehicle(), True
        if not self.limiter.acquire(stop):
            raise Cancelled
        if self._bot is None:  # the shared pacer paces the page loads; the bot's own pacing is off
            self._bot = VegvesenWeb(self.settings, evidence_dir=self.evidence_dir, min_interval_seconds=0).__enter__()
        try:
            found = self._bot.lookup(ident.value)
        except WebVehicleNotFound as exc:
            if exc.invalid:
                raise InvalidIdentifier(exc.message, message_no=exc.message) from None
            raise VehicleNotFound(ident.display, "nettside", exc.message) from None
        self.cache.put("web", ident.value, found.to_dict())
        return found.to_vehicle(), False

    def close(self) -> None:
        if self._bot is not None:
            self._bot.__exit__(None, None, None)
            self._bot = None


def open_source(kind: str, settings: Settings, cache: LookupCache, max_age_seconds: float, *,
                requests_per_second: float, workers: int, safety_margin: float, web_interval_seconds: float,
                evidence_dir: Path) -> ApiSource | WebSource:
    """The source `kind` (api | web) with its pacer: the API at a margin under its limit, and
    never more than the limit in any one second by the actual send times (a 20 ms guard for the
    network); the web page at one load per `web_interval_seconds`."""
    if kind == "web":
        rate = 1.0 / web_interval_seconds if web_interval_seconds > 0 else 1000.0
        return WebSource(settings, cache, max_age_seconds, RateLimiter(rate), evidence_dir)
    limiter = RateLimiter(requests_per_second * safety_margin, window=(int(requests_per_second), 0.02))
    client = VegvesenClient.from_settings(settings, pool_size=workers)
    return ApiSource(client, cache, max_age_seconds, limiter, workers)
