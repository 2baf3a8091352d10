"""The lookup loop: concurrent registry lookups under the definition's rate limit, item state in the store.

One thread pool (the definition's `concurrency`) does the lookups; every request first takes a
slot from one shared RateLimiter (the definition's `requests_per_second` times a safety margin),
so latency is hidden and the registry's limit is the only bound. The main thread owns all store
writes: it claims items in batches while the pool is busy, completes found vehicles in batches
(complete_many), and opens cases one by one (they are few).

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
from collections import Counter
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, Protocol

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
from flows.runtime import Progress, RunContext, get_logger
from flows.vehicle_data_collection import outcomes as oc
from flows.vehicle_data_collection.rules import Rules
from workqueue.models import WorkItem
from workqueue.store import LeaseLost

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
class Outcome:
    item: WorkItem
    kind: str  # found | not_found | invalid | quota | auth | system | cancelled | listed
    vehicle: Vehicle | None = None
    error: Exception | None = None
    cached: bool = False


@dataclass
class LoopStats:
    claimed: int = 0
    done: int = 0
    requests: int = 0          # lookups that reached the registry (cache hits excluded)
    cache_hits: int = 0
    business: Counter = field(default_factory=Counter)
    flagged: Counter = field(default_factory=Counter)
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
    def __init__(self, ctx: RunContext, fetcher: Fetcher, limiter: RateLimiter, *, today: date,
                 worker: str, progress: Progress | None = None, total_hint: int = 0):
        self.ctx, self.fetcher, self.limiter, self.today, self.worker = ctx, fetcher, limiter, today, worker
        self.rules: Rules = ctx.rules  # type: ignore[assignment]
        self.progress, self.total_hint = progress, total_hint
        self.stop = threading.Event()
        self.stats = LoopStats()
        self.log = get_logger("rpa.vehicles")
        self._lock = threading.Lock()
        self._pending_done: list[tuple[int, dict[str, Any]]] = []
        self._flags: list[tuple[WorkItem, Vehicle]] = []
        self._leftovers: list[int] = []
        self._consecutive_system = 0
        self._quota: QuotaExceeded | None = None

    # ---------------------------------------------------------------- worker threads

    def _work(self, item: WorkItem) -> Outcome:
        p = item.payload
        if p.get("kind") != "lookup":  # malformed or duplicate rows are settled by prepare(); belt and braces
            return Outcome(item, "listed")
        ident = Identifier(p["by"], p["value"])
        while True:
            if self.stop.is_set():
                return Outcome(item, "cancelled")
            try:
                vehicle, cached = self.fetcher.fetch(ident, self.limiter, self.stop)
                return Outcome(item, "found", vehicle, cached=cached)
            except Cancelled:
                return Outcome(item, "cancelled")
            except QuotaExceeded as exc:
                if self._short_wait(exc):
                    continue
                self.stop.set()
                return Outcome(item, "quota", error=exc)
            except AuthenticationFailed as exc:
                self.stop.set()
                return Outcome(item, "auth", error=exc)
            except VehicleNotFound as exc:
                return Outcome(item, "not_found", error=exc)
            except InvalidIdentifier as exc:
                return Outcome(item, "invalid", error=exc)
            except Exception as exc:  # noqa: BLE001 - one bad answer never crashes the run
                return Outcome(item, "system", error=exc)

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

    # ---------------------------------------------------------------- main thread

    def run(self) -> LoopStats:
        # Everything alive now (Prefect, SQLAlchemy, pydantic: hundreds of thousands of objects)
        # is long-lived: freeze it out of the collector's reach for the loop. A full collection
        # over it holds the GIL for 60-180 ms, which stalls every lookup thread at once and sends
        # the next requests bunched together: the registry's per-second count then sees a burst.
        gc.freeze()
        try:
            return self._run()
        finally:
            gc.unfreeze()

    def _run(self) -> LoopStats:
        ctx, store = self.ctx, self.ctx.store
        lease = ctx.definition.retry.lease_seconds
        batch = max(1, min(self.rules.claim_batch, int(self.limiter.rate * lease / 4) or 1))
        low_water = max(self.fetcher.workers * 2, batch // 2)
        started = time.monotonic()
        executor = ThreadPoolExecutor(max_workers=self.fetcher.workers, thread_name_prefix="vegvesen-oppslag")
        in_flight: dict[Future, WorkItem] = {}
        exhausted = False
        last_flush = time.monotonic()
        try:
            while True:
                if not self.stop.is_set() and not exhausted and len(in_flight) < low_water:
                    claimed = store.claim(ctx.process_id, self.worker, limit=batch, lease_seconds=lease,
                                          run_id=ctx.run_id)
                    self.stats.claimed += len(claimed)
                    for item in claimed:
                        in_flight[executor.submit(self._work, item)] = item
                    exhausted = not claimed
                if not in_flight:
                    self._flush()
                    if self.stop.is_set():
                        break
                    pause = self._next_retry_in()
                    if pause is None:
                        break
                    self.stop.wait(pause)
                    exhausted = False
                    continue
                finished, _ = wait(list(in_flight), timeout=0.5, return_when=FIRST_COMPLETED)
                for future in finished:
                    self._handle(future.result())
                    del in_flight[future]
                if self._pending_done and (len(self._pending_done) >= 100 or time.monotonic() - last_flush > 1.0):
                    self._flush()
                    last_flush = time.monotonic()
                if self.stop.is_set():
                    for future, item in list(in_flight.items()):
                        if future.cancel():
                            self._leftovers.append(item.id)
                            del in_flight[future]
        finally:
            for future, item in in_flight.items():  # only after an unexpected error in this thread
                if not future.cancel():
                    try:
                        self._handle(future.result())
                    except Exception:  # noqa: BLE001
                        self._leftovers.append(item.id)
                else:
                    self._leftovers.append(item.id)
            self._flush()
            try:
                executor.submit(self.fetcher.close).result(timeout=60)
            finally:
                executor.shutdown(wait=True)
            self.stats.seconds = time.monotonic() - started
        self._settle_stop()
        return self.stats

    def _next_retry_in(self) -> float | None:
        """Seconds until the earliest retry falls due, if within max_retry_wait_seconds."""
        now = datetime.now(UTC)
        waiting = [i.not_before for i in self.ctx.store.items(self.ctx.process_id, status="new")]
        if any(nb is None for nb in waiting):
            return 0.0
        due = [(nb if nb.tzinfo else nb.replace(tzinfo=UTC)) - now for nb in waiting]
        soonest = min((d.total_seconds() for d in due), default=None)
        if soonest is None or soonest > self.rules.max_retry_wait_seconds:
            return None
        return max(soonest, 0.0) + 0.05

    def _handle(self, o: Outcome) -> None:
        store, ctx, p = self.ctx.store, self.ctx, o.item.payload
        try:
            if o.kind == "found":
                self._consecutive_system = 0
                self.stats.cache_hits += o.cached
                self.stats.requests += not o.cached
                if not o.cached and self.stats.requests % 25 == 0:
                    self.limiter.speed_up()
                v = o.vehicle
                if v.registration_status in DEREGISTERED_STATUSES:
                    store.business_exception(o.item.id, oc.deregistered_case(ctx, p, v), worker=self.worker)
                    self.stats.business[oc.DEREGISTERED] += 1
                else:
                    result = {"vehicle": v.to_dict(), "cached": o.cached, "source": self.fetcher.source,
                              "looked_up_at": datetime.now(UTC).isoformat(timespec="seconds")}
                    self._pending_done.append((o.item.id, result))
                    if oc.is_overdue(v, self.today, self.rules.eu_control_grace_days):
                        self._flags.append((o.item, v))
            elif o.kind in ("not_found", "invalid"):
                self._consecutive_system = 0
                self.stats.requests += 1
                if o.kind == "not_found":
                    err: VehicleNotFound = o.error  # type: ignore[assignment]
                    case = oc.not_found_case(ctx, p, err.form, err.detail)
                    self.stats.business[oc.NOT_FOUND] += 1
                else:
                    case = oc.malformed_case(ctx, p, getattr(o.error, "message_no", str(o.error)))
                    self.stats.business[oc.PLATE_MALFORMED] += 1
                store.business_exception(o.item.id, case, worker=self.worker)
            elif o.kind == "system":
                self.stats.requests += 1
                self._consecutive_system += 1
                text = _error_text(o.error)
                attachments = o.error.attachments() if hasattr(o.error, "attachments") else None
                escalated = store.system_exception(o.item.id, text, ctx.backoff, worker=self.worker,
                                                   evidence=oc.system_evidence(p, text), attachments=attachments)
                if escalated is None:
                    self.stats.retries_scheduled += 1
                else:
                    self.stats.failed += 1
                self.log.warning("oppslag %s feilet: %s", p.get("value"), text)
                limit = ctx.definition.retry.stop_after_consecutive_system_errors
                if self._consecutive_system >= limit and not self.stop.is_set():
                    self.stats.stopped, self.stats.error = "system_down", o.error
                    self.stop.set()
            elif o.kind == "quota":
                err_q: QuotaExceeded = o.error  # type: ignore[assignment]
                if self._quota is None or err_q.resume_at > self._quota.resume_at:
                    self._quota = err_q
                self.stats.stopped = self.stats.stopped or "quota"
                self._leftovers.append(o.item.id)
            elif o.kind == "listed":
                case = (oc.malformed_case(ctx, p, p.get("problem") or "ugyldig kjennemerke")
                        if p.get("kind") == "malformed" else oc.duplicate_case(ctx, p))
                store.business_exception(o.item.id, case, worker=self.worker)
                self.stats.business[case.category] += 1
            elif o.kind == "auth":
                self.stats.stopped, self.stats.error = "auth", o.error
                self._leftovers.append(o.item.id)
            else:  # cancelled
                self._leftovers.append(o.item.id)
        except LeaseLost:
            self.log.warning("mistet leiekontrakten på %s (tok for lang tid); en annen arbeider har den",
                             o.item.reference)

    def _flush(self) -> None:
        store = self.ctx.store
        if self._pending_done:
            self.stats.done += store.complete_many(self._pending_done, worker=self.worker)
            self._pending_done = []
        for item, v in self._flags:
            store.open_case(self.ctx.process_id, item.reference, oc.eu_overdue_case(self.ctx, item.payload, v),
                            item_id=item.id)
            self.stats.flagged[oc.EU_CONTROL_OVERDUE] += 1
        self._flags = []
        if self.progress and self.total_hint:
            self.progress.update((self.stats.done + sum(self.stats.business.values())) / self.total_hint)

    def _settle_stop(self) -> None:
        """Give back what this loop still holds: deferred to the quota's reset, or released."""
        store, ctx = self.ctx.store, self.ctx
        if self.stats.stopped is None and self._quota is not None:
            self.stats.stopped = "quota"
        if self.stats.stopped == "quota" and self._quota is not None:
            q = self._quota
            self.stats.error = q
            self.stats.resume_at = q.resume_at
            # Everything still waiting waits for the reset too: claim it (a claim is the only way to
            # hold items) and defer it with the rest, so no run before the reset spends a request on it.
            rest = store.claim(ctx.process_id, self.worker, limit=1_000_000, lease_seconds=600, run_id=ctx.run_id)
            ids = self._leftovers + [i.id for i in rest]
            reason = (f"Kvoten hos Statens vegvesen er brukt opp (HTTP {q.status}); venter til "
                      f"{q.resume_at.astimezone():%d.%m.%Y kl. %H:%M}")
            self.stats.deferred = store.defer(ids, q.resume_at, reason=reason, worker=self.worker)
        elif self._leftovers:
            reason = {"auth": "API-nøkkelen ble avvist", "system_down": "Statens vegvesen svarer ikke"}.get(
                self.stats.stopped or "", "kjøringen stoppet")
            self.stats.released = store.release(self._leftovers, reason=reason, worker=self.worker)
        self._leftovers = []


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


__all__ = ["ApiFetcher", "WebFetcher", "LookupLoop", "LoopStats", "Outcome", "make_fetcher", "VegvesenError"]
