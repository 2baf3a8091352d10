"""The lookup loop: concurrent registry lookups under the definition's rate limit, item state in the store.

The kit's item loop (flows.kit.run_items) runs the lookup handler in the definition's
`concurrency` threads; every request first takes a slot from one shared RateLimiter (the
definition's `requests_per_second` times a safety margin), so latency is hidden and the
registry's limit is the only bound. The kit owns all store writes: it claims items in batches
while the threads are busy, completes found vehicles in batches, opens cases one by one.

What stops or pauses the loop, for every thread at once:
- 422/429 with a short Retry-After: all threads pause (RateLimiter.pause_for) and the same item is
  tried again; nothing fails.
- 422/429 with a long Retry-After (quota spent for the day): the loop stops claiming, lets
  running requests finish, and defers every unfinished item to the Retry-After time. The run
  ends "paused"; the next run after that time picks them up. No item is lost or failed.
- 401/403: the key is wrong; the loop stops and releases its items untouched (not 3 000 failures).
- N system errors in a row (definition: stop_after_consecutive_system_errors): the registry looks
  down; stop hammering it and release the rest.
"""

from __future__ import annotations

import gc
import threading
import time
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Protocol

from config.settings import Settings
from connectors.vegvesen.cache import LookupCache
from connectors.vegvesen.client import VegvesenClient
from connectors.vegvesen.errors import (
    AuthenticationFailed,
    InvalidIdentifier,
    QuotaExceeded,
    VegvesenError,
    VehicleNotFound,
)
from connectors.vegvesen.parser import Vehicle, parse_response
from connectors.vegvesen.plates import Identifier
from connectors.vegvesen.ratelimit import RateLimiter
from flows.kit import BusinessCase, Done, GiveBack, Progress, RunContext, SystemFailure, get_logger, run_items
from flows.kit.items import Outcome
from flows.vehicle_data_collection import outcomes as oc
from flows.vehicle_data_collection.rules import Rules
from workqueue.models import WorkItem

DEREGISTERED_STATUSES = {"AVREGISTRERT", "UREGISTRERT", "UTFORT", "VRAKET"}


class Cancelled(Exception):
    """The loop stopped while this lookup waited for its slot."""


class Fetcher(Protocol):
    source: str
    workers: int

    def fetch(self, ident: Identifier, limiter: RateLimiter, stop: threading.Event) -> tuple[Vehicle, bool]: ...

    def close(self) -> None: ...


class ApiFetcher:
    """The Kjøretøyopplysninger API, with the lookup cache in front (a cache hit costs no slot)."""

    source = "api"

    def __init__(self, client: VegvesenClient, cache: LookupCache, max_age_seconds: float, workers: int):
        self.client, self.cache, self.max_age, self.workers = client, cache, max_age_seconds, workers

    def fetch(self, ident: Identifier, limiter: RateLimiter, stop: threading.Event) -> tuple[Vehicle, bool]:
        body = self.cache.get("api", ident.value, self.max_age)
        if body is not None:
            return parse_response(body), True
        if not limiter.acquire(stop):
            raise Cancelled
        result = self.client.lookup(ident)
        vehicle = parse_response(result.body)
        self.cache.put("api", ident.value, result.body)
        return vehicle, False

    def close(self) -> None:
        self.client.close()


class WebFetcher:
    """The page 'Sjekk kjøretøyopplysninger' through the bot: one thread, one browser page.
    The bot is opened lazily in the pool's (single) thread and must be closed there too."""

    source = "web"
    workers = 1

    def __init__(self, settings: Settings, cache: LookupCache, max_age_seconds: float, evidence_dir: Path):
        self.settings, self.cache, self.max_age, self.evidence_dir = settings, cache, max_age_seconds, evidence_dir
        self._bot = None

    def _open(self):
        if self._bot is None:
            from bots.vegvesen_web import VegvesenWeb

            # The shared limiter paces the page loads; the bot's own pacing is off.
            self._bot = VegvesenWeb(self.settings, evidence_dir=self.evidence_dir, min_interval_seconds=0).__enter__()
        return self._bot

    def fetch(self, ident: Identifier, limiter: RateLimiter, stop: threading.Event) -> tuple[Vehicle, bool]:
        from bots.vegvesen_web import WebVehicle, WebVehicleNotFound

        cached = self.cache.get("web", ident.value, self.max_age)
        if cached is not None:
            return WebVehicle.from_dict(cached).to_vehicle(), True
        if not limiter.acquire(stop):
            raise Cancelled
        try:
            found = self._open().lookup(ident.value)
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


@dataclass
class LoopStats:
    claimed: int = 0
    done: int = 0
    requests: int = 0          # lookups that reached the registry (cache hits excluded)
    cache_hits: int = 0
    business: int = 0
    flagged: int = 0           # EU control overdue: done, and a case beside it
    retries_scheduled: int = 0
    failed: int = 0
    short_waits: int = 0       # 422 pauses waited out in the run
    rate_limited: int = 0      # 429 answers (each pauses every thread and slows the pace)
    stopped: str | None = None  # quota | auth | system_down
    error: Exception | None = None
    resume_at: datetime | None = None
    deferred: int = 0
    released: int = 0
    seconds: float = 0.0

    @property
    def rate(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0


def _error_text(exc: Exception) -> str:
    return getattr(exc, "message_no", None) and f"{exc.message_no} ({exc})" or f"{exc.__class__.__name__}: {exc}"


class LookupLoop:
    """The kit's item loop (flows.kit.run_items) with the lookup as its handler: the handler runs
    in the fetcher's threads, the kit claims and records; this class adds what is the registry's:
    the shared rate limiter, waiting out short Retry-Afters, and deferring to the quota's reset."""

    def __init__(self, ctx: RunContext, fetcher: Fetcher, limiter: RateLimiter, *, today: date,
                 worker: str, progress: Progress | None = None, total_hint: int = 0):
        self.ctx, self.fetcher, self.limiter, self.today, self.worker = ctx, fetcher, limiter, today, worker
        self.rules: Rules = ctx.rules  # type: ignore[assignment]
        self.progress, self.total_hint = progress, total_hint
        self.stop = threading.Event()
        self.stats = LoopStats()
        self.log = get_logger("rpa.vehicles")
        self._lock = threading.Lock()
        self._flags: dict[int, Vehicle] = {}
        self._quota: QuotaExceeded | None = None

    # ---------------------------------------------------------------- the handler (worker threads)

    def __call__(self, ctx: RunContext, item: WorkItem) -> Outcome:
        p = item.payload
        if p.get("kind") != "lookup":  # malformed or duplicate rows are settled by prepare(); belt and braces
            return BusinessCase(oc.malformed_case(ctx, p, p.get("problem") or "ugyldig kjennemerke")
                                if p.get("kind") == "malformed" else oc.duplicate_case(ctx, p), answered=False)
        ident = Identifier(p["by"], p["value"])
        while True:
            if self.stop.is_set():
                return GiveBack()
            try:
                vehicle, cached = self.fetcher.fetch(ident, self.limiter, self.stop)
            except Cancelled:
                return GiveBack()
            except QuotaExceeded as exc:
                if self._short_wait(exc):
                    continue
                with self._lock:
                    if self._quota is None or exc.resume_at > self._quota.resume_at:
                        self._quota = exc
                    self.stats.stopped = self.stats.stopped or "quota"
                self.stop.set()
                return GiveBack()
            except AuthenticationFailed as exc:
                self.stats.stopped, self.stats.error = "auth", exc
                self.stop.set()
                return GiveBack()
            except VehicleNotFound as exc:
                self._count(requests=1)
                return BusinessCase(oc.not_found_case(ctx, p, exc.form, exc.detail))
            except InvalidIdentifier as exc:
                self._count(requests=1)
                return BusinessCase(oc.malformed_case(ctx, p, getattr(exc, "message_no", str(exc))))
            except Exception as exc:  # noqa: BLE001 - one bad answer never crashes the run
                self._count(requests=1)
                text = _error_text(exc)
                with self._lock:
                    self.stats.error = exc
                return SystemFailure(text, oc.system_evidence(p, text),
                                     exc.attachments() if hasattr(exc, "attachments") else [])
            return self._found(ctx, item, vehicle, cached)

    def _count(self, requests: int = 0, cache_hits: int = 0) -> None:
        with self._lock:
            self.stats.requests += requests
            self.stats.cache_hits += cache_hits
            if requests and self.stats.requests % 25 == 0:
                self.limiter.speed_up()

    def _found(self, ctx: RunContext, item: WorkItem, v: Vehicle, cached: bool) -> Outcome:
        self._count(requests=not cached, cache_hits=cached)
        if v.registration_status in DEREGISTERED_STATUSES:
            return BusinessCase(oc.deregistered_case(ctx, item.payload, v))
        if oc.is_overdue(v, self.today, self.rules.eu_control_grace_days):
            with self._lock:
                self._flags[item.id] = v
        return Done({"vehicle": v.to_dict(), "cached": cached, "source": self.fetcher.source,
                     "looked_up_at": datetime.now(UTC).isoformat(timespec="seconds")})

    def _short_wait(self, exc: QuotaExceeded) -> bool:
        """Wait out a Retry-After inside the run (every thread pauses); False when the run should
        defer instead: the wait is too long, or the registry refused (422) too often this run.
        A 429 also slows the pace a little (the registry's clock says we are too fast)."""
        if exc.retry_after > self.rules.quota_max_wait_seconds:
            return False
        with self._lock:
            already = self.limiter.paused_until > time.monotonic()
            if exc.status == 429:
                self.stats.rate_limited += 1
                if not already:
                    self.limiter.slow_down()
            elif not already:
                if self.stats.short_waits >= self.rules.max_short_waits:
                    return False
                self.stats.short_waits += 1
            self.limiter.pause_for(exc.retry_after)
        if not already:
            self.log.info("Statens vegvesen ba oss vente %.0f s (HTTP %s); alle oppslag venter", exc.retry_after,
                          exc.status)
        return True

    # ---------------------------------------------------------------- the loop (calling thread)

    def _done(self, batch: list[tuple[WorkItem, dict]]) -> None:
        """After a batch of completions is stored: the EU-control cases beside the done vehicles."""
        for item, _ in batch:
            v = self._flags.pop(item.id, None)
            if v is not None:
                self.ctx.store.open_case(self.ctx.process_id, item.reference,
                                         oc.eu_overdue_case(self.ctx, item.payload, v), item_id=item.id)
                self.stats.flagged += 1

    def _system_down(self) -> None:
        self.stats.stopped = "system_down"
        self.stop.set()

    def run(self) -> LoopStats:
        # Everything alive now (Prefect, SQLAlchemy, pydantic: hundreds of thousands of objects)
        # is long-lived: freeze it out of the collector's reach for the loop. A full collection
        # over it holds the GIL for 60-180 ms, which stalls every lookup thread at once and sends
        # the next requests bunched together: the registry's per-second count then sees a burst.
        ctx = self.ctx
        lease = ctx.definition.retry.lease_seconds
        batch = max(1, min(self.rules.claim_batch, int(self.limiter.rate * lease / 4) or 1))
        started = time.monotonic()
        gc.freeze()
        try:
            counts = run_items(
                ctx, self, batch=batch, lease_seconds=lease, worker=self.worker, workers=self.fetcher.workers,
                pool=True, window=batch + max(self.fetcher.workers * 2, batch // 2), stop=self.stop.is_set,
                stop_after=ctx.definition.retry.stop_after_consecutive_system_errors,
                system_name="Statens vegvesen", on_stop=self._system_down,
                wait_for_retries=self.rules.max_retry_wait_seconds, on_done=self._done,
                on_thread_exit=self.fetcher.close if self.fetcher.source == "web" else None,
                progress=self.progress, total_hint=self.total_hint)
        finally:
            gc.unfreeze()
            if self.fetcher.source != "web":
                self.fetcher.close()
            self.stats.seconds = time.monotonic() - started
        s = self.stats
        s.claimed, s.done, s.business = counts.claimed, counts.done, counts.business
        s.retries_scheduled, s.failed, s.released = counts.system_retry, counts.escalated, counts.released
        self._settle_stop([i.id for i in counts.given_back])
        return s

    def _settle_stop(self, leftovers: list[int]) -> None:
        """Give back what this loop still holds: deferred to the quota's reset, or released."""
        store, ctx = self.ctx.store, self.ctx
        if self.stats.stopped == "quota" and self._quota is not None:
            q = self._quota
            self.stats.error = q
            self.stats.resume_at = q.resume_at
            # Everything still waiting waits for the reset too: claim it (a claim is the only way to
            # hold items) and defer it with the rest, so no run before the reset spends a request on it.
            rest = store.claim(ctx.process_id, self.worker, limit=1_000_000, lease_seconds=600, run_id=ctx.run_id)
            ids = leftovers + [i.id for i in rest]
            reason = (f"Kvoten hos Statens vegvesen er brukt opp (HTTP {q.status}); venter til "
                      f"{q.resume_at.astimezone():%d.%m.%Y kl. %H:%M}")
            self.stats.deferred = store.defer(ids, q.resume_at, reason=reason, worker=self.worker)
        elif leftovers:
            reason = {"auth": "API-nøkkelen ble avvist", "system_down": "Statens vegvesen svarer ikke"}.get(
                self.stats.stopped or "", "kjøringen stoppet")
            self.stats.released += store.release(leftovers, reason=reason, worker=self.worker)


def make_fetcher(ctx: RunContext, source: str, cache: LookupCache, *, client: VegvesenClient | None = None) -> tuple[Fetcher, RateLimiter]:
    """The fetcher for `source` (api | web) and its rate limiter, from the definition's rate_limits."""
    rules: Rules = ctx.rules  # type: ignore[assignment]
    max_age = rules.cache_max_age_hours * 3600
    if source == "web":
        fetcher: Fetcher = WebFetcher(ctx.settings, cache, max_age, ctx.out_dir / "bevis")
        rate = 1.0 / rules.web_min_interval_seconds if rules.web_min_interval_seconds > 0 else 1000.0
        return fetcher, RateLimiter(rate)
    limit = ctx.definition.rate_limit("vegvesen")
    workers = limit.concurrency if limit else 4
    per_second = limit.requests_per_second if limit else 5.0
    client = client or VegvesenClient.from_settings(ctx.settings, pool_size=workers)
    # Even spacing at a margin under the limit, and never more than the limit in any one second
    # by our actual send times (a 20 ms guard for the network).
    limiter = RateLimiter(per_second * rules.rate_safety_margin, window=(int(per_second), 0.02))
    return ApiFetcher(client, cache, max_age, workers), limiter


__all__ = ["ApiFetcher", "WebFetcher", "LookupLoop", "LoopStats", "make_fetcher", "VegvesenError"]
